/*
 * unit.c - the helpers of unit.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ay_err.h"
#include "ay_time.h"
#include "unit.h"

int64_t ayt_at(const char *rfc3339)
{
    int64_t secs = 0;
    int32_t nanos = 0;
    assert_int_equal(ay_time_parse_rfc3339(rfc3339, &secs, &nanos), AY_OK);
    return ay_time_to_us(secs, nanos);
}

struct ay_tz *ayt_zone(const char *name)
{
    struct ay_tz *z = NULL;
    char err[AY_ERRLEN] = "";
    enum ay_err rc = ay_tz_load(name, &z, err);
    if (rc != AY_OK)
        print_error("%s: %s\n", name, err);
    assert_int_equal(rc, AY_OK);
    assert_non_null(z);
    return z;
}

char *ayt_read_data(const char *rel, size_t *len)
{
    char path[512];
    FILE *f;
    long size;
    char *buf;

    snprintf(path, sizeof(path), "%s/%s", AY_TEST_DATA_DIR, rel);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}
