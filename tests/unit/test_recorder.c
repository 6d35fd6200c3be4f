/*
 * test_recorder.c - the recorder's pure decisions (services/recorder/recorder.c):
 * what is accepted, why something is rejected, which deadlines run, and what
 * the receipt says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anyuan/v1/hazard.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_time.h"
#include "recorder.h"
#include "unit.h"

#define TOPIC "ay/v1/d01/school/sch-0102/btn-1/"
#define HEADER                                                                                     \
    "\"header\":{\"messageId\":\"7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6\","                          \
    "\"deviceId\":\"btn-1\",\"schoolId\":\"sch-0102\",\"districtId\":\"d01\","                     \
    "\"sentAt\":\"2026-11-01T02:00:00Z\",\"schemaVersion\":1}"

static struct recorder_district default_district(void)
{
    struct recorder_district d;
    memset(&d, 0, sizeof(d));
    snprintf(d.id, sizeof(d.id), "d01");
    ay_policy_defaults(&d.policy);
    return d;
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
    struct recorder_item *it =
        recorder_item_new(topic, buf, len, ayt_at("2026-11-01T02:00:01Z"), false);
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
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_PENDING);
    assert_string_equal(it->msg_id, "7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6");
    assert_string_equal(it->type->name, "alarm");
    recorder_item_free(it);
}

static void test_recorder_rejects_garbage_naming_the_type(void **state)
{
    (void)state;
    struct recorder_item *it = recorder_item_new(TOPIC "alarm", "\xff\xff\xff", 3, 0, false);
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "not a valid anyuan.v1.Alarm protobuf message"));
    assert_null(it->msg_id);
    recorder_item_free(it);
}

static void test_recorder_rejects_header_for_another_device(void **state)
{
    (void)state;
    struct recorder_item *it = item_of("alarm", "ay/v1/d01/school/sch-0102/btn-2/alarm", ALARM);
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "alarm.header.deviceId: \"btn-1\" does not match"));
    recorder_item_free(it);
}

static void test_recorder_rejects_payload_of_another_type_than_the_topic(void **state)
{
    (void)state;
    struct recorder_item *it = item_of("alarm", TOPIC "monthly", ALARM);
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
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
    struct recorder_district p = default_district();
    struct recorder_item *it =
        item_of("notice", TOPIC "notice",
                "{" HEADER ",\"category\":\"INCIDENT_CATEGORY_DROWNING\",\"severity\":"
                "\"SEVERITY_II\",\"occurredAt\":\"2026-11-01T01:00:00Z\",\"discoveredAt\":"
                "\"2026-11-01T01:10:00Z\",\"place\":\"river\",\"summary\":\"s\",\"reporter\":"
                "{\"name\":\"n\",\"phone\":\"110\"}}");
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_PENDING);
    recorder_plan_deadlines(it, &p, NULL);
    assert_int_equal(it->ndeadlines, 3);
    assert_int_equal(it->deadlines[0].action, RECORDER_DL_MET);
    assert_int_equal(it->deadlines[0].kind, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_VERBAL_NOTICE);
    assert_true(it->deadlines[0].due_us == ayt_at("2026-11-01T01:40:00Z"));
    assert_int_equal(it->deadlines[1].action, RECORDER_DL_START);
    assert_true(it->deadlines[1].due_us == ayt_at("2026-11-01T02:10:00Z"));
    assert_string_equal(it->deadlines[1].subject_id, it->msg_id);
    /* Severity II: follow-up reports while open, the first a day after. */
    assert_int_equal(it->deadlines[2].kind,
                     ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_FOLLOW_UP_REPORT);
    assert_true(it->deadlines[2].due_us == ayt_at("2026-11-02T02:00:01Z"));
    /* Routed at once to the bureau (its chain up to the city bureau) and
     * the local government; and the verbal notice (due 01:40) came late:
     * one escalation for that too. */
    assert_int_equal(it->nplans, 3);
    assert_int_equal(it->plans[2].reason,
                     ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEADLINE_MISSED);
    assert_true(it->plans[2].missed.due_us == ayt_at("2026-11-01T01:40:00Z"));
    assert_int_equal(it->plans[0].audience, AY_AUDIENCE_BUREAU);
    assert_int_equal(it->plans[0].nnotices, 3);
    assert_int_equal(it->plans[1].audience, AY_AUDIENCE_GOVERNMENT);
    assert_int_equal(it->plans[0].reason,
                     ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_MAJOR_INCIDENT);
    recorder_item_free(it);
}

