/*
 * test_pg.c - what ay_pg decides without a database: which failures are
 * worth another try, and how id arrays are written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ay_pg.h"

static void test_pg_transient_failures_are_retried(void **state)
{
    (void)state;
    const char *transient[] = {"40001", "40P01", "55P03", "57014", "53100", "53200", "58030"};
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
        assert_int_equal(ay_pg_classify(transient[i], true), AY_PG_TRANSIENT);
}

static void test_pg_lost_connections_reconnect(void **state)
{
    (void)state;
    assert_int_equal(ay_pg_classify("08006", true), AY_PG_CONNECTION);
    assert_int_equal(ay_pg_classify("57P01", true), AY_PG_CONNECTION);
    assert_int_equal(ay_pg_classify("", false), AY_PG_CONNECTION);
    assert_int_equal(ay_pg_classify("23505", false), AY_PG_CONNECTION);
}

static void test_pg_everything_else_is_permanent(void **state)
{
    (void)state;
    const char *permanent[] = {"23505", "23514", "22P02", "42P01", "42703", "XX000", ""};
    for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++)
        assert_int_equal(ay_pg_classify(permanent[i], true), AY_PG_PERMANENT);
    assert_int_equal(ay_pg_classify(NULL, true), AY_PG_PERMANENT);
}

static void test_pg_text_array_quotes_every_element(void **state)
{
    (void)state;
    const char *v[] = {"d01", "a\"b", "c\\d", ""};
    char *s = ay_pg_text_array(v, 4);
    assert_string_equal(s, "{\"d01\",\"a\\\"b\",\"c\\\\d\",\"\"}");
    free(s);
    s = ay_pg_text_array(v, 0);
    assert_string_equal(s, "{}");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_transient_failures_are_retried),
        cmocka_unit_test(test_pg_lost_connections_reconnect),
        cmocka_unit_test(test_pg_everything_else_is_permanent),
        cmocka_unit_test(test_pg_text_array_quotes_every_element),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
