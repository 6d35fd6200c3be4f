/*
 * audit.c - refusal lines, per-account limits and the overall budget; see
 * audit.h. Lines are formatted by lib/ay_log (ay_log_format), counted by
 * lib/ay_ratelimit: both are compiled into the plugin (see CMakeLists.txt).
 */
#include "audit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_ratelimit.h"

/* Accounts tracked at once; past that the one idle longest is forgotten
 * (its pending count is told first, ay_ratelimit.h). */
#define AUDIT_SLOTS 128
/* Summaries of ended windows are looked for at most this often. */
#define AUDIT_FLUSH_US 1000000
/* Longest value put in a refusal line, in bytes before escaping. MQTT allows
 * 64 KiB usernames, client ids and topics; the line must stay one bounded
 * line. Mosquitto refuses control characters in them (lib/utf8_mosq.c), so
 * only '"' and '\\' grow, to two bytes: a line of these fits AUDIT_LINE_MAX. */
#define AUDIT_NAME_MAX  64
#define AUDIT_TOPIC_MAX 200
/* Any value (also of the plugin's own lines) is cut to this, and no line
 * has more pairs than this. */
#define AUDIT_VALUE_MAX 256
#define AUDIT_KV_MAX    16

struct audit {
    struct audit_limits lim;
    int64_t window_us;
    struct ay_ratelimit *per_account;
    audit_line_fn *line;
    void *arg;
    /* The budget for all accounts: a fixed window of lim.max_lines lines. */
    int64_t budget_start_us;
    unsigned budget_used;
    unsigned long untold; /* refusals the budget swallowed in this window */
    int64_t flushed_us;
};

enum ay_err audit_new(const struct audit_limits *lim, audit_line_fn *line, void *arg,
                      struct audit **out)
{
    struct audit *a = NULL;
    enum ay_err rc;

    if (lim->burst == 0 || lim->window_s == 0 || lim->max_lines == 0 || line == NULL)
        return AY_ERR_INVALID;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return AY_ERR_NOMEM;
    a->lim = *lim;
    a->window_us = (int64_t)lim->window_s * 1000000;
    a->line = line;
    a->arg = arg;
    rc = ay_ratelimit_new(AUDIT_SLOTS, a->window_us, lim->burst, &a->per_account);
    if (rc != AY_OK) {
        free(a);
        return rc;
    }
    *out = a;
    return AY_OK;
}

void audit_free(struct audit *a)
{
    if (a == NULL)
        return;
    ay_ratelimit_free(a->per_account);
    free(a);
}

/* Copies s into dst whole or, if longer than cap - 1 bytes, cut before the
 * UTF-8 character that does not fit. Returns whether it was cut. */
