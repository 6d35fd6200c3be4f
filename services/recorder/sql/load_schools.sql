-- The names of the batch's schools, for the words of escalations.
-- $1: school ids (text[]).
SELECT id, name_zh, name_en FROM schools WHERE id = ANY ($1::text[])
