/*
 * store.c - the watchdog's reads and writes; see store.h.
 *
 * Shape of every transaction: claim or load (SQL), decide (watchdog.c,
 * lib/ay_escalation, lib/ay_escalate: pure), write (SQL). Ids go in as
 * PostgreSQL arrays, rows as one jsonb array.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "anyuan/v1/outbound.pb-c.h"
#include "ay_json.h"
#include "ay_log.h"
#include "ay_report.h"
#include "ay_schema.h"
#include "ay_text.h"
#include "ay_tz.h"
#include "ay_uuid.h"

/* ---- helpers ------------------------------------------------------------- */

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

/* Runs stmt with rows as its one jsonb parameter; rows is freed in every
 * case. *out (when not NULL) gets the statement's rows. */
static enum ay_err exec_json(struct ay_pg *db, const char *stmt, cJSON *rows,
                             struct ay_pg_result **out, char err[AY_ERRLEN])
{
    char *text = ay_json_print_free(rows);
    if (text == NULL)
        return AY_ERR_NOMEM;
    const char *params[1] = {text};
    enum ay_err rc = ay_pg_exec_prepared(db, stmt, 1, params, NULL, NULL, out, err);
    free(text);
    return rc;
}

/* Claims at most WATCHDOG_CLAIM_MAX rows with stmt, whose $1 is that limit. */
static enum ay_err claim(struct ay_pg *db, const char *stmt, struct ay_pg_result **res,
                         char err[AY_ERRLEN])
{
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", WATCHDOG_CLAIM_MAX);
    const char *params[1] = {limit};
    return ay_pg_exec_prepared(db, stmt, 1, params, NULL, NULL, res, err);
}

static bool cell(const struct ay_pg_result *r, int row, int col, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s", ay_pg_value(r, row, col));
    return n >= 0 && (size_t)n < cap;
}

static int enum_value(const ProtobufCEnumDescriptor *d, const char *name)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(d, name);
    return v ? v->value : 0;
}

static bool audience_of(const char *enum_name, enum ay_audience *out)
{
    for (int a = 0; a < AY_AUDIENCE_COUNT; a++) {
        if (strcmp(ay_audience_enum_name((enum ay_audience)a), enum_name) == 0) {
            *out = (enum ay_audience)a;
            return true;
        }
    }
    return false;
}

/* The policy of a district from its document; the defaults if it is absent
 * or (which ayctl prevents) invalid. */
static void policy_of(const char *doc, struct ay_district_policy *p)
{
    char err[AY_ERRLEN] = "";
    if (ay_policy_from_json(doc, strlen(doc), p, err) != AY_OK) {
        ay_log_warn("invalid district policy in the database, using the defaults", "err", err,
                    NULL);
        ay_policy_defaults(p);
    }
}

/* Columns of claim_escalations.sql and load_ack_targets.sql. */
static enum ay_err esc_row(const struct ay_pg_result *r, int row, struct watchdog_esc *e,
                           char err[AY_ERRLEN])
{
    int64_t level = 0, reesc = 0, supervise = 0;
    memset(e, 0, sizeof(*e));
    if (!cell(r, row, 0, e->id, sizeof(e->id)) ||
        !cell(r, row, 1, e->district, sizeof(e->district)) ||
        !cell(r, row, 2, e->school, sizeof(e->school)) ||
        !audience_of(ay_pg_value(r, row, 3), &e->audience) ||
        !ay_esc_status_parse(ay_pg_value(r, row, 4), &e->state.status) ||
        !ay_pg_int64(r, row, 5, &level) || !ay_pg_int64(r, row, 6, &e->state.level_since_us) ||
        !ay_pg_int64(r, row, 7, &e->state.last_notified_us) ||
        !ay_pg_int64(r, row, 8, &e->state.acked_at_us) || !ay_pg_int64(r, row, 9, &reesc) ||
        !cell(r, row, 11, e->subject_id, sizeof(e->subject_id)) ||
        !ay_pg_int64(r, row, 12, &e->now_us) || !ay_pg_int64(r, row, 14, &supervise))
        return ay_pg_bad_row("escalation", row, err);
    e->reason = enum_value(&anyuan__v1__escalation_reason__descriptor, ay_pg_value(r, row, 13));
    e->state.level = (int)level;
    e->state.reescalate_after_s = reesc;
    e->state.supervise_s = supervise;
    return ay_escalate_chain_parse(ay_pg_value(r, row, 10), &e->state.chain, err);
}

