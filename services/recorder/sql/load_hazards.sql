-- Hazards the batch's updates refer to, with what the loop needs
-- (services/recorder/hazard.h): status, grade, category, beyond authority,
-- who reported it, who is responsible, where, and its current rectification
-- deadline (the newest of its series: seq, status, due in microseconds).
-- Locked, so that two recorders never both move one hazard from the same
-- state; in id order, so that two batches lock alike.
-- $1: hazard ids (uuid[]).
SELECT h.id::text, h.school_id, h.status, h.grade, h.category, h.beyond_authority,
       h.found_by_name, h.responsible_name, h.place, coalesce(d.seq, 0), coalesce(d.status, ''),
       coalesce((extract(epoch FROM d.due_at) * 1000000)::bigint, 0)
FROM hazards h
LEFT JOIN LATERAL (SELECT dl.seq, dl.status, dl.due_at FROM deadlines dl
                   WHERE dl.kind = 'DEADLINE_KIND_HAZARD_RECTIFICATION' AND dl.subject_id = h.id
                   ORDER BY dl.seq DESC LIMIT 1) d ON true
WHERE h.id = ANY ($1::uuid[])
ORDER BY h.id
FOR UPDATE OF h
