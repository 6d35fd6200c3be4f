/*
 * test_tz.c - time zones (lib/ay_tz.h): TZif files of Debian's tzdata
 * (/usr/share/zoneinfo, deploy/install-deps installs it), POSIX TZ rules, and
 * the gap and ambiguity rules for local wall times.
 *
 * Expected instants come from zdump -v of tzdata 2025b. One test compares
 * with glibc's localtime_r, which needs TZ set: that is process-global, so
 * it is done here, in a single-threaded test, and never in lib/.
 * Broken files are written to a private temporary directory that is removed
 * afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ay_time.h"
#include "ay_tz.h"
#include "unit.h"

#define H 3600

static struct ay_tz *posix(const char *rule)
{
    struct ay_tz *z = NULL;
    char err[AY_ERRLEN] = "";
    enum ay_err rc = ay_tz_parse_posix(rule, &z, err);
    if (rc != AY_OK)
        print_error("%s: %s\n", rule, err);
    assert_int_equal(rc, AY_OK);
    return z;
}

/* The instant of a local wall time; the test fails unless it is AY_OK. */
static int64_t wall(const struct ay_tz *z, int y, int mo, int d, int h, int mi, int s)
{
    int64_t us = 0;
    assert_int_equal(ay_tz_local_to_utc(z, y, mo, d, h, mi, s, &us), AY_OK);
    return us;
}

static void assert_local(const struct ay_tz *z, const char *utc, int y, int mo, int d, int h,
                         int mi, int s, int32_t offset_s)
{
    struct ay_tz_civil c;
    ay_tz_utc_to_local(z, ayt_at(utc), &c);
    print_message("%s -> %04d-%02d-%02dT%02d:%02d:%02d %+d\n", utc, c.year, c.month, c.day, c.hour,
                  c.minute, c.second, c.offset_s);
    assert_int_equal(c.year, y);
    assert_int_equal(c.month, mo);
    assert_int_equal(c.day, d);
    assert_int_equal(c.hour, h);
    assert_int_equal(c.minute, mi);
    assert_int_equal(c.second, s);
    assert_int_equal(c.offset_s, offset_s);
}

/* ---- real zones from tzdata ---- */

static void test_tz_shanghai_is_utc_plus_8_all_year(void **state)
{
    struct ay_tz *z = ayt_zone(AY_TZ_DEFAULT);
    struct ay_tz_civil c;
    (void)state;

    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-01-15T00:00:00Z")), 8 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-07-15T00:00:00Z")), 8 * H);
    assert_local(z, "2026-11-24T08:15:03.999Z", 2026, 11, 24, 16, 15, 3, 8 * H);
    ay_tz_utc_to_local(z, ayt_at("2026-11-24T08:15:03Z"), &c);
    assert_int_equal(c.weekday, 2); /* a Tuesday */
    assert_local(z, "2026-12-31T16:00:00Z", 2027, 1, 1, 0, 0, 0, 8 * H);
    assert_true(wall(z, 2026, 11, 5, 0, 0, 0) == ayt_at("2026-11-04T16:00:00Z"));
    ay_tz_free(z);
}

/* China kept summer time from 1986 to 1991 (tzdata Asia/Shanghai). */
static void test_tz_shanghai_had_summer_time_1986_to_1991(void **state)
{
    struct ay_tz *z = ayt_zone("Asia/Shanghai");
    (void)state;

    assert_int_equal(ay_tz_offset_s(z, ayt_at("1986-05-03T17:59:59Z")), 8 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("1986-05-03T18:00:00Z")), 9 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("1986-09-13T16:59:59Z")), 9 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("1986-09-13T17:00:00Z")), 8 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("1991-07-01T00:00:00Z")), 9 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("1992-07-01T00:00:00Z")), 8 * H);
    /* 02:30 on 1986-05-04 never happened: 03:30 CDT. */
    assert_true(wall(z, 1986, 5, 4, 2, 30, 0) == ayt_at("1986-05-04T03:30:00+09:00"));
    /* 01:30 on 1986-09-14 happened twice: the first, in CDT. */
    assert_true(wall(z, 1986, 9, 14, 1, 30, 0) == ayt_at("1986-09-14T01:30:00+09:00"));
    ay_tz_free(z);
}

