/*
 * store.c - the recorder's SQL; see store.h.
 *
 * Approach: every statement takes one jsonb parameter (an array of ids or of
 * row objects) so a batch of any size is a fixed number of round trips, and
 * nothing from a message is ever pasted into SQL. Domain rows are projected
 * in SQL from messages.body (the proto3 JSON of the message, stored in the
 * same transaction), so the mapping from contract fields to columns lives in
 * one place: the statements below. proto3 JSON omits default values, hence
 * the coalesce() calls.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_log.h"
#include "ay_pg.h"
#include "ay_text.h"
#include "ay_time.h"

/* ---- statements ---------------------------------------------------------- */

/* "= ANY (ARRAY(...))" rather than "IN (SELECT ...)": the array is computed
 * once and the lookup is an index scan; a semi-join may scan the whole
 * (ever growing) table. */
#define IDS_TEXT    " = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))"
#define IDS_UUID    " = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::uuid))"
#define NEW_MSGS    "FROM messages m, LATERAL (SELECT m.body) AS x(b) WHERE m.message_id" IDS_UUID
#define GEO_LAT     "CASE WHEN b ? 'geo' THEN coalesce((b#>>'{geo,latitude}')::float8, 0) END"
#define GEO_LON     "CASE WHEN b ? 'geo' THEN coalesce((b#>>'{geo,longitude}')::float8, 0) END"
#define INT0(path)  "coalesce((b#>>'{" path "}')::int, 0)"
#define TXT(path)   "coalesce(b#>>'{" path "}', '')"
#define BOOL0(path) "coalesce((b#>>'{" path "}')::boolean, false)"

struct stmt {
    const char *name;
    const char *sql;
};

enum {
    S_DEVICES,
    S_POLICY,
    S_INCIDENTS,
    S_HAZARDS,
    S_MESSAGES,
    S_EXISTING,
    S_ALARMS,
    S_ALARM_CANCELS,
    S_INCIDENTS_NEW,
    S_REPORTS,
    S_INCIDENT_STATE,
    S_HAZARDS_NEW,
    S_HAZARD_EVENTS,
    S_HAZARD_STATE,
    S_MONTHLY,
    S_STATUS,
    S_DEADLINES_NEW,
    S_DEADLINES_CHANGE,
    S_DEAD_LETTERS,
    S_RUNNING,
    S_COUNT
};

