/*
 * test_codec.c - the generic JSON <-> protobuf codec (lib/ay_codec.h).
 *
 * Every registered message type round-trips its example in
 * tests/data/valid/<name>.json through JSON -> protobuf -> binary -> protobuf
 * -> JSON, and protobuf -> JSON -> protobuf gives identical bytes. Bad input,
 * from tests/data/invalid/ and inline, must fail with AY_ERR_INVALID and a
 * reason naming the field by its JSON path. Types the contract does not use
 * (64-bit integers in fields, bytes, float, repeated scalars, two-member
 * oneofs, recursion) are exercised through a hand-written descriptor, Probe.
 * Leaks on error paths are caught by the sanitizer build.
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
#include "anyuan/v1/device.pb-c.h"
#include "ay_codec.h"
#include "ay_msgtype.h"
#include "unit.h"

/* ---- helpers ---- */

static ProtobufCMessage *decode_ok(const ProtobufCMessageDescriptor *desc, const char *json)
{
    ProtobufCMessage *m = NULL;
    char err[AY_ERRLEN] = "";

    if (ay_codec_from_json(desc, json, strlen(json), &m, err) != AY_OK)
        fail_msg("decode failed: %s", err);
    return m;
}

static char *encode_ok(const ProtobufCMessage *m)
{
    char *out = NULL;
    char err[AY_ERRLEN] = "";

    if (ay_codec_to_json(m, false, &out, err) != AY_OK)
        fail_msg("encode failed: %s", err);
    return out;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), *len);
    return buf;
}

/* Asserts that decoding json as desc fails with AY_ERR_INVALID and a reason containing want. */
static void assert_decode_fails(const ProtobufCMessageDescriptor *desc, const char *json,
                                size_t len, const char *want)
{
    ProtobufCMessage *m = (ProtobufCMessage *)(uintptr_t)0x1; /* must stay untouched */
    char err[AY_ERRLEN] = "";
    enum ay_err rc = ay_codec_from_json(desc, json, len, &m, err);

    print_message("  -> %s\n", err);
    assert_int_equal(rc, AY_ERR_INVALID);
    assert_ptr_equal(m, (ProtobufCMessage *)(uintptr_t)0x1);
    if (strstr(err, want) == NULL)
        fail_msg("reason \"%s\" does not contain \"%s\"", err, want);
}

/* ---- Probe: a hand-written descriptor with the field kinds the contract lacks ---- */

typedef struct Probe Probe;
struct Probe {
    ProtobufCMessage base;
    int64_t i64;
    uint64_t u64;
    int64_t s64;
    uint64_t f64;
    int64_t sf64;
    int32_t s32;
    float fl;
    ProtobufCBinaryData blob;
    size_t n_tags;
    char **tags;
    size_t n_nums;
    int32_t *nums;
    Probe *child;
    double d;
    uint32_t choice_case;
    union {
        char *text;
        uint32_t count;
    };
};

static const ProtobufCMessageDescriptor probe_descriptor;

static void probe_init(Probe *p)
{
    static const Probe init = {.base = PROTOBUF_C_MESSAGE_INIT(&probe_descriptor)};
    *p = init;
}

#define PF(name, id, label, type, q, member, desc, flags)                                          \
    {                                                                                              \
        name, id, label, type, q, offsetof(Probe, member), desc, NULL, flags, 0, NULL, NULL        \
    }

