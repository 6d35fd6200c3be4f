/*
 * ay_pg.c - the project's only user of libpq.
 *
 * Owns: the PGconn, the registered prepared statements. The result wrapper
 * is a PGresult pointer cast to an opaque type so no copy is made.
 */
#include "ay_pg.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stmt {
    char *name;
    char *sql;
    int nparams;
    struct stmt *next;
};

struct ay_pg {
    char *url;
    char options[64];
    PGconn *conn;
    struct stmt *stmts;
    char sqlstate[6];
};

enum ay_err ay_pg_new(const char *url, int statement_timeout_ms, struct ay_pg **out,
                      char err[AY_ERRLEN])
{
    struct ay_pg *db = NULL;

    if (url == NULL || *url == '\0') {
        ay_errf(err, "no database URL configured (set DATABASE_URL or database_url)");
        return AY_ERR_CONFIG;
    }
    db = calloc(1, sizeof(*db));
    if (db == NULL)
        return AY_ERR_NOMEM;
    db->url = strdup(url);
    if (db->url == NULL) {
        free(db);
        return AY_ERR_NOMEM;
    }
    snprintf(db->options, sizeof(db->options), "-c statement_timeout=%d",
             statement_timeout_ms > 0 ? statement_timeout_ms : 0);
    *out = db;
    return AY_OK;
}

void ay_pg_free(struct ay_pg *db)
{
    if (db == NULL)
        return;
    if (db->conn)
        PQfinish(db->conn);
    for (struct stmt *s = db->stmts, *next; s; s = next) {
        next = s->next;
        free(s->name);
        free(s->sql);
        free(s);
    }
    free(db->url);
    free(db);
}

/* Copies libpq's message without its trailing newline. */
static void pq_reason(char err[AY_ERRLEN], const char *what, const char *msg)
{
    char text[AY_ERRLEN];
    snprintf(text, sizeof(text), "%s", msg ? msg : "");
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    for (char *p = text; *p; p++)
        if (*p == '\n')
            *p = ' ';
    ay_errf(err, "%s: %s", what, text);
}

static enum ay_err prepare_one(struct ay_pg *db, const struct stmt *s, char err[AY_ERRLEN])
{
    PGresult *res = PQprepare(db->conn, s->name, s->sql, s->nparams, NULL);
    enum ay_err rc = AY_OK;

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pq_reason(err, s->name, PQerrorMessage(db->conn));
        rc = PQstatus(db->conn) == CONNECTION_OK ? AY_ERR_DB : AY_ERR_IO;
    }
    PQclear(res);
    return rc;
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

enum ay_err ay_pg_connect(struct ay_pg *db, char err[AY_ERRLEN])
{
    /* Our defaults come before dbname so that values in the URL win. */
    const char *keys[] = {"connect_timeout",  "keepalives",
                          "keepalives_idle",  "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout",
                          "options",          "application_name",
                          "dbname",           NULL};
    const char *vals[] = {"10", "1", "5", "2", "3", "15000", db->options, "anyuan", db->url, NULL};

    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    db->conn = PQconnectdbParams(keys, vals, 1);
    if (db->conn == NULL)
        return AY_ERR_NOMEM;
    /* Server notices ("relation exists, skipping") are not errors: drop them. */
    PQsetNoticeProcessor(db->conn, ignore_notice, NULL);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        pq_reason(err, "could not connect to the database", PQerrorMessage(db->conn));
        PQfinish(db->conn);
        db->conn = NULL;
        return AY_ERR_IO;
    }
    for (const struct stmt *s = db->stmts; s; s = s->next) {
        enum ay_err rc = prepare_one(db, s, err);
        if (rc != AY_OK)
            return rc;
    }
    return AY_OK;
}

bool ay_pg_is_connected(const struct ay_pg *db)
{
    return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK;
}

