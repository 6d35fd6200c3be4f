/*
 * test_watchdog.c - the watchdog's decisions: what a missed deadline
 * becomes, what the Escalation message carries, and which
 * acknowledgements count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_schema.h"
#include "ay_time.h"
#include "unit.h"
#include "watchdog.h"

#define ESC "8a5d2f7c-3e6b-4d9a-b1f4-6c9e2a5d8b70"
#define NOW 1795000000000000LL

static void test_watchdog_an_alarm_without_notice_is_possible_concealment(void **state)
{
    (void)state;
    enum ay_route_kind route;
    int reason = 0;
    watchdog_missed_route(ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_ALARM_NOTICE, &route, &reason);
    assert_int_equal(route, AY_ROUTE_POSSIBLE_CONCEALMENT);
    assert_int_equal(reason, ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_POSSIBLE_CONCEALMENT);
    watchdog_missed_route(ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT, &route, &reason);
    assert_int_equal(route, AY_ROUTE_DEADLINE_MISSED);
    assert_int_equal(reason, ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEADLINE_MISSED);
}

/* A note about escalation ESC of district d01 for AUDIENCE, with message
 * id ID; the rest is zero, for the test to fill in. */
static struct watchdog_note note_of(const char *id, enum ay_audience audience)
{
    struct watchdog_note n;

    memset(&n, 0, sizeof(n));
    snprintf(n.id, sizeof(n.id), "%s", id);
    snprintf(n.escalation_id, sizeof(n.escalation_id), ESC);
    snprintf(n.district, sizeof(n.district), "d01");
    n.audience = audience;
    return n;
}

static void test_watchdog_escalation_message_carries_ids_words_and_due_times(void **state)
{
    (void)state;
    struct watchdog_note n = note_of("11111111-2222-4333-8444-555555555555", AY_AUDIENCE_BUREAU);
    uint8_t *buf = NULL;
    size_t len = 0;
    char topic[AY_TOPIC_MAX];
    struct ay_district_policy p;

    ay_policy_defaults(&p);
    n.level = 2;
    snprintf(n.target, sizeof(n.target), "safety_head");
    n.kind = ANYUAN__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_CLIMB;
    n.ack_due_us = NOW + 1800LL * 1000000;
    n.subject_kind = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT;
    snprintf(n.subject_id, sizeof(n.subject_id), "3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21");
    snprintf(n.school, sizeof(n.school), "sch-0102");
    snprintf(n.school_zh, sizeof(n.school_zh), "测试学校");
    n.reason = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEADLINE_MISSED;
    snprintf(n.summary_zh, sizeof(n.summary_zh), "书面报告逾期未报");
    n.chain = p.chains[AY_AUDIENCE_BUREAU];
    n.missed_kind = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT;
    n.missed_due_us = NOW - 60LL * 1000000;

    assert_int_equal(watchdog_escalation_pack(&n, "svc-wd-1", NOW, &buf, &len, topic), AY_OK);
    assert_string_equal(topic, "ay/v1/d01/escalation/bureau");
    Anyuan__V1__Escalation *m = anyuan__v1__escalation__unpack(NULL, len, buf);
    assert_non_null(m);
    /* The notification's id: a re-send repeats it, so receivers de-duplicate. */
    assert_string_equal(m->header->message_id, n.id);
    assert_string_equal(m->escalation_id, ESC);
    assert_int_equal(m->level, 2);
    assert_string_equal(m->target_name, "安稳办负责人");
    assert_int_equal(m->missed->kind, ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_WRITTEN_REPORT);
    assert_true(ay_time_to_us(m->ack_by->due_at->seconds, m->ack_by->due_at->nanos) ==
                n.ack_due_us);
    char err[AY_ERRLEN];
    assert_int_equal(ay_schema_validate(&m->base, NOW, err), AY_OK);
    anyuan__v1__escalation__free_unpacked(m, NULL);
    free(buf);
}

/* A late report ended its missed deadline's escalation: the RESOLVED
 * message says so, and how late, not the words of the missing. */
