/*
 * registry.h - the feed's picture of the registry: schools, devices and
 * the devices' test windows, as one immutable snapshot held in memory.
 *
 * Owns: copies of every string it was given (clipped to the contract's
 * limits, so what the feed publishes always passes lib/ay_schema). Does
 * not own: the database (store.c loads a snapshot; the feed swaps it in).
 * Enforces domain.md rule 1 ("联得通": what a dispatcher needs to find the
 * button) and the drill rule of test windows.
 * Lifetime: built with alarmfeed_registry_new, the add_* functions and
 * alarmfeed_registry_seal; after the seal it is never changed and any
 * number of threads may read it at once. A new snapshot replaces it whole.
 */
#ifndef ALARMFEED_REGISTRY_H
#define ALARMFEED_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anyuan/v1/alarm.pb-c.h"
#include "ay_err.h"
#include "ay_topic.h"

struct alarmfeed_school {
    char id[AY_ID_MAX];
    char district[AY_ID_MAX];
    char *name_zh;
    char *name_en;
    char *address;
    char *phone;
};

struct alarmfeed_device {
    char id[AY_ID_MAX];
    char school[AY_ID_MAX];
    bool enabled;
    Anyuan__V1__AlarmSource source; /* from devices.kind */
    char *location;                 /* in words; "" if none registered */
    char *place_name;               /* the shop or home; "" if none */
    bool has_geo;
    double latitude;
    double longitude;
};

/* A row as the database gives it (borrowed strings; NULL means ""). */
struct alarmfeed_school_row {
    const char *id;
    const char *district;
    const char *name_zh;
    const char *name_en;
    const char *address;
    const char *phone;
};
struct alarmfeed_device_row {
    const char *id;
    const char *school;
    const char *kind;
    const char *location;
    const char *place_name;
    bool enabled;
    bool has_geo;
    double latitude;
    double longitude;
};

struct alarmfeed_registry;

/* On AY_OK *out is a new, empty snapshot the caller frees. */
enum ay_err alarmfeed_registry_new(struct alarmfeed_registry **out);
void alarmfeed_registry_free(struct alarmfeed_registry *r); /* NULL is a no-op */

/* Add one row (strings copied, clipped at a UTF-8 boundary to the
 * contract's limits: names, phone, location, place name 128 bytes, address
 * 4096). AY_ERR_INVALID when an id is not an id (the row is not added),
 * AY_ERR_NOMEM. A device position that is not a valid WGS 84 fix (out of
 * range, or 0/0) is dropped. Not after the seal. */
enum ay_err alarmfeed_registry_add_school(struct alarmfeed_registry *r,
                                          const struct alarmfeed_school_row *row);
enum ay_err alarmfeed_registry_add_device(struct alarmfeed_registry *r,
                                          const struct alarmfeed_device_row *row);
/* A test window [starts_us, ends_us) of device (UTC microseconds). */
enum ay_err alarmfeed_registry_add_window(struct alarmfeed_registry *r, const char *device,
                                          int64_t starts_us, int64_t ends_us);

/* Sorts for lookup; afterwards the snapshot is read-only. */
void alarmfeed_registry_seal(struct alarmfeed_registry *r);

/* Lookups on a sealed snapshot (r may be NULL: nothing is known). Borrowed
 * pointers, valid until the snapshot is freed. */
const struct alarmfeed_school *alarmfeed_registry_school(const struct alarmfeed_registry *r,
                                                         const char *id);
const struct alarmfeed_device *alarmfeed_registry_device(const struct alarmfeed_registry *r,
                                                         const char *id);
/* True when at_us lies in one of device's test windows. */
bool alarmfeed_registry_in_test_window(const struct alarmfeed_registry *r, const char *device,
                                       int64_t at_us);

size_t alarmfeed_registry_schools(const struct alarmfeed_registry *r);
size_t alarmfeed_registry_devices(const struct alarmfeed_registry *r);
size_t alarmfeed_registry_windows(const struct alarmfeed_registry *r);

/* Where a button of devices.kind is: nearby_shop, nearby_home, else the
 * school (button, panel, app, gateway). */
Anyuan__V1__AlarmSource alarmfeed_source_of_kind(const char *kind);

/* Copies s cut to at most max bytes without splitting a UTF-8 sequence.
 * New string the caller frees; NULL when out of memory. s NULL is "". */
char *alarmfeed_clip_dup(const char *s, size_t max);

#endif
