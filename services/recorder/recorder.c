/*
 * recorder.c - decoding, validation, the batch decision, deadline planning
 * and receipts; pure (no clock, no I/O). See recorder.h.
 */
#include "recorder.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/device.pb-c.h"
#include "anyuan/v1/hazard.pb-c.h"
#include "anyuan/v1/incident.pb-c.h"
#include "anyuan/v1/monthly.pb-c.h"
#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_labels.h"
#include "ay_schema.h"
#include "ay_text.h"
#include "ay_time.h"
#include "ay_tz.h"
#include "ay_uuid.h"

#define US_PER_MIN (60LL * 1000000LL)

struct recorder_item *recorder_item_new(const char *topic, const void *payload, size_t len,
                                        int64_t received_us, bool retained)
{
    struct recorder_item *it = calloc(1, sizeof(*it));
    if (it == NULL)
        return NULL;
    it->topic = strdup(topic);
    it->payload = malloc(len ? len : 1);
    if (it->topic == NULL || it->payload == NULL) {
        recorder_item_free(it);
        return NULL;
    }
    memcpy(it->payload, payload, len);
    it->len = len;
    it->received_us = received_us;
    it->retained = retained;
    return it;
}

void recorder_item_free(struct recorder_item *it)
{
    if (it == NULL)
        return;
    if (it->msg)
        protobuf_c_message_free_unpacked(it->msg, NULL);
    free(it->plans);
    free(it->ended_words);
    free(it->moved_words);
    free(it->topic);
    free(it->content_type);
    free(it->payload);
    free(it);
}

enum ay_err recorder_item_set_content_type(struct recorder_item *it, const char *content_type)
{
    char *copy = content_type ? strdup(content_type) : NULL;
    if (content_type != NULL && copy == NULL)
        return AY_ERR_NOMEM;
    free(it->content_type);
    it->content_type = copy;
    return AY_OK;
}

void recorder_reject(struct recorder_item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->reason, sizeof(it->reason), fmt, ap);
    va_end(ap);
    it->outcome = RECORDER_REJECTED;
}

/* ---- decoding ---------------------------------------------------------------- */

/* Every contract message has `Header header = 1`. */
static const Anyuan__V1__Header *header_of(const ProtobufCMessage *m)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "header");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    return *(Anyuan__V1__Header *const *)((const char *)m + f->offset);
}

/* The header must speak for the topic it came on: the broker's ACLs scope
 * the topic to the sender's account, so the topic is the trusted part. */
static bool header_matches_topic(struct recorder_item *it, const Anyuan__V1__Header *h)
{
    if (strcmp(h->district_id, it->where.district) != 0) {
        recorder_reject(it,
                        "%s.header.districtId: \"%s\" does not match the topic's district "
                        "\"%s\"",
                        it->type->name, h->district_id, it->where.district);
        return false;
    }
    if (strcmp(h->school_id, it->where.school) != 0) {
        recorder_reject(it, "%s.header.schoolId: \"%s\" does not match the topic's school \"%s\"",
                        it->type->name, h->school_id, it->where.school);
        return false;
    }
    if (strcmp(h->device_id, it->where.device) != 0) {
        recorder_reject(it, "%s.header.deviceId: \"%s\" does not match the topic's device \"%s\"",
                        it->type->name, h->device_id, it->where.device);
        return false;
    }
    return true;
}

/* A periodic report: which period of which kind it covers, and the id its
 * deadline was scheduled by (lib/ay_report.h). A risk report may name
 * either month of its two. */
static bool periodic_report(struct recorder_item *it)
{
    const Anyuan__V1__MonthlyReport *m = (const Anyuan__V1__MonthlyReport *)it->msg;
    enum ay_report_kind k;

    if (!ay_report_kind_of(m->kind, &k)) {
        recorder_reject(it, "monthly.kind: unknown report kind %d", m->kind);
        return false;
    }
    if (ay_report_period_of(k, (int)m->year, (int)m->month, &it->report) != AY_OK) {
        recorder_reject(it, "monthly: no report period %u-%02u (year 2000..2100, month 1..12)",
                        m->year, m->month);
        return false;
    }
    if (ay_report_subject(it->where.district, it->where.school, &it->report, it->report_subject) !=
        AY_OK) {
        recorder_reject(it, "monthly: cannot name the report's period");
        return false;
    }
    return true;
}

/*
 * Times: a message is checked against the contract with now_us as the
 * present (ay_schema). An alarm, its cancel or a heartbeat is never refused
 * for its times (the button's clock may be wrong): a time outside the
 * contract's window becomes a warning. For every type, a time more than 24 h
 * in the past is a warning too (told in the receipt, kept in
 * messages.warning): a late report is real and is stored, and its lateness
 * is judged against received_us, never against the device's times.
 */
static void decode(struct recorder_item *it, int64_t now_us)
{
    char err[AY_ERRLEN] = "";
    char wire_err[AY_ERRLEN] = "";
    /* The form first, so that every refusal below is answered in it; an
     * unknown content type is answered in protobuf and refused below. */
    it->wire = AY_WIRE_PROTOBUF;
    bool wire_ok =
        ay_wire_detect(it->content_type, it->payload, it->len, &it->wire, wire_err) == AY_OK;

    if (ay_topic_parse(it->topic, &it->where, err) != AY_OK) {
        recorder_reject(it, "%s", err);
        return;
    }
    it->topic_ok = true;
    if (it->where.cls != AY_TOPIC_SCHOOL) {
        recorder_reject(it, "topic: not a school topic");
        return;
    }
    it->type = ay_msgtype_by_name(it->where.kind);
    if (it->type == NULL || it->type->direction != AY_DIR_INBOUND) {
        recorder_reject(it, "topic: unknown message kind \"%s\"", it->where.kind);
        it->type = NULL;
        return;
    }
    if (!wire_ok) {
        recorder_reject(it, "%s: %s", it->type->name, wire_err);
        return;
    }
    enum ay_err rc = ay_wire_decode(it->type->desc, it->wire, it->payload, it->len, &it->msg, err);
    if (rc != AY_OK) {
        recorder_reject(it, "%s", err[0] ? err : ay_strerror(rc));
        return;
    }
    const Anyuan__V1__Header *h = header_of(it->msg);
    if (h && ay_schema_uuid_is_valid(h->message_id))
        it->msg_id = h->message_id;
    if (it->retained) {
        recorder_reject(it,
                        "%s: published with the retain flag; send it without: a retained message "
                        "would be replayed to every later subscriber as if it were new",
                        it->type->name);
        return;
    }
    if (ay_schema_validate(it->msg, now_us, err) != AY_OK) {
        char lenient[AY_ERRLEN] = "";
        if (!it->type->any_clock ||
            ay_schema_validate_flags(it->msg, now_us, AY_SCHEMA_ANY_CLOCK, lenient) != AY_OK) {
            recorder_reject(it, "%s", err);
            return;
        }
        snprintf(it->warning, sizeof(it->warning), "%s", err);
    } else if (ay_schema_validate_flags(it->msg, now_us, AY_SCHEMA_PAST_24H, err) != AY_OK) {
        snprintf(it->warning, sizeof(it->warning), "%s", err);
    }
    if (!header_matches_topic(it, h))
        return;
    if (it->msg->descriptor == &anyuan__v1__monthly_report__descriptor && !periodic_report(it))
        return;
    it->outcome = RECORDER_PENDING;
}

