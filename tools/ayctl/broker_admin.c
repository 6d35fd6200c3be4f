/*
 * ayctl broker_admin.c - the broker's dynamic security plugin, driven from
 * C over MQTT as the broker's admin account (docs/broker.md "Accounts").
 *
 * Owns: one admin connection per invocation, with a client id of its own
 * ("ayctl-admin-<random>", clean start, no session kept), so two ayctl
 * processes never take over each other's session; the sending of a batch
 * of dynsec commands (lib/ay_dynsec) and the wait for its answers, matched
 * by correlation (dynsec 2.0.11 sends every answer to every admin
 * subscriber: ay_dynsec.h). Also: ensuring a shared role has exactly its
 * ACLs, new random secrets.
 *
 * Why requests are sized by time: Mosquitto is single-threaded and dynsec
 * 2.0.11 rewrites its whole JSON file after every change, so a request of
 * n changes keeps the broker from everything else (alarms included) for n
 * times the cost of one rewrite, and that cost grows with the number of
 * accounts. Requests are sent one at a time, the next one sized from the
 * time the last one took per command, so that each keeps the broker busy
 * for about broker_admin_batch_ms; other clients are served between them.
 *
 * Threads: the answers arrive on Paho's receive thread (on_response), which
 * takes `lock` only to record them; the caller waits on `cond`.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ay_dynsec.h"
#include "ay_log.h"
#include "ay_sync.h"
#include "ay_uuid.h"
#include "ayctl.h"

/* Below the broker's max_packet_size (260 KiB, broker-config/mosquitto.conf.in). */
#define REQUEST_MAX_BYTES  (200 * 1024)
#define REQUEST_MAX_CMDS   500
#define FIRST_REQUEST_CMDS 20
#define ADMIN_PW_MAX       256

struct ayctl_admin {
    struct ay_mqtt *mqtt;
    int timeout_ms;
    long long batch_ms;
    char client_id[64];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct ay_dynsec_batch *batch; /* the batch being answered; guarded by lock */
};

/* Paho's receive thread: record the answers that are ours. */
static void on_response(void *arg, const struct ay_mqtt_msg *m)
{
    struct ayctl_admin *a = arg;

    if (strcmp(m->topic, AY_DYNSEC_RESPONSE_TOPIC) != 0)
        return;
    pthread_mutex_lock(&a->lock);
    if (a->batch != NULL && ay_dynsec_batch_accept(a->batch, m->payload, m->len) > 0)
        pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

static enum ay_err read_password(const char *path, char pw[ADMIN_PW_MAX], char err[AY_ERRLEN])
{
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        ay_errf(err, "broker_admin_password_file %s: cannot open: %s", path, strerror(errno));
        return AY_ERR_CONFIG;
    }
    bool ok = fgets(pw, ADMIN_PW_MAX, f) != NULL;
    fclose(f);
    pw[ok ? strcspn(pw, "\r\n") : 0] = '\0';
    if (pw[0] == '\0') {
        ay_errf(err, "broker_admin_password_file %s: no password on its first line", path);
        return AY_ERR_CONFIG;
    }
    return AY_OK;
}

const char *ayctl_admin_url(const struct ayctl_config *cfg)
{
    if (cfg->broker_admin_url && cfg->broker_admin_url[0] != '\0')
        return cfg->broker_admin_url;
    return cfg->common.mqtt_url;
}

