/*
 * ay_escalation.h - the life of an escalation, as pure decisions on times
 * passed in: who is told first, when to remind, when to climb to the next
 * step of the chain, when an acknowledged but unresolved escalation is
 * escalated again. Used by the recorder (escalations it creates with the
 * fact that causes them) and the watchdog (timers, acknowledgements).
 *
 * Rules (shared/escalation-notes.md, "Where Anyuan must differ"):
 * - open: the step's ack timeout is counted from when the step began; when
 *   it passes without an acknowledgement the next step is told (CLIMB),
 *   timed from the *scheduled* moment, so lateness of one firing never adds
 *   up along the chain; in between, the step is reminded every `reminder`.
 *   At the last step the reminders go on for as long as nobody acknowledges
 *   (persistence gets louder, never silent).
 * - acknowledged (received, dispatched, on scene): no reminders; after the
 *   policy's unresolved time it is escalated again to the next step
 *   (REESCALATION) and is open again. A later progress ack restarts that
 *   time. Resolved or false alarm: closed, no more timers.
 * - after an outage, the current state is acted on once: several missed
 *   climbs become one climb to the step where the escalation should be
 *   now; several missed reminders become one.
 * - tracked supervision (挂牌督办, supervise_s > 0: a major hazard): open,
 *   it reminds and climbs like any other; acknowledged, it is reminded
 *   every supervise_s instead of being escalated again, and no
 *   acknowledgement closes it (resolved is taken as received): only the end
 *   of what it supervises does (the recorder resolves it when the hazard is
 *   closed, 销号), so the reminders never stop on an ack alone.
 * Threads: pure; thread-safe.
 */
#ifndef AY_ESCALATION_H
#define AY_ESCALATION_H

#include <stdbool.h>
#include <stdint.h>

#include "ay_policy.h"

enum ay_esc_status {
    AY_ESC_OPEN,
    AY_ESC_ACKNOWLEDGED,
    AY_ESC_RESOLVED,
    AY_ESC_CANCELLED,
};

/* Values of the contract's NotificationKind. */
enum ay_esc_kind {
    AY_NOTIFY_FIRST = 1,
    AY_NOTIFY_REMINDER = 2,
    AY_NOTIFY_CLIMB = 3,
    AY_NOTIFY_REESCALATION = 4,
};

struct ay_esc {
    enum ay_esc_status status;
    int level;                  /* the step now told, 1..chain.nsteps */
    int64_t level_since_us;     /* when that step's ack clock began */
    int64_t last_notified_us;   /* the last message to the audience */
    int64_t acked_at_us;        /* the last progress ack (ACKNOWLEDGED) */
    int64_t reescalate_after_s; /* policy: acknowledged but unresolved */
    int64_t supervise_s;        /* > 0: tracked supervision, reminded this often once
                                   acknowledged (policy major_hazard_reminder) */
    struct ay_chain chain;
};

/* One message to send: the step, why, and the acknowledgement due time. */
struct ay_esc_notice {
    int level;
    enum ay_esc_kind kind;
    int64_t ack_due_us;
};

#define AY_ESC_NOTICES_MAX AY_CHAIN_MAX

/*
 * A new escalation told at once to steps 1..start_step (a start step above 1
 * tells the higher levels at once, e.g. the city bureau for a major
 * incident); its clock runs at start_step. Writes *e and out[0..*n).
 */
void ay_esc_start(struct ay_esc *e, const struct ay_chain *chain, int start_step,
                  int64_t reescalate_after_s, int64_t now_us,
                  struct ay_esc_notice out[AY_ESC_NOTICES_MAX], int *n);

/* When the escalation next needs the watchdog; 0 when never (closed). */
int64_t ay_esc_next_action_us(const struct ay_esc *e);

/* The acknowledgement due time of the current step (0 when closed). */
int64_t ay_esc_ack_due_us(const struct ay_esc *e);

/* Its next action is due (now_us >= ay_esc_next_action_us): updates *e and
 * writes what to send (at most one message). */
void ay_esc_on_timer(struct ay_esc *e, int64_t now_us, struct ay_esc_notice *out, int *n);

/*
 * An acknowledgement of kind (the contract's AckKind value) at now_us.
 * Returns false (and changes nothing) when it does not apply: unknown kind,
 * or the escalation is already closed. Under tracked supervision every
 * kind acknowledges and none closes.
 */
bool ay_esc_on_ack(struct ay_esc *e, int ack_kind, int64_t now_us);

/* "open", "acknowledged", "resolved", "cancelled" and back. */
const char *ay_esc_status_name(enum ay_esc_status s);
bool ay_esc_status_parse(const char *s, enum ay_esc_status *out);

#endif
