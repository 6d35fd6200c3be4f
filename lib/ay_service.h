/*
 * ay_service.h - what every Anyuan program does before and around its own
 * work: arguments, configuration, logging, signals, exit codes, and the
 * stop flag that every loop and every wait of the service obeys.
 *
 * A service's main() is:
 *
 *   static const struct ay_service_def def = {.name = "watchdog", ...};
 *   int main(int argc, char **argv) {
 *       struct watchdog_config cfg;
 *       int code = ay_service_start(&def, argc, argv, &cfg, NULL);
 *       if (code < 0) {            // continue: configuration loaded, log set up
 *           code = run(&cfg);      // loops until ay_service_stopping()
 *       }
 *       ay_service_finish(&def, &cfg);
 *       return code;
 *   }
 *
 * Options every program understands: --config FILE (also AY_CONFIG),
 * --help, --config-reference (the table as Markdown for docs/), and, for a
 * service with SQL statements, --check-sql (prepares every statement against
 * the configured database and exits: the test that the SQL files match the
 * migrated schema).
 *
 * The stop flag: SIGTERM and SIGINT set it (a lock-free C11 atomic, so any
 * thread may read it) and make ay_service_sleep_ms() return at once, so a
 * backoff sleep never delays a stop. It is process-wide signal state, the
 * one kind of global the style guide allows.
 * Exit codes: AY_EXIT_OK 0 clean stop, AY_EXIT_FAILURE 1 runtime failure,
 * AY_EXIT_USAGE 2 usage or configuration error.
 * Threads: ay_service_start/finish on the main thread before/after the
 * others; ay_service_stopping, ay_service_sleep_ms and
 * ay_service_request_stop from any thread (and the last from a signal).
 */
#ifndef AY_SERVICE_H
#define AY_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "ay_config.h"
#include "ay_pg.h"

#define AY_EXIT_OK      0
#define AY_EXIT_FAILURE 1
#define AY_EXIT_USAGE   2

struct ay_service_def {
    const char *name;  /* "recorder": the log's svc=, the binary ay-<name> */
    const char *usage; /* usage line(s) and a one-paragraph summary for --help */
    const struct ay_config_def *defs;
    size_t ndefs;
    size_t config_size;   /* sizeof the program's config struct */
    size_t common_offset; /* offsetof the struct ay_common_config in the config */
    /* The service's SQL (embedded .sql files), for --check-sql; may be NULL. */
    const struct ay_pg_stmt *sql;
    size_t nsql;
    /* true: arguments after the options are a command (ayctl); *argi gets
     * the index of the first one. false: any argument is a usage error. */
    bool commands;
};

/*
 * Parses the options, loads the configuration into *cfg (zeroed first),
 * sets up logging, logs the effective configuration (services only) and
 * installs the signal handlers. Returns -1 to go on, or an exit code to
 * return at once (--help, --config-reference, --check-sql, errors; these
 * are printed or logged here). Call ay_service_finish in every case.
 */
int ay_service_start(const struct ay_service_def *d, int argc, char **argv, void *cfg, int *argi);
/* Releases what ay_service_start loaded into *cfg. */
void ay_service_finish(const struct ay_service_def *d, void *cfg);

/* True once SIGTERM/SIGINT arrived or ay_service_request_stop was called. */
bool ay_service_stopping(void);
/* Sets the stop flag (async-signal-safe). */
void ay_service_request_stop(void);
/* Sleeps ms, returning early when a stop is requested. Returns false when
 * stopping (before or after the sleep), true otherwise. */
bool ay_service_sleep_ms(int ms);
/* A descriptor that becomes readable once stopping (for poll() next to
 * other descriptors); -1 before ay_service_start. */
int ay_service_stop_fd(void);

#endif
