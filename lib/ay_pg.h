/*
 * ay_pg.h - PostgreSQL through libpq: connect and reconnect, parameterised
 * statements, prepared statements, transactions.
 *
 * Owns: one libpq connection and the list of statements prepared on it
 * (re-prepared after a reconnect). Does not own: results, which the caller
 * frees with ay_pg_result_free().
 * Errors: AY_ERR_IO when the connection is (or went) bad: the caller
 * reconnects with ay_pg_connect() and retries the whole transaction;
 * AY_ERR_DB when the server rejected the statement (constraint, syntax):
 * retrying the same thing will fail the same way.
 * Timeouts: connect_timeout, TCP keepalives and tcp_user_timeout bound every
 * blocking call on a dead peer; statement_timeout bounds a stuck query.
 * SQL only with parameters ($1, $2, ...), never pasted.
 * Threads: one struct ay_pg per thread.
 */
#ifndef AY_PG_H
#define AY_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"

struct ay_pg;
struct ay_pg_result;

/* Parameter formats for ay_pg_exec_params. */
#define AY_PG_TEXT   0
#define AY_PG_BINARY 1

/* On AY_OK *out is a new handle (not yet connected) the caller frees with ay_pg_free(). */
enum ay_err ay_pg_new(const char *url, int statement_timeout_ms, struct ay_pg **out,
                      char err[AY_ERRLEN]);
void ay_pg_free(struct ay_pg *db); /* NULL is a no-op */

/* (Re)connects, bounded by connect_timeout (10 s unless the URL says), and
 * re-prepares the registered statements. */
enum ay_err ay_pg_connect(struct ay_pg *db, char err[AY_ERRLEN]);
bool ay_pg_is_connected(const struct ay_pg *db);

/*
 * Runs sql with text parameters. On AY_OK, if out is not NULL, *out is a new
 * result the caller frees. Fails with AY_ERR_IO if not connected.
 */
enum ay_err ay_pg_exec(struct ay_pg *db, const char *sql, int nparams, const char *const *values,
                       struct ay_pg_result **out, char err[AY_ERRLEN]);
/* Same with per-parameter lengths and formats (AY_PG_BINARY for bytea). */
enum ay_err ay_pg_exec_params(struct ay_pg *db, const char *sql, int nparams,
                              const char *const *values, const int *lengths, const int *formats,
                              struct ay_pg_result **out, char err[AY_ERRLEN]);

/*
 * Runs a script of several statements without parameters (simple query
 * protocol). Only for the project's own SQL files (migrations), never for
 * anything built from input.
 */
enum ay_err ay_pg_exec_script(struct ay_pg *db, const char *sql, char err[AY_ERRLEN]);

/* Registers (and prepares now, if connected) a named statement; copies both strings. */
enum ay_err ay_pg_prepare(struct ay_pg *db, const char *name, const char *sql, int nparams,
                          char err[AY_ERRLEN]);
enum ay_err ay_pg_exec_prepared(struct ay_pg *db, const char *name, int nparams,
                                const char *const *values, const int *lengths, const int *formats,
                                struct ay_pg_result **out, char err[AY_ERRLEN]);

enum ay_err ay_pg_begin(struct ay_pg *db, char err[AY_ERRLEN]);
enum ay_err ay_pg_commit(struct ay_pg *db, char err[AY_ERRLEN]);
/* Best effort; a dead connection is simply left for ay_pg_connect(). */
void ay_pg_rollback(struct ay_pg *db);

/* Five-character SQLSTATE of the last failed statement ("" if none). */
const char *ay_pg_sqlstate(const struct ay_pg *db);

/* A PostgreSQL array literal of n text values ("{\"a\",\"b\"}"), each
 * quoted and escaped, for a parameter like $1::uuid[] or $1::text[]. New
 * string the caller frees; NULL when out of memory. */
char *ay_pg_text_array(const char *const *values, size_t n);

/* Parses a whole cell as a decimal integer; false (and *out untouched) if
 * it is not one. */
bool ay_pg_int64(const struct ay_pg_result *r, int row, int col, int64_t *out);

/* ---- notifications ------------------------------------------------------- */

/* LISTENs on channel now (if connected) and after every reconnect. The
 * channel is an identifier of the project's own (quoted by libpq). */
enum ay_err ay_pg_listen(struct ay_pg *db, const char *channel, char err[AY_ERRLEN]);

/*
 * Waits at most timeout_ms for a notification on a LISTENed channel (all
 * that arrived are consumed); returns early when the service is stopping.
 * *got tells whether one came. AY_ERR_IO when the connection broke.
 */
