-- Hazards the batch's updates refer to. $1: hazard ids (uuid[]).
SELECT id::text, school_id FROM hazards WHERE id = ANY ($1::uuid[])
