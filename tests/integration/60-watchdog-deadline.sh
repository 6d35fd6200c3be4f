#!/usr/bin/env bash
# A written report that does not come in time is escalated at its due time:
# the watchdog sleeps until the deadline, marks it missed (with when it
# fired), creates the escalation and publishes it on the bureau's feed with
# the words a person reads. The notice itself was routed to the bureau at
# once (severity IV). An acknowledgement stops the reminders; nobody
# acknowledging climbs the chain.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_policy '{"verbal_notice":"30m","written_report":"4s",
  "chains":{"bureau":[{"target":"duty_officer","name_zh":"值班员","ack_timeout":"6s","reminder":"2s"},
                      {"target":"safety_head","name_zh":"安稳办负责人","ack_timeout":"30s","reminder":"30s"},
                      {"target":"city_bureau","ack_timeout":"1m","reminder":"1m"}]}}'
ay_test_start_recorder
ay_test_start_watchdog
ay_sub_start feed bureau escalation bureau
# The duty officer who acknowledges: another account (one connection each).
ay_test_account bureau d01 bureau-02 bureau2-pw
ay_test_conf bureau2 bureau-02 bureau2-pw

now=$(ay_now_iso)
jq --arg t "$now" '.occurredAt = $t | del(.discoveredAt)' "$AY_SOURCE_DIR/tests/data/e2e/notice.json" \
  >"$AY_T/notice.json"
r=$(ay_ctl device pub notice --json "$AY_T/notice.json") || ay_fail "pub notice"
incident=$(jq -r .refMessageId <<<"$r")

# 1. Routed at once (severity IV: the bureau's duty officer).
first() { [ "$(jq -s '[.[] | select(.message.reason == "ESCALATION_REASON_INCIDENT")] | length' "$AY_T/feed.out")" -ge 1 ]; }
ay_wait_until 10 "the incident on the bureau's feed" first || ay_fail "no incident escalation: $(cat "$AY_T/feed.out")"

# 2. The written report is due 4 s after occurrence: missed, escalated.
missed() { [ "$(jq -s '[.[] | select(.message.reason == "ESCALATION_REASON_DEADLINE_MISSED")] | length' "$AY_T/feed.out")" -ge 1 ]; }
ay_wait_until 20 "the missed written report on the bureau's feed" missed ||
  ay_fail "no deadline escalation: $(cat "$AY_T/feed.out")"
line=$(jq -c 'select(.message.reason == "ESCALATION_REASON_DEADLINE_MISSED")' "$AY_T/feed.out" | head -n 1)
ay_expect_eq "missed deadline kind" DEADLINE_KIND_WRITTEN_REPORT "$(jq -r .message.missed.kind <<<"$line")"
ay_expect_eq "subject" "$incident" "$(jq -r .message.subjectId <<<"$line")"
grep -q '书面报告逾期未报' <<<"$(jq -r .message.summary <<<"$line")" || ay_fail "summary: $line"
grep -q '测试学校' <<<"$(jq -r .message.summary <<<"$line")" || ay_fail "summary without the school's name: $line"
ay_expect_eq "deadline marked missed, fired within a second of its due time" "missed|t" \
  "$(ay_psql "SELECT status, fired_at - due_at < interval '1 second' FROM deadlines
              WHERE subject_id = '$incident' AND kind = 'DEADLINE_KIND_WRITTEN_REPORT'")"
ay_expect_eq "one escalation per missed deadline" 1 \
  "$(ay_psql "SELECT count(*) FROM escalations WHERE subject_id = '$incident'
              AND reason = 'ESCALATION_REASON_DEADLINE_MISSED'")"
esc=$(jq -r .message.escalationId <<<"$line")

# 3. Reminders every 2 s while unacknowledged...
reminded() { [ "$(jq -s --arg e "$esc" '[.[] | select(.message.escalationId == $e and .message.kind == "NOTIFICATION_KIND_REMINDER")] | length' "$AY_T/feed.out")" -ge 1 ]; }
ay_wait_until 10 "a reminder" reminded || ay_fail "no reminder: $(cat "$AY_T/feed.out")"

# 4. ... until acknowledged: then no more messages for it.
jq -n --arg e "$esc" --arg t "$(ay_now_iso)" \
  '{escalationId: $e, kind: "ACK_KIND_RECEIVED", at: $t, by: {name: "周敏"}}' >"$AY_T/ack.json"
ay_ctl bureau2 pub ack --audience bureau --json "$AY_T/ack.json" --no-receipt >/dev/null || ay_fail "ack"
ay_sql_eq "acknowledged" acknowledged "SELECT status FROM escalations WHERE id = '$esc'"
count_msgs() { jq -s --arg e "$esc" '[.[] | select(.message.escalationId == $e)] | length' "$AY_T/feed.out"; }
before=$(count_msgs)
sleep 5 # two reminder intervals: nothing may come
ay_expect_eq "no reminder after the acknowledgement" "$before" "$(count_msgs)"
ay_expect_eq "pending notifications of it cancelled" 0 \
  "$(ay_psql "SELECT count(*) FROM notifications WHERE escalation_id = '$esc' AND state = 'pending'")"

# 5. The incident's own escalation, never acknowledged, climbs after 6 s.
inc_esc=$(ay_psql "SELECT id FROM escalations WHERE subject_id = '$incident' AND reason = 'ESCALATION_REASON_INCIDENT'")
climbed() { [ "$(jq -s --arg e "$inc_esc" '[.[] | select(.message.escalationId == $e and .message.kind == "NOTIFICATION_KIND_CLIMB")] | length' "$AY_T/feed.out")" -ge 1 ]; }
ay_wait_until 15 "the climb to the next step" climbed || ay_fail "no climb: $(cat "$AY_T/feed.out")"
ay_expect_eq "the next step" "2 safety_head" \
  "$(jq -r --arg e "$inc_esc" 'select(.message.escalationId == $e and .message.kind == "NOTIFICATION_KIND_CLIMB") | "\(.message.level) \(.message.target)"' "$AY_T/feed.out" | head -n 1)"
ay_expect_eq "every step kept in the audit trail" t \
  "$(ay_psql "SELECT count(*) >= 4 FROM audit_events WHERE escalation_id = '$inc_esc'")"
ay_test_pass
