/*
 * test_deadline.c - deadline arithmetic of domain.md rule 2 and 4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ay_deadline.h"
#include "ay_time.h"

static int64_t at(const char *rfc3339)
{
    int64_t s = 0;
    int32_t n = 0;
    assert_int_equal(ay_time_parse_rfc3339(rfc3339, &s, &n), AY_OK);
    return ay_time_to_us(s, n);
}

static void test_deadline_verbal_notice_due_30_minutes_after_discovery(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t start =
        ay_deadline_incident_start_us(at("2026-11-24T08:00:00Z"), at("2026-11-24T08:10:00Z"));
    assert_true(ay_deadline_verbal_notice_us(&p, start) == at("2026-11-24T08:40:00Z"));
}

static void test_deadline_written_report_due_one_hour_after_discovery(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t start =
        ay_deadline_incident_start_us(at("2026-11-24T08:00:00Z"), at("2026-11-24T08:10:00Z"));
    assert_true(ay_deadline_written_report_us(&p, start) == at("2026-11-24T09:10:00Z"));
}

static void test_deadline_district_plan_two_hours_for_written_material(void **state)
{
    (void)state;
    struct ay_policy p = {60, 120, 5};
    int64_t start = at("2026-11-24T23:30:00Z");
    assert_true(ay_deadline_written_report_us(&p, start) == at("2026-11-25T01:30:00Z"));
}

static void test_deadline_clock_starts_at_occurrence_when_discovery_unknown(void **state)
{
    (void)state;
    assert_true(ay_deadline_incident_start_us(at("2026-11-24T08:00:00Z"), 0) ==
                at("2026-11-24T08:00:00Z"));
}

static void test_deadline_monthly_report_due_before_the_5th_local_time(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t due = 0;
    assert_int_equal(ay_deadline_monthly_report_us(&p, 2026, 10, &due), AY_OK);
    assert_true(due == at("2026-11-05T00:00:00+08:00"));
}

static void test_deadline_monthly_report_for_december_is_due_in_january(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t due = 0;
    assert_int_equal(ay_deadline_monthly_report_us(&p, 2026, 12, &due), AY_OK);
    assert_true(due == at("2027-01-04T16:00:00Z"));
}

static void test_deadline_monthly_report_rejects_bad_month(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t due = 0;
    assert_int_equal(ay_deadline_monthly_report_us(&p, 2026, 13, &due), AY_ERR_INVALID);
    assert_int_equal(ay_deadline_monthly_report_us(&p, 2026, 0, &due), AY_ERR_INVALID);
}

static void test_deadline_late_only_strictly_after_due(void **state)
{
    (void)state;
    assert_false(ay_deadline_is_late(100, 100));
    assert_true(ay_deadline_is_late(100, 101));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_verbal_notice_due_30_minutes_after_discovery),
        cmocka_unit_test(test_deadline_written_report_due_one_hour_after_discovery),
        cmocka_unit_test(test_deadline_district_plan_two_hours_for_written_material),
        cmocka_unit_test(test_deadline_clock_starts_at_occurrence_when_discovery_unknown),
        cmocka_unit_test(test_deadline_monthly_report_due_before_the_5th_local_time),
        cmocka_unit_test(test_deadline_monthly_report_for_december_is_due_in_january),
        cmocka_unit_test(test_deadline_monthly_report_rejects_bad_month),
        cmocka_unit_test(test_deadline_late_only_strictly_after_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
