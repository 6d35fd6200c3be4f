#!/usr/bin/env bash
# Issue 12: an alarm appears at once on the district's police feed
# (ay/v1/d01/police/alarm, `ayctl sub alarm` of a police account) with what
# a dispatcher needs: the school's name, address and duty phone, where the
# button is (registered location and position, the shop it is in), the
# kind in Chinese and English, when it was triggered and received; its
# cancel follows with the reason. Police accounts read the feed, and no
# longer the devices' raw topics. No recorder runs: the feed needs none.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
"$AYCTL" registry set-school sch-0102 --address "城东路18号" --phone "0551-62345678" ||
  ay_fail "registry set-school"
"$AYCTL" registry set-device btn-0102-01 --location "东门门卫室" --geo 31.820591,117.227239 \
  --heartbeat 30 || ay_fail "registry set-device"
ay_test_device 1 # btn-0102-11, a button in a shop near the school
"$AYCTL" registry add-device sch-0102 btn-0102-11 nearby_shop || ay_fail "registry"
"$AYCTL" registry set-device btn-0102-11 --place "好邻居便利店" || ay_fail "registry set-device"
ay_expect_eq "the registry has it" "东门门卫室|31.820591|117.227239|30" \
  "$(ay_psql "SELECT location, latitude, longitude, heartbeat_s FROM devices WHERE id = 'btn-0102-01'")"
out=$("$AYCTL" registry set-device btn-nope --location x 2>&1) && ay_fail "set-device of an unknown device"
grep -q 'no device "btn-nope"' <<<"$out" || ay_fail "set-device of an unknown device: $out"
out=$("$AYCTL" registry set-device btn-0102-01 --geo 0,0 2>&1)
ay_expect_eq "a position of 0,0 is refused" 2 "$?"

ay_test_start_alarmfeed
ay_sub_start police police alarm

# 1. The alarm, enriched.
af_alarm_json "$AY_T/alarm.json"
id=$(af_pub device "$AY_T/alarm.json")
line=$(af_wait_line police "$id")
ay_expect_eq "topic and type" "ay/v1/d01/police/alarm|police-alarm" "$(jq -r '.topic + "|" + .type' <<<"$line")"
m=$(jq -c .message <<<"$line")
ay_expect_eq "school" "sch-0102|测试学校|Test school|城东路18号|0551-62345678" \
  "$(jq -r '[.schoolId, .schoolName, .schoolNameEn, .schoolAddress, .schoolPhone] | join("|")' <<<"$m")"
ay_expect_eq "where the button is (registered)" "btn-0102-01|东门门卫室|31.820591|117.227239|东门 east gate" \
  "$(jq -r '[.deviceId, .location, .geo.latitude, .geo.longitude, .reportedLocation] | join("|")' <<<"$m")"
ay_expect_eq "on campus" "ALARM_SOURCE_SCHOOL|校园内|On campus" \
  "$(jq -r '[.source, .sourceLabel, .sourceLabelEn] | join("|")' <<<"$m")"
ay_expect_eq "kind in words" "ALARM_KIND_INTRUSION|非法闯入|Intrusion" \
  "$(jq -r '[.kind, .kindLabel, .kindLabelEn] | join("|")' <<<"$m")"
ay_expect_eq "a real alarm of a known device, clock fine" "false|false|" \
  "$(jq -r '[(.test // false), (.deviceUnknown // false), (.clockWarning // "")] | map(tostring) | join("|")' <<<"$m")"
ay_expect_eq "the feed's own header" "d01|" "$(jq -r '[.header.districtId, (.header.schoolId // "")] | join("|")' <<<"$m")"
ay_expect_eq "feed id by the documented rule" "$(af_feed_id alarm d01 sch-0102 btn-0102-01 "$id")" \
  "$(jq -r .header.messageId <<<"$m")"
recv=$(date -u -d "$(jq -r .receivedAt <<<"$m")" +%s) || ay_fail "receivedAt: $m"
trig=$(date -u -d "$(jq -r .triggeredAt <<<"$m")" +%s) || ay_fail "triggeredAt: $m"
[ $((recv - trig)) -ge 0 ] && [ $((recv - trig)) -le 5 ] || ay_fail "triggered $trig, received $recv"
ay_log_has alarmfeed "msg=\"alarm forwarded to the police\" msg_id=$id" || ay_fail "no log line for the alarm"

# 2. Its cancel, on the same topic.
jq -n --arg a "$id" '{alarmId: $a, reason: "ALARM_CANCEL_REASON_FALSE_ALARM",
  cancelledAt: (now | todate), cancelledBy: {name: "王建国", role: "门卫"}}' >"$AY_T/cancel.json"
out=$(ay_ctl device pub alarm-cancel --no-receipt --json "$AY_T/cancel.json") || ay_fail "pub alarm-cancel"
cid=$(jq -r .header.messageId <<<"$out")
c=$(af_wait_line police "$id" POLICE_ALARM_EVENT_CANCEL | jq -c .message)
ay_expect_eq "cancel" "$cid|ALARM_CANCEL_REASON_FALSE_ALARM|误报|False alarm|城东路18号" \
  "$(jq -r '[.cancelId, .cancelReason, .cancelReasonLabel, .cancelReasonLabelEn, .schoolAddress] | join("|")' <<<"$c")"
ay_expect_eq "cancel's feed id" "$(af_feed_id cancel d01 sch-0102 btn-0102-01 "$cid")" "$(jq -r .header.messageId <<<"$c")"

# 3. A button in a shop near the school: the registry says where it is.
id=$(af_pub dev1 "$AY_T/alarm.json")
m=$(af_wait_line police "$id" | jq -c .message)
ay_expect_eq "nearby shop" "ALARM_SOURCE_NEARBY_SHOP|周边商户|好邻居便利店|东门 east gate|31.5" \
  "$(jq -r '[.source, .sourceLabel, .placeName, .location, .geo.latitude] | join("|")' <<<"$m")"

# 4. Police read the feed only: the devices' raw alarm topics are refused.
out=$(ay_ctl police sub raw-alarm --count 1 2>&1)
[ $? -ne 0 ] || ay_fail "police subscribed to the raw alarm topics"
grep -qi 'not authori[sz]ed\|refused\|denied' <<<"$out" || ay_fail "raw-alarm refusal: $out"
ay_test_pass
