/*
 * test_ayctl.c - the pure parts of ayctl (tools/ayctl, through ayctl_core):
 * editing a policy document by dotted path and saying what changed
 * (policy_edit.c), the ack states people type and the lines people read
 * (people_text.c), the compliance table as CSV and as a table
 * (compliance_text.c), a device's fields, a CSV file of devices and a
 * device's connection profile (device_spec.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_policy.h"
#include "ay_time.h"
#include "ay_tz.h"
#include "ayctl.h"
#include "compliance_text.h"
#include "device_spec.h"
#include "people_text.h"
#include "policy_edit.h"
#include "unit.h"

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
    ayctl_local_time(z, ayt_at("2026-11-24T06:05:30Z"), false, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-24 14:05");
    ayctl_local_time(z, ayt_at("2026-11-24T16:05:30Z"), true, buf, sizeof(buf));
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
    ay_time_from_us(ayt_at("2026-11-24T06:05:30Z"), &f->sent.seconds, &f->sent.nanos);
    ay_time_from_us(ayt_at("2026-11-24T06:35:30Z"), &f->due.seconds, &f->due.nanos);
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
    ay_time_from_us(ayt_at("2026-11-25T01:00:00Z"), &f.due.seconds, &f.due.nanos);
    char *en = ayctl_escalation_line(&f.e, z, NULL, AY_LANG_EN, ayt_at("2026-11-24T15:59:00Z"));
    assert_string_equal(en, "2026-11-24 23:59 sch-0102 | Deadline missed | 第一行  [31m第二行  | "
                            "to duty_officer | Reminder | acknowledge by 2026-11-25 09:00 | "
                            "id 8a5d2f7c-3e6b-4d9a-b1f4-6c9e2a5d8b70");
    free(en);
    /* Without a kind or an ack deadline (an older sender): left out. */
    f.e.kind = ANYUAN__V1__NOTIFICATION_KIND__NOTIFICATION_KIND_UNSPECIFIED;
    f.e.ack_by = NULL;
    f.e.summary = "s";
    char *zh = ayctl_escalation_line(&f.e, z, NULL, AY_LANG_ZH, ayt_at("2026-11-24T15:59:00Z"));
    assert_string_equal(zh, "2026-11-24 23:59 sch-0102 | 迟报 | s | 致 教育局值班员 | "
                            "编号 8a5d2f7c-3e6b-4d9a-b1f4-6c9e2a5d8b70");
    free(zh);
    ay_tz_free(z);
}

