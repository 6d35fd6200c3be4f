/*
 * watchdog.c - the watchdog's pure decisions; see watchdog.h.
 */
#include "watchdog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "anyuan/v1/common.pb-c.h"
#include "ay_labels.h"
#include "ay_schema.h"
#include "ay_text.h"
#include "ay_time.h"
#include "ay_uuid.h"

enum {
    REASON_DEADLINE_MISSED = 2,
    REASON_POSSIBLE_CONCEALMENT = 9,
    KIND_ALARM_NOTICE = 7,
    SUBJECT_ALARM = 1,
    SUBJECT_INCIDENT = 2,
    SUBJECT_HAZARD = 3,
    SUBJECT_MONTHLY = 4,
};

void watchdog_missed_route(int deadline_kind, enum ay_route_kind *route, int *reason)
{
    if (deadline_kind == KIND_ALARM_NOTICE) {
        *route = AY_ROUTE_POSSIBLE_CONCEALMENT;
        *reason = REASON_POSSIBLE_CONCEALMENT;
    } else {
        *route = AY_ROUTE_DEADLINE_MISSED;
        *reason = REASON_DEADLINE_MISSED;
    }
}

/* ---- the Escalation message -------------------------------------------------- */

static Anyuan__V1__Timestamp *new_ts(int64_t us)
{
    Anyuan__V1__Timestamp *t = malloc(sizeof(*t));
    if (t) {
        anyuan__v1__timestamp__init(t);
        ay_time_from_us(us, &t->seconds, &t->nanos);
    }
    return t;
}

static int audience_value(enum ay_audience a)
{
    switch (a) {
    case AY_AUDIENCE_POLICE:
        return ANYUAN__V1__AUDIENCE__AUDIENCE_POLICE;
    case AY_AUDIENCE_BUREAU:
        return ANYUAN__V1__AUDIENCE__AUDIENCE_BUREAU;
    case AY_AUDIENCE_SCHOOL:
        return ANYUAN__V1__AUDIENCE__AUDIENCE_SCHOOL;
    default:
        return ANYUAN__V1__AUDIENCE__AUDIENCE_GOVERNMENT;
    }
}

enum ay_err watchdog_escalation_pack(const struct watchdog_note *n, const char *service_id,
                                     int64_t now_us, uint8_t **buf, size_t *len,
                                     char topic[AY_TOPIC_MAX])
{
    return watchdog_escalation_pack_as(n, service_id, now_us, AY_WIRE_PROTOBUF, buf, len, topic);
}

enum ay_err watchdog_escalation_pack_as(const struct watchdog_note *n, const char *service_id,
                                        int64_t now_us, enum ay_wire wire, uint8_t **buf,
                                        size_t *len, char topic[AY_TOPIC_MAX])
{
    Anyuan__V1__Escalation m = ANYUAN__V1__ESCALATION__INIT;
    Anyuan__V1__Header h = ANYUAN__V1__HEADER__INIT;
    Anyuan__V1__Deadline missed = ANYUAN__V1__DEADLINE__INIT;
    Anyuan__V1__Deadline ackby = ANYUAN__V1__DEADLINE__INIT;
    enum ay_err rc = AY_ERR_NOMEM;
    char met_zh[AY_SUMMARY_MAX], met_en[AY_SUMMARY_MAX];
    char feed[AY_TOPIC_MAX];
    char err[AY_ERRLEN];

    if (ay_topic_escalation_feed(feed, n->district, ay_audience_word(n->audience), n->school) !=
            AY_OK ||
        ay_wire_topic(feed, wire, topic) != AY_OK)
        return AY_ERR_INVALID;
    h.message_id = (char *)n->id;
    h.device_id = (char *)service_id;
    h.district_id = (char *)n->district;
    h.schema_version = 1;
    h.sent_at = new_ts(now_us);
    m.header = &h;
    m.escalation_id = (char *)n->escalation_id;
    m.audience = audience_value(n->audience);
    m.subject_kind = n->subject_kind;
    m.subject_id = (char *)n->subject_id;
    m.school_id = (char *)n->school;
    m.reason = n->reason;
    m.level = (uint32_t)n->level;
    m.severity = n->severity;
    m.summary = (char *)n->summary_zh;
    m.summary_en = (char *)n->summary_en;
    if (n->kind == ANYUAN__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_RESOLVED &&
        n->summary_zh[0] == '\0' && n->missed_kind > 0) {
        ay_escalate_met_summary(n->school_zh[0] ? n->school_zh : n->school, n->school_en,
                                n->missed_kind, n->late_s, met_zh, met_en);
        m.summary = met_zh;
        m.summary_en = met_en;
    }
    m.school_name = (char *)n->school_zh;
    m.kind = n->kind;
    m.target = (char *)n->target;
    if (n->level >= 1 && n->level <= n->chain.nsteps)
        m.target_name = (char *)n->chain.steps[n->level - 1].name_zh;
    if (n->missed_kind > 0) {
        missed.kind = n->missed_kind;
        missed.subject_id = (char *)n->subject_id;
        missed.due_at = new_ts(n->missed_due_us);
        m.missed = &missed;
    }
    if (n->ack_due_us > 0) {
        ackby.kind = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_ACKNOWLEDGEMENT;
        ackby.subject_id = (char *)n->escalation_id;
        ackby.due_at = new_ts(n->ack_due_us);
        m.ack_by = &ackby;
    }
    if (h.sent_at == NULL || (m.missed && missed.due_at == NULL) ||
        (m.ack_by && ackby.due_at == NULL))
        goto cleanup;
    rc = ay_wire_encode(&m.base, wire, buf, len, err);
cleanup:
    free(h.sent_at);
    free(missed.due_at);
    free(ackby.due_at);
    return rc;
}

