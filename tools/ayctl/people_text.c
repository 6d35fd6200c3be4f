/*
 * people_text.c - lines for people; see people_text.h.
 *
 * Words that are not enum values live in the table below, in both
 * languages; enum values always come from lib/ay_labels.
 */
#include "people_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ay_time.h"

/* ---- words ------------------------------------------------------------------- */

enum word {
    W_TO,
    W_ACK_BY,
    W_ID,
    W_DUE,
    W_ON_TIME,
    W_RECEIVED,
    W_DEVICE,
    W_DEADLINE,
    W_ESCALATED,
    W_AUDIT,
    W_BY,
    W_NO_DEADLINES,
    W_COUNT,
};

static const char *const words[W_COUNT][2] = {
    [W_TO] = {"致", "to"},
    [W_ACK_BY] = {"签收期限", "acknowledge by"},
    [W_ID] = {"编号", "id"},
    [W_DUE] = {"截止", "due"},
    [W_ON_TIME] = {"按时", "on time"},
    [W_RECEIVED] = {"收到", "received"},
    [W_DEVICE] = {"设备", "device"},
    [W_DEADLINE] = {"时限", "deadline"},
    [W_ESCALATED] = {"上报", "escalated to"},
    [W_AUDIT] = {"记录", "audit"},
    [W_BY] = {"操作者", "by"},
    [W_NO_DEADLINES] = {"没有未完成的时限", "no open deadlines"},
};

/* Values the database keeps that are not enum values of the contract:
 * deadline and escalation states, message kinds (ay_msgtype names). */
static const struct {
    const char *value;
    const char *zh;
    const char *en;
} db_words[] = {
    /* deadlines.status */
    {"pending", "待完成", "pending"},
    {"missed", "已逾期", "missed"},
    {"met", "已完成", "met"},
    {"cancelled", "已取消", "cancelled"},
    /* escalations.status ("cancelled" as above) */
    {"open", "待签收", "open"},
    {"acknowledged", "已签收", "acknowledged"},
    {"resolved", "已处置", "resolved"},
    /* messages.kind */
    {"alarm", "一键报警", "alarm"},
    {"alarm-cancel", "撤销报警", "alarm cancelled"},
    {"notice", "事件报告", "incident notice"},
    {"report", "书面报告", "written report"},
    {"hazard", "隐患上报", "hazard report"},
    {"hazard-update", "隐患整改进展", "hazard update"},
    {"monthly", "安全月报", "monthly report"},
    {"status", "设备状态", "device status"},
};

static const char *word(enum word w, enum ay_lang lang)
{
    return words[w][lang == AY_LANG_EN ? 1 : 0];
}

/* The word for a database value; the value itself if it has none. */
static const char *db_word(const char *value, enum ay_lang lang)
{
    for (size_t i = 0; value != NULL && i < sizeof(db_words) / sizeof(db_words[0]); i++)
        if (strcmp(db_words[i].value, value) == 0)
            return lang == AY_LANG_EN ? db_words[i].en : db_words[i].zh;
    return value ? value : "";
}

/* The label of an enum value name; the name itself if it has none. */
static const char *label_of(const char *value_name, enum ay_lang lang)
{
    const char *l = ay_label_of(value_name, lang);
    return l ? l : (value_name ? value_name : "");
}

static const char *enum_label(const ProtobufCEnumDescriptor *d, int value, enum ay_lang lang)
{
    const char *l = ay_label(d, value, lang);
    return l ? l : "?";
}

/* ---- ack states ------------------------------------------------------------------ */

static const struct {
    const char *word;
    int kind;
} ack_words[] = {
    {"received", ANYUAN__V1__ACK_KIND__ACK_KIND_RECEIVED},
    {"dispatched", ANYUAN__V1__ACK_KIND__ACK_KIND_DISPATCHED},
    {"on-scene", ANYUAN__V1__ACK_KIND__ACK_KIND_ON_SCENE},
    {"resolved", ANYUAN__V1__ACK_KIND__ACK_KIND_RESOLVED},
    {"false-alarm", ANYUAN__V1__ACK_KIND__ACK_KIND_FALSE_ALARM},
};

/* Equal ignoring case, with '-' and '_' alike. */
static bool same_word(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        int x = (*a == '_') ? '-' : tolower((unsigned char)*a);
        int y = (*b == '_') ? '-' : tolower((unsigned char)*b);
        if (x != y)
            return false;
    }
    return *a == *b;
}

bool ayctl_ack_kind_parse(const char *s, int *kind)
{
    if (s == NULL)
        return false;
    if (strncasecmp(s, "ACK_KIND_", 9) == 0)
        s += 9;
    for (size_t i = 0; i < sizeof(ack_words) / sizeof(ack_words[0]); i++) {
        if (same_word(s, ack_words[i].word)) {
            *kind = ack_words[i].kind;
            return true;
        }
    }
    return false;
}

/* ---- times and text ---------------------------------------------------------------- */

