/*
 * loadgen.c - devices, windows, re-sends and receipts; see loadgen.h.
 *
 * Approach: ONE thread drives every device connection (libmosquitto's
 * socket-level loop: mosquitto_loop_read / _write / _misc on the clients'
 * sockets, which this thread polls), so that the generator costs one core
 * at most and reports what it used (getrusage) next to the system it loads.
 * Each round it issues new messages round-robin over the devices that have
 * room in their window, as long as the target rate allows (rate * elapsed
 * messages so far; 0: no limit); polls the sockets; lets libmosquitto read
 * what arrived (its callbacks run right here: a Receipt frees its window
 * slot at once) and write what it queued; and every RESEND_SCAN_MS it
 * re-publishes the messages whose Receipt is overdue. Latency is measured
 * from the first publish call of a message to the moment its Receipt was
 * read (CLOCK_MONOTONIC), so a re-sent message counts with its whole wait.
 * Limits: when every window is full the rate falls behind and catches up in
 * a burst once Receipts arrive (closed loop, not a fixed schedule); a
 * Receipt read late because this thread was busy counts as late.
 *
 * Publish-only mode (o->no_wait) fills a backlog for a recorder that is not
 * running: no receipt subscription; a message leaves its window slot when
 * the broker acknowledges it (libmosquitto's on_publish, at the PUBACK), and
 * only a publish that failed is repeated. libmosquitto keeps what exceeds
 * the broker's Receive Maximum in its own queue and sends it as PUBACKs come
 * (no stall like Paho's).
 */
#include "loadgen.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "anyuan/v1/outbound.pb-c.h"
#include "ay_log.h"
#include "ay_mqtt.h"
#include "ay_time.h"
#include "stats.h"

#define CONNECT_TIMEOUT_MS 10000
#define RESEND_SCAN_MS     50
#define MISC_EVERY_NS      (1000LL * 1000000LL)
#define PROGRESS_EVERY_NS  (5LL * 1000000000LL)
#define PASSWORD_MAX       256
#define KEEPALIVE_S        60
#define HOST_MAX           256

/* A message waiting for its Receipt (no_wait: for its PUBACK). */
struct slot {
    struct device *d;
    bool busy;
    bool failed; /* the last publish call failed; the scan repeats it */
    int mid;     /* libmosquitto's id of the latest publish (no_wait: matched at PUBACK) */
    struct lg_msg msg;
    int64_t first_ns; /* first publish call */
    int64_t last_ns;  /* latest publish call */
};

struct device {
    struct gen *g;
    char name[AY_ID_MAX];
    char password[PASSWORD_MAX];
    char receipt_topic[AY_TOPIC_MAX];
    struct lg_sender who;
    struct mosquitto *m;
    bool up;            /* connected (and subscribed unless no_wait) */
    bool lost;          /* the connection failed or was refused */
    struct slot *slots; /* o->window of them */
    unsigned busy;
};

struct gen {
    const struct lg_opts *o;
    char host[HOST_MAX];
    int port;
    struct device *devs;
    struct pollfd *fds;
    struct lg_msgs *msgs;
    struct lg_stats lat;
    struct lg_result r;
    uint64_t rng;
    unsigned up;             /* devices ready */
    unsigned lost;           /* devices whose connection failed */
    unsigned long issued;    /* messages created and first published */
    unsigned long finished;  /* messages that got their Receipt */
    unsigned next_dev;       /* round-robin position */
    int64_t start_ns;        /* first publish */
    int64_t last_receipt_ns; /* arrival of the latest Receipt (no_wait: PUBACK) */
    char lost_err[AY_ERRLEN];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* tcp://HOST:PORT (or mqtt://) into host and port: no TLS here. */
static enum ay_err parse_url(struct gen *g, const char *url, char err[AY_ERRLEN])
{
    bool tls = false;
    enum ay_err rc = ay_mqtt_parse_url(url, g->host, sizeof(g->host), &g->port, &tls, err);

