/*
 * device_spec.c - a device's fields, its CSV file and its connection
 * profile; see device_spec.h.
 *
 * The rules are those of the registry (db/migrations/0001 and 0005: ids,
 * kinds, heartbeat_s 5..86400) and of the contract for positions
 * (docs/contract.md 4.4), checked here so that a bad file is refused with
 * its line and field before anything is changed anywhere.
 */
#include "device_spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ay_json.h"
#include "ay_msgtype.h"
#include "ay_policy.h"
#include "ay_text.h"

/* The kinds of devices.kind (db/migrations/0001) and the prefix of the ids
 * made up for them. */
static const struct {
    const char *kind;
    const char *prefix;
} kinds[] = {
    {"button", "btn"},       {"panel", "panel"},      {"app", "app"},
    {"nearby_shop", "shop"}, {"nearby_home", "home"}, {"gateway", "gw"},
};
#define NKINDS    (sizeof(kinds) / sizeof(kinds[0]))
#define KIND_LIST "button, panel, app, nearby_shop, nearby_home, gateway"

static int kind_index(const char *kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return (int)i;
    return -1;
}

void ayctl_device_spec_init(struct ayctl_device_spec *d)
{
    memset(d, 0, sizeof(*d));
    d->heartbeat_s = 60;
}

/* ---- fields ------------------------------------------------------------------------ */

static enum ay_err bad(char err[AY_ERRLEN], const char *field, const char *value, const char *why)
{
    char shown[64];
    size_t n = strlen(value);

    /* Quote at most 40 bytes of what was given, on one line. */
    ay_text_sanitize(shown, n > 40 ? 41 : sizeof(shown), value);
    for (char *c = shown; *c; c++)
        *c = (unsigned char)*c < 0x20 ? ' ' : *c;
    ay_errf(err, "%s: \"%s%s\" %s", field, shown, n > 40 ? "..." : "", why);
    return AY_ERR_INVALID;
}

static enum ay_err set_text(char *dst, size_t cap, const char *field, const char *v,
                            char err[AY_ERRLEN])
{
    size_t n = strlen(v);

    if (n >= cap || !ay_text_utf8_is_valid(v, n))
        return bad(err, field, v, "is not text of at most 128 bytes of UTF-8");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return bad(err, field, v, "has a control character");
    memcpy(dst, v, n + 1);
    return AY_OK;
}

