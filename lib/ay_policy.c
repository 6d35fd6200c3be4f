/*
 * ay_policy.c - the reporting policy document; see ay_policy.h.
 *
 * Parsing walks the document key by key against the tables below, so every
 * error names the key it is about, and an unknown key is an error (a typo
 * must never silently leave a default in force).
 */
#include "ay_policy.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "anyuan/v1/hazard.pb-c.h"
#include "ay_json.h"

#define DURATION_MAX_S (366LL * 86400)

static const char *const audience_words[AY_AUDIENCE_COUNT] = {"police", "bureau", "government",
                                                              "school"};
static const char *const audience_enums[AY_AUDIENCE_COUNT] = {
    "AUDIENCE_POLICE", "AUDIENCE_BUREAU", "AUDIENCE_GOVERNMENT", "AUDIENCE_SCHOOL"};
/* The audiences in words, for errors. */
#define AUDIENCES "police, bureau, government or school"
static const char *const route_keys[AY_ROUTE_COUNT] = {
    "SEVERITY_I",      "SEVERITY_II",     "SEVERITY_III",         "SEVERITY_IV",
    "suspected_crime", "deadline_missed", "possible_concealment", "alarm",
    "device",          "major_hazard",    "beyond_authority"};
/* Keys of hazard_rectification (and of a category's object), by grade index. */
static const char *const grade_keys[AY_HAZARD_GRADES] = {"GENERAL", "MAJOR"};

const char *ay_audience_word(enum ay_audience a)
{
    return (unsigned)a < AY_AUDIENCE_COUNT ? audience_words[a] : NULL;
}

const char *ay_audience_enum_name(enum ay_audience a)
{
    return (unsigned)a < AY_AUDIENCE_COUNT ? audience_enums[a] : NULL;
}

bool ay_audience_parse(const char *word, enum ay_audience *out)
{
    for (int i = 0; word != NULL && i < AY_AUDIENCE_COUNT; i++) {
        if (strcmp(word, audience_words[i]) == 0) {
            *out = (enum ay_audience)i;
            return true;
        }
    }
    return false;
}

enum ay_route_kind ay_route_for_severity(int severity)
{
    switch (severity) {
    case 1:
        return AY_ROUTE_SEVERITY_I;
    case 2:
        return AY_ROUTE_SEVERITY_II;
    case 3:
        return AY_ROUTE_SEVERITY_III;
    default:
        return AY_ROUTE_SEVERITY_IV;
    }
}

int64_t ay_policy_hazard_rectification_s(const struct ay_district_policy *p, int category,
                                         int grade)
{
    int g = grade == ANYUAN__V1__HAZARD_GRADE__HAZARD_GRADE_MAJOR ? 1 : 0;
    if (category > 0 && category < AY_HAZARD_CATEGORY_MAX &&
        p->hazard_rectification_s[category][g] > 0)
        return p->hazard_rectification_s[category][g];
    return p->hazard_rectification_s[0][g];
}

/* ---- durations ------------------------------------------------------------- */

enum ay_err ay_duration_parse(const char *s, int64_t *out_s)
{
    int64_t total = 0;
    bool any = false;

    if (s == NULL || *s == '\0')
        return AY_ERR_INVALID;
    while (*s) {
        if (!isdigit((unsigned char)*s))
            return AY_ERR_INVALID;
        int64_t n = 0;
        while (isdigit((unsigned char)*s)) {
            n = n * 10 + (*s++ - '0');
            if (n > DURATION_MAX_S)
                return AY_ERR_INVALID;
        }
        int64_t unit;
        switch (*s++) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return AY_ERR_INVALID;
        }
        total += n * unit;
        if (total > DURATION_MAX_S)
            return AY_ERR_INVALID;
        any = true;
    }
    if (!any || total < 1)
        return AY_ERR_INVALID;
    *out_s = total;
    return AY_OK;
}

