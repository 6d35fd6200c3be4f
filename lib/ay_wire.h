/*
 * ay_wire.h - the two wire forms of every anyuan.v1 message on MQTT: binary
 * protobuf and the proto3 JSON of lib/ay_codec (docs/contract.md 4.1, 4.2, 4.5).
 *
 * Owns: the rule that tells them apart, in this order:
 *   1. the MQTT v5 content type, when there is one (not empty):
 *        "application/json"                             -> JSON
 *        "application/x-protobuf", "application/protobuf" -> protobuf
 *      compared without case, parameters after ';' ignored
 *      ("application/json; charset=utf-8" is JSON); any other is refused;
 *   2. without one (MQTT 3.1.1 clients, v5 clients that set none): JSON if
 *      the payload's FIRST byte is '{' (0x7b), else protobuf. 0x7b read as
 *      a protobuf tag is field 15 with wire type 3 (start group): proto3 has
 *      no groups, no anyuan.v1 message has a field 15 of that kind, and
 *      protobuf-c refuses wire types 3 and 4 outright (test_wire shows it
 *      for every type). Leading whitespace is NOT skipped: 0x0a (LF) is the
 *      tag of field 1 (the header) and 0x7b then its length, 123 bytes, so
 *      "\n{" may well begin a valid protobuf.
 * Decoding and encoding in either form (one codec: ay_codec for JSON,
 * protobuf-c for binary), the content type each form is published with, and
 * the JSON twin of a feed topic ("<topic>/json").
 * Does not own: what a message means (ay_schema), the broker (ay_mqtt).
 * Threads: pure functions; thread-safe.
 */
#ifndef AY_WIRE_H
#define AY_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "ay_err.h"
#include "ay_topic.h"

enum ay_wire {
    AY_WIRE_PROTOBUF = 0, /* binary protobuf: the default */
    AY_WIRE_JSON = 1,     /* proto3 JSON (lib/ay_codec), UTF-8 */
};

/* The content types the backbone publishes with. */
#define AY_WIRE_CT_PROTOBUF "application/x-protobuf"
#define AY_WIRE_CT_JSON     "application/json"
/* A feed's JSON twin is its topic with this suffix. */
#define AY_WIRE_JSON_SUFFIX "/json"

/* "protobuf" or "json" (as stored in wire_format columns). */
const char *ay_wire_name(enum ay_wire w);
/* AY_WIRE_CT_PROTOBUF or AY_WIRE_CT_JSON. */
const char *ay_wire_content_type(enum ay_wire w);
/* Parses "protobuf" or "json" (a command-line value); false otherwise. */
bool ay_wire_parse(const char *s, enum ay_wire *out);

/*
 * The form a content type names. AY_OK: *out written. AY_ERR_NOTFOUND: no
 * content type (NULL, or empty after trimming spaces): use the payload's
 * first byte. AY_ERR_INVALID: a content type the contract does not know;
 * err quotes it (cut and made printable: it comes from outside).
 */
enum ay_err ay_wire_of_content_type(const char *content_type, enum ay_wire *out,
                                    char err[AY_ERRLEN]);

/* Rule 2 alone: the first byte is '{'. */
bool ay_wire_starts_json(const void *payload, size_t len);

/* The whole rule: the content type if there is one, else the first byte.
 * AY_ERR_INVALID (err says why, *out not written) for an unknown content
 * type. */
enum ay_err ay_wire_detect(const char *content_type, const void *payload, size_t len,
                           enum ay_wire *out, char err[AY_ERRLEN]);

/*
 * Decodes len bytes in form w into a new message of type desc. On AY_OK
 * *out is the caller's (protobuf_c_message_free_unpacked). On AY_ERR_INVALID
 * err starts with the type's ay_msgtype name (or its short name):
 *   protobuf: "alarm: payload is not a valid anyuan.v1.Alarm protobuf
 *   message" (plus a hint when the bytes look like JSON after whitespace);
 *   JSON: lib/ay_codec's reason, e.g. "alarm: invalid JSON near byte 17",
 *   "alarm.kind: unknown value ...".
 * AY_ERR_NOMEM. *out is written only on AY_OK.
 */
enum ay_err ay_wire_decode(const ProtobufCMessageDescriptor *desc, enum ay_wire w,
                           const void *payload, size_t len, ProtobufCMessage **out,
                           char err[AY_ERRLEN]);

/*
 * Encodes m in form w: protobuf-c's packing, or one line of proto3 JSON
 * (no NUL counted in *len). On AY_OK *buf is new (free()); AY_ERR_INVALID
 * when JSON cannot carry m (see ay_codec_to_json), AY_ERR_NOMEM.
 */
enum ay_err ay_wire_encode(const ProtobufCMessage *m, enum ay_wire w, uint8_t **buf, size_t *len,
                           char err[AY_ERRLEN]);

/* The topic a feed message of form w goes on: topic itself for protobuf,
 * topic + AY_WIRE_JSON_SUFFIX for JSON. AY_ERR_INVALID when too long. */
enum ay_err ay_wire_topic(const char *topic, enum ay_wire w, char out[AY_TOPIC_MAX]);

/* Whether topic is a JSON twin; *base_len gets the length of the topic it
 * twins. */
bool ay_wire_topic_is_json(const char *topic, size_t *base_len);

#endif
