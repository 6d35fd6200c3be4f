/*
 * recorder.c - decoding, validation, deadline planning and receipts; pure.
 * See recorder.h.
 */
#include "recorder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/hazard.pb-c.h"
#include "anyuan/v1/incident.pb-c.h"
#include "anyuan/v1/monthly.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_schema.h"
#include "ay_time.h"
#include "ay_uuid.h"

struct recorder_item *recorder_item_new(const char *topic, const void *payload, size_t len,
                                        int64_t received_us)
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
    return it;
}

void recorder_item_free(struct recorder_item *it)
{
    if (it == NULL)
        return;
    if (it->msg)
        protobuf_c_message_free_unpacked(it->msg, NULL);
    free(it->topic);
    free(it->payload);
    free(it);
}

void recorder_reject(struct recorder_item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->reason, sizeof(it->reason), fmt, ap);
    va_end(ap);
    it->outcome = RECORDER_REJECTED;
}

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

static void decode(struct recorder_item *it, int64_t now_us);

void recorder_decode(struct recorder_item *it, int64_t now_us)
{
    it->outcome = RECORDER_REJECTED;
    decode(it, now_us);
    it->decoded = it->outcome;
}

static void decode(struct recorder_item *it, int64_t now_us)
{
    char err[AY_ERRLEN] = "";

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
    it->msg = protobuf_c_message_unpack(it->type->desc, NULL, it->len, it->payload);
    if (it->msg == NULL) {
        recorder_reject(it, "%s: payload is not a valid anyuan.v1.%s protobuf message",
                        it->type->name, it->type->desc->short_name);
        return;
    }
    const Anyuan__V1__Header *h = header_of(it->msg);
    if (h && ay_schema_uuid_is_valid(h->message_id))
        it->msg_id = h->message_id;
    if (ay_schema_validate(it->msg, now_us, err) != AY_OK) {
        char lenient[AY_ERRLEN] = "";
        /* An alarm is never refused because the button's clock is wrong. */
        if (!it->type->any_clock ||
            ay_schema_validate_flags(it->msg, now_us, AY_SCHEMA_ANY_CLOCK, lenient) != AY_OK) {
            recorder_reject(it, "%s", err);
            return;
        }
        snprintf(it->warning, sizeof(it->warning), "%s", err);
    }
    if (!header_matches_topic(it, h))
        return;
    it->outcome = RECORDER_PENDING;
}

const char *recorder_incident_ref(const struct recorder_item *it)
{
    if (it->msg && it->msg->descriptor == &anyuan__v1__incident_report__descriptor)
        return ((const Anyuan__V1__IncidentReport *)it->msg)->incident_id;
    return NULL;
}

const char *recorder_hazard_ref(const struct recorder_item *it)
{
    if (it->msg && it->msg->descriptor == &anyuan__v1__hazard_update__descriptor)
        return ((const Anyuan__V1__HazardUpdate *)it->msg)->hazard_id;
    return NULL;
}

bool recorder_creates_incident(const struct recorder_item *it)
{
    return it->msg && it->msg->descriptor == &anyuan__v1__incident_notice__descriptor;
}

bool recorder_creates_hazard(const struct recorder_item *it)
{
    return it->msg && it->msg->descriptor == &anyuan__v1__hazard_report__descriptor;
}

/* ---- deadlines ----------------------------------------------------------- */

static int64_t ts_us(const Anyuan__V1__Timestamp *t)
{
    return t ? ay_time_to_us(t->seconds, t->nanos) : 0;
}

static void add_dl(struct recorder_item *it, enum recorder_dl_action action, int kind,
                   int subject_kind, const char *subject, int64_t due_us)
{
    if (it->ndeadlines >= RECORDER_DEADLINES_MAX)
        return;
    struct recorder_deadline *d = &it->deadlines[it->ndeadlines++];
    d->action = action;
    d->kind = kind;
    d->subject_kind = subject_kind;
    snprintf(d->subject_id, sizeof(d->subject_id), "%s", subject);
    d->due_us = due_us;
}

