#!/usr/bin/env python3
"""Runner benchmarks (issue 3). Builds the release binaries and measures, in one run:

  floor    /bin/bash -c true spawned N times sequentially by this harness
  chain    100 processes `true` in strict order, --fsync=group and --fsync=always (vs floor)
  fanout   200 processes `sleep 5`: time until all are RUNNING in the runner stream, and the
           PSS (/proc/PID/smaps_rollup) of every thermos process of the run: the runner, its fork
           server and every coordinator (forked coordinators share the server's pages, and PSS
           charges each shared page to its sharers in equal parts, so the sum is honest)
  exit     a process stamps the time and exits; delay until the runner acted on it
           (its successor's FORKED record), median over a chain
  restart  `exit 1` with max_failures=6, min_duration=0: total time vs 6 launches of the chain
  fixed    the fixed cost of `thermos run` for a one-process `true` task (start-up, lock, header,
           task file, coordinator, final sync, task file move, teardown): median of 20 against the
           median of 20 single `bash -c true` of the same run, split by the runner's glog lines

Usage: bench/runner_bench.py [--no-build] [--only-fixed] [--only-launch]. Prints a Markdown table
(ratios, same run). THERMOS=path/to/thermos measures another build (its thermos-runner, if it has
one, and thermos-coordinator must sit next to it).

Every run's root and sandbox live in one work directory under BENCH_DIR, removed only when the
benchmark ends. BENCH_DIR defaults to /dev/shm (tmpfs) for the launch rows: on this VM's root
filesystem, ext4 without a journal, a new inode skips every inode of its group deleted in the
last minute (five while the inode table is dirty), one buffer lookup each, so any directory where
files were recently deleted in bulk — /tmp after a test suite, or the previous benchmark's work
directory — makes every file a run creates cost up to milliseconds, and the figures measure that
scan instead of thermos (a chain of 100 measured from 0.27 s to 0.88 s by where it ran). On tmpfs
`--fsync` syncs nothing, so the `--fsync=always` row is only meaningful with BENCH_DIR on a disk.
The fixed-cost rows, which include the task's durability syncs, always run on disk under
FIXED_DIR (default /var/tmp).
"""
import atexit, json, os, shutil, signal, statistics, struct, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READER = os.path.join(REPO, "..", "shared", "tools", "read_checkpoint.py")
sys.path.insert(0, os.path.dirname(READER))
import read_checkpoint  # noqa: E402  (the independent reader, used in-process to poll cheaply)
THERMOS = os.environ.get("THERMOS") or os.path.join(REPO, ".build", "release", "thermos")
WORK = tempfile.mkdtemp(prefix="thermos-bench.", dir=os.environ.get("BENCH_DIR", "/dev/shm"))
FIXED_WORK = tempfile.mkdtemp(prefix="thermos-bench.", dir=os.environ.get("FIXED_DIR", "/var/tmp"))
atexit.register(shutil.rmtree, WORK, True)
atexit.register(shutil.rmtree, FIXED_WORK, True)


def discard(work):
    """A run's files stay until the benchmark ends (see the module doc)."""


