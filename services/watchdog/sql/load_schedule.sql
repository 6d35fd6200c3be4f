-- Every school, with what its report calendar needs: its district's
-- policy and since when it is registered (nothing is owed from before).
SELECT s.id, s.district_id, (extract(epoch FROM s.created_at) * 1000000)::bigint,
       coalesce(p.doc::text, '{}'), (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
FROM schools s
LEFT JOIN policies p ON p.district_id = s.district_id
ORDER BY s.district_id, s.id
