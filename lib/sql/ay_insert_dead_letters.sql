-- Refused messages, kept with their reason (nothing is dropped silently),
-- at most $2 per device and hour; past that they are only counted in
-- dead_letter_overflow (one row per device and hour), so one device's junk
-- cannot fill the table. $1: rows (jsonb array); $2: the cap (int).
-- payload is the bytes as received; wire_format ('protobuf' or 'json') the
-- form the backbone took them for, content_type the MQTT v5 one (or none).
WITH r AS (
    SELECT x.*, coalesce(x.device_id, '') AS dev,
           row_number() OVER (PARTITION BY coalesce(x.device_id, '') ORDER BY x.received_at) AS k
    FROM jsonb_to_recordset($1::jsonb) AS x(received_at timestamptz, topic text,
         district_id text, school_id text, device_id text, message_id text, reason text,
         payload text, wire_format text, content_type text)
), c AS (
    SELECT r.*, (SELECT count(*) FROM dead_letters d
                 WHERE d.device_id IS NOT DISTINCT FROM r.device_id
                   AND d.received_at >= date_trunc('hour', r.received_at)) AS before
    FROM r
), kept AS (
    INSERT INTO dead_letters (received_at, topic, district_id, school_id, device_id,
                              message_id, reason, payload, wire_format, content_type)
    SELECT received_at, topic, district_id, school_id, device_id, message_id, reason,
           decode(payload, 'hex'), coalesce(wire_format, 'protobuf'), content_type
    FROM c WHERE before + k <= $2::int
    RETURNING 1
)
INSERT INTO dead_letter_overflow (device_id, hour, count, last_reason, last_at)
SELECT dev, date_trunc('hour', received_at), count(*),
       (array_agg(reason ORDER BY received_at DESC))[1], max(received_at)
FROM c WHERE before + k > $2::int
GROUP BY dev, date_trunc('hour', received_at)
ON CONFLICT (device_id, hour) DO UPDATE SET count = dead_letter_overflow.count + excluded.count,
    last_reason = excluded.last_reason, last_at = excluded.last_at
