#!/usr/bin/env python3
"""Runner benchmarks (issue 3). Builds the release binaries and measures, in one run:

  floor    /bin/bash -c true spawned N times sequentially by this harness
  chain    100 processes `true` in strict order, --fsync=group and --fsync=always (vs floor)
  fanout   200 processes `sleep 5`: time until all are RUNNING in the runner stream, and the
           PSS of the runner plus every coordinator
  exit     a process stamps the time and exits; delay until the runner acted on it
           (its successor's FORKED record), median over a chain
  restart  `exit 1` with max_failures=6, min_duration=0: total time vs 6 launches of the chain

Usage: bench/runner_bench.py [--no-build]. Prints a Markdown table (ratios, same run).
"""
import json, os, shutil, signal, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READER = os.path.join(REPO, "..", "shared", "tools", "read_checkpoint.py")
THERMOS = os.path.join(REPO, ".build", "release", "thermos")


def records(path):
    out = subprocess.run([sys.executable, READER, path], capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def write_task(directory, task):
    path = os.path.join(directory, "task.json")
    with open(path, "w") as f:
        json.dump(task, f)
    return path


def run_task(task, fsync="group", task_id="bench", background=False):
    work = tempfile.mkdtemp(prefix="thermos-bench.")
    config = write_task(work, task)
    args = [THERMOS, "run", "--root", work + "/root", "--sandbox", work + "/sandbox", "--task-id", task_id,
            "--fsync", fsync, config]
    if background:
        return work, subprocess.Popen(args, stderr=subprocess.DEVNULL)
    start = time.perf_counter()
    subprocess.run(args, stderr=subprocess.DEVNULL)
    return work, time.perf_counter() - start


def floor(n):
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run(["/bin/bash", "-c", "true"])
    return time.perf_counter() - start


def chain_task(n, cmd="true"):
    names = ["p%03d" % i for i in range(n)]
    return {"name": "chain", "processes": [{"name": p, "cmdline": cmd} for p in names],
            "constraints": [{"order": names}]}


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    result = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    result.append(int(entry))
            except OSError:
                pass
    return result


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["swift", "build", "-c", "release"], cwd=REPO, check=True)
    rows = []
    n = 100
    base = floor(n)
    rows.append(("floor: 100 × `/bin/bash -c true`, sequential", "%.3f s" % base, "1.00×", ""))
    for fsync, goal in (("group", "≤ 2.5×"), ("always", "")):
        work, elapsed = run_task(chain_task(n), fsync=fsync)
        shutil.rmtree(work, ignore_errors=True)
        rows.append(("chain: 100 × `true` in order, --fsync=%s" % fsync, "%.3f s" % elapsed, "%.2f×" % (elapsed / base), goal))

    # fanout
    count = 200
    task = {"name": "fan", "processes": [{"name": "s%03d" % i, "cmdline": "sleep 5"} for i in range(count)]}
    work, proc = run_task(task, background=True)
    runner_ckpt = work + "/root/checkpoints/bench/runner"
    start = time.perf_counter()
    running = 0
    while time.perf_counter() - start < 60:
        if os.path.exists(runner_ckpt):
            running = sum(1 for r in records(runner_ckpt)
                          if r.get("process_status", {}).get("state") == 2)
            if running >= count:
                break
        time.sleep(0.01)
    all_running = time.perf_counter() - start
    coordinators = children(proc.pid)
    runner_pss = pss_kb(proc.pid)
    coordinator_pss = sum(pss_kb(c) for c in coordinators)
    pss = runner_pss + coordinator_pss
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    shutil.rmtree(work, ignore_errors=True)
    per_process = pss / 1024 / count
    rows.append(("fanout: 200 × `sleep 5`, until all RUNNING", "%.3f s" % all_running, "%.2f× floor(200)" % (all_running / (base * 2)), ""))
    rows.append(("fanout: PSS runner + %d coordinators" % len(coordinators), "%.1f MB" % (pss / 1024),
                 "%.2f MB/process" % per_process, "≤ 0.5 MB/process + 15 MB"))
    rows.append(("fanout: of which runner / coordinators", "%.1f MB / %.1f MB" % (runner_pss / 1024, coordinator_pss / 1024),
                 "%.2f MB/coordinator" % (coordinator_pss / 1024 / max(len(coordinators), 1)), ""))

    # exit detection
    k = 40
    task = chain_task(k, cmd="date +%s.%N > stamp.$THERMOS_STAMP")
    names = [p["name"] for p in task["processes"]]
    for p in task["processes"]:
        p["cmdline"] = "date +%%s.%%N > stamp.%s" % p["name"]
    work, _ = run_task(task)
    recs = records(work + "/root/checkpoints/bench/runner")
    forks = {r["process_status"]["process"]: r["process_status"]["fork_time"]
             for r in recs if r.get("process_status", {}).get("state") == 1}
    delays = []
    for a, b in zip(names, names[1:]):
        with open(os.path.join(work, "sandbox", "stamp." + a)) as f:
            stamp = float(f.read())
        delays.append((forks[b] - stamp) * 1000)
    shutil.rmtree(work, ignore_errors=True)
    rows.append(("exit detection: process exit → successor FORKED (median of %d)" % len(delays),
                 "%.2f ms" % statistics.median(delays), "p90 %.2f ms" % sorted(delays)[int(len(delays) * 0.9)], "< 5 ms"))

    # restart
    task = {"name": "restart", "processes": [{"name": "p", "cmdline": "exit 1", "max_failures": 6, "min_duration": 0}]}
    work, elapsed = run_task(task)
    runs = sum(1 for r in records(work + "/root/checkpoints/bench/runner")
               if r.get("process_status", {}).get("state") == 5)
    shutil.rmtree(work, ignore_errors=True)
    work, chain6 = run_task(chain_task(6))
    shutil.rmtree(work, ignore_errors=True)
    rows.append(("restart: `exit 1`, max_failures=6, min_duration=0 (%d runs)" % runs, "%.3f s" % elapsed,
                 "%.2f× a 6-process chain" % (elapsed / chain6), "≈ 6 launches"))

    print("| benchmark | time | ratio | goal |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| %s | %s | %s | %s |" % row)


if __name__ == "__main__":
    main()
