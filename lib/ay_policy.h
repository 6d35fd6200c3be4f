/*
 * ay_policy.h - a district's reporting policy: deadlines, routing by
 * severity, and the escalation chain of each audience.
 *
 * Stored as one JSON document per district (table policies), read by the
 * recorder and the watchdog, managed with `ayctl policy show|set|import`.
 * Every key is optional: what a document leaves out keeps its default,
 * and the defaults are the stricter rules of the sources (domain.md rule
 * 2): verbal notice 30 min, written report 1 h (the district plan's 2 h is
 * "written_report": "2h"), monthly report before the 5th. Durations are
 * strings: "45s", "30m", "1h", "2h30m", "7d".
 *
 * Document (all keys, with their defaults):
 *   {"timezone": "Asia/Shanghai",
 *    "verbal_notice": "30m", "written_report": "1h",
 *    "follow_up_interval": "24h",         severity I-II, while open
 *    "final_report_days": 7,              calendar days after closedAt
 *    "alarm_notice": "1h",                an alarm (not a test) expects a notice
 *    "false_alarm_window": "30m",         a false-alarm cancel within it ends that
 *    "monthly_report_day": 5,             due at 00:00 local on this day (1..28)
 *    "risk_report_day": 5,                the risk report of two months, likewise
 *    "self_check_day": 5,                 the monthly hazard self-inspection, likewise
 *    "unresolved_reescalation": "4h",     acknowledged but unresolved -> re-escalate
 *    "device_gap_factor": 2,              a device silent this many heartbeat
 *                                         intervals is flagged offline
 *    "low_battery_percent": 20,           below it a button's battery is low
 *    "hazard_rectification": {"GENERAL": "30d", "MAJOR": "7d"},
 *                                         a hazard registered without a
 *                                         rectificationDeadline is due this long
 *                                         after it was received, by grade; a
 *                                         category may have its own:
 *                                         "HAZARD_CATEGORY_FIRE": {"MAJOR": "3d"}
 *                                         (a grade it leaves out: the district's)
 *    "interim_measures_after": "1d",      a hazard due later than this after it was
 *                                         received (it cannot be fixed at once),
 *                                         a major one and one beyond authority
 *                                         must carry interimMeasures
 *    "major_hazard_reminder": "1d",       a major hazard's supervision (挂牌督办),
 *                                         once acknowledged, reminds this often
 *                                         until the hazard is closed (销号)
 *    "routing": {"SEVERITY_I": ["bureau@3", "government"], ...,
 *                "SEVERITY_IV": ["bureau"], "suspected_crime": ["police"],
 *                "deadline_missed": ["bureau"], "possible_concealment": ["bureau"],
 *                "alarm": ["police"], "device": ["school", "bureau"],
 *                "major_hazard": ["bureau"], "beyond_authority": ["government"]},
 *    "chains": {"bureau": [{"target": "duty_officer", "name_zh": "值班员",
 *                           "name_en": "duty officer", "ack_timeout": "15m",
 *                           "reminder": "5m"}, ...],
 *               "police": [...], "government": [...],
 *               "school": [{"target": "safety_office", "name_zh": "校安办",
 *                           "name_en": "school safety office", ...}]}}
 * A route "bureau@3" starts that audience's chain at step 3 (the city
 * bureau for severity I-II: told at once). The "alarm" route is the chain
 * an unacknowledged alarm climbs (the police feed told the first step); the
 * "device" route is who hears of a device offline, low on battery,
 * tampered with or faulty: by default the device's own school (audience
 * "school": told on its school's feed only, acknowledged by a device of
 * that school) and the bureau. "major_hazard" is who supervises a major hazard
 * from its registration to its closing (挂牌督办); "beyond_authority" who
 * is told of a hazard beyond the school's and the bureau's authority.
 *
 * Owns: nothing beyond the caller's struct. Threads: pure; thread-safe.
 */
#ifndef AY_POLICY_H
#define AY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_tz.h"

#define AY_CHAIN_MAX     8
#define AY_TARGET_MAX    33
#define AY_STEP_NAME_MAX 96

enum ay_audience {
    AY_AUDIENCE_POLICE,
    AY_AUDIENCE_BUREAU,
    AY_AUDIENCE_GOVERNMENT,
    AY_AUDIENCE_SCHOOL, /* the school the escalation is about (its own feed) */
    AY_AUDIENCE_COUNT,
};

/* "police", "bureau", "government", "school" (topic words); NULL for a bad
 * value. */
