-- The raw log, once per message id: a row another instance stored meanwhile
-- is left alone (ON CONFLICT) and reported by its absence from RETURNING.
-- payload is protobuf whatever the form (the canonical encoding of a JSON
-- message); a JSON message's bytes as received go to message_originals
-- with it, only when its row was inserted now (db/migrations/0009).
-- $1: rows (jsonb array of objects with the columns below).
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(message_id uuid, kind text, topic text,
         district_id text, school_id text, device_id text, sent_at timestamptz,
         received_at timestamptz, payload text, body jsonb, warning text, wire_format text,
         content_type text, original text)
), m AS (
    INSERT INTO messages (message_id, kind, topic, district_id, school_id, device_id,
                          sent_at, received_at, payload, body, warning)
    SELECT r.message_id, r.kind, r.topic, r.district_id, r.school_id, r.device_id,
           r.sent_at, r.received_at, decode(r.payload, 'hex'), r.body, r.warning
    FROM r
    ON CONFLICT (message_id) DO NOTHING
    RETURNING message_id, id, stored_at
), o AS (
    INSERT INTO message_originals (message_id, wire_format, content_type, original)
    SELECT r.message_id, r.wire_format, r.content_type, decode(r.original, 'hex')
    FROM r JOIN m USING (message_id)
    WHERE r.wire_format <> 'protobuf'
)
SELECT message_id::text, id, (extract(epoch FROM stored_at) * 1000000)::bigint FROM m