void recorder_decode(struct recorder_item *it, int64_t now_us)
{
    it->outcome = RECORDER_REJECTED;
    decode(it, now_us);
    it->decoded = it->outcome;
}

const char *recorder_incident_ref(const struct recorder_item *it)
{
    if (it->msg && it->msg->descriptor == &anyuan__v1__incident_report__descriptor)
        return ((const Anyuan__V1__IncidentReport *)it->msg)->incident_id;
    return NULL;
}

const char *recorder_periodic_ref(const struct recorder_item *it)
{
    return it->report_subject[0] ? it->report_subject : NULL;
}

const char *recorder_hazard_ref(const struct recorder_item *it)
{
    if (it->msg && it->msg->descriptor == &anyuan__v1__hazard_update__descriptor)
        return ((const Anyuan__V1__HazardUpdate *)it->msg)->hazard_id;
    return NULL;
}

static bool creates_incident(const struct recorder_item *it)
{
    return it->msg && it->msg->descriptor == &anyuan__v1__incident_notice__descriptor;
}

static bool creates_hazard(const struct recorder_item *it)
{
    return it->msg && it->msg->descriptor == &anyuan__v1__hazard_report__descriptor;
}

/* ---- facts: sorting and lookups ------------------------------------------ */

/* Ids are compared case-insensitively: UUIDs may arrive in upper case and
 * PostgreSQL returns them in lower case; registry ids are lower case. */
static int cmp_known(const void *a, const void *b)
{
    return strcasecmp(((const struct recorder_known_msg *)a)->msg_id,
                      ((const struct recorder_known_msg *)b)->msg_id);
}

static int cmp_device(const void *a, const void *b)
{
    return strcmp(((const struct recorder_device *)a)->id, ((const struct recorder_device *)b)->id);
}

static int cmp_district(const void *a, const void *b)
{
    return strcmp(((const struct recorder_district *)a)->id,
                  ((const struct recorder_district *)b)->id);
}

static int cmp_subject(const void *a, const void *b)
{
    return strcasecmp(((const struct recorder_subject *)a)->id,
                      ((const struct recorder_subject *)b)->id);
}

static int cmp_hazard_fact(const void *a, const void *b)
{
    return strcasecmp(((const struct recorder_hazard_fact *)a)->id,
                      ((const struct recorder_hazard_fact *)b)->id);
}

static int cmp_school(const void *a, const void *b)
{
    return strcmp(((const struct recorder_school *)a)->id, ((const struct recorder_school *)b)->id);
}

static int cmp_dev_state(const void *a, const void *b)
{
    return strcmp(((const struct recorder_dev_state *)a)->device,
                  ((const struct recorder_dev_state *)b)->device);
}

void recorder_facts_sort(struct recorder_facts *f)
{
    if (f->ndev_states > 1)
        qsort(f->dev_states, f->ndev_states, sizeof(*f->dev_states), cmp_dev_state);
    if (f->nschools > 1)
        qsort(f->schools, f->nschools, sizeof(*f->schools), cmp_school);
    if (f->nknown > 1)
        qsort(f->known, f->nknown, sizeof(*f->known), cmp_known);
    if (f->ndevices > 1)
        qsort(f->devices, f->ndevices, sizeof(*f->devices), cmp_device);
    if (f->ndistricts > 1)
        qsort(f->districts, f->ndistricts, sizeof(*f->districts), cmp_district);
    if (f->nincidents > 1)
        qsort(f->incidents, f->nincidents, sizeof(*f->incidents), cmp_subject);
    if (f->nhazards > 1)
        qsort(f->hazards, f->nhazards, sizeof(*f->hazards), cmp_subject);
    if (f->nhazard_states > 1)
        qsort(f->hazard_states, f->nhazard_states, sizeof(*f->hazard_states), cmp_hazard_fact);
}

void recorder_facts_cleanup(struct recorder_facts *f)
{
    free(f->known);
    free(f->devices);
    free(f->districts);
    free(f->incidents);
    free(f->hazards);
    free(f->deadlines);
    free(f->schools);
    free(f->dev_states);
    free(f->hazard_states);
    memset(f, 0, sizeof(*f));
}

static const struct recorder_known_msg *find_known(const struct recorder_facts *f, const char *id)
{
    struct recorder_known_msg key;
    if (f->nknown == 0)
        return NULL;
    snprintf(key.msg_id, sizeof(key.msg_id), "%s", id);
    return bsearch(&key, f->known, f->nknown, sizeof(key), cmp_known);
}

static const struct recorder_device *find_device(const struct recorder_facts *f, const char *id)
{
    struct recorder_device key;
    if (f->ndevices == 0)
        return NULL;
    snprintf(key.id, sizeof(key.id), "%s", id);
    return bsearch(&key, f->devices, f->ndevices, sizeof(key), cmp_device);
}

/* The defaults, for a district the database did not report: made once,
 * immutable after (pthread_once: workers decide batches concurrently). */
static struct recorder_district fallback_district;
static pthread_once_t fallback_once = PTHREAD_ONCE_INIT;

static void make_fallback(void)
{
    ay_policy_defaults(&fallback_district.policy);
}

/* The district's policy and zone; the defaults (China Standard Time) for a
 * district the database did not report. */
static const struct recorder_district *district_of(const struct recorder_facts *f,
                                                   const char *district)
{
    struct recorder_district key;
    const struct recorder_district *d = NULL;

    snprintf(key.id, sizeof(key.id), "%s", district);
    if (f->ndistricts > 0)
        d = bsearch(&key, f->districts, f->ndistricts, sizeof(key), cmp_district);
    if (d != NULL)
        return d;
    pthread_once(&fallback_once, make_fallback);
    return &fallback_district;
}

static const struct recorder_dev_state *find_dev_state(const struct recorder_facts *f,
                                                       const char *device)
{
    struct recorder_dev_state key;
    if (f == NULL || f->ndev_states == 0)
        return NULL;
    snprintf(key.device, sizeof(key.device), "%s", device);
    return bsearch(&key, f->dev_states, f->ndev_states, sizeof(key), cmp_dev_state);
}

static const struct recorder_school *find_school(const struct recorder_facts *f, const char *id)
{
    struct recorder_school key;
    if (f == NULL || f->nschools == 0)
        return NULL;
    snprintf(key.id, sizeof(key.id), "%s", id);
    return bsearch(&key, f->schools, f->nschools, sizeof(key), cmp_school);
}

static const struct recorder_subject *find_subject(const struct recorder_subject *arr, size_t n,
                                                   const char *id)
{
    struct recorder_subject key;
    if (n == 0)
        return NULL;
    snprintf(key.id, sizeof(key.id), "%s", id);
    return bsearch(&key, arr, n, sizeof(key), cmp_subject);
}

