/*
 * stats.h - receipt latencies of one load generator run and their percentiles.
 *
 * Owns: an array of latencies in microseconds, one per receipted message,
 * sized for the run's message count up front (no allocation while sending).
 * Threads: not thread-safe; the generator's main thread only.
 */
#ifndef LG_STATS_H
#define LG_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"

struct lg_stats {
    int64_t *lat_us;
    size_t n;
    size_t cap;
    int sorted; /* lat_us is sorted (set by lg_stats_percentile) */
};

/* Room for cap latencies; lg_stats_cleanup releases it. */
enum ay_err lg_stats_init(struct lg_stats *s, size_t cap);
void lg_stats_cleanup(struct lg_stats *s);
/* Records one latency; ignored once cap latencies are recorded. */
void lg_stats_add(struct lg_stats *s, int64_t lat_us);
/* The latency below which pct percent of the recorded ones lie (nearest
 * rank); 0 when none were recorded. Sorts the array on first use. */
int64_t lg_stats_percentile(struct lg_stats *s, double pct);

#endif
