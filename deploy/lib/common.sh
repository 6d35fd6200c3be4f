# deploy/lib/common.sh - small shell helpers shared by deploy/ and tests/.
# Sourced, never run. Functions are prefixed ay_; nothing here exits the caller
# except ay_die.

ay_die() {
  echo "error: $*" >&2
  exit 1
}

ay_log() {
  echo "[$(date -u +%H:%M:%S)] $*" >&2
}

# Prints a TCP port on 127.0.0.1 that nothing uses now. Ports are drawn at
# random below the kernel's ephemeral range (where outgoing connections take
# their ports, which could otherwise grab ours before we bind it). With
# AY_PORT_CLAIMS set to a directory, each port handed out is claimed there
# (mkdir is atomic), so tests running in parallel never get the same port.
ay_free_port() {
  local lo=20000 hi=59999 port used elo ehi
  if read -r elo ehi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && [ "$elo" -gt 22000 ]; then
    hi=$((elo - 1))
  fi
  used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
  for _ in $(seq 1 500); do
    port=$((lo + RANDOM % (hi - lo + 1)))
    grep -qx "$port" <<<"$used" && continue
    if [ -n "${AY_PORT_CLAIMS:-}" ]; then
      mkdir -p "$AY_PORT_CLAIMS"
      mkdir "$AY_PORT_CLAIMS/$port" 2>/dev/null || continue
    fi
    echo "$port"
    return 0
  done
  return 1
}

# ay_wait_until TIMEOUT_S WHAT CMD...: polls CMD every 50 ms until it succeeds
# or TIMEOUT_S seconds pass (returns 1 then, saying what it waited for).
ay_wait_until() {
  local timeout_s=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout_s))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "timed out after ${timeout_s}s waiting for: $what" >&2
      return 1
    fi
    sleep 0.05
  done
}

# ay_random_secret: 32 hex characters from the kernel's CSPRNG.
ay_random_secret() {
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

# ay_pid_alive PIDFILE: the process recorded in PIDFILE is running.
ay_pid_alive() {
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# ay_stop_pidfile PIDFILE [TIMEOUT_S]: SIGTERM, wait, then SIGKILL.
ay_stop_pidfile() {
  local pidfile=$1 timeout_s=${2:-10} pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + timeout_s))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
