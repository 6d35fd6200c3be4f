/*
 * ay_sync.h - timed waits on the monotonic clock.
 *
 * Every timeout in the project is a duration, so it is measured on
 * CLOCK_MONOTONIC: a step of the wall clock (NTP, an operator, a VM resume)
 * must neither cut a wait short nor stretch it. Condition variables made
 * with ay_cond_init wait on that clock; deadlines are absolute monotonic
 * microseconds from ay_mono_us().
 * Owns: nothing. Threads: every function is thread-safe.
 */
#ifndef AY_SYNC_H
#define AY_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Monotonic microseconds (CLOCK_MONOTONIC): only differences mean anything. */
int64_t ay_mono_us(void);

/* ay_mono_us() + timeout_ms (a negative timeout counts as 0). */
int64_t ay_mono_deadline_us(int timeout_ms);

/* Milliseconds left until deadline_us (0 once it passed), capped at INT32_MAX. */
int ay_mono_left_ms(int64_t deadline_us);

/* Initialises a condition variable whose timed waits use CLOCK_MONOTONIC. */
void ay_cond_init(pthread_cond_t *c);

/* Waits on c (m locked by the caller) until signalled or deadline_us
 * (monotonic) passed. Returns false on timeout, true otherwise (which may be
 * spurious: callers re-check their condition). */
bool ay_cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, int64_t deadline_us);

#endif
