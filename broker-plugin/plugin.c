/*
 * plugin.c - ay_audit, a Mosquitto 2.0 (plugin API v5) plugin that writes
 * one line to the broker's log for every refused login, publish,
 * subscription, unsubscription or delivery, naming the account, the client
 * id, the peer address and the topic. Mosquitto 2.0.11 logs refused
 * publishes only at debug level, refused subscriptions not at all, and
 * refused logins without the username.
 *
 * How: the dynamic security plugin ("dynsec") decides; this plugin only
 * watches. It is loaded BEFORE dynsec (mosquitto.conf), so its ACL-check and
 * basic-auth callbacks are registered first and run first (src/plugin.c:
 * DL_APPEND; src/security.c: callbacks in order, the first result that is
 * not MOSQ_ERR_PLUGIN_DEFER is the decision). Each of them calls dynsec's own
 * callback (exported by mosquitto_dynamic_security.so, found with
 * dlopen(RTLD_NOLOAD) + dlsym once the broker has loaded it), logs when the
 * answer is not "allowed", and returns that very answer. dynsec's callbacks
 * ignore their userdata and use only dynsec's globals (plugins/dynamic-
 * security/acl.c, auth.c at v2.0.11), so calling them directly is the same
 * as the broker calling them. When dynsec defers (no ACL matches, unknown
 * account), this plugin defers too: the broker then asks dynsec's callback
 * itself, which defers again, and everything deferred means refused
 * (allow_anonymous is false in our configuration).
 *
 * Never breaks the broker: if dynsec's functions cannot be found, one
 * warning is logged when the broker starts and every callback defers (dynsec
 * then decides alone, unlogged).
 *
 * Options (plugin_opt_<key> after the `plugin` line):
 *   dynsec_plugin  path of mosquitto_dynamic_security.so, exactly as on
 *                  dynsec's `plugin` line (required; without it: a warning,
 *                  nothing is logged)
 *   burst          lines per account per window (default 10)
 *   window_s       the window in seconds (default 10)
 *   max_lines      lines per window for all accounts together (default 100)
 * Threads: Mosquitto 2.0.11 calls everything here on its one main thread;
 * all state is in the plugin's userdata (struct plugin).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "audit.h"

/* The build hides every symbol; these three are what the broker looks up. */
#define AUDIT_EXPORT __attribute__((visibility("default")))

enum dynsec_state {
    DYNSEC_UNKNOWN, /* not looked up yet: dynsec is loaded after this plugin */
    DYNSEC_READY,
    DYNSEC_MISSING, /* warned once; every callback defers */
};

