/*
 * test_alarmfeed.c - the police alarm feed's pure parts (services/alarmfeed:
 * alarmfeed.h, feedid.h, registry.h): what is forwarded, what a dispatcher
 * sees, the deterministic feed id, the drill rule. No broker, no database:
 * alarms are built from JSON, times are passed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alarmfeed.h"
#include "ay_codec.h"
#include "ay_msgtype.h"
#include "ay_schema.h"
#include "ay_time.h"
#include "feedid.h"
#include "registry.h"
#include "unit.h"

#define ALARM_TOPIC  "ay/v1/d01/school/sch-0102/btn-0102-01/alarm"
#define CANCEL_TOPIC "ay/v1/d01/school/sch-0102/btn-0102-01/alarm-cancel"
#define ALARM_ID     "7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a3"

#define HEADER(id, dev)                                                                            \
    "\"header\":{\"messageId\":\"" id "\",\"deviceId\":\"" dev "\",\"schoolId\":\"sch-0102\","     \
    "\"districtId\":\"d01\",\"sentAt\":\"2026-11-24T08:15:03.412Z\",\"schemaVersion\":1}"

static const char alarm_json[] = "{" HEADER(
    ALARM_ID,
    "btn-0102-01") ",\"kind\":\"ALARM_KIND_INTRUSION\","
                   "\"triggeredAt\":\"2026-11-24T08:15:02.950Z\",\"location\":\"东门门卫室\","
                   "\"geo\":{\"latitude\":31.5,\"longitude\":117.5},\"source\":\"ALARM_SOURCE_"
                   "SCHOOL\","
                   "\"note\":\"翻越护栏\"}";

static const char cancel_json[] =
    "{" HEADER("0b8e2f4a-6c1d-4e7b-8a3f-5d9c2e1b7a60",
               "btn-0102-01") ",\"alarmId\":\"" ALARM_ID
                              "\",\"reason\":\"ALARM_CANCEL_REASON_FALSE_ALARM\","
                              "\"cancelledAt\":\"2026-11-24T08:31:37Z\"}";

#define NOW() ayt_at("2026-11-24T08:15:03.431Z")

/* The protobuf bytes of a message of type given as JSON (*len bytes, freed by the caller). */
static uint8_t *encode(const char *type, const char *json, size_t *len)
{
    char err[AY_ERRLEN] = "";
    ProtobufCMessage *m = NULL;

    if (ay_codec_from_json(ay_msgtype_by_name(type)->desc, json, strlen(json), &m, err) != AY_OK)
        fail_msg("does not decode: %s", err);
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len + 1);
    assert_non_null(b);
    protobuf_c_message_pack(m, b);
    protobuf_c_message_free_unpacked(m, NULL);
    return b;
}

/* Decodes json of type as a delivery on topic; expects rc, and a reason containing want. */
static enum ay_err decode_as(const char *topic, const char *type, const char *json, bool retained,
                             struct alarmfeed_msg *out, char err[AY_ERRLEN])
{
    size_t len = 0;
    uint8_t *b = encode(type, json, &len);
    enum ay_err rc = alarmfeed_decode(topic, b, len, retained, NOW(), NOW(), out, err);
    free(b);
    return rc;
}

static void expect_refused(const char *topic, const char *type, const char *json, bool retained,
                           const char *want)
{
    struct alarmfeed_msg m;
    char err[AY_ERRLEN] = "";

    assert_int_equal(decode_as(topic, type, json, retained, &m, err), AY_ERR_INVALID);
    if (strstr(err, want) == NULL)
        fail_msg("reason \"%s\" does not contain \"%s\"", err, want);
}

/* A sealed registry: school sch-0102 (d01) with an address and phone; its
 * button btn-0102-01 at the east gate with a position; a shop's button
 * btn-0102-02; a disabled one; school sch-0999 of district d02; a test
 * window of btn-0102-01 from 09:00 to 10:00. */
