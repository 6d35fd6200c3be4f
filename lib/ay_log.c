/*
 * ay_log.c - logfmt lines to stderr, style.md section 5.
 *
 * Owns: the service name and minimum level (set once by ay_log_init).
 */
#include "ay_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096
#define LOG_KV_MAX   32

/* Configuration, written once at start before threads exist. */
static char log_svc[64] = "anyuan";
static enum ay_level log_min = AY_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "fatal"};

void ay_log_init(const char *svc, enum ay_level min_level)
{
    snprintf(log_svc, sizeof(log_svc), "%s", svc ? svc : "anyuan");
    log_min = min_level;
}

enum ay_err ay_log_level_parse(const char *s, enum ay_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (s != NULL && strcmp(s, level_names[i]) == 0) {
            *out = (enum ay_level)i;
            return AY_OK;
        }
    }
    return AY_ERR_INVALID;
}

bool ay_log_enabled(enum ay_level level)
{
    return level >= log_min;
}

/* Appends s to buf at *len, quoting and escaping when needed; never overflows. */
static void put_value(char *buf, size_t cap, size_t *len, const char *s)
{
    bool quote = (*s == '\0');
    for (const char *p = s; *p && !quote; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            quote = true;
    }
    /* Room is always kept for the closing quote, the '\n' and the NUL. */
    if (quote && *len + 3 < cap)
        buf[(*len)++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        size_t n;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            n = 2;
        } else if (*p == '\n') {
            memcpy(esc, "\\n", 2);
            n = 2;
        } else if (*p == '\r') {
            memcpy(esc, "\\r", 2);
            n = 2;
        } else if (*p == '\t') {
            memcpy(esc, "\\t", 2);
            n = 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
        } else {
            esc[0] = (char)*p;
            n = 1;
        }
        if (*len + n + 2 >= cap)
            break;
        memcpy(buf + *len, esc, n);
        *len += n;
    }
    if (quote && *len + 2 < cap)
        buf[(*len)++] = '"';
}

static void put_raw(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 2 >= cap)
        n = cap > *len + 2 ? cap - *len - 2 : 0;
    memcpy(buf + *len, s, n);
    *len += n;
}

size_t ay_log_format(char *buf, size_t cap, long long now_ms, enum ay_level level, const char *svc,
                     const char *msg, const char *const *kv, size_t kv_count)
{
    char ts[96];
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    size_t len = 0;

    if (cap < 4)
        return 0;
    gmtime_r(&secs, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now_ms % 1000));
    put_raw(buf, cap, &len, "ts=");
    put_raw(buf, cap, &len, ts);
    put_raw(buf, cap, &len, " level=");
    put_raw(buf, cap, &len, level_names[level <= AY_LOG_FATAL ? level : AY_LOG_FATAL]);
    put_raw(buf, cap, &len, " svc=");
    put_value(buf, cap, &len, svc);
    put_raw(buf, cap, &len, " msg=");
    put_value(buf, cap, &len, msg ? msg : "");
    for (size_t i = 0; i + 1 < kv_count; i += 2) {
        if (kv[i] == NULL || kv[i + 1] == NULL)
            continue;
        put_raw(buf, cap, &len, " ");
        put_raw(buf, cap, &len, kv[i]);
        put_raw(buf, cap, &len, "=");
        put_value(buf, cap, &len, kv[i + 1]);
    }
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

void ay_log_write(enum ay_level level, const char *msg, ...)
{
    const char *kv[LOG_KV_MAX];
    size_t n = 0;
    char line[LOG_LINE_MAX];
    struct timeval tv;
    va_list ap;

    if (!ay_log_enabled(level))
        return;
    /* Pairs: a NULL key ends the list; a NULL value skips its pair. */
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL)
            break;
        const char *v = va_arg(ap, const char *);
        if (n + 2 <= LOG_KV_MAX) {
            kv[n++] = k;
            kv[n++] = v;
        }
    }
    va_end(ap);
    gettimeofday(&tv, NULL);
    size_t len = ay_log_format(line, sizeof(line), (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000,
                               level, log_svc, msg, kv, n);
    /* One write per line keeps lines whole across threads. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
