/*
 * ayctl device.c - `device add` and `device import`: a device's registry
 * row and its broker account made together, all or nothing, and its
 * connection profile handed out (README "Devices: onboarding").
 *
 * How "all or nothing" is kept across two systems that share no
 * transaction:
 *   1. every input is checked first (device_spec.c): a bad file changes
 *      nothing and names its line and field;
 *   2. one PostgreSQL transaction inserts the rows (the unique id makes a
 *      second ayctl adding the same device wait, then fail) and their audit
 *      rows, and stays open;
 *   3. the broker is asked whether the accounts or roles exist already
 *      (they must not: a leftover is named, nothing is changed), then the
 *      roles and accounts are made (lib/ay_dynsec batches);
 *   4. the secrets are written where asked (files of mode 0600), then the
 *      transaction commits.
 * A failure in 3 or 4, or of the commit, rolls the transaction back and
 * deletes on the broker exactly what step 3 made (what it may have made,
 * if the broker stopped answering: step 3's check says those names were
 * free, and the open transaction keeps other ayctl processes off them).
 * What no step can undo: ayctl killed between 3 and 4 leaves accounts
 * without rows; `ayctl device remove ID` deletes such leftovers.
 *
 * Rules of shared/domain.md: 1 (every button known to the police feed with
 * its place, as soon as it is registered: NOTIFY ay_registry), 7 (an audit
 * row per change, actor = the operator).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ay_json.h"
#include "ay_sync.h"
#include "device.h"

#define CA_PEM_MAX      (64 * 1024)
#define IMPORT_FILE_MAX (64 * 1024 * 1024)

/* ---- shared with device_admin.c and account.c ------------------------------------------ */

/* The host of a broker URL (scheme://host:port or [v6]:port). */
static void url_host(const char *url, char *out, size_t cap)
{
    const char *h = strstr(url ? url : "", "://");
    h = h ? h + 3 : (url ? url : "");
    size_t n = 0;
    if (*h == '[') {
        const char *close = strchr(h, ']');
        n = close ? (size_t)(close - h + 1) : strlen(h);
    } else {
        n = strcspn(h, ":/");
    }
    snprintf(out, cap, "%.*s", (int)n, h);
}

enum ay_err ayctl_endpoint_load(const struct ayctl_config *cfg, struct ayctl_endpoint *e,
                                char err[AY_ERRLEN])
{
    size_t len = 0;

    memset(e, 0, sizeof(*e));
    if (cfg->profile_host && cfg->profile_host[0] != '\0')
        snprintf(e->host, sizeof(e->host), "%s", cfg->profile_host);
    else
        url_host(ayctl_admin_url(cfg), e->host, sizeof(e->host));
    e->mqtts_port = (int)cfg->profile_mqtts_port;
    e->ws_port = (int)cfg->profile_ws_port;
    e->mqtt_port = (int)cfg->profile_mqtt_port;
    if (e->host[0] == '\0' || (e->mqtts_port == 0 && e->ws_port == 0 && e->mqtt_port == 0)) {
        ay_errf(err, "no broker endpoint for profiles: set profile_host and profile_mqtts_port "
                     "(or profile_ws_port, profile_mqtt_port)");
        return AY_ERR_CONFIG;
    }
    e->ca_file = cfg->profile_ca_file && cfg->profile_ca_file[0] ? cfg->profile_ca_file
                                                                 : cfg->common.mqtt_ca_file;
    if (e->ca_file != NULL && e->ca_file[0] == '\0')
        e->ca_file = NULL;
    if (e->ca_file == NULL) {
        if (e->mqtts_port > 0)
            ayctl_fail("warning: no CA certificate for profiles (profile_ca_file): devices must "
                       "be given the broker's CA some other way");
        return AY_OK;
    }
    char why[AY_ERRLEN] = "";
    enum ay_err rc = ayctl_read_all(e->ca_file, CA_PEM_MAX, &e->ca_pem, &len, why);
    if (rc != AY_OK) {
        ay_errf(err, "profile_ca_file: %s", why);
        return AY_ERR_CONFIG;
    }
    return AY_OK;
}

void ayctl_endpoint_cleanup(struct ayctl_endpoint *e)
{
    free(e->ca_pem);
    e->ca_pem = NULL;
}

