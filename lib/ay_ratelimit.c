/*
 * ay_ratelimit.c - fixed-window counters in a small table; see ay_ratelimit.h.
 */
#include "ay_ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char key[AY_RATELIMIT_KEY_MAX];
    int64_t window_start_us;
    int64_t last_us;
    unsigned count;
    unsigned long suppressed;
    bool used;
};

struct ay_ratelimit {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t nslots;
    int64_t window_us;
    unsigned burst;
};

/* A report collected under the lock, made after it is released. */
struct pending {
    char key[AY_RATELIMIT_KEY_MAX];
    unsigned long n;
};

enum ay_err ay_ratelimit_new(size_t slots, int64_t window_us, unsigned burst,
                             struct ay_ratelimit **out)
{
    struct ay_ratelimit *r = calloc(1, sizeof(*r));
    if (r == NULL || slots == 0 || window_us <= 0) {
        free(r);
        return r ? AY_ERR_INVALID : AY_ERR_NOMEM;
    }
    r->slots = calloc(slots, sizeof(*r->slots));
    if (r->slots == NULL) {
        free(r);
        return AY_ERR_NOMEM;
    }
    r->nslots = slots;
    r->window_us = window_us;
    r->burst = burst;
    pthread_mutex_init(&r->lock, NULL);
    *out = r;
    return AY_OK;
}

void ay_ratelimit_free(struct ay_ratelimit *r)
{
    if (r == NULL)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->slots);
    free(r);
}

/* Closes s's window if it ended by now_us; its suppressed count goes to *p. */
static void roll(struct ay_ratelimit *r, struct slot *s, int64_t now_us, struct pending *p)
{
    if (!s->used || now_us - s->window_start_us < r->window_us)
        return;
    if (s->suppressed > 0) {
        snprintf(p->key, sizeof(p->key), "%s", s->key);
        p->n = s->suppressed;
    }
    s->window_start_us = now_us;
    s->count = 0;
    s->suppressed = 0;
}

bool ay_ratelimit_allow(struct ay_ratelimit *r, const char *key, int64_t now_us,
                        ay_ratelimit_report_fn *report, void *arg)
{
    struct pending reports[2] = {{"", 0}, {"", 0}};
    struct slot *s = NULL;
    struct slot *oldest = NULL;
    bool allowed;

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nslots && s == NULL; i++) {
        struct slot *c = &r->slots[i];
        if (c->used && strncmp(c->key, key, sizeof(c->key) - 1) == 0)
            s = c;
        else if (oldest == NULL || !c->used || (oldest->used && c->last_us < oldest->last_us))
            oldest = c;
    }
    if (s == NULL) {
        s = oldest;
        if (s->used && s->suppressed > 0) {
            snprintf(reports[0].key, sizeof(reports[0].key), "%s", s->key);
            reports[0].n = s->suppressed;
        }
        memset(s, 0, sizeof(*s));
        s->used = true;
        snprintf(s->key, sizeof(s->key), "%s", key);
        s->window_start_us = now_us;
    }
    roll(r, s, now_us, &reports[1]);
    s->last_us = now_us;
    allowed = ++s->count <= r->burst;
    if (!allowed)
        s->suppressed++;
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < 2 && report; i++)
        if (reports[i].n > 0)
            report(arg, reports[i].key, reports[i].n);
    return allowed;
}

void ay_ratelimit_flush(struct ay_ratelimit *r, int64_t now_us, ay_ratelimit_report_fn *report,
                        void *arg)
{
    for (size_t i = 0; i < r->nslots; i++) {
        struct pending p = {"", 0};
        pthread_mutex_lock(&r->lock);
        roll(r, &r->slots[i], now_us, &p);
        pthread_mutex_unlock(&r->lock);
        if (p.n > 0 && report)
            report(arg, p.key, p.n);
    }
}
