#!/usr/bin/env bash
# Issue 12, device supervision: a device offline is told to its school as
# well as to the bureau ("its school and the bureau are told"), and so is
# its return. The school is an audience of its own (AUDIENCE_SCHOOL) with a
# feed per school, ay/v1/{d}/escalation/school/{s} and its /json twin, read
# by the school's own devices (an app of the school) and by no other
# school's; the school acknowledges through its device
# (ay/v1/{d}/ack/school/{device}), and only its own school's escalations.
# 1. a silent button: the school's apps get "device offline" on the school's
#    feed in protobuf and on its JSON twin, in Chinese; the bureau too;
# 2. an app of another school cannot subscribe to that feed (the broker
#    refuses), hears nothing on its own school's feed, and its ack is refused
#    with a reason in Chinese and English;
# 3. the school's ack is stored and acknowledges the school's escalation (not
#    the bureau's);
# 4. the button comes back: the school is told (RESOLVED), like the bureau;
# 5. escalations to the school are not in the compliance table's counts.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_stack
H=127.0.0.1
wait_ms="receipt_wait_ms = ${AY_TEST_RECEIPT_WAIT_MS:-2000}"
"$AYCTL" registry add-school d01 sch-0103 "隔壁学校" "Next school" || ay_fail "registry"
ay_test_device 1 # btn-0102-11, the button that falls silent
# app SCHOOL N: an app of SCHOOL (sch-0102 or sch-0103), account
# app-<school number>-0N, configuration app<number>-N.conf with audience school.
app() {
  local s=$1 n=$2 id
  id="app-${s#sch-}-0$n"
  ay_test_account device d01 "$s" "$id" "pw-$id"
  "$AYCTL" registry add-device "$s" "$id" app || ay_fail "registry $id"
  ay_test_conf "app${s#sch-}-$n" "$id" "pw-$id" "school = $s" "audience = school" "$wait_ms"
}
# Apps of the school (one per connection: an account has one session).
for n in 1 2 3; do app sch-0102 "$n"; done
for n in 1 2; do app sch-0103 "$n"; done
ay_test_start_recorder
ay_test_start_watchdog

# 2a. The other school's app may not read sch-0102's feed, its twin, or
#     every school's.
for f in ay/v1/d01/escalation/school/sch-0102 ay/v1/d01/escalation/school/sch-0102/json \
  'ay/v1/d01/escalation/school/+' 'ay/v1/d01/escalation/#'; do
  expect_sub_denied "sch-0103's app reading $f" app-0103-02 pw-app-0103-02 "$f"
done
# A school's app does not read the bureau's feed either.
expect_sub_denied "a school's app reading the bureau's feed" app-0102-03 pw-app-0102-03 \
  ay/v1/d01/escalation/bureau

ay_sub_start sfeed app0102-1 escalation school             # protobuf
ay_sub_start sjson app0102-2 escalation school --wire json # the JSON twin
ay_sub_start ofeed app0103-1 escalation school             # sch-0103's own feed
ay_sub_start bfeed bureau escalation bureau

# lines FEED: the feed's messages about btn-0102-11.
lines() { jq -c 'select(.message.summary | contains("btn-0102-11"))' "$AY_T/$1.out"; }
has() { [ "$(lines "$1" | jq -s "[.[] | select($2)] | length")" -ge 1 ]; }
offline='.message.reason == "ESCALATION_REASON_DEVICE_OFFLINE" and .message.kind == "NOTIFICATION_KIND_FIRST"'

# 1. Silent: three heartbeats a second apart, then nothing.
ay_ctl dev1 heartbeat --interval 1 --count 3 >/dev/null 2>>"$AY_T/log/hb1.log" || ay_fail "heartbeat"
ay_wait_until 15 "the school told (protobuf)" has sfeed "$offline" ||
  ay_fail "not on the school's feed: $(cat "$AY_T/sfeed.out")"
