/*
 * ay_time.c - RFC 3339 parsing and formatting, microsecond helpers.
 *
 * Owns: calendar arithmetic only. Dates use Howard Hinnant's days_from_civil /
 * civil_from_days algorithms (proleptic Gregorian, exact for every year we
 * accept), so results never depend on the process's locale or TZ.
 */
#include "ay_time.h"

#include <errno.h>

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#define NANOS_PER_SEC 1000000000LL
#define US_PER_SEC    1000000LL
#define SECS_PER_DAY  86400LL

int64_t ay_time_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

/* ---- calendar ---- */

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int64_t ay_time_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil (Hinnant, civil_from_days). */
void ay_time_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ---- parsing ---- */

/* Reads exactly n decimal digits at *p into *out and advances *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* ".f{1,9}" if present; writes the fraction as nanoseconds. */
static bool fraction(const char **p, int32_t *nanos)
{
    int32_t v = 0;
    int n = 0;

    *nanos = 0;
    if (**p != '.')
        return true;
    (*p)++;
    while (**p >= '0' && **p <= '9') {
        if (++n > 9)
            return false;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    if (n == 0)
        return false;
    for (; n < 9; n++)
        v *= 10;
    *nanos = v;
    return true;
}

/* "Z", "+hh:mm" or "-hh:mm"; writes the offset east of UTC in seconds. */
static bool offset(const char **p, int64_t *off_s)
{
    int sign;
    int hh;
    int mm;

    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *off_s = 0;
        return true;
    }
    if (**p != '+' && **p != '-')
        return false;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (!digits(p, 2, &hh) || !expect(p, ':') || !digits(p, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *off_s = sign * (hh * 3600LL + mm * 60LL);
    return true;
}

enum ay_err ay_time_parse_rfc3339(const char *s, int64_t *secs, int32_t *nanos)
{
    const char *p = s;
    int y;
    int mo;
    int d;
    int h;
    int mi;
    int se;
    int32_t ns;
    int64_t off_s;

    if (s == NULL)
        return AY_ERR_INVALID;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
        !digits(&p, 2, &d))
        return AY_ERR_INVALID;
    if (*p != 'T' && *p != 't')
        return AY_ERR_INVALID;
    p++;
    if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) || !expect(&p, ':') ||
        !digits(&p, 2, &se) || !fraction(&p, &ns) || !offset(&p, &off_s) || *p != '\0')
        return AY_ERR_INVALID;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        se > 59)
        return AY_ERR_INVALID;
    int64_t t =
        ay_time_days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600LL + mi * 60LL + se - off_s;
    if (t < AY_TIME_MIN_SECS || t > AY_TIME_MAX_SECS)
        return AY_ERR_INVALID;
    *secs = t;
    *nanos = ns;
    return AY_OK;
}

/* ---- formatting ---- */

size_t ay_time_format_rfc3339(int64_t secs, int32_t nanos, char *buf, size_t cap)
{
    int64_t y;
    int mo;
    int d;
    char frac[11] = "";
    int n;

    if (buf == NULL || nanos < 0 || nanos >= NANOS_PER_SEC || secs < AY_TIME_MIN_SECS ||
        secs > AY_TIME_MAX_SECS)
        return 0;
    int64_t days = secs / SECS_PER_DAY;
    int64_t rem = secs % SECS_PER_DAY;
    if (rem < 0) {
        rem += SECS_PER_DAY;
        days--;
    }
    ay_time_civil_from_days(days, &y, &mo, &d);
    /* protobuf's JSON mapping: 0, 3, 6 or 9 digits, the fewest that are exact. */
    if (nanos % 1000000 == 0 && nanos != 0)
        snprintf(frac, sizeof(frac), ".%03d", (int)(nanos / 1000000));
    else if (nanos % 1000 == 0 && nanos != 0)
        snprintf(frac, sizeof(frac), ".%06d", (int)(nanos / 1000));
    else if (nanos != 0)
        snprintf(frac, sizeof(frac), ".%09d", (int)nanos);
    n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", (int)y, mo, d, (int)(rem / 3600),
                 (int)(rem % 3600 / 60), (int)(rem % 60), frac);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

/* ---- microseconds ---- */

int64_t ay_time_to_us(int64_t secs, int32_t nanos)
{
    /* Fold whole seconds out of nanos first so the range checks below are exact. */
    int64_t carry = nanos / NANOS_PER_SEC;
    int64_t ns = nanos % NANOS_PER_SEC;
    if (ns < 0) {
        ns += NANOS_PER_SEC;
        carry--;
    }
    if ((carry > 0 && secs > INT64_MAX - carry) || (carry < 0 && secs < INT64_MIN - carry))
        return carry > 0 ? INT64_MAX : INT64_MIN;
    secs += carry;
    if (secs > (INT64_MAX - US_PER_SEC) / US_PER_SEC)
        return INT64_MAX;
    if (secs < INT64_MIN / US_PER_SEC)
        return INT64_MIN;
    return secs * US_PER_SEC + ns / 1000;
}

void ay_time_from_us(int64_t us, int64_t *secs, int32_t *nanos)
{
    int64_t s = us / US_PER_SEC;
    int64_t r = us % US_PER_SEC;

    if (r < 0) {
        r += US_PER_SEC;
        s--;
    }
    *secs = s;
    *nanos = (int32_t)(r * 1000);
}

void ay_time_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
