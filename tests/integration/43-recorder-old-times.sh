#!/usr/bin/env bash
# Times far in the past are not passed over: a year-old alarm is stored with
# a warning in messages.warning and its receipt; a notice of an incident a
# year ago is stored (it must not be hidden) but its verbal notice is met
# late by the time the backbone received it, and its written report is
# already overdue - both said in the receipt and kept in deadlines.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_start_recorder
data=$AY_SOURCE_DIR/tests/data/e2e
year_ago=$(date -u -d '-365 days' +%Y-%m-%dT%H:%M:%SZ)

jq --arg t "$year_ago" '.triggeredAt = $t' "$data/alarm.json" >"$AY_T/alarm.json"
r=$(ay_ctl device pub alarm --json "$AY_T/alarm.json") || ay_fail "pub alarm"
ay_expect_eq "alarm stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
grep -q "alarm.triggeredAt: $year_ago is more than 24 h in the past" <<<"$(jq -r .reason <<<"$r")" ||
  ay_fail "receipt: $r"
ay_expect_eq "warning kept" 1 \
  "$(ay_psql "SELECT count(*) FROM messages WHERE kind = 'alarm' AND warning LIKE '%more than 24 h in the past%'")"

jq --arg t "$year_ago" '.occurredAt = $t | del(.discoveredAt)' "$data/notice.json" >"$AY_T/notice.json"
r=$(ay_ctl device pub notice --json "$AY_T/notice.json") || ay_fail "pub notice"
ay_expect_eq "notice stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
reason=$(jq -r .reason <<<"$r")
grep -q 'late: Verbal notice was due' <<<"$reason" || ay_fail "receipt: $r"
grep -q 'overdue: Written report was due' <<<"$reason" || ay_fail "receipt: $r"
incident=$(jq -r .refMessageId <<<"$r")
ay_expect_eq "verbal notice met a year late, written report pending and overdue" \
  "DEADLINE_KIND_VERBAL_NOTICE|met|t
DEADLINE_KIND_WRITTEN_REPORT|pending|" \
  "$(ay_psql "SELECT kind, status, late_s > 364 * 86400 FROM deadlines
              WHERE subject_id = '$incident' ORDER BY kind")"
ay_test_pass
