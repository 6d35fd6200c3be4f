-- Milliseconds until the earliest timer (NULL: none), by the database's
-- clock, the one clock every instance shares: a deadline, an escalation's
-- next step, a device falling silent.
SELECT ceil(extract(epoch FROM least(
           (SELECT min(due_at) FROM deadlines WHERE status = 'pending'),
           (SELECT min(next_action_at) FROM escalations
            WHERE status IN ('open', 'acknowledged')),
           (SELECT min(silent_after) FROM device_status WHERE offline_since IS NULL))
           - clock_timestamp()) * 1000)::bigint
