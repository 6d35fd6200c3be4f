#!/usr/bin/env bash
# ayctl compliance and the SQL function ay_compliance() (0008): a month of
# a district's reports, hazards, alarms and escalations, one row per school.
# - `ayctl compliance --csv` is byte for byte tests/data/compliance/2026-11.csv
#   (Chinese headers), with --lang en 2026-11.en.csv: UTF-8 with a BOM, CRLF,
#   a name with a comma and quotes quoted as RFC 4180 says;
# - the terminal table is aligned by display width;
# - ay_compliance('d01', '2026-11-01') returns the same numbers;
# - the month is the district's: its policy's zone cuts it (d02 is in New York);
# - a bad month, a missing month, a bad or unknown district exit 2 with a reason.
#
# The fixture is written with SQL as the recorder and the watchdog would
# have left it (deadlines in every state, hazards with their steps, alarms
# and cancels, escalations with their notifications, acks and audit rows),
# in November 2026, Asia/Shanghai; rows just outside the month (by the zone)
# show what is left out. What is judged "now" (a pending deadline past its
# due time, an escalation nobody acknowledged, hazards at the cutoff) is
# dated before 20 November, so the expected files hold from then on.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_init
ay_test_start_pg
DATA="$AY_SOURCE_DIR/tests/data/compliance"

[ "$(ay_psql "SELECT now() >= '2026-11-20 00:00+08'")" = t ] ||
  ay_fail "the fixture is November 2026 and must be judged after 2026-11-20; the clock says $(date -u)"

"$AYCTL" registry add-district d01 "城东区" "Chengdong District" >/dev/null 2>&1 || ay_fail "registry"
"$AYCTL" registry add-school d01 sch-0101 "第一小学" "First Primary School" >/dev/null 2>&1 &&
  "$AYCTL" registry add-school d01 sch-0102 "第二中学" "Second Middle School" >/dev/null 2>&1 &&
  "$AYCTL" registry add-school d01 sch-0103 '城南幼儿园（"阳光",分园）' \
    'Chengnan Kindergarten ("Sunshine", annex)' >/dev/null 2>&1 || ay_fail "registry schools"
"$AYCTL" registry add-district d02 >/dev/null 2>&1 &&
  "$AYCTL" registry add-school d02 sch-0201 "西区小学" >/dev/null 2>&1 || ay_fail "registry d02"
"$AYCTL" policy set timezone America/New_York --district d02 >/dev/null 2>&1 ||
  ay_fail "policy set timezone"

# Ids are md5(name)::uuid; pg_temp.msg stores the message a row refers to
# (received at AT); pg_temp.dl a deadline. Times are local (+08) unless said.
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null 2>"$AY_T/fixture.log" <<'SQL' || ay_fail "fixture: $(cat "$AY_T/fixture.log")"
CREATE FUNCTION pg_temp.msg(p_name text, p_kind text, p_school text, p_at timestamptz)
RETURNS uuid LANGUAGE sql AS $$
    INSERT INTO messages (message_id, kind, topic, district_id, school_id, device_id, sent_at,
                          received_at, payload, body)
    SELECT md5(p_name)::uuid, p_kind,
           'ay/v1/' || s.district_id || '/school/' || p_school || '/dev/' || p_kind,
           s.district_id, p_school, 'dev-' || p_school, p_at, p_at, '\x00', '{}'
    FROM schools s WHERE s.id = p_school
    RETURNING message_id
