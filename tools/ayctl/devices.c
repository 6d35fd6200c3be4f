/*
 * ayctl devices.c - device supervision for people and tests.
 *
 * `ayctl devices` lists each button of a school (or district) with when it
 * was last heard from, whether it is supervised as online or flagged
 * offline, its battery, tamper and fault, and its last test: domain.md
 * rule 1, "联得通", every button known to work, and a school can show that
 * each was tested.
 *
 * `ayctl heartbeat` is a device's side of supervision (docs/contract.md,
 * "Supervision"): connected with a last will (a DeviceStatus OFFLINE with a
 * message id of its own), it sends a heartbeat every --interval seconds
 * until --count is reached or it is told to stop; then it disconnects
 * normally (no will: the backbone notices the silence after the allowed
 * gap). Killed, or cut off, the broker publishes its will at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "anyuan/v1/device.pb-c.h"
#include "ay_json.h"
#include "ay_labels.h"
#include "ay_log.h"
#include "ay_msgtype.h"
#include "ay_schema.h"
#include "ay_service.h"
#include "ay_time.h"
#include "ay_uuid.h"
#include "ay_topic.h"
#include "ayctl.h"
#include "people_text.h"

/* ---- ayctl devices ------------------------------------------------------------ */

/* $1 district, $2 school ('' for all). The last test: the latest drill
 * (isTest, or in a test window) of the button. */
static const char sql_devices[] =
    "SELECT d.id, d.school_id, coalesce(s.name_zh, ''), coalesce(s.name_en, ''), d.kind, "
    "d.location, d.place_name, d.enabled, d.heartbeat_s, "
    "coalesce((extract(epoch FROM ds.last_seen_at) * 1000000)::bigint, 0), "
    "coalesce(ds.state, ''), coalesce(ds.battery_percent::text, ''), coalesce(ds.tamper, false), "
    "coalesce(ds.fault, false), "
    "coalesce((extract(epoch FROM ds.offline_since) * 1000000)::bigint, 0), "
    "coalesce((extract(epoch FROM ds.silent_after) * 1000000)::bigint, 0), "
    "coalesce((SELECT (extract(epoch FROM max(a.triggered_at)) * 1000000)::bigint "
    "          FROM alarms a WHERE a.device_id = d.id AND a.drill), 0), "
    "(SELECT count(*) FROM alarms a WHERE a.device_id = d.id AND a.drill "
    "   AND a.triggered_at > now() - interval '183 days') "
    "FROM devices d JOIN schools s ON s.id = d.school_id "
    "LEFT JOIN device_status ds ON ds.device_id = d.id "
    "WHERE s.district_id = $1 AND ($2::text = '' OR d.school_id = $2::text) "
    "ORDER BY d.school_id, d.id";

struct devices_args {
    const char *district;
    const char *school;
    const char *lang;
    bool json;
};

static int devices_parse(const struct ayctl_config *cfg, int argc, char **argv,
                         struct devices_args *a)
{
    memset(a, 0, sizeof(*a));
    a->district = cfg->common.district;
    a->school = cfg->school ? cfg->school : "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--district") == 0 && i + 1 < argc)
            a->district = argv[++i];
        else if (strcmp(argv[i], "--school") == 0 && i + 1 < argc)
            a->school = argv[++i];
        else if (strcmp(argv[i], "--all") == 0)
            a->school = "";
        else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
            a->lang = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            a->json = true;
        else {
            ayctl_fail("devices: unexpected argument \"%s\" (usage: ayctl devices [--school S | "
                       "--all] [--district D] [--lang en] [--json])",
                       argv[i]);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (!ay_schema_id_is_valid(a->district) ||
        (a->school[0] != '\0' && !ay_schema_id_is_valid(a->school))) {
        ayctl_fail("devices: invalid district or school id");
        return AYCTL_EXIT_USAGE;
    }
    return AYCTL_EXIT_OK;
}

static void local_time(int64_t us, const struct ay_tz *z, char *buf, size_t cap)
{
    if (us == 0) {
        snprintf(buf, cap, "-");
        return;
    }
    ayctl_local_time(z, us, false, buf, cap);
}

/* One device's supervision state in words. */
static const char *state_words(const struct ay_pg_result *r, int i, int64_t now, bool en)
{
    int64_t last = 0, offline = 0, silent = 0;
    (void)ay_pg_int64(r, i, 9, &last);
    (void)ay_pg_int64(r, i, 14, &offline);
    (void)ay_pg_int64(r, i, 15, &silent);
    if (strcmp(ay_pg_value(r, i, 7), "t") != 0)
        return en ? "disabled" : "已停用";
    if (last == 0)
        return en ? "never heard from" : "从未上线";
    if (offline != 0)
        return en ? "OFFLINE" : "离线";
    if (silent != 0 && silent <= now)
        return en ? "silent (being flagged)" : "无心跳（正在标记）";
    return en ? "online" : "在线";
}

