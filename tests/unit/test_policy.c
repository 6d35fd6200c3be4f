/*
 * test_policy.c - the reporting policy document: defaults from the
 * stricter rules, every key readable, every error naming its key, and what
 * is written read back the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anyuan/v1/hazard.pb-c.h"
#include "ay_policy.h"

enum {
    GENERAL = ANYUAN__V1__HAZARD_GRADE__HAZARD_GRADE_GENERAL,
    MAJOR = ANYUAN__V1__HAZARD_GRADE__HAZARD_GRADE_MAJOR,
    FIRE = ANYUAN__V1__HAZARD_CATEGORY__HAZARD_CATEGORY_FIRE,
    DROWNING = ANYUAN__V1__HAZARD_CATEGORY__HAZARD_CATEGORY_DROWNING,
};

static enum ay_err parse(const char *json, struct ay_district_policy *p, char err[AY_ERRLEN])
{
    return ay_policy_from_json(json, strlen(json), p, err);
}

static void test_policy_defaults_are_the_stricter_rules(void **state)
{
    (void)state;
    struct ay_district_policy p;
    char err[AY_ERRLEN] = "";
    assert_int_equal(parse("{}", &p, err), AY_OK);
    assert_string_equal(p.timezone, "Asia/Shanghai");
    assert_int_equal(p.verbal_notice_s, 1800);
    assert_int_equal(p.written_report_s, 3600);
    assert_int_equal(p.monthly_report_day, 5);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_IV].start_step[AY_AUDIENCE_BUREAU], 1);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_I].start_step[AY_AUDIENCE_BUREAU], 3);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_I].start_step[AY_AUDIENCE_GOVERNMENT], 1);
    assert_int_equal(p.routes[AY_ROUTE_SUSPECTED_CRIME].start_step[AY_AUDIENCE_POLICE], 1);
    assert_int_equal(p.chains[AY_AUDIENCE_BUREAU].nsteps, 3);
    assert_string_equal(p.chains[AY_AUDIENCE_POLICE].steps[1].target, "duty_commander_110");
}

static void test_policy_two_hour_variant_and_second_scale_chains(void **state)
{
    (void)state;
    struct ay_district_policy p;
    char err[AY_ERRLEN] = "";
    assert_int_equal(
        parse(
            "{\"written_report\":\"2h\",\"timezone\":\"America/New_York\","
            "\"chains\":{\"bureau\":[{\"target\":\"a\",\"ack_timeout\":\"3s\"},"
            "{\"target\":\"b\",\"ack_timeout\":\"1m30s\",\"reminder\":\"10s\"}]},"
            "\"routing\":{\"SEVERITY_I\":[\"bureau@2\",\"police\"],\"SEVERITY_II\":[\"bureau\"]}}",
            &p, err),
        AY_OK);
    assert_int_equal(p.written_report_s, 7200);
    assert_string_equal(p.timezone, "America/New_York");
    assert_int_equal(p.chains[AY_AUDIENCE_BUREAU].nsteps, 2);
    assert_int_equal(p.chains[AY_AUDIENCE_BUREAU].steps[0].reminder_s, 3);
    assert_int_equal(p.chains[AY_AUDIENCE_BUREAU].steps[1].ack_timeout_s, 90);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_I].start_step[AY_AUDIENCE_BUREAU], 2);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_I].start_step[AY_AUDIENCE_POLICE], 1);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_I].start_step[AY_AUDIENCE_GOVERNMENT], 0);
}

static void test_policy_errors_name_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *err;
    } cases[] = {
        {"[]", "policy: not a JSON object"},
        {"{\"verbal_notce\":\"30m\"}", "verbal_notce: unknown key"},
        {"{\"verbal_notice\":30}", "verbal_notice: expected a duration"},
        {"{\"written_report\":\"1x\"}", "written_report: expected a duration"},
        {"{\"monthly_report_day\":29}", "monthly_report_day: expected a whole number from 1 to 28"},
        {"{\"timezone\":\"../etc/passwd\"}", "timezone: expected a time zone name"},
        {"{\"chains\":{\"bureau\":[{\"target\":\"a\",\"ack_timeout\":\"1m\"},{\"target\":\"b\","
         "\"ack_timeout\":\"0s\"}]}}",
         "chains.bureau[1].ack_timeout: expected a duration"},
        {"{\"chains\":{\"bureau\":[{\"ack_timeout\":\"1m\"}]}}",
         "chains.bureau[0].target: required"},
        {"{\"chains\":{\"army\":[]}}", "chains.army: unknown audience"},
        {"{\"routing\":{\"SEVERITY_I\":[\"bureau@9\"]}}",
         "routing.SEVERITY_I[0]: the step after @"},
        {"{\"routing\":{\"SEVERITY_I\":[\"bureau@3\"]},\"chains\":{\"bureau\":[{\"target\":\"a\","
         "\"ack_timeout\":\"1m\"}]}}",
         "routing.SEVERITY_I: bureau@3, but chains.bureau has 1 step(s)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ay_district_policy p;
        char err[AY_ERRLEN] = "";
        assert_int_equal(parse(cases[i].json, &p, err), AY_ERR_INVALID);
        if (strstr(err, cases[i].err) == NULL)
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].err);
    }
}

static void test_policy_written_document_reads_back_the_same(void **state)
{
    (void)state;
    struct ay_district_policy a, b;
    char err[AY_ERRLEN] = "";
    assert_int_equal(parse("{\"verbal_notice\":\"1h30m\",\"final_report_days\":3}", &a, err),
                     AY_OK);
    char *json = ay_policy_to_json(&a, true);
    assert_non_null(strstr(json, "\"verbal_notice\":\t\"1h30m\""));
    assert_int_equal(parse(json, &b, err), AY_OK);
    assert_memory_equal(&a, &b, sizeof(a));
    free(json);
}

/* Issue 12: a device's problems are told to its school and the bureau; the
 * school's chain is one step, its safety office (校安办). */