void ay_duration_format(int64_t s, char *buf, size_t cap)
{
    static const struct {
        int64_t secs;
        char unit;
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    size_t len = 0;

    if (cap == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && s > 0; i++) {
        int64_t n = s / units[i].secs;
        if (n == 0)
            continue;
        int w = snprintf(buf + len, cap - len, "%lld%c", (long long)n, units[i].unit);
        if (w < 0 || (size_t)w >= cap - len)
            return;
        len += (size_t)w;
        s -= n * units[i].secs;
    }
    if (len == 0)
        snprintf(buf, cap, "0s");
}

/* ---- defaults ---------------------------------------------------------------- */

static void step(struct ay_chain *c, const char *target, const char *zh, const char *en,
                 int64_t ack_s, int64_t remind_s)
{
    struct ay_chain_step *s = &c->steps[c->nsteps++];
    snprintf(s->target, sizeof(s->target), "%s", target);
    snprintf(s->name_zh, sizeof(s->name_zh), "%s", zh);
    snprintf(s->name_en, sizeof(s->name_en), "%s", en);
    s->ack_timeout_s = ack_s;
    s->reminder_s = remind_s;
}

void ay_policy_defaults(struct ay_district_policy *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->timezone, sizeof(p->timezone), "Asia/Shanghai");
    /* domain.md rule 2, the stricter Anhui rule: 30 min verbal, 1 h written. */
    p->verbal_notice_s = 30 * 60;
    p->written_report_s = 60 * 60;
    p->follow_up_interval_s = 24 * 3600;
    p->final_report_days = 7;
    p->alarm_notice_s = 60 * 60;
    p->false_alarm_window_s = 30 * 60;
    p->monthly_report_day = 5; /* rule 4: before the 5th of the next month */
    p->risk_report_day = 5;    /* every two months: before the 5th after the two */
    p->self_check_day = 5;     /* the monthly hazard self-inspection, likewise */
    p->unresolved_reescalation_s = 4 * 3600;
    /* domain.md rule 1, 联得通: two missed heartbeats flag a button. */
    p->device_gap_factor = 2;
    p->low_battery_percent = 20;
    /* domain.md rule 3 names no figure: a month for a general hazard, a
     * week for a major one, unless the school or the district says. */
    p->hazard_rectification_s[0][0] = 30 * 86400;
    p->hazard_rectification_s[0][1] = 7 * 86400;
    /* "对一时难以整治到位的安全隐患，要迅速采取隔离、设置警示标识等措施"
     * (001): not fixed within a day means interim measures. */
    p->interim_measures_after_s = 86400;
    p->major_hazard_reminder_s = 86400;
    /* IV-III to the district bureau; I-II also to the city bureau (bureau
     * step 3, told at once) and the local government; suspected crime to
     * the police at once (强制报告). */
    p->routes[AY_ROUTE_SEVERITY_I].start_step[AY_AUDIENCE_BUREAU] = 3;
    p->routes[AY_ROUTE_SEVERITY_I].start_step[AY_AUDIENCE_GOVERNMENT] = 1;
    p->routes[AY_ROUTE_SEVERITY_II].start_step[AY_AUDIENCE_BUREAU] = 3;
    p->routes[AY_ROUTE_SEVERITY_II].start_step[AY_AUDIENCE_GOVERNMENT] = 1;
    p->routes[AY_ROUTE_SEVERITY_III].start_step[AY_AUDIENCE_BUREAU] = 1;
    p->routes[AY_ROUTE_SEVERITY_IV].start_step[AY_AUDIENCE_BUREAU] = 1;
    p->routes[AY_ROUTE_SUSPECTED_CRIME].start_step[AY_AUDIENCE_POLICE] = 1;
    p->routes[AY_ROUTE_DEADLINE_MISSED].start_step[AY_AUDIENCE_BUREAU] = 1;
    p->routes[AY_ROUTE_POSSIBLE_CONCEALMENT].start_step[AY_AUDIENCE_BUREAU] = 1;
    p->routes[AY_ROUTE_ALARM].start_step[AY_AUDIENCE_POLICE] = 1;
    /* Issue 12: a device offline (or low, tampered with, faulty) is told
     * to its school, which can go and look, and to the bureau. */
    p->routes[AY_ROUTE_DEVICE].start_step[AY_AUDIENCE_SCHOOL] = 1;
    p->routes[AY_ROUTE_DEVICE].start_step[AY_AUDIENCE_BUREAU] = 1;
    /* Major hazards: tracked supervision by the bureau (挂牌督办); beyond
     * its authority: the local government (003). */
    p->routes[AY_ROUTE_MAJOR_HAZARD].start_step[AY_AUDIENCE_BUREAU] = 1;
    p->routes[AY_ROUTE_BEYOND_AUTHORITY].start_step[AY_AUDIENCE_GOVERNMENT] = 1;
    struct ay_chain *c = &p->chains[AY_AUDIENCE_POLICE];
    step(c, "police_liaison", "派出所联络民警", "police liaison", 5 * 60, 2 * 60);
    step(c, "duty_commander_110", "110指挥中心值班长", "110 duty commander", 10 * 60, 3 * 60);
    c = &p->chains[AY_AUDIENCE_BUREAU];
    step(c, "duty_officer", "教育局值班员", "bureau duty officer", 15 * 60, 5 * 60);
    step(c, "safety_head", "安稳办负责人", "head of the safety office", 30 * 60, 10 * 60);
    step(c, "city_bureau", "市教育局", "city education bureau", 60 * 60, 15 * 60);
    c = &p->chains[AY_AUDIENCE_GOVERNMENT];
    step(c, "government_duty", "当地政府值班室", "local government duty office", 30 * 60, 10 * 60);
    /* The school's safety office (校安办) answers like the bureau's duty
     * officer: within 15 min, reminded every 5 min; one step, so the
     * reminders go on until it acknowledges (lib/ay_escalation.h) while
     * the bureau's own chain climbs. */
    c = &p->chains[AY_AUDIENCE_SCHOOL];
    step(c, "safety_office", "校安办", "school safety office", 15 * 60, 5 * 60);
}

