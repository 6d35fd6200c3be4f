/*
 * ay_escalate.c - planning and storing new escalations; see ay_escalate.h.
 */
#include "ay_escalate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "anyuan/v1/hazard.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_json.h"
#include "ay_labels.h"
#include "ay_text.h"
#include "ay_time.h"

/* Contract enum values used here (outbound.proto), by shorter names. */
enum {
    REASON_ALARM = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_ALARM,
    REASON_DEADLINE_MISSED = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEADLINE_MISSED,
    REASON_MAJOR_INCIDENT = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_MAJOR_INCIDENT,
    REASON_SUSPECTED_CRIME = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_SUSPECTED_CRIME,
    REASON_DEVICE_OFFLINE = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_OFFLINE,
    REASON_POSSIBLE_CONCEALMENT =
        ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_POSSIBLE_CONCEALMENT,
    REASON_INCIDENT = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_INCIDENT,
    REASON_LOW_BATTERY = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_LOW_BATTERY,
    REASON_TAMPER = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_TAMPER,
    REASON_DEVICE_FAULT = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEVICE_FAULT,
    REASON_MAJOR_HAZARD = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_MAJOR_HAZARD,
    REASON_BEYOND_AUTHORITY = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_BEYOND_AUTHORITY,
    KIND_HAZARD_RECTIFICATION = ANYUAN__V1__DEADLINE_KIND__DEADLINE_KIND_HAZARD_RECTIFICATION,
    SUBJECT_ALARM = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_ALARM,
    SUBJECT_INCIDENT = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_INCIDENT,
    SUBJECT_HAZARD = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_HAZARD,
    SUBJECT_MONTHLY = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_MONTHLY_REPORT,
    SUBJECT_DEVICE = ANYUAN__V1__SUBJECT_KIND__SUBJECT_KIND_DEVICE,
};

/* ---- words --------------------------------------------------------------- */

void ay_escalate_incident_words(const char *category, const char *severity,
                                struct ay_esc_subject *s)
{
    const char *cz = ay_label_of(category, AY_LANG_ZH);
    const char *ce = ay_label_of(category, AY_LANG_EN);
    const char *sz = ay_label_of(severity, AY_LANG_ZH);
    const char *se = ay_label_of(severity, AY_LANG_EN);

    if (sz && strcmp(severity, "SEVERITY_UNSPECIFIED") != 0)
        snprintf(s->what_zh, sizeof(s->what_zh), "%s事件（%s）", cz ? cz : "安全", sz);
    else
        snprintf(s->what_zh, sizeof(s->what_zh), "%s事件", cz ? cz : "安全");
    if (se && strcmp(severity, "SEVERITY_UNSPECIFIED") != 0)
        snprintf(s->what_en, sizeof(s->what_en), "incident: %s, %s", ce ? ce : "safety", se);
    else
        snprintf(s->what_en, sizeof(s->what_en), "incident: %s", ce ? ce : "safety");
}

/* A hazard: its grade, category and place ("重大隐患（校舍：北侧围墙）"),
 * cut at a character boundary when too long; "安全隐患" when unknown. */
static void hazard_words(const char *category, const char *grade, const char *place,
                         struct ay_esc_subject *s)
{
    const char *cz = category && category[0] ? ay_label_of(category, AY_LANG_ZH) : NULL;
    const char *ce = category && category[0] ? ay_label_of(category, AY_LANG_EN) : NULL;
    const char *gz = grade && grade[0] ? ay_label_of(grade, AY_LANG_ZH) : NULL;
    const char *ge = grade && grade[0] ? ay_label_of(grade, AY_LANG_EN) : NULL;
    bool where = place != NULL && place[0] != '\0';
    char zh[AY_WHAT_MAX + 160], en[AY_WHAT_MAX + 160];

