/*
 * loadgen.c - devices, windows, re-sends and receipts; see loadgen.h.
 *
 * Approach: one thread does everything but receive. It issues new messages
 * round-robin over the devices that have room in their window, as long as
 * the target rate allows (rate * elapsed messages so far; 0: no limit); it
 * decodes the receipts the callbacks queued and frees their window slots;
 * and every RESEND_SCAN_MS it re-publishes the messages whose Receipt is
 * overdue. Latency is measured from the first publish call of a message to
 * the arrival of its Receipt on the receive thread (CLOCK_MONOTONIC), so a
 * re-sent message counts with its whole wait.
 * Limits: when every window is full the rate falls behind and catches up in
 * a burst once Receipts arrive (closed loop, not a fixed schedule).
 *
 * Publish-only mode (o->no_wait) fills a backlog for a recorder that is not
 * running: no receipt subscription; a message leaves its window slot when
 * the broker acknowledges it (the publish's completion, queued like a
 * Receipt), and only a publish that failed is repeated. The window is capped
 * at the client's send window (the broker's Receive Maximum): Paho 1.3.12
 * stalls 1 s whenever it holds more unacknowledged publishes than that
 * (stack-notes.md), which would turn "full speed" into one window a second.
 */
#include "loadgen.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anyuan/v1/outbound.pb-c.h"
#include "ay_log.h"
#include "ay_mqtt.h"
#include "ay_queue.h"
#include "ay_time.h"
#include "stats.h"

#define CONNECT_TIMEOUT_MS 10000
#define RESEND_SCAN_MS     50
#define PROGRESS_EVERY_NS  (5LL * 1000000000LL)
#define POP_MAX            256
#define PASSWORD_MAX       256
#define CONNECTORS         32

/* A message waiting for its Receipt (no_wait: for its PUBACK). */
struct slot {
    struct device *d;
    bool busy;
    bool failed; /* no_wait: the last publish failed; the scan repeats it */
    struct lg_msg msg;
    int64_t first_ns; /* first publish call */
    int64_t last_ns;  /* latest publish call */
};

struct device {
    struct gen *g;
    char name[AY_ID_MAX];
    char password[PASSWORD_MAX];
    struct lg_sender who;
    struct ay_mqtt *c;
    struct slot *slots; /* o->window of them */
    unsigned busy;
    unsigned cap; /* slots in use at most: o->window, in no_wait capped at the send window */
};

/* Shared by the threads that connect the devices. */
struct connector {
    struct gen *g;
    pthread_mutex_t lock;
    unsigned next;
    enum ay_err rc;
    char err[AY_ERRLEN];
};

/* A Receipt as it arrived, queued by the receive thread; or (slot set) the
 * completion of a no_wait publish, queued by a Paho thread. */
struct event {
    struct device *d;
    struct slot *slot; /* NULL for a Receipt */
    enum ay_err rc;    /* of the publish */
    int64_t at_ns;
    size_t len;
    uint8_t payload[];
};

