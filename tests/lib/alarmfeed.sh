# shellcheck shell=bash
# tests/lib/alarmfeed.sh - what the police alarm feed tests (70-79) share.
# Sourced after harness.sh, once ay_test_stack made school sch-0102 with its
# accounts ($AY_T/etc/*.conf).

# ay_test_start_alarmfeed NAME [INSTANCE]: starts ay-alarmfeed with the
# service account of recorder.conf (counts every 2 s), waits until ready.
ay_test_start_alarmfeed() {
  local name=${1:-alarmfeed} instance=${2:-1}
  if [ ! -f "$AY_T/etc/alarmfeed.conf" ]; then
    cp "$AY_T/etc/recorder.conf" "$AY_T/etc/alarmfeed.conf"
    echo "stats_interval_s = 2" >>"$AY_T/etc/alarmfeed.conf"
  fi
  AY_INSTANCE=$instance ay_spawn "$name" "$AY_BUILD_DIR/services/alarmfeed/ay-alarmfeed" \
    --config "$AY_T/etc/alarmfeed.conf"
  ay_wait_until 60 "$name ready" ay__ready_or_dead "$name" || true
  ay_log_has "$name" 'msg=ready' || ay_fail "$name did not become ready"
}

# af_loads NAME: how many times the feed NAME loaded the registry.
af_loads() { grep -c 'msg="registry loaded"' "$AY_T/log/$1.log" 2>/dev/null || true; }

# af_wait_load NAME N: waits until NAME loaded the registry more than N times.
af_wait_load() {
  local name=$1 n=$2
  _af_loaded() { [ "$(af_loads "$name")" -gt "$n" ]; }
  ay_wait_until 30 "$name to load the registry" _af_loaded || ay_fail "$name did not load the registry"
}

# af_alarm_json FILE [EXTRA_JQ]: an alarm body (header and time filled in by
# ayctl) in FILE, changed by the jq filter EXTRA_JQ.
af_alarm_json() {
  jq -n "{kind: \"ALARM_KIND_INTRUSION\", source: \"ALARM_SOURCE_SCHOOL\", location: \"东门 east gate\",
          geo: {latitude: 31.5, longitude: 117.5}, note: \"test\"} | ${2:-.}" >"$1"
}

# af_pub CONF FILE: publishes the alarm FILE as the device of CONF (no
# receipt awaited: the recorder need not run); prints the alarm's id.
af_pub() {
  local out
  out=$(ay_ctl "$1" pub alarm --no-receipt --json "$2") || ay_fail "ayctl pub alarm ($1)"
  jq -r .header.messageId <<<"$out"
}

# af_line OUT ALARM_ID [EVENT]: the first feed line in $AY_T/OUT.out about
# the alarm (event POLICE_ALARM_EVENT_ALARM unless given).
af_line() {
  jq -c --arg id "$2" --arg ev "${3:-POLICE_ALARM_EVENT_ALARM}" \
    'select(.message.alarmId == $id and .message.event == $ev)' "$AY_T/$1.out" 2>/dev/null | head -n 1
}

# af_wait_line OUT ALARM_ID [EVENT]: waits (10 s) for that line and prints it.
af_wait_line() {
  _af_has() { [ -n "$(af_line "$@")" ]; }
  ay_wait_until 10 "the alarm $2 on the police feed" _af_has "$@" ||
    ay_fail "alarm $2 not on the police feed: $(cat "$AY_T/$1.out")"
  af_line "$@"
}

# af_feed_id EVENT DISTRICT SCHOOL DEVICE ID: the feed id by the rule of
# docs/contract.md 5.12, computed here with sha256sum (not by the service).
af_feed_id() {
  local h b6 b8
  h=$(printf 'anyuan.v1.PoliceAlarm\n%s\n%s\n%s\n%s\n%s' "$1" "$2" "$3" "$4" "${5,,}" | sha256sum)
  h=${h:0:32}
  b6=$(printf '%02x' $((0x80 | (0x${h:12:2} & 0x0f))))
  b8=$(printf '%02x' $((0x80 | (0x${h:16:2} & 0x3f))))
  h=${h:0:12}$b6${h:14:2}$b8${h:18:14}
  echo "${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"
}