enum ay_err ayctl_admin_connect(const struct ayctl_config *cfg, struct ayctl_admin **out,
                                char err[AY_ERRLEN])
{
    char pw[ADMIN_PW_MAX];
    char uuid[AY_UUID_STRLEN];
    struct ayctl_admin *a = NULL;
    struct ay_mqtt_opts o = {0};
    enum ay_err rc;

    if (cfg->broker_admin_password_file == NULL || cfg->broker_admin_password_file[0] == '\0') {
        ay_errf(err, "the broker's admin account is not configured: set broker_admin_password_file "
                     "(AY_BROKER_ADMIN_PASSWORD_FILE), e.g. var/broker/secrets/admin.pw");
        return AY_ERR_CONFIG;
    }
    if ((rc = read_password(cfg->broker_admin_password_file, pw, err)) != AY_OK)
        return rc;
    if ((rc = ay_uuid_v4(uuid)) != AY_OK)
        goto cleanup;
    rc = AY_ERR_NOMEM;
    if ((a = calloc(1, sizeof(*a))) == NULL)
        goto cleanup;
    pthread_mutex_init(&a->lock, NULL);
    ay_cond_init(&a->cond);
    a->timeout_ms = (int)cfg->timeout_ms;
    a->batch_ms = cfg->broker_admin_batch_ms;
    /* Unique per invocation: the admin account is not bound to a client id. */
    snprintf(a->client_id, sizeof(a->client_id), "ayctl-admin-%.8s-%ld", uuid, (long)getpid());
    o.url = ayctl_admin_url(cfg);
    o.client_id = a->client_id;
    o.username = cfg->broker_admin_username;
    o.password = pw;
    o.ca_file = cfg->common.mqtt_ca_file;
    o.clean_start = true;
    o.session_expiry_s = 0;
    if ((rc = ay_mqtt_new(&o, on_response, a, &a->mqtt, err)) != AY_OK ||
        (rc = ay_mqtt_subscribe(a->mqtt, AY_DYNSEC_RESPONSE_TOPIC, 1, err)) != AY_OK)
        goto cleanup;
    if ((rc = ay_mqtt_connect(a->mqtt, a->timeout_ms, err)) != AY_OK) {
        char why[AY_ERRLEN];
        snprintf(why, sizeof(why), "%s", err);
        ay_errf(err, "cannot connect to the broker as its admin account %s: %s",
                cfg->broker_admin_username ? cfg->broker_admin_username : "", why);
        goto cleanup;
    }
    *out = a;
    a = NULL;
cleanup:
    explicit_bzero(pw, sizeof(pw));
    ayctl_admin_free(a);
    return rc;
}

