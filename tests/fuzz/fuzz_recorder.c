/*
 * fuzz_recorder.c - libFuzzer target: recorder_decode, where untrusted bytes
 * (a topic and a payload from the broker) enter the backbone, then what the
 * recorder makes of them without a database: recorder_decide on a batch of
 * the message and a re-send of it, and the receipts.
 *
 * Uses services/recorder/recorder.h only. It plays the store's part: the
 * facts are those of school sch-0102 of tests/data (device btn-0102-01
 * registered, district d01 with the default policy and its zone, the
 * incident of valid/report.json and the hazard of valid/hazard-update.json
 * known), and what stays PENDING is marked STORED as store.c does after its
 * commit.
 *
 * Input: [selector] then
 *   selector < 0x80: the payload, published on FUZZ_TOPIC_PREFIX followed by
 *     the topic kind of the inbound type the selector picks;
 *   selector >= 0x80: a topic, a NUL, the payload. A topic that is not UTF-8
 *     is skipped: the broker never delivers one (MQTT 5.0 section 1.5.4).
 * Checks beyond "no crash, no leak, no UB" (fuzz.h for the shared ones):
 *   a refusal has a UTF-8 reason (kept as text in dead_letters, sent in the
 *   receipt); an accepted message has a type, an id and a JSON body (store.c
 *   keeps it); the re-send of an accepted message is a DUPLICATE of it and
 *   the re-send of a refused one is refused; every receipt decodes in the
 *   form its message came in and encodes to JSON (ayctl prints it), and
 *   that of a stored or duplicate message passes the schema.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anyuan/v1/hazard.pb-c.h"
#include "ay_codec.h"
#include "ay_policy.h"
#include "ay_schema.h"
#include "ay_text.h"
#include "ay_tzcache.h"
#include "fuzz.h"
#include "recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- what the database would know ---- */

/* Sorted by id, as store.c leaves them. */
static struct recorder_device devices[] = {
    {"app-0102-safety", "sch-0102", "d01", true, false, 0, "校安办"},
    {"btn-0102-01", "sch-0102", "d01", true, false, 60, "东门门卫室"},
};
/* Flagged offline: a status message ends its absence (supervision's paths). */
static struct recorder_dev_state dev_states[] = {
    {"btn-0102-01", true, "5b0e2c1d-7a3f-4e9b-8c6d-2f1a0b9e3d47", false, false, true}};
static struct recorder_district districts[1];
static struct recorder_school schools[] = {{"sch-0102", "测试学校", "Test school"}};
static struct recorder_subject incidents[] = {{"3c6f9a1e-2b4d-4f8a-9e7c-1a5b3d7f9c21", "sch-0102"}};
static struct recorder_subject hazards[] = {{"9d4c1b7e-5f2a-4c8d-b6e3-7a0f4d1c8e52", "sch-0102"}};
/* The hazard registered, its rectification due: updates walk the loop from there. */
static struct recorder_hazard_fact hazard_states[] = {
    {"9d4c1b7e-5f2a-4c8d-b6e3-7a0f4d1c8e52",
     {ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_REGISTERED,
      ANYUAN__V1__HAZARD_GRADE__HAZARD_GRADE_GENERAL,
      ANYUAN__V1__HAZARD_CATEGORY__HAZARD_CATEGORY_BUILDING, false, "李明", "孙海涛", "北教学楼", 1,
      RECORDER_HAZARD_DL_PENDING, FUZZ_NOW_US + 86400000000LL}}};
static struct ay_tzcache *zones; /* lives as long as the process */

static const struct recorder_facts facts = {
    .devices = devices,
    .ndevices = sizeof(devices) / sizeof(devices[0]),
    .districts = districts,
    .ndistricts = sizeof(districts) / sizeof(districts[0]),
    .incidents = incidents,
    .nincidents = sizeof(incidents) / sizeof(incidents[0]),
    .hazards = hazards,
    .nhazards = sizeof(hazards) / sizeof(hazards[0]),
    .schools = schools,
    .dev_states = dev_states,
    .ndev_states = sizeof(dev_states) / sizeof(dev_states[0]),
    .nschools = sizeof(schools) / sizeof(schools[0]),
    .hazard_states = hazard_states,
    .nhazard_states = sizeof(hazard_states) / sizeof(hazard_states[0]),
};

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* District d01 with the default policy in its zone, as store.c loads it. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(districts[0].id, sizeof(districts[0].id), "d01");
    ay_policy_defaults(&districts[0].policy);
    if (ay_tzcache_new(&zones) != AY_OK)
        fuzz_fail("ay_tzcache_new: out of memory");
    districts[0].tz = ay_tzcache_get(zones, districts[0].policy.timezone);
    if (districts[0].tz == NULL)
        fuzz_fail("no time zone \"%s\" (package tzdata)", districts[0].policy.timezone);
    return 0;
}

/* ---- checks ---- */

static void check_decoded(const struct recorder_item *it, const char *topic)
{
    char err[AY_ERRLEN] = "";
    cJSON *body = NULL;

    if (it->outcome != it->decoded)
        fuzz_fail("outcome %d differs from decoded %d", (int)it->outcome, (int)it->decoded);
    if (it->outcome == RECORDER_REJECTED)
        return;
    if (it->outcome != RECORDER_PENDING)
        fuzz_fail("recorder_decode gave outcome %d", (int)it->outcome);
    if (it->msg == NULL || it->type == NULL || it->type->direction != AY_DIR_INBOUND ||
        !ay_schema_uuid_is_valid(it->msg_id))
        fuzz_fail("accepted without a message, an inbound type or an id (topic \"%s\")", topic);
    if (ay_codec_to_cjson(it->msg, &body, err) != AY_OK)
        fuzz_fail("accepted, but its body cannot be kept as JSON: %s", err);
    cJSON_Delete(body);
}

