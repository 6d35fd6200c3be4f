/*
 * link.c - the reference device's MQTT v5 connection, over Paho MQTTAsync
 * (libpaho-mqtt3as).
 *
 * Owns: one Paho client, its connect settings (contract 2: TLS verified
 * with the deployment's CA, client id = account name, persistent session,
 * keepalive 20 s, a Last Will on the status topic) and the queue of events
 * its callbacks hand to the main loop. Does not own: what is sent or when
 * (main.c), reconnecting (main.c does it, so that every CONNECT carries a
 * Last Will with a new messageId: Paho's automatic reconnect would repeat
 * the old one).
 *
 * Threads: Paho runs its callbacks on its own threads. Here they do only
 * one thing: copy what happened into an event, append it to a list under
 * a mutex and write one byte into a pipe the main loop polls. They never
 * call Paho and never wait for the main thread, and the main thread never
 * holds the mutex while calling Paho: so nothing can deadlock (Paho issues
 * 698, 363, 1554 are what happens otherwise). All Paho calls are made from
 * the main thread.
 */
#include <MQTTAsync.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device.h"

#define CONTENT_TYPE "application/json" /* we send JSON (contract 4.1) */

/* ---- events: Paho's threads to the main loop ----------------------------- */

/* Runs on a Paho thread: queue the event, wake the main loop. Never blocks
 * (the pipe is non-blocking; if it is full the main loop is awake anyway). */
static void push(struct dev_link *l, enum dev_event_kind kind, const char *text,
                 const void *payload, size_t len)
{
    struct dev_event *ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return;
    ev->kind = kind;
    snprintf(ev->text, sizeof(ev->text), "%s", text ? text : "");
    if (payload) {
        ev->payload = malloc(len + 1);
        if (ev->payload == NULL) {
            free(ev);
            return;
        }
        memcpy(ev->payload, payload, len);
        ev->payload[len] = '\0';
        ev->len = len;
    }
    pthread_mutex_lock(&l->lock);
    if (l->tail)
        l->tail->next = ev;
    else
        l->head = ev;
    l->tail = ev;
    pthread_mutex_unlock(&l->lock);
    ssize_t n = write(l->wake[1], "e", 1);
    (void)n;
}

/* The main loop calls this until it returns NULL. The pipe is drained
 * before the list is read, so an event queued after that leaves a byte in
 * the pipe and wakes the next poll(). */
