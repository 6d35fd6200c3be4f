/*
 * ayctl pub / validate: JSON in, protobuf on the wire, receipt out.
 *
 * The publisher side of the end-to-end contract (docs/contract.md,
 * "Delivery"): the message is kept until its Receipt arrives and re-sent
 * with the same message id after receipt_wait_ms; the recorder stores it
 * once however often it arrives.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_log.h"
#include "ay_mqtt.h"
#include "ay_msgtype.h"
#include "ay_schema.h"
#include "ay_sync.h"
#include "ay_time.h"
#include "ay_topic.h"
#include "ay_uuid.h"
#include "ayctl.h"

struct pub_args {
    const char *type;
    const char *json_path;
    const char *topic;    /* --topic override */
    const char *audience; /* ack, escalation */
    bool no_receipt;
};

/* What the receipt listener shares with the main thread (Paho thread writes). */
struct receipt_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    const char *message_id;
    char *json; /* the matching receipt as JSON, set once */
    int status;
    char reason[AY_ERRLEN];
};

enum ay_err ayctl_read_all(const char *path, size_t max, char **out, size_t *len,
                           char err[AY_ERRLEN])
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    enum ay_err rc = AY_OK;

    if (f == NULL) {
        ay_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return AY_ERR_INVALID;
    }
    buf = malloc(max + 2);
    if (buf == NULL) {
        rc = AY_ERR_NOMEM;
        goto cleanup;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        ay_errf(err, "%s: cannot read: %s", path, strerror(errno));
        rc = AY_ERR_IO;
        goto cleanup;
    }
    if (n > max) {
        ay_errf(err, "%s: larger than %zu bytes", path, max);
        rc = AY_ERR_INVALID;
        goto cleanup;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
cleanup:
    free(buf);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int parse_args(int argc, char **argv, struct pub_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
            a->json_path = argv[++i];
        else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc)
            a->topic = argv[++i];
        else if (strcmp(argv[i], "--audience") == 0 && i + 1 < argc)
            a->audience = argv[++i];
        else if (strcmp(argv[i], "--no-receipt") == 0)
            a->no_receipt = true;
        else if (argv[i][0] != '-' && a->type == NULL)
            a->type = argv[i];
        else {
            ayctl_fail("%s: unexpected argument \"%s\"", argv[0], argv[i]);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (a->type == NULL || a->json_path == NULL) {
        ayctl_fail("usage: ayctl %s TYPE --json FILE|-", argv[0]);
        return AYCTL_EXIT_USAGE;
    }
    return AYCTL_EXIT_OK;
}

/* Borrowed pointer to the message's header, created if absent. */
static Anyuan__V1__Header *header_of(ProtobufCMessage *m)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "header");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    Anyuan__V1__Header **slot = (Anyuan__V1__Header **)((char *)m + f->offset);
    if (*slot == NULL) {
        *slot = malloc(sizeof(**slot));
        if (*slot == NULL)
            return NULL;
        anyuan__v1__header__init(*slot);
    }
    return *slot;
}

/* Replaces an empty string field with a malloc'd copy of value. */
static enum ay_err fill_str(char **field, const char *value)
{
    if ((*field != NULL && **field != '\0') || value == NULL || *value == '\0')
        return AY_OK;
    char *copy = strdup(value);
    if (copy == NULL)
        return AY_ERR_NOMEM;
    if (*field != protobuf_c_empty_string)
        free(*field);
    *field = copy;
    return AY_OK;
}

/* Fills what the sender may leave out: id, time, version, who and where. */
static enum ay_err fill_header(const struct ayctl_config *cfg, ProtobufCMessage *m, int64_t now_us)
{
    char id[AY_UUID_STRLEN];
    Anyuan__V1__Header *h = header_of(m);
    enum ay_err rc;

