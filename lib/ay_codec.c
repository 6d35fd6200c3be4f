/*
 * ay_codec.c - the generic proto3 JSON mapping over protobuf-c descriptors.
 *
 * Owns: decoding (JSON -> message) and encoding (message -> JSON) of any
 * message, driven only by ProtobufCMessageDescriptor / ProtobufCFieldDescriptor
 * / ProtobufCEnumDescriptor, so a field added to proto/ needs no code here.
 *
 * Memory: a decoded message must be freeable by
 * protobuf_c_message_free_unpacked(m, NULL) at every moment, including half
 * way through a failed decode. So every message is malloc'd and initialised
 * with protobuf_c_message_init; strings, bytes, arrays and submessages are
 * malloc'd and stored only once complete; a repeated field's count grows one
 * finished element at a time; a oneof case is set only after its member.
 * Empty singular proto3 strings keep the descriptor default
 * (protobuf_c_empty_string), which free_unpacked knows not to free.
 *
 * Enforces: nothing of domain.md; it only makes sure bad bytes become
 * AY_ERR_INVALID with a reason naming the field (style.md section 4).
 */
#include "ay_codec.h"
#include "ay_text.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_msgtype.h"
#include "ay_time.h"

/* 2^53: below it every integer read as a double is the integer that was written. */
#define EXACT_DOUBLE_INT 9007199254740992.0
#define JSON_NAME_MAX    128

struct walk {
    struct ay__codec_path path;
    char *err;
    int depth;
};

/* ---- paths and reasons ---- */

void ay__codec_json_name(const char *snake, char *buf, size_t cap)
{
    size_t n = 0;
    bool upper = false;

    if (cap == 0)
        return;
    for (const char *s = snake; *s != '\0' && n + 1 < cap; s++) {
        if (*s == '_') {
            upper = true;
            continue;
        }
        buf[n++] = (upper && *s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s;
        upper = false;
    }
    buf[n] = '\0';
}

static void path_append(struct ay__codec_path *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void path_append(struct ay__codec_path *p, const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof(p->buf) - p->len;

    va_start(ap, fmt);
    int n = vsnprintf(p->buf + p->len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        p->len += (size_t)n < room ? (size_t)n : room - 1;
}

void ay__codec_path_root(struct ay__codec_path *p, const ProtobufCMessageDescriptor *desc)
{
    const struct ay_msgtype *t = ay_msgtype_by_desc(desc);

    p->len = 0;
    p->buf[0] = '\0';
    path_append(p, "%s", t != NULL ? t->name : desc->short_name);
}

size_t ay__codec_path_field(struct ay__codec_path *p, const ProtobufCFieldDescriptor *f)
{
    char name[JSON_NAME_MAX];
    size_t mark = p->len;

    ay__codec_json_name(f->name, name, sizeof(name));
    path_append(p, ".%s", name);
    return mark;
}

size_t ay__codec_path_index(struct ay__codec_path *p, size_t i)
{
    size_t mark = p->len;

    path_append(p, "[%zu]", i);
    return mark;
}

void ay__codec_path_pop(struct ay__codec_path *p, size_t mark)
{
    p->len = mark;
    p->buf[mark] = '\0';
}

/* Writes "<path>: <reason>" into the caller's err and returns rc. */
static enum ay_err fail(struct walk *w, enum ay_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void ay__codec_path_vfail(const struct ay__codec_path *p, char err[AY_ERRLEN], const char *fmt,
                          va_list ap)
{
    char reason[AY_ERRLEN];

    vsnprintf(reason, sizeof(reason), fmt, ap);
    ay_errf(err, "%s: %s", p->buf, reason);
}

static enum ay_err fail(struct walk *w, enum ay_err rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ay__codec_path_vfail(&w->path, w->err, fmt, ap);
    va_end(ap);
    return rc;
}

static enum ay_err nomem(struct walk *w)
{
    return fail(w, AY_ERR_NOMEM, "out of memory");
}

/* Copies s for an error text: printable ASCII kept, anything else shown as '?'. */
static void sanitize(const char *s, char *buf, size_t cap)
{
    size_t n = 0;

    for (; *s != '\0' && n + 4 < cap; s++)
        buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (*s != '\0') {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

/* A short description of a JSON value for "got ..." in reasons. */
static void describe(const cJSON *j, char *buf, size_t cap)
{
    char s[48];

    if (cJSON_IsString(j)) {
        sanitize(j->valuestring, s, sizeof(s));
        snprintf(buf, cap, "\"%s\"", s);
    } else if (cJSON_IsNumber(j)) {
        snprintf(buf, cap, "%.17g", j->valuedouble);
    } else if (cJSON_IsBool(j)) {
        snprintf(buf, cap, "%s", cJSON_IsTrue(j) ? "true" : "false");
    } else if (cJSON_IsNull(j)) {
        snprintf(buf, cap, "null");
    } else if (cJSON_IsArray(j)) {
        snprintf(buf, cap, "an array");
    } else {
        snprintf(buf, cap, "an object");
    }
}

static enum ay_err wrong_type(struct walk *w, const char *expected, const cJSON *j)
{
    char got[64];

    describe(j, got, sizeof(got));
    return fail(w, AY_ERR_INVALID, "expected %s, got %s", expected, got);
}

/* ---- descriptor helpers ---- */

bool ay__codec_is_timestamp(const ProtobufCMessageDescriptor *desc)
{
    return strcmp(desc->name, "anyuan.v1.Timestamp") == 0 ||
           strcmp(desc->name, "google.protobuf.Timestamp") == 0;
}

static bool is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

/* Bytes one value of type t occupies in a message or a repeated array. */
static size_t value_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default: /* 32-bit integers, float, enum (protobuf-c stores enums as int) */
        return 4;
    }
}

bool ay__codec_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)m;
    const char *member = base + f->offset;
    static const char zero[sizeof(ProtobufCBinaryData)];

    if (is_oneof(f)) {
        uint32_t c;
        memcpy(&c, base + f->quantifier_offset, sizeof(c));
        return c == f->id;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n;
        memcpy(&n, base + f->quantifier_offset, sizeof(n));
        return n != 0;
    }
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        const char *s;
        memcpy(&s, member, sizeof(s));
        return s != NULL && s[0] != '\0';
    }
    if (f->type == PROTOBUF_C_TYPE_BYTES)
        return ((const ProtobufCBinaryData *)(const void *)member)->len != 0;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return memcmp(member, zero, sizeof(void *)) != 0;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) { /* proto2-style has_ flag */
        protobuf_c_boolean has;
        memcpy(&has, base + f->quantifier_offset, sizeof(has));
        return has != 0;
    }
    return memcmp(member, zero, value_size(f->type)) != 0;
}

