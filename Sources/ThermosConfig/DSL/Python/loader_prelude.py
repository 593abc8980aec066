# Thermos DSL loader: renders a `.thermos` task file or an `.aurora` job file to task JSON.
#
# Embedded in the `thermos` binary and run as `python3 -c SCRIPT REQUEST_JSON`, where SCRIPT is
# this file, thermos_schema.py, aurora_schema.py and loader_main.py joined in that order
# (scripts/generate-dsl-loader.sh writes them into DSLLoaderScript*.swift; a test checks that
# they agree). Each part reads the names the earlier ones define. Written for Thermos for
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
  data = json.dumps(obj, ensure_ascii=False).encode('utf-8', 'replace')
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


