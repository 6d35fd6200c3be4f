-- Latest state per device; an older message never overwrites a newer one.
-- With its supervision (decided by recorder.c): when it falls silent
-- (silent_after, the watchdog's timer), whether it is gone (its last will)
-- and the open absence. $1: message ids (uuid[]); $2: supervision rows
-- (jsonb array: device_id, silent_after, offline, episode_id, low_battery),
-- one per device.
WITH sup AS (
    SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(device_id text, silent_after timestamptz,
                                                       offline boolean, episode_id uuid,
                                                       low_battery boolean)
)
INSERT INTO device_status (device_id, school_id, last_message_id, last_seen_at, state,
                           battery_percent, tamper, fault, fault_detail, firmware,
                           heartbeat_interval_s, silent_after, offline_since, episode_id,
                           low_battery)
SELECT DISTINCT ON (m.device_id) m.device_id, m.school_id, m.message_id, m.received_at,
       b->>'state', (b->>'batteryPercent')::int, coalesce((b->>'tamper')::boolean, false),
       coalesce((b->>'fault')::boolean, false), coalesce(b->>'faultDetail', ''),
       coalesce(b->>'firmware', ''), coalesce((b->>'heartbeatIntervalS')::int, 0),
       sup.silent_after, CASE WHEN sup.offline THEN m.received_at END, sup.episode_id,
       coalesce(sup.low_battery, false)
FROM messages m
JOIN sup ON sup.device_id = m.device_id,
     LATERAL (SELECT m.body) AS x(b)
WHERE m.message_id = ANY ($1::uuid[])
ORDER BY m.device_id, m.received_at DESC, m.id DESC
ON CONFLICT (device_id) DO UPDATE SET school_id = excluded.school_id,
    last_message_id = excluded.last_message_id, last_seen_at = excluded.last_seen_at,
    state = excluded.state, battery_percent = excluded.battery_percent,
    tamper = excluded.tamper, fault = excluded.fault, fault_detail = excluded.fault_detail,
    firmware = excluded.firmware, heartbeat_interval_s = excluded.heartbeat_interval_s,
    silent_after = excluded.silent_after,
    offline_since = CASE WHEN excluded.offline_since IS NULL THEN NULL
                         ELSE coalesce(device_status.offline_since, excluded.offline_since) END,
    episode_id = excluded.episode_id, low_battery = excluded.low_battery
WHERE excluded.last_seen_at >= device_status.last_seen_at
