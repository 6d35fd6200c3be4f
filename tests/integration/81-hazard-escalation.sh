#!/usr/bin/env bash
# Issue 13, hazards escalated (domain.md rule 3), with the recorder and the
# watchdog and a second-scale policy:
# 1. a hazard not rectified in time is escalated to the bureau (its
#    rectification deadline missed) and reminded; when it moves (a step)
#    the follow-up ends and the bureau is told so (RESOLVED), the reminders
#    stop; a new deadline missed again is escalated again, and met late
#    (rectified) ends that one too;
# 2. a major hazard (重大隐患) is under the bureau's tracked supervision
#    (挂牌督办) from its registration: an acknowledgement, even "resolved",
#    does not stop the reminders (its receipt says so); 销号 does (RESOLVED);
# 3. a hazard beyond the school's and the bureau's authority goes to the
#    local government's feed, and its closing is told there too.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_policy '{"hazard_rectification":{"GENERAL":"3s"},"major_hazard_reminder":"2s",
  "chains":{"bureau":[
    {"target":"duty_officer","name_zh":"教育局值班员","ack_timeout":"1m","reminder":"1s"},
    {"target":"safety_head","name_zh":"安稳办负责人","ack_timeout":"1m","reminder":"1m"},
    {"target":"city_bureau","name_zh":"市教育局","ack_timeout":"1m","reminder":"1m"}],
   "government":[{"target":"government_duty","name_zh":"当地政府值班室","ack_timeout":"1m","reminder":"1m"}]}}'
ay_test_account government d01 gov-01 gov-pw
ay_test_conf gov gov-01 gov-pw
# The duty officer who acknowledges: another account than the feed's (one
# connection per account: an ack as bureau-01 would cut its feed off).
ay_test_account bureau d01 bureau-02 bureau2-pw
ay_test_conf bureau2 bureau-02 bureau2-pw "audience = bureau"
ay_test_start_recorder
ay_test_start_watchdog
ay_sub_start bfeed bureau escalation bureau
ay_sub_start gfeed gov escalation government

register() { # JQ-EDIT: registers a hazard (a general fire hazard, changed by JQ-EDIT); its id
  jq -n '{category: "HAZARD_CATEGORY_FIRE", grade: "HAZARD_GRADE_GENERAL", place: "三楼东侧走廊",
          description: "灭火器过期", foundBy: {name: "张老师"}, responsible: {name: "赵主任"},
          interimMeasures: "已调配临时灭火器"}'" | $1" >"$AY_T/hazard.json"
  ay_ctl device pub hazard --json "$AY_T/hazard.json" | jq -er .refMessageId
}
step() { # HAZARD STATUS BY [JQ-EDIT]: a step, stored
  local r
  r=$(jq -n --arg h "$1" --arg s "HAZARD_STATUS_$2" --arg by "$3" --arg t "$(date -u +%FT%TZ)" \
    "{hazardId: \$h, status: \$s, by: {name: \$by}, at: \$t}${4:+ | $4}" |
    ay_ctl device pub hazard-update --json -) || ay_fail "step $2 of $1: $r"
}
lines() { # FEED HAZARD KIND: how many Escalation messages of KIND about HAZARD
  jq -s --arg s "$2" --arg k "NOTIFICATION_KIND_$3" \
    '[.[] | select(.message.subjectId == $s and .message.kind == $k)] | length' "$AY_T/$1.out"
}
at_least() { [ "$(lines "$1" "$2" "$3")" -ge "$4" ]; }
summary_of() { # FEED HAZARD KIND
  jq -r --arg s "$2" --arg k "NOTIFICATION_KIND_$3" \
    'select(.message.subjectId == $s and .message.kind == $k) | .message.summary' "$AY_T/$1.out" | head -n 1
}

# 1. Overdue: due in the policy's 3 s, escalated to the bureau and reminded.
h=$(register '.') || ay_fail "register a hazard"
ay_wait_until 15 "the overdue hazard on the bureau's feed" at_least bfeed "$h" FIRST 1 ||
  ay_fail "not escalated: $(cat "$AY_T/bfeed.out")"
ay_expect_eq "escalated as a missed rectification deadline" \
  "ESCALATION_REASON_DEADLINE_MISSED|DEADLINE_KIND_HAZARD_RECTIFICATION" \
  "$(jq -r --arg s "$h" 'select(.message.subjectId == $s) | "\(.message.reason)|\(.message.missed.kind)"' "$AY_T/bfeed.out" | head -n 1)"