void ayctl_admin_free(struct ayctl_admin *a)
{
    if (a == NULL)
        return;
    ay_mqtt_free(a->mqtt);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

enum ay_err ayctl_admin_add(struct ay_dynsec_batch *b, cJSON *cmd)
{
    enum ay_err rc = cmd == NULL ? AY_ERR_NOMEM : ay_dynsec_batch_take(b, cmd, NULL);
    if (rc != AY_OK)
        cJSON_Delete(cmd);
    return rc;
}

enum ay_err ayctl_admin_batch(struct ay_dynsec_batch **out)
{
    char tag[AY_UUID_STRLEN];
    enum ay_err rc = ay_uuid_v4(tag);
    return rc == AY_OK ? ay_dynsec_batch_new(tag, out) : rc;
}

/* Sends commands [from, *to) of b in one request and waits for their answers. */
static enum ay_err run_one(struct ayctl_admin *a, struct ay_dynsec_batch *b, size_t from,
                           size_t max_cmds, size_t *to, char err[AY_ERRLEN])
{
    char *payload = NULL;
    size_t len = 0;
    enum ay_err rc =
        ay_dynsec_batch_message(b, from, max_cmds, REQUEST_MAX_BYTES, &payload, &len, to, err);

    if (rc != AY_OK)
        return rc;
    rc = ay_mqtt_publish_wait(a->mqtt, AY_DYNSEC_TOPIC, payload, len, 1, a->timeout_ms, err);
    free(payload);
    if (rc != AY_OK)
        return rc;
    int64_t until = ay_mono_deadline_us(a->timeout_ms);
    pthread_mutex_lock(&a->lock);
    size_t left = ay_dynsec_batch_unanswered(b, from, *to);
    while (left > 0 && ay_cond_wait_until(&a->cond, &a->lock, until))
        left = ay_dynsec_batch_unanswered(b, from, *to);
    left = ay_dynsec_batch_unanswered(b, from, *to);
    pthread_mutex_unlock(&a->lock);
    if (left > 0) {
        ay_errf(err,
                "the broker did not answer %zu of %zu dynamic-security commands within %d ms "
                "(is the dynamic security plugin loaded, and the admin account allowed on %s?)",
                left, *to - from, a->timeout_ms, AY_DYNSEC_TOPIC);
        return AY_ERR_TIMEOUT;
    }
    return AY_OK;
}

enum ay_err ayctl_admin_run(struct ayctl_admin *a, struct ay_dynsec_batch *b, char err[AY_ERRLEN])
{
    size_t n = ay_dynsec_batch_count(b);
    size_t max_cmds = FIRST_REQUEST_CMDS;
    enum ay_err rc = AY_OK;

    pthread_mutex_lock(&a->lock);
    a->batch = b;
    pthread_mutex_unlock(&a->lock);
    for (size_t from = 0, to = 0; from < n && rc == AY_OK; from = to) {
        int64_t t0 = ay_mono_us();
        rc = run_one(a, b, from, max_cmds, &to, err);
        int64_t took_us = ay_mono_us() - t0;
        char cmds[24];
        char ms[24];
        snprintf(cmds, sizeof(cmds), "%zu", to - from);
        snprintf(ms, sizeof(ms), "%lld", (long long)(took_us / 1000));
        ay_log_debug("dynsec request answered", "commands", cmds, "took_ms", ms, NULL);
        /* The next request: about batch_ms of the broker's time at the pace
         * this one went (at least one command, at most REQUEST_MAX_CMDS). */
        double per_cmd_us = (double)took_us / (double)(to - from);
        double fit = (double)a->batch_ms * 1000.0 / (per_cmd_us > 1.0 ? per_cmd_us : 1.0);
        max_cmds = fit < 1.0 ? 1 : fit > REQUEST_MAX_CMDS ? REQUEST_MAX_CMDS : (size_t)fit;
    }
    pthread_mutex_lock(&a->lock);
    a->batch = NULL;
    pthread_mutex_unlock(&a->lock);
    return rc;
}

enum ay_err ayctl_admin_run_one(struct ayctl_admin *a, cJSON *cmd, const char **error,
                                struct ay_dynsec_batch **out, char err[AY_ERRLEN])
{
    struct ay_dynsec_batch *b = NULL;
    enum ay_err rc = ayctl_admin_batch(&b);

    if (rc != AY_OK) {
        cJSON_Delete(cmd);
        return rc;
    }
    if ((rc = ayctl_admin_add(b, cmd)) != AY_OK) {
        ay_dynsec_batch_free(b);
        return rc;
    }
    if ((rc = ayctl_admin_run(a, b, err)) != AY_OK) {
        ay_dynsec_batch_free(b);
        return rc;
    }
    (void)ay_dynsec_batch_result(b, 0, error, NULL);
    *out = b;
    return AY_OK;
}

enum ay_err ayctl_admin_get_client(struct ayctl_admin *a, const char *name, bool *found,
                                   const cJSON **client, struct ay_dynsec_batch **keep,
                                   char err[AY_ERRLEN])
{
    const char *e = NULL;
    const cJSON *data = NULL;
    enum ay_err rc = ayctl_admin_run_one(a, ay_dynsec_cmd_client("getClient", name), &e, keep, err);

    if (rc != AY_OK)
        return rc;
    if (e != NULL && !ay_dynsec_is_not_found(e)) {
        ay_errf(err, "reading account %s: %s", name, e);
        return AY_ERR_MQTT;
    }
    *found = e == NULL;
    (void)ay_dynsec_batch_result(*keep, 0, &e, &data);
    *client = cJSON_GetObjectItemCaseSensitive(data, "client");
    return AY_OK;
}

/* ---- roles ------------------------------------------------------------------------ */

/* Adds to b what turns role `have` into `want`: unexpected ACLs (also one
 * whose allow or priority differ) removed first, missing ones added. */
static enum ay_err role_changes(struct ay_dynsec_batch *b, const struct ay_dynsec_role *have,
                                const struct ay_dynsec_role *want)
{
    enum ay_err rc = AY_OK;

    for (size_t i = 0; rc == AY_OK && i < have->nacls; i++)
        if (!ay_dynsec_role_has_acl(want, &have->acls[i]))
            rc = ayctl_admin_add(
                b, ay_dynsec_cmd_role_acl("removeRoleACL", want->name, &have->acls[i]));
    for (size_t i = 0; rc == AY_OK && i < want->nacls; i++)
        if (!ay_dynsec_role_has_acl(have, &want->acls[i]))
            rc = ayctl_admin_add(b,
                                 ay_dynsec_cmd_role_acl("addRoleACL", want->name, &want->acls[i]));
    return rc;
}

/* The first failed answer of b, as "<command>: <error>" in err; AY_OK if none. */
enum ay_err ayctl_admin_first_error(const struct ay_dynsec_batch *b, const char *what,
                                    char err[AY_ERRLEN])
{
    for (size_t i = 0; i < ay_dynsec_batch_count(b); i++) {
        const char *e = NULL;
        if (!ay_dynsec_batch_result(b, i, &e, NULL)) {
            ay_errf(err, "%s: %s: no answer from the broker", what, ay_dynsec_batch_command(b, i));
            return AY_ERR_TIMEOUT;
        }
        if (e != NULL) {
            ay_errf(err, "%s: %s: %s", what, ay_dynsec_batch_command(b, i), e);
            return AY_ERR_MQTT;
        }
    }
    return AY_OK;
}

enum ay_err ayctl_admin_ensure_role(struct ayctl_admin *a, const struct ay_dynsec_role *want,
                                    const char **what, char err[AY_ERRLEN])
{
    struct ay_dynsec_batch *get = NULL;
    struct ay_dynsec_batch *fix = NULL;
    struct ay_dynsec_role have;
    const char *e = NULL;
    const cJSON *data = NULL;
    char where[AY_DYNSEC_NAME_MAX + 16];
    enum ay_err rc =
        ayctl_admin_run_one(a, ay_dynsec_cmd_role("getRole", want->name), &e, &get, err);

    snprintf(where, sizeof(where), "role %s", want->name);
    if (rc != AY_OK)
        goto cleanup;
    if ((rc = ayctl_admin_batch(&fix)) != AY_OK)
        goto cleanup;
    if (e != NULL && ay_dynsec_is_not_found(e)) {
        *what = "created";
        rc = ayctl_admin_add(fix, ay_dynsec_cmd_create_role(want));
    } else if (e != NULL) {
        ay_errf(err, "reading role %s: %s", want->name, e);
        rc = AY_ERR_MQTT;
    } else {
        (void)ay_dynsec_batch_result(get, 0, &e, &data);
        rc = ay_dynsec_role_from_json(cJSON_GetObjectItemCaseSensitive(data, "role"), &have, err);
        if (rc == AY_OK)
            rc = role_changes(fix, &have, want);
        *what = ay_dynsec_batch_count(fix) > 0 ? "updated" : "up to date";
    }
    if (rc == AY_OK && ay_dynsec_batch_count(fix) > 0 &&
        (rc = ayctl_admin_run(a, fix, err)) == AY_OK)
        rc = ayctl_admin_first_error(fix, where, err);
cleanup:
    ay_dynsec_batch_free(get);
    ay_dynsec_batch_free(fix);
    return rc;
}

/* ---- secrets ------------------------------------------------------------------------ */

enum ay_err ayctl_secret_new(char out[AYCTL_SECRET_LEN])
{
    unsigned char rnd[(AYCTL_SECRET_LEN - 1) / 2];
    static const char hex[] = "0123456789abcdef";

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return AY_ERR_IO;
    for (size_t i = 0; i < sizeof(rnd); i++) {
        out[2 * i] = hex[rnd[i] >> 4];
        out[2 * i + 1] = hex[rnd[i] & 15];
    }
    out[AYCTL_SECRET_LEN - 1] = '\0';
    explicit_bzero(rnd, sizeof(rnd));
    return AY_OK;
}
