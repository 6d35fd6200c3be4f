/*
 * test_recorder.c - the recorder's pure decisions (services/recorder/recorder.c):
 * what is accepted, why something is rejected, which deadlines run, and what
 * the receipt says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_time.h"
#include "recorder.h"

#define TOPIC "ay/v1/d01/school/sch-0102/btn-1/"
#define HEADER                                                                                     \
    "\"header\":{\"messageId\":\"7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6\","                          \
    "\"deviceId\":\"btn-1\",\"schoolId\":\"sch-0102\",\"districtId\":\"d01\","                     \
    "\"sentAt\":\"2026-11-01T02:00:00Z\",\"schemaVersion\":1}"

static int64_t at(const char *s)
{
    int64_t secs = 0;
    int32_t ns = 0;
    assert_int_equal(ay_time_parse_rfc3339(s, &secs, &ns), AY_OK);
    return ay_time_to_us(secs, ns);
}

/* An item as the broker would deliver JSON `json` of type `type` on `topic`. */
static struct recorder_item *item_of(const char *type, const char *topic, const char *json)
{
    char err[AY_ERRLEN] = "";
    ProtobufCMessage *m = NULL;
    assert_int_equal(
        ay_codec_from_json(ay_msgtype_by_name(type)->desc, json, strlen(json), &m, err), AY_OK);
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(m, buf);
    struct recorder_item *it = recorder_item_new(topic, buf, len, at("2026-11-01T02:00:01Z"));
    free(buf);
    protobuf_c_message_free_unpacked(m, NULL);
    return it;
}

static const char ALARM[] = "{" HEADER ",\"kind\":\"ALARM_KIND_PANIC\",\"source\":"
                            "\"ALARM_SOURCE_SCHOOL\",\"triggeredAt\":\"2026-11-01T01:59:00Z\","
                            "\"location\":\"gate\"}";

static void test_recorder_accepts_a_valid_alarm_on_its_own_topic(void **state)
{
    (void)state;
    struct recorder_item *it = item_of("alarm", TOPIC "alarm", ALARM);
    recorder_decode(it, at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_PENDING);
    assert_string_equal(it->msg_id, "7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6");
    assert_string_equal(it->type->name, "alarm");
    recorder_item_free(it);
}

static void test_recorder_rejects_garbage_naming_the_type(void **state)
{
    (void)state;
    struct recorder_item *it = recorder_item_new(TOPIC "alarm", "\xff\xff\xff", 3, 0);
    recorder_decode(it, at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "not a valid anyuan.v1.Alarm protobuf message"));
    assert_null(it->msg_id);
    recorder_item_free(it);
}

static void test_recorder_rejects_header_for_another_device(void **state)
{
    (void)state;
    struct recorder_item *it = item_of("alarm", "ay/v1/d01/school/sch-0102/btn-2/alarm", ALARM);
    recorder_decode(it, at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "alarm.header.deviceId: \"btn-1\" does not match"));
    recorder_item_free(it);
}

