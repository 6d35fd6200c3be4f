/*
 * ay_queue.c - a ring of pointers under one mutex and two condition
 * variables (not_empty, not_full).
 */
#include "ay_queue.h"

#include <pthread.h>
#include <stdlib.h>

#include "ay_sync.h"

struct ay_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    void **items;
    size_t *sizes;
    size_t cap;
    size_t head;
    size_t len;
    size_t bytes;
    size_t max_bytes;
    bool closed;
};

enum ay_err ay_queue_new(size_t max_items, size_t max_bytes, struct ay_queue **out)
{
    struct ay_queue *q = calloc(1, sizeof(*q));
    if (q == NULL || max_items == 0)
        goto fail;
    q->items = calloc(max_items, sizeof(*q->items));
    q->sizes = calloc(max_items, sizeof(*q->sizes));
    if (q->items == NULL || q->sizes == NULL)
        goto fail;
    q->cap = max_items;
    q->max_bytes = max_bytes;
    pthread_mutex_init(&q->lock, NULL);
    ay_cond_init(&q->not_empty);
    ay_cond_init(&q->not_full);
    *out = q;
    return AY_OK;
fail:
    if (q) {
        free(q->items);
        free(q->sizes);
    }
    free(q);
    return max_items == 0 ? AY_ERR_INVALID : AY_ERR_NOMEM;
}

void ay_queue_free(struct ay_queue *q)
{
    if (q == NULL)
        return;
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->lock);
    free(q->items);
    free(q->sizes);
    free(q);
}

static bool has_room(const struct ay_queue *q, size_t bytes)
{
    if (q->len == q->cap)
        return false;
    return q->len == 0 || q->bytes + bytes <= q->max_bytes;
}

enum ay_err ay_queue_push(struct ay_queue *q, void *item, size_t bytes, int timeout_ms)
{
    int64_t until = ay_mono_deadline_us(timeout_ms);
    enum ay_err rc = AY_OK;

    pthread_mutex_lock(&q->lock);
    while (!q->closed && !has_room(q, bytes)) {
        if (!ay_cond_wait_until(&q->not_full, &q->lock, until))
            break;
    }
    if (q->closed) {
        rc = AY_ERR_CLOSED;
    } else if (!has_room(q, bytes)) {
        rc = AY_ERR_TIMEOUT;
    } else {
        size_t tail = (q->head + q->len) % q->cap;
        q->items[tail] = item;
        q->sizes[tail] = bytes;
        q->len++;
        q->bytes += bytes;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

size_t ay_queue_pop_batch(struct ay_queue *q, void **out, size_t max, int timeout_ms)
{
    int64_t until = ay_mono_deadline_us(timeout_ms);
    size_t n = 0;

    pthread_mutex_lock(&q->lock);
    while (q->len == 0 && !q->closed) {
        if (!ay_cond_wait_until(&q->not_empty, &q->lock, until))
            break;
    }
    while (n < max && q->len > 0) {
        out[n++] = q->items[q->head];
        q->bytes -= q->sizes[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
    }
    if (n > 0)
        pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return n;
}

void ay_queue_close(struct ay_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

size_t ay_queue_len(struct ay_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->len;
    pthread_mutex_unlock(&q->lock);
    return n;
}

bool ay_queue_is_drained(struct ay_queue *q)
{
    pthread_mutex_lock(&q->lock);
    bool drained = q->closed && q->len == 0;
    pthread_mutex_unlock(&q->lock);
    return drained;
}
