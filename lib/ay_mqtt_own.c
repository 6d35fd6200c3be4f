/*
 * ay_mqtt_own.c - libmosquitto on a thread of its own; see ay_mqtt_own.h.
 *
 * The network thread connects (non-blocking), runs mosquitto_loop in
 * slices of LOOP_MS so that it notices a stop, and after a lost connection
 * waits out a backoff (1 s doubling to 30 s, interrupted by a stop) before
 * connecting again. libmosquitto keeps unacknowledged QoS 1 publishes and
 * sends them again on the next connection, and honours the broker's
 * Receive Maximum itself.
 *
 * Completions: mosquitto_publish_v5 hands back the packet id only when it
 * returns, and the PUBACK may already have been read by then. So the
 * network thread files an acknowledgement it finds no publish for as
 * "early", and the publisher, taking its id, completes it at once instead
 * of filing it. The table is guarded by `lock`, never held across a
 * libmosquitto call (libmosquitto holds its callback mutex while it calls
 * on_publish, which takes `lock`).
 */
#include "ay_mqtt_own.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_backoff.h"
#include "ay_log.h"
#include "ay_sync.h"
#include "ay_time.h"

/* How long one mosquitto_loop call waits for the socket: the longest a
 * stop waits to be noticed. A publish from another thread wakes it. */
#define LOOP_MS          100
#define BUCKETS          1024 /* power of two; ids in flight are at most 65535 */
#define RECONNECT_MIN_MS 1000
#define RECONNECT_MAX_MS 30000

struct pending {
    struct pending *next;
    int mid;
    bool early;      /* acknowledged before its publisher filed it */
    int reason_code; /* of an early one */
    ay_mqtt_done_fn *done;
    void *arg;
};

struct ay_own {
    struct mosquitto *mosq;
    char *client_id;
    char host[256];
    int port;
    int keepalive_s;
    pthread_t thread;
    bool running; /* the thread was started and not joined (caller threads only) */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Guarded by lock. */
    bool stop;
    struct ay_mqtt_link link;
    unsigned failures; /* refusals and lost connections so far */
    char reason[AY_ERRLEN];
    int64_t stop_deadline_us;
    struct pending *table[BUCKETS];
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
    mosquitto_lib_init();
}

static struct pending **bucket(struct ay_own *c, int mid)
{
    return &c->table[(unsigned)mid & (BUCKETS - 1)];
}

/* Unlinks and returns the entry for mid, NULL if none. Locked. */
static struct pending *take_pending(struct ay_own *c, int mid)
{
    for (struct pending **pp = bucket(c, mid); *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->mid == mid) {
            struct pending *p = *pp;
            *pp = p->next;
            return p;
        }
    }
    return NULL;
}

static void put_pending(struct ay_own *c, struct pending *p)
{
    struct pending **b = bucket(c, p->mid);
    p->next = *b;
    *b = p;
}

/* Reports p done and frees it (unlocked). */
static void complete(struct pending *p, int reason_code)
{
    char reason[AY_ERRLEN] = "";
    enum ay_err rc = AY_OK;

    if (reason_code >= 0x80) {
        ay_errf(reason, "broker refused publish: %s", mosquitto_reason_string(reason_code));
        rc = AY_ERR_MQTT;
    }
    if (p->done)
        p->done(p->arg, rc, reason);
    free(p);
}

