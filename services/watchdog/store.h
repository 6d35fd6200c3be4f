/*
 * store.h - the watchdog's SQL (services/watchdog/sql, embedded as
 * watchdog_sql; lib's ay_lib_sql for new escalations and audit rows).
 *
 * Each function below is the body of one short transaction (an
 * ay_pg_tx_fn: run again from scratch when PostgreSQL says the failure was
 * transient). Due work is claimed with FOR UPDATE SKIP LOCKED, so any
 * number of watchdogs run at once and each row is acted on once.
 * Tables written: deadlines, escalations, notifications, acks,
 * audit_events, device_status. Read: policies, schools, incidents, alarms,
 * devices, schools (the report calendar).
 */
#ifndef WATCHDOG_STORE_H
#define WATCHDOG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_pg.h"
#include "ay_tzcache.h"
#include "watchdog.h"

extern const struct ay_pg_stmt watchdog_sql[];
extern const size_t watchdog_sql_count;

#define WATCHDOG_CLAIM_MAX 200

/* Fire the due deadlines (at most WATCHDOG_CLAIM_MAX): mark them missed,
 * escalate them. */
struct watchdog_fire {
    struct ay_tzcache *zones;
    const char *actor;
    size_t fired;                            /* out */
    int64_t lateness_us[WATCHDOG_CLAIM_MAX]; /* out: fired_at - due_at */
    struct {                                 /* out: what fired, for the log */
        char district[AY_ID_MAX];
        char school[AY_ID_MAX];
        const char *kind; /* "deadline" or "device" */
        char id[72];      /* the device, or the deadline's kind and subject */
    } who[WATCHDOG_CLAIM_MAX];
    const char *event; /* out: the log line's words */
    size_t escalated;  /* out: escalations created */
};
enum ay_err watchdog_store_fire_deadlines(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

/* Flag the devices whose allowed gap ran out (at most WATCHDOG_CLAIM_MAX):
 * an absence each, escalated (reason device offline); lateness_us is how
 * long after the gap ran out. A disabled device just stops being
 * supervised. */
enum ay_err watchdog_store_fire_silent(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

/* Schedule the periodic reports every school owes now (lib/ay_report.h):
 * their deadlines exist before anything arrives, so a missing report is
 * found from the calendar. Reports due more than lookback_s ago are not
 * scheduled afresh (history). */
struct watchdog_schedule {
    struct ay_tzcache *zones;
    int64_t lookback_s;
    size_t scheduled; /* out: deadlines created now */
};
enum ay_err watchdog_store_schedule(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

/* Act on the escalations whose timer is due (reminders, climbs,
 * re-escalations). */
struct watchdog_timers {
    const char *actor;
    size_t acted;    /* out */
    size_t notified; /* out: notifications created */
};
enum ay_err watchdog_store_fire_escalations(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

/* Milliseconds until the earliest timer (*none when there is none). */
enum ay_err watchdog_store_next_due(struct ay_pg *db, int64_t *ms, bool *none, char err[AY_ERRLEN]);

/* Claim pending notifications to publish, leased for lease_s seconds. */
struct watchdog_claim {
    int lease_s;
    struct watchdog_note *notes; /* WATCHDOG_CLAIM_MAX of them, the caller's */
    size_t n;                    /* out */
};
enum ay_err watchdog_store_claim_notes(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

/* Notifications the broker acknowledged (sent) or that failed (lease
 * released). */
struct watchdog_sent {
    const char *actor;
    const char **ok_ids;
    size_t nok;
    const char **failed_ids;
    size_t nfailed;
};
enum ay_err watchdog_store_sent(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

/* Apply a batch of decoded acknowledgements: every ack's outcome is final
 * afterwards (STORED, DUPLICATE or REJECTED). */
struct watchdog_acks {
    struct watchdog_ack **acks;
    size_t n;
    int dead_letter_cap; /* refused acks kept whole per account and hour */
};
enum ay_err watchdog_store_acks(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

#endif
