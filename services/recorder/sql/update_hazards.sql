-- Each hazard's state after the batch: its last step in the batch's order
-- (ord; the loop applied them in that order) gives its status, when, and
-- its current rectification deadline.
-- $1: rows (jsonb array: hazard_id, status, at, due_at, ord).
UPDATE hazards h SET status = r.status, status_at = r.at,
    rectification_deadline = coalesce(r.due_at, h.rectification_deadline)
FROM (SELECT DISTINCT ON (hazard_id) *
      FROM jsonb_to_recordset($1::jsonb) AS x(hazard_id uuid, status text, at timestamptz,
                                              due_at timestamptz, ord int)
      ORDER BY hazard_id, ord DESC) r
WHERE h.id = r.hazard_id
