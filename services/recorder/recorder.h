/*
 * recorder.h - the recorder's decisions, free of I/O: what a message from the
 * broker is, whether it is acceptable given what the database knows, which
 * deadlines it starts or meets, and what receipt its sender gets.
 *
 * Enforces (shared/domain.md): rule 2 (deadlines of notices and written
 * reports, per district policy, lateness judged against when the backbone
 * received the message), rule 3 (hazards as a closed loop, hazard.h: every
 * step in order, verified by someone else, interim measures, the
 * rectification deadline; major hazards supervised until closed, hazards
 * beyond authority to the local government), rule 4
 * (monthly report due date), rule 7 (everything leaves a trace: a refused
 * message is kept as a dead letter with its reason, never dropped).
 *
 * Lifecycle of a batch: recorder_item_new (a copy of what arrived) ->
 * recorder_decode (PENDING or REJECTED; no database) -> store.c loads the
 * facts the batch needs (struct recorder_facts) -> recorder_decide (pure:
 * PENDING to be stored, DUPLICATE or REJECTED; deadlines planned) ->
 * store.c writes and marks what it inserted STORED -> recorder_receipt_pack
 * after the commit -> recorder_item_free.
 */
#ifndef RECORDER_H
#define RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "ay_deadline.h"
#include "ay_err.h"
#include "ay_escalate.h"
#include "ay_policy.h"
#include "ay_report.h"
#include "ay_msgtype.h"
#include "ay_topic.h"
#include "ay_uuid.h"
#include "ay_wire.h"
#include "hazard.h"

enum recorder_outcome {
    RECORDER_PENDING,   /* valid so far; the next step decides */
    RECORDER_STORED,    /* committed now */
    RECORDER_DUPLICATE, /* committed earlier under the same message id */
    RECORDER_REJECTED,  /* kept as a dead letter; reason says why */
};

/* What a stored message does to a deadline. */
enum recorder_dl_action {
    RECORDER_DL_START,  /* a new pending deadline */
    RECORDER_DL_MET,    /* a new deadline, met by this very message */
    RECORDER_DL_MEET,   /* meets an existing pending (or missed) deadline */
    RECORDER_DL_MOVE,   /* moves an existing pending deadline to due_us */
    RECORDER_DL_REOPEN, /* makes a met deadline pending again (due_us if > 0) */
    RECORDER_DL_CANCEL, /* an expectation that no longer holds (a false alarm) */
};

struct recorder_deadline {
    enum recorder_dl_action action;
    int kind;         /* Anyuan__V1__DeadlineKind */
    int subject_kind; /* Anyuan__V1__SubjectKind */
    char subject_id[AY_UUID_STRLEN];
    int seq;         /* position in a series (follow-up reports); 0 otherwise */
    int64_t due_us;  /* 0: unknown (a MEET of a deadline the database did not report) */
    int64_t late_us; /* met after due_us by this much (received time); 0 if in time */
    char period[11]; /* a periodic report's period, "YYYY-MM-01"; "" otherwise */
};

#define RECORDER_DEADLINES_MAX 6
/* Escalations one message may cause: its routing (up to three audiences),
 * a suspected crime, a late deadline. */
#define RECORDER_PLANS_MAX (3 * AY_AUDIENCE_COUNT)

/* A device's supervision state (device_status), before or after a message. */
struct recorder_dev_state {
    char device[AY_ID_MAX];
    bool offline;                 /* flagged: silent, or gone by its last will */
    char episode[AY_UUID_STRLEN]; /* the open absence's id ("" if none) */
    bool tamper, fault, low_battery;
};

