/*
 * policy_edit.c - dotted-path edits and differences of policy documents;
 * see policy_edit.h.
 */
#include "policy_edit.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths ------------------------------------------------------------------- */

struct segment {
    bool is_index;
    int index;
    char key[AYCTL_PATH_MAX + 1];
    size_t end; /* offset in the path just after this segment */
};

/* Splits path into segments; AY_ERR_INVALID with a reason otherwise. */
static enum ay_err split(const char *path, struct segment *segs, int *nsegs, char err[AY_ERRLEN])
{
    size_t i = 0;
    int n = 0;
    size_t len = strlen(path);

    if (len == 0 || len > AYCTL_PATH_MAX) {
        ay_errf(err, "\"%s\": expected a key like written_report or chains.bureau[0].ack_timeout",
                path);
        return AY_ERR_INVALID;
    }
    while (i < len) {
        struct segment *s = &segs[n];
        if (n == AYCTL_PATH_SEGMENTS) {
            ay_errf(err, "%s: more than %d parts", path, AYCTL_PATH_SEGMENTS);
            return AY_ERR_INVALID;
        }
        memset(s, 0, sizeof(*s));
        if (path[i] == '[') {
            size_t start = ++i;
            long v = 0;
            while (i < len && isdigit((unsigned char)path[i]) && i - start < 4)
                v = v * 10 + (path[i++] - '0');
            if (i == start || i >= len || path[i] != ']') {
                ay_errf(err, "%.*s: expected [N] with N a number from 0 to 9999", (int)i, path);
                return AY_ERR_INVALID;
            }
            i++;
            s->is_index = true;
            s->index = (int)v;
        } else {
            if (n > 0) {
                if (path[i] != '.') {
                    ay_errf(err, "%.*s: expected '.' or '[' after \"%.*s\"", (int)(i + 1), path,
                            (int)i, path);
                    return AY_ERR_INVALID;
                }
                i++;
            }
            size_t start = i;
            while (i < len && path[i] != '.' && path[i] != '[' && path[i] != ']')
                i++;
            if (i == start) {
                ay_errf(err, "%.*s: empty key", (int)(i < len ? i + 1 : i), path);
                return AY_ERR_INVALID;
            }
            memcpy(s->key, path + start, i - start);
            s->key[i - start] = '\0';
        }
        s->end = i;
        n++;
    }
    *nsegs = n;
    return AY_OK;
}

/* The child of node at segment s (NULL if none); node may be NULL. */
static cJSON *child_of(const cJSON *node, const struct segment *s)
{
    if (node == NULL)
        return NULL;
    if (s->is_index)
        return cJSON_IsArray(node) ? cJSON_GetArrayItem(node, s->index) : NULL;
    return cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, s->key) : NULL;
}

/* Checks that segment s can be applied to node; err names path up to s. */
static enum ay_err fits(const cJSON *node, const char *path, const struct segment *s, size_t before,
                        char err[AY_ERRLEN])
{
    if (s->is_index) {
        if (!cJSON_IsArray(node)) {
            ay_errf(err, "%.*s: is not a list, so [%d] does not apply", (int)before, path,
                    s->index);
            return AY_ERR_INVALID;
        }
        int n = cJSON_GetArraySize(node);
        if (s->index > n) {
            ay_errf(err, "%.*s: no such item: the list has %d (use [%d] to add one)", (int)s->end,
                    path, n, n);
            return AY_ERR_INVALID;
        }
        return AY_OK;
    }
    if (!cJSON_IsObject(node)) {
        ay_errf(err, "%.*s: is not an object, so .%s does not apply", (int)before, path, s->key);
        return AY_ERR_INVALID;
    }
    return AY_OK;
}

/* Adds item to node at segment s (an append for an index); takes item on true. */
static bool attach(cJSON *node, const struct segment *s, cJSON *item)
{
    if (s->is_index) {
        if (s->index < cJSON_GetArraySize(node))
            return cJSON_ReplaceItemInArray(node, s->index, item);
        return cJSON_AddItemToArray(node, item);
    }
    if (cJSON_GetObjectItemCaseSensitive(node, s->key) != NULL)
        return cJSON_ReplaceItemInObjectCaseSensitive(node, s->key, item);
    return cJSON_AddItemToObject(node, s->key, item);
}