static const struct recorder_hazard *find_hazard_state(const struct recorder_facts *f,
                                                       const char *id)
{
    struct recorder_hazard_fact key;
    if (f == NULL || f->nhazard_states == 0)
        return NULL;
    snprintf(key.id, sizeof(key.id), "%s", id);
    const struct recorder_hazard_fact *h =
        bsearch(&key, f->hazard_states, f->nhazard_states, sizeof(key), cmp_hazard_fact);
    return h ? &h->hazard : NULL;
}

/* ---- the batch's own ids: a small open-addressing table ------------------ */

struct id_table {
    struct recorder_item **slot; /* items to be stored, by message id */
    size_t cap;                  /* a power of two, at least twice the batch */
};

static size_t id_hash(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a, case-folded */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 1099511628211ULL;
    }
    return h;
}

static bool id_table_init(struct id_table *t, size_t n)
{
    t->cap = 16;
    while (t->cap < 2 * n)
        t->cap *= 2;
    t->slot = calloc(t->cap, sizeof(*t->slot));
    return t->slot != NULL;
}

static struct recorder_item *id_table_find(const struct id_table *t, const char *id)
{
    for (size_t i = id_hash(id) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (t->slot[i] == NULL)
            return NULL;
        if (strcasecmp(t->slot[i]->msg_id, id) == 0)
            return t->slot[i];
    }
}

static void id_table_add(struct id_table *t, struct recorder_item *it)
{
    size_t i = id_hash(it->msg_id) & (t->cap - 1);
    while (t->slot[i] != NULL)
        i = (i + 1) & (t->cap - 1);
    t->slot[i] = it;
}

/* The same table keyed by device: the last status message of each device
 * in the batch, whose supervision state the next one starts from. */
static struct recorder_item *dev_table_find(const struct id_table *t, const char *device)
{
    for (size_t i = id_hash(device) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (t->slot[i] == NULL)
            return NULL;
        if (strcmp(t->slot[i]->where.device, device) == 0)
            return t->slot[i];
    }
}

static void dev_table_put(struct id_table *t, struct recorder_item *it)
{
    size_t i = id_hash(it->where.device) & (t->cap - 1);
    while (t->slot[i] != NULL && strcmp(t->slot[i]->where.device, it->where.device) != 0)
        i = (i + 1) & (t->cap - 1);
    t->slot[i] = it;
}

static void plan_status(struct recorder_item *it, const struct recorder_district *d,
                        const struct recorder_facts *f, const struct recorder_dev_state *prev);

/* The same table keyed by hazard: the last message of the batch about each
 * hazard (its report or an update), whose state the next update starts
 * from, so that several updates of a hazard in a batch apply in order. */
static const char *hazard_key(const struct recorder_item *it)
{
    return creates_hazard(it) ? it->msg_id : recorder_hazard_ref(it);
}

static struct recorder_item *hazard_table_find(const struct id_table *t, const char *id)
{
    for (size_t i = id_hash(id) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (t->slot[i] == NULL)
            return NULL;
        if (strcasecmp(hazard_key(t->slot[i]), id) == 0)
            return t->slot[i];
    }
}

static void hazard_table_put(struct id_table *t, struct recorder_item *it)
{
    const char *id = hazard_key(it);
    size_t i = id_hash(id) & (t->cap - 1);
    while (t->slot[i] != NULL && strcasecmp(hazard_key(t->slot[i]), id) != 0)
        i = (i + 1) & (t->cap - 1);
    t->slot[i] = it;
}

static void decide_hazard(struct recorder_item *it, const struct recorder_district *d,
                          const struct recorder_facts *f, struct id_table *hazards);

/* ---- the decision ---------------------------------------------------------- */

/* A message id that is already taken: a re-send, or an id reused. */
static void decide_taken(struct recorder_item *it, const char *device, const char *kind,
                         const struct recorder_item *copy_of, long long record_id,
                         int64_t stored_us)
{
    if (strcmp(device, it->where.device) == 0 && strcmp(kind, it->type->name) == 0) {
        it->outcome = RECORDER_DUPLICATE;
        it->copy_of = copy_of;
        it->record_id = record_id;
        it->stored_us = stored_us;
        return;
    }
    if (copy_of != NULL)
        recorder_reject(it,
                        "%s.header.messageId: %s is already used by another message of this "
                        "batch; send this one with a new id",
                        it->type->name, it->msg_id);
    else
        recorder_reject(it,
                        "%s.header.messageId: %s is already used by another message (%s-%lld); "
                        "send this one with a new id",
                        it->type->name, it->msg_id, it->where.district, record_id);
}

static void check_registry(struct recorder_item *it, const struct recorder_facts *f)
{
    const struct recorder_device *d = find_device(f, it->where.device);

    if (d == NULL)
        recorder_reject(it, "device \"%s\" is not registered", it->where.device);
    else if (strcmp(d->school, it->where.school) != 0)
        recorder_reject(it, "device \"%s\" is registered to school \"%s\", not \"%s\"",
                        it->where.device, d->school, it->where.school);
    else if (strcmp(d->district, it->where.district) != 0)
        recorder_reject(it, "school \"%s\" is in district \"%s\", not \"%s\"", it->where.school,
                        d->district, it->where.district);
    else if (!d->enabled)
        recorder_reject(it, "device \"%s\" is disabled", it->where.device);
}

/* A report needs its incident, an update its hazard, in the same school:
 * known to the database or created earlier in this batch. */
static void check_ref(struct recorder_item *it, const struct recorder_facts *f,
                      const struct id_table *batch)
{
    bool incident = recorder_incident_ref(it) != NULL;
    const char *id = incident ? recorder_incident_ref(it) : recorder_hazard_ref(it);
    const char *school = NULL;

    if (id == NULL)
        return;
    const struct recorder_subject *s = incident ? find_subject(f->incidents, f->nincidents, id)
                                                : find_subject(f->hazards, f->nhazards, id);
    if (s != NULL) {
        school = s->school;
    } else {
        const struct recorder_item *e = id_table_find(batch, id);
        if (e != NULL && (incident ? creates_incident(e) : creates_hazard(e)))
            school = e->where.school;
    }
    const char *field = incident ? "report.incidentId" : "hazard-update.hazardId";
    const char *what = incident ? "incident" : "hazard";
    if (school == NULL)
        recorder_reject(it, "%s: unknown %s %s (send its %s first and wait for the receipt)", field,
                        what, id, incident ? "notice" : "report");
    else if (strcmp(school, it->where.school) != 0)
        recorder_reject(it, "%s: %s %s belongs to another school", field, what, id);
}

/* A re-send's receipt repeats the deadlines its first storage started that
 * still run, in case the first receipt was lost. */
static void add_running(struct recorder_item *it, const struct recorder_facts *f)
{
    for (size_t i = 0; i < f->ndeadlines && it->ndeadlines < RECORDER_DEADLINES_MAX; i++) {
        const struct recorder_open_deadline *o = &f->deadlines[i];
        if (strcasecmp(o->created_by, it->msg_id) != 0)
            continue;
        struct recorder_deadline *d = &it->deadlines[it->ndeadlines++];
        memset(d, 0, sizeof(*d));
        d->action = RECORDER_DL_START;
        d->kind = o->kind;
        d->subject_kind = o->subject_kind;
        snprintf(d->subject_id, sizeof(d->subject_id), "%s", o->subject_id);
        d->due_us = o->due_us;
    }
}