struct recorder_item {
    /* As received (owned). */
    char *topic;
    uint8_t *payload;
    size_t len;
    int64_t received_us;
    bool retained;      /* published with the retain flag */
    char *content_type; /* the MQTT v5 content type; NULL: none (recorder_item_set_content_type) */
    /* Set by recorder_decode. */
    enum ay_wire wire; /* the form it came in (lib/ay_wire); its receipt goes back in it */
    bool topic_ok;
    struct ay_topic where;
    const struct ay_msgtype *type;
    ProtobufCMessage *msg;         /* owned; NULL if it could not be decoded */
    const char *msg_id;            /* borrowed from msg's header; NULL if unknown */
    enum recorder_outcome decoded; /* what recorder_decode found (kept across retries) */
    /* Set by recorder_decide and the store; reset before every attempt. */
    enum recorder_outcome outcome;
    char reason[AY_ERRLEN];
    /* Accepted despite this (a device clock problem, see ay_schema); "" if
     * none. Stored with the message and told in the receipt. */
    char warning[AY_ERRLEN];
    long long record_id; /* messages.id when stored or duplicate */
    int64_t stored_us;
    /* A later copy of an id stored by this batch: the item it repeats. */
    const struct recorder_item *copy_of;
    struct recorder_deadline deadlines[RECORDER_DEADLINES_MAX];
    int ndeadlines;
    /* Escalations it causes (allocated by recorder_decide when needed). */
    struct ay_esc_plan *plans;
    int nplans;
    /* A status message: the device's supervision state after it. */
    bool supervised;
    struct recorder_dev_state sup;
    int64_t silent_after_us;             /* 0 when offline */
    char ended_episode[AY_UUID_STRLEN];  /* the absence its return ends, or "" */
    char (*ended_words)[AY_SUMMARY_MAX]; /* its return in words: zh, en (allocated) */
    /* An alarm: a drill (isTest, or a test window of its button). */
    bool drill;
    /* A periodic report: its period and the id the watchdog scheduled it by
     * (report_subject "" for other messages). */
    struct ay_report_period report;
    char report_subject[AY_UUID_STRLEN];
    /* A hazard report or update: the hazard after it, the status it moved
     * from (0 for a report), what it does to the rectification deadline,
     * whether it moved the hazard on (another status or a new deadline:
     * the follow-up of an overdue rectification ends; a closing ends every
     * escalation of the hazard), and the words that tell those it ended
     * (zh, en; allocated). */
    struct recorder_hazard hazard;
    int hazard_from;
    struct recorder_hazard_dl_plan hazard_dl;
    bool hazard_moved;
    char (*moved_words)[AY_SUMMARY_MAX];
};

/* Copies topic and payload. NULL when out of memory. Free with recorder_item_free. */
struct recorder_item *recorder_item_new(const char *topic, const void *payload, size_t len,
                                        int64_t received_us, bool retained);
void recorder_item_free(struct recorder_item *it); /* NULL is a no-op */
/* Keeps a copy of the content type it came with (NULL: none). AY_ERR_NOMEM. */
enum ay_err recorder_item_set_content_type(struct recorder_item *it, const char *content_type);

/* Decodes and validates: not retained, topic in the tree, a known inbound
 * type, a valid protobuf or JSON message (lib/ay_wire: the content type,
 * else the first byte), the contract's rules (ay_schema), and a header
 * that names the same district, school and device as the topic. Times far
 * from now_us are a warning for every type (see recorder.c). */
void recorder_decode(struct recorder_item *it, int64_t now_us);

