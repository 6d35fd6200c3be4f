/*
 * msgs.c - templates and encoding of the load generator's messages; see msgs.h.
 *
 * Each template is decoded once; a message is the template with a new
 * header (fresh UUID v4, sentAt now) packed into protobuf bytes. Event times
 * are one minute before the start, deadlines 30 days after, so every message
 * passes the recorder's time checks (docs/contract.md "Time sanity").
 */
#include "msgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anyuan/v1/common.pb-c.h"
#include "ay_codec.h"
#include "ay_msgtype.h"
#include "ay_schema.h"
#include "ay_time.h"

#define EVENT_AGO_US   (60LL * 1000000LL)
#define DEADLINE_IN_US (30LL * 24 * 3600 * 1000000LL)
#define JSON_MAX       1024

struct tmpl {
    const struct ay_msgtype *type;
    ProtobufCMessage *m;
    size_t header_offset; /* of the Anyuan__V1__Header * inside m */
};

struct lg_msgs {
    struct tmpl t[LG_NTYPES];
};

static const char *const type_names[LG_NTYPES] = {"alarm", "notice", "hazard", "monthly", "status"};

const char *lg_type_name(enum lg_type t)
{
    return t < LG_NTYPES ? type_names[t] : "?";
}

static void rfc3339(int64_t us, char buf[AY_TIME_RFC3339_MAX])
{
    int64_t secs;
    int32_t nanos;

    ay_time_from_us(us, &secs, &nanos);
    ay_time_format_rfc3339(secs, 0, buf, AY_TIME_RFC3339_MAX);
}

/* The JSON text of type t (without header), times relative to now_us. */
static size_t template_json(enum lg_type t, int64_t now_us, char *buf, size_t cap)
{
    char ev[AY_TIME_RFC3339_MAX];
    char due[AY_TIME_RFC3339_MAX];
    char today[AY_TIME_RFC3339_MAX];

    rfc3339(now_us - EVENT_AGO_US, ev);
    rfc3339(now_us + DEADLINE_IN_US, due);
    rfc3339(now_us, today);
    /* The monthly report covers the month before the current one ("YYYY-MM-..."). */
    int year = (int)strtol(today, NULL, 10);
    int month = (int)strtol(today + 5, NULL, 10) - 1;
    if (month < 1) {
        month = 12;
        year--;
    }
    switch (t) {
    case LG_ALARM:
        return (size_t)snprintf(buf, cap,
                                "{\"kind\":\"ALARM_KIND_PANIC\",\"source\":\"ALARM_SOURCE_SCHOOL\","
                                "\"triggeredAt\":\"%s\",\"location\":\"bench gate\","
                                "\"geo\":{\"latitude\":31.82,\"longitude\":117.22}}",
                                ev);
    case LG_NOTICE:
        return (size_t)snprintf(
            buf, cap,
            "{\"category\":\"INCIDENT_CATEGORY_ACCIDENTAL_INJURY\",\"severity\":\"SEVERITY_IV\","
            "\"occurredAt\":\"%s\",\"discoveredAt\":\"%s\",\"place\":\"playground\","
            "\"casualties\":{\"injured\":1},\"summary\":\"bench\",\"measuresTaken\":\"none\","
            "\"reporter\":{\"name\":\"bench\",\"phone\":\"0551-62345678\"}}",
            ev, ev);
    case LG_HAZARD:
        return (size_t)snprintf(
            buf, cap,
            "{\"category\":\"HAZARD_CATEGORY_FACILITY\",\"grade\":\"HAZARD_GRADE_GENERAL\","
            "\"place\":\"north wall\",\"description\":\"bench\",\"foundBy\":{\"name\":\"bench\"},"
            "\"foundAt\":\"%s\",\"responsible\":{\"name\":\"bench\",\"phone\":\"13800000000\"},"
            "\"rectificationDeadline\":\"%s\",\"interimMeasures\":\"warning signs\"}",
            ev, due);
    case LG_MONTHLY:
        return (size_t)snprintf(buf, cap,
                                "{\"year\":%d,\"month\":%d,\"inspections\":4,\"policeVisits\":8,"
                                "\"signedBy\":{\"name\":\"bench\"},\"signedAt\":\"%s\"}",
                                year, month, ev);
    case LG_STATUS:
    default:
        return (size_t)snprintf(buf, cap,
                                "{\"state\":\"DEVICE_STATE_HEARTBEAT\",\"batteryPercent\":87,"
                                "\"firmware\":\"bench\",\"heartbeatIntervalS\":60}");
    }
}

static enum ay_err tmpl_init(struct tmpl *t, enum lg_type type, int64_t now_us, char err[AY_ERRLEN])
{
    char json[JSON_MAX];