    if (cz == NULL || ce == NULL || strncmp(category, "HAZARD_CATEGORY_UNSPECIFIED", 27) == 0) {
        cz = NULL;
        ce = NULL;
    }
    if (gz == NULL || ge == NULL || strncmp(grade, "HAZARD_GRADE_UNSPECIFIED", 24) == 0) {
        gz = "安全隐患";
        ge = "Hazard";
    }
    if (cz != NULL) {
        snprintf(zh, sizeof(zh), "%s（%s%s%s）", gz, cz, where ? "：" : "", where ? place : "");
        snprintf(en, sizeof(en), "%s (%s%s%s)", ge, ce, where ? ": " : "", where ? place : "");
    } else if (where) {
        snprintf(zh, sizeof(zh), "%s（%s）", gz, place);
        snprintf(en, sizeof(en), "%s (%s)", ge, place);
    } else {
        snprintf(zh, sizeof(zh), "%s", gz);
        snprintf(en, sizeof(en), "%s", ge);
    }
    ay_text_sanitize(s->what_zh, sizeof(s->what_zh), zh);
    ay_text_sanitize(s->what_en, sizeof(s->what_en), en);
}

void ay_escalate_words(int subject_kind, const char *category, const char *severity,
                       const char *alarm_kind, const char *device, const char *location,
                       struct ay_esc_subject *s)
{
    const char *kz = ay_label_of(alarm_kind, AY_LANG_ZH);
    const char *ke = ay_label_of(alarm_kind, AY_LANG_EN);
    bool where = location != NULL && location[0] != '\0';

    switch (subject_kind) {
    case SUBJECT_INCIDENT:
        ay_escalate_incident_words(category, severity, s);
        break;
    case SUBJECT_ALARM:
        snprintf(s->what_zh, sizeof(s->what_zh), "一键报警（%s）", kz ? kz : "报警");
        snprintf(s->what_en, sizeof(s->what_en), "one-click alarm (%s)", ke ? ke : "alarm");
        break;
    case SUBJECT_DEVICE:
        snprintf(s->what_zh, sizeof(s->what_zh), "报警设备 %s%s%s%s", device, where ? "（" : "",
                 where ? location : "", where ? "）" : "");
        snprintf(s->what_en, sizeof(s->what_en), "alarm device %s%s%s%s", device, where ? " (" : "",
                 where ? location : "", where ? ")" : "");
        break;
    case SUBJECT_HAZARD:
        hazard_words(category, severity, location, s);
        break;
    case SUBJECT_MONTHLY:
        snprintf(s->what_zh, sizeof(s->what_zh), "定期报告");
        snprintf(s->what_en, sizeof(s->what_en), "periodic report");
        break;
    default:
        snprintf(s->what_zh, sizeof(s->what_zh), "事项");
        snprintf(s->what_en, sizeof(s->what_en), "matter");
        break;
    }
}

/* "11-24 14:05" in the district's local time. */
static void local_text(int64_t us, int32_t offset_s, char *buf, size_t cap)
{
    int64_t s;
    int32_t ns;
    char full[AY_TIME_RFC3339_MAX];
    ay_time_from_us(us + (int64_t)offset_s * 1000000, &s, &ns);
    if (ay_time_format_rfc3339(s, 0, full, sizeof(full)) >= 16)
        snprintf(buf, cap, "%.5s %.5s", full + 5, full + 11);
    else
        snprintf(buf, cap, "?");
}

