/*
 * engine.c - timers, sender and acks workers; see engine.h.
 */
#include "engine.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "ay_outbox.h"
#include "ay_pg.h"
#include "ay_pool.h"
#include "ay_queue.h"
#include "ay_service.h"
#include "ay_sync.h"
#include "ay_time.h"
#include "ay_tzcache.h"
#include "store.h"
#include "watchdog.h"

#define CHANNEL        "ay_timers"        /* a timer was created or moved earlier */
#define NOTES_CHANNEL  "ay_notifications" /* a notification to send */
#define ACK_BATCH_MAX  100
#define SENDER_WAIT_MS 200
#define DONE_QUEUE_MAX 100000

enum { W_TIMERS, W_SENDER, W_ACKS, W_COUNT };

/* A notification's outcome, from Paho's thread to the sender: it counts
 * as sent once both its publishes (protobuf and the JSON twin) are. */
struct done {
    struct watchdog_engine *e;
    char id[AY_UUID_STRLEN];
    bool ok;
    atomic_int left; /* publishes not finished yet */
    atomic_bool failed;
};

struct watchdog_engine {
    struct watchdog_engine_opts o;
    struct ay_pool *pool;
    struct ay_outbox *outbox;
    struct ay_queue *acks;  /* struct watchdog_ack *, from the MQTT callback */
    struct ay_queue *dones; /* struct done *, from Paho's thread */
    struct ay_tzcache *zones;
    bool started;
};

enum ay_err watchdog_engine_new(const struct watchdog_engine_opts *o, struct ay_mqtt *out,
                                struct watchdog_engine **ep, char err[AY_ERRLEN])
{
    struct watchdog_engine *e = calloc(1, sizeof(*e));
    struct ay_pool_opts po = {.threads = W_COUNT,
                              .database_url = o->database_url,
                              .statement_timeout_ms = 30000,
                              .sql = watchdog_sql,
                              .nsql = watchdog_sql_count};
    struct ay_outbox_opts oo = {.qos = 1};
    enum ay_err rc = AY_ERR_NOMEM;

    if (e == NULL)
        return AY_ERR_NOMEM;
    e->o = *o;
    if ((rc = ay_queue_new(o->ack_queue_max, 64u << 20, &e->acks)) != AY_OK ||
        (rc = ay_queue_new(DONE_QUEUE_MAX, 64u << 20, &e->dones)) != AY_OK ||
        (rc = ay_tzcache_new(&e->zones)) != AY_OK ||
        (rc = ay_pool_new(&po, &e->pool, err)) != AY_OK ||
        (rc = ay_pg_listen(ay_pool_db(e->pool, W_TIMERS), CHANNEL, err)) != AY_OK ||
        (rc = ay_pg_listen(ay_pool_db(e->pool, W_SENDER), NOTES_CHANNEL, err)) != AY_OK ||
        (rc = ay_outbox_new(out, &oo, &e->outbox, err)) != AY_OK)
        goto fail;
    *ep = e;
    return AY_OK;
fail:
    watchdog_engine_free(e);
    return rc;
}

enum ay_err watchdog_engine_connect(struct watchdog_engine *e, char err[AY_ERRLEN])
{
    return ay_pool_connect(e->pool, err);
}

struct ay_pg *watchdog_engine_db(struct watchdog_engine *e)
{
    return ay_pool_db(e->pool, W_TIMERS);
}

void watchdog_engine_free(struct watchdog_engine *e)
{
    void *left[64];
    size_t n;

    if (e == NULL)
        return;
    ay_pool_free(e->pool);
    ay_outbox_free(e->outbox);
    if (e->acks) {
        ay_queue_close(e->acks);
        while ((n = ay_queue_pop_batch(e->acks, left, 64, 0)) > 0)
            for (size_t i = 0; i < n; i++)
                watchdog_ack_free(left[i]);
        ay_queue_free(e->acks);
    }
    if (e->dones) {
        ay_queue_close(e->dones);
        while ((n = ay_queue_pop_batch(e->dones, left, 64, 0)) > 0)
            for (size_t i = 0; i < n; i++)
                free(left[i]);
        ay_queue_free(e->dones);
    }
    ay_tzcache_free(e->zones);
    free(e);
}

