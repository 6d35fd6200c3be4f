/*
 * ayctl policy show|set|import: a district's reporting policy (table
 * policies, one JSON document per district; lib/ay_policy.h).
 *
 * Enforces domain.md rule 2 ("the policy must be configurable per
 * district") without ever storing a policy the services would refuse: the
 * whole resulting document is read with ay_policy_from_json (the code the
 * recorder and the watchdog use) and its time zone loaded with ay_tz_load
 * before anything is written. A change is one transaction: the new
 * document and version in policies and the same in policy_history (rule 7,
 * every version ever set is kept, with who set it). Changes of one district
 * are serialised by an advisory lock, so two `policy set` never lose one
 * another's change.
 * Also owns reading a district's policy and zone for the other commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ay_log.h"
#include "ay_sync.h"
#include "ay_time.h"
#include "ayctl.h"
#include "people_text.h"
#include "policy_edit.h"

/* A policy file larger than this is not a policy (the defaults are ~2 KiB). */
#define POLICY_FILE_MAX (256 * 1024)

static const char sql_read[] =
    "SELECT p.doc::text, p.version, p.updated_by, "
    "(extract(epoch FROM p.updated_at) * 1000000)::bigint "
    "FROM districts d LEFT JOIN policies p ON p.district_id = d.id WHERE d.id = $1";
/* Serialises the changes of one district's policy (until the transaction ends). */
static const char sql_lock[] = "SELECT pg_advisory_xact_lock(hashtext('ay_policy'), hashtext($1))";
static const char sql_store[] =
    "WITH p AS ("
    " INSERT INTO policies (district_id, doc, version, updated_at, updated_by)"
    " VALUES ($1, $2::jsonb, 1, clock_timestamp(), $3)"
    " ON CONFLICT (district_id) DO UPDATE SET doc = excluded.doc,"
    " version = policies.version + 1, updated_at = excluded.updated_at,"
    " updated_by = excluded.updated_by"
    " RETURNING district_id, version, doc, updated_at, updated_by) "
    "INSERT INTO policy_history (district_id, version, doc, set_at, set_by) "
    "SELECT district_id, version, doc, updated_at, updated_by FROM p RETURNING version";

/* ---- reading ------------------------------------------------------------------- */

/* The stored row of a district's policy. */
struct stored {
    bool has_row;
    char *doc; /* NULL without a row */
    int64_t version;
    char by[128];
    int64_t at_us;
};

static void stored_cleanup(struct stored *s)
{
    free(s->doc);
    s->doc = NULL;
}

