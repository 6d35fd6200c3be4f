/*
 * store.c - the recorder's reads and writes; see store.h.
 *
 * Approach: every statement takes one array parameter (ids as a PostgreSQL
 * array, rows as a jsonb array) so a batch of any size is a fixed number of
 * round trips, and nothing from a message is ever pasted into SQL. Domain
 * rows are projected in SQL from messages.body (the proto3 JSON of the
 * message, stored in the same transaction), so the mapping from contract
 * fields to columns lives in one place: sql/insert_*.sql.
 * Results are matched to items by sorting and binary search, never by
 * scanning the batch per row.
 */
#include "store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/device.pb-c.h"
#include "anyuan/v1/hazard.pb-c.h"
#include "anyuan/v1/incident.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_escalate.h"
#include "ay_json.h"
#include "ay_log.h"
#include "ay_text.h"
#include "ay_time.h"

/* Domain statements for each inbound message type, in dependency order
 * (incidents before their reports, hazards before their events). */
static const struct {
    const char *type;
    const char *stmt;
    const char *follow_up; /* NULL: none */
} domain[] = {
    {"alarm", "insert_alarms", NULL},
    {"alarm-cancel", "insert_alarm_cancels", NULL},
    {"notice", "insert_incidents", NULL},
    {"report", "insert_reports", "update_incidents"},
    {"hazard", "insert_hazards", NULL},              /* rows: insert_hazard_rows */
    {"hazard-update", "insert_hazard_events", NULL}, /* likewise; then update_hazards */
    {"monthly", "insert_monthly", NULL},
    {"status", "upsert_status", NULL},
};

/* ---- helpers ------------------------------------------------------------- */

static bool pending(const struct recorder_item *it)
{
    return it->outcome == RECORDER_PENDING;
}

/* Runs a statement whose one parameter is the array of n ids. */
static enum ay_err exec_ids(struct ay_pg *db, const char *stmt, const char **ids, size_t n,
                            struct ay_pg_result **out, char err[AY_ERRLEN])
{
    char *arr = ay_pg_text_array(ids, n);
    if (arr == NULL)
        return AY_ERR_NOMEM;
    const char *params[1] = {arr};
    enum ay_err rc = ay_pg_exec_prepared(db, stmt, 1, params, NULL, NULL, out, err);
    free(arr);
    return rc;
}

/* Runs a statement whose parameters are a jsonb text and optional extras. */
static enum ay_err exec_json(struct ay_pg *db, const char *stmt, cJSON *json, const char *extra,
                             struct ay_pg_result **out, char err[AY_ERRLEN])
{
    char *text = ay_json_print_free(json);
    if (text == NULL)
        return AY_ERR_NOMEM;
    const char *params[2] = {text, extra};
    enum ay_err rc = ay_pg_exec_prepared(db, stmt, extra ? 2 : 1, params, NULL, NULL, out, err);
    free(text);
    return rc;
}

/* Runs stmt with rows (taken) as its one parameter, unless there are none. */
static enum ay_err exec_rows(struct ay_pg *db, const char *stmt, cJSON *rows, bool ok,
                             char err[AY_ERRLEN])
{
    if (!ok) {
        cJSON_Delete(rows);
        return AY_ERR_NOMEM;
    }
    if (cJSON_GetArraySize(rows) == 0) {
        cJSON_Delete(rows);
        return AY_OK;
    }
    return exec_json(db, stmt, rows, NULL, NULL, err);
}

static int enum_value(const ProtobufCEnumDescriptor *d, const char *name)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(d, name);
    return v ? v->value : 0;
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? ev->name : "UNKNOWN";
}

/* Text from outside that goes into a jsonb: well-formed UTF-8. */
static const char *safe_text(const char *s, char *buf, size_t cap)
{
    return s ? ay_text_sanitize(buf, cap, s) : NULL;
}

/* Copies a cell into a fixed buffer; false if it does not fit. */
static bool cell(const struct ay_pg_result *r, int row, int col, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s", ay_pg_value(r, row, col));
    return n >= 0 && (size_t)n < cap;
}

/* ---- loading the facts --------------------------------------------------- */

/* Collects each pending item's string chosen by get (skipping NULLs). */
static size_t collect(struct recorder_item **items, size_t n, const char **out,
                      const char *(*get)(const struct recorder_item *))
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = pending(items[i]) ? get(items[i]) : NULL;
        if (v != NULL)
            out[k++] = v;
    }
    return k;
}

static const char *get_msg_id(const struct recorder_item *it)
{
    return it->msg_id;
}

static const char *get_device(const struct recorder_item *it)
{
    return it->where.device;
}

static const char *get_district(const struct recorder_item *it)
{
    return it->where.district;
}

static const char *get_status_device(const struct recorder_item *it)
{
    return it->msg && it->msg->descriptor == &anyuan__v1__device_status__descriptor
               ? it->where.device
               : NULL;
}

static const char *get_school(const struct recorder_item *it)
{
    return it->where.school;
}

/* Ids of records a message refers to: the incident of a report, the hazard
 * of an update, the alarm of a cancel or of a notice. */
static const char *get_ref(const struct recorder_item *it)
{
    const char *r = recorder_incident_ref(it);
    if (r == NULL)
        r = recorder_hazard_ref(it);
    if (r == NULL)
        r = recorder_periodic_ref(it);
    if (r == NULL && it->msg && it->msg->descriptor == &anyuan__v1__alarm_cancel__descriptor)
        r = ((const Anyuan__V1__AlarmCancel *)it->msg)->alarm_id;
    if (r == NULL && it->msg && it->msg->descriptor == &anyuan__v1__incident_notice__descriptor) {
        const char *a = ((const Anyuan__V1__IncidentNotice *)it->msg)->alarm_id;
        r = a && a[0] ? a : NULL;
    }
    return r;
}

