/*
 * store.c - the registry snapshot from sql/load_*.sql; see store.h.
 */
#include "store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool double_cell(const struct ay_pg_result *r, int row, int col, double *out)
{
    const char *s = ay_pg_value(r, row, col);
    char *end = NULL;

    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || end == NULL || *end != '\0' || errno != 0)
        return false;
    *out = v;
    return true;
}

/* Counts a row refused for its ids; the rest of the snapshot goes on. */
static enum ay_err added(enum ay_err rc, size_t *skipped)
{
    if (rc == AY_ERR_INVALID) {
        (*skipped)++;
        return AY_OK;
    }
    return rc;
}

static enum ay_err load_schools(struct ay_pg *db, struct alarmfeed_load *l, char err[AY_ERRLEN])
{
    struct ay_pg_result *r = NULL;
    enum ay_err rc = ay_pg_exec_prepared(db, "load_schools", 0, NULL, NULL, NULL, &r, err);

    for (int i = 0; rc == AY_OK && i < ay_pg_nrows(r); i++) {
        struct alarmfeed_school_row row = {
            .id = ay_pg_value(r, i, 0),
            .district = ay_pg_value(r, i, 1),
            .name_zh = ay_pg_value(r, i, 2),
            .name_en = ay_pg_value(r, i, 3),
            .address = ay_pg_value(r, i, 4),
            .phone = ay_pg_value(r, i, 5),
        };
        rc = added(alarmfeed_registry_add_school(l->reg, &row), &l->skipped);
    }
    ay_pg_result_free(r);
    return rc;
}

static enum ay_err load_devices(struct ay_pg *db, struct alarmfeed_load *l, char err[AY_ERRLEN])
{
    struct ay_pg_result *r = NULL;
    enum ay_err rc = ay_pg_exec_prepared(db, "load_devices", 0, NULL, NULL, NULL, &r, err);

    for (int i = 0; rc == AY_OK && i < ay_pg_nrows(r); i++) {
        struct alarmfeed_device_row row = {
            .id = ay_pg_value(r, i, 0),
            .school = ay_pg_value(r, i, 1),
            .kind = ay_pg_value(r, i, 2),
            .enabled = strcmp(ay_pg_value(r, i, 3), "t") == 0,
            .location = ay_pg_value(r, i, 4),
            .place_name = ay_pg_value(r, i, 5),
            .has_geo = strcmp(ay_pg_value(r, i, 6), "t") == 0,
        };
        if (!double_cell(r, i, 7, &row.latitude) || !double_cell(r, i, 8, &row.longitude))
            rc = ay_pg_bad_row("load_devices", i, err);
        else
            rc = added(alarmfeed_registry_add_device(l->reg, &row), &l->skipped);
    }
    ay_pg_result_free(r);
    return rc;
}

static enum ay_err load_windows(struct ay_pg *db, struct alarmfeed_load *l, char err[AY_ERRLEN])
{
    struct ay_pg_result *r = NULL;
    enum ay_err rc = ay_pg_exec_prepared(db, "load_test_windows", 0, NULL, NULL, NULL, &r, err);

    for (int i = 0; rc == AY_OK && i < ay_pg_nrows(r); i++) {
        int64_t starts = 0;
        int64_t ends = 0;
        if (!ay_pg_int64(r, i, 1, &starts) || !ay_pg_int64(r, i, 2, &ends))
            rc = ay_pg_bad_row("load_test_windows", i, err);
        else
            rc = added(alarmfeed_registry_add_window(l->reg, ay_pg_value(r, i, 0), starts, ends),
                       &l->skipped);
    }
    ay_pg_result_free(r);
    return rc;
}

/*
 * Three statements in one READ COMMITTED transaction, each with its own
 * snapshot: a change committed between them can make the snapshot
 * inconsistent for a moment (a device whose school is not in it yet). Its
 * NOTIFY reaches the feed after this transaction, and the feed loads again.
 */
enum ay_err alarmfeed_store_load(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct alarmfeed_load *l = arg;
    enum ay_err rc;

    alarmfeed_registry_free(l->reg);
    l->reg = NULL;
    l->skipped = 0;
    if ((rc = alarmfeed_registry_new(&l->reg)) != AY_OK)
        return rc;
    if ((rc = load_schools(db, l, err)) != AY_OK || (rc = load_devices(db, l, err)) != AY_OK ||
        (rc = load_windows(db, l, err)) != AY_OK) {
        alarmfeed_registry_free(l->reg);
        l->reg = NULL;
        return rc;
    }
    alarmfeed_registry_seal(l->reg);
    return AY_OK;
}
