#!/usr/bin/env bash
# JSON on the wire (docs/contract.md 4.1, 4.5, 4.6): a message sent as the proto3
# JSON of itself (content type application/json) is stored exactly as its
# protobuf copy is: the same messages row (payload the canonical protobuf,
# body, times, warning), the same domain rows, deadlines and receipt
# content; only message_originals tells it came as JSON, with the bytes as
# received. Its receipt comes back as JSON with the content type set; a
# protobuf sender's receipt stays protobuf. One id sent both ways is one
# message: the second copy is a DUPLICATE, whichever form came first.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/json.sh"
ay_test_stack
ay_test_start_recorder
json_spy_start receipts ay/v1/d01/receipt/sch-0102/probe 'ay/v1/d01/receipt/#'
data=$AY_SOURCE_DIR/tests/data/e2e

# same WHAT SQL: SQL (":ID" standing for a message id) gives the same
# non-empty answer for the protobuf copy $P and the JSON copy $J.
same() {
  local a b
  a=$(ay_psql "${2//:ID/$P}") || ay_fail "$1: $2"
  b=$(ay_psql "${2//:ID/$J}") || ay_fail "$1: $2"
  [ -n "$a" ] || ay_fail "$1: nothing for the protobuf copy $P"
  ay_expect_eq "$1 (protobuf vs JSON copy)" "$a" "$b"
}

# The messages row without its id (the id is inside payload and body too).
ROW="SELECT kind, topic, district_id, school_id, device_id, sent_at, warning,
            body #- '{header,messageId}',
            replace(encode(payload, 'hex'), encode(convert_to(message_id::text, 'UTF8'), 'hex'), '')
     FROM messages WHERE message_id = ':ID'"

# pair TYPE BODY [JQ]: publishes the same message (BODY changed by JQ)
# twice, as protobuf ($P) and as JSON ($J), each with its own id; leaves
# both receipts in $RP and $RJ.
pair() {
  local type=$1 body=$2
  json_full device "$type" "$body" "$AY_T/$type.json" "${3:-.}"
  P=$(new_id) J=$(new_id)
  json_with_id "$AY_T/$type.json" "$AY_T/$type-p.json" "$P"
  json_with_id "$AY_T/$type.json" "$AY_T/$type-j.json" "$J"
  RP=$(ay_ctl device pub "$type" --json "$AY_T/$type-p.json") || ay_fail "pub $type (protobuf)"
  RJ=$(ay_ctl device pub "$type" --json "$AY_T/$type-j.json" --wire json) ||
    ay_fail "pub $type --wire json"
  ay_expect_eq "$type: protobuf copy stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$RP")"
  ay_expect_eq "$type: JSON copy stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$RJ")"
  ay_expect_eq "$type: receipts name their message" "$P $J" \
    "$(jq -r .refMessageId <<<"$RP") $(jq -r .refMessageId <<<"$RJ")"
  # (a due time counted from reception, as an alarm's notice, may differ)
  ay_expect_eq "$type: the same receipt otherwise" \
    "$(jq -c '{status, reason, deadlines: [.deadlines[]? | .kind]}' <<<"$RP")" \
    "$(jq -c '{status, reason, deadlines: [.deadlines[]? | .kind]}' <<<"$RJ")"
  same "$type: messages row" "$ROW"

  # The JSON copy's payload is the canonical protobuf of what was sent, and
  # what was sent is kept as it came.
  ay_ctl device encode "$type" --json "$AY_T/$type-j.json" >"$AY_T/$type-j.bin" || ay_fail "encode"
  ay_ctl device encode "$type" --json "$AY_T/$type-j.json" --wire json >"$AY_T/$type-j.wire" ||
    ay_fail "encode --wire json"
  ay_expect_eq "$type: payload of the JSON copy is its canonical protobuf" \
    "$(od -An -tx1 -v "$AY_T/$type-j.bin" | tr -d ' \n')" \
    "$(ay_psql "SELECT encode(payload, 'hex') FROM messages WHERE message_id = '$J'")"
  ay_expect_eq "$type: the JSON as received, kept" \
    "json|application/json|$(od -An -tx1 -v "$AY_T/$type-j.wire" | tr -d ' \n')" \
    "$(ay_psql "SELECT wire_format, content_type, encode(original, 'hex')
                FROM message_originals WHERE message_id = '$J'")"
  ay_expect_eq "$type: nothing kept beside a protobuf message" 0 \
    "$(ay_psql "SELECT count(*) FROM message_originals WHERE message_id = '$P'")"

  # Each receipt in its sender's form, saying so.
  json_spy_wait receipts "$J"
  json_spy_line receipts "$J"
  ay_expect_eq "$type: JSON receipt's content type" application/json "$SPY_CT"
  ay_expect_eq "$type: JSON receipt is JSON" "$J" "$(jq -r .refMessageId <<<"$SPY_PAYLOAD")"
  json_spy_wait receipts "$P"
  json_spy_line receipts "$P"
  ay_expect_eq "$type: protobuf receipt's content type" application/x-protobuf "$SPY_CT"
}