    if (h == NULL)
        return AY_ERR_NOMEM;
    if ((rc = ay_uuid_v4(id)) != AY_OK || (rc = fill_str(&h->message_id, id)) != AY_OK ||
        (rc = fill_str(&h->device_id, cfg->common.mqtt_username)) != AY_OK ||
        (rc = fill_str(&h->district_id, cfg->common.district)) != AY_OK)
        return rc;
    const struct ay_msgtype *t = ay_msgtype_by_desc(m->descriptor);
    if (t && t->direction == AY_DIR_INBOUND && (rc = fill_str(&h->school_id, cfg->school)) != AY_OK)
        return rc;
    if (h->sent_at == NULL) {
        h->sent_at = malloc(sizeof(*h->sent_at));
        if (h->sent_at == NULL)
            return AY_ERR_NOMEM;
        anyuan__v1__timestamp__init(h->sent_at);
        ay_time_from_us(now_us, &h->sent_at->seconds, &h->sent_at->nanos);
    }
    if (h->schema_version == 0)
        h->schema_version = 1;
    return AY_OK;
}

/* An alarm without triggeredAt is a button pressed now: fill it in. */
static enum ay_err fill_trigger_time(ProtobufCMessage *m, int64_t now_us)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "triggered_at");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return AY_OK;
    Anyuan__V1__Timestamp **slot = (Anyuan__V1__Timestamp **)((char *)m + f->offset);
    if (*slot != NULL)
        return AY_OK;
    *slot = malloc(sizeof(**slot));
    if (*slot == NULL)
        return AY_ERR_NOMEM;
    anyuan__v1__timestamp__init(*slot);
    ay_time_from_us(now_us, &(*slot)->seconds, &(*slot)->nanos);
    return AY_OK;
}

/* Reads, decodes, completes and validates the message; exit code. */
static int load_message(const struct ayctl_config *cfg, const struct pub_args *a,
                        const struct ay_msgtype **type, ProtobufCMessage **out)
{
    char err[AY_ERRLEN] = "";
    char err2[AY_ERRLEN] = "";
    char *json = NULL;
    size_t len = 0;
    ProtobufCMessage *m = NULL;
    enum ay_err rc;

    *type = ay_msgtype_by_name(a->type);
    if (*type == NULL) {
        ayctl_fail("unknown message type \"%s\" (see ayctl --help)", a->type);
        return AYCTL_EXIT_USAGE;
    }
    rc = ayctl_read_all(a->json_path, AY_CODEC_MAX_JSON, &json, &len, err);
    if (rc == AY_OK)
        rc = ay_codec_from_json((*type)->desc, json, len, &m, err);
    int64_t now = ay_time_now_us();
    if (rc == AY_OK)
        rc = fill_header(cfg, m, now);
    if (rc == AY_OK)
        rc = fill_trigger_time(m, now);
    if (rc == AY_OK && (rc = ay_schema_validate(m, now, err)) != AY_OK && (*type)->any_clock &&
        ay_schema_validate_flags(m, now, AY_SCHEMA_ANY_CLOCK, err2) == AY_OK) {
        /* As the backbone does: an alarm goes out whatever the clock says. */
        ayctl_fail("warning: %s (sent anyway: a %s is never held back for a clock)", err,
                   (*type)->name);
        rc = AY_OK;
    }
    free(json);
    if (rc != AY_OK) {
        ayctl_fail("invalid %s: %s", a->type, err[0] ? err : ay_strerror(rc));
        if (m)
            protobuf_c_message_free_unpacked(m, NULL);
        return ayctl_exit_code(rc);
    }
    *out = m;
    return AYCTL_EXIT_OK;
}

static enum ay_err topic_for(const struct ayctl_config *cfg, const struct pub_args *a,
                             const struct ay_msgtype *t, const Anyuan__V1__Header *h,
                             char topic[AY_TOPIC_MAX])
{
    if (a->topic) {
        if (strlen(a->topic) >= AY_TOPIC_MAX)
            return AY_ERR_INVALID;
        memcpy(topic, a->topic, strlen(a->topic) + 1);
        return AY_OK;
    }
    if (t->direction == AY_DIR_INBOUND)
        return ay_topic_school(topic, h->district_id, h->school_id, h->device_id, t->topic_kind);
    if (t->direction == AY_DIR_ACK)
        return ay_topic_ack(topic, cfg->common.district, a->audience ? a->audience : "",
                            cfg->common.mqtt_username ? cfg->common.mqtt_username : "");
    if (strcmp(t->name, "escalation") == 0)
        return ay_topic_escalation(topic, cfg->common.district, a->audience ? a->audience : "");
    return AY_ERR_INVALID;
}