$$;
CREATE FUNCTION pg_temp.dl(p_kind text, p_subject text, p_school text, p_due timestamptz,
                           p_status text, p_late_s bigint DEFAULT NULL,
                           p_closed timestamptz DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO deadlines (kind, subject_kind, subject_id, district_id, school_id, due_at, created_by,
                           status, late_s, closed_at)
    SELECT p_kind,
           CASE WHEN p_kind IN ('DEADLINE_KIND_MONTHLY_REPORT', 'DEADLINE_KIND_RISK_REPORT',
                                'DEADLINE_KIND_HAZARD_SELF_CHECK') THEN 'SUBJECT_KIND_MONTHLY_REPORT'
                WHEN p_kind = 'DEADLINE_KIND_HAZARD_RECTIFICATION' THEN 'SUBJECT_KIND_HAZARD'
                WHEN p_kind = 'DEADLINE_KIND_ALARM_NOTICE' THEN 'SUBJECT_KIND_ALARM'
                ELSE 'SUBJECT_KIND_INCIDENT' END,
           md5(p_subject)::uuid, s.district_id, p_school, p_due,
           md5('anchor-' || p_school)::uuid, p_status, p_late_s,
           CASE WHEN p_status <> 'pending' THEN coalesce(p_closed, p_due) END
    FROM schools s WHERE s.id = p_school
$$;
SELECT pg_temp.msg('anchor-' || id, 'notice', id, '2026-09-01 08:00+08') FROM schools;

-- ---- sch-0101: incidents ---------------------------------------------------------
SELECT pg_temp.msg(i, 'notice', 'sch-0101', t) FROM (VALUES
  ('i1', '2026-11-03 10:00+08'::timestamptz), ('i2', '2026-11-10 09:00+08'),
  ('i3', '2026-11-12 14:00+08'), ('i4', '2026-11-18 16:00+08'), ('i5', '2026-11-30 23:20+08'),
  ('i6', '2026-10-31 23:20+08'), ('i7', '2026-11-30 23:40+08')) v(i, t);
INSERT INTO incidents (id, district_id, school_id, category, severity, occurred_at, noticed_at,
                       place, summary)
SELECT message_id, district_id, school_id, 'INCIDENT_CATEGORY_ACCIDENTAL_INJURY', 'SEVERITY_IV',
       received_at, received_at, '操场', '摔伤'
FROM messages WHERE message_id IN (SELECT md5(i)::uuid FROM unnest(ARRAY['i1','i2','i3','i4','i5','i6','i7']) i);
-- Verbal notices: on time i1, i5 (23:50 on the last day); late i2 (12 min),
-- i3 (61 s: 2 min); missing i4; i6 (October) and i7 (00:10 on 1 December,
-- still 30 November in UTC) are of other months.
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'i1', 'sch-0101', '2026-11-03 10:30+08', 'met');
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'i2', 'sch-0101', '2026-11-10 09:30+08', 'met', 720);
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'i3', 'sch-0101', '2026-11-12 14:30+08', 'met', 61);
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'i4', 'sch-0101', '2026-11-18 16:30+08', 'missed');
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'i5', 'sch-0101', '2026-11-30 23:50+08', 'met');
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'i6', 'sch-0101', '2026-10-31 23:50+08', 'met', 600);
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'i7', 'sch-0101', '2026-12-01 00:10+08', 'met');
-- Written reports: on time i1; late i2 (missed, met 90 min late); missing
-- i3 (still pending after its due time) and i4 (missed).
SELECT pg_temp.dl('DEADLINE_KIND_WRITTEN_REPORT', 'i1', 'sch-0101', '2026-11-03 11:00+08', 'met');
SELECT pg_temp.dl('DEADLINE_KIND_WRITTEN_REPORT', 'i2', 'sch-0101', '2026-11-10 10:00+08', 'met', 5400);
SELECT pg_temp.dl('DEADLINE_KIND_WRITTEN_REPORT', 'i3', 'sch-0101', '2026-11-12 15:00+08', 'pending');
SELECT pg_temp.dl('DEADLINE_KIND_WRITTEN_REPORT', 'i4', 'sch-0101', '2026-11-18 17:00+08', 'missed');
-- Final reports: late i1 (a day); i2 cancelled (in no column).
SELECT pg_temp.dl('DEADLINE_KIND_FINAL_REPORT', 'i1', 'sch-0101', '2026-11-10 10:00+08', 'met', 86400);
SELECT pg_temp.dl('DEADLINE_KIND_FINAL_REPORT', 'i2', 'sch-0101', '2026-11-17 10:00+08', 'cancelled');
-- Kinds the table does not count.
SELECT pg_temp.dl('DEADLINE_KIND_FOLLOW_UP_REPORT', 'i2', 'sch-0101', '2026-11-11 10:00+08', 'missed');
SELECT pg_temp.dl('DEADLINE_KIND_ALARM_NOTICE', 'a1', 'sch-0101', '2026-11-02 08:20+08', 'missed');
-- Periodic reports: the monthly report (on October) on time, the risk
-- report 2 h late, the hazard self-inspection missing; the November
-- monthly report is due in December (another month's row).
SELECT pg_temp.dl('DEADLINE_KIND_MONTHLY_REPORT', 'm-0101-10', 'sch-0101', '2026-11-05 00:00+08', 'met');
SELECT pg_temp.dl('DEADLINE_KIND_MONTHLY_REPORT', 'm-0101-11', 'sch-0101', '2026-12-05 00:00+08', 'pending');
SELECT pg_temp.dl('DEADLINE_KIND_RISK_REPORT', 'r-0101-09', 'sch-0101', '2026-11-10 00:00+08', 'met', 7200);
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_SELF_CHECK', 's-0101-10', 'sch-0101', '2026-11-05 00:00+08', 'missed');

-- ---- sch-0101: hazards -------------------------------------------------------------
-- h1 open, overdue (deadline missed); h2 major, open, deadline in December;
-- h3 closed on 10 Nov; h4 closed in October; h5 major, open, rectified
-- late but before the cutoff (not overdue); h6 open, overdue (pending past
-- due); h7 registered in December; h8 closed on 6 Nov and reopened.
SELECT pg_temp.msg(h, 'hazard', 'sch-0101', t) FROM (VALUES
  ('h1', '2026-10-20 09:00+08'::timestamptz), ('h2', '2026-11-02 09:00+08'),
  ('h3', '2026-11-03 09:00+08'), ('h4', '2026-09-01 09:00+08'), ('h5', '2026-10-01 09:00+08'),
  ('h6', '2026-11-05 09:00+08'), ('h7', '2026-12-01 10:00+08'), ('h8', '2026-10-10 09:00+08')) v(h, t);
INSERT INTO hazards (id, district_id, school_id, category, grade, place, description, found_by_name,
                     responsible_name, rectification_deadline, status, status_at)
SELECT md5(h)::uuid, 'd01', 'sch-0101', 'HAZARD_CATEGORY_FACILITY', g, '教学楼', '栏杆松动', '王老师',
       '李主任', d, s, d
FROM (VALUES
  ('h1', 'HAZARD_GRADE_GENERAL', '2026-11-15 18:00+08'::timestamptz, 'HAZARD_STATUS_REGISTERED'),
  ('h2', 'HAZARD_GRADE_MAJOR', '2026-12-15 18:00+08', 'HAZARD_STATUS_RECTIFYING'),
  ('h3', 'HAZARD_GRADE_GENERAL', '2026-11-10 18:00+08', 'HAZARD_STATUS_CLOSED'),
  ('h4', 'HAZARD_GRADE_GENERAL', '2026-10-01 18:00+08', 'HAZARD_STATUS_CLOSED'),
  ('h5', 'HAZARD_GRADE_MAJOR', '2026-10-30 18:00+08', 'HAZARD_STATUS_RECTIFIED'),
  ('h6', 'HAZARD_GRADE_GENERAL', '2026-11-12 18:00+08', 'HAZARD_STATUS_REGISTERED'),
  ('h7', 'HAZARD_GRADE_MAJOR', '2026-12-20 18:00+08', 'HAZARD_STATUS_REGISTERED'),
  ('h8', 'HAZARD_GRADE_GENERAL', '2026-12-20 18:00+08', 'HAZARD_STATUS_REOPENED')) v(h, g, d, s);
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_RECTIFICATION', 'h1', 'sch-0101', '2026-11-15 18:00+08', 'missed');
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_RECTIFICATION', 'h2', 'sch-0101', '2026-12-15 18:00+08', 'pending');
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_RECTIFICATION', 'h3', 'sch-0101', '2026-11-10 18:00+08', 'met', NULL, '2026-11-08 12:00+08');
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_RECTIFICATION', 'h4', 'sch-0101', '2026-10-01 18:00+08', 'met', NULL, '2026-09-20 12:00+08');
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_RECTIFICATION', 'h5', 'sch-0101', '2026-10-30 18:00+08', 'met', 410400, '2026-11-04 12:00+08');
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_RECTIFICATION', 'h6', 'sch-0101', '2026-11-12 18:00+08', 'pending');
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_RECTIFICATION', 'h7', 'sch-0101', '2026-12-20 18:00+08', 'pending');
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_RECTIFICATION', 'h8', 'sch-0101', '2026-12-20 18:00+08', 'pending');
SELECT pg_temp.msg(e, 'hazard-update', 'sch-0101', t) FROM (VALUES
  ('h2-1', '2026-11-05 09:00+08'::timestamptz), ('h3-1', '2026-11-08 12:00+08'),
  ('h3-2', '2026-11-09 12:00+08'), ('h3-3', '2026-11-10 12:00+08'), ('h4-1', '2026-10-15 12:00+08'),
  ('h5-1', '2026-11-04 12:00+08'), ('h8-1', '2026-11-06 12:00+08'), ('h8-2', '2026-11-15 12:00+08')) v(e, t);
INSERT INTO hazard_events (message_id, hazard_id, status, by_name, at)
SELECT md5(e)::uuid, md5(split_part(e, '-', 1))::uuid, s, '张校长', t
FROM (VALUES
  ('h2-1', 'HAZARD_STATUS_RECTIFYING', '2026-11-05 09:00+08'::timestamptz),
  ('h3-1', 'HAZARD_STATUS_RECTIFIED', '2026-11-08 12:00+08'),
  ('h3-2', 'HAZARD_STATUS_VERIFIED', '2026-11-09 12:00+08'),
  ('h3-3', 'HAZARD_STATUS_CLOSED', '2026-11-10 12:00+08'),
  ('h4-1', 'HAZARD_STATUS_CLOSED', '2026-10-15 12:00+08'),
  ('h5-1', 'HAZARD_STATUS_RECTIFIED', '2026-11-04 12:00+08'),
  ('h8-1', 'HAZARD_STATUS_CLOSED', '2026-11-06 12:00+08'),
  ('h8-2', 'HAZARD_STATUS_REOPENED', '2026-11-15 12:00+08')) v(e, s, t);

-- ---- sch-0101: alarms ----------------------------------------------------------------
-- Real: a1, a5 (cancelled: restored); false: a2; test: a3 (isTest), a4 (in
-- a test window), a7 (a drill cancelled as a false alarm is still a drill);
-- a6 was received on 31 October (its button's clock said 1 November).
SELECT pg_temp.msg(a, 'alarm', 'sch-0101', t) FROM (VALUES
  ('a1', '2026-11-02 08:00+08'::timestamptz), ('a2', '2026-11-08 08:00+08'),
  ('a3', '2026-11-11 08:00+08'), ('a4', '2026-11-11 08:30+08'), ('a5', '2026-11-13 08:00+08'),
  ('a6', '2026-10-31 23:59+08'), ('a7', '2026-11-14 08:00+08')) v(a, t);
INSERT INTO alarms (message_id, district_id, school_id, device_id, kind, source, triggered_at,
                    location, is_test, drill)
SELECT md5(a)::uuid, 'd01', 'sch-0101', 'dev-sch-0101', 'ALARM_KIND_PANIC', 'ALARM_SOURCE_BUTTON',
       CASE a WHEN 'a6' THEN '2026-11-01 00:01+08'::timestamptz ELSE m.received_at END, '东门',
       a IN ('a3', 'a7'), a IN ('a3', 'a4', 'a7')
FROM unnest(ARRAY['a1','a2','a3','a4','a5','a6','a7']) a JOIN messages m ON m.message_id = md5(a)::uuid;
SELECT pg_temp.msg(c, 'alarm-cancel', 'sch-0101', t) FROM (VALUES
  ('a2-c', '2026-11-08 08:02+08'::timestamptz), ('a5-c', '2026-11-13 08:30+08'),
  ('a7-c', '2026-11-14 08:01+08')) v(c, t);
INSERT INTO alarm_cancels (message_id, alarm_id, reason, cancelled_at)
SELECT md5(c)::uuid, md5(split_part(c, '-', 1))::uuid, r, now()
FROM (VALUES ('a2-c', 'ALARM_CANCEL_REASON_FALSE_ALARM'), ('a5-c', 'ALARM_CANCEL_REASON_RESTORED'),
             ('a7-c', 'ALARM_CANCEL_REASON_FALSE_ALARM')) v(c, r);

-- ---- sch-0101: escalations -----------------------------------------------------------
-- In time: e1 (7 min, step 1 had 15), e2 (acknowledged by step 2 within
-- its time after step 1 let it climb), e5 (police, the feed told step 1: no
-- notification, 3 min of 5). Late: e3 (20 min at its only step; a later
-- progress ack does not count), e6 (police, 7 min of 5), e11 (hand-made:
-- only acked_at and ack_due_at). Never: e4 (open past its time), e8
-- (resolved by the backbone after its time). In none: e7 (resolved before
-- its time). Other months: e10.
INSERT INTO escalations (id, district_id, school_id, audience, subject_kind, subject_id, reason,
                         level, status, chain, created_at, ack_due_at, acked_at, resolved_at)
SELECT md5(e)::uuid, 'd01', 'sch-0101', aud, 'SUBJECT_KIND_INCIDENT', md5('subject-' || e)::uuid,
       'ESCALATION_REASON_DEADLINE_MISSED', lvl, st, ch::jsonb, c, due, ack, res
FROM (VALUES
  ('e1', 'AUDIENCE_BUREAU', 1, 'acknowledged', '[{"target":"duty","ack_timeout_s":900,"reminder_s":300},{"target":"head","ack_timeout_s":900,"reminder_s":300}]',
   '2026-11-10 10:00:05+08'::timestamptz, NULL::timestamptz, '2026-11-10 10:07+08'::timestamptz, NULL::timestamptz),
  ('e2', 'AUDIENCE_BUREAU', 2, 'acknowledged', '[{"target":"duty","ack_timeout_s":900,"reminder_s":900},{"target":"head","ack_timeout_s":900,"reminder_s":900}]',
   '2026-11-18 17:00:02+08', NULL, '2026-11-18 17:25+08', NULL),
  ('e3', 'AUDIENCE_BUREAU', 1, 'acknowledged', '[{"target":"duty","ack_timeout_s":900,"reminder_s":300}]',
   '2026-11-12 15:00:01+08', NULL, '2026-11-12 15:40+08', NULL),
  ('e4', 'AUDIENCE_GOVERNMENT', 1, 'open', '[{"target":"gov","ack_timeout_s":900,"reminder_s":3600}]',
   '2026-11-18 17:00:03+08', '2026-11-18 17:15:03+08', NULL, NULL),
  ('e5', 'AUDIENCE_POLICE', 1, 'acknowledged', '[{"target":"110","ack_timeout_s":300,"reminder_s":60},{"target":"pcs","ack_timeout_s":300,"reminder_s":60}]',
   '2026-11-08 09:00+08', NULL, '2026-11-08 09:03+08', NULL),
  ('e6', 'AUDIENCE_POLICE', 1, 'acknowledged', '[{"target":"110","ack_timeout_s":300,"reminder_s":600}]',
   '2026-11-08 09:00+08', NULL, '2026-11-08 09:07+08', NULL),
  ('e7', 'AUDIENCE_BUREAU', 1, 'resolved', '[{"target":"duty","ack_timeout_s":900,"reminder_s":900}]',
   '2026-11-15 08:00+08', NULL, NULL, '2026-11-15 08:05+08'),
  ('e8', 'AUDIENCE_BUREAU', 1, 'resolved', '[{"target":"duty","ack_timeout_s":900,"reminder_s":3600}]',
   '2026-11-16 08:00+08', NULL, NULL, '2026-11-16 09:00+08'),
  ('e10', 'AUDIENCE_BUREAU', 1, 'acknowledged', '[{"target":"duty","ack_timeout_s":900,"reminder_s":900}]',
   '2026-10-31 23:55+08', NULL, '2026-11-01 01:00+08', NULL),
  ('e11', 'AUDIENCE_BUREAU', 1, 'acknowledged', '[]',
   '2026-11-19 10:00+08', '2026-11-19 10:15+08', '2026-11-19 10:20+08', NULL)
) v(e, aud, lvl, st, ch, c, due, ack, res);
INSERT INTO notifications (id, escalation_id, district_id, audience, level, target, kind, state,
                           ack_due_at, created_at)
SELECT md5(n)::uuid, md5(split_part(n, '-', 1))::uuid, 'd01', 'AUDIENCE_BUREAU', lvl, 'duty', k,
       'acknowledged', due, c
FROM (VALUES
  ('e1-1', 1, 'NOTIFICATION_KIND_FIRST', '2026-11-10 10:15:05+08'::timestamptz, '2026-11-10 10:00:05+08'::timestamptz),
  ('e2-1', 1, 'NOTIFICATION_KIND_FIRST', '2026-11-18 17:15:02+08', '2026-11-18 17:00:02+08'),
  ('e2-2', 2, 'NOTIFICATION_KIND_CLIMB', '2026-11-18 17:30:02+08', '2026-11-18 17:15:03+08'),
  ('e3-1', 1, 'NOTIFICATION_KIND_FIRST', '2026-11-12 15:15:01+08', '2026-11-12 15:00:01+08'),
  ('e3-2', 1, 'NOTIFICATION_KIND_REMINDER', '2026-11-12 15:15:01+08', '2026-11-12 15:05:01+08'),
  ('e4-1', 1, 'NOTIFICATION_KIND_FIRST', '2026-11-18 17:15:03+08', '2026-11-18 17:00:03+08'),
  ('e7-1', 1, 'NOTIFICATION_KIND_FIRST', '2026-11-15 08:15+08', '2026-11-15 08:00+08'),
  ('e8-1', 1, 'NOTIFICATION_KIND_FIRST', '2026-11-16 08:15+08', '2026-11-16 08:00+08'),
  ('e10-1', 1, 'NOTIFICATION_KIND_FIRST', '2026-11-01 00:10+08', '2026-10-31 23:55+08')
) v(n, lvl, k, due, c);
INSERT INTO acks (message_id, escalation_id, kind, at, by_name, by_account, district_id, audience)
SELECT md5(a)::uuid, md5(split_part(a, '-', 1))::uuid, 'ACK_KIND_RECEIVED', t, '周敏', 'bureau-01', 'd01', 'bureau'
FROM (VALUES ('e1-a', '2026-11-10 10:07+08'::timestamptz), ('e2-a', '2026-11-18 17:25+08'),
             ('e3-a', '2026-11-12 15:20+08'), ('e3-b', '2026-11-12 15:40+08'),
             ('e5-a', '2026-11-08 09:03+08'), ('e6-a', '2026-11-08 09:07+08'),
             ('e10-a', '2026-11-01 01:00+08')) v(a, t);
INSERT INTO audit_events (at, district_id, school_id, escalation_id, actor, action, detail)
SELECT c, 'd01', 'sch-0101', md5(e)::uuid, 'recorder', 'escalation.created',
       '{"audience":"police","level":1}'
FROM (VALUES ('e5', '2026-11-08 09:00+08'::timestamptz), ('e6', '2026-11-08 09:00+08')) v(e, c);

-- ---- sch-0102: one of each, mostly in time ----------------------------------------------
SELECT pg_temp.msg('j1', 'notice', 'sch-0102', '2026-11-06 10:00+08');
INSERT INTO incidents (id, district_id, school_id, category, severity, occurred_at, noticed_at,
                       place, summary)
VALUES (md5('j1')::uuid, 'd01', 'sch-0102', 'INCIDENT_CATEGORY_ACCIDENTAL_INJURY', 'SEVERITY_IV',
        '2026-11-06 10:00+08', '2026-11-06 10:00+08', '食堂', '烫伤');
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'j1', 'sch-0102', '2026-11-06 10:30+08', 'met');
SELECT pg_temp.dl('DEADLINE_KIND_WRITTEN_REPORT', 'j1', 'sch-0102', '2026-11-06 11:00+08', 'met');
SELECT pg_temp.dl('DEADLINE_KIND_FINAL_REPORT', 'j1', 'sch-0102', '2026-11-13 11:00+08', 'missed');
SELECT pg_temp.dl('DEADLINE_KIND_MONTHLY_REPORT', 'm-0102-10', 'sch-0102', '2026-11-05 00:00+08', 'missed');
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_SELF_CHECK', 's-0102-10', 'sch-0102', '2026-11-05 00:00+08', 'met');
SELECT pg_temp.msg('k1', 'hazard', 'sch-0102', '2026-11-07 09:00+08');
INSERT INTO hazards (id, district_id, school_id, category, grade, place, description, found_by_name,
                     responsible_name, rectification_deadline, status, status_at)
VALUES (md5('k1')::uuid, 'd01', 'sch-0102', 'HAZARD_CATEGORY_FIRE', 'HAZARD_GRADE_GENERAL', '实验楼',
        '灭火器过期', '赵老师', '钱主任', '2026-12-10 18:00+08', 'HAZARD_STATUS_REGISTERED',
        '2026-11-07 09:00+08');
SELECT pg_temp.dl('DEADLINE_KIND_HAZARD_RECTIFICATION', 'k1', 'sch-0102', '2026-12-10 18:00+08', 'pending');
SELECT pg_temp.msg('b1', 'alarm', 'sch-0102', '2026-11-09 12:00+08');
INSERT INTO alarms (message_id, district_id, school_id, device_id, kind, source, triggered_at,
                    location, is_test, drill)
VALUES (md5('b1')::uuid, 'd01', 'sch-0102', 'dev-sch-0102', 'ALARM_KIND_PANIC',
        'ALARM_SOURCE_BUTTON', '2026-11-09 12:00+08', '大门', false, false);
INSERT INTO escalations (id, district_id, school_id, audience, subject_kind, subject_id, reason,
                         level, status, chain, created_at, acked_at)
VALUES (md5('f1')::uuid, 'd01', 'sch-0102', 'AUDIENCE_POLICE', 'SUBJECT_KIND_ALARM', md5('b1')::uuid,
        'ESCALATION_REASON_ALARM', 1, 'acknowledged',
        '[{"target":"110","ack_timeout_s":300,"reminder_s":60}]', '2026-11-09 12:00+08',
        '2026-11-09 12:01+08');
INSERT INTO acks (message_id, escalation_id, kind, at, by_name, by_account, district_id, audience)
VALUES (md5('f1-a')::uuid, md5('f1')::uuid, 'ACK_KIND_DISPATCHED', '2026-11-09 12:01+08', '民警',
        'police-01', 'd01', 'police');

-- ---- d02 (New York): 1 November 03:00 UTC is still October there ------------------------
SELECT pg_temp.msg(x, 'notice', 'sch-0201', '2026-10-31 12:00+00') FROM unnest(ARRAY['x1','x2']) x;
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'x1', 'sch-0201', '2026-11-01 03:00+00', 'met');
SELECT pg_temp.dl('DEADLINE_KIND_VERBAL_NOTICE', 'x2', 'sch-0201', '2026-12-01 03:00+00', 'met', 300);
SQL