/* Marks the item rejected with a reason (printf-style). */
void recorder_reject(struct recorder_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The referenced record a message needs to exist: an IncidentReport's
 * incident or a HazardUpdate's hazard; NULL for other types. Borrowed. */
const char *recorder_incident_ref(const struct recorder_item *it);
const char *recorder_hazard_ref(const struct recorder_item *it);
/* The scheduled id of a periodic report's deadline, or NULL. */
const char *recorder_periodic_ref(const struct recorder_item *it);

/* ---- facts: what the database knows about a batch (loaded by store.c) ---- */

struct recorder_known_msg { /* a message id already stored */
    char msg_id[AY_UUID_STRLEN];
    long long record_id;
    int64_t stored_us;
    char device[AY_ID_MAX];
    char kind[24];
};

struct recorder_device {
    char id[AY_ID_MAX];
    char school[AY_ID_MAX];
    char district[AY_ID_MAX];
    bool enabled;
    bool in_test_window; /* a drill window is open now: its alarms are tests */
    int heartbeat_s;     /* the registered heartbeat interval */
    char location[128];  /* where it is, in words */
};

struct recorder_district {
    char id[AY_ID_MAX];
    struct ay_district_policy policy;
    const struct ay_tz *tz; /* the policy's zone (borrowed from the caller's cache) */
};

struct recorder_school {
    char id[AY_ID_MAX];
    char name_zh[96];
    char name_en[96];
};

struct recorder_subject { /* an incident or a hazard */
    char id[AY_UUID_STRLEN];
    char school[AY_ID_MAX];
};

struct recorder_hazard_fact { /* a hazard's state in the loop, as loaded */
    char id[AY_UUID_STRLEN];
    struct recorder_hazard hazard;
};

struct recorder_open_deadline { /* pending or missed */
    char created_by[AY_UUID_STRLEN];
    int kind;
    int subject_kind;
    char subject_id[AY_UUID_STRLEN];
    int64_t due_us;
    int seq;
    int64_t created_us;
};

struct recorder_facts {
    struct recorder_known_msg *known;
    size_t nknown;
    struct recorder_device *devices;
    size_t ndevices;
    struct recorder_district *districts;
    size_t ndistricts;
    struct recorder_subject *incidents;
    size_t nincidents;
    struct recorder_subject *hazards;
    size_t nhazards;
    struct recorder_open_deadline *deadlines;
    size_t ndeadlines;
    struct recorder_school *schools;
    size_t nschools;
    struct recorder_dev_state *dev_states; /* device_status of the batch's devices */
    size_t ndev_states;
    struct recorder_hazard_fact *hazard_states; /* of the hazards the updates name */
    size_t nhazard_states;
};

/* Sorts the arrays by their ids so that lookups are binary searches. */
void recorder_facts_sort(struct recorder_facts *f);
/* Frees the arrays (the struct itself is the caller's). */
void recorder_facts_cleanup(struct recorder_facts *f);

/*
 * The decision for items[0..n) (PENDING after decode), in order:
 * an id already stored is a DUPLICATE (same device, same type: a re-send;
 * the first storage stands) or REJECTED (reused); an id repeated within the
 * batch likewise (copy_of names the first); the device must be registered,
 * enabled and belong to the topic's school and district; a report's
 * incident and an update's hazard must exist in the same school (or be
 * created earlier in the batch); a hazard report must carry interim
 * measures when the loop says so, and an update must be a step the loop
 * allows from the hazard's state (as loaded, or as left by the batch's
 * earlier messages about it, in order); then the deadlines are planned
 * under the district's policy. What stays PENDING is to be stored.
 */
void recorder_decide(struct recorder_item **items, size_t n, const struct recorder_facts *f);

/* Fills it->deadlines (and it->plans: the escalations it causes) for a
 * message about to be stored, under its district's policy d. f may be
 * NULL (no open deadlines known, no school names). A hazard update's
 * deadline is the one recorder_decide planned from the hazard's state
 * (it->hazard_dl). */
void recorder_plan_deadlines(struct recorder_item *it, const struct recorder_district *d,
                             const struct recorder_facts *f);

/*
 * Builds the receipt for an item whose outcome is final. On AY_OK *buf is a
 * new Receipt in the form the item came in (it->wire: protobuf, or JSON for
 * a JSON sender) the caller frees; topic gets the sender's receipt topic.
 * AY_ERR_NOTFOUND when the sender cannot be addressed (the topic was not a
 * device's topic): the dead letter is the only trace then.
 */
enum ay_err recorder_receipt_pack(const struct recorder_item *it, const char *service_id,
                                  int64_t now_us, uint8_t **buf, size_t *len,
                                  char topic[AY_TOPIC_MAX]);

/* The reason text of a STORED/DUPLICATE receipt: clock warnings and
 * lateness, "" if none. Writes at most cap bytes. */
void recorder_receipt_note(const struct recorder_item *it, char *buf, size_t cap);

#endif
