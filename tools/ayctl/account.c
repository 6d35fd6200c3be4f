/*
 * ayctl account.c - broker accounts of people (police, bureau and
 * government staff) and of services, made through the dynamic security
 * plugin with the scopes deploy/broker-ctl gives them (lib/ay_dynsec):
 *
 *   police|bureau|government: roles AUDIENCE.D (shared, made or refreshed
 *     to exactly its ACLs) and acks.D.AUDIENCE.NAME (its own ack topic and
 *     receipts); client id bound to NAME, so no other account can take its
 *     session over (docs/broker.md "Client ids");
 *   service: role service, any client id (services run several
 *     connections).
 *
 * Device accounts are not made or changed here: `ayctl device` keeps them
 * and their registry rows together. People's accounts are not in the
 * registry; dynsec logs every change in mosquitto.log.
 * `account list` prints what `deploy/broker-ctl list` prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ay_json.h"
#include "device.h"

struct who {
    const char *name;
    bool service;
    enum ay_audience audience;
    const char *district;
};

/* The ayctl configuration of the account: its broker endpoint, credentials,
 * district and audience. A new string; NULL when out of memory. */
static char *account_conf(const struct who *w, const struct ayctl_endpoint *e, const char *secret)
{
    size_t cap = 1024 + (e->ca_file ? strlen(e->ca_file) : 0);
    char *s = malloc(cap);
    char url[300];
    bool tls = e->mqtts_port > 0;

    if (s == NULL)
        return NULL;
    snprintf(url, sizeof(url), "%s://%s:%d", tls ? "ssl" : "tcp", e->host,
             tls                ? e->mqtts_port
             : e->mqtt_port > 0 ? e->mqtt_port
                                : 1883);
    int n = snprintf(s, cap, "mqtt_url = %s\n", url);
    if (tls && e->ca_file)
        n += snprintf(s + n, cap - (size_t)n, "mqtt_ca_file = %s\n", e->ca_file);
    n += snprintf(s + n, cap - (size_t)n, "mqtt_username = %s\nmqtt_password = %s\n", w->name,
                  secret);
    if (!w->service)
        snprintf(s + n, cap - (size_t)n, "district = %s\naudience = %s\n", w->district,
                 ay_audience_word(w->audience));
    return s;
}

/* The account's roles. */
static enum ay_err roles_of(const struct who *w, struct ay_dynsec_role roles[2], size_t *n)
{
    if (w->service) {
        ay_dynsec_service_role(&roles[0]);
        *n = 1;
        return AY_OK;
    }
    *n = 2;
    enum ay_err rc = ay_dynsec_audience_role(w->audience, w->district, &roles[0]);
    return rc == AY_OK ? ay_dynsec_acks_role(w->audience, w->district, w->name, &roles[1]) : rc;
}

/* The arguments of `account add` into *w and *conf_file; false (the
 * usage printed) when they are wrong. */
static bool add_args(const struct ayctl_config *cfg, int argc, char **argv, struct who *w,
                     const char **conf_file)
{
    const char *role = NULL;

    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            role = argv[++i];
        else if (strcmp(argv[i], "--district") == 0 && i + 1 < argc)
            w->district = argv[++i];
        else if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
            *conf_file = argv[++i];
        else if (w->name == NULL && argv[i][0] != '-')
            w->name = argv[i];
        else {
            role = NULL; /* a usage error below */
            break;
        }
    }
    w->service = role && strcmp(role, "service") == 0;
    if (role && strcmp(role, AY_TOPIC_AUDIENCE_SCHOOL) == 0) {
        ayctl_fail("account add: a school has no accounts of people: it reads its escalations "
                   "and acknowledges them through a device of its own (ayctl device add "
                   "--school S --kind app)");
        return false;
    }
    if (w->name == NULL || role == NULL ||
        (!w->service && !ay_audience_parse(role, &w->audience))) {
        ayctl_fail("usage: ayctl account add --role police|bureau|government|service "
                   "[--district D] NAME [--conf FILE]");
        return false;
    }
    if (!ay_schema_id_is_valid(w->name) || !ay_schema_id_is_valid(w->district) ||
        strcmp(w->name, cfg->broker_admin_username ? cfg->broker_admin_username : "admin") == 0) {
        ayctl_fail("account add: \"%s\" (district \"%s\"): ids are 1 to 32 of a-z, 0-9 and -, "
                   "not - first, and not the admin account",
                   w->name, w->district);
        return false;
    }
    return true;
}