void recorder_decide(struct recorder_item **items, size_t n, const struct recorder_facts *f)
{
    struct id_table batch = {NULL, 0};
    struct id_table devices = {NULL, 0};
    struct id_table hazards = {NULL, 0};
    bool have_table =
        id_table_init(&batch, n) && id_table_init(&devices, n) && id_table_init(&hazards, n);

    for (size_t i = 0; i < n; i++) {
        struct recorder_item *it = items[i];
        it->outcome = it->decoded;
        it->ndeadlines = 0;
        it->copy_of = NULL;
        it->record_id = 0;
        it->stored_us = 0;
        it->nplans = 0;
        it->supervised = false;
        it->drill = false;
        it->silent_after_us = 0;
        it->ended_episode[0] = '\0';
        memset(&it->hazard, 0, sizeof(it->hazard));
        memset(&it->hazard_dl, 0, sizeof(it->hazard_dl));
        it->hazard_from = 0;
        it->hazard_moved = false;
        if (it->outcome != RECORDER_PENDING)
            continue;
        const struct recorder_known_msg *k = find_known(f, it->msg_id);
        const struct recorder_item *e = have_table ? id_table_find(&batch, it->msg_id) : NULL;
        if (k != NULL) {
            decide_taken(it, k->device, k->kind, NULL, k->record_id, k->stored_us);
            if (it->outcome == RECORDER_DUPLICATE)
                add_running(it, f);
            continue;
        }
        if (e != NULL) {
            decide_taken(it, e->where.device, e->type->name, e, 0, 0);
            continue;
        }
        check_registry(it, f);
        if (it->outcome == RECORDER_PENDING && have_table)
            check_ref(it, f, &batch);
        if (it->outcome != RECORDER_PENDING)
            continue;
        const struct recorder_district *dist = district_of(f, it->where.district);
        decide_hazard(it, dist, f, have_table ? &hazards : NULL);
        if (it->outcome != RECORDER_PENDING)
            continue;
        recorder_plan_deadlines(it, dist, f);
        if (have_table)
            id_table_add(&batch, it);
        if (it->msg->descriptor == &anyuan__v1__device_status__descriptor) {
            /* Supervision runs on from this batch's previous status of the
             * device, else from what the database had. */
            const struct recorder_item *last =
                have_table ? dev_table_find(&devices, it->where.device) : NULL;
            plan_status(it, dist, f, last ? &last->sup : find_dev_state(f, it->where.device));
            if (have_table)
                dev_table_put(&devices, it);
        }
    }
    free(batch.slot);
    free(devices.slot);
    free(hazards.slot);
}

/* ---- deadlines and escalations ---------------------------------------------- */

#define US_PER_S 1000000LL

static int64_t ts_us(const Anyuan__V1__Timestamp *t)
{
    return t ? ay_time_to_us(t->seconds, t->nanos) : 0;
}

static struct recorder_deadline *add_dl(struct recorder_item *it, enum recorder_dl_action action,
                                        int kind, int subject_kind, const char *subject,
                                        int64_t due_us)
{
    if (it->ndeadlines >= RECORDER_DEADLINES_MAX)
        return NULL;
    struct recorder_deadline *d = &it->deadlines[it->ndeadlines++];
    memset(d, 0, sizeof(*d));
    d->action = action;
    d->kind = kind;
    d->subject_kind = subject_kind;
    snprintf(d->subject_id, sizeof(d->subject_id), "%s", subject);
    d->due_us = due_us;
    /* Met now: late by how much the backbone's reception is after due. */
    if ((action == RECORDER_DL_MET || action == RECORDER_DL_MEET) && due_us > 0 &&
        it->received_us > due_us)
        d->late_us = it->received_us - due_us;
    return d;
}

/* The open deadline of kind for subject the database reported, or NULL. */
static const struct recorder_open_deadline *open_dl(const struct recorder_facts *f, int kind,
                                                    const char *subject)
{
    const struct recorder_open_deadline *best = NULL;
    for (size_t i = 0; f != NULL && i < f->ndeadlines; i++) {
        const struct recorder_open_deadline *o = &f->deadlines[i];
        if (o->kind == kind && strcasecmp(o->subject_id, subject) == 0 &&
            (best == NULL || o->seq > best->seq))
            best = o;
    }
    return best;
}

static int64_t open_due(const struct recorder_facts *f, int kind, const char *subject)
{
    const struct recorder_open_deadline *o = open_dl(f, kind, subject);
    return o ? o->due_us : 0;
}

/* Adds the escalations route asks for to it->plans. */
static void escalate(struct recorder_item *it, const struct recorder_district *d,
                     const struct recorder_facts *f, enum ay_route_kind route, int reason,
                     const struct ay_esc_subject *s, const struct ay_esc_missed *m, unsigned flags)
{
    /* Planned on the stack, kept at their size: a plan is ~4 KB, and
     * RECORDER_PLANS_MAX of them for every alarm of a batch of a thousand
     * made the recorder's memory (and the time to zero it) grow with the
     * batch (bench/README.md, issue 15). */
    struct ay_esc_plan out[AY_AUDIENCE_COUNT];

    if (it->nplans + AY_AUDIENCE_COUNT > RECORDER_PLANS_MAX)
        return;
    int32_t offset = d->tz && m ? ay_tz_offset_s(d->tz, m->due_us) : 8 * 3600;
    (void)f;
    int k = ay_escalate_plan(&d->policy, route, reason, s, m, offset, it->received_us, flags, out);
    if (k <= 0)
        return;
    struct ay_esc_plan *grown = realloc(it->plans, (size_t)(it->nplans + k) * sizeof(*grown));
    if (grown == NULL)
        return; /* no memory: the watchdog still fires what is missed */
    memcpy(grown + it->nplans, out, (size_t)k * sizeof(*out));
    it->plans = grown;
    it->nplans += k;
}

static const char *value_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? ev->name : "";
}

/* The subject an escalation of it is about: kind and id, and its district
 * and school (with the school's names when the registry has them). */
static void subject_of(const struct recorder_item *it, const struct recorder_facts *f, int kind,
                       const char *id, struct ay_esc_subject *s)
{
    const struct recorder_school *sch = find_school(f, it->where.school);

    memset(s, 0, sizeof(*s));
    s->subject_kind = kind;
    snprintf(s->subject_id, sizeof(s->subject_id), "%s", id);
    snprintf(s->district, sizeof(s->district), "%s", it->where.district);
    snprintf(s->school, sizeof(s->school), "%s", it->where.school);
    if (sch) {
        snprintf(s->school_zh, sizeof(s->school_zh), "%s", sch->name_zh);
        snprintf(s->school_en, sizeof(s->school_en), "%s", sch->name_en);
    }
}

