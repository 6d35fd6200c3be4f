/*
 * ay-recorder main.c - configuration, wiring, signals, shutdown. The
 * decisions are in recorder.c, the SQL in store.c, the flow in pipeline.c.
 *
 * Two MQTT connections: `in` holds the persistent session with the shared
 * subscription; `out` publishes receipts. On SIGTERM `in` disconnects first
 * (the broker keeps what we have not taken), the queue is drained into the
 * database, the receipts go out on `out`, and only then does `out` close.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ay_config.h"
#include "ay_log.h"
#include "ay_migrate.h"
#include "ay_mqtt.h"
#include "ay_time.h"
#include "pipeline.h"
#include "store.h"

struct recorder_config {
    struct ay_common_config common;
    char *instance;
    char *share_group;
    long long batch_max;
    long long queue_max_items;
    long long queue_max_mb;
    long long receive_max;
    long long session_expiry_s;
    long long drain_timeout_ms;
    long long workers;
};

#define CFG(f) offsetof(struct recorder_config, f)
static const struct ay_config_def defs[] = {
    AY_CONFIG_COMMON_DEFS(struct recorder_config, common),
    {"instance", "AY_INSTANCE", AY_CFG_STRING, "1", 0, 0, CFG(instance),
     "instance name; with the account it makes the stable MQTT client id of the session"},
    {"share_group", "AY_SHARE_GROUP", AY_CFG_STRING, "recorder", 0, 0, CFG(share_group),
     "MQTT v5 shared subscription group the instances share the load in"},
    {"batch_max", "AY_BATCH_MAX", AY_CFG_INT, "1000", 1, 100000, CFG(batch_max),
     "most messages stored in one transaction"},
    {"queue_max_items", "AY_QUEUE_MAX_ITEMS", AY_CFG_INT, "20000", 1, 10000000,
     CFG(queue_max_items), "messages held in memory before the broker is held back"},
    {"queue_max_mb", "AY_QUEUE_MAX_MB", AY_CFG_INT, "64", 1, 65536, CFG(queue_max_mb),
     "megabytes held in memory before the broker is held back"},
    {"receive_max", "AY_RECEIVE_MAX", AY_CFG_INT, "1000", 1, 65535, CFG(receive_max),
     "QoS 1 messages the broker may have in flight to this instance"},
    {"session_expiry_s", "AY_SESSION_EXPIRY_S", AY_CFG_INT, "3600", 0, 604800,
     CFG(session_expiry_s), "how long the broker keeps this instance's session while it is away"},
    {"drain_timeout_ms", "AY_DRAIN_TIMEOUT_MS", AY_CFG_INT, "10000", 0, 600000,
     CFG(drain_timeout_ms), "on stop, how long to keep trying to store what is queued"},
    {"workers", "AY_WORKERS", AY_CFG_INT, "2", 1, 32, CFG(workers),
     "threads storing batches concurrently, each with its own database connection"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Connects to the broker with backoff until it works or we stop. */
static bool connect_mqtt(struct ay_mqtt *c, const char *what)
{
    char err[AY_ERRLEN] = "";
    for (int backoff = 100; !stop_requested; backoff = backoff < 5000 ? backoff * 2 : 5000) {
        if (ay_mqtt_connect(c, 10000, err) == AY_OK)
            return true;
        ay_log_warn("could not connect to the broker, retrying", "client", what, "err", err, NULL);
        ay_time_sleep_ms(backoff);
    }
    return false;
}