static struct alarmfeed_registry *registry(void)
{
    struct alarmfeed_registry *r = NULL;
    struct alarmfeed_school_row s1 = {"sch-0102",        "d01",        "城东第一小学",
                                      "Chengdong No. 1", "城东路18号", "0551-62345678"};
    struct alarmfeed_school_row s2 = {"sch-0999", "d02", "别区学校", "", "", ""};
    struct alarmfeed_device_row d1 = {.id = "btn-0102-01",
                                      .school = "sch-0102",
                                      .kind = "button",
                                      .location = "东门门卫室（登记）",
                                      .enabled = true,
                                      .has_geo = true,
                                      .latitude = 31.820591,
                                      .longitude = 117.227239};
    struct alarmfeed_device_row d2 = {.id = "btn-0102-02",
                                      .school = "sch-0102",
                                      .kind = "nearby_shop",
                                      .place_name = "好邻居便利店",
                                      .enabled = true};
    struct alarmfeed_device_row d3 = {
        .id = "btn-0102-03", .school = "sch-0102", .kind = "button", .enabled = false};

    assert_int_equal(alarmfeed_registry_new(&r), AY_OK);
    assert_int_equal(alarmfeed_registry_add_school(r, &s2), AY_OK);
    assert_int_equal(alarmfeed_registry_add_school(r, &s1), AY_OK);
    assert_int_equal(alarmfeed_registry_add_device(r, &d2), AY_OK);
    assert_int_equal(alarmfeed_registry_add_device(r, &d1), AY_OK);
    assert_int_equal(alarmfeed_registry_add_device(r, &d3), AY_OK);
    assert_int_equal(alarmfeed_registry_add_window(r, "btn-0102-01", ayt_at("2026-11-24T09:00:00Z"),
                                                   ayt_at("2026-11-24T10:00:00Z")),
                     AY_OK);
    alarmfeed_registry_seal(r);
    return r;
}

/* The PoliceAlarm of out, packed, unpacked and checked by the contract. */
static Anyuan__V1__PoliceAlarm *published(const struct alarmfeed_out *out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[AY_ERRLEN] = "";

    assert_int_equal(alarmfeed_pack(out, &buf, &len), AY_OK);
    Anyuan__V1__PoliceAlarm *pa = anyuan__v1__police_alarm__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(pa);
    if (ay_schema_validate_flags(&pa->base, NOW(), AY_SCHEMA_ANY_CLOCK, err) != AY_OK)
        fail_msg("the feed message breaks the contract: %s", err);
    return pa;
}

/* m enriched with what r knows, as service svc-1 at NOW(), as published. */
static Anyuan__V1__PoliceAlarm *enriched(const struct alarmfeed_msg *m,
                                         const struct alarmfeed_registry *r)
{
    struct alarmfeed_out o;

    assert_int_equal(alarmfeed_enrich(m, r, "svc-1", NOW(), &o), AY_OK);
    return published(&o);
}

/* ---- the two wire forms (lib/ay_wire) ------------------------------------------ */

/* A JSON alarm (with or without its content type) is forwarded like a
 * protobuf one, and the PoliceAlarm is the same message in both forms. */
static void test_a_json_alarm_is_forwarded_in_both_forms(void **state)
{
    struct alarmfeed_msg m;
    struct alarmfeed_out o;
    char err[AY_ERRLEN] = "";
    uint8_t *pb = NULL, *js = NULL;
    size_t pblen = 0, jslen = 0;
    (void)state;

    assert_int_equal(alarmfeed_decode_as(ALARM_TOPIC, NULL, alarm_json, strlen(alarm_json), false,
                                         NOW(), NOW(), &m, err),
                     AY_OK);
    assert_string_equal(m.id, ALARM_ID);
    assert_int_equal(alarmfeed_enrich(&m, NULL, "svc-1", NOW(), &o), AY_OK);
    assert_int_equal(alarmfeed_pack_as(&o, AY_WIRE_PROTOBUF, &pb, &pblen), AY_OK);
    assert_int_equal(alarmfeed_pack_as(&o, AY_WIRE_JSON, &js, &jslen), AY_OK);
    ProtobufCMessage *from_json = NULL;
    assert_int_equal(ay_wire_decode(&anyuan__v1__police_alarm__descriptor, AY_WIRE_JSON, js, jslen,
                                    &from_json, err),
                     AY_OK);
    size_t n = protobuf_c_message_get_packed_size(from_json);
    uint8_t *again = malloc(n + 1);
    assert_non_null(again);
    protobuf_c_message_pack(from_json, again);
    assert_int_equal(n, pblen);
    assert_memory_equal(again, pb, pblen);
    free(again);
    protobuf_c_message_free_unpacked(from_json, NULL);
    free(pb);
    free(js);
    alarmfeed_msg_cleanup(&m);

    assert_int_equal(alarmfeed_decode_as(ALARM_TOPIC, "application/json", alarm_json,
                                         strlen(alarm_json), false, NOW(), NOW(), &m, err),
                     AY_OK);
    alarmfeed_msg_cleanup(&m);
    /* Bad JSON and unknown content types are not forwarded; the reason says why. */
    assert_int_equal(
        alarmfeed_decode_as(ALARM_TOPIC, NULL, "{\"kind\": ", 9, false, NOW(), NOW(), &m, err),
        AY_ERR_INVALID);
    assert_non_null(strstr(err, "alarm: invalid JSON"));
    assert_int_equal(alarmfeed_decode_as(ALARM_TOPIC, "text/plain", alarm_json, strlen(alarm_json),
                                         false, NOW(), NOW(), &m, err),
                     AY_ERR_INVALID);
    assert_non_null(strstr(err, "alarm: content type \"text/plain\" is not supported"));
}