static void summarize(struct ay_esc_plan *e, int32_t offset_s)
{
    const struct ay_esc_subject *s = &e->subject;
    const char *sz = s->school_zh[0] ? s->school_zh : s->school;
    const char *se = s->school_en[0] ? s->school_en : s->school;
    char due[32] = "";
    const char *dz = e->missed.have ? ay_label(&anyuan__v1__deadline_kind__descriptor,
                                               e->missed.kind, AY_LANG_ZH)
                                    : NULL;
    const char *de = e->missed.have ? ay_label(&anyuan__v1__deadline_kind__descriptor,
                                               e->missed.kind, AY_LANG_EN)
                                    : NULL;

    if (e->missed.have)
        local_text(e->missed.due_us, offset_s, due, sizeof(due));
    switch (e->reason) {
    case REASON_DEADLINE_MISSED:
        if (e->missed.have && e->missed.kind == KIND_HAZARD_RECTIFICATION) {
            snprintf(e->summary_zh, sizeof(e->summary_zh),
                     "%s %s：逾期未整改（整改时限 %s），请督办，直至整改。", sz, s->what_zh, due);
            snprintf(e->summary_en, sizeof(e->summary_en),
                     "%s, %s: not rectified in time (was due %s local time); please follow up "
                     "until it is.",
                     se, s->what_en, due);
            break;
        }
        snprintf(e->summary_zh, sizeof(e->summary_zh), "%s %s：%s逾期未报（应于 %s 前），请督办。",
                 sz, s->what_zh, dz ? dz : "报告", due);
        snprintf(e->summary_en, sizeof(e->summary_en),
                 "%s, %s: %s overdue (was due %s local time); please follow up.", se, s->what_en,
                 de ? de : "report", due);
        break;
    case REASON_POSSIBLE_CONCEALMENT:
        snprintf(e->summary_zh, sizeof(e->summary_zh),
                 "%s %s后未按时收到事件报告（应于 %s 前），疑似瞒报，请核实。", sz, s->what_zh,
                 due);
        snprintf(e->summary_en, sizeof(e->summary_en),
                 "%s: no incident notice after %s (due %s local time): possible concealment; "
                 "please check.",
                 se, s->what_en, due);
        break;
    case REASON_SUSPECTED_CRIME:
        snprintf(e->summary_zh, sizeof(e->summary_zh),
                 "%s 报告%s，涉嫌违法犯罪（强制报告），请立即处置。", sz, s->what_zh);
        snprintf(e->summary_en, sizeof(e->summary_en),
                 "%s reports an %s; suspected crime (mandatory report): act at once.", se,
                 s->what_en);
        break;
    case REASON_ALARM:
        snprintf(e->summary_zh, sizeof(e->summary_zh), "%s %s，请签收并处置。", sz, s->what_zh);
        snprintf(e->summary_en, sizeof(e->summary_en), "%s: %s; acknowledge and act.", se,
                 s->what_en);
        break;
    case REASON_DEVICE_OFFLINE:
        snprintf(e->summary_zh, sizeof(e->summary_zh), "%s %s离线，无法报警，请立即核查。", sz,
                 s->what_zh);
        snprintf(e->summary_en, sizeof(e->summary_en),
                 "%s: %s is offline and cannot raise an alarm; check it now.", se, s->what_en);
        break;
    case REASON_LOW_BATTERY:
        snprintf(e->summary_zh, sizeof(e->summary_zh), "%s %s电量低，请及时更换电池。", sz,
                 s->what_zh);
        snprintf(e->summary_en, sizeof(e->summary_en), "%s: %s: battery low; replace it.", se,
                 s->what_en);
        break;
    case REASON_TAMPER:
        snprintf(e->summary_zh, sizeof(e->summary_zh), "%s %s被拆动或移动，请核查。", sz,
                 s->what_zh);
        snprintf(e->summary_en, sizeof(e->summary_en), "%s: %s was opened or moved; check it.", se,
                 s->what_en);
        break;
    case REASON_DEVICE_FAULT:
        snprintf(e->summary_zh, sizeof(e->summary_zh), "%s %s报告故障，请维修。", sz, s->what_zh);
        snprintf(e->summary_en, sizeof(e->summary_en), "%s: %s reports a fault; repair it.", se,
                 s->what_en);
        break;
    case REASON_MAJOR_HAZARD:
        snprintf(e->summary_zh, sizeof(e->summary_zh),
                 "%s 登记%s，挂牌督办：请签收，并跟踪整改直至销号。", sz, s->what_zh);
        snprintf(
            e->summary_en, sizeof(e->summary_en),
            "%s registered a %s: tracked supervision (挂牌督办); acknowledge it and follow the "
            "rectification until the hazard is closed (销号).",
            se, s->what_en);
        break;
    case REASON_BEYOND_AUTHORITY:
        snprintf(e->summary_zh, sizeof(e->summary_zh),
                 "%s 报告%s，超出学校和教育部门职权，请当地政府协调处置。", sz, s->what_zh);
        snprintf(e->summary_en, sizeof(e->summary_en),
                 "%s reports a %s beyond the authority of the school and the education bureau; "
                 "the local government is asked to act.",
                 se, s->what_en);
        break;
    case REASON_MAJOR_INCIDENT:
        snprintf(e->summary_zh, sizeof(e->summary_zh), "%s 发生%s，请立即签收并督办。", sz,
                 s->what_zh);
        snprintf(e->summary_en, sizeof(e->summary_en),
                 "Major %s at %s: acknowledge and supervise at once.", s->what_en, se);
        break;
    default:
        snprintf(e->summary_zh, sizeof(e->summary_zh), "%s 报告%s，请签收。", sz, s->what_zh);
        snprintf(e->summary_en, sizeof(e->summary_en), "%s reports an %s; please acknowledge.", se,
                 s->what_en);
        break;
    }
}