grep -q '一般隐患（消防：三楼东侧走廊）：逾期未整改' <<<"$(summary_of bfeed "$h" FIRST)" ||
  ay_fail "summary: $(summary_of bfeed "$h" FIRST)"
ay_wait_until 10 "reminded" at_least bfeed "$h" REMINDER 2 || ay_fail "no reminders: $(cat "$AY_T/bfeed.out")"
# It moves: the follow-up ends, told; no more reminders.
step "$h" RECTIFYING 赵主任
ay_wait_until 10 "the end of the follow-up told" at_least bfeed "$h" RESOLVED 1 ||
  ay_fail "not told: $(cat "$AY_T/bfeed.out")"
grep -q '已有整改进展（整改中），逾期督办解除' <<<"$(summary_of bfeed "$h" RESOLVED)" ||
  ay_fail "RESOLVED summary: $(summary_of bfeed "$h" RESOLVED)"
ay_expect_eq "resolved, no timer" "resolved|t" \
  "$(ay_psql "SELECT status, next_action_at IS NULL FROM escalations WHERE subject_id = '$h'")"
ay_expect_eq "its audit row" 1 \
  "$(ay_psql "SELECT count(*) FROM audit_events WHERE subject_id = '$h' AND action = 'escalation.resolved'
              AND detail->>'status' = 'HAZARD_STATUS_RECTIFYING'")"
n=$(lines bfeed "$h" REMINDER)
sleep 3 # three reminder intervals
ay_expect_eq "no reminder after it moved" "$n" "$(lines bfeed "$h" REMINDER)"
# A new deadline (the first one stays missed), missed again: escalated again.
r=$(jq -n --arg h "$h" --arg t "$(date -u +%FT%TZ)" --arg d "$(ay_now_iso '+2 seconds')" \
  '{hazardId: $h, status: "HAZARD_STATUS_RECTIFYING", by: {name: "赵主任"}, at: $t, newDeadline: $d}' |
  ay_ctl device pub hazard-update --json -) || ay_fail "extend: $r"
ay_expect_eq "a new deadline of the series in the receipt" "DEADLINE_KIND_HAZARD_RECTIFICATION" \
  "$(jq -r '.deadlines[0].kind' <<<"$r")"
ay_wait_until 15 "escalated again" at_least bfeed "$h" FIRST 2 || ay_fail "not again: $(cat "$AY_T/bfeed.out")"
step "$h" RECTIFIED 赵主任
ay_wait_until 10 "its end told" at_least bfeed "$h" RESOLVED 2 || ay_fail "second not told"
ay_expect_eq "two deadlines: missed, then met late; both escalations resolved" \
  "0|missed|resolved
