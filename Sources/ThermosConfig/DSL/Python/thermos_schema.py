# Part of the embedded DSL loader (after loader_prelude.py): the Thermos schema and its helpers.

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


# Ours (not Aurora's): a readiness/liveness probe or the task's health check. Exactly one of
# exec, http, tcp; unset keys stay out of the task JSON, where the runner's defaults apply.
class Probe(Struct):
  exec = String
  http = String
  tcp = String
  initial_delay_secs = Float
  interval_secs = Float
  timeout_secs = Float
  max_consecutive_failures = Integer
  expect_body = String


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
  env = Map(String, String)      # ours
  cwd = String                   # ours
  readiness = Probe              # ours
  liveness = Probe               # ours
  depends_on = Map(String, String)  # ours: started | ready | completed


class Task(Struct):
  name = Default(String, '{{processes[0].name}}')
  processes = List(Process)
  constraints = Default(List(Constraint), [])
  resources = Resources
  max_failures = Default(Integer, 1)
  max_concurrency = Default(Integer, 0)
  finalization_wait = Default(Integer, 30)
  user = String
  health_check = Probe           # ours


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


