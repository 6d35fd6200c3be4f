/*
 * ay-watchdog main.c - configuration, wiring and the order of start and
 * stop; the work is in engine.c (threads), store.c and sql/ (SQL) and
 * watchdog.c (decisions).
 *
 * Two MQTT connections: `in` holds the persistent session with the shared
 * subscription to acknowledgements; `out` publishes escalations and ack
 * receipts (through the engine's outbox). Start: database, schema check,
 * `out`, workers, then `in`. Stop: `in` first, then the workers, then the
 * outbox within drain_timeout_ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "ay_migrate.h"
#include "ay_mqtt.h"
#include "ay_service.h"
#include "engine.h"
#include "store.h"

struct watchdog_config {
    struct ay_common_config common;
    char *instance;
    char *share_group;
    long long sweep_ms;
    long long schedule_s;
    long long report_lookback_days;
    long long lease_s;
    long long drain_timeout_ms;
    long long session_expiry_s;
    long long ack_queue_max;
    long long dead_letter_cap;
};

#define CFG(f) offsetof(struct watchdog_config, f)
static const struct ay_config_def defs[] = {
    AY_CONFIG_COMMON_DEFS(struct watchdog_config, common),
    {"instance", "AY_INSTANCE", AY_CFG_STRING, "1", 0, 0, CFG(instance),
     "instance name; with the account it makes the stable MQTT client id of the session"},
    {"share_group", "AY_SHARE_GROUP", AY_CFG_STRING, "watchdog", 0, 0, CFG(share_group),
     "MQTT v5 shared subscription group the instances share acknowledgements in"},
    {"sweep_ms", "AY_SWEEP_MS", AY_CFG_INT, "5000", 50, 600000, CFG(sweep_ms),
     "look for due work at least this often (a safety net: timers fire at their due time)"},
    {"schedule_s", "AY_SCHEDULE_S", AY_CFG_INT, "300", 1, 86400, CFG(schedule_s),
     "schedule the periodic reports every school owes at start and this often (a new school "
     "or a new month is seen within it)"},
    {"report_lookback_days", "AY_REPORT_LOOKBACK_DAYS", AY_CFG_INT, "40", 1, 60,
     CFG(report_lookback_days),
     "periodic reports due longer ago than this are history: not scheduled afresh"},
    {"lease_s", "AY_LEASE_S", AY_CFG_INT, "30", 2, 3600, CFG(lease_s),
     "a notification not known to be published after this long is published again (same id)"},
    {"drain_timeout_ms", "AY_DRAIN_TIMEOUT_MS", AY_CFG_INT, "10000", 0, 600000,
     CFG(drain_timeout_ms), "on stop, how long to keep publishing what is queued"},
    {"session_expiry_s", "AY_SESSION_EXPIRY_S", AY_CFG_INT, "3600", 0, 604800,
     CFG(session_expiry_s), "how long the broker keeps acknowledgements for this instance"},
    {"ack_queue_max", "AY_ACK_QUEUE_MAX", AY_CFG_INT, "10000", 1, 1000000, CFG(ack_queue_max),
     "acknowledgements held in memory before the broker is held back"},
    {"dead_letter_cap", "AY_DEAD_LETTER_CAP", AY_CFG_INT, "100", 1, 1000000, CFG(dead_letter_cap),
     "refused acknowledgements kept whole per account and hour; the rest are only counted"},
};

static const struct ay_service_def service = {
    .name = "watchdog",
    .usage = "usage: ay-watchdog [--config FILE] [--check-sql]\n\n"
             "Fires every reporting deadline at its due time, escalates what is missed along\n"
             "each audience's chain, publishes the escalations and applies acknowledgements.\n",
    .defs = defs,
    .ndefs = sizeof(defs) / sizeof(defs[0]),
    .config_size = sizeof(struct watchdog_config),
    .common_offset = offsetof(struct watchdog_config, common),
    .sql = watchdog_sql,
};

static int run(const void *arg)
{
    const struct watchdog_config *cfg = arg;
    char err[AY_ERRLEN] = "";
    char in_id[128], out_id[140], filter[128];
    struct ay_mqtt *in = NULL, *out = NULL;
    struct watchdog_engine *e = NULL;
    int version = 0;
    int code = AY_EXIT_FAILURE;
    const char *base = cfg->common.mqtt_client_id && *cfg->common.mqtt_client_id
                           ? cfg->common.mqtt_client_id
                           : cfg->common.mqtt_username;

    snprintf(in_id, sizeof(in_id), "%s-wd-%s", base ? base : "watchdog", cfg->instance);
    snprintf(out_id, sizeof(out_id), "%s-out", in_id);
    snprintf(filter, sizeof(filter), "$share/%s/ay/v1/+/ack/+/+", cfg->share_group);
    struct ay_mqtt_opts in_o = {.url = cfg->common.mqtt_url,
                                .client_id = in_id,
                                .username = cfg->common.mqtt_username,
                                .password = cfg->common.mqtt_password,
                                .ca_file = cfg->common.mqtt_ca_file,
                                .clean_start = false,
                                .session_expiry_s = (unsigned)cfg->session_expiry_s,
                                .receive_max = 100};
    struct ay_mqtt_opts out_o = in_o;
    out_o.client_id = out_id;
    out_o.clean_start = true;
    out_o.session_expiry_s = 0;
    out_o.max_inflight = 1000;
    struct watchdog_engine_opts eo = {.database_url = cfg->common.database_url,
                                      .service_id = in_id,
                                      .sweep_ms = (int)cfg->sweep_ms,
                                      .schedule_ms = cfg->schedule_s * 1000,
                                      .report_lookback_s = cfg->report_lookback_days * 86400,
                                      .lease_s = (int)cfg->lease_s,
                                      .drain_timeout_ms = (int)cfg->drain_timeout_ms,
                                      .ack_queue_max = (size_t)cfg->ack_queue_max,
                                      .dead_letter_cap = (int)cfg->dead_letter_cap};

    if (ay_mqtt_new(&out_o, NULL, NULL, &out, err) != AY_OK ||
        watchdog_engine_new(&eo, out, &e, err) != AY_OK ||
        ay_mqtt_new(&in_o, watchdog_engine_offer, e, &in, err) != AY_OK ||
        ay_mqtt_subscribe(in, filter, 1, err) != AY_OK) {
        ay_log_fatal("cannot start", "err", err[0] ? err : "out of memory", NULL);
        code = AY_EXIT_USAGE;
        goto cleanup;
    }
    if (watchdog_engine_connect(e, err) != AY_OK) {
        if (!ay_service_stopping()) {
            ay_log_fatal("cannot use the database", "err", err, NULL);
            goto cleanup;
        }
        goto stopped;
    }
    if (ay_migrate_version(watchdog_engine_db(e), &version, err) != AY_OK ||
        version < ay_migrate_latest()) {
        ay_log_fatal("database schema is not up to date: run `ayctl migrate`", "err", err, NULL);
        goto cleanup;
    }
    if (ay_mqtt_connect_retry(out, err) != AY_OK)
        goto stopped;
    if (watchdog_engine_start(e, err) != AY_OK) {
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
    ay_mqtt_disconnect(in, 2000);
    watchdog_engine_finish(e);
    code = AY_EXIT_OK;
cleanup:
    ay_mqtt_free(in);
    ay_mqtt_free(out);
    watchdog_engine_free(e);
    if (code == AY_EXIT_OK)
        ay_log_info("stopped", NULL);
    return code;
}

int main(int argc, char **argv)
{
    struct watchdog_config cfg;
    return ay_service_main(&service, watchdog_sql_count, argc, argv, &cfg, run);
}
