-- Acknowledgements, once per message id (a re-send changes nothing).
-- payload is protobuf whatever the form (the canonical encoding of a JSON
-- ack); a JSON ack's bytes as received go to ack_originals with it, only
-- when its row was inserted now (db/migrations/0009).
-- $1: rows (jsonb array). Returns the ids inserted now.
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(message_id uuid, escalation_id uuid,
         kind text, at timestamptz, by_name text, by_account text, note text, district_id text,
         audience text, payload text, wire_format text, content_type text, original text)
), a AS (
    INSERT INTO acks (message_id, escalation_id, kind, at, by_name, by_account, note, district_id,
                      audience, payload)
    SELECT r.message_id, r.escalation_id, r.kind, r.at, r.by_name, r.by_account, r.note,
           r.district_id, r.audience, decode(r.payload, 'hex')
    FROM r
    ON CONFLICT (message_id) DO NOTHING
    RETURNING message_id
), o AS (
    INSERT INTO ack_originals (message_id, wire_format, content_type, original)
    SELECT r.message_id, r.wire_format, r.content_type, decode(r.original, 'hex')
    FROM r JOIN a USING (message_id)
    WHERE r.wire_format <> 'protobuf'
)
SELECT message_id::text FROM a
