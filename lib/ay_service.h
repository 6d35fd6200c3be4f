/*
 * ay_service.h - what every Anyuan program does before and around its own
 * work: arguments, configuration, logging, signals, exit codes, and the
 * stop flag that every loop and every wait of the service obeys.
 *
 * A service's main() is:
 *
 *   static const struct ay_service_def def = {.name = "watchdog", ...};
 *   static int run(const void *cfg);  // loops until ay_service_stopping()
 *   int main(int argc, char **argv) {
 *       struct watchdog_config cfg;
 *       return ay_service_main(&def, watchdog_sql_count, argc, argv, &cfg, run);
 *   }
 *
 * which is ay_service_start, run when it says to go on, ay_service_finish;
 * a program that needs more between them (ayctl's commands) calls those two.
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

/* A service's work once started: cfg is its loaded configuration (the
 * program's config struct). Runs on the main thread; returns an exit code. */
typedef int ay_service_run_fn(const void *cfg);

/*
 * The whole of a service's main(): ay_service_start with *d (its nsql set
 * to nsql: an embedded statement count is not a constant expression), then
 * run(cfg) if the start says to go on, then ay_service_finish. cfg is the
 * program's config struct (d->config_size bytes). Returns the exit code.
 */
int ay_service_main(const struct ay_service_def *d, size_t nsql, int argc, char **argv, void *cfg,
                    ay_service_run_fn *run);

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