void ayctl_local_time(const struct ay_tz *z, int64_t utc_us, bool with_seconds, char *buf,
                      size_t cap)
{
    struct ay_tz_civil c;

    ay_tz_utc_to_local(z, utc_us, &c);
    if (with_seconds)
        snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day, c.hour,
                 c.minute, c.second);
    else
        snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d", c.year, c.month, c.day, c.hour, c.minute);
}

/* "16:30" when due_us is on the same local day as ref_us, else the full time. */
static void local_time_near(const struct ay_tz *z, int64_t due_us, int64_t ref_us, char *buf,
                            size_t cap)
{
    struct ay_tz_civil d;
    struct ay_tz_civil r;

    ay_tz_utc_to_local(z, due_us, &d);
    ay_tz_utc_to_local(z, ref_us, &r);
    if (d.year == r.year && d.month == r.month && d.day == r.day)
        snprintf(buf, cap, "%02d:%02d", d.hour, d.minute);
    else
        ayctl_local_time(z, due_us, false, buf, cap);
}

/* Writes s with control characters (C0, DEL, and C1 in UTF-8) as spaces. */
static void put_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            fputc(' ', f);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            fputc(' ', f);
            p++;
        } else {
            fputc(*p, f);
        }
    }
}

static const char *first_of(const char *a, const char *b)
{
    return (a != NULL && a[0] != '\0') ? a : b;
}

/* "迟 12 分钟" / "12 min late"; minutes rounded up, so a deadline missed by
 * seconds is never shown as 0 minutes late. */
static void put_late(FILE *f, int64_t late_s, enum ay_lang lang)
{
    long long min = (long long)((late_s + 59) / 60);
    if (lang == AY_LANG_EN)
        fprintf(f, "%lld min late", min);
    else
        fprintf(f, "迟 %lld 分钟", min);
}

static const char *separator(enum ay_lang lang)
{
    return lang == AY_LANG_EN ? ", " : "，";
}

FILE *ayctl_text_open(char **out, size_t *len)
{
    *out = NULL;
    return open_memstream(out, len);
}

char *ayctl_text_close(FILE *f, char **out, bool ok)
{
    if (f == NULL || fclose(f) != 0 || !ok) {
        free(*out);
        *out = NULL;
    }
    return *out;
}

/* ---- escalations -------------------------------------------------------------------- */

/* The name of the step addressed: the message's words in Chinese; the
 * policy's English name of that step in English, else the step's id. */
static const char *step_name(const Anyuan__V1__Escalation *e, const struct ay_district_policy *p,
                             enum ay_lang lang)
{
    const char *zh = e->target_name;
    const char *en = NULL;
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&anyuan__v1__audience__descriptor, e->audience);

    for (int a = 0; p != NULL && v != NULL && a < AY_AUDIENCE_COUNT; a++) {
        if (strcmp(v->name, ay_audience_enum_name((enum ay_audience)a)) != 0)
            continue;
        for (int i = 0; i < p->chains[a].nsteps; i++) {
            if (strcmp(p->chains[a].steps[i].target, e->target) == 0) {
                zh = first_of(zh, p->chains[a].steps[i].name_zh);
                en = p->chains[a].steps[i].name_en;
            }
        }
    }
    if (lang == AY_LANG_EN)
        return first_of(en, first_of(e->target, zh));
    return first_of(zh, e->target);
}

char *ayctl_escalation_line(const Anyuan__V1__Escalation *e, const struct ay_tz *z,
                            const struct ay_district_policy *p, enum ay_lang lang,
                            int64_t received_us)
{
    char *out = NULL;
    size_t len = 0;
    char when[32];
    FILE *f = ayctl_text_open(&out, &len);
    const Anyuan__V1__Header *h = e->header;
    int64_t at =
        (h && h->sent_at) ? ay_time_to_us(h->sent_at->seconds, h->sent_at->nanos) : received_us;

    if (f == NULL)
        return NULL;
    ayctl_local_time(z, at, false, when, sizeof(when));
    fprintf(f, "%s ", when);
    put_text(f, first_of(e->school_name, e->school_id));
    fprintf(f, " | %s | ", enum_label(&anyuan__v1__escalation_reason__descriptor, e->reason, lang));
    put_text(f, lang == AY_LANG_EN ? first_of(e->summary_en, e->summary) : e->summary);
    fprintf(f, " | %s ", word(W_TO, lang));
    put_text(f, step_name(e, p, lang));
    if (e->kind != ANYUAN__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_UNSPECIFIED)
        fprintf(f, " | %s", enum_label(&anyuan__v1__notification_kind__descriptor, e->kind, lang));
    if (e->ack_by && e->ack_by->due_at) {
        local_time_near(z, ay_time_to_us(e->ack_by->due_at->seconds, e->ack_by->due_at->nanos), at,
                        when, sizeof(when));
        fprintf(f, " | %s %s", word(W_ACK_BY, lang), when);
    }
    fprintf(f, " | %s ", word(W_ID, lang));
    put_text(f, e->escalation_id);
    return ayctl_text_close(f, &out, true);
}

/* ---- deadlines ------------------------------------------------------------------------- */

