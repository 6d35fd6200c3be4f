/*
 * unit.h - what several unit tests need, written once: an RFC 3339 time as
 * microseconds, a time zone loaded or the test failed, a file of
 * tests/data read whole. Each fails the running cmocka test on error, so a
 * test reads as its assertions. Linked into every tests/unit/test_*.c.
 */
#ifndef AY_TEST_UNIT_H
#define AY_TEST_UNIT_H

#include <stddef.h>
#include <stdint.h>

#include "ay_tz.h"

/* "2026-11-24T08:15:03.431Z" as microseconds since the epoch. */
int64_t ayt_at(const char *rfc3339);

/* The zone named, loaded from tzdata (the caller frees it with ay_tz_free). */
struct ay_tz *ayt_zone(const char *name);

/* tests/data/<rel> as a new NUL-terminated buffer (free()); *len without
 * the NUL. */
char *ayt_read_data(const char *rel, size_t *len);

#endif