1|met|resolved" \
  "$(ay_psql "SELECT d.seq, d.status, e.status FROM deadlines d JOIN escalations e ON e.deadline_id = d.id
              WHERE d.subject_id = '$h' ORDER BY d.seq")"
ay_expect_eq "met late" t "$(ay_psql "SELECT late_s > 0 FROM deadlines WHERE subject_id = '$h' AND seq = 1")"

# 2. A major hazard: tracked supervision from its registration to 销号.
m=$(register '.grade = "HAZARD_GRADE_MAJOR" | .category = "HAZARD_CATEGORY_BUILDING" |
              .place = "教学楼北侧围墙" | .rectificationDeadline = (now + 3600 | todate)') ||
  ay_fail "register a major hazard"
ay_wait_until 10 "supervision on the bureau's feed at once" at_least bfeed "$m" FIRST 1 ||
  ay_fail "no supervision: $(cat "$AY_T/bfeed.out")"
ay_expect_eq "reason major hazard" ESCALATION_REASON_MAJOR_HAZARD \
  "$(jq -r --arg s "$m" 'select(.message.subjectId == $s) | .message.reason' "$AY_T/bfeed.out" | head -n 1)"
grep -q '登记重大隐患（校舍：教学楼北侧围墙），挂牌督办' <<<"$(summary_of bfeed "$m" FIRST)" ||
  ay_fail "summary: $(summary_of bfeed "$m" FIRST)"
esc=$(ay_psql "SELECT id FROM escalations WHERE subject_id = '$m' AND reason = 'ESCALATION_REASON_MAJOR_HAZARD'")
ay_expect_eq "supervised every 2 s once acknowledged" 2 \
  "$(ay_psql "SELECT supervise_s FROM escalations WHERE id = '$esc'")"
r=$(ay_ctl bureau2 ack "$esc" received --by 周敏 --note 已挂牌) || ay_fail "ack: $r"
ay_expect_eq "the ack's receipt says the supervision goes on" \
  "RECEIPT_STATUS_STORED|stored; tracked supervision (挂牌督办): reminders go on until the hazard is closed (销号)" \
  "$(jq -r '"\(.status)|\(.reason)"' <<<"$r")"
after_ack() { # reminders created after the last acknowledgement
  [ "$(ay_psql "SELECT count(*) FROM notifications n JOIN escalations e ON e.id = n.escalation_id
                WHERE e.id = '$esc' AND n.kind = 'NOTIFICATION_KIND_REMINDER' AND n.created_at > e.acked_at
                  AND n.state IN ('sent', 'pending')")" -ge "$1" ]
}
ay_wait_until 15 "reminded after the ack" after_ack 2 || ay_fail "no reminders after the ack"
n=$(lines bfeed "$m" REMINDER)
ay_wait_until 10 "the reminders on the feed" at_least bfeed "$m" REMINDER $((n + 1)) ||
  ay_fail "reminders not on the feed"
# "Resolved" by the bureau is not 销号: still acknowledged, still reminded.
r=$(ay_ctl bureau2 ack "$esc" resolved --by 周敏) || ay_fail "ack resolved: $r"
ay_expect_eq "still supervised" "acknowledged|ACK_KIND_RESOLVED" \
  "$(ay_psql "SELECT status, ack_kind FROM escalations WHERE id = '$esc'")"
ay_wait_until 15 "reminded after a 'resolved' ack" after_ack 1 || ay_fail "no reminder after 'resolved'"
step "$m" RECTIFYING 赵主任
step "$m" RECTIFIED 赵主任
ay_expect_eq "rectified is not closed: still supervised" acknowledged \
  "$(ay_psql "SELECT status FROM escalations WHERE id = '$esc'")"
step "$m" VERIFIED 李校长
step "$m" CLOSED 李校长
ay_wait_until 10 "销号 told" at_least bfeed "$m" RESOLVED 1 || ay_fail "closing not told: $(cat "$AY_T/bfeed.out")"
grep -q '已查验并销号，督办解除' <<<"$(summary_of bfeed "$m" RESOLVED)" ||
  ay_fail "RESOLVED summary: $(summary_of bfeed "$m" RESOLVED)"
ay_expect_eq "supervision over" "resolved|t" \
  "$(ay_psql "SELECT status, next_action_at IS NULL FROM escalations WHERE id = '$esc'")"
n=$(lines bfeed "$m" REMINDER)
sleep 3 # past a reminder interval
ay_expect_eq "no reminder after 销号" "$n" "$(lines bfeed "$m" REMINDER)"

# 3. Beyond authority: to the local government; its closing told there too.
g=$(register '.beyondAuthority = true | .rectificationDeadline = (now + 3600 | todate)') ||
  ay_fail "register a hazard beyond authority"
ay_wait_until 10 "on the government's feed" at_least gfeed "$g" FIRST 1 ||
  ay_fail "not on the government feed: $(cat "$AY_T/gfeed.out")"
ay_expect_eq "reason beyond authority" ESCALATION_REASON_BEYOND_AUTHORITY \
  "$(jq -r --arg s "$g" 'select(.message.subjectId == $s) | .message.reason' "$AY_T/gfeed.out" | head -n 1)"
grep -q '超出学校和教育部门职权，请当地政府协调处置' <<<"$(summary_of gfeed "$g" FIRST)" ||
  ay_fail "summary: $(summary_of gfeed "$g" FIRST)"
ay_expect_eq "not the bureau's (a general hazard in time)" 0 "$(lines bfeed "$g" FIRST)"
step "$g" RECTIFYING 赵主任
step "$g" RECTIFIED 赵主任
step "$g" VERIFIED 李校长
step "$g" CLOSED 李校长
ay_wait_until 10 "its closing told to the government" at_least gfeed "$g" RESOLVED 1 ||
  ay_fail "not told: $(cat "$AY_T/gfeed.out")"
ay_test_pass