# ================================================================ CSV
csv() { # OUT ARGS...: ayctl compliance --csv ARGS into $AY_T/OUT
  local out=$1
  shift
  "$AYCTL" compliance --csv "$@" >"$AY_T/$out" 2>"$AY_T/$out.err" ||
    ay_fail "compliance --csv $*: $(cat "$AY_T/$out.err")"
}
csv zh.csv --district d01 --month 2026-11
cmp "$DATA/2026-11.csv" "$AY_T/zh.csv" ||
  ay_fail "CSV (Chinese) differs from tests/data/compliance/2026-11.csv: $(diff <(cat -A "$DATA/2026-11.csv") <(cat -A "$AY_T/zh.csv"))"
csv en.csv --district d01 --month 2026-11 --lang en
cmp "$DATA/2026-11.en.csv" "$AY_T/en.csv" ||
  ay_fail "CSV (English) differs from tests/data/compliance/2026-11.en.csv: $(diff <(cat -A "$DATA/2026-11.en.csv") <(cat -A "$AY_T/en.csv"))"
# What a spreadsheet relies on, said once more than the files do.
ay_expect_eq "the CSV starts with a BOM" "efbbbf" "$(head -c 3 "$AY_T/zh.csv" | od -An -tx1 | tr -d ' \n')"
ay_expect_eq "every line ends with CRLF" 4 "$(grep -c $'\r$' "$AY_T/zh.csv")"
ay_expect_eq "no bare LF" 4 "$(wc -l <"$AY_T/zh.csv")"

