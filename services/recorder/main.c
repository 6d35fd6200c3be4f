/*
 * ay-recorder main.c - configuration, wiring and the order of start and
 * stop. The decisions are in recorder.c, the SQL in store.c and sql/, the
 * flow in pipeline.c; everything else is lib/ (ay_service, ay_pool,
 * ay_outbox, ay_pg_tx).
 *
 * Two MQTT connections: `in` holds the persistent session with the shared
 * subscription (Paho); `out` publishes receipts (through the pipeline's
 * outbox) on a network thread of its own (lib/ay_mqtt_own.h), so that their
 * acknowledgements keep coming while the intake holds Paho's thread.
 * Start: database, schema check, `out`, workers, then `in` (a backlog the
 * broker kept must find the workers running). Stop: `in` disconnects first
 * (the broker keeps what we have not taken), the queue is drained into the
 * database within drain_timeout_ms, the receipts go out, then `out` closes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "ay_migrate.h"
#include "ay_mqtt.h"
#include "ay_service.h"
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
    long long dead_letter_cap;
    long long stats_interval_s;
};

#define CFG(f) offsetof(struct recorder_config, f)
static const struct ay_config_def defs[] = {
    AY_CONFIG_COMMON_DEFS(struct recorder_config, common),
    {"instance", "AY_INSTANCE", AY_CFG_STRING, "1", 0, 0, CFG(instance),
     "instance name; with the account it makes the stable MQTT client id of the session"},
    {"share_group", "AY_SHARE_GROUP", AY_CFG_STRING, "recorder", 0, 0, CFG(share_group),
     "MQTT v5 shared subscription group the instances share the load in"},
    {"batch_max", "AY_BATCH_MAX", AY_CFG_INT, "250", 1, 100000, CFG(batch_max),
     "most messages stored in one transaction"},
    {"queue_max_items", "AY_QUEUE_MAX_ITEMS", AY_CFG_INT, "1500", 1, 10000000, CFG(queue_max_items),
     "messages held in memory before the broker is held back"},
    {"queue_max_mb", "AY_QUEUE_MAX_MB", AY_CFG_INT, "16", 1, 65536, CFG(queue_max_mb),
     "megabytes held in memory before the broker is held back"},
    {"receive_max", "AY_RECEIVE_MAX", AY_CFG_INT, "1000", 1, 65535, CFG(receive_max),
     "QoS 1 messages the broker may have in flight to this instance"},
    {"session_expiry_s", "AY_SESSION_EXPIRY_S", AY_CFG_INT, "3600", 0, 604800,
     CFG(session_expiry_s), "how long the broker keeps this instance's session while it is away"},
    {"drain_timeout_ms", "AY_DRAIN_TIMEOUT_MS", AY_CFG_INT, "10000", 0, 600000,
     CFG(drain_timeout_ms), "on stop, how long to keep trying to store what is queued"},
    {"workers", "AY_WORKERS", AY_CFG_INT, "2", 1, 32, CFG(workers),
     "threads storing batches concurrently, each with its own database connection"},
    {"dead_letter_cap", "AY_DEAD_LETTER_CAP", AY_CFG_INT, "100", 1, 1000000, CFG(dead_letter_cap),
     "refused messages kept whole per device and hour; the rest are only counted"},
    {"stats_interval_s", "AY_STATS_INTERVAL_S", AY_CFG_INT, "60", 1, 86400, CFG(stats_interval_s),
     "how often the counts of stored, duplicate, rejected and unstored messages are logged"},
};

static const struct ay_service_def service = {
    .name = "recorder",
    .usage = "usage: ay-recorder [--config FILE] [--check-sql]\n\n"
             "Stores every inbound school message exactly once and sends a receipt.\n",
    .defs = defs,
    .ndefs = sizeof(defs) / sizeof(defs[0]),
    .config_size = sizeof(struct recorder_config),
    .common_offset = offsetof(struct recorder_config, common),
    .sql = recorder_sql,
};

/* A broker that takes few QoS 1 messages in flight caps every receipt
 * stream; say so at start (docs/broker.md, "max_inflight_messages"). */
