#!/usr/bin/env bash
# `ayctl heartbeat`, the contract's reference device for status (docs/contract.md
# 5.8), keeps the contract across a lost connection: every CONNECT carries a
# Last Will with a fresh message id, and it says ONLINE again. Paho's own
# reconnect sent the first will again: the broker published it a second time
# when the device died, and the recorder took that OFFLINE for a duplicate.
# Here the broker drops the stopped device (keepalive 2 s), publishing will 1;
# the device comes back and reconnects; then it is killed, and will 2 must be
# stored as a new message.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_start_recorder
ay_spawn hb "$AYCTL" --config "$AY_T/etc/device.conf" heartbeat --interval 1 --keepalive 2
hb=$(cat "$AY_T/hb.pid")
wills() { grep -o 'msg="connected with a last will".*will_msg_id=[0-9a-f-]*' "$AY_T/log/hb.log" |
  sed 's/.*will_msg_id=//'; }
stored() { [ "$(ay_psql "SELECT count(*) FROM messages WHERE message_id = '$1'")" = 1 ]; }
state_is() { [ "$(ay_psql "SELECT state FROM device_status WHERE device_id = 'btn-0102-01'")" = "$1" ]; }

ay_wait_until 15 "online" state_is DEVICE_STATE_HEARTBEAT || ay_fail "no heartbeat stored"
will1=$(wills | head -n 1)
[ -n "$will1" ] || ay_fail "no will logged: $(cat "$AY_T/log/hb.log")"
kill -STOP "$hb"
ay_wait_until 15 "the broker to publish will 1" stored "$will1" ||
  ay_fail "will 1 never stored"
kill -CONT "$hb"
second() { [ "$(wills | sort -u | wc -l)" -ge 2 ]; }
ay_wait_until 20 "a reconnect with a new will" second ||
  ay_fail "no new will after the lost connection: $(cat "$AY_T/log/hb.log")"
will2=$(wills | tail -n 1)
[ "$will2" != "$will1" ] || ay_fail "the will's id was reused: $will1"
online_again() {
  [ "$(ay_psql "SELECT count(*) FROM messages WHERE device_id = 'btn-0102-01'
                AND body->>'state' = 'DEVICE_STATE_ONLINE'")" -ge 2 ]
}
ay_wait_until 15 "ONLINE after the reconnect" online_again || ay_fail "no second ONLINE stored"
ay_wait_until 15 "heartbeats again" state_is DEVICE_STATE_HEARTBEAT || ay_fail "no heartbeat after"
kill -KILL "$hb"
ay_wait_until 15 "the broker to publish will 2" stored "$will2" ||
  ay_fail "will 2 not stored as a new message"
ay_wait_until 10 "offline" state_is DEVICE_STATE_OFFLINE || ay_fail "device not offline"
ay_expect_eq "two OFFLINE statuses, one per will" 2 \
  "$(ay_psql "SELECT count(*) FROM messages WHERE device_id = 'btn-0102-01'
              AND body->>'state' = 'DEVICE_STATE_OFFLINE'")"
ay_test_pass