/* ---- decoding: numbers ---- */

/* An integer read from JSON as sign and magnitude, before range checks. */
struct jint {
    bool neg;
    uint64_t mag;
};

static bool jint_from_string(const char *s, struct jint *v)
{
    v->neg = *s == '-';
    v->mag = 0;
    if (v->neg)
        s++;
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v->mag > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        v->mag = v->mag * 10 + (uint64_t)(*s - '0');
    }
    if (v->mag == 0)
        v->neg = false;
    return true;
}

/* A JSON number or decimal string holding an exact integer. */
static enum ay_err read_jint(struct walk *w, const cJSON *j, struct jint *v)
{
    if (cJSON_IsString(j)) {
        if (!jint_from_string(j->valuestring, v))
            return wrong_type(w, "an integer", j);
        return AY_OK;
    }
    if (!cJSON_IsNumber(j))
        return wrong_type(w, "an integer", j);
    double d = j->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return wrong_type(w, "an integer", j);
    if (fabs(d) >= EXACT_DOUBLE_INT) /* 2^53 + 1 already arrived as 2^53 */
        return fail(w, AY_ERR_INVALID, "%.17g is not exact as a JSON number; send it as a string",
                    d);
    v->neg = d < 0;
    v->mag = (uint64_t)fabs(d);
    return AY_OK;
}

