/*
 * device_spec.h - what `ayctl device add` and `ayctl device import` are
 * told about a device, checked field by field, and the connection profile
 * handed to whoever sets the device up.
 *
 * A device is given by its fields: id (optional: made up when missing),
 * school, kind, location (where it is, in words: what the police feed tells
 * a dispatcher), a position (geo "LAT,LON", or latitude and longitude),
 * shop (the shop or home a nearby_shop / nearby_home button is in; required
 * for those kinds) and heartbeat (its interval: 60, 60s, 1m; 5 s to 24 h).
 * A CSV file of devices (RFC 4180; a UTF-8 byte order mark, CRLF and quoted
 * fields as spreadsheet programs write them) has a header naming these
 * columns in any order; every error names the line and the field.
 *
 * Owns: nothing beyond what it returns. Threads: pure; thread-safe.
 */
#ifndef AYCTL_DEVICE_SPEC_H
#define AYCTL_DEVICE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "ay_err.h"
#include "ay_schema.h"
#include "ay_topic.h"

#define AYCTL_DEVICE_ROWS_MAX 100000
#define AYCTL_KIND_MAX        16

struct ayctl_device_spec {
    unsigned line;      /* its line in a CSV file; 0 on the command line */
    char id[AY_ID_MAX]; /* "": made up by ayctl_device_make_id */
    char school[AY_ID_MAX];
    char kind[AYCTL_KIND_MAX];
    char location[AY_SCHEMA_SHORT_MAX + 1];
    char place[AY_SCHEMA_SHORT_MAX + 1]; /* the shop or home; "" if none */
    bool has_geo;                        /* both coordinates given */
    unsigned geo_given;                  /* 1: latitude, 2: longitude, 3: both */
    double latitude;
    double longitude;
    int heartbeat_s;
};

/* Empty fields, heartbeat 60 s (the registry's default). */
void ayctl_device_spec_init(struct ayctl_device_spec *d);

/*
 * Sets one field from text: id, school, kind, location, geo, latitude,
 * longitude, shop (also "place") or heartbeat. AY_ERR_INVALID with err
 * "<field>: <what is wrong>" (the value quoted) when the value is not
 * acceptable or the field is unknown; d unchanged then.
 */
enum ay_err ayctl_device_field(struct ayctl_device_spec *d, const char *field, const char *value,
                               char err[AY_ERRLEN]);

/* Checks the device as a whole: school, kind and location given, both
 * coordinates or neither, a shop for nearby_shop and nearby_home.
 * AY_ERR_INVALID with err "<field>: <why>". */
enum ay_err ayctl_device_check(const struct ayctl_device_spec *d, char err[AY_ERRLEN]);

/* An id for a device of kind: "<btn|panel|app|shop|home|gw>-<8 hex digits
 * of rnd>" (4 random bytes from the caller). AY_ERR_INVALID for an
 * unknown kind. */
enum ay_err ayctl_device_make_id(const char *kind, const unsigned char rnd[4], char out[AY_ID_MAX]);

/*
 * Reads a CSV file of devices (text of len bytes). Devices without a
 * school get default_school (NULL: the column is then required). On AY_OK
 * *out is a new array of *n devices (at least one) the caller frees with
 * free(); each checked with ayctl_device_check, no id twice. Otherwise
 * AY_ERR_INVALID with err "line N: <field>: <why>" (or "line N: <why>" for
 * the file's shape) for the first problem, nothing written to *out.
 */
enum ay_err ayctl_device_csv(const char *text, size_t len, const char *default_school,
                             struct ayctl_device_spec **out, size_t *n, char err[AY_ERRLEN]);

/* What a connection profile says besides the device. */
struct ayctl_profile {
    const struct ayctl_device_spec *device;
    const char *district;
    const char *secret;  /* the account's password */
    const char *host;    /* the broker as devices reach it */
    int mqtts_port;      /* 0: not offered */
    int ws_port;         /* 0: not offered */
    int mqtt_port;       /* plain; 0: not offered */
    const char *ca_file; /* NULL: none */
    const char *ca_pem;  /* the CA certificate itself; NULL: none */
};

/*
 * The profile as JSON for provisioning tools: the device, the broker (host,
 * ports, URLs, CA path and PEM), the credentials (client id = username =
 * the device id, the secret), the device's topics (publish per kind,
 * receipts), an ayctl configuration for a first test, and that test.
 * A new object, NULL when out of memory or when the device's topics cannot
 * be built.
 */
cJSON *ayctl_device_profile(const struct ayctl_profile *p);

/* The ayctl configuration of the device (a new string; NULL when out of
 * memory): mqtt_url (TLS when offered, else plain), mqtt_ca_file, account,
 * secret, district, school. */
char *ayctl_device_conf(const struct ayctl_profile *p);

#endif
