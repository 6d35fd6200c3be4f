/*
 * ayctl ack ESCALATION_ID STATE: a person acknowledges an escalation.
 *
 * Publishes an Ack as the configured account on
 * ay/v1/{district}/ack/{audience}/{account} (the broker lets an account
 * publish only there, so the topic says who acknowledged) and waits for its
 * Receipt on ay/v1/{district}/ack-receipt/{audience}/{account}, re-sending
 * the same message until it comes (deliver.c); with --wire json the Ack
 * goes as JSON and its receipt comes back as JSON. The receipt is printed as
 * JSON; exit 0 when STORED or DUPLICATE, 1 when REJECTED (the reason on
 * stderr) or when no receipt came.
 * Enforces for people domain.md rules 1 and 6 (police and bureau
 * acknowledge; an unacknowledged escalation climbs) and 7 (who and when).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_schema.h"
#include "ay_time.h"
#include "ay_topic.h"
#include "ay_uuid.h"
#include "ay_wire.h"
#include "ayctl.h"
#include "people_text.h"

struct ack_args {
    const char *escalation_id;
    const char *state;
    const char *note;
    const char *by;
    const char *audience;
    bool no_receipt;
    enum ay_wire wire; /* --wire json: the Ack as JSON, its receipt comes back so */
};

static const char ack_usage[] =
    "usage: ayctl ack ESCALATION_ID received|dispatched|on-scene|resolved|false-alarm "
    "[--note TEXT] [--by NAME] [--audience A] [--no-receipt] [--wire protobuf|json]";

static int parse_args(int argc, char **argv, struct ack_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--note") == 0 && i + 1 < argc)
            a->note = argv[++i];
        else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc)
            a->by = argv[++i];
        else if (strcmp(argv[i], "--audience") == 0 && i + 1 < argc)
            a->audience = argv[++i];
        else if (strcmp(argv[i], "--no-receipt") == 0)
            a->no_receipt = true;
        else if (strcmp(argv[i], "--wire") == 0 && i + 1 < argc &&
                 ay_wire_parse(argv[i + 1], &a->wire))
            i++;
        else if (argv[i][0] != '-' && a->escalation_id == NULL)
            a->escalation_id = argv[i];
        else if (argv[i][0] != '-' && a->state == NULL)
            a->state = argv[i];
        else {
            ayctl_fail("ack: unexpected argument \"%s\" (%s)", argv[i], ack_usage);
            return AYCTL_EXIT_USAGE;
        }
    }
    if (a->escalation_id == NULL || a->state == NULL) {
        ayctl_fail("%s", ack_usage);
        return AYCTL_EXIT_USAGE;
    }
    return AYCTL_EXIT_OK;
}

/* Prints the outcome of a delivered ack; exit code. */
static int tell(const struct ayctl_receipt *r, const char *msg_id)
{
    printf("%s\n", r->json);
    fflush(stdout);
    switch (r->status) {
    case ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED:
    case ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_DUPLICATE:
        return AYCTL_EXIT_OK;
    case ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED:
        ayctl_fail("acknowledgement %s was rejected: %s", msg_id, r->reason);
        return AYCTL_EXIT_FAILURE;
    default:
        ayctl_fail("acknowledgement %s: receipt without a known status", msg_id);
        return AYCTL_EXIT_FAILURE;
    }
}

/* Checks the arguments and the configuration; fills the topics and *kind. Exit code. */
static int check(const struct ayctl_config *cfg, const struct ack_args *a, const char *account,
                 int *kind, char topic[AY_TOPIC_MAX], char receipt_topic[AY_TOPIC_MAX])
{
    const char *audience = ayctl_audience(cfg, a->audience);

    if (audience == NULL)
        return AYCTL_EXIT_USAGE;
    if (!ay_schema_uuid_is_valid(a->escalation_id)) {
        ayctl_fail("ack: \"%s\" is not an escalation id (a UUID, as `ayctl watch` shows it)",
                   a->escalation_id);
        return AYCTL_EXIT_USAGE;
    }
    if (!ayctl_ack_kind_parse(a->state, kind)) {
        ayctl_fail("ack: unknown state \"%s\": use received, dispatched, on-scene, resolved or "
                   "false-alarm",
                   a->state);
        return AYCTL_EXIT_USAGE;
    }
    if (ay_topic_ack(topic, cfg->common.district, audience, account) != AY_OK ||
        ay_topic_ack_receipt(receipt_topic, cfg->common.district, audience, account) != AY_OK) {
        ayctl_fail("ack: needs the account (mqtt_username) and district of a person's "
                   "configuration; got \"%s\" in \"%s\"",
                   account, cfg->common.district);
        return AYCTL_EXIT_USAGE;
    }
    return AYCTL_EXIT_OK;
}

