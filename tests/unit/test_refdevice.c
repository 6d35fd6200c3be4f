/*
 * test_refdevice.c - the reference device (devices/reference): it reads a
 * profile as `ayctl device add` writes it, what it sends is valid by the
 * backbone's own rules (lib/ay_wire decodes it as JSON, lib/ay_schema
 * accepts it), its ids come from the profile, and its outbox keeps each
 * message durably, in order, until its receipt.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/device.pb-c.h"
#include "anyuan/v1/incident.pb-c.h"
#include "ay_msgtype.h"
#include "ay_schema.h"
#include "ay_time.h"
#include "ay_wire.h"
#include "device.h"

#define DEV "shop-1a2b3c4d"
#define PFX "ay/v1/d01/school/sch-0102/" DEV "/"

static const char profile_json[] =
    "{\"format\": \"anyuan-device-profile/1\", \"deviceId\": \"" DEV "\", \"districtId\": "
    "\"d01\", \"schoolId\": \"sch-0102\", \"kind\": \"nearby_shop\", \"location\": "
    "\"学府路5号\", \"shop\": \"好邻居便利店\", \"heartbeatIntervalS\": 30, \"geo\": "
    "{\"latitude\": 31.8301, \"longitude\": 117.2402}, \"broker\": {\"host\": \"localhost\", "
    "\"mqttsPort\": 18883, \"caFile\": \"/elsewhere/ca.crt\", \"caPem\": \"-----BEGIN "
    "CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}, \"credentials\": {\"clientId\": "
    "\"" DEV "\", \"username\": \"" DEV "\", \"password\": \"s3cret\"}, \"topics\": {\"publish\": "
    "{\"alarm\": \"" PFX "alarm\", \"notice\": \"" PFX "notice\", \"status\": \"" PFX
    "status\"}, \"receipts\": \"ay/v1/d01/receipt/sch-0102/" DEV "\"}}";

static char *tmp_dir(void)
{
    char tmpl[] = "/tmp/test_refdevice.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

static void rm_tree(char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    static char buf[4096];
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void load_profile(const char *dir, struct dev_profile *p)
{
    char path[512], err[DEV_ERRLEN] = "";
    snprintf(path, sizeof(path), "%s/p.json", dir);
    write_text(path, profile_json);
    assert_int_equal(dev_profile_load(path, dir, NULL, p, err), 0);
}

static void test_refdevice_profile_read_as_ayctl_writes_it(void **state)
{
    struct dev_profile p;
    char ca[512];
    char *dir = tmp_dir();
    (void)state;

    load_profile(dir, &p);
    assert_string_equal(p.device_id, DEV);
    assert_string_equal(p.district_id, "d01");
    assert_string_equal(p.school_id, "sch-0102");
    assert_string_equal(p.location, "学府路5号");
    assert_string_equal(p.url, "ssl://localhost:18883");
    assert_string_equal(p.password, "s3cret");
    assert_int_equal(p.heartbeat_s, 30);
    assert_true(p.has_geo);
    assert_string_equal(p.topic_receipts, "ay/v1/d01/receipt/sch-0102/" DEV);
    /* The CA comes from the profile itself, not the operator's path. */
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    assert_string_equal(p.ca_path, ca);
    assert_string_equal(read_text(ca),
                        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    rm_tree(dir);
}

static void test_refdevice_profile_password_file_replaces_the_secret(void **state)
{
    struct dev_profile p;
    char path[512], pw[512], err[DEV_ERRLEN] = "";
    char *dir = tmp_dir();
    (void)state;

    snprintf(path, sizeof(path), "%s/p.json", dir);
    snprintf(pw, sizeof(pw), "%s/pw", dir);
    write_text(path, profile_json);
    write_text(pw, "other-secret\n");
    assert_int_equal(dev_profile_load(path, dir, pw, &p, err), 0);
    assert_string_equal(p.password, "other-secret");
    rm_tree(dir);
}

static void test_refdevice_profile_missing_field_is_named(void **state)
{
    struct dev_profile p;
    char path[512], err[DEV_ERRLEN] = "";
    char *dir = tmp_dir();
    cJSON *j = cJSON_Parse(profile_json);
    (void)state;

    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(j, "topics"), "receipts");
    char *text = cJSON_Print(j);
    snprintf(path, sizeof(path), "%s/p.json", dir);
    write_text(path, text);
    assert_int_equal(dev_profile_load(path, dir, NULL, &p, err), -1);
    assert_non_null(strstr(err, "topics.receipts: missing or not valid"));
    write_text(path, "[1]");
    assert_int_equal(dev_profile_load(path, dir, NULL, &p, err), -1);
    assert_non_null(strstr(err, "not a JSON object"));
    free(text);
    cJSON_Delete(j);
    rm_tree(dir);
}

/* Decodes json as the recorder does (content type application/json) and
 * validates it by the contract's rules; returns the message. */