/* "25 分钟" / "25 min", hours under two days, else days. */
static void late_words(int64_t late_s, enum ay_lang lang, char *buf, size_t cap)
{
    int64_t m = (late_s + 59) / 60;
    bool zh = lang == AY_LANG_ZH;
    if (m < 120)
        snprintf(buf, cap, zh ? "%lld 分钟" : "%lld min", (long long)m);
    else if (m < 48 * 60)
        snprintf(buf, cap, zh ? "%lld 小时" : "%lld h", (long long)(m / 60));
    else
        snprintf(buf, cap, zh ? "%lld 天" : "%lld days", (long long)(m / 1440));
}

void ay_escalate_met_summary(const char *school_zh, const char *school_en, int deadline_kind,
                             int64_t late_s, char zh[AY_SUMMARY_MAX], char en[AY_SUMMARY_MAX])
{
    const char *kz = ay_label(&anyuan__v1__deadline_kind__descriptor, deadline_kind, AY_LANG_ZH);
    const char *ke = ay_label(&anyuan__v1__deadline_kind__descriptor, deadline_kind, AY_LANG_EN);
    const char *se = school_en && school_en[0] ? school_en : school_zh;
    char lz[32], le[32];

    late_words(late_s, AY_LANG_ZH, lz, sizeof(lz));
    late_words(late_s, AY_LANG_EN, le, sizeof(le));
    if (late_s > 0) {
        snprintf(zh, AY_SUMMARY_MAX, "%s %s已收到（迟报 %s），督办解除，无需再处置。", school_zh,
                 kz ? kz : "报告", lz);
        snprintf(en, AY_SUMMARY_MAX, "%s: %s received, %s late; the follow-up is over.", se,
                 ke ? ke : "report", le);
    } else {
        snprintf(zh, AY_SUMMARY_MAX, "%s %s已收到，督办解除，无需再处置。", school_zh,
                 kz ? kz : "报告");
        snprintf(en, AY_SUMMARY_MAX, "%s: %s received; the follow-up is over.", se,
                 ke ? ke : "report");
    }
}

void ay_escalate_resolved_summary(int reason, const struct ay_esc_subject *s,
                                  char zh[AY_SUMMARY_MAX], char en[AY_SUMMARY_MAX])
{
    const char *sz = s->school_zh[0] ? s->school_zh : s->school;
    const char *se = s->school_en[0] ? s->school_en : s->school;

    if (reason == REASON_DEVICE_OFFLINE) {
        snprintf(zh, AY_SUMMARY_MAX, "%s %s已恢复在线，离线通报解除，无需再处置。", sz, s->what_zh);
        snprintf(en, AY_SUMMARY_MAX, "%s: %s is back online; the offline report is over.", se,
                 s->what_en);
    } else {
        snprintf(zh, AY_SUMMARY_MAX, "%s %s：已解除，无需再处置。", sz, s->what_zh);
        snprintf(en, AY_SUMMARY_MAX, "%s, %s: over; nothing more to do.", se, s->what_en);
    }
}