/* Range-checks v for f's integer type and stores it at member. */
static enum ay_err store_int(struct walk *w, const ProtobufCFieldDescriptor *f, struct jint v,
                             void *member)
{
    bool is64 = value_size(f->type) == 8;
    bool is_unsigned = f->type == PROTOBUF_C_TYPE_UINT32 || f->type == PROTOBUF_C_TYPE_FIXED32 ||
                       f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_FIXED64;
    uint64_t max = is_unsigned ? (is64 ? UINT64_MAX : UINT32_MAX) : (is64 ? INT64_MAX : INT32_MAX);
    uint64_t max_neg = is_unsigned ? 0 : max + 1;

    if ((v.neg && v.mag > max_neg) || (!v.neg && v.mag > max))
        return fail(w, AY_ERR_INVALID, "%s%" PRIu64 " is out of range for %s%d", v.neg ? "-" : "",
                    v.mag, is_unsigned ? "uint" : "int", is64 ? 64 : 32);
    if (is_unsigned && is64) {
        memcpy(member, &v.mag, 8);
    } else if (is_unsigned) {
        uint32_t u = (uint32_t)v.mag;
        memcpy(member, &u, 4);
    } else {
        /* -2^63 has no positive counterpart; build it from -(2^63 - 1) - 1. */
        int64_t s = v.neg ? -(int64_t)(v.mag - 1) - 1 : (int64_t)v.mag;
        int32_t s32 = (int32_t)s;
        memcpy(member, is64 ? (void *)&s : (void *)&s32, is64 ? 8 : 4);
    }
    return AY_OK;
}

static enum ay_err dec_float(struct walk *w, const ProtobufCFieldDescriptor *f, const cJSON *j,
                             void *member)
{
    double d;

    if (cJSON_IsNumber(j)) {
        d = j->valuedouble;
    } else if (cJSON_IsString(j) && strcmp(j->valuestring, "NaN") == 0) {
        d = NAN;
    } else if (cJSON_IsString(j) && strcmp(j->valuestring, "Infinity") == 0) {
        d = INFINITY;
    } else if (cJSON_IsString(j) && strcmp(j->valuestring, "-Infinity") == 0) {
        d = -INFINITY;
    } else {
        return wrong_type(w, "a number", j);
    }
    if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
        memcpy(member, &d, sizeof(d));
        return AY_OK;
    }
    if (isfinite(d) && fabs(d) > FLT_MAX)
        return fail(w, AY_ERR_INVALID, "%.17g is out of range for float", d);
    float fl = (float)d;
    memcpy(member, &fl, sizeof(fl));
    return AY_OK;
}

static enum ay_err dec_enum(struct walk *w, const ProtobufCFieldDescriptor *f, const cJSON *j,
                            void *member)
{
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    const ProtobufCEnumValue *ev = NULL;
    char got[64];

    if (cJSON_IsString(j)) {
        ev = protobuf_c_enum_descriptor_get_value_by_name(ed, j->valuestring);
    } else if (cJSON_IsNumber(j) && j->valuedouble == floor(j->valuedouble) &&
               fabs(j->valuedouble) <= INT32_MAX) {
        ev = protobuf_c_enum_descriptor_get_value(ed, (int)j->valuedouble);
    } else {
        return wrong_type(w, "an enum value name", j);
    }
    if (ev == NULL) {
        describe(j, got, sizeof(got));
        return fail(w, AY_ERR_INVALID, "unknown value %s of %s", got, ed->name);
    }
    int v = ev->value;
    memcpy(member, &v, sizeof(v));
    return AY_OK;
}

/* ---- decoding: strings, bytes, messages ---- */

/* keep_empty: store "" as a malloc'd string (repeated and oneof members);
 * otherwise an empty string leaves the descriptor default in place. */
static enum ay_err dec_string(struct walk *w, const cJSON *j, bool keep_empty, void *member)
{
    if (!cJSON_IsString(j))
        return wrong_type(w, "a string", j);
    size_t len = strlen(j->valuestring);
    if (!ay_text_utf8_is_valid(j->valuestring, len))
        return fail(w, AY_ERR_INVALID, "invalid UTF-8 in string");
    if (len == 0 && !keep_empty)
        return AY_OK;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return nomem(w);
    memcpy(copy, j->valuestring, len + 1);
    memcpy(member, &copy, sizeof(copy));
    return AY_OK;
}

static enum ay_err dec_bytes(struct walk *w, const cJSON *j, void *member)
{
    ProtobufCBinaryData bd = {0, NULL};

    if (!cJSON_IsString(j))
        return wrong_type(w, "a base64 string", j);
    enum ay_err rc =
        ay_text_base64_decode(j->valuestring, strlen(j->valuestring), &bd.data, &bd.len);
    if (rc == AY_ERR_NOMEM)
        return nomem(w);
    if (rc != AY_OK)
        return wrong_type(w, "standard base64 with padding", j);
    memcpy(member, &bd, sizeof(bd));
    return AY_OK;
}

static const ProtobufCFieldDescriptor *field_by_name(const ProtobufCMessageDescriptor *desc,
                                                     const char *name)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        if (strcmp(desc->fields[i].name, name) == 0)
            return &desc->fields[i];
    }
    return NULL;
}

