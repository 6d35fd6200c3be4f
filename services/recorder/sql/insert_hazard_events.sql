-- Every step of a hazard, with who and when. $1: message ids (uuid[]).
INSERT INTO hazard_events (message_id, hazard_id, status, by_name, at, note, new_deadline)
SELECT m.message_id, (b->>'hazardId')::uuid, b->>'status', coalesce(b#>>'{by,name}', ''),
       (b->>'at')::timestamptz, coalesce(b->>'note', ''), (b->>'newDeadline')::timestamptz
FROM messages m, LATERAL (SELECT m.body) AS x(b)
WHERE m.message_id = ANY ($1::uuid[])
