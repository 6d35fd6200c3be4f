/*
 * test_wire.c - the two wire forms (lib/ay_wire.h) and the content-type
 * plumbing of lib/ay_mqtt.h.
 *
 * The rule: the MQTT v5 content type decides when there is one; without
 * one, a payload whose first byte is '{' is JSON, anything else protobuf.
 * Its premise is shown here for every message type: no payload that starts
 * with '{' is a protobuf message protobuf-c accepts, while "\n{" can begin
 * a valid one (a header of 123 bytes), so whitespace is never skipped.
 * Every example of tests/data/valid/ decodes to the same message in both
 * forms, and bad input is refused with a reason naming the type or field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/common.pb-c.h"
#include "ay_codec.h"
#include "ay_mqtt.h"
#include "ay_msgtype.h"
#include "ay_wire.h"
#include "unit.h"

/* The example of type t, decoded. */
static ProtobufCMessage *example(const struct ay_msgtype *t)
{
    char rel[64];
    char err[AY_ERRLEN] = "";
    size_t len = 0;
    ProtobufCMessage *m = NULL;

    snprintf(rel, sizeof(rel), "valid/%s.json", t->name);
    char *json = ayt_read_data(rel, &len);
    if (ay_codec_from_json(t->desc, json, len, &m, err) != AY_OK)
        fail_msg("%s: %s", rel, err);
    free(json);
    return m;
}

/* ---- content types ---- */

static void test_wire_content_types_of_the_contract_are_known(void **state)
{
    static const struct {
        const char *ct;
        enum ay_wire want;
    } cases[] = {
        {"application/json", AY_WIRE_JSON},
        {"Application/JSON", AY_WIRE_JSON},
        {"application/json; charset=utf-8", AY_WIRE_JSON},
        {"  application/json ;charset=UTF-8", AY_WIRE_JSON},
        {"application/x-protobuf", AY_WIRE_PROTOBUF},
        {"application/protobuf", AY_WIRE_PROTOBUF},
        {"APPLICATION/X-PROTOBUF; proto=anyuan.v1.Alarm", AY_WIRE_PROTOBUF},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[AY_ERRLEN] = "";
        enum ay_wire w = cases[i].want == AY_WIRE_JSON ? AY_WIRE_PROTOBUF : AY_WIRE_JSON;
        if (ay_wire_of_content_type(cases[i].ct, &w, err) != AY_OK)
            fail_msg("\"%s\": %s", cases[i].ct, err);
        assert_int_equal(w, cases[i].want);
    }
}

static void test_wire_no_content_type_leaves_it_to_the_payload(void **state)
{
    char err[AY_ERRLEN] = "";
    enum ay_wire w = AY_WIRE_JSON;
    (void)state;
    assert_int_equal(ay_wire_of_content_type(NULL, &w, err), AY_ERR_NOTFOUND);
    assert_int_equal(ay_wire_of_content_type("", &w, err), AY_ERR_NOTFOUND);
    assert_int_equal(ay_wire_of_content_type(" \t ", &w, err), AY_ERR_NOTFOUND);
    assert_int_equal(w, AY_WIRE_JSON); /* not written */
}

static void test_wire_unknown_content_type_is_refused_and_quoted(void **state)
{
    static const char *bad[] = {"text/plain",           "application/jsonx",
                                "application/json-seq", "application/octet-stream",
                                "; charset=utf-8",      "json"};
    char err[AY_ERRLEN];
    enum ay_wire w = AY_WIRE_JSON;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(ay_wire_of_content_type(bad[i], &w, err), AY_ERR_INVALID);
        char want[128];
        snprintf(want, sizeof(want), "content type \"%s\" is not supported", bad[i]);
        if (strstr(err, want) == NULL || strstr(err, "application/json") == NULL)
            fail_msg("\"%s\": %s", bad[i], err);
    }
    /* From outside: control characters and quotes are not echoed, length is cut. */
    char longer[300];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(ay_wire_of_content_type("a\"b\nc\x01", &w, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "\"a?b?c?\""));
    assert_int_equal(ay_wire_of_content_type(longer, &w, err), AY_ERR_INVALID);
    assert_null(strstr(err, longer + 100));
}

