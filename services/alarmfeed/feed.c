/*
 * feed.c - snapshot, registry thread, the alarm path, counts; see feed.h.
 */
#include "feed.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmfeed.h"
#include "ay_backoff.h"
#include "ay_log.h"
#include "ay_outbox.h"
#include "ay_pg.h"
#include "ay_pool.h"
#include "ay_ratelimit.h"
#include "ay_service.h"
#include "ay_sync.h"
#include "ay_time.h"
#include "registry.h"
#include "store.h"

#define CHANNEL "ay_registry"
/* One load may take this long (retries of transient failures included)
 * before the thread goes back to reconnecting. */
#define LOAD_DEADLINE_MS 15000
/* Log lines per device per stats interval: refused messages, forwarded
 * alarms (a stuck button must not flood the log either). */
#define REFUSED_LOG_BURST 5
#define FORWARD_LOG_BURST 20
#define LOG_SLOTS         256

struct alarmfeed_feed {
    struct alarmfeed_feed_opts o;
    struct ay_pool *pool; /* one thread: the registry's */
    struct ay_outbox *outbox;
    struct ay_ratelimit *refused_log;
    struct ay_ratelimit *forward_log;
    bool started;

    pthread_rwlock_t lock;
    /* Guarded by lock: the current snapshot, NULL until the first load. */
    struct alarmfeed_registry *reg;

    atomic_ullong forwarded;     /* queued for the police */
    atomic_ullong refused;       /* not an alarm: not forwarded */
    atomic_ullong unknown;       /* forwarded, device unknown */
    atomic_ullong unqueued;      /* valid, but the outbox refused it */
    unsigned long long shown[6]; /* the counts last logged (main thread) */
};

enum ay_err alarmfeed_feed_new(const struct alarmfeed_feed_opts *o, struct ay_mqtt *out,
                               struct alarmfeed_feed **fp, char err[AY_ERRLEN])
{
    struct alarmfeed_feed *f = calloc(1, sizeof(*f));
    struct ay_pool_opts po = {.threads = 1,
                              .database_url = o->database_url,
                              .statement_timeout_ms = 30000,
                              .sql = alarmfeed_sql,
                              .nsql = alarmfeed_sql_count};
    struct ay_outbox_opts oo = {.qos = 1};
    int64_t window_us = (int64_t)o->stats_interval_ms * 1000;
    enum ay_err rc = AY_ERR_NOMEM;

    if (f == NULL)
        return AY_ERR_NOMEM;
    f->o = *o;
    pthread_rwlock_init(&f->lock, NULL);
    if ((rc = ay_ratelimit_new(LOG_SLOTS, window_us, REFUSED_LOG_BURST, &f->refused_log)) !=
            AY_OK ||
        (rc = ay_ratelimit_new(LOG_SLOTS, window_us, FORWARD_LOG_BURST, &f->forward_log)) !=
            AY_OK ||
        (rc = ay_pool_new(&po, &f->pool, err)) != AY_OK ||
        (rc = ay_pg_listen(ay_pool_db(f->pool, 0), CHANNEL, err)) != AY_OK ||
        (rc = ay_outbox_new(out, &oo, &f->outbox, err)) != AY_OK)
        goto fail;
    *fp = f;
    return AY_OK;
fail:
    alarmfeed_feed_free(f);
    return rc;
}

void alarmfeed_feed_free(struct alarmfeed_feed *f)
{
    if (f == NULL)
        return;
    ay_pool_free(f->pool);
    ay_outbox_free(f->outbox);
    ay_ratelimit_free(f->refused_log);
    ay_ratelimit_free(f->forward_log);
    alarmfeed_registry_free(f->reg);
    pthread_rwlock_destroy(&f->lock);
    free(f);
}

/* ---- the registry thread -------------------------------------------------- */

/* Loads a new snapshot and swaps it in; the old one is freed outside the
 * lock. Logs the outcome (once per failing episode: *failing). */
