-- Notifications the broker acknowledged. A notification cancelled by an
-- acknowledgement meanwhile stays cancelled. $1: ids (uuid[]).
UPDATE notifications SET state = 'sent', sent_at = clock_timestamp(), lease_until = NULL
WHERE id = ANY ($1::uuid[]) AND state = 'pending'
RETURNING id::text, escalation_id::text, district_id, kind, level, target
