/*
 * ay_mqtt.h - an MQTT v5 client over Paho MQTTAsync: persistent session,
 * automatic reconnect with backoff, subscriptions (shared ones too) renewed
 * on every connect, QoS 1 publish with completion tracking.
 *
 * Owns: one Paho client and its registered subscriptions. Does not own the
 * payloads passed to ay_mqtt_publish (Paho copies them before returning).
 *
 * Threads: Paho runs ONE receive thread and one send thread for every client
 * in the process, and every callback below runs on the receive thread. A
 * slow callback stalls all clients of the process; a message callback may
 * block on purpose to apply back-pressure (the broker then holds the
 * messages), but must never wait for something that needs the receive
 * thread (the completion of a publish, a subscribe).
 *
 * Delivery: Paho acknowledges an incoming QoS 1 message to the broker when
 * the message callback returns, whatever it did (stack-notes.md). The
 * project's end-to-end acknowledgement is the Receipt, not the PUBACK.
 */
#ifndef AY_MQTT_H
#define AY_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"

struct ay_mqtt;

struct ay_mqtt_opts {
    const char *url;           /* tcp://host:port, ssl://host:port, mqtts://host:port */
    const char *client_id;     /* required */
    const char *username;      /* NULL: none */
    const char *password;      /* NULL: none */
    const char *ca_file;       /* CA to verify the broker with ssl:// URLs */
    bool clean_start;          /* false: resume the session the broker kept */
    unsigned session_expiry_s; /* how long the broker keeps the session after a disconnect */
    unsigned keepalive_s;      /* 0: 20 s */
    unsigned receive_max;      /* QoS 1 messages in flight towards us; 0: broker default */
    unsigned max_inflight;     /* our QoS 1 publishes in flight; 0: 100 */
    unsigned max_buffered;     /* publishes kept while disconnected; 0: 10000 */
    /* A publish-only client on a network thread of its own (libmosquitto,
     * lib/ay_mqtt_own.h) instead of Paho's one receive thread for the
     * whole process: its acknowledgements keep coming while a Paho
     * message callback holds that thread for back-pressure. No
     * subscriptions, no will, no session (clean_start, session_expiry_s 0);
     * tcp://, mqtt://, ssl:// and mqtts:// URLs. */
    bool own_thread;
    /* No automatic reconnect: once the connection is lost,
     * ay_mqtt_connected() is false for good and the caller makes a new
     * client. For a device whose Last Will must carry a fresh message id on
     * every CONNECT (docs/contract.md section 1): Paho's automatic reconnect
     * would send the same will again. */
    bool manual_reconnect;
    /* Optional will message, published by the broker if we vanish. */
    const char *will_topic;
    const void *will_payload;
    size_t will_len;
};

struct ay_mqtt_msg {
    const char *topic;
    const void *payload;
    size_t len;
    int qos;
    bool retained;
    bool dup; /* the broker may have delivered it before */
    /* The MQTT v5 content type (docs/contract.md 4.1), NULL when the
     * publisher set none (always for MQTT 3.1.1 publishers); a NUL byte in
     * it is given as '?'. lib/ay_wire tells protobuf and JSON apart by it. */
    const char *content_type;
};

/* An incoming message; runs on Paho's receive thread. The message is
 * borrowed for the duration of the call. */
typedef void ay_mqtt_msg_fn(void *arg, const struct ay_mqtt_msg *m);
/* A publish finished: rc AY_OK when the broker acknowledged it (QoS 1) or it
 * was written (QoS 0); otherwise reason says why. Runs on a Paho thread. */
typedef void ay_mqtt_done_fn(void *arg, enum ay_err rc, const char *reason);

/* On AY_OK *out is a new client (not connected) the caller frees with
 * ay_mqtt_free(). on_msg may be NULL for a publish-only client. */
enum ay_err ay_mqtt_new(const struct ay_mqtt_opts *opts, ay_mqtt_msg_fn *on_msg, void *arg,
                        struct ay_mqtt **out, char err[AY_ERRLEN]);

/* Registers a subscription (filter may be "$share/group/..."), made on
 * every connect with Retain As Published (so ay_mqtt_msg.retained tells a
 * retained publish). Call before ay_mqtt_connect. Copies filter. */
enum ay_err ay_mqtt_subscribe(struct ay_mqtt *c, const char *filter, int qos, char err[AY_ERRLEN]);

