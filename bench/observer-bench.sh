#!/usr/bin/env bash
# Observer benchmark (not run by the tests): 10,000 finished tasks, then the median latency of
# /j/task_ids and of the index page's task list after warm-up, the observer's RSS, and the cost
# of one /proc sampling round with 200 live processes.
# Usage: bench/observer-bench.sh   (builds release; needs curl)
set -euo pipefail
cd "$(dirname "$0")/.."
nice -n 10 swift build -c release --product thermos >/dev/null
BIN=.build/release/thermos
WORK=$(mktemp -d /tmp/thermos-bench.XXXXXX)
trap 'kill $OBS 2>/dev/null || true; if [ -n "${TREE:-}" ]; then kill -- -$TREE 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
ROOT=$WORK/root
python3 bench/make_root.py "$ROOT" 10000 ../shared/fixtures/aurora-root
PORT=18391
$BIN observer --root "$ROOT" --port $PORT --task-process-collection-interval-secs 2 >"$WORK/observer.log" 2>&1 &
OBS=$!
until curl -s "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.2; done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # url count
  for i in $(seq 1 20); do curl -s -o /dev/null "$1"; done
  for i in $(seq 1 "$2"); do curl -s -o /dev/null -w '%{time_total}\n' "$1"; done | median
}
echo "tasks: $(curl -s http://127.0.0.1:$PORT/j/task_id_count)"
echo "GET /j/task_ids median s: $(measure http://127.0.0.1:$PORT/j/task_ids 200)"
echo "GET /j/task_ids/finished/5000/20 median s: $(measure http://127.0.0.1:$PORT/j/task_ids/finished/5000/20 200)"
echo "GET /main/finished/0/20 (index list) median s: $(measure http://127.0.0.1:$PORT/main/finished/0/20 200)"
echo "GET / median s: $(measure http://127.0.0.1:$PORT/ 200)"
echo "observer RSS kB: $(awk '/VmRSS/{print $2}' /proc/$OBS/status)"
# 200 more live processes, then one sampling round (full /proc scan + tree sums) from /vars.
setsid sh -c 'for i in $(seq 1 199); do sleep 600 & done; wait' &
TREE=$!
sleep 5
echo "sampling round s: $(curl -s http://127.0.0.1:$PORT/vars/observer.sampling.last_round_seconds) over $(curl -s http://127.0.0.1:$PORT/vars/observer.sampling.last_round_processes) processes"
kill -- -$TREE 2>/dev/null || true
