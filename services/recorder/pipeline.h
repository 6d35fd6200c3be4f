/*
 * pipeline.h - the recorder's moving parts between the broker and the
 * database: a bounded queue filled by the MQTT callback, a worker loop that
 * stores batches, and the receipts published after each commit.
 *
 * Back-pressure: when the queue is full the MQTT callback waits, Paho stops
 * reading, and the broker holds the rest (at most receive_max in flight to
 * us). Memory is bounded by queue_max_items and queue_max_bytes.
 * Faults: a lost database connection is retried with backoff (100 ms
 * doubling to 5 s) with the same batch; a batch the database refuses is
 * retried item by item, and an item it still refuses becomes a dead letter.
 * Workers: `workers` threads, each with its own database connection, take
 * batches from the one queue and store them concurrently (the unique
 * message_id makes that safe; messages that depend on each other are sent
 * in order by contract, each after the previous one's receipt).
 * Receipts are published by a sender thread of their own: a worker that
 * called Paho while Paho's receive thread waits for queue room (holding
 * Paho's lock) would deadlock; workers hand receipts over without waiting.
 * Threads: recorder_pipeline_offer runs on Paho's receive thread;
 * recorder_pipeline_run runs worker 0 on the caller's thread and starts the
 * others; the rest on the caller's thread.
 */
#ifndef RECORDER_PIPELINE_H
#define RECORDER_PIPELINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "ay_err.h"
#include "ay_mqtt.h"

struct ay_pg;
struct recorder_pipeline;

struct recorder_pipeline_opts {
    size_t batch_max;
    size_t queue_max_items;
    size_t queue_max_bytes;
    const char *service_id;      /* header.deviceId of receipts */
    const char *database_url;    /* each worker connects with it */
    size_t workers;              /* storing threads, each with its own connection */
    int drain_timeout_ms;        /* how long to keep trying the database when stopping */
    volatile sig_atomic_t *stop; /* set by the signal handler */
};

/* On AY_OK *out is a new pipeline (not yet connected) the caller frees.
 * receipts is borrowed and must outlive it. */
enum ay_err recorder_pipeline_new(const struct recorder_pipeline_opts *o, struct ay_mqtt *receipts,
                                  struct recorder_pipeline **out, char err[AY_ERRLEN]);

/* Connects every worker's database connection, retrying with backoff until
 * it works or *stop is set (then false). */
bool recorder_pipeline_connect(struct recorder_pipeline *p);

/* Worker 0's connection, for checks before the run (borrowed). */
struct ay_pg *recorder_pipeline_db(struct recorder_pipeline *p);
void recorder_pipeline_free(struct recorder_pipeline *p); /* NULL is a no-op */

/* The MQTT message callback (Paho receive thread): copies the message into
 * the queue, waiting while it is full. arg is the pipeline. */
void recorder_pipeline_offer(void *arg, const struct ay_mqtt_msg *m);

/* Stores batches until *stop is set, on `workers` threads. */
void recorder_pipeline_run(struct recorder_pipeline *p);

/* Publishes the receipts still waiting and stops the sender thread; call
 * after recorder_pipeline_drain, before closing the receipts client. */
void recorder_pipeline_flush_receipts(struct recorder_pipeline *p);

/* After intake has stopped: stores what is still queued, trying for at most
 * timeout_ms while the database is away. Returns how many could not be
 * stored (their senders will re-send, having no receipt). */
size_t recorder_pipeline_drain(struct recorder_pipeline *p, int timeout_ms);

#endif