static void test_policy_device_route_tells_the_school_and_the_bureau(void **state)
{
    (void)state;
    struct ay_district_policy p;
    char err[AY_ERRLEN] = "";
    assert_int_equal(parse("{}", &p, err), AY_OK);
    assert_int_equal(p.routes[AY_ROUTE_DEVICE].start_step[AY_AUDIENCE_SCHOOL], 1);
    assert_int_equal(p.routes[AY_ROUTE_DEVICE].start_step[AY_AUDIENCE_BUREAU], 1);
    assert_int_equal(p.routes[AY_ROUTE_DEVICE].start_step[AY_AUDIENCE_POLICE], 0);
    /* Nothing else is routed to the school by default. */
    for (int r = 0; r < AY_ROUTE_COUNT; r++)
        if (r != AY_ROUTE_DEVICE)
            assert_int_equal(p.routes[r].start_step[AY_AUDIENCE_SCHOOL], 0);
    assert_int_equal(p.chains[AY_AUDIENCE_SCHOOL].nsteps, 1);
    assert_string_equal(p.chains[AY_AUDIENCE_SCHOOL].steps[0].target, "safety_office");
    assert_string_equal(p.chains[AY_AUDIENCE_SCHOOL].steps[0].name_zh, "校安办");
    assert_string_equal(p.chains[AY_AUDIENCE_SCHOOL].steps[0].name_en, "school safety office");
    assert_int_equal(p.chains[AY_AUDIENCE_SCHOOL].steps[0].ack_timeout_s, 15 * 60);
    assert_int_equal(p.chains[AY_AUDIENCE_SCHOOL].steps[0].reminder_s, 5 * 60);
    assert_string_equal(ay_audience_word(AY_AUDIENCE_SCHOOL), "school");
    assert_string_equal(ay_audience_enum_name(AY_AUDIENCE_SCHOOL), "AUDIENCE_SCHOOL");
    enum ay_audience a;
    assert_true(ay_audience_parse("school", &a));
    assert_int_equal(a, AY_AUDIENCE_SCHOOL);
}