static void test_watchdog_resolved_notice_of_a_late_report_says_it_came(void **state)
{
    (void)state;
    struct watchdog_note n = note_of("11111111-2222-4333-8444-555555555555", AY_AUDIENCE_BUREAU);
    uint8_t *buf = NULL;
    size_t len = 0;
    char topic[AY_TOPIC_MAX];

    n.level = 1;
    n.kind = ANYUAN__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_RESOLVED;
    n.subject_kind = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_MONTHLY_REPORT;
    snprintf(n.subject_id, sizeof(n.subject_id), "3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21");
    snprintf(n.school, sizeof(n.school), "sch-0102");
    snprintf(n.school_zh, sizeof(n.school_zh), "测试学校");
    snprintf(n.school_en, sizeof(n.school_en), "Test school");
    n.reason = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEADLINE_MISSED;
    n.missed_kind = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_MONTHLY_REPORT;
    n.missed_due_us = NOW - 3 * 86400LL * 1000000;
    n.late_s = 3 * 86400 + 60;

    assert_int_equal(watchdog_escalation_pack(&n, "svc-wd-1", NOW, &buf, &len, topic), AY_OK);
    Anyuan__V1__Escalation *m = anyuan__v1__escalation__unpack(NULL, len, buf);
    assert_non_null(m);
    assert_string_equal(m->summary, "测试学校 安全月报已收到（迟报 3 天），督办解除，无需再处置。");
    assert_string_equal(m->summary_en,
                        "Test school: Monthly safety report received, 3 days late; the follow-up "
                        "is over.");
    assert_null(m->ack_by); /* nothing to acknowledge */
    anyuan__v1__escalation__free_unpacked(m, NULL);
    free(buf);
}

/* An Ack as the broker would deliver JSON ack on topic. */
static struct watchdog_ack *ack_of(const char *topic, const char *device, const char *kind)
{
    char json[512], err[AY_ERRLEN];
    ProtobufCMessage *m = NULL;
    snprintf(json, sizeof(json),
             "{\"header\":{\"messageId\":\"f0c3e6b9-2d5a-4f8c-9b1e-4a7d0c3f6e85\",\"deviceId\":"
             "\"%s\",\"districtId\":\"d01\",\"sentAt\":\"2026-11-24T06:12:08Z\","
             "\"schemaVersion\":1},\"escalationId\":\"" ESC "\",\"kind\":\"%s\","
             "\"at\":\"2026-11-24T06:12:05Z\",\"by\":{\"name\":\"周敏\"}}",
             device, kind);
    assert_int_equal(ay_codec_from_json(&anyuan__v1__ack__descriptor, json, strlen(json), &m, err),
                     AY_OK);
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(m, buf);
    struct watchdog_ack *a = watchdog_ack_new(topic, buf, len, NOW, false);
    free(buf);
    protobuf_c_message_free_unpacked(m, NULL);
    watchdog_ack_decode(a, ayt_at("2026-11-24T06:12:09Z"));
    return a;
}

static struct watchdog_esc bureau_escalation(void)
{
    struct watchdog_esc e;
    struct ay_district_policy p;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;
    memset(&e, 0, sizeof(e));
    ay_policy_defaults(&p);
    snprintf(e.id, sizeof(e.id), ESC);
    snprintf(e.district, sizeof(e.district), "d01");
    e.audience = AY_AUDIENCE_BUREAU;
    ay_esc_start(&e.state, &p.chains[AY_AUDIENCE_BUREAU], 1, 3600, NOW - 60000000, out, &n);
    return e;
}

static void test_watchdog_ack_from_the_audience_acknowledges(void **state)
{
    (void)state;
    struct watchdog_esc e = bureau_escalation();
    struct watchdog_ack *a =
        ack_of("ay/v1/d01/ack/bureau/bureau-01", "bureau-01", "ACK_KIND_RECEIVED");
    assert_int_equal(a->outcome, WATCHDOG_ACK_PENDING);
    watchdog_ack_apply(a, &e);
    assert_int_equal(a->outcome, WATCHDOG_ACK_STORED);
    assert_true(a->changed);
    assert_int_equal(e.state.status, AY_ESC_ACKNOWLEDGED);
    watchdog_ack_free(a);
}

