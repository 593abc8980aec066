#!/usr/bin/env python3
"""Observer benchmark (not run by the tests). Builds the release `thermos-observer`, makes a root
of 2,000 finished tasks + 1 active with a 64 MiB log, and measures on loopback with wrk:
  /j/task_ids, /j/task of 50 ids, /main/all/0/20, a 64 KiB /logdata chunk at concurrency 1/16/64;
  /health latency while 8 clients pull 16 MiB /logdata chunks; idle CPU and RSS.
With BEFORE=/path/to/old/thermos the same runs are made against `$BEFORE observer` in the same
run, and ratios new/old are printed. --binary PATH measures that thermos-observer instead of
building the release one (e.g. a debug build, to compare with a debug build of the old observer).
Usage: bench/observer_bench.py [--seconds 5] [--binary PATH] [--scratch-path DIR]
Needs wrk and curl (apt-get install wrk curl)."""
import argparse, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FIXTURE = os.path.join(REPO, "..", "shared", "fixtures", "aurora-root")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_root(root):
    subprocess.run([sys.executable, os.path.join(HERE, "make_root.py"), root, "2000", FIXTURE], check=True)
    log = os.path.join(root, "logs", "task-00000", "echo", "0")
    os.makedirs(log, exist_ok=True)
    line = b"2026-12-03 12:00:00 INFO request served in 3 ms <ok> & \"done\" path=/api/v1/things?id=42\n"
    with open(os.path.join(log, "stdout"), "wb") as f:
        f.write(line * ((64 << 20) // len(line) + 1))


class Observer:
    def __init__(self, argv, root, label):
        self.port = free_port()
        self.label = label
        self.proc = subprocess.Popen(argv + ["--root", root, "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                if subprocess.run(["curl", "-s", self.base + "/health"], capture_output=True, timeout=5).stdout == b"OK":
                    return
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{label}: observer did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def cpu_seconds(self):
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def wrk(url, connections, seconds):
    out = subprocess.run(["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s", "--latency", url],
                         capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    return rps, float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan")


def health_under_load(obs, seconds):
    stop = threading.Event()
    url = obs.base + "/logdata/task-00000/echo/0/stdout?offset=0&length=16777216"

    def pull():
        while not stop.is_set():
            subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "60", url])
    pullers = [threading.Thread(target=pull) for _ in range(8)]
    for t in pullers:
        t.start()
    time.sleep(1)
    samples = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_total}", "--max-time", "60", obs.base + "/health"],
                             capture_output=True, text=True).stdout
        samples.append(float(out or "nan") * 1000)
        time.sleep(0.05)
    stop.set()
    for t in pullers:
        t.join()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9)], samples[-1]


def measure(obs, seconds):
    results = {}
    ids = ",".join(f"task-{i:05d}" for i in range(50))
    routes = [("/j/task_ids", "/j/task_ids"), ("/j/task of 50 ids", f"/j/task?task_id={ids}"), ("/main/all/0/20", "/main/all/0/20"),
              ("64 KiB /logdata chunk", "/logdata/task-00000/echo/0/stdout?offset=0&length=65536")]
    for name, path in routes:
        for connections in (1, 16, 64):
            before = obs.cpu_seconds()
            rps, p50 = wrk(obs.base + path, connections, seconds)
            cpu_ms = (obs.cpu_seconds() - before) * 1000 / max(1, rps * seconds)
            results[(name, connections)] = (rps, p50, cpu_ms)
    results["health"] = health_under_load(obs, max(5, seconds))
    time.sleep(3)
    cpu = obs.cpu_seconds()
    time.sleep(10)
    results["idle_cpu"] = (obs.cpu_seconds() - cpu) / 10 * 100
    results["rss"] = obs.rss_mib()
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--binary")
    parser.add_argument("--scratch-path", default=".build")
    args = parser.parse_args()
    for tool in ("wrk", "curl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing (apt-get install {tool})")
    new_binary = args.binary
    if not new_binary:
        subprocess.run(["swift", "build", "-c", "release", "--product", "thermos-observer", "--scratch-path", args.scratch_path],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        new_binary = os.path.join(REPO, args.scratch_path, "release", "thermos-observer")
    work = tempfile.mkdtemp(prefix="thermos-observer-bench.")
    try:
        root = os.path.join(work, "root")
        make_root(root)
        runs = [("new", [new_binary, "--task-process-collection-interval-secs", "5"])]
        if os.environ.get("BEFORE"):
            runs.append(("before", [os.environ["BEFORE"], "observer", "--task-process-collection-interval-secs", "5"]))
        table = {}
        for label, argv in runs:
            obs = Observer(argv, root, label)
            try:
                table[label] = measure(obs, args.seconds)
            finally:
                obs.stop()
        new = table["new"]
        old = table.get("before")
        print("| measurement (2,000 finished tasks + 1 active, loopback) | c | new | " + ("before | new/before |" if old else ""))
        print("| --- | --- | --- | " + ("--- | --- |" if old else ""))
        for key, value in new.items():
            if not isinstance(key, tuple):
                continue
            name, connections = key
            rps, p50, cpu_ms = value
            extra = ""
            if name.startswith("64 KiB"):
                cell = (f"{rps:,.0f} req/s = {rps * 65536 / 1e6:,.0f} MB/s (p50 {p50:.2f} ms; {cpu_ms:.2f} ms CPU each "
                        f"= {65.536 / cpu_ms if cpu_ms > 0 else 0:,.0f} MB/s per core)")
            else:
                cell = f"{rps:,.0f} req/s (p50 {p50:.2f} ms; {cpu_ms:.2f} ms CPU each)"
            if old:
                orps, op50, _ = old[key]
                ocell = f"{orps:,.0f} req/s (p50 {op50:.2f} ms)"
                extra = f"{ocell} | {rps / orps:.1f}× |" if orps else f"{ocell} | |"
            print(f"| {name} | {connections} | {cell} | {extra}")
        m, p90, mx = new["health"]
        line = f"| /health while 8 clients pull 16 MiB chunks | 1 | median {m:.1f} ms, p90 {p90:.1f} ms, max {mx:.1f} ms | "
        if old:
            om, op90, omx = old["health"]
            line += f"median {om:.1f} ms, p90 {op90:.1f} ms, max {omx:.1f} ms | {om / m:.0f}× faster (median) |"
        print(line)
        line = f"| observer idle CPU (10 s, 5 s sampling) | | {new['idle_cpu']:.2f} % of a core | "
        if old:
            line += f"{old['idle_cpu']:.2f} % | |"
        print(line)
        line = f"| observer RSS after the runs | | {new['rss']:.0f} MiB | "
        if old:
            line += f"{old['rss']:.0f} MiB | {new['rss'] / old['rss']:.2f}× |"
        print(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
