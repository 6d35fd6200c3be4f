-- Hazards (domain.md rule 3), identified by their report's message id.
-- $1: rows (jsonb array: id, the message id; due_at, the rectification
-- deadline the recorder decided; source, 'report' when the report gave it,
-- 'policy' when it is the policy's hazard_rectification).
-- One index probe of messages per row (the OFFSET 0 keeps the planner from
-- turning it into a join). Written as "JOIN messages m ON m.message_id =
-- r.id", with jsonb_to_recordset's 100 estimated rows, the planner hashes a
-- whole scan of messages until that table has ~800 pages (~10,000 messages),
-- and a cached plan is kept until the table is next analyzed: on a young
-- database each batch scanned messages (15.6 ms per call after 100,000 in
-- bench/run, where autovacuum never analyzed it; bench/README.md). The probe
-- loses to a scan only below ~8 pages.
INSERT INTO hazards (id, district_id, school_id, category, grade, place, description,
                     found_by_name, found_at, responsible_name, responsible_phone,
                     rectification_deadline, interim_measures, beyond_authority, status, status_at,
                     deadline_source)
SELECT m.message_id, m.district_id, m.school_id, b->>'category', b->>'grade', b->>'place',
       b->>'description', coalesce(b#>>'{foundBy,name}', ''), (b->>'foundAt')::timestamptz,
       coalesce(b#>>'{responsible,name}', ''), coalesce(b#>>'{responsible,phone}', ''),
       r.due_at, coalesce(b->>'interimMeasures', ''),
       coalesce((b->>'beyondAuthority')::boolean, false), 'HAZARD_STATUS_REGISTERED',
       m.received_at, r.source
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, due_at timestamptz, source text)
CROSS JOIN LATERAL (SELECT * FROM messages m WHERE m.message_id = r.id OFFSET 0) AS m,
     LATERAL (SELECT m.body) AS x(b)
