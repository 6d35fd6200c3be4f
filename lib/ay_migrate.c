/*
 * ay_migrate.c - applies the embedded migrations; see ay_migrate.h.
 *
 * Approach: take a transaction-level advisory lock, read what is recorded,
 * and run each missing migration and its bookkeeping row in one
 * transaction. A fingerprint (FNV-1a of the text) detects edited migrations.
 */
#include "ay_migrate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "ay_pg.h"

/* Arbitrary constant naming "anyuan schema migration" for pg_advisory_xact_lock. */
#define MIGRATE_LOCK_KEY "4710531"

static const char CREATE_TABLE_SQL[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       " version integer PRIMARY KEY,"
                                       " name text NOT NULL,"
                                       " fingerprint text NOT NULL,"
                                       " applied_at timestamptz NOT NULL DEFAULT now())";

static void fingerprint(const struct ay_migration *m, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < m->len; i++) {
        h ^= (unsigned char)m->sql[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int ay_migrate_latest(void)
{
    return ay_migrations_count ? ay_migrations[ay_migrations_count - 1].version : 0;
}

enum ay_err ay_migrate_version(struct ay_pg *db, int *version, char err[AY_ERRLEN])
{
    struct ay_pg_result *r = NULL;
    enum ay_err rc =
        ay_pg_exec(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, &r, err);
    if (rc != AY_OK) {
        /* 42P01: undefined table, i.e. nothing applied yet. */
        if (strcmp(ay_pg_sqlstate(db), "42P01") == 0) {
            *version = 0;
            return AY_OK;
        }
        return rc;
    }
    int64_t v = 0;
    bool ok = ay_pg_int64(r, 0, 0, &v) && v >= 0 && v <= 9999;
    ay_pg_result_free(r);
    if (!ok) {
        ay_errf(err, "schema_migrations: unexpected version");
        return AY_ERR_DB;
    }
    *version = (int)v;
    return AY_OK;
}

/* Runs one migration if absent; *ran says whether it did. In a transaction. */
static enum ay_err apply_one(struct ay_pg *db, const struct ay_migration *m, int *ran,
                             char err[AY_ERRLEN])
{
    struct ay_pg_result *r = NULL;
    char version[16];
    char fp[17];
    enum ay_err rc;

    snprintf(version, sizeof(version), "%d", m->version);
    fingerprint(m, fp);
    const char *p1[] = {version};
    rc = ay_pg_exec(db, "SELECT fingerprint FROM schema_migrations WHERE version = $1", 1, p1, &r,
                    err);
    if (rc != AY_OK)
        return rc;
    if (ay_pg_nrows(r) == 1) {
        if (strcmp(ay_pg_value(r, 0, 0), fp) != 0) {
            ay_errf(err,
                    "migration %s was changed after it was applied (fingerprint %s, recorded %s)",
                    m->name, fp, ay_pg_value(r, 0, 0));
            rc = AY_ERR_DB;
        }
        ay_pg_result_free(r);
        return rc;
    }
    ay_pg_result_free(r);
    rc = ay_pg_exec_script(db, m->sql, err);
    if (rc != AY_OK) {
        char inner[AY_ERRLEN];
        snprintf(inner, sizeof(inner), "%s", err);
        ay_errf(err, "migration %s failed: %s", m->name, inner);
        return rc;
    }
    const char *p2[] = {version, m->name, fp};
    rc = ay_pg_exec(
        db, "INSERT INTO schema_migrations (version, name, fingerprint) VALUES ($1, $2, $3)", 3, p2,
        NULL, err);
    if (rc == AY_OK)
        *ran = 1;
    return rc;
}

enum ay_err ay_migrate_apply(struct ay_pg *db, int *applied, int *version, char err[AY_ERRLEN])
{
    enum ay_err rc;
    int count = 0;

    rc = ay_pg_exec(db, CREATE_TABLE_SQL, 0, NULL, NULL, err);
    if (rc != AY_OK && strcmp(ay_pg_sqlstate(db), "23505") != 0)
        return rc;
    for (size_t i = 0; i < ay_migrations_count; i++) {
        int ran = 0;
        rc = ay_pg_begin(db, err);
        if (rc != AY_OK)
            return rc;
        const char *key[] = {MIGRATE_LOCK_KEY};
        rc = ay_pg_exec(db, "SELECT pg_advisory_xact_lock($1::bigint)", 1, key, NULL, err);
        if (rc == AY_OK)
            rc = apply_one(db, &ay_migrations[i], &ran, err);
        if (rc == AY_OK)
            rc = ay_pg_commit(db, err);
        if (rc != AY_OK) {
            ay_pg_rollback(db);
            return rc;
        }
        if (ran) {
            count++;
            ay_log_info("applied migration", "migration", ay_migrations[i].name, NULL);
        }
    }
    if (applied)
        *applied = count;
    if (version)
        return ay_migrate_version(db, version, err);
    return AY_OK;
}