    t->type = ay_msgtype_by_name(type_names[type]);
    if (t->type == NULL) {
        ay_errf(err, "%s: unknown message type", type_names[type]);
        return AY_ERR_INVALID;
    }
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(t->type->desc, "header");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE) {
        ay_errf(err, "%s: has no header", type_names[type]);
        return AY_ERR_INVALID;
    }
    t->header_offset = f->offset;
    size_t len = template_json(type, now_us, json, sizeof(json));
    return ay_codec_from_json(t->type->desc, json, len, &t->m, err);
}

/* Puts h in the template's header slot; returns the slot to restore. */
static Anyuan__V1__Header **header_slot(struct tmpl *t)
{
    return (Anyuan__V1__Header **)((char *)t->m + t->header_offset);
}

static void header_fill(Anyuan__V1__Header *h, Anyuan__V1__Timestamp *ts, char *id,
                        const struct lg_sender *s, int64_t now_us)
{
    anyuan__v1__header__init(h);
    anyuan__v1__timestamp__init(ts);
    ay_time_from_us(now_us, &ts->seconds, &ts->nanos);
    h->message_id = id;
    h->device_id = (char *)s->device;
    h->school_id = (char *)s->school;
    h->district_id = (char *)s->district;
    h->sent_at = ts;
    h->schema_version = 1;
}

enum ay_err lg_msgs_build(struct lg_msgs *m, enum lg_type type, const struct lg_sender *s,
                          int64_t now_us, struct lg_msg *out)
{
    struct tmpl *t = &m->t[type];
    Anyuan__V1__Header h;
    Anyuan__V1__Timestamp ts;
    struct lg_msg msg = {.type = type};
    enum ay_err rc = ay_uuid_v4(msg.id);

    if (rc != AY_OK)
        return rc;
    rc = ay_topic_school(msg.topic, s->district, s->school, s->device, t->type->topic_kind);
    if (rc != AY_OK)
        return rc;
    header_fill(&h, &ts, msg.id, s, now_us);
    Anyuan__V1__Header **slot = header_slot(t);
    Anyuan__V1__Header *saved = *slot;
    *slot = &h;
    msg.len = protobuf_c_message_get_packed_size(t->m);
    msg.buf = malloc(msg.len ? msg.len : 1);
    if (msg.buf != NULL)
        protobuf_c_message_pack(t->m, msg.buf);
    *slot = saved;
    if (msg.buf == NULL)
        return AY_ERR_NOMEM;
    *out = msg;
    return AY_OK;
}

void lg_msg_cleanup(struct lg_msg *msg)
{
    free(msg->buf);
    msg->buf = NULL;
}

/* Decodes what lg_msgs_build made and runs the recorder's contract checks. */
static enum ay_err check_one(struct lg_msgs *m, enum lg_type type, const struct lg_sender *s,
                             int64_t now_us, char err[AY_ERRLEN])
{
    struct lg_msg msg;
    enum ay_err rc = lg_msgs_build(m, type, s, now_us, &msg);

    if (rc != AY_OK) {
        ay_errf(err, "%s: cannot build a message: %s", type_names[type], ay_strerror(rc));
        return rc;
    }
    ProtobufCMessage *back =
        protobuf_c_message_unpack(m->t[type].type->desc, NULL, msg.len, msg.buf);
    if (back == NULL) {
        ay_errf(err, "%s: encoded message does not decode", type_names[type]);
        rc = AY_ERR_INVALID;
    } else {
        rc = ay_schema_validate(back, now_us, err);
        protobuf_c_message_free_unpacked(back, NULL);
    }
    lg_msg_cleanup(&msg);
    return rc;
}

enum ay_err lg_msgs_new(const struct lg_sender *probe, int64_t now_us, struct lg_msgs **out,
                        char err[AY_ERRLEN])
{
    struct lg_msgs *m = calloc(1, sizeof(*m));
    enum ay_err rc = AY_OK;

    if (m == NULL)
        return AY_ERR_NOMEM;
    for (int i = 0; i < LG_NTYPES && rc == AY_OK; i++)
        rc = tmpl_init(&m->t[i], (enum lg_type)i, now_us, err);
    for (int i = 0; i < LG_NTYPES && rc == AY_OK; i++)
        rc = check_one(m, (enum lg_type)i, probe, now_us, err);
    if (rc != AY_OK) {
        lg_msgs_free(m);
        return rc;
    }
    *out = m;
    return AY_OK;
}

void lg_msgs_free(struct lg_msgs *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < LG_NTYPES; i++)
        if (m->t[i].m != NULL)
            protobuf_c_message_free_unpacked(m->t[i].m, NULL);
    free(m);
}
