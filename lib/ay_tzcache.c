/*
 * ay_tzcache.c - a small table of loaded zones; see ay_tzcache.h.
 */
#include "ay_tzcache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"

#define ZONES_MAX 32

struct ay_tzcache {
    pthread_mutex_t lock;
    struct ay_tz *fallback;
    /* Guarded by lock. */
    char names[ZONES_MAX][72];
    struct ay_tz *zones[ZONES_MAX];
    int n;
};

enum ay_err ay_tzcache_new(struct ay_tzcache **out)
{
    char err[AY_ERRLEN];
    struct ay_tzcache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return AY_ERR_NOMEM;
    if (ay_tz_parse_posix("CST-8", &c->fallback, err) != AY_OK) {
        free(c);
        return AY_ERR_NOMEM;
    }
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return AY_OK;
}

void ay_tzcache_free(struct ay_tzcache *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->n; i++)
        ay_tz_free(c->zones[i]);
    ay_tz_free(c->fallback);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

const struct ay_tz *ay_tzcache_get(struct ay_tzcache *c, const char *name)
{
    char err[AY_ERRLEN] = "";
    const struct ay_tz *z = NULL;

    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->n && z == NULL; i++)
        if (strcmp(c->names[i], name) == 0)
            z = c->zones[i] ? c->zones[i] : c->fallback;
    if (z == NULL && c->n < ZONES_MAX) {
        struct ay_tz *loaded = NULL;
        if (ay_tz_load(name, &loaded, err) != AY_OK) {
            ay_log_warn("cannot load time zone, using China Standard Time", "zone", name, "err",
                        err, NULL);
            loaded = NULL;
        }
        snprintf(c->names[c->n], sizeof(c->names[c->n]), "%s", name);
        c->zones[c->n++] = loaded;
        z = loaded ? loaded : c->fallback;
    }
    pthread_mutex_unlock(&c->lock);
    return z ? z : c->fallback;
}
