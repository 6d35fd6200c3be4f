/*
 * test_labels.c - bilingual enum labels (lib/ay_labels.h).
 *
 * The completeness test walks every enum reachable from the registered
 * message types, so adding an enum value to proto/ without labels fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_labels.h"
#include "ay_msgtype.h"

#define SEEN_MAX 64

struct seen {
    const void *desc[SEEN_MAX];
    size_t n;
    size_t enums;
    size_t values;
};

static bool visit(struct seen *s, const void *desc)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->desc[i] == desc)
            return false;
    }
    assert_true(s->n < SEEN_MAX);
    s->desc[s->n++] = desc;
    return true;
}

static bool has_non_ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80)
            return true;
    }
    return false;
}

static void check_enum(struct seen *s, const ProtobufCEnumDescriptor *ed)
{
    s->enums++;
    for (unsigned i = 0; i < ed->n_values; i++) {
        const ProtobufCEnumValue *v = &ed->values[i];
        const char *zh = ay_label(ed, v->value, AY_LANG_ZH);
        const char *en = ay_label(ed, v->value, AY_LANG_EN);
        print_message("%s\n", v->name);
        assert_non_null(zh);
        assert_non_null(en);
        assert_true(zh[0] != '\0' && has_non_ascii(zh));
        assert_true(en[0] != '\0' && !has_non_ascii(en));
        if (strstr(v->name, "_UNSPECIFIED") != NULL) {
            assert_string_equal(zh, "未指定");
            assert_string_equal(en, "Unspecified");
        }
        s->values++;
    }
}

static void walk_message(struct seen *s, const ProtobufCMessageDescriptor *md)
{
    if (!visit(s, md))
        return;
    for (unsigned i = 0; i < md->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &md->fields[i];
        if (f->type == PROTOBUF_C_TYPE_MESSAGE)
            walk_message(s, f->descriptor);
        else if (f->type == PROTOBUF_C_TYPE_ENUM && visit(s, f->descriptor))
            check_enum(s, f->descriptor);
    }
}

static void test_labels_every_enum_value_of_the_contract_has_zh_and_en(void **state)
{
    struct seen s = {.n = 0};
    size_t n;
    const struct ay_msgtype *all = ay_msgtype_all(&n);
    (void)state;

    for (size_t i = 0; i < n; i++)
        walk_message(&s, all[i].desc);
    /* 16 enums in proto/anyuan/v1 today; fewer means the walk missed some. */
    assert_true(s.enums >= 16);
    assert_true(s.values >= 100);
}

static void test_labels_give_the_words_from_the_proto_comments(void **state)
{
    (void)state;
    assert_string_equal(ay_label(&anyuan__v1__alarm_kind__descriptor,
                                 ANYUAN__V1__ALARM_KIND__ALARM_KIND_PANIC, AY_LANG_ZH),
                        "紧急求助");
    assert_string_equal(ay_label(&anyuan__v1__alarm_kind__descriptor,
                                 ANYUAN__V1__ALARM_KIND__ALARM_KIND_PANIC, AY_LANG_EN),
                        "Panic");
    assert_string_equal(ay_label(&anyuan__v1__receipt_status__descriptor,
                                 ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_REJECTED, AY_LANG_ZH),
                        "拒收");
}

static void test_labels_unknown_value_or_enum_gives_null(void **state)
{
    (void)state;
    assert_null(ay_label(&anyuan__v1__alarm_kind__descriptor, 99, AY_LANG_ZH));
    assert_null(ay_label(&anyuan__v1__alarm_kind__descriptor, -1, AY_LANG_EN));
    assert_null(ay_label(NULL, 1, AY_LANG_ZH));
}

static void test_labels_language_tag_defaults_to_chinese(void **state)
{
    (void)state;
    assert_int_equal(ay_lang_parse("en"), AY_LANG_EN);
    assert_int_equal(ay_lang_parse("EN"), AY_LANG_EN);
    assert_int_equal(ay_lang_parse("en-GB"), AY_LANG_EN);
    assert_int_equal(ay_lang_parse("en_US.UTF-8"), AY_LANG_EN);
    assert_int_equal(ay_lang_parse("zh"), AY_LANG_ZH);
    assert_int_equal(ay_lang_parse("zh-CN"), AY_LANG_ZH);
    assert_int_equal(ay_lang_parse("eng"), AY_LANG_ZH);
    assert_int_equal(ay_lang_parse("fr"), AY_LANG_ZH);
    assert_int_equal(ay_lang_parse(""), AY_LANG_ZH);
    assert_int_equal(ay_lang_parse(NULL), AY_LANG_ZH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels_every_enum_value_of_the_contract_has_zh_and_en),
        cmocka_unit_test(test_labels_give_the_words_from_the_proto_comments),
        cmocka_unit_test(test_labels_unknown_value_or_enum_gives_null),
        cmocka_unit_test(test_labels_language_tag_defaults_to_chinese),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