/* "school" in routes and chains.school: parsed, printed, read back; errors
 * still name the key. */
static void test_policy_school_chain_and_route_read_and_written(void **state)
{
    (void)state;
    struct ay_district_policy p, q;
    char err[AY_ERRLEN] = "";
    assert_int_equal(
        parse("{\"chains\":{\"school\":[{\"target\":\"principal\",\"name_zh\":\"校长\","
              "\"ack_timeout\":\"2s\",\"reminder\":\"1s\"},{\"target\":\"head_teacher\","
              "\"ack_timeout\":\"1m\"}]},"
              "\"routing\":{\"device\":[\"school@2\"],\"SEVERITY_IV\":[\"bureau\",\"school\"]}}",
              &p, err),
        AY_OK);
    assert_int_equal(p.chains[AY_AUDIENCE_SCHOOL].nsteps, 2);
    assert_string_equal(p.chains[AY_AUDIENCE_SCHOOL].steps[0].name_zh, "校长");
    assert_int_equal(p.chains[AY_AUDIENCE_SCHOOL].steps[0].ack_timeout_s, 2);
    assert_int_equal(p.chains[AY_AUDIENCE_SCHOOL].steps[1].reminder_s, 60);
    assert_int_equal(p.routes[AY_ROUTE_DEVICE].start_step[AY_AUDIENCE_SCHOOL], 2);
    assert_int_equal(p.routes[AY_ROUTE_DEVICE].start_step[AY_AUDIENCE_BUREAU], 0);
    assert_int_equal(p.routes[AY_ROUTE_SEVERITY_IV].start_step[AY_AUDIENCE_SCHOOL], 1);
    char *json = ay_policy_to_json(&p, false);
    assert_non_null(strstr(json, "\"device\":[\"school@2\"]"));
    assert_non_null(strstr(json, "\"SEVERITY_IV\":[\"bureau\",\"school\"]"));
    assert_non_null(strstr(json, "\"school\":[{\"target\":\"principal\",\"name_zh\":\"校长\""));
    assert_int_equal(parse(json, &q, err), AY_OK);
    assert_memory_equal(&p, &q, sizeof(p));
    free(json);
    /* The defaults written: the device route names the bureau and the school. */
    ay_policy_defaults(&p);
    json = ay_policy_to_json(&p, false);
    assert_non_null(strstr(json, "\"device\":[\"bureau\",\"school\"]"));
    assert_non_null(strstr(json, "\"school\":[{\"target\":\"safety_office\""));
    free(json);

    static const struct {
        const char *json;
        const char *err;
    } cases[] = {
        {"{\"chains\":{\"school\":[{\"target\":\"a\",\"ack_timeout\":\"soon\"}]}}",
         "chains.school[0].ack_timeout: expected a duration"},
        {"{\"chains\":{\"school\":[]}}", "chains.school: expected a list of 1 to 8 steps"},
        {"{\"routing\":{\"device\":[\"school@2\"]}}",
         "routing.device: school@2, but chains.school has 1 step(s)"},
        {"{\"routing\":{\"device\":[\"schools\"]}}",
         "routing.device[0]: unknown audience (police, bureau, government or school)"},
        {"{\"chains\":{\"teachers\":[]}}",
         "chains.teachers: unknown audience (police, bureau, government or school)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(cases[i].json, &p, err), AY_ERR_INVALID);
        if (strstr(err, cases[i].err) == NULL)
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].err);
    }
}

