/*
 * ay_migrate.h - numbered schema migrations (db/migrations/NNNN_name.sql),
 * embedded in the binary at build time and applied in order.
 *
 * Each migration runs in its own transaction together with the row that
 * records it in schema_migrations (version, name, sha-less length check of
 * the text), under an advisory lock so two migrators never race. Applying
 * twice changes nothing. A recorded migration whose text changed since is an
 * error: migrations are append-only.
 */
#ifndef AY_MIGRATE_H
#define AY_MIGRATE_H

#include <stddef.h>

#include "ay_err.h"

struct ay_pg;

struct ay_migration {
    int version;
    const char *name; /* file name */
    const char *sql;
    size_t len;
};

extern const struct ay_migration ay_migrations[];
extern const size_t ay_migrations_count;

/* Applies the missing migrations. *applied (may be NULL) gets how many ran;
 * *version (may be NULL) the schema version afterwards. */
enum ay_err ay_migrate_apply(struct ay_pg *db, int *applied, int *version, char err[AY_ERRLEN]);

/* The highest applied version (0 for an empty database). */
enum ay_err ay_migrate_version(struct ay_pg *db, int *version, char err[AY_ERRLEN]);

/* The highest version this binary knows. */
int ay_migrate_latest(void);

#endif
