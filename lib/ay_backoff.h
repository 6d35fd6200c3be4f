/*
 * ay_backoff.h - how long to wait before trying again: doubling from a
 * minimum to a maximum, back to the minimum after a success.
 *
 * Used wherever a service retries the outside world (database, broker).
 * Owns: nothing; the caller keeps the struct (often on the stack).
 * Threads: one struct per thread.
 */
#ifndef AY_BACKOFF_H
#define AY_BACKOFF_H

struct ay_backoff {
    int min_ms;
    int max_ms;
    int next_ms;
};

/* 100 ms doubling to 5 s: a database or broker restart is usually back
 * within seconds, and a 5 s cap keeps a long outage from costing a retry
 * storm while recovery is still noticed within 5 s. */
#define AY_BACKOFF_DEFAULT_MIN_MS 100
#define AY_BACKOFF_DEFAULT_MAX_MS 5000

void ay_backoff_init(struct ay_backoff *b, int min_ms, int max_ms);
/* The delay to wait now; the next call returns twice as much, up to max_ms. */
int ay_backoff_next(struct ay_backoff *b);
/* After a success: the next delay is min_ms again. */
void ay_backoff_reset(struct ay_backoff *b);

#endif
