/*
 * ay_codec.h - JSON <-> protobuf for every message of the anyuan.v1 contract.
 *
 * Owns: the proto3 JSON mapping, done once, generically, by walking protobuf-c
 * descriptors: lowerCamelCase names (snake_case also accepted on input),
 * enums by value name (or defined number on input), 64-bit integers as
 * decimal strings, bytes as standard base64, anyuan.v1.Timestamp as an
 * RFC 3339 string, oneof members only when set, proto3 defaults omitted.
 * Untrusted input is bounded (AY_CODEC_MAX_JSON bytes, AY_CODEC_MAX_DEPTH
 * message levels) and every string is checked to be UTF-8.
 * Does not own: the meaning of a message (required fields, id syntax, sane
 * times): that is ay_schema.h, run after decoding.
 * Errors: every reason starts with the JSON path of the offending field,
 * rooted at the ay_msgtype name (or the descriptor's short name), e.g.
 *   "alarm.header.sentAt: expected an RFC 3339 time, got 12"
 *   "notice.casualtys: unknown field"
 *   "receipt.deadlines[1].kind: unknown value \"LATER\" of anyuan.v1.DeadlineKind"
 * Threads: thread-safe, except that cJSON records the position of its last
 * syntax error in a global; we never read it, but a race detector may.
 */
#ifndef AY_CODEC_H
#define AY_CODEC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

#include "ay_err.h"

/* Larger input is refused before parsing (cJSON CVE-2023-26819, stack-notes.md "Parsers"). */
#define AY_CODEC_MAX_JSON (256 * 1024)
/* Message nesting levels, the top message counting as 1 (the contract needs 3). */
#define AY_CODEC_MAX_DEPTH 16

/*
 * Decodes len bytes of JSON text (no NUL needed; whitespace may follow the
 * object, nothing else) into a new message of type desc.
 * On AY_OK *out is a new message the caller frees with
 * protobuf_c_message_free_unpacked(*out, NULL). On error (AY_ERR_INVALID for
 * bad input, AY_ERR_NOMEM) nothing is left behind, *out is not written and
 * err names the field by its JSON path.
 * JSON null for a field means its default. Integers of any width are also
 * accepted as decimal strings (as protobuf's own parsers do); a JSON number
 * given for a 64-bit field must be of magnitude < 2^53 (exactly representable
 * in a double), larger values must be strings. A field given twice (e.g. as
 * "sentAt" and "sent_at") and two members of one oneof are errors.
 */
enum ay_err ay_codec_from_json(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                               ProtobufCMessage **out, char err[AY_ERRLEN]);

/* Same from an already parsed cJSON object (borrowed, not changed). No size
 * limit applies here: the caller parsed it. */
enum ay_err ay_codec_from_cjson(const ProtobufCMessageDescriptor *desc, const cJSON *obj,
                                ProtobufCMessage **out, char err[AY_ERRLEN]);

/*
 * Encodes m as JSON text. On AY_OK *out is a new NUL-terminated text the
 * caller frees with free() (cJSON's default allocator; nobody in this project
 * installs cJSON hooks). pretty=false gives one line. On error (AY_ERR_INVALID
 * when m holds something JSON cannot carry: invalid UTF-8, a Timestamp out of
 * range, nesting too deep; AY_ERR_NOMEM) *out is not written and err says why.
 */
enum ay_err ay_codec_to_json(const ProtobufCMessage *m, bool pretty, char **out,
                             char err[AY_ERRLEN]);

/* Same as a tree: on AY_OK *out is a new cJSON tree the caller frees with cJSON_Delete(). */
enum ay_err ay_codec_to_cjson(const ProtobufCMessage *m, cJSON **out, char err[AY_ERRLEN]);

/* ---- internal to lib/ (shared with ay_schema.c so both name fields alike) ---- */

/* A JSON path being built, e.g. "receipt.deadlines[0].dueAt"; truncates safely. */
struct ay__codec_path {
    char buf[200];
    size_t len;
};

/* Starts a path at the ay_msgtype name of desc, else desc->short_name. */
void ay__codec_path_root(struct ay__codec_path *p, const ProtobufCMessageDescriptor *desc);
/* Appends ".<jsonName>" of f / "[i]"; return a mark for ay__codec_path_pop. */
size_t ay__codec_path_field(struct ay__codec_path *p, const ProtobufCFieldDescriptor *f);
size_t ay__codec_path_index(struct ay__codec_path *p, size_t i);
void ay__codec_path_pop(struct ay__codec_path *p, size_t mark);
/* Writes "<path>: <reason>" into err (the codec's and the schema's one form). */
void ay__codec_path_vfail(const struct ay__codec_path *p, char err[AY_ERRLEN], const char *fmt,
                          va_list ap);
/* lowerCamelCase JSON name of a snake_case field name (protobuf's ToJsonName). */
void ay__codec_json_name(const char *snake, char *buf, size_t cap);

/* Present in the proto3 sense: a set oneof member, a non-empty repeated field,
 * a non-NULL message, a non-empty string or bytes, a non-zero number. */
bool ay__codec_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* anyuan.v1.Timestamp (or google.protobuf.Timestamp), shown as RFC 3339 text. */
bool ay__codec_is_timestamp(const ProtobufCMessageDescriptor *desc);

#endif