static enum ay_err reload(struct alarmfeed_feed *f, struct ay_pg *db, bool *failing)
{
    char err[AY_ERRLEN] = "";
    struct alarmfeed_load l = {.reg = NULL};
    struct ay_pg_tx_opts o = {.what = "load the registry",
                              .deadline_us = ay_mono_deadline_us(LOAD_DEADLINE_MS),
                              .stop_grace_ms = 0};
    enum ay_err rc = ay_pg_tx(db, &o, alarmfeed_store_load, &l, err);

    if (rc != AY_OK) {
        alarmfeed_registry_free(l.reg);
        if (!*failing && !ay_service_stopping()) {
            if (rc == AY_ERR_DB)
                ay_log_error("cannot load the registry; alarms go out with what the feed "
                             "knows (is the database migrated? ayctl migrate)",
                             "err", err, NULL);
            else
                ay_log_warn("could not load the registry; alarms go out with what the feed "
                            "knows",
                            "err", err, NULL);
        }
        *failing = true;
        return rc;
    }
    pthread_rwlock_wrlock(&f->lock);
    struct alarmfeed_registry *old = f->reg;
    f->reg = l.reg;
    pthread_rwlock_unlock(&f->lock);
    alarmfeed_registry_free(old);
    *failing = false;

    char s[24], d[24], w[24], k[24];
    snprintf(s, sizeof(s), "%zu", alarmfeed_registry_schools(l.reg));
    snprintf(d, sizeof(d), "%zu", alarmfeed_registry_devices(l.reg));
    snprintf(w, sizeof(w), "%zu", alarmfeed_registry_windows(l.reg));
    snprintf(k, sizeof(k), "%zu", l.skipped);
    ay_log_info("registry loaded", "schools", s, "devices", d, "test_windows", w, "skipped", k,
                NULL);
    return AY_OK;
}

/* Waits for a change of the registry (a notification), the periodic
 * reload, a lost connection or the stop. */
static void wait_for_change(struct alarmfeed_feed *f, struct ay_pg *db)
{
    char err[AY_ERRLEN] = "";
    int64_t due = ay_mono_deadline_us(f->o.reload_interval_s * 1000);
    bool got = false;

    while (!got && !ay_service_stopping()) {
        int left = ay_mono_left_ms(due);
        if (left == 0)
            return;
        if (ay_pg_wait_notify(db, left, &got, err) != AY_OK) {
            if (!ay_service_stopping())
                ay_log_warn("lost the database; alarms go out with the registry the feed has",
                            "err", err, NULL);
            return;
        }
    }
}

/*
 * The registry thread: connect (LISTEN comes with it, before the load, so
 * no change is missed between the two), load, wait for a change, load
 * again. A refused load (the schema is not what the SQL expects) forces a
 * new connection, which prepares the statements again once an operator
 * has migrated. Nothing here holds the alarm path: it only ever takes the
 * write lock to swap a pointer.
 */
static void registry_thread(void *arg, size_t index, struct ay_pg *db)
{
    struct alarmfeed_feed *f = arg;
    struct ay_backoff b;
    bool failing = false;
    bool refused = false;
    char err[AY_ERRLEN] = "";

    (void)index;
    ay_backoff_init(&b, AY_BACKOFF_DEFAULT_MIN_MS, 30000);
    while (!ay_service_stopping()) {
        if (refused || !ay_pg_is_connected(db)) {
            enum ay_err rc = ay_pg_reconnect(db, 0, err);
            if (rc == AY_ERR_TIMEOUT)
                break; /* stopping */
            refused = rc != AY_OK;
            if (refused) {
                /* warn, not error: a server going down refuses them too */
                if (!failing)
                    ay_log_warn("could not prepare the registry's statements (is the database "
                                "migrated? ayctl migrate)",
                                "err", err, NULL);
                failing = true;
                ay_service_sleep_ms(ay_backoff_next(&b));
                continue;
            }
        }
        enum ay_err rc = reload(f, db, &failing);
        if (rc != AY_OK) {
            refused = rc == AY_ERR_DB;
            ay_service_sleep_ms(ay_backoff_next(&b));
            continue;
        }
        ay_backoff_reset(&b);
        wait_for_change(f, db);
    }
}

