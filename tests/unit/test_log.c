/*
 * test_log.c - one event is one logfmt line, whatever the values contain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ay_log.h"

static void test_log_line_has_ts_level_svc_msg_and_keys(void **state)
{
    (void)state;
    char buf[512];
    const char *kv[] = {"msg_id", "abc", "school", "sch-0102"};
    ay_log_format(buf, sizeof(buf), 1795939200123LL, AY_LOG_WARN, "recorder", "could not store", kv,
                  4);
    assert_string_equal(buf, "ts=2026-11-29T08:00:00.123Z level=warn svc=recorder "
                             "msg=\"could not store\" msg_id=abc school=sch-0102\n");
}

static void test_log_escapes_quotes_newlines_and_control_bytes(void **state)
{
    (void)state;
    char buf[512];
    const char *kv[] = {"err", "line1\nline2 \"q\" \\ \x01"};
    ay_log_format(buf, sizeof(buf), 0, AY_LOG_ERROR, "s", "m", kv, 2);
    assert_non_null(strstr(buf, "err=\"line1\\nline2 \\\"q\\\" \\\\ \\x01\"\n"));
    assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1); /* exactly one line */
}

static void test_log_skips_pairs_with_null_value(void **state)
{
    (void)state;
    char buf[256];
    const char *kv[] = {"a", NULL, "b", "2"};
    ay_log_format(buf, sizeof(buf), 0, AY_LOG_INFO, "s", "m", kv, 4);
    assert_null(strstr(buf, " a="));
    assert_non_null(strstr(buf, " b=2\n"));
}

static void test_log_truncates_long_lines_but_keeps_one_line(void **state)
{
    (void)state;
    char buf[64];
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *kv[] = {"k", big};
    size_t n = ay_log_format(buf, sizeof(buf), 0, AY_LOG_INFO, "s", "m", kv, 2);
    assert_true(n < sizeof(buf));
    assert_int_equal(buf[n - 1], '\n');
    assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
}

/* A quoted value that fills the line exactly never writes past the
 * buffer (ASan checks every size around the edge). */
static void test_log_a_quoted_value_at_the_edge_stays_inside_the_buffer(void **state)
{
    (void)state;
    char value[300];
    memset(value, 'x', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    value[0] = ' '; /* forces quoting */
    const char *kv[] = {"k", value};
    for (size_t cap = 4; cap < 200; cap++) {
        char *buf = malloc(cap);
        size_t n = ay_log_format(buf, cap, 0, AY_LOG_INFO, "svc", "m", kv, 2);
        assert_true(n < cap);
        assert_int_equal(buf[n - 1], '\n');
        assert_int_equal(buf[n], '\0');
        free(buf);
    }
}

static void test_log_level_names_parse(void **state)
{
    (void)state;
    enum ay_level l;
    assert_int_equal(ay_log_level_parse("warn", &l), AY_OK);
    assert_int_equal(l, AY_LOG_WARN);
    assert_int_equal(ay_log_level_parse("verbose", &l), AY_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_line_has_ts_level_svc_msg_and_keys),
        cmocka_unit_test(test_log_escapes_quotes_newlines_and_control_bytes),
        cmocka_unit_test(test_log_skips_pairs_with_null_value),
        cmocka_unit_test(test_log_truncates_long_lines_but_keeps_one_line),
        cmocka_unit_test(test_log_a_quoted_value_at_the_edge_stays_inside_the_buffer),
        cmocka_unit_test(test_log_level_names_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
