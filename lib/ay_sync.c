/*
 * ay_sync.c - monotonic deadlines and condition variables; see ay_sync.h.
 */
#include "ay_sync.h"

#include <errno.h>
#include <limits.h>
#include <time.h>

int64_t ay_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ay_mono_deadline_us(int timeout_ms)
{
    return ay_mono_us() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
}

int ay_mono_left_ms(int64_t deadline_us)
{
    int64_t left = (deadline_us - ay_mono_us() + 999) / 1000;
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

void ay_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

bool ay_cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, int64_t deadline_us)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_us / 1000000),
                          .tv_nsec = (long)(deadline_us % 1000000) * 1000};
    return pthread_cond_timedwait(c, m, &ts) != ETIMEDOUT;
}
