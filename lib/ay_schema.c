/*
 * ay_schema.c - the contract's rules beyond types (see ay_schema.h).
 *
 * Two tables drive everything, so a new message type or field is a row, not
 * code:
 *   rules[]        per message type: required fields and number/enum ranges,
 *                  optionally only when another field has a given value
 *                  (bullying notice, final report, rejected receipt);
 *   name_classes[] per field name, wherever the field occurs: id and UUID
 *                  syntax, phone syntax, length class, counts, deadlines.
 * Then one walk over the whole message checks every present value: UTF-8
 * and lengths of strings, known enum values, finite numbers, coordinates,
 * and times against now_us.
 */
#include "ay_schema.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "anyuan/v1/hazard.pb-c.h"
#include "anyuan/v1/incident.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "anyuan/v1/police.pb-c.h"
#include "ay_codec.h"
#include "ay_msgtype.h"
#include "ay_text.h"
#include "ay_time.h"

/* 2000-01-01T00:00:00Z: nothing in this system happened before it. */
#define EARLIEST_S 946684800LL
/* 2100-01-01T00:00:00Z: the latest deadline anyone can mean. */
#define LATEST_DEADLINE_S 4102444800LL
/* 24 h of clock skew and queueing allowed for event times (header.sentAt, ...). */
#define FUTURE_SLACK_US (24LL * 3600 * 1000000)
/* Counts of people, inspections, drills...: more than this is a typing error. */
#define COUNT_MAX 100000

/* ---- tables ---- */

#define CHECK_REQUIRED 1u /* present: non-empty string, message set, number/enum not 0 */
#define CHECK_RANGE    2u /* when present: min <= value <= max */

struct rule {
    const char *type; /* ay_msgtype name; "*": every type; "inbound": AY_DIR_INBOUND types */
    const char *path; /* proto (snake_case) field names joined by '.' */
    unsigned checks;
    int64_t min;
    int64_t max;
    const char *when;   /* NULL, or the rule applies only when this field's value... */
    int64_t when_value; /* ...equals this */
};

#define REQ(t, p)                                                                                  \
    {                                                                                              \
        t, p, CHECK_REQUIRED, 0, 0, NULL, 0                                                        \
    }
#define REQ_IF(t, p, w, v)                                                                         \
    {                                                                                              \
        t, p, CHECK_REQUIRED, 0, 0, w, v                                                           \
    }
#define RANGE(t, p, lo, hi)                                                                        \
    {                                                                                              \
        t, p, CHECK_RANGE, lo, hi, NULL, 0                                                         \
    }
#define REQ_RANGE(t, p, lo, hi)                                                                    \
    {                                                                                              \
        t, p, CHECK_REQUIRED | CHECK_RANGE, lo, hi, NULL, 0                                        \
    }