static ProtobufCMessage *as_backbone_reads(const char *type, const char *json)
{
    enum ay_wire w = AY_WIRE_PROTOBUF;
    ProtobufCMessage *m = NULL;
    char err[AY_ERRLEN] = "";

    assert_int_equal(ay_wire_detect(AY_WIRE_CT_JSON, json, strlen(json), &w, err), AY_OK);
    assert_int_equal(w, AY_WIRE_JSON);
    assert_true(ay_wire_starts_json(json, strlen(json))); /* also right for MQTT 3.1.1 */
    assert_int_equal(ay_wire_decode(ay_msgtype_by_name(type)->desc, w, json, strlen(json), &m, err),
                     AY_OK);
    if (ay_schema_validate(m, ay_time_now_us(), err) != AY_OK)
        fail_msg("%s: %s", type, err);
    return m;
}

static void expect_header(const Anyuan__V1__Header *h, const char *id)
{
    assert_string_equal(h->message_id, id);
    assert_true(ay_schema_uuid_is_valid(id));
    assert_string_equal(h->device_id, DEV);
    assert_string_equal(h->school_id, "sch-0102");
    assert_string_equal(h->district_id, "d01");
    assert_int_equal(h->schema_version, 1);
}

static void test_refdevice_messages_valid_by_the_backbone_rules(void **state)
{
    struct dev_profile p;
    struct dev_msg a = {0}, t = {0}, s = {0}, n = {0};
    char path[512], err[DEV_ERRLEN] = "";
    char *dir = tmp_dir();
    (void)state;

    load_profile(dir, &p);
    assert_int_equal(dev_msg_alarm(&p, false, &a), 0);
    Anyuan__V1__Alarm *alarm = (Anyuan__V1__Alarm *)as_backbone_reads("alarm", a.json);
    expect_header(alarm->header, a.id);
    assert_int_equal(alarm->kind, ANYUAN__V1__ALARM_KIND__ALARM_KIND_PANIC);
    assert_int_equal(alarm->source, ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_NEARBY_SHOP);
    assert_string_equal(alarm->location, "学府路5号");
    assert_non_null(alarm->geo);
    assert_false(alarm->is_test);
    protobuf_c_message_free_unpacked(&alarm->base, NULL);

    assert_int_equal(dev_msg_alarm(&p, true, &t), 0);
    assert_string_not_equal(t.id, a.id); /* a new id for every message */
    alarm = (Anyuan__V1__Alarm *)as_backbone_reads("alarm", t.json);
    assert_true(alarm->is_test);
    protobuf_c_message_free_unpacked(&alarm->base, NULL);

    const char *states[] = {"DEVICE_STATE_ONLINE", "DEVICE_STATE_HEARTBEAT",
                            "DEVICE_STATE_OFFLINE"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(dev_msg_status(&p, states[i], &s), 0);
        Anyuan__V1__DeviceStatus *st =
            (Anyuan__V1__DeviceStatus *)as_backbone_reads("status", s.json);
        expect_header(st->header, s.id);
        assert_int_equal(st->state, (int)i == 0   ? ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_ONLINE
                                    : (int)i == 1 ? ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_HEARTBEAT
                                                  : ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_OFFLINE);
        assert_int_equal(st->heartbeat_interval_s, 30);
        /* mains-powered: absent, not 0 */
        assert_int_equal(st->battery_case, ANYUAN__V1__DEVICE_STATUS__BATTERY__NOT_SET);
        protobuf_c_message_free_unpacked(&st->base, NULL);
        free(s.json);
    }

    /* A notice: the file's body, the device's header (a header in the file
     * is replaced). */
    snprintf(path, sizeof(path), "%s/n.json", dir);
    write_text(path, "{\"header\": {\"messageId\": \"7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a3\", "
                     "\"deviceId\": \"btn-other\"}, \"category\": "
                     "\"INCIDENT_CATEGORY_ACCIDENTAL_INJURY\", \"severity\": \"SEVERITY_IV\", "
                     "\"occurredAt\": \"2026-11-01T10:00:00+08:00\", \"place\": \"操场\", "
                     "\"summary\": \"学生摔伤\", \"reporter\": {\"name\": \"李明\", \"phone\": "
                     "\"0551-62345678\"}}");
    assert_int_equal(dev_msg_notice(&p, path, &n, err), 0);
    Anyuan__V1__IncidentNotice *notice =
        (Anyuan__V1__IncidentNotice *)as_backbone_reads("notice", n.json);
    expect_header(notice->header, n.id);
    assert_string_not_equal(n.id, "7f3a0c52-1b9e-4c1d-9a57-2f8e41d0b6a3");
    assert_string_equal(notice->place, "操场");
    protobuf_c_message_free_unpacked(&notice->base, NULL);

    write_text(path, "not json");
    assert_int_equal(dev_msg_notice(&p, path, &n, err), -1);
    assert_non_null(strstr(err, "n.json: not a JSON object"));
    free(a.json);
    free(t.json);
    free(n.json);
    rm_tree(dir);
}

