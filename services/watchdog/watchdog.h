/*
 * watchdog.h - the watchdog's decisions, free of I/O: what a missed
 * deadline becomes, what an escalation message says, and whether an
 * acknowledgement counts.
 *
 * Enforces (shared/domain.md): rule 2 (a missed deadline, late, is
 * escalated to the bureau: 迟报; an alarm without an incident notice:
 * possible concealment, 瞒报), rule 1 and 6 (police and bureau acknowledge;
 * nobody acknowledging climbs the chain), rule 7 (every step is a row).
 * The escalation state machine itself is lib/ay_escalation.
 */
#ifndef WATCHDOG_H
#define WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anyuan/v1/outbound.pb-c.h"
#include "ay_err.h"
#include "ay_escalate.h"
#include "ay_escalation.h"
#include "ay_policy.h"
#include "ay_topic.h"
#include "ay_wire.h"

/* Which route and reason a missed deadline of kind (DeadlineKind) takes. */
void watchdog_missed_route(int deadline_kind, enum ay_route_kind *route, int *reason);

/* An escalation as loaded for its timers or an acknowledgement. */
struct watchdog_esc {
    char id[AY_UUID_STRLEN];
    char district[AY_ID_MAX];
    char school[AY_ID_MAX];
    char subject_id[AY_UUID_STRLEN];
    enum ay_audience audience;
    int reason; /* EscalationReason */
    struct ay_esc state;
    int64_t now_us; /* the database's clock when loaded */
};

/* A notification as claimed to be sent. */
struct watchdog_note {
    char id[AY_UUID_STRLEN];
    char escalation_id[AY_UUID_STRLEN];
    char district[AY_ID_MAX];
    enum ay_audience audience;
    int level;
    char target[AY_TARGET_MAX];
    int kind; /* NotificationKind */
    int64_t ack_due_us;
    int subject_kind; /* SubjectKind */
    char subject_id[AY_UUID_STRLEN];
    char school[AY_ID_MAX];
    char school_zh[96];
    int reason;   /* EscalationReason */
    int severity; /* Severity */
    char summary_zh[AY_SUMMARY_MAX];
    char summary_en[AY_SUMMARY_MAX];
    struct ay_chain chain;
    int missed_kind; /* DeadlineKind, 0 if none */
    int64_t missed_due_us;
    int64_t late_s; /* the missed deadline met this late (a RESOLVED notice) */
    char school_en[96];
};

/*
 * The Escalation message of a notification, packed; topic gets
 * ay/v1/{d}/escalation/{audience}, or for the school audience the school's
 * own feed ay/v1/{d}/escalation/school/{school}. header.messageId is the notification's
 * id, so a re-send is recognisable. A RESOLVED notice of a missed deadline
 * without words of its own (summary_zh "") says the deadline was met and
 * how late. On AY_OK *buf is new (caller frees).
 */
enum ay_err watchdog_escalation_pack(const struct watchdog_note *n, const char *service_id,
                                     int64_t now_us, uint8_t **buf, size_t *len,
                                     char topic[AY_TOPIC_MAX]);
/* The same in form wire: JSON goes on the feed's JSON twin,
 * ay/v1/{d}/escalation/{audience}/json (docs/contract.md 4.5). The same
 * now_us gives the same message in both forms. */
enum ay_err watchdog_escalation_pack_as(const struct watchdog_note *n, const char *service_id,
                                        int64_t now_us, enum ay_wire wire, uint8_t **buf,
                                        size_t *len, char topic[AY_TOPIC_MAX]);

/* ---- acknowledgements ---------------------------------------------------- */

enum watchdog_ack_outcome {
    WATCHDOG_ACK_PENDING,   /* valid so far */
    WATCHDOG_ACK_STORED,    /* applied now */
    WATCHDOG_ACK_DUPLICATE, /* this message id was applied before */
    WATCHDOG_ACK_REJECTED,  /* reason says why */
};

struct watchdog_ack {
    char *topic; /* owned */
    uint8_t *payload;
    size_t len;
    int64_t received_us;
    bool retained;
    char *content_type; /* the MQTT v5 content type; NULL: none */
    enum ay_wire wire;  /* the form it came in (lib/ay_wire); its receipt goes back in it */
    bool topic_ok;
    struct ay_topic where; /* kind: audience, device: account */
    Anyuan__V1__Ack *msg;  /* owned; NULL if undecodable */
    const char *msg_id;    /* borrowed from msg */
    enum watchdog_ack_outcome decoded, outcome;
    char reason[AY_ERRLEN];
    /* A school's ack (watchdog_ack_is_school): the school of the
     * acknowledging device in the registry, set before watchdog_ack_apply;
     * "" when it is not an enabled device. */
    char school[AY_ID_MAX];
    /* Set by watchdog_ack_apply: the escalation acknowledged (the ack may
     * name it, or the alarm of a police alarm escalation), and whether the
     * ack changed it. */
    char esc_id[AY_UUID_STRLEN];
    bool changed;
};

struct watchdog_ack *watchdog_ack_new(const char *topic, const void *payload, size_t len,
                                      int64_t received_us, bool retained);
void watchdog_ack_free(struct watchdog_ack *a); /* NULL is a no-op */
/* Keeps a copy of the content type it came with (NULL: none). AY_ERR_NOMEM. */
enum ay_err watchdog_ack_set_content_type(struct watchdog_ack *a, const char *content_type);

/* Decodes and validates: the topic is an account's ack topic, the payload
 * a valid Ack in protobuf or JSON (lib/ay_wire: the content type, else the
 * first byte; ay_schema), the header's district is the topic's and its
 * deviceId the account the topic names. */
void watchdog_ack_decode(struct watchdog_ack *a, int64_t now_us);

/* Whether a decoded ack came from a school's device (ay/v1/{d}/ack/school/{device}):
 * its device's school is then looked up (a->school) before it is applied. */
bool watchdog_ack_is_school(const struct watchdog_ack *a);

/* Whether a device of device_school may acknowledge an escalation to the
 * school audience about escalation_school: only its own school's. */
bool watchdog_ack_school_may(const char *escalation_school, const char *device_school);

/* The escalation an ack refers to among the n loaded: the one of its
 * escalationId, else (an alarm on the police feed is acknowledged by its
 * own id) the alarm escalation of that alarm to the ack's audience. */
struct watchdog_esc *watchdog_ack_target(const struct watchdog_ack *a, struct watchdog_esc *e,
                                         size_t n);

/*
 * Applies a decoded ack to its escalation (e, NULL when unknown): it must
 * exist, be of the topic's district and audience, and for the school
 * audience be about the school of the acknowledging device (a->school,
 * refused with a reason in Chinese and English); then ay_esc_on_ack at
 * the time the backbone received it. An ack of a closed escalation is
 * stored but changes nothing (said in the receipt).
 */
void watchdog_ack_apply(struct watchdog_ack *a, struct watchdog_esc *e);

/* The receipt for an ack whose outcome is final, on
 * ay/v1/{d}/ack-receipt/{audience}/{account}, in the form the ack came in
 * (a->wire). AY_ERR_NOTFOUND when the topic names no account. */
enum ay_err watchdog_ack_receipt_pack(const struct watchdog_ack *a, const char *service_id,
                                      int64_t now_us, uint8_t **buf, size_t *len,
                                      char topic[AY_TOPIC_MAX]);

#endif
