/*
 * ayctl device_admin.c - a registered device's life after `device add`:
 * list, show, disable, enable, rotate (a new secret), remove.
 *
 * Each change is the registry row and the broker account together, in the
 * order that never leaves a device more able than the operator wants:
 * the row is changed in an open transaction, then the broker, then the
 * transaction commits. The broker acts at once: dynsec 2.0.11 closes every
 * connection of an account that is disabled, deleted or given a new
 * password (docs/broker.md "Accounts"), and refuses its next CONNECT; the
 * row's `enabled` makes the recorder refuse what it would still send and
 * the police feed and watchdog forget it (NOTIFY ay_registry on commit).
 * If the commit fails after the broker changed: a disable or remove stays
 * in force on the broker (say so; running it again completes it), an
 * enable is taken back, a rotate's new secret is printed all the same (the
 * old one no longer works).
 *
 * Rules of shared/domain.md: 7 (an audit row per change).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ay_json.h"
#include "device.h"

/* ---- the registry row ------------------------------------------------------------ */

struct row {
    bool found;
    char district[AY_ID_MAX];
    bool enabled;
    bool removed;
    char issued[40]; /* secret_issued_at, RFC 3339 UTC, or "" */
    struct ayctl_device_spec d;
};

static const char row_sql[] =
    "SELECT d.school_id, s.district_id, d.kind, d.enabled, d.removed_at IS NOT NULL, d.location, "
    "d.place_name, d.heartbeat_s, d.latitude IS NOT NULL AND d.longitude IS NOT NULL, "
    "coalesce(d.latitude, 0)::text, coalesce(d.longitude, 0)::text, "
    "coalesce(to_char(d.secret_issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "'') "
    "FROM devices d JOIN schools s ON s.id = d.school_id WHERE d.id = $1";

/* Reads device id's row (locked FOR UPDATE when lock). */
static enum ay_err row_load(struct ay_pg *db, const char *id, bool lock, struct row *w,
                            char err[AY_ERRLEN])
{
    char sql[sizeof(row_sql) + 32];
    struct ay_pg_result *r = NULL;
    const char *p[] = {id};

    snprintf(sql, sizeof(sql), "%s%s", row_sql, lock ? " FOR UPDATE OF d" : "");
    memset(w, 0, sizeof(*w));
    ayctl_device_spec_init(&w->d);
    snprintf(w->d.id, sizeof(w->d.id), "%s", id);
    enum ay_err rc = ay_pg_exec(db, sql, 1, p, &r, err);
    if (rc == AY_OK && ay_pg_nrows(r) == 1) {
        int64_t hb = 60;
        w->found = true;
        snprintf(w->d.school, sizeof(w->d.school), "%s", ay_pg_value(r, 0, 0));
        snprintf(w->district, sizeof(w->district), "%s", ay_pg_value(r, 0, 1));
        snprintf(w->d.kind, sizeof(w->d.kind), "%s", ay_pg_value(r, 0, 2));
        w->enabled = strcmp(ay_pg_value(r, 0, 3), "t") == 0;
        w->removed = strcmp(ay_pg_value(r, 0, 4), "t") == 0;
        snprintf(w->d.location, sizeof(w->d.location), "%s", ay_pg_value(r, 0, 5));
        snprintf(w->d.place, sizeof(w->d.place), "%s", ay_pg_value(r, 0, 6));
        (void)ay_pg_int64(r, 0, 7, &hb);
        w->d.heartbeat_s = (int)hb;
        w->d.has_geo = strcmp(ay_pg_value(r, 0, 8), "t") == 0;
        w->d.latitude = strtod(ay_pg_value(r, 0, 9), NULL);
        w->d.longitude = strtod(ay_pg_value(r, 0, 10), NULL);
        snprintf(w->issued, sizeof(w->issued), "%s", ay_pg_value(r, 0, 11));
    }
    ay_pg_result_free(r);
    return rc;
}

/* ---- the broker account -------------------------------------------------------------- */

struct account {
    bool found;
    bool disabled;
    char client_id[AY_ID_MAX + 8];
    size_t nroles;
    char roles[8][AY_DYNSEC_NAME_MAX];
};

