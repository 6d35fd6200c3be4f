-- Escalations whose next timer is due (reminder, climb, re-escalation),
-- locked by this instance. $1: how many at most.
-- (SELECT clock_timestamp()): the time read once, so the partial index on
-- the due time bounds the scan; a bare clock_timestamp() is volatile and
-- made PostgreSQL filter every pending row (bench/watchdog).
SELECT e.id::text, e.district_id, e.school_id, e.audience, e.status, e.level,
       (extract(epoch FROM e.level_since) * 1000000)::bigint,
       (extract(epoch FROM e.last_notified_at) * 1000000)::bigint,
       coalesce((extract(epoch FROM e.acked_at) * 1000000)::bigint, 0),
       e.reescalate_after_s, e.chain::text, e.subject_id::text,
       (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, e.reason, e.supervise_s
FROM escalations e
WHERE e.status IN ('open', 'acknowledged') AND e.next_action_at <= (SELECT clock_timestamp())
ORDER BY e.next_action_at
LIMIT $1::int
FOR UPDATE SKIP LOCKED