enum ay_err ayctl_policy_set_path(cJSON *doc, const cJSON *eff, const char *path, cJSON *value,
                                  char err[AY_ERRLEN])
{
    struct segment segs[AYCTL_PATH_SEGMENTS];
    int n = 0;
    cJSON *node = doc;
    const cJSON *enode = eff;
    size_t before = 0;
    enum ay_err rc = split(path, segs, &n, err);

    if (rc != AY_OK)
        return rc;
    if (segs[0].is_index) {
        ay_errf(err, "%s: must start with a key", path);
        return AY_ERR_INVALID;
    }
    for (int i = 0; i < n - 1; i++) {
        if ((rc = fits(node, path, &segs[i], before, err)) != AY_OK)
            return rc;
        cJSON *child = child_of(node, &segs[i]);
        const cJSON *echild = child_of(enode, &segs[i]);
        if (child == NULL) {
            /* A list replaces its default whole: start from the effective
             * one. Objects merge over the defaults: start empty. */
            if (cJSON_IsArray(echild))
                child = cJSON_Duplicate(echild, true);
            else if (echild == NULL && segs[i + 1].is_index)
                child = cJSON_CreateArray();
            else
                child = cJSON_CreateObject();
            if (child == NULL)
                return AY_ERR_NOMEM;
            if (!attach(node, &segs[i], child)) {
                cJSON_Delete(child);
                return AY_ERR_NOMEM;
            }
        }
        node = child;
        enode = echild;
        before = segs[i].end;
    }
    if ((rc = fits(node, path, &segs[n - 1], before, err)) != AY_OK)
        return rc;
    return attach(node, &segs[n - 1], value) ? AY_OK : AY_ERR_NOMEM;
}

cJSON *ayctl_policy_value(const char *text)
{
    cJSON *v = cJSON_ParseWithOpts(text, NULL, true);
    return v != NULL ? v : cJSON_CreateString(text);
}

/* ---- differences ------------------------------------------------------------------ */

struct leaf {
    char *path;
    char *text;
};

struct leaves {
    struct leaf *v;
    size_t n;
    size_t cap;
};

static void leaves_free(struct leaves *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].text);
    }
    free(l->v);
}

static bool is_plain(const cJSON *j)
{
    return !cJSON_IsArray(j) && !cJSON_IsObject(j);
}

/* A leaf: a plain value, or a list of plain values (a route). */
static bool is_leaf(const cJSON *j)
{
    if (is_plain(j))
        return true;
    if (!cJSON_IsArray(j))
        return false;
    for (const cJSON *e = j->child; e != NULL; e = e->next)
        if (!is_plain(e))
            return false;
    return true;
}

static bool add_leaf(struct leaves *l, const char *path, const cJSON *j)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct leaf *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        l->v = v;
        l->cap = cap;
    }
    char *p = strdup(path);
    char *t = cJSON_IsString(j) ? strdup(j->valuestring) : cJSON_PrintUnformatted(j);
    if (p == NULL || t == NULL) {
        free(p);
        free(t);
        return false;
    }
    l->v[l->n++] = (struct leaf){p, t};
    return true;
}

static bool flatten(struct leaves *l, const char *path, const cJSON *j)
{
    char sub[AYCTL_PATH_MAX * 2];
    int i = 0;

    if (is_leaf(j))
        return add_leaf(l, path, j);
    for (const cJSON *e = j->child; e != NULL; e = e->next, i++) {
        if (cJSON_IsArray(j))
            snprintf(sub, sizeof(sub), "%s[%d]", path, i);
        else if (path[0] == '\0')
            snprintf(sub, sizeof(sub), "%s", e->string);
        else
            snprintf(sub, sizeof(sub), "%s.%s", path, e->string);
        if (!flatten(l, sub, e))
            return false;
    }
    return true;
}

static const struct leaf *find(const struct leaves *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].path, path) == 0)
            return &l->v[i];
    return NULL;
}

char *ayctl_policy_diff(const cJSON *before, const cJSON *after)
{
    struct leaves a = {NULL, 0, 0};
    struct leaves b = {NULL, 0, 0};
    char *out = NULL;
    size_t len = 0;
    FILE *f = NULL;
    bool ok = flatten(&b, "", before) && flatten(&a, "", after) &&
              (f = open_memstream(&out, &len)) != NULL;

    for (size_t i = 0; ok && i < a.n; i++) {
        const struct leaf *old = find(&b, a.v[i].path);
        if (old == NULL)
            fprintf(f, "%s: (none) -> %s\n", a.v[i].path, a.v[i].text);
        else if (strcmp(old->text, a.v[i].text) != 0)
            fprintf(f, "%s: %s -> %s\n", a.v[i].path, old->text, a.v[i].text);
    }
    for (size_t i = 0; ok && i < b.n; i++)
        if (find(&a, b.v[i].path) == NULL)
            fprintf(f, "%s: %s -> (none)\n", b.v[i].path, b.v[i].text);
    if (f != NULL && (fclose(f) != 0 || !ok)) {
        free(out);
        out = NULL;
    }
    leaves_free(&a);
    leaves_free(&b);
    return out;
}