const char *ay_audience_word(enum ay_audience a);
/* The Audience enum value name of the contract, e.g. "AUDIENCE_BUREAU". */
const char *ay_audience_enum_name(enum ay_audience a);
/* Parses a topic word; false if unknown. */
bool ay_audience_parse(const char *word, enum ay_audience *out);

struct ay_chain_step {
    char target[AY_TARGET_MAX]; /* id-like: duty_officer */
    char name_zh[AY_STEP_NAME_MAX];
    char name_en[AY_STEP_NAME_MAX];
    int64_t ack_timeout_s; /* no acknowledgement within it: the next step */
    int64_t reminder_s;    /* while unacknowledged, remind this often */
};

struct ay_chain {
    int nsteps; /* at least 1 */
    struct ay_chain_step steps[AY_CHAIN_MAX];
};

/* Who is told of something: per audience, 0 (no one) or the chain step to
 * start at (1-based). */
struct ay_route {
    int start_step[AY_AUDIENCE_COUNT];
};

/* The routes of policy.routing, by what happened. */
enum ay_route_kind {
    AY_ROUTE_SEVERITY_I,
    AY_ROUTE_SEVERITY_II,
    AY_ROUTE_SEVERITY_III,
    AY_ROUTE_SEVERITY_IV,
    AY_ROUTE_SUSPECTED_CRIME,
    AY_ROUTE_DEADLINE_MISSED,
    AY_ROUTE_POSSIBLE_CONCEALMENT,
    AY_ROUTE_ALARM,
    AY_ROUTE_DEVICE,
    AY_ROUTE_MAJOR_HAZARD,
    AY_ROUTE_BEYOND_AUTHORITY,
    AY_ROUTE_COUNT,
};

/* Room for the contract's HazardCategory values (0..20 today; 0, the
 * unspecified category, holds the district's own values). */
#define AY_HAZARD_CATEGORY_MAX 32
/* Hazard grades by index: general (HAZARD_GRADE_GENERAL), major. */
#define AY_HAZARD_GRADES 2

struct ay_district_policy {
    char timezone[AY_TZ_NAME_MAX + 1];
    int64_t verbal_notice_s;
    int64_t written_report_s;
    int64_t follow_up_interval_s;
    int final_report_days;
    int64_t alarm_notice_s;
    int64_t false_alarm_window_s;
    int monthly_report_day;
    int risk_report_day;
    int self_check_day;
    int64_t unresolved_reescalation_s;
    int device_gap_factor;
    int low_battery_percent;
    /* [category][grade]: [0][g] the district's; [c][g] 0: category c has
     * none of its own (use ay_policy_hazard_rectification_s). */
    int64_t hazard_rectification_s[AY_HAZARD_CATEGORY_MAX][AY_HAZARD_GRADES];
    int64_t interim_measures_after_s;
    int64_t major_hazard_reminder_s;
    struct ay_route routes[AY_ROUTE_COUNT];
    struct ay_chain chains[AY_AUDIENCE_COUNT];
};

/* The defaults (see the document above). */
void ay_policy_defaults(struct ay_district_policy *p);

/*
 * Reads a policy document over the defaults. AY_ERR_INVALID with err naming
 * the key ("chains.bureau[1].ack_timeout: ...") for anything unknown, of the
 * wrong type or out of range; *out is written only on success. The zone
 * name is checked for syntax here; whether it exists is for ay_tz.
 */
enum ay_err ay_policy_from_json(const char *json, size_t len, struct ay_district_policy *out,
                                char err[AY_ERRLEN]);

/* The whole policy as a JSON document (every key), a new string the caller
 * frees; NULL when out of memory. Reading it back gives the same policy. */
char *ay_policy_to_json(const struct ay_district_policy *p, bool pretty);

/* "30m" -> 1800. Units s, m, h, d, combinable ("1h30m"); 1 s .. 366 d. */
enum ay_err ay_duration_parse(const char *s, int64_t *out_s);
/* 1800 -> "30m"; 5400 -> "1h30m". Writes at most cap bytes. */
void ay_duration_format(int64_t s, char *buf, size_t cap);

/* The route for an incident of severity (Severity enum value 1..4). */
enum ay_route_kind ay_route_for_severity(int severity);

/* How long a hazard of category (HazardCategory value) and grade
 * (HazardGrade value; anything but major counts as general) registered
 * without a rectification deadline has: the category's own value if the
 * policy gives one, else the district's. */
int64_t ay_policy_hazard_rectification_s(const struct ay_district_policy *p, int category,
                                         int grade);

#endif
