/*
 * pipeline.c - queue, workers, transactions, receipts; see pipeline.h.
 */
#include "pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "ay_outbox.h"
#include "ay_pg.h"
#include "ay_pool.h"
#include "ay_queue.h"
#include "ay_ratelimit.h"
#include "ay_service.h"
#include "ay_sync.h"
#include "ay_time.h"
#include "recorder.h"
#include "store.h"

/* How long the MQTT callback waits for room in one go before looking at
 * the stop flag again. */
#define OFFER_SLICE_MS 100
/* Refused messages logged per device per stats interval; the rest are
 * counted and the count logged when the interval ends. */
#define REJECT_LOG_BURST 5
#define REJECT_LOG_SLOTS 256
/* Extra time for the receipts after the drain time. */
#define RECEIPT_GRACE_MS 2000
/* Receipts queued or unacknowledged, in batches per worker, past which the
 * workers take no more messages (bounds their memory if the broker is slow
 * to acknowledge; the intake queue then holds the broker back). */
#define RECEIPT_BATCHES_PER_WORKER 2

struct counters {
    unsigned long long stored, duplicates, rejected, unstored;
};

struct recorder_pipeline {
    struct recorder_pipeline_opts o;
    struct ay_queue *q;
    struct ay_pool *pool;
    struct ay_outbox *outbox;
    struct ay_ratelimit *reject_log;
    struct ay_tzcache *zones;
    bool started;
    /* Monotonic time the drain ends; 0 while running. */
    _Atomic int64_t drain_deadline_us;
    atomic_bool intake_warned;  /* "queue full" said once per episode */
    atomic_bool receipt_warned; /* "receipts wait" said once per episode */

    pthread_mutex_t lock;
    /* Guarded by lock. */
    struct counters n;
    int64_t next_stats_us;
};

enum ay_err recorder_pipeline_new(const struct recorder_pipeline_opts *o, struct ay_mqtt *receipts,
                                  struct recorder_pipeline **out, char err[AY_ERRLEN])
{
    struct recorder_pipeline *p = calloc(1, sizeof(*p));
    struct ay_pool_opts po = {.database_url = o->database_url,
                              .statement_timeout_ms = 30000,
                              .sql = recorder_sql,
                              .nsql = recorder_sql_count};
    struct ay_outbox_opts oo = {.qos = 1};
    enum ay_err rc = AY_ERR_NOMEM;

    if (p == NULL)
        return AY_ERR_NOMEM;
    p->o = *o;
    if (p->o.workers == 0)
        p->o.workers = 1;
    po.threads = p->o.workers; /* 0 in the options: one */
    pthread_mutex_init(&p->lock, NULL);
    p->next_stats_us = ay_mono_deadline_us(o->stats_interval_ms);
    if ((rc = ay_queue_new(o->queue_max_items, o->queue_max_bytes, &p->q)) != AY_OK ||
        (rc = ay_ratelimit_new(REJECT_LOG_SLOTS, (int64_t)o->stats_interval_ms * 1000,
                               REJECT_LOG_BURST, &p->reject_log)) != AY_OK ||
        (rc = ay_tzcache_new(&p->zones)) != AY_OK ||
        (rc = ay_pool_new(&po, &p->pool, err)) != AY_OK ||
        (rc = ay_outbox_new(receipts, &oo, &p->outbox, err)) != AY_OK)
        goto fail;
    *out = p;
    return AY_OK;
fail:
    recorder_pipeline_free(p);
    return rc;
}

enum ay_err recorder_pipeline_connect(struct recorder_pipeline *p, char err[AY_ERRLEN])
{
    return ay_pool_connect(p->pool, err);
}

struct ay_pg *recorder_pipeline_db(struct recorder_pipeline *p)
{
    return ay_pool_db(p->pool, 0);
}

