/*
 * ay-alarmfeed main.c - configuration, wiring and the order of start and
 * stop; the alarm path and the registry thread are in feed.c, the
 * decisions in alarmfeed.c, the SQL in store.c and sql/.
 *
 * Two MQTT connections: `in` holds the persistent session with the shared
 * subscription to alarms and cancels; `out` publishes the police feed
 * (through the feed's outbox). Start: `out`, the registry thread (which
 * connects to the database by itself: the feed never waits for it), then
 * `in`. Stop: `in` first, then the registry thread, then the outbox within
 * drain_timeout_ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "ay_mqtt.h"
#include "ay_schema.h"
#include "ay_service.h"
#include "feed.h"
#include "store.h"

struct alarmfeed_config {
    struct ay_common_config common;
    char *instance;
    char *share_group;
    long long receive_max;
    long long session_expiry_s;
    long long drain_timeout_ms;
    long long reload_interval_s;
    long long stats_interval_s;
};

#define CFG(f) offsetof(struct alarmfeed_config, f)
static const struct ay_config_def defs[] = {
    AY_CONFIG_COMMON_DEFS(struct alarmfeed_config, common),
    {"instance", "AY_INSTANCE", AY_CFG_STRING, "1", 0, 0, CFG(instance),
     "instance name; with the account it makes the stable MQTT client id of the session"},
    {"share_group", "AY_SHARE_GROUP", AY_CFG_STRING, "alarmfeed", 0, 0, CFG(share_group),
     "MQTT v5 shared subscription group the instances share alarms in"},
    {"receive_max", "AY_RECEIVE_MAX", AY_CFG_INT, "100", 1, 65535, CFG(receive_max),
     "QoS 1 alarms the broker may have in flight to this instance"},
    {"session_expiry_s", "AY_SESSION_EXPIRY_S", AY_CFG_INT, "300", 0, 604800, CFG(session_expiry_s),
     "how long the broker keeps alarms for this instance while it is away (and strands its "
     "share of them if it never comes back)"},
    {"drain_timeout_ms", "AY_DRAIN_TIMEOUT_MS", AY_CFG_INT, "5000", 0, 600000,
     CFG(drain_timeout_ms), "on stop, how long to keep publishing what is queued"},
    {"reload_interval_s", "AY_RELOAD_INTERVAL_S", AY_CFG_INT, "300", 1, 86400,
     CFG(reload_interval_s),
     "reload the registry at least this often (it is also reloaded on every change)"},
    {"stats_interval_s", "AY_STATS_INTERVAL_S", AY_CFG_INT, "60", 1, 86400, CFG(stats_interval_s),
     "how often the counts are logged; window of the per-device log limits"},
};

static const struct ay_service_def service = {
    .name = "alarmfeed",
    .usage = "usage: ay-alarmfeed [--config FILE] [--check-sql]\n\n"
             "Republishes every alarm and alarm cancel at once on the district's police feed\n"
             "(ay/v1/{district}/police/alarm), with the school, the button and its place from\n"
             "the registry, which it holds in memory: it never waits on the database.\n",
    .defs = defs,
    .ndefs = sizeof(defs) / sizeof(defs[0]),
    .config_size = sizeof(struct alarmfeed_config),
    .common_offset = offsetof(struct alarmfeed_config, common),
    .sql = alarmfeed_sql,
};

static int run(const void *arg)
{
    const struct alarmfeed_config *cfg = arg;
    char err[AY_ERRLEN] = "";
    char in_id[128], out_id[140], alarms[128], cancels[128];
    struct ay_mqtt *in = NULL, *out = NULL;
    struct alarmfeed_feed *f = NULL;
    int code = AY_EXIT_FAILURE;
    const char *base = cfg->common.mqtt_client_id && *cfg->common.mqtt_client_id
                           ? cfg->common.mqtt_client_id
                           : cfg->common.mqtt_username;

    snprintf(in_id, sizeof(in_id), "%s-af-%s", base ? base : "alarmfeed", cfg->instance);
    snprintf(out_id, sizeof(out_id), "%s-out", in_id);
    snprintf(alarms, sizeof(alarms), "$share/%s/ay/v1/+/school/+/+/alarm", cfg->share_group);
    snprintf(cancels, sizeof(cancels), "$share/%s/ay/v1/+/school/+/+/alarm-cancel",
             cfg->share_group);
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
    struct alarmfeed_feed_opts fo = {.database_url = cfg->common.database_url,
                                     .service_id = ay_schema_id_is_valid(in_id) ? in_id : NULL,
                                     .reload_interval_s = (int)cfg->reload_interval_s,
                                     .stats_interval_ms = (int)cfg->stats_interval_s * 1000};

    if (ay_mqtt_new(&out_o, NULL, NULL, &out, err) != AY_OK ||
        alarmfeed_feed_new(&fo, out, &f, err) != AY_OK ||
        ay_mqtt_new(&in_o, alarmfeed_feed_offer, f, &in, err) != AY_OK ||
        ay_mqtt_subscribe(in, alarms, 1, err) != AY_OK ||
        ay_mqtt_subscribe(in, cancels, 1, err) != AY_OK) {
        ay_log_fatal("cannot start", "err", err[0] ? err : "out of memory", NULL);
        code = AY_EXIT_USAGE;
        goto cleanup;
    }
    if (ay_mqtt_connect_retry(out, err) != AY_OK)
        goto stopped;
    if (alarmfeed_feed_start(f, err) != AY_OK) {
        ay_log_fatal("cannot start the registry thread", "err", err, NULL);
        goto cleanup;
    }
    if (ay_mqtt_connect_retry(in, err) != AY_OK)
        goto stopped;
    ay_log_info("ready", "client", in_id, "topic", alarms, NULL);
    while (ay_service_sleep_ms((int)cfg->stats_interval_s * 1000))
        alarmfeed_feed_stats(f);
stopped:
    ay_log_info("stopping", NULL);
    ay_mqtt_disconnect(in, 2000);
    size_t unsent = alarmfeed_feed_finish(f, (int)cfg->drain_timeout_ms);
    code = unsent > 0 ? AY_EXIT_FAILURE : AY_EXIT_OK;
    if (unsent > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", unsent);
        ay_log_error("police feed messages not published before the stop", "count", n, NULL);
    }
cleanup:
    /* The registry thread, if running, returns only once stopping. */
    ay_service_request_stop();
    ay_mqtt_free(in);
    ay_mqtt_free(out);
    alarmfeed_feed_free(f);
    if (code == AY_EXIT_OK)
        ay_log_info("stopped", NULL);
    return code;
}

int main(int argc, char **argv)
{
    struct alarmfeed_config cfg;
    return ay_service_main(&service, alarmfeed_sql_count, argc, argv, &cfg, run);
}