static bool print_json(const struct ay_pg_result *r, int i, const char *state, const char *last,
                       const char *test)
{
    int64_t tests = 0;
    (void)ay_pg_int64(r, i, 17, &tests);
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && ay_json_str(o, "device", ay_pg_value(r, i, 0)) &&
              ay_json_str(o, "school", ay_pg_value(r, i, 1)) &&
              ay_json_str(o, "kind", ay_pg_value(r, i, 4)) &&
              ay_json_str(o, "location", ay_pg_value(r, i, 5)) &&
              ay_json_str(o, "place", ay_pg_value(r, i, 6)) && ay_json_str(o, "state", state) &&
              ay_json_str(o, "lastSeen", last) &&
              ay_json_str(o, "battery", ay_pg_value(r, i, 11)) &&
              ay_json_bool(o, "tamper", strcmp(ay_pg_value(r, i, 12), "t") == 0) &&
              ay_json_bool(o, "fault", strcmp(ay_pg_value(r, i, 13), "t") == 0) &&
              ay_json_str(o, "lastTest", test) && ay_json_num(o, "testsLast6Months", (double)tests);
    char *line = ok ? ay_json_print_free(o) : NULL;
    if (!ok)
        cJSON_Delete(o);
    if (line == NULL)
        return false;
    printf("%s\n", line);
    free(line);
    return true;
}

static bool print_devices(const struct ay_pg_result *r, const struct ay_tz *z, enum ay_lang lang,
                          bool json)
{
    int64_t now = ay_time_now_us();
    const char *school = NULL;
    bool en = lang == AY_LANG_EN;

    for (int i = 0; i < ay_pg_nrows(r); i++) {
        char last[40], test[40];
        int64_t last_us = 0, test_us = 0;
        (void)ay_pg_int64(r, i, 9, &last_us);
        (void)ay_pg_int64(r, i, 16, &test_us);
        local_time(last_us, z, last, sizeof(last));
        local_time(test_us, z, test, sizeof(test));
        if (json) {
            if (!print_json(r, i, state_words(r, i, now, true), last, test))
                return false;
            continue;
        }
        if (!ayctl_put_school_heading(stdout, &school, ay_pg_value(r, i, 1), ay_pg_value(r, i, 2),
                                      ay_pg_value(r, i, 3), lang))
            return false;
        const char *kind = ay_label_of(ay_pg_value(r, i, 4), lang);
        const char *battery = ay_pg_value(r, i, 11);
        bool tamper = strcmp(ay_pg_value(r, i, 12), "t") == 0;
        bool fault = strcmp(ay_pg_value(r, i, 13), "t") == 0;
        printf("  %s | %s%s%s%s | %s | %s %s | %s %s%s | %s%s%s | %s %s (%s %s)\n",
               ay_pg_value(r, i, 0), kind ? kind : ay_pg_value(r, i, 4),
               ay_pg_value(r, i, 5)[0] ? " " : "", ay_pg_value(r, i, 5),
               ay_pg_value(r, i, 6)[0] ? (en ? " in " : " 位于") : "", state_words(r, i, now, en),
               en ? "last heard" : "最近心跳", last, en ? "battery" : "电量",
               battery[0] ? battery : "-", battery[0] ? "%" : "",
               tamper ? (en ? "TAMPER " : "被拆动 ") : "", fault ? (en ? "FAULT" : "故障") : "",
               tamper || fault ? "" : (en ? "no fault" : "无故障"), en ? "last test" : "最近测试",
               test, en ? "tests in 6 months:" : "半年内测试", ay_pg_value(r, i, 17));
        if (ay_pg_value(r, i, 6)[0])
            printf("    %s%s\n", en ? "place: " : "所在：", ay_pg_value(r, i, 6));
    }
    return true;
}

