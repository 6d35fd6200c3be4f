/*
 * ay_wire.c - telling protobuf and JSON apart, and coding either; see
 * ay_wire.h for the rule and why the first byte decides.
 */
#include "ay_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ay_codec.h"
#include "ay_msgtype.h"
#include "ay_text.h"

/* Content types quoted in a reason are cut to this many bytes. */
#define CT_QUOTE_MAX 64

static const struct {
    const char *media_type;
    enum ay_wire wire;
} known[] = {
    {AY_WIRE_CT_JSON, AY_WIRE_JSON},
    {AY_WIRE_CT_PROTOBUF, AY_WIRE_PROTOBUF},
    {"application/protobuf", AY_WIRE_PROTOBUF},
};

const char *ay_wire_name(enum ay_wire w)
{
    return w == AY_WIRE_JSON ? "json" : "protobuf";
}

const char *ay_wire_content_type(enum ay_wire w)
{
    return w == AY_WIRE_JSON ? AY_WIRE_CT_JSON : AY_WIRE_CT_PROTOBUF;
}

bool ay_wire_parse(const char *s, enum ay_wire *out)
{
    if (s != NULL && strcmp(s, "json") == 0)
        *out = AY_WIRE_JSON;
    else if (s != NULL && strcmp(s, "protobuf") == 0)
        *out = AY_WIRE_PROTOBUF;
    else
        return false;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

enum ay_err ay_wire_of_content_type(const char *content_type, enum ay_wire *out,
                                    char err[AY_ERRLEN])
{
    const char *p = content_type;

    if (p == NULL)
        return AY_ERR_NOTFOUND;
    while (is_ows(*p))
        p++;
    /* The media type ends at its parameters (RFC 9110 8.3.1). */
    size_t n = strcspn(p, ";");
    while (n > 0 && is_ows(p[n - 1]))
        n--;
    if (n == 0 && p[0] != ';')
        return AY_ERR_NOTFOUND;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strlen(known[i].media_type) == n && strncasecmp(p, known[i].media_type, n) == 0) {
            *out = known[i].wire;
            return AY_OK;
        }
    }
    char quoted[CT_QUOTE_MAX + 1];
    ay_text_sanitize(quoted, sizeof(quoted), content_type);
    for (char *q = quoted; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '"')
            *q = '?';
    ay_errf(err,
            "content type \"%s\" is not supported: send %s, %s (or application/protobuf), or "
            "no content type",
            quoted, AY_WIRE_CT_JSON, AY_WIRE_CT_PROTOBUF);
    return AY_ERR_INVALID;
}

bool ay_wire_starts_json(const void *payload, size_t len)
{
    return len > 0 && ((const unsigned char *)payload)[0] == '{';
}

enum ay_err ay_wire_detect(const char *content_type, const void *payload, size_t len,
                           enum ay_wire *out, char err[AY_ERRLEN])
{
    enum ay_wire w = AY_WIRE_PROTOBUF;
    enum ay_err rc = ay_wire_of_content_type(content_type, &w, err);

    if (rc == AY_ERR_NOTFOUND) {
        w = ay_wire_starts_json(payload, len) ? AY_WIRE_JSON : AY_WIRE_PROTOBUF;
        rc = AY_OK;
    }
    if (rc == AY_OK)
        *out = w;
    return rc;
}

/* JSON after whitespace (or a UTF-8 byte order mark): a sender that meant
 * JSON but did not say so, or put something before the '{'. */
static bool looks_like_json(const unsigned char *p, size_t len)
{
    size_t i = 0;
    if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        i = 3;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < len && p[i] == '{';
}

enum ay_err ay_wire_decode(const ProtobufCMessageDescriptor *desc, enum ay_wire w,
                           const void *payload, size_t len, ProtobufCMessage **out,
                           char err[AY_ERRLEN])
{
    if (w == AY_WIRE_JSON)
        return ay_codec_from_json(desc, payload, len, out, err);
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, payload);
    if (m == NULL) {
        const struct ay_msgtype *t = ay_msgtype_by_desc(desc);
        ay_errf(err, "%s: payload is not a valid %s protobuf message%s",
                t ? t->name : desc->short_name, desc->name,
                looks_like_json(payload, len)
                    ? " (it looks like JSON: send JSON with content type " AY_WIRE_CT_JSON
                      ", or with '{' as its very first byte)"
                    : "");
        return AY_ERR_INVALID;
    }
    *out = m;
    return AY_OK;
}

enum ay_err ay_wire_encode(const ProtobufCMessage *m, enum ay_wire w, uint8_t **buf, size_t *len,
                           char err[AY_ERRLEN])
{
    if (w == AY_WIRE_JSON) {
        char *text = NULL;
        enum ay_err rc = ay_codec_to_json(m, false, &text, err);
        if (rc != AY_OK)
            return rc;
        *len = strlen(text);
        *buf = (uint8_t *)text;
        return AY_OK;
    }
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(n ? n : 1);
    if (b == NULL)
        return AY_ERR_NOMEM;
    protobuf_c_message_pack(m, b);
    *buf = b;
    *len = n;
    return AY_OK;
}

enum ay_err ay_wire_topic(const char *topic, enum ay_wire w, char out[AY_TOPIC_MAX])
{
    int n =
        snprintf(out, AY_TOPIC_MAX, "%s%s", topic, w == AY_WIRE_JSON ? AY_WIRE_JSON_SUFFIX : "");
    return n < 0 || n >= AY_TOPIC_MAX ? AY_ERR_INVALID : AY_OK;
}

bool ay_wire_topic_is_json(const char *topic, size_t *base_len)
{
    size_t n = strlen(topic);
    size_t k = strlen(AY_WIRE_JSON_SUFFIX);
    if (n <= k || strcmp(topic + n - k, AY_WIRE_JSON_SUFFIX) != 0)
        return false;
    *base_len = n - k;
    return true;
}