/* The update of one escalation's state (update_escalations.sql). */
static bool esc_update_row(cJSON *rows, const struct watchdog_esc *e, const char *ack_kind,
                           const char *acked_by)
{
    cJSON *o = cJSON_CreateObject();
    int64_t next = ay_esc_next_action_us(&e->state);
    int64_t ack_due = ay_esc_ack_due_us(&e->state);
    bool ok = o != NULL && ay_json_str(o, "id", e->id) &&
              ay_json_str(o, "status", ay_esc_status_name(e->state.status)) &&
              ay_json_num(o, "level", e->state.level) &&
              ay_json_time(o, "level_since", e->state.level_since_us) &&
              ay_json_time(o, "last_notified_at", e->state.last_notified_us) &&
              (next == 0 || ay_json_time(o, "next_action_at", next)) &&
              (ack_due == 0 || ay_json_time(o, "ack_due_at", ack_due)) &&
              (e->state.acked_at_us == 0 || ay_json_time(o, "acked_at", e->state.acked_at_us)) &&
              ay_json_str(o, "ack_kind", ack_kind) && ay_json_str(o, "acked_by", acked_by);
    return ay_json_push(rows, o) && ok;
}

/* The writes of a firing: the escalations planned, then an audit row for
 * each of the f->fired firings. */
static enum ay_err fire_store(struct ay_pg *db, struct watchdog_fire *f,
                              const struct ay_esc_plan *plans, size_t nplans,
                              const struct ay_audit *audit, char err[AY_ERRLEN])
{
    int stored = 0;
    enum ay_err rc = ay_escalate_store(db, plans, nplans, f->actor, &stored, err);
    if (rc == AY_OK)
        rc = ay_escalate_store_audit(db, audit, f->fired, f->actor, err);
    f->escalated = (size_t)stored;
    return rc;
}

/* ---- deadlines ------------------------------------------------------------------ */

static const char *deadline_kind_name(int v)
{
    const ProtobufCEnumValue *ev =
        protobuf_c_enum_descriptor_get_value(&anyuan__v1__deadline_kind__descriptor, v);
    return ev ? ev->name : "DEADLINE_KIND_UNSPECIFIED";
}

/* One claimed deadline, read and decided. */
struct claimed {
    long long id;
    char id_text[24];
    char subject_id[AY_UUID_STRLEN];
    char district[AY_ID_MAX];
    char school[AY_ID_MAX];
    int kind;
    int64_t due_us;
};

static enum ay_err plan_missed(const struct ay_pg_result *res, int r, struct watchdog_fire *f,
                               struct claimed *c, struct ay_esc_plan *plans, size_t *nplans,
                               char err[AY_ERRLEN])
{
    struct ay_district_policy pol;
    struct ay_esc_subject s;
    struct ay_esc_missed m;
    int64_t id = 0, seq = 0, now = 0;
    enum ay_route_kind route;
    int reason;

    memset(&s, 0, sizeof(s));
    memset(&m, 0, sizeof(m));
    if (!ay_pg_int64(res, r, 0, &id) || !cell(res, r, 3, c->subject_id, sizeof(c->subject_id)) ||
        !ay_pg_int64(res, r, 4, &seq) || !cell(res, r, 5, c->district, sizeof(c->district)) ||
        !cell(res, r, 6, c->school, sizeof(c->school)) || !ay_pg_int64(res, r, 7, &c->due_us) ||
        !ay_pg_int64(res, r, 14, &now))
        return ay_pg_bad_row("claim_deadlines", r, err);
    c->id = id;
    snprintf(c->id_text, sizeof(c->id_text), "%lld", c->id);
    c->kind = enum_value(&anyuan__v1__deadline_kind__descriptor, ay_pg_value(res, r, 1));
    policy_of(ay_pg_value(res, r, 8), &pol);
    s.subject_kind = enum_value(&anyuan__v1__subject_kind__descriptor, ay_pg_value(res, r, 2));
    snprintf(s.subject_id, sizeof(s.subject_id), "%s", c->subject_id);
    snprintf(s.district, sizeof(s.district), "%s", c->district);
    snprintf(s.school, sizeof(s.school), "%s", c->school);
    snprintf(s.school_zh, sizeof(s.school_zh), "%s", ay_pg_value(res, r, 9));
    snprintf(s.school_en, sizeof(s.school_en), "%s", ay_pg_value(res, r, 10));
    s.severity = enum_value(&anyuan__v1__severity__descriptor, ay_pg_value(res, r, 12));
    ay_escalate_words(s.subject_kind, ay_pg_value(res, r, 11), ay_pg_value(res, r, 12),
                      ay_pg_value(res, r, 13), "", ay_pg_value(res, r, 15), &s);
    m.have = true;
    m.kind = c->kind;
    snprintf(m.subject_id, sizeof(m.subject_id), "%s", c->subject_id);
    m.seq = (int)seq;
    m.due_us = c->due_us;
    watchdog_missed_route(c->kind, &route, &reason);
    int32_t offset = ay_tz_offset_s(ay_tzcache_get(f->zones, pol.timezone), c->due_us);
    *nplans +=
        (size_t)ay_escalate_plan(&pol, route, reason, &s, &m, offset, now, 0, plans + *nplans);
    return AY_OK;
}