/* Reads a "client" object of getClient or listClients (verbose). */
static void account_from_json(const cJSON *c, struct account *a)
{
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(c, "roles");
    const cJSON *r = NULL;

    memset(a, 0, sizeof(*a));
    a->found = true;
    a->disabled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "disabled"));
    const char *cid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "clientid"));
    snprintf(a->client_id, sizeof(a->client_id), "%s", cid ? cid : "");
    cJSON_ArrayForEach(r, roles)
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "rolename"));
        if (n != NULL && a->nroles < sizeof(a->roles) / sizeof(a->roles[0]))
            snprintf(a->roles[a->nroles++], AY_DYNSEC_NAME_MAX, "%s", n);
    }
}

static enum ay_err account_load(struct ayctl_admin *admin, const char *name, struct account *a,
                                char err[AY_ERRLEN])
{
    struct ay_dynsec_batch *b = NULL;
    const cJSON *client = NULL;
    bool found = false;
    enum ay_err rc = ayctl_admin_get_client(admin, name, &found, &client, &b, err);

    memset(a, 0, sizeof(*a));
    if (rc == AY_OK && found)
        account_from_json(client, a);
    ay_dynsec_batch_free(b);
    return rc;
}

static bool account_has_role(const struct account *a, const char *role)
{
    for (size_t i = 0; i < a->nroles; i++)
        if (strcmp(a->roles[i], role) == 0)
            return true;
    return false;
}

/* What the account of a device looks like, in one word. */
static const char *account_word(const struct row *w, const struct account *a)
{
    struct ay_dynsec_role role;

    if (!a->found)
        return w->found && !w->removed ? "missing" : "-";
    if (w->found && w->removed)
        return "leftover";
    if (w->found && (ay_dynsec_device_role(w->district, w->d.school, w->d.id, &role) != AY_OK ||
                     !account_has_role(a, role.name) || strcmp(a->client_id, w->d.id) != 0))
        return "wrong-role";
    return a->disabled ? "disabled" : "ok";
}

static const char *row_word(const struct row *w)
{
    if (!w->found)
        return "unregistered";
    return w->removed ? "removed" : w->enabled ? "enabled" : "disabled";
}

/* ---- disable, enable, remove, rotate -------------------------------------------------- */

/* A change: the row locked in an open transaction, the broker connected. */
struct change {
    const struct ayctl_config *cfg;
    const char *id;
    struct ay_pg *db;
    struct ayctl_admin *admin;
    struct row w;
    char by[64];
    char err[AY_ERRLEN];
};

static enum ay_err change_begin(struct change *c, const struct ayctl_config *cfg, const char *id)
{
    enum ay_err rc;

    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->id = id;
    ayctl_who(cfg, c->by, sizeof(c->by));
    if ((rc = ayctl_db_connect(cfg, &c->db, c->err)) != AY_OK ||
        (rc = ay_pg_begin(c->db, c->err)) != AY_OK ||
        (rc = row_load(c->db, id, true, &c->w, c->err)) != AY_OK)
        return rc;
    return ayctl_admin_connect(cfg, &c->admin, c->err);
}

static void change_end(struct change *c)
{
    if (c->db)
        ay_pg_rollback(c->db); /* a no-op after a commit */
    ayctl_admin_free(c->admin);
    ay_pg_free(c->db);
}

/* The row must exist and not be removed. */
static enum ay_err need_device(struct change *c)
{
    if (!c->w.found) {
        ay_errf(c->err, "no device \"%s\" in the registry (ayctl device list)", c->id);
        return AY_ERR_NOTFOUND;
    }
    if (c->w.removed) {
        ay_errf(c->err, "device \"%s\" was removed (its id stays with its history)", c->id);
        return AY_ERR_NOTFOUND;
    }
    return AY_OK;
}

static enum ay_err update_row(struct change *c, const char *sql, const char *action)
{
    const char *p[] = {c->id};
    enum ay_err rc = ay_pg_exec(c->db, sql, 1, p, NULL, c->err);
    return rc == AY_OK ? ayctl_device_audit(c->db, c->w.district, c->w.d.school, c->by, action,
                                            c->id, "ayctl", c->err)
                       : rc;
}

/* One dynsec command on the device's account; "not found" is an error
 * naming what to do. */
static enum ay_err broker_do(struct change *c, cJSON *cmd)
{
    struct ay_dynsec_batch *b = NULL;
    const char *e = NULL;
    enum ay_err rc = ayctl_admin_run_one(c->admin, cmd, &e, &b, c->err);

