# Part of the embedded DSL loader (after thermos_schema.py): Aurora's job schema.

# --- The Aurora job schema (enough for the public examples) ------------------------------------

class MesosContext(Struct):
  role = String
  cluster = String
  instance = Required(Integer)
  hostname = Required(String)


class BatchUpdateStrategy(Struct):
  batch_size = Default(Integer, 1)
  autopause_after_batch = Default(Boolean, False)


class QueueUpdateStrategy(Struct):
  batch_size = Default(Integer, 1)


class VariableBatchUpdateStrategy(Struct):
  batch_sizes = List(Integer)
  autopause_after_batch = Default(Boolean, False)


class UpdateConfig(Struct):
  batch_size = Default(Integer, 1)
  update_strategy = Choice([QueueUpdateStrategy, BatchUpdateStrategy, VariableBatchUpdateStrategy])
  watch_secs = Default(Integer, 45)
  max_per_shard_failures = Default(Integer, 0)
  max_total_failures = Default(Integer, 0)
  rollback_on_failure = Default(Boolean, True)
  wait_for_batch_completion = Default(Boolean, False)
  pulse_interval_secs = Integer
  sla_aware = Default(Boolean, False)


class HttpHealthChecker(Struct):
  endpoint = Default(String, '/health')
  expected_response = Default(String, 'ok')
  expected_response_code = Default(Integer, 0)


class ShellHealthChecker(Struct):
  shell_command = Required(String)


class HealthCheckerConfig(Struct):
  http = HttpHealthChecker
  shell = ShellHealthChecker


DefaultHealthChecker = HealthCheckerConfig(http=HttpHealthChecker())


class HealthCheckConfig(Struct):
  health_checker = Default(HealthCheckerConfig, DefaultHealthChecker)
  initial_interval_secs = Default(Float, 15.0)
  interval_secs = Default(Float, 10.0)
  max_consecutive_failures = Default(Integer, 0)
  min_consecutive_successes = Default(Integer, 1)
  timeout_secs = Default(Float, 1.0)


class HttpLifecycleConfig(Struct):
  port = Default(String, 'health')
  graceful_shutdown_endpoint = Default(String, '/quitquitquit')
  shutdown_endpoint = Default(String, '/abortabortabort')
  graceful_shutdown_wait_secs = Default(Integer, 5)
  shutdown_wait_secs = Default(Integer, 5)


class LifecycleConfig(Struct):
  http = HttpLifecycleConfig


DefaultLifecycleConfig = LifecycleConfig(http=HttpLifecycleConfig())
DisableLifecycle = LifecycleConfig()


class Announcer(Struct):
  primary_port = Default(String, 'http')
  portmap = Default(Map(String, String), {'aurora': '{{primary_port}}'})
  zk_path = String


class Parameter(Struct):
  name = Required(String)
  value = Required(String)


class Docker(Struct):
  image = Required(String)
  parameters = Default(List(Parameter), [])


class AppcImage(Struct):
  name = Required(String)
  image_id = Required(String)


class DockerImage(Struct):
  name = Required(String)
  tag = Required(String)


Mode = Enum('RO', 'RW')


class Volume(Struct):
  container_path = Required(String)
  host_path = Required(String)
  mode = Required(Mode)


class Mesos(Struct):
  image = Choice([AppcImage, DockerImage])
  volumes = Default(List(Volume), [])


class Container(Struct):
  docker = Docker
  mesos = Mesos


class Metadata(Struct):
  key = Required(String)
  value = Required(String)


class PartitionPolicy(Struct):
  reschedule = Default(Boolean, True)
  delay_secs = Default(Integer, 0)


class ExecutorConfig(Struct):
  name = Default(String, 'AuroraExecutor')
  data = Default(String, '')


class PercentageSlaPolicy(Struct):
  percentage = Required(Float)
  duration_secs = Required(Integer)


class CountSlaPolicy(Struct):
  count = Required(Integer)
  duration_secs = Required(Integer)


class CoordinatorSlaPolicy(Struct):
  coordinator_url = Required(String)
  status_key = Default(String, 'drain')


SlaPolicy = Choice([CountSlaPolicy, PercentageSlaPolicy, CoordinatorSlaPolicy])


class MesosTaskInstance(Struct):
  task = Required(Task)
  instance = Required(Integer)
  role = Required(String)
  announce = Announcer
  environment = Required(String)
  health_check_config = Default(HealthCheckConfig, HealthCheckConfig())
  lifecycle = LifecycleConfig


class MesosJob(Struct):
  name = Default(String, '{{task.name}}')
  role = Required(String)
  contact = String
  cluster = Required(String)
  environment = Required(String)
  instances = Default(Integer, 1)
  task = Required(Task)
  announce = Announcer
  tier = String
  cron_schedule = String
  cron_collision_policy = Default(String, 'KILL_EXISTING')
  update_config = Default(UpdateConfig, UpdateConfig())
  constraints = Map(String, String)
  service = Default(Boolean, False)
  max_task_failures = Default(Integer, 1)
  production = Default(Boolean, False)
  priority = Default(Integer, 0)
  health_check_config = Default(HealthCheckConfig, HealthCheckConfig())
  container = Choice([Container, Docker, Mesos])
  lifecycle = Default(LifecycleConfig, DefaultLifecycleConfig)
  task_links = Map(String, String)
  enable_hooks = Default(Boolean, False)
  partition_policy = PartitionPolicy
  metadata = Default(List(Metadata), [])
  executor_config = ExecutorConfig
  sla_policy = SlaPolicy


Job = MesosJob
Service = Job(service=True)


SCHEMA_NAMES = [
  'BYTES', 'KB', 'MB', 'GB', 'TB', 'ThermosContext', 'Resources', 'Constraint', 'RotatePolicy',
  'LoggerDestination', 'LoggerMode', 'Logger', 'Probe', 'Process', 'Task', 'Units', 'Processes', 'Tasks',
  'Options', 'SimpleTask', 'SequentialTask', 'python_options', 'java_options', 'combine_tasks',
  'concat_tasks', 'order',
]
AURORA_NAMES = [
  'MesosContext', 'BatchUpdateStrategy', 'QueueUpdateStrategy', 'VariableBatchUpdateStrategy',
  'UpdateConfig', 'HttpHealthChecker', 'ShellHealthChecker', 'HealthCheckerConfig',
  'DefaultHealthChecker', 'HealthCheckConfig', 'HttpLifecycleConfig', 'LifecycleConfig',
  'DefaultLifecycleConfig', 'DisableLifecycle', 'Announcer', 'Parameter', 'Docker', 'AppcImage',
  'DockerImage', 'Mode', 'Volume', 'Mesos', 'Container', 'Metadata', 'PartitionPolicy',
  'ExecutorConfig', 'PercentageSlaPolicy', 'CountSlaPolicy', 'CoordinatorSlaPolicy', 'SlaPolicy',
  'MesosTaskInstance', 'MesosJob', 'Job', 'Service',
]