/* ---- acknowledgements ---------------------------------------------------------- */

struct watchdog_ack *watchdog_ack_new(const char *topic, const void *payload, size_t len,
                                      int64_t received_us, bool retained)
{
    struct watchdog_ack *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->topic = strdup(topic);
    a->payload = malloc(len ? len : 1);
    if (a->topic == NULL || a->payload == NULL) {
        watchdog_ack_free(a);
        return NULL;
    }
    memcpy(a->payload, payload, len);
    a->len = len;
    a->received_us = received_us;
    a->retained = retained;
    return a;
}

void watchdog_ack_free(struct watchdog_ack *a)
{
    if (a == NULL)
        return;
    if (a->msg)
        anyuan__v1__ack__free_unpacked(a->msg, NULL);
    free(a->topic);
    free(a->content_type);
    free(a->payload);
    free(a);
}

enum ay_err watchdog_ack_set_content_type(struct watchdog_ack *a, const char *content_type)
{
    char *copy = content_type ? strdup(content_type) : NULL;
    if (content_type != NULL && copy == NULL)
        return AY_ERR_NOMEM;
    free(a->content_type);
    a->content_type = copy;
    return AY_OK;
}

static void reject(struct watchdog_ack *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void reject(struct watchdog_ack *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
    va_end(ap);
    a->outcome = WATCHDOG_ACK_REJECTED;
}

static void decode(struct watchdog_ack *a, int64_t now_us)
{
    char err[AY_ERRLEN] = "";
    char wire_err[AY_ERRLEN] = "";
    enum ay_audience aud;
    /* The form first: every refusal is answered in it (protobuf when the
     * content type is unknown, refused below). */
    a->wire = AY_WIRE_PROTOBUF;
    bool wire_ok = ay_wire_detect(a->content_type, a->payload, a->len, &a->wire, wire_err) == AY_OK;

    if (ay_topic_parse(a->topic, &a->where, err) != AY_OK || a->where.cls != AY_TOPIC_ACK) {
        reject(a, "%s", err[0] ? err : "topic: not an acknowledgement topic");
        return;
    }
    a->topic_ok = true;
    if (!ay_audience_parse(a->where.kind, &aud)) {
        reject(a, "topic: unknown audience \"%s\"", a->where.kind);
        return;
    }
    if (a->retained) {
        reject(a, "ack: published with the retain flag; send it without");
        return;
    }
    if (!wire_ok) {
        reject(a, "ack: %s", wire_err);
        return;
    }
    ProtobufCMessage *m = NULL;
    enum ay_err rc =
        ay_wire_decode(&anyuan__v1__ack__descriptor, a->wire, a->payload, a->len, &m, err);
    if (rc != AY_OK) {
        reject(a, "%s", err[0] ? err : ay_strerror(rc));
        return;
    }
    a->msg = (Anyuan__V1__Ack *)m;
    const Anyuan__V1__Header *h = a->msg->header;
    if (h && ay_schema_uuid_is_valid(h->message_id))
        a->msg_id = h->message_id;
    if (ay_schema_validate(&a->msg->base, now_us, err) != AY_OK &&
        ay_schema_validate_flags(&a->msg->base, now_us, AY_SCHEMA_ANY_CLOCK, err) != AY_OK) {
        reject(a, "%s", err);
        return;
    }
    if (strcmp(h->district_id, a->where.district) != 0) {
        reject(a, "ack.header.districtId: \"%s\" does not match the topic's district \"%s\"",
               h->district_id, a->where.district);
        return;
    }
    if (strcmp(h->device_id, a->where.device) != 0) {
        reject(a, "ack.header.deviceId: \"%s\" is not the account \"%s\" the topic names",
               h->device_id, a->where.device);
        return;
    }
    a->outcome = WATCHDOG_ACK_PENDING;
}

void watchdog_ack_decode(struct watchdog_ack *a, int64_t now_us)
{
    a->outcome = WATCHDOG_ACK_REJECTED;
    decode(a, now_us);
    a->decoded = a->outcome;
}

bool watchdog_ack_is_school(const struct watchdog_ack *a)
{
    return a->topic_ok && strcmp(a->where.kind, AY_TOPIC_AUDIENCE_SCHOOL) == 0;
}

bool watchdog_ack_school_may(const char *escalation_school, const char *device_school)
{
    return escalation_school != NULL && device_school != NULL && escalation_school[0] != '\0' &&
           strcmp(escalation_school, device_school) == 0;
}

struct watchdog_esc *watchdog_ack_target(const struct watchdog_ack *a, struct watchdog_esc *e,
                                         size_t n)
{
    const char *id = a->msg ? a->msg->escalation_id : "";
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(e[i].id, id) == 0)
            return &e[i];
    for (size_t i = 0; i < n; i++)
        if (e[i].reason == ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_ALARM &&
            strcasecmp(e[i].subject_id, id) == 0 &&
            strcmp(ay_audience_word(e[i].audience), a->where.kind) == 0)
            return &e[i];
    return NULL;
}