static void incident_subject(const struct recorder_item *it, const char *incident_id, int category,
                             int severity, const struct recorder_facts *f, struct ay_esc_subject *s)
{
    subject_of(it, f, ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT, incident_id, s);
    s->severity = severity;
    ay_escalate_incident_words(value_name(&anyuan__v1__incident_category__descriptor, category),
                               value_name(&anyuan__v1__severity__descriptor, severity), s);
}

/* A deadline met late (or already overdue when it starts) is escalated
 * once, by the transaction that finds it: the database keeps one
 * escalation per missed deadline and audience, whoever finds it first. */
static void escalate_late(struct recorder_item *it, const struct recorder_district *d,
                          const struct recorder_facts *f, const struct recorder_deadline *dl,
                          const struct ay_esc_subject *s)
{
    struct ay_esc_missed m = {.have = true, .kind = dl->kind, .seq = dl->seq, .due_us = dl->due_us};
    snprintf(m.subject_id, sizeof(m.subject_id), "%s", dl->subject_id);
    escalate(it, d, f, AY_ROUTE_DEADLINE_MISSED,
             ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEADLINE_MISSED, s, &m, 0);
}

static void plan_notice(struct recorder_item *it, const struct recorder_district *d,
                        const struct recorder_facts *f)
{
    const struct ay_district_policy *p = &d->policy;
    const Anyuan__V1__IncidentNotice *n = (const Anyuan__V1__IncidentNotice *)it->msg;
    const int subj = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT;
    int64_t start = ay_deadline_incident_start_us(ts_us(n->occurred_at), ts_us(n->discovered_at));
    struct ay_esc_subject s;

    incident_subject(it, it->msg_id, n->category, n->severity, f, &s);
    /* The notice is the verbal notice: met now, late if received after due. */
    struct recorder_deadline *verbal =
        add_dl(it, RECORDER_DL_MET, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_VERBAL_NOTICE, subj,
               it->msg_id, start + p->verbal_notice_s * US_PER_S);
    add_dl(it, RECORDER_DL_START, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT, subj,
           it->msg_id, start + p->written_report_s * US_PER_S);
    bool major = n->severity == ANYUAN__V1__SEVERITY__SEVERITY_I ||
                 n->severity == ANYUAN__V1__SEVERITY__SEVERITY_II;
    if (major)
        add_dl(it, RECORDER_DL_START, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_FOLLOW_UP_REPORT,
               subj, it->msg_id, it->received_us + p->follow_up_interval_s * US_PER_S);
    /* The alarm this incident was raised by has its notice now. */
    if (n->alarm_id && n->alarm_id[0])
        add_dl(it, RECORDER_DL_MEET, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_ALARM_NOTICE,
               ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_ALARM, n->alarm_id,
               open_due(f, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_ALARM_NOTICE, n->alarm_id));
    /* Routing by severity (domain.md rule 2): IV-III to the bureau, I-II also
     * to the city bureau and the local government at once; a suspected
     * crime to the police at once (强制报告). */
    escalate(it, d, f, ay_route_for_severity(n->severity),
             major ? ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_MAJOR_INCIDENT
                   : ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_INCIDENT,
             &s, NULL, 0);
    if (n->suspected_crime)
        escalate(it, d, f, AY_ROUTE_SUSPECTED_CRIME,
                 ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_SUSPECTED_CRIME, &s, NULL, 0);
    if (verbal && verbal->late_us > 0)
        escalate_late(it, d, f, verbal, &s);
}

static void plan_report(struct recorder_item *it, const struct recorder_district *d,
                        const struct recorder_facts *f)
{
    const Anyuan__V1__IncidentReport *r = (const Anyuan__V1__IncidentReport *)it->msg;
    const int written = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT;
    const int final = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_FINAL_REPORT;
    const int follow = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_FOLLOW_UP_REPORT;
    const int subj = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT;
    struct ay_esc_subject s;

    incident_subject(it, r->incident_id, 0, r->severity, f, &s);
    /* Any written report, final ones included, meets the written deadline. */
    struct recorder_deadline *w = add_dl(it, RECORDER_DL_MEET, written, subj, r->incident_id,
                                         open_due(f, written, r->incident_id));
    if (w && w->late_us > 0)
        escalate_late(it, d, f, w, &s);
    /* A follow-up report meets the current one of the series and starts the
     * next, while the incident is open. */
    const struct recorder_open_deadline *fu = open_dl(f, follow, r->incident_id);
    int64_t closed = ts_us(r->closed_at);
    if (fu != NULL && r->kind == ANYUAN__V1__REPORT_KIND__REPORT_KIND_FOLLOW_UP) {
        struct recorder_deadline *m =
            add_dl(it, RECORDER_DL_MEET, follow, subj, r->incident_id, fu->due_us);
        if (m)
            m->seq = fu->seq;
        if (closed == 0 && r->kind != ANYUAN__V1__REPORT_KIND__REPORT_KIND_FINAL) {
            struct recorder_deadline *next =
                add_dl(it, RECORDER_DL_START, follow, subj, r->incident_id,
                       it->received_us + d->policy.follow_up_interval_s * US_PER_S);
            if (next)
                next->seq = fu->seq + 1;
        }
    } else if (fu != NULL && closed != 0) {
        struct recorder_deadline *c =
            add_dl(it, RECORDER_DL_CANCEL, follow, subj, r->incident_id, 0);
        if (c)
            c->seq = fu->seq;
    }
    /* Dealt with (closedAt): the final report is due so many calendar days
     * later, in the district's time zone; a final report meets it. */
    int64_t final_due = 0;
    if (closed != 0 &&
        (d->tz == NULL ||
         ay_deadline_add_days_us(d->tz, closed, d->policy.final_report_days, &final_due) != AY_OK))
        final_due = closed + (int64_t)d->policy.final_report_days * 86400 * US_PER_S;
    if (r->kind == ANYUAN__V1__REPORT_KIND__REPORT_KIND_FINAL) {
        int64_t due = open_due(f, final, r->incident_id);
        if (due > 0)
            add_dl(it, RECORDER_DL_MEET, final, subj, r->incident_id, due);
        else
            add_dl(it, RECORDER_DL_MET, final, subj, r->incident_id,
                   final_due ? final_due : it->received_us);
        if (fu != NULL && r->kind != ANYUAN__V1__REPORT_KIND__REPORT_KIND_FOLLOW_UP &&
            closed == 0) {
            struct recorder_deadline *c =
                add_dl(it, RECORDER_DL_CANCEL, follow, subj, r->incident_id, 0);
            if (c)
                c->seq = fu->seq;
        }
    } else if (closed != 0) {
        add_dl(it, RECORDER_DL_START, final, subj, r->incident_id, final_due);
    }
}

/* ---- hazards (domain.md rule 3; the loop is hazard.c) ----------------------- */

/* A hazard as its report registers it: its rectification deadline is the
 * report's, else the policy's for its category and grade from when the
 * backbone received it. */