/* ---- the feed id ------------------------------------------------------------ */

static void test_feed_id_is_the_documented_uuid_v8_of_the_alarm(void **state)
{
    char id[AY_UUID_STRLEN];
    char upper[AY_UUID_STRLEN];
    (void)state;

    /* The contract's example (docs/contract.md 5.12, tests/data/valid/police-alarm.json). */
    assert_int_equal(
        alarmfeed_feed_id(ALARMFEED_ALARM, "d01", "sch-0102", "btn-0102-01", ALARM_ID, id), AY_OK);
    assert_string_equal(id, "4602427c-f10f-8b49-b24a-10c20827eb83");
    assert_int_equal(id[14], '8');           /* version 8 */
    assert_non_null(strchr("89ab", id[19])); /* RFC variant */
    /* A device that sends its id in upper case gets the same feed id. */
    for (size_t i = 0; i < sizeof(upper); i++)
        upper[i] =
            (char)(ALARM_ID[i] >= 'a' && ALARM_ID[i] <= 'f' ? ALARM_ID[i] - 32 : ALARM_ID[i]);
    assert_int_equal(
        alarmfeed_feed_id(ALARMFEED_ALARM, "d01", "sch-0102", "btn-0102-01", upper, id), AY_OK);
    assert_string_equal(id, "4602427c-f10f-8b49-b24a-10c20827eb83");
}

static void test_feed_id_differs_by_event_and_device_never_by_delivery(void **state)
{
    char a[AY_UUID_STRLEN], b[AY_UUID_STRLEN], c[AY_UUID_STRLEN], again[AY_UUID_STRLEN];
    (void)state;

    alarmfeed_feed_id(ALARMFEED_ALARM, "d01", "sch-0102", "btn-0102-01", ALARM_ID, a);
    alarmfeed_feed_id(ALARMFEED_CANCEL, "d01", "sch-0102", "btn-0102-01", ALARM_ID, b);
    /* Two devices that (wrongly) send the same id: neither is dropped as a repeat. */
    alarmfeed_feed_id(ALARMFEED_ALARM, "d01", "sch-0102", "btn-0102-02", ALARM_ID, c);
    alarmfeed_feed_id(ALARMFEED_ALARM, "d01", "sch-0102", "btn-0102-01", ALARM_ID, again);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, ALARM_ID);
    assert_string_equal(a, again);
    assert_int_equal(
        alarmfeed_feed_id(ALARMFEED_ALARM, "d01", "sch-0102", "btn-0102-01", "not-a-uuid", a),
        AY_ERR_INVALID);
}

/* ---- what is forwarded -------------------------------------------------------- */

static void test_decode_takes_a_valid_alarm_and_cancel(void **state)
{
    struct alarmfeed_msg m;
    char err[AY_ERRLEN] = "";
    (void)state;

    assert_int_equal(decode_as(ALARM_TOPIC, "alarm", alarm_json, false, &m, err), AY_OK);
    assert_int_equal(m.event, ALARMFEED_ALARM);
    assert_string_equal(m.id, ALARM_ID);
    assert_non_null(m.alarm);
    assert_string_equal(m.clock_warning, "");
    alarmfeed_msg_cleanup(&m);
    assert_int_equal(decode_as(CANCEL_TOPIC, "alarm-cancel", cancel_json, false, &m, err), AY_OK);
    assert_int_equal(m.event, ALARMFEED_CANCEL);
    assert_non_null(m.cancel);
    alarmfeed_msg_cleanup(&m);
}