/* The SQL reads best laid out by hand. */
/* clang-format off */
static const struct stmt stmts[S_COUNT] = {
    [S_DEVICES] = {"rec_devices",
        "SELECT d.id, d.school_id, s.district_id, d.enabled FROM devices d "
        "JOIN schools s ON s.id = d.school_id WHERE d.id" IDS_TEXT},
    [S_POLICY] = {"rec_policy",
        "SELECT id, verbal_notice_min, written_report_min, monthly_report_day "
        "FROM districts WHERE id" IDS_TEXT},
    [S_INCIDENTS] = {"rec_incidents",
        "SELECT id::text, school_id FROM incidents WHERE id" IDS_UUID},
    [S_HAZARDS] = {"rec_hazards",
        "SELECT id::text, school_id FROM hazards WHERE id" IDS_UUID},
    [S_MESSAGES] = {"rec_messages",
        "INSERT INTO messages (message_id, kind, topic, district_id, school_id, device_id, "
        "  sent_at, received_at, payload, body, warning) "
        "SELECT r.message_id, r.kind, r.topic, r.district_id, r.school_id, r.device_id, "
        "  r.sent_at, r.received_at, decode(r.payload, 'hex'), r.body, r.warning "
        "FROM jsonb_to_recordset($1::jsonb) AS r(message_id uuid, kind text, topic text, "
        "  district_id text, school_id text, device_id text, sent_at timestamptz, "
        "  received_at timestamptz, payload text, body jsonb, warning text) "
        "ON CONFLICT (message_id) DO NOTHING "
        "RETURNING message_id::text, id, (extract(epoch FROM stored_at) * 1000000)::bigint"},
    /* Per asked row: is the id stored, by the same device as the same type? */
    [S_EXISTING] = {"rec_existing",
        "SELECT r.i, m.id, (extract(epoch FROM m.stored_at) * 1000000)::bigint, "
        "  m.device_id = r.device_id AND m.kind = r.kind "
        "FROM jsonb_to_recordset($1::jsonb) AS r(i int, message_id uuid, device_id text, "
        "  kind text) "
        "JOIN messages m ON m.message_id = r.message_id "
        /* Lets the planner use the index instead of scanning messages. */
        "WHERE m.message_id = ANY (ARRAY(SELECT (e->>'message_id')::uuid "
        "  FROM jsonb_array_elements($1::jsonb) AS e))"},
    [S_ALARMS] = {"rec_alarms",
        "INSERT INTO alarms (message_id, district_id, school_id, device_id, kind, source, "
        "  triggered_at, location, latitude, longitude, is_test, note) "
        "SELECT m.message_id, m.district_id, m.school_id, m.device_id, b->>'kind', "
        "  b->>'source', (b->>'triggeredAt')::timestamptz, b->>'location', "
        GEO_LAT ", " GEO_LON ", " BOOL0("isTest") ", " TXT("note") " " NEW_MSGS},
    [S_ALARM_CANCELS] = {"rec_alarm_cancels",
        "INSERT INTO alarm_cancels (message_id, alarm_id, reason, cancelled_at, by_name, note) "
        "SELECT m.message_id, (b->>'alarmId')::uuid, b->>'reason', "
        "  (b->>'cancelledAt')::timestamptz, " TXT("cancelledBy,name") ", " TXT("note") " "
        NEW_MSGS},
    [S_INCIDENTS_NEW] = {"rec_incidents_new",
        "INSERT INTO incidents (id, district_id, school_id, category, severity, occurred_at, "
        "  discovered_at, noticed_at, place, latitude, longitude, dead, injured, missing, "
        "  summary, measures_taken, reporter_name, reporter_role, reporter_phone, "
        "  suspected_crime, people_involved) "
        "SELECT m.message_id, m.district_id, m.school_id, b->>'category', b->>'severity', "
        "  (b->>'occurredAt')::timestamptz, (b->>'discoveredAt')::timestamptz, "
        "  m.received_at, b->>'place', " GEO_LAT ", " GEO_LON ", "
        INT0("casualties,dead") ", " INT0("casualties,injured") ", "
        INT0("casualties,missing") ", b->>'summary', " TXT("measuresTaken") ", "
        TXT("reporter,name") ", " TXT("reporter,role") ", " TXT("reporter,phone") ", "
        BOOL0("suspectedCrime") ", " TXT("peopleInvolved") " " NEW_MSGS},
    [S_REPORTS] = {"rec_reports",
        "INSERT INTO incident_reports (message_id, incident_id, kind, submitted_at, body, "
        "  severity, dead, injured, missing, reporter_name, signed_by_name, cause, handling, "
        "  lessons, rectification, closed_at) "
        "SELECT m.message_id, (b->>'incidentId')::uuid, b->>'kind', m.received_at, "
        "  b->>'body', coalesce(b->>'severity', 'SEVERITY_UNSPECIFIED'), "
        INT0("casualties,dead") ", " INT0("casualties,injured") ", "
        INT0("casualties,missing") ", " TXT("reporter,name") ", " TXT("signedBy,name") ", "
        TXT("cause") ", " TXT("handling") ", " TXT("lessons") ", " TXT("rectification") ", "
        "  (b->>'closedAt')::timestamptz " NEW_MSGS},
    /* The newest report of each incident decides its severity and closure. */
    [S_INCIDENT_STATE] = {"rec_incident_state",
        "UPDATE incidents i SET "
        "  severity = CASE WHEN r.severity <> 'SEVERITY_UNSPECIFIED' THEN r.severity "
        "    ELSE i.severity END, "
        "  status = CASE WHEN r.kind = 'REPORT_KIND_FINAL' THEN 'closed' ELSE i.status END, "
        "  closed_at = CASE WHEN r.kind = 'REPORT_KIND_FINAL' "
        "    THEN coalesce(r.closed_at, r.submitted_at) ELSE i.closed_at END "
        "FROM (SELECT DISTINCT ON (incident_id) * FROM incident_reports "
        "  WHERE message_id" IDS_UUID " ORDER BY incident_id, submitted_at DESC) r "
        "WHERE i.id = r.incident_id"},
    [S_HAZARDS_NEW] = {"rec_hazards_new",
        "INSERT INTO hazards (id, district_id, school_id, category, grade, place, description, "
        "  found_by_name, found_at, responsible_name, responsible_phone, "
        "  rectification_deadline, interim_measures, beyond_authority, status, status_at) "
        "SELECT m.message_id, m.district_id, m.school_id, b->>'category', b->>'grade', "
        "  b->>'place', b->>'description', " TXT("foundBy,name") ", "
        "  (b->>'foundAt')::timestamptz, " TXT("responsible,name") ", "
        TXT("responsible,phone") ", (b->>'rectificationDeadline')::timestamptz, "
        TXT("interimMeasures") ", " BOOL0("beyondAuthority") ", "
        "  'HAZARD_STATUS_REGISTERED', m.received_at " NEW_MSGS},
    [S_HAZARD_EVENTS] = {"rec_hazard_events",
        "INSERT INTO hazard_events (message_id, hazard_id, status, by_name, at, note, "
        "  new_deadline) "
        "SELECT m.message_id, (b->>'hazardId')::uuid, b->>'status', " TXT("by,name") ", "
        "  (b->>'at')::timestamptz, " TXT("note") ", (b->>'newDeadline')::timestamptz "
        NEW_MSGS},
    [S_HAZARD_STATE] = {"rec_hazard_state",
        "UPDATE hazards h SET status = e.status, status_at = e.at, "
        "  rectification_deadline = coalesce(e.new_deadline, h.rectification_deadline) "
        "FROM (SELECT DISTINCT ON (hazard_id) * FROM hazard_events "
        "  WHERE message_id" IDS_UUID " ORDER BY hazard_id, at DESC) e "
        "WHERE h.id = e.hazard_id"},
    [S_MONTHLY] = {"rec_monthly",
        "INSERT INTO monthly_reports (message_id, district_id, school_id, year, month, "
        "  submitted_at, inspections, hazards_found, hazards_rectified, hazards_open, "
        "  incidents, drills, trainings, police_visits, remarks, signed_by_name, signed_at) "
        "SELECT m.message_id, m.district_id, m.school_id, (b->>'year')::int, "
        "  (b->>'month')::int, m.received_at, " INT0("inspections") ", "
        INT0("hazardsFound") ", " INT0("hazardsRectified") ", " INT0("hazardsOpen") ", "
        INT0("incidents") ", " INT0("drills") ", " INT0("trainings") ", "
        INT0("policeVisits") ", " TXT("remarks") ", " TXT("signedBy,name") ", "
        "  (b->>'signedAt')::timestamptz " NEW_MSGS},
    /* Latest state per device; an older message never overwrites a newer. */
    [S_STATUS] = {"rec_status",
        "INSERT INTO device_status (device_id, school_id, last_message_id, last_seen_at, "
        "  state, battery_percent, tamper, fault, fault_detail, firmware, "
        "  heartbeat_interval_s) "
        "SELECT DISTINCT ON (m.device_id) m.device_id, m.school_id, m.message_id, "
        "  m.received_at, b->>'state', (b->>'batteryPercent')::int, " BOOL0("tamper") ", "
        BOOL0("fault") ", " TXT("faultDetail") ", " TXT("firmware") ", "
        INT0("heartbeatIntervalS") " " NEW_MSGS
        " ORDER BY m.device_id, m.received_at DESC, m.id DESC "
        "ON CONFLICT (device_id) DO UPDATE SET school_id = excluded.school_id, "
        "  last_message_id = excluded.last_message_id, last_seen_at = excluded.last_seen_at, "
        "  state = excluded.state, battery_percent = excluded.battery_percent, "
        "  tamper = excluded.tamper, fault = excluded.fault, "
        "  fault_detail = excluded.fault_detail, firmware = excluded.firmware, "
        "  heartbeat_interval_s = excluded.heartbeat_interval_s "
        "WHERE excluded.last_seen_at >= device_status.last_seen_at"},
    [S_DEADLINES_NEW] = {"rec_deadlines_new",
        "INSERT INTO deadlines (kind, subject_kind, subject_id, district_id, school_id, "
        "  due_at, created_by, status, met_by, closed_at) "
        "SELECT r.kind, r.subject_kind, r.subject_id, r.district_id, r.school_id, r.due_at, "
        "  r.created_by, r.status, r.met_by, r.closed_at "
        "FROM jsonb_to_recordset($1::jsonb) AS r(kind text, subject_kind text, "
        "  subject_id uuid, district_id text, school_id text, due_at timestamptz, "
        "  created_by uuid, status text, met_by uuid, closed_at timestamptz) "
        "ON CONFLICT (kind, subject_id) DO NOTHING"},
    [S_DEADLINES_CHANGE] = {"rec_deadlines_change",
        "UPDATE deadlines d SET "
        "  status = CASE r.action WHEN 'meet' THEN 'met' WHEN 'reopen' THEN 'pending' "
        "    ELSE d.status END, "
        "  met_by = CASE r.action WHEN 'meet' THEN r.by WHEN 'reopen' THEN NULL "
        "    ELSE d.met_by END, "
        "  closed_at = CASE r.action WHEN 'meet' THEN r.at WHEN 'reopen' THEN NULL "
        "    ELSE d.closed_at END, "
        "  due_at = CASE WHEN r.action IN ('move', 'reopen') AND r.due_at IS NOT NULL "
        "    THEN r.due_at ELSE d.due_at END "
        "FROM jsonb_to_recordset($1::jsonb) AS r(action text, kind text, subject_id uuid, "
        "  by uuid, at timestamptz, due_at timestamptz) "
        "WHERE d.kind = r.kind AND d.subject_id = r.subject_id AND "
        "  ((r.action IN ('meet', 'move') AND d.status = 'pending') OR "
        "   (r.action = 'reopen' AND d.status <> 'pending'))"},
    /* The deadlines a stored message started that still run (for re-sends). */
    [S_RUNNING] = {"rec_running",
        "SELECT created_by::text, kind, subject_kind, subject_id::text, "
        "  (extract(epoch FROM due_at) * 1000000)::bigint "
        "FROM deadlines WHERE status = 'pending' AND created_by" IDS_UUID},
    [S_DEAD_LETTERS] = {"rec_dead_letters",
        "INSERT INTO dead_letters (received_at, topic, district_id, school_id, device_id, "
        "  message_id, reason, payload) "
        "SELECT r.received_at, r.topic, r.district_id, r.school_id, r.device_id, "
        "  r.message_id, r.reason, decode(r.payload, 'hex') "
        "FROM jsonb_to_recordset($1::jsonb) AS r(received_at timestamptz, topic text, "
        "  district_id text, school_id text, device_id text, message_id text, reason text, "
        "  payload text)"},
};
/* clang-format on */

