/*
 * ay_escalate.h - new escalations: which audiences a fact is escalated to
 * (the district policy's routes), their chains, first notifications and
 * the words people read; and the SQL that stores them with their audit
 * rows, in the caller's transaction (whatever creates an obligation
 * commits with the fact that caused it).
 *
 * Used by the recorder (an incident reported, routed by severity; a
 * suspected crime; a notice that arrives late) and the watchdog (a missed
 * deadline; an alarm without a notice). The SQL is lib's own statement set
 * (lib/sql, embedded as ay_lib_sql), prepared by every service that stores
 * escalations.
 * Uniqueness: the database keeps one escalation per missed deadline and
 * audience, and one per subject, reason and audience otherwise; storing a
 * plan that already exists changes nothing (and sends nothing twice).
 * Threads: ay_escalate_plan is pure but for random ids; the store functions
 * use the caller's connection.
 */
#ifndef AY_ESCALATE_H
#define AY_ESCALATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_escalation.h"
#include "ay_pg.h"
#include "ay_policy.h"
#include "ay_topic.h"
#include "ay_uuid.h"

#define AY_WHAT_MAX    160
#define AY_SUMMARY_MAX 512

extern const struct ay_pg_stmt ay_lib_sql[];
extern const size_t ay_lib_sql_count;

/* What an escalation is about, in ids and in words. */
struct ay_esc_subject {
    int subject_kind; /* SubjectKind value */
    char subject_id[AY_UUID_STRLEN];
    char district[AY_ID_MAX];
    char school[AY_ID_MAX];
    char school_zh[96]; /* "" -> the school id */
    char school_en[96];
    char what_zh[AY_WHAT_MAX]; /* e.g. "校园欺凌事件（一般（IV级））" */
    char what_en[AY_WHAT_MAX];
    int severity; /* Severity value, 0 if none */
};

/* The deadline that was missed, if that is why. */
struct ay_esc_missed {
    bool have;
    int kind; /* DeadlineKind value */
    char subject_id[AY_UUID_STRLEN];
    int seq;
    int64_t due_us;
};

struct ay_esc_plan {
    char id[AY_UUID_STRLEN];
    enum ay_audience audience;
    int reason; /* EscalationReason value */
    struct ay_esc_subject subject;
    struct ay_esc_missed missed;
    struct ay_esc state;
    struct ay_esc_notice notices[AY_ESC_NOTICES_MAX];
    char notice_ids[AY_ESC_NOTICES_MAX][AY_UUID_STRLEN];
    int nnotices;
    char summary_zh[AY_SUMMARY_MAX];
    char summary_en[AY_SUMMARY_MAX];
};

/* ay_escalate_plan flags. AY_ESCALATE_SILENT_START: the first step was told
 * by other means (the police alarm feed carries every alarm at once): no
 * first notification, but its acknowledgement clock runs, and the chain
 * climbs from there. */
#define AY_ESCALATE_SILENT_START 1u
/* AY_ESCALATE_SUPERVISED: tracked supervision (挂牌督办, a major hazard):
 * once acknowledged it is reminded every policy major_hazard_reminder and
 * no acknowledgement closes it; the end of its subject does
 * (lib/ay_escalation.h). */
#define AY_ESCALATE_SUPERVISED 2u

/*
 * The escalations route asks for (one per audience it names, 0..3), with
 * reason, started at now_us. utc_offset_s is the district's offset at the
 * missed due time, for the words ("应于 11-24 14:05 前"). Returns how many
 * plans were written to out.
 */
int ay_escalate_plan(const struct ay_district_policy *p, enum ay_route_kind route, int reason,
                     const struct ay_esc_subject *s, const struct ay_esc_missed *m,
                     int32_t utc_offset_s, int64_t now_us, unsigned flags,
                     struct ay_esc_plan out[AY_AUDIENCE_COUNT]);

/* An audit row to write with ay_escalate_store_audit. */
struct ay_audit {
    const char *district;
    const char *school;     /* may be NULL */
    const char *subject_id; /* may be NULL */
    const char *escalation_id;
    long long deadline_id; /* 0: none */
    const char *action;    /* "escalation.created", "deadline.missed", ... */
    const char *detail;    /* a JSON object as text, may be NULL */
    const char *actor;     /* who, when not the caller's actor (an account); may be NULL */
};

