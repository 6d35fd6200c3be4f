-- Messages of the batch already stored (a re-send, or an id reused): the
-- first storage stands. $1: message ids (uuid[]).
SELECT message_id::text, id, (extract(epoch FROM stored_at) * 1000000)::bigint,
       device_id, kind
FROM messages
WHERE message_id = ANY ($1::uuid[])