struct gen {
    const struct lg_opts *o;
    struct device *devs;
    struct ay_queue *events;
    struct lg_msgs *msgs;
    struct lg_stats lat;
    struct lg_result r;
    uint64_t rng;
    unsigned long issued;    /* messages created and first published */
    unsigned long finished;  /* messages that got their Receipt */
    unsigned next_dev;       /* round-robin position */
    int64_t start_ns;        /* first publish */
    int64_t last_receipt_ns; /* arrival of the latest Receipt (no_wait: PUBACK) */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- receive thread ------------------------------------------------------ */

static void push_event(struct gen *g, struct event *ev)
{
    /* The main thread drains continuously; a full queue only delays us. */
    enum ay_err rc;
    while ((rc = ay_queue_push(g->events, ev, sizeof(*ev) + ev->len, 100)) == AY_ERR_TIMEOUT)
        ;
    if (rc != AY_OK)
        free(ev); /* closed: the run is over */
}

/* Paho receive thread: copy and timestamp only; decoding is the main thread's. */
static void on_receipt(void *arg, const struct ay_mqtt_msg *m)
{
    struct device *d = arg;
    int64_t at = mono_ns();
    struct event *ev = malloc(sizeof(*ev) + m->len);

    if (ev == NULL)
        return; /* the message is re-sent and answered again */
    *ev = (struct event){.d = d, .at_ns = at, .len = m->len};
    memcpy(ev->payload, m->payload, m->len);
    push_event(d->g, ev);
}

/* A Paho thread: a no_wait publish completed (rc AY_OK: the broker's PUBACK). */
static void on_published(void *arg, enum ay_err rc, const char *reason)
{
    struct slot *s = arg;
    int64_t at = mono_ns();
    size_t len = rc == AY_OK || reason == NULL ? 0 : strlen(reason) + 1;
    struct event *ev = malloc(sizeof(*ev) + len);

    if (ev == NULL)
        return; /* the slot stays busy; the run ends at the drain timeout */
    *ev = (struct event){.d = s->d, .slot = s, .rc = rc, .at_ns = at, .len = len};
    if (len > 0)
        memcpy(ev->payload, reason, len);
    push_event(s->d->g, ev);
}

/* ---- devices ------------------------------------------------------------- */

static enum ay_err device_connect(struct gen *g, struct device *d, unsigned i, char err[AY_ERRLEN])
{
    const struct lg_opts *o = g->o;
    char receipt_topic[AY_TOPIC_MAX];

    d->g = g;
    snprintf(d->name, sizeof(d->name), "%s%04u", o->device_prefix, i + 1);
    snprintf(d->password, sizeof(d->password), "%s%s", o->password_prefix, d->name);
    d->who = (struct lg_sender){.district = o->district, .school = o->school, .device = d->name};
    d->slots = calloc(o->window, sizeof(*d->slots));
    if (d->slots == NULL)
        return AY_ERR_NOMEM;
    for (unsigned k = 0; k < o->window; k++)
        d->slots[k].d = d;
    if (ay_topic_receipt(receipt_topic, o->district, o->school, d->name) != AY_OK) {
        ay_errf(err, "invalid district, school or device id (%s %s %s)", o->district, o->school,
                d->name);
        return AY_ERR_INVALID;
    }
    struct ay_mqtt_opts mo = {.url = o->url,
                              .client_id = d->name,
                              .username = d->name,
                              .password = d->password,
                              .clean_start = true,
                              .max_inflight = o->window + 10};
    enum ay_err rc = ay_mqtt_new(&mo, o->no_wait ? NULL : on_receipt, d, &d->c, err);
    if (rc == AY_OK && !o->no_wait)
        rc = ay_mqtt_subscribe(d->c, receipt_topic, 1, err);
    if (rc == AY_OK)
        rc = ay_mqtt_connect(d->c, CONNECT_TIMEOUT_MS, err);
    if (rc != AY_OK)
        return rc;
    d->cap = o->window;
    if (o->no_wait && ay_mqtt_send_window(d->c) < d->cap)
        d->cap = ay_mqtt_send_window(d->c);
    return AY_OK;
}

static void devices_free(struct gen *g)
{
    if (g->devs == NULL)
        return;
    for (unsigned i = 0; i < g->o->devices; i++) {
        struct device *d = &g->devs[i];
        ay_mqtt_free(d->c);
        for (unsigned s = 0; d->slots && s < g->o->window; s++)
            lg_msg_cleanup(&d->slots[s].msg);
        free(d->slots);
    }
    free(g->devs);
    g->devs = NULL;
}

/* Connects devices taken from a shared counter until none are left or one fails. */
static void *connect_worker(void *arg)
{
    struct connector *k = arg;
    char err[AY_ERRLEN] = "";

    for (;;) {
        pthread_mutex_lock(&k->lock);
        unsigned i = k->next++;
        bool stop = i >= k->g->o->devices || k->rc != AY_OK;
        pthread_mutex_unlock(&k->lock);
        if (stop)
            return NULL;
        enum ay_err rc = device_connect(k->g, &k->g->devs[i], i, err);
        if (rc != AY_OK) {
            pthread_mutex_lock(&k->lock);
            if (k->rc == AY_OK) {
                k->rc = rc;
                /* The account name is at most 32 characters: keep room for it. */
                snprintf(k->err, sizeof(k->err), "%.40s: %.200s", k->g->devs[i].name, err);
            }
            pthread_mutex_unlock(&k->lock);
        }
    }
}

/*
 * Connects the devices CONNECTORS at a time: with Paho 1.3.12 one connect
 * takes about 2 s however idle the broker is (a new socket joins the receive
 * thread's poll set only when the poll times out), so one by one would take
 * minutes for a few dozen devices.
 */
static enum ay_err devices_connect(struct gen *g, char err[AY_ERRLEN])
{
    struct connector k = {.g = g, .rc = AY_OK};
    pthread_t th[CONNECTORS];
    unsigned n = g->o->devices < CONNECTORS ? g->o->devices : CONNECTORS;
    unsigned started = 0;

