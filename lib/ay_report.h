/*
 * ay_report.h - the calendar of periodic reports (domain.md rule 4): which
 * report of a school covers which months, when it is due, and its id.
 *
 * Three kinds (PeriodicReportKind of the contract):
 *   monthly safety report  (安全月报表)   one month,  due before the policy's
 *                                          monthly_report_day of the next month;
 *   risk report            (风险研判报告) two months (Jan-Feb, Mar-Apr, ...),
 *                                          due before risk_report_day after them;
 *   hazard self-inspection (隐患自查报告) one month,  due before self_check_day.
 * "Before the 5th" is due at 00:00 local time on the 5th, in the district's
 * zone (a midnight skipped by a DST change moves forward by the gap).
 *
 * Every report a school owes is known from the calendar before anything
 * arrives: the watchdog schedules its deadline (ay_report_expected) and the
 * recorder meets it when the report comes. Both name it by the same id, a
 * name-based UUID of district, school, kind and period (ay_report_subject),
 * so neither has to find the other's row.
 * Owns: nothing. Threads: pure; thread-safe.
 */
#ifndef AY_REPORT_H
#define AY_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_policy.h"
#include "ay_tz.h"
#include "ay_uuid.h"

enum ay_report_kind {
    AY_REPORT_MONTHLY_SAFETY,
    AY_REPORT_RISK,
    AY_REPORT_SELF_CHECK,
    AY_REPORT_KIND_COUNT,
};

/* A report's period: months [month, month + months - 1] of year (a risk
 * report's period never crosses a year). */
struct ay_report_period {
    enum ay_report_kind kind;
    int year;
    int month; /* 1..12, the first month */
    int months;
};

/* PeriodicReportKind value (0 = unspecified = the monthly safety report) to
 * kind; false for a value the contract does not have. */
bool ay_report_kind_of(int periodic_report_kind, enum ay_report_kind *out);
/* The contract's names: DeadlineKind ("DEADLINE_KIND_MONTHLY_REPORT", ...)
 * and PeriodicReportKind ("PERIODIC_REPORT_KIND_RISK", ...). */
int ay_report_deadline_kind(enum ay_report_kind k); /* DeadlineKind value */
const char *ay_report_kind_name(enum ay_report_kind k);

/* The period of kind k that contains month (year, month). AY_ERR_INVALID
 * for a month outside 1..12 or a year outside 2000..2100. */
enum ay_err ay_report_period_of(enum ay_report_kind k, int year, int month,
                                struct ay_report_period *out);

/* When the report of period p is due under policy pol in zone z. */
enum ay_err ay_report_due_us(const struct ay_tz *z, const struct ay_district_policy *pol,
                             const struct ay_report_period *p, int64_t *out_us);

/* When period p starts: 00:00 local time on the 1st of its first month. */
enum ay_err ay_report_start_us(const struct ay_tz *z, const struct ay_report_period *p,
                               int64_t *out_us);

/* The id every service gives the report (and its deadline) of a school for
 * a period: ay_uuid_v8_name("anyuan.v1.PeriodicReport\n" DISTRICT "\n"
 * SCHOOL "\n" KIND-NAME "\n" YYYY-MM). */
enum ay_err ay_report_subject(const char *district, const char *school,
                              const struct ay_report_period *p, char out[AY_UUID_STRLEN]);

/* A report a school owes, as the watchdog schedules it. */
struct ay_report_due {
    struct ay_report_period period;
    int64_t due_us;
};

#define AY_REPORT_EXPECTED_MAX 16

/*
 * The reports of every kind a school owes at now_us: those whose period has
 * started by now and whose due time is after both since_us (the school was
 * registered: nothing is owed from before it existed) and now_us minus
 * lookback_s (older ones are history, not scheduled afresh). Earliest first;
 * the count (at most AY_REPORT_EXPECTED_MAX).
 */
int ay_report_expected(const struct ay_tz *z, const struct ay_district_policy *pol, int64_t now_us,
                       int64_t since_us, int64_t lookback_s,
                       struct ay_report_due out[AY_REPORT_EXPECTED_MAX]);

#endif
