/*
 * recorder.h - the recorder's decisions, free of I/O: what a message from the
 * broker is, whether it is acceptable, which deadlines it starts or meets,
 * and what receipt its sender gets.
 *
 * Enforces (shared/domain.md): rule 2 (deadlines of notices and written
 * reports, per district policy), rule 3 (a hazard's rectification deadline),
 * rule 4 (monthly report due date), rule 7 (everything leaves a trace: a bad
 * message is kept as a dead letter with its reason, never dropped).
 *
 * Lifecycle of an item: recorder_item_new (copy of what arrived) ->
 * recorder_decode (PENDING or REJECTED) -> store.c decides STORED, DUPLICATE
 * or REJECTED inside a transaction -> recorder_receipt_pack after commit ->
 * recorder_item_free.
 */
#ifndef RECORDER_H
#define RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "ay_deadline.h"
#include "ay_err.h"
#include "ay_msgtype.h"
#include "ay_topic.h"

enum recorder_outcome {
    RECORDER_PENDING,   /* decoded and valid so far; the store decides */
    RECORDER_STORED,    /* committed now */
    RECORDER_DUPLICATE, /* committed earlier under the same message id */
    RECORDER_REJECTED,  /* kept as a dead letter; reason says why */
};

/* What a stored message does to a deadline. */
enum recorder_dl_action {
    RECORDER_DL_START,  /* a new pending deadline */
    RECORDER_DL_MET,    /* a new deadline, met by this very message */
    RECORDER_DL_MEET,   /* meets an existing pending deadline */
    RECORDER_DL_MOVE,   /* moves an existing pending deadline to due_us */
    RECORDER_DL_REOPEN, /* makes a met deadline pending again (due_us if > 0) */
};

struct recorder_deadline {
    enum recorder_dl_action action;
    int kind;         /* Anyuan__V1__DeadlineKind */
    int subject_kind; /* Anyuan__V1__SubjectKind */
    char subject_id[40];
    int64_t due_us;
};

#define RECORDER_DEADLINES_MAX 4

struct recorder_item {
    /* As received (owned). */
    char *topic;
    uint8_t *payload;
    size_t len;
    int64_t received_us;
    /* Set by recorder_decode. */
    bool topic_ok;
    struct ay_topic where;
    const struct ay_msgtype *type;
    ProtobufCMessage *msg; /* owned; NULL if it could not be decoded */
    const char *msg_id;    /* borrowed from msg's header; NULL if unknown */
    /* Outcome, set by recorder_decode and the store. */
    enum recorder_outcome decoded; /* what recorder_decode found (kept across retries) */
    enum recorder_outcome outcome;
    char reason[AY_ERRLEN];
    /* Accepted despite this (a device clock problem, see ay_msgtype any_clock);
     * "" if none. Stored with the message and told in the receipt. */
    char warning[AY_ERRLEN];
    long long record_id; /* messages.id when stored or duplicate */
    int64_t stored_us;
    struct recorder_deadline deadlines[RECORDER_DEADLINES_MAX];
    int ndeadlines;
};

/* Copies topic and payload. NULL when out of memory. Free with recorder_item_free. */
struct recorder_item *recorder_item_new(const char *topic, const void *payload, size_t len,
                                        int64_t received_us);
void recorder_item_free(struct recorder_item *it); /* NULL is a no-op */

/* Decodes and validates: topic in the tree, a known inbound type, a valid
 * protobuf, the contract's rules (ay_schema), and a header that names the
 * same district, school and device as the topic. */
void recorder_decode(struct recorder_item *it, int64_t now_us);

/* Marks the item rejected with a reason (printf-style). */
void recorder_reject(struct recorder_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The referenced record a message needs to exist: an IncidentReport's
 * incident or a HazardUpdate's hazard; NULL for other types. Borrowed. */
const char *recorder_incident_ref(const struct recorder_item *it);
const char *recorder_hazard_ref(const struct recorder_item *it);
/* The incident or hazard a message creates (its own id), or NULL. */
bool recorder_creates_incident(const struct recorder_item *it);
bool recorder_creates_hazard(const struct recorder_item *it);

/* Fills it->deadlines for a message about to be stored, under policy p. */
void recorder_plan_deadlines(struct recorder_item *it, const struct ay_policy *p);

/*
 * Builds the receipt for an item whose outcome is final. On AY_OK *buf is a
 * new packed Receipt the caller frees; topic gets the sender's receipt topic.
 * AY_ERR_NOTFOUND when the sender cannot be addressed (the topic was not a
 * device's topic): the dead letter is the only trace then.
 */
enum ay_err recorder_receipt_pack(const struct recorder_item *it, const char *service_id,
                                  int64_t now_us, uint8_t **buf, size_t *len,
                                  char topic[AY_TOPIC_MAX]);

#endif
