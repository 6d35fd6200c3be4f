/*
 * ay_outbox.h - the one thread that publishes a service's outgoing
 * messages through Paho, fed by a queue that never makes its producers wait.
 *
 * Why a thread of its own: Paho runs every message callback on its one
 * receive thread while holding its own lock, and a service's callback may
 * wait (back-pressure) for its workers. A worker that called Paho then
 * would wait for that lock: a deadlock (stack-notes.md; paho.mqtt.c issues
 * 698, 363, 1554). Workers hand their publishes to the outbox and go on.
 *
 * Flow control: the outbox keeps at most `window` QoS 1 publishes
 * unacknowledged (default ay_mqtt_send_window: the broker's Receive Maximum)
 * and hands Paho the next one when an acknowledgement frees a slot. Paho
 * 1.3.12 would otherwise stall for 1 s per full window, which held receipts
 * to ~100/s (~20/s on a stock broker) after a burst.
 *
 * Owns: the queued messages (topic, content type and payload) and the thread. Does
 * not own the MQTT client, which must outlive the outbox's close.
 * Threads: ay_outbox_put from any thread, never blocking; the rest from the
 * thread that created it.
 */
#ifndef AY_OUTBOX_H
#define AY_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_mqtt.h"

struct ay_outbox;

struct ay_outbox_opts {
    size_t max_items; /* queued beyond this, ay_outbox_put refuses; 0: 100000 */
    size_t max_bytes; /* likewise in payload bytes; 0: 64 MiB */
    unsigned window;  /* publishes unacknowledged at once; 0: ay_mqtt_send_window */
    int qos;          /* 0 or 1 */
};

struct ay_outbox_stats {
    unsigned long long published; /* acknowledged by the broker */
    unsigned long long failed;    /* refused or lost by the broker or Paho */
    size_t queued;                /* waiting for a slot */
    unsigned inflight;            /* handed to Paho, not yet acknowledged */
};

/* On AY_OK *out is a running outbox publishing through c (borrowed). */
enum ay_err ay_outbox_new(struct ay_mqtt *c, const struct ay_outbox_opts *o, struct ay_outbox **out,
                          char err[AY_ERRLEN]);

/* Queues a publish of payload (taken on AY_OK: a malloc'd buffer the outbox
 * frees) to topic (copied), with the MQTT v5 content type content_type
 * (copied; NULL: none), e.g. lib/ay_wire's AY_WIRE_CT_JSON for a JSON
 * receipt. Never waits. AY_ERR_FULL when the queue is at its limits,
 * AY_ERR_CLOSED after ay_outbox_close: the caller still owns payload then.
 * done (may be NULL) is called exactly once if this returns AY_OK:
 * done(arg, AY_OK, ...) when the broker acknowledged the publish (on a Paho
 * thread), an error when it was refused or lost, AY_ERR_CLOSED when the
 * outbox closed before sending it (on the closing thread). */
enum ay_err ay_outbox_put_take_typed(struct ay_outbox *ob, const char *topic,
                                     const char *content_type, void *payload, size_t len,
                                     ay_mqtt_done_fn *done, void *arg);

/* Refuses further puts, publishes what is queued and waits for the
 * acknowledgements, for at most timeout_ms; then stops the thread. Returns
 * how many queued messages were never handed to Paho. Idempotent. */
size_t ay_outbox_close(struct ay_outbox *ob, int timeout_ms);

void ay_outbox_stats(struct ay_outbox *ob, struct ay_outbox_stats *s);

/* Waits until at most n messages are queued or in flight, or until the
 * monotonic deadline_us (lib/ay_sync.h) passes, or the outbox closes.
 * Returns true if at most n are. For a producer that bounds the memory of
 * what it has handed over, when acknowledgements are slow. Never call it
 * from a thread the acknowledgements need (Paho's receive thread, for an
 * outbox on a Paho client). */
bool ay_outbox_wait_below(struct ay_outbox *ob, size_t n, int64_t deadline_us);

/* Closes (at once) if still open and frees. Call after the MQTT client is
 * freed: until then Paho may still report a publish done. NULL is a no-op. */
void ay_outbox_free(struct ay_outbox *ob);

#endif
