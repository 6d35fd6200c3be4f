#!/usr/bin/env bash
# The rules of domain.md rule 2 end to end, with a second-scale policy:
# - a notice that arrives late is stored as late (with how late) and gives
#   one escalation, never two (the watchdog does not escalate it again);
# - an alarm with no notice referring to it is escalated as possible
#   concealment (瞒报); a drill is never escalated; a false alarm cancelled
#   in time is not; an alarm whose notice names it is not;
# - severity I-II tells the bureau's chain up to the city bureau and the
#   local government at once; a suspected crime tells the police at once;
# - an acknowledged but unresolved escalation is escalated again.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_policy '{"verbal_notice":"30m","written_report":"1h","alarm_notice":"3s",
  "false_alarm_window":"1m","unresolved_reescalation":"3s"}'
ay_test_account government d01 gov-01 gov-pw
ay_test_conf gov gov-01 gov-pw
ay_test_account bureau d01 bureau-02 bureau2-pw
ay_test_conf bureau2 bureau-02 bureau2-pw
ay_test_start_recorder
ay_test_start_watchdog
ay_sub_start bfeed bureau escalation bureau
ay_sub_start pfeed police escalation police
ay_sub_start gfeed gov escalation government
data=$AY_SOURCE_DIR/tests/data/e2e
reasons() { # FEED SUBJECT: the reasons seen for SUBJECT, sorted, one line
  jq -r --arg s "$2" 'select(.message.subjectId == $s) | .message.reason' "$AY_T/$1.out" | sort -u | paste -sd' '
}
reasons_are() { [ "$(reasons "$1" "$2")" = "$3" ]; }
targets_are() { # FEED SUBJECT EXPECTED
  [ "$(jq -r --arg s "$2" 'select(.message.subjectId == $s) | .message.target' "$AY_T/$1.out" | sort -u | paste -sd' ')" = "$3" ]
}
pub() { ay_ctl device pub "$1" --json "$2" || ay_fail "pub $1"; }

# 1. A late notice: occurred 45 min ago, verbal notice due after 30 min.
jq --arg t "$(ay_now_iso '-45 minutes')" '.occurredAt = $t | del(.discoveredAt)' "$data/notice.json" >"$AY_T/late.json"
late=$(pub notice "$AY_T/late.json" | jq -r .refMessageId)
ay_expect_eq "stored late, with how late" "met|t" \
  "$(ay_psql "SELECT status, late_s BETWEEN 850 AND 1000 FROM deadlines
              WHERE subject_id = '$late' AND kind = 'DEADLINE_KIND_VERBAL_NOTICE'")"
ay_wait_until 10 "the late notice on the bureau's feed" \
  bash -c "jq -e 'select(.message.reason == \"ESCALATION_REASON_DEADLINE_MISSED\")' '$AY_T/bfeed.out' >/dev/null" ||
  ay_fail "no escalation for the late notice"

# 2. Alarms: a real one without notice, a drill, a false alarm, one with its notice.
mkalarm() { jq --argjson test "$1" '.isTest = $test | del(.triggeredAt)' "$data/alarm.json" >"$AY_T/a.json"; pub alarm "$AY_T/a.json" | jq -r .refMessageId; }
real=$(mkalarm false)
drill=$(mkalarm true)
falsealarm=$(mkalarm false)
jq --arg a "$falsealarm" '.alarmId = $a | .reason = "ALARM_CANCEL_REASON_FALSE_ALARM"' "$data/alarm-cancel.json" | sed "s/@ALARM@/$falsealarm/" >"$AY_T/cancel.json"
pub alarm-cancel "$AY_T/cancel.json" >/dev/null
noticed=$(mkalarm false)
jq --arg a "$noticed" --arg t "$(ay_now_iso)" '.alarmId = $a | .occurredAt = $t | del(.discoveredAt)' "$data/notice.json" >"$AY_T/n2.json"
pub notice "$AY_T/n2.json" >/dev/null
ay_wait_until 15 "possible concealment escalated" \
  reasons_are bfeed "$real" ESCALATION_REASON_POSSIBLE_CONCEALMENT ||
  ay_fail "no concealment escalation: $(reasons bfeed "$real")"
grep -q '疑似瞒报' <<<"$(jq -r --arg s "$real" 'select(.message.subjectId == $s) | .message.summary' "$AY_T/bfeed.out")" ||
  ay_fail "summary does not say possible concealment"
sleep 2 # past the others' 3 s as well
for a in "$drill" "$falsealarm" "$noticed"; do
  ay_expect_eq "nothing escalated for alarm $a" "" "$(reasons bfeed "$a")"
done
ay_expect_eq "alarm deadlines" "cancelled met missed" \
  "$(ay_psql "SELECT string_agg(status, ' ' ORDER BY status) FROM deadlines
              WHERE kind = 'DEADLINE_KIND_ALARM_NOTICE'")"

# 3. Severity II with a suspected crime: bureau steps 1-3 and the
#    government at once, and the police.
jq --arg t "$(ay_now_iso)" '.occurredAt = $t | del(.discoveredAt) | .severity = "SEVERITY_II" | .suspectedCrime = true' \
  "$data/notice.json" >"$AY_T/major.json"
major=$(pub notice "$AY_T/major.json" | jq -r .refMessageId)
ay_wait_until 10 "three steps of the bureau told" \
  targets_are bfeed "$major" "city_bureau duty_officer safety_head" ||
  ay_fail "bureau: $(jq -c --arg s "$major" 'select(.message.subjectId == $s) | .message.target' "$AY_T/bfeed.out")"
ay_wait_until 10 "the government told" reasons_are gfeed "$major" ESCALATION_REASON_MAJOR_INCIDENT ||
  ay_fail "government: $(reasons gfeed "$major")"
ay_wait_until 10 "the police told" reasons_are pfeed "$major" ESCALATION_REASON_SUSPECTED_CRIME ||
  ay_fail "police: $(reasons pfeed "$major")"

# 4. Acknowledged but unresolved: escalated again after 3 s, to step 2.
esc=$(ay_psql "SELECT id FROM escalations WHERE subject_id = '$real' AND audience = 'AUDIENCE_BUREAU'")
jq -n --arg e "$esc" --arg t "$(ay_now_iso)" '{escalationId: $e, kind: "ACK_KIND_RECEIVED", at: $t, by: {name: "周敏"}}' >"$AY_T/ack.json"
ay_ctl bureau2 pub ack --audience bureau --json "$AY_T/ack.json" --no-receipt >/dev/null || ay_fail "ack"
reesc() { jq -e --arg e "$esc" 'select(.message.escalationId == $e and .message.kind == "NOTIFICATION_KIND_REESCALATION")' "$AY_T/bfeed.out" >/dev/null; }
ay_wait_until 15 "the re-escalation" reesc || ay_fail "not re-escalated: $(jq -c --arg e "$esc" 'select(.message.escalationId == $e) | .message.kind' "$AY_T/bfeed.out")"
ay_expect_eq "open again, one step up" "open|2" "$(ay_psql "SELECT status, level FROM escalations WHERE id = '$esc'")"
ay_expect_eq "the late notice escalated once, not twice" 1 \
  "$(ay_psql "SELECT count(*) FROM escalations e JOIN deadlines d ON d.id = e.deadline_id
              WHERE e.subject_id = '$late' AND d.kind = 'DEADLINE_KIND_VERBAL_NOTICE'")"
ay_test_pass