enum ay_err watchdog_store_fire_deadlines(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct watchdog_fire *f = arg;
    struct ay_pg_result *res = NULL;
    struct ay_pg_result *marked = NULL;
    struct claimed *c = NULL;
    struct ay_esc_plan *plans = NULL;
    struct ay_audit *audit = NULL;
    const char **ids = NULL;
    char(*details)[160] = NULL;
    size_t nplans = 0;
    enum ay_err rc;

    f->fired = 0;
    f->escalated = 0;
    f->event = "deadline missed";
    rc = claim(db, "claim_deadlines", &res, err);
    if (rc != AY_OK)
        return rc;
    int n = ay_pg_nrows(res);
    if (n == 0)
        goto cleanup;
    c = calloc((size_t)n, sizeof(*c));
    plans = calloc((size_t)n * AY_AUDIENCE_COUNT, sizeof(*plans));
    ids = calloc((size_t)n, sizeof(*ids));
    audit = calloc((size_t)n, sizeof(*audit));
    details = calloc((size_t)n, sizeof(*details));
    rc = AY_ERR_NOMEM;
    if (c == NULL || plans == NULL || ids == NULL || audit == NULL || details == NULL)
        goto cleanup;
    rc = AY_OK;
    for (int r = 0; r < n && rc == AY_OK; r++) {
        rc = plan_missed(res, r, f, &c[r], plans, &nplans, err);
        ids[r] = c[r].id_text;
    }
    if (rc == AY_OK)
        rc = exec_ids(db, "mark_missed", ids, (size_t)n, &marked, err);
    if (rc != AY_OK)
        goto cleanup;
    /* Lateness of each firing, and the audit rows. */
    for (int r = 0; r < ay_pg_nrows(marked) && f->fired < WATCHDOG_CLAIM_MAX; r++) {
        int64_t id = 0, late = 0;
        if (!ay_pg_int64(marked, r, 0, &id) || !ay_pg_int64(marked, r, 1, &late))
            continue;
        for (int k = 0; k < n; k++) {
            if (c[k].id != id)
                continue;
            snprintf(details[f->fired], sizeof(details[0]),
                     "{\"kind\":\"%s\",\"lateness_ms\":%lld}", deadline_kind_name(c[k].kind),
                     (long long)(late / 1000));
            audit[f->fired] =
                (struct ay_audit){c[k].district, c[k].school,       c[k].subject_id,   NULL,
                                  c[k].id,       "deadline.missed", details[f->fired], NULL};
            snprintf(f->who[f->fired].district, AY_ID_MAX, "%.32s", c[k].district);
            snprintf(f->who[f->fired].school, AY_ID_MAX, "%.32s", c[k].school);
            snprintf(f->who[f->fired].id, sizeof(f->who[0].id), "%.30s %s",
                     deadline_kind_name(c[k].kind) + 14, c[k].subject_id);
            f->who[f->fired].kind = "deadline";
            break;
        }
        f->lateness_us[f->fired++] = late;
    }
    rc = fire_store(db, f, plans, nplans, audit, err);
cleanup:
    ay_pg_result_free(res);
    ay_pg_result_free(marked);
    free(c);
    free(plans);
    free(ids);
    free(audit);
    free(details);
    return rc;
}

/* ---- silent devices ----------------------------------------------------------------- */

/* One claimed silent device, decided: its absence (episode) and the
 * escalations that tell of it. */
static enum ay_err plan_silent(const struct ay_pg_result *res, int r, struct watchdog_fire *f,
                               char episode[AY_UUID_STRLEN], struct ay_esc_plan *plans,
                               size_t *nplans, char err[AY_ERRLEN])
{
    struct ay_district_policy pol;
    struct ay_esc_subject s;
    int64_t due = 0, now = 0;

    episode[0] = '\0';
    if (!ay_pg_int64(res, r, 3, &due) || !ay_pg_int64(res, r, 9, &now))
        return ay_pg_bad_row("claim_silent", r, err);
    if (strcmp(ay_pg_value(res, r, 8), "t") != 0)
        return AY_OK; /* disabled in the registry: no longer supervised */
    if (ay_uuid_v4(episode) != AY_OK)
        return AY_ERR_IO;
    policy_of(ay_pg_value(res, r, 4), &pol);
    memset(&s, 0, sizeof(s));
    s.subject_kind = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_DEVICE;
    snprintf(s.subject_id, sizeof(s.subject_id), "%s", episode);
    snprintf(s.district, sizeof(s.district), "%s", ay_pg_value(res, r, 2));
    snprintf(s.school, sizeof(s.school), "%s", ay_pg_value(res, r, 1));
    snprintf(s.school_zh, sizeof(s.school_zh), "%s", ay_pg_value(res, r, 5));
    snprintf(s.school_en, sizeof(s.school_en), "%s", ay_pg_value(res, r, 6));
    ay_escalate_words(s.subject_kind, "", "", "", ay_pg_value(res, r, 0), ay_pg_value(res, r, 7),
                      &s);
    int32_t offset = ay_tz_offset_s(ay_tzcache_get(f->zones, pol.timezone), due);
    *nplans += (size_t)ay_escalate_plan(
        &pol, AY_ROUTE_DEVICE, ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_OFFLINE, &s,
        NULL, offset, now, 0, plans + *nplans);
    return AY_OK;
}

