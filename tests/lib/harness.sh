# tests/lib/harness.sh - what every integration test sources.
#
# Gives each test a private temporary directory, free ports, a real
# PostgreSQL and a real Mosquitto of its own, and the project's binaries.
# On exit it stops everything it started; the test fails if any service log
# has an unexpected level=error/fatal line or a sanitizer report. On failure
# the directory is kept and its logs' last lines are printed.
#
# Environment (set by ctest, see tests/CMakeLists.txt):
#   AY_SOURCE_DIR  the source tree     AY_BUILD_DIR  the build tree
# Usage:
#   source "$AY_SOURCE_DIR/tests/lib/harness.sh"
#   ay_test_init
#   ay_test_start_pg; ay_test_start_broker
#   ...assertions with ay_expect / ay_wait_until...
#   ay_test_pass

set -uo pipefail

: "${AY_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${AY_BUILD_DIR:=$AY_SOURCE_DIR/build}"
export AY_SOURCE_DIR AY_BUILD_DIR

# shellcheck source=../../deploy/lib/common.sh
source "$AY_SOURCE_DIR/deploy/lib/common.sh"
source "$AY_SOURCE_DIR/deploy/lib/pg.sh"
[ -f "$AY_SOURCE_DIR/deploy/lib/broker.sh" ] && source "$AY_SOURCE_DIR/deploy/lib/broker.sh"

AYCTL="$AY_BUILD_DIR/tools/ayctl/ayctl"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:halt_on_error=1:detect_leaks=1:log_exitcode=66}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Cache of an initdb result shared by the tests of one build tree.
export AY_PG_TEMPLATE="${AY_PG_TEMPLATE:-$AY_BUILD_DIR/tmp/pg-template}"

AY_T=""          # the test's private directory
AY_T_OK=0        # set by ay_test_pass
AY_T_PIDFILES=() # processes to stop at exit
AY_T_ALLOW_ERRORS="" # extended regex of log lines that are expected errors

ay_test_init() {
  mkdir -p "$AY_BUILD_DIR/tmp"
  AY_T=$(mktemp -d "$AY_BUILD_DIR/tmp/$(basename "$0" .sh).XXXXXX")
  chmod 755 "$AY_T" "$AY_BUILD_DIR/tmp"
  # The postgres user must reach the cluster directory through every parent.
  local d=$AY_T
  while [ "$d" != "/" ]; do
    d=$(dirname "$d")
    [ -d "$d" ] && chmod o+x "$d" 2>/dev/null || true
  done
  mkdir -p "$AY_T/log"
  trap ay_test_exit EXIT
  trap 'exit 130' INT TERM
  echo "test dir: $AY_T"
}

ay_fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# ay_expect DESCRIPTION CMD...: CMD must succeed now.
ay_expect() {
  local what=$1
  shift
  "$@" || ay_fail "$what"
}

# ay_expect_eq WHAT EXPECTED ACTUAL
ay_expect_eq() {
  [ "$2" = "$3" ] || ay_fail "$1: expected '$2', got '$3'"
}

ay_test_pass() {
  AY_T_OK=1
  echo "PASS: $(basename "$0" .sh)"
}

# ay_spawn NAME CMD...: starts CMD in the background, stderr+stdout to
# $AY_T/log/NAME.log, pid in $AY_T/NAME.pid; stopped at exit.
ay_spawn() {
  local name=$1
  shift
  "$@" >>"$AY_T/log/$name.log" 2>&1 &
  echo $! >"$AY_T/$name.pid"
  AY_T_PIDFILES+=("$AY_T/$name.pid")
}

# ay_stop NAME [SIGNAL]: stops a process started with ay_spawn and waits.
ay_stop() {
  local name=$1 sig=${2:-TERM} pid
  pid=$(cat "$AY_T/$name.pid" 2>/dev/null) || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null
  rm -f "$AY_T/$name.pid"
}

