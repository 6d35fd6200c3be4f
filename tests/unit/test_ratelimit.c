/*
 * test_ratelimit.c - a flood from one key costs `burst` lines per window and
 * one count; other keys are not affected; nothing is forgotten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ay_ratelimit.h"

#define SEC 1000000LL

struct reports {
    char key[64];
    unsigned long total;
    int calls;
};

static void collect(void *arg, const char *key, unsigned long n)
{
    struct reports *r = arg;
    snprintf(r->key, sizeof(r->key), "%s", key);
    r->total += n;
    r->calls++;
}

static void test_ratelimit_allows_a_burst_then_counts(void **state)
{
    (void)state;
    struct ay_ratelimit *r = NULL;
    struct reports rep = {"", 0, 0};
    int allowed = 0;

    assert_int_equal(ay_ratelimit_new(8, 10 * SEC, 5, &r), 0);
    for (int i = 0; i < 1000; i++)
        allowed += ay_ratelimit_allow(r, "btn-1", 1 * SEC, collect, &rep);
    assert_int_equal(allowed, 5);
    assert_int_equal(rep.calls, 0);
    /* Another key has its own budget. */
    assert_true(ay_ratelimit_allow(r, "btn-2", 1 * SEC, collect, &rep));
    /* The window ends: the count is reported once, the budget is back. */
    ay_ratelimit_flush(r, 12 * SEC, collect, &rep);
    assert_int_equal(rep.calls, 1);
    assert_int_equal(rep.total, 995);
    assert_string_equal(rep.key, "btn-1");
    assert_true(ay_ratelimit_allow(r, "btn-1", 12 * SEC, collect, &rep));
    ay_ratelimit_free(r);
}

static void test_ratelimit_reports_an_evicted_key(void **state)
{
    (void)state;
    struct ay_ratelimit *r = NULL;
    struct reports rep = {"", 0, 0};

    assert_int_equal(ay_ratelimit_new(1, 10 * SEC, 1, &r), 0);
    ay_ratelimit_allow(r, "a", 0, collect, &rep);
    ay_ratelimit_allow(r, "a", 0, collect, &rep); /* suppressed */
    ay_ratelimit_allow(r, "b", 1, collect, &rep); /* takes a's only slot */
    assert_int_equal(rep.total, 1);
    assert_string_equal(rep.key, "a");
    ay_ratelimit_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_allows_a_burst_then_counts),
        cmocka_unit_test(test_ratelimit_reports_an_evicted_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
