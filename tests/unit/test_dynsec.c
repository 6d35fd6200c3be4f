/*
 * test_dynsec.c - the broker's roles in C and dynsec command batches
 * (lib/ay_dynsec): what each role grants, the commands as dynsec reads
 * them, requests cut by size, answers matched to their commands by
 * correlation, and other tools' answers ignored.
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

#include "ay_dynsec.h"

/* ---- roles ------------------------------------------------------------------------ */

static bool has(const struct ay_dynsec_role *r, const char *type, const char *topic)
{
    struct ay_dynsec_acl a = {.allow = true, .priority = 0};
    snprintf(a.type, sizeof(a.type), "%s", type);
    snprintf(a.topic, sizeof(a.topic), "%s", topic);
    return ay_dynsec_role_has_acl(r, &a);
}

static void test_dynsec_device_role_publishes_its_eight_kinds_and_reads_its_receipts(void **state)
{
    (void)state;
    struct ay_dynsec_role r;
    static const char *const kinds[] = {"alarm",  "alarm-cancel",  "notice",  "report",
                                        "hazard", "hazard-update", "monthly", "status"};
    char t[AY_TOPIC_MAX];

    assert_int_equal(ay_dynsec_device_role("d01", "sch-0102", "btn-1", &r), AY_OK);
    assert_string_equal(r.name, "device.d01.sch-0102.btn-1");
    assert_int_equal(r.nacls, 17);
    for (size_t i = 0; i < 8; i++) {
        snprintf(t, sizeof(t), "ay/v1/d01/school/sch-0102/btn-1/%s", kinds[i]);
        assert_true(has(&r, "publishClientSend", t));
    }
    assert_true(has(&r, "subscribePattern", "ay/v1/d01/receipt/sch-0102/btn-1"));
    assert_true(has(&r, "publishClientReceive", "ay/v1/d01/receipt/sch-0102/btn-1"));
    assert_false(has(&r, "publishClientSend", "ay/v1/d01/school/sch-0102/btn-1/receipt"));
}

/* Issue 12: a school is told through its devices: each reads its school's
 * escalation feed and twin (no other school's), acknowledges on a topic
 * naming itself and reads the receipts. */
static void test_dynsec_device_role_reads_its_schools_escalations_and_acks(void **state)
{
    (void)state;
    struct ay_dynsec_role r;

    assert_int_equal(ay_dynsec_device_role("d01", "sch-0102", "app-1", &r), AY_OK);
    assert_true(has(&r, "subscribePattern", "ay/v1/d01/escalation/school/sch-0102"));
    assert_true(has(&r, "publishClientReceive", "ay/v1/d01/escalation/school/sch-0102"));
    assert_true(has(&r, "subscribePattern", "ay/v1/d01/escalation/school/sch-0102/json"));
    assert_true(has(&r, "publishClientReceive", "ay/v1/d01/escalation/school/sch-0102/json"));
    assert_true(has(&r, "publishClientSend", "ay/v1/d01/ack/school/app-1"));
    assert_true(has(&r, "subscribePattern", "ay/v1/d01/ack-receipt/school/app-1"));
    assert_true(has(&r, "publishClientReceive", "ay/v1/d01/ack-receipt/school/app-1"));
    for (size_t i = 0; i < r.nacls; i++) {
        assert_null(strstr(r.acls[i].topic, "+"));
        assert_null(strstr(r.acls[i].topic, "#"));
    }
    assert_false(has(&r, "subscribePattern", "ay/v1/d01/escalation/school/sch-0103"));
    /* No person's account or shared role for the school audience. */
    assert_int_equal(ay_dynsec_acks_role(AY_AUDIENCE_SCHOOL, "d01", "app-1", &r), AY_ERR_INVALID);
    assert_int_equal(ay_dynsec_audience_role(AY_AUDIENCE_SCHOOL, "d01", &r), AY_ERR_INVALID);
}

static void test_dynsec_roles_refuse_ids_that_would_widen_them(void **state)
{
    (void)state;
    struct ay_dynsec_role r = {.name = "untouched"};

    assert_int_equal(ay_dynsec_device_role("d01", "sch-0102", "+", &r), AY_ERR_INVALID);
    assert_int_equal(ay_dynsec_device_role("d01", "#", "btn-1", &r), AY_ERR_INVALID);
    assert_int_equal(ay_dynsec_device_role("d/1", "s", "b", &r), AY_ERR_INVALID);
    assert_int_equal(ay_dynsec_acks_role(AY_AUDIENCE_POLICE, "d01", "a.b", &r), AY_ERR_INVALID);
    assert_int_equal(ay_dynsec_audience_role(AY_AUDIENCE_COUNT, "d01", &r), AY_ERR_INVALID);
    assert_string_equal(r.name, "untouched");
}

