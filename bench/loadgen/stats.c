/*
 * stats.c - latency percentiles by nearest rank over a sorted array; see stats.h.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

enum ay_err lg_stats_init(struct lg_stats *s, size_t cap)
{
    s->lat_us = malloc((cap ? cap : 1) * sizeof(*s->lat_us));
    if (s->lat_us == NULL)
        return AY_ERR_NOMEM;
    s->n = 0;
    s->cap = cap;
    s->sorted = 0;
    return AY_OK;
}

void lg_stats_cleanup(struct lg_stats *s)
{
    free(s->lat_us);
    s->lat_us = NULL;
    s->n = 0;
    s->cap = 0;
}

void lg_stats_add(struct lg_stats *s, int64_t lat_us)
{
    if (s->n >= s->cap)
        return;
    s->lat_us[s->n++] = lat_us;
    s->sorted = 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t lg_stats_percentile(struct lg_stats *s, double pct)
{
    if (s->n == 0)
        return 0;
    if (!s->sorted) {
        qsort(s->lat_us, s->n, sizeof(*s->lat_us), cmp_i64);
        s->sorted = 1;
    }
    size_t rank = (size_t)ceil(pct / 100.0 * (double)s->n);
    rank = rank < 1 ? 1 : rank > s->n ? s->n : rank;
    return s->lat_us[rank - 1];
}