static void test_decode_refuses_junk_spoofed_headers_retained_and_other_topics(void **state)
{
    struct alarmfeed_msg m;
    char err[AY_ERRLEN] = "";
    (void)state;

    assert_int_equal(
        alarmfeed_decode(ALARM_TOPIC, "\xff\xff\xff junk", 8, false, NOW(), NOW(), &m, err),
        AY_ERR_INVALID);
    assert_non_null(strstr(err, "alarm: payload is not a valid anyuan.v1.Alarm"));
    /* An account's topic is trusted; a header speaking for another device is not. */
    expect_refused("ay/v1/d01/school/sch-0102/btn-0102-02/alarm", "alarm", alarm_json, false,
                   "alarm.header.deviceId: \"btn-0102-01\" does not match");
    expect_refused("ay/v1/d01/school/sch-0103/btn-0102-01/alarm", "alarm", alarm_json, false,
                   "alarm.header.schoolId");
    expect_refused("ay/v1/d02/school/sch-0102/btn-0102-01/alarm", "alarm", alarm_json, false,
                   "alarm.header.districtId");
    expect_refused(ALARM_TOPIC, "alarm", alarm_json, true, "retain");
    expect_refused("ay/v1/d01/school/sch-0102/btn-0102-01/notice", "alarm", alarm_json, false,
                   "topic: not an alarm or alarm-cancel topic");
    expect_refused("ay/v1/d01/police/alarm", "alarm", alarm_json, false, "topic");
    /* The contract's rules: a location is required. */
    expect_refused(ALARM_TOPIC, "alarm",
                   "{" HEADER(ALARM_ID, "btn-0102-01") ",\"kind\":\"ALARM_KIND_PANIC\","
                                                       "\"triggeredAt\":\"2026-11-24T08:15:02Z\","
                                                       "\"source\":\"ALARM_SOURCE_SCHOOL\"}",
                   false, "alarm.location: required");
}

static void test_decode_never_refuses_an_alarm_for_the_device_clock(void **state)
{
    struct alarmfeed_msg m;
    char err[AY_ERRLEN] = "";
    (void)state;

    /* A button whose clock says 1999: forwarded, with the reason as a warning. */
    assert_int_equal(
        decode_as(
            ALARM_TOPIC, "alarm",
            "{" HEADER(
                ALARM_ID,
                "btn-0102-01") ",\"kind\":\"ALARM_KIND_PANIC\","
                               "\"triggeredAt\":\"1999-12-31T23:00:00Z\",\"location\":\"东门\","
                               "\"source\":\"ALARM_SOURCE_SCHOOL\"}",
            false, &m, err),
        AY_OK);
    assert_non_null(strstr(m.clock_warning, "alarm.triggeredAt"));
    assert_non_null(strstr(m.clock_warning, "before 2000-01-01"));
    alarmfeed_msg_cleanup(&m);
    /* Two days in the past: a warning too. */
    assert_int_equal(
        decode_as(
            ALARM_TOPIC, "alarm",
            "{" HEADER(
                ALARM_ID,
                "btn-0102-01") ",\"kind\":\"ALARM_KIND_PANIC\","
                               "\"triggeredAt\":\"2026-11-22T08:00:00Z\",\"location\":\"东门\","
                               "\"source\":\"ALARM_SOURCE_SCHOOL\"}",
            false, &m, err),
        AY_OK);
    assert_non_null(strstr(m.clock_warning, "more than 24 h in the past"));
    alarmfeed_msg_cleanup(&m);
}

/* ---- what the dispatcher sees -------------------------------------------------- */