    if (rc == AY_OK && e != NULL) {
        if (ay_dynsec_is_not_found(e))
            rc = AY_ERR_NOTFOUND;
        if (ay_dynsec_is_not_found(e))
            ay_errf(c->err,
                    "device \"%s\" has no broker account (made without ayctl? `ayctl device "
                    "remove %s`, then add it again)",
                    c->id, c->id);
        else
            ay_errf(c->err, "the broker refused %s for %s: %s", ay_dynsec_batch_command(b, 0),
                    c->id, e);
        rc = rc == AY_ERR_NOTFOUND ? rc : AY_ERR_MQTT;
    }
    ay_dynsec_batch_free(b);
    return rc;
}

static int device_switch(const struct ayctl_config *cfg, const char *id, bool enable)
{
    struct change c;
    enum ay_err rc = change_begin(&c, cfg, id);
    bool broker_done = false;

    if (rc == AY_OK && (rc = need_device(&c)) == AY_OK)
        rc = update_row(&c,
                        enable ? "UPDATE devices SET enabled = true WHERE id = $1"
                               : "UPDATE devices SET enabled = false WHERE id = $1",
                        enable ? "device.enabled" : "device.disabled");
    if (rc == AY_OK) {
        rc = broker_do(&c, ay_dynsec_cmd_client(enable ? "enableClient" : "disableClient", id));
        broker_done = rc == AY_OK;
    }
    /* A device without an account (registered with `ayctl registry`) is
     * disabled in the registry all the same: the recorder refuses it. */
    if (rc == AY_ERR_NOTFOUND && !enable && c.w.found && !c.w.removed) {
        ayctl_fail("warning: %s", c.err);
        rc = AY_OK;
    }
    if (rc == AY_OK && (rc = ay_pg_commit(c.db, c.err)) != AY_OK && broker_done) {
        if (enable) {
            char err[AY_ERRLEN];
            struct ay_dynsec_batch *b = NULL;
            const char *e = NULL;
            if (ayctl_admin_run_one(c.admin, ay_dynsec_cmd_client("disableClient", id), &e, &b,
                                    err) != AY_OK ||
                e != NULL)
                ayctl_fail("warning: the broker account %s stays enabled", id);
            ay_dynsec_batch_free(b);
        } else {
            ayctl_fail("warning: the broker account %s is disabled, but the registry still says "
                       "enabled: run the command again",
                       id);
        }
    }
    if (rc != AY_OK)
        ayctl_fail("device %s: %s", enable ? "enable" : "disable", c.err);
    else if (enable)
        printf("device %s: enabled (it may connect again)\n", id);
    else
        printf("device %s: disabled (its connections were closed; it cannot connect, and the "
               "recorder refuses its messages, until `ayctl device enable %s`)\n",
               id, id);
    change_end(&c);
    return ayctl_exit_code(rc == AY_ERR_NOTFOUND ? AY_ERR_IO : rc);
}

