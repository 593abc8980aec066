# Part of the embedded DSL loader (after aurora_schema.py): executing a config and answering the request.

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
    return 'AttributeError: %s' % text
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
  """The task interpolated as far as its bindings allow, as plain data. pystachio's last pass
  turns a literal {{&x}} into {{x}}, which our templating would then read as a reference; the
  literal is kept as {{&x}} here so that the task shows (and runs) {{x}} as text, exactly as a
  {{&x}} written in YAML does."""
  split = pystachio.MustacheParser.__dict__['split']
  def split_keeping_literals(cls, string, keep_aliases=False):
    return split.__func__(cls, string, keep_aliases=True)
  pystachio.MustacheParser.split = classmethod(split_keeping_literals)
  try:
    interpolated, _ = task.interpolate()
    return plain(interpolated.get())
  finally:
    pystachio.MustacheParser.split = split


def load_thermos(request, namespace):
  path = os.path.abspath(request['file'])
  tasks = namespace.exported
  if not tasks:
    raise LoadError('exports nothing: call export(task) (a .thermos file) or define jobs = [...] (an .aurora file)',
                    file=path)
  if request.get('job') is not None:
    raise LoadError('--job %s: this file exports tasks, not jobs; choose a task with --task' % request['job'],
                    file=path, kind='selection')
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
  out = rendered(port_aliases(task, task.task()))
  check = aurora_health_check(task, out, key, path)
  if check is not None:
    out = rendered(port_aliases(task, task.task()(health_check=check)))
  return {'tasks': [out], 'job': key}


def uses_health_port(job, rendered_task):
  """Aurora's executor health-checked only when a `health` port was in the task's portmap: the
  task refers to {{thermos.ports[health]}} or the job's announcer maps a health alias."""
  if job.announce() is not Empty:
    portmap, _ = job.announce().portmap().interpolate()
    if 'health' in plain(portmap.get()):
      return True
  return 'thermos.ports[health]' in json.dumps(rendered_task)


def aurora_health_check(job, rendered_task, key, path):
  """The job's health_check_config as our task-level health_check Probe, as Aurora's executor
  ran it: GET http://localhost:{health port}{endpoint} expecting the body (or a shell command),
  first after initial_interval_secs, every interval_secs. Aurora fails after MORE than
  max_consecutive_failures failures, we fail at that many in a row: hence + 1."""
  if rendered_task.get('health_check') is not None:
    return None  # the task's own health_check wins
  config, _ = job.health_check_config().interpolate()
  data = plain(config.get())
  checker = data.get('health_checker') or {}
  timing = {'initial_delay_secs': float(data['initial_interval_secs']), 'interval_secs': float(data['interval_secs']),
            'timeout_secs': float(data['timeout_secs']),
            'max_consecutive_failures': int(data['max_consecutive_failures']) + 1}
  if checker.get('shell') is not None:
    return Probe(exec=checker['shell']['shell_command'], **timing)
  if not uses_health_port(job, rendered_task):
    return None  # Aurora skipped the check: no health port
  http = checker.get('http') or {}
  endpoint = http.get('endpoint', '/health')
  if not endpoint.startswith('/'):
    endpoint = '/' + endpoint
  probe = Probe(http='http://localhost:{{thermos.ports[health]}}' + endpoint, **timing)
  code = int(http.get('expected_response_code', 0))
  if code == 0:
    return probe(expect_body=http.get('expected_response', 'ok'))
  if 200 <= code <= 299:
    return probe  # a 2xx answer passes
  raise LoadError('job %s: health_check_config expected_response_code %d cannot be checked (a health check passes on a '
                  '2xx answer); use 0 with expected_response, or a code from 200 to 299' % (key, code), file=path)


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
