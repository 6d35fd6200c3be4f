-- The newest step of each hazard is its state. $1: update message ids (uuid[]).
UPDATE hazards h SET status = e.status, status_at = e.at,
    rectification_deadline = coalesce(e.new_deadline, h.rectification_deadline)
FROM (SELECT DISTINCT ON (hazard_id) *
      FROM hazard_events
      WHERE message_id = ANY ($1::uuid[])
      ORDER BY hazard_id, at DESC) e
WHERE h.id = e.hazard_id