/* Domain statement for each inbound message type, in dependency order
 * (incidents before their reports, hazards before their events). */
static const struct {
    const char *type;
    int stmt;
    int follow_up; /* -1: none */
} domain[] = {
    {"alarm", S_ALARMS, -1},         {"alarm-cancel", S_ALARM_CANCELS, -1},
    {"notice", S_INCIDENTS_NEW, -1}, {"report", S_REPORTS, S_INCIDENT_STATE},
    {"hazard", S_HAZARDS_NEW, -1},   {"hazard-update", S_HAZARD_EVENTS, S_HAZARD_STATE},
    {"monthly", S_MONTHLY, -1},      {"status", S_STATUS, -1},
};

enum ay_err recorder_store_prepare(struct ay_pg *db, char err[AY_ERRLEN])
{
    for (int i = 0; i < S_COUNT; i++) {
        enum ay_err rc = ay_pg_prepare(db, stmts[i].name, stmts[i].sql, 1, err);
        if (rc != AY_OK)
            return rc;
    }
    return AY_OK;
}

/* ---- helpers ------------------------------------------------------------- */

/* Runs statement s with one jsonb parameter (json is consumed: deleted). */
static enum ay_err run_json(struct ay_pg *db, int s, cJSON *json, struct ay_pg_result **out,
                            char err[AY_ERRLEN])
{
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (text == NULL)
        return AY_ERR_NOMEM;
    const char *params[1] = {text};
    enum ay_err rc = ay_pg_exec_prepared(db, stmts[s].name, 1, params, NULL, NULL, out, err);
    free(text);
    return rc;
}

