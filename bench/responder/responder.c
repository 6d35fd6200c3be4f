/*
 * ay-responder - the ceiling of any receipted pipeline on a machine: it
 * subscribes like ay-recorder (the same shared subscription
 * $share/GROUP/ay/v1/+/school/#, QoS 1, MQTT v5, the same Receive Maximum
 * and session), answers every message at once with a valid Receipt in the
 * sender's form (STORED, a fresh reference, the stored time = now), and
 * stores nothing. bench/run runs it in the same invocation as the recorder,
 * so that the recorder's figures are read against it (issue 15).
 *
 * What it does per message is what the recorder does before and after its
 * transaction: parse the topic, tell the form (lib/ay_wire: content type,
 * else the first byte), decode the message (lib/ay_wire, one codec), read
 * its header's id, encode a Receipt and publish it QoS 1 with its content
 * type. A message that cannot be decoded gets a REJECTED receipt. No
 * validation against the contract's rules, no database, no batching.
 *
 * Owns: one libmosquitto client, driven by this one thread (poll on its
 * socket, mosquitto_loop_read / _write / _misc); libmosquitto acknowledges
 * each message (PUBACK) after the callback and keeps the receipts the
 * broker's Receive Maximum does not admit yet in its own queue.
 * Logs: "ready" once subscribed; every --stats-interval-ms a "stats" line
 * (answered, rejected, receipts acknowledged by the broker); "final counts"
 * at the end. Threads: one; the signal handlers only set a flag.
 * Exit status: 0 stopped by SIGTERM/SIGINT, 1 connection failed or lost,
 * 2 usage.
 */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_log.h"
#include "bench.h"
#include "ay_mqtt.h"
#include "ay_msgtype.h"
#include "ay_time.h"
#include "ay_topic.h"
#include "ay_uuid.h"
#include "ay_wire.h"

#define PASSWORD_MAX    256
#define KEEPALIVE_S     20
#define CONNECT_WAIT_MS 10000
#define STOP_FLUSH_MS   2000
#define HOST_MAX        256

struct opts {
    const char *url;
    const char *username;
    const char *password_file;
    const char *client_id;
    const char *share_group;
    unsigned receive_max;
    unsigned session_expiry_s;
    bool resume; /* Clean Start 0: take the session (and backlog) the broker kept */
    unsigned stats_interval_ms;
    unsigned long expect; /* log when this many are answered (a backlog's size); 0: never */
};

struct responder {
    const struct opts *o;
    char host[HOST_MAX];
    int port;
    char password[PASSWORD_MAX];
    struct mosquitto *m;
    bool connected;
    bool subscribed;
    bool failed;
    char fail_why[AY_ERRLEN];
    unsigned long answered; /* receipts published (STORED or REJECTED) */
    unsigned long rejected;
    unsigned long acked; /* receipts the broker acknowledged */
    unsigned long publish_errors;
    long long reference; /* the receipts' reference counter */
    int64_t start_ms;    /* process start (monotonic) */
    int64_t first_ms;    /* first message taken; 0: none yet */
};

static volatile sig_atomic_t stop_flag;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(struct responder *r, const char *what, const char *why)
{
    if (!r->failed)
        snprintf(r->fail_why, sizeof(r->fail_why), "%s: %s", what, why);
    r->failed = true;
}

/* ---- the receipt --------------------------------------------------------- */

/* The header's message id of a decoded inbound message; "" when it has none. */
static const char *message_id_of(const ProtobufCMessage *m)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "header");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return "";
    const Anyuan__V1__Header *h = *(Anyuan__V1__Header *const *)((const char *)m + f->offset);
    return h != NULL && h->message_id != NULL ? h->message_id : "";
}

