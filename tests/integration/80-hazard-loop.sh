#!/usr/bin/env bash
# Issue 13, hazards as a closed loop (domain.md rule 3), with the recorder:
# 1. a hazard registered without a rectification deadline gets the policy's
#    for its category and grade, told in the receipt;
# 2. every illegal step is refused, the receipt naming the rule: a skipped
#    step, a closing (销号) without a verification, a reopening of what was
#    not rectified, a step back, the same step twice, anything after a
#    closing, and a verification by the responsible person or by the
#    reporter; a refused step changes nothing and is kept as a dead letter;
# 3. the legal path to 销号, with who and when of every step in the
#    hazard's history (hazard_events) and the audit trail (audit_events),
#    the rectification deadline met;
# 4. reopened after rectified and after verified: rectifying again, each
#    time a new deadline of the series (the policy's, or newDeadline);
# 5. a hazard that cannot be fixed at once (major, beyond authority, or due
#    later than interim_measures_after) without interim measures is refused;
# 6. a report and its steps waiting together in the recorder's session are
#    applied in their order.
# The commands are those of README.md, "A hazard from registration to 销号".
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_policy '{"hazard_rectification":{"GENERAL":"10d","HAZARD_CATEGORY_FIRE":{"GENERAL":"2d"}}}'
echo "workers = 1" >>"$AY_T/etc/recorder.conf" # one worker: batches in their order (part 6)
ay_test_start_recorder

# As in README.md: a report, then one step at a time.
cat >"$AY_T/hazard.json" <<'EOF'
{"category": "HAZARD_CATEGORY_FIRE", "grade": "HAZARD_GRADE_GENERAL", "place": "三楼东侧走廊",
 "description": "灭火器过期", "foundBy": {"name": "张老师"}, "responsible": {"name": "赵主任"},
 "interimMeasures": "已从库房调配临时灭火器"}
EOF
step() { # STATUS BY [JQ-EDIT]: one step of hazard $h; prints the receipt
  jq -n --arg h "$h" --arg s "HAZARD_STATUS_$1" --arg by "$2" --arg t "$(date -u +%FT%TZ)" \
    "{hazardId: \$h, status: \$s, by: {name: \$by}, at: \$t}${3:+ | $3}" |
    ay_ctl device pub hazard-update --json - 2>>"$AY_T/pub.err"
}
ok() { # STATUS BY [JQ-EDIT]: the step is stored
  local r
  r=$(step "$@") || ay_fail "step $1 by $2 refused: $(jq -r .reason <<<"$r")"
  ay_expect_eq "step $1 stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
}
refused() { # STATUS BY REASON: the step is refused, the receipt names the rule
  local r status
  status=$(ay_psql "SELECT status FROM hazards WHERE id = '$h'")
  r=$(step "$1" "$2") && ay_fail "step $1 by $2 from $status was accepted: $r"
  ay_expect_eq "step $1 by $2 refused" RECEIPT_STATUS_REJECTED "$(jq -r .status <<<"$r")"
  grep -qF -- "$3" <<<"$(jq -r .reason <<<"$r")" ||
    ay_fail "step $1 from $status: reason \"$(jq -r .reason <<<"$r")\" does not say \"$3\""
  ay_expect_eq "kept as a dead letter" 1 \
    "$(ay_psql "SELECT count(*) FROM dead_letters WHERE message_id = '$(jq -r .refMessageId <<<"$r")'
                AND reason = \$\$$(jq -r .reason <<<"$r")\$\$")"
  ay_expect_eq "status unchanged" "$status" "$(ay_psql "SELECT status FROM hazards WHERE id = '$h'")"
}

# 1. Registered without a deadline: the policy's for fire, two days.
r=$(ay_ctl device pub hazard --json "$AY_T/hazard.json") || ay_fail "pub hazard: $r"
h=$(jq -r .refMessageId <<<"$r")
ay_expect_eq "the receipt lists the rectification deadline" \
  "DEADLINE_KIND_HAZARD_RECTIFICATION $h" "$(jq -r '.deadlines[0] | "\(.kind) \(.subjectId)"' <<<"$r")"
ay_expect_eq "due in the policy's two days, from when it was received" "policy|2 days|t" \
  "$(ay_psql "SELECT h.deadline_source, date_trunc('second', h.rectification_deadline) -
                     date_trunc('second', m.received_at),
                     h.rectification_deadline = '$(jq -r '.deadlines[0].dueAt' <<<"$r")'::timestamptz
              FROM hazards h JOIN messages m ON m.message_id = h.id WHERE h.id = '$h'")"

