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

int ay_pg_nrows(const struct ay_pg_result *r);
int ay_pg_ncols(const struct ay_pg_result *r);
/* Borrowed text of a cell, valid until ay_pg_result_free; "" for NULL. */
const char *ay_pg_value(const struct ay_pg_result *r, int row, int col);
int ay_pg_length(const struct ay_pg_result *r, int row, int col);
bool ay_pg_is_null(const struct ay_pg_result *r, int row, int col);
void ay_pg_result_free(struct ay_pg_result *r); /* NULL is a no-op */

#endif
