#!/usr/bin/env bash
# No retained messages (retain_available false): a device's alarm published
# with the retain flag is never replayed to a police console that subscribes
# later. The broker says "Retain Available: 0" in its MQTT v5 CONNACK; a v5
# client that publishes with retain all the same is disconnected with reason
# 0x9A "Retain not supported" and its message dropped; an MQTT 3.1.1 client
# is disconnected; a will with retain is refused with CONNACK 0x9A. (A
# libmosquitto v5 client such as mosquitto_pub clears the flag itself after
# that CONNACK: its message is delivered, not retained.)
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_init
ay_test_start_broker
H=127.0.0.1

ay_test_account device d01 s1 dev-a1 pw-a1
ay_test_account police d01 p1 pw-p1
ay_test_account service svc-w pw-w # the watcher, on ay/v1/#
ay_test_account service svc-m pw-m # markers
T=ay/v1/d01/school/s1/dev-a1/alarm
MARK=ay/v1/d01/escalation/police # police and the watcher receive it

# The watcher prints the retain flag of what it gets: "RETAIN TOPIC PAYLOAD".
ay_spawn watch mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u svc-w -P pw-w -i svc-w -q 1 \
  -F '%r %t %p' -t 'ay/v1/#' -W 200
probe_once() { mqtt_pub svc-m pw-m "$MARK" probe-1 >/dev/null 2>&1 && grep -qF probe-1 "$AY_T/log/watch.log"; }
ay_wait_until 15 "watcher ready" probe_once || ay_fail "watcher never got a probe"