static void test_watchdog_ack_refusals_say_why(void **state)
{
    (void)state;
    struct watchdog_esc e = bureau_escalation();
    /* Another audience's account. */
    struct watchdog_ack *a = ack_of("ay/v1/d01/ack/police/p1", "p1", "ACK_KIND_RESOLVED");
    watchdog_ack_apply(a, &e);
    assert_int_equal(a->outcome, WATCHDOG_ACK_REJECTED);
    assert_non_null(strstr(a->reason, "is addressed to bureau, not police"));
    assert_int_equal(e.state.status, AY_ESC_OPEN);
    watchdog_ack_free(a);
    /* An unknown escalation. */
    a = ack_of("ay/v1/d01/ack/bureau/bureau-01", "bureau-01", "ACK_KIND_RECEIVED");
    watchdog_ack_apply(a, NULL);
    assert_non_null(strstr(a->reason, "unknown escalation"));
    watchdog_ack_free(a);
    /* A header that speaks for someone else than the topic's account. */
    a = ack_of("ay/v1/d01/ack/bureau/bureau-01", "bureau-02", "ACK_KIND_RECEIVED");
    assert_int_equal(a->outcome, WATCHDOG_ACK_REJECTED);
    assert_non_null(strstr(a->reason, "is not the account \"bureau-01\""));
    watchdog_ack_free(a);
    /* Not an ack topic at all. */
    a = ack_of("ay/v1/d01/escalation/bureau", "bureau-01", "ACK_KIND_RECEIVED");
    assert_int_equal(a->outcome, WATCHDOG_ACK_REJECTED);
    watchdog_ack_free(a);
}

static void test_watchdog_ack_receipt_goes_to_the_account(void **state)
{
    (void)state;
    struct watchdog_esc e = bureau_escalation();
    struct watchdog_ack *a =
        ack_of("ay/v1/d01/ack/bureau/bureau-01", "bureau-01", "ACK_KIND_RECEIVED");
    char topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    watchdog_ack_apply(a, &e);
    assert_int_equal(watchdog_ack_receipt_pack(a, "svc", NOW, &buf, &len, topic), AY_OK);
    assert_string_equal(topic, "ay/v1/d01/ack-receipt/bureau/bureau-01");
    Anyuan__V1__Receipt *r = anyuan__v1__receipt__unpack(NULL, len, buf);
    assert_int_equal(r->status, ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED);
    assert_string_equal(r->reference, ESC);
    anyuan__v1__receipt__free_unpacked(r, NULL);
    free(buf);
    watchdog_ack_free(a);
}

/* An Ack sent as JSON (lib/ay_wire) is the same ack; its receipt comes back
 * as JSON. Escalations go out in both forms, the JSON on the /json twin. */