static void hazard_registered(const struct recorder_item *it, const struct recorder_district *d,
                              struct recorder_hazard *h)
{
    const Anyuan__V1__HazardReport *r = (const Anyuan__V1__HazardReport *)it->msg;
    int64_t given = ts_us(r->rectification_deadline);

    memset(h, 0, sizeof(*h));
    h->status = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_REGISTERED;
    h->grade = r->grade;
    h->category = r->category;
    h->beyond_authority = r->beyond_authority;
    snprintf(h->reporter, sizeof(h->reporter), "%s", r->found_by ? r->found_by->name : "");
    snprintf(h->responsible, sizeof(h->responsible), "%s",
             r->responsible ? r->responsible->name : "");
    snprintf(h->place, sizeof(h->place), "%s", r->place);
    h->dl_status = RECORDER_HAZARD_DL_PENDING;
    h->dl_due_us =
        given > 0
            ? given
            : it->received_us +
                  ay_policy_hazard_rectification_s(&d->policy, r->category, r->grade) * US_PER_S;
}

/*
 * A hazard report must carry interim measures when it cannot be fixed at
 * once; an update must be a step the loop allows from the hazard's state:
 * the batch's last message about it, else what the database had (so the
 * updates of a batch apply in order). What it does to the deadline is
 * decided here too, from that state.
 */
static void decide_hazard(struct recorder_item *it, const struct recorder_district *d,
                          const struct recorder_facts *f, struct id_table *hazards)
{
    char reason[AY_ERRLEN];

    if (creates_hazard(it)) {
        const Anyuan__V1__HazardReport *r = (const Anyuan__V1__HazardReport *)it->msg;
        hazard_registered(it, d, &it->hazard);
        if (recorder_hazard_check_interim(&it->hazard, r->interim_measures, it->hazard.dl_due_us,
                                          it->received_us, &d->policy, reason) != AY_OK) {
            recorder_reject(it, "%s", reason);
            return;
        }
        it->hazard_dl.action = RECORDER_HAZARD_DL_START;
        it->hazard_dl.due_us = it->hazard.dl_due_us;
        if (hazards)
            hazard_table_put(hazards, it);
        return;
    }
    const char *id = recorder_hazard_ref(it);
    if (id == NULL)
        return;
    const Anyuan__V1__HazardUpdate *u = (const Anyuan__V1__HazardUpdate *)it->msg;
    const struct recorder_item *last = hazards ? hazard_table_find(hazards, id) : NULL;
    const struct recorder_hazard *before = last ? &last->hazard : find_hazard_state(f, id);
    struct recorder_hazard after;
    int64_t new_due = ts_us(u->new_deadline);

    if (before == NULL) {
        recorder_reject(it,
                        "hazard-update.hazardId: unknown hazard %s (send its report first and "
                        "wait for the receipt)",
                        id);
        return;
    }
    if (recorder_hazard_step(before, id, u->status, u->by ? u->by->name : "", &after, reason) !=
        AY_OK) {
        recorder_reject(it, "%s", reason);
        return;
    }
    it->hazard_from = before->status;
    it->hazard_moved = recorder_hazard_is_move(before, u->status, new_due);
    recorder_hazard_plan_deadline(before, u->status, new_due, it->received_us, &d->policy,
                                  &it->hazard_dl, &after);
    it->hazard = after;
    if (hazards)
        hazard_table_put(hazards, it);
}

static void hazard_subject(const struct recorder_item *it, const char *hazard_id,
                           const struct recorder_hazard *h, const struct recorder_facts *f,
                           struct ay_esc_subject *s)
{
    subject_of(it, f, ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_HAZARD, hazard_id, s);
    ay_escalate_words(
        s->subject_kind, value_name(&anyuan__v1__hazard_category__descriptor, h->category),
        value_name(&anyuan__v1__hazard_grade__descriptor, h->grade), "", "", h->place, s);
}

/* A report registers the hazard: its rectification deadline runs; a major
 * hazard is put under the tracked supervision (挂牌督办) of the policy's
 * major_hazard route at once, reminded until it is closed (销号, which
 * resolves it: store.c); one beyond the authority of the school and the
 * bureau goes to the beyond_authority route, the local government (003). */
static void plan_hazard_report(struct recorder_item *it, const struct recorder_district *d,
                               const struct recorder_facts *f)
{
    const Anyuan__V1__HazardReport *r = (const Anyuan__V1__HazardReport *)it->msg;
    struct ay_esc_subject s;

    if (it->hazard.status == 0) /* planned without recorder_decide */
        hazard_registered(it, d, &it->hazard);
    add_dl(it, RECORDER_DL_START, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_HAZARD_RECTIFICATION,
           ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_HAZARD, it->msg_id, it->hazard.dl_due_us);
    hazard_subject(it, it->msg_id, &it->hazard, f, &s);
    if (r->grade == ANYUAN__V1__HAZARD_GRADE__HAZARD_GRADE_MAJOR)
        escalate(it, d, f, AY_ROUTE_MAJOR_HAZARD,
                 ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_MAJOR_HAZARD, &s, NULL,
                 AY_ESCALATE_SUPERVISED);
    if (r->beyond_authority)
        escalate(it, d, f, AY_ROUTE_BEYOND_AUTHORITY,
                 ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_BEYOND_AUTHORITY, &s, NULL, 0);
}

/* A step of the loop (allowed by decide_hazard): its deadline (met, moved
 * or a new one of the series), and when it moves the hazard on, the words
 * that tell the end of what it ends. */
static void plan_hazard_update(struct recorder_item *it, const struct recorder_facts *f)
{
    const Anyuan__V1__HazardUpdate *u = (const Anyuan__V1__HazardUpdate *)it->msg;
    const struct recorder_hazard_dl_plan *p = &it->hazard_dl;
    const int kind = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_HAZARD_RECTIFICATION;
    const int subj = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_HAZARD;
    struct recorder_deadline *dl = NULL;
    struct ay_esc_subject s;

    switch (p->action) {
    case RECORDER_HAZARD_DL_MEET:
        dl = add_dl(it, RECORDER_DL_MEET, kind, subj, u->hazard_id, p->due_us);
        break;
    case RECORDER_HAZARD_DL_MOVE:
        dl = add_dl(it, RECORDER_DL_MOVE, kind, subj, u->hazard_id, p->due_us);
        break;
    case RECORDER_HAZARD_DL_START:
        dl = add_dl(it, RECORDER_DL_START, kind, subj, u->hazard_id, p->due_us);
        break;
    default:
        break;
    }
    if (dl)
        dl->seq = p->seq;
    if (!it->hazard_moved || (it->moved_words == NULL &&
                              (it->moved_words = calloc(2, sizeof(*it->moved_words))) == NULL))
        return;
    hazard_subject(it, u->hazard_id, &it->hazard, f, &s);
    ay_escalate_hazard_resolved_summary(u->status, &s, it->moved_words[0], it->moved_words[1]);
}

/* An alarm (not a drill) expects an incident notice that refers to it; a
 * false alarm cancelled within the policy's window ends that expectation.
 * It also starts the police's escalation: the police feed told the first
 * step at once (SILENT_START); without an acknowledgement the chain climbs
 * (domain.md rule 1: 出警快). A drill (isTest, or within a test window of
 * its button) starts nothing. */
