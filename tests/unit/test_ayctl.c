/*
 * test_ayctl.c - the pure parts of ayctl (tools/ayctl, through ayctl_core):
 * editing a policy document by dotted path and saying what changed
 * (policy_edit.c), the ack states people type and the lines people read
 * (people_text.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_policy.h"
#include "ay_time.h"
#include "ay_tz.h"
#include "people_text.h"
#include "policy_edit.h"

/* ---- helpers -------------------------------------------------------------------- */

/* The effective document of the defaults, as ayctl builds it. */
static cJSON *defaults_doc(void)
{
    struct ay_district_policy p;
    ay_policy_defaults(&p);
    char *text = ay_policy_to_json(&p, false);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

/* Sets path to the VALUE text in doc (a JSON text); returns the code and
 * the resulting document as compact JSON in *out (caller frees). */
static enum ay_err set(const char *doc_text, const char *path, const char *value, char **out,
                       char err[AY_ERRLEN])
{
    cJSON *doc = cJSON_Parse(doc_text);
    cJSON *eff = defaults_doc();
    cJSON *v = ayctl_policy_value(value);
    assert_non_null(doc);
    assert_non_null(v);
    enum ay_err rc = ayctl_policy_set_path(doc, eff, path, v, err);
    if (rc != AY_OK)
        cJSON_Delete(v);
    *out = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    cJSON_Delete(eff);
    return rc;
}

static enum ay_err validate(const char *doc, struct ay_district_policy *p, char err[AY_ERRLEN])
{
    return ay_policy_from_json(doc, strlen(doc), p, err);
}

static int64_t utc(const char *rfc3339)
{
    int64_t s = 0;
    int32_t ns = 0;
    assert_int_equal(ay_time_parse_rfc3339(rfc3339, &s, &ns), AY_OK);
    return ay_time_to_us(s, ns);
}

/* China Standard Time as a POSIX rule: no tzdata needed by the test. */
static struct ay_tz *cst(void)
{
    struct ay_tz *z = NULL;
    char err[AY_ERRLEN];
    assert_int_equal(ay_tz_parse_posix("CST-8", &z, err), AY_OK);
    return z;
}

/* ---- policy set: dotted paths ------------------------------------------------------ */

static void test_policy_set_top_level_key_adds_only_that_key(void **state)
{
    (void)state;
    char err[AY_ERRLEN] = "";
    char *out = NULL;
    assert_int_equal(set("{}", "written_report", "2h", &out, err), AY_OK);
    assert_string_equal(out, "{\"written_report\":\"2h\"}");
    free(out);
    assert_int_equal(set("{\"written_report\":\"2h\"}", "written_report", "90m", &out, err), AY_OK);
    assert_string_equal(out, "{\"written_report\":\"90m\"}");
    free(out);
    assert_int_equal(set("{}", "monthly_report_day", "10", &out, err), AY_OK);
    assert_string_equal(out, "{\"monthly_report_day\":10}");
    free(out);
}

static void test_policy_set_inside_a_chain_copies_that_chain_only(void **state)
{
    (void)state;
    char err[AY_ERRLEN] = "";
    char *out = NULL;
    struct ay_district_policy p;
    assert_int_equal(set("{}", "chains.bureau[0].ack_timeout", "5m", &out, err), AY_OK);
    cJSON *doc = cJSON_Parse(out);
    const cJSON *chains = cJSON_GetObjectItemCaseSensitive(doc, "chains");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(chains, "bureau"));
    assert_null(cJSON_GetObjectItemCaseSensitive(chains, "police"));
    assert_null(cJSON_GetObjectItemCaseSensitive(doc, "routing"));
    cJSON_Delete(doc);
    assert_int_equal(validate(out, &p, err), AY_OK);
    assert_int_equal(p.chains[AY_AUDIENCE_BUREAU].nsteps, 3);
    assert_int_equal(p.chains[AY_AUDIENCE_BUREAU].steps[0].ack_timeout_s, 300);
    assert_int_equal(p.chains[AY_AUDIENCE_BUREAU].steps[0].reminder_s, 300);
    assert_string_equal(p.chains[AY_AUDIENCE_BUREAU].steps[2].target, "city_bureau");
    assert_int_equal(p.chains[AY_AUDIENCE_POLICE].nsteps, 2);
    free(out);
}