static void test_enrich_names_the_school_and_the_registered_place(void **state)
{
    struct alarmfeed_registry *r = registry();
    struct alarmfeed_msg m;
    struct alarmfeed_out o;
    char err[AY_ERRLEN] = "";
    (void)state;

    assert_int_equal(decode_as(ALARM_TOPIC, "alarm", alarm_json, false, &m, err), AY_OK);
    assert_int_equal(alarmfeed_enrich(&m, r, "svc-recorder-af-1", NOW() + 2000, &o), AY_OK);
    assert_string_equal(o.topic, "ay/v1/d01/police/alarm");
    Anyuan__V1__PoliceAlarm *pa = published(&o);
    assert_int_equal(pa->event, ANYUAN__V1__POLICE_ALARM_EVENT__POLICE_ALARM_EVENT_ALARM);
    assert_string_equal(pa->header->message_id, "4602427c-f10f-8b49-b24a-10c20827eb83");
    assert_string_equal(pa->header->device_id, "svc-recorder-af-1");
    assert_string_equal(pa->header->district_id, "d01");
    assert_string_equal(pa->header->school_id, "");
    assert_string_equal(pa->alarm_id, ALARM_ID);
    assert_string_equal(pa->school_id, "sch-0102");
    assert_string_equal(pa->device_id, "btn-0102-01");
    assert_false(pa->device_unknown);
    assert_false(pa->test);
    assert_string_equal(pa->school_name, "城东第一小学");
    assert_string_equal(pa->school_name_en, "Chengdong No. 1");
    assert_string_equal(pa->school_address, "城东路18号");
    assert_string_equal(pa->school_phone, "0551-62345678");
    assert_int_equal(pa->source, ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_SCHOOL);
    assert_string_equal(pa->source_label, "校园内");
    assert_string_equal(pa->source_label_en, "On campus");
    /* The registered place wins; the device's own words are kept beside it. */
    assert_string_equal(pa->location, "东门门卫室（登记）");
    assert_string_equal(pa->reported_location, "东门门卫室");
    assert_non_null(pa->geo);
    assert_true(pa->geo->latitude == 31.820591 && pa->geo->longitude == 117.227239);
    assert_int_equal(pa->kind, ANYUAN__V1__ALARM_KIND__ALARM_KIND_INTRUSION);
    assert_string_equal(pa->kind_label, "非法闯入");
    assert_string_equal(pa->kind_label_en, "Intrusion");
    assert_int_equal(ay_time_to_us(pa->triggered_at->seconds, pa->triggered_at->nanos),
                     ayt_at("2026-11-24T08:15:02.950Z"));
    assert_int_equal(ay_time_to_us(pa->received_at->seconds, pa->received_at->nanos), NOW());
    assert_int_equal(ay_time_to_us(pa->header->sent_at->seconds, pa->header->sent_at->nanos),
                     NOW() + 2000);
    assert_string_equal(pa->note, "翻越护栏");
    assert_string_equal(pa->clock_warning, "");
    assert_int_equal(pa->cancel_reason, 0);
    anyuan__v1__police_alarm__free_unpacked(pa, NULL);
    alarmfeed_msg_cleanup(&m);
    alarmfeed_registry_free(r);
}

static void test_enrich_a_shop_button_says_nearby_shop_and_its_name(void **state)
{
    struct alarmfeed_registry *r = registry();
    struct alarmfeed_msg m;
    char err[AY_ERRLEN] = "";
    static const char json[] = "{" HEADER(
        ALARM_ID, "btn-0102-02") ",\"kind\":\"ALARM_KIND_PANIC\","
                                 "\"triggeredAt\":\"2026-11-24T08:15:02Z\",\"location\":\"收银台\","
                                 "\"source\":\"ALARM_SOURCE_SCHOOL\"}";
    (void)state;

    assert_int_equal(
        decode_as("ay/v1/d01/school/sch-0102/btn-0102-02/alarm", "alarm", json, false, &m, err),
        AY_OK);
    Anyuan__V1__PoliceAlarm *pa = enriched(&m, r);
    assert_false(pa->device_unknown);
    /* The registry knows better than the button's firmware where it is. */
    assert_int_equal(pa->source, ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_NEARBY_SHOP);
    assert_string_equal(pa->source_label, "周边商户");
    assert_string_equal(pa->place_name, "好邻居便利店");
    /* No registered location or position: the alarm's own. */
    assert_string_equal(pa->location, "收银台");
    assert_null(pa->geo);
    anyuan__v1__police_alarm__free_unpacked(pa, NULL);
    alarmfeed_msg_cleanup(&m);
    alarmfeed_registry_free(r);
}