enum ay_err watchdog_store_fire_silent(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct watchdog_fire *f = arg;
    struct ay_pg_result *res = NULL;
    struct ay_pg_result *marked = NULL;
    struct ay_esc_plan *plans = NULL;
    struct ay_audit *audit = NULL;
    char(*episodes)[AY_UUID_STRLEN] = NULL;
    char(*details)[128] = NULL;
    cJSON *rows = NULL;
    size_t nplans = 0;
    enum ay_err rc;

    f->fired = 0;
    f->escalated = 0;
    f->event = "device silent: flagged offline";
    rc = claim(db, "claim_silent", &res, err);
    if (rc != AY_OK)
        return rc;
    int n = ay_pg_nrows(res);
    if (n == 0)
        goto cleanup;
    plans = calloc((size_t)n * AY_AUDIENCE_COUNT, sizeof(*plans));
    episodes = calloc((size_t)n, sizeof(*episodes));
    audit = calloc((size_t)n, sizeof(*audit));
    details = calloc((size_t)n, sizeof(*details));
    rows = cJSON_CreateArray();
    rc = AY_ERR_NOMEM;
    if (plans == NULL || episodes == NULL || audit == NULL || details == NULL || rows == NULL)
        goto cleanup;
    rc = AY_OK;
    for (int r = 0; r < n && rc == AY_OK; r++) {
        if ((rc = plan_silent(res, r, f, episodes[r], plans, &nplans, err)) != AY_OK)
            break;
        cJSON *o = cJSON_CreateObject();
        bool ok = o != NULL && ay_json_str(o, "device_id", ay_pg_value(res, r, 0)) &&
                  (episodes[r][0] == '\0' || ay_json_str(o, "episode_id", episodes[r]));
        if (!ay_json_push(rows, o) || !ok)
            rc = AY_ERR_NOMEM;
    }
    if (rc == AY_OK) {
        rc = exec_json(db, "mark_silent", rows, &marked, err);
        rows = NULL;
    }
    if (rc != AY_OK)
        goto cleanup;
    /* Lateness of each flag (after the gap ran out), and the audit rows. */
    for (int m = 0; m < ay_pg_nrows(marked) && f->fired < WATCHDOG_CLAIM_MAX; m++) {
        int64_t late = 0;
        int r = 0;
        while (r < n && strcmp(ay_pg_value(res, r, 0), ay_pg_value(marked, m, 0)) != 0)
            r++;
        if (r == n || episodes[r][0] == '\0' || !ay_pg_int64(marked, m, 1, &late))
            continue;
        snprintf(details[f->fired], sizeof(details[0]),
                 "{\"device\":\"%.48s\",\"lateness_ms\":%lld}", ay_pg_value(res, r, 0),
                 (long long)(late / 1000));
        audit[f->fired] =
            (struct ay_audit){ay_pg_value(res, r, 2), ay_pg_value(res, r, 1), episodes[r], NULL, 0,
                              "device.silent",        details[f->fired],      NULL};
        snprintf(f->who[f->fired].district, AY_ID_MAX, "%.32s", ay_pg_value(res, r, 2));
        snprintf(f->who[f->fired].school, AY_ID_MAX, "%.32s", ay_pg_value(res, r, 1));
        snprintf(f->who[f->fired].id, sizeof(f->who[0].id), "%.32s", ay_pg_value(res, r, 0));
        f->who[f->fired].kind = "device";
        f->lateness_us[f->fired++] = late;
    }
    rc = fire_store(db, f, plans, nplans, audit, err);
cleanup:
    cJSON_Delete(rows);
    ay_pg_result_free(res);
    ay_pg_result_free(marked);
    free(plans);
    free(episodes);
    free(audit);
    free(details);
    return rc;
}

/* ---- the report calendar ------------------------------------------------------------ */

static const char *deadline_kind_of_report(enum ay_report_kind k)
{
    return deadline_kind_name(ay_report_deadline_kind(k));
}

/* The rows of the reports one school owes (schedule_reports.sql). */
static bool schedule_school(cJSON *rows, const struct ay_pg_result *res, int r,
                            struct watchdog_schedule *w, int64_t now)
{
    struct ay_district_policy pol;
    struct ay_report_due due[AY_REPORT_EXPECTED_MAX];
    int64_t since = 0;
    const char *school = ay_pg_value(res, r, 0);
    const char *district = ay_pg_value(res, r, 1);