static int run(const struct recorder_config *cfg)
{
    char err[AY_ERRLEN] = "";
    char in_id[128], out_id[140], filter[128];
    struct ay_mqtt *in = NULL, *out = NULL;
    struct recorder_pipeline *p = NULL;
    int code = 1;
    int version = 0;
    const char *base = cfg->common.mqtt_client_id && *cfg->common.mqtt_client_id
                           ? cfg->common.mqtt_client_id
                           : cfg->common.mqtt_username;

    snprintf(in_id, sizeof(in_id), "%s-%s", base ? base : "recorder", cfg->instance);
    snprintf(out_id, sizeof(out_id), "%s-out", in_id);
    snprintf(filter, sizeof(filter), "$share/%s/ay/v1/+/school/#", cfg->share_group);
    struct ay_mqtt_opts in_o = {.url = cfg->common.mqtt_url,
                                .client_id = in_id,
                                .username = cfg->common.mqtt_username,
                                .password = cfg->common.mqtt_password,
                                .ca_file = cfg->common.mqtt_ca_file,
                                .clean_start = false,
                                .session_expiry_s = (unsigned)cfg->session_expiry_s,
                                .receive_max = (unsigned)cfg->receive_max};
    struct ay_mqtt_opts out_o = in_o;
    out_o.client_id = out_id;
    out_o.clean_start = true;
    out_o.session_expiry_s = 0;
    out_o.max_inflight = 1000;
    out_o.max_buffered = 100000;
    struct recorder_pipeline_opts po = {.batch_max = (size_t)cfg->batch_max,
                                        .queue_max_items = (size_t)cfg->queue_max_items,
                                        .queue_max_bytes = (size_t)cfg->queue_max_mb << 20,
                                        .service_id = in_id,
                                        .drain_timeout_ms = (int)cfg->drain_timeout_ms,
                                        .database_url = cfg->common.database_url,
                                        .workers = (size_t)cfg->workers,
                                        .stop = &stop_requested};

    if (ay_mqtt_new(&out_o, NULL, NULL, &out, err) != AY_OK ||
        recorder_pipeline_new(&po, out, &p, err) != AY_OK ||
        ay_mqtt_new(&in_o, recorder_pipeline_offer, p, &in, err) != AY_OK ||
        ay_mqtt_subscribe(in, filter, 1, err) != AY_OK) {
        ay_log_fatal("cannot start", "err", err[0] ? err : "out of memory", NULL);
        code = 2;
        goto cleanup;
    }
    if (!recorder_pipeline_connect(p))
        goto stopped;
    if (ay_migrate_version(recorder_pipeline_db(p), &version, err) != AY_OK ||
        version < ay_migrate_latest()) {
        ay_log_fatal("database schema is not up to date: run `ayctl migrate`", "err", err, NULL);
        goto cleanup;
    }
    /* Receipts first, so nothing taken from the broker waits for them. */
    if (!connect_mqtt(out, out_id) || !connect_mqtt(in, in_id))
        goto stopped;
    ay_log_info("ready", "client", in_id, "topic", filter, NULL);
    recorder_pipeline_run(p);
stopped:
    ay_log_info("stopping", NULL);
    ay_mqtt_disconnect(in, 2000);
    size_t unstored = recorder_pipeline_drain(p, (int)cfg->drain_timeout_ms);
    recorder_pipeline_flush_receipts(p);
    ay_mqtt_disconnect(out, 5000);
    if (unstored > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", unstored);
        ay_log_error("stopped with unstored messages; their senders will re-send", "count", n,
                     NULL);
    } else {
        code = 0;
    }
cleanup:
    ay_mqtt_free(in);
    recorder_pipeline_free(p);
    ay_mqtt_free(out);
    if (code == 0)
        ay_log_info("stopped", NULL);
    return code;
}

int main(int argc, char **argv)
{
    struct recorder_config cfg;
    char err[AY_ERRLEN] = "";
    const char *file = ay_config_env_file();
    enum ay_level level = AY_LOG_INFO;
    int code = 2;

    memset(&cfg, 0, sizeof(cfg));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: ay-recorder [--config FILE]\n\n"
                   "Stores every inbound school message exactly once and sends a receipt.\n\n");
            ay_config_print_help(defs, NDEFS, stdout);
            return 0;
        } else if (strcmp(argv[i], "--config-reference") == 0) {
            ay_config_print_markdown(defs, NDEFS, stdout);
            return 0;
        } else {
            fprintf(stderr, "ay-recorder: unknown argument %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    ay_log_init("recorder", AY_LOG_INFO);
    if (ay_config_load(defs, NDEFS, file, &cfg, err) != AY_OK ||
        ay_log_level_parse(cfg.common.log_level, &level) != AY_OK) {
        ay_log_fatal("invalid configuration", "err", err[0] ? err : "log_level: unknown level",
                     NULL);
        goto cleanup;
    }
    ay_log_init("recorder", level);
    ay_config_log(defs, NDEFS, &cfg);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    code = run(&cfg);
cleanup:
    ay_config_cleanup(defs, NDEFS, &cfg);
    return code;
}