void ayctl_profile_fill(struct ayctl_profile *p, const struct ayctl_endpoint *e,
                        const struct ayctl_device_spec *d, const char *district, const char *secret)
{
    *p = (struct ayctl_profile){.device = d,
                                .district = district,
                                .secret = secret,
                                .host = e->host,
                                .mqtts_port = e->mqtts_port,
                                .ws_port = e->ws_port,
                                .mqtt_port = e->mqtt_port,
                                .ca_file = e->ca_file,
                                .ca_pem = e->ca_pem};
}

char *ayctl_profile_text(const struct ayctl_profile *p)
{
    cJSON *j = ayctl_device_profile(p);
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    return text;
}

void ayctl_profile_print(const struct ayctl_profile *p)
{
    const struct ayctl_device_spec *d = p->device;
    char *conf = ayctl_device_conf(p);
    cJSON *j = ayctl_device_profile(p);
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(j, "topics");
    const cJSON *pub = cJSON_GetObjectItemCaseSensitive(topics, "publish");
    const cJSON *t = NULL;

    printf("device %s (%s) of school %s, district %s: %s%s%s\n", d->id, d->kind, d->school,
           p->district, d->location, d->place[0] ? ", " : "", d->place);
    printf("  broker      %s", p->host);
    if (p->mqtts_port > 0)
        printf("  MQTT over TLS %d", p->mqtts_port);
    if (p->ws_port > 0)
        printf("  WebSocket %d", p->ws_port);
    if (p->mqtt_port > 0)
        printf("  MQTT %d", p->mqtt_port);
    printf("  (MQTT 5)\n  CA          %s\n", p->ca_file ? p->ca_file : "(not configured)");
    printf("  client id   %s\n  username    %s\n  secret      %s   (shown this once: keep it in "
           "the device)\n",
           d->id, d->id, p->secret);
    printf("  publishes   ");
    cJSON_ArrayForEach(t, pub)
    {
        printf("%s%s", t == pub->child ? "" : "\n              ", cJSON_GetStringValue(t));
    }
    printf("\n  receipts    %s\n",
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(topics, "receipts")));
    printf("  heartbeat   every %d s\n", d->heartbeat_s);
    if (conf != NULL)
        printf("ayctl configuration of the device (save as %s.conf, mode 0600):\n%s", d->id, conf);
    printf("first test (a status message; the backbone's receipt says RECEIPT_STATUS_STORED):\n"
           "  %s\n",
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "firstTest")));
    cJSON_Delete(j);
    free(conf);
}

enum ay_err ayctl_write_private(const char *path, const char *text, size_t len, bool exclusive,
                                char err[AY_ERRLEN])
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (exclusive ? O_EXCL : 0), 0600);
    size_t off = 0;

    if (fd < 0) {
        ay_errf(err, "%s: cannot create: %s", path, strerror(errno));
        return errno == EEXIST ? AY_ERR_INVALID : AY_ERR_IO;
    }
    /* An existing file keeps its mode on O_TRUNC: secrets are 0600. */
    if (fchmod(fd, 0600) != 0) {
        ay_errf(err, "%s: cannot make it private: %s", path, strerror(errno));
        close(fd);
        return AY_ERR_IO;
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ay_errf(err, "%s: cannot write: %s", path, strerror(errno));
            close(fd);
            return AY_ERR_IO;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        ay_errf(err, "%s: cannot write: %s", path, strerror(errno));
        return AY_ERR_IO;
    }
    return AY_OK;
}

static const char audit_sql[] =
    "INSERT INTO audit_events (district_id, school_id, actor, action, detail) "
    "VALUES ($1, $2, $3, $4, jsonb_build_object('device', $5::text, 'via', $6::text))";

enum ay_err ayctl_device_audit(struct ay_pg *db, const char *district, const char *school,
                               const char *by, const char *action, const char *device,
                               const char *via, char err[AY_ERRLEN])
{
    const char *p[] = {district, school, by, action, device, via};
    return ay_pg_exec(db, audit_sql, 6, p, NULL, err);
}

/* ---- the registry half -------------------------------------------------------------- */

