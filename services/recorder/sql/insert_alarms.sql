-- One-click alarms (domain.md rule 1), projected from the stored body.
-- $1: message ids just stored (uuid[]). proto3 JSON omits defaults, hence
-- the coalesce() calls.
INSERT INTO alarms (message_id, district_id, school_id, device_id, kind, source,
                    triggered_at, location, latitude, longitude, is_test, note, drill)
SELECT m.message_id, m.district_id, m.school_id, m.device_id, b->>'kind', b->>'source',
       (b->>'triggeredAt')::timestamptz, b->>'location',
       CASE WHEN b ? 'geo' THEN coalesce((b#>>'{geo,latitude}')::float8, 0) END,
       CASE WHEN b ? 'geo' THEN coalesce((b#>>'{geo,longitude}')::float8, 0) END,
       coalesce((b->>'isTest')::boolean, false), coalesce(b->>'note', ''),
       -- a drill: it says so, or a test window of its button is open (now():
       -- this transaction's time, as load_devices.sql, which recorder.c decided by)
       coalesce((b->>'isTest')::boolean, false)
         OR EXISTS (SELECT 1 FROM device_test_windows w WHERE w.device_id = m.device_id
                    AND now() >= w.starts_at AND now() < w.ends_at)
FROM messages m, LATERAL (SELECT m.body) AS x(b)
WHERE m.message_id = ANY ($1::uuid[])
