/*
 * fuzz_json.c - libFuzzer target: the JSON codec and the schema, for every
 * message type of the contract (ayctl and the JSON side of every gateway
 * decode untrusted JSON this way).
 *
 * Input: [selector] JSON text. The selector byte picks the type
 * (fuzz_type_pick over all of ay_msgtype_all()). The text goes through
 * ay_codec_from_json; a decoded message through ay_schema_validate (strict
 * and AY_SCHEMA_ANY_CLOCK) and a JSON round trip (fuzz.h states the checks).
 */
#include <stdint.h>
#include <stdlib.h>

#include "ay_codec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ProtobufCMessage *m = NULL;
    char err[AY_ERRLEN] = "";

    if (size < 1)
        return 0;
    const struct ay_msgtype *t = fuzz_type_pick(data[0], false);
    enum ay_err rc = ay_codec_from_json(t->desc, (const char *)data + 1, size - 1, &m, err);
    if (rc != AY_OK) {
        fuzz_check_reason(t, "ay_codec_from_json", rc, err);
        return 0;
    }
    /* A message decoded from JSON always encodes: everything JSON can carry
     * is checked on the way in (UTF-8, time range, depth). */
    fuzz_check_round_trip(t, m, fuzz_check_schema(t, m));
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