static enum ay_err load_known(struct ay_pg *db, const char **ids, size_t n,
                              struct recorder_facts *f, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    enum ay_err rc = exec_ids(db, "load_known", ids, n, &res, err);
    if (rc != AY_OK)
        return rc;
    int rows = ay_pg_nrows(res);
    f->known = calloc((size_t)rows + 1, sizeof(*f->known));
    if (f->known == NULL)
        rc = AY_ERR_NOMEM;
    for (int r = 0; rc == AY_OK && r < rows; r++) {
        struct recorder_known_msg *k = &f->known[f->nknown++];
        int64_t id = 0;
        if (!cell(res, r, 0, k->msg_id, sizeof(k->msg_id)) || !ay_pg_int64(res, r, 1, &id) ||
            !ay_pg_int64(res, r, 2, &k->stored_us) ||
            !cell(res, r, 3, k->device, sizeof(k->device)) ||
            !cell(res, r, 4, k->kind, sizeof(k->kind)))
            rc = ay_pg_bad_row("load_known", r, err);
        k->record_id = id;
    }
    ay_pg_result_free(res);
    return rc;
}

static enum ay_err load_devices(struct ay_pg *db, const char **ids, size_t n,
                                struct recorder_facts *f, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    enum ay_err rc = exec_ids(db, "load_devices", ids, n, &res, err);
    if (rc != AY_OK)
        return rc;
    int rows = ay_pg_nrows(res);
    f->devices = calloc((size_t)rows + 1, sizeof(*f->devices));
    if (f->devices == NULL)
        rc = AY_ERR_NOMEM;
    for (int r = 0; rc == AY_OK && r < rows; r++) {
        struct recorder_device *d = &f->devices[f->ndevices++];
        int64_t hb = 0;
        if (!cell(res, r, 0, d->id, sizeof(d->id)) ||
            !cell(res, r, 1, d->school, sizeof(d->school)) ||
            !cell(res, r, 2, d->district, sizeof(d->district)) || !ay_pg_int64(res, r, 5, &hb))
            rc = ay_pg_bad_row("load_devices", r, err);
        d->enabled = strcmp(ay_pg_value(res, r, 3), "t") == 0;
        d->in_test_window = strcmp(ay_pg_value(res, r, 4), "t") == 0;
        d->heartbeat_s = (int)hb;
        ay_text_sanitize(d->location, sizeof(d->location), ay_pg_value(res, r, 6));
    }
    ay_pg_result_free(res);
    return rc;
}

static enum ay_err load_districts(struct ay_pg *db, const char **ids, size_t n,
                                  struct recorder_facts *f, struct ay_tzcache *zones,
                                  char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    enum ay_err rc = exec_ids(db, "load_districts", ids, n, &res, err);
    if (rc != AY_OK)
        return rc;
    int rows = ay_pg_nrows(res);
    f->districts = calloc((size_t)rows + 1, sizeof(*f->districts));
    if (f->districts == NULL)
        rc = AY_ERR_NOMEM;
    for (int r = 0; rc == AY_OK && r < rows; r++) {
        struct recorder_district *d = &f->districts[f->ndistricts++];
        const char *doc = ay_pg_value(res, r, 1);
        char perr[AY_ERRLEN] = "";
        if (!cell(res, r, 0, d->id, sizeof(d->id)))
            rc = ay_pg_bad_row("load_districts", r, err);
        else if (ay_policy_from_json(doc, strlen(doc), &d->policy, perr) != AY_OK) {
            ay_log_warn("invalid district policy in the database, using the defaults", "district",
                        d->id, "err", perr, NULL);
            ay_policy_defaults(&d->policy);
        }
        d->tz = zones ? ay_tzcache_get(zones, d->policy.timezone) : NULL;
    }
    ay_pg_result_free(res);
    return rc;
}

static enum ay_err load_device_states(struct ay_pg *db, const char **ids, size_t n,
                                      struct recorder_facts *f, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    enum ay_err rc = exec_ids(db, "load_device_status", ids, n, &res, err);
    if (rc != AY_OK)
        return rc;
    int rows = ay_pg_nrows(res);
    f->dev_states = calloc((size_t)rows + 1, sizeof(*f->dev_states));
    if (f->dev_states == NULL)
        rc = AY_ERR_NOMEM;
    for (int r = 0; rc == AY_OK && r < rows; r++) {
        struct recorder_dev_state *d = &f->dev_states[f->ndev_states++];
        if (!cell(res, r, 0, d->device, sizeof(d->device)) ||
            !cell(res, r, 2, d->episode, sizeof(d->episode)))
            rc = ay_pg_bad_row("load_device_status", r, err);
        d->offline = strcmp(ay_pg_value(res, r, 1), "t") == 0;
        d->tamper = strcmp(ay_pg_value(res, r, 3), "t") == 0;
        d->fault = strcmp(ay_pg_value(res, r, 4), "t") == 0;
        d->low_battery = strcmp(ay_pg_value(res, r, 5), "t") == 0;
    }
    ay_pg_result_free(res);
    return rc;
}

static enum ay_err load_schools(struct ay_pg *db, const char **ids, size_t n,
                                struct recorder_facts *f, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    enum ay_err rc = exec_ids(db, "load_schools", ids, n, &res, err);
    if (rc != AY_OK)
        return rc;
    int rows = ay_pg_nrows(res);
    f->schools = calloc((size_t)rows + 1, sizeof(*f->schools));
    if (f->schools == NULL)
        rc = AY_ERR_NOMEM;
    for (int r = 0; rc == AY_OK && r < rows; r++) {
        struct recorder_school *s = &f->schools[f->nschools++];
        if (!cell(res, r, 0, s->id, sizeof(s->id)))
            rc = ay_pg_bad_row("load_schools", r, err);
        snprintf(s->name_zh, sizeof(s->name_zh), "%s", ay_pg_value(res, r, 1));
        snprintf(s->name_en, sizeof(s->name_en), "%s", ay_pg_value(res, r, 2));
    }
    ay_pg_result_free(res);
    return rc;
}

