-- 0004_escalation.sql: reporting policy per district, deadlines that fire,
-- escalations with their chains, notifications, acknowledgements and the
-- audit trail (domain.md rules 1, 2, 6, 7; shared/escalation-notes.md).
--
-- Every timer is a row with its due time (deadlines.due_at,
-- escalations.next_action_at, notifications while pending), created in the
-- transaction of the fact that caused it; the watchdog claims due rows with
-- FOR UPDATE SKIP LOCKED and is woken by NOTIFY ay_timers when one is
-- created or moved.

-- Reporting policy: one JSON document per district, validated by
-- lib/ay_policy (the same code for ayctl and the services); a district
-- without a row uses the defaults (the stricter rules of the sources).
CREATE TABLE policies (
    district_id text PRIMARY KEY REFERENCES districts (id),
    doc         jsonb NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_by  text NOT NULL DEFAULT ''
);
-- Every version ever set (痕迹管理).
CREATE TABLE policy_history (
    district_id text NOT NULL,
    version     integer NOT NULL,
    doc         jsonb NOT NULL,
    set_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    set_by      text NOT NULL DEFAULT '',
    PRIMARY KEY (district_id, version)
);

-- Deadlines: a series per subject for follow-up reports (seq 0, 1, ...),
-- when the watchdog found one missed, and the escalation it caused.
ALTER TABLE deadlines DROP CONSTRAINT deadlines_kind_subject_id_key;
ALTER TABLE deadlines ADD COLUMN seq integer NOT NULL DEFAULT 0;
ALTER TABLE deadlines ADD CONSTRAINT deadlines_kind_subject_seq UNIQUE (kind, subject_id, seq);
ALTER TABLE deadlines ADD COLUMN fired_at timestamptz;    -- when the watchdog marked it missed
ALTER TABLE deadlines ADD COLUMN created_at timestamptz NOT NULL DEFAULT clock_timestamp();
CREATE INDEX deadlines_subject ON deadlines (subject_id);
CREATE INDEX deadlines_school_open ON deadlines (school_id, due_at) WHERE status IN ('pending', 'missed');

-- Escalations: who must act, on what, why; one row over its whole life.
-- level is the step of the audience's chain (1-based) now notified; chain
-- is the policy's chain at creation (a later policy change does not alter a
-- running escalation). next_action_at is the escalation's next timer:
-- open: the earlier of the step's ack timeout (climb) and its reminder;
-- acknowledged: when it re-escalates if still unresolved; NULL when closed.
ALTER TABLE escalations ADD COLUMN status text NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'acknowledged', 'resolved', 'cancelled'));
ALTER TABLE escalations ADD COLUMN severity text NOT NULL DEFAULT 'SEVERITY_UNSPECIFIED';
ALTER TABLE escalations ADD COLUMN deadline_id bigint REFERENCES deadlines (id);
ALTER TABLE escalations ADD COLUMN chain jsonb NOT NULL DEFAULT '[]';
ALTER TABLE escalations ADD COLUMN level_since timestamptz;
ALTER TABLE escalations ADD COLUMN last_notified_at timestamptz;
ALTER TABLE escalations ADD COLUMN next_action_at timestamptz;
ALTER TABLE escalations ADD COLUMN reescalate_after_s integer NOT NULL DEFAULT 0;
ALTER TABLE escalations ADD COLUMN ack_kind text;
ALTER TABLE escalations ADD COLUMN acked_by text;
ALTER TABLE escalations ADD COLUMN resolved_at timestamptz;
ALTER TABLE escalations ADD COLUMN summary_zh text NOT NULL DEFAULT '';
ALTER TABLE escalations ADD COLUMN summary_en text NOT NULL DEFAULT '';
ALTER TABLE escalations ADD COLUMN created_by text NOT NULL DEFAULT '';
CREATE INDEX escalations_next ON escalations (next_action_at)
    WHERE status IN ('open', 'acknowledged');
CREATE INDEX escalations_school ON escalations (school_id, created_at);
-- One escalation per missed deadline and audience, and per subject, reason
-- and audience otherwise: a fact is escalated once, never twice.
CREATE UNIQUE INDEX escalations_once_per_deadline ON escalations (deadline_id, audience)
    WHERE deadline_id IS NOT NULL;