/* A parent comes before its children so the first error names the outermost gap. */
static const struct rule rules[] = {
    REQ("*", "header"),
    REQ("*", "header.message_id"),
    REQ("*", "header.device_id"),
    REQ("inbound", "header.school_id"),
    REQ("*", "header.district_id"),
    REQ("*", "header.sent_at"),
    REQ_RANGE("*", "header.schema_version", 1, 1),

    REQ("alarm", "kind"),
    REQ("alarm", "triggered_at"),
    REQ("alarm", "location"),
    REQ("alarm", "source"),

    REQ("alarm-cancel", "alarm_id"),
    REQ("alarm-cancel", "reason"),
    REQ("alarm-cancel", "cancelled_at"),

    REQ("notice", "category"),
    REQ("notice", "severity"),
    REQ("notice", "occurred_at"),
    REQ("notice", "place"),
    REQ("notice", "summary"),
    REQ("notice", "reporter"),
    REQ("notice", "reporter.name"),
    REQ("notice", "reporter.phone"),
    /* domain.md rule 2: bullying reports name the people involved and the measures taken. */
    REQ_IF("notice", "people_involved", "category",
           ANYUAN__V1__INCIDENT_CATEGORY__INCIDENT_CATEGORY_BULLYING),
    REQ_IF("notice", "measures_taken", "category",
           ANYUAN__V1__INCIDENT_CATEGORY__INCIDENT_CATEGORY_BULLYING),

    REQ("report", "incident_id"),
    REQ("report", "kind"),
    REQ("report", "body"),
    REQ("report", "signed_by"),
    REQ("report", "signed_by.name"),
    /* domain.md rule 2: the final written report gives cause, handling, lessons, rectification. */
    REQ_IF("report", "cause", "kind", ANYUAN__V1__REPORT_KIND__REPORT_KIND_FINAL),
    REQ_IF("report", "handling", "kind", ANYUAN__V1__REPORT_KIND__REPORT_KIND_FINAL),
    REQ_IF("report", "lessons", "kind", ANYUAN__V1__REPORT_KIND__REPORT_KIND_FINAL),
    REQ_IF("report", "rectification", "kind", ANYUAN__V1__REPORT_KIND__REPORT_KIND_FINAL),

    /* domain.md rule 3: a responsible person; the rectification deadline,
     * when the report gives none, is the district policy's
     * (hazard_rectification, services/recorder/hazard.c). */
    REQ("hazard", "category"),
    REQ("hazard", "grade"),
    REQ("hazard", "place"),
    REQ("hazard", "description"),
    REQ("hazard", "found_by.name"),
    REQ("hazard", "responsible.name"),

    REQ("hazard-update", "hazard_id"),
    /* REGISTERED is set by the HazardReport itself, never by an update. */
    REQ_RANGE("hazard-update", "status", ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_RECTIFYING,
              INT32_MAX),
    REQ("hazard-update", "by.name"),
    REQ("hazard-update", "at"),

    /* domain.md rule 4: the monthly report is signed by the school leader. */
    REQ_RANGE("monthly", "year", 2000, 2100),
    REQ_RANGE("monthly", "month", 1, 12),
    REQ("monthly", "signed_by.name"),

    REQ("status", "state"),
    RANGE("status", "battery_percent", 0, 100),
    RANGE("status", "heartbeat_interval_s", 0, 86400),

    REQ("receipt", "ref_message_id"),
    REQ("receipt", "status"),
    REQ_IF("receipt", "reason", "status", ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED),

    REQ("escalation", "escalation_id"),
    REQ("escalation", "audience"),
    REQ("escalation", "subject_kind"),
    REQ("escalation", "subject_id"),
    REQ("escalation", "reason"),
    RANGE("escalation", "level", 0, 100),

    REQ("ack", "escalation_id"),
    REQ("ack", "kind"),
    REQ("ack", "at"),
    REQ("ack", "by.name"),

    /* domain.md rule 1: what a dispatcher needs to act on; times are the device's. */
    REQ("police-alarm", "event"),
    REQ("police-alarm", "alarm_id"),
    REQ("police-alarm", "school_id"),
    REQ("police-alarm", "device_id"),
    REQ("police-alarm", "received_at"),
    REQ_IF("police-alarm", "kind", "event",
           ANYUAN__V1__POLICE_ALARM_EVENT__POLICE_ALARM_EVENT_ALARM),
    REQ_IF("police-alarm", "triggered_at", "event",
           ANYUAN__V1__POLICE_ALARM_EVENT__POLICE_ALARM_EVENT_ALARM),
    REQ_IF("police-alarm", "cancel_id", "event",
           ANYUAN__V1__POLICE_ALARM_EVENT__POLICE_ALARM_EVENT_CANCEL),
    REQ_IF("police-alarm", "cancel_reason", "event",
           ANYUAN__V1__POLICE_ALARM_EVENT__POLICE_ALARM_EVENT_CANCEL),
    REQ_IF("police-alarm", "cancelled_at", "event",
           ANYUAN__V1__POLICE_ALARM_EVENT__POLICE_ALARM_EVENT_CANCEL),
};