static void test_dynsec_people_roles_are_those_of_broker_ctl(void **state)
{
    (void)state;
    struct ay_dynsec_role r;

    assert_int_equal(ay_dynsec_audience_role(AY_AUDIENCE_POLICE, "d01", &r), AY_OK);
    assert_string_equal(r.name, "police.d01");
    assert_true(has(&r, "subscribePattern", "ay/v1/d01/police/#"));
    assert_true(has(&r, "publishClientReceive", "ay/v1/d01/police/#"));
    assert_true(has(&r, "subscribePattern", "ay/v1/d01/escalation/police"));
    assert_true(has(&r, "publishClientReceive", "ay/v1/d01/escalation/police/json"));
    assert_int_equal(r.nacls, 6);

    assert_int_equal(ay_dynsec_audience_role(AY_AUDIENCE_BUREAU, "d02", &r), AY_OK);
    assert_string_equal(r.name, "bureau.d02");
    assert_true(has(&r, "publishClientReceive", "ay/v1/d02/escalation/bureau"));
    assert_false(has(&r, "subscribePattern", "ay/v1/d02/police/#"));
    assert_int_equal(r.nacls, 4);

    assert_int_equal(ay_dynsec_acks_role(AY_AUDIENCE_GOVERNMENT, "d01", "gov-1", &r), AY_OK);
    assert_string_equal(r.name, "acks.d01.government.gov-1");
    assert_true(has(&r, "publishClientSend", "ay/v1/d01/ack/government/gov-1"));
    assert_true(has(&r, "subscribePattern", "ay/v1/d01/ack-receipt/government/gov-1"));
    assert_true(has(&r, "publishClientReceive", "ay/v1/d01/ack-receipt/government/gov-1"));
    assert_int_equal(r.nacls, 3);

    ay_dynsec_service_role(&r);
    assert_string_equal(r.name, "service");
    assert_true(has(&r, "subscribePattern", "$share/+/ay/v1/#"));
    assert_true(has(&r, "publishClientSend", "ay/v1/+/ack-receipt/#"));
    assert_false(has(&r, "publishClientSend", "ay/v1/+/school/#"));
}

static void test_dynsec_role_read_back_from_get_role(void **state)
{
    (void)state;
    struct ay_dynsec_role want;
    struct ay_dynsec_role got;
    char err[AY_ERRLEN] = "";
    cJSON *role = cJSON_Parse(
        "{\"rolename\":\"bureau.d02\",\"acls\":["
        "{\"acltype\":\"subscribePattern\",\"topic\":\"ay/v1/d02/escalation/bureau\","
        "\"priority\":0,\"allow\":true},"
        "{\"acltype\":\"publishClientReceive\",\"topic\":\"ay/v1/d02/#\",\"priority\":0,"
        "\"allow\":true}]}");

    assert_int_equal(ay_dynsec_audience_role(AY_AUDIENCE_BUREAU, "d02", &want), AY_OK);
    assert_int_equal(ay_dynsec_role_from_json(role, &got, err), AY_OK);
    assert_int_equal(got.nacls, 2);
    assert_true(ay_dynsec_role_has_acl(&want, &got.acls[0]));
    assert_false(ay_dynsec_role_has_acl(&want, &got.acls[1])); /* wider: to be removed */
    got.acls[0].allow = false;
    assert_false(ay_dynsec_role_has_acl(&want, &got.acls[0]));
    cJSON_Delete(role);

    role = cJSON_Parse("{\"rolename\":\"x\",\"acls\":[{\"acltype\":\"subscribePattern\"}]}");
    assert_int_equal(ay_dynsec_role_from_json(role, &got, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "role x"));
    cJSON_Delete(role);
}

/* ---- commands ------------------------------------------------------------------------ */

