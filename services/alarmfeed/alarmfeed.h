/*
 * alarmfeed.h - the police alarm feed's decisions: which messages are
 * alarms (or cancels) to forward, and the PoliceAlarm each becomes.
 *
 * Owns: decoding and validation (the recorder's rules: a valid protobuf or
 * JSON message of the topic's type (lib/ay_wire), lib/ay_schema with the
 * device's clock never a reason
 * to refuse, not retained, a header that speaks for the topic), the
 * enrichment from a registry snapshot, the drill rule, and packing.
 * Does not own: the registry's loading (store.c) or its lifetime (feed.c),
 * the broker.
 * Enforces domain.md rule 1 (one-click alarms go straight to police,
 * 直达110): an alarm is never held back for what the registry does not
 * know; it goes out marked instead (deviceUnknown).
 * Pure functions (time passed in); thread-safe.
 */
#ifndef ALARMFEED_H
#define ALARMFEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/police.pb-c.h"
#include "ay_err.h"
#include "ay_topic.h"
#include "ay_uuid.h"
#include "ay_wire.h"
#include "feedid.h"
#include "registry.h"

/* An alarm or cancel that may be forwarded. */
struct alarmfeed_msg {
    enum alarmfeed_event event;
    struct ay_topic where;
    ProtobufCMessage *msg;                 /* owned: Anyuan__V1__Alarm or __AlarmCancel */
    const Anyuan__V1__Alarm *alarm;        /* msg, when an alarm; else NULL */
    const Anyuan__V1__AlarmCancel *cancel; /* msg, when a cancel; else NULL */
    const char *id;                        /* header.messageId (in msg) */
    int64_t received_us;                   /* when the backbone received it */
    char clock_warning[AY_ERRLEN];         /* "" when the device's times look right */
};

/*
 * Decodes and checks one delivery of the feed's subscription. On AY_OK *out
 * holds the message (release with alarmfeed_msg_cleanup). AY_ERR_INVALID,
 * with err naming the topic level or field, for anything that is not a
 * forwardable alarm or cancel; AY_ERR_NOMEM. A time more than 24 h away
 * from now_us (either way) is not a reason: it becomes clock_warning.
 */
enum ay_err alarmfeed_decode(const char *topic, const void *payload, size_t len, bool retained,
                             int64_t received_us, int64_t now_us, struct alarmfeed_msg *out,
                             char err[AY_ERRLEN]);
/* The same for a payload in either form (lib/ay_wire: content_type, else
 * the first byte); alarmfeed_decode is this with no content type. */
enum ay_err alarmfeed_decode_as(const char *topic, const char *content_type, const void *payload,
                                size_t len, bool retained, int64_t received_us, int64_t now_us,
                                struct alarmfeed_msg *out, char err[AY_ERRLEN]);
void alarmfeed_msg_cleanup(struct alarmfeed_msg *m);

/* A PoliceAlarm and the parts it points to. Its strings point into the
 * alarmfeed_msg, the registry snapshot and static label tables: valid while
 * those are. */
struct alarmfeed_out {
    Anyuan__V1__PoliceAlarm pa;
    Anyuan__V1__Header header;
    Anyuan__V1__Timestamp sent_at;
    Anyuan__V1__Timestamp received_at;
    Anyuan__V1__GeoPoint geo;
    char feed_id[AY_UUID_STRLEN];
    char service_id[AY_ID_MAX];
    char topic[AY_TOPIC_MAX]; /* ay/v1/{district}/police/alarm */
};

/*
 * Fills *out for m with what reg (a sealed snapshot, or NULL) knows.
 *   device known: the registry has an enabled device of that id in the
 *     topic's school, and the school in the topic's district; then its
 *     location, position, place name and source (its kind) are used;
 *   otherwise deviceUnknown is set and the alarm's own location, position
 *     and source are used; the school is still named if the registry has it;
 *   test: the alarm says isTest, the cancel's reason is TEST_OVER, or the
 *     registry has a test window of the device around received_us;
 *   header: the feed id (feedid.h), deviceId service_id (or "alarmfeed" if
 *     that is not an id), sentAt now_us.
 * AY_ERR_INVALID only if m's ids cannot make a topic or feed id (decode
 * prevents it).
 */
enum ay_err alarmfeed_enrich(const struct alarmfeed_msg *m, const struct alarmfeed_registry *reg,
                             const char *service_id, int64_t now_us, struct alarmfeed_out *out);

/* True when an alarm from device (of the topic m->where) at m->received_us
 * counts as a drill: the rule above. */
bool alarmfeed_is_test(const struct alarmfeed_msg *m, const struct alarmfeed_registry *reg);

/* Packs out->pa into a new buffer (*buf, the caller frees; *len bytes). */
enum ay_err alarmfeed_pack(const struct alarmfeed_out *out, uint8_t **buf, size_t *len);
/* The same in form wire: protobuf for out->topic, JSON for its twin
 * out->topic + "/json" (docs/contract.md 4.5). */
enum ay_err alarmfeed_pack_as(const struct alarmfeed_out *out, enum ay_wire wire, uint8_t **buf,
                              size_t *len);

#endif