static void plan_alarm(struct recorder_item *it, const struct recorder_district *d,
                       const struct recorder_facts *f)
{
    const Anyuan__V1__Alarm *a = (const Anyuan__V1__Alarm *)it->msg;
    const struct recorder_device *dev = find_device(f, it->where.device);
    struct ay_esc_subject s;

    it->drill = a->is_test || (dev != NULL && dev->in_test_window);
    if (it->drill)
        return;
    add_dl(it, RECORDER_DL_START, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_ALARM_NOTICE,
           ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_ALARM, it->msg_id,
           it->received_us + d->policy.alarm_notice_s * US_PER_S);
    subject_of(it, f, ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_ALARM, it->msg_id, &s);
    ay_escalate_words(s.subject_kind, "", "",
                      value_name(&anyuan__v1__alarm_kind__descriptor, a->kind), it->where.device,
                      dev ? dev->location : "", &s);
    escalate(it, d, f, AY_ROUTE_ALARM, ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_ALARM, &s,
             NULL, AY_ESCALATE_SILENT_START);
}

/* A status message moves the device's supervision on (rule 1, 联得通):
 * alive, its silence timer restarts (the policy's gap factor times its
 * heartbeat interval); gone (its last will, or it says so), it is flagged
 * offline at once; back after an absence, that absence ends (and is told).
 * A battery that just fell below the policy's threshold, an enclosure just
 * opened and a fault just reported are escalated with their own reasons. */
static void device_subject(struct recorder_item *it, const struct recorder_facts *f,
                           const char *episode, struct ay_esc_subject *s)
{
    const struct recorder_device *dev = find_device(f, it->where.device);

    subject_of(it, f, ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_DEVICE, episode, s);
    ay_escalate_words(s->subject_kind, "", "", "", it->where.device, dev ? dev->location : "", s);
}

static void plan_status(struct recorder_item *it, const struct recorder_district *d,
                        const struct recorder_facts *f, const struct recorder_dev_state *prev)
{
    const Anyuan__V1__DeviceStatus *m = (const Anyuan__V1__DeviceStatus *)it->msg;
    const struct recorder_device *dev = find_device(f, it->where.device);
    struct recorder_dev_state was;
    struct ay_esc_subject s;
    int interval = m->heartbeat_interval_s > 0   ? (int)m->heartbeat_interval_s
                   : dev && dev->heartbeat_s > 0 ? dev->heartbeat_s
                                                 : 60;

    memset(&was, 0, sizeof(was));
    if (prev)
        was = *prev;
    it->supervised = true;
    it->sup = was;
    snprintf(it->sup.device, sizeof(it->sup.device), "%s", it->where.device);
    if (m->state == ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_OFFLINE) {
        if (!was.offline) {
            it->sup.offline = true;
            snprintf(it->sup.episode, sizeof(it->sup.episode), "%s", it->msg_id);
            device_subject(it, f, it->msg_id, &s);
            escalate(it, d, f, AY_ROUTE_DEVICE,
                     ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_OFFLINE, &s, NULL, 0);
        }
    } else {
        if (was.offline && was.episode[0] &&
            (it->ended_words != NULL ||
             (it->ended_words = calloc(2, sizeof(*it->ended_words))) != NULL)) {
            snprintf(it->ended_episode, sizeof(it->ended_episode), "%s", was.episode);
            device_subject(it, f, was.episode, &s);
            ay_escalate_resolved_summary(
                ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_OFFLINE, &s,
                it->ended_words[0], it->ended_words[1]);
        }
        it->sup.offline = false;
        it->sup.episode[0] = '\0';
        it->silent_after_us =
            it->received_us + (int64_t)interval * d->policy.device_gap_factor * US_PER_S;
    }
    static const struct {
        int reason;
    } problems[3] = {{ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_LOW_BATTERY},
                     {ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_TAMPER},
                     {ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_FAULT}};
    bool now[3] = {m->battery_case == ANYUAN__V1__DEVICE_STATUS__BATTERY_BATTERY_PERCENT &&
                       (int)m->battery_percent < d->policy.low_battery_percent,
                   m->tamper != 0, m->fault != 0};
    bool before[3] = {was.low_battery, was.tamper, was.fault};
    it->sup.low_battery = now[0];
    it->sup.tamper = now[1];
    it->sup.fault = now[2];
    for (int i = 0; i < 3; i++) {
        if (!now[i] || before[i])
            continue;
        device_subject(it, f, it->msg_id, &s);
        escalate(it, d, f, AY_ROUTE_DEVICE, problems[i].reason, &s, NULL, 0);
    }
}

/* A periodic report meets the deadline the watchdog scheduled for its
 * period (late by how long after its due time it was received); if none
 * was scheduled yet (a school registered since, or no watchdog ran), the
 * deadline is created met. The first report of a period counts; a later
 * one (a correction) is stored and changes no deadline. */
static void plan_periodic(struct recorder_item *it, const struct recorder_district *d,
                          const struct recorder_facts *f)
{
    int kind = ay_report_deadline_kind(it->report.kind);
    const struct recorder_open_deadline *o = open_dl(f, kind, it->report_subject);
    int64_t due = 0;

    if (o == NULL &&
        (d->tz == NULL || ay_report_due_us(d->tz, &d->policy, &it->report, &due) != AY_OK))
        return;
    struct recorder_deadline *dl = add_dl(it, o ? RECORDER_DL_MEET : RECORDER_DL_MET, kind,
                                          ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_MONTHLY_REPORT,
                                          it->report_subject, o ? o->due_us : due);
    if (dl != NULL)
        snprintf(dl->period, sizeof(dl->period), "%04d-%02d-01", it->report.year, it->report.month);
}

static void plan_alarm_cancel(struct recorder_item *it, const struct recorder_district *d,
                              const struct recorder_facts *f)
{
    const Anyuan__V1__AlarmCancel *c = (const Anyuan__V1__AlarmCancel *)it->msg;
    const int kind = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_ALARM_NOTICE;
    const struct recorder_open_deadline *o = open_dl(f, kind, c->alarm_id);

    if (o == NULL ||
        (c->reason != ANYUAN__V1__ALARM_CANCEL_REASON__ALARM_CANCEL_REASON_FALSE_ALARM &&
         c->reason != ANYUAN__V1__ALARM_CANCEL_REASON__ALARM_CANCEL_REASON_TEST_OVER))
        return;
    if (it->received_us - o->created_us <= d->policy.false_alarm_window_s * US_PER_S)
        add_dl(it, RECORDER_DL_CANCEL, kind, ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_ALARM,
               c->alarm_id, 0);
}

