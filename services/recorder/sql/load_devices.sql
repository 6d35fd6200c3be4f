-- The registry rows of the batch's devices. $1: device ids (text[]).
SELECT d.id, d.school_id, s.district_id, d.enabled
FROM devices d
JOIN schools s ON s.id = d.school_id
WHERE d.id = ANY ($1::text[])
