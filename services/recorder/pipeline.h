/*
 * pipeline.h - the recorder's moving parts between the broker and the
 * database, on the shared runtime: a bounded queue (lib/ay_queue) filled by
 * the MQTT callback, a pool of workers (lib/ay_pool) storing batches in
 * transactions that retry what is transient (ay_pg_tx), and the outbox
 * (lib/ay_outbox) that publishes each receipt after its commit.
 *
 * Back-pressure: when the queue is full the MQTT callback waits, Paho stops
 * reading, and the broker holds the rest (at most receive_max in flight to
 * us). Memory is bounded by queue_max_items and queue_max_bytes.
 * Faults: a transient database error (deadlock, serialization failure, lock
 * or statement timeout, lost connection) retries the whole batch; only a
 * batch PostgreSQL refuses for good is retried message by message, and a
 * message it still refuses becomes a dead letter. A valid message is never
 * rejected because of a transient error.
 * Stop (recorder_pipeline_begin_stop .. _finish): the caller disconnects
 * from the broker while the workers keep draining (the callback stops
 * waiting for room once stopping, so the disconnect cannot hang on Paho's
 * lock), then closes the intake; the workers store what is queued for at
 * most drain_timeout_ms after the stop began, the outbox sends the
 * receipts, and one line counts what was stored and what was not (those
 * senders re-send: they have no receipt).
 * Threads: recorder_pipeline_offer runs on Paho's receive thread; workers
 * on their own threads; the rest on the main thread.
 */
#ifndef RECORDER_PIPELINE_H
#define RECORDER_PIPELINE_H

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
    const char *service_id;   /* header.deviceId of receipts */
    const char *database_url; /* each worker connects with it */
    size_t workers;           /* storing threads, each with its own connection */
    int drain_timeout_ms;     /* on stop, how long to keep storing what is queued */
    int dead_letter_cap;      /* dead letters kept per device and hour */
    int stats_interval_ms;    /* how often the stats line is logged */
};

/* On AY_OK *out is a new pipeline (not connected, no threads) the caller
 * frees. receipts is borrowed: the outbox publishes through it; free the
 * client before the pipeline (Paho may report a publish until then). */
enum ay_err recorder_pipeline_new(const struct recorder_pipeline_opts *o, struct ay_mqtt *receipts,
                                  struct recorder_pipeline **out, char err[AY_ERRLEN]);

/* Connects every worker's database connection, retrying with backoff until
 * it works or the service stops (AY_ERR_TIMEOUT). */
enum ay_err recorder_pipeline_connect(struct recorder_pipeline *p, char err[AY_ERRLEN]);

/* Worker 0's connection, for checks before the start (borrowed). */
struct ay_pg *recorder_pipeline_db(struct recorder_pipeline *p);

/* Starts the workers (before subscribing: a backlog must find them). */
enum ay_err recorder_pipeline_start(struct recorder_pipeline *p, char err[AY_ERRLEN]);

/* The MQTT message callback (Paho receive thread): copies the message into
 * the queue, waiting while it is full unless the service is stopping. */
void recorder_pipeline_offer(void *arg, const struct ay_mqtt_msg *m);

/* The stop began: from now on the drain time runs. */
void recorder_pipeline_begin_stop(struct recorder_pipeline *p);

/* After the intake's MQTT client disconnected: closes the queue, waits for
 * the workers (bounded by the drain time), sends the receipts, logs the
 * final counts. Returns how many messages taken from the broker were not
 * stored. */
size_t recorder_pipeline_finish(struct recorder_pipeline *p);

void recorder_pipeline_free(struct recorder_pipeline *p); /* NULL is a no-op */

#endif
