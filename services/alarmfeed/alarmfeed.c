/*
 * alarmfeed.c - decoding, validation, enrichment and packing of the police
 * alarm feed; pure (no clock, no I/O). See alarmfeed.h.
 */
#include "alarmfeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anyuan/v1/common.pb-c.h"
#include "ay_labels.h"
#include "ay_msgtype.h"
#include "ay_schema.h"
#include "ay_time.h"

/* ---- decoding ------------------------------------------------------------- */

void alarmfeed_msg_cleanup(struct alarmfeed_msg *m)
{
    if (m == NULL)
        return;
    if (m->msg)
        protobuf_c_message_free_unpacked(m->msg, NULL);
    memset(m, 0, sizeof(*m));
}

/* The header must speak for the topic: the broker's ACLs scope the topic to
 * the sender's account, so the topic is the trusted part (as the recorder). */
static enum ay_err header_matches(const char *type, const Anyuan__V1__Header *h,
                                  const struct ay_topic *t, char err[AY_ERRLEN])
{
    if (strcmp(h->district_id, t->district) != 0) {
        ay_errf(err, "%s.header.districtId: \"%s\" does not match the topic's district \"%s\"",
                type, h->district_id, t->district);
        return AY_ERR_INVALID;
    }
    if (strcmp(h->school_id, t->school) != 0) {
        ay_errf(err, "%s.header.schoolId: \"%s\" does not match the topic's school \"%s\"", type,
                h->school_id, t->school);
        return AY_ERR_INVALID;
    }
    if (strcmp(h->device_id, t->device) != 0) {
        ay_errf(err, "%s.header.deviceId: \"%s\" does not match the topic's device \"%s\"", type,
                h->device_id, t->device);
        return AY_ERR_INVALID;
    }
    return AY_OK;
}

/*
 * Times, as the recorder judges them: an alarm or its cancel is never
 * refused for its times (the button's clock may be wrong). If the strict
 * check fails but the one that lets event times lie anywhere passes, the
 * strict reason is the clock warning; a time more than 24 h in the past is
 * a warning too.
 */
static enum ay_err validate(struct alarmfeed_msg *m, int64_t now_us, char err[AY_ERRLEN])
{
    char strict[AY_ERRLEN] = "";

    if (ay_schema_validate(m->msg, now_us, strict) != AY_OK) {
        if (ay_schema_validate_flags(m->msg, now_us, AY_SCHEMA_ANY_CLOCK, err) != AY_OK)
            return AY_ERR_INVALID;
        snprintf(m->clock_warning, sizeof(m->clock_warning), "%s", strict);
    } else if (ay_schema_validate_flags(m->msg, now_us, AY_SCHEMA_PAST_24H, strict) != AY_OK) {
        snprintf(m->clock_warning, sizeof(m->clock_warning), "%s", strict);
    }
    return AY_OK;
}

enum ay_err alarmfeed_decode(const char *topic, const void *payload, size_t len, bool retained,
                             int64_t received_us, int64_t now_us, struct alarmfeed_msg *out,
                             char err[AY_ERRLEN])
{
    return alarmfeed_decode_as(topic, NULL, payload, len, retained, received_us, now_us, out, err);
}

enum ay_err alarmfeed_decode_as(const char *topic, const char *content_type, const void *payload,
                                size_t len, bool retained, int64_t received_us, int64_t now_us,
                                struct alarmfeed_msg *out, char err[AY_ERRLEN])
{
    struct alarmfeed_msg m = {.received_us = received_us};
    const struct ay_msgtype *type = NULL;
    const Anyuan__V1__Header *h = NULL;
    enum ay_wire wire = AY_WIRE_PROTOBUF;
    enum ay_err rc = AY_ERR_INVALID;

