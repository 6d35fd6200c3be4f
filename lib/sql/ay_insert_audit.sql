-- The audit trail (never updated or deleted). $1: rows (jsonb array).
INSERT INTO audit_events (district_id, school_id, subject_id, escalation_id, deadline_id, actor,
                          action, detail)
SELECT r.district_id, r.school_id, r.subject_id, r.escalation_id, r.deadline_id, r.actor,
       r.action, coalesce(r.detail, '{}')
FROM jsonb_to_recordset($1::jsonb) AS r(district_id text, school_id text, subject_id uuid,
     escalation_id uuid, deadline_id bigint, actor text, action text, detail jsonb)