static void test_tz_new_york_spring_forward_gap_moves_forward(void **state)
{
    struct ay_tz *z = ayt_zone("America/New_York");
    (void)state;

    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-03-08T06:59:59Z")), -5 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-03-08T07:00:00Z")), -4 * H);
    assert_true(wall(z, 2026, 3, 8, 1, 59, 59) == ayt_at("2026-03-08T01:59:59-05:00"));
    assert_true(wall(z, 2026, 3, 8, 2, 0, 0) == ayt_at("2026-03-08T03:00:00-04:00"));
    assert_true(wall(z, 2026, 3, 8, 2, 30, 0) == ayt_at("2026-03-08T03:30:00-04:00"));
    assert_true(wall(z, 2026, 3, 8, 2, 59, 59) == ayt_at("2026-03-08T03:59:59-04:00"));
    assert_true(wall(z, 2026, 3, 8, 3, 0, 0) == ayt_at("2026-03-08T03:00:00-04:00"));
    assert_local(z, "2026-03-08T07:30:00Z", 2026, 3, 8, 3, 30, 0, -4 * H);
    ay_tz_free(z);
}

static void test_tz_new_york_fall_back_overlap_takes_first_occurrence(void **state)
{
    struct ay_tz *z = ayt_zone("America/New_York");
    (void)state;

    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-11-01T05:59:59Z")), -4 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-11-01T06:00:00Z")), -5 * H);
    assert_true(wall(z, 2026, 11, 1, 0, 59, 59) == ayt_at("2026-11-01T00:59:59-04:00"));
    assert_true(wall(z, 2026, 11, 1, 1, 0, 0) == ayt_at("2026-11-01T01:00:00-04:00"));
    assert_true(wall(z, 2026, 11, 1, 1, 30, 0) == ayt_at("2026-11-01T01:30:00-04:00"));
    assert_true(wall(z, 2026, 11, 1, 1, 59, 59) == ayt_at("2026-11-01T01:59:59-04:00"));
    assert_true(wall(z, 2026, 11, 1, 2, 0, 0) == ayt_at("2026-11-01T02:00:00-05:00"));
    /* Both occurrences of 01:30 read back as 01:30, with their offsets. */
    assert_local(z, "2026-11-01T05:30:00Z", 2026, 11, 1, 1, 30, 0, -4 * H);
    assert_local(z, "2026-11-01T06:30:00Z", 2026, 11, 1, 1, 30, 0, -5 * H);
    ay_tz_free(z);
}

static void test_tz_berlin_summer_time_changes_at_0100_utc(void **state)
{
    struct ay_tz *z = ayt_zone("Europe/Berlin");
    (void)state;

    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-03-29T00:59:59Z")), 1 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-03-29T01:00:00Z")), 2 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-10-25T00:59:59Z")), 2 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-10-25T01:00:00Z")), 1 * H);
    assert_true(wall(z, 2026, 3, 29, 2, 30, 0) == ayt_at("2026-03-29T03:30:00+02:00"));
    assert_true(wall(z, 2026, 10, 25, 2, 30, 0) == ayt_at("2026-10-25T02:30:00+02:00"));
    assert_true(wall(z, 2026, 10, 25, 3, 0, 0) == ayt_at("2026-10-25T03:00:00+01:00"));
    assert_local(z, "2026-12-31T23:00:00Z", 2027, 1, 1, 0, 0, 0, 1 * H);
    ay_tz_free(z);
}