void recorder_pipeline_free(struct recorder_pipeline *p)
{
    void *left[64];
    size_t n;

    if (p == NULL)
        return;
    ay_pool_free(p->pool);
    ay_outbox_free(p->outbox);
    if (p->q) {
        ay_queue_close(p->q);
        while ((n = ay_queue_pop_batch(p->q, left, 64, 0)) > 0)
            for (size_t i = 0; i < n; i++)
                recorder_item_free(left[i]);
        ay_queue_free(p->q);
    }
    ay_ratelimit_free(p->reject_log);
    ay_tzcache_free(p->zones);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static void count_unstored(struct recorder_pipeline *p, size_t k)
{
    pthread_mutex_lock(&p->lock);
    p->n.unstored += k;
    pthread_mutex_unlock(&p->lock);
}

/* ---- intake (Paho receive thread) ------------------------------------------ */

void recorder_pipeline_offer(void *arg, const struct ay_mqtt_msg *m)
{
    struct recorder_pipeline *p = arg;
    struct recorder_item *it =
        recorder_item_new(m->topic, m->payload, m->len, ay_time_now_us(), m->retained);

    if (it != NULL && recorder_item_set_content_type(it, m->content_type) != AY_OK) {
        recorder_item_free(it);
        it = NULL;
    }
    if (it == NULL) {
        /* The broker already has our ack; the sender re-sends without receipt. */
        ay_log_error("cannot queue message: out of memory", "topic", m->topic, NULL);
        count_unstored(p, 1);
        return;
    }
    for (;;) {
        enum ay_err rc =
            ay_queue_push(p->q, it, m->len + strlen(m->topic) + sizeof(*it), OFFER_SLICE_MS);
        if (rc == AY_OK) {
            atomic_store(&p->intake_warned, false);
            return;
        }
        /* Stopping: never hold Paho's thread (and its lock) any longer; what
         * the broker already handed us is re-sent by its sender. */
        if (rc == AY_ERR_CLOSED || ay_service_stopping()) {
            recorder_item_free(it);
            count_unstored(p, 1);
            return;
        }
        if (!atomic_exchange(&p->intake_warned, true))
            ay_log_warn("queue full, holding the broker back", "topic", m->topic, NULL);
    }
}

/* ---- receipts and logs -------------------------------------------------------- */

static void send_receipt(struct recorder_pipeline *p, struct recorder_item *it)
{
    char topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    enum ay_err rc =
        recorder_receipt_pack(it, p->o.service_id, ay_time_now_us(), &buf, &len, topic);

    /* In the form the sender used, saying so (docs/contract.md 4.5). */
    if (rc == AY_OK)
        rc = ay_outbox_put_take_typed(p->outbox, topic, ay_wire_content_type(it->wire), buf, len,
                                      NULL, NULL);
    if (rc == AY_OK || rc == AY_ERR_NOTFOUND)
        return;
    /* The message is stored; only the receipt is lost, and the re-send the
     * sender makes without it is answered with DUPLICATE. */
    free(buf);
    ay_log_warn("could not queue receipt; the sender will re-send", "msg_id", it->msg_id, "device",
                it->where.device, "err", ay_strerror(rc), NULL);
}

/* A device's refusals that were not logged (rate limit). */
static void report_suppressed(void *arg, const char *device, unsigned long n)
{
    char count[24];
    (void)arg;
    snprintf(count, sizeof(count), "%lu", n);
    ay_log_warn("more rejected messages, not logged one by one", "device", device, "count", count,
                NULL);
}

/* The one place an item's outcome is counted and logged. */
static void finish_item(struct recorder_pipeline *p, struct recorder_item *it)
{
    const char *device = it->topic_ok ? it->where.device : "";
    const char *school = it->topic_ok ? it->where.school : "";

    pthread_mutex_lock(&p->lock);
    p->n.stored += it->outcome == RECORDER_STORED;
    p->n.duplicates += it->outcome == RECORDER_DUPLICATE;
    p->n.rejected += it->outcome == RECORDER_REJECTED;
    pthread_mutex_unlock(&p->lock);
    switch (it->outcome) {
    case RECORDER_STORED:
        if (it->warning[0])
            ay_log_warn("stored with a warning", "msg_id", it->msg_id, "school", school, "device",
                        device, "err", it->warning, NULL);
        else
            ay_log_debug("stored", "msg_id", it->msg_id, "type", it->type->name, "school", school,
                         "device", device, NULL);
        break;
    case RECORDER_DUPLICATE:
        ay_log_debug("duplicate", "msg_id", it->msg_id, "school", school, "device", device, NULL);
        break;
    case RECORDER_REJECTED:
        if (ay_ratelimit_allow(p->reject_log, device[0] ? device : it->topic, ay_mono_us(),
                               report_suppressed, p))
            ay_log_warn("rejected message", "msg_id", it->msg_id, "school", school, "device",
                        device, "topic", it->topic, "err", it->reason, NULL);
        break;
    case RECORDER_PENDING:
        return;
    }
    send_receipt(p, it);
}

static void log_stats(struct recorder_pipeline *p, const char *msg)
{
    char stored[24], dups[24], rejected[24], unstored[24], queued[24], receipts[24];
    struct ay_outbox_stats ob;

    pthread_mutex_lock(&p->lock);
    struct counters c = p->n;
    pthread_mutex_unlock(&p->lock);
    ay_outbox_stats(p->outbox, &ob);
    snprintf(stored, sizeof(stored), "%llu", c.stored);
    snprintf(dups, sizeof(dups), "%llu", c.duplicates);
    snprintf(rejected, sizeof(rejected), "%llu", c.rejected);
    snprintf(unstored, sizeof(unstored), "%llu", c.unstored);
    snprintf(queued, sizeof(queued), "%zu", ay_queue_len(p->q));
    snprintf(receipts, sizeof(receipts), "%zu", ob.queued + ob.inflight);
    ay_log_info(msg, "stored", stored, "duplicates", dups, "rejected", rejected, "unstored",
                unstored, "queued", queued, "receipts_queued", receipts, NULL);
}

/* Worker 0, now and then: the stats line and the rate limiter's counts. */
static void maybe_stats(struct recorder_pipeline *p)
{
    int64_t now = ay_mono_us();
    pthread_mutex_lock(&p->lock);
    bool due = now >= p->next_stats_us;
    if (due)
        p->next_stats_us = now + (int64_t)p->o.stats_interval_ms * 1000;
    pthread_mutex_unlock(&p->lock);
    if (!due)
        return;
    log_stats(p, "stats");
    ay_ratelimit_flush(p->reject_log, now, report_suppressed, p);
}

/* ---- storing -------------------------------------------------------------- */

static struct ay_pg_tx_opts tx_opts(struct recorder_pipeline *p, const char *what)
{
    struct ay_pg_tx_opts o = {.what = what,
                              .deadline_us = atomic_load(&p->drain_deadline_us),
                              .stop_grace_ms = p->o.drain_timeout_ms};
    return o;
}

/* The database refused the batch for good: find the message it refuses. */
static enum ay_err store_singly(struct recorder_pipeline *p, struct ay_pg *db,
                                struct recorder_item **items, size_t n)
{
    char err[AY_ERRLEN] = "";

    for (size_t i = 0; i < n; i++) {
        struct recorder_item *it = items[i];
        struct recorder_batch one = {&items[i], 1, p->o.dead_letter_cap, p->zones};
        struct ay_pg_tx_opts o = tx_opts(p, "store message");
        enum ay_err rc = ay_pg_tx(db, &o, recorder_store_batch, &one, err);
        if (rc == AY_ERR_DB || rc == AY_ERR_INVALID) {
            /* Logged once, as this message's rejection (finish_item). */
            recorder_reject(it, "could not be stored: %s", err);
            it->decoded = RECORDER_REJECTED;
            rc = ay_pg_tx(db, &o, recorder_store_dead_letters, &one, err);
        }
        if (rc != AY_OK) {
            for (size_t j = i; j < n; j++)
                items[j]->outcome = RECORDER_PENDING;
            return rc;
        }
    }
    return AY_OK;
}

/* Stores one batch: every item ends STORED, DUPLICATE or REJECTED, or
 * PENDING (not stored: the database stayed away past the drain time). */
static void process(struct recorder_pipeline *p, struct ay_pg *db, struct recorder_item **items,
                    size_t n)
{
    char err[AY_ERRLEN] = "";
    struct recorder_batch b = {items, n, p->o.dead_letter_cap, p->zones};
    int64_t now = ay_time_now_us();
    size_t left = 0;

    for (size_t i = 0; i < n; i++)
        recorder_decode(items[i], now);
    struct ay_pg_tx_opts o = tx_opts(p, "store batch");
    enum ay_err rc = ay_pg_tx(db, &o, recorder_store_batch, &b, err);
    if (rc == AY_ERR_DB || rc == AY_ERR_INVALID) {
        char count[24];
        snprintf(count, sizeof(count), "%zu", n);
        ay_log_warn("database refused a batch, storing its messages one by one", "count", count,
                    "err", err, NULL);
        rc = store_singly(p, db, items, n);
    } else if (rc != AY_OK) {
        for (size_t i = 0; i < n; i++)
            items[i]->outcome = RECORDER_PENDING; /* rolled back */
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i]->outcome == RECORDER_PENDING)
            left++;
        else
            finish_item(p, items[i]);
        recorder_item_free(items[i]);
    }
    if (left > 0) {
        char count[24];
        snprintf(count, sizeof(count), "%zu", left);
        ay_log_error("could not store messages before stopping; their senders will re-send",
                     "count", count, "err", err, NULL);
        count_unstored(p, left);
    }
}