static void test_policy_set_a_route_replaces_it_whole(void **state)
{
    (void)state;
    char err[AY_ERRLEN] = "";
    char *out = NULL;
    struct ay_district_policy p;
    assert_int_equal(set("{\"written_report\":\"2h\"}", "routing.SEVERITY_II",
                         "[\"bureau@2\",\"police\"]", &out, err),
                     AY_OK);
    assert_string_equal(
        out, "{\"written_report\":\"2h\",\"routing\":{\"SEVERITY_II\":[\"bureau@2\",\"police\"]}}");
    assert_int_equal(validate(out, &p, err), AY_OK);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_II].start_step[AY_AUDIENCE_BUREAU], 2);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_II].start_step[AY_AUDIENCE_POLICE], 1);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_II].start_step[AY_AUDIENCE_GOVERNMENT], 0);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_I].start_step[AY_AUDIENCE_GOVERNMENT], 1);
    free(out);
}

static void test_policy_set_index_after_the_last_appends_a_step(void **state)
{
    (void)state;
    char err[AY_ERRLEN] = "";
    char *out = NULL;
    struct ay_district_policy p;
    assert_int_equal(set("{}", "chains.government[1]",
                         "{\"target\":\"mayor_office\",\"ack_timeout\":\"1h\"}", &out, err),
                     AY_OK);
    assert_int_equal(validate(out, &p, err), AY_OK);
    assert_int_equal(p.chains[AY_AUDIENCE_GOVERNMENT].nsteps, 2);
    assert_string_equal(p.chains[AY_AUDIENCE_GOVERNMENT].steps[1].target, "mayor_office");
    free(out);
    /* A new step given key by key is incomplete until its ack_timeout: the
     * policy check names the missing key. */
    assert_int_equal(set("{}", "chains.government[1].target", "x", &out, err), AY_OK);
    assert_int_equal(validate(out, &p, err), AY_ERR_INVALID);
    assert_string_equal(err, "chains.government[1].ack_timeout: required");
    free(out);
}

static void test_policy_set_values_are_json_if_they_parse_else_strings(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *json;
    } cases[] = {
        {"2h", "\"2h\""},
        {"5m", "\"5m\""},
        {"Asia/Shanghai", "\"Asia/Shanghai\""},
        {"10", "10"},
        {"\"30m\"", "\"30m\""},
        {"[\"bureau@3\", \"government\"]", "[\"bureau@3\",\"government\"]"},
        {"true", "true"},
        {"{\"a\": 1} x", "\"{\\\"a\\\": 1} x\""},
        {"", "\"\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *v = ayctl_policy_value(cases[i].text);
        char *s = cJSON_PrintUnformatted(v);
        print_message("%s\n", cases[i].text);
        assert_string_equal(s, cases[i].json);
        free(s);
        cJSON_Delete(v);
    }
}

static void test_policy_set_bad_paths_name_the_part_that_is_wrong(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *err;
    } cases[] = {
        {"", "\"\": expected a key like written_report or chains.bureau[0].ack_timeout"},
        {"[0]", "[0]: must start with a key"},
        {"chains..bureau", "chains..: empty key"},
        {"chains.", "chains.: empty key"},
        {"chains.bureau[x]", "chains.bureau[: expected [N] with N a number from 0 to 9999"},
        {"chains.bureau[0]x", "chains.bureau[0]x: expected '.' or '[' after \"chains.bureau[0]\""},
        {"chains.bureau[7].target", "chains.bureau[7]: no such item: the list has 3 (use [3] to "
                                    "add one)"},
        {"written_report.x", "written_report: is not an object, so .x does not apply"},
        {"chains[0]", "chains: is not a list, so [0] does not apply"},
        {"routing.SEVERITY_I.x", "routing.SEVERITY_I: is not an object, so .x does not apply"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[AY_ERRLEN] = "";
        char *out = NULL;
        print_message("%s\n", cases[i].path);
        assert_int_equal(set("{\"written_report\":\"2h\"}", cases[i].path, "1", &out, err),
                         AY_ERR_INVALID);
        assert_string_equal(err, cases[i].err);
        free(out);
    }
}

