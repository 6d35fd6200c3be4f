/*
 * fuzz_proto.c - libFuzzer target: a protobuf payload exactly as the recorder
 * takes it from the broker (services/recorder recorder_decode and store.c):
 * protobuf_c_message_unpack, ay_schema_validate, ay_codec_to_cjson.
 *
 * Input: [selector] protobuf bytes. The selector byte picks the topic kind
 * among the inbound types (fuzz_type_pick(sel, true)). Checks beyond
 * "no crash, no leak, no UB": a message the schema accepts can be kept as
 * JSON (the recorder stores that body) and survives a JSON round trip;
 * every refusal has a reason (fuzz.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "ay_codec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[AY_ERRLEN] = "";
    cJSON *body = NULL;

    if (size < 1)
        return 0;
    const struct ay_msgtype *t = fuzz_type_pick(data[0], true);
    ProtobufCMessage *m = protobuf_c_message_unpack(t->desc, NULL, size - 1, data + 1);
    if (m == NULL)
        return 0;
    bool valid = fuzz_check_schema(t, m);
    enum ay_err rc = ay_codec_to_cjson(m, &body, err);
    if (rc == AY_OK) {
        cJSON_Delete(body);
    } else {
        /* Protobuf can carry what JSON cannot (invalid UTF-8, unknown enum
         * numbers, times out of range); the schema refuses all of it. */
        if (valid)
            fuzz_fail("accepted by the schema but ay_codec_to_cjson fails: %s", err);
        fuzz_check_reason(t, "ay_codec_to_cjson", rc, err);
    }
    if (valid)
        fuzz_check_round_trip(t, m, valid);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