/* Publishes the receipt of the message msg_id from t (reason NULL: STORED). */
static void answer(struct responder *r, const struct ay_topic *t, enum ay_wire w,
                   const char *msg_id, const char *reason)
{
    Anyuan__V1__Receipt rc = ANYUAN__V1__RECEIPT__INIT;
    Anyuan__V1__Header h = ANYUAN__V1__HEADER__INIT;
    Anyuan__V1__Timestamp now_ts = ANYUAN__V1__TIMESTAMP__INIT;
    char id[AY_UUID_STRLEN];
    char reference[64];
    char topic[AY_TOPIC_MAX];
    char err[AY_ERRLEN];
    uint8_t *buf = NULL;
    size_t len = 0;
    mosquitto_property *props = NULL;

    if (ay_topic_receipt(topic, t->district, t->school, t->device) != AY_OK ||
        ay_uuid_v4(id) != AY_OK)
        return;
    ay_time_from_us(ay_time_now_us(), &now_ts.seconds, &now_ts.nanos);
    h.message_id = id;
    h.device_id = (char *)r->o->client_id;
    h.district_id = (char *)t->district;
    h.schema_version = 1;
    h.sent_at = &now_ts;
    rc.header = &h;
    rc.ref_message_id = (char *)msg_id;
    if (reason == NULL) {
        rc.status = ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED;
        rc.stored_at = &now_ts;
        snprintf(reference, sizeof(reference), "%s-%lld", t->district, ++r->reference);
        rc.reference = reference;
    } else {
        rc.status = ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED;
        rc.reason = (char *)reason;
        r->rejected++;
    }
    if (ay_wire_encode(&rc.base, w, &buf, &len, err) != AY_OK ||
        mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, ay_wire_content_type(w)) !=
            MOSQ_ERR_SUCCESS) {
        r->publish_errors++;
        goto cleanup;
    }
    int prc = mosquitto_publish_v5(r->m, NULL, topic, (int)len, buf, 1, false, props);
    if (prc != MOSQ_ERR_SUCCESS) {
        if (r->publish_errors++ == 0)
            ay_log_warn("could not publish a receipt", "topic", topic, "err",
                        mosquitto_strerror(prc), NULL);
        goto cleanup;
    }
    r->answered++;
cleanup:
    mosquitto_property_free_all(&props);
    free(buf);
}

/* ---- libmosquitto callbacks (this thread, inside loop_read / loop_write) - */

/* --expect N reached: how long from the start and from the first message. */
static void log_expected(const struct responder *r)
{
    char n[24], from_start[24], from_first[24];
    int64_t now = mono_ms();

    snprintf(n, sizeof(n), "%lu", r->answered);
    snprintf(from_start, sizeof(from_start), "%lld", (long long)(now - r->start_ms));
    snprintf(from_first, sizeof(from_first), "%lld", (long long)(now - r->first_ms));
    ay_log_info("expected count answered", "answered", n, "since_start_ms", from_start,
                "since_first_ms", from_first, NULL);
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    struct responder *r = arg;
    struct ay_topic t;
    enum ay_wire w = AY_WIRE_PROTOBUF;
    char err[AY_ERRLEN] = "";
    char *ct = NULL;
    ProtobufCMessage *in = NULL;

    (void)m;
    if (r->first_ms == 0)
        r->first_ms = mono_ms();
    if (ay_topic_parse(msg->topic, &t, err) != AY_OK || t.cls != AY_TOPIC_SCHOOL)
        return; /* nobody to answer: the recorder dead-letters it */
    (void)mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &ct, false);
    const struct ay_msgtype *type = ay_msgtype_by_name(t.kind);
    if (ay_wire_detect(ct, msg->payload, (size_t)msg->payloadlen, &w, err) != AY_OK)
        answer(r, &t, w, "", err);
    else if (type == NULL || type->direction != AY_DIR_INBOUND)
        answer(r, &t, w, "", "unknown message kind");
    else if (ay_wire_decode(type->desc, w, msg->payload, (size_t)msg->payloadlen, &in, err) !=
             AY_OK)
        answer(r, &t, w, "", err);
    else
        answer(r, &t, w, message_id_of(in), NULL);
    if (in != NULL)
        protobuf_c_message_free_unpacked(in, NULL);
    free(ct);
    if (r->o->expect > 0 && r->answered == r->o->expect)
        log_expected(r);
}

static void on_connect(struct mosquitto *m, void *arg, int rc, int flags,
                       const mosquitto_property *props)
{
    struct responder *r = arg;
    char filter[AY_TOPIC_MAX + 64];

    (void)flags;
    (void)props;
    if (rc != 0) {
        fail(r, "connection refused", mosquitto_reason_string(rc));
        return;
    }
    r->connected = true;
    snprintf(filter, sizeof(filter), "$share/%s/ay/v1/+/school/#", r->o->share_group);
    int s = mosquitto_subscribe_v5(m, NULL, filter, 1, MQTT_SUB_OPT_RETAIN_AS_PUBLISHED, NULL);
    if (s != MOSQ_ERR_SUCCESS)
        fail(r, "cannot subscribe", mosquitto_strerror(s));
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
    struct responder *r = arg;

    (void)m;
    (void)mid;
    (void)props;
    if (n < 1 || granted[0] != 1) {
        fail(r, "subscription refused", n < 1 ? "no reason" : mosquitto_reason_string(granted[0]));
        return;
    }
    r->subscribed = true;
}