static struct ay_pg_tx_opts tx_opts(const struct watchdog_engine *e, const char *what)
{
    struct ay_pg_tx_opts o = {.what = what, .stop_grace_ms = e->o.drain_timeout_ms};
    return o;
}

/* ---- timers ------------------------------------------------------------- */

static void log_fired(const struct watchdog_fire *f, const char *what)
{
    char n[24], late[24], esc[24];
    int64_t max = 0;
    for (size_t i = 0; i < f->fired; i++) {
        if (f->lateness_us[i] > max)
            max = f->lateness_us[i];
        snprintf(late, sizeof(late), "%.1f", (double)f->lateness_us[i] / 1000.0);
        ay_log_info(f->event, "district", f->who[i].district, "school", f->who[i].school,
                    f->who[i].kind, f->who[i].id, "lateness_ms", late, NULL);
    }
    snprintf(n, sizeof(n), "%zu", f->fired);
    snprintf(late, sizeof(late), "%.1f", (double)max / 1000.0);
    snprintf(esc, sizeof(esc), "%zu", f->escalated);
    ay_log_info(what, "count", n, "escalations", esc, "max_lateness_ms", late, NULL);
}

/* Fires one kind of timer (due deadlines, silent devices) until none is
 * due; true if it did anything. */
static bool fire_kind(struct watchdog_engine *e, struct ay_pg *db, ay_pg_tx_fn *fn,
                      const char *what, const char *done)
{
    char err[AY_ERRLEN] = "";
    bool did = false;

    for (;;) {
        struct watchdog_fire f = {.zones = e->zones, .actor = "watchdog"};
        struct ay_pg_tx_opts o = tx_opts(e, what);
        if (ay_pg_tx(db, &o, fn, &f, err) != AY_OK) {
            ay_log_error("could not act on due timers; will try again", "what", what, "err", err,
                         NULL);
            return did;
        }
        if (f.fired == 0)
            return did;
        did = true;
        log_fired(&f, done);
        if (f.fired < WATCHDOG_CLAIM_MAX || ay_service_stopping())
            return did;
    }
}

/* Fires everything due now; true if it did anything. */
static bool fire_due(struct watchdog_engine *e, struct ay_pg *db)
{
    char err[AY_ERRLEN] = "";
    bool did =
        fire_kind(e, db, watchdog_store_fire_deadlines, "fire deadlines", "deadlines missed");
    did = fire_kind(e, db, watchdog_store_fire_silent, "flag silent devices",
                    "devices silent, flagged offline") ||
          did;
    for (;;) {
        struct watchdog_timers t = {.actor = "watchdog"};
        struct ay_pg_tx_opts o = tx_opts(e, "escalation timers");
        enum ay_err rc = ay_pg_tx(db, &o, watchdog_store_fire_escalations, &t, err);
        if (rc != AY_OK) {
            ay_log_error("could not act on escalation timers; will try again", "err", err, NULL);
            return did;
        }
        if (t.acted == 0)
            break;
        did = true;
        if (t.notified > 0) {
            char n[24];
            snprintf(n, sizeof(n), "%zu", t.notified);
            ay_log_info("escalations notified again", "count", n, NULL);
        }
        if (t.acted < WATCHDOG_CLAIM_MAX || ay_service_stopping())
            break;
    }
    return did;
}

/* The periodic reports owed now, scheduled (at start and every
 * schedule_ms); true if it did anything. */
static bool schedule_reports(struct watchdog_engine *e, struct ay_pg *db, int64_t *next_mono_us)
{
    char err[AY_ERRLEN] = "";
    struct watchdog_schedule w = {.zones = e->zones, .lookback_s = e->o.report_lookback_s};
    struct ay_pg_tx_opts o = tx_opts(e, "schedule periodic reports");

    if (ay_mono_us() < *next_mono_us)
        return false;
    if (ay_pg_tx(db, &o, watchdog_store_schedule, &w, err) != AY_OK) {
        ay_log_error("could not schedule the periodic reports; will try again", "err", err, NULL);
        *next_mono_us = ay_mono_us() + 5 * 1000000LL;
        return false;
    }
    *next_mono_us = ay_mono_us() + e->o.schedule_ms * 1000;
    if (w.scheduled > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", w.scheduled);
        ay_log_info("periodic reports scheduled", "count", n, NULL);
    }
    return w.scheduled > 0;
}