static enum ay_err load_subjects(struct ay_pg *db, const char *stmt, const char **ids, size_t n,
                                 struct recorder_subject **out, size_t *nout, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    enum ay_err rc = exec_ids(db, stmt, ids, n, &res, err);
    if (rc != AY_OK)
        return rc;
    int rows = ay_pg_nrows(res);
    *out = calloc((size_t)rows + 1, sizeof(**out));
    if (*out == NULL)
        rc = AY_ERR_NOMEM;
    for (int r = 0; rc == AY_OK && r < rows; r++) {
        struct recorder_subject *s = &(*out)[(*nout)++];
        if (!cell(res, r, 0, s->id, sizeof(s->id)) ||
            !cell(res, r, 1, s->school, sizeof(s->school)))
            rc = ay_pg_bad_row(stmt, r, err);
    }
    ay_pg_result_free(res);
    return rc;
}

/* The hazards the updates refer to, with their state for the loop. */
static enum ay_err load_hazards(struct ay_pg *db, const char **ids, size_t n,
                                struct recorder_facts *f, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    enum ay_err rc = exec_ids(db, "load_hazards", ids, n, &res, err);
    if (rc != AY_OK)
        return rc;
    int rows = ay_pg_nrows(res);
    f->hazards = calloc((size_t)rows + 1, sizeof(*f->hazards));
    f->hazard_states = calloc((size_t)rows + 1, sizeof(*f->hazard_states));
    if (f->hazards == NULL || f->hazard_states == NULL)
        rc = AY_ERR_NOMEM;
    for (int r = 0; rc == AY_OK && r < rows; r++) {
        struct recorder_subject *s = &f->hazards[f->nhazards++];
        struct recorder_hazard_fact *hf = &f->hazard_states[f->nhazard_states++];
        struct recorder_hazard *h = &hf->hazard;
        int64_t seq = 0;
        if (!cell(res, r, 0, s->id, sizeof(s->id)) ||
            !cell(res, r, 1, s->school, sizeof(s->school)) || !ay_pg_int64(res, r, 9, &seq) ||
            !ay_pg_int64(res, r, 11, &h->dl_due_us))
            rc = ay_pg_bad_row("load_hazards", r, err);
        memcpy(hf->id, s->id, sizeof(hf->id));
        h->status = enum_value(&anyuan__v1__hazard_status__descriptor, ay_pg_value(res, r, 2));
        h->grade = enum_value(&anyuan__v1__hazard_grade__descriptor, ay_pg_value(res, r, 3));
        h->category = enum_value(&anyuan__v1__hazard_category__descriptor, ay_pg_value(res, r, 4));
        h->beyond_authority = strcmp(ay_pg_value(res, r, 5), "t") == 0;
        ay_text_sanitize(h->reporter, sizeof(h->reporter), ay_pg_value(res, r, 6));
        ay_text_sanitize(h->responsible, sizeof(h->responsible), ay_pg_value(res, r, 7));
        ay_text_sanitize(h->place, sizeof(h->place), ay_pg_value(res, r, 8));
        h->dl_seq = (int)seq;
        h->dl_status = recorder_hazard_dl_parse(ay_pg_value(res, r, 10));
    }
    ay_pg_result_free(res);
    return rc;
}

static enum ay_err load_deadlines(struct ay_pg *db, const char **ids, size_t n,
                                  struct recorder_facts *f, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    enum ay_err rc = exec_ids(db, "load_deadlines", ids, n, &res, err);
    if (rc != AY_OK)
        return rc;
    int rows = ay_pg_nrows(res);
    f->deadlines = calloc((size_t)rows + 1, sizeof(*f->deadlines));
    if (f->deadlines == NULL)
        rc = AY_ERR_NOMEM;
    for (int r = 0; rc == AY_OK && r < rows; r++) {
        struct recorder_open_deadline *d = &f->deadlines[f->ndeadlines++];
        int64_t seq = 0;
        if (!cell(res, r, 0, d->created_by, sizeof(d->created_by)) ||
            !cell(res, r, 3, d->subject_id, sizeof(d->subject_id)) ||
            !ay_pg_int64(res, r, 4, &d->due_us) || !ay_pg_int64(res, r, 6, &seq) ||
            !ay_pg_int64(res, r, 7, &d->created_us))
            rc = ay_pg_bad_row("load_deadlines", r, err);
        d->seq = (int)seq;
        d->kind = enum_value(&anyuan__v1__deadline_kind__descriptor, ay_pg_value(res, r, 1));
        d->subject_kind = enum_value(&anyuan__v1__subject_kind__descriptor, ay_pg_value(res, r, 2));
    }
    ay_pg_result_free(res);
    return rc;
}

/* Everything recorder_decide needs to know about the pending items. */
static enum ay_err load_facts(struct ay_pg *db, struct recorder_item **items, size_t n,
                              struct recorder_facts *f, struct ay_tzcache *zones,
                              char err[AY_ERRLEN])
{
    const char **ids = calloc(2 * n + 1, sizeof(*ids));
    enum ay_err rc = AY_ERR_NOMEM;
    size_t k;

    if (ids == NULL)
        return AY_ERR_NOMEM;
    k = collect(items, n, ids, get_msg_id);
    if ((rc = load_known(db, ids, k, f, err)) != AY_OK)
        goto cleanup;
    /* Open deadlines they started (re-sends) or of the subjects they name. */
    size_t refs = collect(items, n, ids + k, get_ref);
    if ((rc = load_deadlines(db, ids, k + refs, f, err)) != AY_OK)
        goto cleanup;
    k = collect(items, n, ids, get_device);
    if ((rc = load_devices(db, ids, k, f, err)) != AY_OK)
        goto cleanup;
    k = collect(items, n, ids, get_status_device);
    if (k > 0 && (rc = load_device_states(db, ids, k, f, err)) != AY_OK)
        goto cleanup;
    k = collect(items, n, ids, get_district);
    if ((rc = load_districts(db, ids, k, f, zones, err)) != AY_OK)
        goto cleanup;
    k = collect(items, n, ids, get_school);
    if ((rc = load_schools(db, ids, k, f, err)) != AY_OK)
        goto cleanup;
    k = collect(items, n, ids, recorder_incident_ref);
    if ((rc = load_subjects(db, "load_incidents", ids, k, &f->incidents, &f->nincidents, err)) !=
        AY_OK)
        goto cleanup;
    k = collect(items, n, ids, recorder_hazard_ref);
    rc = load_hazards(db, ids, k, f, err);
cleanup:
    free(ids);
    if (rc == AY_OK)
        recorder_facts_sort(f);
    return rc;
}