static enum ay_err dec_timestamp(struct walk *w, const ProtobufCMessageDescriptor *desc,
                                 const cJSON *j, ProtobufCMessage **out)
{
    const ProtobufCFieldDescriptor *fs = field_by_name(desc, "seconds");
    const ProtobufCFieldDescriptor *fn = field_by_name(desc, "nanos");
    int64_t secs;
    int32_t nanos;

    if (!cJSON_IsString(j) || ay_time_parse_rfc3339(j->valuestring, &secs, &nanos) != AY_OK)
        return wrong_type(w, "an RFC 3339 time", j);
    ProtobufCMessage *m = malloc(desc->sizeof_message);
    if (m == NULL)
        return nomem(w);
    protobuf_c_message_init(desc, m);
    memcpy((char *)m + fs->offset, &secs, sizeof(secs));
    memcpy((char *)m + fn->offset, &nanos, sizeof(nanos));
    *out = m;
    return AY_OK;
}

static enum ay_err dec_message(struct walk *w, const ProtobufCMessageDescriptor *desc,
                               const cJSON *obj, ProtobufCMessage **out);

/* Decodes one value of f's type from j into member (a field or an array slot). */
static enum ay_err dec_value(struct walk *w, const ProtobufCFieldDescriptor *f, const cJSON *j,
                             bool keep_empty, void *member)
{
    struct jint v = {0};
    protobuf_c_boolean b;
    enum ay_err rc;

    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        if (!cJSON_IsBool(j))
            return wrong_type(w, "true or false", j);
        b = cJSON_IsTrue(j) ? 1 : 0;
        memcpy(member, &b, sizeof(b));
        return AY_OK;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return dec_float(w, f, j, member);
    case PROTOBUF_C_TYPE_ENUM:
        return dec_enum(w, f, j, member);
    case PROTOBUF_C_TYPE_STRING:
        return dec_string(w, j, keep_empty, member);
    case PROTOBUF_C_TYPE_BYTES:
        return dec_bytes(w, j, member);
    case PROTOBUF_C_TYPE_MESSAGE:
        if (ay__codec_is_timestamp(f->descriptor))
            return dec_timestamp(w, f->descriptor, j, member);
        return dec_message(w, f->descriptor, j, member);
    default:
        rc = read_jint(w, j, &v);
        return rc != AY_OK ? rc : store_int(w, f, v, member);
    }
}

static enum ay_err dec_repeated(struct walk *w, const ProtobufCFieldDescriptor *f, const cJSON *j,
                                ProtobufCMessage *m)
{
    char *base = (char *)m;
    size_t size = value_size(f->type);
    size_t count = 0;
    enum ay_err rc = AY_OK;

    if (!cJSON_IsArray(j))
        return wrong_type(w, "an array", j);
    int n = cJSON_GetArraySize(j);
    if (n == 0)
        return AY_OK;
    char *arr = calloc((size_t)n, size);
    if (arr == NULL)
        return nomem(w);
    /* From here the message owns arr: free_unpacked frees it and its first count elements. */
    memcpy(base + f->offset, &arr, sizeof(arr));
    memcpy(base + f->quantifier_offset, &count, sizeof(count));
    for (const cJSON *e = j->child; e != NULL; e = e->next) {
        size_t mark = ay__codec_path_index(&w->path, count);
        if (cJSON_IsNull(e))
            rc = fail(w, AY_ERR_INVALID, "null is not allowed in an array");
        else
            rc = dec_value(w, f, e, true, arr + count * size);
        if (rc != AY_OK)
            return rc;
        ay__codec_path_pop(&w->path, mark);
        count++;
        memcpy(base + f->quantifier_offset, &count, sizeof(count));
    }
    return AY_OK;
}