static bool pending(const struct recorder_item *it)
{
    return it->outcome == RECORDER_PENDING;
}

static void add_time(cJSON *o, const char *key, int64_t us)
{
    char buf[AY_TIME_RFC3339_MAX];
    int64_t s;
    int32_t ns;
    ay_time_from_us(us, &s, &ns);
    if (ay_time_format_rfc3339(s, ns, buf, sizeof(buf)) > 0)
        cJSON_AddStringToObject(o, key, buf);
}

/* Text from untrusted input that must go into a jsonb: invalid UTF-8 bytes
 * become '?'. Writes into buf. */
static const char *safe_text(const char *s, char *buf, size_t cap)
{
    if (s == NULL)
        return NULL;
    if (ay_text_utf8_is_valid(s, strlen(s)))
        return s;
    snprintf(buf, cap, "%s", s);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    return buf;
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? ev->name : "UNKNOWN";
}

/* ---- checks against the registry ------------------------------------------ */

struct policy_row {
    char district[AY_ID_MAX];
    struct ay_policy p;
};

/* Looks up devices and districts; rejects what the registry does not know. */
static enum ay_err check_registry(struct ay_pg *db, struct recorder_item **items, size_t n,
                                  struct policy_row *pol, size_t *npol, char err[AY_ERRLEN])
{
    struct ay_pg_result *devs = NULL;
    struct ay_pg_result *dis = NULL;
    cJSON *dev_ids = cJSON_CreateArray();
    cJSON *dis_ids = cJSON_CreateArray();
    enum ay_err rc;

    for (size_t i = 0; i < n; i++) {
        if (!pending(items[i]))
            continue;
        cJSON_AddItemToArray(dev_ids, cJSON_CreateString(items[i]->where.device));
        cJSON_AddItemToArray(dis_ids, cJSON_CreateString(items[i]->where.district));
    }
    rc = run_json(db, S_DEVICES, dev_ids, &devs, err);
    if (rc == AY_OK)
        rc = run_json(db, S_POLICY, dis_ids, &dis, err);
    else
        cJSON_Delete(dis_ids);
    if (rc != AY_OK)
        goto cleanup;
    *npol = 0;
    for (int r = 0; r < ay_pg_nrows(dis) && *npol < n; r++) {
        struct policy_row *p = &pol[(*npol)++];
        snprintf(p->district, sizeof(p->district), "%s", ay_pg_value(dis, r, 0));
        p->p.verbal_notice_min = (int)strtol(ay_pg_value(dis, r, 1), NULL, 10);
        p->p.written_report_min = (int)strtol(ay_pg_value(dis, r, 2), NULL, 10);
        p->p.monthly_report_day = (int)strtol(ay_pg_value(dis, r, 3), NULL, 10);
    }
    for (size_t i = 0; i < n; i++) {
        struct recorder_item *it = items[i];
        if (!pending(it))
            continue;
        int row = -1;
        for (int r = 0; r < ay_pg_nrows(devs); r++)
            if (strcmp(ay_pg_value(devs, r, 0), it->where.device) == 0)
                row = r;
        if (row < 0)
            recorder_reject(it, "device \"%s\" is not registered", it->where.device);
        else if (strcmp(ay_pg_value(devs, row, 1), it->where.school) != 0)
            recorder_reject(it, "device \"%s\" is registered to school \"%s\", not \"%s\"",
                            it->where.device, ay_pg_value(devs, row, 1), it->where.school);
        else if (strcmp(ay_pg_value(devs, row, 2), it->where.district) != 0)
            recorder_reject(it, "school \"%s\" is in district \"%s\", not \"%s\"", it->where.school,
                            ay_pg_value(devs, row, 2), it->where.district);
        else if (strcmp(ay_pg_value(devs, row, 3), "t") != 0)
            recorder_reject(it, "device \"%s\" is disabled", it->where.device);
    }
cleanup:
    ay_pg_result_free(devs);
    ay_pg_result_free(dis);
    return rc;
}

