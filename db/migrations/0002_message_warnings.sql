-- 0002_message_warnings.sql: a message stored despite a problem says so.
-- Alarms, their cancels and heartbeats are accepted whatever the sending
-- device's clock says (a button must never be refused for its clock); what
-- was wrong is kept here and told to the sender in its receipt.
ALTER TABLE messages ADD COLUMN warning text;
CREATE INDEX messages_warning ON messages (received_at) WHERE warning IS NOT NULL;