static void test_watchdog_json_ack_and_json_escalation(void **state)
{
    (void)state;
    struct watchdog_esc e = bureau_escalation();
    struct watchdog_ack *pb =
        ack_of("ay/v1/d01/ack/bureau/bureau-01", "bureau-01", "ACK_KIND_RECEIVED");
    char err[AY_ERRLEN] = "";
    char topic[AY_TOPIC_MAX];
    uint8_t *js = NULL, *buf = NULL;
    size_t jslen = 0, len = 0;
    enum ay_wire w;

    assert_int_equal(ay_wire_encode(&pb->msg->base, AY_WIRE_JSON, &js, &jslen, err), AY_OK);
    struct watchdog_ack *a =
        watchdog_ack_new("ay/v1/d01/ack/bureau/bureau-01", js, jslen, NOW, false);
    assert_int_equal(watchdog_ack_set_content_type(a, "application/json"), AY_OK);
    watchdog_ack_decode(a, NOW);
    assert_int_equal(a->outcome, WATCHDOG_ACK_PENDING);
    assert_int_equal(a->wire, AY_WIRE_JSON);
    watchdog_ack_apply(a, &e);
    assert_int_equal(watchdog_ack_receipt_pack(a, "svc", NOW, &buf, &len, topic), AY_OK);
    assert_int_equal(ay_wire_detect(NULL, buf, len, &w, err), AY_OK);
    assert_int_equal(w, AY_WIRE_JSON);
    assert_non_null(strstr((const char *)buf, "\"status\":\"RECEIPT_STATUS_STORED\""));
    free(buf);
    watchdog_ack_free(a);

    /* Bad JSON: rejected, answered in JSON. */
    a = watchdog_ack_new("ay/v1/d01/ack/bureau/bureau-01", "{\"kind\": 1", 11, NOW, false);
    watchdog_ack_decode(a, NOW);
    assert_int_equal(a->outcome, WATCHDOG_ACK_REJECTED);
    assert_non_null(strstr(a->reason, "ack: invalid JSON near byte"));
    assert_int_equal(watchdog_ack_receipt_pack(a, "svc", NOW, &buf, &len, topic), AY_OK);
    assert_int_equal(buf[0], '{');
    free(buf);
    watchdog_ack_free(a);
    free(js);
    watchdog_ack_free(pb);

    struct watchdog_note n = note_of("e4b7d0a3-6f9c-4b2e-8a5d-1f4c7b0e3a69", AY_AUDIENCE_BUREAU);
    snprintf(n.subject_id, sizeof(n.subject_id), "sch-0102");
    n.subject_kind = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_DEVICE;
    n.reason = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_OFFLINE;
    assert_int_equal(watchdog_escalation_pack_as(&n, "svc", NOW, AY_WIRE_JSON, &buf, &len, topic),
                     AY_OK);
    assert_string_equal(topic, "ay/v1/d01/escalation/bureau/json");
    ProtobufCMessage *m = NULL;
    assert_int_equal(
        ay_wire_decode(&anyuan__v1__escalation__descriptor, AY_WIRE_JSON, buf, len, &m, err),
        AY_OK);
    assert_string_equal(((Anyuan__V1__Escalation *)m)->escalation_id, ESC);
    protobuf_c_message_free_unpacked(m, NULL);
    free(buf);
}

static struct watchdog_esc school_escalation(const char *school)
{
    struct watchdog_esc e;
    struct ay_district_policy p;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;
    memset(&e, 0, sizeof(e));
    ay_policy_defaults(&p);
    snprintf(e.id, sizeof(e.id), ESC);
    snprintf(e.district, sizeof(e.district), "d01");
    snprintf(e.school, sizeof(e.school), "%s", school);
    e.audience = AY_AUDIENCE_SCHOOL;
    e.reason = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_OFFLINE;
    ay_esc_start(&e.state, &p.chains[AY_AUDIENCE_SCHOOL], 1, 3600, NOW - 60000000, out, &n);
    return e;
}

/* Issue 12: a school acknowledges through its devices, its own school's
 * escalations only (the registry says whose the device is); the refusals
 * say why in Chinese and English. */
