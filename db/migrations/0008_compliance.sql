-- 0008_compliance.sql: the compliance table of a district for a month, one
-- row per school (ayctl compliance; domain.md rules 2-4 and 1: lateness
-- made visible, hazards as a closed loop, periodic reports, alarms).
--
-- A set-returning function, not a view: a view cannot take the district and
-- the month, and a view over every (school, month) pair would have to invent
-- the months from the data and could not use the district's zone to cut them
-- before aggregating. Use:
--   SELECT * FROM ay_compliance('d01', '2026-11-01');   -- any day of the month
--
-- "The month" is the calendar month in the district's zone (its policy's
-- timezone, default Asia/Shanghai): [first day 00:00, first day of the next
-- month 00:00) local time. What belongs to it:
--   deadlines     by their due time (due_at), so a periodic report counts in
--                 the month it is due in (the monthly report on October, due
--                 before 5 November, is in November's row);
--   alarms        by the time the backbone received them (messages.received_at;
--                 a button's own clock is not trusted, 0002);
--   escalations   by the time they were created (escalations.created_at);
--   hazards       open / overdue / major: their state at the end of the month,
--                 or now if the month is not over ("the cutoff"); closed: a
--                 closing step (hazard_events) dated in the month.
-- Everything else is judged now (the transaction's time): a deadline still
-- pending past its due time is missing, an escalation nobody acknowledged is
-- judged against the time it had.
--
-- Columns (counts; each deadline, hazard, alarm, escalation in at most one of
-- its group's columns):
--   <report>_on_time      deadlines of that kind met in time (status met, late_s 0 or NULL)
--   <report>_late         met after they were due (status met, late_s > 0; a
--                         deadline found missed and met later is late)
--   <report>_late_max_min the largest lateness among those, in minutes rounded
--                         up (0 when none was late)
--   <report>_missing      missed, or still pending after their due time
--   (pending ones not yet due and cancelled ones are in no column)
--   for <report> = verbal (DEADLINE_KIND_VERBAL_NOTICE), written
--   (DEADLINE_KIND_WRITTEN_REPORT), final (DEADLINE_KIND_FINAL_REPORT), monthly
--   (DEADLINE_KIND_MONTHLY_REPORT), risk (DEADLINE_KIND_RISK_REPORT),
--   self_check (DEADLINE_KIND_HAZARD_SELF_CHECK);
--   hazards_open          hazards registered (received) before the cutoff whose
--                         last step dated before it is not HAZARD_STATUS_CLOSED
--                         (no step yet: registered, hence open)
--   hazards_overdue       of those, the ones whose HAZARD_RECTIFICATION deadline
--                         (not cancelled) was due before the cutoff and was not
--                         met by then (status missed or pending, or met after it)
--   hazards_closed        hazards with a step HAZARD_STATUS_CLOSED dated in the month
--   hazards_major_open    open ones of grade HAZARD_GRADE_MAJOR (挂牌督办)
--   alarms_real           alarms not drills and not cancelled as a false alarm
--   alarms_test           drills (alarms.drill: marked as a test, or from a
--                         button inside its test window)
--   alarms_false          not drills, with a cancel of reason
--                         ALARM_CANCEL_REASON_FALSE_ALARM (whenever it came)
--   escalations_acked_in_time / _acked_late / _never_acked: see ay_escalation_ack_due
--                         below; an escalation not acknowledged whose time to
--                         acknowledge has not run out (or that was closed by the
--                         backbone before it ran out, e.g. a device came back)
--                         is in none of the three.
--
-- Only columns that 0001-0005 created are used, so this migration depends
-- on nothing numbered after them. The bodies are strings (not BEGIN ATOMIC),
-- so they do not pin the columns they read: later migrations may alter those
-- tables, and the functions are re-planned against them.

-- The district's zone, as lib/ay_policy reads it (AY_TZ_DEFAULT when the
-- district has no policy or its policy names none).
CREATE FUNCTION ay_district_timezone(p_district text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT nullif(doc ->> 'timezone', '') FROM policies
                     WHERE district_id = p_district), 'Asia/Shanghai')
$$;

-- When escalation p_id had to be acknowledged by, as known at p_at: the
-- "acknowledge by" time of the last notification created at or before p_at
-- (the step then addressed: first notice, reminder, climb, re-escalation);
-- if none was (the police alarm feed tells the first step itself, so its
-- escalation starts without a notification), the first step's time: created
-- plus the ack_timeout_s of the step it started at (audit escalation.created,
-- detail level; else 1) in its chain; else the row's ack_due_at (which the
-- watchdog clears once acknowledged). NULL when nothing says.
--
-- An escalation is then:
--   acknowledged in time: its first acknowledgement (the earliest acks row
--     by the backbone's receipt time, not after it was resolved; else
--     escalations.acked_at) came at or before the due time known at that
--     moment (or no due time is known);
--   acknowledged late:    it came after it;
--   never acknowledged:   no acknowledgement, and the due time known when it
--     was closed (resolved_at) or, while still running, now, has passed.
-- Later acknowledgements (after a re-escalation) are not judged.
CREATE FUNCTION ay_escalation_ack_due(p_id uuid, p_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT n.ack_due_at FROM notifications n
         WHERE n.escalation_id = p_id AND n.ack_due_at IS NOT NULL AND n.created_at <= p_at
         ORDER BY n.created_at DESC LIMIT 1),
        (SELECT e.created_at
                + (e.chain -> (coalesce((SELECT (a.detail ->> 'level')::int FROM audit_events a
                                         WHERE a.escalation_id = e.id
                                           AND a.action = 'escalation.created'
                                         ORDER BY a.at LIMIT 1), 1) - 1)
                   ->> 'ack_timeout_s')::float8 * interval '1 second'
         FROM escalations e WHERE e.id = p_id),
        (SELECT e.ack_due_at FROM escalations e WHERE e.id = p_id))
