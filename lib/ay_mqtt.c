/*
 * ay_mqtt.c - the project's only user of Paho MQTTAsync (MQTT v5).
 *
 * Owns: the Paho client, the subscription list, the connection state guarded
 * by `lock`. Callbacks run on Paho's receive thread; they take `lock` only
 * briefly and never while calling into Paho, which would deadlock against
 * Paho's own mutex (paho.mqtt.c issues 698, 363).
 *
 * Reconnect: Paho's automaticReconnect retries 1 s, doubling to 30 s. On
 * every connect (first or automatic) the connected callback renews the
 * registered subscriptions: harmless when the broker kept the session, and
 * necessary when it did not (session expired, broker lost its state).
 */
#include "ay_mqtt.h"

#include <MQTTAsync.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ay_backoff.h"
#include "ay_log.h"
#include "ay_mqtt_own.h"
#include "ay_service.h"
#include "ay_sync.h"
#include "ay_time.h"

#define SUBS_MAX 16

struct ay_mqtt {
    MQTTAsync client;
    struct ay_own *own; /* instead of client: opts.own_thread */
    ay_mqtt_msg_fn *on_msg;
    void *arg;
    char *url;
    char *client_id;
    char *username;
    char *password;
    char *ca_file;
    char *will_topic;
    void *will_payload;
    size_t will_len;
    struct ay_mqtt_opts opts; /* copies of the scalar settings */
    char *subs[SUBS_MAX];
    int sub_qos[SUBS_MAX];
    int nsubs;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Guarded by lock. */
    bool connected; /* CONNACK received and subscriptions granted */
    bool ever_connected;
    bool connect_failed;
    bool session_present; /* the CONNACK of the connect ay_mqtt_connect waits for */
    bool closing;         /* ay_mqtt_disconnect called: a discarded subscribe is no error */
    char reason[AY_ERRLEN];
    unsigned generation;  /* successful connects so far */
    unsigned broker_rmax; /* the broker's Receive Maximum (CONNACK); 0: not known yet */
};

/* One publish waiting for its acknowledgement. */
struct pending {
    ay_mqtt_done_fn *done;
    void *arg;
};

