#!/usr/bin/env bash
# The WebSocket listener (browser consoles): a hand-written HTTP upgrade over
# bash's /dev/tcp completes (101, correct Sec-WebSocket-Accept, subprotocol
# mqtt); MQTT over it authenticates with the same accounts and ACLs: a police
# account connects and publishes its ack, a wrong password and an anonymous
# client get CONNACK "not authorized".
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_init
ay_test_start_broker
H=127.0.0.1

ay_test_account police d01 p1 pw-p1
ay_test_account service svc-w pw-w
ay_test_account service svc-m pw-m

ay_spawn watch mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u svc-w -P pw-w -i svc-w -q 1 -v -t 'ay/v1/#' -W 200
probe_once() { mqtt_pub svc-m pw-m ay/v1/d01/receipt/s9/marker probe-1 >/dev/null 2>&1 && grep -qF probe-1 "$AY_T/log/watch.log"; }
ay_wait_until 15 "watcher ready" probe_once || ay_fail "watcher never got a probe"

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# mqtt_string S: a UTF-8 string of MQTT (2-byte length, bytes), as hex.
mqtt_string() { printf '%04x%s' "${#1}" "$(hex "$1")"; }
# send_hex HEX: writes the bytes to the WebSocket connection (fd 3).
send_hex() { printf "$(sed 's/../\\x&/g' <<<"$1")" >&3; }
# ws_frame HEX: one masked binary WebSocket frame (all-zero mask) around HEX.
ws_frame() {
  local n=$((${#1} / 2))
  [ "$n" -lt 126 ] || ay_fail "ws_frame: payload too long for this test"
  printf '82%02x00000000%s' $((0x80 | n)) "$1"
}
# recv_hex N: reads exactly N bytes from fd 3 (5 s at most), as hex.
recv_hex() { timeout 5 dd bs=1 count="$1" <&3 2>/dev/null | od -An -tx1 | tr -d ' \n'; }

# ws_upgrade: opens fd 3 to the WebSocket listener and upgrades it.
ws_upgrade() {
  local key expect line status="" accept="" proto="" upgrade=""
  exec 3<>"/dev/tcp/127.0.0.1/$AY_WS_PORT" || ay_fail "cannot connect to the WebSocket port"
  key=$(head -c 16 /dev/urandom | base64)
  expect=$(printf '%s' "${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11" | openssl dgst -sha1 -binary | base64)
  printf 'GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\nOrigin: http://localhost\r\n\r\n' \
    "$AY_WS_PORT" "$key" >&3
  while IFS= read -r -t 5 line <&3; do
    line=${line%$'\r'}
    [ -n "$line" ] || break
    [ -n "$status" ] || status=$line
    case ${line,,} in
      sec-websocket-accept:*) accept=${line#*: } ;;
      sec-websocket-protocol:*) proto=${line#*: } ;;
      upgrade:*) upgrade=${line#*: } ;;
    esac
  done
  [[ $status == "HTTP/1.1 101"* ]] || ay_fail "WebSocket upgrade refused: '$status'"
  ay_expect_eq "Sec-WebSocket-Accept" "$expect" "$accept"
  ay_expect_eq "subprotocol" mqtt "$proto"
  ay_expect_eq "Upgrade header" websocket "${upgrade,,}"
}

# connack USER PASSWORD: MQTT 3.1.1 CONNECT over a new WebSocket connection
# (user/password flags only when USER is set); sets RC to the CONNACK return
# code (00 accepted, 05 not authorized) and leaves fd 3 open. (Not to be run
# in a subshell: the connection would close with it.)
connack() {
  local u=$1 pw=$2 flags=02 body frame
  ws_upgrade
  body=$(mqtt_string "${u:-wsanon}")
  if [ -n "$u" ]; then
    flags=c2
    body+=$(mqtt_string "$u")$(mqtt_string "$pw")
  fi
  body="00044d51545404${flags}003c$body"
  send_hex "$(ws_frame "$(printf '10%02x%s' $((${#body} / 2)) "$body")")"
  frame=$(recv_hex 6)
  # server frame: 82 04 (binary, 4 bytes), CONNACK: 20 02 <session> <rc>
  [[ $frame == 82042002???? ]] || ay_fail "not a CONNACK frame: '$frame'"
  RC=${frame:10:2}
}

# ---- a police account over WebSockets: accepted, and its ack arrives
connack p1 pw-p1
ay_expect_eq "CONNACK for p1 over WebSockets" 00 "$RC"
topic=ay/v1/d01/ack/police/p1
body="$(mqtt_string "$topic")$(hex ws-ack-1)"
send_hex "$(ws_frame "$(printf '30%02x%s' $((${#body} / 2)) "$body")")" # PUBLISH QoS 0
send_hex "$(ws_frame e000)"                                            # DISCONNECT
exec 3>&-
ay_wait_until 10 "the ack sent over WebSockets" grep -qx "$topic ws-ack-1" "$AY_T/log/watch.log" ||
  ay_fail "publish over WebSockets not delivered"

# ---- wrong password, anonymous: CONNACK 5 (not authorized)
connack p1 wrong
exec 3>&-
ay_expect_eq "CONNACK for a wrong password" 05 "$RC"
connack "" ""
exec 3>&-
ay_expect_eq "CONNACK for an anonymous client" 05 "$RC"

ay_test_pass
