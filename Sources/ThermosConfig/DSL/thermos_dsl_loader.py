# Thermos DSL loader: renders a `.thermos` task file or an `.aurora` job file to task JSON.
#
# Embedded in the `thermos` binary (DSLLoaderScript.swift is generated from this file; a test
# checks that they agree) and run as `python3 -c SCRIPT REQUEST_JSON`. Written for Thermos for
# Swift from the schema of Apache Aurora/Thermos (reference section 5); it needs pystachio
# >= 0.8.10 (earlier releases do not import on Python 3.10+).
#
# Protocol: argv[1] is a JSON request {"file", "kind": "thermos"|"aurora", "bindings": [[k, v]],
# "job": key or null, "standard_mesos": {"instance": n, "hostname": h} or null}. One JSON object
# is written to the original stdout: {"tasks": [...], "job": key or null} or {"error": {"kind",
# "message", "file", "line"}}. Anything the config prints goes to stderr. Never a traceback.
import json
import os
import sys

RESULT_FD = os.dup(1)
os.dup2(2, 1)
sys.stdout = sys.stderr


class LoadError(Exception):
  """An error for the user: one line, with the config file and line when known."""

  def __init__(self, message, file=None, line=None, kind='config'):
    Exception.__init__(self, message)
    self.message, self.file, self.line, self.kind = message, file, line, kind


def emit(obj):
  data = json.dumps(obj).encode('utf-8')
  while data:
    data = data[os.write(RESULT_FD, data):]


try:
  from pystachio import (Boolean, Choice, Default, Empty, Enum, Float, Integer, List, Map, Ref,
                         Required, String, Struct)
  import pystachio
except Exception as import_error:  # ImportError, or an old pystachio failing on Python 3.10+
  emit({'error': {'kind': 'missing_pystachio',
                  'message': '%s: %s' % (type(import_error).__name__, import_error)}})
  sys.exit(0)


# --- The Thermos schema (final; reference 5.1) -------------------------------------------------

BYTES = 1
KB = 1024 * BYTES
MB = 1024 * KB
GB = 1024 * MB
TB = 1024 * GB


class ThermosContext(Struct):
  ports = Map(String, Integer)
  task_id = String
  user = String


class Resources(Struct):
  cpu = Required(Float)
  ram = Required(Integer)
  disk = Required(Integer)
  gpu = Default(Integer, 0)


class Constraint(Struct):
  order = List(String)


class RotatePolicy(Struct):
  log_size = Default(Integer, 100 * MB)
  backups = Default(Integer, 5)


LoggerDestination = Enum('file', 'console', 'both', 'none')
LoggerMode = Enum('standard', 'rotate')


class Logger(Struct):
  destination = Default(LoggerDestination, LoggerDestination('file'))
  mode = Default(LoggerMode, LoggerMode('standard'))
  rotate = RotatePolicy


class Process(Struct):
  cmdline = Required(String)
  name = Required(String)
  resources = Resources
  max_failures = Default(Integer, 1)
  daemon = Default(Boolean, False)
  ephemeral = Default(Boolean, False)
  min_duration = Default(Integer, 5)
  final = Default(Boolean, False)
  logger = Logger


class Task(Struct):
  name = Default(String, '{{processes[0].name}}')
  processes = List(Process)
  constraints = Default(List(Constraint), [])
  resources = Resources
  max_failures = Default(Integer, 1)
  max_concurrency = Default(Integer, 0)
  finalization_wait = Default(Integer, 30)
  user = String


# --- Helpers (reference 5.4). Where the original used set(), first-seen order is kept. --------

def _unique(items):
  seen = []
  for item in items:
    if item not in seen:
      seen.append(item)
  return seen


def _value(field):
  return 0 if field is Empty else field.get()


