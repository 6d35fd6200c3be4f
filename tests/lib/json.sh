# shellcheck shell=bash
# tests/lib/json.sh - what the JSON-on-the-wire tests (90-94) share.
# Sourced after harness.sh, once ay_test_stack made school sch-0102 with its
# accounts ($AY_T/etc/*.conf).

# hex_of TEXT: lower-case hex of TEXT's bytes, one line.
hex_of() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
# unhex: stdin's hex as bytes.
unhex() { tr -d '\n' | tr a-f A-F | basenc --base16 -d; }

# json_full CONF TYPE IN OUT [JQ]: the complete message of IN (header filled
# in by ayctl as the account of CONF, then changed by the jq filter JQ) as
# one line of JSON, as `ayctl pub --wire json` sends it (no newline).
json_full() {
  local conf=$1 type=$2 in=$3 out=$4 filter=${5:-.}
  ay_ctl "$conf" encode "$type" --json "$in" --wire json >"$out.raw" ||
    ay_fail "ayctl encode $type --wire json"
  jq -c "$filter" "$out.raw" | tr -d '\n' >"$out" || ay_fail "jq $filter"
  rm -f "$out.raw"
  [ -s "$out" ] || ay_fail "no JSON for $type"
}

# json_with_id IN OUT ID: IN with header.messageId = ID, one line, no newline.
json_with_id() {
  jq -c --arg id "$3" '.header.messageId = $id' "$1" | tr -d '\n' >"$2" || ay_fail "json_with_id"
}

# new_id: a random (v4) UUID.
new_id() { cat /proc/sys/kernel/random/uuid; }

# json_spy_start NAME PROBE_TOPIC FILTER...: a service account's MQTT v5
# subscriber writing "TOPIC|CONTENT-TYPE|HEX-PAYLOAD" lines to
# $AY_T/log/NAME.log; ready once it got a probe the service account
# published on PROBE_TOPIC (a topic of FILTER the service may publish to).
json_spy_start() {
  local name=$1 probe=$2 args=() f
  shift 2
  for f in "$@"; do args+=(-t "$f"); done
  ay_spawn "$name" mosquitto_sub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u svc-recorder -P svc-pw \
    -i "spy-$name" -q 1 -F '%t|%C|%x' "${args[@]}"
  _json_spy_ready() {
    mosquitto_pub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u svc-recorder -P svc-pw -i "probe-$name" \
      -q 1 -t "$probe" -m "probe-$name" >/dev/null 2>&1 &&
      grep -qF "$(hex_of "probe-$name")" "$AY_T/log/$name.log"
  }
  ay_wait_until 15 "spy $name ready" _json_spy_ready || ay_fail "spy $name never got its probe"
}

# json_spy_wait NAME NEEDLE: waits (15 s) until the spy NAME saw a payload
# containing NEEDLE (text).
json_spy_wait() {
  ay_wait_until 15 "$1 to see $2" grep -qF "$(hex_of "$2")" "$AY_T/log/$1.log" ||
    ay_fail "$1 never saw $2: $(tail -n 5 "$AY_T/log/$1.log")"
}

# json_spy_line NAME NEEDLE: sets SPY_TOPIC, SPY_CT (the content type, "" if
# none) and SPY_PAYLOAD (as text) from the first line of the spy NAME whose
# payload contains NEEDLE (text).
json_spy_line() {
  local line
  line=$(grep -F "$(hex_of "$2")" "$AY_T/log/$1.log" | head -n 1)
  [ -n "$line" ] || ay_fail "$1 saw nothing with $2"
  SPY_TOPIC=$(cut -d'|' -f1 <<<"$line")
  SPY_CT=$(cut -d'|' -f2 <<<"$line")
  SPY_PAYLOAD=$(cut -d'|' -f3 <<<"$line" | unhex)
}

# mqtt_as USER PASSWORD ARGS...: mosquitto_pub as an account with its own
# name as client id, QoS 1, on the plain port (ARGS choose -V, -t, -f, -D).
mqtt_as() {
  local u=$1 pw=$2
  shift 2
  mosquitto_pub -h 127.0.0.1 -p "$AY_MQTT_PORT" -u "$u" -P "$pw" -i "$u" -q 1 "$@"
}