/* ---- detection ---- */

static void test_wire_first_byte_decides_without_a_content_type(void **state)
{
    char err[AY_ERRLEN] = "";
    enum ay_wire w;
    (void)state;
    assert_int_equal(ay_wire_detect(NULL, "{\"header\":{}}", 13, &w, err), AY_OK);
    assert_int_equal(w, AY_WIRE_JSON);
    assert_int_equal(ay_wire_detect(NULL, "\x0a\x24", 2, &w, err), AY_OK);
    assert_int_equal(w, AY_WIRE_PROTOBUF);
    /* Whitespace before the brace: protobuf (0x0a is the header's tag). */
    assert_int_equal(ay_wire_detect(NULL, "\n{}", 3, &w, err), AY_OK);
    assert_int_equal(w, AY_WIRE_PROTOBUF);
    assert_int_equal(ay_wire_detect(NULL, " {}", 3, &w, err), AY_OK);
    assert_int_equal(w, AY_WIRE_PROTOBUF);
    assert_int_equal(ay_wire_detect("", "", 0, &w, err), AY_OK);
    assert_int_equal(w, AY_WIRE_PROTOBUF);
    assert_false(ay_wire_starts_json("", 0));
}

static void test_wire_content_type_wins_over_the_first_byte(void **state)
{
    char err[AY_ERRLEN] = "";
    enum ay_wire w;
    (void)state;
    assert_int_equal(ay_wire_detect(AY_WIRE_CT_JSON, "\n  {}", 5, &w, err), AY_OK);
    assert_int_equal(w, AY_WIRE_JSON);
    assert_int_equal(ay_wire_detect(AY_WIRE_CT_PROTOBUF, "{}", 2, &w, err), AY_OK);
    assert_int_equal(w, AY_WIRE_PROTOBUF);
    w = AY_WIRE_JSON;
    assert_int_equal(ay_wire_detect("text/plain", "\x0a\x00", 2, &w, err), AY_ERR_INVALID);
    assert_int_equal(w, AY_WIRE_JSON); /* not written */
}

/*
 * The premise of the rule: 0x7b as a tag is field 15, wire type 3 (start
 * group). protobuf-c refuses it for every contract type, whatever follows:
 * JSON, an empty group (0x7b 0x7c, which a parser that skips unknown groups
 * would accept), or an empty group followed by a valid encoding.
 */
