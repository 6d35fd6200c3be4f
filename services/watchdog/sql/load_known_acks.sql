-- Acknowledgements of a batch already applied (a re-send). $1: ids (uuid[]).
SELECT message_id::text FROM acks WHERE message_id = ANY ($1::uuid[])