/*
 * Stores plans[0..n) (escalations, their first notifications, an audit row
 * each) in the caller's transaction, as `actor`. A plan the database
 * already has (same deadline and audience, or same subject, reason and
 * audience) is skipped: *stored (may be NULL) counts the new ones.
 */
enum ay_err ay_escalate_store(struct ay_pg *db, const struct ay_esc_plan *plans, size_t n,
                              const char *actor, int *stored, char err[AY_ERRLEN]);

/* A notification row (lib/sql/ay_insert_notifications.sql). */
struct ay_esc_note_row {
    const char *id;
    const char *escalation_id;
    const char *district;
    enum ay_audience audience;
    int level;
    const char *target;
    int kind; /* NotificationKind */
    int64_t ack_due_us;
};

/* Inserts notification rows (the caller's transaction). */
enum ay_err ay_escalate_store_notes(struct ay_pg *db, const struct ay_esc_note_row *rows, size_t n,
                                    char err[AY_ERRLEN]);

/* A refused message, kept as a dead letter (at most cap per device and
 * hour, the rest counted: lib/sql/ay_insert_dead_letters.sql). */
struct ay_dead_letter {
    int64_t received_us;
    const char *topic;
    const char *district; /* may be NULL */
    const char *school;   /* may be NULL */
    const char *device;   /* may be NULL */
    const char *msg_id;   /* may be NULL */
    const char *reason;
    const void *payload; /* the bytes as received */
    size_t len;
    const char *wire_format;  /* lib/ay_wire's name of the form taken: NULL = "protobuf" */
    const char *content_type; /* as sent; NULL: none */
};
enum ay_err ay_escalate_store_dead_letters(struct ay_pg *db, const struct ay_dead_letter *rows,
                                           size_t n, int cap, char err[AY_ERRLEN]);

/* Appends audit rows (the caller's transaction). */
enum ay_err ay_escalate_store_audit(struct ay_pg *db, const struct ay_audit *rows, size_t n,
                                    const char *actor, char err[AY_ERRLEN]);

/* The escalation's chain as the JSON kept in escalations.chain, and back. */
char *ay_escalate_chain_json(const struct ay_chain *c);
enum ay_err ay_escalate_chain_parse(const char *json, struct ay_chain *out, char err[AY_ERRLEN]);

/* "what" words of an incident from its category and severity value names. */
void ay_escalate_incident_words(const char *category, const char *severity,
                                struct ay_esc_subject *s);

/* The "what" words of a subject: an incident (category and severity value
 * names), an alarm (its AlarmKind value name), a device (its id and where
 * it is), a hazard (its HazardCategory and HazardGrade value names as
 * category and severity, its place as location), a monthly report. Unused
 * arguments may be "". */
void ay_escalate_words(int subject_kind, const char *category, const char *severity,
                       const char *alarm_kind, const char *device, const char *location,
                       struct ay_esc_subject *s);

/* The summary of a RESOLVED notification of a missed deadline (its kind:
 * DeadlineKind) met late_s seconds after its due time: the follow-up is
 * over. school_en may be "" (school_zh is used). */
void ay_escalate_met_summary(const char *school_zh, const char *school_en, int deadline_kind,
                             int64_t late_s, char zh[AY_SUMMARY_MAX], char en[AY_SUMMARY_MAX]);

/* The summary of a RESOLVED notification: what an escalation of reason
 * (EscalationReason) about s told is over (a device back online). */
void ay_escalate_resolved_summary(int reason, const struct ay_esc_subject *s,
                                  char zh[AY_SUMMARY_MAX], char en[AY_SUMMARY_MAX]);

/* The summary of a RESOLVED notification of a hazard's escalations, ended
 * by its step to hazard_status (HazardStatus): closed (销号) ends its
 * supervision and every escalation of it; another step ends the follow-up
 * of its overdue rectification. */
void ay_escalate_hazard_resolved_summary(int hazard_status, const struct ay_esc_subject *s,
                                         char zh[AY_SUMMARY_MAX], char en[AY_SUMMARY_MAX]);

#endif
