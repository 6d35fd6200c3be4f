/*
 * ay_config.h - configuration as a table: built-in default < file < environment.
 *
 * Each program declares one table of struct ay_config_def; the same table
 * loads the values into the program's config struct, prints --help, and logs
 * the effective configuration (secrets as ***). style.md section 6.
 *
 * File format: one `key = value` per line; `#` starts a comment line; blank
 * lines are ignored; values may be wrapped in double quotes. Unknown keys and
 * out-of-range values stop the start with "file:line: key: reason".
 *
 * Owns: the strings it stores into the caller's struct (char * fields); the
 * caller releases them with ay_config_cleanup(). getenv() is used only here.
 */
#ifndef AY_CONFIG_H
#define AY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ay_err.h"

enum ay_config_type {
    AY_CFG_STRING, /* char * field */
    AY_CFG_SECRET, /* char * field, never printed */
    AY_CFG_INT,    /* long long field, range-checked */
    AY_CFG_BOOL,   /* bool field: true/false/yes/no/on/off/1/0 */
};

struct ay_config_def {
    const char *key; /* e.g. "mqtt_url" */
    const char *env; /* e.g. "AY_MQTT_URL"; NULL: no environment override */
    enum ay_config_type type;
    const char *def;  /* default, as text; NULL: unset (empty string for strings) */
    long long min;    /* AY_CFG_INT only */
    long long max;    /* AY_CFG_INT only */
    size_t offset;    /* offsetof the field in the caller's struct */
    const char *help; /* one line */
};

/* The connection settings every service, gateway and tool shares. */
struct ay_common_config {
    char *mqtt_url;
    char *mqtt_username;
    char *mqtt_password;
    char *mqtt_client_id;
    char *mqtt_ca_file;
    char *database_url;
    char *district;
    char *log_level;
};

/*
 * Table rows for struct ay_common_config embedded as member M of struct T.
 * Use inside a program's table: AY_CONFIG_COMMON_DEFS(struct recorder_config, common),
 */
#define AY_CONFIG_COMMON_DEFS(T, M)                                                                \
    {"mqtt_url",                                                                                   \
     "AY_MQTT_URL",                                                                                \
     AY_CFG_STRING,                                                                                \
     "tcp://127.0.0.1:11883",                                                                      \
     0,                                                                                            \
     0,                                                                                            \
     offsetof(T, M.mqtt_url),                                                                      \
     "broker URL: tcp://host:port, ssl://host:port or mqtts://host:port"},                         \
        {"mqtt_username",                                                                          \
         "AY_MQTT_USERNAME",                                                                       \
         AY_CFG_STRING,                                                                            \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         offsetof(T, M.mqtt_username),                                                             \
         "broker account name"},                                                                   \
        {"mqtt_password",                                                                          \
         "AY_MQTT_PASSWORD",                                                                       \
         AY_CFG_SECRET,                                                                            \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         offsetof(T, M.mqtt_password),                                                             \
         "broker account password"},                                                               \
        {"mqtt_client_id",                                                                         \
         "AY_MQTT_CLIENT_ID",                                                                      \
         AY_CFG_STRING,                                                                            \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         offsetof(T, M.mqtt_client_id),                                                            \
         "MQTT client id (default: derived from the account)"},                                    \
        {"mqtt_ca_file",                                                                           \
         "AY_MQTT_CA_FILE",                                                                        \
         AY_CFG_STRING,                                                                            \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         offsetof(T, M.mqtt_ca_file),                                                              \
         "CA certificate for ssl:// broker URLs"},                                                 \
        {"database_url",                                                                           \
         "DATABASE_URL",                                                                           \
         AY_CFG_SECRET,                                                                            \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         offsetof(T, M.database_url),                                                              \
         "PostgreSQL connection URI (postgresql://user:password@host:port/db)"},                   \
        {"district",                                                                               \
         "AY_DISTRICT",                                                                            \
         AY_CFG_STRING,                                                                            \
         "d01",                                                                                    \
         0,                                                                                        \
         0,                                                                                        \
         offsetof(T, M.district),                                                                  \
         "district id this process serves"},                                                       \
    {                                                                                              \
        "log_level", "AY_LOG_LEVEL", AY_CFG_STRING, "info", 0, 0, offsetof(T, M.log_level),        \
            "debug, info, warn, error or fatal"                                                    \
    }

/*
 * Loads defaults, then `file` (NULL: none; a missing named file is an
 * error), then environment variables, into *cfg. On error *cfg may hold
 * some values: the caller still calls ay_config_cleanup(). Exit code 2.
 */
enum ay_err ay_config_load(const struct ay_config_def *defs, size_t n, const char *file, void *cfg,
                           char err[AY_ERRLEN]);
/* Frees the strings ay_config_load stored in *cfg. */
void ay_config_cleanup(const struct ay_config_def *defs, size_t n, void *cfg);
/* Logs the effective configuration at info, one line, secrets as ***. */
void ay_config_log(const struct ay_config_def *defs, size_t n, const void *cfg);
/* Prints the table (key, environment variable, default, help) for --help. */
void ay_config_print_help(const struct ay_config_def *defs, size_t n, FILE *out);
/* Prints the table as a Markdown table (docs/configuration.md). */
void ay_config_print_markdown(const struct ay_config_def *defs, size_t n, FILE *out);
/* The AY_CONFIG environment variable (the config file to use) or NULL. */
const char *ay_config_env_file(void);

#endif
