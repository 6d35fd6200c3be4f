/*
 * msgs.h - the messages the load generator sends: valid inbound messages of
 * the types that reference nothing (alarm, notice, hazard, monthly, status),
 * each with a fresh message id and a sentAt of now.
 *
 * Owns: one decoded template per type, built from small JSON texts through
 * ay_codec with event times around the start time, and checked once with
 * ay_schema_validate. Does not own: the encoded bytes it hands out.
 * Report and hazard-update are not sent: they need a stored notice or hazard
 * first (docs/contract.md "The publisher's duty").
 * Threads: not thread-safe; the generator's main thread only.
 */
#ifndef LG_MSGS_H
#define LG_MSGS_H

#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_topic.h"
#include "ay_uuid.h"

enum lg_type {
    LG_ALARM,
    LG_NOTICE,
    LG_HAZARD,
    LG_MONTHLY,
    LG_STATUS,
    LG_NTYPES,
};

/* Who sends: the ids that go into the header and the topic. */
struct lg_sender {
    const char *district;
    const char *school;
    const char *device;
};

/* One encoded message, ready to publish (and to re-send as the same bytes). */
struct lg_msg {
    char id[AY_UUID_STRLEN];
    char topic[AY_TOPIC_MAX];
    uint8_t *buf; /* malloc'd; lg_msg_cleanup frees it */
    size_t len;
    enum lg_type type;
};

struct lg_msgs;

/* The name of a type as used in topics and on the command line. */
const char *lg_type_name(enum lg_type t);

/* On AY_OK *out holds a validated template of every type, with event times
 * relative to now_us; the caller frees it with lg_msgs_free(). On error err
 * names the template and the field. */
enum ay_err lg_msgs_new(const struct lg_sender *probe, int64_t now_us, struct lg_msgs **out,
                        char err[AY_ERRLEN]);
void lg_msgs_free(struct lg_msgs *m); /* NULL is a no-op */

/* Encodes a new message of type t from s, sent at now_us, into *out (whose
 * buffer the caller releases with lg_msg_cleanup). Nothing is left in *out
 * on error. */
enum ay_err lg_msgs_build(struct lg_msgs *m, enum lg_type t, const struct lg_sender *s,
                          int64_t now_us, struct lg_msg *out);
void lg_msg_cleanup(struct lg_msg *msg);

#endif