static bool copy_cut(char *dst, size_t cap, const char *s)
{
    size_t n = strnlen(s, cap);

    if (n < cap) {
        memcpy(dst, s, n + 1);
        return false;
    }
    n = cap - 1;
    /* s[n] is the first byte left out: a continuation byte means its
     * character began inside the copy, so that character goes too. */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

void audit_say(audit_line_fn *line, void *arg, enum ay_level level, const char *msg,
               const char *const *kv, size_t kv_count)
{
    char values[AUDIT_KV_MAX / 2][AUDIT_VALUE_MAX + 1];
    const char *cut[AUDIT_KV_MAX];
    /*
     * The line never fills buf (a broker log line stays readable): values
     * are cut to AUDIT_VALUE_MAX bytes and buf has room for all of them
     * escaped to four bytes each (\xNN), plus the
     * "ts=1970-01-01T00:00:00.000Z " that ay_log_format puts first (time 0,
     * cut off).
     */
    char buf[AUDIT_KV_MAX / 2 * (AUDIT_VALUE_MAX * 4 + 32) + 4 * AUDIT_LINE_MAX];
    char *p = buf;

    if (kv_count > AUDIT_KV_MAX)
        kv_count = AUDIT_KV_MAX;
    for (size_t i = 0; i + 1 < kv_count; i += 2) {
        cut[i] = kv[i];
        cut[i + 1] = NULL;
        if (kv[i + 1] != NULL) {
            copy_cut(values[i / 2], sizeof(values[i / 2]), kv[i + 1]);
            cut[i + 1] = values[i / 2];
        }
    }
    size_t len =
        ay_log_format(buf, sizeof(buf), 0, level, "ay_audit", msg, cut, kv_count - kv_count % 2);
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (strncmp(buf, "ts=", 3) == 0 && strchr(buf, ' ') != NULL)
        p = strchr(buf, ' ') + 1;
    len = strlen(p);
    if (len >= AUDIT_LINE_MAX) {
        /* only with values no client can send: keep whole characters */
        len = AUDIT_LINE_MAX - 1;
        while (len > 0 && ((unsigned char)p[len] & 0xC0) == 0x80)
            len--;
        p[len] = '\0';
    }
    line(arg, level, p);
}

/* Closes the budget's window if it ended by now_us, telling what it
 * swallowed (this line is the one outside the budget). */
static void budget_roll(struct audit *a, int64_t now_us)
{
    if (now_us - a->budget_start_us < a->window_us)
        return;
    if (a->untold > 0) {
        char n[24];
        char max[24];
        char window[24];
        snprintf(n, sizeof(n), "%lu", a->untold);
        snprintf(max, sizeof(max), "%u", a->lim.max_lines);
        snprintf(window, sizeof(window), "%u", a->lim.window_s);
        const char *kv[] = {
            "suppressed", n,   "reason",   "log budget of all accounts used up",
            "max_lines",  max, "window_s", window,
        };
        audit_say(a->line, a->arg, AY_LOG_WARN, "refusals suppressed", kv, 8);
    }
    a->budget_start_us = now_us;
    a->budget_used = 0;
    a->untold = 0;
}

/* Takes a line of the budget for a line standing for `refusals` refusals;
 * if none is left they are counted instead. */
static bool budget_take(struct audit *a, unsigned long refusals)
{
    if (a->budget_used < a->lim.max_lines) {
        a->budget_used++;
        return true;
    }
    a->untold += refusals;
    return false;
}

/* ay_ratelimit_report_fn: an account's window ended with n refusals untold. */
static void report_suppressed(void *arg, const char *key, unsigned long n)
{
    struct audit *a = arg;
    char count[24];
    char burst[24];
    char window[24];

    if (!budget_take(a, n))
        return;
    snprintf(count, sizeof(count), "%lu", n);
    snprintf(burst, sizeof(burst), "%u", a->lim.burst);
    snprintf(window, sizeof(window), "%u", a->lim.window_s);
    /* key "" is the logins without a username */
    const char *kv[] = {
        "username", key[0] ? key : NULL, "suppressed", count, "burst", burst, "window_s", window,
    };
    audit_say(a->line, a->arg, AY_LOG_WARN, "refusals suppressed", kv, 8);
}

void audit_refused(struct audit *a, const struct audit_refusal *r, int64_t now_us)
{
    char msg[64];
    char username[AUDIT_NAME_MAX + 1];
    char client_id[AUDIT_NAME_MAX + 1];
    char address[AUDIT_NAME_MAX + 1];
    char topic[AUDIT_TOPIC_MAX + 1];
    char topic_len[24];
    bool topic_cut = false;

    budget_roll(a, now_us);
    /* Logins without a username share the key "" (an empty username too). */
    if (!ay_ratelimit_allow(a->per_account, r->username ? r->username : "", now_us,
                            report_suppressed, a))
        return;
    if (!budget_take(a, 1))
        return;
    snprintf(msg, sizeof(msg), "refused %s", r->action);
    if (r->username)
        copy_cut(username, sizeof(username), r->username);
    if (r->client_id)
        copy_cut(client_id, sizeof(client_id), r->client_id);
    if (r->address)
        copy_cut(address, sizeof(address), r->address);
    if (r->topic)
        topic_cut = copy_cut(topic, sizeof(topic), r->topic);
    if (topic_cut)
        snprintf(topic_len, sizeof(topic_len), "%zu", strlen(r->topic));
    const char *kv[] = {
        "username",  r->username ? username : NULL,
        "client_id", r->client_id ? client_id : NULL,
        "address",   r->address ? address : NULL,
        "topic",     r->topic ? topic : NULL,
        "topic_len", topic_cut ? topic_len : NULL, /* only when cut */
        "reason",    r->reason,
    };
    audit_say(a->line, a->arg, AY_LOG_WARN, msg, kv, 12);
}

void audit_tick(struct audit *a, int64_t now_us)
{
    if (now_us - a->flushed_us < AUDIT_FLUSH_US)
        return;
    a->flushed_us = now_us;
    budget_roll(a, now_us);
    ay_ratelimit_flush(a->per_account, now_us, report_suppressed, a);
}