enum ay_err alarmfeed_feed_start(struct alarmfeed_feed *f, char err[AY_ERRLEN])
{
    enum ay_err rc = ay_pool_start(f->pool, registry_thread, f, err);
    f->started = rc == AY_OK;
    return rc;
}

/* ---- the alarm path (Paho receive thread) ------------------------------------ */

static void report_refused(void *arg, const char *device, unsigned long n)
{
    char count[24];
    (void)arg;
    snprintf(count, sizeof(count), "%lu", n);
    ay_log_warn("more messages not forwarded to the police, not logged one by one", "device",
                device, "count", count, NULL);
}

static void report_forwarded(void *arg, const char *device, unsigned long n)
{
    char count[24];
    (void)arg;
    snprintf(count, sizeof(count), "%lu", n);
    ay_log_info("more alarms of this device handled, not logged one by one", "device", device,
                "count", count, NULL);
}

/* The key of a topic's sender for the rate limits: its device level, or
 * the topic itself (cut) when it has none. */
static void sender_of(const char *topic, char key[AY_RATELIMIT_KEY_MAX])
{
    struct ay_topic t;
    char err[AY_ERRLEN];

    if (ay_topic_parse(topic, &t, err) == AY_OK && t.cls == AY_TOPIC_SCHOOL)
        snprintf(key, AY_RATELIMIT_KEY_MAX, "%s", t.device);
    else
        snprintf(key, AY_RATELIMIT_KEY_MAX, "%.*s", AY_RATELIMIT_KEY_MAX - 1, topic);
}

static void refuse(struct alarmfeed_feed *f, const char *topic, int64_t now_us, const char *why)
{
    char key[AY_RATELIMIT_KEY_MAX];

    atomic_fetch_add(&f->refused, 1);
    sender_of(topic, key);
    if (ay_ratelimit_allow(f->refused_log, key, now_us, report_refused, f))
        ay_log_warn("invalid alarm, not forwarded to the police", "topic", topic, "device", key,
                    "err", why, NULL);
}

static void forwarded(struct alarmfeed_feed *f, const struct alarmfeed_msg *m,
                      const struct alarmfeed_out *o, int64_t now_us)
{
    atomic_fetch_add(&f->forwarded, 1);
    if (o->pa.device_unknown)
        atomic_fetch_add(&f->unknown, 1);
    if (!ay_ratelimit_allow(f->forward_log, m->where.device, now_us, report_forwarded, f))
        return;
    ay_log_info(m->event == ALARMFEED_ALARM ? "alarm forwarded to the police"
                                            : "alarm cancel forwarded to the police",
                "msg_id", m->id, "feed_id", o->feed_id, "school", m->where.school, "device",
                m->where.device, "test", o->pa.test ? "true" : "false", "device_unknown",
                o->pa.device_unknown ? "true" : "false", "warning",
                m->clock_warning[0] ? m->clock_warning : NULL, NULL);
}

/*
 * Queues both forms of the PoliceAlarm (docs/contract.md 4.5): protobuf on
 * the feed first, so that its twin never delays it, then the same message
 * as JSON on the feed's /json twin. Called under the registry's read lock
 * (o's strings point into the snapshot); the outbox never waits. AY_OK once
 * the protobuf copy is queued; a twin that cannot be is counted unqueued.
 */