    if (ay_topic_parse(topic, &m.where, err) != AY_OK)
        return AY_ERR_INVALID;
    if (m.where.cls != AY_TOPIC_SCHOOL ||
        (strcmp(m.where.kind, "alarm") != 0 && strcmp(m.where.kind, "alarm-cancel") != 0)) {
        ay_errf(err, "topic: not an alarm or alarm-cancel topic");
        return AY_ERR_INVALID;
    }
    type = ay_msgtype_by_name(m.where.kind);
    char werr[AY_ERRLEN] = "";
    if (ay_wire_detect(content_type, payload, len, &wire, werr) != AY_OK) {
        ay_errf(err, "%s: %s", type->name, werr);
        return AY_ERR_INVALID;
    }
    enum ay_err drc = ay_wire_decode(type->desc, wire, payload, len, &m.msg, err);
    if (drc != AY_OK)
        return drc;
    if (retained) {
        ay_errf(err, "%s: published with the retain flag (it would be replayed as new)",
                type->name);
        goto cleanup;
    }
    if ((rc = validate(&m, now_us, err)) != AY_OK)
        goto cleanup;
    if (m.msg->descriptor == &anyuan__v1__alarm__descriptor) {
        m.event = ALARMFEED_ALARM;
        m.alarm = (const Anyuan__V1__Alarm *)m.msg;
        h = m.alarm->header;
    } else {
        m.event = ALARMFEED_CANCEL;
        m.cancel = (const Anyuan__V1__AlarmCancel *)m.msg;
        h = m.cancel->header;
    }
    if ((rc = header_matches(type->name, h, &m.where, err)) != AY_OK)
        goto cleanup;
    m.id = h->message_id;
    *out = m;
    return AY_OK;
cleanup:
    alarmfeed_msg_cleanup(&m);
    return rc;
}

/* ---- enrichment ----------------------------------------------------------- */

/* protobuf-c's string fields are `char *`; the packer never writes them. */
static char *str(const char *s)
{
    return (char *)(s ? s : "");
}

static char *label(const ProtobufCEnumDescriptor *d, int value, enum ay_lang lang)
{
    return value == 0 ? str(NULL) : str(ay_label(d, value, lang));
}

static void set_time(Anyuan__V1__Timestamp *ts, int64_t us)
{
    int64_t secs;
    int32_t nanos;

    anyuan__v1__timestamp__init(ts);
    ay_time_from_us(us, &secs, &nanos);
    ts->seconds = secs;
    ts->nanos = nanos;
}

/* The registry's device, if it is an enabled device of the topic's school
 * and that school is in the topic's district. */
static const struct alarmfeed_device *known_device(const struct alarmfeed_msg *m,
                                                   const struct alarmfeed_registry *reg,
                                                   const struct alarmfeed_school *school)
{
    const struct alarmfeed_device *d = alarmfeed_registry_device(reg, m->where.device);

    if (d == NULL || !d->enabled || school == NULL || strcmp(d->school, m->where.school) != 0)
        return NULL;
    return d;
}

bool alarmfeed_is_test(const struct alarmfeed_msg *m, const struct alarmfeed_registry *reg)
{
    if (m->alarm != NULL && m->alarm->is_test)
        return true;
    if (m->cancel != NULL &&
        m->cancel->reason == ANYUAN__V1__ALARM_CANCEL_REASON__ALARM_CANCEL_REASON_TEST_OVER)
        return true;
    return alarmfeed_registry_in_test_window(reg, m->where.device, m->received_us);
}

/* Where the button is and what it is: the registry's, else the alarm's. */
static void place(struct alarmfeed_out *o, const struct alarmfeed_msg *m,
                  const struct alarmfeed_device *dev)
{
    Anyuan__V1__PoliceAlarm *pa = &o->pa;
    const Anyuan__V1__Alarm *a = m->alarm;

    pa->source =
        dev ? dev->source : (a ? a->source : ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_UNSPECIFIED);
    pa->source_label = label(&anyuan__v1__alarm_source__descriptor, (int)pa->source, AY_LANG_ZH);
    pa->source_label_en = label(&anyuan__v1__alarm_source__descriptor, (int)pa->source, AY_LANG_EN);
    pa->place_name = str(dev ? dev->place_name : NULL);
    pa->location = str(dev && dev->location[0] ? dev->location : (a ? a->location : NULL));
    pa->reported_location = str(a ? a->location : NULL);
    if (dev && dev->has_geo) {
        anyuan__v1__geo_point__init(&o->geo);
        o->geo.latitude = dev->latitude;
        o->geo.longitude = dev->longitude;
        pa->geo = &o->geo;
    } else {
        pa->geo = a ? a->geo : NULL;
    }
}