# ======================================================= the SQL function
# The numbers of each school as ay_compliance() returns them, and as the CSV
# has them (the last 34 fields of each record: the name may hold commas).
sql_numbers() { # DISTRICT MONTH-FIRST-DAY
  ay_psql "SELECT (SELECT string_agg(value, ',' ORDER BY n) FROM json_each_text(row_to_json(c))
                   WITH ORDINALITY AS j(key, value, n) WHERE key NOT IN ('name_zh', 'name_en'))
           FROM ay_compliance('$1', '$2') c"
}
csv_numbers() { # FILE
  tail -n +2 "$1" | tr -d '\r' | while IFS= read -r line; do
    # awk counts bytes, so this holds in any locale (rev(1) needs a UTF-8 one).
    echo "${line%%,*},$(awk -F, '{ s = $(NF - 33); for (i = NF - 32; i <= NF; i++) s = s "," $i; print s }' <<<"$line")"
  done
}
expected="sch-0101,2,2,12,1,1,1,90,2,0,1,1440,0,1,0,0,0,0,1,120,0,0,0,0,1,5,2,2,2,2,3,1,3,3,2
sch-0102,1,0,0,0,1,0,0,0,0,0,0,1,0,0,0,1,0,0,0,0,1,0,0,0,1,0,0,0,1,0,0,1,0,0
sch-0103,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0"
ay_expect_eq "ay_compliance() of d01, November" "$expected" "$(sql_numbers d01 2026-11-01)"
ay_expect_eq "ay_compliance() and the CSV agree" "$(sql_numbers d01 2026-11-01)" "$(csv_numbers "$AY_T/zh.csv")"
ay_expect_eq "any day names its month" "$expected" "$(sql_numbers d01 2026-11-30)"
# October: i6 late by 10 min, a6 real; e10 (created 23:55 on the 31st)
# acknowledged late; the hazards as they were at midnight on 1 November:
# h1, h5, h8 open, h5 overdue (rectified only on 4 November) and major, h4
# closed in October.
ay_expect_eq "ay_compliance() of d01, October, sch-0101" \
  "sch-0101,0,1,10,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,3,1,1,1,1,0,0,0,1,0" \
  "$(sql_numbers d01 2026-10-01 | grep '^sch-0101,')"
