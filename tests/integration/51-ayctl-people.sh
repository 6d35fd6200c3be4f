#!/usr/bin/env bash
# The ayctl commands for police, bureau and government staff:
# - watch prints each escalation of the account's feed once (a re-send with
#   the same messageId is not printed again) as a line for a person, in
#   Chinese by default, in English with --lang en, as JSON with --json;
# - ack publishes an Ack as the account on ay/v1/d01/ack/bureau/<account>,
#   re-sends it with the same messageId until its receipt comes on
#   ay/v1/d01/ack-receipt/bureau/<account>, prints the receipt and exits 0
#   (stored, duplicate) or 1 (rejected, or no receipt in time);
# - deadlines lists the open deadlines per school with how late they are,
#   --all also those met or cancelled in the last 30 days;
# - history merges an incident's (alarm's, escalation's) messages,
#   deadlines, escalations and audit trail in time order;
# all with times in the district's zone.
#
# The watchdog (services/watchdog) is not started: escalations are
# published by hand as a service account, receipts of acks are hand-made
# the same way, and deadline, escalation and audit rows are inserted with
# SQL. XXX(#11): once the watchdog answers acks, add the end-to-end check:
# `ayctl ack` of an escalation the watchdog published gets a STORED receipt
# from it, a second one DUPLICATE, an unknown escalation REJECTED (see
# 60-watchdog-deadline.sh for starting it).
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
"$AYCTL" registry add-school d01 sch-0103 "第二学校" "Second school" || ay_fail "registry"
"$AYCTL" registry add-district d02 || ay_fail "registry"

I=11111111-1111-4111-8111-111111111111 # an incident (its notice's message id)
R=22222222-2222-4222-8222-222222222222 # its written report
E=33333333-3333-4333-8333-333333333333 # its escalation (missed written report)
A=44444444-4444-4444-8444-444444444444 # the alarm the notice followed
H=55555555-5555-4555-8555-555555555555 # a hazard of the other school
UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

# local TIMESTAMPTZ-EXPRESSION [FORMAT] [ZONE]: its local time as ayctl shows it.
local_time() {
  ay_psql "SELECT to_char(($1) AT TIME ZONE '${3:-Asia/Shanghai}', '${2:-YYYY-MM-DD HH24:MI}')"
}