static void test_wire_no_protobuf_of_the_contract_starts_with_a_brace(void **state)
{
    size_t n = 0;
    const struct ay_msgtype *all = ay_msgtype_all(&n);
    (void)state;
    for (size_t i = 0; i < n; i++) {
        ProtobufCMessage *m = example(&all[i]);
        size_t plen = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(plen + 2);
        assert_non_null(buf);
        buf[0] = '{';
        buf[1] = '|';
        protobuf_c_message_pack(m, buf + 2);
        assert_true(buf[2] != '{'); /* the real encoding starts with the header's tag */
        char *json = NULL;
        char err[AY_ERRLEN] = "";
        assert_int_equal(ay_codec_to_json(m, false, &json, err), AY_OK);
        const struct {
            const void *p;
            size_t len;
        } tries[] = {{"{", 1}, {"{}", 2}, {"{|", 2}, {buf, plen + 2}, {json, strlen(json)}};
        for (size_t k = 0; k < sizeof(tries) / sizeof(tries[0]); k++) {
            ProtobufCMessage *got =
                protobuf_c_message_unpack(all[i].desc, NULL, tries[k].len, tries[k].p);
            if (got != NULL)
                fail_msg("%s: try %zu decoded as protobuf", all[i].name, k);
        }
        /* And without the group it is valid: the test is not vacuous. */
        ProtobufCMessage *back = protobuf_c_message_unpack(all[i].desc, NULL, plen, buf + 2);
        assert_non_null(back);
        protobuf_c_message_free_unpacked(back, NULL);
        free(json);
        free(buf);
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

/* Why the rule looks at the first byte only: "\n{" begins a valid alarm
 * whose header is 123 bytes long. */
static void test_wire_newline_brace_can_begin_a_valid_protobuf(void **state)
{
    const struct ay_msgtype *t = ay_msgtype_by_name("alarm");
    ProtobufCMessage *m = example(t);
    Anyuan__V1__Alarm *a = (Anyuan__V1__Alarm *)m;
    char device[40], school[40];
    char *saved_device = a->header->device_id;
    char *saved_school = a->header->school_id;
    bool found = false;
    (void)state;
    /* Ids of up to 32 characters each (contract 7.2). */
    for (size_t k = 1; k <= 32 * 32 && !found; k++) {
        size_t dl = 1 + (k - 1) / 32, sl = 1 + (k - 1) % 32;
        memset(device, 'b', dl);
        device[dl] = '\0';
        memset(school, 's', sl);
        school[sl] = '\0';
        a->header->device_id = device;
        a->header->school_id = school;
        found = anyuan__v1__header__get_packed_size(a->header) == 0x7b;
        if (found) {
            size_t len = protobuf_c_message_get_packed_size(m);
            uint8_t *buf = malloc(len);
            assert_non_null(buf);
            protobuf_c_message_pack(m, buf);
            assert_memory_equal(buf, "\n{", 2);
            ProtobufCMessage *back = protobuf_c_message_unpack(t->desc, NULL, len, buf);
            assert_non_null(back);
            protobuf_c_message_free_unpacked(back, NULL);
            enum ay_wire w = AY_WIRE_JSON;
            char err[AY_ERRLEN] = "";
            assert_int_equal(ay_wire_detect(NULL, buf, len, &w, err), AY_OK);
            assert_int_equal(w, AY_WIRE_PROTOBUF);
            free(buf);
        }
    }
    a->header->device_id = saved_device;
    a->header->school_id = saved_school;
    assert_true(found);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- decoding and encoding ---- */

/* Each example: encoded in both forms, detected without a content type,
 * decoded to the same message (the same canonical protobuf bytes). */
static void test_wire_every_example_is_the_same_message_in_both_forms(void **state)
{
    size_t n = 0;
    const struct ay_msgtype *all = ay_msgtype_all(&n);
    (void)state;
    for (size_t i = 0; i < n; i++) {
        ProtobufCMessage *m = example(&all[i]);
        uint8_t *pb = NULL, *js = NULL, *pb2 = NULL;
        size_t pblen = 0, jslen = 0, pb2len = 0;
        char err[AY_ERRLEN] = "";
        enum ay_wire w;
        ProtobufCMessage *from_json = NULL;

        assert_int_equal(ay_wire_encode(m, AY_WIRE_PROTOBUF, &pb, &pblen, err), AY_OK);
        assert_int_equal(ay_wire_encode(m, AY_WIRE_JSON, &js, &jslen, err), AY_OK);
        assert_int_equal(js[0], '{');
        assert_null(memchr(js, '\n', jslen)); /* one line */
        assert_int_equal(ay_wire_detect(NULL, pb, pblen, &w, err), AY_OK);
        assert_int_equal(w, AY_WIRE_PROTOBUF);
        assert_int_equal(ay_wire_detect(NULL, js, jslen, &w, err), AY_OK);
        assert_int_equal(w, AY_WIRE_JSON);
        if (ay_wire_decode(all[i].desc, w, js, jslen, &from_json, err) != AY_OK)
            fail_msg("%s: %s", all[i].name, err);
        assert_int_equal(ay_wire_encode(from_json, AY_WIRE_PROTOBUF, &pb2, &pb2len, err), AY_OK);
        assert_int_equal(pb2len, pblen);
        assert_memory_equal(pb2, pb, pblen);
        protobuf_c_message_free_unpacked(from_json, NULL);
        protobuf_c_message_free_unpacked(m, NULL);
        free(pb);
        free(js);
        free(pb2);
    }
}

static void expect_refused(const char *type, enum ay_wire w, const char *payload,
                           const char *reason)
{
    const struct ay_msgtype *t = ay_msgtype_by_name(type);
    ProtobufCMessage *m = NULL;
    char err[AY_ERRLEN] = "";

    assert_int_equal(ay_wire_decode(t->desc, w, payload, strlen(payload), &m, err), AY_ERR_INVALID);
    assert_null(m);
    if (strstr(err, reason) == NULL)
        fail_msg("%s: expected \"%s\" in \"%s\"", type, reason, err);
}

static void test_wire_bad_input_is_refused_naming_the_type_or_field(void **state)
{
    (void)state;
    expect_refused("alarm", AY_WIRE_JSON, "{\"header\": {", "alarm: invalid JSON near byte");
    expect_refused("alarm", AY_WIRE_JSON, "{} x", "alarm: unexpected data after the JSON value");
    expect_refused("notice", AY_WIRE_JSON, "{\"casualtys\": {}}",
                   "notice.casualtys: unknown field");
    expect_refused("alarm", AY_WIRE_JSON, "{\"kind\": \"LOUD\"}", "alarm.kind: unknown value");
    expect_refused("alarm", AY_WIRE_PROTOBUF, "not a protobuf message",
                   "alarm: payload is not a valid anyuan.v1.Alarm protobuf message");
    expect_refused("ack", AY_WIRE_PROTOBUF, "\xff\xff\xff",
                   "ack: payload is not a valid anyuan.v1.Ack protobuf message");
    /* JSON behind whitespace or a byte order mark, taken for protobuf: a hint. */
    expect_refused("alarm", AY_WIRE_PROTOBUF, "\r\n {\"header\": {}}",
                   "(it looks like JSON: send JSON with content type application/json, or with "
                   "'{' as its very first byte)");
    expect_refused("alarm", AY_WIRE_PROTOBUF, "\xef\xbb\xbf{}", "it looks like JSON");
}

/* ---- names, topics ---- */

static void test_wire_names_content_types_and_feed_twins(void **state)
{
    char topic[AY_TOPIC_MAX];
    char longer[AY_TOPIC_MAX];
    size_t base = 0;
    enum ay_wire w = AY_WIRE_PROTOBUF;
    (void)state;
    assert_string_equal(ay_wire_name(AY_WIRE_JSON), "json");
    assert_string_equal(ay_wire_name(AY_WIRE_PROTOBUF), "protobuf");
    assert_string_equal(ay_wire_content_type(AY_WIRE_JSON), "application/json");
    assert_string_equal(ay_wire_content_type(AY_WIRE_PROTOBUF), "application/x-protobuf");
    assert_true(ay_wire_parse("json", &w));
    assert_int_equal(w, AY_WIRE_JSON);
    assert_true(ay_wire_parse("protobuf", &w));
    assert_int_equal(w, AY_WIRE_PROTOBUF);
    assert_false(ay_wire_parse("JSON", &w));
    assert_false(ay_wire_parse(NULL, &w));

    assert_int_equal(ay_wire_topic("ay/v1/d01/police/alarm", AY_WIRE_JSON, topic), AY_OK);
    assert_string_equal(topic, "ay/v1/d01/police/alarm/json");
    assert_int_equal(ay_wire_topic("ay/v1/d01/escalation/bureau", AY_WIRE_PROTOBUF, topic), AY_OK);
    assert_string_equal(topic, "ay/v1/d01/escalation/bureau");
    memset(longer, 'a', sizeof(longer) - 5);
    longer[sizeof(longer) - 5] = '\0';
    assert_int_equal(ay_wire_topic(longer, AY_WIRE_JSON, topic), AY_ERR_INVALID);

    assert_true(ay_wire_topic_is_json("ay/v1/d01/escalation/police/json", &base));
    assert_int_equal(base, strlen("ay/v1/d01/escalation/police"));
    assert_false(ay_wire_topic_is_json("ay/v1/d01/escalation/police", &base));
    assert_false(ay_wire_topic_is_json("/json", &base));
}

/* ---- lib/ay_mqtt: the received content type ---- */

static void test_mqtt_content_type_copy_is_a_c_string_without_nul(void **state)
{
    (void)state;
    char *s = ay_mqtt_content_type_dup("application/jsonXYZ", 16);
    assert_string_equal(s, "application/json");
    free(s);
    /* A NUL inside would cut "application/json\0junk" to a known type:
     * it becomes '?', and the whole is refused as unknown. */
    s = ay_mqtt_content_type_dup("application/json\0junk", 21);
    assert_string_equal(s, "application/json?junk");
    char err[AY_ERRLEN] = "";
    enum ay_wire w;
    assert_int_equal(ay_wire_of_content_type(s, &w, err), AY_ERR_INVALID);
    free(s);
    s = ay_mqtt_content_type_dup("", 0);
    assert_string_equal(s, "");
    free(s);
}

static void test_mqtt_url_splits_into_host_port_and_tls(void **state)
{
    char host[64], err[AY_ERRLEN] = "";
    int port = 0;
    bool tls = true;
    (void)state;
    assert_int_equal(
        ay_mqtt_parse_url("tcp://127.0.0.1:1883", host, sizeof(host), &port, &tls, err), AY_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 1883);
    assert_false(tls);
    assert_int_equal(
        ay_mqtt_parse_url("mqtts://broker.example:8883/", host, sizeof(host), &port, &tls, err),
        AY_OK);
    assert_string_equal(host, "broker.example");
    assert_int_equal(port, 8883);
    assert_true(tls);
    assert_int_equal(ay_mqtt_parse_url("ssl://[::1]:18883", host, sizeof(host), &port, &tls, err),
                     AY_OK);
    assert_string_equal(host, "::1");
    assert_true(tls);
    const char *bad[] = {
        "ws://h:9001",
        "tcp://h",
        "tcp://:1883",
        "tcp://h:0",
        "tcp://h:70000",
        "tcp://h:1883x",
        "h:1883",
        "ssl://[::1:1",
        "tcp://a-host-name-far-longer-than-the-buffer-of-sixty-four-bytes-given.example:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(ay_mqtt_parse_url(bad[i], host, sizeof(host), &port, &tls, err),
                         AY_ERR_CONFIG);
        assert_non_null(strstr(err, bad[i]));
    }
    assert_int_equal(ay_mqtt_parse_url(NULL, host, sizeof(host), &port, &tls, err), AY_ERR_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_content_types_of_the_contract_are_known),
        cmocka_unit_test(test_wire_no_content_type_leaves_it_to_the_payload),
        cmocka_unit_test(test_wire_unknown_content_type_is_refused_and_quoted),
        cmocka_unit_test(test_wire_first_byte_decides_without_a_content_type),
        cmocka_unit_test(test_wire_content_type_wins_over_the_first_byte),
        cmocka_unit_test(test_wire_no_protobuf_of_the_contract_starts_with_a_brace),
        cmocka_unit_test(test_wire_newline_brace_can_begin_a_valid_protobuf),
        cmocka_unit_test(test_wire_every_example_is_the_same_message_in_both_forms),
        cmocka_unit_test(test_wire_bad_input_is_refused_naming_the_type_or_field),
        cmocka_unit_test(test_wire_names_content_types_and_feed_twins),
        cmocka_unit_test(test_mqtt_content_type_copy_is_a_c_string_without_nul),
        cmocka_unit_test(test_mqtt_url_splits_into_host_port_and_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
