/*
 * ayctl deadlines: the open deadlines of a district, per school, for
 * people: pending ones, and missed ones not met since (with how many
 * minutes late they are now); --all adds those met or cancelled in the
 * last 30 days, with how late they were met.
 *
 * Enforces for people domain.md rule 2: "the system must make lateness
 * visible" (迟报). Reads the deadlines table only; times are local time of
 * the district's zone (its policy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_schema.h"
#include "ay_time.h"
#include "ayctl.h"
#include "people_text.h"

/* $1 district, $2 school ('' for all), $3 also met/cancelled ones of the last 30 days. */
static const char sql_deadlines[] =
    "SELECT d.school_id, coalesce(s.name_zh, ''), coalesce(s.name_en, ''), d.kind, "
    "d.subject_kind, d.subject_id::text, (extract(epoch FROM d.due_at) * 1000000)::bigint, "
    "d.status, coalesce(d.late_s, 0) "
    "FROM deadlines d LEFT JOIN schools s ON s.id = d.school_id "
    "WHERE d.district_id = $1 AND ($2::text = '' OR d.school_id = $2::text) "
    "AND (d.status IN ('pending', 'missed') "
    "OR ($3::boolean AND d.status IN ('met', 'cancelled') "
    "AND coalesce(d.closed_at, d.due_at) > now() - interval '30 days')) "
    "ORDER BY d.school_id, d.due_at, d.id";

struct deadlines_args {
    const char *district;
    const char *school;
    const char *lang;
    bool all;
};

static int parse_args(const struct ayctl_config *cfg, int argc, char **argv,
                      struct deadlines_args *a)
{
    memset(a, 0, sizeof(*a));
    a->district = cfg->common.district;
    a->school = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--district") == 0 && i + 1 < argc)
            a->district = argv[++i];
        else if (strcmp(argv[i], "--school") == 0 && i + 1 < argc)
            a->school = argv[++i];
        else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
            a->lang = argv[++i];
        else if (strcmp(argv[i], "--all") == 0)
            a->all = true;
        else {
            ayctl_fail("deadlines: unexpected argument \"%s\" (usage: ayctl deadlines "
                       "[--district D] [--school S] [--all] [--lang en])",
                       argv[i]);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (!ay_schema_id_is_valid(a->district) ||
        (a->school[0] != '\0' && !ay_schema_id_is_valid(a->school))) {
        ayctl_fail("deadlines: invalid district or school id");
        return AYCTL_EXIT_USAGE;
    }
    return AYCTL_EXIT_OK;
}

/* Prints the rows, a heading before each school's; false when out of memory. */
static bool print_rows(const struct ay_pg_result *r, const struct ay_tz *z, enum ay_lang lang)
{
    int64_t now = ay_time_now_us();
    const char *school = NULL;

    for (int i = 0; i < ay_pg_nrows(r); i++) {
        struct ayctl_deadline_row d = {
            .kind = ay_pg_value(r, i, 3),
            .subject_kind = ay_pg_value(r, i, 4),
            .subject_id = ay_pg_value(r, i, 5),
            .status = ay_pg_value(r, i, 7),
        };
        if (!ay_pg_int64(r, i, 6, &d.due_us) || !ay_pg_int64(r, i, 8, &d.late_s))
            d.due_us = d.late_s = 0;
        if (!ayctl_put_school_heading(stdout, &school, ay_pg_value(r, i, 0), ay_pg_value(r, i, 1),
                                      ay_pg_value(r, i, 2), lang))
            return false;
        char *line = ayctl_deadline_line(&d, z, lang, now);
        if (line == NULL)
            return false;
        printf("  %s\n", line);
        free(line);
    }
    return true;
}

int ayctl_deadlines(const struct ayctl_config *cfg, int argc, char **argv)
{
    struct deadlines_args a;
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    struct ay_pg_result *r = NULL;
    struct ay_tz *zone = NULL;
    int code = parse_args(cfg, argc, argv, &a);

    if (code != AYCTL_EXIT_OK)
        return code;
    enum ay_lang lang = ay_lang_parse(a.lang);
    const char *params[3] = {a.district, a.school, a.all ? "true" : "false"};
    enum ay_err rc = ayctl_db_connect(cfg, &db, err);
    if (rc == AY_OK)
        rc = ayctl_district_zone(db, a.district, &zone, NULL, err);
    if (rc == AY_OK)
        rc = ay_pg_exec(db, sql_deadlines, 3, params, &r, err);
    if (rc != AY_OK) {
        ayctl_fail("%s", err);
        code =
            (rc == AY_ERR_NOTFOUND || rc == AY_ERR_CONFIG) ? AYCTL_EXIT_USAGE : AYCTL_EXIT_FAILURE;
        goto cleanup;
    }
    if (ay_pg_nrows(r) == 0)
        printf("%s\n", ayctl_no_deadlines_text(lang));
    else if (!print_rows(r, zone, lang)) {
        ayctl_fail("out of memory");
        code = AYCTL_EXIT_FAILURE;
    }
    fflush(stdout);
cleanup:
    ay_pg_result_free(r);
    ay_tz_free(zone);
    ay_pg_free(db);
    return code;
}