static bool parse_coord(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;

    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static enum ay_err set_geo(struct ayctl_device_spec *d, const char *v, char err[AY_ERRLEN])
{
    char lat[48];
    const char *comma = strchr(v, ',');
    double la = 0;
    double lo = 0;

    if (comma == NULL || (size_t)(comma - v) >= sizeof(lat))
        return bad(err, "geo", v, "is not LAT,LON in WGS 84 degrees (e.g. 31.8206,117.2272)");
    memcpy(lat, v, (size_t)(comma - v));
    lat[comma - v] = '\0';
    /* The contract's rule for a position (docs/contract.md 4.4). */
    if (!parse_coord(lat, -90, 90, &la) || !parse_coord(comma + 1, -180, 180, &lo) ||
        (la == 0.0 && lo == 0.0))
        return bad(err, "geo", v, "is not LAT,LON in WGS 84 degrees (e.g. 31.8206,117.2272)");
    d->has_geo = true;
    d->geo_given = 3;
    d->latitude = la;
    d->longitude = lo;
    return AY_OK;
}

static enum ay_err set_heartbeat(struct ayctl_device_spec *d, const char *v, char err[AY_ERRLEN])
{
    int64_t s = -1;
    size_t digits = strspn(v, "0123456789");

    if (digits > 0 && v[digits] == '\0' && digits < 7)
        s = strtol(v, NULL, 10);
    else if (ay_duration_parse(v, &s) != AY_OK)
        s = -1;
    /* The range of devices.heartbeat_s (db/migrations/0005). */
    if (s < 5 || s > 86400)
        return bad(err, "heartbeat", v, "is not an interval from 5s to 24h (60, 60s, 2m)");
    d->heartbeat_s = (int)s;
    return AY_OK;
}

enum ay_err ayctl_device_field(struct ayctl_device_spec *d, const char *field, const char *value,
                               char err[AY_ERRLEN])
{
    if (strcmp(field, "id") == 0 || strcmp(field, "school") == 0) {
        if (!ay_schema_id_is_valid(value))
            return bad(err, field, value, "is not an id (1 to 32 of a-z, 0-9 and -, not - first)");
        snprintf(strcmp(field, "id") == 0 ? d->id : d->school, AY_ID_MAX, "%s", value);
        return AY_OK;
    }
    if (strcmp(field, "kind") == 0) {
        if (kind_index(value) < 0)
            return bad(err, field, value, "is not one of " KIND_LIST);
        snprintf(d->kind, sizeof(d->kind), "%s", value);
        return AY_OK;
    }
    if (strcmp(field, "location") == 0)
        return set_text(d->location, sizeof(d->location), field, value, err);
    if (strcmp(field, "shop") == 0 || strcmp(field, "place") == 0)
        return set_text(d->place, sizeof(d->place), field, value, err);
    if (strcmp(field, "geo") == 0)
        return set_geo(d, value, err);
    if (strcmp(field, "latitude") == 0 || strcmp(field, "longitude") == 0) {
        bool lat = field[1] == 'a';
        double v = 0;
        if (!parse_coord(value, lat ? -90 : -180, lat ? 90 : 180, &v))
            return bad(err, field, value,
                       lat ? "is not a latitude (-90 to 90)" : "is not a longitude (-180 to 180)");
        *(lat ? &d->latitude : &d->longitude) = v;
        d->geo_given |= lat ? 1u : 2u;
        d->has_geo = d->geo_given == 3;
        return AY_OK;
    }
    if (strcmp(field, "heartbeat") == 0)
        return set_heartbeat(d, value, err);
    ay_errf(err, "%s: unknown field", field);
    return AY_ERR_INVALID;
}

enum ay_err ayctl_device_check(const struct ayctl_device_spec *d, char err[AY_ERRLEN])
{
    if (d->school[0] == '\0')
        ay_errf(err, "school: missing");
    else if (d->kind[0] == '\0')
        ay_errf(err, "kind: missing (" KIND_LIST ")");
    else if (d->location[0] == '\0')
        ay_errf(err, "location: missing (where the device is, in words: the police are told)");
    else if (d->place[0] == '\0' &&
             (strcmp(d->kind, "nearby_shop") == 0 || strcmp(d->kind, "nearby_home") == 0))
        ay_errf(err, "shop: missing (a %s button must say which shop or home it is in)", d->kind);
    else if ((d->geo_given != 0 && d->geo_given != 3) ||
             (d->has_geo && d->latitude == 0.0 && d->longitude == 0.0))
        ay_errf(err, "geo: latitude and longitude must both be given, and not 0,0");
    else
        return AY_OK;
    return AY_ERR_INVALID;
}

enum ay_err ayctl_device_make_id(const char *kind, const unsigned char rnd[4], char out[AY_ID_MAX])
{
    int k = kind_index(kind);

    if (k < 0)
        return AY_ERR_INVALID;
    snprintf(out, AY_ID_MAX, "%s-%02x%02x%02x%02x", kinds[k].prefix, rnd[0], rnd[1], rnd[2],
             rnd[3]);
    return AY_OK;
}

/* ---- CSV ------------------------------------------------------------------------ */

#define CSV_FIELDS_MAX 16
#define CSV_FIELD_MAX  (AY_SCHEMA_TEXT_MAX)

/* One record of a CSV text: its fields (copied, trimmed of spaces around)
 * and the line it starts on. */
struct record {
    unsigned line;
    size_t n;
    char *f[CSV_FIELDS_MAX];
};

static void record_clear(struct record *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->f[i]);
    r->n = 0;
}

/* The field being read. */
struct field {
    char buf[CSV_FIELD_MAX];
    size_t len;
};