void recorder_plan_deadlines(struct recorder_item *it, const struct recorder_district *d,
                             const struct recorder_facts *f)
{
    const ProtobufCMessageDescriptor *desc = it->msg ? it->msg->descriptor : NULL;

    it->ndeadlines = 0;
    it->nplans = 0;
    if (desc == &anyuan__v1__incident_notice__descriptor) {
        plan_notice(it, d, f);
    } else if (desc == &anyuan__v1__incident_report__descriptor) {
        plan_report(it, d, f);
    } else if (desc == &anyuan__v1__alarm__descriptor) {
        plan_alarm(it, d, f);
    } else if (desc == &anyuan__v1__alarm_cancel__descriptor) {
        plan_alarm_cancel(it, d, f);
    } else if (desc == &anyuan__v1__hazard_report__descriptor) {
        plan_hazard_report(it, d, f);
    } else if (desc == &anyuan__v1__hazard_update__descriptor) {
        plan_hazard_update(it, f);
    } else if (desc == &anyuan__v1__monthly_report__descriptor) {
        plan_periodic(it, d, f);
    }
}

/* ---- receipts ------------------------------------------------------------ */

static Anyuan__V1__Timestamp *new_ts(int64_t us)
{
    Anyuan__V1__Timestamp *t = malloc(sizeof(*t));
    if (t) {
        anyuan__v1__timestamp__init(t);
        ay_time_from_us(us, &t->seconds, &t->nanos);
    }
    return t;
}

/* Appends printf text to buf (at *len, capacity cap), "; "-separated. */
static void note(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void note(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    if (*len >= cap)
        return;
    if (*len > 0) {
        int n = snprintf(buf + *len, cap - *len, "; ");
        *len = n > 0 && (size_t)n < cap - *len ? *len + (size_t)n : cap;
        if (*len >= cap)
            return;
    }
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    *len = n > 0 && (size_t)n < cap - *len ? *len + (size_t)n : cap;
}

static const char *when_text(int64_t us, char buf[AY_TIME_RFC3339_MAX])
{
    int64_t s;
    int32_t ns;
    ay_time_from_us(us - us % 1000000, &s, &ns);
    if (ay_time_format_rfc3339(s, ns, buf, AY_TIME_RFC3339_MAX) == 0)
        snprintf(buf, AY_TIME_RFC3339_MAX, "?");
    return buf;
}

void recorder_receipt_note(const struct recorder_item *it, char *buf, size_t cap)
{
    char when[AY_TIME_RFC3339_MAX];
    size_t len = 0;

    if (cap == 0)
        return;
    buf[0] = '\0';
    if (it->warning[0]) {
        if (it->type && it->type->any_clock)
            note(buf, cap, &len, "stored, but check the device clock: %s", it->warning);
        else
            note(buf, cap, &len, "stored with a warning: %s", it->warning);
    }
    for (int i = 0; i < it->ndeadlines; i++) {
        const struct recorder_deadline *d = &it->deadlines[i];
        const char *what = ay_label(&anyuan__v1__deadline_kind__descriptor, d->kind, AY_LANG_EN);
        if (d->late_us > 0)
            note(buf, cap, &len, "late: %s was due %s, received %lld min after", what ? what : "?",
                 when_text(d->due_us, when),
                 (long long)((d->late_us + US_PER_MIN - 1) / US_PER_MIN));
        else if (d->action == RECORDER_DL_START && d->due_us > 0 && d->due_us <= it->received_us &&
                 it->outcome == RECORDER_STORED)
            note(buf, cap, &len, "overdue: %s was due %s", what ? what : "?",
                 when_text(d->due_us, when));
    }
}

/* Frees what receipt_pack allocated (the strings are borrowed). */
static void receipt_cleanup(Anyuan__V1__Receipt *r, Anyuan__V1__Header *h)
{
    free(h->sent_at);
    free(r->stored_at);
    for (size_t i = 0; i < r->n_deadlines; i++) {
        free(r->deadlines[i]->due_at);
        free(r->deadlines[i]);
    }
    free(r->deadlines);
}

enum ay_err recorder_receipt_pack(const struct recorder_item *it, const char *service_id,
                                  int64_t now_us, uint8_t **buf, size_t *len,
                                  char topic[AY_TOPIC_MAX])
{
    Anyuan__V1__Receipt r = ANYUAN__V1__RECEIPT__INIT;
    Anyuan__V1__Header h = ANYUAN__V1__HEADER__INIT;
    char id[AY_UUID_STRLEN];
    char reference[64] = "";
    char reason[AY_ERRLEN * 2];
    char safe_reason[AY_ERRLEN * 2];
    char wire_err[AY_ERRLEN];
    enum ay_err rc = AY_ERR_NOMEM;

    if (!it->topic_ok || it->where.cls != AY_TOPIC_SCHOOL ||
        ay_topic_receipt(topic, it->where.district, it->where.school, it->where.device) != AY_OK)
        return AY_ERR_NOTFOUND;
    if ((rc = ay_uuid_v4(id)) != AY_OK)
        return rc;
    h.message_id = id;
    h.device_id = (char *)service_id;
    h.district_id = (char *)it->where.district;
    h.schema_version = 1;
    h.sent_at = new_ts(now_us);
    r.header = &h;
    r.ref_message_id = (char *)(it->msg_id ? it->msg_id : "");
    if (it->outcome == RECORDER_STORED || it->outcome == RECORDER_DUPLICATE) {
        r.status = it->outcome == RECORDER_STORED
                       ? ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED
                       : ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_DUPLICATE;
        r.stored_at = new_ts(it->stored_us);
        snprintf(reference, sizeof(reference), "%s-%lld", it->where.district, it->record_id);
        r.reference = reference;
        recorder_receipt_note(it, reason, sizeof(reason));
        if (reason[0])
            r.reason = reason;
    } else {
        r.status = ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED;
        r.reason = (char *)it->reason;
    }
    rc = AY_ERR_NOMEM;
    if (h.sent_at == NULL ||
        (r.status != ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED && r.stored_at == NULL))
        goto cleanup;
    /* The deadlines that now run: new pending ones and moved ones. */
    r.deadlines = calloc(RECORDER_DEADLINES_MAX, sizeof(*r.deadlines));
    if (r.deadlines == NULL)
        goto cleanup;
    for (int i = 0; it->outcome != RECORDER_REJECTED && i < it->ndeadlines; i++) {
        const struct recorder_deadline *d = &it->deadlines[i];
        if (d->action != RECORDER_DL_START && d->action != RECORDER_DL_MOVE &&
            !(d->action == RECORDER_DL_REOPEN && d->due_us > 0))
            continue;
        Anyuan__V1__Deadline *dl = malloc(sizeof(*dl));
        if (dl == NULL)
            goto cleanup;
        anyuan__v1__deadline__init(dl);
        r.deadlines[r.n_deadlines++] = dl;
        dl->kind = d->kind;
        dl->subject_id = (char *)d->subject_id;
        if ((dl->due_at = new_ts(d->due_us)) == NULL)
            goto cleanup;
    }
    /* Valid UTF-8 whatever was cut to fit a reason: JSON must carry it. */
    if (r.reason != NULL && r.reason[0] != '\0')
        r.reason = ay_text_sanitize(safe_reason, sizeof(safe_reason), r.reason);
    rc = ay_wire_encode(&r.base, it->wire, buf, len, wire_err);
cleanup:
    receipt_cleanup(&r, &h);
    return rc;
}