static void test_recorder_rejects_payload_of_another_type_than_the_topic(void **state)
{
    (void)state;
    struct recorder_item *it = item_of("alarm", TOPIC "monthly", ALARM);
    recorder_decode(it, at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    recorder_item_free(it);
}

static void test_recorder_rejects_non_school_topics(void **state)
{
    (void)state;
    struct recorder_item *it = item_of("alarm", "ay/v1/d01/receipt/sch-0102/btn-1", ALARM);
    recorder_decode(it, 0);
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_string_equal(it->reason, "topic: not a school topic");
    recorder_item_free(it);
}

static void test_recorder_notice_starts_written_report_deadline(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    struct recorder_item *it =
        item_of("notice", TOPIC "notice",
                "{" HEADER ",\"category\":\"INCIDENT_CATEGORY_DROWNING\",\"severity\":"
                "\"SEVERITY_II\",\"occurredAt\":\"2026-11-01T01:00:00Z\",\"discoveredAt\":"
                "\"2026-11-01T01:10:00Z\",\"place\":\"river\",\"summary\":\"s\",\"reporter\":"
                "{\"name\":\"n\",\"phone\":\"110\"}}");
    recorder_decode(it, at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_PENDING);
    recorder_plan_deadlines(it, &p);
    assert_int_equal(it->ndeadlines, 2);
    assert_int_equal(it->deadlines[0].action, RECORDER_DL_MET);
    assert_int_equal(it->deadlines[0].kind, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_VERBAL_NOTICE);
    assert_true(it->deadlines[0].due_us == at("2026-11-01T01:40:00Z"));
    assert_int_equal(it->deadlines[1].action, RECORDER_DL_START);
    assert_true(it->deadlines[1].due_us == at("2026-11-01T02:10:00Z"));
    assert_string_equal(it->deadlines[1].subject_id, it->msg_id);
    recorder_item_free(it);
}

static void test_recorder_receipt_lists_running_deadlines(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    struct recorder_item *it =
        item_of("notice", TOPIC "notice",
                "{" HEADER ",\"category\":\"INCIDENT_CATEGORY_DROWNING\",\"severity\":"
                "\"SEVERITY_II\",\"occurredAt\":\"2026-11-01T01:00:00Z\",\"place\":\"river\","
                "\"summary\":\"s\",\"reporter\":{\"name\":\"n\",\"phone\":\"110\"}}");
    char topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;

    recorder_decode(it, at("2026-11-01T02:00:02Z"));
    recorder_plan_deadlines(it, &p);
    it->outcome = RECORDER_STORED;
    it->record_id = 42;
    it->stored_us = at("2026-11-01T02:00:03Z");
    assert_int_equal(recorder_receipt_pack(it, "svc-1", 0, &buf, &len, topic), AY_OK);
    assert_string_equal(topic, "ay/v1/d01/receipt/sch-0102/btn-1");
    Anyuan__V1__Receipt *r = anyuan__v1__receipt__unpack(NULL, len, buf);
    assert_non_null(r);
    assert_int_equal(r->status, ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED);
    assert_string_equal(r->ref_message_id, it->msg_id);
    assert_string_equal(r->reference, "d01-42");
    assert_int_equal(r->n_deadlines, 1); /* the verbal notice is met, not running */
    assert_int_equal(r->deadlines[0]->kind,
                     ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT);
    assert_true(ay_time_to_us(r->deadlines[0]->due_at->seconds, r->deadlines[0]->due_at->nanos) ==
                at("2026-11-01T02:00:00Z"));
    anyuan__v1__receipt__free_unpacked(r, NULL);
    free(buf);
    recorder_item_free(it);
}

static void test_recorder_rejected_receipt_carries_the_reason(void **state)
{
    (void)state;
    struct recorder_item *it = recorder_item_new(TOPIC "alarm", "junk", 4, 0);
    char topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;

    recorder_decode(it, 0);
    assert_int_equal(recorder_receipt_pack(it, "svc-1", 0, &buf, &len, topic), AY_OK);
    Anyuan__V1__Receipt *r = anyuan__v1__receipt__unpack(NULL, len, buf);
    assert_int_equal(r->status, ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED);
    assert_non_null(strstr(r->reason, "not a valid"));
    anyuan__v1__receipt__free_unpacked(r, NULL);
    free(buf);
    recorder_item_free(it);
}

static void test_recorder_no_receipt_without_a_device_topic(void **state)
{
    (void)state;
    struct recorder_item *it = recorder_item_new("ay/v1/x", "junk", 4, 0);
    char topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    recorder_decode(it, 0);
    assert_int_equal(recorder_receipt_pack(it, "svc-1", 0, &buf, &len, topic), AY_ERR_NOTFOUND);
    recorder_item_free(it);
}

static void test_recorder_alarm_with_a_wrong_clock_is_accepted_with_a_warning(void **state)
{
    (void)state;
    struct recorder_item *it =
        item_of("alarm", TOPIC "alarm",
                "{\"header\":{\"messageId\":\"7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6\",\"deviceId\":"
                "\"btn-1\",\"schoolId\":\"sch-0102\",\"districtId\":\"d01\",\"sentAt\":"
                "\"1999-12-31T00:00:00Z\",\"schemaVersion\":1},\"kind\":\"ALARM_KIND_PANIC\","
                "\"source\":\"ALARM_SOURCE_SCHOOL\",\"triggeredAt\":\"1999-12-31T00:00:00Z\","
                "\"location\":\"gate\"}");
    recorder_decode(it, at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_PENDING);
    assert_non_null(
        strstr(it->warning, "alarm.header.sentAt: 1999-12-31T00:00:00Z is before 2000"));
    recorder_item_free(it);
}

static void test_recorder_report_with_a_wrong_clock_is_rejected(void **state)
{
    (void)state;
    struct recorder_item *it =
        item_of("notice", TOPIC "notice",
                "{\"header\":{\"messageId\":\"7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6\",\"deviceId\":"
                "\"btn-1\",\"schoolId\":\"sch-0102\",\"districtId\":\"d01\",\"sentAt\":"
                "\"2030-01-01T00:00:00Z\",\"schemaVersion\":1},\"category\":"
                "\"INCIDENT_CATEGORY_DROWNING\",\"severity\":\"SEVERITY_II\",\"occurredAt\":"
                "\"2026-11-01T01:00:00Z\",\"place\":\"river\",\"summary\":\"s\",\"reporter\":"
                "{\"name\":\"n\",\"phone\":\"110\"}}");
    recorder_decode(it, at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "more than 24 h in the future"));
    recorder_item_free(it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorder_accepts_a_valid_alarm_on_its_own_topic),
        cmocka_unit_test(test_recorder_rejects_garbage_naming_the_type),
        cmocka_unit_test(test_recorder_rejects_header_for_another_device),
        cmocka_unit_test(test_recorder_rejects_payload_of_another_type_than_the_topic),
        cmocka_unit_test(test_recorder_rejects_non_school_topics),
        cmocka_unit_test(test_recorder_notice_starts_written_report_deadline),
        cmocka_unit_test(test_recorder_receipt_lists_running_deadlines),
        cmocka_unit_test(test_recorder_rejected_receipt_carries_the_reason),
        cmocka_unit_test(test_recorder_no_receipt_without_a_device_topic),
        cmocka_unit_test(test_recorder_alarm_with_a_wrong_clock_is_accepted_with_a_warning),
        cmocka_unit_test(test_recorder_report_with_a_wrong_clock_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
