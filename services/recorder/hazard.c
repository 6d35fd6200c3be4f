/*
 * hazard.c - the closed loop of a hazard; see hazard.h.
 */
#include "hazard.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "anyuan/v1/hazard.pb-c.h"

#define US_PER_S 1000000LL

enum {
    REGISTERED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_REGISTERED,
    RECTIFYING = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_RECTIFYING,
    RECTIFIED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_RECTIFIED,
    VERIFIED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_VERIFIED,
    CLOSED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_CLOSED,
    REOPENED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_REOPENED,
    MAJOR = ANYUAN__V1__HAZARD_GRADE__HAZARD_GRADE_MAJOR,
};

/* The steps that may follow each status (domain.md rule 3). Rectifying
 * may follow itself: progress, or an extended deadline (newDeadline). */
static const struct {
    int from;
    int next[2]; /* 0: none */
} loop[] = {
    {REGISTERED, {RECTIFYING, 0}},     {RECTIFYING, {RECTIFYING, RECTIFIED}},
    {RECTIFIED, {VERIFIED, REOPENED}}, {VERIFIED, {CLOSED, REOPENED}},
    {REOPENED, {RECTIFYING, 0}},       {CLOSED, {0, 0}},
};

static const char *status_name(int status)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&anyuan__v1__hazard_status__descriptor, status);
    return v ? v->name : "HAZARD_STATUS_UNSPECIFIED";
}

static const int *next_of(int from)
{
    for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++)
        if (loop[i].from == from)
            return loop[i].next;
    return NULL;
}

/* How far along the loop a status is; -1 for a value that is not a step. */
static int rank(int status)
{
    switch (status) {
    case REGISTERED:
    case REOPENED:
        return 0;
    case RECTIFYING:
        return 1;
    case RECTIFIED:
        return 2;
    case VERIFIED:
        return 3;
    case CLOSED:
        return 4;
    default:
        return -1;
    }
}

/* "HAZARD_STATUS_VERIFIED or HAZARD_STATUS_REOPENED" */
static const char *next_words(int from, char *buf, size_t cap)
{
    const int *next = next_of(from);
    snprintf(buf, cap, "%s%s%s", next && next[0] ? status_name(next[0]) : "nothing",
             next && next[1] ? " or " : "", next && next[1] ? status_name(next[1]) : "");
    return buf;
}

enum recorder_hazard_dl recorder_hazard_dl_parse(const char *status)
{
    static const struct {
        const char *word;
        enum recorder_hazard_dl v;
    } words[] = {{"pending", RECORDER_HAZARD_DL_PENDING},
                 {"missed", RECORDER_HAZARD_DL_MISSED},
                 {"met", RECORDER_HAZARD_DL_MET},
                 {"cancelled", RECORDER_HAZARD_DL_CANCELLED}};
    for (size_t i = 0; status != NULL && i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(status, words[i].word) == 0)
            return words[i].v;
    return RECORDER_HAZARD_DL_NONE;
}

/* ---- who ----------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* s without the spaces around it: *len bytes from the returned pointer. */
static const char *trimmed(const char *s, size_t *len)
{
    size_t n;
    if (s == NULL)
        s = "";
    while (is_space(*s))
        s++;
    n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        n--;
    *len = n;
    return s;
}

/* The same person by name; an empty name is nobody. */
static bool same_person(const char *a, const char *b)
{
    size_t na, nb;
    const char *ta = trimmed(a, &na);
    const char *tb = trimmed(b, &nb);
    return na > 0 && na == nb && strncasecmp(ta, tb, na) == 0;
}

/* ---- the loop ------------------------------------------------------------ */

/* Why `to` may not follow h->status; reason written. */
static void refuse(const struct recorder_hazard *h, const char *id, int to, char reason[AY_ERRLEN])
{
    char next[96];
    int from = h->status;

    next_words(from, next, sizeof(next));
    if (from == CLOSED)
        ay_errf(reason,
                "hazard-update.status: hazard %s is closed (销号, HAZARD_STATUS_CLOSED); no step "
                "follows a closing",
                id);
    else if (to == CLOSED)
        ay_errf(reason,
                "hazard-update.status: HAZARD_STATUS_CLOSED (销号) needs a verification first: "
                "hazard %s is %s; next is %s",
                id, status_name(from), next);
    else if (to == REOPENED)
        ay_errf(reason,
                "hazard-update.status: HAZARD_STATUS_REOPENED only after HAZARD_STATUS_RECTIFIED "
                "or HAZARD_STATUS_VERIFIED: hazard %s is %s",
                id, status_name(from));
    else if (to == from)
        ay_errf(reason, "hazard-update.status: hazard %s is already %s; next is %s", id,
                status_name(from), next);
    else if (rank(to) > rank(from))
        ay_errf(reason, "hazard-update.status: %s skips a step: hazard %s is %s; next is %s",
                status_name(to), id, status_name(from), next);
    else
        ay_errf(reason, "hazard-update.status: %s cannot follow %s (hazard %s); next is %s",
                status_name(to), status_name(from), id, next);
}

