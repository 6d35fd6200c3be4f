#!/usr/bin/env bash
# A registry change reaches the running police feed without a restart
# (NOTIFY ay_registry): an alarm from a button nobody registered yet goes
# out at once, marked deviceUnknown; once the button is registered (a home
# near the school, with its place), its alarms carry that; a new duty phone
# number of the school shows on the next alarm.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
ay_test_start_alarmfeed
af_wait_load alarmfeed 0
ay_sub_start police police alarm
af_alarm_json "$AY_T/alarm.json"
# A button with a broker account but no registration yet.
ay_test_account device d01 sch-0102 btn-0102-20 pw-20
ay_test_conf dev20 btn-0102-20 pw-20 "school = sch-0102"

# 1. Unknown: forwarded at once all the same.
id=$(af_pub dev20 "$AY_T/alarm.json")
m=$(af_wait_line police "$id" | jq -c .message)
ay_expect_eq "unknown device, known school" "true|测试学校|东门 east gate|ALARM_SOURCE_SCHOOL" \
  "$(jq -r '[.deviceUnknown, .schoolName, .location, .source] | map(tostring) | join("|")' <<<"$m")"

# 2. Registered (a home near the school): the feed's next alarms say so.
n=$(af_loads alarmfeed)
"$AYCTL" registry add-device sch-0102 btn-0102-20 nearby_home || ay_fail "registry add-device"
"$AYCTL" registry set-device btn-0102-20 --location "学府路3号" --place "张家" \
  --geo 31.83,117.23 || ay_fail "registry set-device"
af_wait_load alarmfeed "$n"
# Two changes, one or two reloads: an alarm shows the registration once both are in.
registered() {
  local id
  id=$(af_pub dev20 "$AY_T/alarm.json")
  m=$(af_wait_line police "$id" | jq -c .message)
  [ "$(jq -r .placeName <<<"$m")" = 张家 ]
}
ay_wait_until 15 "the new button known to the feed" registered || ay_fail "not registered: $m"
ay_expect_eq "known, in a home near the school" "false|ALARM_SOURCE_NEARBY_HOME|周边居民户|学府路3号|31.83" \
  "$(jq -r '[(.deviceUnknown // false), .source, .sourceLabel, .location, .geo.latitude] | map(tostring) | join("|")' <<<"$m")"

# 3. A new duty phone number.
"$AYCTL" registry set-school sch-0102 --phone "0551-99998888" || ay_fail "registry set-school"
new_phone() {
  local id
  id=$(af_pub device "$AY_T/alarm.json")
  m=$(af_wait_line police "$id" | jq -c .message)
  [ "$(jq -r .schoolPhone <<<"$m")" = 0551-99998888 ]
}
ay_wait_until 15 "the new phone on the feed" new_phone || ay_fail "old phone: $m"

# All without a restart.
ay_expect_eq "one start" 1 "$(grep -c 'msg=ready' "$AY_T/log/alarmfeed.log")"
ay_test_pass