/* Is id created by a pending item before index `before`, of the same school? */
static int created_earlier(struct recorder_item **items, size_t before, const char *id,
                           bool (*creates)(const struct recorder_item *))
{
    for (size_t j = 0; j < before; j++)
        if (pending(items[j]) && creates(items[j]) && strcasecmp(items[j]->msg_id, id) == 0)
            return (int)j;
    return -1;
}

/* Reports need their incident, updates their hazard, in the same school. */
static enum ay_err check_refs(struct ay_pg *db, struct recorder_item **items, size_t n, int which,
                              char err[AY_ERRLEN])
{
    const char *(*ref)(const struct recorder_item *) =
        which == S_INCIDENTS ? recorder_incident_ref : recorder_hazard_ref;
    bool (*creates)(const struct recorder_item *) =
        which == S_INCIDENTS ? recorder_creates_incident : recorder_creates_hazard;
    const char *what = which == S_INCIDENTS ? "incident" : "hazard";
    const char *field = which == S_INCIDENTS ? "report.incidentId" : "hazard-update.hazardId";
    struct ay_pg_result *res = NULL;
    cJSON *ids = cJSON_CreateArray();
    size_t asked = 0;

    for (size_t i = 0; i < n; i++)
        if (pending(items[i]) && ref(items[i])) {
            cJSON_AddItemToArray(ids, cJSON_CreateString(ref(items[i])));
            asked++;
        }
    if (asked == 0) {
        cJSON_Delete(ids);
        return AY_OK;
    }
    enum ay_err rc = run_json(db, which, ids, &res, err);
    if (rc != AY_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct recorder_item *it = items[i];
        const char *id = pending(it) ? ref(it) : NULL;
        if (id == NULL)
            continue;
        const char *school = NULL;
        for (int r = 0; r < ay_pg_nrows(res); r++)
            if (strcasecmp(ay_pg_value(res, r, 0), id) == 0)
                school = ay_pg_value(res, r, 1);
        int j = created_earlier(items, i, id, creates);
        if (school == NULL && j >= 0)
            school = items[j]->where.school;
        if (school == NULL)
            recorder_reject(it, "%s: unknown %s %s (send its %s first and wait for the receipt)",
                            field, what, id, which == S_INCIDENTS ? "notice" : "report");
        else if (strcmp(school, it->where.school) != 0)
            recorder_reject(it, "%s: %s %s belongs to another school", field, what, id);
    }
    ay_pg_result_free(res);
    return AY_OK;
}

/* ---- writing --------------------------------------------------------------- */

static const struct ay_policy *policy_for(const struct policy_row *pol, size_t npol,
                                          const char *district)
{
    static const struct ay_policy fallback = AY_POLICY_DEFAULT;
    for (size_t i = 0; i < npol; i++)
        if (strcmp(pol[i].district, district) == 0)
            return &pol[i].p;
    return &fallback;
}

static cJSON *message_row(const struct recorder_item *it, char err[AY_ERRLEN])
{
    cJSON *body = NULL;
    cJSON *row = NULL;
    char *hex = NULL;
    const Anyuan__V1__Header *h = NULL;

    if (ay_codec_to_cjson(it->msg, &body, err) != AY_OK)
        return NULL;
    hex = ay_text_hex_encode(it->payload, it->len);
    row = cJSON_CreateObject();
    if (hex == NULL || row == NULL) {
        cJSON_Delete(body);
        cJSON_Delete(row);
        free(hex);
        return NULL;
    }
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(it->msg->descriptor, "header");
    h = *(Anyuan__V1__Header *const *)((const char *)it->msg + f->offset);
    cJSON_AddStringToObject(row, "message_id", it->msg_id);
    cJSON_AddStringToObject(row, "kind", it->type->name);
    cJSON_AddStringToObject(row, "topic", it->topic);
    cJSON_AddStringToObject(row, "district_id", it->where.district);
    cJSON_AddStringToObject(row, "school_id", it->where.school);
    cJSON_AddStringToObject(row, "device_id", it->where.device);
    add_time(row, "sent_at", ay_time_to_us(h->sent_at->seconds, h->sent_at->nanos));
    add_time(row, "received_at", it->received_us);
    cJSON_AddStringToObject(row, "payload", hex);
    cJSON_AddItemToObject(row, "body", body);
    if (it->warning[0]) {
        char buf[AY_ERRLEN];
        cJSON_AddStringToObject(row, "warning", safe_text(it->warning, buf, sizeof(buf)));
    }
    free(hex);
    return row;
}

