#!/usr/bin/env bash
# Issue 13, periodic reports (domain.md rule 4), with the recorder and the
# watchdog on today's real calendar (no clock is moved: the school is
# registered three months back, so the report last due is already missing):
# 1. the reports every school owes are scheduled from the calendar before
#    anything arrives: the monthly safety report, the risk report of two
#    months and the hazard self-inspection, each with its due time (before
#    the 5th, 00:00 Beijing time);
# 2. the monthly report last due is missing: escalated to the bureau once,
#    on its feed, in words (安全月报逾期未报);
# 3. it arrives late: stored as late with how late (the receipt says so),
#    its escalation ends and the bureau is told it came (RESOLVED);
# 4. this month's report arrives before its due time: met on time;
# 5. a watchdog restart schedules nothing twice and escalates nothing twice.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_psql "UPDATE schools SET created_at = now() - interval '90 days'" >/dev/null
ay_test_start_recorder
ay_sub_start bfeed bureau escalation bureau
ay_test_start_watchdog

# The months in the district's zone: this one, and the one whose report is
# the last already due (the 5th, 00:00, has passed).
export TZ=Asia/Shanghai
this=$(date +%Y-%m-01)
if [ "$(date +%-d)" -ge 5 ]; then missing=$(date -d "$this -1 month" +%Y-%m-01); else missing=$(date -d "$this -2 months" +%Y-%m-01); fi
unset TZ
due_of() { TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date -d "$1 +1 month" +%Y-%m-05) 00:00" +%s; }
dl() { # KIND PERIOD -> status|due (epoch)|late_s
  ay_psql "SELECT status || '|' || extract(epoch FROM due_at)::bigint || '|' || coalesce(late_s::text, '')
           FROM deadlines WHERE kind = '$1' AND period = '$2' AND school_id = 'sch-0102'"
}

# 1. Scheduled before anything arrived.
ay_sql_eq "this month's report scheduled" "pending|$(due_of "$this")|" \
  "SELECT status || '|' || extract(epoch FROM due_at)::bigint || '|' || coalesce(late_s::text, '')
   FROM deadlines WHERE kind = 'DEADLINE_KIND_MONTHLY_REPORT' AND period = '$this'"
ay_expect_eq "the self-inspection too" "pending|$(due_of "$this")|" "$(dl DEADLINE_KIND_HAZARD_SELF_CHECK "$this")"
ay_expect_eq "and the risk report of this month's two" 1 \
  "$(ay_psql "SELECT count(*) FROM deadlines WHERE kind = 'DEADLINE_KIND_RISK_REPORT'
              AND period <= '$this' AND due_at > now() AND school_id = 'sch-0102'")"
ay_expect_eq "scheduled, not created by a message" "" \
  "$(ay_psql "SELECT created_by FROM deadlines WHERE kind = 'DEADLINE_KIND_MONTHLY_REPORT' AND period = '$this'")"

# 2. The missing one: missed at once, escalated once, on the bureau's feed.
ay_sql_eq "the missing report missed" missed \
  "SELECT status FROM deadlines WHERE kind = 'DEADLINE_KIND_MONTHLY_REPORT' AND period = '$missing'"
missing_id=$(ay_psql "SELECT subject_id FROM deadlines WHERE kind = 'DEADLINE_KIND_MONTHLY_REPORT' AND period = '$missing'")
on_feed() { [ "$(jq -s --arg s "$missing_id" --arg k "$1" '[.[] | select(.message.subjectId == $s and .message.kind == $k)] | length' "$AY_T/bfeed.out")" -ge 1 ]; }
ay_wait_until 15 "the missing report on the bureau's feed" on_feed NOTIFICATION_KIND_FIRST ||
  ay_fail "not escalated: $(cat "$AY_T/bfeed.out")"
line=$(jq -c --arg s "$missing_id" 'select(.message.subjectId == $s)' "$AY_T/bfeed.out" | head -n 1)
ay_expect_eq "why" "ESCALATION_REASON_DEADLINE_MISSED|DEADLINE_KIND_MONTHLY_REPORT" \
  "$(jq -r '.message.reason + "|" + .message.missed.kind' <<<"$line")"
grep -q '安全月报逾期未报' <<<"$(jq -r .message.summary <<<"$line")" || ay_fail "summary: $line"