static int device_remove(const struct ayctl_config *cfg, const char *id)
{
    struct change c;
    struct account a;
    struct ay_dynsec_role role;
    struct ay_dynsec_batch *b = NULL;
    enum ay_err rc = change_begin(&c, cfg, id);

    if (rc == AY_OK)
        rc = account_load(c.admin, id, &a, c.err);
    /* An account of someone else is not a device's to remove. */
    for (size_t i = 0; rc == AY_OK && i < a.nroles; i++)
        if (strncmp(a.roles[i], "device.", 7) != 0) {
            ay_errf(c.err, "\"%s\" is not a device's account (role %s): ayctl account remove %s",
                    id, a.roles[i], id);
            rc = AY_ERR_INVALID;
        }
    if (rc == AY_OK && !c.w.found && !a.found) {
        ay_errf(c.err, "no device \"%s\" in the registry, and no account on the broker", id);
        rc = AY_ERR_NOTFOUND;
    }
    if (rc == AY_OK && c.w.found && !c.w.removed)
        rc = update_row(&c, "UPDATE devices SET enabled = false, removed_at = now() WHERE id = $1",
                        "device.removed");
    if (rc == AY_OK)
        rc = ayctl_admin_batch(&b);
    if (rc == AY_OK && a.found)
        rc = ayctl_admin_add(b, ay_dynsec_cmd_client("deleteClient", id));
    for (size_t i = 0; rc == AY_OK && i < a.nroles; i++)
        rc = ayctl_admin_add(b, ay_dynsec_cmd_role("deleteRole", a.roles[i]));
    if (rc == AY_OK && c.w.found &&
        ay_dynsec_device_role(c.w.district, c.w.d.school, id, &role) == AY_OK &&
        !account_has_role(&a, role.name))
        rc = ayctl_admin_add(b, ay_dynsec_cmd_role("deleteRole", role.name));
    if (rc == AY_OK)
        rc = ayctl_admin_run(c.admin, b, c.err);
    for (size_t i = 0; rc == AY_OK && i < ay_dynsec_batch_count(b); i++) {
        const char *e = NULL;
        (void)ay_dynsec_batch_result(b, i, &e, NULL);
        if (e != NULL && !ay_dynsec_is_not_found(e)) {
            ay_errf(c.err, "the broker refused %s: %s", ay_dynsec_batch_command(b, i), e);
            rc = AY_ERR_MQTT;
        }
    }
    if (rc == AY_OK && (rc = ay_pg_commit(c.db, c.err)) != AY_OK)
        ayctl_fail("warning: the account of %s is deleted, but the registry could not be "
                   "changed: run the command again",
                   id);
    if (rc != AY_OK)
        ayctl_fail("device remove: %s", c.err);
    else if (c.w.removed && !a.found)
        printf("device %s: already removed\n", id);
    else
        printf("device %s: removed (%s; the registry keeps its row, disabled, for its "
               "history)\n",
               id,
               a.found ? "its account is deleted and its connections closed" : "it had no account");
    ay_dynsec_batch_free(b);
    change_end(&c);
    return ayctl_exit_code(rc == AY_ERR_NOTFOUND ? AY_ERR_IO : rc);
}

static int device_rotate(const struct ayctl_config *cfg, const char *id, const char *profile,
                         const char *conf)
{
    struct change c;
    struct ayctl_endpoint e;
    struct ayctl_profile p;
    char secret[AYCTL_SECRET_LEN] = "";
    bool changed = false;
    enum ay_err rc = ayctl_endpoint_load(cfg, &e, c.err);

    if (rc != AY_OK) {
        ayctl_fail("%s", c.err);
        ayctl_endpoint_cleanup(&e);
        return AYCTL_EXIT_USAGE;
    }
    rc = change_begin(&c, cfg, id);
    if (rc == AY_OK && (rc = need_device(&c)) == AY_OK && (rc = ayctl_secret_new(secret)) == AY_OK)
        rc = update_row(&c, "UPDATE devices SET secret_issued_at = now() WHERE id = $1",
                        "device.secret_rotated");
    ayctl_profile_fill(&p, &e, &c.w.d, c.w.district, secret);
    if (rc == AY_OK && profile) {
        char *text = ayctl_profile_text(&p);
        rc = text ? ayctl_write_private(profile, text, strlen(text), false, c.err) : AY_ERR_NOMEM;
        free(text);
    }
    if (rc == AY_OK && conf) {
        char *text = ayctl_device_conf(&p);
        rc = text ? ayctl_write_private(conf, text, strlen(text), false, c.err) : AY_ERR_NOMEM;
        free(text);
    }
    if (rc == AY_OK && (rc = broker_do(&c, ay_dynsec_cmd_set_password(id, secret))) == AY_OK)
        changed = true;
    if (rc == AY_OK && (rc = ay_pg_commit(c.db, c.err)) != AY_OK)
        ayctl_fail("warning: the new secret is in force on the broker, but the registry could "
                   "not record it: %s",
                   c.err);
    if (rc != AY_OK && !changed) {
        if (profile)
            unlink(profile);
        if (conf)
            unlink(conf);
        ayctl_fail("device rotate: %s (the old secret still works)", c.err);
    }
    if (changed) {
        ayctl_profile_print(&p);
        printf("the old secret no longer works; connections with it were closed\n");
    }
    explicit_bzero(secret, sizeof(secret));
    ayctl_endpoint_cleanup(&e);
    change_end(&c);
    return ayctl_exit_code(rc == AY_ERR_NOTFOUND ? AY_ERR_IO : rc);
}

/* ---- list, show ------------------------------------------------------------------ */