static void test_recorder_receipt_lists_running_deadlines(void **state)
{
    (void)state;
    struct recorder_district p = default_district();
    struct recorder_item *it =
        item_of("notice", TOPIC "notice",
                "{" HEADER ",\"category\":\"INCIDENT_CATEGORY_DROWNING\",\"severity\":"
                "\"SEVERITY_II\",\"occurredAt\":\"2026-11-01T01:00:00Z\",\"place\":\"river\","
                "\"summary\":\"s\",\"reporter\":{\"name\":\"n\",\"phone\":\"110\"}}");
    char topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;

    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    recorder_plan_deadlines(it, &p, NULL);
    it->outcome = RECORDER_STORED;
    it->record_id = 42;
    it->stored_us = ayt_at("2026-11-01T02:00:03Z");
    assert_int_equal(recorder_receipt_pack(it, "svc-1", 0, &buf, &len, topic), AY_OK);
    assert_string_equal(topic, "ay/v1/d01/receipt/sch-0102/btn-1");
    Anyuan__V1__Receipt *r = anyuan__v1__receipt__unpack(NULL, len, buf);
    assert_non_null(r);
    assert_int_equal(r->status, ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED);
    assert_string_equal(r->ref_message_id, it->msg_id);
    assert_string_equal(r->reference, "d01-42");
    assert_int_equal(r->n_deadlines, 2); /* the verbal notice is met, not running */
    assert_int_equal(r->deadlines[0]->kind,
                     ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT);
    assert_true(ay_time_to_us(r->deadlines[0]->due_at->seconds, r->deadlines[0]->due_at->nanos) ==
                ayt_at("2026-11-01T02:00:00Z"));
    anyuan__v1__receipt__free_unpacked(r, NULL);
    free(buf);
    recorder_item_free(it);
}

static void test_recorder_rejected_receipt_carries_the_reason(void **state)
{
    (void)state;
    struct recorder_item *it = recorder_item_new(TOPIC "alarm", "junk", 4, 0, false);
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
    struct recorder_item *it = recorder_item_new("ay/v1/x", "junk", 4, 0, false);
    char topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    recorder_decode(it, 0);
    assert_int_equal(recorder_receipt_pack(it, "svc-1", 0, &buf, &len, topic), AY_ERR_NOTFOUND);
    recorder_item_free(it);
}

/* ---- the two wire forms (lib/ay_wire) ---- */

/* A receipt as the sender would read it: decoded from the form it came in. */
static Anyuan__V1__Receipt *receipt_of(struct recorder_item *it, enum ay_wire want)
{
    char topic[AY_TOPIC_MAX];
    char err[AY_ERRLEN] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    enum ay_wire w;
    ProtobufCMessage *r = NULL;

    assert_int_equal(recorder_receipt_pack(it, "svc-1", 0, &buf, &len, topic), AY_OK);
    assert_int_equal(ay_wire_detect(NULL, buf, len, &w, err), AY_OK);
    assert_int_equal(w, want);
    if (ay_wire_decode(&anyuan__v1__receipt__descriptor, w, buf, len, &r, err) != AY_OK)
        fail_msg("receipt: %s", err);
    free(buf);
    return (Anyuan__V1__Receipt *)r;
}

