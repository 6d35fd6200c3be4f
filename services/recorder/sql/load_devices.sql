-- The registry rows of the batch's devices, with what supervision and
-- drills need: the registered heartbeat interval, where it is, and whether
-- one of its test windows is open now. $1: device ids (text[]).
SELECT d.id, d.school_id, s.district_id, d.enabled,
       EXISTS (SELECT 1 FROM device_test_windows w
               WHERE w.device_id = d.id AND now() >= w.starts_at AND now() < w.ends_at),
       d.heartbeat_s, d.location
FROM devices d
JOIN schools s ON s.id = d.school_id
WHERE d.id = ANY ($1::text[])
