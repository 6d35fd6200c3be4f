-- The schools of the devices whose acknowledgements of a batch are a
-- school's (ay/v1/{d}/ack/school/{device}): a school acknowledges only its
-- own escalations. Enabled devices only: a disabled or removed one speaks
-- for no school. $1: device ids (text[]).
SELECT d.id, d.school_id
FROM devices d
WHERE d.id = ANY ($1::text[]) AND d.enabled AND d.removed_at IS NULL
