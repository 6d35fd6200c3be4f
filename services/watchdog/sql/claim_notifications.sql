-- Pending notifications to publish, leased to this instance for $2
-- seconds (another sender skips them; an expired lease means the publish
-- is not known to have happened: it is sent again, with the same id).
-- $1: how many at most.
WITH c AS (
    SELECT id FROM notifications
    WHERE state = 'pending' AND (lease_until IS NULL OR lease_until < clock_timestamp())
    ORDER BY created_at
    LIMIT $1::int
    FOR UPDATE SKIP LOCKED
)
UPDATE notifications n
SET lease_until = clock_timestamp() + make_interval(secs => $2::int), attempts = n.attempts + 1
FROM c, escalations e
WHERE n.id = c.id AND e.id = n.escalation_id
RETURNING n.id::text, n.escalation_id::text, n.district_id, n.audience, n.level, n.target,
          n.kind, coalesce((extract(epoch FROM n.ack_due_at) * 1000000)::bigint, 0),
          e.subject_kind, e.subject_id::text, e.school_id, e.reason, e.severity,
          -- A RESOLVED notice of a missed deadline gets its own words
          -- (watchdog.c): '' here.
          coalesce(n.summary_zh, CASE WHEN n.kind = 'NOTIFICATION_KIND_RESOLVED'
                                       AND e.deadline_id IS NOT NULL THEN '' END, e.summary_zh),
          coalesce(n.summary_en, e.summary_en), e.chain::text,
          coalesce((SELECT d.kind FROM deadlines d WHERE d.id = e.deadline_id), ''),
          coalesce((SELECT (extract(epoch FROM d.due_at) * 1000000)::bigint
                    FROM deadlines d WHERE d.id = e.deadline_id), 0),
          coalesce((SELECT s.name_zh FROM schools s WHERE s.id = e.school_id), ''),
          coalesce((SELECT d.late_s FROM deadlines d WHERE d.id = e.deadline_id), 0),
          coalesce((SELECT s.name_en FROM schools s WHERE s.id = e.school_id), '')
