/*
 * pipeline.c - queue, batches, retries, receipts; see pipeline.h.
 */
#include "pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ay_log.h"
#include "ay_pg.h"
#include "ay_queue.h"
#include "ay_time.h"
#include "recorder.h"
#include "store.h"

#define BACKOFF_MIN_MS    100
#define BACKOFF_MAX_MS    5000
#define STATS_INTERVAL_US (60LL * 1000000LL)
/* Receipts waiting for the sender thread; past this they are dropped (the
 * senders re-send and get DUPLICATE), never waited for. */
#define RECEIPTS_MAX       100000
#define RECEIPTS_MAX_BYTES (64u << 20)

/* A packed receipt on its way from a worker to the sender thread. */
struct outgoing {
    char topic[AY_TOPIC_MAX];
    uint8_t *buf;
    size_t len;
};

static void *sender_loop(void *arg);

/* One storing thread and what only it touches. */
struct worker {
    struct recorder_pipeline *p;
    struct ay_pg *db;
    struct recorder_item **batch; /* batch_max slots */
    pthread_t thread;
    bool started;
};

struct recorder_pipeline {
    struct recorder_pipeline_opts o;
    struct ay_mqtt *receipts;
    struct ay_queue *q;
    struct ay_queue *outq; /* packed receipts for the sender thread */
    pthread_t sender;
    bool sender_started;
    volatile bool sender_stop; /* set once no worker adds receipts any more */
    struct worker *w;          /* o.workers of them */
    pthread_mutex_t stats_lock;
    /* Guarded by stats_lock. */
    unsigned long long stored, duplicates, rejected, lost;
    int64_t next_stats_us;
};

enum ay_err recorder_pipeline_new(const struct recorder_pipeline_opts *o, struct ay_mqtt *receipts,
                                  struct recorder_pipeline **out, char err[AY_ERRLEN])
{
    struct recorder_pipeline *p = calloc(1, sizeof(*p));
    enum ay_err rc = AY_ERR_NOMEM;

    if (p == NULL)
        return AY_ERR_NOMEM;
    p->o = *o;
    if (p->o.workers == 0)
        p->o.workers = 1;
    p->receipts = receipts;
    pthread_mutex_init(&p->stats_lock, NULL);
    p->next_stats_us = ay_time_now_us() + STATS_INTERVAL_US;
    p->w = calloc(p->o.workers, sizeof(*p->w));
    if (p->w == NULL ||
        (rc = ay_queue_new(o->queue_max_items, o->queue_max_bytes, &p->q)) != AY_OK ||
        (rc = ay_queue_new(RECEIPTS_MAX, RECEIPTS_MAX_BYTES, &p->outq)) != AY_OK)
        goto fail;
    for (size_t i = 0; i < p->o.workers; i++) {
        struct worker *w = &p->w[i];
        w->p = p;
        w->batch = calloc(o->batch_max, sizeof(*w->batch));
        rc = w->batch ? ay_pg_new(o->database_url, 30000, &w->db, err) : AY_ERR_NOMEM;
        if (rc == AY_OK)
            rc = recorder_store_prepare(w->db, err);
        if (rc != AY_OK)
            goto fail;
    }
    if (pthread_create(&p->sender, NULL, sender_loop, p) != 0) {
        ay_errf(err, "cannot start the receipt sender thread");
        rc = AY_ERR_NOMEM;
        goto fail;
    }
    p->sender_started = true;
    *out = p;
    return AY_OK;
fail:
    recorder_pipeline_free(p);
    return rc;
}

void recorder_pipeline_flush_receipts(struct recorder_pipeline *p)
{
    if (!p->sender_started)
        return;
    p->sender_stop = true;
    ay_queue_close(p->outq);
    pthread_join(p->sender, NULL);
    p->sender_started = false;
}