/* The string member KEY of the object O (NULL if absent or not a string). */
static const char *str_of(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void test_dynsec_create_client_as_dynsec_reads_it(void **state)
{
    (void)state;
    const char *roles[] = {"police.d01", "acks.d01.police.p1"};
    cJSON *c = ay_dynsec_cmd_create_client("p1", "s3cret", "p1", roles, 2);
    char *text = cJSON_PrintUnformatted(c);

    assert_string_equal(text, "{\"command\":\"createClient\",\"username\":\"p1\",\"password\":"
                              "\"s3cret\",\"clientid\":\"p1\",\"roles\":[{\"rolename\":"
                              "\"police.d01\"},{\"rolename\":\"acks.d01.police.p1\"}]}");
    free(text);
    cJSON_Delete(c);
    /* A service: any client id. */
    c = ay_dynsec_cmd_create_client("svc", "pw", NULL, roles, 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(c, "clientid"));
    cJSON_Delete(c);
}

static void test_dynsec_create_role_carries_its_acls(void **state)
{
    (void)state;
    struct ay_dynsec_role r;
    assert_int_equal(ay_dynsec_acks_role(AY_AUDIENCE_POLICE, "d01", "p1", &r), AY_OK);
    cJSON *c = ay_dynsec_cmd_create_role(&r);
    const cJSON *acls = cJSON_GetObjectItemCaseSensitive(c, "acls");
    const cJSON *first = cJSON_GetArrayItem(acls, 0);

    assert_string_equal(str_of(c, "command"), "createRole");
    assert_int_equal(cJSON_GetArraySize(acls), 3);
    assert_string_equal(str_of(first, "acltype"), "publishClientSend");
    assert_string_equal(str_of(first, "topic"), "ay/v1/d01/ack/police/p1");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(first, "allow")));
    cJSON_Delete(c);
    /* removeRoleACL names the ACL by type and topic only. */
    c = ay_dynsec_cmd_role_acl("removeRoleACL", r.name, &r.acls[0]);
    assert_null(cJSON_GetObjectItemCaseSensitive(c, "allow"));
    cJSON_Delete(c);
}

/* ---- batches ------------------------------------------------------------------------ */

static struct ay_dynsec_batch *batch_of(const char *tag, size_t n)
{
    struct ay_dynsec_batch *b = NULL;
    char name[32];

    assert_int_equal(ay_dynsec_batch_new(tag, &b), AY_OK);
    for (size_t i = 0; i < n; i++) {
        size_t index = 99;
        snprintf(name, sizeof(name), "dev-%zu", i);
        assert_int_equal(ay_dynsec_batch_take(b, ay_dynsec_cmd_client("getClient", name), &index),
                         AY_OK);
        assert_int_equal(index, i);
    }
    return b;
}

static void test_dynsec_batch_tags_every_command_with_its_correlation(void **state)
{
    (void)state;
    struct ay_dynsec_batch *b = batch_of("run-1", 3);
    char *p = NULL;
    size_t len = 0;
    size_t to = 0;
    char err[AY_ERRLEN] = "";

    assert_int_equal(ay_dynsec_batch_message(b, 0, 10, 100000, &p, &len, &to, err), AY_OK);
    assert_int_equal(to, 3);
    assert_int_equal(len, strlen(p));
    cJSON *j = cJSON_Parse(p);
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(j, "commands");
    assert_int_equal(cJSON_GetArraySize(cmds), 3);
    assert_string_equal(str_of(cJSON_GetArrayItem(cmds, 2), "correlationData"), "run-1:2");
    cJSON_Delete(j);
    free(p);
    assert_string_equal(ay_dynsec_batch_command(b, 1), "getClient");
    assert_string_equal(ay_dynsec_batch_command(b, 7), "");
    ay_dynsec_batch_free(b);
    assert_int_equal(ay_dynsec_batch_new("has space", &b), AY_ERR_INVALID);
    assert_int_equal(ay_dynsec_batch_new("", &b), AY_ERR_INVALID);
}

static void test_dynsec_batch_requests_are_cut_by_count_and_size(void **state)
{
    (void)state;
    struct ay_dynsec_batch *b = batch_of("t", 10);
    char *p = NULL;
    size_t len = 0;
    size_t to = 0;
    size_t from = 0;
    char err[AY_ERRLEN] = "";
    int requests = 0;

    /* At most 4 commands a request. */
    for (; from < 10; from = to, requests++) {
        assert_int_equal(ay_dynsec_batch_message(b, from, 4, 100000, &p, &len, &to, err), AY_OK);
        assert_true(to - from <= 4);
        free(p);
    }
    assert_int_equal(requests, 3);
    /* At most 150 bytes: each command is about 70, so two at most. */
    assert_int_equal(ay_dynsec_batch_message(b, 0, 100, 150, &p, &len, &to, err), AY_OK);
    assert_true(len <= 150);
    assert_true(to >= 1 && to <= 2);
    free(p);
    /* One command that alone is too large. */
    assert_int_equal(ay_dynsec_batch_message(b, 0, 100, 20, &p, &len, &to, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "getClient"));
    assert_int_equal(ay_dynsec_batch_message(b, 10, 100, 1000, &p, &len, &to, err), AY_ERR_INVALID);
    ay_dynsec_batch_free(b);
}