static void on_publish(struct mosquitto *m, void *arg, int mid, int rc,
                       const mosquitto_property *props)
{
    struct responder *r = arg;

    (void)m;
    (void)mid;
    (void)rc;
    (void)props;
    r->acked++;
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc, const mosquitto_property *props)
{
    (void)m;
    (void)props;
    if (rc != 0)
        fail(arg, "connection lost", mosquitto_reason_string(rc));
    ((struct responder *)arg)->connected = false;
}

/* ---- the loop ------------------------------------------------------------ */

/* One round: poll the socket (at most wait_ms), read, write, keepalive. */
static void pump(struct responder *r, int wait_ms)
{
    int fd = mosquitto_socket(r->m);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc = MOSQ_ERR_SUCCESS;

    if (fd < 0) {
        fail(r, "connection lost", "no socket");
        return;
    }
    if (mosquitto_want_write(r->m))
        p.events |= POLLOUT;
    if (poll(&p, 1, wait_ms) > 0) {
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            rc = mosquitto_loop_read(r->m, 1);
        if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(r->m))
            rc = mosquitto_loop_write(r->m, 1);
    }
    if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(r->m) >= 0)
        rc = mosquitto_loop_misc(r->m);
    if (rc != MOSQ_ERR_SUCCESS)
        fail(r, "connection lost", rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

static void log_counts(const struct responder *r, const char *msg)
{
    char a[24], j[24], k[24], e[24];

    snprintf(a, sizeof(a), "%lu", r->answered);
    snprintf(j, sizeof(j), "%lu", r->rejected);
    snprintf(k, sizeof(k), "%lu", r->acked);
    snprintf(e, sizeof(e), "%lu", r->publish_errors);
    ay_log_info(msg, "answered", a, "rejected", j, "acked", k, "publish_errors", e, NULL);
}

/* tcp://HOST:PORT into host and port: no TLS here. */
static bool parse_url(struct responder *r, const char *url)
{
    char err[AY_ERRLEN];
    bool tls = false;
    return ay_mqtt_parse_url(url, r->host, sizeof(r->host), &r->port, &tls, err) == AY_OK && !tls;
}

/* Connects (MQTT v5, the recorder's session settings) and subscribes;
 * false (r->fail_why) when that did not happen within CONNECT_WAIT_MS.
 * mosquitto_connect_bind_v5 is libmosquitto 2.0's only call that sends
 * CONNECT properties (the session expiry); its TCP connect blocks, which on
 * the loopback to a listening broker completes at once. */
static bool connect_and_subscribe(struct responder *r)
{
    mosquitto_property *props = NULL;
    const struct opts *o = r->o;
    int rc;

    r->m = mosquitto_new(o->client_id, !o->resume, r);
    if (r->m == NULL) {
        fail(r, "cannot create the client", "out of memory");
        return false;
    }
    mosquitto_int_option(r->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(r->m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(r->m, MOSQ_OPT_RECEIVE_MAXIMUM, (int)o->receive_max);
    mosquitto_connect_v5_callback_set(r->m, on_connect);
    mosquitto_subscribe_v5_callback_set(r->m, on_subscribe);
    mosquitto_message_v5_callback_set(r->m, on_message);
    mosquitto_publish_v5_callback_set(r->m, on_publish);
    mosquitto_disconnect_v5_callback_set(r->m, on_disconnect);
    rc = mosquitto_username_pw_set(r->m, o->username, r->password);
    if (rc == MOSQ_ERR_SUCCESS && o->session_expiry_s > 0)
        rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                          o->session_expiry_s);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect_bind_v5(r->m, r->host, r->port, KEEPALIVE_S, NULL, props);
    mosquitto_property_free_all(&props);
    if (rc != MOSQ_ERR_SUCCESS) {
        fail(r, "cannot connect to the broker",
             rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        return false;
    }
    int64_t deadline = mono_ms() + CONNECT_WAIT_MS;
    while (!r->subscribed && !r->failed && !stop_flag && mono_ms() < deadline)
        pump(r, 50);
    if (!r->subscribed && !r->failed)
        fail(r, "cannot connect to the broker", "no CONNACK or SUBACK in time");
    return r->subscribed;
}

/* Answers until a signal; then writes what libmosquitto still holds (at
 * most STOP_FLUSH_MS) and disconnects normally. */
static void serve(struct responder *r)
{
    int64_t next_stats = mono_ms() + r->o->stats_interval_ms;

    while (!stop_flag && !r->failed) {
        pump(r, 100);
        if (mono_ms() >= next_stats) {
            log_counts(r, "stats");
            next_stats = mono_ms() + r->o->stats_interval_ms;
        }
    }
    int64_t end = mono_ms() + STOP_FLUSH_MS;
    while (!r->failed && r->acked < r->answered && mono_ms() < end)
        pump(r, 20);
    if (!r->failed)
        (void)mosquitto_disconnect_v5(r->m, MQTT_RC_NORMAL_DISCONNECTION, NULL);
}

/* ---- options ------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: ay-responder --url tcp://HOST:PORT --username NAME --password-file FILE "
               "[OPTIONS]\n\n"
               "Subscribes like ay-recorder ($share/GROUP/ay/v1/+/school/#, QoS 1, MQTT v5) and\n"
               "answers every message at once with a STORED Receipt in the sender's form; stores\n"
               "nothing. Runs until SIGTERM or SIGINT.\n\n"
               "  --client-id ID          (default NAME-responder)\n"
               "  --share-group G         (default recorder, as ay-recorder)\n"
               "  --receive-max N         QoS 1 messages in flight to it (default 1000, as\n"
               "                          ay-recorder's receive_max)\n"
               "  --session-expiry S      how long the broker keeps its session (default 0)\n"
               "  --resume                Clean Start 0: take the session the broker kept\n"
               "  --stats-interval-ms MS  how often the counts are logged (default 1000)\n"
               "  --expect N              log \"expected count answered\" with the times from\n"
               "                          the start and from the first message when the N-th\n"
               "                          receipt is published (a backlog of N)\n\n"
               "Exit status: 0 stopped by a signal, 1 connection failed or lost, 2 usage.\n");
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    unsigned n = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--resume") == 0) {
            o->resume = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        bool ok = v != NULL;
        if (!ok)
            ;
        else if (strcmp(a, "--url") == 0)
            o->url = v;
        else if (strcmp(a, "--username") == 0)
            o->username = v;
        else if (strcmp(a, "--password-file") == 0)
            o->password_file = v;
        else if (strcmp(a, "--client-id") == 0)
            o->client_id = v;
        else if (strcmp(a, "--share-group") == 0)
            o->share_group = v;
        else if (strcmp(a, "--receive-max") == 0)
            ok = parse_uint(v, 1, 65535, &o->receive_max);
        else if (strcmp(a, "--session-expiry") == 0)
            ok = parse_uint(v, 0, 604800, &o->session_expiry_s);
        else if (strcmp(a, "--stats-interval-ms") == 0)
            ok = parse_uint(v, 10, 3600000, &o->stats_interval_ms);
        else if (strcmp(a, "--expect") == 0)
            ok = parse_uint(v, 1, 100000000, &n) && ((o->expect = n), true);
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "ay-responder: invalid option or value: %s (see --help)\n", a);
            return 2;
        }
    }
    if (o->url == NULL || o->username == NULL || o->password_file == NULL) {
        fprintf(stderr, "ay-responder: --url, --username and --password-file are required\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.share_group = "recorder", .receive_max = 1000, .stats_interval_ms = 1000};
    struct responder r = {.o = &o, .start_ms = mono_ms()};
    char client_id[128];
    int code = parse_args(argc, argv, &o);

    if (code != 0)
        return code;
    if (o.client_id == NULL) {
        snprintf(client_id, sizeof(client_id), "%s-responder", o.username);
        o.client_id = client_id;
    }
    if (!parse_url(&r, o.url)) {
        fprintf(stderr, "ay-responder: invalid --url %s (tcp://HOST:PORT)\n", o.url);
        return 2;
    }
    if (!bench_read_secret("ay-responder", o.password_file, r.password, sizeof(r.password)))
        return 2;
    ay_log_init("responder", AY_LOG_INFO);
    bench_stop_on_signals(&stop_flag);
    mosquitto_lib_init();
    if (connect_and_subscribe(&r)) {
        ay_log_info("ready", "client_id", o.client_id, NULL);
        serve(&r);
    }
    log_counts(&r, "final counts");
    code = 0;
    if (r.failed) {
        ay_log_error("responder failed", "err", r.fail_why, NULL);
        code = 1;
    }
    mosquitto_destroy(r.m);
    mosquitto_lib_cleanup();
    return code;
}