CREATE UNIQUE INDEX escalations_once_per_subject ON escalations (subject_id, reason, audience)
    WHERE deadline_id IS NULL;

-- Notifications: each message about an escalation to its audience, with
-- its state. The sender publishes pending ones (taking a lease so two
-- senders never publish one at the same time), at least once: a re-send
-- carries the same id (the Escalation message's header.messageId).
CREATE TABLE notifications (
    id            uuid PRIMARY KEY,
    escalation_id uuid NOT NULL REFERENCES escalations (id),
    district_id   text NOT NULL,
    audience      text NOT NULL,
    level         integer NOT NULL,
    target        text NOT NULL,
    kind          text NOT NULL
        CHECK (kind IN ('NOTIFICATION_KIND_FIRST', 'NOTIFICATION_KIND_REMINDER',
                        'NOTIFICATION_KIND_CLIMB', 'NOTIFICATION_KIND_REESCALATION')),
    state         text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sent', 'acknowledged', 'cancelled', 'superseded')),
    ack_due_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    lease_until   timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    sent_at       timestamptz,
    closed_at     timestamptz
);
CREATE INDEX notifications_pending ON notifications (created_at) WHERE state = 'pending';
CREATE INDEX notifications_escalation ON notifications (escalation_id, created_at);

-- Acknowledgements: who (the account, from the topic the broker scoped to
-- it), what, when; every one kept.
ALTER TABLE acks ADD COLUMN district_id text NOT NULL DEFAULT '';
ALTER TABLE acks ADD COLUMN audience text NOT NULL DEFAULT '';
ALTER TABLE acks ADD COLUMN payload bytea;

-- The audit trail: every state change of a deadline, escalation,
-- notification or ack (who, what, when, why). Never updated or deleted.
CREATE TABLE audit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    district_id   text NOT NULL,
    school_id     text,
    subject_id    uuid,          -- the alarm, incident, hazard, ... concerned
    escalation_id uuid,
    deadline_id   bigint,
    actor         text NOT NULL, -- a service, or an account
    action        text NOT NULL, -- e.g. deadline.missed, escalation.created
    detail        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_subject ON audit_events (subject_id, at);
CREATE INDEX audit_escalation ON audit_events (escalation_id, at);

-- Timer rows wake the watchdog when created or moved (delivered on commit;
-- one notification per transaction).
CREATE FUNCTION ay_notify_timers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ay_timers', '');
    RETURN NULL;
END $$;
CREATE TRIGGER deadlines_wake AFTER INSERT OR UPDATE OF due_at, status ON deadlines
    FOR EACH STATEMENT EXECUTE FUNCTION ay_notify_timers();
CREATE TRIGGER escalations_wake AFTER INSERT OR UPDATE OF next_action_at, status ON escalations
    FOR EACH STATEMENT EXECUTE FUNCTION ay_notify_timers();
CREATE TRIGGER notifications_wake AFTER INSERT ON notifications
    FOR EACH STATEMENT EXECUTE FUNCTION ay_notify_timers();

-- The policy columns of districts (0001) are superseded by policies.doc;
-- districts that had other values keep them as their policy.
INSERT INTO policies (district_id, doc, updated_by)
SELECT id, jsonb_build_object('verbal_notice', verbal_notice_min || 'm',
                              'written_report', written_report_min || 'm',
                              'monthly_report_day', monthly_report_day),
       'migration 0004'
FROM districts
WHERE verbal_notice_min <> 30 OR written_report_min <> 60 OR monthly_report_day <> 5;
INSERT INTO policy_history (district_id, version, doc, set_by)
SELECT district_id, version, doc, updated_by FROM policies;
COMMENT ON COLUMN districts.verbal_notice_min IS 'superseded by policies.doc (0004)';
COMMENT ON COLUMN districts.written_report_min IS 'superseded by policies.doc (0004)';
COMMENT ON COLUMN districts.monthly_report_day IS 'superseded by policies.doc (0004)';