enum field_class {
    FC_TEXT = 0, /* free text, AY_SCHEMA_TEXT_MAX (the default for strings) */
    FC_SHORT,    /* names, places...: AY_SCHEMA_SHORT_MAX */
    FC_ID,       /* ay_schema_id_is_valid */
    FC_UUID,     /* ay_schema_uuid_is_valid */
    FC_PHONE,    /* phone_is_valid */
    FC_COUNT,    /* 0..COUNT_MAX */
    FC_DEADLINE, /* a time that may lie in the future, up to LATEST_DEADLINE_S */
};

struct name_class {
    const char *name; /* proto field name, in any message */
    enum field_class cls;
};

static const struct name_class name_classes[] = {
    {"message_id", FC_UUID},
    {"alarm_id", FC_UUID},
    {"incident_id", FC_UUID},
    {"hazard_id", FC_UUID},
    {"ref_message_id", FC_UUID},
    {"escalation_id", FC_UUID},
    {"device_id", FC_ID},
    {"school_id", FC_ID},
    {"district_id", FC_ID},
    {"name", FC_SHORT},
    {"role", FC_SHORT},
    {"place", FC_SHORT},
    {"location", FC_SHORT},
    {"firmware", FC_SHORT},
    {"reference", FC_SHORT},
    {"subject_id", FC_SHORT},
    {"target", FC_SHORT},
    {"target_name", FC_SHORT},
    {"school_name", FC_SHORT},
    {"cancel_id", FC_UUID},
    {"school_name_en", FC_SHORT},
    {"school_phone", FC_SHORT},
    {"place_name", FC_SHORT},
    {"reported_location", FC_SHORT},
    {"source_label", FC_SHORT},
    {"source_label_en", FC_SHORT},
    {"kind_label", FC_SHORT},
    {"kind_label_en", FC_SHORT},
    {"cancel_reason_label", FC_SHORT},
    {"cancel_reason_label_en", FC_SHORT},
    {"phone", FC_PHONE},
    {"dead", FC_COUNT},
    {"injured", FC_COUNT},
    {"missing", FC_COUNT},
    {"inspections", FC_COUNT},
    {"hazards_found", FC_COUNT},
    {"hazards_rectified", FC_COUNT},
    {"hazards_open", FC_COUNT},
    {"incidents", FC_COUNT},
    {"drills", FC_COUNT},
    {"trainings", FC_COUNT},
    {"police_visits", FC_COUNT},
    {"rectification_deadline", FC_DEADLINE},
    {"new_deadline", FC_DEADLINE},
    {"due_at", FC_DEADLINE},
};

/* ---- syntax predicates ---- */

bool ay_schema_id_is_valid(const char *id)
{
    size_t n = 0;

    if (id == NULL || id[0] == '-')
        return false;
    for (; id[n] != '\0'; n++) {
        char c = id[n];
        if (n >= AY_SCHEMA_ID_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return n > 0;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool ay_schema_uuid_is_valid(const char *s)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (s[i] == '\0' || (dash ? s[i] != '-' : !is_hex(s[i])))
            return false;
    }
    return s[36] == '\0';
}

/* "0551-62345678", "+86 138 0000 0000", "(0551) 6234 5678": 3..20 digits in 3..32 chars. */
static bool phone_is_valid(const char *s)
{
    size_t digits = 0;
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        if (s[n] >= '0' && s[n] <= '9')
            digits++;
        else if (strchr("+- ()", s[n]) == NULL)
            return false;
    }
    return n <= 32 && digits >= 3 && digits <= 20;
}

/* ---- reasons ---- */

struct check {
    struct ay__codec_path path;
    char *err;
    int64_t now_us;
    unsigned flags;
};

static enum ay_err invalid(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum ay_err invalid(struct check *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ay__codec_path_vfail(&c->path, c->err, fmt, ap);
    va_end(ap);
    return AY_ERR_INVALID;
}

/* ---- reading fields ---- */

static enum field_class class_of(const ProtobufCFieldDescriptor *f)
{
    for (size_t i = 0; i < sizeof(name_classes) / sizeof(name_classes[0]); i++) {
        if (strcmp(name_classes[i].name, f->name) == 0)
            return name_classes[i].cls;
    }
    return FC_TEXT;
}

/* A scalar or enum at member as int64 (uint64 above INT64_MAX saturates). */
static int64_t int_at(ProtobufCType t, const void *member)
{
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    protobuf_c_boolean b;

    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        memcpy(&i32, member, sizeof(i32));
        return i32;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        memcpy(&u32, member, sizeof(u32));
        return u32;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        memcpy(&i64, member, sizeof(i64));
        return i64;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        memcpy(&u64, member, sizeof(u64));
        return u64 > INT64_MAX ? INT64_MAX : (int64_t)u64;
    case PROTOBUF_C_TYPE_BOOL:
        memcpy(&b, member, sizeof(b));
        return b != 0;
    default:
        return 0;
    }
}