/* What add and import work on. */
struct batch {
    const struct ayctl_config *cfg;
    const char *via; /* "add" or the import file */
    struct ayctl_device_spec *devs;
    size_t n;
    char (*district)[AY_ID_MAX];      /* each device's district */
    char (*secret)[AYCTL_SECRET_LEN]; /* each device's new secret */
    struct ay_dynsec_role *role;      /* each device's role */
    char by[64];
};

/* "line N: " for a device of a file, "" for the command line. */
static const char *at(const struct ayctl_device_spec *d, char buf[32])
{
    if (d->line == 0)
        buf[0] = '\0';
    else
        snprintf(buf, 32, "line %u: ", d->line);
    return buf;
}

/* A text[] parameter of one string field of every device. */
static char *ids_param(const struct batch *b, bool schools)
{
    const char **v = malloc((b->n ? b->n : 1) * sizeof(*v));
    char *arr = NULL;

    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < b->n; i++)
        v[i] = schools ? b->devs[i].school : b->devs[i].id;
    arr = ay_pg_text_array(v, b->n);
    free(v);
    return arr;
}

/* Each device's district from its school; AY_ERR_INVALID naming the first
 * device whose school is not registered. */
static enum ay_err find_districts(struct ay_pg *db, struct batch *b, char err[AY_ERRLEN])
{
    struct ay_pg_result *r = NULL;
    char *schools = ids_param(b, true);
    const char *p[] = {schools};
    char where[32];

    if (schools == NULL)
        return AY_ERR_NOMEM;
    enum ay_err rc = ay_pg_exec(
        db, "SELECT id, district_id FROM schools WHERE id = ANY ($1::text[])", 1, p, &r, err);
    free(schools);
    for (size_t i = 0; rc == AY_OK && i < b->n; i++) {
        b->district[i][0] = '\0';
        for (int k = 0; k < ay_pg_nrows(r); k++)
            if (strcmp(ay_pg_value(r, k, 0), b->devs[i].school) == 0)
                snprintf(b->district[i], AY_ID_MAX, "%s", ay_pg_value(r, k, 1));
        if (b->district[i][0] == '\0') {
            ay_errf(err,
                    "%sschool: \"%s\" is not in the registry (ayctl registry add-school DISTRICT "
                    "%s)",
                    at(&b->devs[i], where), b->devs[i].school, b->devs[i].school);
            rc = AY_ERR_INVALID;
        }
    }
    ay_pg_result_free(r);
    return rc;
}

/* AY_ERR_INVALID naming the first device whose id is taken (ids of
 * removed devices too: their history keeps them). */
static enum ay_err ids_free(struct ay_pg *db, const struct batch *b, char err[AY_ERRLEN])
{
    struct ay_pg_result *r = NULL;
    char *ids = ids_param(b, false);
    const char *p[] = {ids};
    char where[32];

    if (ids == NULL)
        return AY_ERR_NOMEM;
    enum ay_err rc = ay_pg_exec(db,
                                "SELECT id, school_id, removed_at IS NOT NULL FROM devices "
                                "WHERE id = ANY ($1::text[])",
                                1, p, &r, err);
    free(ids);
    for (size_t i = 0; rc == AY_OK && i < b->n; i++)
        for (int k = 0; rc == AY_OK && k < ay_pg_nrows(r); k++)
            if (strcmp(ay_pg_value(r, k, 0), b->devs[i].id) == 0) {
                bool removed = strcmp(ay_pg_value(r, k, 2), "t") == 0;
                ay_errf(err, "%sid: device \"%s\" %s (school %s)%s", at(&b->devs[i], where),
                        b->devs[i].id, removed ? "was removed" : "exists already",
                        ay_pg_value(r, k, 1),
                        removed ? "; its id stays with its history: choose another" : "");
                rc = AY_ERR_INVALID;
            }
    ay_pg_result_free(r);
    return rc;
}