ay_wait_until 10 "the school told (JSON twin)" has sjson "$offline" ||
  ay_fail "not on the school's JSON twin: $(cat "$AY_T/sjson.out")"
ay_wait_until 10 "the bureau told" has bfeed "$offline" ||
  ay_fail "not on the bureau's feed: $(cat "$AY_T/bfeed.out")"
first() { lines "$1" | jq -c "select($offline)" | head -n 1; }
s=$(first sfeed)
ay_expect_eq "protobuf on the school's feed" \
  "ay/v1/d01/escalation/school/sch-0102|protobuf|AUDIENCE_SCHOOL|sch-0102|safety_office|校安办|SUBJECT_KIND_DEVICE" \
  "$(jq -r '[.topic, .wire, .message.audience, .message.schoolId, .message.target, .message.targetName,
             .message.subjectKind] | join("|")' <<<"$s")"
grep -q '^测试学校 报警设备 btn-0102-11.*离线，无法报警，请立即核查。$' <<<"$(jq -r .message.summary <<<"$s")" ||
  ay_fail "the Chinese summary: $s"
grep -q 'is offline and cannot raise an alarm' <<<"$(jq -r .message.summaryEn <<<"$s")" ||
  ay_fail "the English summary: $s"
j=$(first sjson)
ay_expect_eq "the same message as JSON on the twin" \
  "ay/v1/d01/escalation/school/sch-0102/json|json|$(jq -r '.message.header.messageId + "|" + .message.escalationId' <<<"$s")" \
  "$(jq -r '[.topic, .wire, .message.header.messageId, .message.escalationId] | join("|")' <<<"$j")"
b=$(first bfeed)
ay_expect_eq "the bureau's own escalation" "AUDIENCE_BUREAU|duty_officer" \
  "$(jq -r '[.message.audience, .message.target] | join("|")' <<<"$b")"
[ "$(jq -r .message.escalationId <<<"$b")" != "$(jq -r .message.escalationId <<<"$s")" ] ||
  ay_fail "the school and the bureau share an escalation"
ay_expect_eq "one escalation per audience, both about the school" "AUDIENCE_BUREAU|sch-0102 AUDIENCE_SCHOOL|sch-0102" \
  "$(ay_psql "SELECT string_agg(audience || '|' || school_id, ' ' ORDER BY audience) FROM escalations
              WHERE reason = 'ESCALATION_REASON_DEVICE_OFFLINE' AND summary_zh LIKE '%btn-0102-11%'")"
esc=$(jq -r .message.escalationId <<<"$s")

# 2b. The other school heard nothing of it, and its ack is refused.
ay_expect_eq "nothing on sch-0103's feed" 0 "$(wc -l <"$AY_T/ofeed.out")"
out=$(ay_ctl app0103-2 ack "$esc" received --note "不是我们学校的" 2>&1) &&
  ay_fail "another school's ack was accepted: $out"
grep -q "is for school sch-0102; device app-0103-02 is of school sch-0103 (只能签收本校的通报)" <<<"$out" ||
  ay_fail "refusal: $out"
ay_expect_eq "refused: no ack row, still open" "0|open" \
  "$(ay_psql "SELECT (SELECT count(*) FROM acks WHERE escalation_id = '$esc'), status
              FROM escalations WHERE id = '$esc'")"
ay_sql_eq "kept as a dead letter" 1 \
  "SELECT count(*) FROM dead_letters WHERE device_id = 'app-0103-02' AND reason LIKE '%只能签收本校的通报%'"

# 3. The school's ack (an app of sch-0102, as JSON): stored, the school's
#    escalation acknowledged, the bureau's still waiting for the bureau.
r=$(ay_ctl app0102-3 ack "$esc" received --by "校安办 王老师" --note "已派人到东门查看" --wire json) ||
  ay_fail "the school's ack: $r"
