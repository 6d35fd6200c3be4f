#!/usr/bin/env bash
# Issue 14: taking a device's access away takes effect at once. `ayctl device
# disable` closes its live connection and refuses the next one, and disables
# its registry row, so the recorder refuses what it would still send and the
# police feed no longer knows it (NOTIFY ay_registry, no restart); `enable`
# restores both. `rotate` gives a new secret: the live session is closed,
# the old secret refused, the new one works. `remove` deletes the account
# and its role (connection closed, never back) and keeps the row, disabled,
# for the history.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
source "$AY_SOURCE_DIR/tests/lib/onboard.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_stack
ob_ops_conf
ay_test_start_recorder
ay_test_start_alarmfeed
af_wait_load alarmfeed 0
ay_sub_start police police alarm
CTL=("$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$AY_T/broker")
BLOG=$AY_T/broker/mosquitto.log

ob device add --school sch-0102 --kind button --location "二楼走廊" --id btn-rv-1 \
  --profile "$AY_T/p1.json" >/dev/null || ay_fail "device add"
P=$AY_T/p1.json
ob_dev_conf "$P" rv
af_alarm_json "$AY_T/alarm.json"
pid_of() { cat "$AY_T/$1.pid"; }
exited() { ! kill -0 "$1" 2>/dev/null; }
# cut_off NAME WHAT: the connection NAME is closed within 5 s of WHAT.
cut_off() {
  ay_wait_until 5 "$2 to close the device's connection" exited "$(pid_of "$1")" ||
    ay_fail "$2: the device stayed connected"
}

# ---- disable: the live connection closed at once, no new one
ay_expect_eq "enabled, connects" 0 "$(ob_connect_rc "$P")"
ob_sub_start live1 "$P"
loads=$(af_loads alarmfeed)
out=$(ob device disable btn-rv-1) || ay_fail "device disable: $out"
cut_off live1 "disable"
ay_expect "the broker says why" grep -q 'Client btn-rv-1 been disconnected by administrative action' "$BLOG"
rc=$(ob_connect_rc "$P")
[ "$rc" = 5 ] || [ "$rc" = 135 ] || ay_fail "disabled device connecting: exit $rc"
ay_expect_eq "the registry row" "f|device.disabled" \
  "$(ay_psql "SELECT d.enabled, (SELECT action FROM audit_events WHERE detail->>'device' = d.id
              ORDER BY id DESC LIMIT 1) FROM devices d WHERE id = 'btn-rv-1'")"
ay_expect "listed disabled" bash -c "'$AYCTL' --config '$AY_T/etc/ops.conf' device list |
  grep -qE '^btn-rv-1 +sch-0102 +button +disabled +disabled'"
af_wait_load alarmfeed "$loads"

# ---- the registry alone keeps it out: with its broker account enabled
#      behind ayctl's back, the recorder refuses it and the feed does not
#      know it
"${CTL[@]}" enable btn-rv-1 >/dev/null || ay_fail "broker-ctl enable"
r=$(ay_ctl rv pub alarm --json "$AY_T/alarm.json" 2>>"$AY_T/log/pub.log")
ay_expect_eq "pub of a refused message: exit" 1 "$?"
ay_expect_eq "the recorder refuses a disabled device" \
  'RECEIPT_STATUS_REJECTED|device "btn-rv-1" is disabled' "$(jq -r '.status + "|" + .reason' <<<"$r")"
aid=$(jq -r .refMessageId <<<"$r")
ay_expect_eq "the feed shows it as unknown" true \
  "$(af_wait_line police "$aid" | jq -r '.message.deviceUnknown // false')"
"${CTL[@]}" disable btn-rv-1 >/dev/null || ay_fail "broker-ctl disable"

# ---- enable: both again
loads=$(af_loads alarmfeed)
ob device enable btn-rv-1 >/dev/null || ay_fail "device enable"
ay_expect_eq "enabled again, connects" 0 "$(ob_connect_rc "$P")"
af_wait_load alarmfeed "$loads"
r=$(ay_ctl rv pub alarm --json "$AY_T/alarm.json") || ay_fail "pub after enable: $r"
ay_expect_eq "stored again" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
ay_expect_eq "known to the feed again" false \
  "$(af_wait_line police "$(jq -r .refMessageId <<<"$r")" | jq -r '.message.deviceUnknown // false')"

# ---- rotate: a new secret; the live session closed, the old secret refused
ob_sub_start live2 "$P"
out=$(ob device rotate btn-rv-1 --profile "$AY_T/p2.json") || ay_fail "device rotate: $out"
cut_off live2 "rotate"
new=$(jq -r .credentials.password "$AY_T/p2.json")
[ "$new" != "$(jq -r .credentials.password "$P")" ] || ay_fail "rotate kept the secret"
grep -qF "$new" <<<"$out" || ay_fail "the new secret is not shown"
ay_expect_eq "p2 mode" 600 "$(stat -c %a "$AY_T/p2.json")"
rc=$(ob_connect_rc "$P")
[ "$rc" = 5 ] || [ "$rc" = 135 ] || ay_fail "the old secret still works: exit $rc"
ay_expect_eq "the new secret works" 0 "$(ob_connect_rc "$AY_T/p2.json")"
ay_expect_eq "audit" device.secret_rotated \
  "$(ay_psql "SELECT action FROM audit_events WHERE detail->>'device' = 'btn-rv-1' ORDER BY id DESC LIMIT 1")"

# ---- remove: closed at once, never back; role gone; row kept, disabled
ob_sub_start live3 "$AY_T/p2.json"
out=$(ob device remove btn-rv-1) || ay_fail "device remove: $out"
cut_off live3 "remove"
rc=$(ob_connect_rc "$AY_T/p2.json")
[ "$rc" = 5 ] || [ "$rc" = 135 ] || ay_fail "a removed device connects: exit $rc"
ob account list >"$AY_T/accounts.txt" || ay_fail "account list"
if grep -q '^btn-rv-1' "$AY_T/accounts.txt"; then ay_fail "the account is still there"; fi
ay_broker_dynsec_json "$AY_T/broker" '{"commands":[{"command":"getRole","rolename":"device.d01.sch-0102.btn-rv-1"}]}' \
  >"$AY_T/role.json"
ay_expect_eq "the role is gone" "Role not found" "$(jq -r '.responses[0].error' "$AY_T/role.json")"
ay_expect_eq "the row is kept, disabled, removed" "f|t" \
  "$(ay_psql "SELECT enabled, removed_at IS NOT NULL FROM devices WHERE id = 'btn-rv-1'")"
ay_expect_eq "its stored alarm is still there" 1 \
  "$(ay_psql "SELECT count(*) FROM messages WHERE device_id = 'btn-rv-1'")"
err=$(ob device enable btn-rv-1 2>&1)
ay_expect_eq "a removed device cannot be enabled" 1 "$?"
grep -q 'was removed' <<<"$err" || ay_fail "enable after remove: $err"
err=$(ob device add --school sch-0102 --kind button --location x --id btn-rv-1 2>&1)
ay_expect_eq "its id is not given again" 2 "$?"
grep -q 'was removed' <<<"$err" || ay_fail "add after remove: $err"
ay_expect_eq "remove again" "device btn-rv-1: already removed" "$(ob device remove btn-rv-1)"
err=$(ob device disable btn-nope 2>&1)
ay_expect_eq "an unknown device" 1 "$?"
grep -q 'no device "btn-nope" in the registry' <<<"$err" || ay_fail "unknown: $err"
AY_T_ALLOW_ERRORS='device "btn-rv-1" is disabled'
ay_test_pass
