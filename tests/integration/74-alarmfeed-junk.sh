#!/usr/bin/env bash
# Only what decodes as an alarm (or a cancel) reaches the police: an alarm
# whose header speaks for another device (spoofed) and bytes that are no
# protobuf are not forwarded; the feed logs them with the reason, at most 5
# lines per device per stats interval and then one line with the count, and
# goes on forwarding the valid alarm that follows them.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
ay_test_device 1 # btn-0102-11
ay_test_start_alarmfeed
ay_sub_start police police alarm
af_alarm_json "$AY_T/alarm.json"
T=ay/v1/d01/school/sch-0102/btn-0102-01
pub_as_device() { # KIND ARGS...: as btn-0102-01, on its own topic
  local kind=$1
  shift
  mosquitto_pub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u btn-0102-01 -P dev-pw -i btn-0102-01 -q 1 \
    -t "$T/$kind" "$@" || ay_fail "mosquitto_pub"
}

# 1. A spoofed alarm: made by btn-0102-11 (its header), sent by btn-0102-01.
ay_ctl dev1 encode alarm --json "$AY_T/alarm.json" >"$AY_T/spoof.bin" || ay_fail "encode"
pub_as_device alarm -f "$AY_T/spoof.bin"
# 2. Junk: a cancel that is not one, and a flood of 30 on the alarm topic.
pub_as_device alarm-cancel -m 'not a cancel'
for i in $(seq 1 30); do printf 'junk-%s\n' "$i"; done | pub_as_device alarm -l
# 3. Then a valid alarm: it arrives, and nothing else did.
id=$(af_pub device "$AY_T/alarm.json")
af_wait_line police "$id" >/dev/null
ay_expect_eq "only the valid alarm on the feed" "1|$id" \
  "$(wc -l <"$AY_T/police.out")|$(jq -r .message.alarmId "$AY_T/police.out")"

# 4. The log: the reasons, at most 5 lines for the device, then the count of the rest.
grep -qF 'err="alarm.header.deviceId: \"btn-0102-11\" does not match the topic' "$AY_T/log/alarmfeed.log" ||
  ay_fail "the spoof's reason is not logged"
grep -qF 'err="alarm-cancel: payload is not a valid anyuan.v1.AlarmCancel protobuf message"' \
  "$AY_T/log/alarmfeed.log" || ay_fail "the junk's reason is not logged"
lines=$(grep -c 'msg="invalid alarm, not forwarded to the police".*device=btn-0102-01' "$AY_T/log/alarmfeed.log")
ay_expect_eq "log lines for 32 refused messages" 5 "$lines"
ay_wait_until 15 "the count of the rest" ay_log_has alarmfeed \
  'msg="more messages not forwarded to the police, not logged one by one" device=btn-0102-01 count=27' ||
  ay_fail "no summary line: $(grep 'not forwarded' "$AY_T/log/alarmfeed.log" | tail -n 3)"
ay_wait_until 10 "the counts" ay_log_has alarmfeed 'msg=counts forwarded=1 device_unknown=0 not_forwarded=32' ||
  ay_fail "counts: $(grep 'msg=counts' "$AY_T/log/alarmfeed.log" | tail -n 1)"
ay_test_pass