static const ProtobufCFieldDescriptor probe_fields[] = {
    PF("i64", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT64, 0, i64, NULL, 0),
    PF("u64", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_UINT64, 0, u64, NULL, 0),
    PF("s64", 3, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_SINT64, 0, s64, NULL, 0),
    PF("f64", 4, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FIXED64, 0, f64, NULL, 0),
    PF("sf64", 5, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_SFIXED64, 0, sf64, NULL, 0),
    PF("s32", 6, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_SINT32, 0, s32, NULL, 0),
    PF("fl", 7, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FLOAT, 0, fl, NULL, 0),
    PF("blob", 8, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_BYTES, 0, blob, NULL, 0),
    PF("tags", 9, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_STRING, offsetof(Probe, n_tags), tags,
       NULL, 0),
    PF("nums", 10, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_INT32, offsetof(Probe, n_nums), nums,
       NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
    PF("text", 11, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, offsetof(Probe, choice_case),
       text, NULL, PROTOBUF_C_FIELD_FLAG_ONEOF),
    PF("count", 12, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_UINT32, offsetof(Probe, choice_case),
       count, NULL, PROTOBUF_C_FIELD_FLAG_ONEOF),
    PF("child_probe", 13, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0, child,
       &probe_descriptor, 0),
    PF("d", 14, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_DOUBLE, 0, d, NULL, 0),
};

/* Field indices sorted by name, as protoc-c generates them. */
static const unsigned probe_by_name[] = {7, 12, 11, 13, 3, 6, 0, 9, 5, 2, 4, 8, 10, 1};
static const ProtobufCIntRange probe_ranges[] = {{1, 0}, {0, 14}};

static const ProtobufCMessageDescriptor probe_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.Probe",
    "Probe",
    "Probe",
    "test",
    sizeof(Probe),
    sizeof(probe_fields) / sizeof(probe_fields[0]),
    probe_fields,
    probe_by_name,
    1,
    probe_ranges,
    (ProtobufCMessageInit)probe_init,
    NULL,
    NULL,
    NULL,
};

/* ---- round trips of the examples ---- */

static void test_codec_every_example_survives_json_binary_json(void **state)
{
    size_t n;
    const struct ay_msgtype *all = ay_msgtype_all(&n);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        char rel[128];
        size_t len;
        size_t bin_len;
        cJSON *out = NULL;
        char err[AY_ERRLEN] = "";

        snprintf(rel, sizeof(rel), "valid/%s.json", all[i].name);
        print_message("%s\n", rel);
        char *json = ayt_read_data(rel, &len);
        cJSON *want = cJSON_Parse(json);
        assert_non_null(want);
        ProtobufCMessage *m = decode_ok(all[i].desc, json);
        uint8_t *bin = pack(m, &bin_len);
        ProtobufCMessage *back = protobuf_c_message_unpack(all[i].desc, NULL, bin_len, bin);
        assert_non_null(back);
        if (ay_codec_to_cjson(back, &out, err) != AY_OK)
            fail_msg("encode failed: %s", err);
        if (!cJSON_Compare(want, out, true)) {
            char *got = cJSON_Print(out);
            fail_msg("%s came back as\n%s", rel, got);
        }
        cJSON_Delete(out);
        protobuf_c_message_free_unpacked(back, NULL);
        protobuf_c_message_free_unpacked(m, NULL);
        free(bin);
        cJSON_Delete(want);
        free(json);
    }
}

static void test_codec_every_example_survives_protobuf_json_protobuf_bytewise(void **state)
{
    size_t n;
    const struct ay_msgtype *all = ay_msgtype_all(&n);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        char rel[128];
        size_t len;
        size_t a_len;
        size_t b_len;
        char *text = NULL;
        char err[AY_ERRLEN] = "";

        snprintf(rel, sizeof(rel), "valid/%s.json", all[i].name);
        char *json = ayt_read_data(rel, &len);
        ProtobufCMessage *m = decode_ok(all[i].desc, json);
        uint8_t *a = pack(m, &a_len);
        for (int pretty = 0; pretty <= 1; pretty++) {
            assert_int_equal(ay_codec_to_json(m, pretty, &text, err), AY_OK);
            assert_true(pretty || strchr(text, '\n') == NULL);
            ProtobufCMessage *again = decode_ok(all[i].desc, text);
            uint8_t *b = pack(again, &b_len);
            assert_int_equal(a_len, b_len);
            assert_memory_equal(a, b, a_len);
            free(b);
            protobuf_c_message_free_unpacked(again, NULL);
            free(text);
        }
        free(a);
        protobuf_c_message_free_unpacked(m, NULL);
        free(json);
    }
}

/* ---- the mapping's details ---- */