/* What happened: the alarm's kind and time, or the cancel's reason and time. */
static void event(Anyuan__V1__PoliceAlarm *pa, const struct alarmfeed_msg *m)
{
    const ProtobufCEnumDescriptor *kinds = &anyuan__v1__alarm_kind__descriptor;
    const ProtobufCEnumDescriptor *reasons = &anyuan__v1__alarm_cancel_reason__descriptor;

    if (m->alarm) {
        pa->event = ANYUAN__V1__POLICE_ALARM_EVENT__POLICE_ALARM_EVENT_ALARM;
        pa->alarm_id = str(m->id);
        pa->kind = m->alarm->kind;
        pa->kind_label = label(kinds, (int)pa->kind, AY_LANG_ZH);
        pa->kind_label_en = label(kinds, (int)pa->kind, AY_LANG_EN);
        pa->triggered_at = m->alarm->triggered_at;
        pa->note = str(m->alarm->note);
        return;
    }
    pa->event = ANYUAN__V1__POLICE_ALARM_EVENT__POLICE_ALARM_EVENT_CANCEL;
    pa->alarm_id = str(m->cancel->alarm_id);
    pa->cancel_id = str(m->id);
    pa->cancel_reason = m->cancel->reason;
    pa->cancel_reason_label = label(reasons, (int)pa->cancel_reason, AY_LANG_ZH);
    pa->cancel_reason_label_en = label(reasons, (int)pa->cancel_reason, AY_LANG_EN);
    pa->cancelled_at = m->cancel->cancelled_at;
    pa->note = str(m->cancel->note);
}

enum ay_err alarmfeed_enrich(const struct alarmfeed_msg *m, const struct alarmfeed_registry *reg,
                             const char *service_id, int64_t now_us, struct alarmfeed_out *out)
{
    Anyuan__V1__PoliceAlarm *pa = &out->pa;
    const struct alarmfeed_school *school = alarmfeed_registry_school(reg, m->where.school);

    if (school != NULL && strcmp(school->district, m->where.district) != 0)
        school = NULL; /* a school of that id, but in another district */
    const struct alarmfeed_device *dev = known_device(m, reg, school);
    int n = snprintf(out->topic, sizeof(out->topic), "ay/v1/%s/police/alarm", m->where.district);
    if (n < 0 || (size_t)n >= sizeof(out->topic) ||
        alarmfeed_feed_id(m->event, m->where.district, m->where.school, m->where.device, m->id,
                          out->feed_id) != AY_OK)
        return AY_ERR_INVALID;
    snprintf(out->service_id, sizeof(out->service_id), "%s",
             ay_schema_id_is_valid(service_id) ? service_id : "alarmfeed");

    anyuan__v1__police_alarm__init(pa);
    anyuan__v1__header__init(&out->header);
    set_time(&out->sent_at, now_us);
    set_time(&out->received_at, m->received_us);
    out->header.message_id = out->feed_id;
    out->header.device_id = out->service_id;
    out->header.district_id = str(m->where.district);
    out->header.sent_at = &out->sent_at;
    out->header.schema_version = 1;
    pa->header = &out->header;
    event(pa, m);
    pa->school_id = str(m->where.school);
    pa->device_id = str(m->where.device);
    pa->device_unknown = dev == NULL;
    pa->test = alarmfeed_is_test(m, reg);
    if (school != NULL) {
        pa->school_name = school->name_zh;
        pa->school_name_en = school->name_en;
        pa->school_address = school->address;
        pa->school_phone = school->phone;
    }
    place(out, m, dev);
    pa->received_at = &out->received_at;
    pa->clock_warning = str(m->clock_warning);
    return AY_OK;
}

/* ---- packing -------------------------------------------------------------- */

enum ay_err alarmfeed_pack(const struct alarmfeed_out *out, uint8_t **buf, size_t *len)
{
    return alarmfeed_pack_as(out, AY_WIRE_PROTOBUF, buf, len);
}

enum ay_err alarmfeed_pack_as(const struct alarmfeed_out *out, enum ay_wire wire, uint8_t **buf,
                              size_t *len)
{
    char err[AY_ERRLEN];
    /* The registry's strings are clipped to valid UTF-8 when loaded, the
     * message's were checked: JSON can always carry the PoliceAlarm. */
    return ay_wire_encode(&out->pa.base, wire, buf, len, err);
}
