/*
 * ay_report.c - the calendar of periodic reports; see ay_report.h.
 */
#include "ay_report.h"

#include <stdio.h>
#include <string.h>

#include "anyuan/v1/monthly.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_deadline.h"

static const struct {
    int proto;         /* PeriodicReportKind */
    int deadline_kind; /* DeadlineKind */
    int months;
    const char *name;
} kinds[AY_REPORT_KIND_COUNT] = {
    [AY_REPORT_MONTHLY_SAFETY] =
        {ANYUAN__V1__PERIODIC_REPORT_KIND__PERIODIC_REPORT_KIND_MONTHLY_SAFETY,
         ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_MONTHLY_REPORT, 1,
         "PERIODIC_REPORT_KIND_MONTHLY_SAFETY"},
    [AY_REPORT_RISK] = {ANYUAN__V1__PERIODIC_REPORT_KIND__PERIODIC_REPORT_KIND_RISK,
                        ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_RISK_REPORT, 2,
                        "PERIODIC_REPORT_KIND_RISK"},
    [AY_REPORT_SELF_CHECK] =
        {ANYUAN__V1__PERIODIC_REPORT_KIND__PERIODIC_REPORT_KIND_HAZARD_SELF_CHECK,
         ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_HAZARD_SELF_CHECK, 1,
         "PERIODIC_REPORT_KIND_HAZARD_SELF_CHECK"},
};

bool ay_report_kind_of(int v, enum ay_report_kind *out)
{
    if (v == ANYUAN__V1__PERIODIC_REPORT_KIND__PERIODIC_REPORT_KIND_UNSPECIFIED) {
        *out = AY_REPORT_MONTHLY_SAFETY;
        return true;
    }
    for (int k = 0; k < AY_REPORT_KIND_COUNT; k++) {
        if (kinds[k].proto == v) {
            *out = (enum ay_report_kind)k;
            return true;
        }
    }
    return false;
}

int ay_report_deadline_kind(enum ay_report_kind k)
{
    return (unsigned)k < AY_REPORT_KIND_COUNT ? kinds[k].deadline_kind : 0;
}

const char *ay_report_kind_name(enum ay_report_kind k)
{
    return (unsigned)k < AY_REPORT_KIND_COUNT ? kinds[k].name : "PERIODIC_REPORT_KIND_UNSPECIFIED";
}

enum ay_err ay_report_period_of(enum ay_report_kind k, int year, int month,
                                struct ay_report_period *out)
{
    if ((unsigned)k >= AY_REPORT_KIND_COUNT || month < 1 || month > 12 || year < 2000 ||
        year > 2100)
        return AY_ERR_INVALID;
    int n = kinds[k].months;
    out->kind = k;
    out->year = year;
    out->months = n;
    out->month = month - (month - 1) % n; /* 1, 3, 5, ... for two months */
    return AY_OK;
}

static int due_day(const struct ay_district_policy *pol, enum ay_report_kind k)
{
    switch (k) {
    case AY_REPORT_RISK:
        return pol->risk_report_day;
    case AY_REPORT_SELF_CHECK:
        return pol->self_check_day;
    default:
        return pol->monthly_report_day;
    }
}

enum ay_err ay_report_due_us(const struct ay_tz *z, const struct ay_district_policy *pol,
                             const struct ay_report_period *p, int64_t *out_us)
{
    if ((unsigned)p->kind >= AY_REPORT_KIND_COUNT)
        return AY_ERR_INVALID;
    /* Due on the day of the month after the period's last month. */
    return ay_deadline_monthly_due_us(z, due_day(pol, p->kind), p->year, p->month + p->months - 1,
                                      out_us);
}

enum ay_err ay_report_start_us(const struct ay_tz *z, const struct ay_report_period *p,
                               int64_t *out_us)
{
    return ay_tz_local_to_utc(z, p->year, p->month, 1, 0, 0, 0, out_us);
}

enum ay_err ay_report_subject(const char *district, const char *school,
                              const struct ay_report_period *p, char out[AY_UUID_STRLEN])
{
    char name[160];
    int n = snprintf(name, sizeof(name), "anyuan.v1.PeriodicReport\n%s\n%s\n%s\n%04d-%02d",
                     district, school, ay_report_kind_name(p->kind), p->year, p->month);
    if (n < 0 || (size_t)n >= sizeof(name))
        return AY_ERR_INVALID;
    return ay_uuid_v8_name(name, (size_t)n, out);
}

int ay_report_expected(const struct ay_tz *z, const struct ay_district_policy *pol, int64_t now_us,
                       int64_t since_us, int64_t lookback_s,
                       struct ay_report_due out[AY_REPORT_EXPECTED_MAX])
{
    int y = 0, m = 0, n = 0;
    int64_t oldest = now_us - lookback_s * 1000000;

    if (ay_deadline_month_of(z, now_us, &y, &m) != AY_OK)
        return 0;
    /* The periods containing this month and the three before it: with a
     * lookback under two months, every period still owed is among them. */
    for (int back = 3; back >= 0; back--) {
        int yy = y, mm = m - back;
        if (mm < 1) {
            mm += 12;
            yy--;
        }
        for (int k = 0; k < AY_REPORT_KIND_COUNT && n < AY_REPORT_EXPECTED_MAX; k++) {
            struct ay_report_period p;
            int64_t start = 0, due = 0;
            if (ay_report_period_of((enum ay_report_kind)k, yy, mm, &p) != AY_OK ||
                p.month != mm || /* counted once, at its first month */
                ay_report_start_us(z, &p, &start) != AY_OK ||
                ay_report_due_us(z, pol, &p, &due) != AY_OK)
                continue;
            if (start > now_us || due <= since_us || due <= oldest)
                continue;
            int i = n++;
            for (; i > 0 && out[i - 1].due_us > due; i--) /* earliest first */
                out[i] = out[i - 1];
            out[i].period = p;
            out[i].due_us = due;
        }
    }
    return n;
}