# d02 counts by New York time: x1 (1 Nov 03:00 UTC) is October, x2 (1 Dec
# 03:00 UTC) November.
ay_expect_eq "ay_compliance() of d02 in its own zone" \
  "sch-0201,0,1,5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0" \
  "$(sql_numbers d02 2026-11-01)"
csv d02.csv --district d02 --month 2026-11
ay_expect_eq "ayctl agrees for d02" "$(sql_numbers d02 2026-11-01)" "$(csv_numbers "$AY_T/d02.csv")"

# ============================================================ the table
"$AYCTL" compliance --district d01 --month 2026-11 >"$AY_T/table" 2>"$AY_T/table.err" ||
  ay_fail "compliance: $(cat "$AY_T/table.err")"
ay_expect_eq "the table, Chinese" \
  '合规统计：城东区（d01） 2026年11月（Asia/Shanghai 时间）
学校                                   口头报告   书面报告   终报         安全月报  风险研判    隐患自查  隐患     一键报警  上报签收
第一小学（sch-0101）                   2/2(12)/1  1/1(90)/2  0/1(1440)/0  1/0/0     0/1(120)/0  0/0/1     5/2/2/2  2/3/1     3/3/2
第二中学（sch-0102）                   1/0/0      1/0/0      0/0/1        0/0/1     0/0/0       1/0/0     1/0/0/0  1/0/0     1/0/0
城南幼儿园（"阳光",分园）（sch-0103）  0/0/0      0/0/0      0/0/0        0/0/0     0/0/0       0/0/0     0/0/0/0  0/0/0     0/0/0