static void test_deadline_lines_say_how_late(void **state)
{
    (void)state;
    struct ay_tz *z = cst();
    int64_t now = ayt_at("2026-11-24T09:27:10Z");
    struct ayctl_deadline_row d = {
        .kind = "DEADLINE_KIND_WRITTEN_REPORT",
        .subject_kind = "SUBJECT_KIND_INCIDENT",
        .subject_id = "3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21",
        .due_us = ayt_at("2026-11-24T09:15:00Z"),
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
    s = ayctl_deadline_line(&d, z, AY_LANG_EN, ayt_at("2026-11-24T09:00:00Z"));
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
          .at_us = ayt_at("2026-11-24T06:00:01Z"),
          .id = "m-1",
          .type = "notice",
          .who = "btn-0102-01"},
         "2026-11-24 14:00:01 | 收到 事件报告 | 设备 btn-0102-01 | 编号 m-1",
         "2026-11-24 14:00:01 | received incident notice | device btn-0102-01 | id m-1"},
        {{.kind = AYCTL_HISTORY_DEADLINE,
          .at_us = ayt_at("2026-11-24T06:00:01Z"),
          .id = "7",
          .type = "DEADLINE_KIND_WRITTEN_REPORT",
          .status = "met",
          .due_us = ayt_at("2026-11-24T07:00:00Z"),
          .late_s = 300},
         "2026-11-24 14:00:01 | 时限 书面报告 | 截止 2026-11-24 15:00 | 已完成，迟 5 分钟",
         "2026-11-24 14:00:01 | deadline Written report | due 2026-11-24 15:00 | met, 5 min "
         "late"},
        {{.kind = AYCTL_HISTORY_ESCALATION,
          .at_us = ayt_at("2026-11-24T07:00:02Z"),
          .id = "e-1",
          .type = "AUDIENCE_BUREAU",
          .status = "acknowledged",
          .reason = "ESCALATION_REASON_DEADLINE_MISSED",
          .level = 2},
         "2026-11-24 15:00:02 | 上报 区县教育局 | 迟报 | 第2级 | 已签收 | 编号 e-1",
         "2026-11-24 15:00:02 | escalated to Education bureau | Deadline missed | level 2 | "
         "acknowledged | id e-1"},
        {{.kind = AYCTL_HISTORY_AUDIT,
          .at_us = ayt_at("2026-11-24T07:00:02Z"),
          .id = "",
          .type = "escalation.created",
          .who = "watchdog",
          .detail = "{\"level\": 1}"},
         "2026-11-24 15:00:02 | 记录 escalation.created | 操作者 watchdog | {\"level\": 1}",
         "2026-11-24 15:00:02 | audit escalation.created | by watchdog | {\"level\": 1}"},
        {{.kind = AYCTL_HISTORY_AUDIT,
          .at_us = ayt_at("2026-11-24T07:00:02Z"),
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

/* ---- the compliance table (compliance_text.c) ------------------------------------- */

static void test_compliance_month_is_exactly_yyyy_mm(void **state)
{
    (void)state;
    int y = 0;
    int m = 0;
    assert_true(ayctl_month_parse("2026-11", &y, &m));
    assert_int_equal(y, 2026);
    assert_int_equal(m, 11);
    assert_true(ayctl_month_parse("1970-01", &y, &m));
    assert_int_equal(m, 1);
    const char *bad[] = {"2026-13", "2026-00", "2026-1",  "26-11",    "2026/11",    "2026-11-01",
                         "",        "1969-12", "2026-1a", " 2026-11", "２０２６-11"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        y = m = -1;
        assert_false(ayctl_month_parse(bad[i], &y, &m));
        assert_int_equal(y, -1); /* untouched */
        assert_int_equal(m, -1);
    }
    assert_false(ayctl_month_parse(NULL, &y, &m));
}

static void test_compliance_text_width_counts_wide_characters_twice(void **state)
{
    (void)state;
    assert_int_equal(ayctl_text_width("sch-0102"), 8);
    assert_int_equal(ayctl_text_width("第一小学"), 8);
    assert_int_equal(ayctl_text_width("（sch）"), 7);
    assert_int_equal(ayctl_text_width("café"), 4);
    assert_int_equal(ayctl_text_width("１２"), 4); /* fullwidth digits */
    assert_int_equal(ayctl_text_width("a\tb"), 2);
    assert_int_equal(ayctl_text_width("a\xff"
                                      "z"),
                     3); /* not UTF-8: one column */
    assert_int_equal(ayctl_text_width(""), 0);
    assert_int_equal(ayctl_text_width(NULL), 0);
}

/* A row whose counts are 0, 1, 2, ... (step 1) or all 0 (step 0). */
static struct ayctl_compliance_row compliance_row(const char *id, const char *zh, const char *en,
                                                  long long step)
{
    struct ayctl_compliance_row r = {.school_id = id, .name_zh = zh, .name_en = en};
    for (int c = 0; c < AYCTL_COMPLIANCE_NCOUNTS; c++)
        r.counts[c] = c * step;
    return r;
}

/* "0,1,2,...,33" (step 1) or "0,0,...". */
static void counts_text(long long step, char *buf, size_t cap)
{
    size_t used = 0;
    for (int c = 0; c < AYCTL_COMPLIANCE_NCOUNTS; c++)
        used += (size_t)snprintf(buf + used, cap - used, c ? ",%lld" : "%lld", c * step);
}

static void test_compliance_csv_opens_in_a_spreadsheet(void **state)
{
    (void)state;
    const struct ayctl_compliance_row rows[] = {
        compliance_row("sch-0101", "第一小学", "First, \"Primary\"", 1),
        compliance_row("sch-0102", "=HYPERLINK(\"x\")", "", 0),
        compliance_row("sch-0103", "二\r\n校\x01\xc2\x85", "-2", 0),
    };
    char ones[256];
    char zeros[256];
    char want[1024];
    counts_text(1, ones, sizeof(ones));
    counts_text(0, zeros, sizeof(zeros));

    /* Chinese: a BOM, the header, one CRLF-ended record per school; a
     * formula is text, control characters are spaces. */
    char *zh = ayctl_compliance_csv(rows, 3, AY_LANG_ZH);
    assert_non_null(zh);
    const char *head = "\xef\xbb\xbf学校编号,学校,口头报告按时,口头报告迟报,口头报告最长迟报分钟,"
                       "口头报告逾期未报,书面报告按时,";
    assert_memory_equal(zh, head, strlen(head));
    char *body = strstr(zh, ",上报按时签收,上报超时签收,上报未签收\r\n");
    assert_non_null(body);
    int commas = 0;
    for (const char *p = zh; p < body; p++)
        commas += *p == ',';
    assert_int_equal(commas + 3, 2 + AYCTL_COMPLIANCE_NCOUNTS - 1); /* 36 fields */
    body += strlen(",上报按时签收,上报超时签收,上报未签收\r\n");
    snprintf(want, sizeof(want),
             "sch-0101,第一小学,%s\r\nsch-0102,\"'=HYPERLINK(\"\"x\"\")\",%s\r\n"
             "sch-0103,二  校  ,%s\r\n",
             ones, zeros, zeros);
    assert_string_equal(body, want);
    free(zh);

    /* English: the English name (else the Chinese one), quoted when it
     * holds a comma or a quote. */
    char *en = ayctl_compliance_csv(rows, 3, AY_LANG_EN);
    assert_non_null(en);
    head = "\xef\xbb\xbfSchool id,School,Verbal notices on time,Verbal notices late,Verbal "
           "notices max minutes late,Verbal notices missing,Written reports on time,";
    assert_memory_equal(en, head, strlen(head));
    body = strstr(en, ",Escalations never acknowledged\r\n");
    assert_non_null(body);
    body += strlen(",Escalations never acknowledged\r\n");
    snprintf(want, sizeof(want),
             "sch-0101,\"First, \"\"Primary\"\"\",%s\r\nsch-0102,\"'=HYPERLINK(\"\"x\"\")\",%s\r\n"
             "sch-0103,'-2,%s\r\n",
             ones, zeros, zeros);
    assert_string_equal(body, want);
    free(en);

    /* No schools: the header alone. */
    char *none = ayctl_compliance_csv(NULL, 0, AY_LANG_EN);
    assert_non_null(none);
    assert_non_null(strstr(none, ",Escalations never acknowledged\r\n"));
    assert_string_equal(strstr(none, "\r\n"), "\r\n");
    free(none);
}

static void test_compliance_table_aligns_by_display_width(void **state)
{
    (void)state;
    struct ayctl_compliance_row rows[] = {
        compliance_row("sch-0101", "第一小学", "First", 0),
        compliance_row("s2", "", "", 0),
    };
    rows[0].counts[AYCTL_C_VERBAL + AYCTL_C_ON_TIME] = 2;
    rows[0].counts[AYCTL_C_VERBAL + AYCTL_C_LATE] = 1;
    rows[0].counts[AYCTL_C_VERBAL + AYCTL_C_LATE_MAX_MIN] = 12;
    rows[0].counts[AYCTL_C_VERBAL + AYCTL_C_MISSING] = 3;
    rows[0].counts[AYCTL_C_HAZARDS + 3] = 1;
    rows[1].counts[AYCTL_C_ESCALATIONS + 2] = 10;
    const struct ayctl_compliance_title t = {"d01", "城东区", "", 2026, 11, "Asia/Shanghai"};

    char *zh = ayctl_compliance_table(rows, 2, &t, AY_LANG_ZH);
    assert_non_null(zh);
    assert_string_equal(
        zh,
        "合规统计：城东区（d01） 2026年11月（Asia/Shanghai 时间）\n"
        "学校                  口头报告   书面报告  终报   安全月报  风险研判  隐患自查  隐患     "
        "一键报警  上报签收\n"
        "第一小学（sch-0101）  2/1(12)/3  0/0/0     0/0/0  0/0/0     0/0/0     0/0/0     0/0/0/1  "
        "0/0/0     0/0/0\n"
        "s2                    0/0/0      0/0/0     0/0/0  0/0/0     0/0/0     0/0/0     0/0/0/0  "
        "0/0/0     0/0/10\n"
        "\n"
        "口头报告至隐患自查：按时/迟报(最长迟报分钟)/逾期未报\n"
        "隐患：未销号/整改逾期/本月销号/重大隐患挂牌督办\n"
        "一键报警：真实/测试/误报撤销\n"
        "上报签收：按时签收/超时签收/未签收\n");
    free(zh);

    char *en = ayctl_compliance_table(NULL, 0, &t, AY_LANG_EN);
    assert_non_null(en);
    assert_string_equal(en, "Compliance: 城东区 (d01), 2026-11 (Asia/Shanghai time)\n"
                            "School  Verbal  Written  Final  Monthly  Risk  Self-check  Hazards  "
                            "Alarms  Escalations\n"
                            "no schools\n"
                            "\n"
                            "Verbal to Self-check: on time/late (max minutes late)/missing\n"
                            "Hazards: open/overdue/closed this month/major open (supervised)\n"
                            "Alarms: real/test/false alarm\n"
                            "Escalations: acknowledged in time/late/never\n");
    free(en);
}

/* ---- devices: fields, CSV files, profiles (device_spec.c) ------------------------ */

static void test_device_fields_name_what_is_wrong(void **state)
{
    (void)state;
    struct ayctl_device_spec d;
    char err[AY_ERRLEN] = "";

    ayctl_device_spec_init(&d);
    assert_int_equal(d.heartbeat_s, 60);
    assert_int_equal(ayctl_device_field(&d, "kind", "nearby_shop", err), AY_OK);
    assert_int_equal(ayctl_device_field(&d, "geo", "31.8206,117.2272", err), AY_OK);
    assert_true(d.has_geo);
    assert_true(d.latitude > 31.82 && d.latitude < 31.821);
    assert_int_equal(ayctl_device_field(&d, "heartbeat", "2m", err), AY_OK);
    assert_int_equal(d.heartbeat_s, 120);
    assert_int_equal(ayctl_device_field(&d, "heartbeat", "45", err), AY_OK);
    assert_int_equal(d.heartbeat_s, 45);

    static const struct {
        const char *field;
        const char *value;
        const char *says;
    } bad[] = {
        {"kind", "buton", "kind: \"buton\" is not one of button, panel"},
        {"id", "Btn-1", "id: \"Btn-1\" is not an id"},
        {"id", "-btn", "id: \"-btn\" is not an id"},
        {"school", "sch/1", "school: \"sch/1\" is not an id"},
        {"geo", "0,0", "geo: \"0,0\" is not LAT,LON"},
        {"geo", "91,10", "geo: \"91,10\""},
        {"geo", "31.8", "geo: \"31.8\""},
        {"latitude", "north", "latitude: \"north\" is not a latitude"},
        {"heartbeat", "2s", "heartbeat: \"2s\" is not an interval from 5s to 24h"},
        {"heartbeat", "2d", "heartbeat: \"2d\""},
        {"location", "a\nb", "location: \"a b\" has a control character"},
        {"colour", "red", "colour: unknown field"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ayctl_device_spec before = d;
        err[0] = '\0';
        assert_int_equal(ayctl_device_field(&d, bad[i].field, bad[i].value, err), AY_ERR_INVALID);
        if (strstr(err, bad[i].says) != err)
            fail_msg("%s=%s: \"%s\" does not start with \"%s\"", bad[i].field, bad[i].value, err,
                     bad[i].says);
        assert_memory_equal(&before, &d, sizeof(d));
    }
}

static void test_device_check_wants_school_kind_location_and_a_shop_name(void **state)
{
    (void)state;
    struct ayctl_device_spec d;
    char err[AY_ERRLEN] = "";

    ayctl_device_spec_init(&d);
    assert_int_equal(ayctl_device_check(&d, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "school: missing"));
    assert_int_equal(ayctl_device_field(&d, "school", "sch-0102", err), AY_OK);
    assert_int_equal(ayctl_device_field(&d, "kind", "nearby_home", err), AY_OK);
    assert_int_equal(ayctl_device_check(&d, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "location: missing"));
    assert_int_equal(ayctl_device_field(&d, "location", "学府路3号", err), AY_OK);
    assert_int_equal(ayctl_device_check(&d, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "shop: missing"));
    assert_int_equal(ayctl_device_field(&d, "shop", "张家", err), AY_OK);
    assert_int_equal(ayctl_device_check(&d, err), AY_OK);
    /* Only one coordinate given. */
    assert_int_equal(ayctl_device_field(&d, "latitude", "31.5", err), AY_OK);
    assert_int_equal(ayctl_device_check(&d, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "geo:"));
}

static void test_device_made_up_ids_say_their_kind(void **state)
{
    (void)state;
    char id[AY_ID_MAX];
    const unsigned char rnd[4] = {0x00, 0xab, 0x10, 0xff};

    assert_int_equal(ayctl_device_make_id("button", rnd, id), AY_OK);
    assert_string_equal(id, "btn-00ab10ff");
    assert_int_equal(ayctl_device_make_id("nearby_shop", rnd, id), AY_OK);
    assert_string_equal(id, "shop-00ab10ff");
    assert_int_equal(ayctl_device_make_id("toaster", rnd, id), AY_ERR_INVALID);
}

static enum ay_err csv(const char *text, const char *school, struct ayctl_device_spec **d,
                       size_t *n, char err[AY_ERRLEN])
{
    *d = NULL;
    *n = 0;
    err[0] = '\0';
    return ayctl_device_csv(text, strlen(text), school, d, n, err);
}

static void test_device_csv_as_a_spreadsheet_writes_it(void **state)
{
    (void)state;
    struct ayctl_device_spec *d = NULL;
    size_t n = 0;
    char err[AY_ERRLEN];
    /* A byte order mark, CRLF, columns in another order and case, a quoted
     * location with a comma and a doubled quote, a position in quotes,
     * spaces around fields, a blank line, an unnamed last column. */
    const char *text = "\xEF\xBB\xBF"
                       "Kind,Location,ID,school,geo,shop,heartbeat,\r\n"
                       "button,\"东门, 门卫室 \"\"A\"\"\",btn-1,sch-0102,\"31.82,117.22\",,30s,\r\n"
                       "\r\n"
                       " nearby_shop , 学府路5号 ,,sch-0103,,好邻居便利店,,\r\n";

    assert_int_equal(csv(text, NULL, &d, &n, err), AY_OK);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].location, "东门, 门卫室 \"A\"");
    assert_string_equal(d[0].id, "btn-1");
    assert_int_equal(d[0].line, 2);
    assert_true(d[0].has_geo);
    assert_int_equal(d[0].heartbeat_s, 30);
    assert_string_equal(d[1].kind, "nearby_shop");
    assert_string_equal(d[1].location, "学府路5号");
    assert_string_equal(d[1].id, "");
    assert_string_equal(d[1].school, "sch-0103");
    assert_string_equal(d[1].place, "好邻居便利店");
    assert_int_equal(d[1].line, 4);
    assert_int_equal(d[1].heartbeat_s, 60);
    free(d);

    /* --school for rows that do not say; a row's own school wins. */
    assert_int_equal(csv("kind,location,school\nbutton,a,\npanel,b,sch-9\n", "sch-1", &d, &n, err),
                     AY_OK);
    assert_string_equal(d[0].school, "sch-1");
    assert_string_equal(d[1].school, "sch-9");
    free(d);
    /* A line break inside quotes counts for the lines after it. */
    assert_int_equal(csv("kind,location\nbutton,\"a\nb\"\nbuton,c\n", "s", &d, &n, err),
                     AY_ERR_INVALID);
    assert_string_equal(err, "line 2: location: \"a b\" has a control character");
}

static void test_device_csv_errors_name_the_line_and_the_field(void **state)
{
    (void)state;
    struct ayctl_device_spec *d = NULL;
    size_t n = 0;
    char err[AY_ERRLEN];
    static const struct {
        const char *text;
        const char *says;
    } bad[] = {
        {"school,kind,location\nsch-1,button,a\nsch-1,buton,b\n",
         "line 3: kind: \"buton\" is not one of button, panel, app, nearby_shop, nearby_home, "
         "gateway"},
        {"school,kind,location,geo\nsch-1,button,a,\"0,0\"\n", "line 2: geo: \"0,0\" is not"},
        {"school,kind,location,id\nsch-1,button,a,b-1\nsch-1,panel,b,b-2\nsch-1,app,c,b-1\n",
         "line 4: id: \"b-1\" is also on line 2"},
        {"school,kind,location\nsch-1,button\n", "line 2: 2 fields, but the header has 3"},
        {"school,kind,location\nsch-1,button,\n", "line 2: location: missing"},
        {"school,kind,location\nSCH,button,a\n", "line 2: school: \"SCH\" is not an id"},
        {"school,kind,location\nsch-1,nearby_shop,a\n", "line 2: shop: missing"},
        {"school,kind,location,heartbeat\nsch-1,button,a,1s\n", "line 2: heartbeat: \"1s\""},
        {"school,kind,place,colour\n", "line 1: header: \"colour\" is not a column"},
        {"school,kind,kind,location\n", "line 1: header: \"kind\" is a column twice"},
        {"school,location\nsch-1,a\n", "line 1: header: the columns kind, location"},
        {"kind,location\nbutton,a\n", "line 1: header: the columns kind, location and school"},
        {"school,kind,location\nsch-1,button,\"a\n", "line 2: a quoted field is not closed"},
        {"school,kind,location\nsch-1,button,a\"b\n", "line 2: field 3: a quote inside"},
        {"school,kind,location\nsch-1,button,\"a\"b\n", "line 2: field 3: a quote inside"},
        {"school,kind,location\n", "no devices in the file"},
        {"", "no devices in the file"},
        {"school,kind,location\nsch-1,button,\xff\n", "the file is not UTF-8"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(csv(bad[i].text, NULL, &d, &n, err), AY_ERR_INVALID);
        if (strstr(err, bad[i].says) != err)
            fail_msg("case %zu: \"%s\" does not start with \"%s\"", i, err, bad[i].says);
        assert_null(d);
        assert_int_equal(n, 0);
    }
}

static void test_device_csv_of_a_thousand_devices(void **state)
{
    (void)state;
    size_t cap = 1000 * 64 + 64;
    char *text = malloc(cap);
    size_t off = (size_t)snprintf(text, cap, "id,kind,location\n");
    struct ayctl_device_spec *d = NULL;
    size_t n = 0;
    char err[AY_ERRLEN];

    for (int i = 0; i < 1000; i++)
        off += (size_t)snprintf(text + off, cap - off, "btn-%04d,button,floor %d\n", i, i % 7);
    assert_int_equal(csv(text, "sch-1", &d, &n, err), AY_OK);
    assert_int_equal(n, 1000);
    assert_string_equal(d[999].id, "btn-0999");
    assert_int_equal(d[999].line, 1001);
    free(d);
    free(text);
}

static void test_device_profile_has_what_a_device_needs(void **state)
{
    (void)state;
    struct ayctl_device_spec d;
    char err[AY_ERRLEN];

    ayctl_device_spec_init(&d);
    assert_int_equal(ayctl_device_field(&d, "id", "btn-1", err), AY_OK);
    assert_int_equal(ayctl_device_field(&d, "school", "sch-0102", err), AY_OK);
    assert_int_equal(ayctl_device_field(&d, "kind", "button", err), AY_OK);
    assert_int_equal(ayctl_device_field(&d, "location", "东门", err), AY_OK);
    struct ayctl_profile p = {.device = &d,
                              .district = "d01",
                              .secret = "0123456789abcdef0123456789abcdef",
                              .host = "mqtt.example.cn",
                              .mqtts_port = 8883,
                              .ws_port = 0,
                              .mqtt_port = 0,
                              .ca_file = "/etc/anyuan/ca.pem",
                              .ca_pem =
                                  "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"};
    cJSON *j = ayctl_device_profile(&p);
    char *conf = ayctl_device_conf(&p);
    const cJSON *broker = cJSON_GetObjectItemCaseSensitive(j, "broker");
    const cJSON *cred = cJSON_GetObjectItemCaseSensitive(j, "credentials");
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(j, "topics");

    assert_non_null(j);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
                            cJSON_GetObjectItemCaseSensitive(broker, "urls"), 0)),
                        "mqtts://mqtt.example.cn:8883");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(broker, "urls")), 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(broker, "wsPort"));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(broker, "caPem")),
                        p.ca_pem);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "clientId")),
                        "btn-1");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "password")),
                        p.secret);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(topics, "publish"), "hazard-update")),
                        "ay/v1/d01/school/sch-0102/btn-1/hazard-update");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(topics, "receipts")),
                        "ay/v1/d01/receipt/sch-0102/btn-1");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "ayctlConfig")),
                        conf);
    assert_string_equal(conf, "mqtt_url = ssl://mqtt.example.cn:8883\n"
                              "mqtt_ca_file = /etc/anyuan/ca.pem\n"
                              "mqtt_username = btn-1\n"
                              "mqtt_password = 0123456789abcdef0123456789abcdef\n"
                              "district = d01\nschool = sch-0102\n");
    assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "firstTest")),
                           "ayctl --config btn-1.conf pub status"));
    free(conf);
    cJSON_Delete(j);
}