ay_expect_eq "receipt stored" "RECEIPT_STATUS_STORED|$esc" "$(jq -r '.status + "|" + .reference' <<<"$r")"
ay_expect_eq "the ack row" "school|app-0102-03|ACK_KIND_RECEIVED|校安办 王老师" \
  "$(ay_psql "SELECT audience, by_account, kind, by_name FROM acks WHERE escalation_id = '$esc'")"
ay_expect_eq "the school's escalation acknowledged" "acknowledged|app-0102-03" \
  "$(ay_psql "SELECT status, acked_by FROM escalations WHERE id = '$esc'")"
ay_expect_eq "the bureau's still open" open \
  "$(ay_psql "SELECT status FROM escalations WHERE id = '$(jq -r .message.escalationId <<<"$b")'")"
out=$(ay_ctl app0102-3 ack "$(jq -r .message.escalationId <<<"$b")" received 2>&1) &&
  ay_fail "a school acknowledged the bureau's escalation: $out"
grep -q 'is addressed to bureau, not school' <<<"$out" || ay_fail "refusal: $out"

# 4. Back: the school is told, and the bureau; the school's staff read it
#    with ayctl watch (audience school, the configured school's feed).
ay_ctl app0102-3 watch --count 1 >"$AY_T/watch.out" 2>>"$AY_T/log/watch-app.log" &
watch_pid=$!
ay_wait_until 30 "watch subscribed" ay_log_has watch-app 'msg=subscribed' || ay_fail "watch did not subscribe"
ay_ctl dev1 heartbeat --interval 60 --count 1 >/dev/null 2>>"$AY_T/log/hb1.log" || ay_fail "heartbeat"
back='.message.kind == "NOTIFICATION_KIND_RESOLVED"'
ay_wait_until 15 "its return told to the school" has sfeed "$back" ||
  ay_fail "return not told to the school: $(lines sfeed)"
ay_wait_until 10 "and on the twin" has sjson "$back" || ay_fail "not on the twin: $(lines sjson)"
ay_wait_until 10 "and to the bureau" has bfeed "$back" || ay_fail "not to the bureau: $(lines bfeed)"
ay_expect_eq "the school's RESOLVED notice" "$esc|AUDIENCE_SCHOOL|ay/v1/d01/escalation/school/sch-0102" \
  "$(lines sfeed | jq -r "select($back) | [.message.escalationId, .message.audience, .topic] | join(\"|\")")"
grep -q '已恢复在线' <<<"$(lines sfeed | jq -r "select($back) | .message.summary")" ||
  ay_fail "the return's words: $(lines sfeed)"
wait "$watch_pid" || ay_fail "ayctl watch: $(cat "$AY_T/watch.out" "$AY_T/log/watch-app.log")"
grep -q '测试学校 报警设备 btn-0102-11.*已恢复在线.*| 致 校安办 | 已恢复 |' "$AY_T/watch.out" ||
  ay_fail "ayctl watch of the school: $(cat "$AY_T/watch.out")"
ay_expect_eq "both resolved" "resolved resolved" \
  "$(ay_psql "SELECT string_agg(status, ' ') FROM escalations
              WHERE reason = 'ESCALATION_REASON_DEVICE_OFFLINE' AND summary_zh LIKE '%btn-0102-11%'")"
ay_expect_eq "still nothing on sch-0103's feed" 0 "$(wc -l <"$AY_T/ofeed.out")"

# 5. The compliance table counts how the authorities answered escalations
#    about a school, not the school being told of its own device (0015):
#    the school's acknowledged one is in none of its columns (nor is the
#    bureau's, closed by the return before its time ran out).
ay_expect_eq "school escalations not in the compliance table" "0|0|0" \
  "$(ay_psql "SELECT escalations_acked_in_time, escalations_acked_late, escalations_never_acked
              FROM ay_compliance('d01', (now() AT TIME ZONE 'Asia/Shanghai')::date)
              WHERE school_id = 'sch-0102'")"
ay_test_pass