/* Decodes JSON value j (not null) into field f of m. */
static enum ay_err dec_field(struct walk *w, const ProtobufCFieldDescriptor *f, const cJSON *j,
                             ProtobufCMessage *m)
{
    char *base = (char *)m;

    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return dec_repeated(w, f, j, m);
    if (is_oneof(f)) {
        uint32_t c;
        memcpy(&c, base + f->quantifier_offset, sizeof(c));
        if (c != 0) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(m->descriptor, c);
            char name[JSON_NAME_MAX];
            ay__codec_json_name(other != NULL ? other->name : "?", name, sizeof(name));
            return fail(w, AY_ERR_INVALID, "only one of a oneof may be set, %s is set too", name);
        }
    }
    enum ay_err rc = dec_value(w, f, j, is_oneof(f), base + f->offset);
    if (rc != AY_OK)
        return rc;
    if (is_oneof(f)) {
        uint32_t c = f->id;
        memcpy(base + f->quantifier_offset, &c, sizeof(c));
    } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
               f->type != PROTOBUF_C_TYPE_MESSAGE) {
        protobuf_c_boolean has = 1;
        memcpy(base + f->quantifier_offset, &has, sizeof(has));
    }
    return AY_OK;
}

/* The field a JSON key names: its lowerCamelCase JSON name or its proto name. */
static const ProtobufCFieldDescriptor *field_by_key(const ProtobufCMessageDescriptor *desc,
                                                    const char *key)
{
    char name[JSON_NAME_MAX];

    for (unsigned i = 0; i < desc->n_fields; i++) {
        ay__codec_json_name(desc->fields[i].name, name, sizeof(name));
        if (strcmp(name, key) == 0 || strcmp(desc->fields[i].name, key) == 0)
            return &desc->fields[i];
    }
    return NULL;
}

static enum ay_err dec_members(struct walk *w, const ProtobufCMessageDescriptor *desc,
                               const cJSON *obj, ProtobufCMessage *m, unsigned char *seen)
{
    for (const cJSON *j = obj->child; j != NULL; j = j->next) {
        const ProtobufCFieldDescriptor *f = j->string ? field_by_key(desc, j->string) : NULL;
        char key[48];
        if (f == NULL) {
            sanitize(j->string != NULL ? j->string : "?", key, sizeof(key));
            path_append(&w->path, ".%s", key);
            return fail(w, AY_ERR_INVALID, "unknown field");
        }
        size_t mark = ay__codec_path_field(&w->path, f);
        if (seen[f - desc->fields]++)
            return fail(w, AY_ERR_INVALID, "field given twice");
        if (!cJSON_IsNull(j)) {
            enum ay_err rc = dec_field(w, f, j, m);
            if (rc != AY_OK)
                return rc;
        }
        ay__codec_path_pop(&w->path, mark);
    }
    return AY_OK;
}

static enum ay_err dec_message(struct walk *w, const ProtobufCMessageDescriptor *desc,
                               const cJSON *obj, ProtobufCMessage **out)
{
    ProtobufCMessage *m = NULL;
    unsigned char *seen = NULL;
    enum ay_err rc;

    if (!cJSON_IsObject(obj))
        return wrong_type(w, "an object", obj);
    if (w->depth >= AY_CODEC_MAX_DEPTH)
        return fail(w, AY_ERR_INVALID, "messages nested deeper than %d levels", AY_CODEC_MAX_DEPTH);
    m = malloc(desc->sizeof_message);
    seen = calloc(desc->n_fields + 1, 1);
    if (m == NULL || seen == NULL) {
        free(m);
        m = NULL;
        rc = nomem(w);
        goto cleanup;
    }
    protobuf_c_message_init(desc, m);
    w->depth++;
    rc = dec_members(w, desc, obj, m, seen);
    w->depth--;
    if (rc == AY_OK) {
        *out = m;
        m = NULL;
    }
cleanup:
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    free(seen);
    return rc;
}

/* ---- decoding: entry points ---- */

enum ay_err ay_codec_from_cjson(const ProtobufCMessageDescriptor *desc, const cJSON *obj,
                                ProtobufCMessage **out, char err[AY_ERRLEN])
{
    struct walk w = {.err = err};

    ay__codec_path_root(&w.path, desc);
    if (!cJSON_IsObject(obj))
        return wrong_type(&w, "a JSON object", obj);
    return dec_message(&w, desc, obj, out);
}

/* Does a string in the text contain the escape \u0000? cJSON would silently
 * cut the string there, so such text is refused rather than truncated. */
static bool has_nul_escape(const char *s, size_t len)
{
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            in_string = !in_string;
        } else if (in_string && s[i] == '\\' && i + 1 < len) {
            if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
                return true;
            i++; /* skip the escaped character, which may be '"' */
        }
    }
    return false;
}

enum ay_err ay_codec_from_json(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                               ProtobufCMessage **out, char err[AY_ERRLEN])
{
    struct walk w = {.err = err};
    const char *end = NULL;
    cJSON *root = NULL;
    enum ay_err rc;