/* A synchronous waiter shared by a caller and a callback; freed by the last. */
struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int refs;
    bool finished;
    enum ay_err rc;
    char reason[AY_ERRLEN];
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void set_state(struct ay_mqtt *c, bool connected, bool failed, const char *reason)
{
    pthread_mutex_lock(&c->lock);
    if (connected && !c->connected)
        c->generation++;
    c->connected = connected;
    if (connected)
        c->ever_connected = true;
    c->connect_failed = failed;
    if (reason)
        snprintf(c->reason, sizeof(c->reason), "%s", reason);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

/* ---- callbacks (Paho receive thread) ---------------------------------- */

static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *m)
{
    struct ay_mqtt *c = context;
    char *t = topic;
    char *copy = NULL;

    /* Paho gives a length only when the topic contains a NUL byte. */
    if (topic_len > 0 && (size_t)topic_len != strlen(topic)) {
        copy = malloc((size_t)topic_len + 1);
        if (copy) {
            memcpy(copy, topic, (size_t)topic_len);
            copy[topic_len] = '\0';
            t = copy;
        }
    }
    if (c->on_msg) {
        char *ct = NULL;
        MQTTProperty *p =
            MQTTProperties_getProperty(&m->properties, MQTTPROPERTY_CODE_CONTENT_TYPE);
        if (p != NULL && p->value.data.len >= 0 &&
            (ct = ay_mqtt_content_type_dup(p->value.data.data, (size_t)p->value.data.len)) == NULL)
            /* Without it the payload's first byte decides (lib/ay_wire). */
            ay_log_error("cannot read a message's content type: out of memory", "topic", t, NULL);
        struct ay_mqtt_msg msg = {
            .topic = t,
            .payload = m->payload,
            .len = m->payloadlen > 0 ? (size_t)m->payloadlen : 0,
            .qos = m->qos,
            .retained = m->retained != 0,
            .dup = m->dup != 0,
            .content_type = ct,
        };
        c->on_msg(c->arg, &msg);
        free(ct);
    }
    free(copy);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_connection_lost(void *context, char *cause)
{
    struct ay_mqtt *c = context;
    set_state(c, false, false, cause ? cause : "connection lost");
    ay_log_warn("connection to broker lost, reconnecting", "client", c->client_id, "err",
                cause ? cause : "connection lost", NULL);
}

/* A subscription was refused or failed. On the first connect the caller of
 * ay_mqtt_connect hears of it; after a reconnect nobody waits, so say it. */
static void subscription_failed(struct ay_mqtt *c, const char *reason)
{
    pthread_mutex_lock(&c->lock);
    bool reconnecting = c->ever_connected;
    bool closing = c->closing;
    pthread_mutex_unlock(&c->lock);
    set_state(c, false, true, reason);
    if (reconnecting && !closing)
        ay_log_error("could not renew subscriptions after reconnecting", "client", c->client_id,
                     "err", reason, NULL);
}

static void on_subscribed(void *context, MQTTAsync_successData5 *r)
{
    struct ay_mqtt *c = context;
    char reason[AY_ERRLEN] = "";

    /* Paho 1.3.12 fills alt.sub.reasonCodes only when there are two or more
     * subscriptions; for one, the code is in reasonCode and the array
     * pointer is left uninitialised. */
    if (r->alt.sub.reasonCodeCount > 1) {
        for (int i = 0; i < r->alt.sub.reasonCodeCount && i < c->nsubs; i++)
            if (r->alt.sub.reasonCodes[i] >= 0x80 && reason[0] == '\0')
                ay_errf(reason, "broker refused subscription to %s: %s", c->subs[i],
                        MQTTReasonCode_toString(r->alt.sub.reasonCodes[i]));
    } else if (r->reasonCode >= 0x80 && c->nsubs > 0) {
        ay_errf(reason, "broker refused subscription to %s: %s", c->subs[0],
                MQTTReasonCode_toString(r->reasonCode));
    }
    if (reason[0]) {
        subscription_failed(c, reason);
        return;
    }
    set_state(c, true, false, NULL);
}

static void on_subscribe_failed(void *context, MQTTAsync_failureData5 *r)
{
    struct ay_mqtt *c = context;
    char reason[AY_ERRLEN];

    if (r->reasonCode >= 0x80)
        ay_errf(reason, "broker refused subscription to %s: %s", c->nsubs ? c->subs[0] : "",
                MQTTReasonCode_toString(r->reasonCode));
    else
        ay_errf(reason, "could not subscribe: %s",
                r->message ? r->message : MQTTAsync_strerror(r->code));
    subscription_failed(c, reason);
}

/*
 * Paho 1.3.12 (Debian 12) never sets TCP_NODELAY on its sockets (upstream
 * made it a build option, on by default, only in 2026: paho.mqtt.c #530),
 * so Nagle's algorithm holds a small packet (a receipt, a PUBACK) back
 * until the previous one is acknowledged, which with the peer's delayed
 * ACK costs about 40 ms per message sent right after another (#530 and
 * mosquitto #433 report the same figure).
 * Paho does not hand out its socket, so after each connect the process's
 * TCP sockets whose peer is the broker's port get the option (setting it
 * twice, or on another client's socket to the same broker, is harmless).
 */
static void nodelay_to_port(int port)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;

    if (d == NULL || port <= 0) {
        if (d)
            closedir(d);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char *end = NULL;
        long fd = strtol(e->d_name, &end, 10);
        int type = 0;
        socklen_t tl = sizeof(type);
        struct sockaddr_storage peer;
        socklen_t pl = sizeof(peer);
        if (*e->d_name == '\0' || *end != '\0' || fd < 0 || fd > INT_MAX ||
            getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM ||
            getpeername((int)fd, (struct sockaddr *)&peer, &pl) != 0)
            continue;
        int peer_port = peer.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&peer)->sin_port)
                        : peer.ss_family == AF_INET6
                            ? ntohs(((struct sockaddr_in6 *)&peer)->sin6_port)
                            : -1;
        int one = 1;
        if (peer_port == port)
            (void)setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    closedir(d);
}

