-- Notifications to send (pending), each with the id its messages will
-- carry. $1: rows (jsonb array).
INSERT INTO notifications (id, escalation_id, district_id, audience, level, target, kind,
                           ack_due_at)
SELECT r.id, r.escalation_id, r.district_id, r.audience, r.level, r.target, r.kind, r.ack_due_at
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, escalation_id uuid, district_id text,
     audience text, level int, target text, kind text, ack_due_at timestamptz)
