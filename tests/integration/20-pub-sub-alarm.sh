#!/usr/bin/env bash
# Issue 3 "done when": a device publishes an alarm with `ayctl pub`, police
# see it at once on `ayctl sub alarm` as JSON (since issue 12 on the police
# feed, republished by the alarm feed); the header was filled in by ayctl.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
ay_test_start_alarmfeed

ay_sub_start police police alarm --count 1
out=$(ay_ctl device pub alarm --no-receipt --json "$AY_SOURCE_DIR/tests/data/e2e/alarm.json") ||
  ay_fail "ayctl pub alarm failed"
id=$(jq -r .header.messageId <<<"$out")
ay_wait_until 30 "police received the alarm" test -s "$AY_T/police.out" || ay_fail "no alarm on the police feed"
line=$(head -n 1 "$AY_T/police.out")
ay_expect_eq "type" police-alarm "$(jq -r .type <<<"$line")"
ay_expect_eq "topic" "ay/v1/d01/police/alarm" "$(jq -r .topic <<<"$line")"
ay_expect_eq "message id" "$id" "$(jq -r .message.alarmId <<<"$line")"
ay_expect_eq "device filled from the account" btn-0102-01 "$(jq -r .message.deviceId <<<"$line")"
ay_expect_eq "kind" ALARM_KIND_INTRUSION "$(jq -r .message.kind <<<"$line")"
ay_expect_eq "location" "东门 east gate" "$(jq -r .message.reportedLocation <<<"$line")"

# Bad input: one clear line and exit code 2, nothing published.
err=$(echo '{"kind": "ALARM_KIND_NOPE"}' | ay_ctl device pub alarm --no-receipt --json - 2>&1)
rc=$?
ay_expect_eq "exit code for an invalid message" 2 "$rc"
grep -q 'alarm.kind' <<<"$err" || ay_fail "error does not name the field: $err"
ay_expect_eq "error is one line" 1 "$(wc -l <<<"$err")"
ay_test_pass
