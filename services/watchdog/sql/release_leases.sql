-- Publishes that failed: try again at the next round. $1: ids (uuid[]).
UPDATE notifications SET lease_until = NULL WHERE id = ANY ($1::uuid[]) AND state = 'pending'
