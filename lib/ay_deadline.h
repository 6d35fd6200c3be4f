/*
 * ay_deadline.h - the reporting deadlines of shared/domain.md, as pure
 * arithmetic on times passed in (no clock, no database).
 *
 * Rules ("Rules that the backbone enforces", rule 2, 3, 4):
 * - an incident's verbal notice is due verbal_notice_min after it was
 *   discovered (30 min in the Anhui rule); the IncidentNotice itself is that
 *   notice, so it is met when the notice is received, late or not;
 * - the first written report is due written_report_min after discovery
 *   (1 h in the Anhui rule; 2 h in the district plan: per-district policy);
 * - a hazard must be rectified by its rectification deadline;
 * - the monthly report for a month is due before monthly_report_day of the
 *   next month, local time;
 * - calendar arithmetic (months, calendar days) is done in the district's
 *   time zone (ay_tz.h; Asia/Shanghai unless the district says otherwise),
 *   with ay_tz's rules for wall times skipped or repeated by a DST change.
 * Owns: nothing; all functions are pure (a zone is passed in, never loaded).
 * Threads: every function is thread-safe; zones may be shared.
 */
#ifndef AY_DEADLINE_H
#define AY_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_tz.h"

/* China has one time zone without daylight saving (since 1992): UTC+8.
 * Used only by ay_deadline_monthly_report_us; new code passes a zone. */
#define AY_LOCAL_UTC_OFFSET_S (8 * 3600)

/* A district's reporting policy (table districts). */
struct ay_policy {
    int verbal_notice_min;  /* 30 by default */
    int written_report_min; /* 60 by default */
    int monthly_report_day; /* 5 by default: due before the 5th */
};

#define AY_POLICY_DEFAULT                                                                          \
    {                                                                                              \
        30, 60, 5                                                                                  \
    }

/* When the clock of an incident starts: discovery if known, else occurrence. */
int64_t ay_deadline_incident_start_us(int64_t occurred_at_us, int64_t discovered_at_us);
int64_t ay_deadline_verbal_notice_us(const struct ay_policy *p, int64_t start_us);
int64_t ay_deadline_written_report_us(const struct ay_policy *p, int64_t start_us);

/*
 * The moment the monthly report for (year, month) is due: 00:00 local time
 * on monthly_report_day of the following month, in UTC microseconds, with
 * local time fixed at UTC+8. The same as ay_deadline_monthly_due_us with
 * Asia/Shanghai for these years.
 * AY_ERR_INVALID for a month outside 1..12 or a year outside 2000..2100.
 */
enum ay_err ay_deadline_monthly_report_us(const struct ay_policy *p, int year, int month,
                                          int64_t *out_us);

/*
 * The moment the monthly report for (year, month) is due in zone z: 00:00
 * local time on day_of_month (1..28, policy monthly_report_day) of the
 * following month, in UTC microseconds: "before the 5th" is due at the
 * start of the 5th. A midnight skipped by a DST change is moved forward by
 * the gap (ay_tz.h).
 * AY_ERR_INVALID (nothing written) for a NULL zone, day_of_month outside
 * 1..28, a month outside 1..12 or a year outside 1..9998.
 */
enum ay_err ay_deadline_monthly_due_us(const struct ay_tz *z, int day_of_month, int year, int month,
                                       int64_t *out_us);

/*
 * The same local wall-clock time (microseconds kept) `days` calendar days
 * after from_us (before it when negative), in zone z: "within 7 days" of
 * 09:00 is 09:00 a week later even when a DST change makes that 167 or 169
 * hours. A wall time skipped by a DST change is moved forward by the gap; a
 * repeated one is its first occurrence (ay_tz.h).
 * AY_ERR_INVALID (nothing written) for a NULL zone or a result outside the
 * years 1..9999.
 */
enum ay_err ay_deadline_add_days_us(const struct ay_tz *z, int64_t from_us, int days,
                                    int64_t *out_us);

/*
 * The local calendar month (*year, *month 1..12) in zone z that the instant
 * utc_us falls in: which monthly report a record belongs to.
 * AY_ERR_INVALID (nothing written) for a NULL zone or NULL out-parameters.
 */
enum ay_err ay_deadline_month_of(const struct ay_tz *z, int64_t utc_us, int *year, int *month);

/* Late means received strictly after the due time. */
bool ay_deadline_is_late(int64_t due_us, int64_t received_us);

#endif
