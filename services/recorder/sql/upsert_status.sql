-- Latest state per device; an older message never overwrites a newer one.
-- $1: message ids (uuid[]).
INSERT INTO device_status (device_id, school_id, last_message_id, last_seen_at, state,
                           battery_percent, tamper, fault, fault_detail, firmware,
                           heartbeat_interval_s)
SELECT DISTINCT ON (m.device_id) m.device_id, m.school_id, m.message_id, m.received_at,
       b->>'state', (b->>'batteryPercent')::int, coalesce((b->>'tamper')::boolean, false),
       coalesce((b->>'fault')::boolean, false), coalesce(b->>'faultDetail', ''),
       coalesce(b->>'firmware', ''), coalesce((b->>'heartbeatIntervalS')::int, 0)
FROM messages m, LATERAL (SELECT m.body) AS x(b)
WHERE m.message_id = ANY ($1::uuid[])
ORDER BY m.device_id, m.received_at DESC, m.id DESC
ON CONFLICT (device_id) DO UPDATE SET school_id = excluded.school_id,
    last_message_id = excluded.last_message_id, last_seen_at = excluded.last_seen_at,
    state = excluded.state, battery_percent = excluded.battery_percent,
    tamper = excluded.tamper, fault = excluded.fault, fault_detail = excluded.fault_detail,
    firmware = excluded.firmware, heartbeat_interval_s = excluded.heartbeat_interval_s
WHERE excluded.last_seen_at >= device_status.last_seen_at
