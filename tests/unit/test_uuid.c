/*
 * test_uuid.c - random and name-based UUIDs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ay_schema.h"
#include "ay_uuid.h"

static void test_uuid_v4_is_canonical_and_new_each_time(void **state)
{
    char a[AY_UUID_STRLEN], b[AY_UUID_STRLEN];
    (void)state;
    assert_int_equal(ay_uuid_v4(a), AY_OK);
    assert_int_equal(ay_uuid_v4(b), AY_OK);
    assert_true(ay_schema_uuid_is_valid(a));
    assert_int_equal(a[14], '4');
    assert_string_not_equal(a, b);
}

/* SHA-256 of the FIPS 180 examples, first 16 bytes, version 8 and variant
 * bits set: "abc" -> ba7816bf 8f01cfea 414140de 5dae2223... */
static void test_uuid_v8_name_is_sha256_with_version_bits(void **state)
{
    char id[AY_UUID_STRLEN];
    (void)state;
    assert_int_equal(ay_uuid_v8_name("abc", 3, id), AY_OK);
    assert_string_equal(id, "ba7816bf-8f01-8fea-8141-40de5dae2223");
    assert_int_equal(ay_uuid_v8_name("", 0, id), AY_OK);
    assert_string_equal(id, "e3b0c442-98fc-8c14-9afb-f4c8996fb924");
    assert_true(ay_schema_uuid_is_valid(id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_v4_is_canonical_and_new_each_time),
        cmocka_unit_test(test_uuid_v8_name_is_sha256_with_version_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