static void plan_notice(struct recorder_item *it, const struct ay_policy *p)
{
    const Anyuan__V1__IncidentNotice *n = (const Anyuan__V1__IncidentNotice *)it->msg;
    int64_t start = ay_deadline_incident_start_us(ts_us(n->occurred_at), ts_us(n->discovered_at));
    /* The notice is the verbal notice: met now, late if received after due. */
    add_dl(it, RECORDER_DL_MET, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_VERBAL_NOTICE,
           ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT, it->msg_id,
           ay_deadline_verbal_notice_us(p, start));
    add_dl(it, RECORDER_DL_START, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT,
           ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT, it->msg_id,
           ay_deadline_written_report_us(p, start));
}

static void plan_report(struct recorder_item *it)
{
    const Anyuan__V1__IncidentReport *r = (const Anyuan__V1__IncidentReport *)it->msg;
    /* Any written report, final ones included, meets the written deadline. */
    add_dl(it, RECORDER_DL_MEET, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT,
           ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT, r->incident_id, 0);
    if (r->kind == ANYUAN__V1__REPORT_KIND__REPORT_KIND_FINAL)
        add_dl(it, RECORDER_DL_MEET, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_FINAL_REPORT,
               ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT, r->incident_id, 0);
}

static void plan_hazard_update(struct recorder_item *it)
{
    const Anyuan__V1__HazardUpdate *u = (const Anyuan__V1__HazardUpdate *)it->msg;
    const int kind = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_HAZARD_RECTIFICATION;
    const int subj = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_HAZARD;

    switch (u->status) {
    case ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_RECTIFIED:
    case ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_VERIFIED:
    case ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_CLOSED:
        add_dl(it, RECORDER_DL_MEET, kind, subj, u->hazard_id, 0);
        break;
    case ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_REOPENED:
        add_dl(it, RECORDER_DL_REOPEN, kind, subj, u->hazard_id, ts_us(u->new_deadline));
        break;
    default:
        if (u->new_deadline)
            add_dl(it, RECORDER_DL_MOVE, kind, subj, u->hazard_id, ts_us(u->new_deadline));
        break;
    }
}

void recorder_plan_deadlines(struct recorder_item *it, const struct ay_policy *p)
{
    const ProtobufCMessageDescriptor *d = it->msg ? it->msg->descriptor : NULL;

    it->ndeadlines = 0;
    if (d == &anyuan__v1__incident_notice__descriptor) {
        plan_notice(it, p);
    } else if (d == &anyuan__v1__incident_report__descriptor) {
        plan_report(it);
    } else if (d == &anyuan__v1__hazard_report__descriptor) {
        const Anyuan__V1__HazardReport *h = (const Anyuan__V1__HazardReport *)it->msg;
        add_dl(it, RECORDER_DL_START, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_HAZARD_RECTIFICATION,
               ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_HAZARD, it->msg_id,
               ts_us(h->rectification_deadline));
    } else if (d == &anyuan__v1__hazard_update__descriptor) {
        plan_hazard_update(it);
    } else if (d == &anyuan__v1__monthly_report__descriptor) {
        const Anyuan__V1__MonthlyReport *m = (const Anyuan__V1__MonthlyReport *)it->msg;
        int64_t due = 0;
        if (ay_deadline_monthly_report_us(p, (int)m->year, (int)m->month, &due) == AY_OK)
            add_dl(it, RECORDER_DL_MET, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_MONTHLY_REPORT,
                   ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_MONTHLY_REPORT, it->msg_id, due);
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

/* Frees what receipt_build allocated (the strings are borrowed). */
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
    char warning[AY_ERRLEN + 48];
    enum ay_err rc = AY_ERR_NOMEM;
    uint8_t *out = NULL;

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
        if (it->warning[0]) {
            snprintf(warning, sizeof(warning), "stored, but check the device clock: %s",
                     it->warning);
            r.reason = warning;
        }
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
    *len = anyuan__v1__receipt__get_packed_size(&r);
    out = malloc(*len ? *len : 1);
    if (out == NULL)
        goto cleanup;
    anyuan__v1__receipt__pack(&r, out);
    *buf = out;
    rc = AY_OK;
cleanup:
    receipt_cleanup(&r, &h);
    return rc;
}
