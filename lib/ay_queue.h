/*
 * ay_queue.h - a bounded, blocking FIFO of pointers between threads.
 *
 * Bounded by item count and by bytes (the caller states each item's size),
 * so a service's memory stays bounded when its consumer is slow: a full
 * queue makes the producer wait, which is how back-pressure reaches the
 * broker (stack-notes.md: Paho's receive thread stops reading).
 *
 * Owns: the slots; not the items, which pass from producer to consumer.
 * Threads: any number of producers and consumers.
 */
#ifndef AY_QUEUE_H
#define AY_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "ay_err.h"

struct ay_queue;

/* On AY_OK *out is a new queue the caller frees with ay_queue_free(). */
enum ay_err ay_queue_new(size_t max_items, size_t max_bytes, struct ay_queue **out);
/* Frees the queue, not the items still in it (drain first). NULL is a no-op. */
void ay_queue_free(struct ay_queue *q);

/*
 * Appends item (of `bytes` bytes), waiting at most timeout_ms for room.
 * AY_ERR_TIMEOUT if still full, AY_ERR_CLOSED after ay_queue_close(). An
 * item larger than max_bytes is accepted when the queue is empty.
 */
enum ay_err ay_queue_push(struct ay_queue *q, void *item, size_t bytes, int timeout_ms);

/*
 * Takes up to max items into out[], waiting at most timeout_ms for the first
 * one and not at all for the rest. Returns how many were taken (0 on
 * timeout or when closed and empty).
 */
size_t ay_queue_pop_batch(struct ay_queue *q, void **out, size_t max, int timeout_ms);

/* Wakes every waiter; later pushes fail with AY_ERR_CLOSED; pops drain. */
void ay_queue_close(struct ay_queue *q);
/* True once the queue is closed and empty: consumers can stop. */
bool ay_queue_is_drained(struct ay_queue *q);
size_t ay_queue_len(struct ay_queue *q);

#endif
