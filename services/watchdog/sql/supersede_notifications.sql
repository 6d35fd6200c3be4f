-- A newer message replaces one not sent yet. $1: escalation ids (uuid[]).
UPDATE notifications SET state = 'superseded', closed_at = clock_timestamp()
WHERE escalation_id = ANY ($1::uuid[]) AND state = 'pending'