/* ---- writing the log ------------------------------------------------------- */

/* How it came (lib/ay_wire, db/migrations/0009): payload is always
 * protobuf, the canonical encoding of a JSON message, whose bytes as
 * received go to message_originals (insert_messages.sql). */
static bool wire_fields(cJSON *row, const struct recorder_item *it, char err[AY_ERRLEN])
{
    uint8_t *pb = NULL;
    size_t pb_len = 0;
    char ct[AY_ERRLEN];
    char *original = NULL;
    bool json = it->wire == AY_WIRE_JSON;

    if (json && ay_wire_encode(it->msg, AY_WIRE_PROTOBUF, &pb, &pb_len, err) != AY_OK)
        return false;
    char *hex = json ? ay_text_hex_encode(pb, pb_len) : ay_text_hex_encode(it->payload, it->len);
    if (json)
        original = ay_text_hex_encode(it->payload, it->len);
    bool ok = hex != NULL && (!json || original != NULL) && ay_json_str(row, "payload", hex) &&
              ay_json_str(row, "wire_format", ay_wire_name(it->wire)) &&
              ay_json_str(row, "content_type", safe_text(it->content_type, ct, sizeof(ct))) &&
              ay_json_str(row, "original", original);
    free(pb);
    free(hex);
    free(original);
    return ok;
}

static cJSON *message_row(const struct recorder_item *it, char err[AY_ERRLEN])
{
    cJSON *body = NULL;
    char buf[AY_ERRLEN];
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(it->msg->descriptor, "header");
    const Anyuan__V1__Header *h = *(Anyuan__V1__Header *const *)((const char *)it->msg + f->offset);

    if (ay_codec_to_cjson(it->msg, &body, err) != AY_OK)
        return NULL;
    cJSON *row = cJSON_CreateObject();
    bool ok = row != NULL && wire_fields(row, it, err);
    ok = ok && ay_json_str(row, "message_id", it->msg_id) &&
         ay_json_str(row, "kind", it->type->name) && ay_json_str(row, "topic", it->topic) &&
         ay_json_str(row, "district_id", it->where.district) &&
         ay_json_str(row, "school_id", it->where.school) &&
         ay_json_str(row, "device_id", it->where.device) &&
         ay_json_time(row, "sent_at", ay_time_to_us(h->sent_at->seconds, h->sent_at->nanos)) &&
         ay_json_time(row, "received_at", it->received_us);
    if (ok) {
        ok = ay_json_take(row, "body", body);
        body = NULL;
    }
    if (ok && it->warning[0])
        ok = ay_json_str(row, "warning", safe_text(it->warning, buf, sizeof(buf)));
    cJSON_Delete(body);
    if (!ok) {
        cJSON_Delete(row);
        return NULL;
    }
    return row;
}

static int cmp_item_id(const void *a, const void *b)
{
    return strcasecmp((*(struct recorder_item *const *)a)->msg_id,
                      (*(struct recorder_item *const *)b)->msg_id);
}

/* Inserts the log rows of the pending items; marks those inserted STORED.
 * *left gets how many pending items another instance stored meanwhile. */
static enum ay_err insert_messages(struct ay_pg *db, struct recorder_item **items, size_t n,
                                   size_t *left, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    struct recorder_item **sorted = calloc(n + 1, sizeof(*sorted));
    cJSON *rows = cJSON_CreateArray();
    size_t count = 0;
    enum ay_err rc = AY_ERR_NOMEM;
    bool ok = rows != NULL && sorted != NULL;

    for (size_t i = 0; ok && i < n; i++) {
        if (!pending(items[i]))
            continue;
        ok = ay_json_push(rows, message_row(items[i], err));
        sorted[count++] = items[i];
    }
    *left = 0;
    if (!ok || count == 0) {
        cJSON_Delete(rows);
        free(sorted);
        return ok ? AY_OK : AY_ERR_NOMEM;
    }
    if ((rc = exec_json(db, "insert_messages", rows, NULL, &res, err)) != AY_OK)
        goto cleanup;
    qsort(sorted, count, sizeof(*sorted), cmp_item_id);
    for (int r = 0; r < ay_pg_nrows(res); r++) {
        struct recorder_item key = {.msg_id = ay_pg_value(res, r, 0)};
        struct recorder_item *kp = &key;
        struct recorder_item **hit = bsearch(&kp, sorted, count, sizeof(*sorted), cmp_item_id);
        int64_t id = 0;
        if (hit == NULL || !ay_pg_int64(res, r, 1, &id) ||
            !ay_pg_int64(res, r, 2, &(*hit)->stored_us)) {
            rc = ay_pg_bad_row("insert_messages", r, err);
            goto cleanup;
        }
        (*hit)->outcome = RECORDER_STORED;
        (*hit)->record_id = id;
    }
    for (size_t i = 0; i < count; i++)
        *left += pending(sorted[i]);
cleanup:
    ay_pg_result_free(res);
    free(sorted);
    return rc;
}

/*
 * Pending items whose insert found the id taken: another instance stored it
 * between our read and our write (ON CONFLICT waited for it to commit). Read
 * again and decide again: they are duplicates or reused ids now.
 */
