#!/usr/bin/env bash
# Load time of a .aurora job file (python start + pystachio + the embedded loader) as a ratio to
# `thermos inspect` of the equivalent task JSON, measured in one hyperfine run on the release build.
# Needs hyperfine (apt-get install hyperfine) and the DSL venv (thermos setup-dsl).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${THERMOS_BIN:-.build/release/thermos}
[ -x "$BIN" ] || swift build -c release --product thermos
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/hello.aurora" <<'AURORA'
class Profile(Struct):
  version = Default(String, 'v1')
install = Process(name = 'install', cmdline = 'echo {{profile.version}} {{role}} > installed')
serve = Process(name = 'serve', cmdline = 'echo serving on {{thermos.ports[aurora]}}')
task = SequentialTask(processes = [install, serve], resources = Resources(cpu = 0.25, ram = 64*MB, disk = 64*MB))
jobs = [Service(cluster = 'devcluster', role = 'www-data', environment = 'prod', name = 'hello', task = task,
                announce = Announcer(primary_port = 'http')).bind(profile = Profile())]
AURORA
"$BIN" convert "$WORK/hello.aurora" > "$WORK/hello.json"
hyperfine --warmup 3 --min-runs 30 -N --export-json "$WORK/result.json" \
    "$BIN inspect --json $WORK/hello.json" \
    "$BIN inspect --json $WORK/hello.aurora" \
    "${THERMOS_PYTHON:-${XDG_DATA_HOME:-$HOME/.local/share}/thermos/dsl-venv/bin/python3} -c 'import pystachio'"
python3 - "$WORK/result.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))['results']
base = results[0]['mean']
for r in results:
    print('%-70s %8.1f ms  %5.1fx' % (r['command'][-70:], r['mean'] * 1000, r['mean'] / base))
PY