static void test_policy_hazards_by_default_a_month_a_week_and_supervised(void **state)
{
    (void)state;
    struct ay_district_policy p;
    char err[AY_ERRLEN] = "";
    assert_int_equal(parse("{}", &p, err), AY_OK);
    assert_int_equal(ay_policy_hazard_rectification_s(&p, FIRE, GENERAL), 30 * 86400);
    assert_int_equal(ay_policy_hazard_rectification_s(&p, FIRE, MAJOR), 7 * 86400);
    assert_int_equal(ay_policy_hazard_rectification_s(&p, 0, 0), 30 * 86400);
    assert_int_equal(p.interim_measures_after_s, 86400);
    assert_int_equal(p.major_hazard_reminder_s, 86400);
    assert_int_equal(p.routes[AY_ROUTE_MAJOR_HAZARD].start_step[AY_AUDIENCE_BUREAU], 1);
    assert_int_equal(p.routes[AY_ROUTE_MAJOR_HAZARD].start_step[AY_AUDIENCE_GOVERNMENT], 0);
    assert_int_equal(p.routes[AY_ROUTE_BEYOND_AUTHORITY].start_step[AY_AUDIENCE_GOVERNMENT], 1);
    assert_int_equal(p.routes[AY_ROUTE_BEYOND_AUTHORITY].start_step[AY_AUDIENCE_BUREAU], 0);
}

static void test_policy_hazard_times_by_grade_and_category(void **state)
{
    (void)state;
    struct ay_district_policy p;
    char err[AY_ERRLEN] = "";
    assert_int_equal(
        parse("{\"hazard_rectification\":{\"GENERAL\":\"14d\",\"HAZARD_CATEGORY_FIRE\":"
              "{\"GENERAL\":\"3d\",\"MAJOR\":\"1d\"},\"HAZARD_CATEGORY_DROWNING\":{\"MAJOR\":"
              "\"2d\"}},\"interim_measures_after\":\"3d\",\"major_hazard_reminder\":\"2s\","
              "\"routing\":{\"major_hazard\":[\"bureau@2\",\"government\"],"
              "\"beyond_authority\":[\"government\",\"bureau\"]}}",
              &p, err),
        AY_OK);
    assert_int_equal(ay_policy_hazard_rectification_s(&p, 9, GENERAL), 14 * 86400);
    assert_int_equal(ay_policy_hazard_rectification_s(&p, 9, MAJOR), 7 * 86400);
    assert_int_equal(ay_policy_hazard_rectification_s(&p, FIRE, GENERAL), 3 * 86400);
    assert_int_equal(ay_policy_hazard_rectification_s(&p, FIRE, MAJOR), 86400);
    /* A grade the category leaves out is the district's. */
    assert_int_equal(ay_policy_hazard_rectification_s(&p, DROWNING, GENERAL), 14 * 86400);
    assert_int_equal(ay_policy_hazard_rectification_s(&p, DROWNING, MAJOR), 2 * 86400);
    assert_int_equal(p.interim_measures_after_s, 3 * 86400);
    assert_int_equal(p.major_hazard_reminder_s, 2);
    assert_int_equal(p.routes[AY_ROUTE_MAJOR_HAZARD].start_step[AY_AUDIENCE_BUREAU], 2);
    assert_int_equal(p.routes[AY_ROUTE_MAJOR_HAZARD].start_step[AY_AUDIENCE_GOVERNMENT], 1);
    assert_int_equal(p.routes[AY_ROUTE_BEYOND_AUTHORITY].start_step[AY_AUDIENCE_BUREAU], 1);

    /* Written and read back the same, categories with values of their own
     * by name. */
    struct ay_district_policy b;
    char *json = ay_policy_to_json(&p, false);
    assert_non_null(strstr(json,
                           "\"hazard_rectification\":{\"GENERAL\":\"14d\",\"MAJOR\":"
                           "\"7d\",\"HAZARD_CATEGORY_DROWNING\":{\"MAJOR\":\"2d\"},"
                           "\"HAZARD_CATEGORY_FIRE\":{\"GENERAL\":\"3d\",\"MAJOR\":\"1d\"}}"));
    assert_non_null(strstr(json, "\"major_hazard\":[\"bureau@2\",\"government\"]"));
    assert_non_null(strstr(json, "\"major_hazard_reminder\":\"2s\""));
    assert_int_equal(parse(json, &b, err), AY_OK);
    assert_memory_equal(&p, &b, sizeof(p));
    free(json);
}

