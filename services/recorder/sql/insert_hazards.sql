-- Hazards (domain.md rule 3), identified by their report's message id.
-- $1: message ids (uuid[]).
INSERT INTO hazards (id, district_id, school_id, category, grade, place, description,
                     found_by_name, found_at, responsible_name, responsible_phone,
                     rectification_deadline, interim_measures, beyond_authority, status, status_at)
SELECT m.message_id, m.district_id, m.school_id, b->>'category', b->>'grade', b->>'place',
       b->>'description', coalesce(b#>>'{foundBy,name}', ''), (b->>'foundAt')::timestamptz,
       coalesce(b#>>'{responsible,name}', ''), coalesce(b#>>'{responsible,phone}', ''),
       (b->>'rectificationDeadline')::timestamptz, coalesce(b->>'interimMeasures', ''),
       coalesce((b->>'beyondAuthority')::boolean, false), 'HAZARD_STATUS_REGISTERED',
       m.received_at
FROM messages m, LATERAL (SELECT m.body) AS x(b)
WHERE m.message_id = ANY ($1::uuid[])
