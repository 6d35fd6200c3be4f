/*
 * people_text.h - the lines ayctl prints for people: escalations (watch),
 * deadlines, an incident's history; and the ack states people type.
 *
 * Text is Simplified Chinese by default, English with AY_LANG_EN. Every
 * enum value is shown by its label from lib/ay_labels; the few words that
 * are not enum values (the states the database keeps for deadlines and
 * escalations, message kinds, "due", "min late") are in people_text.c's
 * own two-language table. Times are local wall time of the district's zone.
 * Text that came from elsewhere (a summary, a name) has its control
 * characters replaced by spaces, so one record is always one line and a
 * message cannot drive the terminal.
 * Owns: nothing. Threads: pure; thread-safe.
 */
#ifndef AYCTL_PEOPLE_TEXT_H
#define AYCTL_PEOPLE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "anyuan/v1/outbound.pb-c.h"
#include "ay_labels.h"
#include "ay_policy.h"
#include "ay_tz.h"

/* Parses an ack state as people type it: received, dispatched, on-scene,
 * resolved, false-alarm, or the AckKind value names (ACK_KIND_ON_SCENE);
 * case and '-' / '_' do not matter. *kind gets the AckKind value. */
bool ayctl_ack_kind_parse(const char *s, int *kind);

/* "2026-11-24 16:15" (with_seconds: "2026-11-24 16:15:03"): the local time
 * of utc_us in z. Always NUL-terminates (cap >= 20 suffices). */
void ayctl_local_time(const struct ay_tz *z, int64_t utc_us, bool with_seconds, char *buf,
                      size_t cap);

/*
 * The line `ayctl watch` prints for an escalation: local time it was sent
 * (received_us if the header has none), school (schoolName, else the id),
 * reason, summary (summaryEn in English, if any), the step addressed,
 * the kind (first notice, reminder, ...), when to acknowledge by, and the
 * escalation id to acknowledge. p (may be NULL) names the step in English.
 * New string without a newline; NULL when out of memory.
 */
char *ayctl_escalation_line(const Anyuan__V1__Escalation *e, const struct ay_tz *z,
                            const struct ay_district_policy *p, enum ay_lang lang,
                            int64_t received_us);

/* One deadline as the database keeps it. */
struct ayctl_deadline_row {
    const char *kind;         /* DEADLINE_KIND_... */
    const char *subject_kind; /* SUBJECT_KIND_... */
    const char *subject_id;
    int64_t due_us;
    const char *status; /* pending, missed, met, cancelled */
    int64_t late_s;     /* met after it was due: by how much (0: in time or not met) */
};

/* "书面报告 安全事件 <id> 截止 2026-11-24 17:15 已逾期 12 分钟": a missed
 * (or overdue pending) deadline says how late it is at now_us, a met one
 * how late it was met. New string; NULL when out of memory. */
char *ayctl_deadline_line(const struct ayctl_deadline_row *d, const struct ay_tz *z,
                          enum ay_lang lang, int64_t now_us);

/* A text built in memory: ayctl_text_open starts it (*out is NULL until
 * it is closed); ayctl_text_close closes f and returns the text, or NULL
 * (the text freed) when f is NULL, closing failed or ok is false. */
FILE *ayctl_text_open(char **out, size_t *len);
char *ayctl_text_close(FILE *f, char **out, bool ok);

/* "测试学校（sch-0102）" / "Test school (sch-0102)": a school's heading, by
 * its name in the language (else the other name, else only the id). New
 * string; NULL when out of memory. */
char *ayctl_school_heading(const char *id, const char *name_zh, const char *name_en,
                           enum ay_lang lang);

/* For rows grouped by school: when id differs from *current (NULL before
 * the first row), writes id's ayctl_school_heading as a line to f and
 * points *current at id. False when out of memory. */
bool ayctl_put_school_heading(FILE *f, const char **current, const char *id, const char *name_zh,
                              const char *name_en, enum ay_lang lang);

/* "没有未完成的时限" / "no open deadlines". Borrowed static text. */
const char *ayctl_no_deadlines_text(enum ay_lang lang);

enum ayctl_history_kind {
    AYCTL_HISTORY_MESSAGE,
    AYCTL_HISTORY_DEADLINE,
    AYCTL_HISTORY_ESCALATION,
    AYCTL_HISTORY_AUDIT,
};

/* One event of an incident's history; which fields mean what depends on kind. */
struct ayctl_history_row {
    enum ayctl_history_kind kind;
    int64_t at_us;      /* received, created, or the audit time */
    const char *id;     /* message id, escalation id ("" for others) */
    const char *type;   /* message kind (notice), DEADLINE_KIND_..., AUDIENCE_..., action */
    const char *status; /* deadline or escalation status */
    const char *who;    /* message: device; audit: actor */
    const char *reason; /* escalation: ESCALATION_REASON_... */
    const char *detail; /* audit: the detail JSON */
    int64_t due_us;     /* deadline */
    int64_t late_s;     /* deadline: met late by (0: not) */
    int level;          /* escalation: step of the chain */
};

/* The line `ayctl history` prints for one event. New string; NULL when out of memory. */
char *ayctl_history_line(const struct ayctl_history_row *r, const struct ay_tz *z,
                         enum ay_lang lang);

#endif