/* Connects and makes the registered subscriptions, waiting at most
 * timeout_ms (when the broker resumed the session, which has them, the
 * subscriptions are renewed without waiting: its backlog may hold Paho's
 * threads, see ay_mqtt.c on_connected). After a first success the client (unless manual_reconnect)
 * reconnects by itself with backoff (1 s doubling to 30 s) whenever the connection is lost. A
 * refused subscription (not authorised) is an error naming the filter. */
enum ay_err ay_mqtt_connect(struct ay_mqtt *c, int timeout_ms, char err[AY_ERRLEN]);

/* Connects (ay_mqtt_connect, 5 s per attempt) with backoff until it works
 * or the service is stopping (ay_service_stopping: AY_ERR_CLOSED). Logs the
 * first failure and every tenth (warn), naming the client. */
enum ay_err ay_mqtt_connect_retry(struct ay_mqtt *c, char err[AY_ERRLEN]);

/* Queues a publish. While disconnected it is buffered (up to max_buffered)
 * and sent on reconnect. done (may be NULL) is called exactly once if and
 * only if this returns AY_OK. */
enum ay_err ay_mqtt_publish(struct ay_mqtt *c, const char *topic, const void *payload, size_t len,
                            int qos, bool retain, ay_mqtt_done_fn *done, void *done_arg,
                            char err[AY_ERRLEN]);
/* Publishes and waits until the broker acknowledged it or timeout_ms passed. */
enum ay_err ay_mqtt_publish_wait(struct ay_mqtt *c, const char *topic, const void *payload,
                                 size_t len, int qos, int timeout_ms, char err[AY_ERRLEN]);

/* The same with the MQTT v5 content type property set to content_type
 * (copied; NULL: none, as the two above). Subscribers on MQTT 3.1.1 get the
 * payload without it (the broker drops v5 properties for them). */
enum ay_err ay_mqtt_publish_typed(struct ay_mqtt *c, const char *topic, const char *content_type,
                                  const void *payload, size_t len, int qos, bool retain,
                                  ay_mqtt_done_fn *done, void *done_arg, char err[AY_ERRLEN]);
enum ay_err ay_mqtt_publish_wait_typed(struct ay_mqtt *c, const char *topic,
                                       const char *content_type, const void *payload, size_t len,
                                       int qos, int timeout_ms, char err[AY_ERRLEN]);

/* A received content type property (len bytes, not NUL-terminated) as a
 * new C string the caller frees: a NUL byte, which MQTT forbids in a string
 * and which would cut it short, becomes '?', so that it is refused as
 * unknown rather than read as a shorter, known one. NULL when out of
 * memory. Pure; used by the message callback, unit-tested. */
char *ay_mqtt_content_type_dup(const void *data, size_t len);

/* Splits tcp://HOST:PORT, mqtt://, ssl://, mqtts:// (HOST may be [IPv6])
 * into host (NUL-terminated, without brackets), port and whether it is
 * TLS. Pure; AY_ERR_CONFIG with the reason for anything else. */
enum ay_err ay_mqtt_parse_url(const char *url, char *host, size_t host_size, int *port, bool *tls,
                              char err[AY_ERRLEN]);

/* Disconnects cleanly (the broker keeps a persistent session), waiting at
 * most timeout_ms for in-flight publishes. */
void ay_mqtt_disconnect(struct ay_mqtt *c, int timeout_ms);

/*
 * Flow control. Paho 1.3.12 stalls its send thread for up to 1 s whenever
 * more QoS 1 publishes are queued than the broker's Receive Maximum allows
 * in flight (stack-notes.md): nothing wakes it when a PUBACK frees a slot.
 * A publisher that never has more than ay_mqtt_send_window() publishes
 * unacknowledged (waiting for their done callbacks) never hits the stall;
 * lib/ay_outbox does exactly that.
 * ay_mqtt_send_window: min(max_inflight, the broker's Receive Maximum from
 * the first CONNACK; 20 before any connect). ay_mqtt_broker_receive_max:
 * that Receive Maximum, 0 if not connected yet. ay_mqtt_generation: how
 * many times the client connected; a change means publishes in flight on
 * the old connection may never complete.
 */
/* Connected now (CONNACK received, subscriptions granted, not lost since). */
bool ay_mqtt_connected(struct ay_mqtt *c);
unsigned ay_mqtt_send_window(struct ay_mqtt *c);
unsigned ay_mqtt_broker_receive_max(struct ay_mqtt *c);
unsigned ay_mqtt_generation(struct ay_mqtt *c);
void ay_mqtt_free(struct ay_mqtt *c); /* NULL is a no-op; disconnects if needed */

#endif
