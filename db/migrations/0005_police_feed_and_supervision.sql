-- 0005_police_feed_and_supervision.sql: what a police dispatcher needs to
-- know of a school and a button, drills, and device supervision
-- (domain.md rule 1: 直达110, and "联得通": every button known to work).

-- The registry, as the police feed shows it (held in the feed's memory,
-- refreshed on NOTIFY ay_registry).
ALTER TABLE schools ADD COLUMN address text NOT NULL DEFAULT '';
ALTER TABLE schools ADD COLUMN phone text NOT NULL DEFAULT '';      -- the school's duty phone
ALTER TABLE devices ADD COLUMN location text NOT NULL DEFAULT '';   -- where the button is, in words
ALTER TABLE devices ADD COLUMN latitude double precision;
ALTER TABLE devices ADD COLUMN longitude double precision;
ALTER TABLE devices ADD COLUMN place_name text NOT NULL DEFAULT ''; -- the shop or home it is in (nearby_shop, nearby_home)
ALTER TABLE devices ADD COLUMN heartbeat_s integer NOT NULL DEFAULT 60
    CHECK (heartbeat_s BETWEEN 5 AND 86400);                        -- the registered interval

-- Drills: an alarm from a button inside one of its test windows is a test
-- (shown as such, never escalated, counted per button).
CREATE TABLE device_test_windows (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id  text NOT NULL REFERENCES devices (id),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    note       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX device_test_windows_device ON device_test_windows (device_id, ends_at);
-- An alarm is a drill when it says so (isTest) or came in a test window.
ALTER TABLE alarms ADD COLUMN drill boolean NOT NULL DEFAULT false;
UPDATE alarms SET drill = is_test;
CREATE INDEX alarms_device_drill ON alarms (device_id, triggered_at) WHERE drill;

-- Supervision. A device is silent when nothing came from it for its
-- allowed gap (policy: device_gap_factor x its heartbeat interval); then,
-- or when its last will says it went offline, it is flagged: an escalation
-- (reason device offline) for this episode of absence, and its return ends
-- the episode. silent_after is a timer the watchdog sleeps until.
ALTER TABLE device_status ADD COLUMN silent_after timestamptz;
ALTER TABLE device_status ADD COLUMN offline_since timestamptz;
ALTER TABLE device_status ADD COLUMN episode_id uuid;              -- the open absence, if any
ALTER TABLE device_status ADD COLUMN low_battery boolean NOT NULL DEFAULT false;
CREATE INDEX device_status_silent ON device_status (silent_after) WHERE offline_since IS NULL;
CREATE TRIGGER device_status_wake AFTER INSERT OR UPDATE OF silent_after ON device_status
    FOR EACH STATEMENT EXECUTE FUNCTION ay_notify_timers();

-- Registry changes reach every service that holds the registry in memory.
CREATE FUNCTION ay_notify_registry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ay_registry', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER schools_registry AFTER INSERT OR UPDATE OR DELETE ON schools
    FOR EACH STATEMENT EXECUTE FUNCTION ay_notify_registry();
CREATE TRIGGER devices_registry AFTER INSERT OR UPDATE OR DELETE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION ay_notify_registry();
CREATE TRIGGER test_windows_registry AFTER INSERT OR UPDATE OR DELETE ON device_test_windows
    FOR EACH STATEMENT EXECUTE FUNCTION ay_notify_registry();

-- A device back after an absence is told to those who were told it was
-- gone: a notification of kind RESOLVED.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('NOTIFICATION_KIND_FIRST', 'NOTIFICATION_KIND_REMINDER',
                    'NOTIFICATION_KIND_CLIMB', 'NOTIFICATION_KIND_REESCALATION',
                    'NOTIFICATION_KIND_RESOLVED'));
-- Its own words (the escalation's summary told of the absence).
ALTER TABLE notifications ADD COLUMN summary_zh text;
ALTER TABLE notifications ADD COLUMN summary_en text;