static enum ay_err resolve_conflicts(struct ay_pg *db, struct recorder_item **items, size_t n,
                                     char err[AY_ERRLEN])
{
    struct recorder_item **raced = calloc(n + 1, sizeof(*raced));
    struct recorder_facts f;
    size_t k = 0;
    enum ay_err rc;

    if (raced == NULL)
        return AY_ERR_NOMEM;
    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < n; i++)
        if (pending(items[i]))
            raced[k++] = items[i];
    rc = load_facts(db, raced, k, &f, NULL, err);
    if (rc == AY_OK)
        recorder_decide(raced, k, &f);
    for (size_t i = 0; rc == AY_OK && i < k; i++) {
        if (pending(raced[i])) {
            ay_errf(err, "message %s could neither be stored nor found", raced[i]->msg_id);
            rc = AY_ERR_INVALID;
        }
    }
    recorder_facts_cleanup(&f);
    free(raced);
    return rc;
}

/* ---- domain tables and deadlines ------------------------------------------ */

/* Orders status items by device, then by reception: the last of each
 * device's run is the one whose supervision state stands. */
static int cmp_status(const void *a, const void *b)
{
    const struct recorder_item *x = *(struct recorder_item *const *)a;
    const struct recorder_item *y = *(struct recorder_item *const *)b;
    int c = strcmp(x->where.device, y->where.device);
    if (c != 0)
        return c;
    return x->received_us < y->received_us ? -1 : x->received_us > y->received_us;
}

