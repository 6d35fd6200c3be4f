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
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$AY_SOURCE_DIR/tests/lsan.supp:print_suppressions=0}"
# Cache of an initdb result shared by the tests of one build tree.
export AY_PG_TEMPLATE="${AY_PG_TEMPLATE:-$AY_BUILD_DIR/tmp/pg-template}"
# Ports handed out to this build's tests are claimed here (tests/run clears it).
export AY_PORT_CLAIMS="${AY_PORT_CLAIMS:-$AY_BUILD_DIR/tmp/ports}"

AY_T=""          # the test's private directory
AY_T_OK=0        # set by ay_test_pass
AY_T_PIDFILES=() # processes to stop at exit
AY_T_ALLOW_ERRORS="" # extended regex of log lines that are expected errors
AY_T_CLEANUP=()      # commands run first at exit (e.g. deploy/down of a test's deployment)

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

# ay_stop NAME [SIGNAL]: stops a process started with ay_spawn, waits, and
# returns its exit status (SIGKILL after 30 s).
ay_stop() {
  local name=$1 sig=${2:-TERM} pid rc
  pid=$(cat "$AY_T/$name.pid" 2>/dev/null) || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null
  rc=$?
  rm -f "$AY_T/$name.pid"
  return $rc
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
  grep -E 'level=(error|fatal)|ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer|(WARNING|ERROR|FATAL): ThreadSanitizer' "$f" |
    { if [ -n "$AY_T_ALLOW_ERRORS" ]; then grep -Ev "$AY_T_ALLOW_ERRORS"; else cat; fi; }
}

