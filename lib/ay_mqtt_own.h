/*
 * ay_mqtt_own.h - the publish-only MQTT v5 client behind ay_mqtt_opts.own_thread:
 * libmosquitto driven by a network thread of the client's own, so that its
 * acknowledgements keep flowing while Paho's one process-wide receive
 * thread is held by a message callback (back-pressure).
 *
 * Why: in the recorder, the intake callback waits for room in the queue on
 * Paho's receive thread; receipts published through Paho then had their
 * PUBACKs read only between intake messages, and in a backlog 55,000-65,000
 * receipts piled up in memory (bench/README.md). A client on its own thread
 * reads its PUBACKs whatever Paho's thread is doing.
 *
 * Internal to lib/: ay_mqtt.c dispatches to it; callers use ay_mqtt.h.
 * Threads: every function from any thread but ay_own_free; the done
 * callbacks run on the client's network thread.
 */
#ifndef AY_MQTT_OWN_H
#define AY_MQTT_OWN_H

#include "ay_mqtt.h"

struct ay_own;

enum ay_err ay_own_new(const struct ay_mqtt_opts *o, struct ay_own **out, char err[AY_ERRLEN]);
/* Starts the network thread if it is not running (it then connects, and
 * reconnects with backoff, 1 s doubling to 30 s, by itself) and waits at
 * most timeout_ms for a CONNACK. A refusal or connection failure seen while
 * waiting is the error; the thread keeps trying either way. */
enum ay_err ay_own_connect(struct ay_own *c, int timeout_ms, char err[AY_ERRLEN]);
/* Sends DISCONNECT, gives the thread at most timeout_ms to write it and
 * joins it. Publishes not yet acknowledged stay with the client (sent on
 * the next connect) until ay_own_free. */
void ay_own_disconnect(struct ay_own *c, int timeout_ms);
/* Disconnects if needed; every publish still unacknowledged is reported
 * done with AY_ERR_CLOSED. NULL is a no-op. */
void ay_own_free(struct ay_own *c);
enum ay_err ay_own_publish(struct ay_own *c, const char *topic, const char *content_type,
                           const void *payload, size_t len, int qos, bool retain,
                           ay_mqtt_done_fn *done, void *done_arg, char err[AY_ERRLEN]);
/* The state ay_mqtt_connected, _generation and _broker_receive_max report,
 * for either kind of client. */
struct ay_mqtt_link {
    bool connected;       /* CONNACK received (and subscriptions granted), not lost since */
    unsigned generation;  /* successful connects so far */
    unsigned broker_rmax; /* the broker's Receive Maximum (CONNACK); 0: not known yet */
};
struct ay_mqtt_link ay_own_link(struct ay_own *c);

#endif