/* ---- sub: either wire form (lib/ay_wire) ---- */

/* The line `ayctl sub` prints for a payload on topic with content type ct. */
static cJSON *sub_line(const char *topic, const char *ct, const char *payload, size_t len)
{
    struct ay_mqtt_msg m = {
        .topic = topic, .payload = payload, .len = len, .qos = 1, .content_type = ct};
    char *text = ayctl_sub_render(&m);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    free(text);
    return j;
}

static void test_sub_prints_a_feed_in_either_form_and_says_which(void **state)
{
    static const char receipt[] =
        "{\"header\":{\"messageId\":\"a1d4e7f0-3b6c-4d9e-8f2a-5c8b1e4d7a03\",\"deviceId\":"
        "\"recorder\",\"districtId\":\"d01\",\"sentAt\":\"2026-11-24T05:31:12Z\","
        "\"schemaVersion\":1},\"refMessageId\":\"3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21\","
        "\"status\":\"RECEIPT_STATUS_REJECTED\",\"reason\":\"x\"}";
    (void)state;
    /* JSON with its content type, and without one (first byte '{'). */
    cJSON *j =
        sub_line("ay/v1/d01/receipt/sch-0102/btn-1", "application/json", receipt, strlen(receipt));
    assert_string_equal(cJSON_GetObjectItem(j, "wire")->valuestring, "json");
    assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "receipt");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "message"), "status")->valuestring,
        "RECEIPT_STATUS_REJECTED");
    cJSON_Delete(j);
    j = sub_line("ay/v1/d01/receipt/sch-0102/btn-1", NULL, receipt, strlen(receipt));
    assert_string_equal(cJSON_GetObjectItem(j, "wire")->valuestring, "json");
    cJSON_Delete(j);
    /* The JSON twin of a feed carries the feed's type; another /json is not a feed. */
    j = sub_line("ay/v1/d01/escalation/bureau/json", "application/json", "{}", 2);
    assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "escalation");
    assert_non_null(cJSON_GetObjectItem(j, "message"));
    cJSON_Delete(j);
    j = sub_line("ay/v1/d01/receipt/sch-0102/btn-1/json", "application/json", "{}", 2);
    assert_null(cJSON_GetObjectItem(j, "type"));
    assert_non_null(cJSON_GetObjectItem(j, "error"));
    cJSON_Delete(j);
    /* Protobuf, and a content type the contract does not know. */
    j = sub_line("ay/v1/d01/police/alarm", "application/x-protobuf", "", 0);
    assert_string_equal(cJSON_GetObjectItem(j, "wire")->valuestring, "protobuf");
    assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "police-alarm");
    cJSON_Delete(j);
    j = sub_line("ay/v1/d01/police/alarm", "text/plain", "{}", 2);
    assert_non_null(strstr(cJSON_GetObjectItem(j, "error")->valuestring,
                           "content type \"text/plain\" is not supported"));
    cJSON_Delete(j);
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
        cmocka_unit_test(test_compliance_month_is_exactly_yyyy_mm),
        cmocka_unit_test(test_compliance_text_width_counts_wide_characters_twice),
        cmocka_unit_test(test_compliance_csv_opens_in_a_spreadsheet),
        cmocka_unit_test(test_compliance_table_aligns_by_display_width),
        cmocka_unit_test(test_device_fields_name_what_is_wrong),
        cmocka_unit_test(test_device_check_wants_school_kind_location_and_a_shop_name),
        cmocka_unit_test(test_device_made_up_ids_say_their_kind),
        cmocka_unit_test(test_device_csv_as_a_spreadsheet_writes_it),
        cmocka_unit_test(test_device_csv_errors_name_the_line_and_the_field),
        cmocka_unit_test(test_device_csv_of_a_thousand_devices),
        cmocka_unit_test(test_device_profile_has_what_a_device_needs),
        cmocka_unit_test(test_sub_prints_a_feed_in_either_form_and_says_which),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
