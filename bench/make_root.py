#!/usr/bin/env python3
"""Builds a benchmark root: N finished tasks (copies of one runner checkpoint, different mtimes)
plus one active task copied from the fixture's sleep60-lost. Usage: make_root.py ROOT N FIXTURE_ROOT"""
import os, sys
root, count, fixture = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runner = open(f"{fixture}/checkpoints/hello_world/runner", "rb").read()
task = open(f"{fixture}/tasks/finished/hello_world", "rb").read()
os.makedirs(f"{root}/tasks/finished")
os.makedirs(f"{root}/tasks/active")
for i in range(count):
    tid = f"task-{i:05d}"
    os.makedirs(f"{root}/checkpoints/{tid}")
    with open(f"{root}/checkpoints/{tid}/runner", "wb") as f: f.write(runner)
    path = f"{root}/tasks/finished/{tid}"
    with open(path, "wb") as f: f.write(task)
    os.utime(path, (1_600_000_000 + i, 1_600_000_000 + i))
os.makedirs(f"{root}/checkpoints/live")
with open(f"{root}/checkpoints/live/runner", "wb") as f: f.write(open(f"{fixture}/checkpoints/sleep60-lost/runner", "rb").read())
with open(f"{root}/tasks/active/live", "wb") as f: f.write(open(f"{fixture}/tasks/active/sleep60-lost", "rb").read())