static void test_policy_set_invalid_results_are_refused_naming_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *value;
        const char *err_prefix;
    } cases[] = {
        {"written_report", "0s", "written_report: expected a duration"},
        {"written_report", "10", "written_report: expected a duration"},
        {"monthly_report_day", "29", "monthly_report_day: expected a whole number from 1 to 28"},
        {"chains.bureau[0].ack_timeout", "soon", "chains.bureau[0].ack_timeout: expected a"},
        {"routing.SEVERITY_II", "[\"bureau@9\"]", "routing.SEVERITY_II[0]: the step after @"},
        {"routing.SEVERITY_II", "[\"bureau@4\"]",
         "routing.SEVERITY_II: bureau@4, but chains.bureau has 3 step(s)"},
        {"routing.SEVERITY_II", "[\"army\"]", "routing.SEVERITY_II[0]: unknown audience"},
        {"written_reprot", "2h", "written_reprot: unknown key"},
        {"timezone", "../etc/passwd", "timezone: expected a time zone name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[AY_ERRLEN] = "";
        char *out = NULL;
        struct ay_district_policy p;
        print_message("%s %s\n", cases[i].path, cases[i].value);
        assert_int_equal(set("{}", cases[i].path, cases[i].value, &out, err), AY_OK);
        assert_int_equal(validate(out, &p, err), AY_ERR_INVALID);
        print_message("%s\n", err);
        assert_memory_equal(err, cases[i].err_prefix, strlen(cases[i].err_prefix));
        free(out);
    }
}

/* ---- policy diff -------------------------------------------------------------------- */

static char *diff_of(const char *before_doc, const char *after_doc)
{
    struct ay_district_policy b;
    struct ay_district_policy a;
    char err[AY_ERRLEN];
    assert_int_equal(validate(before_doc, &b, err), AY_OK);
    assert_int_equal(validate(after_doc, &a, err), AY_OK);
    char *bt = ay_policy_to_json(&b, false);
    char *at = ay_policy_to_json(&a, false);
    cJSON *bj = cJSON_Parse(bt);
    cJSON *aj = cJSON_Parse(at);
    char *d = ayctl_policy_diff(bj, aj);
    assert_non_null(d);
    cJSON_Delete(bj);
    cJSON_Delete(aj);
    free(bt);
    free(at);
    return d;
}

static void test_policy_diff_says_what_changed_one_line_per_key(void **state)
{
    (void)state;
    char *d = diff_of("{}", "{\"written_report\":\"2h\"}");
    assert_string_equal(d, "written_report: 1h -> 2h\n");
    free(d);
    d = diff_of("{}", "{}");
    assert_string_equal(d, "");
    free(d);
    d = diff_of("{\"routing\":{\"SEVERITY_II\":[\"bureau\"]}}",
                "{\"routing\":{\"SEVERITY_II\":[\"bureau@3\",\"government\"]},"
                "\"chains\":{\"police\":[{\"target\":\"liaison\",\"ack_timeout\":\"5m\"}]}}");
    assert_string_equal(d, "routing.SEVERITY_II: [\"bureau\"] -> [\"bureau@3\",\"government\"]\n"
                           "chains.police[0].target: police_liaison -> liaison\n"
                           "chains.police[0].name_zh: 派出所联络民警 -> liaison\n"
                           "chains.police[0].name_en: police liaison -> liaison\n"
                           "chains.police[0].reminder: 2m -> 5m\n"
                           "chains.police[1].target: duty_commander_110 -> (none)\n"
                           "chains.police[1].name_zh: 110指挥中心值班长 -> (none)\n"
                           "chains.police[1].name_en: 110 duty commander -> (none)\n"
                           "chains.police[1].ack_timeout: 10m -> (none)\n"
                           "chains.police[1].reminder: 3m -> (none)\n");
    free(d);
}

/* ---- ack states ---------------------------------------------------------------------- */

static void test_ack_states_as_people_type_them(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int kind;
    } good[] = {
        {"received", ANYUAN__V1__ACK_KIND__ACK_KIND_RECEIVED},
        {"dispatched", ANYUAN__V1__ACK_KIND__ACK_KIND_DISPATCHED},
        {"on-scene", ANYUAN__V1__ACK_KIND__ACK_KIND_ON_SCENE},
        {"on_scene", ANYUAN__V1__ACK_KIND__ACK_KIND_ON_SCENE},
        {"resolved", ANYUAN__V1__ACK_KIND__ACK_KIND_RESOLVED},
        {"false-alarm", ANYUAN__V1__ACK_KIND__ACK_KIND_FALSE_ALARM},
        {"FALSE_ALARM", ANYUAN__V1__ACK_KIND__ACK_KIND_FALSE_ALARM},
        {"ACK_KIND_RECEIVED", ANYUAN__V1__ACK_KIND__ACK_KIND_RECEIVED},
        {"ACK_KIND_ON_SCENE", ANYUAN__V1__ACK_KIND__ACK_KIND_ON_SCENE},
        {"Resolved", ANYUAN__V1__ACK_KIND__ACK_KIND_RESOLVED},
    };
    static const char *const bad[] = {
        "",         "receive", "receivedx", "ACK_KIND_", "ACK_KIND_UNSPECIFIED", "unspecified",
        "on scene", "onscene", "已签收",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int kind = -1;
        print_message("%s\n", good[i].s);
        assert_true(ayctl_ack_kind_parse(good[i].s, &kind));
        assert_int_equal(kind, good[i].kind);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int kind = -1;
        print_message("%s\n", bad[i]);
        assert_false(ayctl_ack_kind_parse(bad[i], &kind));
        assert_int_equal(kind, -1);
    }
    assert_false(ayctl_ack_kind_parse(NULL, NULL));
}

