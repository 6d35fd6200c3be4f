/*
 * test_report.c - the periodic report calendar: periods, due times in a
 * district's zone (year ends, leap years, the 5th across DST), the shared
 * id, and which reports a school owes at a given moment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ay_policy.h"
#include "ay_report.h"
#include "ay_schema.h"
#include "ay_time.h"
#include "ay_tz.h"
#include "unit.h"

static int64_t due(const struct ay_tz *z, const struct ay_district_policy *p, enum ay_report_kind k,
                   int year, int month)
{
    struct ay_report_period per;
    int64_t us = 0;
    assert_int_equal(ay_report_period_of(k, year, month, &per), AY_OK);
    assert_int_equal(ay_report_due_us(z, p, &per, &us), AY_OK);
    return us;
}

static void test_report_periods_one_or_two_months(void **state)
{
    struct ay_report_period p;
    enum ay_report_kind k;
    (void)state;
    assert_int_equal(ay_report_period_of(AY_REPORT_RISK, 2026, 12, &p), AY_OK);
    assert_int_equal(p.month, 11); /* Nov-Dec */
    assert_int_equal(p.months, 2);
    assert_int_equal(ay_report_period_of(AY_REPORT_RISK, 2026, 1, &p), AY_OK);
    assert_int_equal(p.month, 1);
    assert_int_equal(ay_report_period_of(AY_REPORT_MONTHLY_SAFETY, 2026, 7, &p), AY_OK);
    assert_int_equal(p.month, 7);
    assert_int_equal(ay_report_period_of(AY_REPORT_SELF_CHECK, 2026, 13, &p), AY_ERR_INVALID);
    /* An unspecified kind is the monthly safety report; an unknown one is not a kind. */
    assert_true(ay_report_kind_of(0, &k));
    assert_int_equal(k, AY_REPORT_MONTHLY_SAFETY);
    assert_false(ay_report_kind_of(99, &k));
}

static void test_report_due_before_the_5th_in_the_district_zone(void **state)
{
    struct ay_district_policy p;
    struct ay_tz *sh = ayt_zone("Asia/Shanghai");
    (void)state;
    ay_policy_defaults(&p);
    /* November's report: before 5 December 00:00 Beijing time. */
    assert_true(due(sh, &p, AY_REPORT_MONTHLY_SAFETY, 2026, 11) == ayt_at("2026-12-04T16:00:00Z"));
    /* December's: across the year end. */
    assert_true(due(sh, &p, AY_REPORT_MONTHLY_SAFETY, 2026, 12) == ayt_at("2027-01-04T16:00:00Z"));
    /* The risk report of November-December, the same day. */
    assert_true(due(sh, &p, AY_REPORT_RISK, 2026, 12) == ayt_at("2027-01-04T16:00:00Z"));
    /* January-February of a leap year: before 5 March. */
    assert_true(due(sh, &p, AY_REPORT_RISK, 2028, 2) == ayt_at("2028-03-04T16:00:00Z"));
    /* Each kind has its day in the policy. */
    p.self_check_day = 1;
    assert_true(due(sh, &p, AY_REPORT_SELF_CHECK, 2028, 2) == ayt_at("2028-02-29T16:00:00Z"));
    ay_tz_free(sh);
}

static void test_report_due_across_dst(void **state)
{
    struct ay_district_policy p;
    struct ay_tz *london = ayt_zone("Europe/London");
    struct ay_tz *gap = NULL;
    char err[AY_ERRLEN];
    (void)state;
    ay_policy_defaults(&p);
    /* September's report is due at midnight summer time, October's at midnight GMT. */
    assert_true(due(london, &p, AY_REPORT_MONTHLY_SAFETY, 2026, 9) ==
                ayt_at("2026-10-04T23:00:00Z"));
    assert_true(due(london, &p, AY_REPORT_MONTHLY_SAFETY, 2026, 10) ==
                ayt_at("2026-11-05T00:00:00Z"));
    /* A zone whose clocks jump from 00:00 to 01:00 on 5 March (day 64): the
     * midnight that does not exist moves forward by the gap (01:00 summer
     * time, the same instant as 00:00 standard time). */
    assert_int_equal(ay_tz_parse_posix("XST-1XDT,J64/0,J300/3", &gap, err), AY_OK);
    assert_true(due(gap, &p, AY_REPORT_MONTHLY_SAFETY, 2027, 2) == ayt_at("2027-03-04T23:00:00Z"));
    ay_tz_free(gap);
    ay_tz_free(london);
}