    ay__codec_path_root(&w.path, desc);
    if (json == NULL)
        return fail(&w, AY_ERR_INVALID, "no JSON text");
    if (len > AY_CODEC_MAX_JSON)
        return fail(&w, AY_ERR_INVALID, "JSON text of %zu bytes is larger than the limit of %d",
                    len, AY_CODEC_MAX_JSON);
    if (has_nul_escape(json, len))
        return fail(&w, AY_ERR_INVALID, "\\u0000 in a string is not allowed");
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (root == NULL) {
        size_t at = (end != NULL && end >= json && end <= json + len) ? (size_t)(end - json) : 0;
        return fail(&w, AY_ERR_INVALID, "invalid JSON near byte %zu", at);
    }
    while (end < json + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end < json + len) {
        rc = fail(&w, AY_ERR_INVALID, "unexpected data after the JSON value at byte %zu",
                  (size_t)(end - json));
        goto cleanup;
    }
    rc = ay_codec_from_cjson(desc, root, out, err);
cleanup:
    cJSON_Delete(root);
    return rc;
}

/* ---- encoding ---- */

/* The double closest to f that prints shortest and still reads back as f. */
static double float_to_double(float f)
{
    char buf[32];

    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
        double d = strtod(buf, NULL);
        if ((float)d == f)
            return d;
    }
    return (double)f;
}

static cJSON *enc_number(double d)
{
    if (isnan(d))
        return cJSON_CreateString("NaN");
    if (isinf(d))
        return cJSON_CreateString(d > 0 ? "Infinity" : "-Infinity");
    return cJSON_CreateNumber(d);
}

static cJSON *enc_int(ProtobufCType t, const void *member)
{
    char buf[32];
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;

    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        memcpy(&i32, member, 4);
        return cJSON_CreateNumber(i32);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        memcpy(&u32, member, 4);
        return cJSON_CreateNumber(u32);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        memcpy(&u64, member, 8);
        snprintf(buf, sizeof(buf), "%" PRIu64, u64);
        return cJSON_CreateString(buf);
    default: /* int64, sint64, sfixed64 */
        memcpy(&i64, member, 8);
        snprintf(buf, sizeof(buf), "%" PRId64, i64);
        return cJSON_CreateString(buf);
    }
}

static enum ay_err enc_timestamp(struct walk *w, const ProtobufCMessage *m, cJSON **out)
{
    const ProtobufCFieldDescriptor *fs = field_by_name(m->descriptor, "seconds");
    const ProtobufCFieldDescriptor *fn = field_by_name(m->descriptor, "nanos");
    char buf[AY_TIME_RFC3339_MAX];
    int64_t secs;
    int32_t nanos;

    memcpy(&secs, (const char *)m + fs->offset, sizeof(secs));
    memcpy(&nanos, (const char *)m + fn->offset, sizeof(nanos));
    if (ay_time_format_rfc3339(secs, nanos, buf, sizeof(buf)) == 0)
        return fail(w, AY_ERR_INVALID, "time out of range (seconds %" PRId64 ", nanos %" PRId32 ")",
                    secs, nanos);
    *out = cJSON_CreateString(buf);
    return *out != NULL ? AY_OK : nomem(w);
}

static enum ay_err enc_message(struct walk *w, const ProtobufCMessage *m, cJSON **out);

/* Encodes one value of f's type at member into a new item *out. */
static enum ay_err enc_value(struct walk *w, const ProtobufCFieldDescriptor *f, const void *member,
                             cJSON **out)
{
    const ProtobufCMessage *sub;
    const ProtobufCEnumValue *ev;
    const char *s;
    int e;
    double d;
    float fl;
    protobuf_c_boolean b;
    char *text;

    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        memcpy(&b, member, sizeof(b));
        *out = cJSON_CreateBool(b != 0);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        memcpy(&fl, member, sizeof(fl));
        *out = enc_number(isfinite(fl) ? float_to_double(fl) : (double)fl);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        memcpy(&d, member, sizeof(d));
        *out = enc_number(d);
        break;
    case PROTOBUF_C_TYPE_ENUM:
        memcpy(&e, member, sizeof(e));
        ev = protobuf_c_enum_descriptor_get_value(f->descriptor, e);
        *out = ev != NULL ? cJSON_CreateString(ev->name) : cJSON_CreateNumber(e);
        break;
    case PROTOBUF_C_TYPE_STRING:
        memcpy(&s, member, sizeof(s));
        if (s == NULL)
            s = "";
        if (!ay_text_utf8_is_valid(s, strlen(s)))
            return fail(w, AY_ERR_INVALID, "invalid UTF-8 in string");
        *out = cJSON_CreateString(s);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        text = ay_text_base64_encode(((const ProtobufCBinaryData *)member)->data,
                                     ((const ProtobufCBinaryData *)member)->len);
        *out = text != NULL ? cJSON_CreateString(text) : NULL;
        free(text);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        memcpy(&sub, member, sizeof(sub));
        if (sub == NULL)
            return fail(w, AY_ERR_INVALID, "null message in an array");
        if (ay__codec_is_timestamp(sub->descriptor))
            return enc_timestamp(w, sub, out);
        return enc_message(w, sub, out);
    default:
        *out = enc_int(f->type, member);
        break;
    }
    return *out != NULL ? AY_OK : nomem(w);
}