class Units(object):
  @classmethod
  def optional_resources(cls, resources):
    return Resources() if resources is Empty else resources

  @classmethod
  def resources_sum(cls, *resources):
    total = Resources(cpu=0, ram=0, disk=0, gpu=0)
    for r in map(cls.optional_resources, resources):
      total = Resources(cpu=_value(total.cpu()) + _value(r.cpu()), ram=_value(total.ram()) + _value(r.ram()),
                        disk=_value(total.disk()) + _value(r.disk()), gpu=_value(total.gpu()) + _value(r.gpu()))
    return total

  @classmethod
  def resources_max(cls, resources):
    top = Resources(cpu=0, ram=0, disk=0, gpu=0)
    for r in map(cls.optional_resources, resources):
      top = Resources(cpu=max(_value(top.cpu()), _value(r.cpu())), ram=max(_value(top.ram()), _value(r.ram())),
                      disk=max(_value(top.disk()), _value(r.disk())), gpu=max(_value(top.gpu()), _value(r.gpu())))
    return top

  @classmethod
  def finalization_wait_sum(cls, waits):
    return sum(wait.get() for wait in waits)

  @classmethod
  def finalization_wait_max(cls, waits):
    return max([wait.get() for wait in waits] or [0])

  @classmethod
  def processes_merge(cls, tasks):
    return _unique(p for task in tasks for p in task.processes())

  @classmethod
  def constraints_merge(cls, tasks):
    return _unique(c for task in tasks for c in task.constraints())


class Processes(object):
  @classmethod
  def _process_name(cls, process):
    if isinstance(process, Process):
      return process.name()
    if isinstance(process, str):
      return process
    raise ValueError('Unknown value for process order: %r' % (process,))

  @classmethod
  def order(cls, *processes):
    return [Constraint(order=[cls._process_name(p) for p in processes])]


class Tasks(object):
  SIMPLE_CPU = 1.0
  SIMPLE_RAM = 1 * GB
  SIMPLE_DISK = 1 * GB

  @classmethod
  def _combine_processes(cls, *tasks):
    return tasks[-1](processes=Units.processes_merge(tasks))

  @classmethod
  def combine(cls, *tasks, **kw):
    if not tasks:
      return Task()
    base = cls._combine_processes(*tasks)
    return base(resources=Units.resources_sum(*(task.resources() for task in tasks)),
                constraints=Units.constraints_merge(tasks),
                finalization_wait=Units.finalization_wait_max(task.finalization_wait() for task in tasks),
                **kw)

  @classmethod
  def concat(cls, *tasks, **kw):
    if not tasks:
      return Task()
    base = cls._combine_processes(*tasks)
    base = base(resources=Units.resources_max(task.resources() for task in tasks),
                finalization_wait=Units.finalization_wait_sum(task.finalization_wait() for task in tasks))
    constraints = Units.constraints_merge(tasks)
    for t1, t2 in zip(tasks[:-1], tasks[1:]):
      for p1 in t1.processes():
        for p2 in t2.processes():
          if p1 != p2:
            constraints.extend(Processes.order(p1, p2))
    return base(constraints=constraints, **kw)

  @classmethod
  def simple(cls, name, command):
    return Task(name=name, processes=[Process(name=name, cmdline=command)],
                resources=Resources(cpu=cls.SIMPLE_CPU, ram=cls.SIMPLE_RAM, disk=cls.SIMPLE_DISK))

  @classmethod
  def sequential(cls, task):
    if task.constraints() is Empty or task.constraints() == List(Constraint)([]):
      if task.processes() is Empty:
        return task
      return task(constraints=order(*task.processes()))
    raise ValueError('Cannot turn a Task with existing constraints into a SequentialTask!')


class Options(object):
  @classmethod
  def render_option(cls, short_prefix, long_prefix, option, value=None):
    option = '%s%s' % (short_prefix if len(option) == 1 else long_prefix, option)
    return '%s %s' % (option, value) if value else option

  @classmethod
  def render_options(cls, short_prefix, long_prefix, *options, **kw_options):
    renders = []
    for option in options:
      if isinstance(option, str):
        renders.append(cls.render_option(short_prefix, long_prefix, option))
      elif isinstance(option, dict):
        for argument, value in option.items():
          renders.append(cls.render_option(short_prefix, long_prefix, argument, value))
      else:
        raise ValueError('Got an unexpected argument to render_options: %r' % (option,))
    for argument, value in kw_options.items():
      renders.append(cls.render_option(short_prefix, long_prefix, argument, value))
    return renders

  @classmethod
  def java(cls, *options, **kw_options):
    return ' '.join(cls.render_options('-', '-', *options, **kw_options))

  @classmethod
  def python(cls, *options, **kw_options):
    return ' '.join(cls.render_options('-', '--', *options, **kw_options))


def SimpleTask(name, command):
  return Tasks.simple(name, command)


def SequentialTask(*args, **kw):
  return Tasks.sequential(Task(*args, **kw))


python_options = Options.python
java_options = Options.java
combine_tasks = Tasks.combine
concat_tasks = Tasks.concat
order = Processes.order


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
  expected_response_code = Default(Integer, 200)