/* tzdata's table ends in 2037; later instants follow the footer rule. */
static void test_tz_new_york_2100_follows_the_footer_rule(void **state)
{
    struct ay_tz *z = ayt_zone("America/New_York");
    (void)state;

    assert_int_equal(ay_tz_offset_s(z, ayt_at("2100-01-15T12:00:00Z")), -5 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2100-03-14T06:59:59Z")), -5 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2100-03-14T07:00:00Z")), -4 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2100-11-07T05:59:59Z")), -4 * H);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2100-11-07T06:00:00Z")), -5 * H);
    assert_true(wall(z, 2100, 3, 14, 2, 30, 0) == ayt_at("2100-03-14T03:30:00-04:00"));
    assert_true(wall(z, 2100, 11, 7, 1, 30, 0) == ayt_at("2100-11-07T01:30:00-04:00"));
    assert_true(wall(z, 9999, 12, 31, 18, 59, 59) == ayt_at("9999-12-31T18:59:59-05:00"));
    ay_tz_free(z);
}

/* The footer rule gives the same offsets as the table it continues. */
static void test_tz_footer_rule_agrees_with_the_table(void **state)
{
    struct ay_tz *file = ayt_zone("America/New_York");
    struct ay_tz *rule = posix("EST5EDT,M3.2.0,M11.1.0");
    (void)state;

    for (int64_t t = ayt_at("2007-01-01T00:00:00Z"); t < ayt_at("2037-12-31T00:00:00Z");
         t += 1800000000LL)
        assert_int_equal(ay_tz_offset_s(file, t), ay_tz_offset_s(rule, t));
    ay_tz_free(rule);
    ay_tz_free(file);
}

/*
 * Every few hours from 1902 to 2200, offset and local fields agree with
 * glibc reading the same file, and a local time converts back to the
 * instant it came from (or, when it is ambiguous, to its first occurrence).
 */
static void test_tz_agrees_with_glibc_and_round_trips(void **state)
{
    static const char *const zones[] = {"Asia/Shanghai", "America/New_York", "Europe/Berlin",
                                        "Australia/Sydney", "America/Nuuk"};
    (void)state;
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        struct ay_tz *z = ayt_zone(zones[i]);
        assert_int_equal(setenv("TZ", zones[i], 1), 0);
        tzset();
        for (int64_t t = -2145916800LL; t < 7258118400LL; t += 5 * 3600 + 1237) {
            struct ay_tz_civil c;
            struct tm tm;
            time_t tt = (time_t)t;
            int64_t back = 0;

            ay_tz_utc_to_local(z, t * 1000000LL, &c);
            assert_non_null(localtime_r(&tt, &tm));
            if (c.offset_s != tm.tm_gmtoff)
                print_error("%s at %lld\n", zones[i], (long long)t);
            assert_int_equal(c.offset_s, tm.tm_gmtoff);
            assert_int_equal(c.year, tm.tm_year + 1900);
            assert_int_equal(c.month, tm.tm_mon + 1);
            assert_int_equal(c.day, tm.tm_mday);
            assert_int_equal(c.hour * 3600 + c.minute * 60 + c.second,
                             tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
            assert_int_equal(c.weekday, tm.tm_wday);
            assert_int_equal(
                ay_tz_local_to_utc(z, c.year, c.month, c.day, c.hour, c.minute, c.second, &back),
                AY_OK);
            if (back != t * 1000000LL) {
                struct ay_tz_civil first;
                ay_tz_utc_to_local(z, back, &first);
                assert_true(back < t * 1000000LL);
                assert_int_equal(first.hour * 3600 + first.minute * 60 + first.second,
                                 c.hour * 3600 + c.minute * 60 + c.second);
                assert_int_equal(first.day, c.day);
            }
        }
        ay_tz_free(z);
    }
    unsetenv("TZ");
    tzset();
}