static const char list_sql[] =
    "SELECT d.id, d.school_id, s.district_id, d.kind, d.enabled, d.removed_at IS NOT NULL, "
    "d.location, d.place_name FROM devices d JOIN schools s ON s.id = d.school_id "
    "WHERE ($1::text IS NULL OR d.school_id = $1) AND ($2::text IS NULL OR s.district_id = $2) "
    "ORDER BY s.district_id, d.school_id, d.id";

/* Every account of the broker (listClients), or NULL with a warning when
 * the broker cannot be asked: the list then shows the registry alone. */
static struct ay_dynsec_batch *all_accounts(const struct ayctl_config *cfg, const cJSON **clients)
{
    struct ayctl_admin *admin = NULL;
    struct ay_dynsec_batch *b = NULL;
    const char *e = NULL;
    const cJSON *data = NULL;
    char err[AY_ERRLEN] = "";

    if (ayctl_admin_connect(cfg, &admin, err) != AY_OK ||
        ayctl_admin_run_one(admin, ay_dynsec_cmd_list_clients(), &e, &b, err) != AY_OK ||
        e != NULL) {
        ayctl_fail("warning: accounts not shown (?): %s", e ? e : err);
        ay_dynsec_batch_free(b);
        ayctl_admin_free(admin);
        return NULL;
    }
    ayctl_admin_free(admin);
    (void)ay_dynsec_batch_result(b, 0, &e, &data);
    *clients = cJSON_GetObjectItemCaseSensitive(data, "clients");
    return b;
}

/* The broker's accounts by name, for a listing of many devices. */
struct client_ix {
    const char *name;
    const cJSON *c;
    bool listed; /* a registry row of the listing names it */
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct client_ix *)a)->name, ((const struct client_ix *)b)->name);
}

/* A new array (the caller frees it) of the clients, sorted by name; NULL
 * with *n 0 when there are none or memory ran out (accounts then show "?"). */
static struct client_ix *index_clients(const cJSON *clients, size_t *n)
{
    size_t cap = (size_t)cJSON_GetArraySize(clients);
    struct client_ix *ix = cap ? calloc(cap, sizeof(*ix)) : NULL;
    const cJSON *c = NULL;

    *n = 0;
    if (ix == NULL)
        return NULL;
    cJSON_ArrayForEach(c, clients)
    {
        const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "username"));
        if (u != NULL && *n < cap)
            ix[(*n)++] = (struct client_ix){.name = u, .c = c};
    }
    qsort(ix, *n, sizeof(*ix), by_name);
    return ix;
}

static struct client_ix *find_client(struct client_ix *ix, size_t n, const char *name)
{
    struct client_ix key = {.name = name};
    return n ? bsearch(&key, ix, n, sizeof(*ix), by_name) : NULL;
}