/* Inserts the log rows; marks the items whose row was inserted STORED. */
static enum ay_err insert_messages(struct ay_pg *db, struct recorder_item **items, size_t n,
                                   char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    cJSON *rows = cJSON_CreateArray();
    size_t count = 0;
    enum ay_err rc = AY_OK;

    for (size_t i = 0; i < n; i++) {
        if (!pending(items[i]))
            continue;
        cJSON *row = message_row(items[i], err);
        if (row == NULL) {
            cJSON_Delete(rows);
            return AY_ERR_NOMEM;
        }
        cJSON_AddItemToArray(rows, row);
        count++;
    }
    if (count == 0) {
        cJSON_Delete(rows);
        return AY_OK;
    }
    if ((rc = run_json(db, S_MESSAGES, rows, &res, err)) != AY_OK)
        return rc;
    /* The first item with a returned id is the one stored; other copies in
     * this batch, and ids another instance stored meanwhile, are resolved by
     * resolve_existing afterwards. */
    for (int r = 0; r < ay_pg_nrows(res); r++) {
        for (size_t i = 0; i < n; i++) {
            struct recorder_item *it = items[i];
            if (pending(it) && strcasecmp(it->msg_id, ay_pg_value(res, r, 0)) == 0) {
                it->outcome = RECORDER_STORED;
                it->record_id = strtoll(ay_pg_value(res, r, 1), NULL, 10);
                it->stored_us = strtoll(ay_pg_value(res, r, 2), NULL, 10);
                break;
            }
        }
    }
    ay_pg_result_free(res);
    return AY_OK;
}

/*
 * Marks pending items whose message id is already stored: DUPLICATE when
 * the same device sent a message of the same type under that id (a re-send;
 * the first storage stands, even if the sender re-encoded it with a new
 * sentAt), REJECTED otherwise (an id reused by another device or for another
 * type must not pass for stored).
 */
static enum ay_err resolve_existing(struct ay_pg *db, struct recorder_item **items, size_t n,
                                    char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    cJSON *rows = cJSON_CreateArray();
    size_t count = 0;

    for (size_t i = 0; i < n; i++) {
        if (!pending(items[i]))
            continue;
        cJSON *o = cJSON_CreateObject();
        if (o == NULL) {
            cJSON_Delete(rows);
            return AY_ERR_NOMEM;
        }
        cJSON_AddNumberToObject(o, "i", (double)i);
        cJSON_AddStringToObject(o, "message_id", items[i]->msg_id);
        cJSON_AddStringToObject(o, "device_id", items[i]->where.device);
        cJSON_AddStringToObject(o, "kind", items[i]->type->name);
        cJSON_AddItemToArray(rows, o);
        count++;
    }
    if (count == 0) {
        cJSON_Delete(rows);
        return AY_OK;
    }
    enum ay_err rc = run_json(db, S_EXISTING, rows, &res, err);
    if (rc != AY_OK)
        return rc;
    for (int r = 0; r < ay_pg_nrows(res); r++) {
        size_t i = (size_t)strtoul(ay_pg_value(res, r, 0), NULL, 10);
        if (i >= n || !pending(items[i]))
            continue;
        struct recorder_item *it = items[i];
        it->record_id = strtoll(ay_pg_value(res, r, 1), NULL, 10);
        it->stored_us = strtoll(ay_pg_value(res, r, 2), NULL, 10);
        if (strcmp(ay_pg_value(res, r, 3), "t") == 0) {
            it->outcome = RECORDER_DUPLICATE;
            it->ndeadlines = 0; /* the first storage's deadlines count */
        } else
            recorder_reject(it,
                            "%s.header.messageId: %s is already used by another message (%s-%lld); "
                            "send this one with a new id",
                            it->type->name, it->msg_id, it->where.district, it->record_id);
    }
    ay_pg_result_free(res);
    return AY_OK;
}