void ay_escalate_hazard_resolved_summary(int hazard_status, const struct ay_esc_subject *s,
                                         char zh[AY_SUMMARY_MAX], char en[AY_SUMMARY_MAX])
{
    const char *sz = s->school_zh[0] ? s->school_zh : s->school;
    const char *se = s->school_en[0] ? s->school_en : s->school;
    const char *tz = ay_label(&anyuan__v1__hazard_status__descriptor, hazard_status, AY_LANG_ZH);
    const char *te = ay_label(&anyuan__v1__hazard_status__descriptor, hazard_status, AY_LANG_EN);

    if (hazard_status == ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_CLOSED) {
        snprintf(zh, AY_SUMMARY_MAX, "%s %s已查验并销号，督办解除，无需再处置。", sz, s->what_zh);
        snprintf(en, AY_SUMMARY_MAX,
                 "%s, %s: verified and closed (销号); the supervision is over, nothing more to do.",
                 se, s->what_en);
    } else {
        snprintf(zh, AY_SUMMARY_MAX, "%s %s已有整改进展（%s），逾期督办解除。", sz, s->what_zh,
                 tz ? tz : "已更新");
        snprintf(en, AY_SUMMARY_MAX,
                 "%s, %s: the rectification has moved on (%s); the overdue "
                 "follow-up is over.",
                 se, s->what_en, te ? te : "updated");
    }
}

/* ---- planning -------------------------------------------------------------- */

int ay_escalate_plan(const struct ay_district_policy *p, enum ay_route_kind route, int reason,
                     const struct ay_esc_subject *s, const struct ay_esc_missed *m,
                     int32_t utc_offset_s, int64_t now_us, unsigned flags,
                     struct ay_esc_plan out[AY_AUDIENCE_COUNT])
{
    int n = 0;

    if ((unsigned)route >= AY_ROUTE_COUNT)
        return 0;
    for (int a = 0; a < AY_AUDIENCE_COUNT; a++) {
        int start = p->routes[route].start_step[a];
        if (start <= 0 || p->chains[a].nsteps == 0)
            continue;
        struct ay_esc_plan *e = &out[n];
        memset(e, 0, sizeof(*e));
        if (ay_uuid_v4(e->id) != AY_OK)
            continue;
        e->audience = (enum ay_audience)a;
        e->reason = reason;
        e->subject = *s;
        if (m != NULL)
            e->missed = *m;
        ay_esc_start(&e->state, &p->chains[a], start, p->unresolved_reescalation_s, now_us,
                     e->notices, &e->nnotices);
        if (flags & AY_ESCALATE_SILENT_START)
            e->nnotices = 0;
        if (flags & AY_ESCALATE_SUPERVISED)
            e->state.supervise_s = p->major_hazard_reminder_s;
        bool ids_ok = true;
        for (int i = 0; i < e->nnotices; i++)
            ids_ok = ids_ok && ay_uuid_v4(e->notice_ids[i]) == AY_OK;
        if (!ids_ok)
            continue;
        summarize(e, utc_offset_s);
        n++;
    }
    return n;
}

/* ---- the chain as JSON ------------------------------------------------------ */

char *ay_escalate_chain_json(const struct ay_chain *c)
{
    cJSON *a = cJSON_CreateArray();
    bool ok = a != NULL;
    for (int i = 0; ok && i < c->nsteps; i++) {
        const struct ay_chain_step *s = &c->steps[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && ay_json_str(o, "target", s->target) &&
             ay_json_str(o, "name_zh", s->name_zh) && ay_json_str(o, "name_en", s->name_en) &&
             ay_json_num(o, "ack_timeout_s", (double)s->ack_timeout_s) &&
             ay_json_num(o, "reminder_s", (double)s->reminder_s);
        ok = ay_json_push(a, o) && ok;
    }
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return ay_json_print_free(a);
}

enum ay_err ay_escalate_chain_parse(const char *json, struct ay_chain *out, char err[AY_ERRLEN])
{
    cJSON *a = cJSON_Parse(json);
    struct ay_chain c;
    enum ay_err rc = AY_OK;

    memset(&c, 0, sizeof(c));
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 || cJSON_GetArraySize(a) > AY_CHAIN_MAX) {
        ay_errf(err, "escalation chain: expected 1 to %d steps", AY_CHAIN_MAX);
        rc = AY_ERR_INVALID;
    }
    for (const cJSON *o = a ? a->child : NULL; rc == AY_OK && o != NULL; o = o->next) {
        struct ay_chain_step *s = &c.steps[c.nsteps++];
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "target");
        const cJSON *z = cJSON_GetObjectItemCaseSensitive(o, "name_zh");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "name_en");
        const cJSON *ack = cJSON_GetObjectItemCaseSensitive(o, "ack_timeout_s");
        const cJSON *rem = cJSON_GetObjectItemCaseSensitive(o, "reminder_s");
        if (!cJSON_IsString(t) || !cJSON_IsNumber(ack) || !cJSON_IsNumber(rem) ||
            ack->valuedouble < 1 || rem->valuedouble < 1) {
            ay_errf(err, "escalation chain: step %d is incomplete", c.nsteps);
            rc = AY_ERR_INVALID;
            break;
        }
        snprintf(s->target, sizeof(s->target), "%s", t->valuestring);
        snprintf(s->name_zh, sizeof(s->name_zh), "%s", cJSON_IsString(z) ? z->valuestring : "");
        snprintf(s->name_en, sizeof(s->name_en), "%s", cJSON_IsString(e) ? e->valuestring : "");
        s->ack_timeout_s = (int64_t)ack->valuedouble;
        s->reminder_s = (int64_t)rem->valuedouble;
    }
    cJSON_Delete(a);
    if (rc == AY_OK)
        *out = c;
    return rc;
}