static size_t accept(struct ay_dynsec_batch *b, const char *json)
{
    return ay_dynsec_batch_accept(b, json, strlen(json));
}

static void test_dynsec_batch_matches_answers_and_ignores_other_tools(void **state)
{
    (void)state;
    struct ay_dynsec_batch *b = batch_of("abc", 3);
    const char *e = NULL;
    const cJSON *data = NULL;

    assert_int_equal(ay_dynsec_batch_unanswered(b, 0, 3), 3);
    /* Another ayctl (another tag), mosquitto_ctrl (no correlation), a tag
     * that only starts like ours, an index past the end, junk. */
    assert_int_equal(
        accept(b, "{\"responses\":[{\"command\":\"getClient\",\"correlationData\":\"abd:0\"},"
                  "{\"command\":\"getClient\",\"error\":\"Client not found\"},"
                  "{\"command\":\"getClient\",\"correlationData\":\"abcd:1\"},"
                  "{\"command\":\"getClient\",\"correlationData\":\"abc:3\"},"
                  "{\"command\":\"getClient\",\"correlationData\":\"abc:01\"},"
                  "{\"command\":\"getClient\",\"correlationData\":\"abc:\"}]}"),
        0);
    assert_int_equal(accept(b, "not json"), 0);
    assert_int_equal(accept(b, "{\"responses\":{}}"), 0);
    assert_false(ay_dynsec_batch_result(b, 0, &e, NULL));

    /* Ours, in any order, across two response messages. */
    assert_int_equal(
        accept(b, "{\"responses\":[{\"command\":\"getClient\",\"correlationData\":\"abc:2\","
                  "\"error\":\"Client not found\"},{\"command\":\"getClient\",\"data\":{\"client\":"
                  "{\"username\":\"dev-0\"}},\"correlationData\":\"abc:0\"}]}"),
        2);
    assert_int_equal(ay_dynsec_batch_unanswered(b, 0, 3), 1);
    assert_int_equal(ay_dynsec_batch_unanswered(b, 0, 1), 0);
    assert_true(ay_dynsec_batch_result(b, 0, &e, &data));
    assert_null(e);
    assert_string_equal(str_of(cJSON_GetObjectItemCaseSensitive(data, "client"), "username"),
                        "dev-0");
    assert_true(ay_dynsec_batch_result(b, 2, &e, &data));
    assert_string_equal(e, "Client not found");
    assert_true(ay_dynsec_is_not_found(e));
    assert_null(data);
    /* A repeat does not overwrite the first answer. */
    assert_int_equal(accept(b, "{\"responses\":[{\"command\":\"getClient\",\"correlationData\":"
                               "\"abc:2\"},{\"command\":\"getClient\",\"correlationData\":"
                               "\"abc:1\",\"error\":\"Client already exists\"}]}"),
                     1);
    assert_true(ay_dynsec_batch_result(b, 2, &e, NULL));
    assert_string_equal(e, "Client not found");
    assert_true(ay_dynsec_batch_result(b, 1, &e, NULL));
    assert_true(ay_dynsec_is_already_exists(e));
    assert_int_equal(ay_dynsec_batch_unanswered(b, 0, 3), 0);
    ay_dynsec_batch_free(b);
    ay_dynsec_batch_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dynsec_device_role_publishes_its_eight_kinds_and_reads_its_receipts),
        cmocka_unit_test(test_dynsec_device_role_reads_its_schools_escalations_and_acks),
        cmocka_unit_test(test_dynsec_roles_refuse_ids_that_would_widen_them),
        cmocka_unit_test(test_dynsec_people_roles_are_those_of_broker_ctl),
        cmocka_unit_test(test_dynsec_role_read_back_from_get_role),
        cmocka_unit_test(test_dynsec_create_client_as_dynsec_reads_it),
        cmocka_unit_test(test_dynsec_create_role_carries_its_acls),
        cmocka_unit_test(test_dynsec_batch_tags_every_command_with_its_correlation),
        cmocka_unit_test(test_dynsec_batch_requests_are_cut_by_count_and_size),
        cmocka_unit_test(test_dynsec_batch_matches_answers_and_ignores_other_tools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
