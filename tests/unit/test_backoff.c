/*
 * test_backoff.c - retry delays double from the minimum to the maximum and
 * start again after a success.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ay_backoff.h"

static void test_backoff_doubles_up_to_the_maximum(void **state)
{
    (void)state;
    struct ay_backoff b;
    ay_backoff_init(&b, 100, 5000);
    const int want[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(ay_backoff_next(&b), want[i]);
}

static void test_backoff_starts_again_after_a_success(void **state)
{
    (void)state;
    struct ay_backoff b;
    ay_backoff_init(&b, 10, 40);
    ay_backoff_next(&b);
    ay_backoff_next(&b);
    ay_backoff_reset(&b);
    assert_int_equal(ay_backoff_next(&b), 10);
}

static void test_backoff_never_overflows_or_goes_below_one(void **state)
{
    (void)state;
    struct ay_backoff b;
    ay_backoff_init(&b, 0, 2000000000);
    for (int i = 0; i < 100; i++)
        assert_true(ay_backoff_next(&b) >= 1);
    assert_int_equal(ay_backoff_next(&b), 2000000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_up_to_the_maximum),
        cmocka_unit_test(test_backoff_starts_again_after_a_success),
        cmocka_unit_test(test_backoff_never_overflows_or_goes_below_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
