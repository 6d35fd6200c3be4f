/*
 * ay_pg.c - the project's only user of libpq.
 *
 * Owns: the PGconn, the registered prepared statements. The result wrapper
 * is a PGresult pointer cast to an opaque type so no copy is made.
 */
#include "ay_pg.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_backoff.h"
#include "ay_log.h"
#include "ay_service.h"
#include "ay_sync.h"
#include "ay_time.h"

struct stmt {
    char *name;
    char *sql;
    int nparams;
    struct stmt *next;
};

#define LISTEN_MAX 4

struct ay_pg {
    char *url;
    char options[64];
    PGconn *conn;
    struct stmt *stmts;
    char sqlstate[6];
    char *listen[LISTEN_MAX];
    int nlisten;
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
    for (int i = 0; i < db->nlisten; i++)
        free(db->listen[i]);
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

static enum ay_err listen_one(struct ay_pg *db, const char *channel, char err[AY_ERRLEN])
{
    char *ident = PQescapeIdentifier(db->conn, channel, strlen(channel));
    char sql[128];
    enum ay_err rc = AY_OK;

    if (ident == NULL) {
        pq_reason(err, "LISTEN", PQerrorMessage(db->conn));
        return AY_ERR_IO;
    }
    snprintf(sql, sizeof(sql), "LISTEN %s", ident);
    PQfreemem(ident);
    PGresult *res = PQexec(db->conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pq_reason(err, "LISTEN", PQerrorMessage(db->conn));
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
    for (int i = 0; i < db->nlisten; i++) {
        enum ay_err rc = listen_one(db, db->listen[i], err);
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
        db->sqlstate[0] = '\0';
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

/* ---- notifications ---------------------------------------------------------- */

enum ay_err ay_pg_listen(struct ay_pg *db, const char *channel, char err[AY_ERRLEN])
{
    if (db->nlisten >= LISTEN_MAX) {
        ay_errf(err, "too many LISTEN channels");
        return AY_ERR_FULL;
    }
    char *copy = strdup(channel);
    if (copy == NULL)
        return AY_ERR_NOMEM;
    db->listen[db->nlisten++] = copy;
    return ay_pg_is_connected(db) ? listen_one(db, copy, err) : AY_OK;
}

/* Consumes what arrived; true if a notification was among it. */
static bool drain_notifies(struct ay_pg *db)
{
    bool got = false;
    PGnotify *n;
    while ((n = PQnotifies(db->conn)) != NULL) {
        got = true;
        PQfreemem(n);
    }
    return got;
}

enum ay_err ay_pg_wait_notify(struct ay_pg *db, int timeout_ms, bool *got, char err[AY_ERRLEN])
{
    enum ay_err rc = check_conn(db, err);

    *got = false;
    if (rc != AY_OK)
        return rc;
    if (PQconsumeInput(db->conn) == 0) {
        pq_reason(err, "database", PQerrorMessage(db->conn));
        return AY_ERR_IO;
    }
    if ((*got = drain_notifies(db)))
        return AY_OK;
    struct pollfd p[2] = {{.fd = PQsocket(db->conn), .events = POLLIN},
                          {.fd = ay_service_stop_fd(), .events = POLLIN}};
    int r = poll(p, p[1].fd >= 0 ? 2 : 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (r < 0 && errno != EINTR) {
        ay_errf(err, "waiting for the database: %s", strerror(errno));
        return AY_ERR_IO;
    }
    if (r > 0 && (p[0].revents & (POLLIN | POLLERR | POLLHUP))) {
        if (PQconsumeInput(db->conn) == 0 || PQstatus(db->conn) != CONNECTION_OK) {
            pq_reason(err, "database", PQerrorMessage(db->conn));
            return AY_ERR_IO;
        }
        *got = drain_notifies(db);
    }
    return AY_OK;
}

/* ---- values -------------------------------------------------------------- */

char *ay_pg_text_array(const char *const *values, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(values[i]) + 3;
    char *out = malloc(cap);
    size_t len = 0;

    if (out == NULL)
        return NULL;
    out[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            out[len++] = ',';
        out[len++] = '"';
        for (const char *p = values[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                out[len++] = '\\';
            out[len++] = *p;
        }
        out[len++] = '"';
    }
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

bool ay_pg_int64(const struct ay_pg_result *r, int row, int col, int64_t *out)
{
    const char *s = ay_pg_value(r, row, col);
    char *end = NULL;

    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || end == NULL || *end != '\0' || errno != 0)
        return false;
    *out = v;
    return true;
}

/* ---- statement sets ------------------------------------------------------ */

enum ay_err ay_pg_prepare_all(struct ay_pg *db, const struct ay_pg_stmt *set, size_t n,
                              char err[AY_ERRLEN])
{
    for (size_t i = 0; i < n; i++) {
        enum ay_err rc = ay_pg_prepare(db, set[i].name, set[i].sql, 0, err);
        if (rc != AY_OK)
            return rc;
    }
    return AY_OK;
}

/* ---- failures and retries ------------------------------------------------ */

enum ay_pg_fault ay_pg_classify(const char *sqlstate, bool connected)
{
    const char *s = sqlstate ? sqlstate : "";

    if (!connected || strncmp(s, "08", 2) == 0 || strncmp(s, "57P0", 4) == 0)
        return AY_PG_CONNECTION;
    /* Class 40 (transaction rollback: serialization failure, deadlock),
     * lock not available, statement/lock timeout or cancel. Also class 53
     * (insufficient resources: disk full, out of memory, too many
     * connections) and 58 (system error, e.g. an I/O error): the work is
     * fine and the server will take it once an operator has made room;
     * a valid message must never become a dead letter for that. */
    if (strncmp(s, "40", 2) == 0 || strcmp(s, "55P03") == 0 || strcmp(s, "57014") == 0 ||
        strncmp(s, "53", 2) == 0 || strncmp(s, "58", 2) == 0)
        return AY_PG_TRANSIENT;
    return AY_PG_PERMANENT;
}

/* Sleeps ms but not past deadline_us (0: none); while the service runs, a
 * stop request ends the sleep early (the caller then applies its grace). */
static void retry_sleep(int ms, int64_t deadline_us)
{
    if (deadline_us != 0) {
        int left = ay_mono_left_ms(deadline_us);
        if (left < ms)
            ms = left;
    }
    if (ay_service_stopping())
        ay_time_sleep_ms(ms);
    else
        (void)ay_service_sleep_ms(ms);
}

static bool passed(int64_t deadline_us)
{
    return deadline_us != 0 && ay_mono_us() >= deadline_us;
}

enum ay_err ay_pg_reconnect(struct ay_pg *db, int64_t deadline_us, char err[AY_ERRLEN])
{
    struct ay_backoff b;
    bool logged = false;

    ay_backoff_init(&b, AY_BACKOFF_DEFAULT_MIN_MS, AY_BACKOFF_DEFAULT_MAX_MS);
    for (;;) {
        enum ay_err rc = ay_pg_connect(db, err);
        if (rc == AY_OK) {
            if (logged)
                ay_log_info("reconnected to the database", NULL);
            return AY_OK;
        }
        if (rc != AY_ERR_IO)
            return rc; /* connected, but the server refused a statement */
        if (!logged)
            ay_log_warn("database unavailable, reconnecting", "err", err, NULL);
        logged = true;
        if ((deadline_us == 0 && ay_service_stopping()) || passed(deadline_us))
            return AY_ERR_TIMEOUT;
        retry_sleep(ay_backoff_next(&b), deadline_us);
    }
}

enum ay_err ay_pg_tx(struct ay_pg *db, const struct ay_pg_tx_opts *o, ay_pg_tx_fn *fn, void *arg,
                     char err[AY_ERRLEN])
{
    struct ay_backoff b;
    int64_t deadline = o->deadline_us;
    bool stop_seen = false;
    int retries = 0;

    ay_backoff_init(&b, AY_BACKOFF_DEFAULT_MIN_MS / 10, AY_BACKOFF_DEFAULT_MAX_MS);
    for (;;) {
        if (!stop_seen && o->stop_grace_ms >= 0 && ay_service_stopping()) {
            int64_t grace = ay_mono_deadline_us(o->stop_grace_ms);
            stop_seen = true;
            if (deadline == 0 || grace < deadline)
                deadline = grace;
        }
        enum ay_err rc = AY_OK;
        if (!ay_pg_is_connected(db) && (rc = ay_pg_reconnect(db, deadline, err)) != AY_OK)
            return rc == AY_ERR_TIMEOUT ? AY_ERR_TIMEOUT : rc;
        rc = ay_pg_begin(db, err);
        if (rc == AY_OK)
            rc = fn(db, arg, err);
        if (rc == AY_OK)
            rc = ay_pg_commit(db, err);
        if (rc == AY_OK) {
            if (retries > 0) {
                char n[16];
                snprintf(n, sizeof(n), "%d", retries);
                ay_log_info("database work done after retrying", "work", o->what, "retries", n,
                            NULL);
            }
            return AY_OK;
        }
        bool connected = ay_pg_is_connected(db);
        char sqlstate[sizeof(db->sqlstate)];
        memcpy(sqlstate, db->sqlstate, sizeof(sqlstate));
        enum ay_pg_fault fault = ay_pg_classify(sqlstate, connected);
        ay_pg_rollback(db);
        if (rc != AY_ERR_DB && rc != AY_ERR_IO)
            return rc; /* fn's own failure */
        if (fault == AY_PG_PERMANENT)
            return AY_ERR_DB;
        if (passed(deadline) || (deadline == 0 && stop_seen)) {
            char reason[AY_ERRLEN];
            snprintf(reason, sizeof(reason), "%s", err);
            ay_errf(err, "gave up retrying: %s", reason);
            return AY_ERR_TIMEOUT;
        }
        retries++;
        char n[16];
        snprintf(n, sizeof(n), "%d", retries);
        if (fault == AY_PG_TRANSIENT) {
            ay_log_warn("transient database error, retrying", "work", o->what, "sqlstate", sqlstate,
                        "attempt", n, "err", err, NULL);
            retry_sleep(ay_backoff_next(&b), deadline);
        } else {
            ay_log_warn("database connection lost, reconnecting to retry", "work", o->what,
                        "sqlstate", sqlstate, "attempt", n, "err", err, NULL);
            if ((rc = ay_pg_reconnect(db, deadline, err)) != AY_OK)
                return rc;
        }
    }
}

enum ay_err ay_pg_bad_row(const char *stmt, int row, char err[AY_ERRLEN])
{
    ay_errf(err, "%s: unexpected value in row %d", stmt, row);
    return AY_ERR_INVALID;
}
