-- Devices whose allowed gap ran out (silent_after: last heard from plus the
-- policy's gap factor times the heartbeat interval, set by the recorder)
-- and not flagged yet, locked by this instance. SKIP LOCKED: another
-- watchdog skips them (each silence is flagged once), and so does this one
-- while the recorder holds the row for a status message of the device
-- arriving now (which then wins). $1: how many at most.
-- (SELECT clock_timestamp()): the time read once, so the partial index on
-- the due time bounds the scan; a bare clock_timestamp() is volatile and
-- made PostgreSQL filter every pending row (bench/watchdog).
SELECT ds.device_id, d.school_id, s.district_id,
       (extract(epoch FROM ds.silent_after) * 1000000)::bigint,
       coalesce(p.doc::text, '{}'), s.name_zh, s.name_en, d.location, d.enabled,
       (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
FROM device_status ds
JOIN devices d ON d.id = ds.device_id
JOIN schools s ON s.id = d.school_id
LEFT JOIN policies p ON p.district_id = s.district_id
WHERE ds.offline_since IS NULL AND ds.silent_after <= (SELECT clock_timestamp())
ORDER BY ds.silent_after
LIMIT $1::int
FOR UPDATE OF ds SKIP LOCKED
