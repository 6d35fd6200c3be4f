/*
 * fuzz.c - the shared part of the libFuzzer targets (see fuzz.h).
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_codec.h"
#include "ay_schema.h"
#include "ay_text.h"

/* ---- picking a type ---- */

/* The i-th type of the table (only inbound ones when inbound_only), or the
 * count of such types when i is SIZE_MAX. */
static const struct ay_msgtype *nth_type(size_t i, bool inbound_only, size_t *count)
{
    size_t n = 0;
    const struct ay_msgtype *all = ay_msgtype_all(&n);
    size_t k = 0;

    for (size_t j = 0; j < n; j++) {
        if (inbound_only && all[j].direction != AY_DIR_INBOUND)
            continue;
        if (k == i)
            return &all[j];
        k++;
    }
    *count = k;
    return NULL;
}

const struct ay_msgtype *fuzz_type_pick(uint8_t sel, bool inbound_only)
{
    size_t count = 0;

    nth_type(SIZE_MAX, inbound_only, &count);
    if (count == 0)
        fuzz_fail("ay_msgtype_all() has no %stypes", inbound_only ? "inbound " : "");
    return nth_type(sel % count, inbound_only, &count);
}

int fuzz_type_selector(const char *name, bool inbound_only)
{
    size_t count = 0;

    for (size_t i = 0;; i++) {
        const struct ay_msgtype *t = nth_type(i, inbound_only, &count);
        if (t == NULL)
            return -1;
        if (strcmp(t->name, name) == 0)
            return (int)i;
    }
}

/* ---- checks ---- */

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("fuzz: check failed: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void fuzz_check_reason(const struct ay_msgtype *t, const char *what, enum ay_err rc,
                       const char *err)
{
    size_t len = strnlen(err, AY_ERRLEN);
    size_t root = strlen(t->name);

    if (rc != AY_ERR_INVALID)
        fuzz_fail("%s: %s (%d) for bad input, expected AY_ERR_INVALID: %s", what, ay_strerror(rc),
                  (int)rc, err);
    if (len == 0 || len == AY_ERRLEN)
        fuzz_fail("%s: reason is %s", what, len == 0 ? "empty" : "not NUL-terminated");
    if (!ay_text_utf8_is_valid(err, len))
        fuzz_fail("%s: reason is not valid UTF-8: %s", what, err);
    if (strncmp(err, t->name, root) != 0 || strchr(".[:", err[root]) == NULL || err[root] == '\0')
        fuzz_fail("%s: reason does not start with the path root \"%s\": %s", what, t->name, err);
}

bool fuzz_check_schema(const struct ay_msgtype *t, const ProtobufCMessage *m)
{
    char err[AY_ERRLEN] = "";
    char lenient[AY_ERRLEN] = "";

    enum ay_err rc = ay_schema_validate(m, FUZZ_NOW_US, err);
    if (rc != AY_OK)
        fuzz_check_reason(t, "ay_schema_validate", rc, err);
    enum ay_err rc_any = ay_schema_validate_flags(m, FUZZ_NOW_US, AY_SCHEMA_ANY_CLOCK, lenient);
    if (rc_any != AY_OK)
        fuzz_check_reason(t, "ay_schema_validate_flags", rc_any, lenient);
    if (rc == AY_OK && rc_any != AY_OK)
        fuzz_fail("valid, but invalid with AY_SCHEMA_ANY_CLOCK: %s", lenient);
    return rc == AY_OK;
}

/* Decodes text as type t and returns its one-line encoding (caller frees). */
static char *reencode(const struct ay_msgtype *t, const char *text, bool valid)
{
    ProtobufCMessage *m = NULL;
    char err[AY_ERRLEN] = "";
    char *line = NULL;

    enum ay_err rc = ay_codec_from_json(t->desc, text, strlen(text), &m, err);
    if (rc != AY_OK)
        fuzz_fail("our own JSON does not decode (%s): %s\n%s", ay_strerror(rc), err, text);
    rc = ay_codec_to_json(m, false, &line, err);
    if (rc != AY_OK)
        fuzz_fail("a decoded message does not encode (%s): %s\n%s", ay_strerror(rc), err, text);
    /* Only one way: XXX(#10) cJSON prints a double with 15 significant
     * digits when that reads back within DBL_EPSILON, so an invalid
     * latitude of 90.00000000000001 comes back as a valid 90. */
    if (valid && ay_schema_validate(m, FUZZ_NOW_US, err) != AY_OK)
        fuzz_fail("the schema refuses a valid message after a JSON round trip: %s\n%s", err, text);
    protobuf_c_message_free_unpacked(m, NULL);
    return line;
}

void fuzz_check_round_trip(const struct ay_msgtype *t, const ProtobufCMessage *m, bool valid)
{
    char err[AY_ERRLEN] = "";
    char *line = NULL;
    char *pretty = NULL;

    enum ay_err rc = ay_codec_to_json(m, false, &line, err);
    if (rc != AY_OK)
        fuzz_fail("ay_codec_to_json: %s: %s", ay_strerror(rc), err);
    rc = ay_codec_to_json(m, true, &pretty, err);
    if (rc != AY_OK)
        fuzz_fail("ay_codec_to_json (pretty): %s: %s", ay_strerror(rc), err);
    char *again = reencode(t, line, valid);
    if (strcmp(again, line) != 0)
        fuzz_fail("JSON round trip changed the message:\n%s\n%s", line, again);
    free(again);
    again = reencode(t, pretty, valid);
    if (strcmp(again, line) != 0)
        fuzz_fail("pretty JSON round trip changed the message:\n%s\n%s", line, again);
    free(again);
    free(pretty);
    free(line);
}
