-- Open deadlines the batch touches: those its messages started (a re-send's
-- receipt repeats them) and those of the subjects it reports on (a report
-- meets them, maybe late; a false alarm cancels its alarm's).
-- One index probe per id and column (deadlines_created_by, deadlines_subject),
-- whatever the statistics say: written as "status IN (...) AND (created_by =
-- ANY ($1) OR subject_id = ANY ($1))" the planner, with statistics taken
-- while few deadlines were open, scanned every open deadline for each batch
-- (46 ms a batch with 100,000 open; bench/README.md, issue 15).
-- $1: message and subject ids (uuid[]).
SELECT DISTINCT ON (d.id)
       d.created_by::text, d.kind, d.subject_kind, d.subject_id::text,
       (extract(epoch FROM d.due_at) * 1000000)::bigint, d.status, d.seq,
       (extract(epoch FROM d.created_at) * 1000000)::bigint
FROM unnest($1::uuid[]) AS k(id)
CROSS JOIN LATERAL (
    SELECT * FROM deadlines o WHERE o.created_by = k.id AND o.status IN ('pending', 'missed')
    UNION ALL
    SELECT * FROM deadlines o WHERE o.subject_id = k.id AND o.status IN ('pending', 'missed')
) AS d