static void test_watchdog_school_ack_only_of_its_own_school(void **state)
{
    (void)state;
    struct watchdog_esc e = school_escalation("sch-0102");
    struct watchdog_ack *a =
        ack_of("ay/v1/d01/ack/school/app-0102-01", "app-0102-01", "ACK_KIND_RECEIVED");
    assert_int_equal(a->outcome, WATCHDOG_ACK_PENDING);
    assert_true(watchdog_ack_is_school(a));
    /* Another school's device. */
    snprintf(a->school, sizeof(a->school), "sch-0103");
    watchdog_ack_apply(a, &e);
    assert_int_equal(a->outcome, WATCHDOG_ACK_REJECTED);
    assert_non_null(strstr(a->reason, "is for school sch-0102; device app-0102-01 is of school "
                                      "sch-0103 (只能签收本校的通报)"));
    assert_int_equal(e.state.status, AY_ESC_OPEN);
    watchdog_ack_free(a);
    /* A device the registry does not know (or disabled). */
    a = ack_of("ay/v1/d01/ack/school/app-0102-01", "app-0102-01", "ACK_KIND_RECEIVED");
    watchdog_ack_apply(a, &e);
    assert_int_equal(a->outcome, WATCHDOG_ACK_REJECTED);
    assert_non_null(strstr(a->reason, "not an enabled device of a school in the registry"));
    assert_non_null(strstr(a->reason, "未登记或已停用的设备不能签收"));
    watchdog_ack_free(a);
    /* Its own school's: acknowledged. */
    a = ack_of("ay/v1/d01/ack/school/app-0102-01", "app-0102-01", "ACK_KIND_RECEIVED");
    snprintf(a->school, sizeof(a->school), "sch-0102");
    watchdog_ack_apply(a, &e);
    assert_int_equal(a->outcome, WATCHDOG_ACK_STORED);
    assert_int_equal(e.state.status, AY_ESC_ACKNOWLEDGED);
    char topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(watchdog_ack_receipt_pack(a, "svc", NOW, &buf, &len, topic), AY_OK);
    assert_string_equal(topic, "ay/v1/d01/ack-receipt/school/app-0102-01");
    free(buf);
    watchdog_ack_free(a);
    /* A school's device cannot acknowledge the bureau's escalation. */
    struct watchdog_esc b = bureau_escalation();
    a = ack_of("ay/v1/d01/ack/school/app-0102-01", "app-0102-01", "ACK_KIND_RECEIVED");
    snprintf(a->school, sizeof(a->school), "sch-0102");
    watchdog_ack_apply(a, &b);
    assert_int_equal(a->outcome, WATCHDOG_ACK_REJECTED);
    assert_non_null(strstr(a->reason, "is addressed to bureau, not school"));
    watchdog_ack_free(a);
    /* Nor is a bureau account's ack a school's. */
    a = ack_of("ay/v1/d01/ack/bureau/bureau-01", "bureau-01", "ACK_KIND_RECEIVED");
    assert_false(watchdog_ack_is_school(a));
    watchdog_ack_free(a);
    assert_true(watchdog_ack_school_may("sch-0102", "sch-0102"));
    assert_false(watchdog_ack_school_may("sch-0102", "sch-0103"));
    assert_false(watchdog_ack_school_may("", ""));
    assert_false(watchdog_ack_school_may("sch-0102", NULL));
}

/* Escalations to a school go on that school's own feed, with AUDIENCE_SCHOOL. */
static void test_watchdog_school_escalation_on_the_schools_feed(void **state)
{
    (void)state;
    struct watchdog_note n = note_of("e4b7d0a3-6f9c-4b2e-8a5d-1f4c7b0e3a69", AY_AUDIENCE_SCHOOL);
    uint8_t *buf = NULL;
    size_t len = 0;
    char topic[AY_TOPIC_MAX];
    struct ay_district_policy p;

    ay_policy_defaults(&p);
    snprintf(n.school, sizeof(n.school), "sch-0102");
    snprintf(n.subject_id, sizeof(n.subject_id), "btn-0102-01");
    snprintf(n.target, sizeof(n.target), "safety_office");
    n.level = 1;
    n.chain = p.chains[AY_AUDIENCE_SCHOOL];
    n.subject_kind = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_DEVICE;
    n.reason = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_OFFLINE;
    assert_int_equal(watchdog_escalation_pack(&n, "svc", NOW, &buf, &len, topic), AY_OK);
    assert_string_equal(topic, "ay/v1/d01/escalation/school/sch-0102");
    Anyuan__V1__Escalation *m = anyuan__v1__escalation__unpack(NULL, len, buf);
    assert_non_null(m);
    assert_int_equal(m->audience, ANYUAN__V1__AUDIENCE__AUDIENCE_SCHOOL);
    assert_string_equal(m->target_name, "校安办");
    anyuan__v1__escalation__free_unpacked(m, NULL);
    free(buf);
    assert_int_equal(watchdog_escalation_pack_as(&n, "svc", NOW, AY_WIRE_JSON, &buf, &len, topic),
                     AY_OK);
    assert_string_equal(topic, "ay/v1/d01/escalation/school/sch-0102/json");
    assert_non_null(strstr((const char *)buf, "\"audience\":\"AUDIENCE_SCHOOL\""));
    free(buf);
    /* Without its school there is no feed to put it on. */
    n.school[0] = '\0';
    assert_int_equal(watchdog_escalation_pack(&n, "svc", NOW, &buf, &len, topic), AY_ERR_INVALID);
}