    (void)ay_pg_int64(res, r, 2, &since);
    policy_of(ay_pg_value(res, r, 3), &pol);
    const struct ay_tz *z = ay_tzcache_get(w->zones, pol.timezone);
    int n = z ? ay_report_expected(z, &pol, now, since, w->lookback_s, due) : 0;
    for (int i = 0; i < n; i++) {
        char subject[AY_UUID_STRLEN], period[16];
        if (ay_report_subject(district, school, &due[i].period, subject) != AY_OK)
            continue;
        snprintf(period, sizeof(period), "%04d-%02d-01", due[i].period.year, due[i].period.month);
        cJSON *o = cJSON_CreateObject();
        bool ok = o != NULL &&
                  ay_json_str(o, "kind", deadline_kind_of_report(due[i].period.kind)) &&
                  ay_json_str(o, "subject_id", subject) &&
                  ay_json_str(o, "district_id", district) && ay_json_str(o, "school_id", school) &&
                  ay_json_time(o, "due_at", due[i].due_us) && ay_json_str(o, "period", period);
        if (!ay_json_push(rows, o) || !ok)
            return false;
    }
    return true;
}

enum ay_err watchdog_store_schedule(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct watchdog_schedule *w = arg;
    struct ay_pg_result *res = NULL;
    struct ay_pg_result *made = NULL;
    int64_t now = 0;

    w->scheduled = 0;
    enum ay_err rc = ay_pg_exec_prepared(db, "load_schedule", 0, NULL, NULL, NULL, &res, err);
    if (rc != AY_OK)
        return rc;
    cJSON *rows = cJSON_CreateArray();
    bool ok = rows != NULL;
    for (int r = 0; ok && r < ay_pg_nrows(res); r++) {
        if (now == 0 && !ay_pg_int64(res, r, 4, &now))
            break;
        ok = schedule_school(rows, res, r, w, now);
    }
    if (!ok) {
        cJSON_Delete(rows);
        rc = AY_ERR_NOMEM;
    } else if (cJSON_GetArraySize(rows) > 0) {
        char *text = ay_json_print_free(rows);
        const char *params[1] = {text};
        rc = text ? ay_pg_exec_prepared(db, "schedule_reports", 1, params, NULL, NULL, &made, err)
                  : AY_ERR_NOMEM;
        free(text);
        w->scheduled = (size_t)ay_pg_nrows(made);
    } else {
        cJSON_Delete(rows);
    }
    ay_pg_result_free(res);
    ay_pg_result_free(made);
    return rc;
}

/* ---- escalation timers ------------------------------------------------------------ */

static const char *const notify_actions[] = {"", "notification.first", "escalation.reminder",
                                             "escalation.climbed", "escalation.reescalated"};

enum ay_err watchdog_store_fire_escalations(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct watchdog_timers *t = arg;
    struct ay_pg_result *res = NULL;
    struct watchdog_esc *e = NULL;
    struct ay_esc_note_row *notes = NULL;
    char(*note_ids)[AY_UUID_STRLEN] = NULL;
    struct ay_audit *audit = NULL;
    const char **renotified = NULL;
    char(*details)[96] = NULL;
    cJSON *updates = NULL;
    size_t nnotes = 0;
    enum ay_err rc;

    t->acted = 0;
    t->notified = 0;
    rc = claim(db, "claim_escalations", &res, err);
    if (rc != AY_OK)
        return rc;
    int n = ay_pg_nrows(res);
    if (n == 0)
        goto cleanup;
    e = calloc((size_t)n, sizeof(*e));
    notes = calloc((size_t)n, sizeof(*notes));
    note_ids = calloc((size_t)n, sizeof(*note_ids));
    audit = calloc((size_t)n, sizeof(*audit));
    renotified = calloc((size_t)n, sizeof(*renotified));
    details = calloc((size_t)n, sizeof(*details));
    updates = cJSON_CreateArray();
    rc = AY_ERR_NOMEM;
    if (!e || !notes || !note_ids || !audit || !renotified || !details || !updates)
        goto cleanup;
    rc = AY_OK;
    bool ok = true;
    for (int r = 0; r < n && rc == AY_OK && ok; r++) {
        struct ay_esc_notice out;
        int k = 0;
        if ((rc = esc_row(res, r, &e[r], err)) != AY_OK)
            break;
        ay_esc_on_timer(&e[r].state, e[r].now_us, &out, &k);
        ok = esc_update_row(updates, &e[r], NULL, NULL);
        t->acted++;
        if (k == 0)
            continue;
        if (ay_uuid_v4(note_ids[nnotes]) != AY_OK) {
            rc = AY_ERR_IO;
            break;
        }
        notes[nnotes] = (struct ay_esc_note_row){
            note_ids[nnotes], e[r].id,       e[r].district,
            e[r].audience,    out.level,     e[r].state.chain.steps[out.level - 1].target,
            out.kind,         out.ack_due_us};
        snprintf(details[nnotes], sizeof(details[0]), "{\"level\":%d}", out.level);
        audit[nnotes] = (struct ay_audit){e[r].district,   e[r].school, e[r].subject_id,
                                          e[r].id,         0,           notify_actions[out.kind],
                                          details[nnotes], NULL};
        renotified[nnotes] = e[r].id;
        nnotes++;
    }
    if (rc == AY_OK && !ok)
        rc = AY_ERR_NOMEM;
    if (rc != AY_OK)
        goto cleanup;
    rc = exec_json(db, "update_escalations", updates, NULL, err);
    updates = NULL;
    if (rc == AY_OK && nnotes > 0)
        rc = exec_ids(db, "supersede_notifications", renotified, nnotes, NULL, err);
    if (rc == AY_OK)
        rc = ay_escalate_store_notes(db, notes, nnotes, err);
    if (rc == AY_OK)
        rc = ay_escalate_store_audit(db, audit, nnotes, t->actor, err);
    if (rc == AY_OK)
        t->notified = nnotes;
cleanup:
    cJSON_Delete(updates);
    ay_pg_result_free(res);
    free(e);
    free(notes);
    free(note_ids);
    free(audit);
    free(renotified);
    free(details);
    return rc;
}

