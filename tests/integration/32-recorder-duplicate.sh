#!/usr/bin/env bash
# A message re-sent with the same id is stored once; the re-send gets a
# DUPLICATE receipt with the original reference and storage time.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_start_recorder
data=$AY_SOURCE_DIR/tests/data/e2e

jq '. + {header: {messageId: "7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6"}}' "$data/notice.json" >"$AY_T/n.json"
first=$(ay_ctl device pub notice --json "$AY_T/n.json") || ay_fail "first publish"
second=$(ay_ctl device pub notice --json "$AY_T/n.json") || ay_fail "second publish"
ay_expect_eq "first" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$first")"
ay_expect_eq "second" RECEIPT_STATUS_DUPLICATE "$(jq -r .status <<<"$second")"
ay_expect_eq "same reference" "$(jq -r .reference <<<"$first")" "$(jq -r .reference <<<"$second")"
ay_expect_eq "same storage time" "$(jq -r .storedAt <<<"$first")" "$(jq -r .storedAt <<<"$second")"
ay_expect_eq "the re-send's receipt repeats the deadline that runs" \
  "$(jq -c .deadlines <<<"$first")" "$(jq -c .deadlines <<<"$second")"
ay_expect_eq "it is the written report's" DEADLINE_KIND_WRITTEN_REPORT "$(jq -r '.deadlines[0].kind' <<<"$second")"
ay_expect_eq "one message" 1 "$(ay_psql "SELECT count(*) FROM messages")"
ay_expect_eq "one incident" 1 "$(ay_psql "SELECT count(*) FROM incidents")"
ay_expect_eq "deadlines once" 2 "$(ay_psql "SELECT count(*) FROM deadlines")"

# Many raw copies in quick succession (several in one batch): still once.
ay_ctl device encode notice --json "$AY_T/n.json" >"$AY_T/n.bin" || ay_fail "ayctl encode"
for i in $(seq 1 20); do
  mosquitto_pub -V 5 -q 1 -p "$AY_MQTT_PORT" -u btn-0102-01 -P dev-pw -i btn-0102-01 \
    -t ay/v1/d01/school/sch-0102/btn-0102-01/notice -f "$AY_T/n.bin" || ay_fail "mosquitto_pub"
done
# A marker message after the copies: once it is stored, the copies were handled.
marker=$(ay_ctl device pub status --json "$AY_SOURCE_DIR/tests/data/e2e/status.json") || ay_fail "marker"
ay_expect_eq "still one notice" 1 "$(ay_psql "SELECT count(*) FROM messages WHERE kind = 'notice'")"

# The same id from another device, or for another type, is not a re-send:
# it is rejected, never reported as stored.
ay_test_device 1
out=$(ay_ctl dev1 pub notice --json "$AY_T/n.json" 2>/dev/null)
ay_expect_eq "id reused by another device" RECEIPT_STATUS_REJECTED "$(jq -r .status <<<"$out")"
grep -q 'is already used by another message' <<<"$(jq -r .reason <<<"$out")" || ay_fail "reason: $out"
jq '. + {header: {messageId: "7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6"}}' \
  "$AY_SOURCE_DIR/tests/data/e2e/alarm.json" >"$AY_T/a.json"
out=$(ay_ctl device pub alarm --json "$AY_T/a.json" 2>/dev/null)
ay_expect_eq "id reused for another type" RECEIPT_STATUS_REJECTED "$(jq -r .status <<<"$out")"
ay_expect_eq "nothing more stored" 2 "$(ay_psql "SELECT count(*) FROM messages")"
ay_test_pass