/* One supervision row per device (its batch's last status message). */
static cJSON *supervision_rows(struct recorder_item **items, size_t n)
{
    struct recorder_item **st = calloc(n + 1, sizeof(*st));
    cJSON *rows = cJSON_CreateArray();
    size_t k = 0;
    bool ok = st != NULL && rows != NULL;

    for (size_t i = 0; ok && i < n; i++)
        if (items[i]->outcome == RECORDER_STORED && items[i]->supervised)
            st[k++] = items[i];
    if (ok && k > 1)
        qsort(st, k, sizeof(*st), cmp_status);
    for (size_t i = 0; ok && i < k; i++) {
        if (i + 1 < k && strcmp(st[i]->where.device, st[i + 1]->where.device) == 0)
            continue;
        const struct recorder_item *it = st[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && ay_json_str(o, "device_id", it->where.device) &&
             (it->silent_after_us == 0 || ay_json_time(o, "silent_after", it->silent_after_us)) &&
             ay_json_bool(o, "offline", it->sup.offline) &&
             (it->sup.episode[0] == '\0' || ay_json_str(o, "episode_id", it->sup.episode)) &&
             ay_json_bool(o, "low_battery", it->sup.low_battery);
        ok = ay_json_push(rows, o) && ok;
    }
    free(st);
    if (!ok) {
        cJSON_Delete(rows);
        return NULL;
    }
    return rows;
}

/* Absences that ended with this batch (a device back), with the words
 * that tell of it. */
static enum ay_err end_absences(struct ay_pg *db, struct recorder_item **items, size_t n,
                                char err[AY_ERRLEN])
{
    cJSON *rows = cJSON_CreateArray();
    bool ok = rows != NULL;

    for (size_t i = 0; i < n && ok; i++) {
        const struct recorder_item *it = items[i];
        if (it->outcome != RECORDER_STORED || it->ended_episode[0] == '\0' || !it->ended_words)
            continue;
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && ay_json_str(o, "episode_id", it->ended_episode) &&
             ay_json_str(o, "summary_zh", it->ended_words[0]) &&
             ay_json_str(o, "summary_en", it->ended_words[1]);
        ok = ay_json_push(rows, o) && ok;
    }
    return exec_rows(db, "end_absences", rows, ok, err);
}

/* The status statement: the messages and their devices' supervision. */
static enum ay_err upsert_status(struct ay_pg *db, const char *stmt, const char **ids, size_t k,
                                 struct recorder_item **items, size_t n, char err[AY_ERRLEN])
{
    char *arr = ay_pg_text_array(ids, k);
    char *sup = ay_json_print_free(supervision_rows(items, n));
    const char *params[2] = {arr, sup};
    enum ay_err rc = AY_ERR_NOMEM;

    if (arr != NULL && sup != NULL)
        rc = ay_pg_exec_prepared(db, stmt, 2, params, NULL, NULL, NULL, err);
    free(arr);
    free(sup);
    return rc;
}

/* ---- hazards (domain.md rule 3; the loop is hazard.c) ------------------------- */

static bool stored_as(const struct recorder_item *it, const char *type)
{
    return it->outcome == RECORDER_STORED && strcmp(it->type->name, type) == 0;
}

/* The rows of insert_hazards (a report's decided rectification deadline and
 * where it came from) or insert_hazard_events (the status a step left). */
static enum ay_err insert_hazard_rows(struct ay_pg *db, const char *stmt, const char *type,
                                      struct recorder_item **items, size_t n, char err[AY_ERRLEN])
{
    cJSON *rows = cJSON_CreateArray();
    bool ok = rows != NULL;
    bool report = strcmp(type, "hazard") == 0;

    for (size_t i = 0; ok && i < n; i++) {
        const struct recorder_item *it = items[i];
        if (!stored_as(it, type))
            continue;
        cJSON *o = cJSON_CreateObject();
        if (report) {
            const Anyuan__V1__HazardReport *r = (const Anyuan__V1__HazardReport *)it->msg;
            ok = o != NULL && ay_json_str(o, "id", it->msg_id) &&
                 ay_json_time(o, "due_at", it->hazard.dl_due_us) &&
                 ay_json_str(o, "source", r->rectification_deadline ? "report" : "policy");
        } else {
            ok = o != NULL && ay_json_str(o, "message_id", it->msg_id) &&
                 ay_json_str(o, "prev_status",
                             enum_name(&anyuan__v1__hazard_status__descriptor, it->hazard_from));
        }
        ok = ay_json_push(rows, o) && ok;
    }
    return exec_rows(db, stmt, rows, ok, err);
}

/* Each hazard's state after the batch, and the escalations its steps end. */
static enum ay_err update_hazards(struct ay_pg *db, struct recorder_item **items, size_t n,
                                  char err[AY_ERRLEN])
{
    cJSON *state = cJSON_CreateArray();
    cJSON *moved = cJSON_CreateArray();
    bool ok = state != NULL && moved != NULL;

    for (size_t i = 0; ok && i < n; i++) {
        const struct recorder_item *it = items[i];
        if (!stored_as(it, "hazard-update"))
            continue;
        const Anyuan__V1__HazardUpdate *u = (const Anyuan__V1__HazardUpdate *)it->msg;
        const char *status = enum_name(&anyuan__v1__hazard_status__descriptor, u->status);
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && ay_json_str(o, "hazard_id", u->hazard_id) &&
             ay_json_str(o, "status", status) &&
             ay_json_time(o, "at", ay_time_to_us(u->at->seconds, u->at->nanos)) &&
             (it->hazard.dl_due_us <= 0 || ay_json_time(o, "due_at", it->hazard.dl_due_us)) &&
             ay_json_num(o, "ord", (double)i);
        ok = ay_json_push(state, o) && ok;
        if (!ok || !it->hazard_moved || it->moved_words == NULL)
            continue;
        o = cJSON_CreateObject();
        ok = o != NULL && ay_json_str(o, "hazard_id", u->hazard_id) &&
             ay_json_str(o, "status", status) &&
             ay_json_bool(o, "closed",
                          u->status == ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_CLOSED) &&
             ay_json_str(o, "summary_zh", it->moved_words[0]) &&
             ay_json_str(o, "summary_en", it->moved_words[1]) &&
             ay_json_str(o, "message_id", it->msg_id) && ay_json_num(o, "ord", (double)i);
        ok = ay_json_push(moved, o) && ok;
    }
    enum ay_err rc = exec_rows(db, "update_hazards", state, ok, err);
    if (rc == AY_OK)
        return exec_rows(db, "resolve_hazards", moved, ok, err);
    cJSON_Delete(moved);
    return rc;
}

/* "HAZARD_STATUS_RECTIFYING" -> "hazard.rectifying" */
static void hazard_action(int status, char *buf, size_t cap)
{
    const char *name = enum_name(&anyuan__v1__hazard_status__descriptor, status);
    size_t len = strlen("HAZARD_STATUS_");
    if (strncmp(name, "HAZARD_STATUS_", len) == 0)
        name += len;
    int w = snprintf(buf, cap, "hazard.%s", name);
    for (int i = 7; w > 0 && i < w && (size_t)i < cap; i++)
        buf[i] = (char)tolower((unsigned char)buf[i]);
}

/* What an audit row of a hazard's step says: who, when, from where to where. */
static cJSON *hazard_detail(const struct recorder_item *it)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && ay_json_str(o, "message", it->msg_id);

    if (ok && it->msg->descriptor == &anyuan__v1__hazard_report__descriptor) {
        const Anyuan__V1__HazardReport *r = (const Anyuan__V1__HazardReport *)it->msg;
        ok = ay_json_str(o, "status", "HAZARD_STATUS_REGISTERED") &&
             ay_json_str(o, "by", r->found_by ? r->found_by->name : "") &&
             ay_json_str(o, "responsible", r->responsible ? r->responsible->name : "") &&
             ay_json_str(o, "grade", enum_name(&anyuan__v1__hazard_grade__descriptor, r->grade)) &&
             ay_json_time(o, "deadline", it->hazard.dl_due_us) &&
             ay_json_str(o, "deadline_source", r->rectification_deadline ? "report" : "policy");
    } else if (ok) {
        const Anyuan__V1__HazardUpdate *u = (const Anyuan__V1__HazardUpdate *)it->msg;
        ok = ay_json_str(o, "status",
                         enum_name(&anyuan__v1__hazard_status__descriptor, u->status)) &&
             ay_json_str(o, "from",
                         enum_name(&anyuan__v1__hazard_status__descriptor, it->hazard_from)) &&
             ay_json_str(o, "by", u->by ? u->by->name : "") &&
             ay_json_time(o, "at", ay_time_to_us(u->at->seconds, u->at->nanos)) &&
             (u->new_deadline == NULL ||
              ay_json_time(o, "new_deadline",
                           ay_time_to_us(u->new_deadline->seconds, u->new_deadline->nanos)));
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* An audit row per step (hazard.registered, hazard.rectifying, ...): who
 * (the name the message gives; actor: the account that sent it), when and
 * from which status; the hazard's history is also hazard_events. */
static enum ay_err audit_hazards(struct ay_pg *db, struct recorder_item **items, size_t n,
                                 char err[AY_ERRLEN])
{
    struct ay_audit *rows = calloc(n + 1, sizeof(*rows));
    char **details = calloc(n + 1, sizeof(*details));
    char(*actions)[40] = calloc(n + 1, sizeof(*actions));
    enum ay_err rc = AY_ERR_NOMEM;
    size_t k = 0;
    bool ok = rows != NULL && details != NULL && actions != NULL;

    for (size_t i = 0; ok && i < n; i++) {
        const struct recorder_item *it = items[i];
        bool report = stored_as(it, "hazard");
        if (!report && !stored_as(it, "hazard-update"))
            continue;
        details[k] = ay_json_print_free(hazard_detail(it));
        ok = details[k] != NULL;
        hazard_action(report ? ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_REGISTERED
                             : ((const Anyuan__V1__HazardUpdate *)it->msg)->status,
                      actions[k], sizeof(actions[k]));
        rows[k] = (struct ay_audit){it->where.district,
                                    it->where.school,
                                    report ? it->msg_id : recorder_hazard_ref(it),
                                    NULL,
                                    0,
                                    actions[k],
                                    details[k],
                                    it->where.device};
        k++;
    }
    if (ok)
        rc = k > 0 ? ay_escalate_store_audit(db, rows, k, "recorder", err) : AY_OK;
    for (size_t i = 0; details != NULL && i < k; i++)
        free(details[i]);
    free(rows);
    free(details);
    free(actions);
    return rc;
}

static enum ay_err apply_domain(struct ay_pg *db, struct recorder_item **items, size_t n,
                                char err[AY_ERRLEN])
{
    const char **ids = calloc(n + 1, sizeof(*ids));
    enum ay_err rc = ids ? AY_OK : AY_ERR_NOMEM;

    for (size_t d = 0; rc == AY_OK && d < sizeof(domain) / sizeof(domain[0]); d++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (items[i]->outcome == RECORDER_STORED &&
                strcmp(items[i]->type->name, domain[d].type) == 0)
                ids[k++] = items[i]->msg_id;
        if (k == 0)
            continue;
        if (strcmp(domain[d].type, "status") == 0)
            rc = upsert_status(db, domain[d].stmt, ids, k, items, n, err);
        else if (strncmp(domain[d].type, "hazard", 6) == 0)
            rc = insert_hazard_rows(db, domain[d].stmt, domain[d].type, items, n, err);
        else
            rc = exec_ids(db, domain[d].stmt, ids, k, NULL, err);
        if (rc == AY_OK && domain[d].follow_up)
            rc = exec_ids(db, domain[d].follow_up, ids, k, NULL, err);
    }
    free(ids);
    if (rc == AY_OK)
        rc = end_absences(db, items, n, err);
    if (rc == AY_OK)
        rc = update_hazards(db, items, n, err);
    if (rc == AY_OK)
        rc = audit_hazards(db, items, n, err);
    return rc;
}

static cJSON *deadline_row(const struct recorder_item *it, const struct recorder_deadline *d)
{
    static const char *const actions[] = {"start", "met", "meet", "move", "reopen", "cancel"};
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL &&
              ay_json_str(o, "kind", enum_name(&anyuan__v1__deadline_kind__descriptor, d->kind)) &&
              ay_json_str(o, "subject_id", d->subject_id) && ay_json_num(o, "seq", d->seq) &&
              (d->due_us <= 0 || ay_json_time(o, "due_at", d->due_us));
    if (ok && (d->action == RECORDER_DL_START || d->action == RECORDER_DL_MET)) {
        bool met = d->action == RECORDER_DL_MET;
        ok = ay_json_str(o, "subject_kind",
                         enum_name(&anyuan__v1__subject_kind__descriptor, d->subject_kind)) &&
             ay_json_str(o, "district_id", it->where.district) &&
             ay_json_str(o, "school_id", it->where.school) &&
             ay_json_str(o, "created_by", it->msg_id) &&
             (d->period[0] == '\0' || ay_json_str(o, "period", d->period)) &&
             ay_json_str(o, "status", met ? "met" : "pending") &&
             (!met || (ay_json_str(o, "met_by", it->msg_id) &&
                       ay_json_time(o, "closed_at", it->received_us)));
    } else if (ok) {
        ok = ay_json_str(o, "action", actions[d->action]) && ay_json_str(o, "by", it->msg_id) &&
             ay_json_time(o, "at", it->received_us);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/*
 * Audit rows for what the deadline statements changed (their RETURNING
 * rows: id, kind, subject, district, school, status, due, late_s, the
 * message, and for changes the action): every state change of a deadline
 * leaves a trace, with the message that caused it.
 */
static enum ay_err audit_deadlines(struct ay_pg *db, const struct ay_pg_result *res, bool changes,
                                   char err[AY_ERRLEN])
{
    int n = ay_pg_nrows(res);
    struct ay_audit *rows = calloc((size_t)n + 1, sizeof(*rows));
    char(*details)[200] = calloc((size_t)n + 1, sizeof(*details));
    char(*actions)[32] = calloc((size_t)n + 1, sizeof(*actions));
    enum ay_err rc = AY_ERR_NOMEM;

    if (rows != NULL && details != NULL && actions != NULL) {
        for (int r = 0; r < n; r++) {
            int64_t id = 0;
            const char *status = ay_pg_value(res, r, 5);
            (void)ay_pg_int64(res, r, 0, &id);
            if (changes)
                snprintf(actions[r], sizeof(actions[r]), "deadline.%s",
                         strcmp(ay_pg_value(res, r, 9), "meet") == 0 ? "met"
                                                                     : ay_pg_value(res, r, 9));
            else
                snprintf(actions[r], sizeof(actions[r]), "deadline.%s",
                         strcmp(status, "met") == 0 ? "met" : "started");
            snprintf(details[r], sizeof(details[r]),
                     "{\"kind\":\"%s\",\"status\":\"%s\",\"late_s\":%s,\"by\":\"%s\"}",
                     ay_pg_value(res, r, 1), status, ay_pg_value(res, r, 7),
                     ay_pg_value(res, r, 8));
            rows[r] = (struct ay_audit){ay_pg_value(res, r, 3),
                                        ay_pg_value(res, r, 4),
                                        ay_pg_value(res, r, 2),
                                        NULL,
                                        id,
                                        actions[r],
                                        details[r],
                                        NULL};
        }
        rc = ay_escalate_store_audit(db, rows, (size_t)n, "recorder", err);
    }
    free(rows);
    free(details);
    free(actions);
    return rc;
}

/* A periodic report's deadline already among rows (two reports of one
 * period in a batch: the first counts). */
static bool has_subject(const cJSON *rows, const struct recorder_deadline *d)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, rows)
    {
        const cJSON *subject = cJSON_GetObjectItemCaseSensitive(r, "subject_id");
        if (cJSON_IsString(subject) && strcasecmp(subject->valuestring, d->subject_id) == 0)
            return true;
    }
    return false;
}

/* Runs one deadline statement (rows taken) and writes its audit rows; the
 * escalations of deadlines it left met (missed before: a late report) end. */
static enum ay_err run_deadlines(struct ay_pg *db, const char *stmt, cJSON *rows, bool changes,
                                 char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    if (cJSON_GetArraySize(rows) == 0) {
        cJSON_Delete(rows);
        return AY_OK;
    }
    enum ay_err rc = exec_json(db, stmt, rows, NULL, &res, err);
    if (rc == AY_OK)
        rc = audit_deadlines(db, res, changes, err);
    if (rc == AY_OK) {
        const char **batch = calloc((size_t)ay_pg_nrows(res) + 1, sizeof(*batch));
        size_t k = 0;
        if (batch == NULL)
            rc = AY_ERR_NOMEM;
        for (int r = 0; rc == AY_OK && r < ay_pg_nrows(res); r++)
            if (strcmp(ay_pg_value(res, r, 5), "met") == 0)
                batch[k++] = ay_pg_value(res, r, 0);
        /* Escalations of deadlines missed and now met: resolved, told. */
        if (rc == AY_OK && k > 0)
            rc = exec_ids(db, "resolve_met", batch, k, NULL, err);
        free(batch);
    }
    ay_pg_result_free(res);
    return rc;
}

/* New deadlines and changes to existing ones, planned by recorder.c. A
 * periodic report's deadline created met goes through insert_periodic: the
 * watchdog may have scheduled it since the batch looked (then it is met). */
static enum ay_err apply_deadlines(struct ay_pg *db, struct recorder_item **items, size_t n,
                                   char err[AY_ERRLEN])
{
    cJSON *created = cJSON_CreateArray();
    cJSON *periodic = cJSON_CreateArray();
    cJSON *changed = cJSON_CreateArray();
    bool ok = created != NULL && periodic != NULL && changed != NULL;
    enum ay_err rc = AY_OK;

    for (size_t i = 0; ok && i < n; i++) {
        struct recorder_item *it = items[i];
        for (int k = 0; ok && it->outcome == RECORDER_STORED && k < it->ndeadlines; k++) {
            const struct recorder_deadline *d = &it->deadlines[k];
            bool create = d->action == RECORDER_DL_START || d->action == RECORDER_DL_MET;
            cJSON *to = !create ? changed : d->period[0] ? periodic : created;
            if (to == periodic && has_subject(periodic, d))
                continue;
            ok = ay_json_push(to, deadline_row(it, d));
        }
    }
    if (!ok) {
        cJSON_Delete(created);
        cJSON_Delete(periodic);
        cJSON_Delete(changed);
        return AY_ERR_NOMEM;
    }
    rc = run_deadlines(db, "insert_deadlines", created, false, err);
    if (rc == AY_OK)
        rc = run_deadlines(db, "insert_periodic", periodic, false, err);
    else
        cJSON_Delete(periodic);
    if (rc == AY_OK)
        rc = run_deadlines(db, "update_deadlines", changed, true, err);
    else
        cJSON_Delete(changed);
    return rc;
}

/* Escalations the stored messages cause (routing, late deadlines), with
 * the message: whatever creates an obligation commits with its cause. */
static enum ay_err apply_escalations(struct ay_pg *db, struct recorder_item **items, size_t n,
                                     char err[AY_ERRLEN])
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i]->outcome == RECORDER_STORED)
            total += (size_t)items[i]->nplans;
    if (total == 0)
        return AY_OK;
    struct ay_esc_plan *all = malloc(total * sizeof(*all));
    if (all == NULL)
        return AY_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; items[i]->outcome == RECORDER_STORED && j < items[i]->nplans; j++)
            all[k++] = items[i]->plans[j];
    enum ay_err rc = ay_escalate_store(db, all, k, "recorder", NULL, err);
    free(all);
    return rc;
}