# ============================================================== watch
sent=$(ay_now_iso)
due=$(ay_now_iso '+15 minutes')
# escalation MESSAGE-ID KIND: a hand-made Escalation of $E, as the watchdog sends them.
escalation() {
  jq -n --arg m "$1" --arg k "$2" --arg e "$E" --arg i "$I" --arg s "$sent" --arg d "$due" '{
    header: {messageId: $m, sentAt: $s}, escalationId: $e, audience: "AUDIENCE_BUREAU",
    subjectKind: "SUBJECT_KIND_INCIDENT", subjectId: $i, schoolId: "sch-0102",
    schoolName: "测试学校", reason: "ESCALATION_REASON_DEADLINE_MISSED", level: 1,
    severity: "SEVERITY_IV", summary: "学生体育课摔伤（一般）书面报告逾期未报，请督办。",
    summaryEn: "Student injured in PE class (general): written report overdue.",
    ackBy: {kind: "DEADLINE_KIND_ACKNOWLEDGEMENT", dueAt: $d, subjectId: $e},
    kind: $k, target: "duty_officer", targetName: "教育局值班员"}' >"$AY_T/esc-$1.json"
  ay_ctl recorder pub escalation --audience bureau --json "$AY_T/esc-$1.json" >/dev/null \
    2>>"$AY_T/pub.err" || ay_fail "publishing escalation $1: $(cat "$AY_T/pub.err")"
}
# watch_start NAME ARGS...: `ayctl watch ARGS` as bureau-01, lines in $AY_T/NAME.out.
watch_start() {
  local name=$1
  shift
  "$AYCTL" --config "$AY_T/etc/bureau.conf" watch "$@" >"$AY_T/$name.out" 2>>"$AY_T/log/$name.log" &
  echo $! >"$AY_T/$name.pid"
  AY_T_PIDFILES+=("$AY_T/$name.pid")
  ay_wait_until 30 "$name subscribed" ay_log_has "$name" 'msg=subscribed' ||
    ay_fail "$name could not subscribe: $(cat "$AY_T/log/$name.log")"
}
watch_end() { # NAME: waits for it; it must have exited 0
  wait "$(cat "$AY_T/$1.pid")" || ay_fail "$1 failed: $(cat "$AY_T/log/$1.log")"
  rm -f "$AY_T/$1.pid"
}
at=$(local_time "'$sent'::timestamptz")
ack_by=$(ay_psql "SELECT CASE WHEN ('$due'::timestamptz AT TIME ZONE 'Asia/Shanghai')::date =
                                   ('$sent'::timestamptz AT TIME ZONE 'Asia/Shanghai')::date
                         THEN to_char('$due'::timestamptz AT TIME ZONE 'Asia/Shanghai', 'HH24:MI')
                         ELSE to_char('$due'::timestamptz AT TIME ZONE 'Asia/Shanghai',
                                      'YYYY-MM-DD HH24:MI') END")

# Chinese, and a re-send (same messageId) printed once: the second line is
# the reminder, not the first notice again.
M1=$(cat /proc/sys/kernel/random/uuid)
M2=$(cat /proc/sys/kernel/random/uuid)
watch_start watch-zh --count 2
escalation "$M1" NOTIFICATION_KIND_FIRST
escalation "$M1" NOTIFICATION_KIND_FIRST
escalation "$M2" NOTIFICATION_KIND_REMINDER
watch_end watch-zh
ay_expect_eq "watch, Chinese" \
  "$at 测试学校 | 迟报 | 学生体育课摔伤（一般）书面报告逾期未报，请督办。 | 致 教育局值班员 | 首次通知 | 签收期限 $ack_by | 编号 $E
$at 测试学校 | 迟报 | 学生体育课摔伤（一般）书面报告逾期未报，请督办。 | 致 教育局值班员 | 提醒 | 签收期限 $ack_by | 编号 $E" \
  "$(cat "$AY_T/watch-zh.out")"

# English.
watch_start watch-en --lang en --count 1
escalation "$(cat /proc/sys/kernel/random/uuid)" NOTIFICATION_KIND_CLIMB
watch_end watch-en
ay_expect_eq "watch, English" \
  "$at 测试学校 | Deadline missed | Student injured in PE class (general): written report overdue. | to bureau duty officer | Escalated to the next level | acknowledge by $ack_by | id $E" \
  "$(cat "$AY_T/watch-en.out")"

# JSON lines, as `ayctl sub` prints them.
M3=$(cat /proc/sys/kernel/random/uuid)
watch_start watch-json --json --count 1
escalation "$M3" NOTIFICATION_KIND_REMINDER
watch_end watch-json
ay_expect_eq "watch, JSON" "ay/v1/d01/escalation/bureau|escalation|$M3|$E|NOTIFICATION_KIND_REMINDER" \
  "$(jq -r '"\(.topic)|\(.type)|\(.message.header.messageId)|\(.message.escalationId)|\(.message.kind)"' "$AY_T/watch-json.out")"

# Usage errors, and a feed the account may not read.
rc=0; ay_ctl bureau watch --audience army >/dev/null 2>"$AY_T/err" || rc=$?
ay_expect_eq "watch, unknown audience" 2 "$rc"
grep -q 'unknown audience "army"' "$AY_T/err" || ay_fail "watch --audience army: $(cat "$AY_T/err")"
rc=0; ay_ctl bureau watch --audience police --count 1 >/dev/null 2>"$AY_T/err" || rc=$?
ay_expect_eq "watch, another audience's feed" 1 "$rc"
grep -q 'refused subscription to ay/v1/d01/escalation/police' "$AY_T/err" ||
  ay_fail "watch --audience police as bureau: $(cat "$AY_T/err")"

# ================================================================ ack
# A spy on every ack of d01 (a service account, raw bytes as hex), made
# ready with probes on a topic the service may publish to.
ay_spawn spy mosquitto_sub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u svc-recorder -P svc-pw \
  -i ack-spy -q 1 -F '%t %x' -t 'ay/v1/d01/ack/#' -t 'ay/v1/d01/ack-receipt/bureau/probe'
probe() {
  mosquitto_pub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u svc-recorder -P svc-pw -i probe-pub -q 1 \
    -t ay/v1/d01/ack-receipt/bureau/probe -m probe >/dev/null 2>&1 &&
    grep -q '^ay/v1/d01/ack-receipt/bureau/probe 70726f6265$' "$AY_T/log/spy.log"
}
ay_wait_until 15 "the spy subscribed" probe || ay_fail "the spy never got a probe"
ACK_TOPIC=ay/v1/d01/ack/bureau/bureau-01
bytes() { printf '%b' "$(sed 's/../\\x&/g' <<<"$1")"; }
acks_seen() { grep -c "^$ACK_TOPIC " "$AY_T/log/spy.log"; }
more_acks_than() { [ "$(acks_seen)" -gt "$1" ]; }
# The message ids of the acks on ACK_TOPIC, in order (the header is the
# first field, its messageId the first string in it).
ack_ids() {
  grep "^$ACK_TOPIC " "$AY_T/log/spy.log" | while read -r _ hex; do
    bytes "$hex" | grep -aoE "$UUID_RE" | sed -n 1p
  done
}

# 1. Without waiting for a receipt: the Ack is on the account's topic.
ay_ctl bureau ack "$E" received --note "已电话督促学校一小时内补报" --by "周敏" --no-receipt \
  >"$AY_T/ack1.out" 2>"$AY_T/ack1.err" || ay_fail "ack --no-receipt: $(cat "$AY_T/ack1.err")"
ay_expect_eq "the Ack printed" "$E|ACK_KIND_RECEIVED|周敏|已电话督促学校一小时内补报|bureau-01|d01" \
  "$(jq -r '"\(.escalationId)|\(.kind)|\(.by.name)|\(.note)|\(.header.deviceId)|\(.header.districtId)"' "$AY_T/ack1.out")"
m=$(jq -r .header.messageId "$AY_T/ack1.out")
ay_wait_until 10 "the ack on $ACK_TOPIC" grep -q "^$ACK_TOPIC " "$AY_T/log/spy.log" ||
  ay_fail "no ack on $ACK_TOPIC: $(cat "$AY_T/log/spy.log")"
ay_expect_eq "the ack on the account's topic carries its id" "$m" "$(ack_ids | tail -n 1)"
hex=$(grep "^$ACK_TOPIC " "$AY_T/log/spy.log" | tail -n 1 | cut -d' ' -f2)
bytes "$hex" >"$AY_T/ack1.bin"
grep -aqF "$E" "$AY_T/ack1.bin" || ay_fail "the ack does not name the escalation"
grep -aqF "周敏" "$AY_T/ack1.bin" || ay_fail "the ack does not name who acknowledged"
ay_expect_eq "acks only on the account's topic" 0 \
  "$(grep '^ay/v1/d01/ack/' "$AY_T/log/spy.log" | grep -vc "^$ACK_TOPIC " || true)"

# 2. No receipt: re-sent with the same messageId until the timeout, exit 1.
before=$(acks_seen)
rc=0
AY_TIMEOUT_MS=2500 AY_RECEIPT_WAIT_MS=500 ay_ctl bureau ack "$E" dispatched \
  >"$AY_T/ack2.out" 2>"$AY_T/ack2.err" || rc=$?
ay_expect_eq "ack without a receipt" 1 "$rc"
grep -qE "no receipt for message $UUID_RE within 2500 ms \(sent [2-9] times\)" "$AY_T/ack2.err" ||
  ay_fail "ack without a receipt: $(cat "$AY_T/ack2.err")"
m2=$(grep -oE "no receipt for message $UUID_RE" "$AY_T/ack2.err" | grep -oE "$UUID_RE")
resent() { [ "$(ack_ids | grep -c "$m2")" -ge 2 ]; }
ay_wait_until 5 "the re-sends" resent ||
  ay_fail "ack $m2 was not re-sent: $(ack_ids)"
ay_expect_eq "every re-send is the same message" 1 \
  "$(grep "^$ACK_TOPIC " "$AY_T/log/spy.log" | tail -n +$((before + 1)) | cut -d' ' -f2 | sort -u | wc -l)"

# 3. With a receipt (hand-made here, as the watchdog will send it): printed;
# exit 0 when stored or duplicate, 1 with the reason when rejected.
# ack_with_receipt NAME STATE STATUS [REASON]: runs ayctl ack in the
# background, answers its (first) Ack with a receipt of STATUS; sets RC.
ack_with_receipt() {
  local name=$1 state=$2 status=$3 reason=${4:-} n pid id
  n=$(acks_seen)
  "$AYCTL" --config "$AY_T/etc/bureau.conf" ack "$E" "$state" >"$AY_T/$name.out" \
    2>"$AY_T/$name.err" &
  pid=$!
  echo "$pid" >"$AY_T/$name.pid"
  AY_T_PIDFILES+=("$AY_T/$name.pid")
  ay_wait_until 15 "$name published" more_acks_than "$n" ||
    ay_fail "$name: no ack published: $(cat "$AY_T/$name.err")"
  id=$(ack_ids | tail -n 1)
  jq -n --arg r "$id" --arg s "$status" --arg why "$reason" \
    '{refMessageId: $r, status: $s, reference: "r-1"} + (if $why != "" then {reason: $why} else {} end)' \
    >"$AY_T/$name-receipt.json"
  ay_ctl recorder pub receipt --topic ay/v1/d01/ack-receipt/bureau/bureau-01 \
    --json "$AY_T/$name-receipt.json" >/dev/null 2>>"$AY_T/pub.err" || ay_fail "$name: receipt"
  RC=0
  wait "$pid" || RC=$?
  rm -f "$AY_T/$name.pid"
  ay_expect_eq "$name: the receipt printed" "$id|$status" \
    "$(jq -r '"\(.refMessageId)|\(.status)"' "$AY_T/$name.out")"
}
ack_with_receipt ack3 on-scene RECEIPT_STATUS_STORED
ay_expect_eq "stored: exit 0" 0 "$RC"
ack_with_receipt ack4 resolved RECEIPT_STATUS_DUPLICATE
ay_expect_eq "duplicate: exit 0" 0 "$RC"
ack_with_receipt ack5 FALSE_ALARM RECEIPT_STATUS_REJECTED "ack.escalationId: unknown escalation $E"
ay_expect_eq "rejected: exit 1" 1 "$RC"
grep -qF "was rejected: ack.escalationId: unknown escalation $E" "$AY_T/ack5.err" ||
  ay_fail "rejected ack: $(cat "$AY_T/ack5.err")"

# 4. Refused before anything is sent.
for bad in "not-a-uuid received" "$E arrived" "$E"; do
  rc=0
  # shellcheck disable=SC2086
  ay_ctl bureau ack $bad >/dev/null 2>"$AY_T/err" || rc=$?
  ay_expect_eq "ack $bad" 2 "$rc"
done
rc=0; ay_ctl bureau ack "$E" received --audience police >/dev/null 2>"$AY_T/err" || rc=$?
ay_expect_eq "ack on another audience's topic" 1 "$rc"
grep -q "refused subscription to ay/v1/d01/ack-receipt/police/bureau-01" "$AY_T/err" ||
  ay_fail "ack --audience police as bureau: $(cat "$AY_T/err")"

# One instant for the whole fixture and its expectations: every time below
# is relative to it, so a minute that turns while the test runs changes
# nothing (expectations are shown to the minute).
NOW="'$(ay_psql "SELECT now()")'::timestamptz"
# ===================================================== deadlines, history
# An incident of sch-0102 that followed an alarm: its notice two hours ago,
# its written report 70 minutes later, deadlines in every state, the
# escalation of the missed written report and its audit trail; a hazard of
# sch-0103; a monthly report met 40 days ago (too old for --all).
ay_psql "
INSERT INTO messages (message_id, kind, topic, district_id, school_id, device_id, sent_at,
                      received_at, payload, body)
SELECT id::uuid, kind, 'ay/v1/d01/school/' || school || '/btn-0102-01/' || kind, 'd01', school,
       'btn-0102-01', t, t, '\\x00', body::jsonb
FROM (VALUES
  ('$A', 'alarm', 'sch-0102', date_trunc('minute', $NOW) - interval '125 minutes', '{}'),
  ('$I', 'notice', 'sch-0102', date_trunc('minute', $NOW) - interval '120 minutes',
   '{\"alarmId\": \"$A\"}'),
  ('$R', 'report', 'sch-0102', date_trunc('minute', $NOW) - interval '50 minutes',
   '{\"incidentId\": \"$I\"}'),
  ('$H', 'hazard', 'sch-0103', date_trunc('minute', $NOW) - interval '1 day', '{}'))
  AS m(id, kind, school, t, body);
INSERT INTO incidents (id, district_id, school_id, category, severity, occurred_at, noticed_at,
                       place, summary)
VALUES ('$I', 'd01', 'sch-0102', 'INCIDENT_CATEGORY_ACCIDENTAL_INJURY', 'SEVERITY_IV',
        $NOW - interval '2 hours', $NOW - interval '2 hours', '操场', '学生体育课摔伤');
INSERT INTO incident_reports (message_id, incident_id, kind, submitted_at, body)
VALUES ('$R', '$I', 'REPORT_KIND_INITIAL_WRITTEN', $NOW - interval '50 minutes', '');
" || ay_fail "fixture messages"
T0="date_trunc('minute', $NOW) - interval '120 minutes'"
ay_psql "
INSERT INTO deadlines (kind, subject_kind, subject_id, district_id, school_id, due_at, created_by,
                       status, closed_at, late_s, fired_at, created_at, seq)
VALUES
  ('DEADLINE_KIND_ALARM_NOTICE', 'SUBJECT_KIND_ALARM', '$A', 'd01', 'sch-0102',
   $T0 - interval '5 minutes', '$A', 'met', $T0, 300, NULL, $T0 - interval '5 minutes', 0),
  ('DEADLINE_KIND_VERBAL_NOTICE', 'SUBJECT_KIND_INCIDENT', '$I', 'd01', 'sch-0102',
   $T0 + interval '30 minutes', '$I', 'met', $T0, NULL, NULL, $T0, 0),
  ('DEADLINE_KIND_WRITTEN_REPORT', 'SUBJECT_KIND_INCIDENT', '$I', 'd01', 'sch-0102',
   date_trunc('minute', $NOW) - interval '25 minutes', '$I', 'missed', NULL, NULL,
   date_trunc('minute', $NOW) - interval '25 minutes', $T0, 0),
  ('DEADLINE_KIND_FOLLOW_UP_REPORT', 'SUBJECT_KIND_INCIDENT', '$I', 'd01', 'sch-0102',
   date_trunc('minute', $NOW) + interval '60 minutes', '$I', 'pending', NULL, NULL, NULL, $T0, 0),
  ('DEADLINE_KIND_FINAL_REPORT', 'SUBJECT_KIND_INCIDENT', '$I', 'd01', 'sch-0102',
   $NOW - interval '1 day', '$I', 'cancelled', $NOW - interval '2 days', NULL, NULL, $T0, 0),
  ('DEADLINE_KIND_MONTHLY_REPORT', 'SUBJECT_KIND_MONTHLY_REPORT', gen_random_uuid(), 'd01',
   'sch-0102', $NOW - interval '41 days', '$I', 'met', $NOW - interval '40 days', NULL, NULL,
   $NOW - interval '70 days', 0),
  ('DEADLINE_KIND_HAZARD_RECTIFICATION', 'SUBJECT_KIND_HAZARD', '$H', 'd01', 'sch-0103',
   date_trunc('minute', $NOW) + interval '3 days', '$H', 'pending', NULL, NULL, NULL,
   $NOW - interval '1 day', 0);
" || ay_fail "fixture deadlines"
W=$(ay_psql "SELECT id FROM deadlines WHERE kind = 'DEADLINE_KIND_WRITTEN_REPORT'")
WDUE="date_trunc('minute', $NOW) - interval '25 minutes'"
ay_psql "
INSERT INTO escalations (id, district_id, school_id, audience, subject_kind, subject_id, reason,
                         level, status, deadline_id, created_at)
VALUES ('$E', 'd01', 'sch-0102', 'AUDIENCE_BUREAU', 'SUBJECT_KIND_INCIDENT', '$I',
        'ESCALATION_REASON_DEADLINE_MISSED', 2, 'acknowledged', $W, $WDUE + interval '1 second');
INSERT INTO audit_events (at, district_id, school_id, subject_id, escalation_id, deadline_id,
                          actor, action, detail)
VALUES
  ($WDUE + interval '1 second', 'd01', 'sch-0102', '$I', NULL, $W, 'watchdog', 'deadline.missed', '{}'),
  ($WDUE + interval '1 second', 'd01', 'sch-0102', '$I', '$E', NULL, 'watchdog',
   'escalation.created', '{\"audience\": \"bureau\", \"level\": 1}'),
  ($WDUE + interval '5 minutes', 'd01', 'sch-0102', NULL, '$E', NULL, 'bureau-01', 'ack.received',
   '{\"kind\": \"ACK_KIND_RECEIVED\"}'),
  ($NOW, 'd01', 'sch-0103', '$H', NULL, NULL, 'recorder', 'hazard.registered', '{}');
" || ay_fail "fixture escalation"

# deadlines: the open ones per school, the missed one with its lateness now.
ay_ctl bureau deadlines >"$AY_T/dl.out" 2>"$AY_T/dl.err" || ay_fail "deadlines: $(cat "$AY_T/dl.err")"
wdue=$(local_time "$WDUE")
fdue=$(local_time "date_trunc('minute', $NOW) + interval '60 minutes'")
hdue=$(local_time "date_trunc('minute', $NOW) + interval '3 days'")
expected="测试学校（sch-0102）
  书面报告 | 安全事件 $I | 截止 $wdue | 已逾期，迟 LATE 分钟
  续报 | 安全事件 $I | 截止 $fdue | 待完成
第二学校（sch-0103）
  隐患整改时限 | 安全隐患 $H | 截止 $hdue | 待完成"
ay_expect_eq "deadlines, Chinese" "$expected" "$(sed -E 's/迟 2[5-7] 分钟/迟 LATE 分钟/' "$AY_T/dl.out")"

ay_ctl bureau deadlines --lang en --school sch-0102 --all >"$AY_T/dl-en.out" 2>"$AY_T/dl.err" ||
  ay_fail "deadlines --all: $(cat "$AY_T/dl.err")"
expected="Test school (sch-0102)
  Final report | Incident $I | due $(local_time "$NOW - interval '1 day'") | cancelled
  Notice after an alarm | Alarm $A | due $(local_time "$T0 - interval '5 minutes'") | met, 5 min late
  Verbal notice | Incident $I | due $(local_time "$T0 + interval '30 minutes'") | met, on time
  Written report | Incident $I | due $wdue | missed, LATE min late
  Follow-up report | Incident $I | due $fdue | pending"
ay_expect_eq "deadlines --all, English, one school" "$expected" \
  "$(sed -E 's/2[5-7] min late/LATE min late/' "$AY_T/dl-en.out")"
ay_ctl bureau deadlines --district d02 >"$AY_T/dl.out" 2>"$AY_T/dl.err" || ay_fail "deadlines d02"
ay_expect_eq "no deadlines" "没有未完成的时限" "$(cat "$AY_T/dl.out")"
rc=0; ay_ctl bureau deadlines --district d99 >/dev/null 2>"$AY_T/dl.err" || rc=$?
ay_expect_eq "deadlines of an unknown district" 2 "$rc"

# history: everything about the incident, in time order.
ay_ctl bureau history "$I" >"$AY_T/h.out" 2>"$AY_T/h.err" || ay_fail "history: $(cat "$AY_T/h.err")"
t0=$(local_time "$T0" 'YYYY-MM-DD HH24:MI:SS')
tr=$(local_time "date_trunc('minute', $NOW) - interval '50 minutes'" 'YYYY-MM-DD HH24:MI:SS')
tw=$(local_time "$WDUE + interval '1 second'" 'YYYY-MM-DD HH24:MI:SS')
ta=$(local_time "$WDUE + interval '5 minutes'" 'YYYY-MM-DD HH24:MI:SS')
expected="$t0 | 收到 事件报告 | 设备 btn-0102-01 | 编号 $I
$t0 | 时限 口头报告 | 截止 $(local_time "$T0 + interval '30 minutes'") | 已完成，按时
$t0 | 时限 书面报告 | 截止 $wdue | 已逾期
$t0 | 时限 续报 | 截止 $fdue | 待完成
$t0 | 时限 终报 | 截止 $(local_time "$NOW - interval '1 day'") | 已取消
$tr | 收到 书面报告 | 设备 btn-0102-01 | 编号 $R
$tw | 上报 区县教育局 | 迟报 | 第2级 | 已签收 | 编号 $E
$tw | 记录 deadline.missed | 操作者 watchdog
$tw | 记录 escalation.created | 操作者 watchdog | {\"level\": 1, \"audience\": \"bureau\"}
$ta | 记录 ack.received | 操作者 bureau-01 | {\"kind\": \"ACK_KIND_RECEIVED\"}"
ay_expect_eq "history of the incident" "$expected" "$(cat "$AY_T/h.out")"
ay_ctl bureau history "$E" --lang en >"$AY_T/h.out" 2>"$AY_T/h.err" || ay_fail "history of E"
expected="$tw | escalated to Education bureau | Deadline missed | level 2 | acknowledged | id $E
$tw | audit escalation.created | by watchdog | {\"level\": 1, \"audience\": \"bureau\"}
$ta | audit ack.received | by bureau-01 | {\"kind\": \"ACK_KIND_RECEIVED\"}"
ay_expect_eq "history of the escalation" "$expected" "$(cat "$AY_T/h.out")"
ay_ctl bureau history "$A" --lang en >"$AY_T/h.out" 2>"$AY_T/h.err" || ay_fail "history of A"
expected="$(local_time "$T0 - interval '5 minutes'" 'YYYY-MM-DD HH24:MI:SS') | received alarm | device btn-0102-01 | id $A
$(local_time "$T0 - interval '5 minutes'" 'YYYY-MM-DD HH24:MI:SS') | deadline Notice after an alarm | due $(local_time "$T0 - interval '5 minutes'") | met, 5 min late
$t0 | received incident notice | device btn-0102-01 | id $I"
ay_expect_eq "history of the alarm (and the notice that followed it)" "$expected" "$(cat "$AY_T/h.out")"
rc=0; ay_ctl bureau history 99999999-9999-4999-8999-999999999999 >/dev/null 2>"$AY_T/h.err" || rc=$?
ay_expect_eq "history of an unknown id" 1 "$rc"
grep -q "nothing is known about 99999999-9999-4999-8999-999999999999" "$AY_T/h.err" ||
  ay_fail "unknown id: $(cat "$AY_T/h.err")"
rc=0; ay_ctl bureau history sch-0102 >/dev/null 2>"$AY_T/h.err" || rc=$?
ay_expect_eq "history of something that is not an id" 2 "$rc"

# Times follow the district's zone: after the policy moves d01 to New York.
"$AYCTL" policy set timezone America/New_York 2>/dev/null || ay_fail "policy set timezone"
ay_ctl bureau deadlines --school sch-0103 >"$AY_T/dl.out" 2>"$AY_T/dl.err" || ay_fail "deadlines"
ay_expect_eq "deadlines in New York time" "第二学校（sch-0103）
  隐患整改时限 | 安全隐患 $H | 截止 $(local_time "date_trunc('minute', $NOW) + interval '3 days'" 'YYYY-MM-DD HH24:MI' America/New_York) | 待完成" \
  "$(cat "$AY_T/dl.out")"
ay_test_pass
