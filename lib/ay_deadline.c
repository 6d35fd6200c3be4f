/*
 * ay_deadline.c - deadline arithmetic; see ay_deadline.h for the rules.
 */
#include "ay_deadline.h"

#include "ay_time.h"

#define US_PER_MIN (60LL * 1000000LL)
#define US_PER_DAY (86400LL * 1000000LL)

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

bool ay_deadline_is_late(int64_t due_us, int64_t received_us)
{
    return received_us > due_us;
}