/* The port of a tcp://, ssl://, mqtt://, mqtts:// URL; -1 if none. */
static int url_port(const char *url)
{
    char host[256], err[AY_ERRLEN];
    int port = -1;
    bool tls;
    return ay_mqtt_parse_url(url, host, sizeof(host), &port, &tls, err) == AY_OK ? port : -1;
}

enum ay_err ay_mqtt_parse_url(const char *url, char *host, size_t host_size, int *port, bool *tls,
                              char err[AY_ERRLEN])
{
    static const struct {
        const char *prefix;
        bool tls;
    } schemes[] = {{"tcp://", false}, {"mqtt://", false}, {"ssl://", true}, {"mqtts://", true}};
    const char *h = NULL, *colon = NULL, *hend = NULL;
    char *end = NULL;

    for (size_t i = 0; url != NULL && h == NULL && i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncmp(url, schemes[i].prefix, strlen(schemes[i].prefix)) == 0) {
            h = url + strlen(schemes[i].prefix);
            *tls = schemes[i].tls;
        }
    if (h == NULL)
        goto bad;
    if (*h == '[') { /* [IPv6]:PORT */
        hend = strchr(h, ']');
        colon = hend ? hend + 1 : NULL;
        h++;
    } else {
        colon = hend = strrchr(h, ':');
    }
    if (colon == NULL || *colon != ':' || hend == h || (size_t)(hend - h) >= host_size)
        goto bad;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end != '\0' && strcmp(end, "/") != 0) || p < 1 || p > 65535)
        goto bad;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    *port = (int)p;
    return AY_OK;
bad:
    ay_errf(err, "invalid broker URL %s (tcp://HOST:PORT or ssl://HOST:PORT)", url ? url : "");
    return AY_ERR_CONFIG;
}

/* Every successful connect, first or automatic: renew the subscriptions. */
static void on_connected(void *context, char *cause)
{
    struct ay_mqtt *c = context;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    bool was = false;

    (void)cause;
    nodelay_to_port(url_port(c->url));
    pthread_mutex_lock(&c->lock);
    was = c->ever_connected;
    bool resumed = c->session_present;
    c->session_present = false;
    pthread_mutex_unlock(&c->lock);
    /* A resumed session has its subscriptions: connected now, and they are
     * renewed without waiting. Waiting could take long: the broker sends
     * the session's backlog at once, Paho calls the message callback with
     * its own mutex held, and a callback holding back (full queue) starves
     * the send thread that would send the SUBSCRIBE (seen: 5 s timeouts and
     * reconnects at the start of a drain of 100,000). */
    if (c->nsubs == 0 || resumed)
        set_state(c, true, false, NULL);
    if (c->nsubs > 0) {
        /* Retain As Published: a retained publish reaches us with its retain
         * flag, so a service can refuse it (a stock broker forwards it with
         * the flag cleared otherwise). */
        MQTTSubscribe_options so[SUBS_MAX];
        for (int i = 0; i < c->nsubs; i++) {
            MQTTSubscribe_options init = MQTTSubscribe_options_initializer;
            so[i] = init;
            so[i].retainAsPublished = 1;
        }
        /* Paho reads the list for two or more filters, the single options
         * field for one. */
        ro.subscribeOptions = so[0];
        ro.subscribeOptionsCount = c->nsubs;
        ro.subscribeOptionsList = so;
        ro.onSuccess5 = on_subscribed;
        ro.onFailure5 = on_subscribe_failed;
        ro.context = c;
        int rc = MQTTAsync_subscribeMany(c->client, c->nsubs, c->subs, c->sub_qos, &ro);
        if (rc != MQTTASYNC_SUCCESS) {
            char reason[AY_ERRLEN];
            ay_errf(reason, "could not subscribe: %s", MQTTAsync_strerror(rc));
            subscription_failed(c, reason);
        }
    }
    if (was)
        ay_log_info("reconnected to broker", "client", c->client_id, NULL);
}