/* The rows and their audit rows, in one statement. */
static const char insert_sql[] =
    "WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id text, school_id text, "
    " district_id text, kind text, location text, latitude double precision, "
    " longitude double precision, place_name text, heartbeat_s integer)), "
    "ins AS (INSERT INTO devices (id, school_id, kind, location, latitude, longitude, place_name, "
    " heartbeat_s, secret_issued_at) "
    " SELECT id, school_id, kind, location, latitude, longitude, coalesce(place_name, ''), "
    " heartbeat_s, now() FROM r RETURNING id) "
    "INSERT INTO audit_events (district_id, school_id, actor, action, detail) "
    "SELECT r.district_id, r.school_id, $2, 'device.added', "
    " jsonb_build_object('device', r.id, 'kind', r.kind, 'via', $3::text) "
    "FROM r JOIN ins USING (id)";

static enum ay_err insert_rows(struct ay_pg *db, const struct batch *b, char err[AY_ERRLEN])
{
    cJSON *rows = cJSON_CreateArray();
    bool ok = rows != NULL;

    for (size_t i = 0; ok && i < b->n; i++) {
        const struct ayctl_device_spec *d = &b->devs[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && ay_json_str(o, "id", d->id) && ay_json_str(o, "school_id", d->school) &&
             ay_json_str(o, "district_id", b->district[i]) && ay_json_str(o, "kind", d->kind) &&
             ay_json_str(o, "location", d->location) && ay_json_str(o, "place_name", d->place) &&
             ay_json_num(o, "heartbeat_s", d->heartbeat_s) &&
             (!d->has_geo || (ay_json_num(o, "latitude", d->latitude) &&
                              ay_json_num(o, "longitude", d->longitude)));
        if (ok) {
            ok = ay_json_push(rows, o);
        } else {
            cJSON_Delete(o);
        }
    }
    if (!ok) {
        cJSON_Delete(rows);
        return AY_ERR_NOMEM;
    }
    char *json = ay_json_print_free(rows);
    if (json == NULL)
        return AY_ERR_NOMEM;
    const char *p[] = {json, b->by, b->via};
    enum ay_err rc = ay_pg_exec(db, insert_sql, 3, p, NULL, err);
    free(json);
    return rc;
}

/* Steps 1 and 2 of the file comment: AY_ERR_INVALID for what the registry
 * refuses (a school it does not know, an id it has), with the line. */
static enum ay_err registry_insert(struct ay_pg *db, struct batch *b, char err[AY_ERRLEN])
{
    enum ay_err rc = ay_pg_begin(db, err);

