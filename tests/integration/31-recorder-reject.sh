#!/usr/bin/env bash
# Bad input never crashes or stalls the recorder: it is kept as a dead letter
# with the raw bytes and the reason, and the sender gets a REJECTED receipt
# naming the field. Good messages after it are still stored.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_start_recorder
data=$AY_SOURCE_DIR/tests/data/e2e
pw=dev-pw
topic=ay/v1/d01/school/sch-0102/btn-0102-01
pub_raw() { mosquitto_pub -V 5 -q 1 -p "$AY_MQTT_PORT" -u btn-0102-01 -P "$pw" -i btn-0102-01 "$@"; }

# 1. Garbage bytes: dead letter, rejected receipt on the device's receipt topic.
ay_sub_start receipts recorder --topic 'ay/v1/d01/receipt/#' --count 1
pub_raw -t "$topic/alarm" -m 'not a protobuf message' || ay_fail "mosquitto_pub failed"
ay_wait_until 30 "receipt for the garbage message" test -s "$AY_T/receipts.out" ||
  ay_fail "no receipt for the garbage message"
ay_expect_eq "receipt status" RECEIPT_STATUS_REJECTED "$(jq -r .message.status "$AY_T/receipts.out")"
grep -q 'not a valid anyuan.v1.Alarm' <<<"$(jq -r .message.reason "$AY_T/receipts.out")" ||
  ay_fail "receipt reason: $(cat "$AY_T/receipts.out")"
ay_sql_eq "dead letter with raw bytes" "$topic/alarm|t" \
  "SELECT topic, payload = convert_to('not a protobuf message', 'UTF8') FROM dead_letters"
reason=$(ay_psql "SELECT reason FROM dead_letters")
grep -q 'not a valid anyuan.v1.Alarm protobuf message' <<<"$reason" || ay_fail "reason: $reason"

# 2. A well-formed message whose header names another school, sent on the
#    device's own topic: the topic (scoped by the broker) is what counts.
jq '. + {header: {schoolId: "sch-0999"}}' "$data/alarm.json" >"$AY_T/other-school.json"
ay_ctl device encode alarm --json "$AY_T/other-school.json" >"$AY_T/other-school.bin" ||
  ay_fail "ayctl encode"
ay_sub_start receipts2 recorder --topic 'ay/v1/d01/receipt/#' --count 1
pub_raw -t "$topic/alarm" -f "$AY_T/other-school.bin" || ay_fail "mosquitto_pub failed"
ay_wait_until 30 "receipt for the mismatched header" test -s "$AY_T/receipts2.out" ||
  ay_fail "no receipt for the mismatched header"
grep -q 'alarm.header.schoolId: "sch-0999" does not match the topic' \
  <<<"$(jq -r .message.reason "$AY_T/receipts2.out")" ||
  ay_fail "receipt reason: $(cat "$AY_T/receipts2.out")"
# ayctl itself will not publish it: the broker refuses the other school's topics.
ay_ctl device pub alarm --json "$AY_T/other-school.json" >/dev/null 2>"$AY_T/err.txt" &&
  ay_fail "ayctl published into another school"
grep -q 'Not authorized' "$AY_T/err.txt" || ay_fail "error: $(cat "$AY_T/err.txt")"

# 3. An unregistered device of the right school: rejected by the registry.
ay_test_account device d01 sch-0102 btn-unknown unk-pw
ay_test_conf unknown btn-unknown unk-pw "school = sch-0102"
out=$(ay_ctl unknown pub alarm --json "$data/alarm.json" 2>"$AY_T/err.txt")
ay_expect_eq "status for an unregistered device" RECEIPT_STATUS_REJECTED "$(jq -r .status <<<"$out")"
grep -q 'device "btn-unknown" is not registered' <<<"$(jq -r .reason <<<"$out")" ||
  ay_fail "reason: $out"
grep -q 'rejected' "$AY_T/err.txt" || ay_fail "ayctl did not say rejected"

# 4. A report for an incident that does not exist.
sed "s/@INCIDENT@/00000000-0000-4000-8000-000000000000/" "$data/report.json" >"$AY_T/report.json"
out=$(ay_ctl device pub report --json "$AY_T/report.json" 2>/dev/null)
grep -q 'report.incidentId: unknown incident' <<<"$(jq -r .reason <<<"$out")" || ay_fail "reason: $out"

# 5. Still alive and storing.
out=$(ay_ctl device pub alarm --json "$data/alarm.json") || ay_fail "good alarm after bad input failed"
ay_expect_eq "good message stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$out")"
ay_expect_eq "dead letters kept" 4 "$(ay_psql "SELECT count(*) FROM dead_letters")"
ay_expect_eq "messages stored" 1 "$(ay_psql "SELECT count(*) FROM messages")"
ay_test_pass
