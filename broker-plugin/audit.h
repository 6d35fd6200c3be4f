/*
 * audit.h - the decisions of the ay_audit broker plugin, free of Mosquitto:
 * which refusals get a log line, what the line says, and when a flood is
 * summed up instead.
 *
 * Owns: a per-account limiter (lib/ay_ratelimit: at most `burst` lines per
 * account per window, the rest counted and told in one summary line) and a
 * budget for all accounts together (at most `max_lines` lines per window,
 * summaries included; one more line tells what the budget swallowed), so a
 * flood of refusals, even under ever new usernames, costs a bounded number
 * of lines. Does not own: the decision to refuse (the dynamic security
 * plugin's) or writing the line (the caller's audit_line_fn).
 * Enforces: shared/domain.md "everything leaves a trace" for refused access:
 * one line per refused login, publish or subscription, with the account, the
 * client id, the peer address and the topic.
 * Threads: not thread-safe. Mosquitto 2.0.11 runs every plugin callback on
 * its one thread. Time is passed in (now_us, monotonic microseconds).
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_log.h"

/* Longest line handed to audit_line_fn, NUL included: Mosquitto 2.0.11
 * formats a log line into 1000 bytes, its timestamp and ": " included. */
#define AUDIT_LINE_MAX 960

#define AUDIT_DEFAULT_BURST     10
#define AUDIT_DEFAULT_WINDOW_S  10
#define AUDIT_DEFAULT_MAX_LINES 100

struct audit_limits {
    unsigned burst;     /* lines per account per window (>= 1) */
    unsigned window_s;  /* the window (>= 1) */
    unsigned max_lines; /* lines per window for all accounts together (>= 1) */
};

/* Receives one finished line: logfmt as lib/ay_log writes it, without its
 * ts= (the broker puts its own timestamp in front), no newline. Runs on the
 * caller's thread, inside audit_refused, audit_tick or audit_say. */
typedef void audit_line_fn(void *arg, enum ay_level level, const char *line);

/* One refusal. Only action and reason are required; NULL fields are left out
 * of the line (a NULL username is a login without one). */
struct audit_refusal {
    const char *action; /* login, publish, subscribe, unsubscribe, receive */
    const char *username;
    const char *client_id;
    const char *address; /* the peer's IP address */
    const char *topic;   /* the topic or subscription filter */
    const char *reason;
};

struct audit; /* opaque */

/* On AY_OK *out is a new auditor writing through line(arg, ...); the caller
 * frees it with audit_free. AY_ERR_INVALID if a limit is 0. */
enum ay_err audit_new(const struct audit_limits *lim, audit_line_fn *line, void *arg,
                      struct audit **out);
void audit_free(struct audit *a); /* NULL is a no-op */

/* Logs r in one line, or counts it if its account or the budget is used up. */
void audit_refused(struct audit *a, const struct audit_refusal *r, int64_t now_us);

/* Tells the suppressed counts of windows that ended by now_us. Call it
 * often (every broker loop turn); it does the work at most once a second. */
void audit_tick(struct audit *a, int64_t now_us);

/* Writes one line about the plugin itself (start, degraded mode) through
 * line(arg, ...): msg and the key/value pairs as for ay_log. Not limited. */
void audit_say(audit_line_fn *line, void *arg, enum ay_level level, const char *msg,
               const char *const *kv, size_t kv_count);

#endif
