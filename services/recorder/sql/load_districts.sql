-- The reporting policy of the batch's districts (a district without a
-- policy row has the defaults). $1: district ids (text[]).
SELECT d.id, coalesce(p.doc::text, '{}')
FROM districts d
LEFT JOIN policies p ON p.district_id = d.id
WHERE d.id = ANY ($1::text[])
