-- The escalations the acknowledgements of a batch refer to, locked: by
-- their ids, or (a police ack of an alarm on the feed) by the alarm's id.
-- $1: escalation or alarm ids (uuid[]).
SELECT e.id::text, e.district_id, e.school_id, e.audience, e.status, e.level,
       (extract(epoch FROM e.level_since) * 1000000)::bigint,
       (extract(epoch FROM e.last_notified_at) * 1000000)::bigint,
       coalesce((extract(epoch FROM e.acked_at) * 1000000)::bigint, 0),
       e.reescalate_after_s, e.chain::text, e.subject_id::text,
       (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, e.reason, e.supervise_s
FROM escalations e
WHERE e.id = ANY ($1::uuid[])
   OR (e.subject_id = ANY ($1::uuid[]) AND e.reason = 'ESCALATION_REASON_ALARM')
FOR UPDATE
