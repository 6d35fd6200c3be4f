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
 *   next month, local time (China Standard Time, UTC+8, no DST).
 * Owns: nothing; all functions are pure.
 */
#ifndef AY_DEADLINE_H
#define AY_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "ay_err.h"

/* China has one time zone without daylight saving: UTC+8. */
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
 * on monthly_report_day of the following month, in UTC microseconds.
 * AY_ERR_INVALID for a month outside 1..12 or a year outside 2000..2100.
 */
enum ay_err ay_deadline_monthly_report_us(const struct ay_policy *p, int year, int month,
                                          int64_t *out_us);

/* Late means received strictly after the due time. */
bool ay_deadline_is_late(int64_t due_us, int64_t received_us);

#endif