/* ---- storing ------------------------------------------------------------------ */

/* The contract's name of value v of enum d (its UNSPECIFIED name when v is
 * not one of its values): the text stored in the database. */
static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    if (ev == NULL)
        ev = protobuf_c_enum_descriptor_get_value(d, 0);
    return ev ? ev->name : "";
}

static const char *reason_name(int v)
{
    return enum_name(&anyuan__v1__escalation_reason__descriptor, v);
}

static cJSON *escalation_row(const struct ay_esc_plan *e, const char *actor)
{
    cJSON *o = cJSON_CreateObject();
    char *chain = ay_escalate_chain_json(&e->state.chain);
    bool ok =
        o != NULL && chain != NULL && ay_json_str(o, "id", e->id) &&
        ay_json_str(o, "district_id", e->subject.district) &&
        ay_json_str(o, "school_id", e->subject.school) &&
        ay_json_str(o, "audience", ay_audience_enum_name(e->audience)) &&
        ay_json_str(o, "subject_kind",
                    enum_name(&anyuan__v1__subject_kind__descriptor, e->subject.subject_kind)) &&
        ay_json_str(o, "subject_id", e->subject.subject_id) &&
        ay_json_str(o, "reason", reason_name(e->reason)) &&
        ay_json_num(o, "level", e->state.level) &&
        ay_json_time(o, "ack_due_at", ay_esc_ack_due_us(&e->state)) &&
        ay_json_str(o, "severity",
                    enum_name(&anyuan__v1__severity__descriptor, e->subject.severity)) &&
        ay_json_take(o, "chain", cJSON_Parse(chain)) &&
        ay_json_time(o, "level_since", e->state.level_since_us) &&
        ay_json_time(o, "last_notified_at", e->state.last_notified_us) &&
        ay_json_time(o, "next_action_at", ay_esc_next_action_us(&e->state)) &&
        ay_json_num(o, "reescalate_after_s", (double)e->state.reescalate_after_s) &&
        ay_json_num(o, "supervise_s", (double)e->state.supervise_s) &&
        ay_json_str(o, "summary_zh", e->summary_zh) &&
        ay_json_str(o, "summary_en", e->summary_en) && ay_json_str(o, "created_by", actor);
    if (ok && e->missed.have && e->missed.kind > 0)
        ok = ay_json_str(o, "deadline_kind",
                         enum_name(&anyuan__v1__deadline_kind__descriptor, e->missed.kind)) &&
             ay_json_str(o, "deadline_subject", e->missed.subject_id) &&
             ay_json_num(o, "deadline_seq", e->missed.seq);
    free(chain);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool note_row(cJSON *rows, const struct ay_esc_note_row *r)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && ay_json_str(o, "id", r->id) &&
              ay_json_str(o, "escalation_id", r->escalation_id) &&
              ay_json_str(o, "district_id", r->district) &&
              ay_json_str(o, "audience", ay_audience_enum_name(r->audience)) &&
              ay_json_num(o, "level", r->level) && ay_json_str(o, "target", r->target) &&
              ay_json_str(o, "kind",
                          enum_name(&anyuan__v1__notification_kind__descriptor, (int)r->kind)) &&
              (r->ack_due_us <= 0 || ay_json_time(o, "ack_due_at", r->ack_due_us));
    return ay_json_push(rows, o) && ok;
}

