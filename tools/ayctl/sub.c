/*
 * ayctl sub: print what arrives on a feed as JSON lines on stdout:
 *   {"topic":"ay/v1/d01/police/alarm","type":"police-alarm","wire":"protobuf","message":{...}}
 * Feed `alarm` is the district's police alarm feed (what police accounts
 * may read); `raw-alarm` and `raw-alarm-cancel` are the devices' own topics
 * (for service accounts); `escalation school` is the configured school's
 * own escalation feed. Either wire form is read (lib/ay_wire: the
 * content type, else the first byte; "wire" says which); `--wire json`
 * subscribes to the JSON twin of the alarm and escalation feeds.
 * A message that cannot be decoded is printed with "error" instead of
 * "message" (and never stops the feed). "subscribed" is logged on stderr
 * once the broker granted the subscription, so scripts know when to start.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ay_codec.h"
#include "ay_json.h"
#include "ay_log.h"
#include "ay_mqtt.h"
#include "ay_msgtype.h"
#include "ay_topic.h"
#include "ay_wire.h"
#include "ayctl.h"

struct sub_state {
    pthread_mutex_t lock;
    long long count; /* messages printed */
};

/* ay/v1/{district}/police/alarm, the police alarm feed. */
static bool is_police_feed(const char *topic)
{
    const char *d = strncmp(topic, "ay/v1/", 6) == 0 ? topic + 6 : NULL;
    const char *rest = d ? strchr(d, '/') : NULL;
    return rest != NULL && rest > d && strcmp(rest, "/police/alarm") == 0;
}

/* The message type a topic carries, or NULL. */
static const struct ay_msgtype *type_of_topic(const char *topic)
{
    struct ay_topic t;
    char err[AY_ERRLEN];
    char base[AY_TOPIC_MAX];
    size_t n = 0;

    /* The JSON twin of a feed (docs/contract.md 4.5) carries the feed's type. */
    if (ay_wire_topic_is_json(topic, &n) && n < sizeof(base)) {
        memcpy(base, topic, n);
        base[n] = '\0';
        const struct ay_msgtype *mt = type_of_topic(base);
        bool feed = is_police_feed(base) ||
                    (ay_topic_parse(base, &t, err) == AY_OK && t.cls == AY_TOPIC_ESCALATION);
        return feed ? mt : NULL;
    }
    if (is_police_feed(topic))
        return ay_msgtype_by_name("police-alarm");
    if (ay_topic_parse(topic, &t, err) != AY_OK)
        return NULL;
    switch (t.cls) {
    case AY_TOPIC_SCHOOL: {
        const struct ay_msgtype *mt = ay_msgtype_by_name(t.kind);
        return (mt && mt->direction == AY_DIR_INBOUND) ? mt : NULL;
    }
    case AY_TOPIC_RECEIPT:
        return ay_msgtype_by_name("receipt");
    case AY_TOPIC_ESCALATION:
        return ay_msgtype_by_name("escalation");
    case AY_TOPIC_ACK:
        return ay_msgtype_by_name("ack");
    case AY_TOPIC_ACK_RECEIPT:
        return ay_msgtype_by_name("receipt");
    }
    return NULL;
}

char *ayctl_sub_render(const struct ay_mqtt_msg *msg)
{
    char err[AY_ERRLEN] = "";
    cJSON *line = cJSON_CreateObject();
    cJSON *body = NULL;
    ProtobufCMessage *m = NULL;
    const struct ay_msgtype *t = type_of_topic(msg->topic);
    enum ay_wire w = AY_WIRE_PROTOBUF;
    char *out = NULL;

    if (line == NULL)
        return NULL;
    bool ok =
        ay_json_str(line, "topic", msg->topic) && (t == NULL || ay_json_str(line, "type", t->name));
    if (t == NULL) {
        ay_errf(err, "topic is not in the contract");
    } else if (ay_wire_detect(msg->content_type, msg->payload, msg->len, &w, err) == AY_OK) {
        ok = ok && ay_json_str(line, "wire", ay_wire_name(w));
        if (ay_wire_decode(t->desc, w, msg->payload, msg->len, &m, err) == AY_OK &&
            ay_codec_to_cjson(m, &body, err) == AY_OK) {
            ok = ok && ay_json_take(line, "message", body);
            err[0] = '\0';
        }
    }
    if (err[0])
        ok = ok && ay_json_str(line, "error", err);
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    out = ok ? cJSON_PrintUnformatted(line) : NULL;
    cJSON_Delete(line);
    return out;
}

