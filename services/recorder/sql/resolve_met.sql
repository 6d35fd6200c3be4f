-- Deadlines met now, some of them after they were missed (a late report):
-- the escalations of their missing are over. Each is resolved, what was
-- not sent of it is cancelled, its audiences are told (a RESOLVED
-- notification; the watchdog words it from the deadline), with an audit
-- row. $1: deadline ids (bigint[]).
WITH ended AS (
    UPDATE escalations SET status = 'resolved', resolved_at = clock_timestamp(),
                           next_action_at = NULL
    WHERE deadline_id = ANY ($1::bigint[]) AND status IN ('open', 'acknowledged')
    RETURNING id, district_id, school_id, subject_id, deadline_id, audience, level, chain
), told AS (
    INSERT INTO notifications (id, escalation_id, district_id, audience, level, target, kind)
    SELECT gen_random_uuid(), e.id, e.district_id, e.audience, e.level,
           coalesce(e.chain -> (e.level - 1) ->> 'target', ''), 'NOTIFICATION_KIND_RESOLVED'
    FROM ended e
    RETURNING escalation_id
), audited AS (
    INSERT INTO audit_events (district_id, school_id, subject_id, escalation_id, deadline_id,
                              actor, action, detail)
    SELECT district_id, school_id, subject_id, id, deadline_id, 'recorder', 'escalation.resolved',
           '{"why": "deadline met late"}'::jsonb
    FROM ended
    RETURNING 1
)
UPDATE notifications SET state = 'cancelled', closed_at = clock_timestamp()
WHERE escalation_id IN (SELECT id FROM ended) AND state = 'pending'
  AND kind <> 'NOTIFICATION_KIND_RESOLVED'