/* Waits while too many receipts are not acknowledged yet; not once the
 * drain began (what is queued is stored in time; receipts go as they can). */
static void wait_for_receipts(struct recorder_pipeline *p)
{
    size_t most = RECEIPT_BATCHES_PER_WORKER * p->o.workers * p->o.batch_max;

    while (!ay_outbox_wait_below(p->outbox, most, ay_mono_deadline_us(OFFER_SLICE_MS))) {
        if (atomic_load(&p->drain_deadline_us) != 0)
            return;
        if (!atomic_exchange(&p->receipt_warned, true))
            ay_log_warn("receipts are not acknowledged by the broker, holding the intake back",
                        NULL);
    }
    atomic_store(&p->receipt_warned, false);
}

static void worker(void *arg, size_t index, struct ay_pg *db)
{
    struct recorder_pipeline *p = arg;
    struct recorder_item **batch = calloc(p->o.batch_max, sizeof(*batch));

    if (batch == NULL) {
        ay_log_error("cannot start a worker: out of memory", NULL);
        return;
    }
    for (;;) {
        wait_for_receipts(p);
        size_t n = ay_queue_pop_batch(p->q, (void **)batch, p->o.batch_max, 200);
        if (n > 0)
            process(p, db, batch, n);
        else if (ay_queue_is_drained(p->q))
            break;
        if (index == 0)
            maybe_stats(p);
    }
    free(batch);
}

