-- Every step of a hazard, with who and when, and the status it moved from.
-- $1: rows (jsonb array: message_id, prev_status).
INSERT INTO hazard_events (message_id, hazard_id, status, by_name, at, note, new_deadline,
                           prev_status)
SELECT m.message_id, (b->>'hazardId')::uuid, b->>'status', coalesce(b#>>'{by,name}', ''),
       (b->>'at')::timestamptz, coalesce(b->>'note', ''), (b->>'newDeadline')::timestamptz,
       r.prev_status
FROM jsonb_to_recordset($1::jsonb) AS r(message_id uuid, prev_status text)
JOIN messages m ON m.message_id = r.message_id, LATERAL (SELECT m.body) AS x(b)
