/*
 * ay_ratelimit.h - at most `burst` events per key per window; the rest are
 * counted, so a flood costs one summary line per window instead of one
 * line per event (style.md section 5: one line per event, but never a
 * flood from one misbehaving sender).
 *
 * Keys are short strings (a device id). The table has a fixed number of
 * slots; when a new key finds none free, the slot idle the longest is
 * reused (its pending count is reported first).
 * Owns: its table. Threads: every function is thread-safe.
 */
#ifndef AY_RATELIMIT_H
#define AY_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"

#define AY_RATELIMIT_KEY_MAX 64

struct ay_ratelimit;

/* A key whose window closed with events suppressed: report them. */
typedef void ay_ratelimit_report_fn(void *arg, const char *key, unsigned long suppressed);

/* On AY_OK *out is a new limiter the caller frees. */
enum ay_err ay_ratelimit_new(size_t slots, int64_t window_us, unsigned burst,
                             struct ay_ratelimit **out);
void ay_ratelimit_free(struct ay_ratelimit *r); /* NULL is a no-op */

/* Counts one event of key at now_us; true if it may be logged. Windows of
 * key (or of an evicted key) that closed with suppressed events are
 * reported through report first (may be NULL). */
bool ay_ratelimit_allow(struct ay_ratelimit *r, const char *key, int64_t now_us,
                        ay_ratelimit_report_fn *report, void *arg);

/* Reports every key whose window closed by now_us with suppressed events
 * (call periodically, so the count of a flood that stopped is told too). */
void ay_ratelimit_flush(struct ay_ratelimit *r, int64_t now_us, ay_ratelimit_report_fn *report,
                        void *arg);

#endif