static void test_report_subject_is_the_same_wherever_it_is_made(void **state)
{
    struct ay_report_period a, b;
    char x[AY_UUID_STRLEN], y[AY_UUID_STRLEN], z[AY_UUID_STRLEN];
    (void)state;
    ay_report_period_of(AY_REPORT_RISK, 2026, 11, &a);
    ay_report_period_of(AY_REPORT_RISK, 2026, 12, &b); /* the same period */
    assert_int_equal(ay_report_subject("d01", "sch-0102", &a, x), AY_OK);
    assert_int_equal(ay_report_subject("d01", "sch-0102", &b, y), AY_OK);
    assert_string_equal(x, y);
    assert_true(ay_schema_uuid_is_valid(x));
    assert_int_equal(ay_report_subject("d01", "sch-0103", &a, z), AY_OK);
    assert_string_not_equal(x, z);
    ay_report_period_of(AY_REPORT_MONTHLY_SAFETY, 2026, 11, &b);
    assert_int_equal(ay_report_subject("d01", "sch-0102", &b, z), AY_OK);
    assert_string_not_equal(x, z);
}

static bool owes(const struct ay_report_due *d, int n, enum ay_report_kind k, int year, int month)
{
    for (int i = 0; i < n; i++)
        if (d[i].period.kind == k && d[i].period.year == year && d[i].period.month == month)
            return true;
    return false;
}

static void test_report_expected_from_the_calendar(void **state)
{
    struct ay_district_policy p;
    struct ay_tz *sh = ayt_zone("Asia/Shanghai");
    struct ay_report_due d[AY_REPORT_EXPECTED_MAX];
    (void)state;
    ay_policy_defaults(&p);
    /* 3 December 2026: November's reports are owed (due on the 5th), and
     * December's already exist; the risk report of Nov-Dec too. */
    int64_t now = ayt_at("2026-12-03T02:00:00Z");
    int n = ay_report_expected(sh, &p, now, 0, 40 * 86400, d);
    assert_true(owes(d, n, AY_REPORT_MONTHLY_SAFETY, 2026, 11));
    assert_true(owes(d, n, AY_REPORT_SELF_CHECK, 2026, 11));
    assert_true(owes(d, n, AY_REPORT_MONTHLY_SAFETY, 2026, 12));
    assert_true(owes(d, n, AY_REPORT_RISK, 2026, 11));
    /* October's were due on 5 November: within 40 days, still scheduled
     * (missed); September's are history; January's has not started. */
    assert_true(owes(d, n, AY_REPORT_MONTHLY_SAFETY, 2026, 10));
    assert_false(owes(d, n, AY_REPORT_MONTHLY_SAFETY, 2026, 9));
    assert_false(owes(d, n, AY_REPORT_MONTHLY_SAFETY, 2027, 1));
    for (int i = 1; i < n; i++)
        assert_true(d[i - 1].due_us <= d[i].due_us); /* earliest first */
    /* A school registered on 2 December owes nothing due before. */
    n = ay_report_expected(sh, &p, now, ayt_at("2026-12-02T00:00:00Z"), 40 * 86400, d);
    assert_false(owes(d, n, AY_REPORT_MONTHLY_SAFETY, 2026, 10));
    assert_true(owes(d, n, AY_REPORT_MONTHLY_SAFETY, 2026, 11));
    ay_tz_free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_periods_one_or_two_months),
        cmocka_unit_test(test_report_due_before_the_5th_in_the_district_zone),
        cmocka_unit_test(test_report_due_across_dst),
        cmocka_unit_test(test_report_subject_is_the_same_wherever_it_is_made),
        cmocka_unit_test(test_report_expected_from_the_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