/* Undoes a failed add: the account, and its own acks role if this add made
 * it (the shared role stays: others use it). Best effort. */
static void add_undo(struct ayctl_admin *admin, const struct who *w,
                     const struct ay_dynsec_role roles[2], size_t nroles, const char *const made[2],
                     bool client_made)
{
    struct ay_dynsec_batch *u = NULL;
    char ignored[AY_ERRLEN];
    enum ay_err rc = ayctl_admin_batch(&u);

    /* Not an account this add did not make (someone else's, made meanwhile). */
    if (rc == AY_OK && client_made)
        rc = ayctl_admin_add(u, ay_dynsec_cmd_client("deleteClient", w->name));
    if (rc == AY_OK && nroles == 2 && made[1] != NULL && strcmp(made[1], "created") == 0)
        rc = ayctl_admin_add(u, ay_dynsec_cmd_role("deleteRole", roles[1].name));
    if (rc == AY_OK && ay_dynsec_batch_count(u) > 0)
        (void)ayctl_admin_run(admin, u, ignored);
    ay_dynsec_batch_free(u);
}

/* Makes the account with its roles and secret; *made says what became of
 * each role. */
static enum ay_err add_account(struct ayctl_admin *admin, const struct who *w,
                               const struct ay_dynsec_role roles[2], size_t nroles,
                               const char *secret, const char *made[2], char err[AY_ERRLEN])
{
    struct ay_dynsec_batch *c = NULL;
    const char *names[2] = {roles[0].name, nroles > 1 ? roles[1].name : NULL};
    enum ay_err rc = AY_OK;

    for (size_t i = 0; rc == AY_OK && i < nroles; i++)
        rc = ayctl_admin_ensure_role(admin, &roles[i], &made[i], err);
    if (rc == AY_OK && (rc = ayctl_admin_batch(&c)) == AY_OK &&
        (rc = ayctl_admin_add(c, ay_dynsec_cmd_create_client(w->name, secret,
                                                             w->service ? NULL : w->name, names,
                                                             nroles))) == AY_OK &&
        (rc = ayctl_admin_run(admin, c, err)) == AY_OK)
        rc = ayctl_admin_first_error(c, "account add", err);
    ay_dynsec_batch_free(c);
    return rc;
}

