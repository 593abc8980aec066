#!/usr/bin/env bash
# A one-node Slurm cluster on loopback in a private directory, for tests, CI and the README.
#
#   scripts/slurm-cluster.sh start DIR [--stop-with PID]   start munged, slurmctld and slurmd;
#                                                        print `export SLURM_CONF=DIR/slurm.conf`
#   scripts/slurm-cluster.sh stop DIR                     kill the jobs, then the daemons (by pid)
#
# Everything lives in DIR (config, munge key and socket, state, spool, logs, pid files); the
# ports are free ones picked at start, so several clusters can run on one machine. Needs root
# and Debian's slurm-wlm and munge. --stop-with PID stops the cluster once process PID has ended
# (the test suite starts a cluster this way when SLURM_CONF is not set).
set -euo pipefail

usage() { echo "usage: $0 start DIR [--stop-with PID] | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
command=$1
dir=$(realpath -m "$2")
shift 2

# A TCP port nobody listens on (checked against /proc/net/tcp{,6}), from 20000-59999.
free_port() {
    local port hex
    while :; do
        port=$((20000 + RANDOM % 40000))
        hex=$(printf '%04X' "$port")
        if ! grep -qi ":$hex " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then echo "$port"; return; fi
    done
}

pid_of() { [ -s "$1" ] && cat "$1" || true; }

# Sends SIGTERM to the pid in file $1, waits up to 10 s, then SIGKILL.
stop_pidfile() {
    local pid
    pid=$(pid_of "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

stop_cluster() {
    [ -f "$dir/slurm.conf" ] || { echo "$dir: no cluster here" >&2; return 0; }
    export SLURM_CONF="$dir/slurm.conf"
    # Stopping slurmd does not stop jobs: kill what the job steps track first, then the
    # slurmstepd processes of this cluster (found by the SLURM_CONF in their environment).
    local pids
    pids=$(timeout 10 scontrol listpids 2>/dev/null | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }' || true)
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    for environ in /proc/[0-9]*/environ; do
        local pid=${environ#/proc/}
        pid=${pid%/environ}
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slurmstepd ] || continue
        if tr '\0' '\n' 2>/dev/null < "$environ" | grep -qx "SLURM_CONF=$SLURM_CONF"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    stop_pidfile "$dir/slurmd.pid"
    stop_pidfile "$dir/slurmctld.pid"
    stop_pidfile "$dir/munge/munged.pid"
}

start_cluster() {
    local stop_with=
    while [ $# -gt 0 ]; do
        case $1 in
            --stop-with) stop_with=$2; shift 2 ;;
            *) usage ;;
        esac
    done
    for tool in munged mungekey slurmctld slurmd sinfo; do
        command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install slurm-wlm munge" >&2; exit 1; }
    done
    [ "$(id -u)" = 0 ] || { echo "the test cluster runs its daemons as root" >&2; exit 1; }
    if [ -s "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
        echo "$dir: a cluster is already running here (stop it first)" >&2; exit 1
    fi
    mkdir -p "$dir"/{munge,state,spool,log}
    chmod 0700 "$dir" "$dir/munge"
    local node host ctld_port slurmd_port
    host=$(hostname)
    node=$(hostname -s)
    ctld_port=$(free_port)
    slurmd_port=$(free_port)
    while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
    rm -f "$dir/munge/munge.key"
    mungekey --create --keyfile="$dir/munge/munge.key" 2>/dev/null || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 0400 "$dir/munge/munge.key"
    cat > "$dir/slurm.conf" <<CONF
# One-node test cluster written by scripts/slurm-cluster.sh; everything under $dir.
ClusterName=thermos
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also sets how long a requeued job waits before it may start again (120 s by
# default); the requeue test would otherwise wait two minutes.
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_min_interval=0
SlurmdParameters=config_overrides
ReturnToService=2
# KillWait covers a task's finalization_wait (30 s by default) + 5 s, so a plain scancel or a
# preemption still lets the staged kill finish (see docs/scale.md).
KillWait=35
MinJobAge=600
MaxArraySize=1001
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$host CPUs=64 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$dir/slurm.conf"
    munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
    slurmctld -c -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF" -N "$node"
    if [ -n "$stop_with" ]; then
        # Detached from the caller's pipes, so command substitution of `start` returns at once.
        # The directory goes too: nobody is left to read its logs.
        setsid bash -c 'tail --pid="$1" -f /dev/null; "$2" stop "$3" && rm -rf "$3"' _ "$stop_with" "$(realpath "$0")" "$dir" \
            </dev/null >/dev/null 2>&1 &
    fi
    local state=
    for _ in $(seq 300); do
        state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
        [ "$state" = idle ] && break
        sleep 0.1
    done
    if [ "$state" != idle ]; then
        echo "the test cluster in $dir did not come up (node state '${state:-none}'); see $dir/log/" >&2
        stop_cluster
        exit 1
    fi
    echo "export SLURM_CONF=$SLURM_CONF"
}

case $command in
    start) start_cluster "$@" ;;
    stop) stop_cluster ;;
    *) usage ;;
esac
