-- 0003_lateness_and_flood.sql: lateness is kept, and one device cannot
-- fill the dead-letter table.
--
-- deadlines.late_s: when a deadline is met after it was due, by how many
-- seconds (judged against when the backbone received the message that met
-- it, never the device's clock). NULL while pending or when met in time.
-- A deadline the watchdog already marked 'missed' that is met later keeps
-- that history in late_s (status becomes 'met').
ALTER TABLE deadlines ADD COLUMN late_s bigint CHECK (late_s IS NULL OR late_s > 0);

-- Dead letters are capped per device and hour (the recorder's
-- dead_letter_cap): past the cap, refused messages are only counted here,
-- with the last reason, so a flooding device costs one row per hour.
CREATE TABLE dead_letter_overflow (
    device_id   text NOT NULL,            -- '' when the topic named no device
    hour        timestamptz NOT NULL,     -- date_trunc('hour', received_at)
    count       bigint NOT NULL,
    last_reason text NOT NULL,
    last_at     timestamptz NOT NULL,
    PRIMARY KEY (device_id, hour)
);
CREATE INDEX dead_letters_device_time ON dead_letters (device_id, received_at);