static void test_refdevice_receipt_read_by_ref_message_id(void **state)
{
    struct dev_receipt r;
    char err[DEV_ERRLEN] = "";
    const char *stored = "{\"header\":{\"messageId\":\"a1d4e7f0-3b6c-4d9e-8f2a-5c8b1e4d7a03\"},"
                         "\"refMessageId\":\"3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21\","
                         "\"status\":\"RECEIPT_STATUS_STORED\",\"reference\":\"d01-17\"}";
    const char *rejected = "{\"refMessageId\":\"3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21\","
                           "\"status\":\"RECEIPT_STATUS_REJECTED\",\"reason\":\"notice.summary: "
                           "required\"}";
    (void)state;

    assert_int_equal(dev_receipt_parse(stored, strlen(stored), &r, err), 0);
    assert_string_equal(r.ref_message_id, "3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21");
    assert_string_equal(r.status, "RECEIPT_STATUS_STORED");
    assert_string_equal(r.reference, "d01-17");
    assert_int_equal(dev_receipt_parse(rejected, strlen(rejected), &r, err), 0);
    assert_string_equal(r.reason, "notice.summary: required");
    assert_int_equal(dev_receipt_parse("\x0a\x02", 2, &r, err), -1);
    assert_non_null(strstr(err, "not a JSON receipt"));
}

static void test_refdevice_outbox_keeps_messages_in_order_until_their_receipt(void **state)
{
    struct dev_outbox o;
    char err[DEV_ERRLEN] = "", path[600];
    char *dir = tmp_dir();
    char *json = NULL;
    size_t len = 0;
    const char *ids[] = {"c0000000-0000-4000-8000-000000000001",
                         "a0000000-0000-4000-8000-000000000002",
                         "b0000000-0000-4000-8000-000000000003"};
    (void)state;

    assert_int_equal(dev_outbox_open(&o, dir, err), 0);
    assert_int_equal(o.n, 0);
    /* Three at once: the clock may give them one time; the outbox orders
     * them all the same. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(dev_outbox_put(&o, ids[i], i == 1 ? "notice" : "alarm", "{\"x\":1}", err),
                         0);
    dev_outbox_close(&o);
    /* A write that never finished and a stranger are not messages. */
    snprintf(path, sizeof(path), "%s/outbox/.tmp-d0000000-0000-4000-8000-000000000004.alarm", dir);
    write_text(path, "{\"x\"");
    snprintf(path, sizeof(path), "%s/outbox/README", dir);
    write_text(path, "hello");

    /* A restart finds them, oldest first, with their kinds and bytes. */
    assert_int_equal(dev_outbox_open(&o, dir, err), 0);
    assert_int_equal(o.n, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(o.e[i].id, ids[i]);
    assert_string_equal(o.e[1].kind, "notice");
    snprintf(path, sizeof(path), "%s/outbox/.tmp-d0000000-0000-4000-8000-000000000004.alarm", dir);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(dev_outbox_read(&o, &o.e[1], &json, &len, err), 0);
    assert_string_equal(json, "{\"x\":1}");
    assert_int_equal(len, 7);
    free(json);

    /* STORED: gone. REJECTED: kept in rejected/ with its reason. */
    assert_int_equal(dev_outbox_done(&o, ids[0], NULL, err), 0);
    assert_int_equal(dev_outbox_done(&o, ids[1], "notice.summary: required", err), 0);
    assert_int_equal(dev_outbox_done(&o, "ffffffff-0000-4000-8000-000000000000", NULL, err), 0);
    assert_int_equal(o.n, 1);
    assert_null(dev_outbox_find(&o, ids[0]));
    snprintf(path, sizeof(path), "%s/outbox/%s.alarm", dir, ids[0]);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/rejected/%s.notice", dir, ids[1]);
    assert_string_equal(read_text(path), "{\"x\":1}");
    snprintf(path, sizeof(path), "%s/rejected/%s.reason", dir, ids[1]);
    assert_string_equal(read_text(path), "notice.summary: required");
    dev_outbox_close(&o);

    assert_int_equal(dev_outbox_open(&o, dir, err), 0);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.e[0].id, ids[2]);
    dev_outbox_close(&o);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refdevice_profile_read_as_ayctl_writes_it),
        cmocka_unit_test(test_refdevice_profile_password_file_replaces_the_secret),
        cmocka_unit_test(test_refdevice_profile_missing_field_is_named),
        cmocka_unit_test(test_refdevice_messages_valid_by_the_backbone_rules),
        cmocka_unit_test(test_refdevice_receipt_read_by_ref_message_id),
        cmocka_unit_test(test_refdevice_outbox_keeps_messages_in_order_until_their_receipt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