    if (rc == AY_OK && (rc = find_districts(db, b, err)) == AY_OK &&
        (rc = ids_free(db, b, err)) == AY_OK)
        rc = insert_rows(db, b, err);
    if (rc == AY_ERR_DB && strcmp(ay_pg_sqlstate(db), "23505") == 0) {
        ay_errf(err, "a device of this request was added by someone else meanwhile (run it again "
                     "to see which)");
        rc = AY_ERR_INVALID;
    }
    return rc;
}

/* ---- the broker half -------------------------------------------------------------- */

/* Step 3a: neither the account nor the role of any device exists. */
static enum ay_err accounts_absent(struct ayctl_admin *a, const struct batch *b,
                                   char err[AY_ERRLEN])
{
    struct ay_dynsec_batch *q = NULL;
    enum ay_err rc = ayctl_admin_batch(&q);
    char where[32];

    for (size_t i = 0; rc == AY_OK && i < b->n; i++)
        if ((rc = ayctl_admin_add(q, ay_dynsec_cmd_client("getClient", b->devs[i].id))) == AY_OK)
            rc = ayctl_admin_add(q, ay_dynsec_cmd_role("getRole", b->role[i].name));
    if (rc == AY_OK)
        rc = ayctl_admin_run(a, q, err);
    for (size_t i = 0; rc == AY_OK && i < 2 * b->n; i++) {
        const char *e = NULL;
        (void)ay_dynsec_batch_result(q, i, &e, NULL);
        const struct ayctl_device_spec *d = &b->devs[i / 2];
        if (e == NULL) {
            ay_errf(err,
                    "%sid: the broker has %s %s already, with no device in the registry (a "
                    "leftover? `ayctl device remove %s` deletes it)",
                    at(d, where), i % 2 ? "a role" : "an account",
                    i % 2 ? b->role[i / 2].name : d->id, d->id);
            rc = AY_ERR_INVALID;
        } else if (!ay_dynsec_is_not_found(e)) {
            ay_errf(err, "%sasking the broker about %s: %s", at(d, where), d->id, e);
            rc = AY_ERR_MQTT;
        }
    }
    ay_dynsec_batch_free(q);
    return rc;
}

/* Undoes step 3b: deletes the accounts and roles that c (the create
 * batch; NULL: all) made or may have made. Best effort: says on stderr
 * what it could not undo. */
static void accounts_undo(struct ayctl_admin *a, const struct batch *b,
                          const struct ay_dynsec_batch *c)
{
    struct ay_dynsec_batch *u = NULL;
    char err[AY_ERRLEN] = "";
    enum ay_err rc = ayctl_admin_batch(&u);
    size_t left = 0;

    for (size_t i = 0; rc == AY_OK && i < b->n; i++) {
        const char *role_e = NULL;
        const char *client_e = NULL;
        bool role_known = c && ay_dynsec_batch_result(c, 2 * i, &role_e, NULL);
        bool client_known = c && ay_dynsec_batch_result(c, 2 * i + 1, &client_e, NULL);
        if (!client_known || client_e == NULL)
            rc = ayctl_admin_add(u, ay_dynsec_cmd_client("deleteClient", b->devs[i].id));
        if (rc == AY_OK && (!role_known || role_e == NULL))
            rc = ayctl_admin_add(u, ay_dynsec_cmd_role("deleteRole", b->role[i].name));
    }
    if (rc == AY_OK && ay_dynsec_batch_count(u) > 0)
        rc = ayctl_admin_run(a, u, err);
    for (size_t i = 0; rc == AY_OK && i < ay_dynsec_batch_count(u); i++) {
        const char *e = NULL;
        if (ay_dynsec_batch_result(u, i, &e, NULL) && e != NULL && !ay_dynsec_is_not_found(e))
            left++;
    }
    if (rc != AY_OK || left > 0)
        ayctl_fail("warning: could not delete on the broker all that was made (%s%s%zu left); "
                   "`ayctl device list` shows accounts without devices, `ayctl device remove ID` "
                   "deletes them",
                   err, err[0] ? "; " : "", left);
    ay_dynsec_batch_free(u);
}

/* Step 3b: each device's role, then its account (password: its secret,
 * client id: its id, role: its own). On failure everything made is
 * deleted again; err names the first device refused. */
static enum ay_err accounts_create(struct ayctl_admin *a, const struct batch *b,
                                   char err[AY_ERRLEN])
{
    struct ay_dynsec_batch *c = NULL;
    enum ay_err rc = ayctl_admin_batch(&c);
    char where[32];

    for (size_t i = 0; rc == AY_OK && i < b->n; i++) {
        const char *roles[] = {b->role[i].name};
        if ((rc = ayctl_admin_add(c, ay_dynsec_cmd_create_role(&b->role[i]))) == AY_OK)
            rc = ayctl_admin_add(c, ay_dynsec_cmd_create_client(b->devs[i].id, b->secret[i],
                                                                b->devs[i].id, roles, 1));
    }
    if (rc != AY_OK) {
        ay_dynsec_batch_free(c);
        return rc;
    }
    rc = ayctl_admin_run(a, c, err);
    for (size_t i = 0; rc == AY_OK && i < 2 * b->n; i++) {
        const char *e = NULL;
        (void)ay_dynsec_batch_result(c, i, &e, NULL);
        if (e != NULL) {
            ay_errf(err, "%sthe broker refused %s for %s: %s", at(&b->devs[i / 2], where),
                    ay_dynsec_batch_command(c, i), b->devs[i / 2].id, e);
            rc = AY_ERR_MQTT;
        }
    }
    if (rc != AY_OK)
        accounts_undo(a, b, c);
    ay_dynsec_batch_free(c);
    return rc;
}

/* ---- add and import -------------------------------------------------------------- */

/* Outputs written before the commit (step 4); undone when it fails. */
struct outputs {
    const char *profile; /* add: --profile FILE */
    const char *conf;    /* add: --conf FILE */
    const char *secrets; /* import: --secrets FILE (CSV) */
    const char *dir;     /* import: --profiles DIR */
    const struct ayctl_endpoint *endpoint;
};

static enum ay_err write_device_files(const struct outputs *o, const struct batch *b, size_t i,
                                      const char *profile_path, const char *conf_path,
                                      char err[AY_ERRLEN])
{
    struct ayctl_profile p;
    enum ay_err rc = AY_OK;

    ayctl_profile_fill(&p, o->endpoint, &b->devs[i], b->district[i], b->secret[i]);
    if (profile_path) {
        char *text = ayctl_profile_text(&p);
        rc =
            text ? ayctl_write_private(profile_path, text, strlen(text), false, err) : AY_ERR_NOMEM;
        free(text);
    }
    if (rc == AY_OK && conf_path) {
        char *text = ayctl_device_conf(&p);
        rc = text ? ayctl_write_private(conf_path, text, strlen(text), false, err) : AY_ERR_NOMEM;
        free(text);
    }
    return rc;
}

/* The secrets of an import as CSV: id,school,district,username,password,client_id. */
static char *secrets_csv(const struct batch *b)
{
    size_t cap = 64 + b->n * (5 * AY_ID_MAX + AYCTL_SECRET_LEN + 8);
    char *s = malloc(cap);
    size_t off = 0;

    if (s == NULL)
        return NULL;
    off += (size_t)snprintf(s, cap, "id,school,district,username,password,client_id\n");
    for (size_t i = 0; i < b->n && off < cap; i++)
        off += (size_t)snprintf(s + off, cap - off, "%s,%s,%s,%s,%s,%s\n", b->devs[i].id,
                                b->devs[i].school, b->district[i], b->devs[i].id, b->secret[i],
                                b->devs[i].id);
    return s;
}

static void remove_outputs(const struct outputs *o, const struct batch *b)
{
    char path[4096];

    if (o->profile)
        unlink(o->profile);
    if (o->conf)
        unlink(o->conf);
    if (o->secrets)
        unlink(o->secrets);
    for (size_t i = 0; o->dir && i < b->n; i++) {
        snprintf(path, sizeof(path), "%s/%s.json", o->dir, b->devs[i].id);
        unlink(path);
    }
}

static enum ay_err write_outputs(const struct outputs *o, const struct batch *b,
                                 char err[AY_ERRLEN])
{
    char path[4096];
    enum ay_err rc = AY_OK;

    if (o->profile || o->conf)
        rc = write_device_files(o, b, 0, o->profile, o->conf, err);
    if (rc == AY_OK && o->secrets) {
        char *csv = secrets_csv(b);
        rc = csv ? ayctl_write_private(o->secrets, csv, strlen(csv), false, err) : AY_ERR_NOMEM;
        if (csv)
            explicit_bzero(csv, strlen(csv));
        free(csv);
    }
    for (size_t i = 0; rc == AY_OK && o->dir && i < b->n; i++) {
        snprintf(path, sizeof(path), "%s/%s.json", o->dir, b->devs[i].id);
        rc = write_device_files(o, b, i, path, NULL, err);
    }
    return rc;
}

static void batch_cleanup(struct batch *b)
{
    if (b->secret)
        explicit_bzero(b->secret, b->n * sizeof(*b->secret));
    free(b->district);
    free(b->secret);
    free(b->role);
}

/* Ids for the devices without one, secrets for all, room for the rest. */
static enum ay_err batch_prepare(struct batch *b)
{
    b->district = calloc(b->n, sizeof(*b->district));
    b->secret = calloc(b->n, sizeof(*b->secret));
    b->role = calloc(b->n, sizeof(*b->role));
    if (b->district == NULL || b->secret == NULL || b->role == NULL)
        return AY_ERR_NOMEM;
    ayctl_who(b->cfg, b->by, sizeof(b->by));
    for (size_t i = 0; i < b->n; i++) {
        unsigned char rnd[4];
        if (b->devs[i].id[0] == '\0' &&
            (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) ||
             ayctl_device_make_id(b->devs[i].kind, rnd, b->devs[i].id) != AY_OK))
            return AY_ERR_IO;
        if (ayctl_secret_new(b->secret[i]) != AY_OK)
            return AY_ERR_IO;
    }
    return AY_OK;
}

