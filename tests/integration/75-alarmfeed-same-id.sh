#!/usr/bin/env bash
# At least once, always with the same feed id: the same alarm delivered to
# the feed again (the device re-sends the same bytes; the feed restarts and
# the broker hands it the alarm it kept for it meanwhile) is published again
# with the same header.messageId, the one docs/contract.md 5.12 defines
# (computed here with sha256sum), so a police console shows it once.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
ay_test_start_alarmfeed
ay_sub_start police police alarm
id=$(cat /proc/sys/kernel/random/uuid)
af_alarm_json "$AY_T/alarm.json" ".header = {messageId: \"$id\"}"
ay_ctl device encode alarm --json "$AY_T/alarm.json" >"$AY_T/alarm.bin" || ay_fail "encode"
pub_bin() {
  mosquitto_pub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u btn-0102-01 -P dev-pw -i btn-0102-01 -q 1 \
    -t ay/v1/d01/school/sch-0102/btn-0102-01/alarm -f "$AY_T/alarm.bin" || ay_fail "mosquitto_pub"
}
copies() { jq -r --arg id "$id" 'select(.message.alarmId == $id) | .message.header.messageId' "$AY_T/police.out"; }
want=$(af_feed_id alarm d01 sch-0102 btn-0102-01 "$id")

# 1. Published, then re-sent by the device: twice on the feed, one id.
pub_bin
pub_bin
has() { [ "$(copies | wc -l)" -ge "$1" ]; }
ay_wait_until 10 "two copies" has 2 || ay_fail "copies: $(copies)"

# 2. Re-sent while the feed is down: the broker keeps it for the feed's
# session; the restarted feed publishes it with the same id.
ay_stop alarmfeed || ay_fail "the feed did not stop cleanly"
pub_bin
ay_test_start_alarmfeed alarmfeed2
ay_wait_until 15 "the copy kept while the feed was down" has 3 || ay_fail "copies: $(copies)"
ay_expect_eq "every copy with the documented feed id" "$want" "$(copies | sort -u)"

# 3. Re-sent through ayctl (the same messageId, new sentAt): the same id again.
ay_ctl device pub alarm --no-receipt --json "$AY_T/alarm.json" >/dev/null || ay_fail "ayctl pub"
ay_wait_until 10 "the fourth copy" has 4 || ay_fail "copies: $(copies)"
ay_expect_eq "still one feed id" "$want" "$(copies | sort -u)"
ay_test_pass