/* ---- lines for people ------------------------------------------------------------------ */

static void test_local_time_is_the_district_wall_clock(void **state)
{
    (void)state;
    struct ay_tz *z = cst();
    char buf[32];
    ayctl_local_time(z, utc("2026-11-24T06:05:30Z"), false, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-24 14:05");
    ayctl_local_time(z, utc("2026-11-24T16:05:30Z"), true, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-25 00:05:30");
    ay_tz_free(z);
}

/* The escalation of tests/data/valid/escalation.json, with the words the watchdog adds. */
struct esc_fixture {
    Anyuan__V1__Escalation e;
    Anyuan__V1__Header h;
    Anyuan__V1__Timestamp sent;
    Anyuan__V1__Deadline ack_by;
    Anyuan__V1__Timestamp due;
};

static void esc_fixture_init(struct esc_fixture *f)
{
    anyuan__v1__escalation__init(&f->e);
    anyuan__v1__header__init(&f->h);
    anyuan__v1__timestamp__init(&f->sent);
    anyuan__v1__deadline__init(&f->ack_by);
    anyuan__v1__timestamp__init(&f->due);
    ay_time_from_us(utc("2026-11-24T06:05:30Z"), &f->sent.seconds, &f->sent.nanos);
    ay_time_from_us(utc("2026-11-24T06:35:30Z"), &f->due.seconds, &f->due.nanos);
    f->h.message_id = "e4b7d0a3-6f9c-4b2e-8a5d-1f4c7b0e3a69";
    f->h.sent_at = &f->sent;
    f->ack_by.due_at = &f->due;
    f->e.header = &f->h;
    f->e.escalation_id = "8a5d2f7c-3e6b-4d9a-b1f4-6c9e2a5d8b70";
    f->e.audience = ANYUAN__V1__AUDIENCE__AUDIENCE_BUREAU;
    f->e.school_id = "sch-0102";
    f->e.school_name = "测试学校";
    f->e.reason = ANYUAN__V1__ESCALATION_REASON__ESCALATION_REASON_DEADLINE_MISSED;
    f->e.level = 1;
    f->e.summary = "书面报告逾期未报，请督办。";
    f->e.summary_en = "Written report overdue.";
    f->e.ack_by = &f->ack_by;
    f->e.kind = ANYUAN__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_FIRST;
    f->e.target = "duty_officer";
    f->e.target_name = "教育局值班员";
}

static void test_escalation_line_in_chinese_and_english(void **state)
{
    (void)state;
    struct esc_fixture f;
    struct ay_district_policy p;
    struct ay_tz *z = cst();
    esc_fixture_init(&f);
    ay_policy_defaults(&p);

    char *zh = ayctl_escalation_line(&f.e, z, &p, AY_LANG_ZH, 0);
    assert_string_equal(zh, "2026-11-24 14:05 测试学校 | 迟报 | 书面报告逾期未报，请督办。 | "
                            "致 教育局值班员 | 首次通知 | 签收期限 14:35 | "
                            "编号 8a5d2f7c-3e6b-4d9a-b1f4-6c9e2a5d8b70");
    char *en = ayctl_escalation_line(&f.e, z, &p, AY_LANG_EN, 0);
    assert_string_equal(en, "2026-11-24 14:05 测试学校 | Deadline missed | Written report overdue. "
                            "| to bureau duty officer | First notice | acknowledge by 14:35 | "
                            "id 8a5d2f7c-3e6b-4d9a-b1f4-6c9e2a5d8b70");
    free(zh);
    free(en);
    ay_tz_free(z);
}

static void test_escalation_line_falls_back_and_keeps_one_line(void **state)
{
    (void)state;
    struct esc_fixture f;
    struct ay_tz *z = cst();
    esc_fixture_init(&f);
    /* No school name, no English summary, no policy, no sentAt, an ack
     * deadline the next day, a summary with a newline and a terminal
     * escape, a reminder. */
    f.e.school_name = "";
    f.e.summary_en = "";
    f.e.summary = "第一行\n\x1b[31m第二行\xc2\x9b";
    f.e.header->sent_at = NULL;
    f.e.kind = ANYUAN__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_REMINDER;
    ay_time_from_us(utc("2026-11-25T01:00:00Z"), &f.due.seconds, &f.due.nanos);
    char *en = ayctl_escalation_line(&f.e, z, NULL, AY_LANG_EN, utc("2026-11-24T15:59:00Z"));
    assert_string_equal(en, "2026-11-24 23:59 sch-0102 | Deadline missed | 第一行  [31m第二行  | "
                            "to duty_officer | Reminder | acknowledge by 2026-11-25 09:00 | "
                            "id 8a5d2f7c-3e6b-4d9a-b1f4-6c9e2a5d8b70");
    free(en);
    /* Without a kind or an ack deadline (an older sender): left out. */
    f.e.kind = ANYUAN__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_UNSPECIFIED;
    f.e.ack_by = NULL;
    f.e.summary = "s";
    char *zh = ayctl_escalation_line(&f.e, z, NULL, AY_LANG_ZH, utc("2026-11-24T15:59:00Z"));
    assert_string_equal(zh, "2026-11-24 23:59 sch-0102 | 迟报 | s | 致 教育局值班员 | "
                            "编号 8a5d2f7c-3e6b-4d9a-b1f4-6c9e2a5d8b70");
    free(zh);
    ay_tz_free(z);
}

static void test_deadline_lines_say_how_late(void **state)
{
    (void)state;
    struct ay_tz *z = cst();
    int64_t now = utc("2026-11-24T09:27:10Z");
    struct ayctl_deadline_row d = {
        .kind = "DEADLINE_KIND_WRITTEN_REPORT",
        .subject_kind = "SUBJECT_KIND_INCIDENT",
        .subject_id = "3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21",
        .due_us = utc("2026-11-24T09:15:00Z"),
        .status = "missed",
    };
    char *s = ayctl_deadline_line(&d, z, AY_LANG_ZH, now);
    assert_string_equal(s, "书面报告 | 安全事件 3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21 | "
                           "截止 2026-11-24 17:15 | 已逾期，迟 13 分钟");
    free(s);
    s = ayctl_deadline_line(&d, z, AY_LANG_EN, now);
    assert_string_equal(s, "Written report | Incident 3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21 | "
                           "due 2026-11-24 17:15 | missed, 13 min late");
    free(s);
    /* Missed a moment ago: 1 minute late, never 0. */
    s = ayctl_deadline_line(&d, z, AY_LANG_EN, d.due_us + 300000);
    assert_string_equal(strrchr(s, '|'), "| missed, 1 min late");
    free(s);
    d.status = "pending";
    s = ayctl_deadline_line(&d, z, AY_LANG_EN, utc("2026-11-24T09:00:00Z"));
    assert_string_equal(strrchr(s, '|'), "| pending");
    free(s);
    d.status = "met";
    d.late_s = 61;
    s = ayctl_deadline_line(&d, z, AY_LANG_ZH, now);
    assert_string_equal(strrchr(s, '|'), "| 已完成，迟 2 分钟");
    free(s);
    d.late_s = 0;
    s = ayctl_deadline_line(&d, z, AY_LANG_EN, now);
    assert_string_equal(strrchr(s, '|'), "| met, on time");
    free(s);
    d.status = "cancelled";
    s = ayctl_deadline_line(&d, z, AY_LANG_ZH, now);
    assert_string_equal(strrchr(s, '|'), "| 已取消");
    free(s);
    ay_tz_free(z);
}

static void test_school_heading_by_language(void **state)
{
    (void)state;
    char *s = ayctl_school_heading("sch-0102", "测试学校", "Test school", AY_LANG_ZH);
    assert_string_equal(s, "测试学校（sch-0102）");
    free(s);
    s = ayctl_school_heading("sch-0102", "测试学校", "Test school", AY_LANG_EN);
    assert_string_equal(s, "Test school (sch-0102)");
    free(s);
    s = ayctl_school_heading("sch-0102", "测试学校", "", AY_LANG_EN);
    assert_string_equal(s, "测试学校 (sch-0102)");
    free(s);
    s = ayctl_school_heading("sch-0102", "", "", AY_LANG_ZH);
    assert_string_equal(s, "sch-0102");
    free(s);
}

static void test_history_lines_of_every_kind(void **state)
{
    (void)state;
    struct ay_tz *z = cst();
    const struct {
        struct ayctl_history_row r;
        const char *zh;
        const char *en;
    } cases[] = {
        {{.kind = AYCTL_HISTORY_MESSAGE,
          .at_us = utc("2026-11-24T06:00:01Z"),
          .id = "m-1",
          .type = "notice",
          .who = "btn-0102-01"},
         "2026-11-24 14:00:01 | 收到 事件报告 | 设备 btn-0102-01 | 编号 m-1",
         "2026-11-24 14:00:01 | received incident notice | device btn-0102-01 | id m-1"},
        {{.kind = AYCTL_HISTORY_DEADLINE,
          .at_us = utc("2026-11-24T06:00:01Z"),
          .id = "7",
          .type = "DEADLINE_KIND_WRITTEN_REPORT",
          .status = "met",
          .due_us = utc("2026-11-24T07:00:00Z"),
          .late_s = 300},
         "2026-11-24 14:00:01 | 时限 书面报告 | 截止 2026-11-24 15:00 | 已完成，迟 5 分钟",
         "2026-11-24 14:00:01 | deadline Written report | due 2026-11-24 15:00 | met, 5 min "
         "late"},
        {{.kind = AYCTL_HISTORY_ESCALATION,
          .at_us = utc("2026-11-24T07:00:02Z"),
          .id = "e-1",
          .type = "AUDIENCE_BUREAU",
          .status = "acknowledged",
          .reason = "ESCALATION_REASON_DEADLINE_MISSED",
          .level = 2},
         "2026-11-24 15:00:02 | 上报 区县教育局 | 迟报 | 第2级 | 已签收 | 编号 e-1",
         "2026-11-24 15:00:02 | escalated to Education bureau | Deadline missed | level 2 | "
         "acknowledged | id e-1"},
        {{.kind = AYCTL_HISTORY_AUDIT,
          .at_us = utc("2026-11-24T07:00:02Z"),
          .id = "",
          .type = "escalation.created",
          .who = "watchdog",
          .detail = "{\"level\": 1}"},
         "2026-11-24 15:00:02 | 记录 escalation.created | 操作者 watchdog | {\"level\": 1}",
         "2026-11-24 15:00:02 | audit escalation.created | by watchdog | {\"level\": 1}"},
        {{.kind = AYCTL_HISTORY_AUDIT,
          .at_us = utc("2026-11-24T07:00:02Z"),
          .id = "",
          .type = "deadline.missed",
          .who = "watchdog",
          .detail = "{}"},
         "2026-11-24 15:00:02 | 记录 deadline.missed | 操作者 watchdog",
         "2026-11-24 15:00:02 | audit deadline.missed | by watchdog"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *zh = ayctl_history_line(&cases[i].r, z, AY_LANG_ZH);
        char *en = ayctl_history_line(&cases[i].r, z, AY_LANG_EN);
        assert_string_equal(zh, cases[i].zh);
        assert_string_equal(en, cases[i].en);
        free(zh);
        free(en);
    }
    ay_tz_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_set_top_level_key_adds_only_that_key),
        cmocka_unit_test(test_policy_set_inside_a_chain_copies_that_chain_only),
        cmocka_unit_test(test_policy_set_a_route_replaces_it_whole),
        cmocka_unit_test(test_policy_set_index_after_the_last_appends_a_step),
        cmocka_unit_test(test_policy_set_values_are_json_if_they_parse_else_strings),
        cmocka_unit_test(test_policy_set_bad_paths_name_the_part_that_is_wrong),
        cmocka_unit_test(test_policy_set_invalid_results_are_refused_naming_the_key),
        cmocka_unit_test(test_policy_diff_says_what_changed_one_line_per_key),
        cmocka_unit_test(test_ack_states_as_people_type_them),
        cmocka_unit_test(test_local_time_is_the_district_wall_clock),
        cmocka_unit_test(test_escalation_line_in_chinese_and_english),
        cmocka_unit_test(test_escalation_line_falls_back_and_keeps_one_line),
        cmocka_unit_test(test_deadline_lines_say_how_late),
        cmocka_unit_test(test_school_heading_by_language),
        cmocka_unit_test(test_history_lines_of_every_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
