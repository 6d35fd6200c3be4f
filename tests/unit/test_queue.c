/*
 * test_queue.c - the bounded queue: order, bounds, timeouts, close.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ay_queue.h"

static void test_queue_keeps_fifo_order_across_batches(void **state)
{
    (void)state;
    struct ay_queue *q = NULL;
    int v[5] = {0, 1, 2, 3, 4};
    void *out[8];
    assert_int_equal(ay_queue_new(8, 1000, &q), AY_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ay_queue_push(q, &v[i], 10, 0), AY_OK);
    assert_int_equal(ay_queue_pop_batch(q, out, 3, 0), 3);
    assert_ptr_equal(out[0], &v[0]);
    assert_ptr_equal(out[2], &v[2]);
    assert_int_equal(ay_queue_pop_batch(q, out, 8, 0), 2);
    assert_ptr_equal(out[0], &v[3]);
    assert_ptr_equal(out[1], &v[4]);
    ay_queue_free(q);
}

static void test_queue_full_by_count_times_out(void **state)
{
    (void)state;
    struct ay_queue *q = NULL;
    int a = 0;
    assert_int_equal(ay_queue_new(2, 1000, &q), AY_OK);
    assert_int_equal(ay_queue_push(q, &a, 1, 0), AY_OK);
    assert_int_equal(ay_queue_push(q, &a, 1, 0), AY_OK);
    assert_int_equal(ay_queue_push(q, &a, 1, 0), AY_ERR_TIMEOUT);
    assert_int_equal(ay_queue_len(q), 2);
    ay_queue_free(q);
}

static void test_queue_full_by_bytes_times_out_but_takes_oversize_when_empty(void **state)
{
    (void)state;
    struct ay_queue *q = NULL;
    int a = 0;
    void *out[4];
    assert_int_equal(ay_queue_new(10, 100, &q), AY_OK);
    assert_int_equal(ay_queue_push(q, &a, 500, 0), AY_OK); /* oversize, empty queue */
    assert_int_equal(ay_queue_push(q, &a, 1, 0), AY_ERR_TIMEOUT);
    assert_int_equal(ay_queue_pop_batch(q, out, 4, 0), 1);
    assert_int_equal(ay_queue_push(q, &a, 60, 0), AY_OK);
    assert_int_equal(ay_queue_push(q, &a, 60, 0), AY_ERR_TIMEOUT);
    ay_queue_free(q);
}

static void test_queue_close_refuses_push_and_drains(void **state)
{
    (void)state;
    struct ay_queue *q = NULL;
    int a = 0;
    void *out[4];
    assert_int_equal(ay_queue_new(4, 100, &q), AY_OK);
    assert_int_equal(ay_queue_push(q, &a, 1, 0), AY_OK);
    ay_queue_close(q);
    assert_int_equal(ay_queue_push(q, &a, 1, 0), AY_ERR_CLOSED);
    assert_int_equal(ay_queue_pop_batch(q, out, 4, 1000), 1);
    assert_int_equal(ay_queue_pop_batch(q, out, 4, 1000), 0);
    ay_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_keeps_fifo_order_across_batches),
        cmocka_unit_test(test_queue_full_by_count_times_out),
        cmocka_unit_test(test_queue_full_by_bytes_times_out_but_takes_oversize_when_empty),
        cmocka_unit_test(test_queue_close_refuses_push_and_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
