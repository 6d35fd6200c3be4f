/*
 * ay_labels.h - the words people read for every enum value of the contract.
 *
 * Owns: one static table of Simplified Chinese and English labels, keyed by
 * enum value name (value names are unique within package anyuan.v1). Text
 * shown to schools, bureau and police comes from here, never from log text
 * (style.md section 5). tests/unit/test_labels.c fails when an enum value
 * of any registered message has no label.
 * Threads: read-only static data; thread-safe.
 */
#ifndef AY_LABELS_H
#define AY_LABELS_H

#include <protobuf-c/protobuf-c.h>

enum ay_lang {
    AY_LANG_ZH, /* Simplified Chinese, UTF-8; the default */
    AY_LANG_EN,
};

/* Label of enum value `value` of enum `desc`; NULL if unknown. Borrowed static text. */
const char *ay_label(const ProtobufCEnumDescriptor *desc, int value, enum ay_lang lang);

/* Label of an enum value by its name (unique within anyuan.v1), e.g.
 * "SEVERITY_IV"; NULL if unknown. Borrowed static text. */
const char *ay_label_of(const char *value_name, enum ay_lang lang);

/* Parses "zh", "zh-CN", "en", "en-GB", "EN_us", ... (the primary language
 * subtag, case-insensitive); anything else, including NULL, is AY_LANG_ZH. */
enum ay_lang ay_lang_parse(const char *s);

#endif
