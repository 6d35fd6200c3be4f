/*
 * ay_escalation.c - the escalation state machine; see ay_escalation.h.
 */
#include "ay_escalation.h"

#include <string.h>

#define US_PER_S 1000000LL

/* AckKind values of the contract. */
enum {
    ACK_RECEIVED = 1,
    ACK_DISPATCHED = 2,
    ACK_ON_SCENE = 3,
    ACK_RESOLVED = 4,
    ACK_FALSE_ALARM = 5,
};

static const char *const status_names[] = {"open", "acknowledged", "resolved", "cancelled"};

const char *ay_esc_status_name(enum ay_esc_status s)
{
    return (unsigned)s < 4 ? status_names[s] : "open";
}

bool ay_esc_status_parse(const char *s, enum ay_esc_status *out)
{
    for (int i = 0; s != NULL && i < 4; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum ay_esc_status)i;
            return true;
        }
    }
    return false;
}

static const struct ay_chain_step *step_of(const struct ay_esc *e)
{
    int i = e->level < 1 ? 0 : e->level > e->chain.nsteps ? e->chain.nsteps - 1 : e->level - 1;
    return &e->chain.steps[i];
}

static bool at_last_step(const struct ay_esc *e)
{
    return e->level >= e->chain.nsteps;
}

int64_t ay_esc_ack_due_us(const struct ay_esc *e)
{
    if (e->status != AY_ESC_OPEN || e->chain.nsteps == 0)
        return 0;
    return e->level_since_us + step_of(e)->ack_timeout_s * US_PER_S;
}

static int64_t reminder_due_us(const struct ay_esc *e)
{
    return e->last_notified_us + step_of(e)->reminder_s * US_PER_S;
}

/* When a notification due at first (then every every_us) and sent now
 * counts as sent: a little late (less than half an interval: the watchdog
 * was busy), at its scheduled time, so the next one keeps the schedule
 * (no drift); much later (the watchdog was down), now, so the next one is a
 * whole interval away (no burst of the times missed meanwhile). */
static int64_t on_schedule(int64_t first, int64_t every_us, int64_t now)
{
    if (every_us <= 0 || now <= first)
        return first < now ? first : now;
    int64_t slot = first + (now - first) / every_us * every_us;
    return now - slot < every_us / 2 ? slot : now;
}

/* Under supervision, acknowledged: the next reminder, a whole interval
 * after the later of the acknowledgement and the last message. */
static int64_t supervision_due_us(const struct ay_esc *e)
{
    int64_t from = e->acked_at_us > e->last_notified_us ? e->acked_at_us : e->last_notified_us;
    return from + e->supervise_s * US_PER_S;
}

int64_t ay_esc_next_action_us(const struct ay_esc *e)
{
    if (e->chain.nsteps == 0)
        return 0;
    switch (e->status) {
    case AY_ESC_OPEN: {
        int64_t remind = reminder_due_us(e);
        if (at_last_step(e))
            return remind;
        int64_t climb = ay_esc_ack_due_us(e);
        return remind < climb ? remind : climb;
    }
    case AY_ESC_ACKNOWLEDGED:
        if (e->supervise_s > 0)
            return supervision_due_us(e);
        return e->reescalate_after_s > 0 ? e->acked_at_us + e->reescalate_after_s * US_PER_S : 0;
    default:
        return 0;
    }
}

static void notice(const struct ay_esc *e, enum ay_esc_kind kind, struct ay_esc_notice *out)
{
    out->level = e->level;
    out->kind = kind;
    out->ack_due_us = ay_esc_ack_due_us(e);
}

void ay_esc_start(struct ay_esc *e, const struct ay_chain *chain, int start_step,
                  int64_t reescalate_after_s, int64_t now_us,
                  struct ay_esc_notice out[AY_ESC_NOTICES_MAX], int *n)
{
    memset(e, 0, sizeof(*e));
    e->chain = *chain;
    e->status = AY_ESC_OPEN;
    e->reescalate_after_s = reescalate_after_s;
    if (start_step < 1)
        start_step = 1;
    if (start_step > chain->nsteps)
        start_step = chain->nsteps;
    e->level_since_us = now_us;
    e->last_notified_us = now_us;
    *n = 0;
    for (int s = 1; s <= start_step && *n < AY_ESC_NOTICES_MAX; s++) {
        e->level = s;
        notice(e, AY_NOTIFY_FIRST, &out[(*n)++]);
    }
    /* Only the start step's clock runs: lower steps were told, not asked. */
    for (int i = 0; i < *n; i++)
        out[i].ack_due_us = ay_esc_ack_due_us(e);
}

void ay_esc_on_timer(struct ay_esc *e, int64_t now_us, struct ay_esc_notice *out, int *n)
{
    *n = 0;
    if (e->chain.nsteps == 0)
        return;
    if (e->status == AY_ESC_ACKNOWLEDGED) {
        int64_t due = ay_esc_next_action_us(e);
        if (due == 0 || now_us < due)
            return;
        if (e->supervise_s > 0) {
            /* Supervised: the same step is reminded until the subject ends. */
            e->last_notified_us = on_schedule(due, e->supervise_s * US_PER_S, now_us);
            notice(e, AY_NOTIFY_REMINDER, out);
            *n = 1;
            return;
        }
        /* Acknowledged but still unresolved: the next step, asked again. */
        e->status = AY_ESC_OPEN;
        if (!at_last_step(e))
            e->level++;
        e->level_since_us = due;
        e->last_notified_us = on_schedule(due, step_of(e)->reminder_s * US_PER_S, now_us);
        notice(e, AY_NOTIFY_REESCALATION, out);
        *n = 1;
        return;
    }
    if (e->status != AY_ESC_OPEN)
        return;
    /* Climb as far as the scheduled times say (one message, no storm). */
    bool climbed = false;
    while (!at_last_step(e) && now_us >= ay_esc_ack_due_us(e)) {
        e->level_since_us = ay_esc_ack_due_us(e);
        e->level++;
        climbed = true;
    }
    if (climbed) {
        e->last_notified_us =
            on_schedule(e->level_since_us, step_of(e)->reminder_s * US_PER_S, now_us);
        notice(e, AY_NOTIFY_CLIMB, out);
        *n = 1;
        return;
    }
    if (now_us >= reminder_due_us(e)) {
        e->last_notified_us =
            on_schedule(reminder_due_us(e), step_of(e)->reminder_s * US_PER_S, now_us);
        notice(e, AY_NOTIFY_REMINDER, out);
        *n = 1;
    }
}

bool ay_esc_on_ack(struct ay_esc *e, int ack_kind, int64_t now_us)
{
    if (e->status == AY_ESC_RESOLVED || e->status == AY_ESC_CANCELLED)
        return false;
    /* Under supervision "resolved" is the audience's word, not the end of
     * what is supervised: it acknowledges, and the reminders go on. */
    if (e->supervise_s > 0 && ack_kind >= ACK_RECEIVED && ack_kind <= ACK_FALSE_ALARM) {
        e->status = AY_ESC_ACKNOWLEDGED;
        e->acked_at_us = now_us;
        return true;
    }
    switch (ack_kind) {
    case ACK_RECEIVED:
    case ACK_DISPATCHED:
    case ACK_ON_SCENE:
        e->status = AY_ESC_ACKNOWLEDGED;
        e->acked_at_us = now_us;
        return true;
    case ACK_RESOLVED:
    case ACK_FALSE_ALARM:
        e->status = AY_ESC_RESOLVED;
        e->acked_at_us = now_us;
        return true;
    default:
        return false;
    }
}
