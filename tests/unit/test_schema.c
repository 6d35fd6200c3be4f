/*
 * test_schema.c - validation beyond types (lib/ay_schema.h).
 *
 * The present is fixed: NOW_US is 2026-12-01T00:00:00Z, after every example
 * in tests/data/valid/. Messages that decode but break a rule live in
 * tests/data/invalid/ next to those the codec refuses; each case asserts the
 * error code and that the reason names the field by its JSON path.
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

#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/device.pb-c.h"
#include "anyuan/v1/hazard.pb-c.h"
#include "anyuan/v1/incident.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_msgtype.h"
#include "ay_schema.h"
#include "unit.h"

#define NOW_US  (1796083200LL * 1000000) /* 2026-12-01T00:00:00Z */
#define HOUR_US (3600LL * 1000000)

/* ---- helpers ---- */

static ProtobufCMessage *load(const char *type, const char *dir, const char *file)
{
    char rel[256];
    char err[AY_ERRLEN] = "";
    ProtobufCMessage *m = NULL;
    size_t len = 0;

    snprintf(rel, sizeof(rel), "%s/%s", dir, file);
    char *buf = ayt_read_data(rel, &len);
    if (ay_codec_from_json(ay_msgtype_by_name(type)->desc, buf, len, &m, err) != AY_OK)
        fail_msg("%s does not decode: %s", rel, err);
    free(buf);
    return m;
}

static ProtobufCMessage *load_valid(const char *type)
{
    char file[64];

    snprintf(file, sizeof(file), "%s.json", type);
    return load(type, "valid", file);
}

static ProtobufCMessage *decode(const char *type, const char *json)
{
    char err[AY_ERRLEN] = "";
    ProtobufCMessage *m = NULL;

    if (ay_codec_from_json(ay_msgtype_by_name(type)->desc, json, strlen(json), &m, err) != AY_OK)
        fail_msg("does not decode: %s", err);
    return m;
}

static void assert_invalid(const ProtobufCMessage *m, int64_t now_us, const char *want)
{
    char err[AY_ERRLEN] = "";

    assert_int_equal(ay_schema_validate(m, now_us, err), AY_ERR_INVALID);
    print_message("  -> %s\n", err);
    if (strstr(err, want) == NULL)
        fail_msg("reason \"%s\" does not contain \"%s\"", err, want);
}

static void assert_valid(const ProtobufCMessage *m, int64_t now_us)
{
    char err[AY_ERRLEN] = "";

    if (ay_schema_validate(m, now_us, err) != AY_OK)
        fail_msg("unexpected: %s", err);
}

/* ---- the examples ---- */

