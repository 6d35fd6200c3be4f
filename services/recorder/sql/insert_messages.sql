-- The raw log, once per message id: a row another instance stored meanwhile
-- is left alone (ON CONFLICT) and reported by its absence from RETURNING.
-- $1: rows (jsonb array of objects with the columns below).
INSERT INTO messages (message_id, kind, topic, district_id, school_id, device_id,
                      sent_at, received_at, payload, body, warning)
SELECT r.message_id, r.kind, r.topic, r.district_id, r.school_id, r.device_id,
       r.sent_at, r.received_at, decode(r.payload, 'hex'), r.body, r.warning
FROM jsonb_to_recordset($1::jsonb) AS r(message_id uuid, kind text, topic text,
     district_id text, school_id text, device_id text, sent_at timestamptz,
     received_at timestamptz, payload text, body jsonb, warning text)
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id::text, id, (extract(epoch FROM stored_at) * 1000000)::bigint
