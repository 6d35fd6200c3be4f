-- 0016_fewer_index_writes.sql: two indexes that another index already
-- covers, dropped (issue 15: every alarm writes a deadline and an
-- escalation, and each index of those tables is one more entry written per
-- alarm, bench/README.md). Every query that could use them was read
-- (services/*/sql, lib/sql, tools/ayctl, ay_compliance) and its plan checked
-- with EXPLAIN, with and without them, on a database filled by bench/run.

-- deadlines (school_id, due_at) WHERE status IN ('pending', 'missed'): its
-- only reader is `ayctl deadlines` (a school's open deadlines ordered by
-- due time), which now reads deadlines_school_due_all (0008: the same
-- columns for every status) and keeps the status condition as a filter.
DROP INDEX deadlines_school_open;

-- escalations (subject_id) WHERE status IN ('open', 'acknowledged'): its
-- readers, the open escalations of a subject (resolve_hazards.sql,
-- end_absences.sql), now read escalations_subject (0001: subject_id for
-- every status; a subject has a handful of escalations) with the status
-- as a filter.
DROP INDEX escalations_subject_open;