enum ay_err ay_pg_wait_notify(struct ay_pg *db, int timeout_ms, bool *got, char err[AY_ERRLEN]);

/* ---- statement sets ------------------------------------------------------
 * A service's SQL lives in .sql files, one statement each, embedded by the
 * build (cmake/embed_stmts.cmake) as an array of these; the file name
 * without .sql is the statement's name. */
struct ay_pg_stmt {
    const char *name;
    const char *sql;
};

/* Registers (and prepares, if connected) every statement of the set; the
 * parameter types are inferred by the server. Stops at the first failure,
 * naming the statement. */
enum ay_err ay_pg_prepare_all(struct ay_pg *db, const struct ay_pg_stmt *set, size_t n,
                              char err[AY_ERRLEN]);

/* ---- what a failure means -----------------------------------------------
 * PERMANENT: the server refused the work itself (a constraint, a type, a
 *   syntax error): the same work fails the same way.
 * TRANSIENT: the work was fine but lost a race or ran out of time:
 *   serialization failure 40001 (and the rest of class 40: deadlock 40P01,
 *   ...), lock not available 55P03, query canceled / statement or lock
 *   timeout 57014. Running it again will work.
 * CONNECTION: the connection is gone or going (class 08, admin shutdown
 *   57P01..57P03, or libpq lost it): reconnect, then run it again. */
enum ay_pg_fault {
    AY_PG_PERMANENT,
    AY_PG_TRANSIENT,
    AY_PG_CONNECTION,
};

/* Pure: the class of a failure from its SQLSTATE ("" if none) and whether
 * the connection is still up. */
enum ay_pg_fault ay_pg_classify(const char *sqlstate, bool connected);

/* ---- transactions with retries --------------------------------------- */

/* The work of one transaction. Runs on the caller's thread, possibly
 * several times: it must start from scratch each time (no state carried
 * over from a rolled-back attempt) and be safe to run again after a COMMIT
 * whose outcome was lost with the connection. Returns AY_OK, or the code
 * of the ay_pg call that failed (or its own, e.g. AY_ERR_NOMEM). */
typedef enum ay_err ay_pg_tx_fn(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

struct ay_pg_tx_opts {
    const char *what;    /* for log lines: "store batch", "fire deadlines" */
    int64_t deadline_us; /* ay_sync monotonic time to give up at; 0: never */
    /* Once ay_service_stopping(), give up at most this long after noticing
     * (the service's drain time); < 0: stopping changes nothing. */
    int stop_grace_ms;
};

/*
 * Runs fn inside BEGIN ... COMMIT. A TRANSIENT failure rolls back and runs
 * fn again after a backoff; a CONNECTION failure reconnects (with backoff)
 * and runs it again; both are logged (warn) by this function, which decides
 * the retry. Returns:
 *   AY_OK          committed;
 *   AY_ERR_DB      PostgreSQL refused the work (PERMANENT): rolled back,
 *                  err has the server's reason; the caller decides;
 *   AY_ERR_TIMEOUT the database stayed unavailable (or kept failing
 *                  transiently) until the deadline or the stop grace ran out;
 *   anything else  fn's own failure, not retried (rolled back).
 */
enum ay_err ay_pg_tx(struct ay_pg *db, const struct ay_pg_tx_opts *o, ay_pg_tx_fn *fn, void *arg,
                     char err[AY_ERRLEN]);

/* Reconnects with backoff until connected, the deadline (monotonic, 0:
 * none) passed, or the service is stopping. Logs the first failure (warn)
 * and the recovery (info). */
enum ay_err ay_pg_reconnect(struct ay_pg *db, int64_t deadline_us, char err[AY_ERRLEN]);

int ay_pg_nrows(const struct ay_pg_result *r);
int ay_pg_ncols(const struct ay_pg_result *r);
/* Borrowed text of a cell, valid until ay_pg_result_free; "" for NULL. */
const char *ay_pg_value(const struct ay_pg_result *r, int row, int col);
int ay_pg_length(const struct ay_pg_result *r, int row, int col);
bool ay_pg_is_null(const struct ay_pg_result *r, int row, int col);
void ay_pg_result_free(struct ay_pg_result *r); /* NULL is a no-op */
/* A row of stmt's result the caller cannot read (a cell out of range or
 * malformed): says so in err and returns AY_ERR_INVALID. */
enum ay_err ay_pg_bad_row(const char *stmt, int row, char err[AY_ERRLEN]);

#endif