static void test_recorder_a_json_alarm_is_accepted_and_answered_in_json(void **state)
{
    (void)state;
    /* Without a content type (MQTT 3.1.1): the first byte '{'. */
    struct recorder_item *it = recorder_item_new(TOPIC "alarm", ALARM, strlen(ALARM),
                                                 ayt_at("2026-11-01T02:00:01Z"), false);
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_PENDING);
    assert_int_equal(it->wire, AY_WIRE_JSON);
    assert_string_equal(it->msg_id, "7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6");
    it->outcome = RECORDER_STORED;
    it->record_id = 7;
    Anyuan__V1__Receipt *r = receipt_of(it, AY_WIRE_JSON);
    assert_int_equal(r->status, ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED);
    assert_string_equal(r->ref_message_id, it->msg_id);
    anyuan__v1__receipt__free_unpacked(r, NULL);
    recorder_item_free(it);

    /* With content type application/json, whitespace may come first. */
    char spaced[sizeof(ALARM) + 2];
    snprintf(spaced, sizeof(spaced), "\n %s", ALARM);
    it = recorder_item_new(TOPIC "alarm", spaced, strlen(spaced), 0, false);
    assert_int_equal(recorder_item_set_content_type(it, "application/json; charset=utf-8"), AY_OK);
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_PENDING);
    assert_int_equal(it->wire, AY_WIRE_JSON);
    recorder_item_free(it);
}

static void test_recorder_invalid_json_is_rejected_and_answered_in_json(void **state)
{
    (void)state;
    static const char bad[] = "{\"header\": {\"messageId\": ";
    struct recorder_item *it = recorder_item_new(TOPIC "alarm", bad, strlen(bad), 0, false);
    recorder_decode(it, 0);
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "alarm: invalid JSON near byte"));
    Anyuan__V1__Receipt *r = receipt_of(it, AY_WIRE_JSON);
    assert_int_equal(r->status, ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED);
    assert_string_equal(r->reason, it->reason);
    anyuan__v1__receipt__free_unpacked(r, NULL);
    recorder_item_free(it);
}

static void test_recorder_an_unknown_content_type_is_rejected(void **state)
{
    (void)state;
    struct recorder_item *it = item_of("alarm", TOPIC "alarm", ALARM);
    assert_int_equal(recorder_item_set_content_type(it, "text/plain"), AY_OK);
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "alarm: content type \"text/plain\" is not supported"));
    Anyuan__V1__Receipt *r = receipt_of(it, AY_WIRE_PROTOBUF);
    assert_int_equal(r->status, ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED);
    anyuan__v1__receipt__free_unpacked(r, NULL);
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
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
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
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "more than 24 h in the future"));
    recorder_item_free(it);
}

/* ---- the batch decision -------------------------------------------------- */

#define ID1 "7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6"
#define ID2 "11111111-2222-4333-8444-555555555555"
#define NOTICE_BODY                                                                                \
    ",\"category\":\"INCIDENT_CATEGORY_DROWNING\",\"severity\":\"SEVERITY_II\",\"occurredAt\":"    \
    "\"2026-11-01T01:00:00Z\",\"place\":\"river\",\"summary\":\"s\",\"reporter\":{\"name\":"       \
    "\"n\",\"phone\":\"110\"}}"

static struct recorder_device registered[] = {
    {"btn-1", "sch-0102", "d01", true, false, 60, "gate"},
    {"btn-off", "sch-0102", "d01", false, false, 60, ""},
    {"btn-9", "sch-0999", "d01", true, false, 60, ""},
    {"btn-drill", "sch-0102", "d01", true, true, 60, "hall"},
};

/* Facts with the devices above and whatever the test adds. */
static struct recorder_facts facts_with(struct recorder_known_msg *known, size_t nknown,
                                        struct recorder_subject *inc, size_t ninc)
{
    struct recorder_facts f;
    memset(&f, 0, sizeof(f));
    f.devices = registered;
    f.ndevices = sizeof(registered) / sizeof(registered[0]);
    f.known = known;
    f.nknown = nknown;
    f.incidents = inc;
    f.nincidents = ninc;
    return f;
}

static struct recorder_item *decoded(const char *type, const char *topic, const char *json)
{
    struct recorder_item *it = item_of(type, topic, json);
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_PENDING);
    return it;
}

static void test_recorder_decide_keeps_a_registered_device_message_to_store(void **state)
{
    (void)state;
    struct recorder_facts f = facts_with(NULL, 0, NULL, 0);
    struct recorder_item *it = decoded("alarm", TOPIC "alarm", ALARM);
    recorder_decide(&it, 1, &f);
    assert_int_equal(it->outcome, RECORDER_PENDING);
    recorder_item_free(it);
}