ay_test_start_pg() {
  ay_pg_init "$AY_T/pg"
  AY_PG_PORT=$(ay_free_port)
  ay_pg_start "$AY_T/pg" "$AY_PG_PORT" || ay_fail "could not start PostgreSQL"
  DATABASE_URL=$(ay_pg_provision "$AY_T/pg" "$AY_PG_PORT") || ay_fail "could not provision database"
  export DATABASE_URL AY_PG_PORT
  if [ -x "$AYCTL" ]; then
    "$AYCTL" migrate >>"$AY_T/log/migrate.log" 2>&1 || {
      cat "$AY_T/log/migrate.log" >&2
      ay_fail "migrations failed"
    }
  fi
}

ay_test_stop_pg() { ay_pg_stop "$AY_T/pg"; }
ay_test_restart_pg() { ay_pg_start "$AY_T/pg" "$AY_PG_PORT" || ay_fail "could not restart PostgreSQL"; }

# ay_psql SQL [ARGS...]: runs SQL as the application role, unaligned output.
ay_psql() {
  psql -X -q -At -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$@"
}

# Log lines that fail a test: errors, fatals, sanitizer reports.
ay_bad_log_lines() {
  local f=$1
  grep -E 'level=(error|fatal)|ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer' "$f" |
    { if [ -n "$AY_T_ALLOW_ERRORS" ]; then grep -Ev "$AY_T_ALLOW_ERRORS"; else cat; fi; }
}

ay_test_exit() {
  local rc=$? f bad=""
  trap - EXIT
  for f in "${AY_T_PIDFILES[@]}"; do
    [ -f "$f" ] && ay_stop "$(basename "$f" .pid)"
  done
  if declare -F ay_broker_stop >/dev/null && [ -d "$AY_T/broker" ]; then
    ay_broker_stop "$AY_T/broker" || true
  fi
  [ -d "$AY_T/pg/data" ] && ay_pg_stop "$AY_T/pg"
  for f in "$AY_T"/log/*.log; do
    [ -f "$f" ] || continue
    if [ -n "$(ay_bad_log_lines "$f")" ]; then
      echo "FAIL: unexpected error lines in $(basename "$f"):" >&2
      ay_bad_log_lines "$f" | head -n 10 >&2
      bad=1
    fi
  done
  if [ "$rc" -eq 0 ] && [ "$AY_T_OK" -eq 1 ] && [ -z "$bad" ]; then
    rm -rf "$AY_T"
    exit 0
  fi
  [ "$rc" -eq 0 ] && rc=1
  echo "test failed (rc=$rc); kept $AY_T" >&2
  for f in "$AY_T"/log/*.log "$AY_T"/broker/*.log "$AY_T"/pg/postgres.log; do
    [ -f "$f" ] || continue
    echo "---- last lines of $f" >&2
    tail -n 15 "$f" >&2
  done
  exit "$rc"
}

# ay_test_start_broker: a Mosquitto of the test's own (deploy/lib/broker.sh)
# on free ports, with the roles of district d01. Sets AY_MQTT_PORT,
# AY_MQTTS_PORT, AY_WS_PORT and AY_MQTT_URL.
ay_test_start_broker() {
  AY_MQTT_PORT=$(ay_free_port)
  AY_MQTTS_PORT=$(ay_free_port)
  AY_WS_PORT=$(ay_free_port)
  ay_broker_setup "$AY_T/broker" 127.0.0.1 "$AY_MQTT_PORT" "$AY_MQTTS_PORT" "$AY_WS_PORT" ||
    ay_fail "could not set up the broker"
  ay_broker_start "$AY_T/broker" || ay_fail "could not start the broker"
  "$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$AY_T/broker" district d01 >/dev/null ||
    ay_fail "could not create the roles of district d01"
  AY_MQTT_URL="tcp://127.0.0.1:$AY_MQTT_PORT"
  export AY_MQTT_PORT AY_MQTTS_PORT AY_WS_PORT AY_MQTT_URL
}

# ay_test_account KIND ARGS... PASSWORD: creates a broker account through
# deploy/broker-ctl (kinds: device, police, bureau, service).
ay_test_account() {
  "$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$AY_T/broker" "$@" >/dev/null ||
    ay_fail "could not create broker account: $*"
}
