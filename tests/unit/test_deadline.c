/*
 * test_deadline.c - deadline arithmetic of domain.md rule 2 and 4, and the
 * calendar arithmetic of deadlines in a district's time zone (zones are read
 * from Debian's tzdata, /usr/share/zoneinfo).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ay_deadline.h"
#include "ay_time.h"
#include "ay_tz.h"
#include "unit.h"

static void test_deadline_verbal_notice_due_30_minutes_after_discovery(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t start = ay_deadline_incident_start_us(ayt_at("2026-11-24T08:00:00Z"),
                                                  ayt_at("2026-11-24T08:10:00Z"));
    assert_true(ay_deadline_verbal_notice_us(&p, start) == ayt_at("2026-11-24T08:40:00Z"));
}

static void test_deadline_written_report_due_one_hour_after_discovery(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t start = ay_deadline_incident_start_us(ayt_at("2026-11-24T08:00:00Z"),
                                                  ayt_at("2026-11-24T08:10:00Z"));
    assert_true(ay_deadline_written_report_us(&p, start) == ayt_at("2026-11-24T09:10:00Z"));
}

static void test_deadline_district_plan_two_hours_for_written_material(void **state)
{
    (void)state;
    struct ay_policy p = {60, 120, 5};
    int64_t start = ayt_at("2026-11-24T23:30:00Z");
    assert_true(ay_deadline_written_report_us(&p, start) == ayt_at("2026-11-25T01:30:00Z"));
}

static void test_deadline_clock_starts_at_occurrence_when_discovery_unknown(void **state)
{
    (void)state;
    assert_true(ay_deadline_incident_start_us(ayt_at("2026-11-24T08:00:00Z"), 0) ==
                ayt_at("2026-11-24T08:00:00Z"));
}

static void test_deadline_monthly_report_due_before_the_5th_local_time(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t due = 0;
    assert_int_equal(ay_deadline_monthly_report_us(&p, 2026, 10, &due), AY_OK);
    assert_true(due == ayt_at("2026-11-05T00:00:00+08:00"));
}

static void test_deadline_monthly_report_for_december_is_due_in_january(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t due = 0;
    assert_int_equal(ay_deadline_monthly_report_us(&p, 2026, 12, &due), AY_OK);
    assert_true(due == ayt_at("2027-01-04T16:00:00Z"));
}

static void test_deadline_monthly_report_rejects_bad_month(void **state)
{
    (void)state;
    struct ay_policy p = AY_POLICY_DEFAULT;
    int64_t due = 0;
    assert_int_equal(ay_deadline_monthly_report_us(&p, 2026, 13, &due), AY_ERR_INVALID);
    assert_int_equal(ay_deadline_monthly_report_us(&p, 2026, 0, &due), AY_ERR_INVALID);
}

/* ---- in a district's time zone ---- */

struct due_case {
    const char *zone;
    int year;
    int month;
    const char *due; /* 00:00 local on the 5th of the next month */
};