pair alarm "$data/alarm.json"
same "alarm row" "SELECT to_jsonb(a) - 'message_id' FROM alarms a WHERE message_id = ':ID'"

# Times of now: neither copy is late (a lateness in minutes could differ).
now=$(ay_now_iso)
pair notice "$data/notice.json" ".occurredAt = \"$now\" | .discoveredAt = \"$now\""
same "incident row" "SELECT to_jsonb(i) - 'id' - 'noticed_at' FROM incidents i WHERE id = ':ID'"
same "the notice's deadlines" \
  "SELECT string_agg(kind || ' ' || status || ' ' || due_at, ', ' ORDER BY kind)
   FROM deadlines WHERE subject_id = ':ID'"
same "the notice's escalations" \
  "SELECT string_agg(audience || ' ' || reason, ', ' ORDER BY audience, reason)
   FROM escalations WHERE subject_id = ':ID'"

pair hazard "$data/hazard.json"
same "hazard row" "SELECT to_jsonb(h) - 'id' - 'status_at' FROM hazards h WHERE id = ':ID'"

# The first report of a period meets its deadline; both copies are then
# corrections of it, alike.
ay_ctl device pub monthly --json "$data/monthly.json" >/dev/null || ay_fail "first monthly report"
pair monthly "$data/monthly.json"
same "monthly report row" \
  "SELECT to_jsonb(m) - 'message_id' - 'submitted_at' FROM monthly_reports m WHERE message_id = ':ID'"

pair status "$data/status.json"

# One id both ways: the second copy is a DUPLICATE of the first storage,
# answered in its own form.
json_full device alarm "$data/alarm.json" "$AY_T/dup.json"
X=$(jq -r .header.messageId "$AY_T/dup.json")
r1=$(ay_ctl device pub alarm --json "$AY_T/dup.json") || ay_fail "pub protobuf"
r2=$(ay_ctl device pub alarm --json "$AY_T/dup.json" --wire json) || ay_fail "pub json"
ay_expect_eq "protobuf first, then JSON: duplicate of the first storage" \
  "RECEIPT_STATUS_STORED RECEIPT_STATUS_DUPLICATE $(jq -r .reference <<<"$r1")" \
  "$(jq -r .status <<<"$r1") $(jq -r .status <<<"$r2") $(jq -r .reference <<<"$r2")"
ay_expect_eq "stored once, as protobuf" "1|0" \
  "$(ay_psql "SELECT count(*), (SELECT count(*) FROM message_originals WHERE message_id = '$X')
              FROM messages WHERE message_id = '$X'")"
json_full device alarm "$data/alarm.json" "$AY_T/dup2.json"
Y=$(jq -r .header.messageId "$AY_T/dup2.json")
r1=$(ay_ctl device pub alarm --json "$AY_T/dup2.json" --wire json) || ay_fail "pub json"
r2=$(ay_ctl device pub alarm --json "$AY_T/dup2.json") || ay_fail "pub protobuf"
ay_expect_eq "JSON first, then protobuf: duplicate of the first storage" \
  "RECEIPT_STATUS_STORED RECEIPT_STATUS_DUPLICATE $(jq -r .storedAt <<<"$r1")" \
  "$(jq -r .status <<<"$r1") $(jq -r .status <<<"$r2") $(jq -r .storedAt <<<"$r2")"
ay_expect_eq "stored once, as JSON" "1|1" \
  "$(ay_psql "SELECT count(*), (SELECT count(*) FROM message_originals WHERE message_id = '$Y')
              FROM messages WHERE message_id = '$Y'")"

ay_expect_eq "no dead letters" 0 "$(ay_psql "SELECT count(*) FROM dead_letters")"
ay_test_pass