static bool add_notifications(cJSON *rows, const struct ay_esc_plan *e)
{
    bool ok = true;
    for (int i = 0; ok && i < e->nnotices; i++) {
        const struct ay_esc_notice *n = &e->notices[i];
        struct ay_esc_note_row r = {
            e->notice_ids[i], e->id,        e->subject.district,
            e->audience,      n->level,     e->state.chain.steps[n->level - 1].target,
            n->kind,          n->ack_due_us};
        ok = note_row(rows, &r);
    }
    return ok;
}

static enum ay_err exec_rows(struct ay_pg *db, const char *stmt, cJSON *rows,
                             struct ay_pg_result **out, char err[AY_ERRLEN])
{
    char *text = ay_json_print_free(rows);
    if (text == NULL)
        return AY_ERR_NOMEM;
    const char *params[1] = {text};
    enum ay_err rc = ay_pg_exec_prepared(db, stmt, 1, params, NULL, NULL, out, err);
    free(text);
    return rc;
}

static bool audit_row(cJSON *rows, const struct ay_audit *a, const char *actor)
{
    cJSON *o = cJSON_CreateObject();
    bool ok =
        o != NULL && ay_json_str(o, "district_id", a->district) &&
        ay_json_str(o, "school_id", a->school) && ay_json_str(o, "subject_id", a->subject_id) &&
        ay_json_str(o, "escalation_id", a->escalation_id) &&
        (a->deadline_id == 0 || ay_json_num(o, "deadline_id", (double)a->deadline_id)) &&
        ay_json_str(o, "actor", a->actor ? a->actor : actor) && ay_json_str(o, "action", a->action);
    if (ok && a->detail != NULL)
        ok = ay_json_take(o, "detail", cJSON_Parse(a->detail));
    return ay_json_push(rows, o) && ok;
}