static int account_add(const struct ayctl_config *cfg, int argc, char **argv)
{
    struct who w = {.district = cfg->common.district};
    const char *conf_file = NULL;
    struct ayctl_endpoint e;
    struct ayctl_admin *admin = NULL;
    struct ay_dynsec_batch *q = NULL;
    struct ay_dynsec_role roles[2];
    const char *made[2] = {NULL, NULL};
    const cJSON *client = NULL;
    char secret[AYCTL_SECRET_LEN] = "";
    char err[AY_ERRLEN] = "";
    char *conf = NULL;
    size_t nroles = 0;
    bool found = false;
    bool tried = false;
    bool client_made = false;

    memset(&e, 0, sizeof(e));
    if (!add_args(cfg, argc, argv, &w, &conf_file))
        return AYCTL_EXIT_USAGE;
    enum ay_err rc = ayctl_endpoint_load(cfg, &e, err);
    if (rc == AY_OK && (rc = roles_of(&w, roles, &nroles)) == AY_OK &&
        (rc = ayctl_secret_new(secret)) == AY_OK &&
        (rc = ayctl_admin_connect(cfg, &admin, err)) == AY_OK)
        rc = ayctl_admin_get_client(admin, w.name, &found, &client, &q, err);
    if (rc == AY_OK && found) {
        ay_errf(err,
                "account %s exists already (ayctl account list; a new secret: ayctl account "
                "rotate %s)",
                w.name, w.name);
        rc = AY_ERR_INVALID;
    }
    if (rc == AY_OK) {
        tried = true;
        rc = add_account(admin, &w, roles, nroles, secret, made, err);
        client_made = rc == AY_OK;
    }
    if (rc == AY_OK && (conf = account_conf(&w, &e, secret)) == NULL)
        rc = AY_ERR_NOMEM;
    if (rc == AY_OK && conf_file)
        rc = ayctl_write_private(conf_file, conf, strlen(conf), false, err);
    if (rc != AY_OK && tried)
        add_undo(admin, &w, roles, nroles, made, client_made);
    if (rc != AY_OK) {
        ayctl_fail("account add: %s", err[0] ? err : ay_strerror(rc));
    } else {
        for (size_t i = 0; i < nroles; i++)
            printf("role %s: %s\n", roles[i].name, made[i]);
        printf("account %s: created with role(s) %s%s%s (client id %s)\n"
               "secret: %s   (shown this once)\n"
               "ayctl configuration (mode 0600):\n%s",
               w.name, roles[0].name, nroles > 1 ? " " : "", nroles > 1 ? roles[1].name : "",
               w.service ? "any" : w.name, secret, conf);
        if (conf_file)
            printf("written to %s (mode 0600)\n", conf_file);
    }
    explicit_bzero(secret, sizeof(secret));
    if (conf)
        explicit_bzero(conf, strlen(conf));
    free(conf);
    ay_dynsec_batch_free(q);
    ayctl_admin_free(admin);
    ayctl_endpoint_cleanup(&e);
    return ayctl_exit_code(rc);
}

/* `broker-ctl list`: NAME ROLES CLIENTID enabled|disabled, tab-separated. */
static int account_list(const struct ayctl_config *cfg)
{
    struct ayctl_admin *admin = NULL;
    struct ay_dynsec_batch *b = NULL;
    const char *e = NULL;
    const cJSON *data = NULL;
    const cJSON *c = NULL;
    char err[AY_ERRLEN] = "";
    enum ay_err rc = ayctl_admin_connect(cfg, &admin, err);

    if (rc == AY_OK)
        rc = ayctl_admin_run_one(admin, ay_dynsec_cmd_list_clients(), &e, &b, err);
    if (rc == AY_OK && e != NULL) {
        ay_errf(err, "listing accounts: %s", e);
        rc = AY_ERR_MQTT;
    }
    if (rc != AY_OK) {
        ayctl_fail("account list: %s", err);
        ayctl_admin_free(admin);
        ay_dynsec_batch_free(b);
        return ayctl_exit_code(rc);
    }
    (void)ay_dynsec_batch_result(b, 0, &e, &data);
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(data, "clients"))
    {
        const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "username"));
        const char *cid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "clientid"));
        const cJSON *r = NULL;
        bool first = true;
        printf("%s\t", u ? u : "?");
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(c, "roles"))
        {
            const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "rolename"));
            printf("%s%s", first ? "" : ",", n ? n : "?");
            first = false;
        }
        printf("%s\t%s\t%s\n", first ? "-" : "", cid && *cid ? cid : "-",
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "disabled")) ? "disabled"
                                                                             : "enabled");
    }
    ay_dynsec_batch_free(b);
    ayctl_admin_free(admin);
    return AYCTL_EXIT_OK;
}

