/*
 * test_time.c - RFC 3339 parsing/formatting and microsecond helpers (lib/ay_time.h).
 *
 * No clock is read: ay_time_now_us is not exercised here. Calendar results
 * are cross-checked against gmtime_r, which does not depend on TZ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ay_time.h"

/* ---- parsing ---- */

struct parse_ok {
    const char *text;
    int64_t secs;
    int32_t nanos;
};

static void test_time_parses_utc_offsets_and_fractions(void **state)
{
    static const struct parse_ok cases[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2026-11-24T08:15:03Z", 1795508103, 0},
        {"2026-11-24T08:15:03.412Z", 1795508103, 412000000},
        {"2026-11-24T08:15:03.4Z", 1795508103, 400000000},
        {"2026-11-24T08:15:03.000412Z", 1795508103, 412000},
        {"2026-11-24T08:15:03.123456789Z", 1795508103, 123456789},
        {"2026-11-24T16:15:03+08:00", 1795508103, 0},
        {"2026-11-24T02:45:03.5-05:30", 1795508103, 500000000},
        {"2026-11-24t08:15:03z", 1795508103, 0},
        {"2024-02-29T12:00:00Z", 1709208000, 0},
        {"2000-02-29T00:00:00Z", 951782400, 0},
        {"1969-12-31T23:59:59.999999999Z", -1, 999999999},
        {"0001-01-01T00:00:00Z", AY_TIME_MIN_SECS, 0},
        {"9999-12-31T23:59:59.999999999Z", AY_TIME_MAX_SECS, 999999999},
        {"0001-01-01T00:30:00+00:30", AY_TIME_MIN_SECS, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t secs = 42;
        int32_t nanos = 42;
        print_message("%s\n", cases[i].text);
        assert_int_equal(ay_time_parse_rfc3339(cases[i].text, &secs, &nanos), AY_OK);
        assert_int_equal(secs, cases[i].secs);
        assert_int_equal(nanos, cases[i].nanos);
    }
}

static void test_time_rejects_anything_but_rfc3339(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-11-24",
        "2026-11-24T08:15:03",             /* no zone */
        "2026-11-24 08:15:03Z",            /* space instead of T */
        "2026-11-24T08:15:03.Z",           /* '.' without digits */
        "2026-11-24T08:15:03.1234567891Z", /* 10 digits */
        "2026-11-24T08:15:03+0800",        /* offset without colon */
        "2026-11-24T08:15:03+08",
        "2026-11-24T08:15:03+24:00",
        "2026-11-24T08:15:03Z ", /* trailing space */
        " 2026-11-24T08:15:03Z",
        "2026-11-24T08:15:03ZZ",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-02-29T00:00:00Z", /* not a leap year */
        "2100-02-29T00:00:00Z", /* divisible by 100, not by 400 */
        "2026-11-24T24:00:00Z",
        "2026-11-24T08:60:00Z",
        "2026-11-24T08:15:60Z", /* leap seconds are not representable */
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+00:01", /* before year 1 once the offset is applied */
        "9999-12-31T23:59:59-00:01", /* after year 9999 */
        "+2026-11-24T08:15:03Z",
        "26-11-24T08:15:03Z",
        "2026-1-24T08:15:03Z",
        "2026-11-24T08:15:03.4１Z", /* a fullwidth digit */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t secs = 42;
        int32_t nanos = 42;
        print_message("\"%s\"\n", bad[i]);
        assert_int_equal(ay_time_parse_rfc3339(bad[i], &secs, &nanos), AY_ERR_INVALID);
        assert_int_equal(secs, 42); /* out-parameters untouched on error */
        assert_int_equal(nanos, 42);
    }
    assert_int_equal(ay_time_parse_rfc3339(NULL, &(int64_t){0}, &(int32_t){0}), AY_ERR_INVALID);
}

/* ---- formatting ---- */

