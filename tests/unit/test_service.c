/*
 * test_service.c - the runtime every service starts with: a stop request
 * ends any sleep at once (from another thread, or a signal), waits run on
 * the monotonic clock, and a worker pool runs its function on every thread.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ay_pool.h"
#include "ay_service.h"
#include "ay_sync.h"

struct cfg {
    struct ay_common_config common;
    long long n;
};

static const struct ay_config_def defs[] = {
    AY_CONFIG_COMMON_DEFS(struct cfg, common),
    {"n", "AY_TEST_N", AY_CFG_INT, "3", 1, 9, offsetof(struct cfg, n), "a number"},
};

static const struct ay_service_def def = {
    .name = "svc-test",
    .usage = "usage: svc-test",
    .defs = defs,
    .ndefs = sizeof(defs) / sizeof(defs[0]),
    .config_size = sizeof(struct cfg),
    .common_offset = offsetof(struct cfg, common),
};

static void test_service_start_loads_config_and_rejects_bad_arguments(void **state)
{
    (void)state;
    struct cfg c;
    char *ok[] = {"svc-test", NULL};
    char *bad[] = {"svc-test", "--frobnicate", NULL};
    char *extra[] = {"svc-test", "word", NULL};

    assert_int_equal(ay_service_start(&def, 1, ok, &c, NULL), -1);
    assert_int_equal(c.n, 3);
    ay_service_finish(&def, &c);
    assert_int_equal(ay_service_start(&def, 2, bad, &c, NULL), AY_EXIT_USAGE);
    ay_service_finish(&def, &c);
    assert_int_equal(ay_service_start(&def, 2, extra, &c, NULL), AY_EXIT_USAGE);
    ay_service_finish(&def, &c);
}

static void *stop_soon(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    raise(SIGTERM);
    return NULL;
}

/* Runs last: the stop flag, once set, stays set. */
static void test_service_sigterm_ends_a_long_sleep_at_once(void **state)
{
    (void)state;
    struct cfg c;
    char *argv[] = {"svc-test", NULL};
    pthread_t t;

    assert_int_equal(ay_service_start(&def, 1, argv, &c, NULL), -1);
    assert_false(ay_service_stopping());
    int64_t start = ay_mono_us();
    pthread_create(&t, NULL, stop_soon, NULL);
    assert_false(ay_service_sleep_ms(60000));
    pthread_join(t, NULL);
    assert_true(ay_mono_us() - start < 5 * 1000000);
    assert_true(ay_service_stopping());
    assert_false(ay_service_sleep_ms(10));
    ay_service_finish(&def, &c);
}

static void test_sync_timed_wait_ends_at_its_deadline(void **state)
{
    (void)state;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c;
    ay_cond_init(&c);
    int64_t start = ay_mono_us();
    pthread_mutex_lock(&m);
    while (ay_cond_wait_until(&c, &m, ay_mono_deadline_us(50)))
        ;
    pthread_mutex_unlock(&m);
    int64_t took = ay_mono_us() - start;
    assert_true(took >= 50000 && took < 2000000);
    assert_int_equal(ay_mono_left_ms(start), 0);
    pthread_cond_destroy(&c);
}

static void count_calls(void *arg, size_t index, struct ay_pg *db)
{
    atomic_int *calls = arg;
    assert_null(db);
    atomic_fetch_add(calls, (int)index + 1);
}

static void test_pool_runs_the_function_once_per_thread(void **state)
{
    (void)state;
    struct ay_pool_opts o = {.threads = 4};
    struct ay_pool *p = NULL;
    atomic_int calls = 0;
    char err[AY_ERRLEN];

    assert_int_equal(ay_pool_new(&o, &p, err), AY_OK);
    assert_int_equal(ay_pool_connect(p, err), AY_OK);
    assert_int_equal(ay_pool_start(p, count_calls, &calls, err), AY_OK);
    ay_pool_join(p);
    assert_int_equal(atomic_load(&calls), 1 + 2 + 3 + 4);
    ay_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_start_loads_config_and_rejects_bad_arguments),
        cmocka_unit_test(test_sync_timed_wait_ends_at_its_deadline),
        cmocka_unit_test(test_pool_runs_the_function_once_per_thread),
        cmocka_unit_test(test_service_sigterm_ends_a_long_sleep_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
