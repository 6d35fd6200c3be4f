/*
 * device.h - what ayctl's device and account commands share: the broker
 * as devices and people reach it (for their profiles), files of secrets,
 * the registry's audit rows.
 *
 * device.c: device add, device import (a device's registry row and broker
 * account made together, all or nothing); device_admin.c: device list,
 * show, disable, enable, rotate, remove; account.c: account add, list,
 * disable, enable, rotate, remove.
 */
#ifndef AYCTL_DEVICE_H
#define AYCTL_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "ayctl.h"
#include "device_spec.h"

/* The broker as devices reach it, from the profile_* configuration. */
struct ayctl_endpoint {
    char host[256];
    int mqtts_port;
    int ws_port;
    int mqtt_port;
    const char *ca_file; /* borrowed from the configuration; NULL: none */
    char *ca_pem;        /* its contents, owned; NULL: none */
};

/* Fills *e: profile_host (else the host of the admin URL), the ports, the
 * CA file (profile_ca_file, else mqtt_ca_file) and its PEM. AY_ERR_CONFIG
 * when the CA file cannot be read or no port is offered. Release with
 * ayctl_endpoint_cleanup() in every case. */
enum ay_err ayctl_endpoint_load(const struct ayctl_config *cfg, struct ayctl_endpoint *e,
                                char err[AY_ERRLEN]);
void ayctl_endpoint_cleanup(struct ayctl_endpoint *e);

/* A profile of device d (all borrowed). */
void ayctl_profile_fill(struct ayctl_profile *p, const struct ayctl_endpoint *e,
                        const struct ayctl_device_spec *d, const char *district,
                        const char *secret);
/* Prints the profile for the person setting the device up (stdout): the
 * secret (shown this once), the endpoints, an ayctl configuration and the
 * first test. */
void ayctl_profile_print(const struct ayctl_profile *p);
/* The profile as JSON text (a new string; NULL when out of memory). */
char *ayctl_profile_text(const struct ayctl_profile *p);

/* Writes len bytes of text to path with mode 0600 (the file is made so,
 * also when it existed), flushed to disk. exclusive: fail if it exists.
 * AY_ERR_IO / AY_ERR_INVALID (exists) with err naming the file. */
enum ay_err ayctl_write_private(const char *path, const char *text, size_t len, bool exclusive,
                                char err[AY_ERRLEN]);

/* One audit row (audit_events) of a registry change: actor by, action
 * (device.added, device.disabled, ...), detail {"device": device, "via":
 * via}. Inside the caller's transaction. */
enum ay_err ayctl_device_audit(struct ay_pg *db, const char *district, const char *school,
                               const char *by, const char *action, const char *device,
                               const char *via, char err[AY_ERRLEN]);

/* device_admin.c: list, show, disable, enable, rotate, remove. */
int ayctl_device_admin(const struct ayctl_config *cfg, int argc, char **argv);

#endif