/* The file comment's steps 2 to 4 for the devices of b. Exit code; every
 * failure printed. *took_ms: the registry's and the broker's share. */
static int onboard(struct batch *b, const struct outputs *o, long long took_ms[2])
{
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    struct ayctl_admin *admin = NULL;
    bool made = false;
    enum ay_err rc = batch_prepare(b);
    int64_t t0 = ay_mono_us();

    if (rc == AY_OK && (rc = ayctl_db_connect(b->cfg, &db, err)) == AY_OK)
        rc = registry_insert(db, b, err);
    for (size_t i = 0; rc == AY_OK && i < b->n; i++)
        if (ay_dynsec_device_role(b->district[i], b->devs[i].school, b->devs[i].id, &b->role[i]) !=
            AY_OK)
            rc = AY_ERR_INVALID;
    int64_t t1 = ay_mono_us();
    if (rc == AY_OK && (rc = ayctl_admin_connect(b->cfg, &admin, err)) == AY_OK &&
        (rc = accounts_absent(admin, b, err)) == AY_OK &&
        (rc = accounts_create(admin, b, err)) == AY_OK)
        made = true;
    int64_t t2 = ay_mono_us();
    if (rc == AY_OK && (rc = write_outputs(o, b, err)) != AY_OK)
        remove_outputs(o, b);
    if (rc == AY_OK && (rc = ay_pg_commit(db, err)) != AY_OK)
        remove_outputs(o, b);
    if (rc != AY_OK) {
        if (db)
            ay_pg_rollback(db);
        if (made)
            accounts_undo(admin, b, NULL);
        ayctl_fail("%s%s", err[0] ? err : ay_strerror(rc),
                   rc == AY_ERR_NOMEM ? "" : " (nothing was added)");
    }
    took_ms[0] = (t1 - t0 + ay_mono_us() - t2) / 1000;
    took_ms[1] = (t2 - t1) / 1000;
    ayctl_admin_free(admin);
    ay_pg_free(db);
    return ayctl_exit_code(rc);
}

