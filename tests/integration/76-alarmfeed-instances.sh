#!/usr/bin/env bash
# Several feed instances share the alarms (MQTT v5 shared subscription
# $share/alarmfeed/...): each alarm reaches the police feed exactly once,
# and both instances take part.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
ay_test_device 1
ay_test_start_alarmfeed alarmfeed1 1
ay_test_start_alarmfeed alarmfeed2 2
ay_sub_start police police alarm
af_alarm_json "$AY_T/alarm.json"
ids=()
for i in $(seq 1 10); do
  ids+=("$(af_pub device "$AY_T/alarm.json")" "$(af_pub dev1 "$AY_T/alarm.json")")
done
all() { [ "$(wc -l <"$AY_T/police.out")" -ge 20 ]; }
ay_wait_until 15 "20 alarms on the feed" all || ay_fail "$(wc -l <"$AY_T/police.out") of 20 alarms"
ay_expect_eq "each alarm once" "$(printf '%s\n' "${ids[@]}" | sort)" \
  "$(jq -r .message.alarmId "$AY_T/police.out" | sort)"
n1=$(grep -c 'msg="alarm forwarded to the police"' "$AY_T/log/alarmfeed1.log")
n2=$(grep -c 'msg="alarm forwarded to the police"' "$AY_T/log/alarmfeed2.log")
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || ay_fail "one instance did everything ($n1/$n2)"
ay_test_pass