struct plugin {
    mosquitto_plugin_id_t *id;
    char *dynsec_path;
    enum dynsec_state state;
    void *dynsec; /* dlopen handle (a reference to the broker's copy) */
    MOSQ_FUNC_generic_callback dynsec_acl;
    MOSQ_FUNC_generic_callback dynsec_auth;
    struct audit_limits lim;
    struct audit *audit;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* audit_line_fn: into the broker's log, at the matching level. */
static void write_line(void *arg, enum ay_level level, const char *line)
{
    (void)arg;
    int mosq_level = MOSQ_LOG_INFO;
    if (level == AY_LOG_WARN)
        mosq_level = MOSQ_LOG_WARNING;
    else if (level >= AY_LOG_ERROR)
        mosq_level = MOSQ_LOG_ERR;
    mosquitto_log_printf(mosq_level, "%s", line);
}

static void say(enum ay_level level, const char *msg, const char *const *kv, size_t kv_count)
{
    audit_say(write_line, NULL, level, msg, kv, kv_count);
}

/* ---------------------------------------------------------------- dynsec */

/* Finds dynsec's callbacks the first time it is asked (the broker loads
 * dynsec after this plugin, so not at init; the first tick comes as the
 * broker's main loop starts, before any client). */
static bool dynsec_ready(struct plugin *p)
{
    const char *why = NULL;

    if (p->state != DYNSEC_UNKNOWN)
        return p->state == DYNSEC_READY;
    p->state = DYNSEC_MISSING;
    dlerror();
    p->dynsec = dlopen(p->dynsec_path, RTLD_NOW | RTLD_NOLOAD);
    if (p->dynsec == NULL) {
        why = dlerror();
        if (why == NULL)
            why = "not loaded by the broker (it must be the path of dynsec's plugin line)";
    } else {
        /* POSIX: dlsym's result converts to a function pointer. */
        p->dynsec_acl = (MOSQ_FUNC_generic_callback)dlsym(p->dynsec, "dynsec__acl_check_callback");
        p->dynsec_auth =
            (MOSQ_FUNC_generic_callback)dlsym(p->dynsec, "dynsec_auth__basic_auth_callback");
        if (p->dynsec_acl == NULL || p->dynsec_auth == NULL) {
            why = "it exports no dynsec__acl_check_callback or dynsec_auth__basic_auth_callback";
            dlclose(p->dynsec);
            p->dynsec = NULL;
        }
    }
    if (why != NULL) {
        const char *kv[] = {"dynsec_plugin", p->dynsec_path, "err", why};
        say(AY_LOG_WARN, "cannot log refused access, dynsec decides alone", kv, 4);
        return false;
    }
    p->state = DYNSEC_READY;
    char burst[24];
    char window[24];
    char max[24];
    snprintf(burst, sizeof(burst), "%u", p->lim.burst);
    snprintf(window, sizeof(window), "%u", p->lim.window_s);
    snprintf(max, sizeof(max), "%u", p->lim.max_lines);
    const char *kv[] = {
        "dynsec_plugin", p->dynsec_path, "burst", burst, "window_s", window, "max_lines", max,
    };
    say(AY_LOG_INFO, "logging refused access", kv, 8);
    return true;
}

/* ------------------------------------------------------------- callbacks */

static const char *action_name(int access)
{
    switch (access) {
    case MOSQ_ACL_WRITE:
        return "publish";
    case MOSQ_ACL_READ:
        return "receive";
    case MOSQ_ACL_SUBSCRIBE:
        return "subscribe";
    case MOSQ_ACL_UNSUBSCRIBE:
        return "unsubscribe";
    default:
        return "access";
    }
}

/* MOSQ_EVT_ACL_CHECK, broker thread: dynsec's answer, logged if not "yes". */
static int on_acl_check(int event, void *event_data, void *userdata)
{
    struct plugin *p = userdata;
    struct mosquitto_evt_acl_check *ed = event_data;
    char other[48];
    const char *reason = other;

    if (!dynsec_ready(p))
        return MOSQ_ERR_PLUGIN_DEFER;
    int rc = p->dynsec_acl(event, event_data, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        return rc;
    /* dynsec (acl.c): DENIED = a deny ACL matched; DEFER = none matched
     * and the default access is deny, or the account is unknown. */
    if (rc == MOSQ_ERR_ACL_DENIED)
        reason = "denied by an ACL";
    else if (rc == MOSQ_ERR_PLUGIN_DEFER)
        reason = "no ACL allows it";
    else
        snprintf(other, sizeof(other), "dynsec error %d", rc);
    struct audit_refusal r = {
        .action = action_name(ed->access),
        .username = mosquitto_client_username(ed->client),
        .client_id = mosquitto_client_id(ed->client),
        .address = mosquitto_client_address(ed->client),
        .topic = ed->topic,
        .reason = reason,
    };
    audit_refused(p->audit, &r, now_us());
    return rc;
}

/* MOSQ_EVT_BASIC_AUTH, broker thread: as on_acl_check, for logins. The
 * password is never logged. */
static int on_basic_auth(int event, void *event_data, void *userdata)
{
    struct plugin *p = userdata;
    struct mosquitto_evt_basic_auth *ed = event_data;
    char other[48];
    const char *reason = other;

    if (!dynsec_ready(p))
        return MOSQ_ERR_PLUGIN_DEFER;
    int rc = p->dynsec_auth(event, event_data, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        return rc;
    /* dynsec (auth.c): AUTH for a disabled account, a client id other than
     * the account's, or a wrong password, without telling which; DEFER when
     * it cannot check: no username, no password, unknown account. */
    if (rc == MOSQ_ERR_AUTH)
        reason = "wrong password, disabled account or client id not allowed";
    else if (rc == MOSQ_ERR_PLUGIN_DEFER && ed->username == NULL)
        reason = "no username";
    else if (rc == MOSQ_ERR_PLUGIN_DEFER && ed->password == NULL)
        reason = "no password";
    else if (rc == MOSQ_ERR_PLUGIN_DEFER)
        reason = "unknown account";
    else
        snprintf(other, sizeof(other), "dynsec error %d", rc);
    struct audit_refusal r = {
        .action = "login",
        .username = ed->username,
        .client_id = mosquitto_client_id(ed->client),
        .address = mosquitto_client_address(ed->client),
        .reason = reason,
    };
    audit_refused(p->audit, &r, now_us());
    return rc;
}

/* MOSQ_EVT_TICK, broker thread, every turn of the main loop (at least every
 * 100 ms, src/mux_epoll.c): summaries of floods that stopped. */
static int on_tick(int event, void *event_data, void *userdata)
{
    struct plugin *p = userdata;
    (void)event;
    (void)event_data;
    if (dynsec_ready(p))
        audit_tick(p->audit, now_us());
    return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------------ life cycle */

static void plugin_free(struct plugin *p)
{
    if (p == NULL)
        return;
    if (p->dynsec)
        dlclose(p->dynsec);
    audit_free(p->audit);
    free(p->dynsec_path);
    free(p);
}

/* Parses a count option into *out (1..1000000); false with a logged error. */
static bool parse_count(const char *key, const char *value, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < 1 || v > 1000000) {
        const char *kv[] = {"option", key, "value", value};
        say(AY_LOG_ERROR, "invalid option, expected a whole number from 1 to 1000000", kv, 4);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool parse_options(struct plugin *p, const struct mosquitto_opt *options, int count)
{
    for (int i = 0; i < count; i++) {
        const char *k = options[i].key;
        const char *v = options[i].value ? options[i].value : "";
        bool ok = true;
        if (strcasecmp(k, "dynsec_plugin") == 0) {
            free(p->dynsec_path);
            p->dynsec_path = strdup(v);
            ok = p->dynsec_path != NULL;
        } else if (strcasecmp(k, "burst") == 0) {
            ok = parse_count(k, v, &p->lim.burst);
        } else if (strcasecmp(k, "window_s") == 0) {
            ok = parse_count(k, v, &p->lim.window_s);
        } else if (strcasecmp(k, "max_lines") == 0) {
            ok = parse_count(k, v, &p->lim.max_lines);
        } else {
            const char *kv[] = {"option", k};
            say(AY_LOG_ERROR, "unknown option", kv, 2);
            ok = false;
        }
        if (!ok)
            return false;
    }
    return true;
}

AUDIT_EXPORT int mosquitto_plugin_version(int supported_version_count,
                                          const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++) {
        if (supported_versions[i] == 5)
            return 5;
    }
    return -1;
}

AUDIT_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                                       struct mosquitto_opt *options, int option_count)
{
    struct plugin *p = calloc(1, sizeof(*p));
    int rc = MOSQ_ERR_NOMEM;

    if (p == NULL)
        return MOSQ_ERR_NOMEM;
    p->id = identifier;
    p->lim =
        (struct audit_limits){AUDIT_DEFAULT_BURST, AUDIT_DEFAULT_WINDOW_S, AUDIT_DEFAULT_MAX_LINES};
    if (!parse_options(p, options, option_count)) {
        rc = MOSQ_ERR_INVAL;
        goto fail;
    }
    if (p->dynsec_path == NULL || p->dynsec_path[0] == '\0') {
        const char *kv[] = {"err", "plugin_opt_dynsec_plugin is not set"};
        say(AY_LOG_WARN, "cannot log refused access, dynsec decides alone", kv, 2);
        p->state = DYNSEC_MISSING;
        *userdata = p; /* no callbacks: the broker runs as without this plugin */
        return MOSQ_ERR_SUCCESS;
    }
    if (audit_new(&p->lim, write_line, NULL, &p->audit) != AY_OK)
        goto fail;
    rc = mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, p);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, p);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, p);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_callback_unregister(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
        mosquitto_callback_unregister(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
        goto fail;
    }
    *userdata = p;
    return MOSQ_ERR_SUCCESS;
fail:
    plugin_free(p);
    return rc;
}

AUDIT_EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options,
                                          int option_count)
{
    struct plugin *p = userdata;
    (void)options;
    (void)option_count;

    if (p != NULL && p->audit != NULL) {
        mosquitto_callback_unregister(p->id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
        mosquitto_callback_unregister(p->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
        mosquitto_callback_unregister(p->id, MOSQ_EVT_TICK, on_tick, NULL);
    }
    plugin_free(p);
    return MOSQ_ERR_SUCCESS;
}