/* The police acknowledge an alarm on the feed by the alarm's own id: that
 * names the alarm's police escalation; an escalation's own id still wins,
 * and another audience's alarm escalation is not it. */
static void test_watchdog_police_ack_by_alarm_id_finds_the_alarm_escalation(void **state)
{
    (void)state;
    struct watchdog_esc e[3];
    e[0] = bureau_escalation();
    snprintf(e[0].id, sizeof(e[0].id), "11111111-1111-4111-8111-111111111111");
    snprintf(e[0].subject_id, sizeof(e[0].subject_id), ESC);
    e[0].reason = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_ALARM;
    e[1] = e[0];
    snprintf(e[1].id, sizeof(e[1].id), "22222222-2222-4222-8222-222222222222");
    e[1].audience = AY_AUDIENCE_POLICE;
    e[2] = e[1];
    snprintf(e[2].id, sizeof(e[2].id), "33333333-3333-4333-8333-333333333333");
    e[2].reason = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_SUSPECTED_CRIME;

    struct watchdog_ack *a = ack_of("ay/v1/d01/ack/police/p1", "p1", "ACK_KIND_DISPATCHED");
    struct watchdog_esc *t = watchdog_ack_target(a, e, 3);
    assert_ptr_equal(t, &e[1]);
    watchdog_ack_apply(a, t);
    assert_int_equal(a->outcome, WATCHDOG_ACK_STORED);
    assert_string_equal(a->esc_id, e[1].id); /* stored against the escalation */
    assert_int_equal(e[1].state.status, AY_ESC_ACKNOWLEDGED);
    watchdog_ack_free(a);
    /* Not a police alarm escalation among them: unknown. */
    a = ack_of("ay/v1/d01/ack/police/p1", "p1", "ACK_KIND_DISPATCHED");
    assert_null(watchdog_ack_target(a, e + 2, 1));
    watchdog_ack_free(a);
    /* An escalation of that very id is taken first. */
    snprintf(e[2].id, sizeof(e[2].id), ESC);
    a = ack_of("ay/v1/d01/ack/police/p1", "p1", "ACK_KIND_DISPATCHED");
    assert_ptr_equal(watchdog_ack_target(a, e, 3), &e[2]);
    watchdog_ack_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watchdog_an_alarm_without_notice_is_possible_concealment),
        cmocka_unit_test(test_watchdog_escalation_message_carries_ids_words_and_due_times),
        cmocka_unit_test(test_watchdog_resolved_notice_of_a_late_report_says_it_came),
        cmocka_unit_test(test_watchdog_ack_from_the_audience_acknowledges),
        cmocka_unit_test(test_watchdog_ack_refusals_say_why),
        cmocka_unit_test(test_watchdog_ack_receipt_goes_to_the_account),
        cmocka_unit_test(test_watchdog_json_ack_and_json_escalation),
        cmocka_unit_test(test_watchdog_police_ack_by_alarm_id_finds_the_alarm_escalation),
        cmocka_unit_test(test_watchdog_school_ack_only_of_its_own_school),
        cmocka_unit_test(test_watchdog_school_escalation_on_the_schools_feed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