/* An option with a value: *v set, i advanced. */
static bool opt(int argc, char **argv, int *i, const char *name, const char **v)
{
    if (strcmp(argv[*i], name) != 0)
        return false;
    if (*i + 1 >= argc)
        return false;
    *v = argv[++*i];
    return true;
}

static const char add_usage[] =
    "usage: ayctl device add --school S --kind K --location TEXT [--geo LAT,LON] [--shop NAME] "
    "[--heartbeat 60s] [--id DEVICE] [--profile FILE] [--conf FILE]";

static int device_add(const struct ayctl_config *cfg, int argc, char **argv)
{
    struct ayctl_device_spec d;
    struct ayctl_endpoint e;
    struct outputs o = {.endpoint = &e};
    struct batch b = {.cfg = cfg, .via = "ayctl device add", .devs = &d, .n = 1};
    char err[AY_ERRLEN] = "";
    static const char *const fields[] = {"--school", "--kind",      "--location", "--geo",
                                         "--shop",   "--heartbeat", "--id",       "--place"};
    long long took[2];
    int code = AYCTL_EXIT_USAGE;

    ayctl_device_spec_init(&d);
    memset(&e, 0, sizeof(e));
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        bool known =
            opt(argc, argv, &i, "--profile", &o.profile) || opt(argc, argv, &i, "--conf", &o.conf);
        for (size_t k = 0; !known && k < sizeof(fields) / sizeof(fields[0]); k++)
            if (opt(argc, argv, &i, fields[k], &v)) {
                known = true;
                if (ayctl_device_field(&d, fields[k] + 2, v, err) != AY_OK) {
                    ayctl_fail("device add: --%s", err);
                    return AYCTL_EXIT_USAGE;
                }
            }
        if (!known) {
            ayctl_fail("device add: unexpected \"%s\" (%s)", argv[i], add_usage);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (ayctl_device_check(&d, err) != AY_OK) {
        ayctl_fail("device add: --%s (%s)", err, add_usage);
        return AYCTL_EXIT_USAGE;
    }
    if (ayctl_endpoint_load(cfg, &e, err) != AY_OK) {
        ayctl_fail("%s", err);
        goto cleanup;
    }
    code = onboard(&b, &o, took);
    if (code == AYCTL_EXIT_OK) {
        struct ayctl_profile p;
        ayctl_profile_fill(&p, &e, &d, b.district[0], b.secret[0]);
        ayctl_profile_print(&p);
        if (o.profile)
            printf("profile written to %s (mode 0600)\n", o.profile);
    }
cleanup:
    batch_cleanup(&b);
    ayctl_endpoint_cleanup(&e);
    return code;
}

static const char import_usage[] =
    "usage: ayctl device import FILE|- [--school S] (--secrets FILE | --profiles DIR)";

/* The arguments of `device import`; false (the usage printed) when wrong. */
static bool import_args(int argc, char **argv, const char **file, const char **school,
                        struct outputs *o)
{
    for (int i = 2; i < argc; i++) {
        if (opt(argc, argv, &i, "--school", school) ||
            opt(argc, argv, &i, "--secrets", &o->secrets) ||
            opt(argc, argv, &i, "--profiles", &o->dir))
            continue;
        if (*file != NULL || (argv[i][0] == '-' && argv[i][1] != '\0')) {
            ayctl_fail("device import: unexpected \"%s\" (%s)", argv[i], import_usage);
            return false;
        }
        *file = argv[i];
    }
    if (*file == NULL || (o->secrets == NULL && o->dir == NULL)) {
        ayctl_fail("device import: %s (the secrets must go somewhere: a file or profiles)",
                   import_usage);
        return false;
    }
    if (*school && !ay_schema_id_is_valid(*school)) {
        ayctl_fail("device import: --school: \"%s\" is not an id", *school);
        return false;
    }
    return true;
}

static int device_import(const struct ayctl_config *cfg, int argc, char **argv)
{
    const char *file = NULL;
    const char *school = NULL;
    struct ayctl_endpoint e;
    struct outputs o = {.endpoint = &e};
    struct batch b = {.cfg = cfg};
    char err[AY_ERRLEN] = "";
    char *text = NULL;
    size_t len = 0;
    long long took[2] = {0, 0};
    int code = AYCTL_EXIT_USAGE;

    memset(&e, 0, sizeof(e));
    if (!import_args(argc, argv, &file, &school, &o))
        return AYCTL_EXIT_USAGE;
    int64_t t0 = ay_mono_us();
    if (ayctl_read_all(file, IMPORT_FILE_MAX, &text, &len, err) != AY_OK ||
        ayctl_device_csv(text, len, school, &b.devs, &b.n, err) != AY_OK) {
        ayctl_fail("device import: %s: %s (nothing was imported)", file, err);
        goto cleanup;
    }
    /* Refuse to overwrite secrets, and fail before any change if they
     * cannot be written. */
    if (o.secrets && ayctl_write_private(o.secrets, "", 0, true, err) != AY_OK) {
        ayctl_fail("device import: --secrets %s (nothing was imported)", err);
        o.secrets = NULL;
        goto cleanup;
    }
    if (o.dir && mkdir(o.dir, 0700) != 0 && errno != EEXIST) {
        ayctl_fail("device import: --profiles %s: %s (nothing was imported)", o.dir,
                   strerror(errno));
        goto cleanup;
    }
    if (ayctl_endpoint_load(cfg, &e, err) != AY_OK) {
        ayctl_fail("%s", err);
        goto cleanup;
    }
    b.via = file;
    code = onboard(&b, &o, took);
    if (code == AYCTL_EXIT_OK) {
        printf("imported %zu devices from %s in %.2f s (registry %.2f s, broker %.2f s)\n", b.n,
               file, (double)(ay_mono_us() - t0) / 1e6, (double)took[0] / 1e3,
               (double)took[1] / 1e3);
        if (o.secrets)
            printf("secrets: %s (mode 0600; shown nowhere else)\n", o.secrets);
        if (o.dir)
            printf("profiles: %s/<device>.json (mode 0600)\n", o.dir);
    }
cleanup:
    if (code != AYCTL_EXIT_OK && o.secrets)
        unlink(o.secrets);
    batch_cleanup(&b);
    free(b.devs);
    if (text)
        explicit_bzero(text, len);
    free(text);
    ayctl_endpoint_cleanup(&e);
    return code;
}

int ayctl_device(const struct ayctl_config *cfg, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return device_add(cfg, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "import") == 0)
        return device_import(cfg, argc, argv);
    return ayctl_device_admin(cfg, argc, argv);
}