/* The first CONNACK (Paho calls this once): keep the broker's Receive
 * Maximum, the most QoS 1 publishes it takes from us unacknowledged. Paho
 * lowers its own window to it; ay_mqtt_send_window reports it. */
static void on_connect_ok(void *context, MQTTAsync_successData5 *r)
{
    struct ay_mqtt *c = context;
    unsigned rmax = 65535; /* absent: the protocol's maximum */

    if (MQTTProperties_hasProperty(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM))
        rmax = (unsigned)MQTTProperties_getNumericValue(&r->properties,
                                                        MQTTPROPERTY_CODE_RECEIVE_MAXIMUM);
    pthread_mutex_lock(&c->lock);
    c->broker_rmax = rmax;
    c->session_present = r->alt.connect.sessionPresent != 0;
    pthread_mutex_unlock(&c->lock);
}

static void on_connect_failed(void *context, MQTTAsync_failureData5 *r)
{
    struct ay_mqtt *c = context;
    char reason[AY_ERRLEN];

    if (r->reasonCode != MQTTREASONCODE_SUCCESS)
        ay_errf(reason, "broker refused connection: %s", MQTTReasonCode_toString(r->reasonCode));
    else
        ay_errf(reason, "could not connect to broker: %s",
                r->message ? r->message : MQTTAsync_strerror(r->code));
    set_state(c, false, true, reason);
}

static void on_disconnected_by_server(void *context, MQTTProperties *props,
                                      enum MQTTReasonCodes code)
{
    struct ay_mqtt *c = context;
    char reason[AY_ERRLEN];

    (void)props;
    ay_errf(reason, "broker closed the connection: %s", MQTTReasonCode_toString(code));
    set_state(c, false, false, reason);
    ay_log_warn("broker closed the connection, reconnecting", "client", c->client_id, "err",
                MQTTReasonCode_toString(code), NULL);
}

/* ---- create, connect, free --------------------------------------------- */

static enum ay_err copy_opts(struct ay_mqtt *c, const struct ay_mqtt_opts *o)
{
    c->opts = *o;
    c->url = strdup(o->url);
    c->client_id = strdup(o->client_id);
    c->username = dup_or_null(o->username && *o->username ? o->username : NULL);
    c->password = dup_or_null(o->password && *o->password ? o->password : NULL);
    c->ca_file = dup_or_null(o->ca_file && *o->ca_file ? o->ca_file : NULL);
    c->will_topic = dup_or_null(o->will_topic);
    if (o->will_topic && o->will_len > 0) {
        c->will_payload = malloc(o->will_len);
        if (c->will_payload == NULL)
            return AY_ERR_NOMEM;
        memcpy(c->will_payload, o->will_payload, o->will_len);
        c->will_len = o->will_len;
    }
    if (!c->url || !c->client_id || (o->username && *o->username && !c->username) ||
        (o->password && *o->password && !c->password) ||
        (o->ca_file && *o->ca_file && !c->ca_file) || (o->will_topic && !c->will_topic))
        return AY_ERR_NOMEM;
    return AY_OK;
}

enum ay_err ay_mqtt_new(const struct ay_mqtt_opts *opts, ay_mqtt_msg_fn *on_msg, void *arg,
                        struct ay_mqtt **out, char err[AY_ERRLEN])
{
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    struct ay_mqtt *c = NULL;
    enum ay_err rc;