/* ---- parsing ------------------------------------------------------------------ */

static enum ay_err bad(char err[AY_ERRLEN], const char *path, const char *what)
{
    ay_errf(err, "%s: %s", path, what);
    return AY_ERR_INVALID;
}

static enum ay_err get_duration(const cJSON *v, const char *path, int64_t *out, char err[AY_ERRLEN])
{
    if (!cJSON_IsString(v) || ay_duration_parse(v->valuestring, out) != AY_OK)
        return bad(err, path,
                   "expected a duration like \"45s\", \"30m\", \"2h\" or \"7d\" "
                   "(1 s to 366 d)");
    return AY_OK;
}

static enum ay_err get_int(const cJSON *v, const char *path, int min, int max, int *out,
                           char err[AY_ERRLEN])
{
    char what[96];
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= min && d <= max) || d != floor(d)) {
        snprintf(what, sizeof(what), "expected a whole number from %d to %d", min, max);
        return bad(err, path, what);
    }
    *out = (int)d;
    return AY_OK;
}

static bool id_like(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_' ||
              s[n] == '-'))
            return false;
    return n > 0 && n < AY_TARGET_MAX;
}

static bool tz_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AY_TZ_NAME_MAX || s[0] == '/' || strstr(s, "..") != NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || strchr("_+-/", s[i]) != NULL))
            return false;
    return true;
}

static enum ay_err get_text(const cJSON *v, const char *path, char *dst, size_t cap,
                            char err[AY_ERRLEN])
{
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
        return bad(err, path, "expected a string of at most 95 bytes");
    snprintf(dst, cap, "%s", v->valuestring);
    return AY_OK;
}

