#!/usr/bin/env bash
# Bad JSON is refused as bad protobuf is (docs/contract.md 6.3, 7.4): a
# REJECTED receipt, in JSON with content type application/json, whose
# reason names what is wrong (the byte where the JSON breaks, the unknown or
# missing field), and a dead letter keeping the bytes as received with the
# form and content type they came with. A content type the contract does
# not know is refused too (answered in protobuf). Good messages after all
# that are still stored.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/json.sh"
ay_test_stack
ay_test_start_recorder
json_spy_start receipts ay/v1/d01/receipt/sch-0102/probe 'ay/v1/d01/receipt/#'
data=$AY_SOURCE_DIR/tests/data/e2e
T=ay/v1/d01/school/sch-0102/btn-0102-01
send() { # FILE [CONTENT-TYPE]
  if [ -n "${2:-}" ]; then
    mqtt_as btn-0102-01 dev-pw -V 5 -t "$T/alarm" -f "$1" -D publish content-type "$2"
  else
    mqtt_as btn-0102-01 dev-pw -V 5 -t "$T/alarm" -f "$1"
  fi || ay_fail "mosquitto_pub $1"
}
json_full device alarm "$data/alarm.json" "$AY_T/alarm.json"

# rejected NEEDLE CT: the receipt whose reason contains NEEDLE came with
# content type CT, is REJECTED and carries the reason; prints the reason.
rejected() {
  json_spy_wait receipts "$1"
  json_spy_line receipts "$1"
  ay_expect_eq "content type of the receipt for \"$1\"" "$2" "$SPY_CT"
  if [ "$2" = application/json ]; then
    ay_expect_eq "JSON receipt for \"$1\"" RECEIPT_STATUS_REJECTED "$(jq -r .status <<<"$SPY_PAYLOAD")"
    grep -qF "$1" <<<"$(jq -r .reason <<<"$SPY_PAYLOAD")" || ay_fail "reason: $SPY_PAYLOAD"
  fi
}

# 1. JSON that breaks off: where it breaks; kept as received.
head -c 60 "$AY_T/alarm.json" >"$AY_T/cut.json"
send "$AY_T/cut.json" application/json
rejected "alarm: invalid JSON near byte" application/json
ay_sql_eq "dead letter: the bytes as received, JSON, its content type" \
  "json|application/json|$(od -An -tx1 -v "$AY_T/cut.json" | tr -d ' \n')" \
  "SELECT wire_format, content_type, encode(payload, 'hex') FROM dead_letters
   WHERE reason LIKE 'alarm: invalid JSON%'"

# 2. The same without a content type: still JSON (first byte '{').
send "$AY_T/cut.json"
ay_sql_eq "second dead letter, no content type" "json|none" \
  "SELECT wire_format, coalesce(content_type, 'none') FROM dead_letters
   WHERE reason LIKE 'alarm: invalid JSON%' AND content_type IS NULL"

# 3. An unknown field (the binary form would ignore it; JSON refuses it).
jq -c '.colour = "red"' "$AY_T/alarm.json" | tr -d '\n' >"$AY_T/colour.json"
send "$AY_T/colour.json" application/json
rejected "alarm.colour: unknown field" application/json

# 4. A rule of the contract: required field missing; the id is known now.
jq -c 'del(.location)' "$AY_T/alarm.json" | tr -d '\n' >"$AY_T/noloc.json"
send "$AY_T/noloc.json"
rejected "alarm.location: required" application/json
ay_expect_eq "the receipt names the message" "$(jq -r .header.messageId "$AY_T/noloc.json")" \
  "$(jq -r .refMessageId <<<"$SPY_PAYLOAD")"

# 5. A content type the contract does not know.
send "$AY_T/alarm.json" text/plain
rejected 'alarm: content type "text/plain" is not supported' application/x-protobuf
ay_sql_eq "dead letter with that content type" "protobuf|text/plain" \
  "SELECT wire_format, content_type FROM dead_letters WHERE reason LIKE '%text/plain%'"

# 6. ayctl says what the backbone said, and exits 1.
ay_test_account device d01 sch-0102 btn-unknown unk-pw
ay_test_conf unknown btn-unknown unk-pw "school = sch-0102"
rc=0
out=$(ay_ctl unknown pub alarm --json "$data/alarm.json" --wire json 2>"$AY_T/err.txt") || rc=$?
ay_expect_eq "ayctl exit status for a rejected JSON message" 1 "$rc"
grep -q 'device "btn-unknown" is not registered' <<<"$(jq -r .reason <<<"$out")" ||
  ay_fail "reason: $out"

# 7. Still storing, in both forms.
out=$(ay_ctl device pub alarm --json "$data/alarm.json" --wire json) || ay_fail "good JSON alarm"
ay_expect_eq "good JSON message stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$out")"
out=$(ay_ctl device pub alarm --json "$data/alarm.json") || ay_fail "good protobuf alarm"
ay_expect_eq "good protobuf message stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$out")"
ay_expect_eq "dead letters kept" 6 "$(ay_psql "SELECT count(*) FROM dead_letters")"
ay_expect_eq "messages stored" 2 "$(ay_psql "SELECT count(*) FROM messages")"
ay_test_pass
