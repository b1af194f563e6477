#!/usr/bin/env bash
# Start a single-node SLURM (controller and compute node on this machine) for the
# slurm-marked tests: Debian's slurm-wlm + munge, no accounting database.
#
#   bash tests/slurm/setup_slurm.sh && pytest -m slurm
#
# Idempotent: returns at once when a node already answers `sinfo` as idle.
# Where it cannot work (not root, no apt-get, packages not installable, munged not
# starting) it prints "SKIP: <why>" and exits 0, so the slurm tests then skip with a
# reason (CGTHERMO_REQUIRE_SLURM=1 turns that skip into a failure). Daemons that were
# set up but do not come up are an error (exit 1).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm
WAIT_S="${CGTHERMO_SLURM_WAIT_S:-60}"

skip() {
    echo "SKIP: $* (the slurm tests will be skipped)"
    exit 0
}

node_up() {
    # succeeds when the controller answers and the node takes jobs (busy counts as up;
    # a trailing * means the node does not respond)
    local state
    state="$(timeout 10 sinfo --noheader --Node --format=%T 2>/dev/null | head -n1)" || return 1
    [[ "$state" =~ ^(idle|mixed|allocated|completing)$ ]]
}

running() {
    # succeeds when the daemon named $1 runs, by its pid file (never by process name)
    local pidfile="/run/$1.pid"
    [[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

if command -v sinfo >/dev/null 2>&1 && node_up; then
    echo "SLURM is already up: $(sinfo --noheader --Node --format='%N %T %c CPUs %m MB')"
    exit 0
fi

[[ "$(id -u)" == 0 ]] || skip "setting up SLURM needs root (running as $(id -un))"

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || skip "slurm-wlm is not installed and there is no apt-get"
    echo "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || skip "apt-get update failed (no network or no package mirror?)"
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null ||
        skip "apt-get could not install slurm-wlm and munge"
fi

# munge: one key shared by controller and node (both are this machine)
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile=/etc/munge/munge.key
    else
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
fi
munge -n | unmunge >/dev/null || skip "munged did not start (see /var/log/munge/munged.log)"

# slurm.conf: this machine's CPUs and memory as `slurmd -C` reports them. The node is
# called localhost so the file does not depend on the host name.
node_line="$(slurmd -C | head -n1)"
cpus="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")"
sockets="$(sed -n 's/.*SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$node_line")"
cores="$(sed -n 's/.*CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$node_line")"
threads="$(sed -n 's/.*ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$node_line")"
memory="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")"
[[ -n "$cpus" && -n "$memory" ]] || skip "could not read CPUs and memory from 'slurmd -C': $node_line"

install -d -m 0755 "$CONF_DIR" "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
sed -e "s/@CPUS@/$cpus/" -e "s/@SOCKETS@/$sockets/" -e "s/@CORES@/$cores/" \
    -e "s/@THREADS@/$threads/" -e "s/@MEMORY@/$memory/" -e "s#@LOG_DIR@#$LOG_DIR#g" \
    "$HERE/slurm.conf.in" >"$CONF_DIR/slurm.conf"
echo "wrote $CONF_DIR/slurm.conf: localhost with $cpus CPUs and $memory MB"

# Daemons that already run are left alone: jobs of other users of this SLURM go on.
running slurmctld || /usr/sbin/slurmctld
running slurmd || /usr/sbin/slurmd -N localhost

for _ in $(seq "$WAIT_S"); do
    if node_up; then
        echo "SLURM is up: $(sinfo --noheader --Node --format='%N %T %c CPUs %m MB')"
        exit 0
    fi
    # a node registered as down (e.g. after an earlier unclean stop) is put back to work
    scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
    sleep 1
done
echo "SLURM did not come up within ${WAIT_S}s; last lines of the logs:" >&2
tail -n 20 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
exit 1