/* ---- dead letters ---------------------------------------------------------- */

static enum ay_err insert_dead_letters(struct ay_pg *db, struct recorder_item **items, size_t n,
                                       int cap, char err[AY_ERRLEN])
{
    struct ay_dead_letter *rows = calloc(n + 1, sizeof(*rows));
    size_t k = 0;

    if (rows == NULL)
        return AY_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct recorder_item *it = items[i];
        if (it->outcome != RECORDER_REJECTED)
            continue;
        bool school = it->topic_ok && it->where.cls == AY_TOPIC_SCHOOL;
        rows[k++] = (struct ay_dead_letter){it->received_us,
                                            it->topic,
                                            it->topic_ok ? it->where.district : NULL,
                                            school ? it->where.school : NULL,
                                            school ? it->where.device : NULL,
                                            it->msg_id,
                                            it->reason,
                                            it->payload,
                                            it->len,
                                            ay_wire_name(it->wire),
                                            it->content_type};
    }
    enum ay_err rc = ay_escalate_store_dead_letters(db, rows, k, cap, err);
    free(rows);
    return rc;
}

/* ---- the transactions -------------------------------------------------------- */

enum ay_err recorder_store_batch(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct recorder_batch *b = arg;
    struct recorder_facts f;
    size_t raced = 0;
    enum ay_err rc;

    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < b->n; i++)
        b->items[i]->outcome = b->items[i]->decoded;
    rc = load_facts(db, b->items, b->n, &f, b->zones, err);
    if (rc == AY_OK) {
        recorder_decide(b->items, b->n, &f);
        rc = insert_messages(db, b->items, b->n, &raced, err);
    }
    recorder_facts_cleanup(&f);
    if (rc == AY_OK && raced > 0)
        rc = resolve_conflicts(db, b->items, b->n, err);
    /* Copies of an id stored by this batch point at the same record. */
    for (size_t i = 0; rc == AY_OK && i < b->n; i++) {
        struct recorder_item *it = b->items[i];
        if (it->outcome == RECORDER_DUPLICATE && it->copy_of) {
            it->record_id = it->copy_of->record_id;
            it->stored_us = it->copy_of->stored_us;
        }
    }
    if (rc == AY_OK)
        rc = apply_domain(db, b->items, b->n, err);
    if (rc == AY_OK)
        rc = apply_deadlines(db, b->items, b->n, err);
    if (rc == AY_OK)
        rc = apply_escalations(db, b->items, b->n, err);
    if (rc == AY_OK)
        rc = insert_dead_letters(db, b->items, b->n, b->dead_letter_cap, err);
    return rc;
}

enum ay_err recorder_store_dead_letters(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct recorder_batch *b = arg;
    return insert_dead_letters(db, b->items, b->n, b->dead_letter_cap, err);
}