enum ay_err recorder_pipeline_start(struct recorder_pipeline *p, char err[AY_ERRLEN])
{
    enum ay_err rc = ay_pool_start(p->pool, worker, p, err);
    p->started = rc == AY_OK;
    return rc;
}

/* ---- stop ------------------------------------------------------------------- */

void recorder_pipeline_begin_stop(struct recorder_pipeline *p)
{
    int64_t zero = 0;
    atomic_compare_exchange_strong(&p->drain_deadline_us, &zero,
                                   ay_mono_deadline_us(p->o.drain_timeout_ms));
}

size_t recorder_pipeline_finish(struct recorder_pipeline *p)
{
    recorder_pipeline_begin_stop(p);
    ay_queue_close(p->q);
    if (p->started)
        ay_pool_join(p->pool);
    p->started = false;
    /* Never started, or gave up: what is left in the queue was not stored. */
    void *left[64];
    size_t k;
    while ((k = ay_queue_pop_batch(p->q, left, 64, 0)) > 0) {
        for (size_t i = 0; i < k; i++)
            recorder_item_free(left[i]);
        count_unstored(p, k);
    }
    int ms = ay_mono_left_ms(atomic_load(&p->drain_deadline_us)) + RECEIPT_GRACE_MS;
    size_t unsent = ay_outbox_close(p->outbox, ms);
    if (unsent > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", unsent);
        ay_log_warn("receipts not sent before stopping; their senders will re-send and get "
                    "DUPLICATE",
                    "count", n, NULL);
    }
    ay_ratelimit_flush(p->reject_log, INT64_MAX / 2, report_suppressed, p);
    log_stats(p, "final counts");
    pthread_mutex_lock(&p->lock);
    size_t unstored = (size_t)p->n.unstored;
    pthread_mutex_unlock(&p->lock);
    return unstored;
}