static void test_enrich_an_unknown_device_goes_out_marked_with_the_alarms_own_place(void **state)
{
    struct alarmfeed_registry *r = registry();
    struct alarmfeed_msg m;
    char err[AY_ERRLEN] = "";
    static const char json[] = "{" HEADER(
        ALARM_ID, "btn-new") ",\"kind\":\"ALARM_KIND_FIRE\","
                             "\"triggeredAt\":\"2026-11-24T08:15:02Z\",\"location\":\"食堂\","
                             "\"geo\":{\"latitude\":31.5,\"longitude\":117.5},\"source\":\"ALARM_"
                             "SOURCE_NEARBY_HOME\"}";
    (void)state;

    assert_int_equal(
        decode_as("ay/v1/d01/school/sch-0102/btn-new/alarm", "alarm", json, false, &m, err), AY_OK);
    /* Known school, unknown device. */
    Anyuan__V1__PoliceAlarm *pa = enriched(&m, r);
    assert_true(pa->device_unknown);
    assert_string_equal(pa->school_name, "城东第一小学");
    assert_string_equal(pa->location, "食堂");
    assert_true(pa->geo != NULL && pa->geo->latitude == 31.5);
    assert_int_equal(pa->source, ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_NEARBY_HOME);
    assert_string_equal(pa->kind_label, "火警");
    anyuan__v1__police_alarm__free_unpacked(pa, NULL);
    /* No registry loaded at all (the database was down at start). */
    pa = enriched(&m, NULL);
    assert_true(pa->device_unknown);
    assert_string_equal(pa->school_name, "");
    assert_string_equal(pa->location, "食堂");
    anyuan__v1__police_alarm__free_unpacked(pa, NULL);
    alarmfeed_msg_cleanup(&m);
    alarmfeed_registry_free(r);
}

static void test_enrich_a_disabled_or_misplaced_device_is_unknown(void **state)
{
    struct alarmfeed_registry *r = registry();
    struct alarmfeed_msg m;
    struct alarmfeed_out o;
    char err[AY_ERRLEN] = "";
    static const char disabled[] = "{" HEADER(
        ALARM_ID, "btn-0102-03") ",\"kind\":\"ALARM_KIND_PANIC\","
                                 "\"triggeredAt\":\"2026-11-24T08:15:02Z\",\"location\":\"x\","
                                 "\"source\":\"ALARM_SOURCE_SCHOOL\"}";
    static const char elsewhere[] =
        "{\"header\":{\"messageId\":\"" ALARM_ID "\",\"deviceId\":\"btn-0102-01\","
        "\"schoolId\":\"sch-0999\",\"districtId\":\"d01\",\"sentAt\":\"2026-11-24T08:15:03Z\","
        "\"schemaVersion\":1},\"kind\":\"ALARM_KIND_PANIC\","
        "\"triggeredAt\":\"2026-11-24T08:15:02Z\",\"location\":\"x\","
        "\"source\":\"ALARM_SOURCE_SCHOOL\"}";
    (void)state;

    assert_int_equal(
        decode_as("ay/v1/d01/school/sch-0102/btn-0102-03/alarm", "alarm", disabled, false, &m, err),
        AY_OK);
    assert_int_equal(alarmfeed_enrich(&m, r, "svc-1", NOW(), &o), AY_OK);
    assert_true(o.pa.device_unknown);
    alarmfeed_msg_cleanup(&m);
    /* btn-0102-01 is registered in sch-0102; school sch-0999 is in d02, not d01. */
    assert_int_equal(decode_as("ay/v1/d01/school/sch-0999/btn-0102-01/alarm", "alarm", elsewhere,
                               false, &m, err),
                     AY_OK);
    Anyuan__V1__PoliceAlarm *pa = enriched(&m, r);
    assert_true(pa->device_unknown);
    assert_string_equal(pa->school_name, "");
    assert_string_equal(pa->location, "x");
    anyuan__v1__police_alarm__free_unpacked(pa, NULL);
    alarmfeed_msg_cleanup(&m);
    alarmfeed_registry_free(r);
}