static enum ay_err apply_domain(struct ay_pg *db, struct recorder_item **items, size_t n,
                                char err[AY_ERRLEN])
{
    for (size_t d = 0; d < sizeof(domain) / sizeof(domain[0]); d++) {
        cJSON *ids = cJSON_CreateArray();
        size_t count = 0;
        for (size_t i = 0; i < n; i++) {
            if (items[i]->outcome == RECORDER_STORED &&
                strcmp(items[i]->type->name, domain[d].type) == 0) {
                cJSON_AddItemToArray(ids, cJSON_CreateString(items[i]->msg_id));
                count++;
            }
        }
        if (count == 0) {
            cJSON_Delete(ids);
            continue;
        }
        cJSON *again = domain[d].follow_up >= 0 ? cJSON_Duplicate(ids, 1) : NULL;
        enum ay_err rc = run_json(db, domain[d].stmt, ids, NULL, err);
        if (rc == AY_OK && again)
            rc = run_json(db, domain[d].follow_up, again, NULL, err);
        else
            cJSON_Delete(again);
        if (rc != AY_OK)
            return rc;
    }
    return AY_OK;
}

/* New deadlines and changes to existing ones, planned by recorder.c. */
static enum ay_err apply_deadlines(struct ay_pg *db, struct recorder_item **items, size_t n,
                                   char err[AY_ERRLEN])
{
    static const char *const actions[] = {"start", "met", "meet", "move", "reopen"};
    cJSON *created = cJSON_CreateArray();
    cJSON *changed = cJSON_CreateArray();
    enum ay_err rc = AY_OK;

    for (size_t i = 0; i < n; i++) {
        struct recorder_item *it = items[i];
        for (int k = 0; it->outcome == RECORDER_STORED && k < it->ndeadlines; k++) {
            const struct recorder_deadline *d = &it->deadlines[k];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "kind",
                                    enum_name(&anyuan__v1__deadline_kind__descriptor, d->kind));
            cJSON_AddStringToObject(o, "subject_id", d->subject_id);
            if (d->due_us > 0)
                add_time(o, "due_at", d->due_us);
            if (d->action == RECORDER_DL_START || d->action == RECORDER_DL_MET) {
                cJSON_AddStringToObject(
                    o, "subject_kind",
                    enum_name(&anyuan__v1__subject_kind__descriptor, d->subject_kind));
                cJSON_AddStringToObject(o, "district_id", it->where.district);
                cJSON_AddStringToObject(o, "school_id", it->where.school);
                cJSON_AddStringToObject(o, "created_by", it->msg_id);
                bool met = d->action == RECORDER_DL_MET;
                cJSON_AddStringToObject(o, "status", met ? "met" : "pending");
                if (met) {
                    cJSON_AddStringToObject(o, "met_by", it->msg_id);
                    add_time(o, "closed_at", it->received_us);
                }
                cJSON_AddItemToArray(created, o);
            } else {
                cJSON_AddStringToObject(o, "action", actions[d->action]);
                cJSON_AddStringToObject(o, "by", it->msg_id);
                add_time(o, "at", it->received_us);
                cJSON_AddItemToArray(changed, o);
            }
        }
    }
    if (cJSON_GetArraySize(created) > 0)
        rc = run_json(db, S_DEADLINES_NEW, created, NULL, err);
    else
        cJSON_Delete(created);
    if (rc == AY_OK && cJSON_GetArraySize(changed) > 0)
        rc = run_json(db, S_DEADLINES_CHANGE, changed, NULL, err);
    else
        cJSON_Delete(changed);
    return rc;
}

static cJSON *dead_letter_row(const struct recorder_item *it)
{
    char buf[AY_ERRLEN];
    char *hex = ay_text_hex_encode(it->payload, it->len);
    cJSON *o = cJSON_CreateObject();

    if (hex == NULL || o == NULL) {
        free(hex);
        cJSON_Delete(o);
        return NULL;
    }
    add_time(o, "received_at", it->received_us);
    cJSON_AddStringToObject(o, "topic", safe_text(it->topic, buf, sizeof(buf)));
    if (it->topic_ok) {
        cJSON_AddStringToObject(o, "district_id", it->where.district);
        if (it->where.cls == AY_TOPIC_SCHOOL) {
            cJSON_AddStringToObject(o, "school_id", it->where.school);
            cJSON_AddStringToObject(o, "device_id", it->where.device);
        }
    }
    if (it->msg_id)
        cJSON_AddStringToObject(o, "message_id", it->msg_id);
    cJSON_AddStringToObject(o, "reason", safe_text(it->reason, buf, sizeof(buf)));
    cJSON_AddStringToObject(o, "payload", hex);
    free(hex);
    return o;
}

static enum ay_err insert_dead_letters(struct ay_pg *db, struct recorder_item **items, size_t n,
                                       char err[AY_ERRLEN])
{
    cJSON *rows = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        if (items[i]->outcome != RECORDER_REJECTED)
            continue;
        cJSON *row = dead_letter_row(items[i]);
        if (row == NULL) {
            cJSON_Delete(rows);
            return AY_ERR_NOMEM;
        }
        cJSON_AddItemToArray(rows, row);
    }
    if (cJSON_GetArraySize(rows) == 0) {
        cJSON_Delete(rows);
        return AY_OK;
    }
    return run_json(db, S_DEAD_LETTERS, rows, NULL, err);
}