/* Turns a PGresult into our return code; takes ownership of res. */
static enum ay_err finish(struct ay_pg *db, PGresult *res, struct ay_pg_result **out,
                          char err[AY_ERRLEN])
{
    ExecStatusType st = PQresultStatus(res);

    db->sqlstate[0] = '\0';
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = (struct ay_pg_result *)res;
        else
            PQclear(res);
        return AY_OK;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
    pq_reason(err, "database", res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
    PQclear(res);
    /* Class 08 is connection exception; 57P01..03 the server going down. */
    if (PQstatus(db->conn) != CONNECTION_OK || strncmp(db->sqlstate, "08", 2) == 0 ||
        strncmp(db->sqlstate, "57P0", 4) == 0)
        return AY_ERR_IO;
    return AY_ERR_DB;
}

static enum ay_err check_conn(struct ay_pg *db, char err[AY_ERRLEN])
{
    if (!ay_pg_is_connected(db)) {
        ay_errf(err, "not connected to the database");
        return AY_ERR_IO;
    }
    return AY_OK;
}

enum ay_err ay_pg_exec_params(struct ay_pg *db, const char *sql, int nparams,
                              const char *const *values, const int *lengths, const int *formats,
                              struct ay_pg_result **out, char err[AY_ERRLEN])
{
    enum ay_err rc = check_conn(db, err);
    if (rc != AY_OK)
        return rc;
    PGresult *res = PQexecParams(db->conn, sql, nparams, NULL, values, lengths, formats, 0);
    return finish(db, res, out, err);
}

enum ay_err ay_pg_exec(struct ay_pg *db, const char *sql, int nparams, const char *const *values,
                       struct ay_pg_result **out, char err[AY_ERRLEN])
{
    return ay_pg_exec_params(db, sql, nparams, values, NULL, NULL, out, err);
}

enum ay_err ay_pg_exec_script(struct ay_pg *db, const char *sql, char err[AY_ERRLEN])
{
    enum ay_err rc = check_conn(db, err);
    if (rc != AY_OK)
        return rc;
    return finish(db, PQexec(db->conn, sql), NULL, err);
}

enum ay_err ay_pg_prepare(struct ay_pg *db, const char *name, const char *sql, int nparams,
                          char err[AY_ERRLEN])
{
    struct stmt *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return AY_ERR_NOMEM;
    s->name = strdup(name);
    s->sql = strdup(sql);
    s->nparams = nparams;
    if (s->name == NULL || s->sql == NULL) {
        free(s->name);
        free(s->sql);
        free(s);
        return AY_ERR_NOMEM;
    }
    s->next = db->stmts;
    db->stmts = s;
    if (!ay_pg_is_connected(db))
        return AY_OK;
    return prepare_one(db, s, err);
}

enum ay_err ay_pg_exec_prepared(struct ay_pg *db, const char *name, int nparams,
                                const char *const *values, const int *lengths, const int *formats,
                                struct ay_pg_result **out, char err[AY_ERRLEN])
{
    enum ay_err rc = check_conn(db, err);
    if (rc != AY_OK)
        return rc;
    PGresult *res = PQexecPrepared(db->conn, name, nparams, values, lengths, formats, 0);
    return finish(db, res, out, err);
}

enum ay_err ay_pg_begin(struct ay_pg *db, char err[AY_ERRLEN])
{
    return ay_pg_exec(db, "BEGIN", 0, NULL, NULL, err);
}

enum ay_err ay_pg_commit(struct ay_pg *db, char err[AY_ERRLEN])
{
    return ay_pg_exec(db, "COMMIT", 0, NULL, NULL, err);
}

void ay_pg_rollback(struct ay_pg *db)
{
    char err[AY_ERRLEN];
    if (ay_pg_is_connected(db))
        (void)ay_pg_exec(db, "ROLLBACK", 0, NULL, NULL, err);
}

const char *ay_pg_sqlstate(const struct ay_pg *db)
{
    return db->sqlstate;
}

int ay_pg_nrows(const struct ay_pg_result *r)
{
    return PQntuples((const PGresult *)r);
}

int ay_pg_ncols(const struct ay_pg_result *r)
{
    return PQnfields((const PGresult *)r);
}

const char *ay_pg_value(const struct ay_pg_result *r, int row, int col)
{
    return PQgetvalue((const PGresult *)r, row, col);
}

int ay_pg_length(const struct ay_pg_result *r, int row, int col)
{
    return PQgetlength((const PGresult *)r, row, col);
}

bool ay_pg_is_null(const struct ay_pg_result *r, int row, int col)
{
    return PQgetisnull((const PGresult *)r, row, col) != 0;
}

void ay_pg_result_free(struct ay_pg_result *r)
{
    PQclear((PGresult *)r);
}
