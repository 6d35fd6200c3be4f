/*
 * seed.c - ay-fuzz-seed: writes one seed input of a fuzz target from a JSON
 * file of tests/data, in the layout of fuzz.h (tests/fuzz/make-corpus).
 *
 *   ay-fuzz-seed json TYPE FILE           selector, then the JSON text as is
 *   ay-fuzz-seed proto TYPE FILE          selector, then the protobuf encoding
 *   ay-fuzz-seed recorder TYPE FILE       the same, for fuzz_recorder
 *   ay-fuzz-seed recorder TYPE FILE TOPIC 0x80, TOPIC, NUL, the protobuf encoding
 *
 * The protobuf is encoded without the schema check that `ayctl encode` makes,
 * so that messages the schema refuses become seeds too. Exit 1 when FILE does
 * not decode as TYPE (no protobuf seed can be made), 2 on usage errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_codec.h"
#include "fuzz.h"

static int usage(void)
{
    fputs("usage: ay-fuzz-seed json|proto|recorder TYPE FILE [TOPIC] >SEED\n", stderr);
    return 2;
}

/* Reads all of path into a new buffer (caller frees); NULL on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(AY_CODEC_MAX_JSON + 1);

    if (f == NULL || buf == NULL) {
        if (f != NULL)
            fclose(f);
        free(buf);
        return NULL;
    }
    *len = fread(buf, 1, AY_CODEC_MAX_JSON + 1, f);
    fclose(f);
    return buf;
}

static int write_protobuf(const struct ay_msgtype *t, const char *json, size_t len)
{
    ProtobufCMessage *m = NULL;
    char err[AY_ERRLEN] = "";

    if (ay_codec_from_json(t->desc, json, len, &m, err) != AY_OK) {
        fprintf(stderr, "ay-fuzz-seed: no protobuf seed: %s\n", err);
        return 1;
    }
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    int code = 1;
    if (buf != NULL) {
        protobuf_c_message_pack(m, buf);
        code = fwrite(buf, 1, n, stdout) == n ? 0 : 1;
    }
    free(buf);
    protobuf_c_message_free_unpacked(m, NULL);
    return code;
}

int main(int argc, char **argv)
{
    size_t len = 0;
    char *json = NULL;
    int code;

    if (argc < 4 || argc > 5)
        return usage();
    bool is_json = strcmp(argv[1], "json") == 0;
    if (!is_json && strcmp(argv[1], "proto") != 0 && strcmp(argv[1], "recorder") != 0)
        return usage();
    if (argc == 5 && strcmp(argv[1], "recorder") != 0)
        return usage();
    int sel = fuzz_type_selector(argv[2], !is_json);
    if (sel < 0) {
        fprintf(stderr, "ay-fuzz-seed: no %stype \"%s\"\n", is_json ? "" : "inbound ", argv[2]);
        return 2;
    }
    if ((json = slurp(argv[3], &len)) == NULL) {
        fprintf(stderr, "ay-fuzz-seed: cannot read %s\n", argv[3]);
        return 2;
    }
    if (argc == 5) {
        putchar(0x80);
        fwrite(argv[4], 1, strlen(argv[4]) + 1, stdout);
    } else {
        putchar(sel);
    }
    if (is_json)
        code = fwrite(json, 1, len, stdout) == len ? 0 : 1;
    else
        code = write_protobuf(fuzz_type_pick((uint8_t)sel, true), json, len);
    free(json);
    return code;
}