static void timers_loop(struct watchdog_engine *e, struct ay_pg *db)
{
    char err[AY_ERRLEN] = "";
    int64_t next_schedule = 0;

    while (!ay_service_stopping()) {
        if (schedule_reports(e, db, &next_schedule) || fire_due(e, db))
            continue;
        int64_t ms = 0;
        bool none = true;
        int wait = e->o.sweep_ms;
        int64_t to_schedule_ms = (next_schedule - ay_mono_us()) / 1000 + 1;
        if (to_schedule_ms < wait)
            wait = to_schedule_ms < 1 ? 1 : (int)to_schedule_ms;
        enum ay_err rc = watchdog_store_next_due(db, &ms, &none, err);
        if (rc == AY_OK && !none && ms < wait)
            wait = ms < 0 ? 0 : (int)ms;
        bool got = false;
        if (rc == AY_OK && wait > 0)
            rc = ay_pg_wait_notify(db, wait, &got, err);
        if (rc != AY_OK && !ay_service_stopping() && ay_pg_reconnect(db, 0, err) != AY_OK)
            break;
    }
}

/* ---- sender --------------------------------------------------------------- */

/* Paho thread (or the sender, for a publish the outbox refused): one of a
 * notification's publishes finished. */
static void on_sent(void *arg, enum ay_err rc, const char *reason)
{
    struct done *d = arg;
    (void)reason;
    if (rc != AY_OK)
        atomic_store(&d->failed, true);
    if (atomic_fetch_sub(&d->left, 1) != 1)
        return;
    d->ok = !atomic_load(&d->failed);
    if (ay_queue_push(d->e->dones, d, sizeof(*d), 0) != AY_OK)
        free(d); /* its lease expires: published again, same id */
}

/* Marks what the broker acknowledged; releases what failed. How many
 * publishes it recorded (waiting up to wait_ms for the first). */
static size_t record_dones(struct watchdog_engine *e, struct ay_pg *db, int wait_ms)
{
    char err[AY_ERRLEN] = "";
    void *batch[WATCHDOG_CLAIM_MAX];
    const char *ok[WATCHDOG_CLAIM_MAX];
    const char *failed[WATCHDOG_CLAIM_MAX];
    size_t n = ay_queue_pop_batch(e->dones, batch, WATCHDOG_CLAIM_MAX, wait_ms);
    struct watchdog_sent s = {.actor = "watchdog", .ok_ids = ok, .failed_ids = failed};

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        struct done *d = batch[i];
        if (d->ok)
            ok[s.nok++] = d->id;
        else
            failed[s.nfailed++] = d->id;
    }
    struct ay_pg_tx_opts o = tx_opts(e, "record sent notifications");
    if (ay_pg_tx(db, &o, watchdog_store_sent, &s, err) != AY_OK)
        ay_log_warn("could not record sent notifications; they will be sent again", "err", err,
                    NULL);
    for (size_t i = 0; i < n; i++)
        free(batch[i]);
    return n;
}

/*
 * Hands a notification to the outbox in both forms (docs/contract.md 4.5):
 * protobuf on ay/v1/{d}/escalation/{audience}, the same message as JSON on
 * its /json twin, each with its content type. AY_OK: d is the callbacks'
 * (a refused twin counts as a failed publish: the notification is sent
 * again, both forms, same id). Otherwise nothing was queued.
 */
static enum ay_err publish_note(struct watchdog_engine *e, const struct watchdog_note *note,
                                struct done *d)
{
    char topic[AY_TOPIC_MAX], jtopic[AY_TOPIC_MAX];
    uint8_t *buf = NULL, *jbuf = NULL;
    size_t len = 0, jlen = 0;
    int64_t now = ay_time_now_us();
    enum ay_err rc = watchdog_escalation_pack_as(note, e->o.service_id, now, AY_WIRE_PROTOBUF, &buf,
                                                 &len, topic);