# 2 and 3. Every illegal step on the way, refused; the legal path to 销号.
refused RECTIFIED 赵主任 "hazard-update.status: HAZARD_STATUS_RECTIFIED skips a step: hazard $h is HAZARD_STATUS_REGISTERED; next is HAZARD_STATUS_RECTIFYING"
refused VERIFIED 李校长 "HAZARD_STATUS_VERIFIED skips a step"
refused CLOSED 李校长 "hazard-update.status: HAZARD_STATUS_CLOSED (销号) needs a verification first: hazard $h is HAZARD_STATUS_REGISTERED"
refused REOPENED 李校长 "hazard-update.status: HAZARD_STATUS_REOPENED only after HAZARD_STATUS_RECTIFIED or HAZARD_STATUS_VERIFIED"
ok RECTIFYING 赵主任
ok RECTIFYING 赵主任 ".note = \"新灭火器已订购\""
refused VERIFIED 李校长 "HAZARD_STATUS_VERIFIED skips a step: hazard $h is HAZARD_STATUS_RECTIFYING; next is HAZARD_STATUS_RECTIFYING or HAZARD_STATUS_RECTIFIED"
refused CLOSED 李校长 "needs a verification first"
ok RECTIFIED 赵主任
refused RECTIFYING 赵主任 "HAZARD_STATUS_RECTIFYING cannot follow HAZARD_STATUS_RECTIFIED (hazard $h); next is HAZARD_STATUS_VERIFIED or HAZARD_STATUS_REOPENED"
refused CLOSED 李校长 "needs a verification first: hazard $h is HAZARD_STATUS_RECTIFIED"
refused VERIFIED 赵主任 "hazard-update.by.name: the verifier is the hazard's responsible person (整改责任人); verification (查验) must be by someone else"
refused VERIFIED " 张老师 " "hazard-update.by.name: the verifier is the person who reported the hazard (foundBy); verification (查验) must be by someone else"
ok VERIFIED 李校长
refused VERIFIED 李校长 "hazard $h is already HAZARD_STATUS_VERIFIED"
ok CLOSED 李校长
refused RECTIFYING 赵主任 "hazard-update.status: hazard $h is closed (销号, HAZARD_STATUS_CLOSED); no step follows a closing"
refused REOPENED 李校长 "no step follows a closing"

ay_expect_eq "closed, the deadline met in time" "HAZARD_STATUS_CLOSED|met|" \
  "$(ay_psql "SELECT h.status, d.status, d.late_s FROM hazards h JOIN deadlines d ON d.subject_id = h.id
              WHERE h.id = '$h'")"
ay_expect_eq "its history: every step, who, from where" \
  "HAZARD_STATUS_RECTIFYING|赵主任|HAZARD_STATUS_REGISTERED