static enum ay_err parse_step(const cJSON *o, const char *path, struct ay_chain_step *s,
                              char err[AY_ERRLEN])
{
    char sub[128];
    enum ay_err rc = AY_OK;
    bool have_target = false, have_ack = false;

    if (!cJSON_IsObject(o))
        return bad(err, path,
                   "expected an object with target, name_zh, name_en, ack_timeout, "
                   "reminder");
    memset(s, 0, sizeof(*s));
    for (const cJSON *k = o->child; k != NULL && rc == AY_OK; k = k->next) {
        snprintf(sub, sizeof(sub), "%s.%s", path, k->string);
        if (strcmp(k->string, "target") == 0) {
            if (!cJSON_IsString(k) || !id_like(k->valuestring))
                return bad(err, sub, "expected 1 to 32 characters of a-z, 0-9, '_' and '-'");
            snprintf(s->target, sizeof(s->target), "%s", k->valuestring);
            have_target = true;
        } else if (strcmp(k->string, "name_zh") == 0) {
            rc = get_text(k, sub, s->name_zh, sizeof(s->name_zh), err);
        } else if (strcmp(k->string, "name_en") == 0) {
            rc = get_text(k, sub, s->name_en, sizeof(s->name_en), err);
        } else if (strcmp(k->string, "ack_timeout") == 0) {
            rc = get_duration(k, sub, &s->ack_timeout_s, err);
            have_ack = true;
        } else if (strcmp(k->string, "reminder") == 0) {
            rc = get_duration(k, sub, &s->reminder_s, err);
        } else {
            return bad(err, sub, "unknown key");
        }
    }
    if (rc != AY_OK)
        return rc;
    if (!have_target || !have_ack) {
        snprintf(sub, sizeof(sub), "%s.%s", path, have_target ? "ack_timeout" : "target");
        return bad(err, sub, "required");
    }
    if (s->reminder_s == 0)
        s->reminder_s = s->ack_timeout_s;
    /* Unnamed steps are called by their target (it fits: 32 < 95 bytes). */
    if (s->name_zh[0] == '\0')
        memcpy(s->name_zh, s->target, strlen(s->target) + 1);
    if (s->name_en[0] == '\0')
        memcpy(s->name_en, s->target, strlen(s->target) + 1);
    return AY_OK;
}

static enum ay_err parse_chains(const cJSON *o, struct ay_district_policy *p, char err[AY_ERRLEN])
{
    char path[96];

    if (!cJSON_IsObject(o))
        return bad(err, "chains", "expected an object with police, bureau, government, school");
    for (const cJSON *k = o->child; k != NULL; k = k->next) {
        enum ay_audience a;
        snprintf(path, sizeof(path), "chains.%s", k->string);
        if (!ay_audience_parse(k->string, &a))
            return bad(err, path, "unknown audience (" AUDIENCES ")");
        int n = cJSON_GetArraySize(k);
        if (!cJSON_IsArray(k) || n < 1 || n > AY_CHAIN_MAX)
            return bad(err, path, "expected a list of 1 to 8 steps");
        struct ay_chain c;
        memset(&c, 0, sizeof(c));
        for (const cJSON *s = k->child; s != NULL; s = s->next) {
            char spath[112];
            snprintf(spath, sizeof(spath), "%s[%d]", path, c.nsteps);
            enum ay_err rc = parse_step(s, spath, &c.steps[c.nsteps], err);
            if (rc != AY_OK)
                return rc;
            c.nsteps++;
        }
        p->chains[a] = c;
    }
    return AY_OK;
}

/* ["bureau@3", "government"] -> a route. */
static enum ay_err parse_route(const cJSON *v, const char *path, struct ay_route *r,
                               char err[AY_ERRLEN])
{
    char sub[112];
    int i = 0;

    if (!cJSON_IsArray(v))
        return bad(err, path, "expected a list like [\"bureau\", \"government@1\"]");
    memset(r, 0, sizeof(*r));
    for (const cJSON *e = v->child; e != NULL; e = e->next, i++) {
        char word[32];
        int stepno = 1;
        snprintf(sub, sizeof(sub), "%s[%d]", path, i);
        if (!cJSON_IsString(e) || strlen(e->valuestring) >= sizeof(word))
            return bad(err, sub,
                       "expected \"police\", \"bureau\", \"government\" or \"school\", "
                       "optionally with @STEP");
        snprintf(word, sizeof(word), "%s", e->valuestring);
        char *at = strchr(word, '@');
        if (at != NULL) {
            char *end = NULL;
            *at = '\0';
            long n = strtol(at + 1, &end, 10);
            if (at[1] == '\0' || *end != '\0' || n < 1 || n > AY_CHAIN_MAX)
                return bad(err, sub, "the step after @ must be 1 to 8");
            stepno = (int)n;
        }
        enum ay_audience a;
        if (!ay_audience_parse(word, &a))
            return bad(err, sub, "unknown audience (" AUDIENCES ")");
        r->start_step[a] = stepno;
    }
    return AY_OK;
}