enum ay_err ay_escalate_store_notes(struct ay_pg *db, const struct ay_esc_note_row *rows, size_t n,
                                    char err[AY_ERRLEN])
{
    cJSON *arr = cJSON_CreateArray();
    bool ok = arr != NULL;
    if (n == 0) {
        cJSON_Delete(arr);
        return AY_OK;
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = note_row(arr, &rows[i]);
    if (!ok) {
        cJSON_Delete(arr);
        return AY_ERR_NOMEM;
    }
    return exec_rows(db, "ay_insert_notifications", arr, NULL, err);
}

/* Text from outside that goes into a jsonb: well-formed UTF-8. */
static const char *safe_text(const char *s, char *buf, size_t cap)
{
    return s ? ay_text_sanitize(buf, cap, s) : NULL;
}

static bool dead_letter_row(cJSON *rows, const struct ay_dead_letter *d)
{
    char tbuf[AY_ERRLEN], rbuf[AY_ERRLEN], cbuf[AY_ERRLEN];
    char *hex = ay_text_hex_encode(d->payload, d->len);
    cJSON *o = cJSON_CreateObject();
    bool ok = hex != NULL && o != NULL && ay_json_time(o, "received_at", d->received_us) &&
              ay_json_str(o, "topic", safe_text(d->topic, tbuf, sizeof(tbuf))) &&
              ay_json_str(o, "district_id", d->district) &&
              ay_json_str(o, "school_id", d->school) && ay_json_str(o, "device_id", d->device) &&
              ay_json_str(o, "message_id", d->msg_id) &&
              ay_json_str(o, "reason", safe_text(d->reason, rbuf, sizeof(rbuf))) &&
              ay_json_str(o, "payload", hex) &&
              ay_json_str(o, "wire_format", d->wire_format ? d->wire_format : "protobuf") &&
              ay_json_str(o, "content_type", safe_text(d->content_type, cbuf, sizeof(cbuf)));
    free(hex);
    if (!ok) {
        cJSON_Delete(o);
        return false;
    }
    return ay_json_push(rows, o);
}

enum ay_err ay_escalate_store_dead_letters(struct ay_pg *db, const struct ay_dead_letter *rows,
                                           size_t n, int cap, char err[AY_ERRLEN])
{
    cJSON *arr = cJSON_CreateArray();
    char capbuf[16];
    bool ok = arr != NULL;

    if (n == 0) {
        cJSON_Delete(arr);
        return AY_OK;
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = dead_letter_row(arr, &rows[i]);
    if (!ok) {
        cJSON_Delete(arr);
        return AY_ERR_NOMEM;
    }
    char *text = ay_json_print_free(arr);
    if (text == NULL)
        return AY_ERR_NOMEM;
    snprintf(capbuf, sizeof(capbuf), "%d", cap);
    const char *params[2] = {text, capbuf};
    enum ay_err rc =
        ay_pg_exec_prepared(db, "ay_insert_dead_letters", 2, params, NULL, NULL, NULL, err);
    free(text);
    return rc;
}

enum ay_err ay_escalate_store_audit(struct ay_pg *db, const struct ay_audit *rows, size_t n,
                                    const char *actor, char err[AY_ERRLEN])
{
    cJSON *arr = cJSON_CreateArray();
    bool ok = arr != NULL;
    if (n == 0) {
        cJSON_Delete(arr);
        return AY_OK;
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = audit_row(arr, &rows[i], actor);
    if (!ok) {
        cJSON_Delete(arr);
        return AY_ERR_NOMEM;
    }
    return exec_rows(db, "ay_insert_audit", arr, NULL, err);
}

enum ay_err ay_escalate_store(struct ay_pg *db, const struct ay_esc_plan *plans, size_t n,
                              const char *actor, int *stored, char err[AY_ERRLEN])
{
    struct ay_pg_result *res = NULL;
    cJSON *rows = cJSON_CreateArray();
    cJSON *notes = NULL;
    cJSON *audit = NULL;
    bool ok = rows != NULL;
    enum ay_err rc;
    int count = 0;

    if (stored)
        *stored = 0;
    if (n == 0) {
        cJSON_Delete(rows);
        return AY_OK;
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = ay_json_push(rows, escalation_row(&plans[i], actor));
    if (!ok) {
        cJSON_Delete(rows);
        return AY_ERR_NOMEM;
    }
    if ((rc = exec_rows(db, "ay_insert_escalations", rows, &res, err)) != AY_OK)
        return rc;
    notes = cJSON_CreateArray();
    audit = cJSON_CreateArray();
    ok = notes != NULL && audit != NULL;
    for (int r = 0; ok && r < ay_pg_nrows(res); r++) {
        const char *id = ay_pg_value(res, r, 0);
        for (size_t i = 0; ok && i < n; i++) {
            const struct ay_esc_plan *e = &plans[i];
            if (strcmp(e->id, id) != 0)
                continue;
            char detail[160];
            snprintf(detail, sizeof(detail), "{\"audience\":\"%s\",\"reason\":\"%s\",\"level\":%d}",
                     ay_audience_word(e->audience), reason_name(e->reason), e->state.level);
            struct ay_audit a = {e->subject.district,
                                 e->subject.school,
                                 e->subject.subject_id,
                                 e->id,
                                 0,
                                 "escalation.created",
                                 detail,
                                 NULL};
            ok = add_notifications(notes, e) && audit_row(audit, &a, actor);
            count++;
        }
    }
    ay_pg_result_free(res);
    if (!ok) {
        cJSON_Delete(notes);
        cJSON_Delete(audit);
        return AY_ERR_NOMEM;
    }
    rc = AY_OK;
    if (cJSON_GetArraySize(notes) > 0)
        rc = exec_rows(db, "ay_insert_notifications", notes, NULL, err);
    else
        cJSON_Delete(notes);
    if (rc == AY_OK && cJSON_GetArraySize(audit) > 0)
        rc = exec_rows(db, "ay_insert_audit", audit, NULL, err);
    else
        cJSON_Delete(audit);
    if (rc == AY_OK && stored)
        *stored = count;
    return rc;
}