static void check_text(const char *what, const char *text, size_t cap, bool must_have)
{
    size_t len = strnlen(text, cap);

    if (len == cap)
        fuzz_fail("%s is not NUL-terminated", what);
    if (must_have && len == 0)
        fuzz_fail("%s is empty", what);
    if (!ay_text_utf8_is_valid(text, len))
        fuzz_fail("%s is not UTF-8: \"%s\"", what, text);
}

/* The receipt an item's sender gets must be readable, and valid when stored. */
static void check_receipt(const struct recorder_item *it)
{
    const struct ay_msgtype *rt = ay_msgtype_by_name("receipt");
    char topic[AY_TOPIC_MAX];
    char err[AY_ERRLEN] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    char *json = NULL;

    enum ay_err rc = recorder_receipt_pack(it, "svc-recorder", FUZZ_NOW_US, &buf, &len, topic);
    if (rc == AY_ERR_NOTFOUND && (!it->topic_ok || it->where.cls != AY_TOPIC_SCHOOL))
        return; /* no device to answer: the dead letter is the only trace */
    if (rc != AY_OK)
        fuzz_fail("recorder_receipt_pack: %s for a message on a device's topic", ay_strerror(rc));
    ProtobufCMessage *r = NULL;
    if (ay_wire_decode(rt->desc, it->wire, buf, len, &r, err) != AY_OK)
        fuzz_fail("the receipt does not decode in the sender's form (%s): %s",
                  ay_wire_name(it->wire), err);
    if (ay_codec_to_json(r, false, &json, err) != AY_OK)
        fuzz_fail("the receipt does not encode to JSON: %s", err);
    if (it->outcome != RECORDER_REJECTED && ay_schema_validate(r, FUZZ_NOW_US, err) != AY_OK)
        fuzz_fail("the receipt of a stored message is not valid: %s\n%s", err, json);
    free(json);
    protobuf_c_message_free_unpacked(r, NULL);
    free(buf);
}

/* A batch of the message and its re-send, decided as store.c does. */
static void check_batch(struct recorder_item *first, struct recorder_item *again)
{
    struct recorder_item *batch[2] = {first, again};

    recorder_decide(batch, 2, &facts);
    if (first->outcome == RECORDER_PENDING) {
        if (first->ndeadlines < 0 || first->ndeadlines > RECORDER_DEADLINES_MAX)
            fuzz_fail("%d deadlines planned", first->ndeadlines);
        if (again->outcome != RECORDER_DUPLICATE || again->copy_of != first)
            fuzz_fail("a re-send in the same batch is not a duplicate (outcome %d): %s",
                      (int)again->outcome, again->reason);
        first->outcome = RECORDER_STORED;
        first->record_id = 1;
        first->stored_us = FUZZ_NOW_US;
        again->record_id = 1;
        again->stored_us = FUZZ_NOW_US;
    } else if (first->outcome != RECORDER_REJECTED) {
        fuzz_fail("recorder_decide gave outcome %d to a new message", (int)first->outcome);
    } else if (again->outcome != RECORDER_REJECTED) {
        fuzz_fail("a refused message is not refused when sent again (outcome %d)",
                  (int)again->outcome);
    }
    for (int i = 0; i < 2; i++) {
        if (batch[i]->outcome == RECORDER_REJECTED)
            check_text("a reason", batch[i]->reason, sizeof(batch[i]->reason), true);
        check_text("a warning", batch[i]->warning, sizeof(batch[i]->warning), false);
        check_receipt(batch[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char topic[AY_TOPIC_MAX + 64];
    const uint8_t *payload;
    size_t len;

    if (size < 1)
        return 0;
    if (data[0] < 0x80) {
        const struct ay_msgtype *t = fuzz_type_pick(data[0], true);
        snprintf(topic, sizeof(topic), "%s%s", FUZZ_TOPIC_PREFIX, t->topic_kind);
        payload = data + 1;
        len = size - 1;
    } else {
        const uint8_t *nul = memchr(data + 1, '\0', size - 1);
        size_t tlen = nul != NULL ? (size_t)(nul - (data + 1)) : 0;
        if (nul == NULL || tlen >= sizeof(topic) ||
            !ay_text_utf8_is_valid((const char *)data + 1, tlen))
            return 0;
        memcpy(topic, data + 1, tlen);
        topic[tlen] = '\0';
        payload = nul + 1;
        len = size - (size_t)(payload - data);
    }
    struct recorder_item *first = recorder_item_new(topic, payload, len, FUZZ_NOW_US, false);
    struct recorder_item *again = recorder_item_new(topic, payload, len, FUZZ_NOW_US, false);
    if (first == NULL || again == NULL)
        fuzz_fail("recorder_item_new: out of memory");
    recorder_decode(first, FUZZ_NOW_US);
    recorder_decode(again, FUZZ_NOW_US);
    check_decoded(first, topic);
    check_batch(first, again);
    recorder_item_free(first);
    recorder_item_free(again);
    return 0;
}