/* Paho receive thread: is this the receipt we wait for? */
static void on_receipt(void *arg, const struct ay_mqtt_msg *msg)
{
    struct receipt_wait *w = arg;
    char err[AY_ERRLEN];
    char *json = NULL;
    Anyuan__V1__Receipt *r = anyuan__v1__receipt__unpack(NULL, msg->len, msg->payload);

    if (r == NULL) {
        ay_log_warn("ignoring undecodable message on receipt topic", "topic", msg->topic, NULL);
        return;
    }
    if (strcmp(r->ref_message_id, w->message_id) == 0 &&
        ay_codec_to_json(&r->base, false, &json, err) == AY_OK) {
        pthread_mutex_lock(&w->lock);
        if (w->json == NULL) {
            w->json = json;
            json = NULL;
            w->status = r->status;
            snprintf(w->reason, sizeof(w->reason), "%s", r->reason);
        }
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
    }
    free(json);
    anyuan__v1__receipt__free_unpacked(r, NULL);
}

/* Waits until the receipt came or wait_ms passed; true if it came. */
static bool receipt_arrived(struct receipt_wait *w, long long wait_ms)
{
    int64_t until = ay_mono_deadline_us((int)wait_ms);
    pthread_mutex_lock(&w->lock);
    while (w->json == NULL)
        if (!ay_cond_wait_until(&w->cond, &w->lock, until))
            break;
    bool got = w->json != NULL;
    pthread_mutex_unlock(&w->lock);
    return got;
}

/* Publishes until a receipt arrives (or only once, without receipts). */
static int send_until_receipt(const struct ayctl_config *cfg, struct ay_mqtt *c, const char *topic,
                              const uint8_t *buf, size_t len, bool want_receipt,
                              struct receipt_wait *w)
{
    char err[AY_ERRLEN] = "";
    int64_t deadline = ay_time_now_us() + cfg->timeout_ms * 1000;
    int attempt = 0;

    for (;;) {
        int64_t left_ms = (deadline - ay_time_now_us()) / 1000;
        if (left_ms <= 0) {
            ayctl_fail("no receipt for message %s within %lld ms (sent %d times); it may not be "
                       "stored: send it again with the same messageId",
                       w->message_id, cfg->timeout_ms, attempt);
            return AYCTL_EXIT_FAILURE;
        }
        enum ay_err rc = ay_mqtt_publish_wait(c, topic, buf, len, 1, (int)left_ms, err);
        attempt++;
        if (rc != AY_OK) {
            ayctl_fail("%s", err);
            return AYCTL_EXIT_FAILURE;
        }
        if (attempt > 1)
            ay_log_warn("re-sent message without receipt", "msg_id", w->message_id, NULL);
        if (!want_receipt)
            return AYCTL_EXIT_OK;
        long long wait = cfg->receipt_wait_ms < left_ms ? cfg->receipt_wait_ms : left_ms;
        if (receipt_arrived(w, wait))
            return AYCTL_EXIT_OK;
    }
}