void watchdog_ack_apply(struct watchdog_ack *a, struct watchdog_esc *e)
{
    a->changed = false;
    a->esc_id[0] = '\0';
    if (a->outcome != WATCHDOG_ACK_PENDING)
        return;
    a->reason[0] = '\0';
    if (e == NULL) {
        reject(a, "ack.escalationId: unknown escalation (or alarm) %s", a->msg->escalation_id);
        return;
    }
    if (strcmp(e->district, a->where.district) != 0) {
        reject(a, "ack.escalationId: escalation %s is of district %s", e->id, e->district);
        return;
    }
    if (strcmp(ay_audience_word(e->audience), a->where.kind) != 0) {
        reject(a, "ack.escalationId: escalation %s is addressed to %s, not %s", e->id,
               ay_audience_word(e->audience), a->where.kind);
        return;
    }
    /* A school acknowledges its own notices only (the broker lets each
     * school read only its own feed; the registry says whose the device is). */
    if (e->audience == AY_AUDIENCE_SCHOOL && a->school[0] == '\0') {
        reject(a,
               "ack: device %s is not an enabled device of a school in the registry "
               "(未登记或已停用的设备不能签收)",
               a->where.device);
        return;
    }
    if (e->audience == AY_AUDIENCE_SCHOOL && !watchdog_ack_school_may(e->school, a->school)) {
        reject(a,
               "ack.escalationId: escalation %s is for school %s; device %s is of school %s "
               "(只能签收本校的通报)",
               e->id, e->school, a->where.device, a->school);
        return;
    }
    a->changed = ay_esc_on_ack(&e->state, a->msg->kind, a->received_us);
    snprintf(a->esc_id, sizeof(a->esc_id), "%s", e->id);
    a->outcome = WATCHDOG_ACK_STORED;
    /* Said in the receipt: an ack does not end tracked supervision. */
    if (a->changed && e->state.supervise_s > 0)
        snprintf(a->reason, sizeof(a->reason),
                 "stored; tracked supervision (挂牌督办): reminders go on until the hazard is "
                 "closed (销号)");
}

enum ay_err watchdog_ack_receipt_pack(const struct watchdog_ack *a, const char *service_id,
                                      int64_t now_us, uint8_t **buf, size_t *len,
                                      char topic[AY_TOPIC_MAX])
{
    Anyuan__V1__Receipt r = ANYUAN__V1__RECEIPT__INIT;
    Anyuan__V1__Header h = ANYUAN__V1__HEADER__INIT;
    char id[AY_UUID_STRLEN];
    char safe_reason[AY_ERRLEN];
    char err[AY_ERRLEN];
    enum ay_err rc;

    if (!a->topic_ok || a->where.cls != AY_TOPIC_ACK ||
        ay_topic_ack_receipt(topic, a->where.district, a->where.kind, a->where.device) != AY_OK)
        return AY_ERR_NOTFOUND;
    if ((rc = ay_uuid_v4(id)) != AY_OK)
        return rc;
    h.message_id = id;
    h.device_id = (char *)service_id;
    h.district_id = (char *)a->where.district;
    h.schema_version = 1;
    h.sent_at = new_ts(now_us);
    r.header = &h;
    r.ref_message_id = (char *)(a->msg_id ? a->msg_id : "");
    switch (a->outcome) {
    case WATCHDOG_ACK_STORED:
        r.status = ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED;
        r.reference = a->msg->escalation_id;
        if (!a->changed)
            r.reason = "stored; the escalation was already closed";
        else if (a->reason[0])
            r.reason = (char *)a->reason;
        break;
    case WATCHDOG_ACK_DUPLICATE:
        r.status = ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_DUPLICATE;
        r.reference = a->msg->escalation_id;
        break;
    default:
        r.status = ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED;
        r.reason = (char *)a->reason;
        break;
    }
    r.stored_at = r.status != ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED
                      ? new_ts(a->received_us)
                      : NULL;
    rc = AY_ERR_NOMEM;
    if (h.sent_at == NULL ||
        (r.status != ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED && r.stored_at == NULL))
        goto cleanup;
    /* Valid UTF-8 whatever was cut to fit the reason: JSON must carry it. */
    if (r.reason != NULL && r.reason[0] != '\0')
        r.reason = ay_text_sanitize(safe_reason, sizeof(safe_reason), r.reason);
    rc = ay_wire_encode(&r.base, a->wire, buf, len, err);
cleanup:
    free(h.sent_at);
    free(r.stored_at);
    return rc;
}