static enum ay_err parse_routing(const cJSON *o, struct ay_district_policy *p, char err[AY_ERRLEN])
{
    char path[96];

    if (!cJSON_IsObject(o))
        return bad(err, "routing", "expected an object");
    for (const cJSON *k = o->child; k != NULL; k = k->next) {
        int which = -1;
        snprintf(path, sizeof(path), "routing.%s", k->string);
        for (int i = 0; i < AY_ROUTE_COUNT; i++)
            if (strcmp(k->string, route_keys[i]) == 0)
                which = i;
        if (which < 0)
            return bad(err, path,
                       "unknown key (SEVERITY_I..SEVERITY_IV, suspected_crime, "
                       "deadline_missed, possible_concealment, alarm, device, major_hazard, "
                       "beyond_authority)");
        enum ay_err rc = parse_route(k, path, &p->routes[which], err);
        if (rc != AY_OK)
            return rc;
    }
    return AY_OK;
}

/* {"GENERAL": "30d", "MAJOR": "7d"} into out[grade index]; with
 * categories, also "HAZARD_CATEGORY_...": {...} into that category's. */
static enum ay_err parse_grades(const cJSON *o, const char *path, bool categories,
                                int64_t out[][AY_HAZARD_GRADES], char err[AY_ERRLEN])
{
    char sub[128];

    if (!cJSON_IsObject(o))
        return bad(err, path, "expected an object like {\"GENERAL\": \"30d\", \"MAJOR\": \"7d\"}");
    for (const cJSON *k = o->child; k != NULL; k = k->next) {
        snprintf(sub, sizeof(sub), "%s.%s", path, k->string);
        int g = -1;
        for (int i = 0; i < AY_HAZARD_GRADES; i++)
            if (strcmp(k->string, grade_keys[i]) == 0)
                g = i;
        if (g >= 0) {
            enum ay_err rc = get_duration(k, sub, &out[0][g], err);
            if (rc != AY_OK)
                return rc;
            continue;
        }
        const ProtobufCEnumValue *v = categories
                                          ? protobuf_c_enum_descriptor_get_value_by_name(
                                                &anyuan__v1__hazard_category__descriptor, k->string)
                                          : NULL;
        if (v == NULL || v->value <= 0 || v->value >= AY_HAZARD_CATEGORY_MAX)
            return bad(err, sub,
                       categories ? "unknown key (GENERAL, MAJOR or a HAZARD_CATEGORY_... name)"
                                  : "unknown key (GENERAL or MAJOR)");
        int64_t own[1][AY_HAZARD_GRADES] = {{0, 0}};
        enum ay_err rc = parse_grades(k, sub, false, own, err);
        if (rc != AY_OK)
            return rc;
        for (int i = 0; i < AY_HAZARD_GRADES; i++)
            out[v->value][i] = own[0][i];
    }
    return AY_OK;
}

/* The scalar keys: name, where it goes, and how it is read. */
enum kind { K_DURATION, K_DAYS, K_MONTH_DAY, K_TZ, K_FACTOR, K_PERCENT };
static const struct {
    const char *key;
    enum kind kind;
    size_t offset;
} scalars[] = {
    {"timezone", K_TZ, offsetof(struct ay_district_policy, timezone)},
    {"verbal_notice", K_DURATION, offsetof(struct ay_district_policy, verbal_notice_s)},
    {"written_report", K_DURATION, offsetof(struct ay_district_policy, written_report_s)},
    {"follow_up_interval", K_DURATION, offsetof(struct ay_district_policy, follow_up_interval_s)},
    {"final_report_days", K_DAYS, offsetof(struct ay_district_policy, final_report_days)},
    {"alarm_notice", K_DURATION, offsetof(struct ay_district_policy, alarm_notice_s)},
    {"false_alarm_window", K_DURATION, offsetof(struct ay_district_policy, false_alarm_window_s)},
    {"monthly_report_day", K_MONTH_DAY, offsetof(struct ay_district_policy, monthly_report_day)},
    {"risk_report_day", K_MONTH_DAY, offsetof(struct ay_district_policy, risk_report_day)},
    {"self_check_day", K_MONTH_DAY, offsetof(struct ay_district_policy, self_check_day)},
    {"unresolved_reescalation", K_DURATION,
     offsetof(struct ay_district_policy, unresolved_reescalation_s)},
    {"device_gap_factor", K_FACTOR, offsetof(struct ay_district_policy, device_gap_factor)},
    {"low_battery_percent", K_PERCENT, offsetof(struct ay_district_policy, low_battery_percent)},
    {"interim_measures_after", K_DURATION,
     offsetof(struct ay_district_policy, interim_measures_after_s)},
    {"major_hazard_reminder", K_DURATION,
     offsetof(struct ay_district_policy, major_hazard_reminder_s)},
};

