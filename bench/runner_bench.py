#!/usr/bin/env python3
"""Runner benchmarks (issue 3). Builds the release binaries and measures, in one run:

  floor    /bin/bash -c true spawned N times sequentially by this harness
  chain    100 processes `true` in strict order, --fsync=group and --fsync=always (vs floor)
  fanout   200 processes `sleep 5`: time until all are RUNNING in the runner stream, and the
           PSS of the runner plus every coordinator
  exit     a process stamps the time and exits; delay until the runner acted on it
           (its successor's FORKED record), median over a chain
  restart  `exit 1` with max_failures=6, min_duration=0: total time vs 6 launches of the chain
  fixed    the fixed cost of `thermos run` for a one-process `true` task (start-up, lock, header,
           task file, coordinator, final sync, task file move, teardown): median of 20 against the
           median of 20 single `bash -c true` of the same run, split by the runner's glog lines

Usage: bench/runner_bench.py [--no-build] [--only-fixed]. Prints a Markdown table (ratios, same
run). THERMOS=path/to/thermos measures another build (its thermos-runner, if it has one, and
thermos-coordinator must sit next to it).
"""
import json, os, shutil, signal, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READER = os.path.join(REPO, "..", "shared", "tools", "read_checkpoint.py")
THERMOS = os.environ.get("THERMOS") or os.path.join(REPO, ".build", "release", "thermos")


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


def glog_seconds(line):
    """Seconds since local midnight of a glog line (`I1203 16:49:24.138475 pid runner] ...`)."""
    clock = line.split()[1]
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def local_seconds(epoch):
    parts = time.localtime(epoch)
    return parts.tm_hour * 3600 + parts.tm_min * 60 + parts.tm_sec + (epoch - int(epoch))


def fixed_cost(count=20):
    """Median wall time of `thermos run` on a one-process `true` task, with the medians of its
    phases from the runner's own glog lines: start → Forking (start-up, config, lock, header,
    task file), Forking → finished (coordinator, `true`, exit detection), finished → Task
    succeeded (final sync, sweep, task file move), Task succeeded → exit (teardown)."""
    floors, totals = [], []
    phases = {"start-up to first fork": [], "coordinator + `true` + exit detection": [],
              "finalization (sync, sweep, task file move)": [], "teardown after the last record": []}
    task = {"name": "one", "processes": [{"name": "p", "cmdline": "true"}]}
    for index in range(count):
        start = time.perf_counter()
        subprocess.run(["/bin/bash", "-c", "true"])
        floors.append(time.perf_counter() - start)
        work = tempfile.mkdtemp(prefix="thermos-bench.")
        config = write_task(work, task)
        args = [THERMOS, "run", "--root", work + "/root", "--sandbox", work + "/sandbox", "--task-id", "fixed%d" % index, config]
        wall = time.time()
        start = time.perf_counter()
        done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        totals.append(elapsed)
        shutil.rmtree(work, ignore_errors=True)
        if done.returncode != 0:
            raise SystemExit("fixed cost: thermos run exited %d: %s" % (done.returncode, done.stderr))
        marks = {}
        for line in done.stderr.splitlines():
            for key, needle in (("fork", "Forking Process(p)"), ("exit", "Process(p) finished"), ("done", "Task succeeded")):
                if needle in line and key not in marks:
                    marks[key] = glog_seconds(line)
        if len(marks) == 3:
            begin = local_seconds(wall)
            values = [marks["fork"] - begin, marks["exit"] - marks["fork"], marks["done"] - marks["exit"],
                      begin + elapsed - marks["done"]]
            for name, value in zip(phases, values):
                phases[name].append(value)
    return statistics.median(floors), statistics.median(totals), {k: statistics.median(v) for k, v in phases.items() if v}


def fixed_rows():
    base, total, phases = fixed_cost()
    rows = [("fixed cost: floor, one `/bin/bash -c true` (median of 20)", "%.1f ms" % (base * 1000), "1.00×", ""),
            ("fixed cost: `thermos run`, one-process `true` task (median of 20)", "%.1f ms" % (total * 1000),
             "%.2f× floor" % (total / base), "measure, cut what durability does not need")]
    for name, value in phases.items():
        rows.append(("fixed cost, of which: %s" % name, "%.1f ms" % (value * 1000), "%.2f× floor" % (value / base), ""))
    return rows


def print_rows(rows):
    print("| benchmark | time | ratio | goal |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| %s | %s | %s | %s |" % row)


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["swift", "build", "-c", "release"], cwd=REPO, check=True)
    if "--only-fixed" in sys.argv:
        print_rows(fixed_rows())
        return
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

    rows.extend(fixed_rows())
    print_rows(rows)


if __name__ == "__main__":
    main()