    if (rc == AY_OK && tls) {
        ay_errf(err, "invalid broker URL %s (tcp://HOST:PORT; TLS is not supported here)", url);
        rc = AY_ERR_INVALID;
    }
    return rc;
}

/* ---- libmosquitto callbacks (run on this thread, inside loop_read/write) - */

static void device_lost(struct device *d, const char *why)
{
    struct gen *g = d->g;

    if (d->lost)
        return;
    d->lost = true;
    d->up = false;
    if (g->lost++ == 0)
        snprintf(g->lost_err, sizeof(g->lost_err), "%.40s: %.200s", d->name, why);
}

static void on_connect(struct mosquitto *m, void *arg, int rc, int flags,
                       const mosquitto_property *props)
{
    struct device *d = arg;

    (void)flags;
    (void)props;
    if (rc != 0) {
        device_lost(d, mosquitto_reason_string(rc));
        return;
    }
    if (d->g->o->no_wait) {
        d->up = true;
        d->g->up++;
        return;
    }
    int s = mosquitto_subscribe_v5(m, NULL, d->receipt_topic, 1, 0, NULL);
    if (s != MOSQ_ERR_SUCCESS)
        device_lost(d, mosquitto_strerror(s));
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
    struct device *d = arg;

    (void)m;
    (void)mid;
    (void)props;
    if (n < 1 || granted[0] > 1) {
        device_lost(d, "receipt subscription refused");
        return;
    }
    d->up = true;
    d->g->up++;
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc, const mosquitto_property *props)
{
    (void)m;
    (void)props;
    if (rc != 0)
        device_lost(arg, mosquitto_reason_string(rc));
}

static void slot_done(struct gen *g, struct slot *s, int64_t at_ns)
{
    lg_stats_add(&g->lat, (at_ns - s->first_ns) / 1000);
    lg_msg_cleanup(&s->msg);
    s->busy = false;
    s->d->busy--;
    g->finished++;
    g->last_receipt_ns = at_ns;
}

/* no_wait: the broker acknowledged publish mid (rc: its reason code). */
static void on_publish(struct mosquitto *m, void *arg, int mid, int rc,
                       const mosquitto_property *props)
{
    struct device *d = arg;
    struct gen *g = d->g;

    (void)m;
    (void)props;
    if (!g->o->no_wait)
        return;
    for (unsigned k = 0; k < g->o->window; k++) {
        struct slot *s = &d->slots[k];
        if (!s->busy || s->mid != mid)
            continue;
        if (rc < 0x80) {
            slot_done(g, s, mono_ns());
        } else {
            s->failed = true;
            if (g->r.publish_errors++ == 0)
                ay_log_warn("publish refused, will re-send", "device", d->name, "err",
                            mosquitto_reason_string(rc), NULL);
        }
        return;
    }
}

static struct slot *slot_of(struct device *d, unsigned window, const char *msg_id)
{
    for (unsigned k = 0; k < window; k++)
        if (d->slots[k].busy && strcmp(d->slots[k].msg.id, msg_id) == 0)
            return &d->slots[k];
    return NULL;
}

static void count_status(struct gen *g, const Anyuan__V1__Receipt *r)
{
    switch (r->status) {
    case ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED:
        g->r.stored++;
        break;
    case ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_DUPLICATE:
        g->r.duplicate++;
        break;
    default:
        if (g->r.rejected++ == 0)
            snprintf(g->r.first_reject, sizeof(g->r.first_reject), "%s", r->reason);
        break;
    }
}

/* A Receipt: decoded at once (protobuf: the devices send protobuf). */
static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    struct device *d = arg;
    struct gen *g = d->g;
    int64_t at = mono_ns();

    (void)m;
    (void)props;
    Anyuan__V1__Receipt *r =
        anyuan__v1__receipt__unpack(NULL, (size_t)msg->payloadlen, msg->payload);
    if (r == NULL) {
        ay_log_warn("ignoring undecodable receipt", "device", d->name, NULL);
        return;
    }
    struct slot *s = slot_of(d, g->o->window, r->ref_message_id);
    if (s == NULL) {
        g->r.late_receipts++; /* a re-sent message's second answer */
    } else {
        count_status(g, r);
        slot_done(g, s, at);
    }
    anyuan__v1__receipt__free_unpacked(r, NULL);
}

/* ---- devices ------------------------------------------------------------- */

static enum ay_err device_init(struct gen *g, struct device *d, unsigned i, char err[AY_ERRLEN])
{
    const struct lg_opts *o = g->o;
    int rc;