static void test_schema_accepts_every_valid_example(void **state)
{
    size_t n;
    const struct ay_msgtype *all = ay_msgtype_all(&n);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        print_message("%s\n", all[i].name);
        ProtobufCMessage *m = load_valid(all[i].name);
        assert_valid(m, NOW_US);
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

struct bad_file {
    const char *file;
    const char *type;
    const char *want;
};

static const struct bad_file bad_files[] = {
    {"alarm-missing-message-id.json", "alarm", "alarm.header.messageId: required"},
    {"alarm-cancel-bad-uuid.json", "alarm-cancel", "alarm-cancel.alarmId: must be a UUID"},
    {"alarm-cancel-null-header.json", "alarm-cancel", "alarm-cancel.header: required"},
    {"notice-bullying-without-people.json", "notice", "notice.peopleInvolved: required"},
    {"notice-bad-phone.json", "notice", "notice.reporter.phone: must be a phone number"},
    {"notice-bad-latitude.json", "notice", "notice.geo: latitude must be -90..90, got 131.821"},
    {"report-final-without-lessons.json", "report", "report.lessons: required"},
    {"hazard-update-registered.json", "hazard-update",
     "hazard-update.status: HAZARD_STATUS_REGISTERED is not allowed here"},
    {"hazard-without-responsible.json", "hazard", "hazard.responsible.name: required"},
    {"alarm-future-time.json", "alarm",
     "alarm.triggeredAt: 2027-11-24T08:15:02Z is more than 24 h in the future"},
    {"alarm-bad-school-id.json", "alarm", "alarm.header.schoolId: must be 1..32 characters"},
    {"alarm-unspecified-kind.json", "alarm", "alarm.kind: required (not ALARM_KIND_UNSPECIFIED)"},
    {"status-battery-over-100.json", "status",
     "status.batteryPercent: must be between 0 and 100, got 120"},
    {"monthly-month-13.json", "monthly", "monthly.month: must be between 1 and 12, got 13"},
    {"receipt-rejected-without-reason.json", "receipt", "receipt.reason: required"},
    {"escalation-schema-version-2.json", "escalation",
     "escalation.header.schemaVersion: must be 1, got 2"},
    {"ack-by-without-name.json", "ack", "ack.by.name: required"},
    {"monthly-sent-before-2000.json", "monthly",
     "monthly.header.sentAt: 1999-12-31T23:59:59Z is before 2000-01-01"},
};

static void test_schema_rejects_bad_files_naming_the_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
        print_message("%s\n", bad_files[i].file);
        ProtobufCMessage *m = load(bad_files[i].type, "invalid", bad_files[i].file);
        assert_invalid(m, NOW_US, bad_files[i].want);
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

/* ---- rules that depend on other fields or on the direction ---- */

static void test_schema_bullying_rules_apply_only_to_bullying(void **state)
{
    (void)state;
    Anyuan__V1__IncidentNotice *n = (Anyuan__V1__IncidentNotice *)load_valid("notice");
    char *people = n->people_involved;
    char *measures = n->measures_taken;

    n->people_involved = (char *)protobuf_c_empty_string;
    n->measures_taken = (char *)protobuf_c_empty_string;
    n->category = ANYUAN__V1__INCIDENT_CATEGORY__INCIDENT_CATEGORY_ACCIDENTAL_INJURY;
    assert_valid(&n->base, NOW_US);
    n->category = ANYUAN__V1__INCIDENT_CATEGORY__INCIDENT_CATEGORY_BULLYING;
    n->people_involved = people;
    assert_invalid(&n->base, NOW_US, "notice.measuresTaken: required");
    n->measures_taken = measures;
    assert_valid(&n->base, NOW_US);
    protobuf_c_message_free_unpacked(&n->base, NULL);
}

static void test_schema_final_report_rules_apply_only_to_final(void **state)
{
    (void)state;
    Anyuan__V1__IncidentReport *r = (Anyuan__V1__IncidentReport *)load_valid("report");
    char *cause = r->cause;

    r->cause = (char *)protobuf_c_empty_string;
    assert_invalid(&r->base, NOW_US, "report.cause: required");
    r->kind = ANYUAN__V1__REPORT_KIND__REPORT_KIND_FOLLOW_UP;
    assert_valid(&r->base, NOW_US);
    r->cause = cause;
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void test_schema_school_id_required_inbound_only(void **state)
{
    (void)state;
    ProtobufCMessage *alarm = load_valid("alarm");
    Anyuan__V1__Header *h = ((Anyuan__V1__Alarm *)alarm)->header;
    char *school = h->school_id;

    h->school_id = (char *)protobuf_c_empty_string;
    assert_invalid(alarm, NOW_US, "alarm.header.schoolId: required");
    h->school_id = school;
    protobuf_c_message_free_unpacked(alarm, NULL);

    /* The receipt example comes from the backbone and has no school in its header. */
    ProtobufCMessage *receipt = load_valid("receipt");
    assert_string_equal(((Anyuan__V1__Receipt *)receipt)->header->school_id, "");
    assert_valid(receipt, NOW_US);
    protobuf_c_message_free_unpacked(receipt, NULL);
}

static void test_schema_battery_oneof_is_checked_only_when_present(void **state)
{
    (void)state;
    Anyuan__V1__DeviceStatus *st = (Anyuan__V1__DeviceStatus *)load_valid("status");

    st->battery_case = ANYUAN__V1__DEVICE_STATUS__BATTERY__NOT_SET;
    st->battery_percent = 250; /* not set, so not looked at */
    assert_valid(&st->base, NOW_US);
    st->battery_case = ANYUAN__V1__DEVICE_STATUS__BATTERY_BATTERY_PERCENT;
    assert_invalid(&st->base, NOW_US, "status.batteryPercent: must be between 0 and 100");
    st->battery_percent = 0;
    assert_valid(&st->base, NOW_US);
    protobuf_c_message_free_unpacked(&st->base, NULL);
}

/* ---- times ---- */

static void test_schema_event_times_may_be_at_most_24_hours_ahead(void **state)
{
    (void)state;
    ProtobufCMessage *m = load_valid("status"); /* sent 2026-11-23T23:55:00Z */
    const int64_t sent_us = NOW_US - (7 * 24 * 60 + 5) * 60 * 1000000LL;

    assert_valid(m, sent_us - 24 * HOUR_US);
    assert_invalid(m, sent_us - 24 * HOUR_US - 1,
                   "status.header.sentAt: 2026-11-23T23:55:00Z is more than 24 h in the future");
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_schema_deadlines_may_be_far_ahead_but_not_past_2100(void **state)
{
    (void)state;
    ProtobufCMessage *m = decode(
        "hazard-update",
        "{\"header\":{\"messageId\":\"2f7a5c3e-8d1b-4a6f-9c4e-3b8d6f2a5c97\",\"deviceId\":\"app-"
        "1\","
        "\"schoolId\":\"sch-0102\",\"districtId\":\"d01\",\"sentAt\":\"2026-11-27T07:05:10Z\","
        "\"schemaVersion\":1},\"hazardId\":\"9D4C1B7E-5F2A-4C8D-B6E3-7A0F4D1C8E52\","
        "\"status\":\"HAZARD_STATUS_RECTIFYING\",\"by\":{\"name\":\"孙海涛\"},"
        "\"at\":\"2026-11-27T07:00:00Z\",\"newDeadline\":\"2099-12-31T23:59:59Z\"}");
    assert_valid(m, NOW_US);
    ((Anyuan__V1__HazardUpdate *)m)->new_deadline->seconds = 4102444800LL; /* 2100-01-01 */
    assert_invalid(m, NOW_US,
                   "hazard-update.newDeadline: deadline 2100-01-01T00:00:00Z is not before 2100");
    protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- what binary input can carry but JSON input cannot ---- */

static void test_schema_catches_values_the_codec_never_produces(void **state)
{
    (void)state;
    Anyuan__V1__Receipt *r = (Anyuan__V1__Receipt *)load_valid("receipt");
    Anyuan__V1__Deadline *d = r->deadlines[0];
    char bad_utf8[] = "ref \xff";
    char *reference = r->reference;

    d->due_at->nanos = -1;
    assert_invalid(&r->base, NOW_US, "receipt.deadlines[0].dueAt: nanos must be 0..999999999");
    d->due_at->nanos = 0;
    d->kind = (Anyuan__V1__DeadlineKind)77;
    assert_invalid(&r->base, NOW_US,
                   "receipt.deadlines[0].kind: unknown value 77 of anyuan.v1.DeadlineKind");
    d->kind = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_FINAL_REPORT;
    r->reference = bad_utf8;
    assert_invalid(&r->base, NOW_US, "receipt.reference: invalid UTF-8");
    r->reference = reference;
    assert_valid(&r->base, NOW_US);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void test_schema_limits_string_lengths(void **state)
{
    (void)state;
    Anyuan__V1__Alarm *a = (Anyuan__V1__Alarm *)load_valid("alarm");
    char *location = a->location;
    char *note = a->note;
    char long_text[AY_SCHEMA_TEXT_MAX + 2];

    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    long_text[AY_SCHEMA_SHORT_MAX] = '\0';
    a->location = long_text; /* 128 bytes: the most a place may have */
    assert_valid(&a->base, NOW_US);
    long_text[AY_SCHEMA_SHORT_MAX] = 'x';
    long_text[AY_SCHEMA_SHORT_MAX + 1] = '\0';
    assert_invalid(&a->base, NOW_US, "alarm.location: 129 bytes, longer than the limit of 128");
    a->location = location;
    long_text[AY_SCHEMA_SHORT_MAX + 1] = 'x';
    a->note = long_text; /* 4097 bytes of free text */
    assert_invalid(&a->base, NOW_US, "alarm.note: 4097 bytes, longer than the limit of 4096");
    a->note = note;
    protobuf_c_message_free_unpacked(&a->base, NULL);
}

static void test_schema_refuses_messages_outside_the_contract(void **state)
{
    Anyuan__V1__Deadline d = ANYUAN__V1__DEADLINE__INIT;
    char err[AY_ERRLEN] = "";
    (void)state;

    assert_int_equal(ay_schema_validate(&d.base, NOW_US, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "not a message type of the contract"));
    assert_int_equal(ay_schema_validate(NULL, NOW_US, err), AY_ERR_INVALID);
}

/* ---- syntax predicates ---- */

static void test_schema_id_syntax(void **state)
{
    static const char *const good[] = {
        "d01", "sch-0102", "btn-0102-01", "a", "0", "abcdefghijklmnopqrstuvwxyz012345", "x-"};
    static const char *const bad[] = {"",         "-d01",     "D01",
                                      "sch_0102", "sch 0102", "学校",
                                      "sch.0102", "d01\n",    "abcdefghijklmnopqrstuvwxyz0123456"};
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(ay_schema_id_is_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ay_schema_id_is_valid(bad[i]));
    assert_false(ay_schema_id_is_valid(NULL));
}

static void test_schema_uuid_syntax(void **state)
{
    static const char *const good[] = {"7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a3",
                                       "7F3A0C52-1B9E-4C1D-9A57-2F8E41D0B6A3",
                                       "00000000-0000-0000-0000-000000000000"};
    static const char *const bad[] = {
        "",
        "7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a",   /* short */
        "7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a3f", /* long */
        "7f3a0c521b9e4c1d9a572f8e41d0b6a3",      /* no dashes */
        "{7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a3}",
        "7f3a0c52-1b9e-4c1d-9a57_2f8e41d0b6a3",
        "7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6g3",
        "7f3a0c5-21b9e-4c1d-9a57-2f8e41d0b6a3",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(ay_schema_uuid_is_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ay_schema_uuid_is_valid(bad[i]));
    assert_false(ay_schema_uuid_is_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_accepts_every_valid_example),
        cmocka_unit_test(test_schema_rejects_bad_files_naming_the_field),
        cmocka_unit_test(test_schema_bullying_rules_apply_only_to_bullying),
        cmocka_unit_test(test_schema_final_report_rules_apply_only_to_final),
        cmocka_unit_test(test_schema_school_id_required_inbound_only),
        cmocka_unit_test(test_schema_battery_oneof_is_checked_only_when_present),
        cmocka_unit_test(test_schema_event_times_may_be_at_most_24_hours_ahead),
        cmocka_unit_test(test_schema_deadlines_may_be_far_ahead_but_not_past_2100),
        cmocka_unit_test(test_schema_catches_values_the_codec_never_produces),
        cmocka_unit_test(test_schema_limits_string_lengths),
        cmocka_unit_test(test_schema_refuses_messages_outside_the_contract),
        cmocka_unit_test(test_schema_id_syntax),
        cmocka_unit_test(test_schema_uuid_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
