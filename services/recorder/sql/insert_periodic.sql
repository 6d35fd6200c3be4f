-- Periodic reports' deadlines created met by the report (none was
-- scheduled when the batch looked). If the watchdog scheduled it since, the
-- report meets that one: late by how long after its due time it came.
-- $1: rows (jsonb array, one per deadline).
INSERT INTO deadlines (kind, subject_kind, subject_id, seq, district_id, school_id, due_at,
                       period, created_by, status, met_by, closed_at, late_s)
SELECT r.kind, r.subject_kind, r.subject_id, coalesce(r.seq, 0), r.district_id, r.school_id,
       r.due_at, r.period, r.created_by, r.status, r.met_by, r.closed_at,
       CASE WHEN r.closed_at > r.due_at
            THEN ceil(extract(epoch FROM r.closed_at - r.due_at))::bigint END
FROM jsonb_to_recordset($1::jsonb) AS r(kind text, subject_kind text, subject_id uuid,
     seq int, district_id text, school_id text, due_at timestamptz, period date,
     created_by uuid, status text, met_by uuid, closed_at timestamptz)
ON CONFLICT (kind, subject_id, seq) DO UPDATE
SET status = 'met', met_by = excluded.met_by, closed_at = excluded.closed_at,
    late_s = CASE WHEN excluded.closed_at > deadlines.due_at
                  THEN ceil(extract(epoch FROM excluded.closed_at - deadlines.due_at))::bigint END
WHERE deadlines.status IN ('pending', 'missed')
RETURNING id, kind, subject_id::text, district_id, school_id, status,
          (extract(epoch FROM due_at) * 1000000)::bigint, coalesce(late_s, 0), met_by::text