/* AY_ERR_NOTFOUND when the district is not registered. */
static enum ay_err read_stored(struct ay_pg *db, const char *district, struct stored *out,
                               char err[AY_ERRLEN])
{
    struct ay_pg_result *r = NULL;
    const char *params[1] = {district};
    enum ay_err rc = ay_pg_exec(db, sql_read, 1, params, &r, err);

    if (rc != AY_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    if (ay_pg_nrows(r) == 0) {
        ay_errf(err, "district \"%s\" is not registered (ayctl registry add-district)", district);
        rc = AY_ERR_NOTFOUND;
    } else if (!ay_pg_is_null(r, 0, 0)) {
        out->has_row = true;
        out->doc = strdup(ay_pg_value(r, 0, 0));
        snprintf(out->by, sizeof(out->by), "%s", ay_pg_value(r, 0, 2));
        if (out->doc == NULL || !ay_pg_int64(r, 0, 1, &out->version) ||
            !ay_pg_int64(r, 0, 3, &out->at_us))
            rc = out->doc == NULL ? AY_ERR_NOMEM : AY_ERR_DB;
        if (rc == AY_ERR_DB)
            ay_errf(err, "unexpected policies row of %s", district);
    }
    ay_pg_result_free(r);
    if (rc != AY_OK)
        stored_cleanup(out);
    return rc;
}

static enum ay_err parse_stored(const struct stored *s, const char *district,
                                struct ay_district_policy *out, char err[AY_ERRLEN])
{
    char why[AY_ERRLEN] = "";
    const char *doc = s->doc ? s->doc : "{}";
    if (ay_policy_from_json(doc, strlen(doc), out, why) != AY_OK) {
        ay_errf(err, "the stored policy of %s is invalid: %s", district, why);
        return AY_ERR_INVALID;
    }
    return AY_OK;
}

enum ay_err ayctl_policy_load(struct ay_pg *db, const char *district,
                              struct ay_district_policy *out, bool *stored, char err[AY_ERRLEN])
{
    struct stored s;
    enum ay_err rc = read_stored(db, district, &s, err);

    if (rc != AY_OK)
        return rc;
    rc = parse_stored(&s, district, out, err);
    if (rc == AY_OK)
        *stored = s.has_row;
    stored_cleanup(&s);
    return rc;
}

enum ay_err ayctl_district_zone(struct ay_pg *db, const char *district, struct ay_tz **zone,
                                struct ay_district_policy *p, char err[AY_ERRLEN])
{
    struct ay_district_policy pol;
    char why[AY_ERRLEN] = "";
    bool stored = false;

    ay_policy_defaults(&pol);
    if (db != NULL) {
        enum ay_err rc = ayctl_policy_load(db, district, &pol, &stored, why);
        if (rc == AY_ERR_INVALID) {
            ayctl_fail("warning: %s; showing times in %s", why, AY_TZ_DEFAULT);
            ay_policy_defaults(&pol);
        } else if (rc != AY_OK) {
            ay_errf(err, "%s", why);
            return rc;
        }
    }
    enum ay_err rc = ay_tz_load(pol.timezone, zone, why);
    if (rc != AY_OK) {
        /* China Standard Time, the zone of every district by default. */
        ayctl_fail("warning: %s; showing times in China Standard Time (UTC+8)", why);
        rc = ay_tz_parse_posix("CST-8", zone, err);
        if (rc != AY_OK)
            return rc;
    }
    if (p != NULL)
        *p = pol;
    return AY_OK;
}

/* ---- changing ------------------------------------------------------------------- */

/* One change of a district's policy: a key set to a value, or a whole document. */
struct change {
    const char *district;
    const char *key;   /* set */
    const char *value; /* set */
    const cJSON *doc;  /* import */
    const char *by;    /* policies.updated_by */
    /* Results, rewritten by every attempt of the transaction. */
    char *before;   /* the effective document before (JSON text) */
    char *after;    /* and after */
    bool unchanged; /* the stored document stays as it was */
    int64_t version;
};

static void change_reset(struct change *c)
{
    free(c->before);
    free(c->after);
    c->before = NULL;
    c->after = NULL;
    c->unchanged = false;
    c->version = 0;
}

/* The new stored document: the stored one with the key set, or the file's. */
static enum ay_err new_document(struct change *c, const struct stored *s,
                                const struct ay_district_policy *before, cJSON **out,
                                char err[AY_ERRLEN])
{
    if (c->doc != NULL) {
        *out = cJSON_Duplicate(c->doc, true);
        return *out ? AY_OK : AY_ERR_NOMEM;
    }
    enum ay_err rc = AY_ERR_NOMEM;
    cJSON *doc = cJSON_Parse(s->doc ? s->doc : "{}");
    char *eff_text = ay_policy_to_json(before, false);
    cJSON *eff = eff_text ? cJSON_Parse(eff_text) : NULL;
    cJSON *value = ayctl_policy_value(c->value);

    if (doc != NULL && eff != NULL && value != NULL) {
        rc = cJSON_IsObject(doc) ? ayctl_policy_set_path(doc, eff, c->key, value, err)
                                 : AY_ERR_INVALID;
        if (rc == AY_OK)
            value = NULL;
        else if (!cJSON_IsObject(doc))
            ay_errf(err, "the stored policy of %s is not an object; use policy import",
                    c->district);
    }
    if (rc == AY_OK) {
        *out = doc;
        doc = NULL;
    }
    cJSON_Delete(doc);
    cJSON_Delete(eff);
    cJSON_Delete(value);
    free(eff_text);
    return rc;
}

/* The whole document, as the services will read it, and its zone. */
static enum ay_err validate(const char *text, struct ay_district_policy *out, char err[AY_ERRLEN])
{
    struct ay_tz *z = NULL;
    char why[AY_ERRLEN] = "";
    enum ay_err rc = ay_policy_from_json(text, strlen(text), out, err);

    if (rc != AY_OK)
        return rc;
    rc = ay_tz_load(out->timezone, &z, why);
    ay_tz_free(z);
    if (rc == AY_OK)
        return AY_OK;
    ay_errf(err, "timezone: %s", why);
    return (rc == AY_ERR_NOTFOUND || rc == AY_ERR_INVALID) ? AY_ERR_INVALID : rc;
}

static bool same_document(const char *stored, const cJSON *doc)
{
    cJSON *old = stored ? cJSON_Parse(stored) : NULL;
    bool same = old != NULL && cJSON_Compare(old, doc, true);
    cJSON_Delete(old);
    return same;
}

static enum ay_err store(struct ay_pg *db, struct change *c, const char *text, char err[AY_ERRLEN])
{
    struct ay_pg_result *r = NULL;
    const char *params[3] = {c->district, text, c->by};
    enum ay_err rc = ay_pg_exec(db, sql_store, 3, params, &r, err);

    if (rc == AY_OK && (ay_pg_nrows(r) != 1 || !ay_pg_int64(r, 0, 0, &c->version))) {
        ay_errf(err, "storing the policy of %s returned no version", c->district);
        rc = AY_ERR_DB;
    }
    ay_pg_result_free(r);
    return rc;
}

/* The transaction (ay_pg_tx_fn): lock, read, change, validate, store. */
static enum ay_err change_tx(struct ay_pg *db, void *arg, char err[AY_ERRLEN])
{
    struct change *c = arg;
    const char *params[1] = {c->district};
    struct stored s = {.doc = NULL};
    struct ay_district_policy before;
    struct ay_district_policy after;
    cJSON *doc = NULL;
    char *text = NULL;
    char why[AY_ERRLEN] = "";
    enum ay_err rc;

    change_reset(c);
    if ((rc = ay_pg_exec(db, sql_lock, 1, params, NULL, err)) != AY_OK ||
        (rc = read_stored(db, c->district, &s, err)) != AY_OK)
        goto cleanup;
    /* A stored document the services refuse (written behind ayctl's back):
     * the defaults stand for it in what changed (the services fall back to
     * them). `set` still edits it, so the result is refused, naming the bad
     * key, until that key is set right too; `import` replaces it. */
    if (parse_stored(&s, c->district, &before, why) != AY_OK) {
        ayctl_fail("warning: %s", why);
        ay_policy_defaults(&before);
    }
    if ((rc = new_document(c, &s, &before, &doc, err)) != AY_OK)
        goto cleanup;
    rc = AY_ERR_NOMEM;
    if ((text = cJSON_PrintUnformatted(doc)) == NULL)
        goto cleanup;
    if ((rc = validate(text, &after, err)) != AY_OK)
        goto cleanup;
    rc = AY_ERR_NOMEM;
    c->before = ay_policy_to_json(&before, false);
    c->after = ay_policy_to_json(&after, false);
    if (c->before == NULL || c->after == NULL)
        goto cleanup;
    rc = AY_OK;
    c->unchanged = same_document(s.doc, doc);
    if (c->unchanged)
        c->version = s.version;
    else
        rc = store(db, c, text, err);
cleanup:
    stored_cleanup(&s);
    cJSON_Delete(doc);
    free(text);
    return rc;
}

/* Prints what changed (stderr), line by line. */
static void tell_changes(const struct change *c)
{
    cJSON *b = cJSON_Parse(c->before);
    cJSON *a = cJSON_Parse(c->after);
    char *diff = (a && b) ? ayctl_policy_diff(b, a) : NULL;

    if (diff == NULL)
        ayctl_fail("warning: cannot show what changed (out of memory)");
    else if (diff[0] == '\0')
        fprintf(stderr, "the effective policy is the same\n");
    else
        fputs(diff, stderr);
    free(diff);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static int run_change(const struct ayctl_config *cfg, struct change *c)
{
    char err[AY_ERRLEN] = "";
    char by[128];
    struct ay_pg *db = NULL;
    struct ay_pg_tx_opts o = {.what = "change policy",
                              .deadline_us = ay_mono_deadline_us((int)cfg->timeout_ms),
                              .stop_grace_ms = 0};

    ayctl_who(cfg, by, sizeof(by));
    c->by = by;
    enum ay_err rc = ayctl_db_connect(cfg, &db, err);
    if (rc == AY_OK)
        rc = ay_pg_tx(db, &o, change_tx, c, err);
    ay_pg_free(db);
    if (rc == AY_ERR_INVALID) {
        ayctl_fail("invalid policy for %s: %s (nothing stored)", c->district, err);
        return AYCTL_EXIT_USAGE;
    }
    if (rc == AY_ERR_NOTFOUND || rc == AY_ERR_CONFIG) {
        ayctl_fail("%s", err);
        return AYCTL_EXIT_USAGE;
    }
    if (rc != AY_OK) {
        ayctl_fail("could not store the policy of %s: %s", c->district,
                   err[0] ? err : ay_strerror(rc));
        return AYCTL_EXIT_FAILURE;
    }
    if (c->unchanged) {
        fprintf(stderr, "policy of %s: no change (version %lld stays)\n", c->district,
                (long long)c->version);
        return AYCTL_EXIT_OK;
    }
    tell_changes(c);
    fprintf(stderr, "policy of %s: version %lld stored, set by %s\n", c->district,
            (long long)c->version, by);
    return AYCTL_EXIT_OK;
}

/* ---- commands ------------------------------------------------------------------- */

static int show(const struct ayctl_config *cfg, const char *district)
{
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    struct stored s = {.doc = NULL};
    struct ay_district_policy p;
    char *json = NULL;
    int code = AYCTL_EXIT_FAILURE;

    enum ay_err rc = ayctl_db_connect(cfg, &db, err);
    if (rc == AY_OK)
        rc = read_stored(db, district, &s, err);
    if (rc == AY_OK)
        rc = parse_stored(&s, district, &p, err);
    if (rc != AY_OK) {
        ayctl_fail("%s", err);
        code =
            (rc == AY_ERR_NOTFOUND || rc == AY_ERR_CONFIG) ? AYCTL_EXIT_USAGE : AYCTL_EXIT_FAILURE;
        goto cleanup;
    }
    json = ay_policy_to_json(&p, true);
    if (json == NULL)
        goto cleanup;
    printf("%s\n", json);
    fflush(stdout);
    if (!s.has_row) {
        fprintf(stderr, "district %s has no stored policy: these are the defaults\n", district);
    } else {
        struct ay_tz *z = NULL;
        char when[32] = "";
        if (ay_tz_load(p.timezone, &z, err) == AY_OK)
            ayctl_local_time(z, s.at_us, false, when, sizeof(when));
        ay_tz_free(z);
        fprintf(stderr, "policy of %s: version %lld, set %s by %s\n", district,
                (long long)s.version, when, s.by[0] ? s.by : "?");
    }
    code = AYCTL_EXIT_OK;
cleanup:
    free(json);
    stored_cleanup(&s);
    ay_pg_free(db);
    return code;
}

static int import(const struct ayctl_config *cfg, const char *district, const char *path)
{
    char err[AY_ERRLEN] = "";
    char *text = NULL;
    size_t len = 0;
    struct change c = {.district = district};

    enum ay_err rc = ayctl_read_all(path, POLICY_FILE_MAX, &text, &len, err);
    if (rc != AY_OK) {
        ayctl_fail("%s", err);
        return ayctl_exit_code(rc);
    }
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    if (doc == NULL) {
        ayctl_fail("invalid policy for %s: %s: not valid JSON (nothing stored)", district, path);
        return AYCTL_EXIT_USAGE;
    }
    c.doc = doc;
    int code = run_change(cfg, &c);
    change_reset(&c);
    cJSON_Delete(doc);
    return code;
}

static const char policy_usage[] =
    "usage: ayctl policy show [--district D] | set KEY VALUE [--district D] | "
    "import FILE|- [--district D]";

int ayctl_policy(const struct ayctl_config *cfg, int argc, char **argv)
{
    const char *district = cfg->common.district;
    const char *pos[4] = {NULL, NULL, NULL, NULL};
    int npos = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--district") == 0 && i + 1 < argc) {
            district = argv[++i];
        } else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0 || npos == 2) && npos < 3) {
            /* The VALUE of set may start with '-' ("-1" is refused later,
             * with the key named). */
            pos[npos++] = argv[i];
        } else {
            ayctl_fail("policy: unexpected argument \"%s\" (%s)", argv[i], policy_usage);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (district == NULL || district[0] == '\0') {
        ayctl_fail("policy: no district (--district D, or district in the configuration)");
        return AYCTL_EXIT_USAGE;
    }
    if (npos == 1 && strcmp(pos[0], "show") == 0)
        return show(cfg, district);
    if (npos == 2 && strcmp(pos[0], "import") == 0)
        return import(cfg, district, pos[1]);
    if (npos == 3 && strcmp(pos[0], "set") == 0) {
        struct change c = {.district = district, .key = pos[1], .value = pos[2]};
        int code = run_change(cfg, &c);
        change_reset(&c);
        return code;
    }
    ayctl_fail("%s", policy_usage);
    return AYCTL_EXIT_USAGE;
}