    if (rc == AY_OK)
        rc = watchdog_escalation_pack_as(note, e->o.service_id, now, AY_WIRE_JSON, &jbuf, &jlen,
                                         jtopic);
    if (rc == AY_OK) {
        d->e = e;
        snprintf(d->id, sizeof(d->id), "%s", note->id);
        atomic_init(&d->left, 2);
        atomic_init(&d->failed, false);
        rc = ay_outbox_put_take_typed(e->outbox, topic, AY_WIRE_CT_PROTOBUF, buf, len, on_sent, d);
    }
    if (rc != AY_OK) {
        free(buf);
        free(jbuf);
        return rc;
    }
    enum ay_err jrc =
        ay_outbox_put_take_typed(e->outbox, jtopic, AY_WIRE_CT_JSON, jbuf, jlen, on_sent, d);
    if (jrc != AY_OK) {
        free(jbuf);
        on_sent(d, jrc, "the JSON twin was not queued");
    }
    return AY_OK;
}

/* Hands the claimed notifications to the outbox; how many it took. */
static size_t publish_notes(struct watchdog_engine *e, const struct watchdog_note *notes, size_t n)
{
    size_t taken = 0;
    for (size_t i = 0; i < n; i++) {
        struct done *d = calloc(1, sizeof(*d));
        enum ay_err rc = d ? publish_note(e, &notes[i], d) : AY_ERR_NOMEM;
        if (rc == AY_OK) {
            ay_log_info("publishing escalation", "notification", notes[i].id, "escalation",
                        notes[i].escalation_id, "school", notes[i].school, "audience",
                        ay_audience_word(notes[i].audience), "target", notes[i].target, NULL);
            taken++;
            continue;
        }
        free(d);
        ay_log_warn("could not publish an escalation; it will be sent again", "notification",
                    notes[i].id, "err", ay_strerror(rc), NULL);
    }
    return taken;
}

static void sender_loop(struct watchdog_engine *e, struct ay_pg *db)
{
    char err[AY_ERRLEN] = "";
    struct watchdog_note *notes = calloc(WATCHDOG_CLAIM_MAX, sizeof(*notes));

    if (notes == NULL) {
        ay_log_error("cannot start the sender: out of memory", NULL);
        return;
    }
    while (!ay_service_stopping()) {
        struct watchdog_claim c = {.lease_s = e->o.lease_s, .notes = notes};
        struct ay_pg_tx_opts o = tx_opts(e, "claim notifications");
        if (ay_pg_tx(db, &o, watchdog_store_claim_notes, &c, err) != AY_OK) {
            ay_log_error("could not claim notifications; will try again", "err", err, NULL);
            c.n = 0;
        }
        /* Record each publish as soon as the broker has it (bench/watchdog:
         * waiting on the database instead left "sent" up to 200 ms behind,
         * widening the window in which an ack cancels what was delivered).
         * A publish whose result never comes keeps its lease: sent again. */
        size_t inflight = publish_notes(e, notes, c.n);
        while (inflight > 0 && !ay_service_stopping()) {
            size_t got = record_dones(e, db, SENDER_WAIT_MS);
            if (got == 0 || got >= inflight)
                break;
            inflight -= got;
        }
        record_dones(e, db, 0);
        if (c.n == WATCHDOG_CLAIM_MAX)
            continue;
        bool got = false;
        if (ay_pg_wait_notify(db, SENDER_WAIT_MS, &got, err) != AY_OK && !ay_service_stopping() &&
            ay_pg_reconnect(db, 0, err) != AY_OK)
            break;
    }
    free(notes);
}

/* ---- acknowledgements ------------------------------------------------------- */

