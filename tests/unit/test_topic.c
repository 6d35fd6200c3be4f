/*
 * test_topic.c - building and splitting the topic tree of contract v1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ay_topic.h"

static void test_topic_school_round_trip(void **state)
{
    (void)state;
    char t[AY_TOPIC_MAX];
    struct ay_topic p;
    char err[AY_ERRLEN] = "";

    assert_int_equal(ay_topic_school(t, "d01", "sch-0102", "btn-1", "alarm"), AY_OK);
    assert_string_equal(t, "ay/v1/d01/school/sch-0102/btn-1/alarm");
    assert_int_equal(ay_topic_parse(t, &p, err), AY_OK);
    assert_int_equal(p.cls, AY_TOPIC_SCHOOL);
    assert_string_equal(p.district, "d01");
    assert_string_equal(p.school, "sch-0102");
    assert_string_equal(p.device, "btn-1");
    assert_string_equal(p.kind, "alarm");
}

static void test_topic_receipt_escalation_ack(void **state)
{
    (void)state;
    char t[AY_TOPIC_MAX];
    struct ay_topic p;
    char err[AY_ERRLEN] = "";

    assert_int_equal(ay_topic_receipt(t, "d01", "sch-0102", "btn-1"), AY_OK);
    assert_string_equal(t, "ay/v1/d01/receipt/sch-0102/btn-1");
    assert_int_equal(ay_topic_parse(t, &p, err), AY_OK);
    assert_int_equal(p.cls, AY_TOPIC_RECEIPT);
    assert_int_equal(ay_topic_escalation(t, "d01", "police"), AY_OK);
    assert_string_equal(t, "ay/v1/d01/escalation/police");
    assert_int_equal(ay_topic_parse(t, &p, err), AY_OK);
    assert_int_equal(p.cls, AY_TOPIC_ESCALATION);
    assert_string_equal(p.kind, "police");
    assert_int_equal(ay_topic_ack(t, "d01", "bureau", "bureau-01"), AY_OK);
    assert_string_equal(t, "ay/v1/d01/ack/bureau/bureau-01");
    assert_int_equal(ay_topic_parse(t, &p, err), AY_OK);
    assert_int_equal(p.cls, AY_TOPIC_ACK);
    assert_string_equal(p.kind, "bureau");
    assert_string_equal(p.device, "bureau-01");
    assert_int_equal(ay_topic_ack_receipt(t, "d01", "police", "police-01"), AY_OK);
    assert_string_equal(t, "ay/v1/d01/ack-receipt/police/police-01");
    assert_int_equal(ay_topic_parse(t, &p, err), AY_OK);
    assert_int_equal(p.cls, AY_TOPIC_ACK_RECEIPT);
}

/* Issue 12: each school has an escalation feed of its own; "school" alone
 * is no feed (a school must never see another school's notices). */
static void test_topic_school_escalation_feed_is_per_school(void **state)
{
    (void)state;
    char t[AY_TOPIC_MAX];
    struct ay_topic p;
    char err[AY_ERRLEN] = "";

    assert_int_equal(ay_topic_escalation_school(t, "d01", "sch-0102"), AY_OK);
    assert_string_equal(t, "ay/v1/d01/escalation/school/sch-0102");
    assert_int_equal(ay_topic_parse(t, &p, err), AY_OK);
    assert_int_equal(p.cls, AY_TOPIC_ESCALATION);
    assert_string_equal(p.kind, "school");
    assert_string_equal(p.school, "sch-0102");
    assert_int_equal(ay_topic_escalation_feed(t, "d01", "school", "sch-0103"), AY_OK);
    assert_string_equal(t, "ay/v1/d01/escalation/school/sch-0103");
    /* Other audiences: the district's feed, the school ignored. */
    assert_int_equal(ay_topic_escalation_feed(t, "d01", "bureau", "sch-0103"), AY_OK);
    assert_string_equal(t, "ay/v1/d01/escalation/bureau");
    assert_int_equal(ay_topic_parse(t, &p, err), AY_OK);
    assert_string_equal(p.school, "");
    /* No school, or the school audience without one: refused. */
    assert_int_equal(ay_topic_escalation(t, "d01", "school"), AY_ERR_INVALID);
    assert_int_equal(ay_topic_escalation_feed(t, "d01", "school", NULL), AY_ERR_INVALID);
    assert_int_equal(ay_topic_escalation_feed(t, "d01", "school", ""), AY_ERR_INVALID);
    assert_int_equal(ay_topic_escalation_school(t, "d01", "+"), AY_ERR_INVALID);
    assert_int_equal(ay_topic_parse("ay/v1/d01/escalation/school", &p, err), AY_ERR_INVALID);
    assert_int_equal(ay_topic_parse("ay/v1/d01/escalation/bureau/sch-0102", &p, err),
                     AY_ERR_INVALID);
    /* A school's acknowledgement names its device. */
    assert_int_equal(ay_topic_ack(t, "d01", "school", "app-0102-01"), AY_OK);
    assert_string_equal(t, "ay/v1/d01/ack/school/app-0102-01");
    assert_int_equal(ay_topic_parse(t, &p, err), AY_OK);
    assert_int_equal(p.cls, AY_TOPIC_ACK);
    assert_string_equal(p.kind, "school");
    assert_string_equal(p.device, "app-0102-01");
}

static void test_topic_rejects_what_is_not_in_the_tree(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "ay/v2/d01/school/s/d/alarm",
        "ay/v1/d01/school/s/d",
        "ay/v1/d01/school/s/d/alarm/extra",
        "ay/v1/D01/school/s/d/alarm",
        "ay/v1/d01/school/s+/d/alarm",
        "ay/v1/d01/school/-s/d/alarm",
        "ay/v1/d01/other/s/d",
        "ay/v1/d01/school//d/alarm",
        "ay/v1/d01/school/s/d/al#rm",
        "ay/v1/d01/school/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/d/alarm", /* 33 characters */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ay_topic p;
        char err[AY_ERRLEN] = "";
        assert_int_equal(ay_topic_parse(bad[i], &p, err), AY_ERR_INVALID);
        assert_true(strncmp(err, "topic:", 6) == 0);
    }
}

static void test_topic_builders_refuse_wildcards_in_ids(void **state)
{
    (void)state;
    char t[AY_TOPIC_MAX];
    assert_int_equal(ay_topic_school(t, "d01", "#", "d", "alarm"), AY_ERR_INVALID);
    assert_int_equal(ay_topic_receipt(t, "d01", "s", "+"), AY_ERR_INVALID);
    assert_int_equal(ay_topic_escalation(t, "d/1", "police"), AY_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_school_round_trip),
        cmocka_unit_test(test_topic_receipt_escalation_ack),
        cmocka_unit_test(test_topic_school_escalation_feed_is_per_school),
        cmocka_unit_test(test_topic_rejects_what_is_not_in_the_tree),
        cmocka_unit_test(test_topic_builders_refuse_wildcards_in_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
