/*
 * device.h - the reference device (ay-device): what its three modules give
 * main.c.
 *
 *   message.c  the connection profile, and the JSON messages the device
 *              sends (alarm, notice, status) and reads (receipt)
 *   outbox.c   every alarm and notice on disk until its Receipt arrives
 *   link.c     the MQTT v5 connection over Paho MQTTAsync; Paho's
 *              callbacks only queue events for the main loop
 *
 * The device is deliberately self-contained (C11, POSIX, Paho, cJSON; no
 * code of the backbone's lib/), so that an integrator can copy it. Every
 * function that can fail returns 0 or -1 and, on -1, writes one line into
 * the caller's err[DEV_ERRLEN] saying what failed and why. Rules of the
 * contract are cited as "contract 6.2" (docs/contract.md, section 6.2).
 * Threads: everything here runs on the main thread, except link.c's Paho
 * callbacks, documented there.
 */
#ifndef AY_DEVICE_H
#define AY_DEVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DEV_ERRLEN   256
#define DEV_ID_LEN   33  /* ids: 1..32 characters of a-z 0-9 '-' (contract 7.2) */
#define DEV_UUID_LEN 37  /* a canonical UUID and its NUL */
#define DEV_TOPIC    161 /* a topic is at most 160 characters (contract 7.1) */
#define DEV_PATH     4096