/* ---- libmosquitto callbacks (the network thread) ---------------------- */

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    struct ay_own *c = obj;
    uint16_t rmax = 65535; /* absent: the protocol's maximum */
    bool again = false;

    (void)mosq;
    (void)flags;
    pthread_mutex_lock(&c->lock);
    if (rc == 0) {
        (void)mosquitto_property_read_int16(props, MQTT_PROP_RECEIVE_MAXIMUM, &rmax, false);
        again = c->link.generation > 0;
        c->link.connected = true;
        c->link.generation++;
        c->link.broker_rmax = rmax;
        c->reason[0] = '\0';
    } else {
        c->failures++;
        ay_errf(c->reason, "broker refused connection: %s", mosquitto_reason_string(rc));
    }
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (again)
        ay_log_info("reconnected to broker", "client", c->client_id, NULL);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason_code,
                       const mosquitto_property *props)
{
    struct ay_own *c = obj;
    struct pending *p;

    (void)mosq;
    (void)props;
    pthread_mutex_lock(&c->lock);
    p = take_pending(c, mid);
    if (p == NULL) {
        struct pending *e = calloc(1, sizeof(*e));
        if (e != NULL) {
            e->mid = mid;
            e->early = true;
            e->reason_code = reason_code;
            put_pending(c, e);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (p != NULL)
        complete(p, reason_code);
}

/* ---- the network thread ---------------------------------------------- */

static bool stopping(struct ay_own *c)
{
    pthread_mutex_lock(&c->lock);
    bool s = c->stop;
    pthread_mutex_unlock(&c->lock);
    return s;
}

/* The connection ended (or never came up) with libmosquitto's rc (and
 * errno for MOSQ_ERR_ERRNO). */
static void lost(struct ay_own *c, int rc, int errno_was)
{
    const char *why = rc == MOSQ_ERR_ERRNO ? strerror(errno_was) : mosquitto_strerror(rc);

    pthread_mutex_lock(&c->lock);
    bool was = c->link.connected;
    c->link.connected = false;
    c->failures++;
    /* A refusal in this attempt (on_connect) says more than the closed
     * socket after it. */
    if (was || c->reason[0] == '\0')
        ay_errf(c->reason, "could not connect to broker %s:%d: %s", c->host, c->port, why);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (was)
        ay_log_warn("connection to broker lost, reconnecting", "client", c->client_id, "err", why,
                    NULL);
}

/* Sends DISCONNECT and lets the loop write it, until the deadline. */
static void say_goodbye(struct ay_own *c)
{
    pthread_mutex_lock(&c->lock);
    bool up = c->link.connected;
    int64_t until = c->stop_deadline_us;
    c->link.connected = false;
    pthread_mutex_unlock(&c->lock);
    if (!up || mosquitto_disconnect_v5(c->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL) != 0)
        return;
    while (ay_mono_us() < until && mosquitto_loop(c->mosq, LOOP_MS, 1) == MOSQ_ERR_SUCCESS)
        ;
}

static void *run(void *arg)
{
    struct ay_own *c = arg;
    struct ay_backoff b;

    ay_backoff_init(&b, RECONNECT_MIN_MS, RECONNECT_MAX_MS);
    while (!stopping(c)) {
        unsigned gen = ay_own_link(c).generation;
        pthread_mutex_lock(&c->lock);
        c->reason[0] = '\0'; /* this attempt's reason only */
        pthread_mutex_unlock(&c->lock);
        /* Non-blocking: the loop completes the connect (and TLS). */
        int rc = mosquitto_connect_bind_async(c->mosq, c->host, c->port, c->keepalive_s, NULL);
        while (rc == MOSQ_ERR_SUCCESS && !stopping(c))
            rc = mosquitto_loop(c->mosq, LOOP_MS, 1);
        int errno_was = errno;
        if (rc == MOSQ_ERR_SUCCESS)
            break; /* stopping while connected */
        if (ay_own_link(c).generation != gen)
            ay_backoff_reset(&b); /* it did connect: start the backoff again */
        lost(c, rc, errno_was);
        int64_t until = ay_mono_deadline_us(ay_backoff_next(&b));
        pthread_mutex_lock(&c->lock);
        while (!c->stop && ay_cond_wait_until(&c->cond, &c->lock, until))
            ;
        pthread_mutex_unlock(&c->lock);
    }
    say_goodbye(c);
    return NULL;
}

/* ---- the API ------------------------------------------------------------ */

enum ay_err ay_own_new(const struct ay_mqtt_opts *o, struct ay_own **out, char err[AY_ERRLEN])
{
    struct ay_own *c = NULL;
    bool tls = false;
    enum ay_err rc;

    pthread_once(&lib_once, lib_init);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return AY_ERR_NOMEM;
    pthread_mutex_init(&c->lock, NULL);
    ay_cond_init(&c->cond);
    if ((rc = ay_mqtt_parse_url(o->url, c->host, sizeof(c->host), &c->port, &tls, err)) != AY_OK)
        goto fail;
    c->keepalive_s = o->keepalive_s ? (int)o->keepalive_s : 20;
    /* libmosquitto 2.0.11 connects without blocking only without CONNECT
     * properties: no session expiry, so no session outlives a connection. */
    rc = AY_ERR_CONFIG;
    if (o->session_expiry_s > 0 || !o->clean_start) {
        ay_errf(err, "%s: a client on its own thread keeps no session (clean start, no expiry)",
                o->client_id);
        goto fail;
    }
    rc = AY_ERR_NOMEM;
    if ((c->client_id = strdup(o->client_id)) == NULL ||
        (c->mosq = mosquitto_new(c->client_id, o->clean_start, c)) == NULL)
        goto fail;
    rc = AY_ERR_CONFIG;
    if (mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5) != 0 ||
        mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1) != 0 ||
        mosquitto_threaded_set(c->mosq, true) != 0) {
        ay_errf(err, "cannot set up the MQTT client %s", c->client_id);
        goto fail;
    }
    if (o->username && *o->username &&
        mosquitto_username_pw_set(c->mosq, o->username,
                                  o->password && *o->password ? o->password : NULL) != 0) {
        ay_errf(err, "cannot set the MQTT user name of %s", c->client_id);
        goto fail;
    }
    if (tls) {
        int trc = o->ca_file && *o->ca_file
                      ? mosquitto_tls_set(c->mosq, o->ca_file, NULL, NULL, NULL, NULL)
                      : mosquitto_int_option(c->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
        if (trc == 0)
            trc = mosquitto_tls_opts_set(c->mosq, 1, NULL, NULL);
        if (trc != 0) {
            ay_errf(err, "cannot use CA file %s for %s: %s", o->ca_file ? o->ca_file : "(system)",
                    o->url, mosquitto_strerror(trc));
            goto fail;
        }
    }
    mosquitto_connect_v5_callback_set(c->mosq, on_connect);
    mosquitto_publish_v5_callback_set(c->mosq, on_publish);
    *out = c;
    return AY_OK;
fail:
    ay_own_free(c);
    return rc;
}

enum ay_err ay_own_connect(struct ay_own *c, int timeout_ms, char err[AY_ERRLEN])
{
    enum ay_err rc = AY_OK;

    pthread_mutex_lock(&c->lock);
    unsigned failures = c->failures;
    c->stop = false;
    pthread_mutex_unlock(&c->lock);
    if (!c->running) {
        if (pthread_create(&c->thread, NULL, run, c) != 0) {
            ay_errf(err, "cannot start the MQTT thread of %s", c->client_id);
            return AY_ERR_NOMEM;
        }
        c->running = true;
    }
    int64_t until = ay_mono_deadline_us(timeout_ms);
    pthread_mutex_lock(&c->lock);
    while (!c->link.connected && c->failures == failures)
        if (!ay_cond_wait_until(&c->cond, &c->lock, until))
            break;
    if (!c->link.connected) {
        if (c->failures != failures) {
            ay_errf(err, "%s", c->reason);
            rc = AY_ERR_MQTT;
        } else {
            ay_errf(err, "could not connect to broker %s:%d within %d ms", c->host, c->port,
                    timeout_ms);
            rc = AY_ERR_TIMEOUT;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void ay_own_disconnect(struct ay_own *c, int timeout_ms)
{
    if (c == NULL || !c->running)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    c->stop_deadline_us = ay_mono_deadline_us(timeout_ms);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    c->running = false;
}

void ay_own_free(struct ay_own *c)
{
    if (c == NULL)
        return;
    ay_own_disconnect(c, 2000);
    if (c->mosq)
        mosquitto_destroy(c->mosq);
    for (size_t i = 0; i < BUCKETS; i++) {
        struct pending *p;
        while ((p = c->table[i]) != NULL) {
            c->table[i] = p->next;
            if (!p->early && p->done)
                p->done(p->arg, AY_ERR_CLOSED, "client closed before the broker acknowledged");
            free(p);
        }
    }
    free(c->client_id);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

enum ay_err ay_own_publish(struct ay_own *c, const char *topic, const char *content_type,
                           const void *payload, size_t len, int qos, bool retain,
                           ay_mqtt_done_fn *done, void *done_arg, char err[AY_ERRLEN])
{
    mosquitto_property *props = NULL;
    struct pending *p = NULL, *early = NULL;
    int mid = 0;

    if (len > MQTT_MAX_PAYLOAD) {
        ay_errf(err, "payload too large (%zu bytes)", len);
        return AY_ERR_INVALID;
    }
    if (content_type != NULL &&
        mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, content_type) != 0) {
        ay_errf(err, "invalid content type for %s", topic);
        return AY_ERR_INVALID;
    }
    if ((p = calloc(1, sizeof(*p))) == NULL) {
        mosquitto_property_free_all(&props);
        return AY_ERR_NOMEM;
    }
    p->done = done;
    p->arg = done_arg;
    int mrc = mosquitto_publish_v5(c->mosq, &mid, topic, (int)len, payload, qos, retain, props);
    mosquitto_property_free_all(&props);
    if (mrc != MOSQ_ERR_SUCCESS) {
        free(p);
        ay_errf(err, "could not publish to %s: %s", topic, mosquitto_strerror(mrc));
        return mrc == MOSQ_ERR_NOMEM ? AY_ERR_NOMEM
               : mrc == MOSQ_ERR_INVAL || mrc == MOSQ_ERR_MALFORMED_UTF8 ||
                       mrc == MOSQ_ERR_PAYLOAD_SIZE || mrc == MOSQ_ERR_OVERSIZE_PACKET
                   ? AY_ERR_INVALID
                   : AY_ERR_MQTT;
    }
    p->mid = mid;
    pthread_mutex_lock(&c->lock);
    early = take_pending(c, mid);
    if (early == NULL)
        put_pending(c, p);
    pthread_mutex_unlock(&c->lock);
    if (early != NULL) {
        complete(p, early->reason_code);
        free(early);
    }
    return AY_OK;
}

struct ay_mqtt_link ay_own_link(struct ay_own *c)
{
    pthread_mutex_lock(&c->lock);
    struct ay_mqtt_link l = c->link;
    pthread_mutex_unlock(&c->lock);
    return l;
}
