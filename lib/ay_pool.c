/*
 * ay_pool.c - worker threads with a connection each; see ay_pool.h.
 */
#include "ay_pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ay_escalate.h"
#include "ay_log.h"

struct worker {
    struct ay_pool *p;
    size_t index;
    struct ay_pg *db;
    pthread_t thread;
    bool started;
};

struct ay_pool {
    struct ay_pool_opts o;
    struct worker *w;
    ay_pool_fn *fn;
    void *arg;
};

enum ay_err ay_pool_new(const struct ay_pool_opts *o, struct ay_pool **out, char err[AY_ERRLEN])
{
    struct ay_pool *p = NULL;
    enum ay_err rc = AY_ERR_NOMEM;

    if (o->threads == 0) {
        ay_errf(err, "a pool needs at least one thread");
        return AY_ERR_CONFIG;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL || (p->w = calloc(o->threads, sizeof(*p->w))) == NULL)
        goto fail;
    p->o = *o;
    for (size_t i = 0; i < o->threads; i++) {
        p->w[i].p = p;
        p->w[i].index = i;
        if (o->database_url == NULL || *o->database_url == '\0')
            continue;
        rc = ay_pg_new(o->database_url, o->statement_timeout_ms, &p->w[i].db, err);
        if (rc == AY_OK)
            rc = ay_pg_prepare_all(p->w[i].db, ay_lib_sql, ay_lib_sql_count, err);
        if (rc == AY_OK)
            rc = ay_pg_prepare_all(p->w[i].db, o->sql, o->nsql, err);
        if (rc != AY_OK)
            goto fail;
    }
    *out = p;
    return AY_OK;
fail:
    ay_pool_free(p);
    return rc;
}

enum ay_err ay_pool_connect(struct ay_pool *p, char err[AY_ERRLEN])
{
    for (size_t i = 0; i < p->o.threads; i++) {
        if (p->w[i].db == NULL || ay_pg_is_connected(p->w[i].db))
            continue;
        enum ay_err rc = ay_pg_reconnect(p->w[i].db, 0, err);
        if (rc != AY_OK)
            return rc;
    }
    return AY_OK;
}

struct ay_pg *ay_pool_db(struct ay_pool *p, size_t i)
{
    return i < p->o.threads ? p->w[i].db : NULL;
}

size_t ay_pool_size(const struct ay_pool *p)
{
    return p->o.threads;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->p->fn(w->p->arg, w->index, w->db);
    return NULL;
}

enum ay_err ay_pool_start(struct ay_pool *p, ay_pool_fn *fn, void *arg, char err[AY_ERRLEN])
{
    size_t started = 0;

    p->fn = fn;
    p->arg = arg;
    for (size_t i = 0; i < p->o.threads; i++) {
        p->w[i].started = pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]) == 0;
        started += p->w[i].started;
    }
    if (started == 0) {
        ay_errf(err, "cannot start any worker thread");
        return AY_ERR_NOMEM;
    }
    if (started < p->o.threads)
        ay_log_warn("could not start every worker thread; running with fewer", NULL);
    return AY_OK;
}

void ay_pool_join(struct ay_pool *p)
{
    for (size_t i = 0; i < p->o.threads; i++) {
        if (p->w[i].started)
            pthread_join(p->w[i].thread, NULL);
        p->w[i].started = false;
    }
}

void ay_pool_free(struct ay_pool *p)
{
    if (p == NULL)
        return;
    if (p->w) {
        ay_pool_join(p);
        for (size_t i = 0; i < p->o.threads; i++)
            ay_pg_free(p->w[i].db);
    }
    free(p->w);
    free(p);
}