static void list_line(bool json, cJSON *arr, const char *id, const char *school, const char *kind,
                      const char *state, const char *acct, const char *where)
{
    if (!json) {
        printf("%-20s %-16s %-12s %-12s %-10s %s\n", id, school, kind, state, acct, where);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (o != NULL && ay_json_str(o, "device", id) && ay_json_str(o, "school", school) &&
        ay_json_str(o, "kind", kind) && ay_json_str(o, "state", state) &&
        ay_json_str(o, "account", acct) && ay_json_str(o, "location", where))
        (void)ay_json_push(arr, o);
    else
        cJSON_Delete(o);
}

/* Device accounts the registry has no row for (leftovers of a failed
 * import killed half-way, or accounts made with deploy/broker-ctl), of the
 * school or district listed. */
static void list_unregistered(const struct client_ix *ix, size_t n, const char *school,
                              const char *district, bool json, cJSON *arr)
{
    for (size_t i = 0; i < n; i++) {
        struct account a;
        char d[AY_ID_MAX] = "";
        char s[AY_ID_MAX] = "";
        if (ix[i].listed)
            continue;
        account_from_json(ix[i].c, &a);
        if (a.nroles != 1 || sscanf(a.roles[0], "device.%32[^.].%32[^.].", d, s) != 2 ||
            (school && strcmp(s, school) != 0) || (district && strcmp(d, district) != 0))
            continue;
        list_line(json, arr, ix[i].name, s, "?", "unregistered", a.disabled ? "disabled" : "ok",
                  "");
    }
}

static int device_list(const struct ayctl_config *cfg, int argc, char **argv)
{
    const char *school = NULL;
    const char *district = cfg->common.district;
    bool json = false;
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    struct ay_pg_result *r = NULL;
    const cJSON *clients = NULL;
    cJSON *arr = NULL;

    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--school") == 0 && i + 1 < argc)
            school = argv[++i];
        else if (strcmp(argv[i], "--district") == 0 && i + 1 < argc)
            district = argv[++i];
        else {
            ayctl_fail("usage: ayctl device list [--school S] [--district D] [--json]");
            return AYCTL_EXIT_USAGE;
        }
    }
    if (school)
        district = NULL;
    const char *p[] = {school, district};
    enum ay_err rc = ayctl_db_connect(cfg, &db, err);
    if (rc == AY_OK)
        rc = ay_pg_exec(db, list_sql, 2, p, &r, err);
    if (rc != AY_OK) {
        ayctl_fail("device list: %s", err);
        ay_pg_free(db);
        return ayctl_exit_code(rc);
    }
    struct ay_dynsec_batch *b = all_accounts(cfg, &clients);
    size_t nix = 0;
    struct client_ix *ix = b ? index_clients(clients, &nix) : NULL;
    arr = json ? cJSON_CreateArray() : NULL;
    if (!json)
        printf("%-20s %-16s %-12s %-12s %-10s %s\n", "DEVICE", "SCHOOL", "KIND", "STATE", "ACCOUNT",
               "LOCATION");
    for (int i = 0; i < ay_pg_nrows(r); i++) {
        struct row w = {.found = true};
        struct account a = {.found = false};
        snprintf(w.d.id, sizeof(w.d.id), "%s", ay_pg_value(r, i, 0));
        snprintf(w.d.school, sizeof(w.d.school), "%s", ay_pg_value(r, i, 1));
        snprintf(w.district, sizeof(w.district), "%s", ay_pg_value(r, i, 2));
        w.enabled = strcmp(ay_pg_value(r, i, 4), "t") == 0;
        w.removed = strcmp(ay_pg_value(r, i, 5), "t") == 0;
        struct client_ix *c = find_client(ix, nix, w.d.id);
        if (c) {
            account_from_json(c->c, &a);
            c->listed = true;
        }
        list_line(json, arr, w.d.id, w.d.school, ay_pg_value(r, i, 3), row_word(&w),
                  b ? account_word(&w, &a) : "?", ay_pg_value(r, i, 6));
    }
    list_unregistered(ix, nix, school, district, json, arr);
    if (json) {
        char *text = ay_json_print_free(arr);
        printf("%s\n", text ? text : "[]");
        free(text);
    }
    free(ix);
    ay_dynsec_batch_free(b);
    ay_pg_result_free(r);
    ay_pg_free(db);
    return AYCTL_EXIT_OK;
}

/* What `device show` shows, as JSON: the row, the account (asked: the
 * broker could be asked), the last status (r: device_status, 0 or 1 row). */
static cJSON *show_json(const struct row *w, const struct account *a, bool asked,
                        const struct ay_pg_result *r)
{
    bool seen = ay_pg_nrows(r) == 1;
    cJSON *o = cJSON_CreateObject();
    char roles[512] = "";

    for (size_t i = 0; i < a->nroles; i++)
        snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles), "%s%s", i ? "," : "",
                 a->roles[i]);
    bool ok = o != NULL && ay_json_str(o, "device", w->d.id) &&
              ay_json_str(o, "state", row_word(w)) && ay_json_str(o, "school", w->d.school) &&
              ay_json_str(o, "district", w->district) && ay_json_str(o, "kind", w->d.kind) &&
              ay_json_str(o, "location", w->d.location) && ay_json_str(o, "shop", w->d.place) &&
              ay_json_num(o, "heartbeatIntervalS", w->d.heartbeat_s) &&
              ay_json_str(o, "account", asked ? account_word(w, a) : "?") &&
              ay_json_str(o, "clientId", a->client_id) && ay_json_str(o, "roles", roles) &&
              ay_json_str(o, "secretIssuedAt", w->issued[0] ? w->issued : NULL) &&
              ay_json_str(o, "lastSeenAt", seen ? ay_pg_value(r, 0, 0) : NULL) &&
              ay_json_str(o, "lastState", seen ? ay_pg_value(r, 0, 1) : NULL);
    if (ok && w->d.has_geo) {
        cJSON *g = cJSON_AddObjectToObject(o, "geo");
        ok = g && ay_json_num(g, "latitude", w->d.latitude) &&
             ay_json_num(g, "longitude", w->d.longitude);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* One "key value" line per field that has a value. */
static void show_text(const cJSON *o)
{
    const cJSON *f = NULL;
    cJSON_ArrayForEach(f, o)
    {
        if (cJSON_IsString(f) && f->valuestring[0] != '\0')
            printf("%-20s %s\n", f->string, f->valuestring);
        else if (cJSON_IsNumber(f))
            printf("%-20s %g\n", f->string, f->valuedouble);
        else if (cJSON_IsObject(f))
            printf("%-20s %.9g,%.9g\n", f->string,
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "latitude")),
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "longitude")));
    }
}