bool recorder_pipeline_connect(struct recorder_pipeline *p)
{
    char err[AY_ERRLEN] = "";
    for (size_t i = 0; i < p->o.workers; i++) {
        for (int backoff = BACKOFF_MIN_MS; !ay_pg_is_connected(p->w[i].db);
             backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2) {
            if (*p->o.stop)
                return false;
            if (ay_pg_connect(p->w[i].db, err) == AY_OK)
                break;
            ay_log_warn("could not connect to the database, retrying", "err", err, NULL);
            ay_time_sleep_ms(backoff);
        }
    }
    return true;
}

struct ay_pg *recorder_pipeline_db(struct recorder_pipeline *p)
{
    return p->w[0].db;
}

void recorder_pipeline_free(struct recorder_pipeline *p)
{
    void *left[64];
    size_t n;

    if (p == NULL)
        return;
    recorder_pipeline_flush_receipts(p);
    if (p->outq) {
        while ((n = ay_queue_pop_batch(p->outq, left, 64, 0)) > 0)
            for (size_t i = 0; i < n; i++) {
                free(((struct outgoing *)left[i])->buf);
                free(left[i]);
            }
        ay_queue_free(p->outq);
    }
    if (p->q) {
        ay_queue_close(p->q);
        while ((n = ay_queue_pop_batch(p->q, left, 64, 0)) > 0)
            for (size_t i = 0; i < n; i++)
                recorder_item_free(left[i]);
        ay_queue_free(p->q);
    }
    for (size_t i = 0; p->w && i < p->o.workers; i++) {
        ay_pg_free(p->w[i].db);
        free(p->w[i].batch);
    }
    free(p->w);
    pthread_mutex_destroy(&p->stats_lock);
    free(p);
}

void recorder_pipeline_offer(void *arg, const struct ay_mqtt_msg *m)
{
    struct recorder_pipeline *p = arg;
    struct recorder_item *it = recorder_item_new(m->topic, m->payload, m->len, ay_time_now_us());
    bool waited = false;

    if (it == NULL) {
        /* The broker already has our ack; the sender re-sends without receipt. */
        ay_log_error("cannot queue message: out of memory", "topic", m->topic, NULL);
        return;
    }
    for (;;) {
        enum ay_err rc = ay_queue_push(p->q, it, m->len + strlen(m->topic) + sizeof(*it), 500);
        if (rc == AY_OK)
            return;
        if (rc == AY_ERR_CLOSED) {
            ay_log_warn("message arrived while stopping; its sender will re-send it", "topic",
                        m->topic, NULL);
            recorder_item_free(it);
            return;
        }
        if (!waited)
            ay_log_warn("queue full, holding the broker back", "topic", m->topic, NULL);
        waited = true;
    }
}