static void test_deadline_monthly_report_due_at_start_of_the_5th_in_each_zone(void **state)
{
    static const struct due_case cases[] = {
        {"Asia/Shanghai", 2026, 10, "2026-11-05T00:00:00+08:00"},
        {"Asia/Shanghai", 2026, 12, "2027-01-05T00:00:00+08:00"},
        {"Asia/Shanghai", 1990, 6, "1990-07-05T00:00:00+09:00"}, /* summer time then */
        {"America/New_York", 2026, 2, "2026-03-05T00:00:00-05:00"},
        {"America/New_York", 2026, 3, "2026-04-05T00:00:00-04:00"},
        {"America/New_York", 2026, 10, "2026-11-05T00:00:00-05:00"},
        {"America/New_York", 2026, 12, "2027-01-05T00:00:00-05:00"},
        {"America/New_York", 2100, 5, "2100-06-05T00:00:00-04:00"}, /* footer rule */
        {"Europe/Berlin", 2026, 2, "2026-03-05T00:00:00+01:00"},
        {"Europe/Berlin", 2026, 3, "2026-04-05T00:00:00+02:00"},
        {"Europe/Berlin", 2026, 12, "2027-01-05T00:00:00+01:00"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ay_tz *z = ayt_zone(cases[i].zone);
        int64_t due = 0;
        print_message("%s %d-%02d\n", cases[i].zone, cases[i].year, cases[i].month);
        assert_int_equal(ay_deadline_monthly_due_us(z, 5, cases[i].year, cases[i].month, &due),
                         AY_OK);
        assert_true(due == ayt_at(cases[i].due));
        ay_tz_free(z);
    }
}

/* The fixed-UTC+8 function and Asia/Shanghai agree for every month it takes. */
static void test_deadline_monthly_due_in_shanghai_matches_fixed_utc8(void **state)
{
    struct ay_tz *z = ayt_zone(AY_TZ_DEFAULT);
    (void)state;
    for (int day = 1; day <= 28; day += 27) {
        struct ay_policy p = {30, 60, day};
        for (int year = 2000; year <= 2100; year++) {
            for (int month = 1; month <= 12; month++) {
                int64_t fixed = 0;
                int64_t zoned = 0;
                assert_int_equal(ay_deadline_monthly_report_us(&p, year, month, &fixed), AY_OK);
                assert_int_equal(ay_deadline_monthly_due_us(z, day, year, month, &zoned), AY_OK);
                assert_true(fixed == zoned);
            }
        }
    }
    ay_tz_free(z);
}

static void test_deadline_monthly_due_on_the_28th_in_february(void **state)
{
    struct ay_tz *z = ayt_zone("Asia/Shanghai");
    int64_t due = 0;
    (void)state;

    assert_int_equal(ay_deadline_monthly_due_us(z, 28, 2024, 1, &due), AY_OK);
    assert_true(due == ayt_at("2024-02-28T00:00:00+08:00"));
    assert_int_equal(ay_deadline_monthly_due_us(z, 28, 2100, 1, &due), AY_OK);
    assert_true(due == ayt_at("2100-02-28T00:00:00+08:00"));
    ay_tz_free(z);
}

static void test_deadline_monthly_due_rejects_bad_day_month_and_zone(void **state)
{
    struct ay_tz *z = ayt_zone("Asia/Shanghai");
    int64_t due = 42;
    (void)state;

    assert_int_equal(ay_deadline_monthly_due_us(z, 0, 2026, 1, &due), AY_ERR_INVALID);
    assert_int_equal(ay_deadline_monthly_due_us(z, 29, 2026, 1, &due), AY_ERR_INVALID);
    assert_int_equal(ay_deadline_monthly_due_us(z, 5, 2026, 0, &due), AY_ERR_INVALID);
    assert_int_equal(ay_deadline_monthly_due_us(z, 5, 2026, 13, &due), AY_ERR_INVALID);
    assert_int_equal(ay_deadline_monthly_due_us(z, 5, 9999, 12, &due), AY_ERR_INVALID);
    assert_int_equal(ay_deadline_monthly_due_us(NULL, 5, 2026, 1, &due), AY_ERR_INVALID);
    assert_int_equal(due, 42);
    ay_tz_free(z);
}

struct add_case {
    const char *zone;
    const char *from;
    int days;
    const char *want;
};

static void test_deadline_add_days_keeps_local_time_across_dst(void **state)
{
    static const struct add_case cases[] = {
        /* 7 days that are 167 hours (spring) and 169 hours (autumn) long. */
        {"America/New_York", "2026-03-05T09:00:00-05:00", 7, "2026-03-12T09:00:00-04:00"},
        {"America/New_York", "2026-10-29T09:00:00-04:00", 7, "2026-11-05T09:00:00-05:00"},
        {"Europe/Berlin", "2026-10-22T09:00:00+02:00", 7, "2026-10-29T09:00:00+01:00"},
        {"Europe/Berlin", "2026-03-26T17:30:00.25+01:00", 7, "2026-04-02T17:30:00.25+02:00"},
        {"America/New_York", "2026-03-12T09:00:00-04:00", -7, "2026-03-05T09:00:00-05:00"},
        /* Landing in the gap: moved forward by it. */
        {"America/New_York", "2026-03-01T02:30:00-05:00", 7, "2026-03-08T03:30:00-04:00"},
        /* Landing in the overlap: the first 01:30. */
        {"America/New_York", "2026-10-25T01:30:00-04:00", 7, "2026-11-01T01:30:00-04:00"},
        /* From the second 01:30: the same wall time a week on. */
        {"America/New_York", "2026-11-01T01:30:00-05:00", 7, "2026-11-08T01:30:00-05:00"},
        {"America/New_York", "2100-03-10T12:00:00-05:00", 7, "2100-03-17T12:00:00-04:00"},
        /* No DST: exactly 24 hours a day. */
        {"Asia/Shanghai", "2026-11-24T16:15:03.412+08:00", 7, "2026-12-01T16:15:03.412+08:00"},
        /* Month and year ends, leap years. */
        {"Asia/Shanghai", "2026-12-28T10:00:00+08:00", 7, "2027-01-04T10:00:00+08:00"},
        {"Asia/Shanghai", "2024-02-28T10:00:00+08:00", 1, "2024-02-29T10:00:00+08:00"},
        {"Asia/Shanghai", "2024-02-28T10:00:00+08:00", 2, "2024-03-01T10:00:00+08:00"},
        {"Asia/Shanghai", "2028-02-28T10:00:00+08:00", 1, "2028-02-29T10:00:00+08:00"},
        {"Asia/Shanghai", "2100-02-28T10:00:00+08:00", 1, "2100-03-01T10:00:00+08:00"},
        {"Asia/Shanghai", "2026-01-31T23:59:59+08:00", 0, "2026-01-31T23:59:59+08:00"},
        {"Europe/Berlin", "2024-02-28T23:30:00+01:00", 366, "2025-02-28T23:30:00+01:00"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ay_tz *z = ayt_zone(cases[i].zone);
        int64_t due = 0;
        print_message("%s %s %+d days\n", cases[i].zone, cases[i].from, cases[i].days);
        assert_int_equal(ay_deadline_add_days_us(z, ayt_at(cases[i].from), cases[i].days, &due),
                         AY_OK);
        assert_true(due == ayt_at(cases[i].want));
        ay_tz_free(z);
    }
}

static void test_deadline_add_days_refuses_results_outside_years_1_to_9999(void **state)
{
    struct ay_tz *z = ayt_zone("Asia/Shanghai");
    int64_t due = 42;
    (void)state;

    assert_int_equal(ay_deadline_add_days_us(z, ayt_at("9999-12-30T00:00:00Z"), 2, &due),
                     AY_ERR_INVALID);
    assert_int_equal(ay_deadline_add_days_us(z, INT64_MAX, 0, &due), AY_ERR_INVALID);
    assert_int_equal(ay_deadline_add_days_us(z, 0, INT32_MIN, &due), AY_ERR_INVALID);
    assert_int_equal(ay_deadline_add_days_us(NULL, 0, 1, &due), AY_ERR_INVALID);
    assert_int_equal(due, 42);
    ay_tz_free(z);
}

struct month_case {
    const char *zone;
    const char *utc;
    int year;
    int month;
};

static void test_deadline_month_of_is_the_local_calendar_month(void **state)
{
    static const struct month_case cases[] = {
        {"Asia/Shanghai", "2026-11-30T15:59:59Z", 2026, 11},
        {"Asia/Shanghai", "2026-11-30T16:00:00Z", 2026, 12},
        {"Asia/Shanghai", "2026-12-31T16:00:00Z", 2027, 1},
        {"Asia/Shanghai", "2024-02-29T15:59:59Z", 2024, 2},
        {"Asia/Shanghai", "2100-02-28T16:00:00Z", 2100, 3},
        {"America/New_York", "2026-12-01T04:59:59Z", 2026, 11},
        {"America/New_York", "2026-12-01T05:00:00Z", 2026, 12},
        {"America/New_York", "2026-11-01T03:59:59Z", 2026, 10}, /* EDT until Nov 1 */
        {"Europe/Berlin", "2026-03-31T21:59:59Z", 2026, 3},
        {"Europe/Berlin", "2026-03-31T22:00:00Z", 2026, 4},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ay_tz *z = ayt_zone(cases[i].zone);
        int year = 0;
        int month = 0;
        print_message("%s %s\n", cases[i].zone, cases[i].utc);
        assert_int_equal(ay_deadline_month_of(z, ayt_at(cases[i].utc), &year, &month), AY_OK);
        assert_int_equal(year, cases[i].year);
        assert_int_equal(month, cases[i].month);
        ay_tz_free(z);
    }
    assert_int_equal(ay_deadline_month_of(NULL, 0, &(int){0}, &(int){0}), AY_ERR_INVALID);
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
        cmocka_unit_test(test_deadline_monthly_report_due_at_start_of_the_5th_in_each_zone),
        cmocka_unit_test(test_deadline_monthly_due_in_shanghai_matches_fixed_utc8),
        cmocka_unit_test(test_deadline_monthly_due_on_the_28th_in_february),
        cmocka_unit_test(test_deadline_monthly_due_rejects_bad_day_month_and_zone),
        cmocka_unit_test(test_deadline_add_days_keeps_local_time_across_dst),
        cmocka_unit_test(test_deadline_add_days_refuses_results_outside_years_1_to_9999),
        cmocka_unit_test(test_deadline_month_of_is_the_local_calendar_month),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