static bool all_space(const struct field *f)
{
    for (size_t i = 0; i < f->len; i++)
        if (f->buf[i] != ' ' && f->buf[i] != '\t')
            return false;
    return true;
}

static enum ay_err push_field(struct record *r, struct field *f, char err[AY_ERRLEN])
{
    size_t a = 0;
    size_t b = f->len;

    if (r->n >= CSV_FIELDS_MAX) {
        ay_errf(err, "line %u: more than %d fields", r->line, CSV_FIELDS_MAX);
        return AY_ERR_INVALID;
    }
    while (a < b && (f->buf[a] == ' ' || f->buf[a] == '\t'))
        a++;
    while (b > a && (f->buf[b - 1] == ' ' || f->buf[b - 1] == '\t'))
        b--;
    char *s = malloc(b - a + 1);
    if (s == NULL)
        return AY_ERR_NOMEM;
    memcpy(s, f->buf + a, b - a);
    s[b - a] = '\0';
    r->f[r->n++] = s;
    f->len = 0;
    return AY_OK;
}

static bool at_line_end(const char *t, size_t len, size_t p)
{
    return t[p] == '\n' || (t[p] == '\r' && p + 1 < len && t[p + 1] == '\n');
}

/*
 * Reads the record at *pos (RFC 4180: a quoted field may hold commas, line
 * breaks and quotes, doubled; lines end in LF or CRLF; spaces around a
 * field are dropped), advancing *pos and *line. An empty line is a record
 * of one empty field. On failure r is left empty.
 */
static enum ay_err next_record(const char *t, size_t len, size_t *pos, unsigned *line,
                               struct record *r, char err[AY_ERRLEN])
{
    struct field f = {.len = 0};
    enum ay_err rc = AY_OK;
    size_t p = *pos;
    bool quoted = false; /* inside quotes */
    bool closed = false; /* after the closing quote of this field */

    r->n = 0;
    r->line = *line;
    for (;;) {
        if (p >= len && quoted) {
            ay_errf(err, "line %u: a quoted field is not closed", r->line);
            rc = AY_ERR_INVALID;
            break;
        }
        if (p >= len || (!quoted && at_line_end(t, len, p))) {
            rc = push_field(r, &f, err);
            p += p >= len ? 0 : t[p] == '\r' ? 2 : 1;
            (*line)++;
            break;
        }
        char c = t[p++];
        if (quoted && c == '"' && p < len && t[p] == '"') {
            p++; /* a doubled quote: one quote of the value */
        } else if (quoted && c == '"') {
            quoted = false;
            closed = true;
            continue;
        } else if (quoted) {
            *line += c == '\n' ? 1 : 0;
        } else if (c == ',') {
            if ((rc = push_field(r, &f, err)) != AY_OK)
                break;
            closed = false;
            continue;
        } else if (closed && (c == ' ' || c == '\t')) {
            continue;
        } else if (c == '"' && !closed && all_space(&f)) {
            f.len = 0;
            quoted = true;
            continue;
        } else if (c == '"' || c == '\r' || closed) {
            ay_errf(err, "line %u: field %zu: %s", r->line, r->n + 1,
                    c == '\r' ? "a carriage return not followed by a line feed"
                              : "a quote inside a field that is not quoted, or text after the "
                                "closing quote");
            rc = AY_ERR_INVALID;
            break;
        }
        if (f.len >= CSV_FIELD_MAX) {
            ay_errf(err, "line %u: field %zu is longer than %d bytes", r->line, r->n + 1,
                    CSV_FIELD_MAX);
            rc = AY_ERR_INVALID;
            break;
        }
        f.buf[f.len++] = c;
    }
    if (rc != AY_OK)
        record_clear(r);
    *pos = p;
    return rc;
}

static const char *const columns[] = {"id",       "school",    "kind", "location", "geo",
                                      "latitude", "longitude", "shop", "place",    "heartbeat"};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

/* The field of column i of the header (NULL: an unnamed column, ignored:
 * spreadsheets add them). err: "<field>: <why>". */
