/*
 * ay_outbox.c - a FIFO under one mutex, one publishing thread, and a count
 * of publishes in flight; see ay_outbox.h.
 *
 * In-flight accounting survives reconnects: a publish carries the client's
 * connection generation, and when the generation changes the count starts
 * again from 0 (completions of the old connection's publishes, if Paho ever
 * reports them, no longer count), so a lost acknowledgement can never
 * shrink the window for good.
 */
#include "ay_outbox.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "ay_sync.h"

#define DEFAULT_MAX_ITEMS 100000
#define DEFAULT_MAX_BYTES (64u << 20)
/* How often the thread looks again without being woken (a reconnect
 * changes the generation without waking it). */
#define IDLE_WAKE_MS 200

struct item {
    struct item *next;
    char *topic;
    char *content_type; /* NULL: none */
    void *payload;
    size_t len;
    ay_mqtt_done_fn *done; /* the producer's, may be NULL */
    void *done_arg;
};

/* What Paho hands back to on_done: the outbox, the generation and the
 * producer's callback. */
struct ticket {
    struct ay_outbox *ob;
    unsigned generation;
    ay_mqtt_done_fn *done;
    void *done_arg;
};

struct ay_outbox {
    struct ay_mqtt *c;
    struct ay_outbox_opts o;
    pthread_t thread;
    bool started;

    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t room; /* an acknowledgement or the close: ay_outbox_wait_below */
    /* Guarded by lock. */
    struct item *head, *tail;
    size_t nitems, nbytes;
    unsigned inflight;
    unsigned generation;
    bool closing; /* no more puts; the thread returns once done or late */
    unsigned long long published, failed;
    int64_t close_deadline_us;
};

static void item_free(struct item *it)
{
    if (it == NULL)
        return;
    free(it->topic);
    free(it->content_type);
    free(it->payload);
    free(it);
}

/* Paho thread: a publish finished. */
static void on_done(void *arg, enum ay_err rc, const char *reason)
{
    struct ticket *t = arg;
    struct ay_outbox *ob = t->ob;

    pthread_mutex_lock(&ob->lock);
    if (t->generation == ob->generation && ob->inflight > 0)
        ob->inflight--;
    if (rc == AY_OK)
        ob->published++;
    else
        ob->failed++;
    pthread_cond_signal(&ob->wake);
    pthread_cond_broadcast(&ob->room);
    pthread_mutex_unlock(&ob->lock);
    if (rc != AY_OK)
        ay_log_warn("could not publish", "err", reason, NULL);
    if (t->done)
        t->done(t->done_arg, rc, reason);
    free(t);
}

/* Takes the head item if the window allows; NULL otherwise. Locked. */
static struct item *take(struct ay_outbox *ob, unsigned window)
{
    struct item *it = ob->head;
    if (it == NULL || (ob->o.qos > 0 && ob->inflight >= window))
        return NULL;
    ob->head = it->next;
    if (ob->head == NULL)
        ob->tail = NULL;
    ob->nitems--;
    ob->nbytes -= it->len;
    if (ob->o.qos > 0)
        ob->inflight++;
    return it;
}

/* Puts it back at the head (Paho's buffer was full). Locked. */
static void give_back(struct ay_outbox *ob, struct item *it)
{
    it->next = ob->head;
    ob->head = it;
    if (ob->tail == NULL)
        ob->tail = it;
    ob->nitems++;
    ob->nbytes += it->len;
    if (ob->o.qos > 0 && ob->inflight > 0)
        ob->inflight--;
}

/* Hands it to Paho (unlocked). Returns false if Paho's buffer was full. */
static bool send_one(struct ay_outbox *ob, struct item *it, unsigned generation)
{
    char err[AY_ERRLEN] = "";
    struct ticket *t = malloc(sizeof(*t));
    enum ay_err rc = AY_ERR_NOMEM;

    if (t != NULL) {
        t->ob = ob;
        t->generation = generation;
        t->done = it->done;
        t->done_arg = it->done_arg;
        rc = ay_mqtt_publish_typed(ob->c, it->topic, it->content_type, it->payload, it->len,
                                   ob->o.qos, false, on_done, t, err);
    }
    if (rc == AY_ERR_FULL) {
        free(t);
        return false;
    }
    if (rc != AY_OK) {
        free(t);
        ay_log_warn("could not publish", "topic", it->topic, "err", err[0] ? err : ay_strerror(rc),
                    NULL);
        if (it->done)
            it->done(it->done_arg, rc, err[0] ? err : ay_strerror(rc));
        pthread_mutex_lock(&ob->lock);
        ob->failed++;
        if (ob->o.qos > 0 && ob->inflight > 0)
            ob->inflight--;
        pthread_cond_broadcast(&ob->room);
        pthread_mutex_unlock(&ob->lock);
    }
    item_free(it);
    return true;
}

