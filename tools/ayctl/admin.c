/*
 * ayctl migrate / registry: database administration through lib/ay_pg.
 * `registry set-school` and `set-device` record what the police alarm feed
 * tells a dispatcher (domain.md rule 1): a school's address and duty phone,
 * where a button is (in words and as a position), the shop or home it is
 * in, and its heartbeat interval. Every change reaches the running feed by
 * NOTIFY ay_registry (db/migrations/0005).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "ay_migrate.h"
#include "ay_pg.h"
#include "ay_schema.h"
#include "ay_text.h"
#include "ayctl.h"

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
    rc = ayctl_db_connect(cfg, &db, err);
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

/* An option of a set command: it fills parameter params[param] ($1 is the id). */
struct set_opt {
    const char *flag;
    int param;
    size_t max_len; /* text: longest value in bytes; 0: checked by set_value */
};

struct registry_set {
    const char *name;
    const char *what;
    const char *sql; /* a NULL parameter keeps the column's value */
    int nparams;
    const char *usage;
    struct set_opt opts[4];
};

static const struct registry_set registry_sets[] = {
    {"set-school",
     "school",
     "UPDATE schools SET address = coalesce($2, address), phone = coalesce($3, phone) "
     "WHERE id = $1 RETURNING id",
     3,
     "set-school SCHOOL [--address TEXT] [--phone PHONE]",
     {{"--address", 1, AY_SCHEMA_TEXT_MAX}, {"--phone", 2, AY_SCHEMA_SHORT_MAX}}},
    {"set-device",
     "device",
     "UPDATE devices SET location = coalesce($2, location), "
     "latitude = coalesce($3::double precision, latitude), "
     "longitude = coalesce($4::double precision, longitude), "
     "place_name = coalesce($5, place_name), heartbeat_s = coalesce($6::integer, heartbeat_s) "
     "WHERE id = $1 RETURNING id",
     6,
     "set-device DEVICE [--location TEXT] [--geo LAT,LON] [--place NAME] [--heartbeat SECONDS]",
     {{"--location", 1, AY_SCHEMA_SHORT_MAX},
      {"--geo", 2, 0},
      {"--place", 4, AY_SCHEMA_SHORT_MAX},
      {"--heartbeat", 5, 0}}},
};

#define SET_PARAMS 6

/* Checks one option's value into params (geo: two of them, in geo[]). */
static bool set_value(const struct set_opt *o, const char *v, const char *params[SET_PARAMS],
                      char geo[2][32])
{
    char *end = NULL;

    if (o->max_len > 0) {
        if (strlen(v) > o->max_len || !ay_text_utf8_is_valid(v, strlen(v))) {
            ayctl_fail("%s: at most %zu bytes of UTF-8", o->flag, o->max_len);
            return false;
        }
        params[o->param] = v;
        return true;
    }
    if (strcmp(o->flag, "--heartbeat") == 0) {
        errno = 0;
        long s = strtol(v, &end, 10);
        /* The range of devices.heartbeat_s (db/migrations/0005). */
        if (*v == '\0' || *end != '\0' || errno != 0 || s < 5 || s > 86400) {
            ayctl_fail("--heartbeat: seconds from 5 to 86400, got \"%s\"", v);
            return false;
        }
        params[o->param] = v;
        return true;
    }
    errno = 0;
    double lat = strtod(v, &end);
    const char *lon_text = end;
    double lon = *end == ',' ? strtod(end + 1, &end) : 0.0;
    /* The contract's rule for a position (docs/contract.md 4.4). */
    if (*v == '\0' || *lon_text != ',' || *end != '\0' || errno != 0 ||
        !(lat >= -90.0 && lat <= 90.0) || !(lon >= -180.0 && lon <= 180.0) ||
        (lat == 0.0 && lon == 0.0)) {
        ayctl_fail("--geo: LAT,LON in WGS 84 degrees (e.g. 31.8206,117.2272), got \"%s\"", v);
        return false;
    }
    snprintf(geo[0], sizeof(geo[0]), "%.9g", lat);
    snprintf(geo[1], sizeof(geo[1]), "%.9g", lon);
    params[o->param] = geo[0];
    params[o->param + 1] = geo[1];
    return true;
}

static int registry_set(const struct ayctl_config *cfg, const struct registry_set *cmd, int argc,
                        char **argv)
{
    char err[AY_ERRLEN] = "";
    char geo[2][32];
    const char *params[SET_PARAMS] = {NULL};
    struct ay_pg *db = NULL;
    struct ay_pg_result *r = NULL;

    if (argc < 3 || !ay_schema_id_is_valid(argv[2])) {
        ayctl_fail("usage: ayctl registry %s", cmd->usage);
        return AYCTL_EXIT_USAGE;
    }
    params[0] = argv[2];
    for (int i = 3; i < argc; i++) {
        const struct set_opt *o = NULL;
        for (size_t k = 0; k < sizeof(cmd->opts) / sizeof(cmd->opts[0]); k++)
            if (cmd->opts[k].flag && strcmp(argv[i], cmd->opts[k].flag) == 0)
                o = &cmd->opts[k];
        if (o == NULL || i + 1 >= argc) {
            ayctl_fail("usage: ayctl registry %s", cmd->usage);
            return AYCTL_EXIT_USAGE;
        }
        if (!set_value(o, argv[++i], params, geo))
            return AYCTL_EXIT_USAGE;
    }
    enum ay_err rc = ayctl_db_connect(cfg, &db, err);
    if (rc == AY_OK)
        rc = ay_pg_exec(db, cmd->sql, cmd->nparams, params, &r, err);
    int rows = rc == AY_OK ? ay_pg_nrows(r) : 0;
    ay_pg_result_free(r);
    ay_pg_free(db);
    if (rc != AY_OK) {
        ayctl_fail("%s", err);
        return AYCTL_EXIT_FAILURE;
    }
    if (rows == 0) {
        ayctl_fail("no %s \"%s\" in the registry (add it first)", cmd->what, argv[2]);
        return AYCTL_EXIT_FAILURE;
    }
    return AYCTL_EXIT_OK;
}

int ayctl_registry(const struct ayctl_config *cfg, int argc, char **argv)
{
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    const struct registry_cmd *cmd = NULL;
    const char *params[4] = {NULL, NULL, NULL, NULL};

    for (size_t i = 0; argc > 1 && i < sizeof(registry_sets) / sizeof(registry_sets[0]); i++)
        if (strcmp(argv[1], registry_sets[i].name) == 0)
            return registry_set(cfg, &registry_sets[i], argc, argv);
    for (size_t i = 0; argc > 1 && i < sizeof(registry_cmds) / sizeof(registry_cmds[0]); i++)
        if (strcmp(argv[1], registry_cmds[i].name) == 0)
            cmd = &registry_cmds[i];
    int nargs = argc - 2;
    if (cmd == NULL || nargs < cmd->min_args || nargs > cmd->max_args) {
        ayctl_fail("usage: ayctl registry %s",
                   cmd ? cmd->usage
                       : "add-district|add-school|add-device|set-school|set-device ...");
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
    enum ay_err rc = ayctl_db_connect(cfg, &db, err);
    if (rc == AY_OK)
        rc = ay_pg_exec(db, cmd->sql, cmd->max_args, params, NULL, err);
    ay_pg_free(db);
    if (rc != AY_OK) {
        ayctl_fail("%s", err);
        return AYCTL_EXIT_FAILURE;
    }
    return AYCTL_EXIT_OK;
}
