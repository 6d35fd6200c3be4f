/*
 * ayctl migrate / registry: database administration through lib/ay_pg.
 */
#include <stdio.h>
#include <string.h>

#include "ay_log.h"
#include "ay_migrate.h"
#include "ay_pg.h"
#include "ay_schema.h"
#include "ayctl.h"

static enum ay_err connect_db(const struct ayctl_config *cfg, struct ay_pg **out,
                              char err[AY_ERRLEN])
{
    struct ay_pg *db = NULL;
    enum ay_err rc = ay_pg_new(cfg->common.database_url, 60000, &db, err);
    if (rc == AY_OK)
        rc = ay_pg_connect(db, err);
    if (rc != AY_OK) {
        ay_pg_free(db);
        return rc;
    }
    *out = db;
    return AY_OK;
}

int ayctl_migrate(const struct ayctl_config *cfg, int argc, char **argv)
{
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    int applied = 0;
    int version = 0;
    bool status_only = argc > 1 && strcmp(argv[1], "--status") == 0;
    enum ay_err rc;

    if (argc > 2 || (argc == 2 && !status_only)) {
        ayctl_fail("usage: ayctl migrate [--status]");
        return AYCTL_EXIT_USAGE;
    }
    rc = connect_db(cfg, &db, err);
    if (rc == AY_OK)
        rc = status_only ? ay_migrate_version(db, &version, err)
                         : ay_migrate_apply(db, &applied, &version, err);
    if (rc != AY_OK) {
        ayctl_fail("%s", err);
        ay_pg_free(db);
        return AYCTL_EXIT_FAILURE;
    }
    if (status_only)
        printf("schema version %d of %d\n", version, ay_migrate_latest());
    else
        printf("schema version %d of %d (%d migration%s applied now)\n", version,
               ay_migrate_latest(), applied, applied == 1 ? "" : "s");
    ay_pg_free(db);
    return version == ay_migrate_latest() || !status_only ? AYCTL_EXIT_OK : AYCTL_EXIT_FAILURE;
}

struct registry_cmd {
    const char *name;
    int min_args;
    int max_args;
    const char *sql;
    const char *usage;
};

/* Idempotent: registering what exists updates it. */
static const struct registry_cmd registry_cmds[] = {
    {"add-district", 1, 3,
     "INSERT INTO districts (id, name_zh, name_en) VALUES ($1, coalesce($2, ''), coalesce($3, '')) "
     "ON CONFLICT (id) DO UPDATE SET name_zh = coalesce($2, districts.name_zh), "
     "name_en = coalesce($3, districts.name_en)",
     "add-district DISTRICT [NAME_ZH [NAME_EN]]"},
    {"add-school", 2, 4,
     "INSERT INTO schools (district_id, id, name_zh, name_en) VALUES ($1, $2, coalesce($3, ''), "
     "coalesce($4, '')) ON CONFLICT (id) DO UPDATE SET name_zh = coalesce($3, schools.name_zh), "
     "name_en = coalesce($4, schools.name_en) WHERE schools.district_id = $1",
     "add-school DISTRICT SCHOOL [NAME_ZH [NAME_EN]]"},
    {"add-device", 2, 3,
     "INSERT INTO devices (school_id, id, kind) VALUES ($1, $2, coalesce($3, 'button')) "
     "ON CONFLICT (id) DO UPDATE SET kind = coalesce($3, devices.kind) "
     "WHERE devices.school_id = $1",
     "add-device SCHOOL DEVICE [button|panel|app|nearby_shop|nearby_home|gateway]"},
};

int ayctl_registry(const struct ayctl_config *cfg, int argc, char **argv)
{
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    const struct registry_cmd *cmd = NULL;
    const char *params[4] = {NULL, NULL, NULL, NULL};

    for (size_t i = 0; argc > 1 && i < sizeof(registry_cmds) / sizeof(registry_cmds[0]); i++)
        if (strcmp(argv[1], registry_cmds[i].name) == 0)
            cmd = &registry_cmds[i];
    int nargs = argc - 2;
    if (cmd == NULL || nargs < cmd->min_args || nargs > cmd->max_args) {
        ayctl_fail("usage: ayctl registry %s",
                   cmd ? cmd->usage : "add-district|add-school|add-device ...");
        return AYCTL_EXIT_USAGE;
    }
    for (int i = 0; i < nargs; i++)
        params[i] = argv[2 + i];
    for (int i = 0; i < cmd->min_args; i++) {
        if (!ay_schema_id_is_valid(params[i])) {
            ayctl_fail("invalid id \"%s\": 1 to 32 characters of a-z, 0-9 and -", params[i]);
            return AYCTL_EXIT_USAGE;
        }
    }
    enum ay_err rc = connect_db(cfg, &db, err);
    if (rc == AY_OK)
        rc = ay_pg_exec(db, cmd->sql, cmd->max_args, params, NULL, err);
    ay_pg_free(db);
    if (rc != AY_OK) {
        ayctl_fail("%s", err);
        return AYCTL_EXIT_FAILURE;
    }
    return AYCTL_EXIT_OK;
}