static void test_codec_accepts_snake_case_enum_numbers_offsets_and_null(void **state)
{
    const char *loose = "{\"header\": {\"message_id\": \"7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a3\","
                        " \"sent_at\": \"2026-11-24T16:15:03.412+08:00\", \"schemaVersion\": \"1\","
                        " \"school_id\": null},"
                        " \"kind\": 2, \"triggeredAt\": \"2026-11-24T08:15:02.950000Z\","
                        " \"is_test\": false, \"note\": \"\", \"geo\": null}";
    const char *canonical = "{\"header\":{\"messageId\":\"7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a3\","
                            "\"sentAt\":\"2026-11-24T08:15:03.412Z\",\"schemaVersion\":1},"
                            "\"kind\":\"ALARM_KIND_INTRUSION\","
                            "\"triggeredAt\":\"2026-11-24T08:15:02.950Z\"}";
    (void)state;

    ProtobufCMessage *m = decode_ok(&anyuan__v1__alarm__descriptor, loose);
    char *out = encode_ok(m);
    assert_string_equal(out, canonical);
    free(out);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_codec_omits_proto3_defaults(void **state)
{
    Anyuan__V1__Alarm alarm = ANYUAN__V1__ALARM__INIT;
    Anyuan__V1__Header header = ANYUAN__V1__HEADER__INIT;
    (void)state;

    char *out = encode_ok(&alarm.base);
    assert_string_equal(out, "{}");
    free(out);
    alarm.header = &header; /* a present but empty message stays */
    out = encode_ok(&alarm.base);
    assert_string_equal(out, "{\"header\":{}}");
    free(out);
}

static void test_codec_emits_set_oneof_member_even_when_zero(void **state)
{
    Anyuan__V1__DeviceStatus st = ANYUAN__V1__DEVICE_STATUS__INIT;
    (void)state;

    char *out = encode_ok(&st.base);
    assert_string_equal(out, "{}");
    free(out);
    st.battery_case = ANYUAN__V1__DEVICE_STATUS__BATTERY_BATTERY_PERCENT;
    st.battery_percent = 0;
    out = encode_ok(&st.base);
    assert_string_equal(out, "{\"batteryPercent\":0}");
    ProtobufCMessage *back = decode_ok(&anyuan__v1__device_status__descriptor, out);
    assert_int_equal(((Anyuan__V1__DeviceStatus *)back)->battery_case,
                     ANYUAN__V1__DEVICE_STATUS__BATTERY_BATTERY_PERCENT);
    protobuf_c_message_free_unpacked(back, NULL);
    free(out);
}

static void test_codec_probe_types_round_trip_exactly(void **state)
{
    const char *json =
        "{\"i64\":\"-9223372036854775808\",\"u64\":\"18446744073709551615\","
        "\"s64\":\"-42\",\"f64\":\"9007199254740993\",\"sf64\":\"9223372036854775807\","
        "\"s32\":-2147483648,\"fl\":0.1,\"blob\":\"AAEC/w==\","
        "\"tags\":[\"\",\"中文\",\"b\"],\"nums\":[0,-1,2147483647],"
        "\"text\":\"\",\"childProbe\":{\"fl\":\"NaN\",\"d\":\"-Infinity\"},"
        "\"d\":1e+300}";
    size_t a_len;
    size_t b_len;
    (void)state;

    Probe *p = (Probe *)decode_ok(&probe_descriptor, json);
    assert_int_equal(p->i64, INT64_MIN);
    assert_true(p->u64 == UINT64_MAX);
    assert_int_equal(p->f64, 9007199254740993ULL);
    assert_int_equal(p->blob.len, 4);
    assert_int_equal(p->blob.data[3], 0xff);
    assert_int_equal(p->n_tags, 3);
    assert_string_equal(p->tags[1], "中文");
    assert_int_equal(p->choice_case, 11);
    assert_string_equal(p->text, "");
    char *out = encode_ok(&p->base);
    assert_string_equal(out, json);
    Probe *q = (Probe *)decode_ok(&probe_descriptor, out);
    uint8_t *a = pack(&p->base, &a_len);
    uint8_t *b = pack(&q->base, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    free(a);
    free(b);
    free(out);
    protobuf_c_message_free_unpacked(&q->base, NULL);
    protobuf_c_message_free_unpacked(&p->base, NULL);
}

static void test_codec_64_bit_numbers_are_accepted_only_when_exact(void **state)
{
    (void)state;
    Probe *p = (Probe *)decode_ok(&probe_descriptor, "{\"i64\":-9007199254740991,\"u64\":12}");
    assert_int_equal(p->i64, -9007199254740991LL);
    assert_int_equal(p->u64, 12);
    protobuf_c_message_free_unpacked(&p->base, NULL);
    const char *big = "{\"i64\":9007199254740993}"; /* arrives as 2^53 */
    assert_decode_fails(&probe_descriptor, big, strlen(big), "Probe.i64: 9007199254740992 is not");
}

static void test_codec_bytes_base64_round_trips_every_length(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 7; n++) {
        Probe p;
        uint8_t data[8] = {0xfb, 0xff, 0x00, 0x3e, 0x3f, 0x80, 0x01, 0x7f};
        probe_init(&p);
        p.blob.len = n;
        p.blob.data = data;
        char *out = encode_ok(&p.base);
        Probe *q = (Probe *)decode_ok(&probe_descriptor, out);
        assert_int_equal(q->blob.len, n);
        if (n > 0)
            assert_memory_equal(q->blob.data, data, n);
        protobuf_c_message_free_unpacked(&q->base, NULL);
        free(out);
    }
}

/* ---- bad input ---- */

struct bad_file {
    const char *file; /* under tests/data/invalid/ */
    const char *type; /* ay_msgtype name */
    const char *want; /* substring of the reason, starting with the JSON path */
};

static const struct bad_file bad_files[] = {
    {"notice-unknown-field.json", "notice", "notice.casualtys: unknown field"},
    {"alarm-wrong-type.json", "alarm", "alarm.isTest: expected true or false, got \"yes\""},
    {"alarm-bad-enum.json", "alarm",
     "alarm.kind: unknown value \"ALARM_KIND_EARTHQUAKE\" of anyuan.v1.AlarmKind"},
    {"alarm-bad-time.json", "alarm", "alarm.header.sentAt: expected an RFC 3339 time, got 12"},
    {"hazard-bad-date.json", "hazard",
     "hazard.rectificationDeadline: expected an RFC 3339 time, got \"2026-02-29T09:00:00Z\""},
    {"status-negative-battery.json", "status",
     "status.batteryPercent: -5 is out of range for uint32"},
    {"monthly-fractional-month.json", "monthly", "monthly.month: expected an integer, got 10.5"},
    {"receipt-null-in-array.json", "receipt", "receipt.deadlines[2]: null is not allowed"},
    {"receipt-bad-deadline-kind.json", "receipt",
     "receipt.deadlines[1].kind: unknown value \"LATER\""},
    {"alarm-not-object.json", "alarm", "alarm: expected a JSON object, got an array"},
    {"status-field-twice.json", "status", "status.batteryPercent: field given twice"},
    {"ack-trailing-garbage.json", "ack", "ack: unexpected data after the JSON value"},
    {"notice-bad-utf8.json", "notice", "notice.summary: invalid UTF-8"},
    {"alarm-deep-nesting.json", "alarm", "alarm: invalid JSON near byte"},
    {"notice-phone-as-number.json", "notice",
     "notice.reporter.phone: expected a string, got 13805512345"},
};

static void test_codec_rejects_bad_files_naming_the_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
        char rel[128];
        size_t len;
        snprintf(rel, sizeof(rel), "invalid/%s", bad_files[i].file);
        print_message("%s\n", rel);
        char *json = ayt_read_data(rel, &len);
        assert_decode_fails(ay_msgtype_by_name(bad_files[i].type)->desc, json, len,
                            bad_files[i].want);
        free(json);
    }
}