/* Reconnects until it works, *stop is set, or until_us passes (0: never). */
static bool reconnect(struct worker *w, int64_t until_us)
{
    char err[AY_ERRLEN] = "";
    int backoff = BACKOFF_MIN_MS;

    for (;;) {
        if (ay_pg_connect(w->db, err) == AY_OK) {
            ay_log_info("reconnected to the database", NULL);
            return true;
        }
        /* Stopping: keep trying for the drain time, then give up. */
        if (*w->p->o.stop && until_us == 0)
            until_us = ay_time_now_us() + (int64_t)w->p->o.drain_timeout_ms * 1000;
        if (until_us && ay_time_now_us() > until_us)
            return false;
        ay_log_debug("database still unavailable", "err", err, NULL);
        ay_time_sleep_ms(backoff);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
}

/* Receipt publish finished (Paho thread). */
static void receipt_done(void *arg, enum ay_err rc, const char *reason)
{
    (void)arg;
    if (rc != AY_OK)
        ay_log_warn("could not publish receipt; the sender will re-send", "err", reason, NULL);
}

/*
 * Workers never call Paho themselves. Paho's receive thread may be waiting
 * in recorder_pipeline_offer for room in the queue while it holds Paho's
 * own lock; a worker blocked in a Paho call on that lock would then never
 * make the room: a deadlock (stack-notes.md, "Paho"). So workers hand
 * packed receipts to this thread through a queue they never wait on.
 */
static void *sender_loop(void *arg)
{
    struct recorder_pipeline *p = arg;
    void *batch[64];
    size_t n;
    char err[AY_ERRLEN];

    while ((n = ay_queue_pop_batch(p->outq, batch, 64, 200)) > 0 || !p->sender_stop) {
        for (size_t i = 0; i < n; i++) {
            struct outgoing *o = batch[i];
            err[0] = '\0';
            if (ay_mqtt_publish(p->receipts, o->topic, o->buf, o->len, 1, false, receipt_done, NULL,
                                err) != AY_OK)
                ay_log_warn("could not publish receipt; the sender will re-send", "topic", o->topic,
                            "err", err, NULL);
            free(o->buf);
            free(o);
        }
    }
    return NULL;
}

static void send_receipt(struct recorder_pipeline *p, struct recorder_item *it)
{
    struct outgoing *o = calloc(1, sizeof(*o));
    enum ay_err rc = AY_ERR_NOMEM;

    if (o != NULL)
        rc = recorder_receipt_pack(it, p->o.service_id, ay_time_now_us(), &o->buf, &o->len,
                                   o->topic);
    if (rc == AY_OK)
        rc = ay_queue_push(p->outq, o, o->len, 0);
    if (rc == AY_OK)
        return;
    /* The message is stored; only the receipt is lost, and the re-send
     * the sender makes without it is answered with DUPLICATE. */
    if (rc != AY_ERR_NOTFOUND)
        ay_log_warn("could not queue receipt; the sender will re-send", "msg_id", it->msg_id, "err",
                    ay_strerror(rc), NULL);
    if (o)
        free(o->buf);
    free(o);
}

/* Logs and counts the outcome of one item, then sends its receipt. */
static void finish_item(struct recorder_pipeline *p, struct recorder_item *it)
{
    pthread_mutex_lock(&p->stats_lock);
    p->stored += it->outcome == RECORDER_STORED;
    p->duplicates += it->outcome == RECORDER_DUPLICATE;
    p->rejected += it->outcome == RECORDER_REJECTED;
    pthread_mutex_unlock(&p->stats_lock);
    switch (it->outcome) {
    case RECORDER_STORED:
        if (it->warning[0])
            ay_log_warn("stored despite a device clock problem", "msg_id", it->msg_id, "device",
                        it->where.device, "err", it->warning, NULL);
        ay_log_debug("stored", "msg_id", it->msg_id, "type", it->type->name, "school",
                     it->where.school, "device", it->where.device, NULL);
        break;
    case RECORDER_DUPLICATE:
        ay_log_debug("duplicate", "msg_id", it->msg_id, "device", it->where.device, NULL);
        break;
    case RECORDER_REJECTED:
        ay_log_warn("rejected message", "msg_id", it->msg_id, "topic", it->topic, "err", it->reason,
                    NULL);
        break;
    case RECORDER_PENDING:
        return;
    }
    send_receipt(p, it);
}

static void add_lost(struct recorder_pipeline *p, size_t n)
{
    pthread_mutex_lock(&p->stats_lock);
    p->lost += n;
    pthread_mutex_unlock(&p->stats_lock);
}

/* One by one, after the database refused a whole batch: find the culprit. */
static void store_singly(struct worker *w, struct recorder_item **items, size_t n)
{
    char err[AY_ERRLEN] = "";

    for (size_t i = 0; i < n; i++) {
        struct recorder_item *it = items[i];
        enum ay_err rc = recorder_store_batch(w->db, &it, 1, err);
        if (rc == AY_ERR_DB) {
            ay_log_error("database refused message, keeping it as a dead letter", "msg_id",
                         it->msg_id, "topic", it->topic, "err", err, NULL);
            recorder_reject(it, "could not be stored: %s", err);
            rc = recorder_store_dead_letter(w->db, it, err);
        }
        if (rc != AY_OK) {
            ay_log_error("could not store message; its sender will re-send it", "msg_id",
                         it->msg_id, "topic", it->topic, "err", err, NULL);
            it->outcome = RECORDER_PENDING;
            add_lost(w->p, 1);
        }
    }
}

/* Stores one batch, retrying through outages; until_us 0 = as long as not stopped. */
static void process(struct worker *w, struct recorder_item **items, size_t n, int64_t until_us)
{
    char err[AY_ERRLEN] = "";
    int64_t now = ay_time_now_us();
    bool warned = false;

    for (size_t i = 0; i < n; i++)
        recorder_decode(items[i], now);
    for (;;) {
        enum ay_err rc =
            ay_pg_is_connected(w->db) ? recorder_store_batch(w->db, items, n, err) : AY_ERR_IO;
        if (rc == AY_OK)
            break;
        if (rc == AY_ERR_DB) {
            ay_log_warn("database refused a batch, storing its messages one by one", "count",
                        n > 1 ? "many" : "1", "err", err, NULL);
            store_singly(w, items, n);
            break;
        }
        if (!warned)
            ay_log_warn("database unavailable, holding messages and reconnecting", "err",
                        err[0] ? err : "not connected", NULL);
        warned = true;
        if (!reconnect(w, until_us)) {
            ay_log_error("could not store messages before stopping; their senders will re-send",
                         "err", err, NULL);
            add_lost(w->p, n);
            for (size_t i = 0; i < n; i++)
                items[i]->outcome = RECORDER_PENDING;
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        finish_item(w->p, items[i]);
        recorder_item_free(items[i]);
    }
}

static void log_stats(struct recorder_pipeline *p, bool force)
{
    char stored[24], dups[24], rejected[24], lost[24], queued[24];
    int64_t now = ay_time_now_us();

    pthread_mutex_lock(&p->stats_lock);
    bool due = force || now >= p->next_stats_us;
    if (due)
        p->next_stats_us = now + STATS_INTERVAL_US;
    snprintf(stored, sizeof(stored), "%llu", p->stored);
    snprintf(dups, sizeof(dups), "%llu", p->duplicates);
    snprintf(rejected, sizeof(rejected), "%llu", p->rejected);
    snprintf(lost, sizeof(lost), "%llu", p->lost);
    pthread_mutex_unlock(&p->stats_lock);
    if (!due)
        return;
    snprintf(queued, sizeof(queued), "%zu", ay_queue_len(p->q));
    ay_log_info("stats", "stored", stored, "duplicates", dups, "rejected", rejected, "unstored",
                lost, "queued", queued, NULL);
}

static void *worker_loop(void *arg)
{
    struct worker *w = arg;
    struct recorder_pipeline *p = w->p;

    while (!*p->o.stop) {
        size_t n = ay_queue_pop_batch(p->q, (void **)w->batch, p->o.batch_max, 200);
        if (n > 0)
            process(w, w->batch, n, 0);
        if (w == &p->w[0])
            log_stats(p, false);
    }
    return NULL;
}

void recorder_pipeline_run(struct recorder_pipeline *p)
{
    for (size_t i = 1; i < p->o.workers; i++) {
        int e = pthread_create(&p->w[i].thread, NULL, worker_loop, &p->w[i]);
        p->w[i].started = e == 0;
        if (e != 0)
            ay_log_warn("could not start a worker thread; running with fewer", NULL);
    }
    worker_loop(&p->w[0]);
    for (size_t i = 1; i < p->o.workers; i++) {
        if (p->w[i].started)
            pthread_join(p->w[i].thread, NULL);
        p->w[i].started = false;
    }
}

size_t recorder_pipeline_drain(struct recorder_pipeline *p, int timeout_ms)
{
    int64_t until = ay_time_now_us() + (int64_t)timeout_ms * 1000;
    struct worker *w = &p->w[0];
    size_t n;

    pthread_mutex_lock(&p->stats_lock);
    unsigned long long lost_before = p->lost;
    pthread_mutex_unlock(&p->stats_lock);
    ay_queue_close(p->q);
    while ((n = ay_queue_pop_batch(p->q, (void **)w->batch, p->o.batch_max, 0)) > 0)
        process(w, w->batch, n, until);
    log_stats(p, true);
    pthread_mutex_lock(&p->stats_lock);
    size_t lost = (size_t)(p->lost - lost_before);
    pthread_mutex_unlock(&p->stats_lock);
    return lost;
}