static void check_broker(struct ay_mqtt *out)
{
    unsigned rmax = ay_mqtt_broker_receive_max(out);
    if (rmax > 0 && rmax < 100) {
        char n[16];
        snprintf(n, sizeof(n), "%u", rmax);
        ay_log_warn("the broker accepts few messages in flight: receipts go out in windows of "
                    "this size, and with such stock settings Mosquitto also drops QoS 1 messages "
                    "past max_queued_messages (1000) per client; set max_inflight_messages 100 "
                    "and max_queued_messages 0 with max_queued_bytes (docs/broker.md)",
                    "receive_max", n, NULL);
    }
}

static int run(const void *arg)
{
    const struct recorder_config *cfg = arg;
    char err[AY_ERRLEN] = "";
    char in_id[128], out_id[140], filter[128];
    struct ay_mqtt *in = NULL, *out = NULL;
    struct recorder_pipeline *p = NULL;
    int version = 0;
    int code = AY_EXIT_FAILURE;
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
    /* Receipts' acknowledgements must be read while the intake holds
     * Paho's receive thread for back-pressure (lib/ay_mqtt_own.h). */
    out_o.own_thread = true;
    struct recorder_pipeline_opts po = {.batch_max = (size_t)cfg->batch_max,
                                        .queue_max_items = (size_t)cfg->queue_max_items,
                                        .queue_max_bytes = (size_t)cfg->queue_max_mb << 20,
                                        .service_id = in_id,
                                        .database_url = cfg->common.database_url,
                                        .workers = (size_t)cfg->workers,
                                        .drain_timeout_ms = (int)cfg->drain_timeout_ms,
                                        .dead_letter_cap = (int)cfg->dead_letter_cap,
                                        .stats_interval_ms = (int)cfg->stats_interval_s * 1000};

    if (ay_mqtt_new(&out_o, NULL, NULL, &out, err) != AY_OK ||
        recorder_pipeline_new(&po, out, &p, err) != AY_OK ||
        ay_mqtt_new(&in_o, recorder_pipeline_offer, p, &in, err) != AY_OK ||
        ay_mqtt_subscribe(in, filter, 1, err) != AY_OK) {
        ay_log_fatal("cannot start", "err", err[0] ? err : "out of memory", NULL);
        code = AY_EXIT_USAGE;
        goto cleanup;
    }
    if (recorder_pipeline_connect(p, err) != AY_OK) {
        if (!ay_service_stopping()) {
            ay_log_fatal("cannot use the database", "err", err, NULL);
            goto cleanup;
        }
        goto stopped;
    }
    if (ay_migrate_version(recorder_pipeline_db(p), &version, err) != AY_OK ||
        version < ay_migrate_latest()) {
        ay_log_fatal("database schema is not up to date: run `ayctl migrate`", "err", err, NULL);
        goto cleanup;
    }
    if (ay_mqtt_connect_retry(out, err) != AY_OK)
        goto stopped;
    check_broker(out);
    if (recorder_pipeline_start(p, err) != AY_OK) {
        ay_log_fatal("cannot start the workers", "err", err, NULL);
        goto cleanup;
    }
    if (ay_mqtt_connect_retry(in, err) != AY_OK)
        goto stopped;
    ay_log_info("ready", "client", in_id, "topic", filter, NULL);
    while (ay_service_sleep_ms(60000))
        ;
stopped:
    ay_log_info("stopping", NULL);
    recorder_pipeline_begin_stop(p);
    ay_mqtt_disconnect(in, 2000);
    size_t unstored = recorder_pipeline_finish(p);
    code = unstored > 0 ? AY_EXIT_FAILURE : AY_EXIT_OK;
cleanup:
    ay_mqtt_free(in);
    ay_mqtt_free(out);
    recorder_pipeline_free(p);
    if (code == AY_EXIT_OK)
        ay_log_info("stopped", NULL);
    return code;
}

int main(int argc, char **argv)
{
    struct recorder_config cfg;
    return ay_service_main(&service, recorder_sql_count, argc, argv, &cfg, run);
}