/* disable, enable, rotate, remove of a person's or service's account. */
static int account_change(const struct ayctl_config *cfg, const char *cmd, const char *name)
{
    struct ayctl_admin *admin = NULL;
    struct ay_dynsec_batch *q = NULL;
    struct ay_dynsec_batch *b = NULL;
    const cJSON *client = NULL;
    const cJSON *r = NULL;
    char secret[AYCTL_SECRET_LEN] = "";
    char err[AY_ERRLEN] = "";
    bool found = false;
    enum ay_err rc = AY_OK;

    if (strcmp(name, cfg->broker_admin_username ? cfg->broker_admin_username : "admin") == 0) {
        ay_errf(err, "%s is the broker's admin account (managed by ay_broker_setup)", name);
        rc = AY_ERR_INVALID;
    }
    if (rc == AY_OK)
        rc = ayctl_admin_connect(cfg, &admin, err);
    if (rc == AY_OK)
        rc = ayctl_admin_get_client(admin, name, &found, &client, &q, err);
    if (rc == AY_OK && !found) {
        ay_errf(err, "no account %s", name);
        rc = AY_ERR_NOTFOUND;
    }
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(client, "roles"))
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "rolename"));
        if (rc == AY_OK && n && strncmp(n, "device.", 7) == 0) {
            ay_errf(err, "%s is a device: ayctl device %s %s (keeps the registry in step)", name,
                    cmd, name);
            rc = AY_ERR_INVALID;
        }
    }
    if (rc == AY_OK)
        rc = ayctl_admin_batch(&b);
    if (rc == AY_OK && strcmp(cmd, "rotate") == 0 && (rc = ayctl_secret_new(secret)) == AY_OK)
        rc = ayctl_admin_add(b, ay_dynsec_cmd_set_password(name, secret));
    else if (rc == AY_OK && strcmp(cmd, "remove") == 0) {
        rc = ayctl_admin_add(b, ay_dynsec_cmd_client("deleteClient", name));
        /* A person's acks role is its own: it goes with the account. */
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(client, "roles"))
        {
            const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "rolename"));
            if (rc == AY_OK && n && strncmp(n, "acks.", 5) == 0)
                rc = ayctl_admin_add(b, ay_dynsec_cmd_role("deleteRole", n));
        }
    } else if (rc == AY_OK) {
        rc = ayctl_admin_add(
            b, ay_dynsec_cmd_client(strcmp(cmd, "enable") == 0 ? "enableClient" : "disableClient",
                                    name));
    }
    if (rc == AY_OK && (rc = ayctl_admin_run(admin, b, err)) == AY_OK)
        rc = ayctl_admin_first_error(b, name, err);
    if (rc != AY_OK)
        ayctl_fail("account %s: %s", cmd, err);
    else if (secret[0])
        printf("account %s: new secret %s   (shown this once; the old one no longer works, its "
               "connections were closed)\n",
               name, secret);
    else
        printf("account %s: %s\n", name,
               strcmp(cmd, "remove") == 0   ? "removed (its connections were closed)"
               : strcmp(cmd, "enable") == 0 ? "enabled"
                                            : "disabled (its connections were closed)");
    explicit_bzero(secret, sizeof(secret));
    ay_dynsec_batch_free(q);
    ay_dynsec_batch_free(b);
    ayctl_admin_free(admin);
    return ayctl_exit_code(rc == AY_ERR_NOTFOUND ? AY_ERR_IO : rc);
}

int ayctl_account(const struct ayctl_config *cfg, int argc, char **argv)
{
    const char *cmd = argc >= 2 ? argv[1] : "";

    if (strcmp(cmd, "add") == 0)
        return account_add(cfg, argc, argv);
    if (strcmp(cmd, "list") == 0 && argc == 2)
        return account_list(cfg);
    if ((strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0 || strcmp(cmd, "rotate") == 0 ||
         strcmp(cmd, "remove") == 0) &&
        argc == 3 && ay_schema_id_is_valid(argv[2]))
        return account_change(cfg, cmd, argv[2]);
    ayctl_fail("usage: ayctl account add --role police|bureau|government|service [--district D] "
               "NAME [--conf FILE] | list | disable|enable|rotate|remove NAME");
    return AYCTL_EXIT_USAGE;
}