static void *run(void *arg)
{
    struct ay_outbox *ob = arg;

    pthread_mutex_lock(&ob->lock);
    for (;;) {
        unsigned gen = ay_mqtt_generation(ob->c);
        if (gen != ob->generation) {
            ob->generation = gen;
            ob->inflight = 0;
        }
        unsigned window = ob->o.window ? ob->o.window : ay_mqtt_send_window(ob->c);
        struct item *it;
        bool full = false;
        while (!full && (it = take(ob, window)) != NULL) {
            pthread_mutex_unlock(&ob->lock);
            bool sent = send_one(ob, it, gen);
            pthread_mutex_lock(&ob->lock);
            if (!sent) {
                give_back(ob, it);
                full = true;
            }
        }
        pthread_cond_broadcast(&ob->room); /* QoS 0: taken is done */
        if (ob->closing &&
            ((ob->head == NULL && ob->inflight == 0) || ay_mono_us() >= ob->close_deadline_us))
            break;
        int64_t until = ay_mono_deadline_us(IDLE_WAKE_MS);
        if (ob->closing && ob->close_deadline_us < until)
            until = ob->close_deadline_us;
        ay_cond_wait_until(&ob->wake, &ob->lock, until);
    }
    pthread_mutex_unlock(&ob->lock);
    return NULL;
}

enum ay_err ay_outbox_new(struct ay_mqtt *c, const struct ay_outbox_opts *o, struct ay_outbox **out,
                          char err[AY_ERRLEN])
{
    struct ay_outbox *ob = calloc(1, sizeof(*ob));

    if (ob == NULL)
        return AY_ERR_NOMEM;
    ob->c = c;
    ob->o = *o;
    if (ob->o.max_items == 0)
        ob->o.max_items = DEFAULT_MAX_ITEMS;
    if (ob->o.max_bytes == 0)
        ob->o.max_bytes = DEFAULT_MAX_BYTES;
    pthread_mutex_init(&ob->lock, NULL);
    ay_cond_init(&ob->wake);
    ay_cond_init(&ob->room);
    ob->generation = ay_mqtt_generation(c);
    if (pthread_create(&ob->thread, NULL, run, ob) != 0) {
        ay_errf(err, "cannot start the publishing thread");
        pthread_cond_destroy(&ob->wake);
        pthread_cond_destroy(&ob->room);
        pthread_mutex_destroy(&ob->lock);
        free(ob);
        return AY_ERR_NOMEM;
    }
    ob->started = true;
    *out = ob;
    return AY_OK;
}

enum ay_err ay_outbox_put_take_typed(struct ay_outbox *ob, const char *topic,
                                     const char *content_type, void *payload, size_t len,
                                     ay_mqtt_done_fn *done, void *arg)
{
    struct item *it = calloc(1, sizeof(*it));
    enum ay_err rc = AY_OK;

    if (it == NULL || (it->topic = strdup(topic)) == NULL ||
        (content_type != NULL && (it->content_type = strdup(content_type)) == NULL)) {
        if (it)
            free(it->topic);
        free(it);
        return AY_ERR_NOMEM;
    }
    pthread_mutex_lock(&ob->lock);
    if (ob->closing)
        rc = AY_ERR_CLOSED;
    else if (ob->nitems >= ob->o.max_items ||
             (ob->nitems > 0 && ob->nbytes + len > ob->o.max_bytes))
        rc = AY_ERR_FULL;
    if (rc == AY_OK) {
        it->payload = payload;
        it->len = len;
        it->done = done;
        it->done_arg = arg;
        if (ob->tail)
            ob->tail->next = it;
        else
            ob->head = it;
        ob->tail = it;
        ob->nitems++;
        ob->nbytes += len;
        pthread_cond_signal(&ob->wake);
    }
    pthread_mutex_unlock(&ob->lock);
    if (rc != AY_OK) {
        free(it->topic);
        free(it->content_type);
        free(it);
    }
    return rc;
}

size_t ay_outbox_close(struct ay_outbox *ob, int timeout_ms)
{
    size_t left = 0;

    pthread_mutex_lock(&ob->lock);
    if (!ob->closing) {
        ob->closing = true;
        ob->close_deadline_us = ay_mono_deadline_us(timeout_ms);
    }
    pthread_cond_signal(&ob->wake);
    pthread_cond_broadcast(&ob->room);
    pthread_mutex_unlock(&ob->lock);
    if (ob->started) {
        pthread_join(ob->thread, NULL);
        ob->started = false;
    }
    pthread_mutex_lock(&ob->lock);
    struct item *unsent = ob->head;
    ob->head = NULL;
    ob->tail = NULL;
    ob->nitems = 0;
    ob->nbytes = 0;
    pthread_mutex_unlock(&ob->lock);
    while (unsent) {
        struct item *it = unsent;
        unsent = it->next;
        if (it->done)
            it->done(it->done_arg, AY_ERR_CLOSED, "stopped before it was sent");
        item_free(it);
        left++;
    }
    return left;
}

void ay_outbox_stats(struct ay_outbox *ob, struct ay_outbox_stats *s)
{
    pthread_mutex_lock(&ob->lock);
    s->published = ob->published;
    s->failed = ob->failed;
    s->queued = ob->nitems;
    s->inflight = ob->inflight;
    pthread_mutex_unlock(&ob->lock);
}

bool ay_outbox_wait_below(struct ay_outbox *ob, size_t n, int64_t deadline_us)
{
    pthread_mutex_lock(&ob->lock);
    while (!ob->closing && ob->nitems + ob->inflight > n)
        if (!ay_cond_wait_until(&ob->room, &ob->lock, deadline_us))
            break;
    bool below = ob->nitems + ob->inflight <= n;
    pthread_mutex_unlock(&ob->lock);
    return below;
}

void ay_outbox_free(struct ay_outbox *ob)
{
    if (ob == NULL)
        return;
    (void)ay_outbox_close(ob, 0);
    pthread_cond_destroy(&ob->wake);
    pthread_cond_destroy(&ob->room);
    pthread_mutex_destroy(&ob->lock);
    free(ob);
}
