/*
 * ayctl compliance: the compliance table of a district for a month, one
 * row per school: incident reports (verbal notice, written, final) and
 * periodic reports (monthly safety report, risk report, hazard
 * self-inspection) on time, late or missing; hazards open, overdue, closed,
 * major; alarms real, test, false; escalations acknowledged in time, late
 * or never. As an aligned table for a terminal, or --csv for a spreadsheet.
 *
 * Enforces for people domain.md rules 2-4 ("the system must make lateness
 * visible", 迟报、漏报; hazards as a closed loop; periodic reports) and 7
 * (台账). The numbers are those of the SQL function ay_compliance()
 * (db/migrations/0008_compliance.sql, where each column is defined), so
 * the command and SQL always agree; this file only checks the arguments
 * and formats (compliance_text.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_schema.h"
#include "ayctl.h"
#include "compliance_text.h"

/* $1 district: its names and zone (none: not registered). */
static const char sql_district[] = "SELECT name_zh, name_en, ay_district_timezone(id) "
                                   "FROM districts WHERE id = $1";
/* $1 district, $2 the first day of the month. */
static const char sql_compliance[] = "SELECT * FROM ay_compliance($1, $2::date)";

#define FIXED_COLS 3 /* school_id, name_zh, name_en */

struct compliance_args {
    const char *district;
    const char *month;
    const char *lang;
    bool csv;
    int year;
    int mon;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints what is wrong with the arguments and the usage; the exit code. */
static int usage_error(const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    ayctl_fail("compliance: %s (usage: ayctl compliance [--district D] --month YYYY-MM [--csv] "
               "[--lang en])",
               what);
    return AYCTL_EXIT_USAGE;
}

static int parse_args(const struct ayctl_config *cfg, int argc, char **argv,
                      struct compliance_args *a)
{
    memset(a, 0, sizeof(*a));
    a->district = cfg->common.district;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--district") == 0 && i + 1 < argc)
            a->district = argv[++i];
        else if (strcmp(argv[i], "--month") == 0 && i + 1 < argc)
            a->month = argv[++i];
        else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
            a->lang = argv[++i];
        else if (strcmp(argv[i], "--csv") == 0)
            a->csv = true;
        else
            return usage_error("unexpected argument \"%s\"", argv[i]);
    }
    if (a->month == NULL)
        return usage_error("--month is required");
    if (!ayctl_month_parse(a->month, &a->year, &a->mon))
        return usage_error("invalid month \"%s\": expected YYYY-MM, e.g. 2026-11", a->month);
    if (!ay_schema_id_is_valid(a->district))
        return usage_error("invalid district id \"%s\"", a->district ? a->district : "");
    return AYCTL_EXIT_OK;
}

/* The rows of sql_compliance as borrowed views of r; false (err written)
 * when a cell is not what ay_compliance() returns. */
static bool read_rows(const struct ay_pg_result *r, struct ayctl_compliance_row *rows,
                      char err[AY_ERRLEN])
{
    if (ay_pg_ncols(r) != FIXED_COLS + AYCTL_COMPLIANCE_NCOUNTS) {
        ay_errf(err, "ay_compliance() returned %d columns, expected %d (is the database migrated?)",
                ay_pg_ncols(r), FIXED_COLS + AYCTL_COMPLIANCE_NCOUNTS);
        return false;
    }
    for (int i = 0; i < ay_pg_nrows(r); i++) {
        rows[i].school_id = ay_pg_value(r, i, 0);
        rows[i].name_zh = ay_pg_value(r, i, 1);
        rows[i].name_en = ay_pg_value(r, i, 2);
        for (int c = 0; c < AYCTL_COMPLIANCE_NCOUNTS; c++) {
            int64_t v = 0;
            if (!ay_pg_int64(r, i, FIXED_COLS + c, &v)) {
                ay_errf(err, "ay_compliance(): column %d of %s is not a number", FIXED_COLS + c + 1,
                        rows[i].school_id);
                return false;
            }
            rows[i].counts[c] = (long long)v;
        }
    }
    return true;
}

int ayctl_compliance(const struct ayctl_config *cfg, int argc, char **argv)
{
    struct compliance_args a;
    char err[AY_ERRLEN] = "";
    char first_day[16];
    struct ay_pg *db = NULL;
    struct ay_pg_result *dr = NULL;
    struct ay_pg_result *r = NULL;
    struct ayctl_compliance_row *rows = NULL;
    char *text = NULL;
    int code = parse_args(cfg, argc, argv, &a);

    if (code != AYCTL_EXIT_OK)
        return code;
    enum ay_lang lang = ay_lang_parse(a.lang);
    snprintf(first_day, sizeof(first_day), "%04d-%02d-01", a.year, a.mon);
    const char *dparams[1] = {a.district};
    const char *params[2] = {a.district, first_day};
    enum ay_err rc = ayctl_db_connect(cfg, &db, err);
    if (rc == AY_OK)
        rc = ay_pg_exec(db, sql_district, 1, dparams, &dr, err);
    if (rc == AY_OK && ay_pg_nrows(dr) == 0) {
        ayctl_fail("compliance: district \"%s\" is not registered", a.district);
        code = AYCTL_EXIT_USAGE;
        goto cleanup;
    }
    if (rc == AY_OK)
        rc = ay_pg_exec(db, sql_compliance, 2, params, &r, err);
    if (rc != AY_OK) {
        ayctl_fail("compliance: %s", err);
        code = rc == AY_ERR_CONFIG ? AYCTL_EXIT_USAGE : AYCTL_EXIT_FAILURE;
        goto cleanup;
    }
    size_t n = (size_t)ay_pg_nrows(r);
    rows = calloc(n + 1, sizeof(*rows));
    if (rows == NULL || !read_rows(r, rows, err)) {
        ayctl_fail("compliance: %s", rows == NULL ? "out of memory" : err);
        code = AYCTL_EXIT_FAILURE;
        goto cleanup;
    }
    if (a.csv) {
        text = ayctl_compliance_csv(rows, n, lang);
    } else {
        struct ayctl_compliance_title t = {
            a.district, ay_pg_value(dr, 0, 0), ay_pg_value(dr, 0, 1), a.year,
            a.mon,      ay_pg_value(dr, 0, 2)};
        text = ayctl_compliance_table(rows, n, &t, lang);
    }
    if (text == NULL) {
        ayctl_fail("compliance: out of memory");
        code = AYCTL_EXIT_FAILURE;
        goto cleanup;
    }
    fputs(text, stdout);
    if (fflush(stdout) != 0) {
        ayctl_fail("compliance: could not write the table");
        code = AYCTL_EXIT_FAILURE;
    }
cleanup:
    free(text);
    free(rows);
    ay_pg_result_free(r);
    ay_pg_result_free(dr);
    ay_pg_free(db);
    return code;
}
