/*
 * ay_pool.h - a fixed set of worker threads, each with its own database
 * connection (optional), running one function until it returns.
 *
 * A worker's function owns its loop: it takes work (from an ay_queue, a
 * claim query...) until ay_service_stopping() or its input is closed, and
 * uses its own connection through ay_pg_tx. Connections are made by
 * ay_pool_connect before the threads start, with backoff, and re-made by
 * ay_pg_tx / ay_pg_reconnect when lost.
 * Owns: the threads and the connections. Threads: ay_pool_* from the thread
 * that created the pool; ay_pool_fn on its worker thread.
 */
#ifndef AY_POOL_H
#define AY_POOL_H

#include <stddef.h>

#include "ay_err.h"
#include "ay_pg.h"

struct ay_pool;

struct ay_pool_opts {
    size_t threads;               /* at least 1 */
    const char *database_url;     /* NULL or "": workers have no connection */
    int statement_timeout_ms;     /* per connection; 0: none */
    const struct ay_pg_stmt *sql; /* prepared on every connection, with lib's own
                                     (ay_lib_sql); may be NULL */
    size_t nsql;
};

/* A worker: index 0..threads-1 and its connection (NULL without one). */
typedef void ay_pool_fn(void *arg, size_t index, struct ay_pg *db);

/* On AY_OK *out is a pool with unconnected connections and no threads yet. */
enum ay_err ay_pool_new(const struct ay_pool_opts *o, struct ay_pool **out, char err[AY_ERRLEN]);

/* Connects every worker's connection, retrying with backoff (logged by
 * ay_pg_reconnect) until done or the service is stopping (AY_ERR_TIMEOUT).
 * AY_ERR_DB when the database refuses the statements (wrong schema). */
enum ay_err ay_pool_connect(struct ay_pool *p, char err[AY_ERRLEN]);

/* The connection of worker i (borrowed), for checks before the start. */
struct ay_pg *ay_pool_db(struct ay_pool *p, size_t i);
size_t ay_pool_size(const struct ay_pool *p);

/* Starts the threads, each running fn(arg, i, db). AY_ERR_NOMEM if no
 * thread could start (those that did are joined first). */
enum ay_err ay_pool_start(struct ay_pool *p, ay_pool_fn *fn, void *arg, char err[AY_ERRLEN]);

/* Waits until every worker's function has returned. */
void ay_pool_join(struct ay_pool *p);

/* Joins if needed and frees the connections. NULL is a no-op. */
void ay_pool_free(struct ay_pool *p);

#endif
