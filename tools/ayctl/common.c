/*
 * ayctl common.c - what the commands share: failure lines and exit codes,
 * files, connection options, the database, waiting for messages.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ay_policy.h"
#include "ay_service.h"
#include "ay_time.h"
#include "ayctl.h"

void ayctl_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("ayctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int ayctl_exit_code(enum ay_err rc)
{
    switch (rc) {
    case AY_OK:
        return AYCTL_EXIT_OK;
    case AY_ERR_INVALID:
    case AY_ERR_CONFIG:
        return AYCTL_EXIT_USAGE;
    default:
        return AYCTL_EXIT_FAILURE;
    }
}

enum ay_err ayctl_read_all(const char *path, size_t max, char **out, size_t *len,
                           char err[AY_ERRLEN])
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    enum ay_err rc = AY_OK;

    if (f == NULL) {
        ay_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return AY_ERR_INVALID;
    }
    buf = malloc(max + 2);
    if (buf == NULL) {
        rc = AY_ERR_NOMEM;
        goto cleanup;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        ay_errf(err, "%s: cannot read: %s", path, strerror(errno));
        rc = AY_ERR_IO;
        goto cleanup;
    }
    if (n > max) {
        ay_errf(err, "%s: larger than %zu bytes", path, max);
        rc = AY_ERR_INVALID;
        goto cleanup;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
cleanup:
    free(buf);
    if (f != stdin)
        fclose(f);
    return rc;
}

void ayctl_mqtt_opts(const struct ayctl_config *cfg, char *idbuf, size_t cap,
                     struct ay_mqtt_opts *o)
{
    memset(o, 0, sizeof(*o));
    if (cfg->common.mqtt_client_id && *cfg->common.mqtt_client_id)
        snprintf(idbuf, cap, "%s", cfg->common.mqtt_client_id);
    else if (cfg->common.mqtt_username && *cfg->common.mqtt_username)
        snprintf(idbuf, cap, "%s", cfg->common.mqtt_username);
    else
        snprintf(idbuf, cap, "ayctl-%ld", (long)getpid());
    o->url = cfg->common.mqtt_url;
    o->client_id = idbuf;
    o->username = cfg->common.mqtt_username;
    o->password = cfg->common.mqtt_password;
    o->ca_file = cfg->common.mqtt_ca_file;
    o->clean_start = true;
}

enum ay_err ayctl_db_connect(const struct ayctl_config *cfg, struct ay_pg **out,
                             char err[AY_ERRLEN])
{
    struct ay_pg *db = NULL;

    if (cfg->common.database_url == NULL || cfg->common.database_url[0] == '\0') {
        ay_errf(err, "no database configured (database_url, DATABASE_URL)");
        return AY_ERR_CONFIG;
    }
    enum ay_err rc = ay_pg_new(cfg->common.database_url, 60000, &db, err);
    if (rc == AY_OK)
        rc = ay_pg_connect(db, err);
    if (rc != AY_OK) {
        ay_pg_free(db);
        return rc;
    }
    *out = db;
    return AY_OK;
}

bool ayctl_parse_count(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < 1) {
        ayctl_fail("--count: expected a positive number, got \"%s\"", s);
        return false;
    }
    *out = v;
    return true;
}

const char *ayctl_audience(const struct ayctl_config *cfg, const char *option)
{
    const char *a = option;
    enum ay_audience parsed;

    if (a == NULL || *a == '\0')
        a = cfg->audience;
    if (a == NULL || *a == '\0')
        a = "bureau";
    if (!ay_audience_parse(a, &parsed)) {
        ayctl_fail("unknown audience \"%s\": use police, bureau, government or school", a);
        return NULL;
    }
    return ay_audience_word(parsed);
}

int ayctl_wait_count(const struct ayctl_config *cfg, pthread_mutex_t *lock, const long long *got,
                     long long want)
{
    int64_t deadline = ay_time_now_us() + cfg->timeout_ms * 1000;

    while (!ay_service_stopping()) {
        pthread_mutex_lock(lock);
        long long n = *got;
        pthread_mutex_unlock(lock);
        if (want > 0 && n >= want)
            return AYCTL_EXIT_OK;
        if (want > 0 && ay_time_now_us() > deadline) {
            ayctl_fail("only %lld of %lld messages arrived within %lld ms", n, want,
                       cfg->timeout_ms);
            return AYCTL_EXIT_FAILURE;
        }
        (void)ay_service_sleep_ms(20);
    }
    return AYCTL_EXIT_OK;
}

void ayctl_who(const struct ayctl_config *cfg, char *buf, size_t cap)
{
    struct passwd pw;
    struct passwd *found = NULL;
    char tmp[1024];

    if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &found) == 0 && found != NULL &&
        found->pw_name[0] != '\0')
        snprintf(buf, cap, "%s", found->pw_name);
    else if (cfg->common.mqtt_username && cfg->common.mqtt_username[0] != '\0')
        snprintf(buf, cap, "%s", cfg->common.mqtt_username);
    else
        snprintf(buf, cap, "ayctl");
}