# 3. It arrives late: stored, late by days, the escalation over.
y=${missing:0:4}
m=$((10#${missing:5:2}))
jq --argjson y "$y" --argjson m "$m" '.year = $y | .month = $m | del(.signedAt)' \
  "$AY_SOURCE_DIR/tests/data/e2e/monthly.json" >"$AY_T/late.json"
r=$(ay_ctl device pub monthly --json "$AY_T/late.json") || ay_fail "pub monthly: $r"
ay_expect_eq "stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
grep -q 'late: Monthly safety report was due' <<<"$(jq -r .reason <<<"$r")" || ay_fail "receipt: $r"
late=$(dl DEADLINE_KIND_MONTHLY_REPORT "$missing")
[ "${late%%|*}" = met ] && [ "${late##*|}" -gt 0 ] || ay_fail "not met late: $late"
ay_sql_eq "its escalation resolved" resolved "SELECT status FROM escalations WHERE subject_id = '$missing_id'"
ay_wait_until 15 "the bureau told it came" on_feed NOTIFICATION_KIND_RESOLVED ||
  ay_fail "no RESOLVED: $(jq -c --arg s "$missing_id" 'select(.message.subjectId == $s) | .message.kind' "$AY_T/bfeed.out")"
grep -q '安全月报已收到（迟报' <<<"$(jq -r --arg s "$missing_id" 'select(.message.subjectId == $s and .message.kind == "NOTIFICATION_KIND_RESOLVED") | .message.summary' "$AY_T/bfeed.out")" ||
  ay_fail "resolved words: $(cat "$AY_T/bfeed.out")"

# 4. This month's, early: met on time, the same deadline (no second row).
jq --argjson y "${this:0:4}" --argjson m "$((10#${this:5:2}))" '.year = $y | .month = $m | del(.signedAt)' \
  "$AY_SOURCE_DIR/tests/data/e2e/monthly.json" >"$AY_T/early.json"
r=$(ay_ctl device pub monthly --json "$AY_T/early.json") || ay_fail "pub monthly: $r"
ay_expect_eq "no lateness in the receipt" "" "$(jq -r '.reason // ""' <<<"$r")"
ay_expect_eq "met on time" "met|$(due_of "$this")|" "$(dl DEADLINE_KIND_MONTHLY_REPORT "$this")"
ay_expect_eq "one deadline per report and period" 1 \
  "$(ay_psql "SELECT count(*) FROM deadlines WHERE kind = 'DEADLINE_KIND_MONTHLY_REPORT' AND period = '$this'")"
# A risk report naming the second month of its two meets the same period.
jq --argjson y "${this:0:4}" --argjson m "$((10#${this:5:2}))" \
  '.year = $y | .month = $m | .kind = "PERIODIC_REPORT_KIND_RISK" | del(.signedAt)' \
  "$AY_SOURCE_DIR/tests/data/e2e/monthly.json" >"$AY_T/risk.json"
r=$(ay_ctl device pub monthly --json "$AY_T/risk.json") || ay_fail "pub risk report: $r"
ay_expect_eq "the risk report met" "met" \
  "$(ay_psql "SELECT status FROM deadlines WHERE kind = 'DEADLINE_KIND_RISK_REPORT' AND period <= '$this'
              AND due_at > now() AND school_id = 'sch-0102'")"
ay_expect_eq "stored as what it is" PERIODIC_REPORT_KIND_RISK \
  "$(ay_psql "SELECT kind FROM monthly_reports WHERE message_id = '$(jq -r .refMessageId <<<"$r")'")"

# 5. Restarted: nothing scheduled or escalated twice.
before=$(ay_psql "SELECT count(*) FROM deadlines")
ay_stop watchdog
: >"$AY_T/log/watchdog.log"
ay_test_start_watchdog
sleep 2
ay_expect_eq "no deadline added" "$before" "$(ay_psql "SELECT count(*) FROM deadlines")"
ay_expect_eq "the missing report escalated once" 1 \
  "$(ay_psql "SELECT count(*) FROM escalations WHERE subject_id = '$missing_id'")"
# Every missing report's escalation (the risk report and the
# self-inspection too) is tied to its deadline, so that the report's
# arrival ends it.
ay_expect_eq "each missed report's escalation names its deadline" "0" \
  "$(ay_psql "SELECT count(*) FROM escalations WHERE reason = 'ESCALATION_REASON_DEADLINE_MISSED'
              AND deadline_id IS NULL")"
ay_expect_eq "missing self-inspection and risk reports escalated too" t \
  "$(ay_psql "SELECT count(DISTINCT d.kind) >= 1 AND bool_and(e.id IS NOT NULL) FROM deadlines d
              LEFT JOIN escalations e ON e.deadline_id = d.id
              WHERE d.status = 'missed' AND d.kind IN ('DEADLINE_KIND_HAZARD_SELF_CHECK',
                                                       'DEADLINE_KIND_RISK_REPORT')")"
ay_test_pass
