/*
 * registry.c - the registry snapshot: growing arrays while it is built,
 * sorted arrays and binary search once sealed; see registry.h.
 */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_schema.h"

/* A test window, kept sorted by device then start. */
struct window {
    char device[AY_ID_MAX];
    int64_t starts_us;
    int64_t ends_us;
};

struct alarmfeed_registry {
    struct alarmfeed_school *schools;
    size_t nschools;
    size_t cap_schools;
    struct alarmfeed_device *devices;
    size_t ndevices;
    size_t cap_devices;
    struct window *windows;
    size_t nwindows;
    size_t cap_windows;
};

enum ay_err alarmfeed_registry_new(struct alarmfeed_registry **out)
{
    struct alarmfeed_registry *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return AY_ERR_NOMEM;
    *out = r;
    return AY_OK;
}

void alarmfeed_registry_free(struct alarmfeed_registry *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nschools; i++) {
        free(r->schools[i].name_zh);
        free(r->schools[i].name_en);
        free(r->schools[i].address);
        free(r->schools[i].phone);
    }
    for (size_t i = 0; i < r->ndevices; i++) {
        free(r->devices[i].location);
        free(r->devices[i].place_name);
    }
    free(r->schools);
    free(r->devices);
    free(r->windows);
    free(r);
}

/* ---- building ------------------------------------------------------------ */

char *alarmfeed_clip_dup(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n > max) {
        n = max;
        /* Back off over continuation bytes (10xxxxxx) to the start of the
         * sequence that would be cut, and drop that sequence too. */
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    if (n > 0)
        memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* Makes room for one more element of size `size` in *arr. */
static bool grow(void **arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return true;
    size_t want = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, want * size);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = want;
    return true;
}

static bool copy_id(char out[AY_ID_MAX], const char *id)
{
    if (!ay_schema_id_is_valid(id))
        return false;
    snprintf(out, AY_ID_MAX, "%s", id);
    return true;
}

enum ay_err alarmfeed_registry_add_school(struct alarmfeed_registry *r,
                                          const struct alarmfeed_school_row *row)
{
    struct alarmfeed_school s = {.name_zh = NULL};

    if (!copy_id(s.id, row->id) || !copy_id(s.district, row->district))
        return AY_ERR_INVALID;
    if (!grow((void **)&r->schools, r->nschools, &r->cap_schools, sizeof(s)))
        return AY_ERR_NOMEM;
    s.name_zh = alarmfeed_clip_dup(row->name_zh, AY_SCHEMA_SHORT_MAX);
    s.name_en = alarmfeed_clip_dup(row->name_en, AY_SCHEMA_SHORT_MAX);
    s.address = alarmfeed_clip_dup(row->address, AY_SCHEMA_TEXT_MAX);
    s.phone = alarmfeed_clip_dup(row->phone, AY_SCHEMA_SHORT_MAX);
    if (s.name_zh == NULL || s.name_en == NULL || s.address == NULL || s.phone == NULL) {
        free(s.name_zh);
        free(s.name_en);
        free(s.address);
        free(s.phone);
        return AY_ERR_NOMEM;
    }
    r->schools[r->nschools++] = s;
    return AY_OK;
}

Anyuan__V1__AlarmSource alarmfeed_source_of_kind(const char *kind)
{
    if (kind != NULL && strcmp(kind, "nearby_shop") == 0)
        return ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_NEARBY_SHOP;
    if (kind != NULL && strcmp(kind, "nearby_home") == 0)
        return ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_NEARBY_HOME;
    return ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_SCHOOL;
}

/* The contract's rule for a position (lib/ay_schema, check_geo). */
static bool geo_is_valid(double lat, double lon)
{
    return !(lat == 0.0 && lon == 0.0) && lat >= -90.0 && lat <= 90.0 && lon >= -180.0 &&
           lon <= 180.0;
}