static int publish(const struct ayctl_config *cfg, const struct pub_args *a,
                   const struct ay_msgtype *t, ProtobufCMessage *m)
{
    char err[AY_ERRLEN] = "";
    char topic[AY_TOPIC_MAX];
    char receipt_topic[AY_TOPIC_MAX];
    char idbuf[64];
    struct ay_mqtt *c = NULL;
    uint8_t *buf = NULL;
    int code = AYCTL_EXIT_FAILURE;
    const Anyuan__V1__Header *h = header_of(m);
    struct receipt_wait w = {.message_id = h->message_id};
    bool want_receipt = cfg->wait_receipt && !a->no_receipt && t->direction == AY_DIR_INBOUND;

    pthread_mutex_init(&w.lock, NULL);
    ay_cond_init(&w.cond);
    if (topic_for(cfg, a, t, h, topic) != AY_OK) {
        ayctl_fail("cannot build a topic for %s (check district, school, device and --audience)",
                   t->name);
        code = AYCTL_EXIT_USAGE;
        goto cleanup;
    }
    size_t len = protobuf_c_message_get_packed_size(m);
    buf = malloc(len ? len : 1);
    if (buf == NULL)
        goto cleanup;
    protobuf_c_message_pack(m, buf);
    struct ay_mqtt_opts o;
    ayctl_mqtt_opts(cfg, idbuf, sizeof(idbuf), &o);
    if (ay_mqtt_new(&o, want_receipt ? on_receipt : NULL, &w, &c, err) != AY_OK ||
        (want_receipt &&
         (ay_topic_receipt(receipt_topic, h->district_id, h->school_id, h->device_id) != AY_OK ||
          ay_mqtt_subscribe(c, receipt_topic, 1, err) != AY_OK)) ||
        ay_mqtt_connect(c, (int)cfg->timeout_ms, err) != AY_OK) {
        ayctl_fail("%s", err[0] ? err : "cannot set up the MQTT client");
        goto cleanup;
    }
    code = send_until_receipt(cfg, c, topic, buf, len, want_receipt, &w);
    if (code != AYCTL_EXIT_OK)
        goto cleanup;
    if (!want_receipt) {
        char *json = NULL;
        if (ay_codec_to_json(m, false, &json, err) == AY_OK)
            printf("%s\n", json);
        free(json);
        ay_log_info("published", "type", t->name, "msg_id", h->message_id, "topic", topic, NULL);
    } else {
        printf("%s\n", w.json);
        if (w.status == ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED) {
            ayctl_fail("message %s was rejected: %s", h->message_id, w.reason);
            code = AYCTL_EXIT_FAILURE;
        }
    }
    fflush(stdout);
cleanup:
    ay_mqtt_free(c);
    free(buf);
    free(w.json);
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return code;
}

int ayctl_pub(const struct ayctl_config *cfg, int argc, char **argv)
{
    struct pub_args a;
    const struct ay_msgtype *t = NULL;
    ProtobufCMessage *m = NULL;

    int code = parse_args(argc, argv, &a);
    if (code != AYCTL_EXIT_OK)
        return code;
    code = load_message(cfg, &a, &t, &m);
    if (code != AYCTL_EXIT_OK)
        return code;
    code = publish(cfg, &a, t, m);
    protobuf_c_message_free_unpacked(m, NULL);
    return code;
}

/* Arguments and message of the offline commands (validate, encode). */
static int load_offline(const struct ayctl_config *cfg, int argc, char **argv, ProtobufCMessage **m)
{
    struct pub_args a;
    const struct ay_msgtype *t = NULL;
    int code = parse_args(argc, argv, &a);
    return code != AYCTL_EXIT_OK ? code : load_message(cfg, &a, &t, m);
}

int ayctl_validate(const struct ayctl_config *cfg, int argc, char **argv)
{
    ProtobufCMessage *m = NULL;
    char err[AY_ERRLEN] = "";
    char *json = NULL;

    int code = load_offline(cfg, argc, argv, &m);
    if (code != AYCTL_EXIT_OK)
        return code;
    if (ay_codec_to_json(m, true, &json, err) == AY_OK) {
        printf("%s\n", json);
    } else {
        ayctl_fail("%s", err);
        code = AYCTL_EXIT_FAILURE;
    }
    free(json);
    protobuf_c_message_free_unpacked(m, NULL);
    return code;
}

int ayctl_encode(const struct ayctl_config *cfg, int argc, char **argv)
{
    ProtobufCMessage *m = NULL;
    uint8_t *buf = NULL;

    int code = load_offline(cfg, argc, argv, &m);
    if (code != AYCTL_EXIT_OK)
        return code;
    size_t len = protobuf_c_message_get_packed_size(m);
    buf = malloc(len ? len : 1);
    if (buf == NULL) {
        code = AYCTL_EXIT_FAILURE;
    } else {
        protobuf_c_message_pack(m, buf);
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
            ayctl_fail("cannot write to standard output");
            code = AYCTL_EXIT_FAILURE;
        }
    }
    free(buf);
    protobuf_c_message_free_unpacked(m, NULL);
    return code;
}