static enum ay_err parse_scalar(const cJSON *k, int i, struct ay_district_policy *p,
                                char err[AY_ERRLEN])
{
    char *field = (char *)p + scalars[i].offset;
    switch (scalars[i].kind) {
    case K_DURATION:
        return get_duration(k, k->string, (int64_t *)(void *)field, err);
    case K_DAYS:
        return get_int(k, k->string, 1, 366, (int *)(void *)field, err);
    case K_MONTH_DAY:
        return get_int(k, k->string, 1, 28, (int *)(void *)field, err);
    case K_FACTOR:
        return get_int(k, k->string, 1, 10, (int *)(void *)field, err);
    case K_PERCENT:
        return get_int(k, k->string, 0, 100, (int *)(void *)field, err);
    case K_TZ:
        if (!cJSON_IsString(k) || !tz_name_ok(k->valuestring))
            return bad(err, k->string, "expected a time zone name like \"Asia/Shanghai\"");
        snprintf(field, AY_TZ_NAME_MAX + 1, "%s", k->valuestring);
        return AY_OK;
    }
    return AY_ERR_INVALID;
}

/* Cross-key rules: every route names a step its chain has. */
static enum ay_err check_routes(const struct ay_district_policy *p, char err[AY_ERRLEN])
{
    for (int r = 0; r < AY_ROUTE_COUNT; r++) {
        for (int a = 0; a < AY_AUDIENCE_COUNT; a++) {
            if (p->routes[r].start_step[a] > p->chains[a].nsteps) {
                ay_errf(err, "routing.%s: %s@%d, but chains.%s has %d step(s)", route_keys[r],
                        audience_words[a], p->routes[r].start_step[a], audience_words[a],
                        p->chains[a].nsteps);
                return AY_ERR_INVALID;
            }
        }
    }
    return AY_OK;
}

enum ay_err ay_policy_from_json(const char *json, size_t len, struct ay_district_policy *out,
                                char err[AY_ERRLEN])
{
    struct ay_district_policy p;
    cJSON *doc = cJSON_ParseWithLength(json, len);
    enum ay_err rc = AY_OK;

    ay_policy_defaults(&p);
    if (doc == NULL || !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        ay_errf(err, "policy: not a JSON object");
        return AY_ERR_INVALID;
    }
    for (const cJSON *k = doc->child; k != NULL && rc == AY_OK; k = k->next) {
        int which = -1;
        for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
            if (strcmp(k->string, scalars[i].key) == 0)
                which = (int)i;
        if (which >= 0)
            rc = parse_scalar(k, which, &p, err);
        else if (strcmp(k->string, "chains") == 0)
            rc = parse_chains(k, &p, err);
        else if (strcmp(k->string, "routing") == 0)
            rc = parse_routing(k, &p, err);
        else if (strcmp(k->string, "hazard_rectification") == 0)
            rc = parse_grades(k, k->string, true, p.hazard_rectification_s, err);
        else
            rc = bad(err, k->string, "unknown key");
    }
    cJSON_Delete(doc);
    if (rc == AY_OK)
        rc = check_routes(&p, err);
    if (rc == AY_OK)
        *out = p;
    return rc;
}

/* ---- writing --------------------------------------------------------------------- */

static bool put_duration(cJSON *o, const char *key, int64_t s)
{
    char buf[32];
    ay_duration_format(s, buf, sizeof(buf));
    return ay_json_str(o, key, buf);
}