static void test_enrich_a_cancel_quotes_the_alarm_and_says_why(void **state)
{
    struct alarmfeed_registry *r = registry();
    struct alarmfeed_msg m;
    char err[AY_ERRLEN] = "";
    (void)state;

    assert_int_equal(decode_as(CANCEL_TOPIC, "alarm-cancel", cancel_json, false, &m, err), AY_OK);
    Anyuan__V1__PoliceAlarm *pa = enriched(&m, r);
    assert_int_equal(pa->event, ANYUAN__V1__POLICE_ALARM_EVENT__POLICE_ALARM_EVENT_CANCEL);
    assert_string_equal(pa->header->message_id, "b34d9226-cdd7-8137-9519-bae24e7a82e8");
    assert_string_equal(pa->alarm_id, ALARM_ID);
    assert_string_equal(pa->cancel_id, "0b8e2f4a-6c1d-4e7b-8a3f-5d9c2e1b7a60");
    assert_int_equal(pa->cancel_reason,
                     ANYUAN__V1__ALARM_CANCEL_REASON__ALARM_CANCEL_REASON_FALSE_ALARM);
    assert_string_equal(pa->cancel_reason_label, "误报");
    assert_string_equal(pa->cancel_reason_label_en, "False alarm");
    assert_int_equal(ay_time_to_us(pa->cancelled_at->seconds, pa->cancelled_at->nanos),
                     ayt_at("2026-11-24T08:31:37Z"));
    assert_null(pa->triggered_at);
    assert_int_equal(pa->kind, 0);
    assert_string_equal(pa->school_phone, "0551-62345678");
    assert_string_equal(pa->location, "东门门卫室（登记）");
    assert_string_equal(pa->reported_location, "");
    assert_false(pa->test);
    anyuan__v1__police_alarm__free_unpacked(pa, NULL);
    alarmfeed_msg_cleanup(&m);
    alarmfeed_registry_free(r);
}

/* ---- drills ------------------------------------------------------------------ */

static void test_a_drill_is_is_test_or_inside_a_test_window_by_reception_time(void **state)
{
    struct alarmfeed_registry *r = registry();
    struct alarmfeed_msg m;
    char err[AY_ERRLEN] = "";
    static const char drill[] =
        "{" HEADER(ALARM_ID, "btn-0102-01") ",\"kind\":\"ALARM_KIND_PANIC\","
                                            "\"triggeredAt\":\"2026-11-24T08:15:02Z\",\"location\":"
                                            "\"东门\",\"isTest\":true,"
                                            "\"source\":\"ALARM_SOURCE_SCHOOL\"}";
    (void)state;

    assert_int_equal(decode_as(ALARM_TOPIC, "alarm", drill, false, &m, err), AY_OK);
    assert_true(alarmfeed_is_test(&m, NULL));
    alarmfeed_msg_cleanup(&m);

    assert_int_equal(decode_as(ALARM_TOPIC, "alarm", alarm_json, false, &m, err), AY_OK);
    m.received_us = ayt_at("2026-11-24T08:59:59.999999Z");
    assert_false(alarmfeed_is_test(&m, r));
    m.received_us = ayt_at("2026-11-24T09:00:00Z"); /* the window's start is in it */
    assert_true(alarmfeed_is_test(&m, r));
    m.received_us = ayt_at("2026-11-24T09:59:59Z");
    assert_true(alarmfeed_is_test(&m, r));
    m.received_us = ayt_at("2026-11-24T10:00:00Z"); /* its end is not */
    assert_false(alarmfeed_is_test(&m, r));
    /* The device's own clock does not matter, only when the backbone got it. */
    m.received_us = ayt_at("2026-11-24T09:30:00Z");
    struct alarmfeed_out o;
    assert_int_equal(alarmfeed_enrich(&m, r, "svc-1", NOW(), &o), AY_OK);
    assert_true(o.pa.test);
    alarmfeed_msg_cleanup(&m);

    /* Another button in the same minute is not in that window. */
    assert_false(
        alarmfeed_registry_in_test_window(r, "btn-0102-02", ayt_at("2026-11-24T09:30:00Z")));
    /* A cancel whose reason is the end of a test is a test. */
    static const char over[] =
        "{" HEADER("0b8e2f4a-6c1d-4e7b-8a3f-5d9c2e1b7a60",
                   "btn-0102-01") ",\"alarmId\":\"" ALARM_ID
                                  "\",\"reason\":\"ALARM_CANCEL_REASON_TEST_OVER\",\"cancelledAt\":"
                                  "\"2026-11-24T08:31:37Z\"}";
    assert_int_equal(decode_as(CANCEL_TOPIC, "alarm-cancel", over, false, &m, err), AY_OK);
    assert_true(alarmfeed_is_test(&m, r));
    alarmfeed_msg_cleanup(&m);
    alarmfeed_registry_free(r);
}

