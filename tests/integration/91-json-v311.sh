#!/usr/bin/env bash
# Publishers that set no content type (docs/contract.md 4.1): an MQTT 3.1.1
# device, which cannot, and an MQTT v5 client that does not. The payload's
# first byte decides: '{' is JSON, so both are stored, and each gets its
# receipt as JSON (a 3.1.1 subscriber gets it without the v5 property, a v5
# one with content type application/json).
# With the content type, whitespace may come before the '{'; without it,
# such a payload is taken for protobuf and refused with a hint.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/json.sh"
ay_test_stack
ay_test_device 1 # btn-0102-11, password pw-1
ay_test_start_recorder
json_spy_start receipts ay/v1/d01/receipt/sch-0102/probe 'ay/v1/d01/receipt/#'
data=$AY_SOURCE_DIR/tests/data/e2e
T0=ay/v1/d01/school/sch-0102/btn-0102-01
T1=ay/v1/d01/school/sch-0102/btn-0102-11
R1=ay/v1/d01/receipt/sch-0102/btn-0102-11

# 1. An MQTT 3.1.1 device publishes a JSON file; an MQTT 3.1.1 subscriber
#    of its receipt topic (a service account: the device has one connection)
#    gets the receipt as JSON.
ay_spawn sub311 mosquitto_sub -V mqttv311 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u svc-recorder \
  -P svc-pw -i sub311 -q 1 -t "$R1"
_sub311_ready() {
  mosquitto_pub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u svc-recorder -P svc-pw -i probe311 -q 1 \
    -t "$R1" -m probe311 >/dev/null 2>&1 && grep -q probe311 "$AY_T/log/sub311.log"
}
ay_wait_until 15 "the 3.1.1 subscriber" _sub311_ready || ay_fail "the 3.1.1 subscriber got no probe"
json_full dev1 alarm "$data/alarm.json" "$AY_T/v311.json"
A=$(jq -r .header.messageId "$AY_T/v311.json")
mqtt_as btn-0102-11 pw-1 -V mqttv311 -t "$T1/alarm" -f "$AY_T/v311.json" ||
  ay_fail "mosquitto_pub -V mqttv311"
ay_sql_eq "the 3.1.1 device's JSON alarm stored" "ALARM_KIND_INTRUSION" \
  "SELECT kind FROM alarms WHERE message_id = '$A'"
ay_wait_until 15 "the receipt on 3.1.1" grep -qF "\"refMessageId\":\"$A\"" "$AY_T/log/sub311.log" ||
  ay_fail "no JSON receipt for the 3.1.1 device: $(cat "$AY_T/log/sub311.log")"
receipt=$(grep -F "\"refMessageId\":\"$A\"" "$AY_T/log/sub311.log")
ay_expect_eq "its receipt is JSON" "$A RECEIPT_STATUS_STORED" \
  "$(jq -r '"\(.refMessageId) \(.status)"' <<<"$receipt")"
ay_expect_eq "kept as received: JSON, no content type" \
  "json|none|$(od -An -tx1 -v "$AY_T/v311.json" | tr -d ' \n')" \
  "$(ay_psql "SELECT wire_format, coalesce(content_type, 'none'), encode(original, 'hex')
              FROM message_originals WHERE message_id = '$A'")"

# 2. An MQTT v5 client that sets no content type.
json_full device alarm "$data/alarm.json" "$AY_T/v5.json"
B=$(jq -r .header.messageId "$AY_T/v5.json")
mqtt_as btn-0102-01 dev-pw -V 5 -t "$T0/alarm" -f "$AY_T/v5.json" || ay_fail "mosquitto_pub -V 5"
json_spy_wait receipts "$B"
json_spy_line receipts "$B"
ay_expect_eq "a v5 JSON sender's receipt says it is JSON" application/json "$SPY_CT"
ay_expect_eq "and is" "RECEIPT_STATUS_STORED" "$(jq -r .status <<<"$SPY_PAYLOAD")"
ay_expect_eq "stored as JSON without a content type" "json|none" \
  "$(ay_psql "SELECT wire_format, coalesce(content_type, 'none') FROM message_originals
              WHERE message_id = '$B'")"

# 3. With the content type, whitespace before the '{' is fine; what came is kept.
json_full device alarm "$data/alarm.json" "$AY_T/spaced.json"
C=$(jq -r .header.messageId "$AY_T/spaced.json")
{ printf '\n  '; cat "$AY_T/spaced.json"; printf '\n'; } >"$AY_T/spaced.txt"
mqtt_as btn-0102-01 dev-pw -V 5 -t "$T0/alarm" -f "$AY_T/spaced.txt" \
  -D publish content-type 'application/json; charset=utf-8' || ay_fail "mosquitto_pub"
ay_sql_eq "stored with its content type and bytes" \
  "application/json; charset=utf-8|$(od -An -tx1 -v "$AY_T/spaced.txt" | tr -d ' \n')" \
  "SELECT content_type, encode(original, 'hex') FROM message_originals WHERE message_id = '$C'"

# 4. Without it, the same bytes are taken for protobuf: refused, with a hint.
mqtt_as btn-0102-01 dev-pw -V 5 -t "$T0/alarm" -f "$AY_T/spaced.txt" || ay_fail "mosquitto_pub"
json_spy_wait receipts "it looks like JSON"
json_spy_line receipts "it looks like JSON"
ay_expect_eq "answered in protobuf" application/x-protobuf "$SPY_CT"
ay_sql_eq "kept as a dead letter, as received" \
  "protobuf|none|$(od -An -tx1 -v "$AY_T/spaced.txt" | tr -d ' \n')" \
  "SELECT wire_format, coalesce(content_type, 'none'), encode(payload, 'hex') FROM dead_letters"
reason=$(ay_psql "SELECT reason FROM dead_letters")
grep -qF "alarm: payload is not a valid anyuan.v1.Alarm protobuf message (it looks like JSON: send JSON with content type application/json, or with '{' as its very first byte)" \
  <<<"$reason" || ay_fail "reason: $reason"
ay_expect_eq "the refused copy did not count" 3 "$(ay_psql "SELECT count(*) FROM messages")"
ay_test_pass