static enum ay_err header(const struct record *r, const char *default_school,
                          const char *col[CSV_FIELDS_MAX], char err[AY_ERRLEN])
{
    bool seen_school = false;
    bool seen_kind = false;
    bool seen_location = false;

    for (size_t i = 0; i < r->n; i++) {
        col[i] = NULL;
        if (r->f[i][0] == '\0')
            continue;
        for (size_t k = 0; k < NCOLUMNS; k++)
            if (strcasecmp(r->f[i], columns[k]) == 0)
                col[i] = columns[k];
        if (col[i] == NULL)
            return bad(err, "header", r->f[i],
                       "is not a column (id, school, kind, location, geo or latitude and "
                       "longitude, shop, heartbeat)");
        for (size_t k = 0; k < i; k++)
            if (col[k] != NULL && strcmp(col[k], col[i]) == 0)
                return bad(err, "header", r->f[i], "is a column twice");
        seen_school = seen_school || strcmp(col[i], "school") == 0;
        seen_kind = seen_kind || strcmp(col[i], "kind") == 0;
        seen_location = seen_location || strcmp(col[i], "location") == 0;
    }
    if (!seen_kind || !seen_location || (!seen_school && default_school == NULL)) {
        ay_errf(err, "header: the columns kind, location%s are required",
                default_school == NULL ? " and school (or --school)" : "");
        return AY_ERR_INVALID;
    }
    return AY_OK;
}

/* The record as a device. err: "<field>: <why>" or the shape. */
static enum ay_err row(const struct record *r, const char *const col[CSV_FIELDS_MAX], size_t ncol,
                       const char *default_school, struct ayctl_device_spec *d, char err[AY_ERRLEN])
{
    enum ay_err rc = AY_OK;

    ayctl_device_spec_init(d);
    d->line = r->line;
    if (default_school)
        snprintf(d->school, sizeof(d->school), "%s", default_school);
    if (r->n != ncol) {
        ay_errf(err, "%zu fields, but the header has %zu", r->n, ncol);
        return AY_ERR_INVALID;
    }
    for (size_t i = 0; rc == AY_OK && i < r->n; i++)
        if (col[i] != NULL && r->f[i][0] != '\0')
            rc = ayctl_device_field(d, col[i], r->f[i], err);
    return rc == AY_OK ? ayctl_device_check(d, err) : rc;
}

static bool blank(const struct record *r)
{
    return r->n == 1 && r->f[0][0] == '\0';
}

