/*
 * hazard.h - the closed loop of a hazard (domain.md rule 3, "Hazards are a
 * closed loop"), as pure decisions: which step may follow which, who may
 * verify, when a report must carry interim measures, and what a step does
 * to the hazard's rectification deadline.
 *
 *   registered --> rectifying --> rectified --> verified --> closed (销号)
 *                    ^   |  (progress, newDeadline)  |  |
 *                    |   '--'                        |  |
 *                    '------ reopened <--------------'--'
 *
 * No step is skipped; closing follows a verification; the verifier is
 * neither the person who reported the hazard (foundBy) nor the person
 * responsible for rectifying it (names compared without surrounding
 * spaces, ASCII case ignored); nothing follows a closing.
 *
 * Owns: nothing beyond the caller's structs. Does not own: the database
 * (store.c loads a hazard's state and writes the steps); the escalations a
 * step causes or ends (recorder.c). Threads: pure; thread-safe.
 */
#ifndef RECORDER_HAZARD_H
#define RECORDER_HAZARD_H

#include <stdbool.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_policy.h"
#include "ay_schema.h"

#define RECORDER_HAZARD_TEXT_MAX (AY_SCHEMA_SHORT_MAX + 1)

/* The state of a hazard's current rectification deadline. */
enum recorder_hazard_dl {
    RECORDER_HAZARD_DL_NONE, /* not known */
    RECORDER_HAZARD_DL_PENDING,
    RECORDER_HAZARD_DL_MISSED,
    RECORDER_HAZARD_DL_MET,
    RECORDER_HAZARD_DL_CANCELLED,
};

/* What the loop needs to know of a hazard: as loaded (load_hazards.sql),
 * as registered by a report of the same batch, or as left by an earlier
 * step of the same batch. */
struct recorder_hazard {
    int status;   /* HazardStatus; 0 when not known */
    int grade;    /* HazardGrade */
    int category; /* HazardCategory */
    bool beyond_authority;
    char reporter[RECORDER_HAZARD_TEXT_MAX];    /* foundBy.name */
    char responsible[RECORDER_HAZARD_TEXT_MAX]; /* responsible.name */
    char place[RECORDER_HAZARD_TEXT_MAX];
    /* Its current rectification deadline: the newest of the series. */
    int dl_seq;
    enum recorder_hazard_dl dl_status;
    int64_t dl_due_us;
};

/* "pending", "missed", "met", "cancelled" (deadlines.status) and back;
 * anything else is RECORDER_HAZARD_DL_NONE. */
enum recorder_hazard_dl recorder_hazard_dl_parse(const char *status);

/*
 * A step of the loop: hazard h (its id in hazard_id, for the reason) moves
 * to status `to` (HazardStatus), done by the person named by_name. AY_OK:
 * allowed, *after is h in its new status (the deadline is the caller's:
 * recorder_hazard_plan_deadline). AY_ERR_INVALID: refused, reason names the
 * field and the rule ("hazard-update.status: ..."), *after is untouched.
 */
enum ay_err recorder_hazard_step(const struct recorder_hazard *h, const char *hazard_id, int to,
                                 const char *by_name, struct recorder_hazard *after,
                                 char reason[AY_ERRLEN]);

/*
 * A hazard report's interim measures (临时措施): required for a major
 * hazard, for one beyond the school's authority, and for one whose
 * rectification is due (due_us) later than the policy's
 * interim_measures_after from received_us (it cannot be fixed at once).
 * AY_ERR_INVALID with reason ("hazard.interimMeasures: required ...") when
 * they are required and interim_measures is empty or blank.
 */
enum ay_err recorder_hazard_check_interim(const struct recorder_hazard *h,
                                          const char *interim_measures, int64_t due_us,
                                          int64_t received_us, const struct ay_district_policy *p,
                                          char reason[AY_ERRLEN]);

/* What a step does to the rectification deadline. */
enum recorder_hazard_dl_action {
    RECORDER_HAZARD_DL_KEEP,  /* nothing */
    RECORDER_HAZARD_DL_MEET,  /* the current one is met (rectified) */
    RECORDER_HAZARD_DL_MOVE,  /* the current one, pending, gets due_us */
    RECORDER_HAZARD_DL_START, /* a new one of the series (seq), due due_us */
};

struct recorder_hazard_dl_plan {
    enum recorder_hazard_dl_action action;
    int seq;
    int64_t due_us;
};

/*
 * The deadline of a step to `to` of hazard h (its state before the step),
 * received at received_us with new_deadline_us (0: none):
 *   rectified, verified, closed: the current deadline, pending or missed,
 *     is met;
 *   reopened: a new deadline of the series, at new_deadline_us, else the
 *     policy's hazard_rectification from received_us;
 *   any other step with new_deadline_us: the current deadline moves if it
 *     is pending; a missed one stays missed (it was) and a new one starts.
 * Writes *out and applies the plan to *after (its dl_* fields).
 */
void recorder_hazard_plan_deadline(const struct recorder_hazard *h, int to, int64_t new_deadline_us,
                                   int64_t received_us, const struct ay_district_policy *p,
                                   struct recorder_hazard_dl_plan *out,
                                   struct recorder_hazard *after);

/* Whether a step to `to` from h (its state before) moves the hazard on:
 * another status, or a new deadline. Such a step ends the follow-up of an
 * overdue rectification. */
bool recorder_hazard_is_move(const struct recorder_hazard *h, int to, int64_t new_deadline_us);

#endif
