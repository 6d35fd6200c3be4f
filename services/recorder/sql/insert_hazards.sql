-- Hazards (domain.md rule 3), identified by their report's message id.
-- $1: rows (jsonb array: id, the message id; due_at, the rectification
-- deadline the recorder decided; source, 'report' when the report gave it,
-- 'policy' when it is the policy's hazard_rectification).
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
JOIN messages m ON m.message_id = r.id, LATERAL (SELECT m.body) AS x(b)
