-- An escalation acknowledged: what was not sent yet is cancelled (no
-- reminder after an acknowledgement), what was sent is acknowledged. One
-- being published right now (leased to a sender) may already be on its way:
-- it is marked acknowledged, and mark_sent.sql still records when it went.
-- $1: escalation ids (uuid[]).
UPDATE notifications
SET state = CASE WHEN state = 'pending' AND (lease_until IS NULL OR lease_until < clock_timestamp())
                 THEN 'cancelled' ELSE 'acknowledged' END,
    closed_at = clock_timestamp()
WHERE escalation_id = ANY ($1::uuid[]) AND state IN ('pending', 'sent')
