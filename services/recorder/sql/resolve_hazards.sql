-- Hazards this batch moved on (hazard.c, recorder_hazard_is_move): the
-- follow-up of an overdue rectification is over (the escalations of its
-- missed deadlines); a hazard closed (销号) ends every escalation of it, its
-- tracked supervision (挂牌督办) and the local government's too. Each is
-- resolved, what was not sent of it is cancelled, its audience is told (a
-- RESOLVED notification in the words of the step), with an audit row.
-- $1: rows (jsonb array: hazard_id, status, closed, summary_zh, summary_en,
-- message_id, ord); the last of a hazard (ord) counts.
WITH moved AS (
    SELECT DISTINCT ON (hazard_id) *
    FROM jsonb_to_recordset($1::jsonb) AS r(hazard_id uuid, status text, closed boolean,
                                            summary_zh text, summary_en text, message_id uuid,
                                            ord int)
    ORDER BY hazard_id, ord DESC
), ended AS (
    UPDATE escalations e SET status = 'resolved', resolved_at = clock_timestamp(),
                             next_action_at = NULL
    FROM moved
    WHERE e.subject_id = moved.hazard_id AND e.status IN ('open', 'acknowledged')
      AND (moved.closed OR e.reason = 'ESCALATION_REASON_DEADLINE_MISSED')
    RETURNING e.id, e.district_id, e.school_id, e.subject_id, e.audience, e.level, e.chain,
              e.reason, moved.status, moved.message_id, moved.summary_zh, moved.summary_en
), told AS (
    INSERT INTO notifications (id, escalation_id, district_id, audience, level, target, kind,
                               summary_zh, summary_en)
    SELECT gen_random_uuid(), e.id, e.district_id, e.audience, e.level,
           coalesce(e.chain -> (e.level - 1) ->> 'target', ''), 'NOTIFICATION_KIND_RESOLVED',
           e.summary_zh, e.summary_en
    FROM ended e
    RETURNING escalation_id
), audited AS (
    INSERT INTO audit_events (district_id, school_id, subject_id, escalation_id, actor, action,
                              detail)
    SELECT district_id, school_id, subject_id, id, 'recorder', 'escalation.resolved',
           jsonb_build_object('why', 'hazard step', 'status', status, 'reason', reason,
                              'by', message_id)
    FROM ended
    RETURNING 1
)
UPDATE notifications SET state = 'cancelled', closed_at = clock_timestamp()
WHERE escalation_id IN (SELECT id FROM ended) AND state = 'pending'
  AND kind <> 'NOTIFICATION_KIND_RESOLVED'