static const void *member_of(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return (const char *)m + f->offset;
}

static const ProtobufCMessage *message_at(const void *member)
{
    const ProtobufCMessage *sub;

    memcpy(&sub, member, sizeof(sub));
    return sub;
}

static double double_field(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    double d = NAN;

    if (f != NULL && f->type == PROTOBUF_C_TYPE_DOUBLE)
        memcpy(&d, member_of(m, f), sizeof(d));
    return d;
}

/* ---- the rule table ---- */

/* A rule's field: the message holding it (NULL when a message on the way is absent). */
struct leaf {
    const ProtobufCMessage *owner;
    const ProtobufCFieldDescriptor *f;
};

/* Follows a rule path from m, building the JSON path in p. False if the
 * path does not exist in the contract (a bug in the table; test_schema runs
 * every rule). */
static bool resolve(const ProtobufCMessage *m, const char *path, struct ay__codec_path *p,
                    struct leaf *out)
{
    const ProtobufCMessageDescriptor *desc = m->descriptor;
    const ProtobufCMessage *owner = m;
    char comp[64];

    ay__codec_path_root(p, desc);
    for (const char *s = path;; s++) {
        size_t n = strcspn(s, ".");
        if (n >= sizeof(comp))
            return false;
        memcpy(comp, s, n);
        comp[n] = '\0';
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(desc, comp);
        if (f == NULL)
            return false;
        ay__codec_path_field(p, f);
        s += n;
        if (*s == '\0') {
            out->owner = owner;
            out->f = f;
            return true;
        }
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
            return false;
        owner = owner != NULL ? message_at(member_of(owner, f)) : NULL;
        desc = f->descriptor;
    }
}

static bool type_matches(const struct rule *r, const struct ay_msgtype *t)
{
    return strcmp(r->type, "*") == 0 ||
           (strcmp(r->type, "inbound") == 0 && t->direction == AY_DIR_INBOUND) ||
           strcmp(r->type, t->name) == 0;
}

static enum ay_err check_rule(struct check *c, const struct rule *r, const ProtobufCMessage *m)
{
    struct leaf w;

    if (!resolve(m, r->path, &c->path, &w))
        return invalid(c, "schema rule names a field the contract does not have (%s)", r->path);
    bool present = w.owner != NULL && ay__codec_field_present(w.owner, w.f);
    if ((r->checks & CHECK_REQUIRED) && !present && w.f->type == PROTOBUF_C_TYPE_ENUM) {
        const ProtobufCEnumValue *zero = protobuf_c_enum_descriptor_get_value(w.f->descriptor, 0);
        return invalid(c, "required (not %s)", zero != NULL ? zero->name : "0");
    }
    if ((r->checks & CHECK_REQUIRED) && !present)
        return invalid(c, "required");
    if (!(r->checks & CHECK_RANGE) || !present)
        return AY_OK;
    int64_t v = int_at(w.f->type, member_of(w.owner, w.f));
    if (v >= r->min && v <= r->max)
        return AY_OK;
    if (w.f->type == PROTOBUF_C_TYPE_ENUM) {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(w.f->descriptor, (int)v);
        return invalid(c, "%s is not allowed here", ev != NULL ? ev->name : "this value");
    }
    if (r->min == r->max)
        return invalid(c, "must be %" PRId64 ", got %" PRId64, r->min, v);
    return invalid(c, "must be between %" PRId64 " and %" PRId64 ", got %" PRId64, r->min, r->max,
                   v);
}

/* ---- the walk over every present value ---- */

