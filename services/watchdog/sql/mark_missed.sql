-- The deadlines just found missed: when, and by how much after their due
-- time the watchdog fired (its lateness, reported by the benchmark).
-- $1: deadline ids (bigint[]).
UPDATE deadlines SET status = 'missed', fired_at = clock_timestamp()
WHERE id = ANY ($1::bigint[]) AND status = 'pending'
RETURNING id, (extract(epoch FROM fired_at - due_at) * 1000000)::bigint
