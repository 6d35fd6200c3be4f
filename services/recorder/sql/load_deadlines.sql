-- Open deadlines the batch touches: those its messages started (a re-send's
-- receipt repeats them) and those of the subjects it reports on (a report
-- meets them, maybe late; a false alarm cancels its alarm's).
-- $1: message and subject ids (uuid[]).
SELECT created_by::text, kind, subject_kind, subject_id::text,
       (extract(epoch FROM due_at) * 1000000)::bigint, status, seq,
       (extract(epoch FROM created_at) * 1000000)::bigint
FROM deadlines
WHERE status IN ('pending', 'missed')
  AND (created_by = ANY ($1::uuid[]) OR subject_id = ANY ($1::uuid[]))
