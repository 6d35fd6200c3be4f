-- Test windows that have not ended yet (one that ends while the snapshot
-- is in use still ends at its own time: the rule compares times).
SELECT device_id,
       (extract(epoch FROM starts_at) * 1000000)::bigint,
       (extract(epoch FROM ends_at) * 1000000)::bigint
FROM device_test_windows
WHERE ends_at > now()