def records(path):
    out = subprocess.run([sys.executable, READER, path], capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def write_task(directory, task):
    path = os.path.join(directory, "task.json")
    with open(path, "w") as f:
        json.dump(task, f)
    return path


def run_task(task, fsync="group", task_id="bench", background=False, env=None):
    work = tempfile.mkdtemp(prefix="run.", dir=WORK)
    config = write_task(work, task)
    args = [THERMOS, "run", "--root", work + "/root", "--sandbox", work + "/sandbox", "--task-id", task_id,
            "--fsync", fsync, config]
    environment = dict(os.environ, **(env or {}))
    if background:
        return work, subprocess.Popen(args, stderr=subprocess.DEVNULL, env=environment)
    start = time.perf_counter()
    subprocess.run(args, stderr=subprocess.DEVNULL, env=environment)
    return work, time.perf_counter() - start


class StreamFollower:
    """Reads the complete records a checkpoint file gained since the last call (in-process, so
    polling every millisecond costs little next to the runner)."""

    def __init__(self, path):
        self.path, self.offset, self.buffer = path, 0, b""

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        self.offset += len(data)
        self.buffer += data
        out = []
        while len(self.buffer) >= 4:
            n = struct.unpack(">L", self.buffer[:4])[0]
            if len(self.buffer) < 4 + n:
                break
            out.append(read_checkpoint.struct_(read_checkpoint.R(self.buffer[4:4 + n]), "RunnerCkpt"))
            self.buffer = self.buffer[4 + n:]
        return out


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


def process_table():
    """pid -> (ppid, comm, cmdline) of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    text = f.read()
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    cmdline = f.read().split(b"\0")
                comm = text[text.index("(") + 1:text.rindex(")")]
                table[int(entry)] = (int(text.rsplit(")", 1)[1].split()[1]), comm, cmdline)
            except (OSError, ValueError):
                pass
    return table


def thermos_processes(runner):
    """The thermos processes of a run: the runner, its fork servers (children of the runner
    started with --fork-server) and every coordinator (spawned ones are children of the runner,
    forked ones children of a fork server or, once theirs died, of the runner)."""
    table = process_table()
    servers = [pid for pid, (ppid, comm, cmd) in table.items()
               if ppid == runner and comm.startswith("thermos") and b"--fork-server" in cmd]
    coordinators = [pid for pid, (ppid, comm, cmd) in table.items()
                    if comm.startswith("thermos") and pid not in servers and (ppid == runner or ppid in servers)]
    return servers, coordinators


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
    succeeded (final sync, sweep, task file move), Task SUCCESS → exit (teardown)."""
    floors, totals = [], []
    phases = {"start-up to first fork": [], "coordinator + `true` + exit detection": [],
              "finalization (sync, sweep, task file move)": [], "teardown after the last record": []}
    task = {"name": "one", "processes": [{"name": "p", "cmdline": "true"}]}
    for index in range(count):
        start = time.perf_counter()
        subprocess.run(["/bin/bash", "-c", "true"])
        floors.append(time.perf_counter() - start)
        work = tempfile.mkdtemp(prefix="run.", dir=FIXED_WORK)
        config = write_task(work, task)
        args = [THERMOS, "run", "--root", work + "/root", "--sandbox", work + "/sandbox", "--task-id", "fixed%d" % index, config]
        wall = time.time()
        start = time.perf_counter()
        done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        totals.append(elapsed)
        discard(work)
        if done.returncode != 0:
            raise SystemExit("fixed cost: thermos run exited %d: %s" % (done.returncode, done.stderr))
        marks = {}
        for line in done.stderr.splitlines():
            for key, needle in (("fork", "Forking Process(p)"), ("exit", "Process(p) finished"), ("done", "Task SUCCESS")):
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


def fanout_rows(base, count=200):
    """200 × `sleep 5`: until all are RUNNING in the runner stream (from starting `thermos run`,
    and from the first FORKED to the last RUNNING by the records' own times), then the PSS of every
    thermos process of the run."""
    task = {"name": "fan", "processes": [{"name": "s%03d" % i, "cmdline": "sleep 5"} for i in range(count)]}
    work, proc = run_task(task, background=True)
    start = time.perf_counter()
    follower = StreamFollower(work + "/root/checkpoints/bench/runner")
    running, forks, starts = set(), [], []
    while time.perf_counter() - start < 60 and len(running) < count:
        for record in follower.poll():
            status = record.get("process_status", {})
            if status.get("state") == 1:
                forks.append(status["fork_time"])
            elif status.get("state") == 2:
                running.add(status["process"])
                starts.append(status["start_time"])
        time.sleep(0.001)
    all_running = time.perf_counter() - start
    servers, coordinators = thermos_processes(proc.pid)
    runner_pss = pss_kb(proc.pid)
    server_pss = sum(pss_kb(p) for p in servers)
    coordinator_pss = sum(pss_kb(p) for p in coordinators)
    pss = runner_pss + server_pss + coordinator_pss
    processes = 1 + len(servers) + len(coordinators)
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    discard(work)
    launch_phase = max(starts) - min(forks) if forks and starts else float("nan")
    budget = 5 + 0.2 * processes
    return [
        ("fanout: 200 × `sleep 5`, `thermos run` → all RUNNING", "%.3f s" % all_running,
         "%.2f× floor(200)" % (all_running / (base * 2)), "≤ 0.25 s"),
        ("fanout: of which first FORKED → last RUNNING (record times)", "%.3f s" % launch_phase,
         "%.2f× floor(200)" % (launch_phase / (base * 2)), ""),
        ("fanout: PSS of every thermos process (runner, %d fork server, %d coordinators)" % (len(servers), len(coordinators)),
         "%.1f MB" % (pss / 1024), "%.1f%% of the budget %.1f MB" % (100 * pss / 1024 / budget, budget),
         "≤ 5 MB + 0.2 MB × %d processes" % processes),
        ("fanout: of which runner / fork server / coordinators", "%.1f / %.2f / %.1f MB" % (
            runner_pss / 1024, server_pss / 1024, coordinator_pss / 1024),
         "%.3f MB/coordinator" % (coordinator_pss / 1024 / max(len(coordinators), 1)), ""),
    ]


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
    if "--only-launch" in sys.argv:
        base = floor(100)
        rows = [("floor: 100 × `/bin/bash -c true`, sequential", "%.3f s" % base, "1.00×", "")]
        work, elapsed = run_task(chain_task(100))
        discard(work)
        rows.append(("chain: 100 × `true` in order, --fsync=group", "%.3f s" % elapsed, "%.2f×" % (elapsed / base), "≤ 1.6×"))
        rows.extend(fanout_rows(base))
        print_rows(rows)
        return
    rows = []
    n = 100
    base = floor(n)
    rows.append(("floor: 100 × `/bin/bash -c true`, sequential", "%.3f s" % base, "1.00×", ""))
    for fsync, policy, goal in (("group", "lazy", "≤ 1.6×"), ("always", "lazy", ""), ("group", "off", "")):
        work, elapsed = run_task(chain_task(n), fsync=fsync, env={"THERMOS_FORK_SERVER": policy})
        discard(work)
        how = "" if policy == "lazy" else ", no fork server (every coordinator exec'd)"
        rows.append(("chain: 100 × `true` in order, --fsync=%s%s" % (fsync, how), "%.3f s" % elapsed, "%.2f×" % (elapsed / base), goal))

    rows.extend(fanout_rows(base))

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
    discard(work)
    rows.append(("exit detection: process exit → successor FORKED (median of %d)" % len(delays),
                 "%.2f ms" % statistics.median(delays), "p90 %.2f ms" % sorted(delays)[int(len(delays) * 0.9)], "< 2 ms"))

    # restart
    task = {"name": "restart", "processes": [{"name": "p", "cmdline": "exit 1", "max_failures": 6, "min_duration": 0}]}
    work, elapsed = run_task(task)
    runs = sum(1 for r in records(work + "/root/checkpoints/bench/runner")
               if r.get("process_status", {}).get("state") == 5)
    discard(work)
    work, chain6 = run_task(chain_task(6))
    discard(work)
    rows.append(("restart: `exit 1`, max_failures=6, min_duration=0 (%d runs)" % runs, "%.3f s" % elapsed,
                 "%.2f× a 6-process chain" % (elapsed / chain6), "≈ 6 launches"))

    rows.extend(fixed_rows())
    print_rows(rows)


if __name__ == "__main__":
    main()
