-- New escalations (lib/ay_escalate), once per missed deadline and audience
-- or per subject, reason and audience: a conflict means the fact was
-- escalated already, and the row is left as it is. The missed deadline is
-- named by kind, subject and seq (it may have been inserted by the same
-- transaction). supervise_s > 0: tracked supervision (挂牌督办, a major
-- hazard), reminded that often once acknowledged, until its subject ends.
-- $1: rows (jsonb array). Returns the ids inserted.
INSERT INTO escalations (id, district_id, school_id, audience, subject_kind, subject_id, reason,
                         level, ack_due_at, status, severity, deadline_id, chain, level_since,
                         last_notified_at, next_action_at, reescalate_after_s, supervise_s,
                         summary_zh, summary_en, created_by)
SELECT r.id, r.district_id, r.school_id, r.audience, r.subject_kind, r.subject_id, r.reason,
       r.level, r.ack_due_at, 'open', r.severity,
       (SELECT d.id FROM deadlines d
        WHERE d.kind = r.deadline_kind AND d.subject_id = r.deadline_subject
          AND d.seq = r.deadline_seq),
       r.chain, r.level_since, r.last_notified_at, r.next_action_at, r.reescalate_after_s,
       coalesce(r.supervise_s, 0), r.summary_zh, r.summary_en, r.created_by
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, district_id text, school_id text, audience text,
     subject_kind text, subject_id uuid, reason text, level int, ack_due_at timestamptz,
     severity text, deadline_kind text, deadline_subject uuid, deadline_seq int, chain jsonb,
     level_since timestamptz, last_notified_at timestamptz, next_action_at timestamptz,
     reescalate_after_s int, supervise_s int, summary_zh text, summary_en text, created_by text)
ON CONFLICT DO NOTHING
RETURNING id::text