    d->g = g;
    snprintf(d->name, sizeof(d->name), "%s%04u", o->device_prefix, i + 1);
    snprintf(d->password, sizeof(d->password), "%s%s", o->password_prefix, d->name);
    d->who = (struct lg_sender){.district = o->district, .school = o->school, .device = d->name};
    d->slots = calloc(o->window, sizeof(*d->slots));
    if (d->slots == NULL)
        return AY_ERR_NOMEM;
    for (unsigned k = 0; k < o->window; k++)
        d->slots[k].d = d;
    if (ay_topic_receipt(d->receipt_topic, o->district, o->school, d->name) != AY_OK) {
        ay_errf(err, "invalid district, school or device id (%s %s %s)", o->district, o->school,
                d->name);
        return AY_ERR_INVALID;
    }
    d->m = mosquitto_new(d->name, true, d);
    if (d->m == NULL)
        return AY_ERR_NOMEM;
    mosquitto_int_option(d->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    /* Nagle's algorithm would hold a publish back for the peer's delayed ACK. */
    mosquitto_int_option(d->m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_v5_callback_set(d->m, on_connect);
    mosquitto_subscribe_v5_callback_set(d->m, on_subscribe);
    mosquitto_disconnect_v5_callback_set(d->m, on_disconnect);
    mosquitto_publish_v5_callback_set(d->m, on_publish);
    mosquitto_message_v5_callback_set(d->m, on_message);
    rc = mosquitto_username_pw_set(d->m, d->name, d->password);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect_async(d->m, g->host, g->port, KEEPALIVE_S);
    if (rc != MOSQ_ERR_SUCCESS) {
        ay_errf(err, "%s: cannot connect to %s:%d: %s", d->name, g->host, g->port,
                rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        return AY_ERR_MQTT;
    }
    return AY_OK;
}

static void devices_free(struct gen *g)
{
    if (g->devs == NULL)
        return;
    for (unsigned i = 0; i < g->o->devices; i++) {
        struct device *d = &g->devs[i];
        if (d->m != NULL) {
            if (d->up)
                mosquitto_disconnect_v5(d->m, MQTT_RC_NORMAL_DISCONNECTION, NULL);
            mosquitto_destroy(d->m);
        }
        for (unsigned s = 0; d->slots && s < g->o->window; s++)
            lg_msg_cleanup(&d->slots[s].msg);
        free(d->slots);
    }
    free(g->devs);
    g->devs = NULL;
}

/* ---- the socket loop ----------------------------------------------------- */

/* Polls every device's socket for at most wait_ms and lets libmosquitto read
 * and write; callbacks run inside. */
static void pump(struct gen *g, int wait_ms)
{
    unsigned n = g->o->devices;

    for (unsigned i = 0; i < n; i++) {
        struct device *d = &g->devs[i];
        int fd = d->lost ? -1 : mosquitto_socket(d->m);
        g->fds[i] = (struct pollfd){.fd = fd, .events = POLLIN};
        if (fd >= 0 && mosquitto_want_write(d->m))
            g->fds[i].events |= POLLOUT;
    }
    if (poll(g->fds, n, wait_ms) <= 0)
        return;
    for (unsigned i = 0; i < n; i++) {
        struct device *d = &g->devs[i];
        short re = g->fds[i].revents;
        int rc = MOSQ_ERR_SUCCESS;
        if (g->fds[i].fd < 0 || re == 0)
            continue;
        if (re & (POLLIN | POLLHUP | POLLERR))
            rc = mosquitto_loop_read(d->m, 1);
        if (rc == MOSQ_ERR_SUCCESS && (re & POLLOUT) && !d->lost)
            rc = mosquitto_loop_write(d->m, 1);
        if (rc != MOSQ_ERR_SUCCESS)
            device_lost(d, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    }
}

/* Keepalive and libmosquitto's own retries, about once a second. */
static void misc(struct gen *g)
{
    for (unsigned i = 0; i < g->o->devices; i++)
        if (!g->devs[i].lost)
            mosquitto_loop_misc(g->devs[i].m);
}

/* Starts every connection, then drives them all until every device is up
 * (connected, subscribed to its receipts) or CONNECT_TIMEOUT_MS passed. */
static enum ay_err devices_connect(struct gen *g, char err[AY_ERRLEN])
{
    unsigned n = g->o->devices;
    enum ay_err rc = AY_OK;

    g->devs = calloc(n, sizeof(*g->devs));
    g->fds = calloc(n, sizeof(*g->fds));
    if (g->devs == NULL || g->fds == NULL)
        return AY_ERR_NOMEM;
    for (unsigned i = 0; i < n && rc == AY_OK; i++)
        rc = device_init(g, &g->devs[i], i, err);
    if (rc != AY_OK)
        return rc;
    int64_t deadline = mono_ns() + CONNECT_TIMEOUT_MS * 1000000LL;
    while (g->up < n && g->lost == 0 && mono_ns() < deadline)
        pump(g, 20);
    if (g->lost > 0) {
        ay_errf(err, "%s", g->lost_err);
        return AY_ERR_MQTT;
    }
    if (g->up < n) {
        ay_errf(err, "only %u of %u devices connected within %d ms", g->up, n, CONNECT_TIMEOUT_MS);
        return AY_ERR_TIMEOUT;
    }
    return AY_OK;
}

/* ---- sending ------------------------------------------------------------- */

/* xorshift64*: a cheap, reproducible spread of the message types. */
static enum lg_type pick_type(struct gen *g)
{
    unsigned total = 0;

    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    for (int t = 0; t < LG_NTYPES; t++)
        total += g->o->mix[t];
    unsigned x = (unsigned)((g->rng * 2685821657736338717ULL) >> 33) % total;
    for (int t = 0; t < LG_NTYPES; t++) {
        if (x < g->o->mix[t])
            return (enum lg_type)t;
        x -= g->o->mix[t];
    }
    return LG_STATUS;
}

static void publish(struct gen *g, struct device *d, struct slot *s, int64_t now)
{
    s->last_ns = now;
    s->failed = false;
    /* Outside a callback libmosquitto writes at once; what the broker's
     * Receive Maximum does not admit yet waits in its queue. On failure the
     * slot stays busy: the re-send scan tries again. */
    int rc = mosquitto_publish_v5(d->m, &s->mid, s->msg.topic, (int)s->msg.len, s->msg.buf, 1,
                                  false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        s->failed = true;
        if (g->r.publish_errors++ == 0)
            ay_log_warn("could not publish, will re-send", "device", d->name, "err",
                        mosquitto_strerror(rc), NULL);
    }
}

static enum ay_err send_new(struct gen *g, struct device *d, int64_t now)
{
    struct slot *s = d->slots;

    while (s->busy)
        s++;
    enum lg_type t = pick_type(g);
    enum ay_err rc = lg_msgs_build(g->msgs, t, &d->who, ay_time_now_us(), &s->msg);
    if (rc != AY_OK)
        return rc;
    s->busy = true;
    s->first_ns = now;
    d->busy++;
    g->issued++;
    g->r.by_type[t]++;
    publish(g, d, s, now);
    return AY_OK;
}

/* How many messages the rate allows by now; all of them with rate 0. */
static unsigned long allowed(const struct gen *g, int64_t now)
{
    if (g->o->rate <= 0)
        return g->o->count;
    double n = g->o->rate * (double)(now - g->start_ns) / 1e9 + 1;
    return n < (double)g->o->count ? (unsigned long)n : g->o->count;
}

/* Issues new messages round-robin to devices with room in their window. */
static enum ay_err issue(struct gen *g, int64_t now)
{
    unsigned long limit = allowed(g, now);
    unsigned misses = 0;

    while (g->issued < limit && misses < g->o->devices) {
        struct device *d = &g->devs[g->next_dev];
        g->next_dev = (g->next_dev + 1) % g->o->devices;
        if (d->lost || d->busy >= g->o->window) {
            misses++;
            continue;
        }
        misses = 0;
        enum ay_err rc = send_new(g, d, now);
        if (rc != AY_OK)
            return rc;
    }
    return AY_OK;
}

/* Re-publishes what waited --resend-ms for its Receipt; in no_wait mode
 * only what failed to reach the broker. */
static void resend_overdue(struct gen *g, int64_t now)
{
    int64_t overdue_ns = (int64_t)g->o->resend_ms * 1000000LL;

    for (unsigned i = 0; i < g->o->devices; i++) {
        struct device *d = &g->devs[i];
        for (unsigned k = 0; d->busy > 0 && !d->lost && k < g->o->window; k++) {
            struct slot *s = &d->slots[k];
            bool due = g->o->no_wait ? s->failed : s->failed || now - s->last_ns >= overdue_ns;
            if (s->busy && due) {
                g->r.resends++;
                publish(g, d, s, now);
            }
        }
    }
}

/* ---- the run ------------------------------------------------------------- */

static void progress(const struct gen *g)
{
    char sent[24], done[24], resends[24];

    snprintf(sent, sizeof(sent), "%lu", g->issued);
    snprintf(done, sizeof(done), "%lu", g->finished);
    snprintf(resends, sizeof(resends), "%lu", g->r.resends);
    ay_log_info("progress", "sent", sent, "receipted", done, "resends", resends, NULL);
}

/* How long to poll (arrivals end the wait early): 0 while messages can be
 * issued, 1 ms when only the rate holds the next one back, else until the
 * next scan. */
static int wait_ms(const struct gen *g, int64_t now)
{
    if (g->issued < g->o->count && allowed(g, now) > g->issued) {
        for (unsigned i = 0; i < g->o->devices; i++)
            if (!g->devs[i].lost && g->devs[i].busy < g->o->window)
                return 0;
    }
    if (g->o->rate > 0 && g->issued < g->o->count && allowed(g, now) <= g->issued)
        return 1;
    return RESEND_SCAN_MS;
}

static enum ay_err run_loop(struct gen *g)
{
    int64_t now = mono_ns();
    int64_t next_scan = now, next_progress = now + PROGRESS_EVERY_NS, next_misc = now;
    int64_t drain_ns = (int64_t)g->o->drain_timeout_ms * 1000000LL;
    double cpu0 = cpu_s();

    g->start_ns = g->last_receipt_ns = now;
    while (g->finished < g->issued || g->issued < g->o->count) {
        enum ay_err rc = issue(g, now);
        if (rc != AY_OK)
            return rc;
        pump(g, wait_ms(g, now));
        now = mono_ns();
        if (now >= next_scan) {
            resend_overdue(g, now);
            next_scan = now + RESEND_SCAN_MS * 1000000LL;
        }
        if (now >= next_misc) {
            misc(g);
            next_misc = now + MISC_EVERY_NS;
        }
        if (now >= next_progress) {
            progress(g);
            next_progress = now + PROGRESS_EVERY_NS;
        }
        if (now - g->last_receipt_ns > drain_ns)
            break; /* nothing answers any more */
    }
    g->r.cpu_s = cpu_s() - cpu0;
    return AY_OK;
}

static void fill_result(struct gen *g, struct lg_result *res)
{
    g->r.window = g->o->window;
    g->r.lost = g->lost;
    g->r.sent = g->issued;
    g->r.unanswered = g->issued - g->finished;
    g->r.elapsed_s = (double)(g->last_receipt_ns - g->start_ns) / 1e9;
    g->r.p50_us = lg_stats_percentile(&g->lat, 50);
    g->r.p99_us = lg_stats_percentile(&g->lat, 99);
    g->r.max_us = lg_stats_percentile(&g->lat, 100);
    g->r.cpu_total_s = cpu_s();
    *res = g->r;
}

enum ay_err lg_run(const struct lg_opts *o, struct lg_result *res, char err[AY_ERRLEN])
{
    struct gen g = {.o = o, .rng = 0x9e3779b97f4a7c15ULL};
    struct lg_sender probe = {.district = o->district, .school = o->school, .device = "probe"};
    enum ay_err rc;

    memset(g.r.first_reject, 0, sizeof(g.r.first_reject));
    mosquitto_lib_init();
    rc = parse_url(&g, o->url, err);
    if (rc == AY_OK)
        rc = lg_stats_init(&g.lat, o->count);
    if (rc == AY_OK)
        rc = lg_msgs_new(&probe, ay_time_now_us(), &g.msgs, err);
    if (rc == AY_OK)
        rc = devices_connect(&g, err);
    if (rc == AY_OK)
        rc = run_loop(&g);
    if (rc == AY_OK) {
        fill_result(&g, res);
        if (g.lost > 0)
            ay_log_warn("devices lost their connection", "err", g.lost_err, NULL);
    }
    devices_free(&g);
    free(g.fds);
    lg_msgs_free(g.msgs);
    lg_stats_cleanup(&g.lat);
    mosquitto_lib_cleanup();
    return rc;
}
