/*
 * loadgen.h - many simulated devices sending a fixed number of messages to
 * the recorder over real MQTT connections, each waiting for its Receipts
 * (or, in publish-only mode, only for the broker's PUBACK: a backlog for a
 * recorder that is not running).
 *
 * Owns: one libmosquitto client per device (MQTT v5, client id = account
 * name, clean start, subscribed to its own receipt topic), each device's
 * window of messages without a Receipt, the re-sends, and the figures of
 * the run.
 * Does not own: the broker accounts and the registry rows of the devices
 * (bench/run creates them).
 * Follows the publisher's duty of docs/contract.md ("Delivery"): a message
 * is re-sent as the same bytes while no Receipt came; STORED, DUPLICATE and
 * REJECTED all end it.
 * Publish-only mode (no_wait) is NOT the publisher's duty: nothing is
 * re-sent for want of a Receipt, only what the client failed to hand to the
 * broker; bench/run checks the database instead.
 * Threads: one. lg_run drives every device's socket on the caller's thread
 * (libmosquitto's loop_read/loop_write/loop_misc on polled sockets); the
 * receipt and PUBACK callbacks run inside those calls, on the same thread.
 */
#ifndef LG_LOADGEN_H
#define LG_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "ay_err.h"
#include "msgs.h"

struct lg_opts {
    const char *url;             /* broker, e.g. tcp://127.0.0.1:1883 */
    const char *district;        /* of every device */
    const char *school;          /* of every device */
    const char *device_prefix;   /* account names are PREFIX0001, PREFIX0002, ... */
    const char *password_prefix; /* the password of account NAME is PREFIX followed by NAME */
    unsigned devices;
    unsigned long count;     /* messages to send in all (distinct message ids) */
    double rate;             /* new messages per second in all; 0: as the windows allow */
    unsigned window;         /* messages without Receipt (no_wait: without PUBACK) per device */
    int resend_ms;           /* re-send a message after this long without Receipt */
    int drain_timeout_ms;    /* give up waiting after this long without any Receipt */
    unsigned mix[LG_NTYPES]; /* relative weights of the message types */
    bool no_wait;            /* publish only: a message is done at the broker's PUBACK */
};

struct lg_result {
    unsigned long sent; /* distinct messages published at least once */
    unsigned long stored;
    unsigned long duplicate;
    unsigned long rejected;
    unsigned long resends;        /* publishes of a message after its first */
    unsigned long unanswered;     /* sent but never receipted (no_wait: never acknowledged) */
    unsigned long late_receipts;  /* receipts for messages already receipted */
    unsigned long publish_errors; /* publish calls the client refused or that failed */
    unsigned long by_type[LG_NTYPES];
    unsigned lost;                  /* devices whose connection failed during the run */
    double cpu_s;                   /* the generator's own CPU (user + system) during the run */
    double cpu_total_s;             /* its CPU since it started (connecting included) */
    unsigned window;                /* per device as used: o->window */
    double elapsed_s;               /* first publish to last Receipt (no_wait: to last PUBACK) */
    int64_t p50_us, p99_us, max_us; /* first publish to Receipt (no_wait: to PUBACK) */
    char first_reject[AY_ERRLEN];   /* reason of the first REJECTED receipt */
};

/* Connects every device, sends o->count messages and waits for their
 * Receipts (no_wait: for the broker's PUBACKs). AY_OK when the run took
 * place (even if messages went unanswered or were rejected: see *res);
 * otherwise err says why it could not (a device could not connect, out of
 * memory), and *res is not written. */
enum ay_err lg_run(const struct lg_opts *o, struct lg_result *res, char err[AY_ERRLEN]);

#endif
