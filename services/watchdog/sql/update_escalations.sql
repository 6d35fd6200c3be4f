-- New state of escalations after a timer or an acknowledgement.
-- $1: rows (jsonb array); absent keys keep their value.
UPDATE escalations e SET
    status = r.status, level = r.level, level_since = r.level_since,
    last_notified_at = r.last_notified_at, next_action_at = r.next_action_at,
    ack_due_at = r.ack_due_at,
    acked_at = coalesce(r.acked_at, e.acked_at), ack_kind = coalesce(r.ack_kind, e.ack_kind),
    acked_by = coalesce(r.acked_by, e.acked_by),
    resolved_at = CASE WHEN r.status = 'resolved' THEN coalesce(e.resolved_at, r.acked_at)
                       ELSE e.resolved_at END
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, status text, level int,
     level_since timestamptz, last_notified_at timestamptz, next_action_at timestamptz,
     ack_due_at timestamptz, acked_at timestamptz, ack_kind text, acked_by text)
WHERE e.id = r.id