enum ay_err watchdog_store_next_due(struct ay_pg *db, int64_t *ms, bool *none, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    enum ay_err rc = ay_pg_exec_prepared(db, "next_due", 0, NULL, NULL, NULL, &res, err);
    if (rc != AY_OK)
        return rc;
    *none = ay_pg_nrows(res) < 1 || ay_pg_is_null(res, 0, 0);
    if (!*none && !ay_pg_int64(res, 0, 0, ms))
        rc = ay_pg_bad_row("next_due", 0, err);
    ay_pg_result_free(res);
    return rc;
}

/* ---- the sender --------------------------------------------------------------------- */

enum ay_err watchdog_store_claim_notes(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct watchdog_claim *c = arg;
    struct ay_pg_result *res = NULL;
    char limit[16], lease[16];

    c->n = 0;
    snprintf(limit, sizeof(limit), "%d", WATCHDOG_CLAIM_MAX);
    snprintf(lease, sizeof(lease), "%d", c->lease_s);
    const char *params[2] = {limit, lease};
    enum ay_err rc =
        ay_pg_exec_prepared(db, "claim_notifications", 2, params, NULL, NULL, &res, err);
    if (rc != AY_OK)
        return rc;
    for (int r = 0; r < ay_pg_nrows(res) && c->n < WATCHDOG_CLAIM_MAX && rc == AY_OK; r++) {
        struct watchdog_note *n = &c->notes[c->n];
        int64_t level = 0;
        memset(n, 0, sizeof(*n));
        if (!cell(res, r, 0, n->id, sizeof(n->id)) ||
            !cell(res, r, 1, n->escalation_id, sizeof(n->escalation_id)) ||
            !cell(res, r, 2, n->district, sizeof(n->district)) ||
            !audience_of(ay_pg_value(res, r, 3), &n->audience) || !ay_pg_int64(res, r, 4, &level) ||
            !cell(res, r, 5, n->target, sizeof(n->target)) ||
            !ay_pg_int64(res, r, 7, &n->ack_due_us) ||
            !cell(res, r, 9, n->subject_id, sizeof(n->subject_id)) ||
            !ay_pg_int64(res, r, 17, &n->missed_due_us)) {
            rc = ay_pg_bad_row("claim_notifications", r, err);
            break;
        }
        n->level = (int)level;
        n->kind = enum_value(&anyuan__v1__notification_kind__descriptor, ay_pg_value(res, r, 6));
        n->subject_kind = enum_value(&anyuan__v1__subject_kind__descriptor, ay_pg_value(res, r, 8));
        snprintf(n->school, sizeof(n->school), "%s", ay_pg_value(res, r, 10));
        n->reason = enum_value(&anyuan__v1__escalation_reason__descriptor, ay_pg_value(res, r, 11));
        n->severity = enum_value(&anyuan__v1__severity__descriptor, ay_pg_value(res, r, 12));
        snprintf(n->summary_zh, sizeof(n->summary_zh), "%s", ay_pg_value(res, r, 13));
        snprintf(n->summary_en, sizeof(n->summary_en), "%s", ay_pg_value(res, r, 14));
        rc = ay_escalate_chain_parse(ay_pg_value(res, r, 15), &n->chain, err);
        n->missed_kind =
            enum_value(&anyuan__v1__deadline_kind__descriptor, ay_pg_value(res, r, 16));
        snprintf(n->school_zh, sizeof(n->school_zh), "%s", ay_pg_value(res, r, 18));
        (void)ay_pg_int64(res, r, 19, &n->late_s);
        snprintf(n->school_en, sizeof(n->school_en), "%s", ay_pg_value(res, r, 20));
        c->n++;
    }
    ay_pg_result_free(res);
    return rc;
}