/* printf into a caller's err[DEV_ERRLEN] (truncates safely). */
void dev_errf(char err[DEV_ERRLEN], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs one logfmt line on stderr: ts, level, svc, device and then fmt. */
void dev_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dev_log_set_device(const char *device_id);

/* ---- message.c: the profile --------------------------------------------- */

/* What `ayctl device add --profile FILE` wrote for this device. */
struct dev_profile {
    char device_id[DEV_ID_LEN]; /* = the broker account = the MQTT client id */
    char district_id[DEV_ID_LEN];
    char school_id[DEV_ID_LEN];
    char kind[16];      /* button, panel, app, nearby_shop, nearby_home, gateway */
    char location[129]; /* where it is, in words: the alarm's location (short) */
    bool has_geo;
    double latitude, longitude;
    int heartbeat_s; /* heartbeatIntervalS: the interval the backbone supervises */
    char url[300];   /* ssl://host:mqttsPort */
    char password[129];
    char ca_path[DEV_PATH]; /* the CA certificate file the broker is verified with */
    char topic_alarm[DEV_TOPIC], topic_notice[DEV_TOPIC], topic_status[DEV_TOPIC];
    char topic_receipts[DEV_TOPIC];
};

/* Reads the profile at path. The CA certificate it carries (broker.caPem)
 * is written to state_dir/ca.pem and used from there (the profile's caFile
 * is a path on the operator's machine). password_file, if not NULL,
 * replaces the profile's secret with the file's first line. */
int dev_profile_load(const char *path, const char *state_dir, const char *password_file,
                     struct dev_profile *p, char err[DEV_ERRLEN]);

/* ---- message.c: messages ------------------------------------------------- */

/* A new message: its JSON text (malloc'ed, the caller frees), its id. */
struct dev_msg {
    char *json;
    char id[DEV_UUID_LEN];
};

/* A status message, state one of "DEVICE_STATE_ONLINE", "_HEARTBEAT",
 * "_OFFLINE" (contract 5.8). */
int dev_msg_status(const struct dev_profile *p, const char *state, struct dev_msg *out);
/* A one-click alarm pressed now; is_test marks a drill (contract 5.1). */
int dev_msg_alarm(const struct dev_profile *p, bool is_test, struct dev_msg *out);
/* An incident notice whose body is the JSON object in file (contract 5.3);
 * the device writes the header. */
int dev_msg_notice(const struct dev_profile *p, const char *file, struct dev_msg *out,
                   char err[DEV_ERRLEN]);

/* A Receipt as the recorder sent it (contract 5.9). */
struct dev_receipt {
    char ref_message_id[DEV_UUID_LEN];
    char status[32]; /* RECEIPT_STATUS_STORED, _DUPLICATE or _REJECTED */
    char reference[129];
    char reason[4200]; /* text: at most 4096 bytes (contract 7.2) */
};
int dev_receipt_parse(const void *payload, size_t len, struct dev_receipt *r, char err[DEV_ERRLEN]);

/* ---- outbox.c ------------------------------------------------------------ */

/* One message waiting for its Receipt: the file DIR/<id>.<kind>. */
struct dev_outbox_entry {
    char id[DEV_UUID_LEN];
    char kind[16];
    int64_t next_send_ms; /* monotonic: when to (re-)send it */
    int wait_ms;          /* how long to wait for the Receipt after the next send */
    int sends;
};

struct dev_outbox {
    char dir[DEV_PATH];         /* STATE/outbox */
    char rejected[DEV_PATH];    /* STATE/rejected */
    struct dev_outbox_entry *e; /* oldest first */
    size_t n, cap;
    struct timespec last_mtime; /* of the newest file: the next one's is later */
};

/* Opens (makes) state_dir/outbox and loads what a previous run left there. */
int dev_outbox_open(struct dev_outbox *o, const char *state_dir, char err[DEV_ERRLEN]);
/* Keeps a message durably; returns only once it is on disk. */
int dev_outbox_put(struct dev_outbox *o, const char *id, const char *kind, const char *json,
                   char err[DEV_ERRLEN]);
/* The bytes of a kept message (malloc'ed, NUL-terminated, the caller frees). */
int dev_outbox_read(const struct dev_outbox *o, const struct dev_outbox_entry *e, char **json,
                    size_t *len, char err[DEV_ERRLEN]);
struct dev_outbox_entry *dev_outbox_find(struct dev_outbox *o, const char *id);
/* Forgets a message (its Receipt came); a rejected one is moved to
 * state_dir/rejected/ with its reason beside it, for people to read. */
int dev_outbox_done(struct dev_outbox *o, const char *id, const char *rejected_reason,
                    char err[DEV_ERRLEN]);
void dev_outbox_close(struct dev_outbox *o);

/* ---- link.c -------------------------------------------------------------- */

enum dev_event_kind {
    DEV_EV_CONNECTED,      /* the broker accepted the CONNECT */
    DEV_EV_CONNECT_FAILED, /* text says why */
    DEV_EV_LOST,           /* the connection broke (text says why) */
    DEV_EV_SUBSCRIBED,     /* the receipt topic is subscribed */
    DEV_EV_SUBSCRIBE_FAILED,
    DEV_EV_MESSAGE, /* a message on the receipt topic: payload, len */
};

struct dev_event {
    enum dev_event_kind kind;
    char text[DEV_ERRLEN];
    char *payload;
    size_t len;
    struct dev_event *next;
};

struct dev_link {
    void *client; /* MQTTAsync */
    const struct dev_profile *p;
    pthread_mutex_t lock; /* guards the event list */
    struct dev_event *head, *tail;
    int wake[2]; /* a byte in wake[1] when an event is queued; poll wake[0] */
};

int dev_link_init(struct dev_link *l, const struct dev_profile *p, char err[DEV_ERRLEN]);
/* Starts connecting with a Last Will (will_json on the status topic); the
 * outcome arrives as DEV_EV_CONNECTED or DEV_EV_CONNECT_FAILED. */
int dev_link_connect(struct dev_link *l, const char *will_json, char err[DEV_ERRLEN]);
/* Starts subscribing to the receipt topic: DEV_EV_SUBSCRIBED or _FAILED. */
int dev_link_subscribe(struct dev_link *l, char err[DEV_ERRLEN]);
/* Hands Paho one QoS 1 publish of JSON; returns at once. */
int dev_link_publish(struct dev_link *l, const char *topic, const char *json, char err[DEV_ERRLEN]);
/* Publishes and waits at most timeout_ms for the broker's PUBACK. */
int dev_link_publish_wait(struct dev_link *l, const char *topic, const char *json, int timeout_ms,
                          char err[DEV_ERRLEN]);
/* The next queued event or NULL; free it with dev_event_free(). */
struct dev_event *dev_link_next(struct dev_link *l);
void dev_event_free(struct dev_event *ev);
/* Disconnects (waiting at most timeout_ms) and frees the client. */
void dev_link_cleanup(struct dev_link *l, int timeout_ms);

#endif
