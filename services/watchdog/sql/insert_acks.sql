-- Acknowledgements, once per message id (a re-send changes nothing).
-- $1: rows (jsonb array). Returns the ids inserted now.
INSERT INTO acks (message_id, escalation_id, kind, at, by_name, by_account, note, district_id,
                  audience, payload)
SELECT r.message_id, r.escalation_id, r.kind, r.at, r.by_name, r.by_account, r.note,
       r.district_id, r.audience, decode(r.payload, 'hex')
FROM jsonb_to_recordset($1::jsonb) AS r(message_id uuid, escalation_id uuid, kind text,
     at timestamptz, by_name text, by_account text, note text, district_id text, audience text,
     payload text)
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id::text