int ayctl_devices(const struct ayctl_config *cfg, int argc, char **argv)
{
    struct devices_args a;
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    struct ay_pg_result *r = NULL;
    struct ay_tz *zone = NULL;
    int code = devices_parse(cfg, argc, argv, &a);

    if (code != AYCTL_EXIT_OK)
        return code;
    const char *params[2] = {a.district, a.school};
    enum ay_err rc = ayctl_db_connect(cfg, &db, err);
    if (rc == AY_OK)
        rc = ayctl_district_zone(db, a.district, &zone, NULL, err);
    if (rc == AY_OK)
        rc = ay_pg_exec(db, sql_devices, 2, params, &r, err);
    if (rc != AY_OK) {
        ayctl_fail("devices: %s", err);
        code = ayctl_exit_code(rc);
    } else if (ay_pg_nrows(r) == 0) {
        ayctl_fail("devices: no device registered%s%s in district %s",
                   a.school[0] ? " for school " : "", a.school, a.district);
        code = AYCTL_EXIT_FAILURE;
    } else if (!print_devices(r, zone, ay_lang_parse(a.lang), a.json)) {
        ayctl_fail("devices: out of memory");
        code = AYCTL_EXIT_FAILURE;
    }
    fflush(stdout);
    ay_pg_result_free(r);
    ay_tz_free(zone);
    ay_pg_free(db);
    return code;
}

/* ---- ayctl heartbeat -------------------------------------------------------------- */

struct heartbeat_args {
    long long interval_s;
    long long count; /* 0: until stopped */
    long long battery;
    long long keepalive_s;
};

