-- Notifications the broker acknowledged. One acknowledged meanwhile (it was
-- on its way when the ack came) keeps that state, with its sent_at: what
-- was delivered is recorded as delivered. $1: ids (uuid[]).
UPDATE notifications
SET state = CASE WHEN state = 'pending' THEN 'sent' ELSE state END,
    sent_at = clock_timestamp(), lease_until = NULL
WHERE id = ANY ($1::uuid[]) AND sent_at IS NULL AND state IN ('pending', 'acknowledged')
RETURNING id::text, escalation_id::text, district_id, kind, level, target
