-- 0015_school_audience.sql: a fourth audience, the school (issue 12: a
-- device offline, low on battery, tampered with or faulty is told to its
-- school and to the bureau; docs/contract.md 5.10, AUDIENCE_SCHOOL).
--
-- The schema needs nothing new for it: escalations.audience,
-- notifications.audience and acks.audience are text holding the contract's
-- enum names ('AUDIENCE_SCHOOL' is one more), and the watchdog finds which
-- school acknowledged from devices.school_id (the ack's topic names the
-- device).
--
-- What changes is the compliance table (0008): its columns
-- escalations_acked_in_time / _acked_late / _never_acked keep meaning what
-- they meant, how the authorities (police, bureau, local government)
-- answered the escalations about a school. Escalations to the school itself
-- are left out of them: they are the school being told about its own
-- device, not a matter escalated about it, and counting them would count
-- every device problem twice (the same event goes to the bureau). The body
-- is 0008's with that one condition added (AND e.audience <>
-- 'AUDIENCE_SCHOOL'); it reads only columns of 0001-0005, as 0008 does.
CREATE OR REPLACE FUNCTION ay_compliance(p_district text, p_month date)
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
-- Escalations created in the month, to the police, the bureau or the
-- government (not to the school itself): their first acknowledgement
-- against the time they had (ay_escalation_ack_due).
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
                  AND e.created_at < span.t1
                  AND e.audience <> 'AUDIENCE_SCHOOL') y) x
) es
WHERE s.district_id = p_district
ORDER BY s.id
$$;