static int by_id_then_line(const void *a, const void *b)
{
    const struct ayctl_device_spec *x = *(const struct ayctl_device_spec *const *)a;
    const struct ayctl_device_spec *y = *(const struct ayctl_device_spec *const *)b;
    int c = strcmp(x->id, y->id);
    return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

/* An id given twice: the later line is the wrong one (the first such line
 * in the file is named). */
static enum ay_err no_id_twice(struct ayctl_device_spec *devs, size_t n, char err[AY_ERRLEN])
{
    struct ayctl_device_spec **v = malloc((n ? n : 1) * sizeof(*v));
    const struct ayctl_device_spec *worst = NULL;
    const struct ayctl_device_spec *first = NULL;

    if (v == NULL)
        return AY_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = &devs[i];
    qsort(v, n, sizeof(*v), by_id_then_line);
    for (size_t i = 1; i < n; i++) {
        if (v[i]->id[0] == '\0' || strcmp(v[i]->id, v[i - 1]->id) != 0)
            continue;
        size_t k = i;
        while (k > 0 && strcmp(v[k - 1]->id, v[i]->id) == 0)
            k--;
        if (worst == NULL || v[i]->line < worst->line) {
            worst = v[i];
            first = v[k];
        }
    }
    free(v);
    if (worst == NULL)
        return AY_OK;
    ay_errf(err, "line %u: id: \"%s\" is also on line %u", worst->line, worst->id, first->line);
    return AY_ERR_INVALID;
}

/* Prefixes err with "line N: ". */
static enum ay_err at_line(unsigned line, char err[AY_ERRLEN])
{
    char why[AY_ERRLEN];

    snprintf(why, sizeof(why), "%s", err);
    ay_errf(err, "line %u: %s", line, why);
    return AY_ERR_INVALID;
}

enum ay_err ayctl_device_csv(const char *text, size_t len, const char *default_school,
                             struct ayctl_device_spec **out, size_t *n, char err[AY_ERRLEN])
{
    struct record r = {.n = 0};
    const char *col[CSV_FIELDS_MAX] = {NULL};
    size_t ncol = 0;
    struct ayctl_device_spec *devs = NULL;
    size_t count = 0;
    size_t cap = 0;
    size_t pos = 0;
    unsigned line = 1;
    enum ay_err rc = AY_OK;

    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* the byte order mark WPS and Excel write */
    if (!ay_text_utf8_is_valid(text + pos, len - pos)) {
        ay_errf(err, "the file is not UTF-8 text (save it as \"CSV UTF-8\")");
        return AY_ERR_INVALID;
    }
    while (rc == AY_OK && pos < len) {
        if ((rc = next_record(text, len, &pos, &line, &r, err)) != AY_OK)
            break;
        if (blank(&r)) {
            record_clear(&r);
            continue;
        }
        if (ncol == 0) {
            if ((rc = header(&r, default_school, col, err)) != AY_OK)
                rc = at_line(r.line, err);
            ncol = r.n;
        } else if (count >= AYCTL_DEVICE_ROWS_MAX) {
            ay_errf(err, "line %u: more than %d devices in one file", r.line,
                    AYCTL_DEVICE_ROWS_MAX);
            rc = AY_ERR_INVALID;
        } else {
            if (count == cap) {
                size_t c = cap ? cap * 2 : 64;
                struct ayctl_device_spec *g = realloc(devs, c * sizeof(*g));
                if (g == NULL) {
                    rc = AY_ERR_NOMEM;
                } else {
                    devs = g;
                    cap = c;
                }
            }
            if (rc == AY_OK &&
                (rc = row(&r, col, ncol, default_school, &devs[count], err)) != AY_OK)
                rc = at_line(r.line, err);
            count += rc == AY_OK ? 1 : 0;
        }
        record_clear(&r);
    }
    if (rc == AY_OK && count == 0) {
        ay_errf(err, "no devices in the file (a header line, then one line per device)");
        rc = AY_ERR_INVALID;
    }
    if (rc == AY_OK)
        rc = no_id_twice(devs, count, err);
    if (rc != AY_OK) {
        free(devs);
        return rc;
    }
    *out = devs;
    *n = count;
    return AY_OK;
}

/* ---- profile ------------------------------------------------------------------------ */

static bool add_url(cJSON *urls, const char *scheme, const char *host, int port)
{
    char u[300];

    if (port <= 0)
        return true;
    snprintf(u, sizeof(u), "%s://%s:%d", scheme, host, port);
    return ay_json_push(urls, cJSON_CreateString(u));
}

static cJSON *topics(const struct ayctl_profile *p)
{
    const struct ayctl_device_spec *d = p->device;
    cJSON *t = cJSON_CreateObject();
    cJSON *pub = t ? cJSON_AddObjectToObject(t, "publish") : NULL;
    char topic[AY_TOPIC_MAX];
    size_t ntypes = 0;
    const struct ay_msgtype *types = ay_msgtype_all(&ntypes);
    bool ok = pub != NULL;

    for (size_t i = 0; ok && i < ntypes; i++) {
        if (types[i].direction != AY_DIR_INBOUND || types[i].topic_kind == NULL)
            continue;
        ok = ay_topic_school(topic, p->district, d->school, d->id, types[i].topic_kind) == AY_OK &&
             ay_json_str(pub, types[i].topic_kind, topic);
    }
    ok = ok && ay_topic_receipt(topic, p->district, d->school, d->id) == AY_OK &&
         ay_json_str(t, "receipts", topic);
    if (!ok) {
        cJSON_Delete(t);
        return NULL;
    }
    return t;
}

/* The first test: a status message, which the recorder stores and answers
 * with a receipt, without alerting anyone (an alarm would reach the police). */
static const char first_test[] =
    "echo '{\"state\": \"DEVICE_STATE_ONLINE\"}' | ayctl --config %s.conf pub status --json -";

cJSON *ayctl_device_profile(const struct ayctl_profile *p)
{
    const struct ayctl_device_spec *d = p->device;
    cJSON *j = cJSON_CreateObject();
    cJSON *broker = j ? cJSON_AddObjectToObject(j, "broker") : NULL;
    cJSON *cred = j ? cJSON_AddObjectToObject(j, "credentials") : NULL;
    cJSON *urls = broker ? cJSON_AddArrayToObject(broker, "urls") : NULL;
    char *conf = ayctl_device_conf(p);
    char test[sizeof(first_test) + AY_ID_MAX];
    bool ok = urls != NULL && cred != NULL && conf != NULL;

    snprintf(test, sizeof(test), first_test, d->id);
    ok = ok && ay_json_str(j, "format", "anyuan-device-profile/1") &&
         ay_json_str(j, "deviceId", d->id) && ay_json_str(j, "districtId", p->district) &&
         ay_json_str(j, "schoolId", d->school) && ay_json_str(j, "kind", d->kind) &&
         ay_json_str(j, "location", d->location) &&
         (d->place[0] == '\0' || ay_json_str(j, "shop", d->place)) &&
         ay_json_num(j, "heartbeatIntervalS", d->heartbeat_s);
    if (ok && d->has_geo) {
        cJSON *g = cJSON_AddObjectToObject(j, "geo");
        ok = g != NULL && ay_json_num(g, "latitude", d->latitude) &&
             ay_json_num(g, "longitude", d->longitude);
    }
    ok = ok && ay_json_str(broker, "host", p->host) && ay_json_str(broker, "protocol", "MQTT 5") &&
         (p->mqtts_port <= 0 || ay_json_num(broker, "mqttsPort", p->mqtts_port)) &&
         (p->ws_port <= 0 || ay_json_num(broker, "wsPort", p->ws_port)) &&
         (p->mqtt_port <= 0 || ay_json_num(broker, "mqttPort", p->mqtt_port)) &&
         add_url(urls, "mqtts", p->host, p->mqtts_port) &&
         add_url(urls, "ws", p->host, p->ws_port) && add_url(urls, "mqtt", p->host, p->mqtt_port) &&
         ay_json_str(broker, "caFile", p->ca_file) && ay_json_str(broker, "caPem", p->ca_pem);
    ok = ok && ay_json_str(cred, "clientId", d->id) && ay_json_str(cred, "username", d->id) &&
         ay_json_str(cred, "password", p->secret);
    ok = ok && ay_json_take(j, "topics", topics(p)) && ay_json_str(j, "ayctlConfig", conf) &&
         ay_json_str(j, "firstTest", test);
    free(conf);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

char *ayctl_device_conf(const struct ayctl_profile *p)
{
    char url[300];
    char *out = NULL;
    size_t cap = 1024 + (p->ca_file ? strlen(p->ca_file) : 0);

    if (p->mqtts_port > 0)
        snprintf(url, sizeof(url), "ssl://%s:%d", p->host, p->mqtts_port);
    else
        snprintf(url, sizeof(url), "tcp://%s:%d", p->host, p->mqtt_port > 0 ? p->mqtt_port : 1883);
    if ((out = malloc(cap)) == NULL)
        return NULL;
    snprintf(out, cap,
             "mqtt_url = %s\n%s%s%smqtt_username = %s\nmqtt_password = %s\ndistrict = %s\n"
             "school = %s\n",
             url, p->ca_file && p->mqtts_port > 0 ? "mqtt_ca_file = " : "",
             p->ca_file && p->mqtts_port > 0 ? p->ca_file : "",
             p->ca_file && p->mqtts_port > 0 ? "\n" : "", p->device->id, p->secret, p->district,
             p->device->school);
    return out;
}