static void test_policy_hazard_errors_name_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *err;
    } cases[] = {
        {"{\"hazard_rectification\":\"30d\"}", "hazard_rectification: expected an object"},
        {"{\"hazard_rectification\":{\"MINOR\":\"3d\"}}",
         "hazard_rectification.MINOR: unknown key (GENERAL, MAJOR or a HAZARD_CATEGORY_... name)"},
        {"{\"hazard_rectification\":{\"MAJOR\":\"0s\"}}",
         "hazard_rectification.MAJOR: expected a duration"},
        {"{\"hazard_rectification\":{\"HAZARD_CATEGORY_FIRE\":{\"MAJOR\":7}}}",
         "hazard_rectification.HAZARD_CATEGORY_FIRE.MAJOR: expected a duration"},
        {"{\"hazard_rectification\":{\"HAZARD_CATEGORY_FIRE\":{\"HAZARD_CATEGORY_FIRE\":{}}}}",
         "hazard_rectification.HAZARD_CATEGORY_FIRE.HAZARD_CATEGORY_FIRE: unknown key (GENERAL or "
         "MAJOR)"},
        {"{\"hazard_rectification\":{\"HAZARD_CATEGORY_UNSPECIFIED\":{}}}",
         "hazard_rectification.HAZARD_CATEGORY_UNSPECIFIED: unknown key"},
        {"{\"interim_measures_after\":\"soon\"}", "interim_measures_after: expected a duration"},
        {"{\"major_hazard_reminder\":\"400d\"}", "major_hazard_reminder: expected a duration"},
        {"{\"routing\":{\"major_hazard\":[\"mayor\"]}}",
         "routing.major_hazard[0]: unknown audience"},
        {"{\"routing\":{\"beyond_authority\":[\"government@2\"]}}",
         "routing.beyond_authority: government@2, but chains.government has 1 step(s)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ay_district_policy p;
        char err[AY_ERRLEN] = "";
        assert_int_equal(parse(cases[i].json, &p, err), AY_ERR_INVALID);
        if (strstr(err, cases[i].err) == NULL)
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].err);
    }
}

static void test_duration_parse_and_format(void **state)
{
    (void)state;
    int64_t s = 0;
    char buf[32];
    assert_int_equal(ay_duration_parse("2h30m", &s), AY_OK);
    assert_int_equal(s, 9000);
    assert_int_equal(ay_duration_parse("367d", &s), AY_ERR_INVALID);
    assert_int_equal(ay_duration_parse("", &s), AY_ERR_INVALID);
    assert_int_equal(ay_duration_parse("10", &s), AY_ERR_INVALID);
    assert_int_equal(ay_duration_parse("-1m", &s), AY_ERR_INVALID);
    ay_duration_format(90061, buf, sizeof(buf));
    assert_string_equal(buf, "1d1h1m1s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_defaults_are_the_stricter_rules),
        cmocka_unit_test(test_policy_two_hour_variant_and_second_scale_chains),
        cmocka_unit_test(test_policy_errors_name_the_key),
        cmocka_unit_test(test_policy_written_document_reads_back_the_same),
        cmocka_unit_test(test_policy_hazards_by_default_a_month_a_week_and_supervised),
        cmocka_unit_test(test_policy_hazard_times_by_grade_and_category),
        cmocka_unit_test(test_policy_hazard_errors_name_the_key),
        cmocka_unit_test(test_duration_parse_and_format),
        cmocka_unit_test(test_policy_device_route_tells_the_school_and_the_bureau),
        cmocka_unit_test(test_policy_school_chain_and_route_read_and_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
