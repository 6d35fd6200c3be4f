#!/usr/bin/env bash
# Drills are shown as tests on the police feed: an alarm that says isTest,
# an alarm from a button inside one of its registered test windows (judged
# by when the backbone received it, whatever the button's clock says), and
# a cancel that ends a test. Outside the window, or from another button,
# an alarm is real.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
ay_test_device 1 # btn-0102-11
ay_test_start_alarmfeed
af_wait_load alarmfeed 0
ay_sub_start police police alarm
af_alarm_json "$AY_T/alarm.json"
af_alarm_json "$AY_T/drill.json" '.isTest = true'
is_test() { jq -r '.message.test // false' <<<"$1"; }

# 1. isTest.
id=$(af_pub device "$AY_T/drill.json")
ay_expect_eq "isTest is a test" true "$(is_test "$(af_wait_line police "$id")")"
id=$(af_pub device "$AY_T/alarm.json")
ay_expect_eq "no window yet: real" false "$(is_test "$(af_wait_line police "$id")")"

# 2. A test window of btn-0102-01 around now (the device's clock says 1999).
n=$(af_loads alarmfeed)
ay_psql "INSERT INTO device_test_windows (device_id, starts_at, ends_at, note)
         VALUES ('btn-0102-01', now() - interval '1 minute', now() + interval '10 minutes', '消防演练')" ||
  ay_fail "insert test window"
af_wait_load alarmfeed "$n"
af_alarm_json "$AY_T/old-clock.json" '.triggeredAt = "1999-06-01T08:00:00Z"'
id=$(af_pub device "$AY_T/old-clock.json")
line=$(af_wait_line police "$id")
ay_expect_eq "in the window: a test" true "$(is_test "$line")"
grep -q 'triggeredAt.*before 2000-01-01' <<<"$(jq -r .message.clockWarning <<<"$line")" ||
  ay_fail "the clock warning: $line"
id=$(af_pub dev1 "$AY_T/alarm.json")
ay_expect_eq "another button in the same minute: real" false "$(is_test "$(af_wait_line police "$id")")"

# 3. The cancel that ends a test.
jq -n --arg a "$id" '{alarmId: $a, reason: "ALARM_CANCEL_REASON_TEST_OVER", cancelledAt: (now | todate)}' \
  >"$AY_T/cancel.json"
ay_ctl dev1 pub alarm-cancel --no-receipt --json "$AY_T/cancel.json" >/dev/null || ay_fail "pub cancel"
ay_expect_eq "test over: a test" true "$(is_test "$(af_wait_line police "$id" POLICE_ALARM_EVENT_CANCEL)")"

# 4. The window moved into the past: real again.
n=$(af_loads alarmfeed)
ay_psql "UPDATE device_test_windows SET starts_at = now() - interval '2 hours',
         ends_at = now() - interval '1 hour'" || ay_fail "move the window"
af_wait_load alarmfeed "$n"
id=$(af_pub device "$AY_T/alarm.json")
ay_expect_eq "after the window: real" false "$(is_test "$(af_wait_line police "$id")")"
ay_test_pass