    if (opts->url == NULL || *opts->url == '\0' || opts->client_id == NULL ||
        *opts->client_id == '\0') {
        ay_errf(err, "broker URL and client id are required");
        return AY_ERR_CONFIG;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return AY_ERR_NOMEM;
    pthread_mutex_init(&c->lock, NULL);
    ay_cond_init(&c->cond);
    c->on_msg = on_msg;
    c->arg = arg;
    rc = copy_opts(c, opts);
    if (rc != AY_OK)
        goto fail;
    if (opts->own_thread) {
        rc = AY_ERR_CONFIG;
        if (on_msg != NULL || opts->will_topic != NULL) {
            ay_errf(err, "%s: a client on its own thread only publishes", opts->client_id);
            goto fail;
        }
        if ((rc = ay_own_new(opts, &c->own, err)) != AY_OK)
            goto fail;
        *out = c;
        return AY_OK;
    }
    /* Keep publishes made while the broker is away, and refuse (never drop
     * the oldest) when the buffer is full. */
    co.sendWhileDisconnected = 1;
    co.allowDisconnectedSendAtAnyTime = 1;
    co.deleteOldestMessages = 0;
    co.maxBufferedMessages = opts->max_buffered ? (int)opts->max_buffered : 10000;
    int prc = MQTTAsync_createWithOptions(&c->client, c->url, c->client_id,
                                          MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (prc != MQTTASYNC_SUCCESS) {
        ay_errf(err, "cannot create MQTT client for %s: %s", c->url, MQTTAsync_strerror(prc));
        rc = AY_ERR_CONFIG;
        goto fail;
    }
    MQTTAsync_setCallbacks(c->client, c, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(c->client, c, on_connected);
    MQTTAsync_setDisconnected(c->client, c, on_disconnected_by_server);
    *out = c;
    return AY_OK;
fail:
    ay_mqtt_free(c);
    return rc;
}

enum ay_err ay_mqtt_subscribe(struct ay_mqtt *c, const char *filter, int qos, char err[AY_ERRLEN])
{
    if (c->own) {
        ay_errf(err, "%s: a client on its own thread only publishes", c->client_id);
        return AY_ERR_CONFIG;
    }
    if (c->nsubs >= SUBS_MAX) {
        ay_errf(err, "too many subscriptions (max %d)", SUBS_MAX);
        return AY_ERR_FULL;
    }
    c->subs[c->nsubs] = strdup(filter);
    if (c->subs[c->nsubs] == NULL)
        return AY_ERR_NOMEM;
    c->sub_qos[c->nsubs] = qos;
    c->nsubs++;
    return AY_OK;
}

static bool is_ssl_url(const char *url)
{
    return strncmp(url, "ssl://", 6) == 0 || strncmp(url, "mqtts://", 8) == 0 ||
           strncmp(url, "wss://", 6) == 0;
}

enum ay_err ay_mqtt_connect(struct ay_mqtt *c, int timeout_ms, char err[AY_ERRLEN])
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperty p;
    enum ay_err rc = AY_OK;

    if (c->own)
        return ay_own_connect(c->own, timeout_ms, err);
    co.keepAliveInterval = c->opts.keepalive_s ? (int)c->opts.keepalive_s : 20;
    co.cleanstart = c->opts.clean_start ? 1 : 0;
    co.connectTimeout = timeout_ms / 1000 > 0 ? timeout_ms / 1000 : 1;
    co.automaticReconnect = c->opts.manual_reconnect ? 0 : 1;
    co.minRetryInterval = 1;
    co.maxRetryInterval = 30;
    co.maxInflight = c->opts.max_inflight ? (int)c->opts.max_inflight : 100;
    co.username = c->username;
    co.password = c->password;
    co.onSuccess5 = on_connect_ok;
    co.onFailure5 = on_connect_failed;
    co.context = c;
    p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
    p.value.integer4 = c->opts.session_expiry_s;
    MQTTProperties_add(&props, &p);
    if (c->opts.receive_max) {
        p.identifier = MQTTPROPERTY_CODE_RECEIVE_MAXIMUM;
        p.value.integer2 = (unsigned short)c->opts.receive_max;
        MQTTProperties_add(&props, &p);
    }
    co.connectProperties = &props;
    if (is_ssl_url(c->url)) {
        ssl.trustStore = c->ca_file;
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1;
        ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        co.ssl = &ssl;
    }
    if (c->will_topic) {
        will.topicName = c->will_topic;
        will.message = NULL;
        will.payload.data = c->will_payload;
        will.payload.len = (int)c->will_len;
        will.qos = 1;
        co.will = &will;
    }
    set_state(c, false, false, "");
    pthread_mutex_lock(&c->lock);
    c->closing = false;
    pthread_mutex_unlock(&c->lock);
    int prc = MQTTAsync_connect(c->client, &co);
    MQTTProperties_free(&props);
    if (prc != MQTTASYNC_SUCCESS) {
        ay_errf(err, "could not connect to broker %s: %s", c->url, MQTTAsync_strerror(prc));
        return AY_ERR_MQTT;
    }
    int64_t until = ay_mono_deadline_us(timeout_ms);
    pthread_mutex_lock(&c->lock);
    while (!c->connected && !c->connect_failed) {
        if (!ay_cond_wait_until(&c->cond, &c->lock, until))
            break;
    }
    if (!c->connected) {
        if (c->connect_failed) {
            ay_errf(err, "%s (%s)", c->reason, c->url);
            rc = AY_ERR_MQTT;
        } else {
            ay_errf(err, "could not connect to broker %s within %d ms", c->url, timeout_ms);
            rc = AY_ERR_TIMEOUT;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (rc != AY_OK)
        ay_mqtt_disconnect(c, 1000);
    return rc;
}

enum ay_err ay_mqtt_connect_retry(struct ay_mqtt *c, char err[AY_ERRLEN])
{
    struct ay_backoff b;

    ay_backoff_init(&b, AY_BACKOFF_DEFAULT_MIN_MS, AY_BACKOFF_DEFAULT_MAX_MS);
    for (int attempt = 0; !ay_service_stopping(); attempt++) {
        if (ay_mqtt_connect(c, 5000, err) == AY_OK) {
            if (attempt > 0)
                ay_log_info("connected to the broker", "client", c->client_id, NULL);
            return AY_OK;
        }
        if (attempt % 10 == 0)
            ay_log_warn("could not connect to the broker, retrying", "client", c->client_id, "err",
                        err, NULL);
        if (!ay_service_sleep_ms(ay_backoff_next(&b)))
            break;
    }
    ay_errf(err, "stopped before connecting to the broker");
    return AY_ERR_CLOSED;
}

void ay_mqtt_disconnect(struct ay_mqtt *c, int timeout_ms)
{
    MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer5;

    if (c != NULL && c->own != NULL)
        ay_own_disconnect(c->own, timeout_ms);
    if (c == NULL || c->client == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    c->closing = true;
    pthread_mutex_unlock(&c->lock);
    dopts.timeout = timeout_ms;
    if (MQTTAsync_isConnected(c->client))
        MQTTAsync_disconnect(c->client, &dopts);
    /* Bounded wait for the DISCONNECT to go out. */
    for (int waited = 0; MQTTAsync_isConnected(c->client) && waited < timeout_ms; waited += 10)
        ay_time_sleep_ms(10);
    set_state(c, false, false, "disconnected");
}

void ay_mqtt_free(struct ay_mqtt *c)
{
    if (c == NULL)
        return;
    if (c->client) {
        ay_mqtt_disconnect(c, 2000);
        MQTTAsync_destroy(&c->client);
    }
    ay_own_free(c->own);
    for (int i = 0; i < c->nsubs; i++)
        free(c->subs[i]);
    free(c->url);
    free(c->client_id);
    free(c->username);
    free(c->password);
    free(c->ca_file);
    free(c->will_topic);
    free(c->will_payload);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* ---- publish -------------------------------------------------------------- */

static void on_published(void *context, MQTTAsync_successData5 *r)
{
    struct pending *p = context;
    char reason[AY_ERRLEN] = "";
    enum ay_err rc = AY_OK;

    /* A v5 PUBACK can carry a refusal (e.g. 0x87 not authorised). */
    if (r->reasonCode >= 0x80) {
        ay_errf(reason, "broker refused publish to %s: %s",
                r->alt.pub.destinationName ? r->alt.pub.destinationName : "topic",
                MQTTReasonCode_toString(r->reasonCode));
        rc = AY_ERR_MQTT;
    }
    if (p->done)
        p->done(p->arg, rc, reason);
    free(p);
}

static void on_publish_failed(void *context, MQTTAsync_failureData5 *r)
{
    struct pending *p = context;
    char reason[AY_ERRLEN];

    if (r->reasonCode >= 0x80)
        ay_errf(reason, "broker refused publish: %s", MQTTReasonCode_toString(r->reasonCode));
    else
        ay_errf(reason, "publish failed: %s",
                r->message ? r->message : MQTTAsync_strerror(r->code));
    if (p->done)
        p->done(p->arg, AY_ERR_MQTT, reason);
    free(p);
}

char *ay_mqtt_content_type_dup(const void *data, size_t len)
{
    char *s = malloc(len + 1);
    if (s == NULL)
        return NULL;
    if (len > 0)
        memcpy(s, data, len);
    s[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0')
            s[i] = '?';
    return s;
}

enum ay_err ay_mqtt_publish(struct ay_mqtt *c, const char *topic, const void *payload, size_t len,
                            int qos, bool retain, ay_mqtt_done_fn *done, void *done_arg,
                            char err[AY_ERRLEN])
{
    return ay_mqtt_publish_typed(c, topic, NULL, payload, len, qos, retain, done, done_arg, err);
}

enum ay_err ay_mqtt_publish_typed(struct ay_mqtt *c, const char *topic, const char *content_type,
                                  const void *payload, size_t len, int qos, bool retain,
                                  ay_mqtt_done_fn *done, void *done_arg, char err[AY_ERRLEN])
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    struct pending *p = NULL;

    if (c->own)
        return ay_own_publish(c->own, topic, content_type, payload, len, qos, retain, done,
                              done_arg, err);
    if (len > (size_t)0x7fffffff) {
        ay_errf(err, "payload too large (%zu bytes)", len);
        return AY_ERR_INVALID;
    }
    if (content_type != NULL && strlen(content_type) > 0xffff) {
        ay_errf(err, "content type too long (%zu bytes)", strlen(content_type));
        return AY_ERR_INVALID;
    }
    if (content_type != NULL) {
        /* Paho copies the string here and again in sendMessage. */
        MQTTProperty prop;
        memset(&prop, 0, sizeof(prop));
        prop.identifier = MQTTPROPERTY_CODE_CONTENT_TYPE;
        prop.value.data.data = (char *)content_type;
        prop.value.data.len = (int)strlen(content_type);
        if (MQTTProperties_add(&props, &prop) != 0) {
            MQTTProperties_free(&props);
            return AY_ERR_NOMEM;
        }
        msg.properties = props;
    }
    p = malloc(sizeof(*p));
    if (p == NULL) {
        MQTTProperties_free(&props);
        return AY_ERR_NOMEM;
    }
    p->done = done;
    p->arg = done_arg;
    msg.payload = (void *)payload;
    msg.payloadlen = (int)len;
    msg.qos = qos;
    msg.retained = retain ? 1 : 0;
    ro.onSuccess5 = on_published;
    ro.onFailure5 = on_publish_failed;
    ro.context = p;
    int prc = MQTTAsync_sendMessage(c->client, topic, &msg, &ro);
    MQTTProperties_free(&props);
    if (prc != MQTTASYNC_SUCCESS) {
        free(p);
        ay_errf(err, "could not publish to %s: %s", topic, MQTTAsync_strerror(prc));
        return prc == MQTTASYNC_MAX_BUFFERED_MESSAGES ? AY_ERR_FULL : AY_ERR_MQTT;
    }
    return AY_OK;
}

static void waiter_release(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->lock);
    if (last) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
    }
}

static void waiter_done(void *arg, enum ay_err rc, const char *reason)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->finished = true;
    w->rc = rc;
    snprintf(w->reason, sizeof(w->reason), "%s", reason ? reason : "");
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    waiter_release(w);
}

enum ay_err ay_mqtt_publish_wait(struct ay_mqtt *c, const char *topic, const void *payload,
                                 size_t len, int qos, int timeout_ms, char err[AY_ERRLEN])
{
    return ay_mqtt_publish_wait_typed(c, topic, NULL, payload, len, qos, timeout_ms, err);
}

enum ay_err ay_mqtt_publish_wait_typed(struct ay_mqtt *c, const char *topic,
                                       const char *content_type, const void *payload, size_t len,
                                       int qos, int timeout_ms, char err[AY_ERRLEN])
{
    struct waiter *w = calloc(1, sizeof(*w));
    enum ay_err rc;

    if (w == NULL)
        return AY_ERR_NOMEM;
    pthread_mutex_init(&w->lock, NULL);
    ay_cond_init(&w->cond);
    w->refs = 2; /* this caller and the completion callback */
    rc = ay_mqtt_publish_typed(c, topic, content_type, payload, len, qos, false, waiter_done, w,
                               err);
    if (rc != AY_OK) {
        w->refs = 1;
        waiter_release(w);
        return rc;
    }
    int64_t until = ay_mono_deadline_us(timeout_ms);
    bool lost = false;
    pthread_mutex_lock(&w->lock);
    /* Without automatic reconnect a lost connection never completes the
     * publish: such a client waits in slices and stops when it is lost. */
    while (!w->finished && ay_mono_us() < until && !lost) {
        int64_t slice = c->opts.manual_reconnect ? ay_mono_deadline_us(100) : until;
        (void)ay_cond_wait_until(&w->cond, &w->lock, slice < until ? slice : until);
        lost = c->opts.manual_reconnect && !w->finished && !ay_mqtt_connected(c);
    }
    if (!w->finished && lost) {
        ay_errf(err, "connection to broker %s lost before it acknowledged publish to %s", c->url,
                topic);
        rc = AY_ERR_MQTT;
    } else if (!w->finished) {
        ay_errf(err, "broker did not acknowledge publish to %s within %d ms", topic, timeout_ms);
        rc = AY_ERR_TIMEOUT;
    } else if (w->rc != AY_OK) {
        ay_errf(err, "%s", w->reason);
        rc = w->rc;
    }
    pthread_mutex_unlock(&w->lock);
    waiter_release(w);
    return rc;
}

/* ---- flow control -------------------------------------------------------- */

unsigned ay_mqtt_send_window(struct ay_mqtt *c)
{
    unsigned mine = c->opts.max_inflight ? c->opts.max_inflight : 100;
    unsigned broker = ay_mqtt_broker_receive_max(c);
    /* Not connected yet: the MQTT v5 default a stock Mosquitto announces. */
    if (broker == 0)
        broker = 20;
    return mine < broker ? mine : broker;
}

/* The connection's state under one lock, from either kind of client. */
static struct ay_mqtt_link link_of(struct ay_mqtt *c)
{
    if (c->own)
        return ay_own_link(c->own);
    pthread_mutex_lock(&c->lock);
    struct ay_mqtt_link l = {c->connected, c->generation, c->broker_rmax};
    pthread_mutex_unlock(&c->lock);
    return l;
}

bool ay_mqtt_connected(struct ay_mqtt *c)
{
    return link_of(c).connected;
}

unsigned ay_mqtt_generation(struct ay_mqtt *c)
{
    return link_of(c).generation;
}

unsigned ay_mqtt_broker_receive_max(struct ay_mqtt *c)
{
    return link_of(c).broker_rmax;
}
