-- Alarm cancels (restored, false alarm). $1: message ids just stored (uuid[]).
INSERT INTO alarm_cancels (message_id, alarm_id, reason, cancelled_at, by_name, note)
SELECT m.message_id, (b->>'alarmId')::uuid, b->>'reason', (b->>'cancelledAt')::timestamptz,
       coalesce(b#>>'{cancelledBy,name}', ''), coalesce(b->>'note', '')
FROM messages m, LATERAL (SELECT m.body) AS x(b)
WHERE m.message_id = ANY ($1::uuid[])