/* ---- the registry snapshot ------------------------------------------------------ */

static void test_registry_clips_text_at_utf8_boundaries_and_drops_bad_rows(void **state)
{
    struct alarmfeed_registry *r = NULL;
    char long_name[400];
    (void)state;

    char *c = alarmfeed_clip_dup("学校", 4); /* 6 bytes; 4 would cut the second character */
    assert_string_equal(c, "学");
    free(c);
    c = alarmfeed_clip_dup(NULL, 10);
    assert_string_equal(c, "");
    free(c);

    memset(long_name, 0, sizeof(long_name));
    for (size_t i = 0; i + 3 < sizeof(long_name) - 1; i += 3)
        memcpy(long_name + i, "校", 3);
    struct alarmfeed_school_row s = {"sch-1", "d01", long_name, "", "", ""};
    struct alarmfeed_school_row bad = {"Sch 1", "d01", "", "", "", ""};
    struct alarmfeed_device_row nofix = {.id = "btn-1",
                                         .school = "sch-1",
                                         .kind = "nearby_home",
                                         .enabled = true,
                                         .has_geo = true,
                                         .latitude = 0.0,
                                         .longitude = 0.0};
    assert_int_equal(alarmfeed_registry_new(&r), AY_OK);
    assert_int_equal(alarmfeed_registry_add_school(r, &s), AY_OK);
    assert_int_equal(alarmfeed_registry_add_school(r, &bad), AY_ERR_INVALID);
    assert_int_equal(alarmfeed_registry_add_device(r, &nofix), AY_OK);
    assert_int_equal(alarmfeed_registry_add_window(r, "btn-1", 10, 10), AY_ERR_INVALID);
    alarmfeed_registry_seal(r);
    const struct alarmfeed_school *sc = alarmfeed_registry_school(r, "sch-1");
    assert_non_null(sc);
    assert_int_equal(strlen(sc->name_zh), AY_SCHEMA_SHORT_MAX - AY_SCHEMA_SHORT_MAX % 3);
    const struct alarmfeed_device *d = alarmfeed_registry_device(r, "btn-1");
    assert_non_null(d);
    assert_false(d->has_geo); /* 0/0 is "no fix" */
    assert_int_equal(d->source, ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_NEARBY_HOME);
    assert_null(alarmfeed_registry_device(r, "btn-2"));
    assert_null(alarmfeed_registry_school(NULL, "sch-1"));
    assert_int_equal(alarmfeed_registry_schools(r), 1);
    assert_int_equal(alarmfeed_registry_devices(r), 1);
    assert_int_equal(alarmfeed_registry_windows(r), 0);
    alarmfeed_registry_free(r);
    alarmfeed_registry_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feed_id_is_the_documented_uuid_v8_of_the_alarm),
        cmocka_unit_test(test_feed_id_differs_by_event_and_device_never_by_delivery),
        cmocka_unit_test(test_decode_takes_a_valid_alarm_and_cancel),
        cmocka_unit_test(test_decode_refuses_junk_spoofed_headers_retained_and_other_topics),
        cmocka_unit_test(test_decode_never_refuses_an_alarm_for_the_device_clock),
        cmocka_unit_test(test_enrich_names_the_school_and_the_registered_place),
        cmocka_unit_test(test_enrich_a_shop_button_says_nearby_shop_and_its_name),
        cmocka_unit_test(test_enrich_an_unknown_device_goes_out_marked_with_the_alarms_own_place),
        cmocka_unit_test(test_enrich_a_disabled_or_misplaced_device_is_unknown),
        cmocka_unit_test(test_enrich_a_cancel_quotes_the_alarm_and_says_why),
        cmocka_unit_test(test_a_drill_is_is_test_or_inside_a_test_window_by_reception_time),
        cmocka_unit_test(test_registry_clips_text_at_utf8_boundaries_and_drops_bad_rows),
        cmocka_unit_test(test_a_json_alarm_is_forwarded_in_both_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
