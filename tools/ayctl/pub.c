/*
 * ayctl pub / validate / encode: JSON in; protobuf on the wire, or with
 * --wire json the message's proto3 JSON with content type application/json
 * (lib/ay_wire, docs/contract.md 4.1); receipt out.
 *
 * The message is kept until its Receipt arrives and re-sent with the same
 * message id (deliver.c); the recorder stores it once however often it
 * arrives, whichever form it came in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_log.h"
#include "ay_mqtt.h"
#include "ay_msgtype.h"
#include "ay_schema.h"
#include "ay_time.h"
#include "ay_topic.h"
#include "ay_uuid.h"
#include "ay_wire.h"
#include "ayctl.h"

struct pub_args {
    const char *type;
    const char *json_path;
    const char *topic;    /* --topic override */
    const char *audience; /* ack, escalation */
    bool no_receipt;
    enum ay_wire wire; /* --wire: the form it goes on the wire in */
};

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
        else if (strcmp(argv[i], "--wire") == 0 && i + 1 < argc) {
            if (!ay_wire_parse(argv[++i], &a->wire)) {
                ayctl_fail("%s: --wire takes protobuf or json, not \"%s\"", argv[0], argv[i]);
                return AYCTL_EXIT_USAGE;
            }
        } else if (argv[i][0] != '-' && a->type == NULL)
            a->type = argv[i];
        else {
            ayctl_fail("%s: unexpected argument \"%s\"", argv[0], argv[i]);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (a->type == NULL || a->json_path == NULL) {
        ayctl_fail("usage: ayctl %s TYPE --json FILE|- [--wire protobuf|json]", argv[0]);
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

enum ay_err ayctl_fill_header(const struct ayctl_config *cfg, ProtobufCMessage *m, int64_t now_us)
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
        rc = ayctl_fill_header(cfg, m, now);
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
    /* Acks and escalations: the configured audience unless --audience says. */
    const char *audience = a->audience ? a->audience : (cfg->audience ? cfg->audience : "");
    if (t->direction == AY_DIR_ACK)
        return ay_topic_ack(topic, cfg->common.district, audience,
                            cfg->common.mqtt_username ? cfg->common.mqtt_username : "");
    if (strcmp(t->name, "escalation") == 0)
        return ay_topic_escalation_feed(topic, cfg->common.district, audience, cfg->school);
    return AY_ERR_INVALID;
}

static int publish(const struct ayctl_config *cfg, const struct pub_args *a,
                   const struct ay_msgtype *t, ProtobufCMessage *m)
{
    char err[AY_ERRLEN] = "";
    char topic[AY_TOPIC_MAX];
    char receipt_topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    struct ayctl_receipt r = {.json = NULL};
    const Anyuan__V1__Header *h = header_of(m);
    bool want_receipt = cfg->wait_receipt && !a->no_receipt && t->direction == AY_DIR_INBOUND;
    int code = AYCTL_EXIT_USAGE;

    if (topic_for(cfg, a, t, h, topic) != AY_OK ||
        (want_receipt &&
         ay_topic_receipt(receipt_topic, h->district_id, h->school_id, h->device_id) != AY_OK)) {
        ayctl_fail("cannot build a topic for %s (check district, school, device and --audience)",
                   t->name);
        goto cleanup;
    }
    code = AYCTL_EXIT_FAILURE;
    size_t len = 0;
    if (ay_wire_encode(m, a->wire, &buf, &len, err) != AY_OK) {
        ayctl_fail("cannot encode the %s: %s", t->name, err[0] ? err : "out of memory");
        goto cleanup;
    }
    code = ayctl_deliver(cfg, topic, ay_wire_content_type(a->wire), buf, len, h->message_id,
                         want_receipt ? receipt_topic : NULL, &r);
    if (code != AYCTL_EXIT_OK)
        goto cleanup;
    if (!want_receipt) {
        char *json = NULL;
        if (ay_codec_to_json(m, false, &json, err) == AY_OK)
            printf("%s\n", json);
        free(json);
        ay_log_info("published", "type", t->name, "msg_id", h->message_id, "topic", topic, NULL);
    } else {
        printf("%s\n", r.json);
        if (r.status == ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED) {
            ayctl_fail("message %s was rejected: %s", h->message_id, r.reason);
            code = AYCTL_EXIT_FAILURE;
        }
    }
    fflush(stdout);
cleanup:
    free(buf);
    free(r.json);
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
    size_t len = 0;
    char err[AY_ERRLEN] = "";
    struct pub_args a;

    int code = parse_args(argc, argv, &a);
    if (code == AYCTL_EXIT_OK)
        code = load_offline(cfg, argc, argv, &m);
    if (code != AYCTL_EXIT_OK)
        return code;
    /* The bytes as they would go on the wire: protobuf, or one line of JSON. */
    if (ay_wire_encode(m, a.wire, &buf, &len, err) != AY_OK) {
        ayctl_fail("cannot encode: %s", err[0] ? err : "out of memory");
        code = AYCTL_EXIT_FAILURE;
    } else {
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
            ayctl_fail("cannot write to standard output");
            code = AYCTL_EXIT_FAILURE;
        }
    }
    free(buf);
    protobuf_c_message_free_unpacked(m, NULL);
    return code;
}