static enum ay_err check_time(struct check *c, const ProtobufCMessage *ts, bool deadline)
{
    const ProtobufCFieldDescriptor *fs =
        protobuf_c_message_descriptor_get_field_by_name(ts->descriptor, "seconds");
    const ProtobufCFieldDescriptor *fn =
        protobuf_c_message_descriptor_get_field_by_name(ts->descriptor, "nanos");
    char text[AY_TIME_RFC3339_MAX];
    int64_t secs = int_at(fs->type, member_of(ts, fs));
    int64_t nanos = int_at(fn->type, member_of(ts, fn));

    if (nanos < 0 || nanos > 999999999)
        return invalid(c, "nanos must be 0..999999999, got %" PRId64, nanos);
    if (ay_time_format_rfc3339(secs, (int32_t)nanos, text, sizeof(text)) == 0)
        return invalid(c, "time out of range (seconds %" PRId64 ")", secs);
    if (!deadline && (c->flags & AY_SCHEMA_ANY_CLOCK))
        return AY_OK;
    if (secs < EARLIEST_S)
        return invalid(c, "%s is before 2000-01-01", text);
    if (deadline && secs >= LATEST_DEADLINE_S)
        return invalid(c, "deadline %s is not before 2100-01-01", text);
    if (!deadline && ay_time_to_us(secs, (int32_t)nanos) > c->now_us + FUTURE_SLACK_US)
        return invalid(c, "%s is more than 24 h in the future", text);
    if (!deadline && (c->flags & AY_SCHEMA_PAST_24H) &&
        ay_time_to_us(secs, (int32_t)nanos) < c->now_us - FUTURE_SLACK_US)
        return invalid(c, "%s is more than 24 h in the past", text);
    return AY_OK;
}

static enum ay_err check_geo(struct check *c, const ProtobufCMessage *g)
{
    double lat = double_field(g, "latitude");
    double lon = double_field(g, "longitude");

    /* (0, 0) is in the Gulf of Guinea: a device that sends it has no fix. */
    if (lat == 0.0 && lon == 0.0)
        return invalid(c, "latitude and longitude are both 0 (no position)");
    if (!(lat >= -90.0 && lat <= 90.0))
        return invalid(c, "latitude must be -90..90, got %g", lat);
    if (!(lon >= -180.0 && lon <= 180.0))
        return invalid(c, "longitude must be -180..180, got %g", lon);
    return AY_OK;
}

static enum ay_err check_string(struct check *c, const ProtobufCFieldDescriptor *f, const char *s)
{
    enum field_class cls = class_of(f);
    size_t len = strlen(s);
    size_t max = cls == FC_TEXT ? AY_SCHEMA_TEXT_MAX : AY_SCHEMA_SHORT_MAX;

    if (!ay_text_utf8_is_valid(s, len))
        return invalid(c, "invalid UTF-8");
    if (len > max)
        return invalid(c, "%zu bytes, longer than the limit of %zu", len, max);
    if (len == 0)
        return AY_OK; /* presence is the rule table's business */
    if (cls == FC_ID && !ay_schema_id_is_valid(s))
        return invalid(c, "must be 1..%d characters of a-z, 0-9 and '-', not starting with '-'",
                       AY_SCHEMA_ID_MAX);
    if (cls == FC_UUID && !ay_schema_uuid_is_valid(s))
        return invalid(c, "must be a UUID like 7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a3");
    if (cls == FC_PHONE && !phone_is_valid(s))
        return invalid(c, "must be a phone number of digits, '+', '-', ' ', '(' and ')'");
    return AY_OK;
}

static enum ay_err check_message(struct check *c, const ProtobufCMessage *m);

