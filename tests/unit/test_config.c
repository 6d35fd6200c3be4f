/*
 * test_config.c - default < file < environment; errors name file, line, key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ay_config.h"

struct cfg {
    char *name;
    char *secret;
    long long count;
    bool flag;
};

static const struct ay_config_def defs[] = {
    {"name", "AYT_NAME", AY_CFG_STRING, "dflt", 0, 0, offsetof(struct cfg, name), "a name"},
    {"secret", "AYT_SECRET", AY_CFG_SECRET, NULL, 0, 0, offsetof(struct cfg, secret), "a secret"},
    {"count", "AYT_COUNT", AY_CFG_INT, "5", 1, 10, offsetof(struct cfg, count), "a count"},
    {"flag", "AYT_FLAG", AY_CFG_BOOL, "false", 0, 0, offsetof(struct cfg, flag), "a flag"},
};
#define N (sizeof(defs) / sizeof(defs[0]))

static char path[64];

static void write_file(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/ay-test-config-%ld.conf", (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    unsetenv("AYT_NAME");
    unsetenv("AYT_COUNT");
    return 0;
}

static void test_config_defaults_apply_without_file(void **state)
{
    (void)state;
    struct cfg c = {0};
    char err[AY_ERRLEN] = "";
    assert_int_equal(ay_config_load(defs, N, NULL, &c, err), AY_OK);
    assert_string_equal(c.name, "dflt");
    assert_string_equal(c.secret, "");
    assert_int_equal(c.count, 5);
    assert_false(c.flag);
    ay_config_cleanup(defs, N, &c);
}

static void test_config_file_overrides_default_and_env_overrides_file(void **state)
{
    (void)state;
    struct cfg c = {0};
    char err[AY_ERRLEN] = "";
    write_file("# comment\n\nname = \"from file\"\ncount = 7\nflag = yes\n");
    setenv("AYT_COUNT", "9", 1);
    assert_int_equal(ay_config_load(defs, N, path, &c, err), AY_OK);
    assert_string_equal(c.name, "from file");
    assert_int_equal(c.count, 9);
    assert_true(c.flag);
    ay_config_cleanup(defs, N, &c);
}

static void test_config_unknown_key_names_file_line_and_key(void **state)
{
    (void)state;
    struct cfg c = {0};
    char err[AY_ERRLEN] = "";
    write_file("name = x\nnmae = y\n");
    assert_int_equal(ay_config_load(defs, N, path, &c, err), AY_ERR_CONFIG);
    assert_non_null(strstr(err, ":2: nmae: unknown key"));
    ay_config_cleanup(defs, N, &c);
}

static void test_config_out_of_range_value_is_refused(void **state)
{
    (void)state;
    struct cfg c = {0};
    char err[AY_ERRLEN] = "";
    write_file("count = 11\n");
    assert_int_equal(ay_config_load(defs, N, path, &c, err), AY_ERR_CONFIG);
    assert_non_null(strstr(err, ":1: count: 11 is out of range 1..10"));
    ay_config_cleanup(defs, N, &c);
    setenv("AYT_COUNT", "3x", 1);
    assert_int_equal(ay_config_load(defs, N, NULL, &c, err), AY_ERR_CONFIG);
    assert_non_null(strstr(err, "AYT_COUNT"));
    ay_config_cleanup(defs, N, &c);
}

static void test_config_missing_file_is_an_error(void **state)
{
    (void)state;
    struct cfg c = {0};
    char err[AY_ERRLEN] = "";
    assert_int_equal(ay_config_load(defs, N, "/nonexistent/x.conf", &c, err), AY_ERR_CONFIG);
    assert_non_null(strstr(err, "/nonexistent/x.conf: cannot open"));
    ay_config_cleanup(defs, N, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_config_defaults_apply_without_file, teardown),
        cmocka_unit_test_teardown(test_config_file_overrides_default_and_env_overrides_file,
                                  teardown),
        cmocka_unit_test_teardown(test_config_unknown_key_names_file_line_and_key, teardown),
        cmocka_unit_test_teardown(test_config_out_of_range_value_is_refused, teardown),
        cmocka_unit_test_teardown(test_config_missing_file_is_an_error, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