enum ay_err watchdog_store_sent(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct watchdog_sent *s = arg;
    struct ay_pg_result *res = NULL;
    enum ay_err rc = AY_OK;

    if (s->nfailed > 0)
        rc = exec_ids(db, "release_leases", s->failed_ids, s->nfailed, NULL, err);
    if (rc != AY_OK || s->nok == 0)
        return rc;
    if ((rc = exec_ids(db, "mark_sent", s->ok_ids, s->nok, &res, err)) != AY_OK)
        return rc;
    int n = ay_pg_nrows(res);
    struct ay_audit *audit = calloc((size_t)n + 1, sizeof(*audit));
    char(*details)[128] = calloc((size_t)n + 1, sizeof(*details));
    if (audit == NULL || details == NULL) {
        rc = AY_ERR_NOMEM;
    } else {
        for (int r = 0; r < n; r++) {
            snprintf(details[r], sizeof(details[0]),
                     "{\"notification\":\"%s\",\"kind\":\"%s\",\"level\":%s,\"target\":\"%s\"}",
                     ay_pg_value(res, r, 0), ay_pg_value(res, r, 3), ay_pg_value(res, r, 4),
                     ay_pg_value(res, r, 5));
            audit[r] = (struct ay_audit){
                ay_pg_value(res, r, 2), NULL,       NULL, ay_pg_value(res, r, 1), 0,
                "notification.sent",    details[r], NULL};
        }
        rc = ay_escalate_store_audit(db, audit, (size_t)n, s->actor, err);
    }
    free(audit);
    free(details);
    ay_pg_result_free(res);
    return rc;
}

/* ---- acknowledgements ------------------------------------------------------------- */

static bool pending_ack(const struct watchdog_ack *a)
{
    return a->outcome == WATCHDOG_ACK_PENDING;
}

/* payload is protobuf whatever the form: the canonical encoding of a JSON
 * ack, whose bytes as received go to ack_originals (insert_acks.sql). */
static bool ack_wire_fields(cJSON *o, const struct watchdog_ack *a)
{
    uint8_t *pb = NULL;
    size_t pb_len = 0;
    char err[AY_ERRLEN];
    char ct[AY_ERRLEN];
    char *original = NULL;
    bool json = a->wire == AY_WIRE_JSON;

    if (json && ay_wire_encode(&a->msg->base, AY_WIRE_PROTOBUF, &pb, &pb_len, err) != AY_OK)
        return false;
    char *hex = json ? ay_text_hex_encode(pb, pb_len) : ay_text_hex_encode(a->payload, a->len);
    if (json)
        original = ay_text_hex_encode(a->payload, a->len);
    bool ok =
        hex != NULL && (!json || original != NULL) && ay_json_str(o, "payload", hex) &&
        ay_json_str(o, "wire_format", ay_wire_name(a->wire)) &&
        ay_json_str(o, "content_type",
                    a->content_type ? ay_text_sanitize(ct, sizeof(ct), a->content_type) : NULL) &&
        ay_json_str(o, "original", original);
    free(pb);
    free(hex);
    free(original);
    return ok;
}

