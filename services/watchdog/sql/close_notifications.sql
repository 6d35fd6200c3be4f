-- An escalation acknowledged: what was not sent yet is cancelled (no
-- reminder after an acknowledgement), what was sent is acknowledged.
-- $1: escalation ids (uuid[]).
UPDATE notifications
SET state = CASE WHEN state = 'pending' THEN 'cancelled' ELSE 'acknowledged' END,
    closed_at = clock_timestamp()
WHERE escalation_id = ANY ($1::uuid[]) AND state IN ('pending', 'sent')