HAZARD_STATUS_RECTIFYING|赵主任|HAZARD_STATUS_RECTIFYING
HAZARD_STATUS_RECTIFIED|赵主任|HAZARD_STATUS_RECTIFYING
HAZARD_STATUS_VERIFIED|李校长|HAZARD_STATUS_RECTIFIED
HAZARD_STATUS_CLOSED|李校长|HAZARD_STATUS_VERIFIED" \
  "$(ay_psql "SELECT e.status, e.by_name, e.prev_status FROM hazard_events e
              JOIN messages m ON m.message_id = e.message_id WHERE e.hazard_id = '$h' ORDER BY m.id")"
ay_expect_eq "the audit trail: each step by whom, sent by which account, when" \
  "hazard.registered|btn-0102-01|张老师|
hazard.rectifying|btn-0102-01|赵主任|HAZARD_STATUS_REGISTERED
hazard.rectifying|btn-0102-01|赵主任|HAZARD_STATUS_RECTIFYING
hazard.rectified|btn-0102-01|赵主任|HAZARD_STATUS_RECTIFYING
hazard.verified|btn-0102-01|李校长|HAZARD_STATUS_RECTIFIED
hazard.closed|btn-0102-01|李校长|HAZARD_STATUS_VERIFIED" \
  "$(ay_psql "SELECT action, actor, detail->>'by', coalesce(detail->>'from', '') FROM audit_events
              WHERE subject_id = '$h' AND action LIKE 'hazard.%' ORDER BY id")"
ay_expect_eq "every step's audit row has its time and message" 0 \
  "$(ay_psql "SELECT count(*) FROM audit_events a WHERE subject_id = '$h' AND action LIKE 'hazard.%'
              AND (detail->>'message' IS NULL OR (action <> 'hazard.registered' AND detail->>'at' IS NULL)
                   OR NOT EXISTS (SELECT 1 FROM messages m WHERE m.message_id = (a.detail->>'message')::uuid))")"
ay_ctl bureau history "$h" --lang en >"$AY_T/history.txt" || ay_fail "ayctl history"
grep -q 'audit hazard.closed' "$AY_T/history.txt" || ay_fail "history: $(cat "$AY_T/history.txt")"

# 4. Reopened: after rectified (the policy's ten days again) and after
#    verified (its own new deadline); rectifying again each time.
jq '.category = "HAZARD_CATEGORY_BUILDING" | .rectificationDeadline = (now + 86400 | todate)' \
  "$AY_T/hazard.json" >"$AY_T/h2.json"
h=$(ay_ctl device pub hazard --json "$AY_T/h2.json" | jq -r .refMessageId) || ay_fail "pub hazard 2"
ay_expect_eq "its own deadline" report "$(ay_psql "SELECT deadline_source FROM hazards WHERE id = '$h'")"
ok RECTIFYING 赵主任
ok RECTIFIED 赵主任
r=$(step REOPENED 李校长) || ay_fail "reopen after rectified: $r"
ay_expect_eq "reopened: a new deadline of the series in the receipt" "DEADLINE_KIND_HAZARD_RECTIFICATION" \
  "$(jq -r '.deadlines[0].kind' <<<"$r")"
refused RECTIFIED 赵主任 "HAZARD_STATUS_RECTIFIED skips a step: hazard $h is HAZARD_STATUS_REOPENED; next is HAZARD_STATUS_RECTIFYING"
refused VERIFIED 李校长 "skips a step"
ok RECTIFYING 赵主任
ok RECTIFIED 赵主任
ok VERIFIED 李校长
ok REOPENED 李校长 '.newDeadline = "2099-12-31T10:00:00Z"'
ok RECTIFYING 赵主任
ok RECTIFIED 赵主任
ok VERIFIED 李校长
ok CLOSED 李校长
ay_expect_eq "three deadlines of the series, each met; the policy's ten days, then its own" \
  "0|met|report
1|met|10
2|met|2099-12-31 10:00:00+00" \
  "$(ay_psql "SET timezone = 'UTC';
              SELECT d.seq, d.status, CASE d.seq WHEN 0 THEN 'report'
                     WHEN 1 THEN round(extract(epoch FROM d.due_at - d.created_at) / 86400)::text
                     ELSE d.due_at::text END
              FROM deadlines d WHERE d.subject_id = '$h' ORDER BY d.seq")"
ay_expect_eq "the hazard's deadline is its last" "HAZARD_STATUS_CLOSED|2099-12-31 10:00:00+00" \
  "$(ay_psql "SET timezone = 'UTC'; SELECT status, rectification_deadline FROM hazards WHERE id = '$h'")"

# 5. Interim measures: required when it cannot be fixed at once.
interim_refused() { # JQ-EDIT REASON
  local r
  jq "del(.interimMeasures) | $1" "$AY_T/hazard.json" >"$AY_T/hi.json"
  r=$(ay_ctl device pub hazard --json "$AY_T/hi.json" 2>>"$AY_T/pub.err") && ay_fail "accepted without interim measures ($1): $r"
  grep -qF -- "$2" <<<"$(jq -r .reason <<<"$r")" || ay_fail "($1): reason \"$(jq -r .reason <<<"$r")\""
  ay_expect_eq "no hazard registered" 0 "$(ay_psql "SELECT count(*) FROM hazards WHERE id = '$(jq -r .refMessageId <<<"$r")'")"
}
interim_refused '.' "hazard.interimMeasures: required: rectification is due more than 1d away (policy interim_measures_after)"
interim_refused '.rectificationDeadline = (now + 2 * 86400 | todate)' "hazard.interimMeasures: required: rectification is due more than 1d away"
interim_refused '.grade = "HAZARD_GRADE_MAJOR" | .rectificationDeadline = (now + 3600 | todate)' \
  "hazard.interimMeasures: required for a major hazard (重大隐患)"
interim_refused '.beyondAuthority = true | .rectificationDeadline = (now + 3600 | todate)' \
  "hazard.interimMeasures: required for a hazard beyond the school's authority (beyondAuthority)"
interim_refused '.interimMeasures = "   "' "hazard.interimMeasures: required"
jq 'del(.interimMeasures) | .rectificationDeadline = (now + 3600 | todate)' "$AY_T/hazard.json" >"$AY_T/quick.json"
r=$(ay_ctl device pub hazard --json "$AY_T/quick.json") || ay_fail "a hazard fixed within the hour needs none: $r"

# 6. A report and three steps waiting in the session together: one batch
#    (or several, one after the other), applied in order.
ay_stop recorder TERM || ay_fail "stop the recorder"
h=$(cat /proc/sys/kernel/random/uuid)
jq --arg h "$h" '.header.messageId = $h' "$AY_T/hazard.json" | ay_ctl device pub hazard --json - --no-receipt >/dev/null ||
  ay_fail "pub the report"
for s in RECTIFYING:赵主任 RECTIFIED:赵主任 VERIFIED:李校长; do
  jq -n --arg h "$h" --arg s "HAZARD_STATUS_${s%%:*}" --arg by "${s#*:}" --arg t "$(date -u +%FT%TZ)" \
    '{hazardId: $h, status: $s, by: {name: $by}, at: $t}' |
    ay_ctl device pub hazard-update --json - --no-receipt >/dev/null || ay_fail "pub $s"
done
mv "$AY_T/log/recorder.log" "$AY_T/log/recorder-1.log.txt"
ay_test_start_recorder
ay_sql_eq "the three steps applied in order" "HAZARD_STATUS_VERIFIED|3" \
  "SELECT h.status, (SELECT count(*) FROM hazard_events e WHERE e.hazard_id = h.id) FROM hazards h WHERE h.id = '$h'"
ay_expect_eq "none refused" 0 "$(ay_psql "SELECT count(*) FROM dead_letters WHERE received_at > (SELECT received_at FROM messages WHERE message_id = '$h')")"
ay_test_pass