enum ay_err alarmfeed_registry_add_device(struct alarmfeed_registry *r,
                                          const struct alarmfeed_device_row *row)
{
    struct alarmfeed_device d = {.enabled = row->enabled};

    if (!copy_id(d.id, row->id) || !copy_id(d.school, row->school))
        return AY_ERR_INVALID;
    if (!grow((void **)&r->devices, r->ndevices, &r->cap_devices, sizeof(d)))
        return AY_ERR_NOMEM;
    d.source = alarmfeed_source_of_kind(row->kind);
    d.has_geo = row->has_geo && geo_is_valid(row->latitude, row->longitude);
    d.latitude = d.has_geo ? row->latitude : 0.0;
    d.longitude = d.has_geo ? row->longitude : 0.0;
    d.location = alarmfeed_clip_dup(row->location, AY_SCHEMA_SHORT_MAX);
    d.place_name = alarmfeed_clip_dup(row->place_name, AY_SCHEMA_SHORT_MAX);
    if (d.location == NULL || d.place_name == NULL) {
        free(d.location);
        free(d.place_name);
        return AY_ERR_NOMEM;
    }
    r->devices[r->ndevices++] = d;
    return AY_OK;
}

enum ay_err alarmfeed_registry_add_window(struct alarmfeed_registry *r, const char *device,
                                          int64_t starts_us, int64_t ends_us)
{
    struct window w = {.starts_us = starts_us, .ends_us = ends_us};

    if (!copy_id(w.device, device) || ends_us <= starts_us)
        return AY_ERR_INVALID;
    if (!grow((void **)&r->windows, r->nwindows, &r->cap_windows, sizeof(w)))
        return AY_ERR_NOMEM;
    r->windows[r->nwindows++] = w;
    return AY_OK;
}

static int cmp_school(const void *a, const void *b)
{
    return strcmp(((const struct alarmfeed_school *)a)->id,
                  ((const struct alarmfeed_school *)b)->id);
}

static int cmp_device(const void *a, const void *b)
{
    return strcmp(((const struct alarmfeed_device *)a)->id,
                  ((const struct alarmfeed_device *)b)->id);
}

static int cmp_window(const void *a, const void *b)
{
    const struct window *x = a;
    const struct window *y = b;
    int c = strcmp(x->device, y->device);
    if (c != 0)
        return c;
    return (x->starts_us > y->starts_us) - (x->starts_us < y->starts_us);
}

void alarmfeed_registry_seal(struct alarmfeed_registry *r)
{
    if (r->nschools > 1)
        qsort(r->schools, r->nschools, sizeof(*r->schools), cmp_school);
    if (r->ndevices > 1)
        qsort(r->devices, r->ndevices, sizeof(*r->devices), cmp_device);
    if (r->nwindows > 1)
        qsort(r->windows, r->nwindows, sizeof(*r->windows), cmp_window);
}

/* ---- lookups ------------------------------------------------------------- */

const struct alarmfeed_school *alarmfeed_registry_school(const struct alarmfeed_registry *r,
                                                         const char *id)
{
    struct alarmfeed_school key;

    if (r == NULL || r->nschools == 0 || !copy_id(key.id, id))
        return NULL;
    return bsearch(&key, r->schools, r->nschools, sizeof(key), cmp_school);
}

const struct alarmfeed_device *alarmfeed_registry_device(const struct alarmfeed_registry *r,
                                                         const char *id)
{
    struct alarmfeed_device key;

    if (r == NULL || r->ndevices == 0 || !copy_id(key.id, id))
        return NULL;
    return bsearch(&key, r->devices, r->ndevices, sizeof(key), cmp_device);
}

bool alarmfeed_registry_in_test_window(const struct alarmfeed_registry *r, const char *device,
                                       int64_t at_us)
{
    size_t lo = 0;
    size_t hi;

    if (r == NULL || device == NULL)
        return false;
    /* The first window of device (lower bound by device id). */
    hi = r->nwindows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(r->windows[mid].device, device) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < r->nwindows && strcmp(r->windows[i].device, device) == 0; i++) {
        if (r->windows[i].starts_us > at_us)
            break; /* sorted by start: no later window can contain at_us */
        if (at_us < r->windows[i].ends_us)
            return true;
    }
    return false;
}

size_t alarmfeed_registry_schools(const struct alarmfeed_registry *r)
{
    return r ? r->nschools : 0;
}

size_t alarmfeed_registry_devices(const struct alarmfeed_registry *r)
{
    return r ? r->ndevices : 0;
}

size_t alarmfeed_registry_windows(const struct alarmfeed_registry *r)
{
    return r ? r->nwindows : 0;
}