class ShellHealthChecker(Struct):
  shell_command = String


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
  graceful_shutdown_wait_secs = Integer
  shutdown_wait_secs = Integer


class LifecycleConfig(Struct):
  http = HttpLifecycleConfig


DefaultLifecycleConfig = LifecycleConfig(http=HttpLifecycleConfig())
DisableLifecycle = LifecycleConfig()


class Announcer(Struct):
  primary_port = Default(String, 'http')
  portmap = Default(Map(String, String), {'aurora': '{{primary_port}}'})
  zk_path = Default(String, '')


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
  cron_schedule = Default(String, '')
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
  'LoggerDestination', 'LoggerMode', 'Logger', 'Process', 'Task', 'Units', 'Processes', 'Tasks',
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


# --- Executing a config ------------------------------------------------------------------------

class Namespace(object):
  """The globals a config runs in: pystachio, the schema, export(), include()."""

  def __init__(self, root_file):
    self.files = []
    self.exported = []
    self.globals = {'__name__': '__thermos_config__', '__builtins__': __builtins__}
    for name in dir(pystachio):
      if not name.startswith('_'):
        self.globals[name] = getattr(pystachio, name)
    module = globals()
    for name in SCHEMA_NAMES + AURORA_NAMES:
      self.globals[name] = module[name]
    self.globals['export'] = self.export
    self.stack = []
    self.globals['include'] = self.include
    self.root_file = root_file

  def export(self, task):
    self.exported.append(Task(task) if isinstance(task, dict) else task)

  def include(self, path):
    base = os.path.dirname(self.stack[-1]) if self.stack else os.getcwd()
    self.run(os.path.join(base, path))

  def run(self, path):
    path = os.path.abspath(path)
    try:
      with open(path) as handle:
        source = handle.read()
    except (IOError, OSError) as error:
      where = self.stack[-1] if self.stack else None
      raise LoadError('cannot read %s: %s' % (path, error.strerror or error), file=where, line=caller_line(where))
    self.files.append(path)
    self.stack.append(path)
    try:
      exec(compile(source, path, 'exec'), self.globals)
    finally:
      self.stack.pop()


def caller_line(path):
  """The line of `path` being executed by the innermost frame that runs it."""
  frame = sys._getframe(1)
  while frame is not None:
    if path is not None and frame.f_code.co_filename == path:
      return frame.f_lineno
    frame = frame.f_back
  return None


def config_frame(traceback_obj, files):
  """The innermost traceback frame in a config file: (file, line)."""
  found = (None, None)
  while traceback_obj is not None:
    name = traceback_obj.tb_frame.f_code.co_filename
    if name in files:
      found = (name, traceback_obj.tb_lineno)
    traceback_obj = traceback_obj.tb_next
  return found


def unknown_attribute_hint(error, attribute_owner_names):
  import difflib
  text = str(error)
  prefix = 'Unknown schema attribute '
  if not text.startswith(prefix):
    return text
  attribute = text[len(prefix):]
  close = difflib.get_close_matches(attribute, attribute_owner_names, n=1)
  return text + ('; did you mean %s?' % close[0] if close else '')


def all_attribute_names():
  names = set()
  module = globals()
  for name in SCHEMA_NAMES + AURORA_NAMES:
    value = module[name]
    schema = getattr(value, 'TYPEMAP', None)
    if isinstance(schema, dict):
      names.update(schema.keys())
  return sorted(names)


def plain(value):
  """pystachio's get() result (frozendicts, tuples) as JSON-ready dicts and lists."""
  if isinstance(value, dict):
    return dict((str(k), plain(v)) for k, v in value.items())
  if isinstance(value, (list, tuple)):
    return [plain(v) for v in value]
  return value


def execute(request):
  path = os.path.abspath(request['file'])
  namespace = Namespace(path)
  try:
    namespace.run(path)
  except LoadError:
    raise
  except SyntaxError as error:
    raise LoadError('syntax error: %s' % error.msg, file=error.filename or path, line=error.lineno)
  except AttributeError as error:
    file, line = config_frame(sys.exc_info()[2], namespace.files)
    raise LoadError(unknown_attribute_hint(error, all_attribute_names()), file=file or path, line=line)
  except Exception as error:
    file, line = config_frame(sys.exc_info()[2], namespace.files)
    message = str(error).strip().splitlines()[0] if str(error).strip() else ''
    raise LoadError('%s: %s' % (type(error).__name__, message) if message else type(error).__name__,
                    file=file or path, line=line)
  return namespace