static void test_tz_local_to_utc_checks_the_calendar(void **state)
{
    struct ay_tz *z = ayt_zone("Asia/Shanghai");
    int64_t us = 42;
    (void)state;

    assert_true(wall(z, 2024, 2, 29, 12, 0, 0) == ayt_at("2024-02-29T12:00:00+08:00"));
    assert_true(wall(z, 2028, 2, 29, 12, 0, 0) == ayt_at("2028-02-29T12:00:00+08:00"));
    assert_int_equal(ay_tz_local_to_utc(z, 2026, 2, 29, 0, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 2100, 2, 29, 0, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 2026, 4, 31, 0, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 2026, 13, 1, 0, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 2026, 0, 1, 0, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 2026, 1, 0, 0, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 2026, 1, 1, 24, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 2026, 1, 1, 0, 60, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 2026, 1, 1, 0, 0, 60, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 0, 1, 1, 0, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(z, 10000, 1, 1, 0, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(ay_tz_local_to_utc(NULL, 2026, 1, 1, 0, 0, 0, &us), AY_ERR_INVALID);
    assert_int_equal(us, 42); /* untouched on error */
    ay_tz_free(z);
}

static void test_tz_alias_links_load_like_their_target(void **state)
{
    struct ay_tz *alias = ayt_zone("US/Eastern");
    (void)state;

    assert_int_equal(ay_tz_offset_s(alias, ayt_at("2026-07-01T00:00:00Z")), -4 * H);
    ay_tz_free(alias);
    ay_tz_free(NULL);
}

/* ---- zone names ---- */

static void test_tz_rejects_unsafe_or_malformed_names(void **state)
{
    static const char *const bad[] = {
        "../etc/passwd",
        "/etc/passwd",
        "Asia/../../etc/passwd",
        "Asia/Shanghai/",
        "Asia//Shanghai",
        "Asia/Shang hai",
        "Asia/Shanghai.",
        "Asia\\Shanghai",
        "Asia/Shanghai\n",
        "Asia/Shanghai;ls",
        "..",
        "~/zone",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ay_tz *z = (struct ay_tz *)&z;
        char err[AY_ERRLEN] = "";
        char shown[AY_TZ_NAME_MAX + 1];
        size_t n = strcspn(bad[i], "\n");
        memcpy(shown, bad[i], n);
        shown[n] = '\0';
        print_message("\"%s\"\n", bad[i]);
        assert_int_equal(ay_tz_load(bad[i], &z, err), AY_ERR_INVALID);
        assert_ptr_equal(z, (struct ay_tz *)&z); /* out-parameter untouched */
        assert_non_null(strstr(err, "invalid time zone name"));
        assert_non_null(strstr(err, shown));
    }
}

static void test_tz_rejects_empty_and_too_long_names(void **state)
{
    struct ay_tz *z = NULL;
    char err[AY_ERRLEN] = "";
    char longest[AY_TZ_NAME_MAX + 2];
    (void)state;

    assert_int_equal(ay_tz_load("", &z, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "\"\""));
    assert_non_null(strstr(err, "empty"));
    assert_int_equal(ay_tz_load(NULL, &z, err), AY_ERR_INVALID);
    assert_null(z);

    memset(longest, 'A', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0'; /* 65 characters */
    assert_int_equal(ay_tz_load(longest, &z, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "longer than 64"));
    longest[AY_TZ_NAME_MAX] = '\0';
    assert_non_null(strstr(err, longest)); /* the first 64 are shown */
    /* 64 characters is a valid name, just not a zone. */
    assert_int_equal(ay_tz_load(longest, &z, err), AY_ERR_NOTFOUND);
    assert_null(z);
}

static void test_tz_unknown_zone_is_not_found(void **state)
{
    struct ay_tz *z = NULL;
    char err[AY_ERRLEN] = "";
    (void)state;

    assert_int_equal(ay_tz_load("Mars/Olympus_Mons", &z, err), AY_ERR_NOTFOUND);
    assert_non_null(strstr(err, "unknown time zone \"Mars/Olympus_Mons\""));
    assert_int_equal(ay_tz_load("America", &z, err), AY_ERR_NOTFOUND); /* a directory */
    assert_non_null(strstr(err, "\"America\""));
    assert_int_equal(ay_tz_load_from("/nonexistent", "Asia/Shanghai", &z, err), AY_ERR_NOTFOUND);
    assert_null(z);
}

/* ---- broken and hand-made files ---- */

/* A TZif file: version 0 ('\0', 32-bit data only) or '2'..'4' (a minimal
 * version 1 block, then 64-bit data and the footer). */
struct tzif {
    char version;
    size_t ntimes;
    const int64_t *times;
    const uint8_t *idx;
    size_t ntypes;
    const int32_t *offs;
    uint32_t leapcnt;
    const char *footer;
};

static size_t put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

static size_t put_header(unsigned char *p, char version, uint32_t leapcnt, uint32_t timecnt,
                         uint32_t typecnt)
{
    memset(p, 0, 44);
    memcpy(p, "TZif", 4);
    p[4] = (unsigned char)version;
    put32(p + 28, leapcnt);
    put32(p + 32, timecnt);
    put32(p + 36, typecnt);
    put32(p + 40, 4); /* charcnt: "ZZZ\0", shared by all types */
    return 44;
}

static size_t put_block(unsigned char *p, const struct tzif *f, int time_len)
{
    size_t n = 0;
    for (size_t i = 0; i < f->ntimes; i++) {
        if (time_len == 8)
            n += put32(p + n, (uint32_t)((uint64_t)f->times[i] >> 32));
        n += put32(p + n, (uint32_t)f->times[i]);
    }
    for (size_t i = 0; i < f->ntimes; i++)
        p[n++] = f->idx[i];
    for (size_t i = 0; i < f->ntypes; i++) {
        n += put32(p + n, (uint32_t)f->offs[i]);
        p[n++] = 0;
        p[n++] = 0;
    }
    memcpy(p + n, "ZZZ", 4);
    n += 4;
    memset(p + n, 0, f->leapcnt * (size_t)(time_len + 4));
    return n + f->leapcnt * (size_t)(time_len + 4);
}

static size_t build(const struct tzif *f, unsigned char *p)
{
    size_t n = 0;
    if (f->version == 0) {
        n += put_header(p, 0, f->leapcnt, (uint32_t)f->ntimes, (uint32_t)f->ntypes);
        return n + put_block(p + n, f, 4);
    }
    static const int32_t utc[1] = {0};
    const struct tzif v1 = {0, 0, NULL, NULL, 1, utc, 0, NULL};
    n += put_header(p, f->version, 0, 0, 1);
    n += put_block(p + n, &v1, 4);
    n += put_header(p + n, f->version, f->leapcnt, (uint32_t)f->ntimes, (uint32_t)f->ntypes);
    n += put_block(p + n, f, 8);
    n += (size_t)snprintf((char *)p + n, 300, "\n%s\n", f->footer);
    return n;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *read_zone(const char *name, size_t *len)
{
    char path[512];
    static unsigned char buf[65536];
    assert_true(snprintf(path, sizeof(path), "%s/%s", AY_TZ_DIR, name) < (int)sizeof(path));
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    *len = fread(buf, 1, sizeof(buf), f);
    assert_true(*len > 0 && *len < sizeof(buf));
    fclose(f);
    return buf;
}

static void expect_invalid(const char *dir, const char *name, const char *why)
{
    struct ay_tz *z = NULL;
    char err[AY_ERRLEN] = "";
    char quoted[128];

    assert_int_equal(ay_tz_load_from(dir, name, &z, err), AY_ERR_INVALID);
    print_message("%s: %s\n", name, err);
    assert_null(z);
    snprintf(quoted, sizeof(quoted), "\"%s\"", name);
    assert_non_null(strstr(err, quoted));
    assert_non_null(strstr(err, why));
}

static void test_tz_refuses_truncated_corrupt_and_oversized_files(void **state)
{
    char dir[] = "/tmp/test_tz.XXXXXX";
    char sub[600];
    size_t ny_len;
    const unsigned char *ny = read_zone("America/New_York", &ny_len);
    unsigned char buf[4096];
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/Bad", dir);
    assert_int_equal(mkdir(sub, 0700), 0);

    write_file(dir, "Bad/Empty", "", 0);
    expect_invalid(dir, "Bad/Empty", "truncated header");
    write_file(dir, "Bad/Magic", "TZjf2\n", 6);
    expect_invalid(dir, "Bad/Magic", "truncated header");
    memcpy(buf, ny, 64);
    memcpy(buf, "TZjf", 4);
    write_file(dir, "Bad/Magic64", buf, 64);
    expect_invalid(dir, "Bad/Magic64", "not a TZif file");
    write_file(dir, "Bad/Truncated", ny, 200);
    expect_invalid(dir, "Bad/Truncated", "truncated");
    write_file(dir, "Bad/Truncated_Late", ny, ny_len - 30);
    expect_invalid(dir, "Bad/Truncated_Late", "truncated");
    write_file(dir, "Bad/No_Footer_End", ny, ny_len - 1);
    expect_invalid(dir, "Bad/No_Footer_End", "footer");

    /* The real file with a footer rule that names month 13. */
    const char *footer = "EST5EDT,M3.2.0,M11.1.0\n";
    size_t body = ny_len - strlen(footer);
    assert_memory_equal(ny + body, footer, strlen(footer));
    memcpy(buf, ny, body);
    memcpy(buf + body, "EST5EDT,M13.2.0,M11.1.0\n", 24);
    write_file(dir, "Bad/Footer", buf, body + 24);
    expect_invalid(dir, "Bad/Footer", "bad POSIX TZ rule in footer");

    /* Larger than AY_TZ_FILE_MAX: refused before reading. */
    write_file(dir, "Bad/Huge", ny, ny_len);
    snprintf(sub, sizeof(sub), "%s/Bad/Huge", dir);
    assert_int_equal(truncate(sub, AY_TZ_FILE_MAX + 1), 0);
    expect_invalid(dir, "Bad/Huge", "larger than");

    /* Hand-made: a type index past the types, times going backwards, a
     * leap-second table, an offset of 30 hours. */
    static const int64_t two[2] = {1000, 500};
    static const uint8_t idx_bad[2] = {0, 3};
    static const uint8_t idx_ok[2] = {0, 1};
    static const int32_t offs[2] = {3600, 7200};
    static const int32_t huge_off[2] = {3600, 30 * 3600};
    static const int64_t up[2] = {500, 1000};
    write_file(dir, "Bad/Index", buf,
               build(&(struct tzif){'2', 2, up, idx_bad, 2, offs, 0, ""}, buf));
    expect_invalid(dir, "Bad/Index", "bad type index");
    write_file(dir, "Bad/Order", buf,
               build(&(struct tzif){'2', 2, two, idx_ok, 2, offs, 0, ""}, buf));
    expect_invalid(dir, "Bad/Order", "not increasing");
    write_file(dir, "Bad/Leap", buf,
               build(&(struct tzif){'2', 2, up, idx_ok, 2, offs, 1, ""}, buf));
    expect_invalid(dir, "Bad/Leap", "leap-second");
    write_file(dir, "Bad/Offset", buf,
               build(&(struct tzif){0, 2, up, idx_ok, 2, huge_off, 0, NULL}, buf));
    expect_invalid(dir, "Bad/Offset", "bad local time type");

    for (const char *const *n =
             (const char *const[]){"Empty", "Magic", "Magic64", "Truncated", "Truncated_Late",
                                   "No_Footer_End", "Footer", "Huge", "Index", "Order", "Leap",
                                   "Offset", NULL};
         *n != NULL; n++) {
        snprintf(sub, sizeof(sub), "%s/Bad/%s", dir, *n);
        assert_int_equal(unlink(sub), 0);
    }
    snprintf(sub, sizeof(sub), "%s/Bad", dir);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_tz_reads_version_1_files_and_footer_only_files(void **state)
{
    char dir[] = "/tmp/test_tz.XXXXXX";
    char path[600];
    unsigned char buf[4096];
    struct ay_tz *z = NULL;
    char err[AY_ERRLEN] = "";
    static const int64_t times[1] = {0};
    static const uint8_t idx[1] = {1};
    static const int32_t offs[2] = {3600, 7200};
    static const int32_t est[1] = {-5 * H};
    (void)state;

    assert_non_null(mkdtemp(dir));
    /* Version 1: +01:00 before the epoch, +02:00 from it on, for ever. */
    write_file(dir, "V1", buf, build(&(struct tzif){0, 1, times, idx, 2, offs, 0, NULL}, buf));
    assert_int_equal(ay_tz_load_from(dir, "V1", &z, err), AY_OK);
    assert_int_equal(ay_tz_offset_s(z, -1), 3600);
    assert_int_equal(ay_tz_offset_s(z, 0), 7200);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2100-07-01T00:00:00Z")), 7200);
    ay_tz_free(z);

    /* Version 4, no transitions: the footer rules at every instant. */
    write_file(dir, "V4", buf,
               build(&(struct tzif){'4', 0, NULL, NULL, 1, est, 0, "EST5EDT,M3.2.0,M11.1.0"}, buf));
    assert_int_equal(ay_tz_load_from(dir, "V4", &z, err), AY_OK);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-07-01T00:00:00Z")), -4 * H);
    assert_true(wall(z, 2026, 3, 8, 2, 30, 0) == ayt_at("2026-03-08T03:30:00-04:00"));
    ay_tz_free(z);

    /* A copy of the real file in another directory loads the same. */
    size_t len;
    const unsigned char *ny = read_zone("America/New_York", &len);
    write_file(dir, "New_York", ny, len);
    assert_int_equal(ay_tz_load_from(dir, "New_York", &z, err), AY_OK);
    assert_int_equal(ay_tz_offset_s(z, ayt_at("2026-07-01T00:00:00Z")), -4 * H);
    ay_tz_free(z);

    for (const char *const *n = (const char *const[]){"V1", "V4", "New_York", NULL}; *n != NULL;
         n++) {
        snprintf(path, sizeof(path), "%s/%s", dir, *n);
        assert_int_equal(unlink(path), 0);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* ---- POSIX TZ rules ---- */

struct rule_case {
    const char *rule;
    const char *utc;
    int32_t offset_s;
};

static void test_tz_posix_rules_give_offsets(void **state)
{
    static const struct rule_case cases[] = {
        {"CST-8", "2026-07-01T00:00:00Z", 8 * H},
        {"<+08>-8", "2026-07-01T00:00:00Z", 8 * H},
        {"<-03>3", "2026-07-01T00:00:00Z", -3 * H},
        {"UTC0", "2026-07-01T00:00:00Z", 0},
        {"IST-5:30", "2026-07-01T00:00:00Z", 5 * H + 1800},
        {"EST5EDT,M3.2.0,M11.1.0", "2026-03-08T06:59:59Z", -5 * H},
        {"EST5EDT,M3.2.0,M11.1.0", "2026-03-08T07:00:00Z", -4 * H},
        {"EST5EDT,M3.2.0,M11.1.0", "2026-11-01T05:59:59Z", -4 * H},
        {"EST5EDT,M3.2.0,M11.1.0", "2026-11-01T06:00:00Z", -5 * H},
        {"EST5EDT", "2026-07-01T00:00:00Z", -4 * H}, /* US dates by default */
        {"EST5EDT", "2026-03-08T06:59:59Z", -5 * H},
        {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T00:59:59Z", 1 * H},
        {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T01:00:00Z", 2 * H},
        {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-10-25T00:59:59Z", 2 * H},
        {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-10-25T01:00:00Z", 1 * H},
        /* Southern hemisphere: DST over the new year. */
        {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-01-15T00:00:00Z", 11 * H},
        {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-04-04T15:59:59Z", 11 * H},
        {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-04-04T16:00:00Z", 10 * H},
        {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-10-03T15:59:59Z", 10 * H},
        {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-10-03T16:00:00Z", 11 * H},
        /* RFC 8536 extensions: hours past 24 and negative hours. */
        {"IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-26T23:59:59Z", 2 * H},
        {"IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-27T00:00:00Z", 3 * H},
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-03-29T00:59:59Z", -2 * H},
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-03-29T01:00:00Z", -1 * H},
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-10-25T01:00:00Z", -2 * H},
        /* DST all year. */
        {"EST5EDT,0/0,J365/25", "2026-01-01T00:00:00Z", -4 * H},
        {"EST5EDT,0/0,J365/25", "2026-01-01T05:00:00Z", -4 * H},
        {"EST5EDT,0/0,J365/25", "2026-07-01T00:00:00Z", -4 * H},
        /* Jn never counts February 29; n does. */
        {"<-03>3<-02>,J60/2,J300/2", "2024-03-01T04:59:59Z", -3 * H},
        {"<-03>3<-02>,J60/2,J300/2", "2024-03-01T05:00:00Z", -2 * H},
        {"<-03>3<-02>,59/2,300/2", "2024-02-29T04:59:59Z", -3 * H},
        {"<-03>3<-02>,59/2,300/2", "2024-02-29T05:00:00Z", -2 * H},
        {"<-03>3<-02>,59/2,300/2", "2026-03-01T05:00:00Z", -2 * H},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ay_tz *z = posix(cases[i].rule);
        print_message("%s at %s\n", cases[i].rule, cases[i].utc);
        assert_int_equal(ay_tz_offset_s(z, ayt_at(cases[i].utc)), cases[i].offset_s);
        ay_tz_free(z);
    }
}

static void test_tz_posix_rule_errors_name_the_rule(void **state)
{
    static const char *const bad[] = {
        "",
        "CST",
        "C-8",
        "CS-8",
        "8",
        "CST-8x",
        "CST-25",
        "CST-8:60",
        "<+08-8",
        "<+8>-8",
        "EST5EDT,M3.2.0",
        "EST5EDT,M13.2.0,M11.1.0",
        "EST5EDT,M3.6.0,M11.1.0",
        "EST5EDT,M3.0.0,M11.1.0",
        "EST5EDT,M3.2.7,M11.1.0",
        "EST5EDT,M3.2,M11.1.0",
        "EST5EDT,J0,J300",
        "EST5EDT,366,300",
        "EST5EDT,M3.2.0/168,M11.1.0",
        "EST5EDT,M3.2.0,M11.1.0,",
        "EST5EDT,M3.2.0,M11.1.0 ",
        "EST5EDT;M3.2.0,M11.1.0",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ay_tz *z = NULL;
        char err[AY_ERRLEN] = "";
        char quoted[64];
        print_message("\"%s\"\n", bad[i]);
        assert_int_equal(ay_tz_parse_posix(bad[i], &z, err), AY_ERR_INVALID);
        assert_null(z);
        snprintf(quoted, sizeof(quoted), "\"%s\"", bad[i]);
        assert_non_null(strstr(err, quoted));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz_shanghai_is_utc_plus_8_all_year),
        cmocka_unit_test(test_tz_shanghai_had_summer_time_1986_to_1991),
        cmocka_unit_test(test_tz_new_york_spring_forward_gap_moves_forward),
        cmocka_unit_test(test_tz_new_york_fall_back_overlap_takes_first_occurrence),
        cmocka_unit_test(test_tz_berlin_summer_time_changes_at_0100_utc),
        cmocka_unit_test(test_tz_new_york_2100_follows_the_footer_rule),
        cmocka_unit_test(test_tz_footer_rule_agrees_with_the_table),
        cmocka_unit_test(test_tz_agrees_with_glibc_and_round_trips),
        cmocka_unit_test(test_tz_local_to_utc_checks_the_calendar),
        cmocka_unit_test(test_tz_alias_links_load_like_their_target),
        cmocka_unit_test(test_tz_rejects_unsafe_or_malformed_names),
        cmocka_unit_test(test_tz_rejects_empty_and_too_long_names),
        cmocka_unit_test(test_tz_unknown_zone_is_not_found),
        cmocka_unit_test(test_tz_refuses_truncated_corrupt_and_oversized_files),
        cmocka_unit_test(test_tz_reads_version_1_files_and_footer_only_files),
        cmocka_unit_test(test_tz_posix_rules_give_offsets),
        cmocka_unit_test(test_tz_posix_rule_errors_name_the_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
