/*
 * test_text.c - UTF-8 validation, base64 (RFC 4648 vectors) and hex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ay_text.h"

static void test_text_base64_rfc4648_vectors_round_trip(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char *e = ay_text_base64_encode((const uint8_t *)plain[i], strlen(plain[i]));
        assert_string_equal(e, coded[i]);
        free(e);
        uint8_t *d = NULL;
        size_t n = 99;
        assert_int_equal(ay_text_base64_decode(coded[i], strlen(coded[i]), &d, &n), AY_OK);
        assert_int_equal(n, strlen(plain[i]));
        if (n)
            assert_memory_equal(d, plain[i], n);
        free(d);
    }
}

static void test_text_base64_refuses_sloppy_input(void **state)
{
    (void)state;
    static const char *const bad[] = {"Zg=", "Zg", "Z===", "Zh==", "Zm9v!A==", "=Zm9", "Zm 9v"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t *d = NULL;
        size_t n = 0;
        assert_int_equal(ay_text_base64_decode(bad[i], strlen(bad[i]), &d, &n), AY_ERR_INVALID);
    }
}

static void test_text_utf8_accepts_chinese_and_refuses_malformed(void **state)
{
    (void)state;
    const char ok[] = "安园 school 😀";
    assert_true(ay_text_utf8_is_valid(ok, strlen(ok)));
    static const char *const bad[] = {"\xff",         "\xc0\xaf",         "\xe0\x80\xaf",
                                      "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe5\xae"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ay_text_utf8_is_valid(bad[i], strlen(bad[i])));
}

static void test_text_hex_is_lower_case(void **state)
{
    (void)state;
    const uint8_t b[] = {0x00, 0x9f, 0xab, 0xff};
    char *h = ay_text_hex_encode(b, sizeof(b));
    assert_string_equal(h, "009fabff");
    free(h);
}

static void test_text_sanitize_cuts_at_a_character_and_marks_bad_bytes(void **state)
{
    (void)state;
    char buf[8];
    /* "隔离" is 6 bytes: a 5-byte buffer keeps the first character only. */
    assert_string_equal(ay_text_sanitize(buf, 5, "隔离"), "隔");
    assert_string_equal(ay_text_sanitize(buf, sizeof(buf), "a\xe9\x9a"), "a??");
    assert_string_equal(ay_text_sanitize(buf, sizeof(buf), "\xff\xc0\x80ok"), "???ok");
    assert_string_equal(ay_text_sanitize(buf, 1, "abc"), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_sanitize_cuts_at_a_character_and_marks_bad_bytes),
        cmocka_unit_test(test_text_base64_rfc4648_vectors_round_trip),
        cmocka_unit_test(test_text_base64_refuses_sloppy_input),
        cmocka_unit_test(test_text_utf8_accepts_chinese_and_refuses_malformed),
        cmocka_unit_test(test_text_hex_is_lower_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