# ---- raw MQTT v5 over bash's /dev/tcp (fd 3), for what mosquitto_pub hides
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
mqtt_string() { printf '%04x%s' "${#1}" "$(hex "$1")"; } # 2-byte length, bytes
send_hex() { printf "$(sed 's/../\\x&/g' <<<"$1")" >&3; }
recv_hex() { timeout 5 dd bs=1 count="$1" <&3 2>/dev/null | od -An -tx1 | tr -d ' \n'; }
# packet TYPE BODY: fixed header (one-byte remaining length) + BODY, as hex.
packet() {
  local n=$((${#2} / 2))
  [ "$n" -lt 128 ] || ay_fail "packet: body too long for this test"
  printf '%s%02x%s' "$1" "$n" "$2"
}
# recv_packet: reads one packet (remaining length < 128) into PKT (hex).
recv_packet() {
  local head
  head=$(recv_hex 2)
  [ "${#head}" -eq 4 ] || { PKT=""; return 1; }
  PKT=$head$(recv_hex $((16#${head:2:2})))
}
# connect_v5 USER PASSWORD: opens fd 3 and sends an MQTT 5 CONNECT (clean
# start, client id = USER), then reads the CONNACK into PKT.
connect_v5() {
  exec 3<>"/dev/tcp/$H/$AY_MQTT_PORT" || ay_fail "cannot connect to the broker"
  send_hex "$(packet 10 "00044d51545405c2003c00$(mqtt_string "$1")$(mqtt_string "$1")$(mqtt_string "$2")")"
  recv_packet || ay_fail "no CONNACK"
}
# connack_property ID: the one-byte value of property ID (hex) in the
# CONNACK in PKT; fails if absent. Knows the property types a broker sends.
connack_property() {
  local p=${PKT:10} id len
  len=$((16#${PKT:8:2}))
  p=${p:0:$((len * 2))}
  while [ -n "$p" ]; do
    id=${p:0:2}
    p=${p:2}
    if [ "$id" = "$1" ]; then
      echo "${p:0:2}"
      return 0
    fi
    case $id in
      24 | 25 | 28 | 29 | 2a) p=${p:2} ;;                    # byte
      21 | 22 | 13) p=${p:4} ;;                              # two-byte integer
      11 | 27) p=${p:8} ;;                                   # four-byte integer
      12 | 1a | 1c | 1f | 15 | 16) p=${p:$((4 + 2 * 16#${p:0:4}))} ;; # string / binary
      26) p=${p:$((4 + 2 * 16#${p:0:4}))}; p=${p:$((4 + 2 * 16#${p:0:4}))} ;; # user property
      *) ay_fail "unexpected CONNACK property $id in $PKT" ;;
    esac
  done
  return 1
}

# ---- CONNACK tells v5 clients that retain is not available
connect_v5 dev-a1 pw-a1
[[ $PKT == 20??0000* ]] || ay_fail "CONNACK not 'success': $PKT"
ay_expect_eq "CONNACK Retain Available" 00 "$(connack_property 25 || echo absent)"

# ---- a v5 client publishing with retain all the same: DISCONNECT 0x9A
# PUBLISH, QoS 1, retain (0x33): topic, packet id 1, no properties, payload.
send_hex "$(packet 33 "$(mqtt_string "$T")000100$(hex retained-raw-v5)")"
recv_packet || ay_fail "no answer to a retained publish"
[[ $PKT == e0??9a* ]] || ay_fail "retained publish: expected DISCONNECT 0x9A, got '$PKT'"
ay_expect_eq "connection closed after the DISCONNECT" "" "$(recv_hex 1)"
exec 3>&-

# ---- mosquitto_pub -V 5 -r: libmosquitto drops the flag after that CONNACK
ay_expect "v5 mosquitto_pub -r" mqtt_pub dev-a1 pw-a1 "$T" retained-v5 -r
ay_wait_until 10 "the v5 message at the watcher" grep -qxF "0 $T retained-v5" "$AY_T/log/watch.log" ||
  ay_fail "v5 message not delivered as non-retained: $(grep -F retained-v5 "$AY_T/log/watch.log")"

# ---- MQTT 3.1.1 with retain: disconnected, nothing delivered
out=$(mosquitto_pub -V 311 -h "$H" -p "$AY_MQTT_PORT" -u dev-a1 -P pw-a1 -i dev-a1 -q 1 -t "$T" \
  -m retained-311 -r 2>&1)
rc=$?
[ "$rc" -ne 0 ] || ay_fail "a retained v3.1.1 publish was accepted"
[[ $out == *"connection was lost"* ]] || ay_fail "v3.1.1 retained publish: unexpected: $out"

# ---- a will with retain: CONNACK 0x9A
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u dev-a1 -P pw-a1 -i dev-a1 -q 1 -t "$T" -m x \
  --will-topic ay/v1/d01/school/s1/dev-a1/status --will-payload gone --will-retain 2>&1)
ay_expect_eq "will with retain (CONNACK 0x9A)" 154 "$?"
[[ $out == *"Retain not supported"* ]] || ay_fail "will with retain: unexpected: $out"

# ---- what a police console that connects now receives: nothing retained.
# A retained message would come right after the SUBACK, before the marker.
mqtt_pub svc-m pw-m "$MARK" before-police >/dev/null || ay_fail "marker"
ay_wait_until 10 "marker at the watcher" grep -qF before-police "$AY_T/log/watch.log" || ay_fail "marker lost"
ay_spawn p1-late mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u p1 -P pw-p1 -i p1 -q 1 \
  -F '%r %t %p' -t 'ay/v1/d01/police/#' -t "$MARK" -W 100
late_ready() { mqtt_pub svc-m pw-m "$MARK" police-probe >/dev/null 2>&1 && grep -qF police-probe "$AY_T/log/p1-late.log"; }
ay_wait_until 15 "the late police console" late_ready || ay_fail "the late police console got no probe"
if grep -q '^1 ' "$AY_T/log/p1-late.log"; then
  ay_fail "the late police console got retained messages: $(grep '^1 ' "$AY_T/log/p1-late.log")"
fi
if grep -q ' retained-' "$AY_T/log/p1-late.log"; then ay_fail "an old alarm was replayed to the police"; fi
# ... and the watcher never saw the refused ones, nor anything retained.
if grep -qE ' retained-(raw-v5|311)$' "$AY_T/log/watch.log"; then ay_fail "a refused retained message was delivered"; fi
if grep -q '^1 ' "$AY_T/log/watch.log"; then ay_fail "the watcher got a retained message"; fi

ay_test_pass