$$;

CREATE FUNCTION ay_compliance(p_district text, p_month date)
RETURNS TABLE (
    school_id text, name_zh text, name_en text,
    verbal_on_time bigint, verbal_late bigint, verbal_late_max_min bigint, verbal_missing bigint,
    written_on_time bigint, written_late bigint, written_late_max_min bigint,
    written_missing bigint,
    final_on_time bigint, final_late bigint, final_late_max_min bigint, final_missing bigint,
    monthly_on_time bigint, monthly_late bigint, monthly_late_max_min bigint,
    monthly_missing bigint,
    risk_on_time bigint, risk_late bigint, risk_late_max_min bigint, risk_missing bigint,
    self_check_on_time bigint, self_check_late bigint, self_check_late_max_min bigint,
    self_check_missing bigint,
    hazards_open bigint, hazards_overdue bigint, hazards_closed bigint,
    hazards_major_open bigint,
    alarms_real bigint, alarms_test bigint, alarms_false bigint,
    escalations_acked_in_time bigint, escalations_acked_late bigint,
    escalations_never_acked bigint)
LANGUAGE sql STABLE AS $$
WITH span AS (
    SELECT m0::timestamp AT TIME ZONE tz AS t0,
           (m0 + interval '1 month') AT TIME ZONE tz AS t1,
           least((m0 + interval '1 month') AT TIME ZONE tz, now()) AS cutoff
    FROM (SELECT make_date(extract(year FROM p_month)::int, extract(month FROM p_month)::int, 1)
                   AS m0,
                 ay_district_timezone(p_district) AS tz) x
)
SELECT s.id, s.name_zh, s.name_en, dl.*, hz.*, al.*, es.*
FROM schools s
CROSS JOIN span
-- Reports: the deadlines of the school due in the month.
CROSS JOIN LATERAL (
    SELECT
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_VERBAL_NOTICE' AND o = 'on_time'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_VERBAL_NOTICE' AND o = 'late'),
        coalesce(max(late_min) FILTER (WHERE k = 'DEADLINE_KIND_VERBAL_NOTICE' AND o = 'late'), 0),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_VERBAL_NOTICE' AND o = 'missing'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_WRITTEN_REPORT' AND o = 'on_time'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_WRITTEN_REPORT' AND o = 'late'),
        coalesce(max(late_min) FILTER (WHERE k = 'DEADLINE_KIND_WRITTEN_REPORT' AND o = 'late'), 0),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_WRITTEN_REPORT' AND o = 'missing'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_FINAL_REPORT' AND o = 'on_time'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_FINAL_REPORT' AND o = 'late'),
        coalesce(max(late_min) FILTER (WHERE k = 'DEADLINE_KIND_FINAL_REPORT' AND o = 'late'), 0),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_FINAL_REPORT' AND o = 'missing'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_MONTHLY_REPORT' AND o = 'on_time'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_MONTHLY_REPORT' AND o = 'late'),
        coalesce(max(late_min) FILTER (WHERE k = 'DEADLINE_KIND_MONTHLY_REPORT' AND o = 'late'), 0),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_MONTHLY_REPORT' AND o = 'missing'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_RISK_REPORT' AND o = 'on_time'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_RISK_REPORT' AND o = 'late'),
        coalesce(max(late_min) FILTER (WHERE k = 'DEADLINE_KIND_RISK_REPORT' AND o = 'late'), 0),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_RISK_REPORT' AND o = 'missing'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_HAZARD_SELF_CHECK' AND o = 'on_time'),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_HAZARD_SELF_CHECK' AND o = 'late'),
        coalesce(max(late_min) FILTER (WHERE k = 'DEADLINE_KIND_HAZARD_SELF_CHECK'
                                        AND o = 'late'), 0),
        count(*) FILTER (WHERE k = 'DEADLINE_KIND_HAZARD_SELF_CHECK' AND o = 'missing')
    FROM (SELECT d.kind AS k,
                 CASE WHEN d.status = 'met' AND coalesce(d.late_s, 0) = 0 THEN 'on_time'
                      WHEN d.status = 'met' THEN 'late'
                      WHEN d.status = 'missed' OR (d.status = 'pending' AND d.due_at < now())
                          THEN 'missing'
                 END AS o,
                 ceil(coalesce(d.late_s, 0) / 60.0)::bigint AS late_min
          FROM deadlines d
          WHERE d.school_id = s.id AND d.due_at >= span.t0 AND d.due_at < span.t1) x
) dl
-- Hazards: open, overdue and major at the cutoff; closed in the month.
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE open),
           count(*) FILTER (WHERE open AND overdue),
           count(*) FILTER (WHERE closed),
           count(*) FILTER (WHERE open AND grade = 'HAZARD_GRADE_MAJOR')
    FROM (SELECT h.grade,
                 coalesce((SELECT ev.status FROM hazard_events ev
                           WHERE ev.hazard_id = h.id AND ev.at < span.cutoff
                           ORDER BY ev.at DESC LIMIT 1), 'HAZARD_STATUS_REGISTERED')
                     <> 'HAZARD_STATUS_CLOSED' AS open,
                 EXISTS (SELECT 1 FROM deadlines d
                         WHERE d.subject_id = h.id AND d.kind = 'DEADLINE_KIND_HAZARD_RECTIFICATION'
                           AND d.status <> 'cancelled' AND d.due_at < span.cutoff
                           AND NOT (d.status = 'met'
                                    AND coalesce(d.closed_at, '-infinity') <= span.cutoff))
                     AS overdue,
                 EXISTS (SELECT 1 FROM hazard_events ev
                         WHERE ev.hazard_id = h.id AND ev.status = 'HAZARD_STATUS_CLOSED'
                           AND ev.at >= span.t0 AND ev.at < span.t1) AS closed
          FROM hazards h JOIN messages m ON m.message_id = h.id
          WHERE h.school_id = s.id AND m.received_at < span.cutoff) x
) hz
-- Alarms received in the month.
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE NOT drill AND NOT false_alarm),
           count(*) FILTER (WHERE drill),
           count(*) FILTER (WHERE NOT drill AND false_alarm)
    FROM (SELECT a.drill,
                 EXISTS (SELECT 1 FROM alarm_cancels c
                         WHERE c.alarm_id = a.message_id
                           AND c.reason = 'ALARM_CANCEL_REASON_FALSE_ALARM') AS false_alarm
          FROM alarms a JOIN messages m ON m.message_id = a.message_id
          WHERE a.school_id = s.id AND m.received_at >= span.t0 AND m.received_at < span.t1) x
) al
-- Escalations created in the month: their first acknowledgement against
-- the time they had (ay_escalation_ack_due).
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE acked_at IS NOT NULL AND (due IS NULL OR acked_at <= due)),
           count(*) FILTER (WHERE acked_at IS NOT NULL AND acked_at > due),
           count(*) FILTER (WHERE acked_at IS NULL AND due < judged_at)
    FROM (SELECT y.acked_at, y.judged_at, ay_escalation_ack_due(y.id, y.judged_at) AS due
          FROM (SELECT e.id, f.acked_at, coalesce(f.acked_at, e.resolved_at, now()) AS judged_at
                FROM escalations e
                CROSS JOIN LATERAL (
                    SELECT coalesce((SELECT min(a.at) FROM acks a
                                     WHERE a.escalation_id = e.id
                                       AND (e.resolved_at IS NULL OR a.at <= e.resolved_at)),
                                    e.acked_at) AS acked_at) f
                WHERE e.school_id = s.id AND e.created_at >= span.t0
                  AND e.created_at < span.t1) y) x
) es
WHERE s.district_id = p_district
ORDER BY s.id
$$;

-- The deadlines of a school by due time, whatever their status (the
-- existing indexes cover only open ones).
CREATE INDEX deadlines_school_due_all ON deadlines (school_id, due_at);