static int enum_value(const ProtobufCEnumDescriptor *d, const char *name)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(d, name);
    return v ? v->value : 0;
}

/* A re-send's receipt repeats the deadlines its first storage started and
 * that still run, in case the first receipt was lost. */
static enum ay_err running_deadlines(struct ay_pg *db, struct recorder_item **items, size_t n,
                                     char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    cJSON *ids = cJSON_CreateArray();
    size_t count = 0;

    for (size_t i = 0; i < n; i++)
        if (items[i]->outcome == RECORDER_DUPLICATE) {
            cJSON_AddItemToArray(ids, cJSON_CreateString(items[i]->msg_id));
            count++;
        }
    if (count == 0) {
        cJSON_Delete(ids);
        return AY_OK;
    }
    enum ay_err rc = run_json(db, S_RUNNING, ids, &res, err);
    if (rc != AY_OK)
        return rc;
    for (int r = 0; r < ay_pg_nrows(res); r++) {
        for (size_t i = 0; i < n; i++) {
            struct recorder_item *it = items[i];
            if (it->outcome != RECORDER_DUPLICATE || it->ndeadlines >= RECORDER_DEADLINES_MAX ||
                strcasecmp(it->msg_id, ay_pg_value(res, r, 0)) != 0)
                continue;
            struct recorder_deadline *d = &it->deadlines[it->ndeadlines++];
            d->action = RECORDER_DL_START;
            d->kind = enum_value(&anyuan__v1__deadline_kind__descriptor, ay_pg_value(res, r, 1));
            d->subject_kind =
                enum_value(&anyuan__v1__subject_kind__descriptor, ay_pg_value(res, r, 2));
            snprintf(d->subject_id, sizeof(d->subject_id), "%s", ay_pg_value(res, r, 3));
            d->due_us = strtoll(ay_pg_value(res, r, 4), NULL, 10);
        }
    }
    ay_pg_result_free(res);
    return AY_OK;
}

/* ---- the transaction -------------------------------------------------------- */

static enum ay_err store_in_tx(struct ay_pg *db, struct recorder_item **items, size_t n,
                               char err[AY_ERRLEN])
{
    struct policy_row *pol = calloc(n ? n : 1, sizeof(*pol));
    size_t npol = 0;
    enum ay_err rc;

    if (pol == NULL)
        return AY_ERR_NOMEM;
    /* Re-sends first: a stored message stays stored whatever changed since. */
    rc = resolve_existing(db, items, n, err);
    if (rc == AY_OK)
        rc = check_registry(db, items, n, pol, &npol, err);
    if (rc == AY_OK)
        rc = check_refs(db, items, n, S_INCIDENTS, err);
    if (rc == AY_OK)
        rc = check_refs(db, items, n, S_HAZARDS, err);
    for (size_t i = 0; rc == AY_OK && i < n; i++)
        if (pending(items[i]))
            recorder_plan_deadlines(items[i], policy_for(pol, npol, items[i]->where.district));
    free(pol);
    if (rc == AY_OK)
        rc = insert_messages(db, items, n, err);
    if (rc == AY_OK)
        rc = resolve_existing(db, items, n, err);
    if (rc == AY_OK)
        rc = apply_domain(db, items, n, err);
    if (rc == AY_OK)
        rc = apply_deadlines(db, items, n, err);
    if (rc == AY_OK)
        rc = insert_dead_letters(db, items, n, err);
    if (rc == AY_OK)
        rc = running_deadlines(db, items, n, err);
    return rc;
}

enum ay_err recorder_store_batch(struct ay_pg *db, struct recorder_item **items, size_t n,
                                 char err[AY_ERRLEN])
{
    enum ay_err rc;

    for (size_t i = 0; i < n; i++) {
        items[i]->outcome = items[i]->decoded;
        items[i]->ndeadlines = 0;
    }
    rc = ay_pg_begin(db, err);
    if (rc == AY_OK)
        rc = store_in_tx(db, items, n, err);
    if (rc == AY_OK)
        rc = ay_pg_commit(db, err);
    if (rc != AY_OK) {
        ay_pg_rollback(db);
        for (size_t i = 0; i < n; i++) {
            items[i]->outcome = items[i]->decoded;
            items[i]->ndeadlines = 0;
        }
    }
    return rc;
}

enum ay_err recorder_store_dead_letter(struct ay_pg *db, struct recorder_item *it,
                                       char err[AY_ERRLEN])
{
    it->outcome = RECORDER_REJECTED;
    it->decoded = RECORDER_REJECTED;
    enum ay_err rc = ay_pg_begin(db, err);
    if (rc == AY_OK)
        rc = insert_dead_letters(db, &it, 1, err);
    if (rc == AY_OK)
        rc = ay_pg_commit(db, err);
    if (rc != AY_OK)
        ay_pg_rollback(db);
    return rc;
}