static enum ay_err queue_both(struct alarmfeed_feed *f, const struct alarmfeed_out *o)
{
    char jtopic[AY_TOPIC_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    enum ay_err rc = alarmfeed_pack_as(o, AY_WIRE_PROTOBUF, &buf, &len);

    if (rc == AY_OK)
        rc = ay_outbox_put_take_typed(f->outbox, o->topic, AY_WIRE_CT_PROTOBUF, buf, len, NULL,
                                      NULL);
    if (rc != AY_OK) {
        free(buf); /* still ours: the outbox takes it only on AY_OK */
        return rc;
    }
    buf = NULL;
    if (ay_wire_topic(o->topic, AY_WIRE_JSON, jtopic) != AY_OK ||
        alarmfeed_pack_as(o, AY_WIRE_JSON, &buf, &len) != AY_OK ||
        ay_outbox_put_take_typed(f->outbox, jtopic, AY_WIRE_CT_JSON, buf, len, NULL, NULL) !=
            AY_OK) {
        free(buf);
        atomic_fetch_add(&f->unqueued, 1);
    }
    return AY_OK;
}

void alarmfeed_feed_offer(void *arg, const struct ay_mqtt_msg *mm)
{
    struct alarmfeed_feed *f = arg;
    int64_t now = ay_time_now_us();
    struct alarmfeed_msg m;
    struct alarmfeed_out o;
    char err[AY_ERRLEN] = "";

    if (alarmfeed_decode_as(mm->topic, mm->content_type, mm->payload, mm->len, mm->retained, now,
                            now, &m, err) != AY_OK) {
        refuse(f, mm->topic, now, err[0] ? err : "out of memory");
        return;
    }
    pthread_rwlock_rdlock(&f->lock);
    enum ay_err rc = alarmfeed_enrich(&m, f->reg, f->o.service_id, now, &o);
    if (rc == AY_OK)
        rc = queue_both(f, &o);
    pthread_rwlock_unlock(&f->lock);
    /* From here on only o's own buffers and scalars are read: its strings
     * may point into a snapshot that is gone. */
    if (rc == AY_OK) {
        forwarded(f, &m, &o, now);
    } else {
        atomic_fetch_add(&f->unqueued, 1);
        if (ay_ratelimit_allow(f->forward_log, m.where.device, now, report_forwarded, f))
            ay_log_error("could not queue an alarm for the police", "msg_id", m.id, "school",
                         m.where.school, "device", m.where.device, "err", ay_strerror(rc), NULL);
    }
    alarmfeed_msg_cleanup(&m);
}

/* ---- counts and stop ---------------------------------------------------------- */

void alarmfeed_feed_stats(struct alarmfeed_feed *f)
{
    struct ay_outbox_stats s;
    unsigned long long now[6];
    char v[6][24];

    ay_ratelimit_flush(f->refused_log, ay_time_now_us(), report_refused, f);
    ay_ratelimit_flush(f->forward_log, ay_time_now_us(), report_forwarded, f);
    ay_outbox_stats(f->outbox, &s);
    now[0] = atomic_load(&f->forwarded);
    now[1] = atomic_load(&f->unknown);
    now[2] = atomic_load(&f->refused);
    now[3] = atomic_load(&f->unqueued);
    now[4] = s.published;
    now[5] = s.failed;
    if (memcmp(now, f->shown, sizeof(now)) == 0)
        return;
    memcpy(f->shown, now, sizeof(now));
    for (int i = 0; i < 6; i++)
        snprintf(v[i], sizeof(v[i]), "%llu", now[i]);
    ay_log_info("counts", "forwarded", v[0], "device_unknown", v[1], "not_forwarded", v[2],
                "unqueued", v[3], "published", v[4], "failed", v[5], NULL);
}

size_t alarmfeed_feed_finish(struct alarmfeed_feed *f, int drain_timeout_ms)
{
    if (f->started)
        ay_pool_join(f->pool);
    f->started = false;
    size_t left = ay_outbox_close(f->outbox, drain_timeout_ms);
    alarmfeed_feed_stats(f);
    return left;
}