/* Paho receive thread. */
static void on_message(void *arg, const struct ay_mqtt_msg *msg)
{
    struct sub_state *s = arg;
    char *line = ayctl_sub_render(msg);

    pthread_mutex_lock(&s->lock);
    if (line) {
        fputs(line, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    s->count++;
    pthread_mutex_unlock(&s->lock);
    free(line);
}

/* The topic filter for a named feed, or its JSON twin; exit code. */
static int feed_filter(const struct ayctl_config *cfg, const char *feed, const char *arg,
                       enum ay_wire wire, char out[AY_TOPIC_MAX])
{
    char base[AY_TOPIC_MAX];

    if (wire == AY_WIRE_JSON) {
        if (strcmp(feed, "alarm") != 0 && strcmp(feed, "escalation") != 0) {
            ayctl_fail("sub: --wire json is for the feeds alarm and escalation; receipts come in "
                       "the form their message was sent in");
            return AYCTL_EXIT_USAGE;
        }
        int code = feed_filter(cfg, feed, arg, AY_WIRE_PROTOBUF, base);
        if (code != AYCTL_EXIT_OK)
            return code;
        return ay_wire_topic(base, AY_WIRE_JSON, out) == AY_OK ? AYCTL_EXIT_OK : AYCTL_EXIT_USAGE;
    }
    const char *d = cfg->common.district;
    const char *u = cfg->common.mqtt_username ? cfg->common.mqtt_username : "";
    const char *school = arg ? arg : (cfg->school ? cfg->school : "");
    int n;

    if (strcmp(feed, "alarm") == 0)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/police/alarm", d);
    else if (strcmp(feed, "raw-alarm") == 0)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/school/+/+/alarm", d);
    else if (strcmp(feed, "raw-alarm-cancel") == 0)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/school/+/+/alarm-cancel", d);
    else if (strcmp(feed, "escalation") == 0 && arg && strcmp(arg, AY_TOPIC_AUDIENCE_SCHOOL) == 0)
        /* The configured school's own feed. */
        n = ay_topic_escalation_school(out, d, cfg->school ? cfg->school : "") == AY_OK ? 0 : -1;
    else if (strcmp(feed, "escalation") == 0)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/escalation/%s", d, arg ? arg : "+");
    else if (strcmp(feed, "ack") == 0)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/ack/%s/+", d, arg ? arg : "+");
    else if (strcmp(feed, "receipt") == 0)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/receipt/%s/%s", d, school, u);
    else if (strcmp(feed, "school") == 0)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/school/%s/#", d, school);
    else if (strcmp(feed, "all") == 0)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/#", d);
    else {
        ayctl_fail("unknown feed \"%s\": use alarm (the police feed), raw-alarm, "
                   "raw-alarm-cancel, escalation [police|bureau|government|school], ack, "
                   "receipt, school [SCHOOL], "
                   "all, or --topic FILTER",
                   feed);
        return AYCTL_EXIT_USAGE;
    }
    return (n < 0 || n >= AY_TOPIC_MAX) ? AYCTL_EXIT_USAGE : AYCTL_EXIT_OK;
}

int ayctl_sub(const struct ayctl_config *cfg, int argc, char **argv)
{
    char filter[AY_TOPIC_MAX] = "";
    char err[AY_ERRLEN] = "";
    char idbuf[64];
    const char *feed = NULL;
    const char *feed_arg = NULL;
    long long count = 0;
    enum ay_wire wire = AY_WIRE_PROTOBUF;
    struct ay_mqtt *c = NULL;
    struct sub_state s = {.count = 0};
    int code = AYCTL_EXIT_USAGE;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (!ayctl_parse_count(argv[++i], &count))
                return AYCTL_EXIT_USAGE;
        } else if (strcmp(argv[i], "--wire") == 0 && i + 1 < argc) {
            if (!ay_wire_parse(argv[++i], &wire)) {
                ayctl_fail("sub: --wire takes protobuf or json, not \"%s\"", argv[i]);
                return AYCTL_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            snprintf(filter, sizeof(filter), "%s", argv[++i]);
        } else if (argv[i][0] != '-' && feed == NULL) {
            feed = argv[i];
        } else if (argv[i][0] != '-' && feed_arg == NULL) {
            feed_arg = argv[i];
        } else {
            ayctl_fail("sub: unexpected argument \"%s\"", argv[i]);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (filter[0] == '\0' && feed == NULL) {
        ayctl_fail("usage: ayctl sub FEED [--wire json] [--count N] | ayctl sub --topic FILTER");
        return AYCTL_EXIT_USAGE;
    }
    if (filter[0] == '\0' && feed_filter(cfg, feed, feed_arg, wire, filter) != AYCTL_EXIT_OK)
        return AYCTL_EXIT_USAGE;
    pthread_mutex_init(&s.lock, NULL);
    struct ay_mqtt_opts o;
    ayctl_mqtt_opts(cfg, idbuf, sizeof(idbuf), &o);
    if (ay_mqtt_new(&o, on_message, &s, &c, err) != AY_OK ||
        ay_mqtt_subscribe(c, filter, 1, err) != AY_OK ||
        ay_mqtt_connect(c, (int)cfg->timeout_ms, err) != AY_OK) {
        ayctl_fail("%s", err[0] ? err : "cannot set up the MQTT client");
        code = AYCTL_EXIT_FAILURE;
        goto cleanup;
    }
    ay_log_info("subscribed", "topic", filter, NULL);
    code = ayctl_wait_count(cfg, &s.lock, &s.count, count);
cleanup:
    ay_mqtt_free(c);
    pthread_mutex_destroy(&s.lock);
    return code;
}