ay_test_exit() {
  local rc=$? f bad="" c
  trap - EXIT
  for c in "${AY_T_CLEANUP[@]}"; do
    eval "$c" >/dev/null 2>&1 || true
  done
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
# on free ports, with the roles of district d01 and the audit plugin of this
# build tree (broker-plugin/; exported, so that a test re-running
# ay_broker_setup keeps it). Sets AY_MQTT_PORT, AY_MQTTS_PORT, AY_WS_PORT
# and AY_MQTT_URL.
ay_test_start_broker() {
  export AY_BROKER_AUDIT_PLUGIN="${AY_BROKER_AUDIT_PLUGIN:-$AY_BUILD_DIR/broker-plugin/ay_audit.so}"
  AY_MQTT_PORT=$(ay_free_port)
  AY_MQTTS_PORT=$(ay_free_port)
  AY_WS_PORT=$(ay_free_port)
  ay_broker_setup "$AY_T/broker" 127.0.0.1 "$AY_MQTT_PORT" "$AY_MQTTS_PORT" "$AY_WS_PORT" ||
    ay_fail "could not set up the broker"
  ay_broker_start "$AY_T/broker" || ay_fail "could not start the broker"
  "$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$AY_T/broker" district d01 >/dev/null ||
    ay_fail "could not create the roles of district d01"
  AY_MQTT_URL="tcp://127.0.0.1:$AY_MQTT_PORT"
  # Not exported: the environment would override the config files (AY_MQTT_URL).
  export AY_MQTT_PORT AY_MQTTS_PORT AY_WS_PORT
}

# ay_test_account KIND ARGS... PASSWORD: creates a broker account through
# deploy/broker-ctl (kinds: device, police, bureau, service).
ay_test_account() {
  "$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$AY_T/broker" "$@" >/dev/null ||
    ay_fail "could not create broker account: $*"
}

# ay_test_school: the registry rows and broker accounts of one school, and a
# config file per account in $AY_T/etc:
#   district d01, school sch-0102, device btn-0102-01 (device.conf),
#   police-01 (police.conf), bureau-01 (bureau.conf), svc-recorder
#   (recorder.conf, also used by ayctl for admin commands).
# Needs ay_test_start_pg and ay_test_start_broker first.
ay_test_school() {
  mkdir -p "$AY_T/etc"
  local pw
  ay_test_account service svc-recorder svc-pw
  ay_test_account device d01 sch-0102 btn-0102-01 dev-pw
  ay_test_account police d01 police-01 police-pw
  ay_test_account bureau d01 bureau-01 bureau-pw
  ay_test_conf recorder svc-recorder svc-pw
  local wait="receipt_wait_ms = ${AY_TEST_RECEIPT_WAIT_MS:-2000}"
  ay_test_conf device btn-0102-01 dev-pw "school = sch-0102" "$wait"
  ay_test_conf police police-01 police-pw "$wait"
  ay_test_conf bureau bureau-01 bureau-pw "$wait"
  "$AYCTL" registry add-district d01 "测试区" "Test district" || ay_fail "registry"
  "$AYCTL" registry add-school d01 sch-0102 "测试学校" "Test school" || ay_fail "registry"
  "$AYCTL" registry add-device sch-0102 btn-0102-01 button || ay_fail "registry"
}

# ay_test_conf NAME USER PASSWORD [EXTRA LINES...]: writes $AY_T/etc/NAME.conf.
ay_test_conf() {
  local name=$1 user=$2 pw=$3
  shift 3
  {
    echo "mqtt_url = $AY_MQTT_URL"
    echo "mqtt_username = $user"
    echo "mqtt_password = $pw"
    echo "database_url = $DATABASE_URL"
    echo "district = d01"
    printf '%s\n' "$@"
  } >"$AY_T/etc/$name.conf"
}

# ay_ctl CONF ARGS...: ayctl with $AY_T/etc/CONF.conf.
ay_ctl() {
  local conf=$1
  shift
  "$AYCTL" --config "$AY_T/etc/$conf.conf" "$@"
}

# ay_test_start_recorder NAME [INSTANCE]: starts ay-recorder, waits until ready.
ay_test_start_recorder() {
  local name=${1:-recorder} instance=${2:-1}
  AY_INSTANCE=$instance ay_spawn "$name" "$AY_BUILD_DIR/services/recorder/ay-recorder" \
    --config "$AY_T/etc/recorder.conf"
  ay_wait_until 60 "$name ready" ay__ready_or_dead "$name" || true
  ay_log_has "$name" 'msg=ready' || ay_fail "$name did not become ready"
}

# Succeeds once NAME logged ready, or once it has exited (so waits end early).
ay__ready_or_dead() {
  ay_log_has "$1" 'msg=ready' && return 0
  kill -0 "$(cat "$AY_T/$1.pid" 2>/dev/null)" 2>/dev/null || return 0
  return 1
}

# ay_log_has NAME PATTERN: the log of NAME contains PATTERN (grep -E).
ay_log_has() { grep -qE "$2" "$AY_T/log/$1.log" 2>/dev/null; }

# ay_sub_start NAME CONF FEED...: starts `ayctl sub` writing JSON lines to
# $AY_T/NAME.out; returns once the subscription is granted.
ay_sub_start() {
  local name=$1 conf=$2
  shift 2
  "$AYCTL" --config "$AY_T/etc/$conf.conf" sub "$@" >"$AY_T/$name.out" 2>>"$AY_T/log/$name.log" &
  echo $! >"$AY_T/$name.pid"
  AY_T_PIDFILES+=("$AY_T/$name.pid")
  ay_wait_until 30 "$name subscribed" ay_log_has "$name" 'msg=subscribed' ||
    ay_fail "$name could not subscribe"
}

# ay_sql_eq WHAT EXPECTED SQL: polls until SQL returns EXPECTED (30 s).
ay_sql_eq() {
  local what=$1 expected=$2 sql=$3
  ay_wait_until 30 "$what" ay__sql_is "$expected" "$sql" ||
    ay_fail "$what: expected '$expected', got '$(ay_psql "$sql" 2>&1)'"
}
ay__sql_is() { [ "$(ay_psql "$2" 2>/dev/null)" = "$1" ]; }

# ay_test_device N: another device of sch-0102, btn-0102-1N, with its
# account, registry row and $AY_T/etc/devN.conf.
ay_test_device() {
  local n=$1 name
  name=$(printf 'btn-0102-%02d' $((10 + n)))
  ay_test_account device d01 sch-0102 "$name" "pw-$n"
  ay_test_conf "dev$n" "$name" "pw-$n" "school = sch-0102" \
    "timeout_ms = ${AY_TEST_PUB_TIMEOUT_MS:-120000}" "receipt_wait_ms = ${AY_TEST_RECEIPT_WAIT_MS:-2000}"
  "$AYCTL" registry add-device sch-0102 "$name" button || ay_fail "registry"
}

# ay_pub_loop CONF COUNT OUT: publishes COUNT status messages one after the
# other, each waiting for its receipt (re-sending as needed); receipts are
# appended to OUT. Fails if any publish fails.
ay_pub_loop() {
  local conf=$1 count=$2 out=$3 i
  for i in $(seq 1 "$count"); do
    ay_ctl "$conf" pub status --json "$AY_SOURCE_DIR/tests/data/e2e/status.json" >>"$out" \
      2>>"$AY_T/log/pub-$conf.log" || return 1
  done
}
ay__sql_ge() { local v; v=$(ay_psql "$2" 2>/dev/null) && [ "${v:-0}" -ge "$1" ]; }

# ay_test_stack: the usual start of a test: its directory, PostgreSQL, the
# broker and school sch-0102 with its accounts (ay_test_school).
ay_test_stack() {
  ay_test_init
  ay_test_start_pg
  ay_test_start_broker
  ay_test_school
}

# ay_pub_loops_start DEVICES COUNT PREFIX: one ay_pub_loop per device
# dev1..devDEVICES in the background, receipts in $AY_T/PREFIX<n>.out.
ay_pub_loops_start() {
  local n
  for n in $(seq 1 "$1"); do
    ay_pub_loop "dev$n" "$2" "$AY_T/$3$n.out" &
    echo $! >"$AY_T/loop$n.pid"
  done
}

# ay_pub_loops_wait DEVICES: every loop got all its receipts.
ay_pub_loops_wait() {
  local n
  for n in $(seq 1 "$1"); do
    wait "$(cat "$AY_T/loop$n.pid")" || ay_fail "publisher $n did not get all its receipts"
  done
}

# ay_test_start_stock_broker: a Mosquitto with the package's defaults (no
# accounts, anonymous allowed, max_inflight_messages 20, no
# set_tcp_nodelay, retained messages allowed) on a free port, as a user who
# sets AY_MQTT_URL to their own broker may have. Sets AY_STOCK_PORT.
ay_test_start_stock_broker() {
  AY_STOCK_PORT=$(ay_free_port)
  mkdir -p "$AY_T/stock"
  printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$AY_STOCK_PORT" >"$AY_T/stock/mosquitto.conf"
  chmod 755 "$AY_T/stock"
  ay_spawn stock-broker mosquitto -c "$AY_T/stock/mosquitto.conf"
  ay_wait_until 15 "stock broker listening" ay__port_open "$AY_STOCK_PORT" ||
    ay_fail "the stock broker did not start"
}
ay__port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ay_encode_many N TYPE JSON OUTDIR: N protobuf encodings of JSON (ayctl
# encode as the device), each with a new message id: OUTDIR/1.bin ...
ay_encode_many() {
  local n=$1 type=$2 json=$3 out=$4 i
  mkdir -p "$out"
  for i in $(seq 1 "$n"); do
    ay_ctl device encode "$type" --json "$json" >"$out/$i.bin" || ay_fail "ayctl encode $i"
  done
}

# ay_test_start_watchdog NAME [INSTANCE]: starts ay-watchdog with the
# service account of recorder.conf, waits until ready.
ay_test_start_watchdog() {
  local name=${1:-watchdog} instance=${2:-1}
  [ -f "$AY_T/etc/watchdog.conf" ] || cp "$AY_T/etc/recorder.conf" "$AY_T/etc/watchdog.conf"
  AY_INSTANCE=$instance ay_spawn "$name" "$AY_BUILD_DIR/services/watchdog/ay-watchdog" \
    --config "$AY_T/etc/watchdog.conf"
  ay_wait_until 60 "$name ready" ay__ready_or_dead "$name" || true
  ay_log_has "$name" 'msg=ready' || ay_fail "$name did not become ready"
}

# ay_test_policy JSON: sets district d01's policy document (as ayctl policy
# import would), e.g. second-scale deadlines for a test.
ay_test_policy() {
  ay_psql "INSERT INTO policies (district_id, doc, updated_by) VALUES ('d01', '$1', 'test')
           ON CONFLICT (district_id) DO UPDATE SET doc = excluded.doc,
           version = policies.version + 1" >/dev/null || ay_fail "could not set the policy"
}

# ay_now_iso [OFFSET]: UTC now (or now + OFFSET, e.g. '-1 hour') in RFC 3339.
ay_now_iso() { date -u -d "${1:-now}" +%Y-%m-%dT%H:%M:%SZ; }