static void test_recorder_decide_rejects_unknown_disabled_and_misplaced_devices(void **state)
{
    (void)state;
    struct recorder_facts f = facts_with(NULL, 0, NULL, 0);
    struct recorder_facts none;
    memset(&none, 0, sizeof(none));
    struct recorder_item *it = decoded("alarm", TOPIC "alarm", ALARM);

    recorder_decide(&it, 1, &none);
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_string_equal(it->reason, "device \"btn-1\" is not registered");
    registered[0].enabled = false;
    recorder_decide(&it, 1, &f);
    registered[0].enabled = true;
    assert_string_equal(it->reason, "device \"btn-1\" is disabled");
    snprintf(registered[0].school, sizeof(registered[0].school), "sch-0999");
    recorder_decide(&it, 1, &f);
    snprintf(registered[0].school, sizeof(registered[0].school), "sch-0102");
    assert_string_equal(it->reason,
                        "device \"btn-1\" is registered to school \"sch-0999\", not \"sch-0102\"");
    recorder_item_free(it);
}

static void test_recorder_decide_a_resend_is_a_duplicate_of_the_first_storage(void **state)
{
    (void)state;
    struct recorder_known_msg k = {ID1, 77, 1000, "btn-1", "alarm"};
    struct recorder_facts f = facts_with(&k, 1, NULL, 0);
    struct recorder_item *it = decoded("alarm", TOPIC "alarm", ALARM);

    recorder_decide(&it, 1, &f);
    assert_int_equal(it->outcome, RECORDER_DUPLICATE);
    assert_int_equal(it->record_id, 77);
    /* The same id from another device, or for another type, is refused. */
    snprintf(k.device, sizeof(k.device), "btn-2");
    recorder_decide(&it, 1, &f);
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "alarm.header.messageId: " ID1 " is already used by"));
    recorder_item_free(it);
}

static void test_recorder_decide_an_id_twice_in_a_batch_is_stored_once(void **state)
{
    (void)state;
    struct recorder_facts f = facts_with(NULL, 0, NULL, 0);
    struct recorder_item *items[3] = {
        decoded("alarm", TOPIC "alarm", ALARM),
        decoded("alarm", TOPIC "alarm", ALARM),
        decoded("notice", TOPIC "notice", "{" HEADER NOTICE_BODY),
    };

    recorder_decide(items, 3, &f);
    assert_int_equal(items[0]->outcome, RECORDER_PENDING);
    assert_int_equal(items[1]->outcome, RECORDER_DUPLICATE);
    assert_ptr_equal(items[1]->copy_of, items[0]);
    assert_int_equal(items[2]->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(items[2]->reason, "already used by another message of this batch"));
    for (int i = 0; i < 3; i++)
        recorder_item_free(items[i]);
}

static void test_recorder_decide_a_report_needs_its_incident_in_the_same_school(void **state)
{
    (void)state;
    struct recorder_subject inc = {ID2, "sch-0999"};
    struct recorder_facts f = facts_with(NULL, 0, &inc, 1);
    const char *report =
        "{" HEADER ",\"incidentId\":\"" ID2 "\",\"kind\":\"REPORT_KIND_INITIAL_WRITTEN\","
        "\"body\":\"b\",\"reporter\":{\"name\":\"n\"},\"signedBy\":{\"name\":\"m\"}}";
    struct recorder_item *it = decoded("report", TOPIC "report", report);

    recorder_decide(&it, 1, &f);
    assert_string_equal(it->reason,
                        "report.incidentId: incident " ID2 " belongs to another school");
    f.nincidents = 0;
    recorder_decide(&it, 1, &f);
    assert_non_null(strstr(it->reason, "unknown incident " ID2 " (send its notice first"));
    snprintf(inc.school, sizeof(inc.school), "sch-0102");
    f.nincidents = 1;
    recorder_decide(&it, 1, &f);
    assert_int_equal(it->outcome, RECORDER_PENDING);
    assert_int_equal(it->deadlines[0].action, RECORDER_DL_MEET);
    recorder_item_free(it);
}

