#!/usr/bin/env bash
# Submit → all instances RUNNING for a job array of N (default 50) on a one-node cluster of
# scripts/slurm-cluster.sh, against the same array of a plain `sleep` submitted with sbatch in
# the same run (the floor: Slurm's own scheduling and launch).
#
#   bench/slurm-array-bench.sh [N]      (THERMOS=path/to/thermos, default .build/release/thermos)
#
# Times: plain array until squeue shows N RUNNING; thermos array until squeue shows N RUNNING,
# and until all N tasks have their process running (each touches a file in its sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
thermos=${THERMOS:-.build/release/thermos}
[ -x "$thermos" ] || swift build -c release --product thermos >/dev/null
[ -x "$thermos" ] || { echo "no $thermos" >&2; exit 1; }
work=$(mktemp -d /tmp/thermos-slurm-bench.XXXXXX)
trap 'scripts/slurm-cluster.sh stop "$work/cluster"; rm -rf "$work"' EXIT
eval "$(scripts/slurm-cluster.sh start "$work/cluster")"
export THERMOS_JOBS_DIR=$work/jobs

now() { date +%s.%N; }
running() { squeue -h -r -j "$1" -t RUNNING -o %i | wc -l; }
wait_for() { # command expected-count → seconds waited
    local start=$1; shift
    local expected=$1; shift
    until [ "$("$@")" -ge "$expected" ]; do sleep 0.05; done
    echo "$(now) - $start" | bc
}

# Floor: the same array of `sleep`, straight through sbatch.
start=$(now)
plain=$(sbatch --parsable --array=0-$((n - 1)) -o /dev/null --wrap 'sleep 300')
floor=$(wait_for "$start" "$n" running "$plain")
scancel "$plain"
until [ "$(squeue -h -j "$plain" | wc -l)" = 0 ]; do sleep 0.2; done

cat > "$work/task.json" <<'TASK'
{"name": "bench", "processes": [{"name": "p", "cmdline": "touch running; exec sleep 300"}]}
TASK
start=$(now)
job=$("$thermos" submit --root "$work/root" --instances "$n" "$work/task.json")
submitted=$(echo "$(now) - $start" | bc)
slurm=$(wait_for "$start" "$n" running "$job")
count_running() { find "$work/root/sandbox" -maxdepth 2 -name running 2>/dev/null | wc -l; }
tasks=$(wait_for "$start" "$n" count_running)
"$thermos" cancel --now "$job" >/dev/null
until [ "$(squeue -h -j "$job" -t RUNNING,PENDING | wc -l)" = 0 ]; do sleep 0.2; done

ratio() { echo "scale=2; $1 / $floor" | bc; }
printf '| measurement (array of %d, one node) | time | ratio |\n| --- | --- | --- |\n' "$n"
printf '| floor: `sbatch --array` of `sleep` until all RUNNING in squeue | %.2f s | 1.00× |\n' "$floor"
printf '| `thermos submit` returns (validate, snapshot, sbatch, record) | %.2f s | %s× |\n' "$submitted" "$(ratio "$submitted")"
printf '| `thermos submit` until all RUNNING in squeue | %.2f s | %s× |\n' "$slurm" "$(ratio "$slurm")"
printf '| `thermos submit` until every task'"'"'s process is running | %.2f s | %s× |\n' "$tasks" "$(ratio "$tasks")"