static enum ay_err enc_repeated(struct walk *w, const ProtobufCFieldDescriptor *f,
                                const ProtobufCMessage *m, cJSON **out)
{
    const char *base = (const char *)m;
    size_t size = value_size(f->type);
    cJSON *arr = cJSON_CreateArray();
    const char *elems;
    size_t n;

    if (arr == NULL)
        return nomem(w);
    memcpy(&n, base + f->quantifier_offset, sizeof(n));
    memcpy(&elems, base + f->offset, sizeof(elems));
    for (size_t i = 0; i < n; i++) {
        cJSON *item = NULL;
        size_t mark = ay__codec_path_index(&w->path, i);
        enum ay_err rc = enc_value(w, f, elems + i * size, &item);
        if (rc != AY_OK) {
            cJSON_Delete(arr);
            return rc;
        }
        ay__codec_path_pop(&w->path, mark);
        if (!cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return nomem(w);
        }
    }
    *out = arr;
    return AY_OK;
}

static enum ay_err enc_message(struct walk *w, const ProtobufCMessage *m, cJSON **out)
{
    const ProtobufCMessageDescriptor *desc = m->descriptor;
    char name[JSON_NAME_MAX];
    cJSON *obj = NULL;
    enum ay_err rc = AY_OK;

    if (w->depth >= AY_CODEC_MAX_DEPTH)
        return fail(w, AY_ERR_INVALID, "messages nested deeper than %d levels", AY_CODEC_MAX_DEPTH);
    if ((obj = cJSON_CreateObject()) == NULL)
        return nomem(w);
    w->depth++;
    for (unsigned i = 0; i < desc->n_fields && rc == AY_OK; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        cJSON *item = NULL;
        if (!ay__codec_field_present(m, f))
            continue;
        size_t mark = ay__codec_path_field(&w->path, f);
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            rc = enc_repeated(w, f, m, &item);
        else
            rc = enc_value(w, f, (const char *)m + f->offset, &item);
        if (rc != AY_OK)
            break;
        ay__codec_path_pop(&w->path, mark);
        ay__codec_json_name(f->name, name, sizeof(name));
        if (!cJSON_AddItemToObject(obj, name, item)) {
            cJSON_Delete(item);
            rc = nomem(w);
        }
    }
    w->depth--;
    if (rc != AY_OK) {
        cJSON_Delete(obj);
        return rc;
    }
    *out = obj;
    return AY_OK;
}

enum ay_err ay_codec_to_cjson(const ProtobufCMessage *m, cJSON **out, char err[AY_ERRLEN])
{
    struct walk w = {.err = err};

    if (m == NULL || m->descriptor == NULL) {
        ay_errf(err, "no message to encode");
        return AY_ERR_INVALID;
    }
    ay__codec_path_root(&w.path, m->descriptor);
    return enc_message(&w, m, out);
}

enum ay_err ay_codec_to_json(const ProtobufCMessage *m, bool pretty, char **out,
                             char err[AY_ERRLEN])
{
    cJSON *tree = NULL;
    enum ay_err rc = ay_codec_to_cjson(m, &tree, err);

    if (rc != AY_OK)
        return rc;
    char *text = pretty ? cJSON_Print(tree) : cJSON_PrintUnformatted(tree);
    cJSON_Delete(tree);
    if (text == NULL) {
        ay_errf(err, "out of memory printing JSON");
        return AY_ERR_NOMEM;
    }
    *out = text;
    return AY_OK;
}
