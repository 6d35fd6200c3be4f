/*
 * ay_tz.h - IANA time zones for calendar arithmetic: UTC offsets at an
 * instant, local wall time to UTC and back.
 *
 * Owns: a zone read from a compiled TZif file (RFC 8536, versions 1-4) of
 * Debian's tzdata package (/usr/share/zoneinfo/<Zone>), or parsed from a
 * POSIX TZ rule ("CST-8", "EST5EDT,M3.2.0,M11.1.0"). Does not own: the
 * zoneinfo directory (tzdata updates it; a loaded zone keeps what it read),
 * the process's TZ variable and libc's tables (never used: changing TZ is
 * process-global and not thread-safe).
 * Enforces: domain.md "Reporting deadlines" is calendar arithmetic in the
 * district's zone (AY_TZ_DEFAULT unless the district says otherwise).
 * Rules for local times that are not exactly one instant:
 * - a wall time in a gap (skipped when clocks go forward) is moved forward
 *   by the gap: 02:30 on the spring-forward day in New York is 03:30 EDT,
 *   i.e. it is read with the offset in force before the change;
 * - an ambiguous wall time (repeated when clocks go back) is the FIRST
 *   occurrence, the earlier instant, so a deadline is never later than the
 *   wall time a person reads.
 * Threads: loading allocates; a loaded zone is immutable and may be shared
 * by any number of threads without locking.
 */
#ifndef AY_TZ_H
#define AY_TZ_H

#include <stdint.h>

#include "ay_err.h"

/* The zone of a district that has not configured one: China Standard Time. */
#define AY_TZ_DEFAULT "Asia/Shanghai"
/* Where Debian's tzdata package installs the compiled zones. */
#define AY_TZ_DIR "/usr/share/zoneinfo"
/* Longest zone name accepted ("America/Argentina/ComodRivadavia" is 32). */
#define AY_TZ_NAME_MAX 64
/* Largest TZif file read (the largest in tzdata is under 5 KiB). */
#define AY_TZ_FILE_MAX (1024 * 1024)

struct ay_tz; /* opaque, immutable once made */

/* A local calendar time in a zone. */
struct ay_tz_civil {
    int year;         /* 1..9999 for instants in ay_time's range */
    int month;        /* 1..12 */
    int day;          /* 1..31 */
    int hour;         /* 0..23 */
    int minute;       /* 0..59 */
    int second;       /* 0..59 */
    int weekday;      /* 0 = Sunday .. 6 = Saturday */
    int32_t offset_s; /* UTC offset in force, east of Greenwich positive */
};

/*
 * Loads the zone called name ("Asia/Shanghai") from AY_TZ_DIR.
 * The name must be 1..AY_TZ_NAME_MAX characters of [A-Za-z0-9_+-/], with no
 * "..", no empty component and no leading or trailing '/'.
 * On AY_OK, *out is a new zone the caller frees with ay_tz_free().
 * Errors (nothing written to *out; err names the zone and says why):
 * AY_ERR_INVALID for a bad name or a corrupt, truncated, oversized
 * (> AY_TZ_FILE_MAX) or leap-second ("right/...") file; AY_ERR_NOTFOUND when
 * no such zone exists; AY_ERR_IO when the file cannot be read;
 * AY_ERR_NOMEM.
 */
enum ay_err ay_tz_load(const char *name, struct ay_tz **out, char err[AY_ERRLEN]);

/* ay_tz_load from the zoneinfo directory dir instead of AY_TZ_DIR (tests). */
enum ay_err ay_tz_load_from(const char *dir, const char *name, struct ay_tz **out,
                            char err[AY_ERRLEN]);

/*
 * A zone that follows one POSIX TZ rule at every instant, e.g. "CST-8",
 * "EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3", "<+08>-8" (POSIX
 * offsets are west-positive), with the RFC 8536 extensions (transition
 * hours -167..167, DST all year). A rule with a DST name and no dates uses
 * the US dates ",M3.2.0,M11.1.0", as glibc does.
 * On AY_OK, *out is a new zone the caller frees with ay_tz_free(); on
 * AY_ERR_INVALID (err names the rule and the part that is wrong) or
 * AY_ERR_NOMEM nothing is written to *out.
 */
enum ay_err ay_tz_parse_posix(const char *rule, struct ay_tz **out, char err[AY_ERRLEN]);

void ay_tz_free(struct ay_tz *z); /* NULL is a no-op */

/* UTC offset in seconds (east positive) in force at the instant utc_us
 * (UTC microseconds since the epoch). z must not be NULL. */
int32_t ay_tz_offset_s(const struct ay_tz *z, int64_t utc_us);

/*
 * The instant (UTC microseconds) of the local wall time y-mo-d h:mi:s in z,
 * with the gap and ambiguity rules of the file-top comment.
 * AY_ERR_INVALID (nothing written) for a NULL zone, a year outside 1..9999
 * or a field out of range (day checked against the month and leap years;
 * no 24:00, no leap second).
 */
enum ay_err ay_tz_local_to_utc(const struct ay_tz *z, int y, int mo, int d, int h, int mi, int s,
                               int64_t *utc_us);

/* The local calendar time of the instant utc_us in z (seconds rounded down).
 * z and out must not be NULL. */
void ay_tz_utc_to_local(const struct ay_tz *z, int64_t utc_us, struct ay_tz_civil *out);

#endif
