-- 0010_quiet_wakeups.sql: wake the watchdog only when it has reason to,
-- and find a batch's open deadlines by index (bench/supervision: with
-- 10,000 devices every heartbeat moved its device's silence timer later
-- and woke the timers and the sender of every watchdog, ~390 times a
-- second, for nothing; and load_deadlines.sql read the whole deadlines
-- table in every recorder transaction).

-- A device's silence timer wakes the timers only when it appears, or comes
-- back (the device returned), or moves earlier than it was: a heartbeat
-- moves it later, which the sleeping watchdog need not hear of.
DROP TRIGGER device_status_wake ON device_status;
CREATE TRIGGER device_status_wake AFTER INSERT ON device_status
    FOR EACH ROW WHEN (NEW.silent_after IS NOT NULL) EXECUTE FUNCTION ay_notify_timers();
CREATE TRIGGER device_status_wake_earlier AFTER UPDATE OF silent_after, offline_since
    ON device_status FOR EACH ROW
    WHEN (NEW.silent_after IS NOT NULL AND NEW.offline_since IS NULL
          AND (OLD.offline_since IS NOT NULL OR OLD.silent_after IS NULL
               OR NEW.silent_after < OLD.silent_after))
    EXECUTE FUNCTION ay_notify_timers();

-- New notifications wake the senders on a channel of their own, not the
-- timers' (and timer changes no longer wake the senders).
CREATE FUNCTION ay_notify_notifications() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ay_notifications', '');
    RETURN NULL;
END $$;
DROP TRIGGER notifications_wake ON notifications;
CREATE TRIGGER notifications_wake AFTER INSERT ON notifications
    FOR EACH STATEMENT EXECUTE FUNCTION ay_notify_notifications();

-- The open deadlines a batch's messages started (a re-send's receipt
-- repeats them), found by index (load_deadlines.sql).
CREATE INDEX deadlines_created_by ON deadlines (created_by) WHERE status IN ('pending', 'missed');
