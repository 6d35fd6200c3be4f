-- 0006_hazard_loop.sql: hazards as a closed loop (domain.md rule 3):
-- registered -> rectifying -> rectified -> verified (by someone else) ->
-- closed (销号), enforced by the recorder (services/recorder/hazard.c);
-- major hazards under tracked supervision (挂牌督办) until they are closed.

-- Where a hazard's rectification deadline came from: the report
-- (rectificationDeadline) or, when the report gave none, the district
-- policy's hazard_rectification for its category and grade.
ALTER TABLE hazards ADD COLUMN deadline_source text NOT NULL DEFAULT 'report'
    CHECK (deadline_source IN ('report', 'policy'));
-- The status a step moved the hazard from: each row of hazard_events is
-- one step of the loop with who (by_name), when (at) and from where.
ALTER TABLE hazard_events ADD COLUMN prev_status text;

-- Tracked supervision: an escalation with supervise_s > 0 is reminded that
-- often once acknowledged, and no acknowledgement closes it; the recorder
-- resolves it when its hazard is closed (lib/ay_escalation.h).
ALTER TABLE escalations ADD COLUMN supervise_s integer NOT NULL DEFAULT 0
    CHECK (supervise_s >= 0);
-- The open escalations of a subject (a hazard's step resolves them).
CREATE INDEX escalations_subject_open ON escalations (subject_id)
    WHERE status IN ('open', 'acknowledged');