static int device_show(const struct ayctl_config *cfg, const char *id, bool json)
{
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    struct ay_pg_result *r = NULL;
    struct ayctl_admin *admin = NULL;
    struct row w;
    struct account a = {.found = false};
    bool asked = false;
    const char *p[] = {id};
    enum ay_err rc = ayctl_db_connect(cfg, &db, err);

    if (rc == AY_OK)
        rc = row_load(db, id, false, &w, err);
    if (rc == AY_OK)
        rc = ay_pg_exec(db,
                        "SELECT to_char(last_seen_at AT TIME ZONE 'UTC', "
                        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), state FROM device_status "
                        "WHERE device_id = $1",
                        1, p, &r, err);
    if (rc != AY_OK) {
        ayctl_fail("device show: %s", err);
        ay_pg_free(db);
        return ayctl_exit_code(rc);
    }
    if (ayctl_admin_connect(cfg, &admin, err) == AY_OK && account_load(admin, id, &a, err) == AY_OK)
        asked = true;
    else
        ayctl_fail("warning: account not shown: %s", err);
    if (!w.found && !a.found) {
        ayctl_fail("device show: no device \"%s\" in the registry%s", id,
                   asked ? ", and no account on the broker" : "");
        rc = AY_ERR_NOTFOUND;
    } else {
        cJSON *o = show_json(&w, &a, asked, r);
        char *text = o && json ? cJSON_Print(o) : NULL;
        if (text)
            printf("%s\n", text);
        else if (o)
            show_text(o);
        rc = o && (text || !json) ? AY_OK : AY_ERR_NOMEM;
        free(text);
        cJSON_Delete(o);
    }
    ayctl_admin_free(admin);
    ay_pg_result_free(r);
    ay_pg_free(db);
    return ayctl_exit_code(rc == AY_ERR_NOTFOUND ? AY_ERR_IO : rc);
}

/* ---- dispatch -------------------------------------------------------------------- */

static const char usage[] =
    "usage: ayctl device add|import|list|show|disable|enable|rotate|remove ... (ayctl --help)";

int ayctl_device_admin(const struct ayctl_config *cfg, int argc, char **argv)
{
    const char *cmd = argc >= 2 ? argv[1] : "";

    if (strcmp(cmd, "list") == 0)
        return device_list(cfg, argc, argv);
    if (argc < 3 || !ay_schema_id_is_valid(argv[2])) {
        ayctl_fail("%s", usage);
        return AYCTL_EXIT_USAGE;
    }
    const char *id = argv[2];
    if (strcmp(cmd, "show") == 0 && (argc == 3 || (argc == 4 && strcmp(argv[3], "--json") == 0)))
        return device_show(cfg, id, argc == 4);
    if ((strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0) && argc == 3)
        return device_switch(cfg, id, cmd[0] == 'e');
    if (strcmp(cmd, "remove") == 0 && argc == 3)
        return device_remove(cfg, id);
    if (strcmp(cmd, "rotate") == 0) {
        const char *profile = NULL;
        const char *conf = NULL;
        for (int i = 3; i < argc; i++) {
            if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
                profile = argv[++i];
            else if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
                conf = argv[++i];
            else {
                ayctl_fail("usage: ayctl device rotate DEVICE [--profile FILE] [--conf FILE]");
                return AYCTL_EXIT_USAGE;
            }
        }
        return device_rotate(cfg, id, profile, conf);
    }
    ayctl_fail("%s", usage);
    return AYCTL_EXIT_USAGE;
}
