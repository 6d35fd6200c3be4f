-- Incidents the batch's reports refer to. $1: incident ids (uuid[]).
SELECT id::text, school_id FROM incidents WHERE id = ANY ($1::uuid[])
