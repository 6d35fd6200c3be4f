/*
 * ayctl.h - the command-line client for people and tests.
 *
 * Commands share one configuration (the same keys and environment variables
 * as the services, lib/ay_config.h) and report every failure as one line on
 * stderr. Exit codes: 0 done, 1 runtime failure (broker, database, timeout),
 * 2 usage, configuration or invalid input.
 */
#ifndef AYCTL_H
#define AYCTL_H

#include <stdbool.h>

#include "ay_config.h"
#include "ay_err.h"
#include "ay_mqtt.h"

struct ayctl_config {
    struct ay_common_config common;
    char *school;              /* the school this client belongs to (devices) */
    long long timeout_ms;      /* overall wait for a receipt or a message */
    long long receipt_wait_ms; /* re-send a message without receipt after this */
    bool wait_receipt;         /* pub: wait for the backbone's receipt */
};

#define AYCTL_EXIT_OK      0
#define AYCTL_EXIT_FAILURE 1
#define AYCTL_EXIT_USAGE   2

int ayctl_pub(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_sub(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_encode(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_validate(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_migrate(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_registry(const struct ayctl_config *cfg, int argc, char **argv);

/* Shared by the commands: exit code for an error code. */
int ayctl_exit_code(enum ay_err rc);
/* Prints "ayctl: <reason>" on stderr. */
void ayctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reads all of a file ("-" = stdin), at most max bytes, into a new NUL-terminated buffer. */
enum ay_err ayctl_read_all(const char *path, size_t max, char **out, size_t *len,
                           char err[AY_ERRLEN]);
/* Connection options from the configuration: a clean session with client id
 * mqtt_client_id, else the account name, else "ayctl-<pid>" (written into
 * idbuf, which must outlive *o). */
void ayctl_mqtt_opts(const struct ayctl_config *cfg, char *idbuf, size_t cap,
                     struct ay_mqtt_opts *o);

#endif