def bindings_of(request):
  return [{key: value} for key, value in request.get('bindings') or []]


def rendered(task):
  """The task interpolated as far as its bindings allow, as plain data."""
  interpolated, _ = task.interpolate()
  return plain(interpolated.get())


def load_thermos(request, namespace):
  path = os.path.abspath(request['file'])
  tasks = namespace.exported
  if not tasks:
    raise LoadError('exports nothing: call export(task) (a .thermos file) or define jobs = [...] (an .aurora file)',
                    file=path)
  out = []
  for task in tasks:
    if not isinstance(task, Task):
      raise LoadError('export() expects a Task, got %s' % type(task).__name__, file=path)
    for binding in bindings_of(request):
      task = task.bind(binding)
    out.append(rendered(task))
  return {'tasks': out, 'job': None}


def job_key(job):
  parts = []
  for attribute in ('cluster', 'role', 'environment', 'name'):
    value, _ = getattr(job, attribute)().interpolate()
    parts.append(str(value))
  return '/'.join(parts)


def port_aliases(job, task):
  """Announcer portmap aliases bound the way Aurora's executor resolved them."""
  if job.announce() is Empty:
    return task
  portmap, _ = job.announce().portmap().interpolate()
  aliases = {}
  for alias, target in plain(portmap.get()).items():
    target = str(target)
    aliases['thermos.ports[%s]' % alias] = target if target.isdigit() else '{{thermos.ports[%s]}}' % target
  return task.bind(aliases) if aliases else task


def load_aurora(request, namespace):
  path = os.path.abspath(request['file'])
  jobs = namespace.globals.get('jobs')
  if not jobs:
    if namespace.exported:
      return load_thermos(request, namespace)
    raise LoadError('defines no jobs: an .aurora file sets jobs = [Job(...), ...]', file=path)
  if not isinstance(jobs, (list, tuple)) or not all(isinstance(job, MesosJob) for job in jobs):
    raise LoadError('jobs must be a list of Job(...) objects', file=path)
  def user_bound(job):
    for binding in bindings_of(request):
      job = job.bind(binding)
    return job
  keyed = [(job_key(user_bound(job)), job) for job in jobs]
  wanted = request.get('job')
  if wanted is None:
    if len(keyed) > 1:
      raise LoadError('several jobs; choose one with --job: %s' % ', '.join(key for key, _ in keyed),
                      file=path, kind='selection')
    key, job = keyed[0]
  else:
    matches = [(key, job) for key, job in keyed if key == wanted or ('/' not in wanted and key.split('/')[-1] == wanted)]
    if len(matches) != 1:
      problem = 'no job %s' % wanted if not matches else 'job name %s is not unique' % wanted
      raise LoadError('%s; the jobs are: %s' % (problem, ', '.join(key for key, _ in keyed)),
                      file=path, kind='selection')
    key, job = matches[0]
  if job.task() is Empty:
    raise LoadError('job %s has no task' % key, file=path)
  role, _ = job.role().interpolate()
  cluster, _ = job.cluster().interpolate()
  environment, _ = job.environment().interpolate()
  standard = {'role': str(role), 'cluster': str(cluster), 'environment': str(environment),
              'mesos': {'role': str(role), 'cluster': str(cluster)}, 'thermos': {'user': str(role)}}
  mesos = request.get('standard_mesos')
  if mesos is not None:
    standard['mesos'].update({'instance': mesos['instance'], 'hostname': mesos['hostname']})
  task = job.bind(standard)
  for binding in bindings_of(request):
    task = task.bind(binding)
  task = port_aliases(task, task.task())
  return {'tasks': [rendered(task)], 'job': key}


def main():
  request = json.loads(sys.argv[1])
  namespace = execute(request)
  if request.get('kind') == 'aurora':
    return load_aurora(request, namespace)
  return load_thermos(request, namespace)


try:
  emit(main())
except LoadError as error:
  emit({'error': {'kind': error.kind, 'message': error.message, 'file': error.file, 'line': error.line}})
except SystemExit as error:
  emit({'error': {'kind': 'config', 'message': 'the config called exit(%s)' % (error.code,), 'file': None, 'line': None}})
except BaseException as error:
  message = str(error).strip().splitlines()[0] if str(error).strip() else ''
  emit({'error': {'kind': 'config', 'message': '%s: %s' % (type(error).__name__, message), 'file': None, 'line': None}})