static cJSON *route_json(const struct ay_route *r)
{
    cJSON *a = cJSON_CreateArray();
    bool ok = a != NULL;
    for (int i = 0; ok && i < AY_AUDIENCE_COUNT; i++) {
        char word[48];
        if (r->start_step[i] == 0)
            continue;
        if (r->start_step[i] == 1)
            snprintf(word, sizeof(word), "%s", audience_words[i]);
        else
            snprintf(word, sizeof(word), "%s@%d", audience_words[i], r->start_step[i]);
        ok = ay_json_push(a, cJSON_CreateString(word));
    }
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* hazard_rectification: the district's grades, then each category that
 * has values of its own (only those it has). */
static cJSON *hazard_json(const struct ay_district_policy *p)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL;
    for (int c = 0; ok && c < AY_HAZARD_CATEGORY_MAX; c++) {
        const ProtobufCEnumValue *v =
            c > 0
                ? protobuf_c_enum_descriptor_get_value(&anyuan__v1__hazard_category__descriptor, c)
                : NULL;
        cJSON *to = c == 0 ? o : NULL;
        for (int g = 0; ok && g < AY_HAZARD_GRADES; g++) {
            if (p->hazard_rectification_s[c][g] == 0 || (c > 0 && v == NULL))
                continue;
            if (to == NULL) {
                to = cJSON_CreateObject();
                ok = ay_json_take(o, v->name, to);
            }
            ok = ok && put_duration(to, grade_keys[g], p->hazard_rectification_s[c][g]);
        }
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *chain_json(const struct ay_chain *c)
{
    cJSON *a = cJSON_CreateArray();
    bool ok = a != NULL;
    for (int i = 0; ok && i < c->nsteps; i++) {
        const struct ay_chain_step *s = &c->steps[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && ay_json_str(o, "target", s->target) &&
             ay_json_str(o, "name_zh", s->name_zh) && ay_json_str(o, "name_en", s->name_en) &&
             put_duration(o, "ack_timeout", s->ack_timeout_s) &&
             put_duration(o, "reminder", s->reminder_s);
        ok = ay_json_push(a, o) && ok;
    }
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

char *ay_policy_to_json(const struct ay_district_policy *p, bool pretty)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *routing = cJSON_CreateObject();
    cJSON *chains = cJSON_CreateObject();
    bool ok = o && routing && chains && ay_json_str(o, "timezone", p->timezone) &&
              put_duration(o, "verbal_notice", p->verbal_notice_s) &&
              put_duration(o, "written_report", p->written_report_s) &&
              put_duration(o, "follow_up_interval", p->follow_up_interval_s) &&
              ay_json_num(o, "final_report_days", p->final_report_days) &&
              put_duration(o, "alarm_notice", p->alarm_notice_s) &&
              put_duration(o, "false_alarm_window", p->false_alarm_window_s) &&
              ay_json_num(o, "monthly_report_day", p->monthly_report_day) &&
              ay_json_num(o, "risk_report_day", p->risk_report_day) &&
              ay_json_num(o, "self_check_day", p->self_check_day) &&
              put_duration(o, "unresolved_reescalation", p->unresolved_reescalation_s) &&
              ay_json_num(o, "device_gap_factor", p->device_gap_factor) &&
              ay_json_num(o, "low_battery_percent", p->low_battery_percent) &&
              ay_json_take(o, "hazard_rectification", hazard_json(p)) &&
              put_duration(o, "interim_measures_after", p->interim_measures_after_s) &&
              put_duration(o, "major_hazard_reminder", p->major_hazard_reminder_s);
    for (int r = 0; ok && r < AY_ROUTE_COUNT; r++)
        ok = ay_json_take(routing, route_keys[r], route_json(&p->routes[r]));
    for (int a = 0; ok && a < AY_AUDIENCE_COUNT; a++)
        ok = ay_json_take(chains, audience_words[a], chain_json(&p->chains[a]));
    if (ok) {
        ok = ay_json_take(o, "routing", routing);
        routing = NULL;
    }
    if (ok) {
        ok = ay_json_take(o, "chains", chains);
        chains = NULL;
    }
    cJSON_Delete(routing);
    cJSON_Delete(chains);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    char *text = pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}
