#!/usr/bin/env bash
# The police feed never waits on the database (domain.md rule 1): with
# PostgreSQL stopped after the start, alarms still go out at once, enriched
# from the registry held in memory; a feed that starts while PostgreSQL is
# down is ready at once and forwards alarms marked deviceUnknown (never held
# back); once PostgreSQL is back it loads the registry by itself.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
"$AYCTL" registry set-school sch-0102 --address "城东路18号" --phone "0551-62345678" ||
  ay_fail "registry set-school"
"$AYCTL" registry set-device btn-0102-01 --location "东门门卫室" || ay_fail "registry set-device"
ay_test_start_alarmfeed
af_wait_load alarmfeed 0
ay_sub_start police police alarm
af_alarm_json "$AY_T/alarm.json"

# 1. PostgreSQL stopped after the start.
ay_test_stop_pg
id=$(af_pub device "$AY_T/alarm.json")
m=$(af_wait_line police "$id" | jq -c .message)
ay_expect_eq "enriched from memory" "0551-62345678|东门门卫室|false" \
  "$(jq -r '[.schoolPhone, .location, (.deviceUnknown // false)] | map(tostring) | join("|")' <<<"$m")"
ay_wait_until 30 "the feed noticed" ay_log_has alarmfeed 'lost the database|database unavailable' ||
  ay_fail "the feed did not notice the database was gone"
id=$(af_pub device "$AY_T/alarm.json")
m=$(af_wait_line police "$id" | jq -c .message)
ay_expect_eq "still enriched while the feed reconnects" "0551-62345678|false" \
  "$(jq -r '[.schoolPhone, (.deviceUnknown // false)] | map(tostring) | join("|")' <<<"$m")"

# 2. A feed started while PostgreSQL is down: ready without a registry.
ay_stop alarmfeed || ay_fail "the feed did not stop cleanly"
ay_test_start_alarmfeed alarmfeed2
ay_log_has alarmfeed2 'registry loaded' && ay_fail "a registry loaded without a database"
id=$(af_pub device "$AY_T/alarm.json")
m=$(af_wait_line police "$id" | jq -c .message)
ay_expect_eq "forwarded at once, marked unknown, with the alarm's own place" "true|东门 east gate|31.5|" \
  "$(jq -r '[.deviceUnknown, .location, .geo.latitude, (.schoolName // "")] | map(tostring) | join("|")' <<<"$m")"
ay_expect_eq "kind still in words" "非法闯入" "$(jq -r .kindLabel <<<"$m")"

# 3. PostgreSQL back: the registry comes by itself.
ay_test_restart_pg
af_wait_load alarmfeed2 0
id=$(af_pub device "$AY_T/alarm.json")
m=$(af_wait_line police "$id" | jq -c .message)
ay_expect_eq "enriched again" "0551-62345678|东门门卫室|false" \
  "$(jq -r '[.schoolPhone, .location, (.deviceUnknown // false)] | map(tostring) | join("|")' <<<"$m")"
ay_stop alarmfeed2 || ay_fail "the feed did not stop cleanly"
ay_log_has alarmfeed2 'msg=stopped' || ay_fail "no clean stop"
ay_test_pass