struct dev_event *dev_link_next(struct dev_link *l)
{
    char buf[64];
    while (read(l->wake[0], buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&l->lock);
    struct dev_event *ev = l->head;
    if (ev) {
        l->head = ev->next;
        if (l->head == NULL)
            l->tail = NULL;
    }
    pthread_mutex_unlock(&l->lock);
    return ev;
}

void dev_event_free(struct dev_event *ev)
{
    if (ev) {
        free(ev->payload);
        free(ev);
    }
}

/* ---- Paho callbacks (all on Paho threads) -------------------------------- */

static void on_connected(void *ctx, MQTTAsync_successData5 *r)
{
    (void)r;
    push(ctx, DEV_EV_CONNECTED, NULL, NULL, 0);
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData5 *r)
{
    char why[DEV_ERRLEN];
    /* A refused CONNECT carries the broker's reason code (Paho 1.3.12 puts
     * it in code): 0x86 Bad user name or password (a wrong or rotated
     * secret), 0x87 Not authorized (a disabled or removed account). */
    int reason = r ? (r->reasonCode ? (int)r->reasonCode : r->code) : 0;
    if (reason >= 0x80)
        snprintf(why, sizeof(why), "refused by the broker: %s (0x%02x)",
                 MQTTReasonCode_toString((enum MQTTReasonCodes)reason), (unsigned)reason);
    else
        snprintf(why, sizeof(why), "%s (code %d)", r && r->message ? r->message : "connect failed",
                 r ? r->code : 0);
    push(ctx, DEV_EV_CONNECT_FAILED, why, NULL, 0);
}

static void on_lost(void *ctx, char *cause)
{
    push(ctx, DEV_EV_LOST, cause ? cause : "connection lost", NULL, 0);
    free(cause);
}

/* The broker sent DISCONNECT (e.g. the account was disabled, or another
 * connection took the client id over). */
static void on_disconnected(void *ctx, MQTTProperties *props, enum MQTTReasonCodes rc)
{
    (void)props;
    push(ctx, DEV_EV_LOST, MQTTReasonCode_toString(rc), NULL, 0);
}

/* A Receipt. Paho sends the PUBACK when this returns, whatever we do with
 * the message: that is fine, the Receipt is only information (a lost one
 * means the message is re-sent and answered DUPLICATE, contract 6.2). */
static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    (void)topic_len;
    push(ctx, DEV_EV_MESSAGE, topic, m->payload, m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_subscribed(void *ctx, MQTTAsync_successData5 *r)
{
    /* A granted QoS of 0x80 or more is a refusal (not authorised). */
    if (r && r->reasonCode >= 0x80)
        push(ctx, DEV_EV_SUBSCRIBE_FAILED, MQTTReasonCode_toString(r->reasonCode), NULL, 0);
    else
        push(ctx, DEV_EV_SUBSCRIBED, NULL, NULL, 0);
}

static void on_subscribe_failed(void *ctx, MQTTAsync_failureData5 *r)
{
    push(ctx, DEV_EV_SUBSCRIBE_FAILED,
         r && r->reasonCode ? MQTTReasonCode_toString(r->reasonCode) : "subscribe failed", NULL, 0);
}

/* ---- the client (main thread) -------------------------------------------- */

int dev_link_init(struct dev_link *l, const struct dev_profile *p, char err[DEV_ERRLEN])
{
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    MQTTAsync client = NULL;

    memset(l, 0, sizeof(*l));
    l->p = p;
    l->wake[0] = l->wake[1] = -1;
    pthread_mutex_init(&l->lock, NULL);
    if (pipe(l->wake) != 0 || fcntl(l->wake[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(l->wake[1], F_SETFL, O_NONBLOCK) != 0) {
        dev_errf(err, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    /* No Paho persistence and no sending while disconnected: the outbox
     * on disk is what keeps messages, and main.c re-sends after a connect. */
    int rc = MQTTAsync_createWithOptions(&client, p->url, p->device_id, MQTTCLIENT_PERSISTENCE_NONE,
                                         NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        dev_errf(err, "cannot create the MQTT client for %s: %s", p->url, MQTTAsync_strerror(rc));
        return -1;
    }
    l->client = client;
    MQTTAsync_setCallbacks(client, l, on_lost, on_message, NULL);
    MQTTAsync_setDisconnected(client, l, on_disconnected);
    return 0;
}

static int add_property(MQTTProperties *props, enum MQTTPropertyCodes code, int value,
                        const char *text)
{
    MQTTProperty p;
    memset(&p, 0, sizeof(p));
    p.identifier = code;
    if (text) {
        p.value.data.data = (char *)text; /* Paho copies it */
        p.value.data.len = (int)strlen(text);
    } else if (code == MQTTPROPERTY_CODE_RECEIVE_MAXIMUM) {
        p.value.integer2 = (unsigned short)value;
    } else {
        p.value.integer4 = (unsigned)value;
    }
    return MQTTProperties_add(props, &p) == 0 ? 0 : -1;
}

int dev_link_connect(struct dev_link *l, const char *will_json, char err[DEV_ERRLEN])
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperties will_props = MQTTProperties_initializer;
    int rc = -1;

    /* Contract 2: keepalive 20 s, so the broker notices a dead link soon and
     * publishes the Last Will. */
    co.keepAliveInterval = 20;
    /* A persistent session: Clean Start false and a Session Expiry, so the
     * broker keeps our subscription and queues the Receipts that come while
     * we are away (the broker caps the expiry at 3 days). */
    co.cleanstart = 0;
    if (add_property(&props, MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL, 86400, NULL) != 0 ||
        /* We take at most 10 Receipts at a time. */
        add_property(&props, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM, 10, NULL) != 0 ||
        add_property(&will_props, MQTTPROPERTY_CODE_CONTENT_TYPE, 0, CONTENT_TYPE) != 0) {
        dev_errf(err, "out of memory");
        goto cleanup;
    }
    co.connectProperties = &props;
    co.connectTimeout = 10; /* seconds: a CONNECT never waits longer */
    co.automaticReconnect = 0;
    co.maxInflight = 20;
    co.username = l->p->device_id; /* the account name = the device id = the client id */
    co.password = l->p->password;
    /* TLS 1.2 or later, the broker's certificate checked against the
     * deployment's CA and its name against the host we connect to. */
    ssl.trustStore = l->p->ca_path;
    ssl.enableServerCertAuth = 1;
    ssl.verify = 1;
    ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
    co.ssl = &ssl;
    /* The Last Will: an OFFLINE status on our status topic, QoS 1, never
     * retained, published by the broker if we vanish without DISCONNECT.
     * The caller made it with a new messageId for this CONNECT (contract 2). */
    will.topicName = l->p->topic_status;
    will.message = NULL;
    will.payload.data = will_json;
    will.payload.len = (int)strlen(will_json);
    will.qos = 1;
    will.retained = 0;
    co.will = &will;
    co.willProperties = &will_props;
    co.onSuccess5 = on_connected;
    co.onFailure5 = on_connect_failed;
    co.context = l;
    int prc = MQTTAsync_connect(l->client, &co); /* Paho copies all of co */
    if (prc != MQTTASYNC_SUCCESS) {
        dev_errf(err, "cannot connect to %s: %s", l->p->url, MQTTAsync_strerror(prc));
        goto cleanup;
    }
    rc = 0;
cleanup:
    MQTTProperties_free(&props);
    MQTTProperties_free(&will_props);
    return rc;
}

int dev_link_subscribe(struct dev_link *l, char err[DEV_ERRLEN])
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;

    ro.onSuccess5 = on_subscribed;
    ro.onFailure5 = on_subscribe_failed;
    ro.context = l;
    /* QoS 1 for everything (contract 2). */
    int prc = MQTTAsync_subscribe(l->client, l->p->topic_receipts, 1, &ro);
    if (prc != MQTTASYNC_SUCCESS) {
        dev_errf(err, "cannot subscribe to %s: %s", l->p->topic_receipts, MQTTAsync_strerror(prc));
        return -1;
    }
    return 0;
}

static int publish(struct dev_link *l, const char *topic, const char *json, int *token,
                   char err[DEV_ERRLEN])
{
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;

    /* The content type says the payload is JSON (contract 4.1); the
     * Receipt then comes back as JSON (contract 4.5). */
    if (add_property(&props, MQTTPROPERTY_CODE_CONTENT_TYPE, 0, CONTENT_TYPE) != 0) {
        dev_errf(err, "out of memory");
        return -1;
    }
    m.payload = (void *)json;
    m.payloadlen = (int)strlen(json);
    m.qos = 1;      /* QoS 1 for everything (contract 2) */
    m.retained = 0; /* never retained: the broker would disconnect us */
    m.properties = props;
    int prc = MQTTAsync_sendMessage(l->client, topic, &m, &ro); /* copies the payload */
    MQTTProperties_free(&props);
    if (prc != MQTTASYNC_SUCCESS) {
        dev_errf(err, "cannot publish to %s: %s", topic, MQTTAsync_strerror(prc));
        return -1;
    }
    *token = ro.token;
    return 0;
}

int dev_link_publish(struct dev_link *l, const char *topic, const char *json, char err[DEV_ERRLEN])
{
    int token;
    return publish(l, topic, json, &token, err);
}

int dev_link_publish_wait(struct dev_link *l, const char *topic, const char *json, int timeout_ms,
                          char err[DEV_ERRLEN])
{
    int token;
    if (publish(l, topic, json, &token, err) != 0)
        return -1;
    int prc = MQTTAsync_waitForCompletion(l->client, token, (unsigned long)timeout_ms);
    if (prc != MQTTASYNC_SUCCESS) {
        dev_errf(err, "no PUBACK within %d ms: %s", timeout_ms, MQTTAsync_strerror(prc));
        return -1;
    }
    return 0;
}

void dev_link_cleanup(struct dev_link *l, int timeout_ms)
{
    if (l->client) {
        MQTTAsync client = l->client;
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
        d.timeout = timeout_ms;
        if (MQTTAsync_isConnected(client) && MQTTAsync_disconnect(client, &d) == MQTTASYNC_SUCCESS)
            for (int waited = 0; MQTTAsync_isConnected(client) && waited < timeout_ms; waited += 10)
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        MQTTAsync_destroy(&client);
        l->client = NULL;
    }
    for (struct dev_event *ev; (ev = l->head) != NULL;) {
        l->head = ev->next;
        dev_event_free(ev);
    }
    l->tail = NULL;
    for (int i = 0; i < 2; i++)
        if (l->wake[i] >= 0)
            close(l->wake[i]);
    pthread_mutex_destroy(&l->lock);
}
