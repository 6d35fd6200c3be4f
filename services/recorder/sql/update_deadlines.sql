-- Changes to existing deadlines: meet (pending or already missed: met, late
-- by how much), move (a new due time while pending), reopen (pending again),
-- cancel (a pending expectation that no longer holds, e.g. a false alarm).
-- $1: rows (jsonb array: action, kind, subject_id, seq, by, at, due_at).
UPDATE deadlines d SET
    status = CASE r.action WHEN 'meet' THEN 'met' WHEN 'reopen' THEN 'pending'
                           WHEN 'cancel' THEN 'cancelled' ELSE d.status END,
    met_by = CASE r.action WHEN 'meet' THEN r.by WHEN 'reopen' THEN NULL ELSE d.met_by END,
    closed_at = CASE r.action WHEN 'meet' THEN r.at WHEN 'cancel' THEN r.at
                              WHEN 'reopen' THEN NULL ELSE d.closed_at END,
    late_s = CASE WHEN r.action = 'meet' AND r.at > d.due_at
                  THEN ceil(extract(epoch FROM r.at - d.due_at))::bigint
                  WHEN r.action IN ('meet', 'reopen') THEN NULL ELSE d.late_s END,
    due_at = CASE WHEN r.action IN ('move', 'reopen') AND r.due_at IS NOT NULL
                  THEN r.due_at ELSE d.due_at END
FROM jsonb_to_recordset($1::jsonb) AS r(action text, kind text, subject_id uuid, seq int,
     by uuid, at timestamptz, due_at timestamptz)
WHERE d.kind = r.kind AND d.subject_id = r.subject_id AND d.seq = coalesce(r.seq, d.seq)
  AND ((r.action = 'meet' AND d.status IN ('pending', 'missed'))
    OR (r.action IN ('move', 'cancel') AND d.status = 'pending')
    OR (r.action = 'reopen' AND d.status <> 'pending'))
RETURNING d.id, d.kind, d.subject_id::text, d.district_id, d.school_id, d.status,
          (extract(epoch FROM d.due_at) * 1000000)::bigint, coalesce(d.late_s, 0), r.by::text,
          r.action