static int heartbeat_parse(int argc, char **argv, struct heartbeat_args *a)
{
    a->interval_s = 60;
    a->count = 0;
    a->battery = -1;
    a->keepalive_s = 20; /* docs/contract.md section 1 */
    for (int i = 1; i < argc; i++) {
        long long *slot = NULL;
        if (strcmp(argv[i], "--keepalive") == 0)
            slot = &a->keepalive_s;
        else if (strcmp(argv[i], "--interval") == 0)
            slot = &a->interval_s;
        else if (strcmp(argv[i], "--count") == 0)
            slot = &a->count;
        else if (strcmp(argv[i], "--battery") == 0)
            slot = &a->battery;
        if (slot == NULL || i + 1 >= argc) {
            ayctl_fail("heartbeat: unexpected argument \"%s\" (usage: ayctl heartbeat "
                       "[--interval S] [--count N] [--battery PERCENT] [--keepalive S])",
                       argv[i]);
            return AYCTL_EXIT_USAGE;
        }
        char *end = NULL;
        *slot = strtoll(argv[++i], &end, 10);
        if (end == argv[i] || *end != '\0' || *slot < 0 || *slot > 86400) {
            ayctl_fail("heartbeat: %s: not a number from 0 to 86400: \"%s\"", argv[i - 1], argv[i]);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (a->interval_s < 1 || a->battery > 100 || a->keepalive_s < 2 || a->keepalive_s > 60) {
        ayctl_fail("heartbeat: --interval must be at least 1 s, --battery at most 100 and "
                   "--keepalive from 2 to 60 s");
        return AYCTL_EXIT_USAGE;
    }
    return AYCTL_EXIT_OK;
}

/* A DeviceStatus of this device, packed: state, the interval, the battery
 * (< 0: none). The topic is its status topic. */
static enum ay_err status_pack(const struct ayctl_config *cfg, int state, long long interval_s,
                               long long battery, uint8_t **buf, size_t *len,
                               char topic[AY_TOPIC_MAX], char id[AY_UUID_STRLEN])
{
    Anyuan__V1__DeviceStatus *m = malloc(sizeof(*m));
    const struct ay_msgtype *t = ay_msgtype_by_desc(&anyuan__v1__device_status__descriptor);
    char err[AY_ERRLEN] = "";
    enum ay_err rc = AY_ERR_NOMEM;

    if (m == NULL)
        return AY_ERR_NOMEM;
    anyuan__v1__device_status__init(m);
    m->state = state;
    m->heartbeat_interval_s = (uint32_t)interval_s;
    if (battery >= 0) {
        m->battery_case = ANYUAN__V1__DEVICE_STATUS__BATTERY_BATTERY_PERCENT;
        m->battery_percent = (uint32_t)battery;
    }
    if ((rc = ayctl_fill_header(cfg, &m->base, ay_time_now_us())) != AY_OK)
        goto cleanup;
    if ((rc = ay_schema_validate(&m->base, ay_time_now_us(), err)) != AY_OK) {
        ayctl_fail("heartbeat: %s", err);
        goto cleanup;
    }
    if ((rc = ay_topic_school(topic, m->header->district_id, m->header->school_id,
                              m->header->device_id, t->topic_kind)) != AY_OK)
        goto cleanup;
    snprintf(id, AY_UUID_STRLEN, "%s", m->header->message_id);
    *len = protobuf_c_message_get_packed_size(&m->base);
    if ((*buf = malloc(*len ? *len : 1)) == NULL) {
        rc = AY_ERR_NOMEM;
        goto cleanup;
    }
    protobuf_c_message_pack(&m->base, *buf);
cleanup:
    protobuf_c_message_free_unpacked(&m->base, NULL); /* all of it malloc'd */
    return rc;
}

/* Connects with a Last Will of its own: an OFFLINE status with a fresh
 * message id for every CONNECT (docs/contract.md section 1), so no reconnect
 * by Paho, which would send the same will again. */
static enum ay_err heartbeat_connect(const struct ayctl_config *cfg, const struct heartbeat_args *a,
                                     struct ay_mqtt **out, char err[AY_ERRLEN])
{
    char idbuf[64], topic[AY_TOPIC_MAX], id[AY_UUID_STRLEN];
    uint8_t *will = NULL;
    size_t will_len = 0;
    struct ay_mqtt *c = NULL;
    struct ay_mqtt_opts o;
    enum ay_err rc = status_pack(cfg, ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_OFFLINE, a->interval_s,
                                 a->battery, &will, &will_len, topic, id);

    if (rc != AY_OK) {
        ay_errf(err, "cannot build the status messages (check district, school and the device "
                     "account)");
        return rc;
    }
    ayctl_mqtt_opts(cfg, idbuf, sizeof(idbuf), &o);
    o.will_topic = topic;
    o.will_payload = will;
    o.will_len = will_len;
    o.keepalive_s = (unsigned)a->keepalive_s;
    o.manual_reconnect = true;
    if ((rc = ay_mqtt_new(&o, NULL, NULL, &c, err)) == AY_OK &&
        (rc = ay_mqtt_connect(c, (int)cfg->timeout_ms, err)) == AY_OK)
        ay_log_info("connected with a last will", "topic", topic, "will_msg_id", id, NULL);
    free(will); /* the client keeps a copy */
    if (rc != AY_OK) {
        ay_mqtt_free(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

int ayctl_heartbeat(const struct ayctl_config *cfg, int argc, char **argv)
{
    struct heartbeat_args a;
    char err[AY_ERRLEN] = "";
    char topic[AY_TOPIC_MAX], id[AY_UUID_STRLEN];
    struct ay_mqtt *c = NULL;
    bool fresh = true; /* connected since the last status: it says ONLINE */
    int code = heartbeat_parse(argc, argv, &a);

    if (code != AYCTL_EXIT_OK)
        return code;
    if (heartbeat_connect(cfg, &a, &c, err) != AY_OK) {
        ayctl_fail("heartbeat: %s", err[0] ? err : "cannot set up the MQTT client");
        return AYCTL_EXIT_FAILURE;
    }
    for (long long sent = 0; !ay_service_stopping() && (a.count == 0 || sent < a.count);) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (c == NULL || !ay_mqtt_connected(c)) {
            /* A new CONNECT, so a new will; then ONLINE again. */
            ay_mqtt_free(c);
            if (heartbeat_connect(cfg, &a, &c, err) != AY_OK) {
                ay_log_warn("could not reconnect to the broker; trying again", "err", err, NULL);
                (void)ay_service_sleep_ms((int)(a.interval_s * 1000));
                continue;
            }
            fresh = true;
        }
        int state = fresh ? ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_ONLINE
                          : ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_HEARTBEAT;
        if (status_pack(cfg, state, a.interval_s, a.battery, &buf, &len, topic, id) != AY_OK) {
            ayctl_fail("heartbeat: cannot build a status message");
            code = AYCTL_EXIT_FAILURE;
            goto cleanup;
        }
        enum ay_err rc = ay_mqtt_publish_wait(c, topic, buf, len, 1, (int)cfg->timeout_ms, err);
        free(buf);
        if (rc != AY_OK && ay_mqtt_connected(c)) {
            ayctl_fail("heartbeat: %s", err);
            code = AYCTL_EXIT_FAILURE;
            goto cleanup;
        }
        if (rc != AY_OK) {
            ay_log_warn("connection to the broker lost; reconnecting with a new last will", "err",
                        err, NULL);
            continue;
        }
        fresh = false;
        sent++;
        printf("%s\n", id);
        fflush(stdout);
        if (a.count != 0 && sent >= a.count)
            break;
        (void)ay_service_sleep_ms((int)(a.interval_s * 1000));
    }
    code = AYCTL_EXIT_OK;
cleanup:
    ay_mqtt_free(c); /* a normal disconnect: no will */
    return code;
}
