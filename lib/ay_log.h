/*
 * ay_log.h - one logfmt line per event on stderr.
 *
 *   ts=2026-11-24T08:15:03.412Z level=info svc=recorder msg="stored" msg_id=...
 *
 * Owns: the process-wide log level and service name (configuration, set once
 * at start before threads) and the line format. Values are quoted when they
 * need it; quotes, backslashes and control characters are escaped so one
 * event is always one line.
 * Threads: ay_log_write is thread-safe (one write(2) per line).
 */
#ifndef AY_LOG_H
#define AY_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "ay_err.h"

enum ay_level {
    AY_LOG_DEBUG = 0,
    AY_LOG_INFO,
    AY_LOG_WARN,
    AY_LOG_ERROR,
    AY_LOG_FATAL,
};

/* Set once at start, before any thread logs. svc is copied. */
void ay_log_init(const char *svc, enum ay_level min_level);
/* Parses "debug", "info", "warn", "error", "fatal". */
enum ay_err ay_log_level_parse(const char *s, enum ay_level *out);
bool ay_log_enabled(enum ay_level level);

/*
 * Writes one line. kv is a NULL-terminated list of key, value string pairs;
 * a NULL value skips that pair. Example:
 *   ay_log_write(AY_LOG_ERROR, "could not store message",
 *                "msg_id", id, "err", err, NULL);
 */
void ay_log_write(enum ay_level level, const char *msg, ...) __attribute__((sentinel));

#define ay_log_debug(...) ay_log_write(AY_LOG_DEBUG, __VA_ARGS__)
#define ay_log_info(...)  ay_log_write(AY_LOG_INFO, __VA_ARGS__)
#define ay_log_warn(...)  ay_log_write(AY_LOG_WARN, __VA_ARGS__)
#define ay_log_error(...) ay_log_write(AY_LOG_ERROR, __VA_ARGS__)
#define ay_log_fatal(...) ay_log_write(AY_LOG_FATAL, __VA_ARGS__)

/*
 * Formats one line into buf (for tests and for ay_log_write); always
 * NUL-terminates and ends the line with '\n'. Returns the length written.
 * now_ms is the wall-clock time in milliseconds since the epoch.
 */
size_t ay_log_format(char *buf, size_t cap, long long now_ms, enum ay_level level, const char *svc,
                     const char *msg, const char *const *kv, size_t kv_count);

#endif