/* Checks one present value (a field, or one element of a repeated field). */
static enum ay_err check_value(struct check *c, const ProtobufCFieldDescriptor *f,
                               const void *member)
{
    const ProtobufCMessage *sub;
    const char *s;
    double d;
    float fl;

    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        memcpy(&s, member, sizeof(s));
        return check_string(c, f, s != NULL ? s : "");
    case PROTOBUF_C_TYPE_ENUM:
        if (protobuf_c_enum_descriptor_get_value(f->descriptor, (int)int_at(f->type, member)) ==
            NULL)
            return invalid(c, "unknown value %" PRId64 " of %s", int_at(f->type, member),
                           ((const ProtobufCEnumDescriptor *)f->descriptor)->name);
        return AY_OK;
    case PROTOBUF_C_TYPE_DOUBLE:
        memcpy(&d, member, sizeof(d));
        return isfinite(d) ? AY_OK : invalid(c, "must be a finite number");
    case PROTOBUF_C_TYPE_FLOAT:
        memcpy(&fl, member, sizeof(fl));
        return isfinite(fl) ? AY_OK : invalid(c, "must be a finite number");
    case PROTOBUF_C_TYPE_MESSAGE:
        sub = message_at(member);
        if (sub == NULL)
            return invalid(c, "null message");
        if (ay__codec_is_timestamp(sub->descriptor))
            return check_time(c, sub, class_of(f) == FC_DEADLINE);
        if (strcmp(sub->descriptor->name, "anyuan.v1.GeoPoint") == 0)
            return check_geo(c, sub);
        return check_message(c, sub);
    default:
        if (class_of(f) == FC_COUNT && int_at(f->type, member) > COUNT_MAX)
            return invalid(c, "%" PRId64 " is more than %d", int_at(f->type, member), COUNT_MAX);
        return AY_OK;
    }
}

static enum ay_err check_field(struct check *c, const ProtobufCMessage *m,
                               const ProtobufCFieldDescriptor *f)
{
    const char *elems;
    size_t n;
    size_t size;

    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return check_value(c, f, member_of(m, f));
    /* Repeated numbers and bytes need nothing beyond their type. */
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        size = sizeof(void *);
    else if (f->type == PROTOBUF_C_TYPE_ENUM)
        size = sizeof(int);
    else
        return AY_OK;
    memcpy(&n, (const char *)m + f->quantifier_offset, sizeof(n));
    memcpy(&elems, member_of(m, f), sizeof(elems));
    for (size_t i = 0; i < n; i++) {
        size_t mark = ay__codec_path_index(&c->path, i);
        enum ay_err rc = check_value(c, f, elems + i * size);
        if (rc != AY_OK)
            return rc;
        ay__codec_path_pop(&c->path, mark);
    }
    return AY_OK;
}

static enum ay_err check_message(struct check *c, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *desc = m->descriptor;

    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (!ay__codec_field_present(m, f))
            continue;
        size_t mark = ay__codec_path_field(&c->path, f);
        enum ay_err rc = check_field(c, m, f);
        if (rc != AY_OK)
            return rc;
        ay__codec_path_pop(&c->path, mark);
    }
    return AY_OK;
}

/* ---- entry point ---- */

enum ay_err ay_schema_validate(const ProtobufCMessage *m, int64_t now_us, char err[AY_ERRLEN])
{
    return ay_schema_validate_flags(m, now_us, 0, err);
}

enum ay_err ay_schema_validate_flags(const ProtobufCMessage *m, int64_t now_us, unsigned flags,
                                     char err[AY_ERRLEN])
{
    struct check c = {.err = err, .now_us = now_us, .flags = flags};
    const struct ay_msgtype *t = m != NULL ? ay_msgtype_by_desc(m->descriptor) : NULL;

    if (t == NULL) {
        ay_errf(err, "not a message type of the contract");
        return AY_ERR_INVALID;
    }
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const struct rule *r = &rules[i];
        struct leaf w;
        if (!type_matches(r, t))
            continue;
        if (r->when != NULL) {
            if (!resolve(m, r->when, &c.path, &w))
                return invalid(&c, "schema rule names a field the contract does not have (%s)",
                               r->when);
            if (w.owner == NULL || int_at(w.f->type, member_of(w.owner, w.f)) != r->when_value)
                continue;
        }
        enum ay_err rc = check_rule(&c, r, m);
        if (rc != AY_OK)
            return rc;
    }
    ay__codec_path_root(&c.path, m->descriptor);
    return check_message(&c, m);
}
