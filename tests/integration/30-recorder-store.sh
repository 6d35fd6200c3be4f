#!/usr/bin/env bash
# The recorder stores every inbound type once, applies it to the domain
# tables, creates and meets deadlines in the same transaction, and answers
# with a receipt that ayctl prints.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_start_recorder

data=$AY_SOURCE_DIR/tests/data/e2e
pub() { # TYPE FILE -> prints the receipt
  ay_ctl device pub "$1" --json "$2" || ay_fail "ayctl pub $1 failed"
}

r=$(pub alarm "$data/alarm.json")
ay_expect_eq "alarm receipt status" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
alarm=$(jq -r .refMessageId <<<"$r")
[[ $(jq -r .reference <<<"$r") == d01-* ]] || ay_fail "receipt has no reference: $r"
ay_expect_eq "alarm row" "ALARM_KIND_INTRUSION|东门 east gate|btn-0102-01" \
  "$(ay_psql "SELECT kind, location, device_id FROM alarms WHERE message_id = '$alarm'")"

sed "s/@ALARM@/$alarm/" "$data/alarm-cancel.json" >"$AY_T/cancel.json"
r=$(pub alarm-cancel "$AY_T/cancel.json")
ay_expect_eq "cancel row" "ALARM_CANCEL_REASON_FALSE_ALARM" \
  "$(ay_psql "SELECT reason FROM alarm_cancels WHERE alarm_id = '$alarm'")"

r=$(pub notice "$data/notice.json")
incident=$(jq -r .refMessageId <<<"$r")
ay_expect_eq "notice receipt lists the written report deadline" \
  "DEADLINE_KIND_WRITTEN_REPORT 2026-11-01T03:05:00Z $incident" \
  "$(jq -r '.deadlines[0] | "\(.kind) \(.dueAt) \(.subjectId)"' <<<"$r")"
ay_expect_eq "incident row" "open|SEVERITY_IV|1" \
  "$(ay_psql "SELECT status, severity, injured FROM incidents WHERE id = '$incident'")"
ay_expect_eq "verbal notice deadline met (late), written pending" \
  "DEADLINE_KIND_VERBAL_NOTICE|met|t
DEADLINE_KIND_WRITTEN_REPORT|pending|" \
  "$(ay_psql "SELECT kind, status, closed_at > due_at FROM deadlines WHERE subject_id = '$incident' ORDER BY kind")"

sed "s/@INCIDENT@/$incident/" "$data/report.json" >"$AY_T/report.json"
r=$(pub report "$AY_T/report.json")
ay_expect_eq "report status" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
ay_expect_eq "final report closes the incident" "closed" \
  "$(ay_psql "SELECT status FROM incidents WHERE id = '$incident'")"
ay_expect_eq "written deadline met by the report" "met" \
  "$(ay_psql "SELECT status FROM deadlines WHERE subject_id = '$incident' AND kind = 'DEADLINE_KIND_WRITTEN_REPORT'")"

r=$(pub hazard "$data/hazard.json")
hazard=$(jq -r .refMessageId <<<"$r")
ay_expect_eq "hazard deadline in receipt" "DEADLINE_KIND_HAZARD_RECTIFICATION 2026-12-01T10:00:00Z" \
  "$(jq -r '.deadlines[0] | "\(.kind) \(.dueAt)"' <<<"$r")"
sed "s/@HAZARD@/$hazard/" "$data/hazard-update.json" >"$AY_T/hu.json"
# The loop (80-hazard-loop has the rest): rectifying before rectified.
jq '.status = "HAZARD_STATUS_RECTIFYING"' "$AY_T/hu.json" >"$AY_T/hu0.json"
pub hazard-update "$AY_T/hu0.json" >/dev/null
pub hazard-update "$AY_T/hu.json" >/dev/null
ay_expect_eq "hazard moved to rectified, deadline met" "HAZARD_STATUS_RECTIFIED|met" \
  "$(ay_psql "SELECT h.status, d.status FROM hazards h JOIN deadlines d ON d.subject_id = h.id WHERE h.id = '$hazard'")"
ay_expect_eq "hazard history kept" 2 "$(ay_psql "SELECT count(*) FROM hazard_events WHERE hazard_id = '$hazard'")"

r=$(pub monthly "$data/monthly.json")
ay_expect_eq "monthly row" "2026|10|8" \
  "$(ay_psql "SELECT year, month, police_visits FROM monthly_reports")"
ay_expect_eq "monthly deadline recorded as met" "met|2026-11-04 16:00:00+00" \
  "$(ay_psql "SET timezone = 'UTC'; SELECT status, due_at FROM deadlines WHERE kind = 'DEADLINE_KIND_MONTHLY_REPORT'")"

pub status "$data/status.json" >/dev/null
ay_expect_eq "device status" "DEVICE_STATE_HEARTBEAT|87" \
  "$(ay_psql "SELECT state, battery_percent FROM device_status WHERE device_id = 'btn-0102-01'")"

# A button whose clock is wrong is not refused: stored, and told so.
jq '. + {header: {sentAt: "1999-06-01T00:00:00Z"}, triggeredAt: "1999-06-01T00:00:00Z"}' \
  "$data/alarm.json" >"$AY_T/old-clock.json"
r=$(ay_ctl device pub alarm --json "$AY_T/old-clock.json" 2>"$AY_T/clock.err") ||
  ay_fail "alarm with a wrong clock: $(cat "$AY_T/clock.err")"
ay_expect_eq "stored despite the clock" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
grep -q 'check the device clock: alarm.header.sentAt' <<<"$(jq -r .reason <<<"$r")" ||
  ay_fail "receipt does not tell the clock problem: $r"
grep -q '^ayctl: warning: ' "$AY_T/clock.err" || ay_fail "ayctl did not warn: $(cat "$AY_T/clock.err")"
ay_expect_eq "the warning is kept with the message" 1 \
  "$(ay_psql "SELECT count(*) FROM messages WHERE warning LIKE '%is before 2000%'")"

ay_expect_eq "raw log holds every message once" 10 "$(ay_psql "SELECT count(*) FROM messages")"
ay_expect_eq "raw log keeps the decoded body" "ALARM_KIND_INTRUSION" \
  "$(ay_psql "SELECT body->>'kind' FROM messages WHERE message_id = '$alarm'")"
ay_expect_eq "no dead letters" 0 "$(ay_psql "SELECT count(*) FROM dead_letters")"
ay_test_pass