static void test_recorder_decide_uses_the_district_policy(void **state)
{
    (void)state;
    struct recorder_district d = default_district();
    d.policy.written_report_s = 7200;
    struct recorder_facts f = facts_with(NULL, 0, NULL, 0);
    f.districts = &d;
    f.ndistricts = 1;
    struct recorder_item *it = decoded("notice", TOPIC "notice", "{" HEADER NOTICE_BODY);

    recorder_decide(&it, 1, &f);
    assert_int_equal(it->deadlines[1].kind,
                     ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT);
    assert_true(it->deadlines[1].due_us == ayt_at("2026-11-01T03:00:00Z")); /* 2 h variant */
    recorder_item_free(it);
}

static void test_recorder_a_late_notice_is_met_late_and_says_so(void **state)
{
    (void)state;
    struct recorder_facts f = facts_with(NULL, 0, NULL, 0);
    const char *old = "{" HEADER ",\"category\":\"INCIDENT_CATEGORY_DROWNING\",\"severity\":"
                      "\"SEVERITY_II\",\"occurredAt\":\"2025-11-01T01:00:00Z\",\"place\":\"r\","
                      "\"summary\":\"s\",\"reporter\":{\"name\":\"n\",\"phone\":\"110\"}}";
    struct recorder_item *it = decoded("notice", TOPIC "notice", old);
    char note[512];

    assert_non_null(strstr(it->warning, "notice.occurredAt: 2025-11-01T01:00:00Z is more than "
                                        "24 h in the past"));
    recorder_decide(&it, 1, &f);
    assert_int_equal(it->deadlines[0].action, RECORDER_DL_MET);
    /* Late against when the backbone received it (02:00:01), not sentAt. */
    assert_true(it->deadlines[0].late_us ==
                ayt_at("2026-11-01T02:00:01Z") - ayt_at("2025-11-01T01:30:00Z"));
    it->outcome = RECORDER_STORED;
    recorder_receipt_note(it, note, sizeof(note));
    assert_non_null(strstr(note, "late: Verbal notice was due 2025-11-01T01:30:00Z, received "
                                 "525631 min after"));
    assert_non_null(strstr(note, "overdue: Written report was due 2025-11-01T02:00:00Z"));
    recorder_item_free(it);
}

static void test_recorder_a_report_after_its_due_time_is_met_late(void **state)
{
    (void)state;
    struct recorder_subject inc = {ID2, "sch-0102"};
    struct recorder_open_deadline dl = {ID2,
                                        ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT,
                                        ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT,
                                        ID2,
                                        0,
                                        0,
                                        0};
    struct recorder_facts f = facts_with(NULL, 0, &inc, 1);
    f.deadlines = &dl;
    f.ndeadlines = 1;
    dl.due_us = ayt_at("2026-11-01T01:00:01Z");
    const char *report =
        "{" HEADER ",\"incidentId\":\"" ID2 "\",\"kind\":\"REPORT_KIND_INITIAL_WRITTEN\","
        "\"body\":\"b\",\"reporter\":{\"name\":\"n\"},\"signedBy\":{\"name\":\"m\"}}";
    struct recorder_item *it = decoded("report", TOPIC "report", report);

    recorder_decide(&it, 1, &f);
    assert_true(it->deadlines[0].late_us == 3600LL * 1000000);
    recorder_item_free(it);
}

