/*
 * ay_config.c - table-driven configuration, style.md section 6.
 *
 * Owns: nothing between calls; strings it stores belong to the caller's
 * struct until ay_config_cleanup(). The only getenv() calls of the project.
 */
#include "ay_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"

#define LINE_MAX_LEN 4096

static char **str_field(void *cfg, const struct ay_config_def *d)
{
    return (char **)((char *)cfg + d->offset);
}

static enum ay_err set_value(const struct ay_config_def *d, void *cfg, const char *value,
                             char reason[AY_ERRLEN])
{
    switch (d->type) {
    case AY_CFG_STRING:
    case AY_CFG_SECRET: {
        char *copy = strdup(value ? value : "");
        if (copy == NULL)
            return AY_ERR_NOMEM;
        free(*str_field(cfg, d));
        *str_field(cfg, d) = copy;
        return AY_OK;
    }
    case AY_CFG_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(value ? value : "", &end, 10);
        if (value == NULL || *value == '\0' || *end != '\0' || errno != 0) {
            ay_errf(reason, "expected an integer, got \"%s\"", value ? value : "");
            return AY_ERR_CONFIG;
        }
        if (v < d->min || v > d->max) {
            ay_errf(reason, "%lld is out of range %lld..%lld", v, d->min, d->max);
            return AY_ERR_CONFIG;
        }
        *(long long *)((char *)cfg + d->offset) = v;
        return AY_OK;
    }
    case AY_CFG_BOOL: {
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        for (size_t i = 0; i < 4; i++) {
            if (value && strcmp(value, yes[i]) == 0) {
                *(bool *)((char *)cfg + d->offset) = true;
                return AY_OK;
            }
            if (value && strcmp(value, no[i]) == 0) {
                *(bool *)((char *)cfg + d->offset) = false;
                return AY_OK;
            }
        }
        ay_errf(reason, "expected true or false, got \"%s\"", value ? value : "");
        return AY_ERR_CONFIG;
    }
    }
    return AY_ERR_CONFIG;
}

static const struct ay_config_def *find_def(const struct ay_config_def *defs, size_t n,
                                            const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(defs[i].key, key) == 0)
            return &defs[i];
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

/* Parses one non-comment line "key = value" of the file into *cfg. */
static enum ay_err load_line(const struct ay_config_def *defs, size_t n, void *cfg, char *line,
                             const char *file, int lineno, char err[AY_ERRLEN])
{
    char reason[AY_ERRLEN] = "";
    char *eq = strchr(line, '=');

    if (eq == NULL) {
        ay_errf(err, "%s:%d: expected key = value", file, lineno);
        return AY_ERR_CONFIG;
    }
    *eq = '\0';
    char *key = trim(line);
    char *value = trim(eq + 1);
    size_t vlen = strlen(value);
    if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
        value[vlen - 1] = '\0';
        value++;
    }
    const struct ay_config_def *d = find_def(defs, n, key);
    if (d == NULL) {
        ay_errf(err, "%s:%d: %s: unknown key", file, lineno, key);
        return AY_ERR_CONFIG;
    }
    enum ay_err rc = set_value(d, cfg, value, reason);
    if (rc != AY_OK)
        ay_errf(err, "%s:%d: %s: %s", file, lineno, key, reason);
    return rc;
}

static enum ay_err load_file(const struct ay_config_def *defs, size_t n, const char *file,
                             void *cfg, char err[AY_ERRLEN])
{
    enum ay_err rc = AY_OK;
    char line[LINE_MAX_LEN];
    int lineno = 0;
    FILE *f = fopen(file, "r");

    if (f == NULL) {
        ay_errf(err, "%s: cannot open: %s", file, strerror(errno));
        return AY_ERR_CONFIG;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            ay_errf(err, "%s:%d: line too long", file, lineno);
            rc = AY_ERR_CONFIG;
            goto cleanup;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        rc = load_line(defs, n, cfg, s, file, lineno, err);
        if (rc != AY_OK)
            goto cleanup;
    }
cleanup:
    fclose(f);
    return rc;
}