struct bad_inline {
    const ProtobufCMessageDescriptor *desc;
    const char *json;
    const char *want;
};

static void test_codec_rejects_bad_values_naming_the_field(void **state)
{
    static const struct bad_inline cases[] = {
        {&anyuan__v1__alarm__descriptor, "{\"header\":{\"schemaVersion\":4294967296}}",
         "alarm.header.schemaVersion: 4294967296 is out of range for uint32"},
        {&anyuan__v1__alarm__descriptor, "{\"header\":{\"schemaVersion\":\"1x\"}}",
         "alarm.header.schemaVersion: expected an integer, got \"1x\""},
        {&anyuan__v1__alarm__descriptor, "{\"header\":{\"schemaVersion\":true}}",
         "alarm.header.schemaVersion: expected an integer, got true"},
        {&anyuan__v1__alarm__descriptor, "{\"kind\":99}",
         "alarm.kind: unknown value 99 of anyuan.v1.AlarmKind"},
        {&anyuan__v1__alarm__descriptor, "{\"kind\":1.5}", "alarm.kind: expected an enum value"},
        {&anyuan__v1__alarm__descriptor, "{\"kind\":\"alarm_kind_panic\"}",
         "alarm.kind: unknown value"},
        {&anyuan__v1__alarm__descriptor, "{\"geo\":{\"latitude\":\"north\"}}",
         "alarm.geo.latitude: expected a number, got \"north\""},
        {&anyuan__v1__alarm__descriptor, "{\"geo\":[]}",
         "alarm.geo: expected an object, got an array"},
        {&anyuan__v1__alarm__descriptor, "{\"triggeredAt\":\"2026-11-24T08:15:03.1234567891Z\"}",
         "alarm.triggeredAt: expected an RFC 3339 time"},
        {&anyuan__v1__alarm__descriptor, "{\"triggeredAt\":{\"seconds\":\"1\"}}",
         "alarm.triggeredAt: expected an RFC 3339 time, got an object"},
        {&anyuan__v1__alarm__descriptor, "{\"location\":\"a\\u0000b\"}",
         "alarm: \\u0000 in a string is not allowed"},
        {&anyuan__v1__alarm__descriptor, "{\"location\":\"\\ud800\"}", "alarm: invalid JSON"},
        {&anyuan__v1__alarm__descriptor, "{\"header\":{\"Message_Id\":\"x\"}}",
         "alarm.header.Message_Id: unknown field"},
        {&anyuan__v1__alarm__descriptor, "{\"header\":{\"messageid\":\"x\"}}",
         "alarm.header.messageid: unknown field"},
        {&anyuan__v1__alarm__descriptor, "null", "alarm: expected a JSON object, got null"},
        {&anyuan__v1__alarm__descriptor, "\"alarm\"", "alarm: expected a JSON object"},
        {&anyuan__v1__alarm__descriptor, "", "alarm: invalid JSON"},
        {&anyuan__v1__alarm__descriptor, "{\"kind\":", "alarm: invalid JSON"},
        {&anyuan__v1__alarm__descriptor, "{} {}", "alarm: unexpected data after the JSON value"},
        {&anyuan__v1__device_status__descriptor, "{\"batteryPercent\":[87]}",
         "status.batteryPercent: expected an integer, got an array"},
        {&probe_descriptor, "{\"text\":\"a\",\"count\":1}",
         "Probe.count: only one of a oneof may be set, text is set too"},
        {&probe_descriptor, "{\"u64\":\"18446744073709551616\"}", "Probe.u64: expected an integer"},
        {&probe_descriptor, "{\"u64\":\"-1\"}", "Probe.u64: -1 is out of range for uint64"},
        {&probe_descriptor, "{\"i64\":\"9223372036854775808\"}",
         "Probe.i64: 9223372036854775808 is out of range for int64"},
        {&probe_descriptor, "{\"i64\":\" 1\"}", "Probe.i64: expected an integer"},
        {&probe_descriptor, "{\"i64\":\"\"}", "Probe.i64: expected an integer"},
        {&probe_descriptor, "{\"s32\":2147483648}", "Probe.s32: 2147483648 is out of range"},
        {&probe_descriptor, "{\"fl\":1e39}", "is out of range for float"},
        {&probe_descriptor, "{\"nums\":[1,\"x\"]}", "Probe.nums[1]: expected an integer"},
        {&probe_descriptor, "{\"nums\":{}}", "Probe.nums: expected an array, got an object"},
        {&probe_descriptor, "{\"tags\":[\"ok\",\"\\u00e9\",\"x\",7]}",
         "Probe.tags[3]: expected a string, got 7"},
        {&probe_descriptor, "{\"blob\":\"AAE\"}", "Probe.blob: expected standard base64"},
        {&probe_descriptor, "{\"blob\":\"AAE=A===\"}", "Probe.blob: expected standard base64"},
        {&probe_descriptor, "{\"blob\":\"AAF=\"}", "Probe.blob: expected standard base64"},
        {&probe_descriptor, "{\"blob\":\"-_8=\"}", "Probe.blob: expected standard base64"},
        {&probe_descriptor, "{\"blob\":\"AA==\\n\"}", "Probe.blob: expected standard base64"},
        {&probe_descriptor,
         "{\"childProbe\":{\"childProbe\":{\"nums\":[1],\"tags\":[\"a\"],"
         "\"blob\":\"AA==\",\"text\":\"t\",\"bogus\":1}}}",
         "Probe.childProbe.childProbe.bogus: unknown field"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("%s\n", cases[i].json);
        assert_decode_fails(cases[i].desc, cases[i].json, strlen(cases[i].json), cases[i].want);
    }
}

static void test_codec_rejects_invalid_utf8_in_strings(void **state)
{
    static const char *const bad[] = {
        "\xff",
        "\xc0\xaf", /* overlong '/' */
        "\xe0\x80\xaf",
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe4\xb8",         /* truncated */
        "\x80",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[64];
        snprintf(json, sizeof(json), "{\"location\":\"a%sb\"}", bad[i]);
        assert_decode_fails(&anyuan__v1__alarm__descriptor, json, strlen(json),
                            "alarm.location: invalid UTF-8");
    }
    ProtobufCMessage *m = decode_ok(&anyuan__v1__alarm__descriptor,
                                    "{\"location\":\"\xf0\x9f\x9a\xa8 \xe4\xb8\x9c\xe9\x97\xa8\"}");
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_codec_refuses_json_over_the_size_limit_before_parsing(void **state)
{
    const char *body = "{\"location\":\"gate\"}";
    size_t body_len = strlen(body);
    char *json = malloc(AY_CODEC_MAX_JSON + 2);
    (void)state;

    assert_non_null(json);
    memcpy(json, body, body_len);
    memset(json + body_len, ' ', AY_CODEC_MAX_JSON + 1 - body_len);
    json[AY_CODEC_MAX_JSON + 1] = '\0';
    /* Exactly at the limit: accepted (trailing whitespace is allowed). */
    ProtobufCMessage *m = NULL;
    char err[AY_ERRLEN] = "";
    assert_int_equal(
        ay_codec_from_json(&anyuan__v1__alarm__descriptor, json, AY_CODEC_MAX_JSON, &m, err),
        AY_OK);
    protobuf_c_message_free_unpacked(m, NULL);
    /* One byte more: refused. */
    assert_decode_fails(&anyuan__v1__alarm__descriptor, json, AY_CODEC_MAX_JSON + 1,
                        "alarm: JSON text of 262145 bytes is larger than the limit of 262144");
    free(json);
}

/* Builds {"childProbe":{"childProbe":...{"d":1}...}} with levels objects. */
static char *nested_probe(int levels)
{
    size_t cap = (size_t)levels * 20 + 16;
    char *s = malloc(cap);
    size_t n = 0;

    assert_non_null(s);
    for (int i = 1; i < levels; i++)
        n += (size_t)snprintf(s + n, cap - n, "{\"childProbe\":");
    n += (size_t)snprintf(s + n, cap - n, "{\"d\":1}");
    for (int i = 1; i < levels; i++)
        s[n++] = '}';
    s[n] = '\0';
    return s;
}

static void test_codec_rejects_messages_nested_deeper_than_the_limit(void **state)
{
    (void)state;
    char *ok = nested_probe(AY_CODEC_MAX_DEPTH);
    ProtobufCMessage *m = decode_ok(&probe_descriptor, ok);
    char *out = encode_ok(m);
    assert_string_equal(out, ok);
    free(out);
    free(ok);

    /* One more level below the deepest: refused on input... */
    char *deep = nested_probe(AY_CODEC_MAX_DEPTH + 1);
    assert_decode_fails(&probe_descriptor, deep, strlen(deep), "messages nested deeper than 16");
    free(deep);

    /* ...and on output, for a message built in memory. */
    Probe extra;
    probe_init(&extra);
    Probe *leaf = (Probe *)m;
    while (leaf->child != NULL)
        leaf = leaf->child;
    leaf->child = &extra;
    char err[AY_ERRLEN] = "";
    assert_int_equal(ay_codec_to_json(m, false, &out, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "messages nested deeper than 16"));
    leaf->child = NULL;
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_codec_encoder_refuses_what_json_cannot_carry(void **state)
{
    Anyuan__V1__Alarm alarm = ANYUAN__V1__ALARM__INIT;
    Anyuan__V1__Timestamp ts = ANYUAN__V1__TIMESTAMP__INIT;
    char *out = (char *)(uintptr_t)0x1;
    char err[AY_ERRLEN] = "";
    char bad_utf8[] = "gate \xff";
    (void)state;

    alarm.triggered_at = &ts;
    ts.nanos = 1000000000;
    assert_int_equal(ay_codec_to_json(&alarm.base, false, &out, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "alarm.triggeredAt: time out of range"));
    ts.nanos = 0;
    ts.seconds = 253402300800LL; /* 10000-01-01 */
    assert_int_equal(ay_codec_to_json(&alarm.base, false, &out, err), AY_ERR_INVALID);
    ts.seconds = 0;
    alarm.location = bad_utf8;
    assert_int_equal(ay_codec_to_json(&alarm.base, false, &out, err), AY_ERR_INVALID);
    assert_non_null(strstr(err, "alarm.location: invalid UTF-8"));
    assert_ptr_equal(out, (char *)(uintptr_t)0x1);
    /* Enum values the descriptor does not know go out as numbers, like protobuf. */
    alarm.location = (char *)protobuf_c_empty_string;
    alarm.kind = (Anyuan__V1__AlarmKind)42;
    assert_int_equal(ay_codec_to_json(&alarm.base, false, &out, err), AY_OK);
    assert_string_equal(out, "{\"kind\":42,\"triggeredAt\":\"1970-01-01T00:00:00Z\"}");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_every_example_survives_json_binary_json),
        cmocka_unit_test(test_codec_every_example_survives_protobuf_json_protobuf_bytewise),
        cmocka_unit_test(test_codec_accepts_snake_case_enum_numbers_offsets_and_null),
        cmocka_unit_test(test_codec_omits_proto3_defaults),
        cmocka_unit_test(test_codec_emits_set_oneof_member_even_when_zero),
        cmocka_unit_test(test_codec_probe_types_round_trip_exactly),
        cmocka_unit_test(test_codec_64_bit_numbers_are_accepted_only_when_exact),
        cmocka_unit_test(test_codec_bytes_base64_round_trips_every_length),
        cmocka_unit_test(test_codec_rejects_bad_files_naming_the_field),
        cmocka_unit_test(test_codec_rejects_bad_values_naming_the_field),
        cmocka_unit_test(test_codec_rejects_invalid_utf8_in_strings),
        cmocka_unit_test(test_codec_refuses_json_over_the_size_limit_before_parsing),
        cmocka_unit_test(test_codec_rejects_messages_nested_deeper_than_the_limit),
        cmocka_unit_test(test_codec_encoder_refuses_what_json_cannot_carry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