    g->devs = calloc(g->o->devices, sizeof(*g->devs));
    if (g->devs == NULL)
        return AY_ERR_NOMEM;
    pthread_mutex_init(&k.lock, NULL);
    while (started < n && pthread_create(&th[started], NULL, connect_worker, &k) == 0)
        started++;
    if (started == 0)
        connect_worker(&k);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&k.lock);
    if (k.rc != AY_OK)
        snprintf(err, AY_ERRLEN, "%s", k.err);
    return k.rc;
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

static void publish_failed(struct gen *g, struct device *d, struct slot *s, const char *err)
{
    s->failed = true;
    if (g->r.publish_errors++ == 0)
        ay_log_warn("could not publish, will re-send", "device", d->name, "err", err, NULL);
}

static void publish(struct gen *g, struct device *d, struct slot *s, int64_t now)
{
    char err[AY_ERRLEN] = "";
    bool no_wait = g->o->no_wait;

    s->last_ns = now;
    s->failed = false;
    /* On failure the slot stays busy: the re-send scan tries again. */
    if (ay_mqtt_publish(d->c, s->msg.topic, s->msg.buf, s->msg.len, 1, false,
                        no_wait ? on_published : NULL, no_wait ? s : NULL, err) != AY_OK)
        publish_failed(g, d, s, err);
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
        if (d->busy >= d->cap) {
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
        for (unsigned k = 0; d->busy > 0 && k < g->o->window; k++) {
            struct slot *s = &d->slots[k];
            bool due = g->o->no_wait ? s->failed : now - s->last_ns >= overdue_ns;
            if (s->busy && due) {
                g->r.resends++;
                publish(g, d, s, now);
            }
        }
    }
}

/* ---- receipts ------------------------------------------------------------ */

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

static void slot_done(struct gen *g, struct slot *s, int64_t at_ns)
{
    lg_stats_add(&g->lat, (at_ns - s->first_ns) / 1000);
    lg_msg_cleanup(&s->msg);
    s->busy = false;
    s->d->busy--;
    g->finished++;
    g->last_receipt_ns = at_ns;
}

/* A no_wait publish completed: done, or to be repeated by the scan. */
static void on_publish_event(struct gen *g, struct event *ev)
{
    struct slot *s = ev->slot;

    if (!s->busy)
        return; /* cannot happen: one completion per publish call */
    if (ev->rc == AY_OK) {
        slot_done(g, s, ev->at_ns);
        return;
    }
    publish_failed(g, ev->d, s, ev->len > 0 ? (const char *)ev->payload : ay_strerror(ev->rc));
}

static void on_event(struct gen *g, struct event *ev)
{
    if (ev->slot != NULL) {
        on_publish_event(g, ev);
        return;
    }
    Anyuan__V1__Receipt *r = anyuan__v1__receipt__unpack(NULL, ev->len, ev->payload);

    if (r == NULL) {
        ay_log_warn("ignoring undecodable receipt", "device", ev->d->name, NULL);
        return;
    }
    struct slot *s = slot_of(ev->d, g->o->window, r->ref_message_id);
    if (s == NULL) {
        g->r.late_receipts++; /* a re-sent message's second answer */
    } else {
        count_status(g, r);
        slot_done(g, s, ev->at_ns);
    }
    anyuan__v1__receipt__free_unpacked(r, NULL);
}

static void take_receipts(struct gen *g, int wait_ms)
{
    void *evs[POP_MAX];
    size_t n = ay_queue_pop_batch(g->events, evs, POP_MAX, wait_ms);

    for (size_t i = 0; i < n; i++) {
        on_event(g, evs[i]);
        free(evs[i]);
    }
}

/* Frees the receipts still queued after the devices are gone. */
static void drop_events(struct ay_queue *q)
{
    void *evs[POP_MAX];
    size_t n;

    if (q == NULL)
        return;
    ay_queue_close(q);
    while ((n = ay_queue_pop_batch(q, evs, POP_MAX, 0)) > 0)
        for (size_t i = 0; i < n; i++)
            free(evs[i]);
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

/* How long to wait for receipts (their arrival ends the wait early): 1 ms
 * when only the rate holds the next message back, else until the next scan. */
static int wait_ms(const struct gen *g, int64_t now)
{
    if (g->o->rate > 0 && g->issued < g->o->count && allowed(g, now) <= g->issued)
        return 1;
    return RESEND_SCAN_MS;
}

static enum ay_err run_loop(struct gen *g)
{
    int64_t now = mono_ns();
    int64_t next_scan = now, next_progress = now + PROGRESS_EVERY_NS;
    int64_t drain_ns = (int64_t)g->o->drain_timeout_ms * 1000000LL;

    g->start_ns = g->last_receipt_ns = now;
    while (g->finished < g->issued || g->issued < g->o->count) {
        enum ay_err rc = issue(g, now);
        if (rc != AY_OK)
            return rc;
        take_receipts(g, wait_ms(g, now));
        now = mono_ns();
        if (now >= next_scan) {
            resend_overdue(g, now);
            next_scan = now + RESEND_SCAN_MS * 1000000LL;
        }
        if (now >= next_progress) {
            progress(g);
            next_progress = now + PROGRESS_EVERY_NS;
        }
        if (now - g->last_receipt_ns > drain_ns)
            break; /* nothing answers any more */
    }
    return AY_OK;
}

static void fill_result(struct gen *g, struct lg_result *res)
{
    g->r.window = g->o->window;
    for (unsigned i = 0; i < g->o->devices; i++)
        if (g->devs[i].cap < g->r.window)
            g->r.window = g->devs[i].cap;
    g->r.sent = g->issued;
    g->r.unanswered = g->issued - g->finished;
    g->r.elapsed_s = (double)(g->last_receipt_ns - g->start_ns) / 1e9;
    g->r.p50_us = lg_stats_percentile(&g->lat, 50);
    g->r.p99_us = lg_stats_percentile(&g->lat, 99);
    g->r.max_us = lg_stats_percentile(&g->lat, 100);
    *res = g->r;
}

enum ay_err lg_run(const struct lg_opts *o, struct lg_result *res, char err[AY_ERRLEN])
{
    struct gen g = {.o = o, .rng = 0x9e3779b97f4a7c15ULL};
    struct lg_sender probe = {.district = o->district, .school = o->school, .device = "probe"};
    size_t qmax = (size_t)o->devices * o->window * 4 + 1024;
    enum ay_err rc;

    memset(g.r.first_reject, 0, sizeof(g.r.first_reject));
    rc = lg_stats_init(&g.lat, o->count);
    if (rc == AY_OK)
        rc = ay_queue_new(qmax, qmax * 1024, &g.events);
    if (rc == AY_OK)
        rc = lg_msgs_new(&probe, ay_time_now_us(), &g.msgs, err);
    if (rc == AY_OK)
        rc = devices_connect(&g, err);
    if (rc == AY_OK)
        rc = run_loop(&g);
    if (rc == AY_OK)
        fill_result(&g, res);
    devices_free(&g); /* no callback runs after this */
    drop_events(g.events);
    ay_queue_free(g.events);
    lg_msgs_free(g.msgs);
    lg_stats_cleanup(&g.lat);
    return rc;
}
