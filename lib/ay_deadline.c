/*
 * ay_deadline.c - deadline arithmetic; see ay_deadline.h for the rules.
 *
 * Durations in minutes are exact (UTC arithmetic); months and calendar days
 * are counted on the district's local calendar through ay_tz.
 */
#include "ay_deadline.h"

#include <stddef.h>

#include "ay_time.h"

#define US_PER_SEC 1000000LL
#define US_PER_MIN (60LL * US_PER_SEC)
#define US_PER_DAY (86400LL * US_PER_SEC)

int64_t ay_deadline_incident_start_us(int64_t occurred_at_us, int64_t discovered_at_us)
{
    return discovered_at_us > 0 ? discovered_at_us : occurred_at_us;
}

int64_t ay_deadline_verbal_notice_us(const struct ay_policy *p, int64_t start_us)
{
    return start_us + (int64_t)p->verbal_notice_min * US_PER_MIN;
}

int64_t ay_deadline_written_report_us(const struct ay_policy *p, int64_t start_us)
{
    return start_us + (int64_t)p->written_report_min * US_PER_MIN;
}

enum ay_err ay_deadline_monthly_report_us(const struct ay_policy *p, int year, int month,
                                          int64_t *out_us)
{
    if (month < 1 || month > 12 || year < 2000 || year > 2100 || p->monthly_report_day < 1 ||
        p->monthly_report_day > 28)
        return AY_ERR_INVALID;
    int next_year = month == 12 ? year + 1 : year;
    int next_month = month == 12 ? 1 : month + 1;
    int64_t local_midnight_us =
        ay_time_days_from_civil(next_year, next_month, p->monthly_report_day) * US_PER_DAY;
    *out_us = local_midnight_us - (int64_t)AY_LOCAL_UTC_OFFSET_S * 1000000LL;
    return AY_OK;
}

enum ay_err ay_deadline_monthly_due_us(const struct ay_tz *z, int day_of_month, int year, int month,
                                       int64_t *out_us)
{
    /* Day 28 at most: every month has it, so the due day never rolls over. */
    if (z == NULL || out_us == NULL || day_of_month < 1 || day_of_month > 28 || month < 1 ||
        month > 12 || year < 1 || year > 9998)
        return AY_ERR_INVALID;
    int next_year = month == 12 ? year + 1 : year;
    int next_month = month == 12 ? 1 : month + 1;
    return ay_tz_local_to_utc(z, next_year, next_month, day_of_month, 0, 0, 0, out_us);
}

enum ay_err ay_deadline_add_days_us(const struct ay_tz *z, int64_t from_us, int days,
                                    int64_t *out_us)
{
    struct ay_tz_civil from;
    int64_t y;
    int m;
    int d;
    int64_t due_us;

    if (z == NULL || out_us == NULL)
        return AY_ERR_INVALID;
    ay_tz_utc_to_local(z, from_us, &from);
    int64_t frac_us = from_us % US_PER_SEC;
    if (frac_us < 0)
        frac_us += US_PER_SEC;
    ay_time_civil_from_days(ay_time_days_from_civil(from.year, from.month, from.day) + days, &y, &m,
                            &d);
    if (y < 1 || y > 9999)
        return AY_ERR_INVALID;
    enum ay_err rc =
        ay_tz_local_to_utc(z, (int)y, m, d, from.hour, from.minute, from.second, &due_us);
    if (rc != AY_OK)
        return rc;
    *out_us = due_us + frac_us;
    return AY_OK;
}

enum ay_err ay_deadline_month_of(const struct ay_tz *z, int64_t utc_us, int *year, int *month)
{
    struct ay_tz_civil local;

    if (z == NULL || year == NULL || month == NULL)
        return AY_ERR_INVALID;
    ay_tz_utc_to_local(z, utc_us, &local);
    *year = local.year;
    *month = local.month;
    return AY_OK;
}

bool ay_deadline_is_late(int64_t due_us, int64_t received_us)
{
    return received_us > due_us;
}