/* "已逾期，迟 12 分钟" / "met, on time" / "pending". */
static void put_deadline_state(FILE *f, const char *status, int64_t due_us, int64_t late_s,
                               int64_t now_us, enum ay_lang lang)
{
    fputs(db_word(status, lang), f);
    if (strcmp(status, "met") == 0) {
        fputs(separator(lang), f);
        if (late_s > 0)
            put_late(f, late_s, lang);
        else
            fputs(word(W_ON_TIME, lang), f);
    } else if (now_us > 0 && (strcmp(status, "missed") == 0 || strcmp(status, "pending") == 0) &&
               now_us > due_us) {
        fputs(separator(lang), f);
        put_late(f, (now_us - due_us + 999999) / 1000000, lang);
    }
}

char *ayctl_deadline_line(const struct ayctl_deadline_row *d, const struct ay_tz *z,
                          enum ay_lang lang, int64_t now_us)
{
    char *out = NULL;
    size_t len = 0;
    char due[32];
    FILE *f = ayctl_text_open(&out, &len);

    if (f == NULL)
        return NULL;
    ayctl_local_time(z, d->due_us, false, due, sizeof(due));
    fprintf(f, "%s | %s ", label_of(d->kind, lang), label_of(d->subject_kind, lang));
    put_text(f, d->subject_id);
    fprintf(f, " | %s %s | ", word(W_DUE, lang), due);
    put_deadline_state(f, d->status, d->due_us, d->late_s, now_us, lang);
    return ayctl_text_close(f, &out, true);
}

char *ayctl_school_heading(const char *id, const char *name_zh, const char *name_en,
                           enum ay_lang lang)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = ayctl_text_open(&out, &len);
    const char *name = lang == AY_LANG_EN ? first_of(name_en, name_zh) : first_of(name_zh, name_en);

    if (f == NULL)
        return NULL;
    if (name == NULL || name[0] == '\0') {
        put_text(f, id);
    } else {
        put_text(f, name);
        fputs(lang == AY_LANG_EN ? " (" : "（", f);
        put_text(f, id);
        fputs(lang == AY_LANG_EN ? ")" : "）", f);
    }
    return ayctl_text_close(f, &out, true);
}

bool ayctl_put_school_heading(FILE *f, const char **current, const char *id, const char *name_zh,
                              const char *name_en, enum ay_lang lang)
{
    if (*current != NULL && strcmp(*current, id) == 0)
        return true;
    char *h = ayctl_school_heading(id, name_zh, name_en, lang);
    if (h == NULL)
        return false;
    fprintf(f, "%s\n", h);
    free(h);
    *current = id;
    return true;
}

const char *ayctl_no_deadlines_text(enum ay_lang lang)
{
    return word(W_NO_DEADLINES, lang);
}

/* ---- history --------------------------------------------------------------------------- */

static void put_history_body(FILE *f, const struct ayctl_history_row *r, const struct ay_tz *z,
                             enum ay_lang lang)
{
    char due[32];

    switch (r->kind) {
    case AYCTL_HISTORY_MESSAGE:
        fprintf(f, "%s %s | %s ", word(W_RECEIVED, lang), db_word(r->type, lang),
                word(W_DEVICE, lang));
        put_text(f, r->who);
        fprintf(f, " | %s %s", word(W_ID, lang), r->id);
        break;
    case AYCTL_HISTORY_DEADLINE:
        ayctl_local_time(z, r->due_us, false, due, sizeof(due));
        fprintf(f, "%s %s | %s %s | ", word(W_DEADLINE, lang), label_of(r->type, lang),
                word(W_DUE, lang), due);
        put_deadline_state(f, r->status, r->due_us, r->late_s, 0, lang);
        if (strcmp(r->status, "met") != 0 && r->late_s > 0) {
            fputs(separator(lang), f);
            put_late(f, r->late_s, lang);
        }
        break;
    case AYCTL_HISTORY_ESCALATION:
        fprintf(f, "%s %s | %s | ", word(W_ESCALATED, lang), label_of(r->type, lang),
                label_of(r->reason, lang));
        if (lang == AY_LANG_EN)
            fprintf(f, "level %d", r->level);
        else
            fprintf(f, "第%d级", r->level);
        fprintf(f, " | %s | %s %s", db_word(r->status, lang), word(W_ID, lang), r->id);
        break;
    case AYCTL_HISTORY_AUDIT:
        fprintf(f, "%s ", word(W_AUDIT, lang));
        put_text(f, r->type);
        fprintf(f, " | %s ", word(W_BY, lang));
        put_text(f, r->who);
        if (r->detail != NULL && r->detail[0] != '\0' && strcmp(r->detail, "{}") != 0) {
            fputs(" | ", f);
            put_text(f, r->detail);
        }
        break;
    }
}

char *ayctl_history_line(const struct ayctl_history_row *r, const struct ay_tz *z,
                         enum ay_lang lang)
{
    char *out = NULL;
    size_t len = 0;
    char when[32];
    FILE *f = ayctl_text_open(&out, &len);

    if (f == NULL)
        return NULL;
    ayctl_local_time(z, r->at_us, true, when, sizeof(when));
    fprintf(f, "%s | ", when);
    put_history_body(f, r, z, lang);
    return ayctl_text_close(f, &out, true);
}