void watchdog_engine_offer(void *arg, const struct ay_mqtt_msg *m)
{
    struct watchdog_engine *e = arg;
    struct watchdog_ack *a =
        watchdog_ack_new(m->topic, m->payload, m->len, ay_time_now_us(), m->retained);

    if (a != NULL && watchdog_ack_set_content_type(a, m->content_type) != AY_OK) {
        watchdog_ack_free(a);
        a = NULL;
    }
    if (a == NULL) {
        ay_log_error("cannot queue an acknowledgement: out of memory", "topic", m->topic, NULL);
        return;
    }
    for (;;) {
        enum ay_err rc = ay_queue_push(e->acks, a, m->len + sizeof(*a), 100);
        if (rc == AY_OK)
            return;
        if (rc == AY_ERR_CLOSED || ay_service_stopping()) {
            ay_log_warn("acknowledgement arrived while stopping; its sender will re-send it",
                        "topic", m->topic, NULL);
            watchdog_ack_free(a);
            return;
        }
    }
}

static void answer(struct watchdog_engine *e, struct watchdog_ack *a)
{
    char topic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *account = a->topic_ok ? a->where.device : "";

    switch (a->outcome) {
    case WATCHDOG_ACK_STORED:
        ay_log_info("acknowledgement applied", "msg_id", a->msg_id, "escalation",
                    a->msg->escalation_id, "account", account, NULL);
        break;
    case WATCHDOG_ACK_DUPLICATE:
        ay_log_debug("acknowledgement re-sent", "msg_id", a->msg_id, "account", account, NULL);
        break;
    default:
        ay_log_warn("rejected acknowledgement", "msg_id", a->msg_id, "account", account, "topic",
                    a->topic, "err", a->reason, NULL);
        break;
    }
    /* In the form the ack came in, saying so (docs/contract.md 4.5). */
    if (watchdog_ack_receipt_pack(a, e->o.service_id, ay_time_now_us(), &buf, &len, topic) ==
            AY_OK &&
        ay_outbox_put_take_typed(e->outbox, topic, ay_wire_content_type(a->wire), buf, len, NULL,
                                 NULL) != AY_OK)
        free(buf);
}

static void acks_loop(struct watchdog_engine *e, struct ay_pg *db)
{
    char err[AY_ERRLEN] = "";
    struct watchdog_ack *batch[ACK_BATCH_MAX];

    for (;;) {
        size_t n = ay_queue_pop_batch(e->acks, (void **)batch, ACK_BATCH_MAX, 200);
        if (n == 0) {
            if (ay_queue_is_drained(e->acks))
                break;
            continue;
        }
        int64_t now = ay_time_now_us();
        for (size_t i = 0; i < n; i++)
            watchdog_ack_decode(batch[i], now);
        struct watchdog_acks b = {batch, n, e->o.dead_letter_cap};
        struct ay_pg_tx_opts o = tx_opts(e, "apply acknowledgements");
        enum ay_err rc = ay_pg_tx(db, &o, watchdog_store_acks, &b, err);
        for (size_t i = 0; i < n; i++) {
            if (rc == AY_OK)
                answer(e, batch[i]);
            watchdog_ack_free(batch[i]);
        }
        if (rc != AY_OK) {
            char count[24];
            snprintf(count, sizeof(count), "%zu", n);
            ay_log_error("could not store acknowledgements; their senders will re-send", "count",
                         count, "err", err, NULL);
        }
    }
}

/* ---- assembly --------------------------------------------------------------- */

static void worker(void *arg, size_t index, struct ay_pg *db)
{
    struct watchdog_engine *e = arg;
    switch (index) {
    case W_TIMERS:
        timers_loop(e, db);
        break;
    case W_SENDER:
        sender_loop(e, db);
        break;
    default:
        acks_loop(e, db);
        break;
    }
}

enum ay_err watchdog_engine_start(struct watchdog_engine *e, char err[AY_ERRLEN])
{
    enum ay_err rc = ay_pool_start(e->pool, worker, e, err);
    e->started = rc == AY_OK;
    return rc;
}

void watchdog_engine_finish(struct watchdog_engine *e)
{
    ay_queue_close(e->acks);
    if (e->started)
        ay_pool_join(e->pool);
    e->started = false;
    size_t unsent = ay_outbox_close(e->outbox, e->o.drain_timeout_ms);
    if (unsent > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", unsent);
        ay_log_warn("messages not published before stopping; notifications are sent again at "
                    "the next start",
                    "count", n, NULL);
    }
}
