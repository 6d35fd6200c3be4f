/*
 * ay_time.h - wall-clock time in microseconds and RFC 3339 text.
 *
 * Owns: the conversion between (seconds, nanos) instants, UTC microseconds
 * and RFC 3339 strings, as used by anyuan.v1.Timestamp in JSON and by the
 * log line's ts= key. Pure arithmetic (proleptic Gregorian calendar, days from
 * civil): no locale, no TZ environment, no libc time zone tables.
 * Range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z, the range of
 * google.protobuf.Timestamp.
 * Threads: every function is thread-safe.
 */
#ifndef AY_TIME_H
#define AY_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ay_err.h"

/* Longest RFC 3339 text ay_time_format_rfc3339 writes, with its NUL (30 + 1, rounded up). */
#define AY_TIME_RFC3339_MAX 40

/* Seconds since the epoch of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define AY_TIME_MIN_SECS (-62135596800LL)
#define AY_TIME_MAX_SECS 253402300799LL

/* Wall clock (CLOCK_REALTIME), UTC microseconds since 1970-01-01T00:00:00Z. */
int64_t ay_time_now_us(void);

/*
 * Parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+hh:mm|-hh:mm)" ('t' and 'z' also
 * accepted, RFC 3339 section 5.6). The whole string must match; day of month
 * is checked against the month and leap years; leap seconds (:60) and
 * instants outside the range above are refused.
 * On AY_OK writes *secs (UTC, since the epoch) and *nanos (0..999999999);
 * on AY_ERR_INVALID writes nothing.
 */
enum ay_err ay_time_parse_rfc3339(const char *s, int64_t *secs, int32_t *nanos);

/*
 * Writes secs/nanos as UTC with 'Z' and a fraction of 0, 3, 6 or 9 digits,
 * the fewest that are exact (protobuf's JSON mapping), e.g.
 * "2026-11-24T08:15:03Z", "2026-11-24T08:15:03.412Z". Always NUL-terminates
 * when it returns non-zero. Returns the length without the NUL, or 0 when
 * nanos is outside 0..999999999, secs outside the range above, or cap is too
 * small (cap >= AY_TIME_RFC3339_MAX always suffices).
 */
size_t ay_time_format_rfc3339(int64_t secs, int32_t nanos, char *buf, size_t cap);

/* secs + nanos as microseconds (nanos truncated toward the earlier instant);
 * saturates at INT64_MIN / INT64_MAX instead of overflowing. */
int64_t ay_time_to_us(int64_t secs, int32_t nanos);

/* Splits microseconds into seconds and nanos with 0 <= *nanos < 1e9
 * (floor division, so instants before 1970 have non-negative nanos). */
void ay_time_from_us(int64_t us, int64_t *secs, int32_t *nanos);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (Hinnant's
 * days_from_civil); m 1..12, d 1..31. */
int64_t ay_time_days_from_civil(int64_t y, int m, int d);
/* The inverse: the date of a day number (Hinnant's civil_from_days). */
void ay_time_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Sleeps ms milliseconds (resumes after signals). */
void ay_time_sleep_ms(int ms);

#endif
