/*
 * ay_msgtype.h - the registry of the message types of the anyuan.v1 contract.
 *
 * Owns: the one table that ties a message type's name (as used on the command
 * line, in topics and in docs) to its direction and protobuf-c descriptor.
 * Inbound school topics end in topic_kind:
 *   ay/v1/{district}/school/{school}/{device}/{topic_kind}
 * Does not own: topic building and parsing (the MQTT layer), the messages'
 * meaning (proto/anyuan/v1/<file>.proto).
 * Threads: read-only static data; thread-safe.
 */
#ifndef AY_MSGTYPE_H
#define AY_MSGTYPE_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

enum ay_direction {
    AY_DIR_INBOUND,  /* from schools/devices */
    AY_DIR_OUTBOUND, /* from the backbone */
    AY_DIR_ACK,      /* from police/bureau */
};

struct ay_msgtype {
    /* CLI / doc name: "alarm", "alarm-cancel", "notice", "report", "hazard",
     * "hazard-update", "monthly", "status", "receipt", "escalation", "ack" */
    const char *name;
    /* last topic level for inbound school topics, same as name for inbound
     * types; NULL for others */
    const char *topic_kind;
    enum ay_direction direction;
    const ProtobufCMessageDescriptor *desc;
    /* A device's clock may be wrong: an alarm, its cancel or a heartbeat is
     * accepted whatever its times say (ay_schema AY_SCHEMA_ANY_CLOCK), and
     * the problem is reported instead of the message being refused. */
    bool any_clock;
};

/* The entry named name; NULL if unknown (or name is NULL). Borrowed static data. */
const struct ay_msgtype *ay_msgtype_by_name(const char *name);
/* The entry whose descriptor is d; NULL if d is not a top-level contract message. */
const struct ay_msgtype *ay_msgtype_by_desc(const ProtobufCMessageDescriptor *d);
/* The whole table; *count receives its length. Borrowed static data. */
const struct ay_msgtype *ay_msgtype_all(size_t *count);

#endif