static cJSON *ack_row(const struct watchdog_ack *a)
{
    const Anyuan__V1__Ack *m = a->msg;
    const ProtobufCEnumValue *kind =
        protobuf_c_enum_descriptor_get_value(&anyuan__v1__ack_kind__descriptor, m->kind);
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && kind != NULL && ack_wire_fields(o, a) &&
              ay_json_str(o, "message_id", a->msg_id) &&
              ay_json_str(o, "escalation_id", a->esc_id) && ay_json_str(o, "kind", kind->name) &&
              ay_json_time(o, "at", a->received_us) &&
              ay_json_str(o, "by_name", m->by ? m->by->name : "") &&
              ay_json_str(o, "by_account", a->where.device) && ay_json_str(o, "note", m->note) &&
              ay_json_str(o, "district_id", a->where.district) &&
              ay_json_str(o, "audience", a->where.kind);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

enum ay_err watchdog_store_acks(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct watchdog_acks *b = arg;
    struct ay_pg_result *res = NULL;
    struct watchdog_esc *e = NULL;
    const char **ids = calloc(b->n + 1, sizeof(*ids));
    const char **closed = calloc(b->n + 1, sizeof(*closed));
    struct ay_audit *audit = calloc(b->n + 1, sizeof(*audit));
    char(*details)[160] = calloc(b->n + 1, sizeof(*details));
    struct ay_dead_letter *dead = calloc(b->n + 1, sizeof(*dead));
    cJSON *rows = cJSON_CreateArray();
    cJSON *updates = cJSON_CreateArray();
    size_t k = 0, nclosed = 0, naudit = 0, ndead = 0, nesc = 0;
    enum ay_err rc = AY_ERR_NOMEM;

    if (!ids || !closed || !audit || !details || !dead || !rows || !updates)
        goto cleanup;
    for (size_t i = 0; i < b->n; i++)
        b->acks[i]->outcome = b->acks[i]->decoded;
    /* Re-sends: applied before, changed nothing now. */
    for (size_t i = 0; i < b->n; i++)
        if (pending_ack(b->acks[i]))
            ids[k++] = b->acks[i]->msg_id;
    if ((rc = exec_ids(db, "load_known_acks", ids, k, &res, err)) != AY_OK)
        goto cleanup;
    for (int r = 0; r < ay_pg_nrows(res); r++)
        for (size_t i = 0; i < b->n; i++)
            if (pending_ack(b->acks[i]) &&
                strcasecmp(b->acks[i]->msg_id, ay_pg_value(res, r, 0)) == 0)
                b->acks[i]->outcome = WATCHDOG_ACK_DUPLICATE;
    ay_pg_result_free(res);
    res = NULL;
    /* A school's: the school of the device acknowledging, from the registry. */
    k = 0;
    for (size_t i = 0; i < b->n; i++) {
        b->acks[i]->school[0] = '\0';
        if (pending_ack(b->acks[i]) && watchdog_ack_is_school(b->acks[i]))
            ids[k++] = b->acks[i]->where.device;
    }
    if (k > 0 && (rc = exec_ids(db, "load_ack_devices", ids, k, &res, err)) != AY_OK)
        goto cleanup;
    for (int r = 0; r < ay_pg_nrows(res); r++)
        for (size_t i = 0; i < b->n; i++)
            if (watchdog_ack_is_school(b->acks[i]) &&
                strcmp(b->acks[i]->where.device, ay_pg_value(res, r, 0)) == 0 &&
                !cell(res, r, 1, b->acks[i]->school, sizeof(b->acks[i]->school)))
                b->acks[i]->school[0] = '\0';
    ay_pg_result_free(res);
    res = NULL;
    /* The escalations they acknowledge, locked. */
    k = 0;
    for (size_t i = 0; i < b->n; i++)
        if (pending_ack(b->acks[i]) && ay_schema_uuid_is_valid(b->acks[i]->msg->escalation_id))
            ids[k++] = b->acks[i]->msg->escalation_id;
    if ((rc = exec_ids(db, "load_ack_targets", ids, k, &res, err)) != AY_OK)
        goto cleanup;
    nesc = (size_t)ay_pg_nrows(res);
    e = calloc(nesc + 1, sizeof(*e));
    if (e == NULL) {
        rc = AY_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t r = 0; r < nesc && rc == AY_OK; r++)
        rc = esc_row(res, (int)r, &e[r], err);
    if (rc != AY_OK)
        goto cleanup;
    bool ok = true;
    for (size_t i = 0; i < b->n && ok; i++) {
        struct watchdog_ack *a = b->acks[i];
        if (pending_ack(a)) {
            struct watchdog_esc *t = watchdog_ack_target(a, e, nesc);
            watchdog_ack_apply(a, t);
            if (a->outcome == WATCHDOG_ACK_STORED) {
                ok = ay_json_push(rows, ack_row(a));
                if (a->changed) {
                    const ProtobufCEnumValue *kv = protobuf_c_enum_descriptor_get_value(
                        &anyuan__v1__ack_kind__descriptor, a->msg->kind);
                    ok = ok && esc_update_row(updates, t, kv ? kv->name : NULL, a->where.device);
                    closed[nclosed++] = t->id;
                }
                size_t j = naudit++;
                snprintf(details[j], sizeof(details[0]),
                         "{\"ack\":\"%s\",\"kind\":%d,\"status\":\"%s\"}", a->msg_id, a->msg->kind,
                         ay_esc_status_name(t->state.status));
                audit[j] = (struct ay_audit){t->district,    t->school,  t->subject_id,  t->id, 0,
                                             "ack.received", details[j], a->where.device};
            }
        }
        if (a->outcome == WATCHDOG_ACK_REJECTED)
            dead[ndead++] = (struct ay_dead_letter){a->received_us,
                                                    a->topic,
                                                    a->topic_ok ? a->where.district : NULL,
                                                    NULL,
                                                    a->topic_ok ? a->where.device : NULL,
                                                    a->msg_id,
                                                    a->reason,
                                                    a->payload,
                                                    a->len,
                                                    ay_wire_name(a->wire),
                                                    a->content_type};
    }
    if (!ok) {
        rc = AY_ERR_NOMEM;
        goto cleanup;
    }
    if (cJSON_GetArraySize(rows) > 0) {
        rc = exec_json(db, "insert_acks", rows, NULL, err);
        rows = NULL;
    }
    if (rc == AY_OK && cJSON_GetArraySize(updates) > 0) {
        rc = exec_json(db, "update_escalations", updates, NULL, err);
        updates = NULL;
    }
    if (rc == AY_OK && nclosed > 0)
        rc = exec_ids(db, "close_notifications", closed, nclosed, NULL, err);
    if (rc == AY_OK)
        rc = ay_escalate_store_audit(db, audit, naudit, "watchdog", err);
    if (rc == AY_OK)
        rc = ay_escalate_store_dead_letters(db, dead, ndead, b->dead_letter_cap, err);
cleanup:
    ay_pg_result_free(res);
    cJSON_Delete(rows);
    cJSON_Delete(updates);
    free(e);
    free(ids);
    free(closed);
    free(audit);
    free(details);
    free(dead);
    return rc;
}