static void test_recorder_rejects_a_retained_message(void **state)
{
    (void)state;
    struct recorder_item *it = item_of("alarm", TOPIC "alarm", ALARM);
    it->retained = true;
    recorder_decode(it, ayt_at("2026-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "alarm: published with the retain flag"));
    recorder_item_free(it);
}

static void test_recorder_a_year_old_alarm_is_stored_with_a_warning(void **state)
{
    (void)state;
    struct recorder_item *it = item_of("alarm", TOPIC "alarm", ALARM);
    recorder_decode(it, ayt_at("2027-11-01T02:00:02Z"));
    assert_int_equal(it->outcome, RECORDER_PENDING);
    assert_non_null(strstr(it->warning, "is more than 24 h in the past"));
    recorder_item_free(it);
}

static void test_recorder_an_alarm_climbs_the_police_chain_but_a_drill_does_nothing(void **state)
{
    (void)state;
    struct recorder_facts f = facts_with(NULL, 0, NULL, 0);
    struct recorder_item *it = decoded("alarm", TOPIC "alarm", ALARM);

    recorder_decide(&it, 1, &f);
    assert_false(it->drill);
    assert_int_equal(it->deadlines[0].kind, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_ALARM_NOTICE);
    assert_int_equal(it->nplans, 1);
    assert_int_equal(it->plans[0].audience, AY_AUDIENCE_POLICE);
    assert_int_equal(it->plans[0].reason, ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_ALARM);
    /* The police feed told the first step: no first notification, the
     * acknowledgement clock runs. */
    assert_int_equal(it->plans[0].nnotices, 0);
    assert_true(ay_esc_ack_due_us(&it->plans[0].state) > 0);
    recorder_item_free(it);

    /* A button in its test window: a drill, nothing started. */
    it = decoded("alarm", "ay/v1/d01/school/sch-0102/btn-drill/alarm",
                 "{\"header\":{\"messageId\":\"7d9e2f1a-3b4c-4d5e-8f60-718293a4b5c6\","
                 "\"deviceId\":\"btn-drill\",\"schoolId\":\"sch-0102\",\"districtId\":\"d01\","
                 "\"sentAt\":\"2026-11-01T02:00:00Z\",\"schemaVersion\":1},\"kind\":"
                 "\"ALARM_KIND_PANIC\",\"source\":\"ALARM_SOURCE_SCHOOL\",\"triggeredAt\":"
                 "\"2026-11-01T01:59:00Z\",\"location\":\"gate\"}");
    recorder_decide(&it, 1, &f);
    assert_true(it->drill);
    assert_int_equal(it->ndeadlines, 0);
    assert_int_equal(it->nplans, 0);
    recorder_item_free(it);
}

#define STATUS(state, extra)                                                                       \
    "{" HEADER ",\"state\":\"" state "\",\"heartbeatIntervalS\":30" extra "}"

static void test_recorder_supervision_of_heartbeats_wills_and_returns(void **state)
{
    (void)state;
    struct recorder_facts f = facts_with(NULL, 0, NULL, 0);
    struct recorder_item *it =
        decoded("status", TOPIC "status", STATUS("DEVICE_STATE_HEARTBEAT", ""));

    /* A heartbeat: silent after two intervals (the policy's gap factor). */
    recorder_decide(&it, 1, &f);
    assert_true(it->supervised);
    assert_false(it->sup.offline);
    assert_true(it->silent_after_us == it->received_us + 60LL * 1000000);
    assert_int_equal(it->nplans, 0);
    recorder_item_free(it);

    /* Its last will: offline at once, one escalation for this absence to
     * each of the bureau and the device's school (issue 12). */
    it = decoded("status", TOPIC "status", STATUS("DEVICE_STATE_OFFLINE", ""));
    recorder_decide(&it, 1, &f);
    assert_true(it->sup.offline);
    assert_string_equal(it->sup.episode, it->msg_id);
    assert_int_equal(it->nplans, 2);
    assert_int_equal(it->plans[0].audience, AY_AUDIENCE_BUREAU);
    assert_int_equal(it->plans[1].audience, AY_AUDIENCE_SCHOOL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(it->plans[i].reason,
                         ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_OFFLINE);
        assert_non_null(strstr(it->plans[i].summary_zh, "报警设备 btn-1（gate）离线"));
    }
    recorder_item_free(it);

    /* Back: the absence ends. */
    struct recorder_dev_state was = {"btn-1", true, ID2, false, false, false};
    f.dev_states = &was;
    f.ndev_states = 1;
    it = decoded("status", TOPIC "status", STATUS("DEVICE_STATE_ONLINE", ""));
    recorder_decide(&it, 1, &f);
    assert_false(it->sup.offline);
    assert_string_equal(it->ended_episode, ID2);
    assert_non_null(strstr(it->ended_words[0], "btn-1（gate）已恢复在线"));
    assert_non_null(strstr(it->ended_words[1], "is back online"));
    recorder_item_free(it);

    /* A battery that just fell low and an opened enclosure: one each. */
    was.offline = false;
    it = decoded("status", TOPIC "status",
                 STATUS("DEVICE_STATE_HEARTBEAT", ",\"batteryPercent\":9,\"tamper\":true"));
    recorder_decide(&it, 1, &f);
    assert_int_equal(it->nplans, 4); /* each to the bureau and the school */
    assert_int_equal(it->plans[0].reason,
                     ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_LOW_BATTERY);
    assert_int_equal(it->plans[1].reason,
                     ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_LOW_BATTERY);
    assert_int_equal(it->plans[1].audience, AY_AUDIENCE_SCHOOL);
    assert_int_equal(it->plans[2].reason, ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_TAMPER);
    assert_int_equal(it->plans[3].reason, ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_TAMPER);
    /* Still low and still open the next time: nothing new. */
    was.low_battery = true;
    was.tamper = true;
    recorder_decide(&it, 1, &f);
    assert_int_equal(it->nplans, 0);
    recorder_item_free(it);
}

/* ---- hazards: the loop in a batch (hazard.c has the rules) ---------------- */

#define HAZARD_ID "9d4c1b7e-5f2a-4c8d-b6e3-7a0f4d1c8e52"
#define HDR(id)                                                                                    \
    "{\"header\":{\"messageId\":\"" id "\",\"deviceId\":\"btn-1\",\"schoolId\":\"sch-0102\","      \
    "\"districtId\":\"d01\",\"sentAt\":\"2026-11-01T02:00:00Z\",\"schemaVersion\":1},"
#define STEP(id, status, by)                                                                       \
    HDR(id)                                                                                        \
    "\"hazardId\":\"" HAZARD_ID "\",\"status\":\"HAZARD_STATUS_" status "\",\"by\":{\"name\":"     \
    "\"" by "\"},\"at\":\"2026-11-01T01:00:00Z\"}"

static void test_recorder_hazard_steps_of_a_batch_apply_in_order(void **state)
{
    (void)state;
    struct recorder_facts f = facts_with(NULL, 0, NULL, 0);
    struct recorder_item *items[6] = {
        decoded("hazard", TOPIC "hazard",
                HDR(HAZARD_ID) "\"category\":\"HAZARD_CATEGORY_FIRE\",\"grade\":"
                               "\"HAZARD_GRADE_MAJOR\",\"place\":\"p\",\"description\":\"d\","
                               "\"foundBy\":{\"name\":\"张老师\"},\"responsible\":{\"name\":"
                               "\"赵主任\"},\"interimMeasures\":\"警示带\"}"),
        decoded("hazard-update", TOPIC "hazard-update",
                STEP("00000000-0000-4000-8000-000000000001", "RECTIFYING", "赵主任")),
        decoded("hazard-update", TOPIC "hazard-update",
                STEP("00000000-0000-4000-8000-000000000002", "RECTIFIED", "赵主任")),
        decoded("hazard-update", TOPIC "hazard-update",
                STEP("00000000-0000-4000-8000-000000000003", "VERIFIED", "赵主任")),
        decoded("hazard-update", TOPIC "hazard-update",
                STEP("00000000-0000-4000-8000-000000000004", "VERIFIED", "李督查")),
        decoded("hazard-update", TOPIC "hazard-update",
                STEP("00000000-0000-4000-8000-000000000005", "CLOSED", "李督查")),
    };

    recorder_decide(items, 6, &f);
    /* Registered without a deadline: the policy's week for a major hazard,
     * and the bureau's tracked supervision at once. */
    assert_int_equal(items[0]->outcome, RECORDER_PENDING);
    assert_int_equal(items[0]->deadlines[0].action, RECORDER_DL_START);
    assert_true(items[0]->deadlines[0].due_us == ayt_at("2026-11-08T02:00:01Z"));
    assert_int_equal(items[0]->nplans, 1);
    assert_int_equal(items[0]->plans[0].reason,
                     ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_MAJOR_HAZARD);
    assert_int_equal(items[0]->plans[0].audience, AY_AUDIENCE_BUREAU);
    assert_true(items[0]->plans[0].state.supervise_s == 86400);
    assert_non_null(strstr(items[0]->plans[0].summary_zh, "挂牌督办"));
    assert_int_equal(items[1]->outcome, RECORDER_PENDING);
    assert_int_equal(items[2]->outcome, RECORDER_PENDING);
    assert_int_equal(items[2]->deadlines[0].action, RECORDER_DL_MEET);
    assert_int_equal(items[3]->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(items[3]->reason, "the verifier is the hazard's responsible person"));
    assert_int_equal(items[4]->outcome, RECORDER_PENDING);
    assert_int_equal(items[4]->hazard_from, ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_RECTIFIED);
    assert_int_equal(items[5]->outcome, RECORDER_PENDING);
    assert_true(items[5]->hazard_moved);
    assert_non_null(strstr(items[5]->moved_words[0], "销号"));

    /* Out of order in a batch: the step that skips is refused, the next
     * one is judged from where the hazard really is. */
    struct recorder_subject known = {HAZARD_ID, "sch-0102"};
    struct recorder_hazard_fact state_of = {HAZARD_ID, items[0]->hazard};
    f.hazards = &known;
    f.nhazards = 1;
    f.hazard_states = &state_of;
    f.nhazard_states = 1;
    state_of.hazard.status = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_REGISTERED;
    recorder_decide(items + 1, 2, &f);
    assert_int_equal(items[1]->outcome, RECORDER_PENDING);
    assert_int_equal(items[2]->outcome, RECORDER_PENDING);
    struct recorder_item *swapped[2] = {items[2], items[1]};
    recorder_decide(swapped, 2, &f);
    assert_int_equal(items[2]->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(items[2]->reason, "HAZARD_STATUS_RECTIFIED skips a step"));
    assert_int_equal(items[1]->outcome, RECORDER_PENDING);
    for (int i = 0; i < 6; i++)
        recorder_item_free(items[i]);
}

static void test_recorder_a_major_hazard_without_interim_measures_is_refused(void **state)
{
    (void)state;
    struct recorder_facts f = facts_with(NULL, 0, NULL, 0);
    struct recorder_item *it =
        decoded("hazard", TOPIC "hazard",
                HDR(HAZARD_ID) "\"category\":\"HAZARD_CATEGORY_FIRE\",\"grade\":"
                               "\"HAZARD_GRADE_MAJOR\",\"place\":\"p\",\"description\":\"d\","
                               "\"foundBy\":{\"name\":\"a\"},\"responsible\":{\"name\":\"b\"},"
                               "\"rectificationDeadline\":\"2026-11-01T08:00:00Z\","
                               "\"beyondAuthority\":true}");

    recorder_decide(&it, 1, &f);
    assert_int_equal(it->outcome, RECORDER_REJECTED);
    assert_non_null(strstr(it->reason, "hazard.interimMeasures: required for a major hazard"));
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
        cmocka_unit_test(test_recorder_a_json_alarm_is_accepted_and_answered_in_json),
        cmocka_unit_test(test_recorder_invalid_json_is_rejected_and_answered_in_json),
        cmocka_unit_test(test_recorder_an_unknown_content_type_is_rejected),
        cmocka_unit_test(test_recorder_alarm_with_a_wrong_clock_is_accepted_with_a_warning),
        cmocka_unit_test(test_recorder_report_with_a_wrong_clock_is_rejected),
        cmocka_unit_test(test_recorder_decide_keeps_a_registered_device_message_to_store),
        cmocka_unit_test(test_recorder_decide_rejects_unknown_disabled_and_misplaced_devices),
        cmocka_unit_test(test_recorder_decide_a_resend_is_a_duplicate_of_the_first_storage),
        cmocka_unit_test(test_recorder_decide_an_id_twice_in_a_batch_is_stored_once),
        cmocka_unit_test(test_recorder_decide_a_report_needs_its_incident_in_the_same_school),
        cmocka_unit_test(test_recorder_decide_uses_the_district_policy),
        cmocka_unit_test(test_recorder_a_late_notice_is_met_late_and_says_so),
        cmocka_unit_test(test_recorder_a_report_after_its_due_time_is_met_late),
        cmocka_unit_test(test_recorder_rejects_a_retained_message),
        cmocka_unit_test(test_recorder_a_year_old_alarm_is_stored_with_a_warning),
        cmocka_unit_test(test_recorder_an_alarm_climbs_the_police_chain_but_a_drill_does_nothing),
        cmocka_unit_test(test_recorder_supervision_of_heartbeats_wills_and_returns),
        cmocka_unit_test(test_recorder_hazard_steps_of_a_batch_apply_in_order),
        cmocka_unit_test(test_recorder_a_major_hazard_without_interim_measures_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
