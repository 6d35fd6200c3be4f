-- 0009_wire_format.sql: messages may arrive as binary protobuf or as the
-- proto3 JSON of the same message (docs/contract.md 4.1, 4.6; lib/ay_wire.h),
-- and are stored alike whatever the form (domain.md rule 7: everything
-- leaves a trace, including how it came).
--
-- messages.payload and acks.payload always hold the protobuf encoding: the
-- bytes as received for a protobuf message, the canonical encoding
-- (protobuf-c's packing of the decoded message) for a JSON one; body, the
-- domain rows and the deadlines do not depend on the form. What a JSON
-- message looked like on the wire is kept here, in the same transaction as
-- its row. A message without a row here came as protobuf and its payload
-- is what was received.

CREATE TABLE message_originals (
    message_id   uuid PRIMARY KEY REFERENCES messages (message_id),
    wire_format  text NOT NULL CHECK (wire_format IN ('json')),
    content_type text,           -- the MQTT v5 content type as sent; NULL: none (MQTT 3.1.1)
    original     bytea NOT NULL  -- the payload exactly as received
);

CREATE TABLE ack_originals (
    message_id   uuid PRIMARY KEY REFERENCES acks (message_id),
    wire_format  text NOT NULL CHECK (wire_format IN ('json')),
    content_type text,
    original     bytea NOT NULL
);

-- A dead letter keeps the bytes as received (payload, unchanged); these say
-- which form the backbone took them for and the content type they came with.
ALTER TABLE dead_letters ADD COLUMN wire_format text NOT NULL DEFAULT 'protobuf'
    CHECK (wire_format IN ('protobuf', 'json'));
ALTER TABLE dead_letters ADD COLUMN content_type text;
