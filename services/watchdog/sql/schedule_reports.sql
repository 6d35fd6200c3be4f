-- The periodic reports schools owe, scheduled from the calendar before
-- anything arrives (once: the id is the report's name-based id, so a
-- second watchdog or a second round changes nothing, and a report that
-- came first has already made its deadline). Returns those scheduled now.
-- $1: rows (jsonb array: kind, subject_id, district_id, school_id, due_at, period).
INSERT INTO deadlines (kind, subject_kind, subject_id, seq, district_id, school_id, due_at, period)
SELECT r.kind, 'SUBJECT_KIND_MONTHLY_REPORT', r.subject_id, 0, r.district_id, r.school_id,
       r.due_at, r.period
FROM jsonb_to_recordset($1::jsonb) AS r(kind text, subject_id uuid, district_id text,
     school_id text, due_at timestamptz, period date)
ON CONFLICT (kind, subject_id, seq) DO NOTHING
RETURNING id, kind, subject_id::text, district_id, school_id