/* Packs and delivers ack; prints the receipt (or, without one, the Ack). Exit code. */
static int deliver_ack(const struct ayctl_config *cfg, const struct ack_args *a,
                       const Anyuan__V1__Ack *ack, const char *topic, const char *receipt_topic)
{
    char err[AY_ERRLEN] = "";
    char *json = NULL;
    struct ayctl_receipt r = {.json = NULL};
    bool want_receipt = cfg->wait_receipt && !a->no_receipt;
    size_t len = 0;
    uint8_t *buf = NULL;
    int code = AYCTL_EXIT_FAILURE;

    if (ay_wire_encode(&ack->base, a->wire, &buf, &len, err) != AY_OK) {
        ayctl_fail("ack: cannot encode: %s", err[0] ? err : "out of memory");
        goto cleanup;
    }
    code = ayctl_deliver(cfg, topic, ay_wire_content_type(a->wire), buf, len,
                         ack->header->message_id, want_receipt ? receipt_topic : NULL, &r);
    if (code != AYCTL_EXIT_OK)
        goto cleanup;
    if (want_receipt) {
        code = tell(&r, ack->header->message_id);
    } else if (ay_codec_to_json(&ack->base, false, &json, err) == AY_OK) {
        printf("%s\n", json);
        fflush(stdout);
    }
cleanup:
    free(buf);
    free(json);
    free(r.json);
    return code;
}

int ayctl_ack(const struct ayctl_config *cfg, int argc, char **argv)
{
    struct ack_args a;
    char err[AY_ERRLEN] = "";
    char msg_id[AY_UUID_STRLEN];
    char topic[AY_TOPIC_MAX];
    char receipt_topic[AY_TOPIC_MAX];
    int kind = 0;
    const char *account = cfg->common.mqtt_username ? cfg->common.mqtt_username : "";
    int code = parse_args(argc, argv, &a);

    if (code == AYCTL_EXIT_OK)
        code = check(cfg, &a, account, &kind, topic, receipt_topic);
    if (code != AYCTL_EXIT_OK)
        return code;
    if (ay_uuid_v4(msg_id) != AY_OK) {
        ayctl_fail("ack: cannot make a message id");
        return AYCTL_EXIT_FAILURE;
    }
    /* Who acknowledged is the account the topic names (the broker checks
     * it); by.name is the person's name as they give it. */
    int64_t now = ay_time_now_us();
    Anyuan__V1__Timestamp sent = ANYUAN__V1__TIMESTAMP__INIT;
    Anyuan__V1__Header h = ANYUAN__V1__HEADER__INIT;
    Anyuan__V1__Person by = ANYUAN__V1__PERSON__INIT;
    Anyuan__V1__Ack ack = ANYUAN__V1__ACK__INIT;
    ay_time_from_us(now, &sent.seconds, &sent.nanos);
    Anyuan__V1__Timestamp at = sent;
    h.message_id = msg_id;
    h.device_id = (char *)account;
    h.district_id = cfg->common.district;
    h.sent_at = &sent;
    h.schema_version = 1;
    by.name = (char *)(a.by ? a.by : account);
    ack.header = &h;
    ack.escalation_id = (char *)a.escalation_id;
    ack.kind = (Anyuan__V1__AckKind)kind;
    ack.at = &at;
    ack.by = &by;
    ack.note = (char *)(a.note ? a.note : "");
    if (ay_schema_validate(&ack.base, now, err) != AY_OK) {
        ayctl_fail("invalid ack: %s", err);
        return AYCTL_EXIT_USAGE;
    }
    return deliver_ack(cfg, &a, &ack, topic, receipt_topic);
}
