/*
 * ayctl deliver.c - publish a message until the backbone's receipt comes
 * (`ayctl pub` for schools' devices, `ayctl ack` for people).
 *
 * The publisher side of the end-to-end contract (docs/contract.md,
 * "Delivery"): the message is kept until its Receipt arrives and re-sent
 * with the same message id after receipt_wait_ms; the backbone stores it
 * once however often it arrives. The message goes in the form the caller
 * encoded it in, with its content type; the receipt comes back in it.
 * Threads: the receipt listener runs on Paho's receive thread and hands
 * the receipt to the main thread under a mutex.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anyuan/v1/outbound.pb-c.h"
#include "ay_codec.h"
#include "ay_log.h"
#include "ay_sync.h"
#include "ay_time.h"
#include "ay_wire.h"
#include "ayctl.h"

/* What the receipt listener shares with the main thread (Paho thread writes). */
struct receipt_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    const char *message_id;
    char *json; /* the matching receipt as JSON, set once */
    int status;
    char reason[AY_ERRLEN];
};

/* Paho receive thread: is this the receipt we wait for? It comes in the
 * form the message was sent in (lib/ay_wire tells which). */
static void on_receipt(void *arg, const struct ay_mqtt_msg *msg)
{
    struct receipt_wait *w = arg;
    char err[AY_ERRLEN] = "";
    char *json = NULL;
    enum ay_wire wire = AY_WIRE_PROTOBUF;
    ProtobufCMessage *m = NULL;

    if (ay_wire_detect(msg->content_type, msg->payload, msg->len, &wire, err) != AY_OK ||
        ay_wire_decode(&anyuan__v1__receipt__descriptor, wire, msg->payload, msg->len, &m, err) !=
            AY_OK) {
        ay_log_warn("ignoring undecodable message on receipt topic", "topic", msg->topic, "err",
                    err, NULL);
        return;
    }
    Anyuan__V1__Receipt *r = (Anyuan__V1__Receipt *)m;
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
                              const char *content_type, const uint8_t *buf, size_t len,
                              bool want_receipt, struct receipt_wait *w)
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
        enum ay_err rc =
            ay_mqtt_publish_wait_typed(c, topic, content_type, buf, len, 1, (int)left_ms, err);
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

int ayctl_deliver(const struct ayctl_config *cfg, const char *topic, const char *content_type,
                  const uint8_t *buf, size_t len, const char *message_id, const char *receipt_topic,
                  struct ayctl_receipt *out)
{
    char err[AY_ERRLEN] = "";
    char idbuf[64];
    struct ay_mqtt *c = NULL;
    struct receipt_wait w = {.message_id = message_id};
    bool want_receipt = receipt_topic != NULL;
    int code = AYCTL_EXIT_FAILURE;

    pthread_mutex_init(&w.lock, NULL);
    ay_cond_init(&w.cond);
    struct ay_mqtt_opts o;
    ayctl_mqtt_opts(cfg, idbuf, sizeof(idbuf), &o);
    if (ay_mqtt_new(&o, want_receipt ? on_receipt : NULL, &w, &c, err) != AY_OK ||
        (want_receipt && ay_mqtt_subscribe(c, receipt_topic, 1, err) != AY_OK) ||
        ay_mqtt_connect(c, (int)cfg->timeout_ms, err) != AY_OK) {
        ayctl_fail("%s", err[0] ? err : "cannot set up the MQTT client");
        goto cleanup;
    }
    code = send_until_receipt(cfg, c, topic, content_type, buf, len, want_receipt, &w);
    if (code == AYCTL_EXIT_OK && want_receipt) {
        /* The listener may still run until the client is freed: take the
         * receipt under the lock. */
        pthread_mutex_lock(&w.lock);
        out->json = w.json;
        out->status = w.status;
        memcpy(out->reason, w.reason, sizeof(out->reason));
        w.json = NULL;
        pthread_mutex_unlock(&w.lock);
    }
cleanup:
    ay_mqtt_free(c);
    free(w.json);
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return code;
}
