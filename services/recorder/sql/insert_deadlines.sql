-- Deadlines a message starts (pending) or starts and meets at once (a
-- notice is its own verbal notice), with lateness judged against when the
-- backbone received it. $1: rows (jsonb array).
INSERT INTO deadlines (kind, subject_kind, subject_id, seq, district_id, school_id, due_at,
                       created_by, status, met_by, closed_at, late_s)
SELECT r.kind, r.subject_kind, r.subject_id, coalesce(r.seq, 0), r.district_id, r.school_id,
       r.due_at, r.created_by, r.status, r.met_by, r.closed_at,
       CASE WHEN r.closed_at > r.due_at
            THEN ceil(extract(epoch FROM r.closed_at - r.due_at))::bigint END
FROM jsonb_to_recordset($1::jsonb) AS r(kind text, subject_kind text, subject_id uuid,
     seq int, district_id text, school_id text, due_at timestamptz, created_by uuid, status text,
     met_by uuid, closed_at timestamptz)
ON CONFLICT (kind, subject_id, seq) DO NOTHING
RETURNING id, kind, subject_id::text, district_id, school_id, status,
          (extract(epoch FROM due_at) * 1000000)::bigint, coalesce(late_s, 0), created_by::text
