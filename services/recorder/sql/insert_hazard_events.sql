-- Every step of a hazard, with who and when, and the status it moved from.
-- $1: rows (jsonb array: message_id, prev_status).
-- One index probe of messages per row (the OFFSET 0 keeps the planner from
-- turning it into a join). Written as "JOIN messages m ON m.message_id =
-- r.id", with jsonb_to_recordset's 100 estimated rows, the planner hashes a
-- whole scan of messages until that table has ~800 pages (~10,000 messages),
-- and a cached plan is kept until the table is next analyzed: on a young
-- database each batch scanned messages (15.6 ms per call after 100,000 in
-- bench/run, where autovacuum never analyzed it; bench/README.md). The probe
-- loses to a scan only below ~8 pages.
INSERT INTO hazard_events (message_id, hazard_id, status, by_name, at, note, new_deadline,
                           prev_status)
SELECT m.message_id, (b->>'hazardId')::uuid, b->>'status', coalesce(b#>>'{by,name}', ''),
       (b->>'at')::timestamptz, coalesce(b->>'note', ''), (b->>'newDeadline')::timestamptz,
       r.prev_status
FROM jsonb_to_recordset($1::jsonb) AS r(message_id uuid, prev_status text)
CROSS JOIN LATERAL (SELECT * FROM messages m WHERE m.message_id = r.message_id OFFSET 0) AS m,
     LATERAL (SELECT m.body) AS x(b)
