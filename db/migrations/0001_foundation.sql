-- 0001_foundation.sql: schools, devices, the raw message log, dead letters,
-- and the domain tables implied by contract anyuan.v1.
--
-- Rules (shared/domain.md): every report is kept and can be audited
-- ("痕迹管理", rule 7); a message id is stored once (de-duplication);
-- whatever creates an obligation (a deadline) commits with the message that
-- caused it.
--
-- Enum-like columns hold the protobuf enum value NAME (e.g. 'ALARM_KIND_PANIC'):
-- stable, readable in SQL, and the key of the bilingual labels in lib/ay_labels.c.

-- Reporting policy per district (domain.md rule 2: two versions exist, so
-- the deadlines are configurable per district).
CREATE TABLE districts (
    id                    text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    name_zh               text NOT NULL DEFAULT '',
    name_en               text NOT NULL DEFAULT '',
    verbal_notice_min     integer NOT NULL DEFAULT 30 CHECK (verbal_notice_min > 0),
    written_report_min    integer NOT NULL DEFAULT 60 CHECK (written_report_min > 0),
    monthly_report_day    integer NOT NULL DEFAULT 5 CHECK (monthly_report_day BETWEEN 1 AND 28),
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schools (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    district_id text NOT NULL REFERENCES districts (id),
    name_zh     text NOT NULL DEFAULT '',
    name_en     text NOT NULL DEFAULT '',
    kind        text NOT NULL DEFAULT 'school' CHECK (kind IN ('school', 'kindergarten', 'central_school')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schools_district ON schools (district_id);

-- A device is anything that publishes for a school: a one-click button, an
-- alarm panel, an app, a button in a shop or home near the school.
CREATE TABLE devices (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    school_id   text NOT NULL REFERENCES schools (id),
    kind        text NOT NULL DEFAULT 'button'
                CHECK (kind IN ('button', 'panel', 'app', 'nearby_shop', 'nearby_home', 'gateway')),
    description text NOT NULL DEFAULT '',
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_school ON devices (school_id);

-- The raw message log: every accepted inbound message, exactly once.
CREATE TABLE messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  uuid NOT NULL UNIQUE,
    kind        text NOT NULL,            -- ay_msgtype name: alarm, notice, ...
    topic       text NOT NULL,
    district_id text NOT NULL,
    school_id   text NOT NULL,
    device_id   text NOT NULL,
    sent_at     timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    payload     bytea NOT NULL,           -- the protobuf bytes as received
    body        jsonb NOT NULL            -- the same, decoded (proto3 JSON mapping)
);
CREATE INDEX messages_school_time ON messages (school_id, received_at);
CREATE INDEX messages_kind_time ON messages (kind, received_at);

-- Messages that failed validation: nothing is dropped silently.
CREATE TABLE dead_letters (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    topic       text NOT NULL,
    district_id text,
    school_id   text,
    device_id   text,
    message_id  text,                     -- if it could be read
    reason      text NOT NULL,
    payload     bytea NOT NULL
);
CREATE INDEX dead_letters_time ON dead_letters (received_at);
CREATE INDEX dead_letters_message ON dead_letters (message_id);

-- One-click alarms (domain.md rule 1).
CREATE TABLE alarms (
    message_id   uuid PRIMARY KEY REFERENCES messages (message_id),
    district_id  text NOT NULL,
    school_id    text NOT NULL,
    device_id    text NOT NULL,
    kind         text NOT NULL,
    source       text NOT NULL,
    triggered_at timestamptz NOT NULL,
    location     text NOT NULL,
    latitude     double precision,
    longitude    double precision,
    is_test      boolean NOT NULL DEFAULT false,
    note         text NOT NULL DEFAULT ''
);
CREATE INDEX alarms_school_time ON alarms (school_id, triggered_at);

CREATE TABLE alarm_cancels (
    message_id   uuid PRIMARY KEY REFERENCES messages (message_id),
    alarm_id     uuid NOT NULL,           -- may arrive before its alarm
    reason       text NOT NULL,
    cancelled_at timestamptz NOT NULL,
    by_name      text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT ''
);
CREATE INDEX alarm_cancels_alarm ON alarm_cancels (alarm_id);

-- Incidents: identified by the message id of their first notice.
CREATE TABLE incidents (
    id              uuid PRIMARY KEY REFERENCES messages (message_id),
    district_id     text NOT NULL,
    school_id       text NOT NULL,
    category        text NOT NULL,
    severity        text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    discovered_at   timestamptz,
    noticed_at      timestamptz NOT NULL,  -- when the backbone received the notice
    place           text NOT NULL,
    latitude        double precision,
    longitude       double precision,
    dead            integer NOT NULL DEFAULT 0,
    injured         integer NOT NULL DEFAULT 0,
    missing         integer NOT NULL DEFAULT 0,
    summary         text NOT NULL,
    measures_taken  text NOT NULL DEFAULT '',
    reporter_name   text NOT NULL DEFAULT '',
    reporter_role   text NOT NULL DEFAULT '',
    reporter_phone  text NOT NULL DEFAULT '',
    suspected_crime boolean NOT NULL DEFAULT false,
    people_involved text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    closed_at       timestamptz
);
CREATE INDEX incidents_school ON incidents (school_id, occurred_at);

CREATE TABLE incident_reports (
    message_id     uuid PRIMARY KEY REFERENCES messages (message_id),
    incident_id    uuid NOT NULL REFERENCES incidents (id),
    kind           text NOT NULL,
    submitted_at   timestamptz NOT NULL,   -- when the backbone received it
    body           text NOT NULL,
    severity       text NOT NULL DEFAULT 'SEVERITY_UNSPECIFIED',
    dead           integer NOT NULL DEFAULT 0,
    injured        integer NOT NULL DEFAULT 0,
    missing        integer NOT NULL DEFAULT 0,
    reporter_name  text NOT NULL DEFAULT '',
    signed_by_name text NOT NULL DEFAULT '',
    cause          text NOT NULL DEFAULT '',
    handling       text NOT NULL DEFAULT '',
    lessons        text NOT NULL DEFAULT '',
    rectification  text NOT NULL DEFAULT '',
    closed_at      timestamptz
);
CREATE INDEX incident_reports_incident ON incident_reports (incident_id, submitted_at);

-- Hazards: a closed loop (domain.md rule 3), identified by the message id
-- of their report. hazard_events keeps every step with who and when.
CREATE TABLE hazards (
    id                     uuid PRIMARY KEY REFERENCES messages (message_id),
    district_id            text NOT NULL,
    school_id              text NOT NULL,
    category               text NOT NULL,
    grade                  text NOT NULL,
    place                  text NOT NULL,
    description            text NOT NULL,
    found_by_name          text NOT NULL,
    found_at               timestamptz,
    responsible_name       text NOT NULL,
    responsible_phone      text NOT NULL DEFAULT '',
    rectification_deadline timestamptz NOT NULL,
    interim_measures       text NOT NULL DEFAULT '',
    beyond_authority       boolean NOT NULL DEFAULT false,
    status                 text NOT NULL DEFAULT 'HAZARD_STATUS_REGISTERED',
    status_at              timestamptz NOT NULL
);
CREATE INDEX hazards_school ON hazards (school_id, status);

CREATE TABLE hazard_events (
    message_id   uuid PRIMARY KEY REFERENCES messages (message_id),
    hazard_id    uuid NOT NULL REFERENCES hazards (id),
    status       text NOT NULL,
    by_name      text NOT NULL,
    at           timestamptz NOT NULL,
    note         text NOT NULL DEFAULT '',
    new_deadline timestamptz
);
CREATE INDEX hazard_events_hazard ON hazard_events (hazard_id, at);

-- Monthly safety reports (domain.md rule 4). A school may correct a month
-- by sending it again; every version is kept, the newest counts.
CREATE TABLE monthly_reports (
    message_id        uuid PRIMARY KEY REFERENCES messages (message_id),
    district_id       text NOT NULL,
    school_id         text NOT NULL,
    year              integer NOT NULL,
    month             integer NOT NULL CHECK (month BETWEEN 1 AND 12),
    submitted_at      timestamptz NOT NULL,
    inspections       integer NOT NULL DEFAULT 0,
    hazards_found     integer NOT NULL DEFAULT 0,
    hazards_rectified integer NOT NULL DEFAULT 0,
    hazards_open      integer NOT NULL DEFAULT 0,
    incidents         integer NOT NULL DEFAULT 0,
    drills            integer NOT NULL DEFAULT 0,
    trainings         integer NOT NULL DEFAULT 0,
    police_visits     integer NOT NULL DEFAULT 0,
    remarks           text NOT NULL DEFAULT '',
    signed_by_name    text NOT NULL,
    signed_at         timestamptz
);
CREATE INDEX monthly_reports_school ON monthly_reports (school_id, year, month);

-- Latest known state of each device (the full history is in messages).
CREATE TABLE device_status (
    device_id       text PRIMARY KEY,
    school_id       text NOT NULL,
    last_message_id uuid NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    state           text NOT NULL,
    battery_percent integer,
    tamper          boolean NOT NULL DEFAULT false,
    fault           boolean NOT NULL DEFAULT false,
    fault_detail    text NOT NULL DEFAULT '',
    firmware        text NOT NULL DEFAULT '',
    heartbeat_interval_s integer NOT NULL DEFAULT 0
);

-- Deadlines: obligations created in the same transaction as the message
-- that caused them; the watchdog (a later service) claims due pending rows.
CREATE TABLE deadlines (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL,         -- DeadlineKind name
    subject_kind   text NOT NULL,         -- SubjectKind name
    subject_id     uuid NOT NULL,
    district_id    text NOT NULL,
    school_id      text NOT NULL,
    due_at         timestamptz NOT NULL,
    created_by     uuid NOT NULL REFERENCES messages (message_id),
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'met', 'missed', 'cancelled')),
    met_by         uuid,
    closed_at      timestamptz,
    UNIQUE (kind, subject_id)
);
CREATE INDEX deadlines_pending_due ON deadlines (due_at) WHERE status = 'pending';

-- Escalations and their acknowledgements (filled by later services).
CREATE TABLE escalations (
    id           uuid PRIMARY KEY,
    district_id  text NOT NULL,
    school_id    text NOT NULL,
    audience     text NOT NULL,
    subject_kind text NOT NULL,
    subject_id   uuid NOT NULL,
    reason       text NOT NULL,
    level        integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    ack_due_at   timestamptz,
    acked_at     timestamptz
);
CREATE INDEX escalations_subject ON escalations (subject_id);

CREATE TABLE acks (
    message_id    uuid PRIMARY KEY,
    escalation_id uuid NOT NULL,
    kind          text NOT NULL,
    at            timestamptz NOT NULL,
    by_name       text NOT NULL,
    by_account    text NOT NULL,
    note          text NOT NULL DEFAULT '',
    received_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX acks_escalation ON acks (escalation_id);