口头报告至隐患自查：按时/迟报(最长迟报分钟)/逾期未报
隐患：未销号/整改逾期/本月销号/重大隐患挂牌督办
一键报警：真实/测试/误报撤销
上报签收：按时签收/超时签收/未签收' "$(cat "$AY_T/table")"
"$AYCTL" compliance --district d01 --month 2026-11 --lang en >"$AY_T/table-en" 2>&1 ||
  ay_fail "compliance --lang en: $(cat "$AY_T/table-en")"
ay_expect_eq "the table, English: a school's line" \
  "First Primary School (sch-0101)                       2/2(12)/1  1/1(90)/2  0/1(1440)/0  1/0/0    0/1(120)/0  0/0/1       5/2/2/2  2/3/1   3/3/2" \
  "$(grep 'sch-0101' "$AY_T/table-en")"
"$AYCTL" compliance --district d02 --month 2026-11 >"$AY_T/table-d02" 2>&1 || ay_fail "d02 table"
grep -q '^西区小学（sch-0201）  *0/1(5)/0 ' "$AY_T/table-d02" || ay_fail "d02 table: $(cat "$AY_T/table-d02")"

# ===================================================== bad arguments: exit 2
bad() { # WHAT EXPECTED-REGEX ARGS...
  local what=$1 re=$2 rc=0
  shift 2
  "$AYCTL" compliance "$@" >"$AY_T/bad.out" 2>"$AY_T/bad.err" || rc=$?
  ay_expect_eq "$what: exit code" 2 "$rc"
  grep -qE -e "$re" "$AY_T/bad.err" || ay_fail "$what: $(cat "$AY_T/bad.err")"
  [ ! -s "$AY_T/bad.out" ] || ay_fail "$what printed: $(cat "$AY_T/bad.out")"
}
bad "month 13" 'invalid month "2026-13": expected YYYY-MM' --district d01 --month 2026-13
bad "month with a slash" 'invalid month "2026/11"' --district d01 --month 2026/11
bad "a day, not a month" 'invalid month "2026-11-01"' --district d01 --month 2026-11-01
bad "no month" '--month is required' --district d01
bad "unknown district" 'district "d99" is not registered' --district d99 --month 2026-11
bad "invalid district id" 'invalid district id "D 01"' --district "D 01" --month 2026-11
bad "unknown option" 'unexpected argument "--school"' --district d01 --month 2026-11 --school sch-0101
ay_test_pass