enum ay_err recorder_hazard_step(const struct recorder_hazard *h, const char *hazard_id, int to,
                                 const char *by_name, struct recorder_hazard *after,
                                 char reason[AY_ERRLEN])
{
    const int *next = next_of(h->status);

    if (rank(to) < 0 || to == REGISTERED) {
        ay_errf(reason,
                "hazard-update.status: %d is not a step of the loop (HAZARD_STATUS_RECTIFYING to "
                "HAZARD_STATUS_REOPENED)",
                to);
        return AY_ERR_INVALID;
    }
    if (next == NULL) {
        ay_errf(reason, "hazard-update.hazardId: hazard %s has no known status", hazard_id);
        return AY_ERR_INVALID;
    }
    if (next[0] != to && next[1] != to) {
        refuse(h, hazard_id, to, reason);
        return AY_ERR_INVALID;
    }
    /* 查验 by someone else: "有隐患整改责任人、有隐患整改情况督查人" (001). */
    if (to == VERIFIED && same_person(by_name, h->responsible)) {
        ay_errf(reason, "hazard-update.by.name: the verifier is the hazard's responsible person "
                        "(整改责任人); verification (查验) must be by someone else");
        return AY_ERR_INVALID;
    }
    if (to == VERIFIED && same_person(by_name, h->reporter)) {
        ay_errf(reason, "hazard-update.by.name: the verifier is the person who reported the hazard "
                        "(foundBy); verification (查验) must be by someone else");
        return AY_ERR_INVALID;
    }
    *after = *h;
    after->status = to;
    return AY_OK;
}

bool recorder_hazard_is_move(const struct recorder_hazard *h, int to, int64_t new_deadline_us)
{
    return to != h->status || new_deadline_us > 0;
}

/* ---- interim measures ----------------------------------------------------- */

enum ay_err recorder_hazard_check_interim(const struct recorder_hazard *h,
                                          const char *interim_measures, int64_t due_us,
                                          int64_t received_us, const struct ay_district_policy *p,
                                          char reason[AY_ERRLEN])
{
    size_t len;
    char after[32];

    (void)trimmed(interim_measures, &len);
    if (len > 0)
        return AY_OK;
    /* "对一时难以整治到位的安全隐患，要迅速采取隔离、设置警示标识等措施" (001). */
    if (h->grade == MAJOR) {
        ay_errf(reason, "hazard.interimMeasures: required for a major hazard (重大隐患): the "
                        "isolation and warning signs in place until it is rectified");
        return AY_ERR_INVALID;
    }
    if (h->beyond_authority) {
        ay_errf(reason, "hazard.interimMeasures: required for a hazard beyond the school's "
                        "authority (beyondAuthority): the isolation and warning signs in place "
                        "meanwhile");
        return AY_ERR_INVALID;
    }
    if (due_us - received_us > p->interim_measures_after_s * US_PER_S) {
        ay_duration_format(p->interim_measures_after_s, after, sizeof(after));
        ay_errf(reason,
                "hazard.interimMeasures: required: rectification is due more than %s away "
                "(policy interim_measures_after); give the isolation and warning signs in place "
                "until then",
                after);
        return AY_ERR_INVALID;
    }
    return AY_OK;
}

/* ---- the deadline ----------------------------------------------------------- */

void recorder_hazard_plan_deadline(const struct recorder_hazard *h, int to, int64_t new_deadline_us,
                                   int64_t received_us, const struct ay_district_policy *p,
                                   struct recorder_hazard_dl_plan *out,
                                   struct recorder_hazard *after)
{
    bool open =
        h->dl_status == RECORDER_HAZARD_DL_PENDING || h->dl_status == RECORDER_HAZARD_DL_MISSED;
    int64_t due = new_deadline_us;

    memset(out, 0, sizeof(*out));
    out->action = RECORDER_HAZARD_DL_KEEP;
    out->seq = h->dl_seq;
    switch (to) {
    case RECTIFIED:
    case VERIFIED:
    case CLOSED:
        if (!open)
            return;
        out->action = RECORDER_HAZARD_DL_MEET;
        out->due_us = h->dl_due_us;
        after->dl_status = RECORDER_HAZARD_DL_MET;
        return;
    case REOPENED:
        /* Running again: at the new deadline, else the policy's time from now. */
        if (due <= 0)
            due =
                received_us + ay_policy_hazard_rectification_s(p, h->category, h->grade) * US_PER_S;
        break;
    default:
        if (due <= 0)
            return;
        break;
    }
    if (h->dl_status == RECORDER_HAZARD_DL_PENDING) {
        out->action = RECORDER_HAZARD_DL_MOVE;
    } else {
        /* Missed stays missed (it was); the new due time is a new deadline
         * of the series, with its own firing and escalation. */
        out->action = RECORDER_HAZARD_DL_START;
        out->seq = h->dl_status == RECORDER_HAZARD_DL_NONE ? 0 : h->dl_seq + 1;
    }
    out->due_us = due;
    after->dl_seq = out->seq;
    after->dl_status = RECORDER_HAZARD_DL_PENDING;
    after->dl_due_us = due;
}
