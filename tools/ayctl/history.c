/*
 * ayctl history ID: everything the backbone knows about one incident,
 * alarm, hazard or escalation (ID is any of these ids), merged in time
 * order, one line each: the messages about it (its first message, the
 * reports, cancels and hazard updates naming it, a notice naming an alarm),
 * its deadlines and those of its escalations, its escalations, and every
 * audit_events row of it, of its escalations and of those deadlines.
 *
 * Enforces for people domain.md rule 7 (痕迹管理: everything leaves a trace
 * and can be audited). Times are local time of the district's zone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_schema.h"
#include "ayctl.h"
#include "people_text.h"

/*
 * $1: the id. Columns: 0 source (0 message, 1 deadline, 2 escalation,
 * 3 audit; also the order of events at the same instant), 1 at (UTC us),
 * 2 id, 3 type, 4 status, 5 who, 6 reason, 7 detail, 8 due (UTC us),
 * 9 late_s, 10 level, 11 district, 12 order within the source (deadline and
 * audit ids). A deadline is placed at its creation.
 */
static const char sql_history[] =
    "WITH escs AS (SELECT id FROM escalations WHERE id = $1::uuid OR subject_id = $1::uuid), "
    "dls AS (SELECT id FROM deadlines WHERE subject_id = $1::uuid "
    "OR subject_id IN (SELECT id FROM escs)) "
    "SELECT * FROM ("
    "SELECT 0 AS src, (extract(epoch FROM m.received_at) * 1000000)::bigint AS at_us, "
    "m.message_id::text, m.kind, '', m.device_id, '', '', 0::bigint, 0::bigint, 0, "
    "m.district_id, m.id AS seq "
    "FROM messages m WHERE m.message_id = $1::uuid "
    "OR m.message_id IN (SELECT message_id FROM incident_reports WHERE incident_id = $1::uuid) "
    "OR m.message_id IN (SELECT message_id FROM alarm_cancels WHERE alarm_id = $1::uuid) "
    "OR m.message_id IN (SELECT message_id FROM hazard_events WHERE hazard_id = $1::uuid) "
    "OR (m.kind = 'notice' AND lower(m.body->>'alarmId') = $1::uuid::text) "
    "UNION ALL "
    "SELECT 1, (extract(epoch FROM d.created_at) * 1000000)::bigint, d.id::text, d.kind, "
    "d.status, '', '', '', (extract(epoch FROM d.due_at) * 1000000)::bigint, "
    "coalesce(d.late_s, 0), 0, d.district_id, d.id "
    "FROM deadlines d WHERE d.id IN (SELECT id FROM dls) "
    "UNION ALL "
    "SELECT 2, (extract(epoch FROM e.created_at) * 1000000)::bigint, e.id::text, e.audience, "
    "e.status, '', e.reason, '', 0, 0, e.level, e.district_id, 0 "
    "FROM escalations e WHERE e.id IN (SELECT id FROM escs) "
    "UNION ALL "
    "SELECT 3, (extract(epoch FROM a.at) * 1000000)::bigint, '', a.action, '', a.actor, '', "
    "a.detail::text, 0, 0, 0, a.district_id, a.id "
    "FROM audit_events a WHERE a.subject_id = $1::uuid "
    "OR a.escalation_id IN (SELECT id FROM escs) OR a.deadline_id IN (SELECT id FROM dls)"
    ") h ORDER BY at_us, src, seq";

/* The event of result row i. */
static void row_of(const struct ay_pg_result *r, int i, struct ayctl_history_row *h)
{
    int64_t src = 0;
    int64_t level = 0;

    memset(h, 0, sizeof(*h));
    (void)ay_pg_int64(r, i, 0, &src);
    h->kind = (enum ayctl_history_kind)src;
    (void)ay_pg_int64(r, i, 1, &h->at_us);
    h->id = ay_pg_value(r, i, 2);
    h->type = ay_pg_value(r, i, 3);
    h->status = ay_pg_value(r, i, 4);
    h->who = ay_pg_value(r, i, 5);
    h->reason = ay_pg_value(r, i, 6);
    h->detail = ay_pg_value(r, i, 7);
    (void)ay_pg_int64(r, i, 8, &h->due_us);
    (void)ay_pg_int64(r, i, 9, &h->late_s);
    (void)ay_pg_int64(r, i, 10, &level);
    h->level = (int)level;
}

/* The district of the events (the first that names one). */
static const char *district_of(const struct ay_pg_result *r)
{
    for (int i = 0; i < ay_pg_nrows(r); i++)
        if (ay_pg_value(r, i, 11)[0] != '\0')
            return ay_pg_value(r, i, 11);
    return NULL;
}

int ayctl_history(const struct ayctl_config *cfg, int argc, char **argv)
{
    const char *id = NULL;
    const char *lang_opt = NULL;
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    struct ay_pg_result *r = NULL;
    struct ay_tz *zone = NULL;
    int code = AYCTL_EXIT_FAILURE;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
            lang_opt = argv[++i];
        } else if (argv[i][0] != '-' && id == NULL) {
            id = argv[i];
        } else {
            ayctl_fail("history: unexpected argument \"%s\" (usage: ayctl history ID [--lang en])",
                       argv[i]);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (id == NULL || !ay_schema_uuid_is_valid(id)) {
        ayctl_fail("usage: ayctl history ID [--lang en], ID the UUID of an incident, alarm, "
                   "hazard or escalation");
        return AYCTL_EXIT_USAGE;
    }
    enum ay_lang lang = ay_lang_parse(lang_opt);
    const char *params[1] = {id};
    enum ay_err rc = ayctl_db_connect(cfg, &db, err);
    if (rc == AY_OK)
        rc = ay_pg_exec(db, sql_history, 1, params, &r, err);
    if (rc == AY_OK && ay_pg_nrows(r) == 0) {
        ay_errf(err, "nothing is known about %s", id);
        rc = AY_ERR_NOTFOUND;
    }
    if (rc == AY_OK)
        rc = ayctl_district_zone(db, district_of(r) ? district_of(r) : cfg->common.district, &zone,
                                 NULL, err);
    if (rc != AY_OK) {
        ayctl_fail("%s", err);
        code = rc == AY_ERR_CONFIG ? AYCTL_EXIT_USAGE : AYCTL_EXIT_FAILURE;
        goto cleanup;
    }
    for (int i = 0; i < ay_pg_nrows(r); i++) {
        struct ayctl_history_row h;
        row_of(r, i, &h);
        char *line = ayctl_history_line(&h, zone, lang);
        if (line == NULL) {
            ayctl_fail("out of memory");
            goto cleanup;
        }
        printf("%s\n", line);
        free(line);
    }
    fflush(stdout);
    code = AYCTL_EXIT_OK;
cleanup:
    ay_pg_result_free(r);
    ay_tz_free(zone);
    ay_pg_free(db);
    return code;
}