static void test_time_formats_fraction_as_0_3_6_or_9_digits(void **state)
{
    static const struct parse_ok cases[] = {
        {"2026-11-24T08:15:03Z", 1795508103, 0},
        {"2026-11-24T08:15:03.412Z", 1795508103, 412000000},
        {"2026-11-24T08:15:03.400Z", 1795508103, 400000000},
        {"2026-11-24T08:15:03.000412Z", 1795508103, 412000},
        {"2026-11-24T08:15:03.412001Z", 1795508103, 412001000},
        {"2026-11-24T08:15:03.000000001Z", 1795508103, 1},
        {"1969-12-31T23:59:59Z", -1, 0},
        {"0001-01-01T00:00:00Z", AY_TIME_MIN_SECS, 0},
        {"9999-12-31T23:59:59.999999999Z", AY_TIME_MAX_SECS, 999999999},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[AY_TIME_RFC3339_MAX];
        size_t n = ay_time_format_rfc3339(cases[i].secs, cases[i].nanos, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(n, strlen(cases[i].text));
    }
}

static void test_time_format_refuses_bad_input_and_small_buffers(void **state)
{
    char buf[AY_TIME_RFC3339_MAX];
    (void)state;

    assert_int_equal(ay_time_format_rfc3339(0, -1, buf, sizeof(buf)), 0);
    assert_int_equal(ay_time_format_rfc3339(0, 1000000000, buf, sizeof(buf)), 0);
    assert_int_equal(ay_time_format_rfc3339(AY_TIME_MAX_SECS + 1, 0, buf, sizeof(buf)), 0);
    assert_int_equal(ay_time_format_rfc3339(AY_TIME_MIN_SECS - 1, 0, buf, sizeof(buf)), 0);
    assert_int_equal(ay_time_format_rfc3339(INT64_MIN, 0, buf, sizeof(buf)), 0);
    /* "1970-01-01T00:00:00Z" is 20 characters: 21 bytes fit, 20 do not. */
    assert_int_equal(ay_time_format_rfc3339(0, 0, buf, 21), 20);
    assert_int_equal(ay_time_format_rfc3339(0, 0, buf, 20), 0);
    assert_string_equal(buf, "");
    assert_int_equal(ay_time_format_rfc3339(0, 0, NULL, 40), 0);
}

/* Every day from 1900 to 2200 formats as gmtime_r says and parses back. */
static void test_time_agrees_with_gmtime_and_round_trips(void **state)
{
    (void)state;
    for (int64_t t = -2208988800LL; t < 7258118400LL; t += 86400 + 3607) {
        char buf[AY_TIME_RFC3339_MAX];
        char want[64];
        struct tm tm;
        time_t tt = (time_t)t;
        int64_t secs;
        int32_t nanos;

        gmtime_r(&tt, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S.000007Z", &tm);
        assert_int_not_equal(ay_time_format_rfc3339(t, 7000, buf, sizeof(buf)), 0);
        assert_string_equal(buf, want);
        assert_int_equal(ay_time_parse_rfc3339(buf, &secs, &nanos), AY_OK);
        assert_int_equal(secs, t);
        assert_int_equal(nanos, 7000);
    }
}

/* ---- microseconds ---- */

static void test_time_us_helpers_floor_and_saturate(void **state)
{
    int64_t secs;
    int32_t nanos;
    (void)state;

    assert_int_equal(ay_time_to_us(1795508103, 412345678), 1795508103412345LL);
    assert_int_equal(ay_time_to_us(-1, 999999999), -1);
    assert_int_equal(ay_time_to_us(INT64_MAX, 0), INT64_MAX);
    assert_int_equal(ay_time_to_us(INT64_MIN, 0), INT64_MIN);
    assert_int_equal(ay_time_to_us(0, -1000), -1);

    ay_time_from_us(1795508103412345LL, &secs, &nanos);
    assert_int_equal(secs, 1795508103);
    assert_int_equal(nanos, 412345000);
    ay_time_from_us(-1, &secs, &nanos);
    assert_int_equal(secs, -1);
    assert_int_equal(nanos, 999999000);
    ay_time_from_us(INT64_MIN, &secs, &nanos);
    assert_true(nanos >= 0 && nanos < 1000000000);
    assert_int_equal(ay_time_to_us(secs, nanos), INT64_MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parses_utc_offsets_and_fractions),
        cmocka_unit_test(test_time_rejects_anything_but_rfc3339),
        cmocka_unit_test(test_time_formats_fraction_as_0_3_6_or_9_digits),
        cmocka_unit_test(test_time_format_refuses_bad_input_and_small_buffers),
        cmocka_unit_test(test_time_agrees_with_gmtime_and_round_trips),
        cmocka_unit_test(test_time_us_helpers_floor_and_saturate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