enum ay_err ay_config_load(const struct ay_config_def *defs, size_t n, const char *file, void *cfg,
                           char err[AY_ERRLEN])
{
    char reason[AY_ERRLEN] = "";
    enum ay_err rc;

    for (size_t i = 0; i < n; i++) {
        if (defs[i].def == NULL && defs[i].type != AY_CFG_STRING && defs[i].type != AY_CFG_SECRET)
            continue;
        rc = set_value(&defs[i], cfg, defs[i].def, reason);
        if (rc != AY_OK) {
            ay_errf(err, "default of %s: %s", defs[i].key, reason);
            return rc;
        }
    }
    if (file != NULL && *file != '\0') {
        rc = load_file(defs, n, file, cfg, err);
        if (rc != AY_OK)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = defs[i].env ? getenv(defs[i].env) : NULL;
        if (v == NULL)
            continue;
        rc = set_value(&defs[i], cfg, v, reason);
        if (rc != AY_OK) {
            ay_errf(err, "environment %s: %s: %s", defs[i].env, defs[i].key, reason);
            return rc;
        }
    }
    return AY_OK;
}

void ay_config_cleanup(const struct ay_config_def *defs, size_t n, void *cfg)
{
    for (size_t i = 0; i < n; i++) {
        if (defs[i].type == AY_CFG_STRING || defs[i].type == AY_CFG_SECRET) {
            free(*str_field(cfg, &defs[i]));
            *str_field(cfg, &defs[i]) = NULL;
        }
    }
}

/* Writes the value of one key as text into buf (secrets as ***). */
static void value_text(const struct ay_config_def *d, const void *cfg, char *buf, size_t cap)
{
    const char *base = (const char *)cfg + d->offset;
    switch (d->type) {
    case AY_CFG_STRING:
        snprintf(buf, cap, "%s", *(char *const *)base ? *(char *const *)base : "");
        break;
    case AY_CFG_SECRET:
        snprintf(buf, cap, "%s", (*(char *const *)base && **(char *const *)base) ? "***" : "");
        break;
    case AY_CFG_INT:
        snprintf(buf, cap, "%lld", *(const long long *)base);
        break;
    case AY_CFG_BOOL:
        snprintf(buf, cap, "%s", *(const bool *)base ? "true" : "false");
        break;
    }
}

void ay_config_log(const struct ay_config_def *defs, size_t n, const void *cfg)
{
    char line[LINE_MAX_LEN];
    size_t len = 0;

    line[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof(line); i++) {
        char v[512];
        value_text(&defs[i], cfg, v, sizeof(v));
        int w = snprintf(line + len, sizeof(line) - len, "%s%s=%s", i ? " " : "", defs[i].key, v);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    ay_log_info("effective configuration", "config", line, NULL);
}

void ay_config_print_help(const struct ay_config_def *defs, size_t n, FILE *out)
{
    fprintf(out, "Configuration (default < file given by --config or AY_CONFIG < environment):\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %-22s %-20s %s", defs[i].key, defs[i].env ? defs[i].env : "-",
                defs[i].help);
        if (defs[i].def && *defs[i].def)
            fprintf(out, " (default: %s)", defs[i].def);
        if (defs[i].type == AY_CFG_INT)
            fprintf(out, " [%lld..%lld]", defs[i].min, defs[i].max);
        fputc('\n', out);
    }
}

void ay_config_print_markdown(const struct ay_config_def *defs, size_t n, FILE *out)
{
    static const char *const types[] = {"string", "secret", "integer", "boolean"};
    fprintf(out, "| key | environment | type | default | meaning |\n");
    fprintf(out, "| --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < n; i++) {
        char range[64] = "";
        if (defs[i].type == AY_CFG_INT)
            snprintf(range, sizeof(range), " %lld..%lld", defs[i].min, defs[i].max);
        fprintf(out, "| `%s` | `%s` | %s%s | %s%s%s | %s |\n", defs[i].key,
                defs[i].env ? defs[i].env : "-", types[defs[i].type], range,
                defs[i].def && *defs[i].def ? "`" : "", defs[i].def ? defs[i].def : "",
                defs[i].def && *defs[i].def ? "`" : "", defs[i].help);
    }
}

const char *ay_config_env_file(void)
{
    const char *f = getenv("AY_CONFIG");
    return (f && *f) ? f : NULL;
}
