/*
 * message.c - the reference device's connection profile and its messages,
 * in the JSON form of the contract (docs/contract.md 4.2).
 *
 * Owns: reading the profile `ayctl device add --profile` wrote, building
 * alarm, notice and status messages with a complete header (contract 4.3),
 * and reading Receipts. Does not own: sending (link.c) or keeping
 * (outbox.c) them.
 *
 * JSON is the simplest form for a device to make (cJSON here, any JSON
 * library elsewhere). What the backbone requires of it: proto3 JSON field
 * names (lowerCamelCase), enums by name, times as RFC 3339 strings in UTC,
 * no field the contract does not know, and the payload sent with content
 * type application/json or beginning with '{' (contract 4.1). Both hold
 * here: cJSON_PrintUnformatted writes one line beginning with '{'.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "device.h"

#define JSON_MAX (256 * 1024) /* the backbone refuses larger JSON (contract 7.1) */

/* ---- small helpers ------------------------------------------------------- */

void dev_errf(char err[DEV_ERRLEN], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, DEV_ERRLEN, fmt, ap);
    va_end(ap);
}

/* Reads a whole file of at most max bytes, NUL-terminated. */
static int read_file(const char *path, size_t max, char **out, char err[DEV_ERRLEN])
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int rc = -1;

    if (f == NULL) {
        dev_errf(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        dev_errf(err, "%s: out of memory", path);
        goto cleanup;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
        dev_errf(err, "%s: %s", path, n > max ? "too large" : "cannot be read");
        goto cleanup;
    }
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
    rc = 0;
cleanup:
    free(buf);
    fclose(f);
    return rc;
}

/* A string member of obj copied into out (size bytes); false if absent,
 * not a string or too long. */
static bool get_str(const cJSON *obj, const char *name, char *out, size_t size)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(s) || strlen(s->valuestring) >= size)
        return false;
    memcpy(out, s->valuestring, strlen(s->valuestring) + 1);
    return true;
}

/* A random (version 4) UUID in lower case: the message id, made by the
 * sender once per message and never again (contract 4.3). */
static int make_uuid(char out[DEV_UUID_LEN])
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, b, sizeof(b)) : -1;

    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof(b))
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, DEV_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

/* Now as RFC 3339 in UTC with milliseconds: "2026-11-24T08:15:03.412Z".
 * The clock must be right (NTP): the backbone refuses times before 2000 and
 * more than 24 h ahead of it (contract 7.3). */
static void now_rfc3339(char out[32])
{
    struct timespec ts;
    struct tm tm;
    char sec[24];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.19s.%03dZ", sec, (int)(ts.tv_nsec / 1000000));
}

/* ---- the profile --------------------------------------------------------- */

static int write_ca(const char *state_dir, const char *pem, char *path, char err[DEV_ERRLEN])
{
    char tmp[DEV_PATH + 8];
    FILE *f = NULL;

    if (snprintf(path, DEV_PATH, "%s/ca.pem", state_dir) >= DEV_PATH ||
        snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        dev_errf(err, "%s: path too long", state_dir);
        return -1;
    }
    f = fopen(tmp, "w");
    if (f == NULL || fputs(pem, f) == EOF || fclose(f) != 0) {
        dev_errf(err, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (rename(tmp, path) != 0) {
        dev_errf(err, "cannot rename %s: %s", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

int dev_profile_load(const char *path, const char *state_dir, const char *password_file,
                     struct dev_profile *p, char err[DEV_ERRLEN])
{
    char *text = NULL;
    cJSON *j = NULL;
    int rc = -1;
    char host[256];

    memset(p, 0, sizeof(*p));
    if (read_file(path, JSON_MAX, &text, err) != 0)
        return -1;
    j = cJSON_Parse(text);
    const cJSON *broker = cJSON_GetObjectItemCaseSensitive(j, "broker");
    const cJSON *cred = cJSON_GetObjectItemCaseSensitive(j, "credentials");
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(j, "topics");
    const cJSON *pub = cJSON_GetObjectItemCaseSensitive(topics, "publish");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(broker, "mqttsPort");
    const cJSON *hb = cJSON_GetObjectItemCaseSensitive(j, "heartbeatIntervalS");
    const cJSON *geo = cJSON_GetObjectItemCaseSensitive(j, "geo");
    const cJSON *pem = cJSON_GetObjectItemCaseSensitive(broker, "caPem");

    if (!cJSON_IsObject(j)) {
        dev_errf(err, "%s: not a JSON object (a profile of ayctl device add)", path);
        goto cleanup;
    }
    /* Every field the device needs, named when missing. */
    const char *missing =
        !get_str(j, "deviceId", p->device_id, sizeof(p->device_id))         ? "deviceId"
        : !get_str(j, "districtId", p->district_id, sizeof(p->district_id)) ? "districtId"
        : !get_str(j, "schoolId", p->school_id, sizeof(p->school_id))       ? "schoolId"
        : !get_str(j, "kind", p->kind, sizeof(p->kind))                     ? "kind"
        : !get_str(j, "location", p->location, sizeof(p->location))         ? "location"
        : !get_str(broker, "host", host, sizeof(host))                      ? "broker.host"
        : !cJSON_IsNumber(port)                                             ? "broker.mqttsPort"
        : !get_str(cred, "password", p->password, sizeof(p->password))      ? "credentials.password"
        : !get_str(pub, "alarm", p->topic_alarm, DEV_TOPIC)                 ? "topics.publish.alarm"
        : !get_str(pub, "notice", p->topic_notice, DEV_TOPIC)        ? "topics.publish.notice"
        : !get_str(pub, "status", p->topic_status, DEV_TOPIC)        ? "topics.publish.status"
        : !get_str(topics, "receipts", p->topic_receipts, DEV_TOPIC) ? "topics.receipts"
        : !cJSON_IsNumber(hb)                                        ? "heartbeatIntervalS"
                                                                     : NULL;
    if (missing) {
        dev_errf(err, "%s: %s: missing or not valid", path, missing);
        goto cleanup;
    }
    /* The client id is the account name is the device id (contract 2). */
    p->heartbeat_s = hb->valueint;
    snprintf(p->url, sizeof(p->url), "ssl://%s:%d", host, port->valueint);
    if (cJSON_IsObject(geo)) {
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(geo, "latitude");
        const cJSON *lon = cJSON_GetObjectItemCaseSensitive(geo, "longitude");
        p->has_geo = cJSON_IsNumber(lat) && cJSON_IsNumber(lon);
        p->latitude = p->has_geo ? lat->valuedouble : 0;
        p->longitude = p->has_geo ? lon->valuedouble : 0;
    }
    if (cJSON_IsString(pem)) {
        if (write_ca(state_dir, pem->valuestring, p->ca_path, err) != 0)
            goto cleanup;
    } else if (!get_str(broker, "caFile", p->ca_path, sizeof(p->ca_path))) {
        dev_errf(err, "%s: broker.caPem: missing (the broker's CA certificate)", path);
        goto cleanup;
    }
    if (password_file) {
        char *pw = NULL;
        if (read_file(password_file, sizeof(p->password) + 1, &pw, err) != 0)
            goto cleanup;
        pw[strcspn(pw, "\r\n")] = '\0';
        snprintf(p->password, sizeof(p->password), "%s", pw);
        free(pw);
    }
    rc = 0;
cleanup:
    cJSON_Delete(j);
    free(text);
    return rc;
}

/* ---- messages ------------------------------------------------------------ */

/* The header every message carries (contract 4.3): a new messageId, the
 * ids the topic names (the backbone rejects a header that differs), when
 * the message was made (a re-send keeps it: the same bytes are re-sent),
 * schemaVersion 1. */
static cJSON *new_message(const struct dev_profile *p, char id[DEV_UUID_LEN])
{
    char now[32];
    cJSON *m = cJSON_CreateObject();
    cJSON *h = cJSON_AddObjectToObject(m, "header");

    now_rfc3339(now);
    if (h == NULL || make_uuid(id) != 0 || !cJSON_AddStringToObject(h, "messageId", id) ||
        !cJSON_AddStringToObject(h, "deviceId", p->device_id) ||
        !cJSON_AddStringToObject(h, "schoolId", p->school_id) ||
        !cJSON_AddStringToObject(h, "districtId", p->district_id) ||
        !cJSON_AddStringToObject(h, "sentAt", now) ||
        !cJSON_AddNumberToObject(h, "schemaVersion", 1)) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* One line of JSON, beginning with '{' (contract 4.1). */
static int finish(cJSON *m, bool ok, struct dev_msg *out)
{
    out->json = ok ? cJSON_PrintUnformatted(m) : NULL;
    cJSON_Delete(m);
    return out->json ? 0 : -1;
}

int dev_msg_status(const struct dev_profile *p, const char *state, struct dev_msg *out)
{
    cJSON *m = new_message(p, out->id);
    /* No batteryPercent: this device is mains-powered (absent, not 0:
     * contract 5.8). heartbeatIntervalS is the interval it promises; the
     * backbone flags it offline after twice that of silence. */
    bool ok = m && cJSON_AddStringToObject(m, "state", state) &&
              cJSON_AddStringToObject(m, "firmware", "ay-device/1") &&
              cJSON_AddNumberToObject(m, "heartbeatIntervalS", p->heartbeat_s);
    return finish(m, ok, out);
}

int dev_msg_alarm(const struct dev_profile *p, bool is_test, struct dev_msg *out)
{
    char now[32];
    cJSON *m = new_message(p, out->id);
    /* Where the button is: the police read it on their feed (contract 5.1). */
    const char *source = strcmp(p->kind, "nearby_shop") == 0   ? "ALARM_SOURCE_NEARBY_SHOP"
                         : strcmp(p->kind, "nearby_home") == 0 ? "ALARM_SOURCE_NEARBY_HOME"
                                                               : "ALARM_SOURCE_SCHOOL";

    now_rfc3339(now);
    /* A single-function button sends ALARM_KIND_PANIC (contract 5.1). */
    bool ok = m && cJSON_AddStringToObject(m, "kind", "ALARM_KIND_PANIC") &&
              cJSON_AddStringToObject(m, "triggeredAt", now) &&
              cJSON_AddStringToObject(m, "location", p->location) &&
              cJSON_AddStringToObject(m, "source", source);
    if (ok && p->has_geo) {
        cJSON *g = cJSON_AddObjectToObject(m, "geo");
        ok = g && cJSON_AddNumberToObject(g, "latitude", p->latitude) &&
             cJSON_AddNumberToObject(g, "longitude", p->longitude);
    }
    if (ok && is_test)
        ok = cJSON_AddTrueToObject(m, "isTest") != NULL;
    return finish(m, ok, out);
}

int dev_msg_notice(const struct dev_profile *p, const char *file, struct dev_msg *out,
                   char err[DEV_ERRLEN])
{
    char *text = NULL;
    cJSON *body = NULL;
    cJSON *m = NULL;
    int rc = -1;

    if (read_file(file, JSON_MAX, &text, err) != 0)
        return -1;
    body = cJSON_Parse(text);
    if (!cJSON_IsObject(body)) {
        dev_errf(err, "%s: not a JSON object", file);
        goto cleanup;
    }
    m = new_message(p, out->id);
    if (m == NULL) {
        dev_errf(err, "cannot make a message id (out of memory or no /dev/urandom)");
        goto cleanup;
    }
    /* The file is the body; the header is the device's (any header in the
     * file is replaced: its messageId must be new, its ids this device's).
     * This notice's messageId is the incident id from now on (contract 5.3). */
    cJSON_DeleteItemFromObjectCaseSensitive(body, "header");
    while (body->child) {
        cJSON *item = cJSON_DetachItemViaPointer(body, body->child);
        char *name = item->string;
        item->string = NULL;
        bool added = cJSON_AddItemToObject(m, name, item);
        free(name);
        if (!added) {
            cJSON_Delete(item);
            dev_errf(err, "%s: out of memory", file);
            goto cleanup;
        }
    }
    if (finish(m, true, out) != 0) {
        m = NULL;
        dev_errf(err, "%s: out of memory", file);
        goto cleanup;
    }
    m = NULL;
    rc = 0;
cleanup:
    cJSON_Delete(m);
    cJSON_Delete(body);
    free(text);
    return rc;
}

/* A Receipt comes back in the form the message went out in (contract 4.5):
 * this device sends JSON, so its receipts are JSON. */
int dev_receipt_parse(const void *payload, size_t len, struct dev_receipt *r, char err[DEV_ERRLEN])
{
    cJSON *j = cJSON_ParseWithLength(payload, len);
    int rc = -1;

    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(j)) {
        dev_errf(err, "not a JSON receipt (%zu bytes)", len);
        goto cleanup;
    }
    /* An empty refMessageId: the recorder could not even read the message
     * (contract 6.3), a sign of an encoder bug. */
    get_str(j, "refMessageId", r->ref_message_id, sizeof(r->ref_message_id));
    get_str(j, "reference", r->reference, sizeof(r->reference));
    get_str(j, "reason", r->reason, sizeof(r->reason));
    if (!get_str(j, "status", r->status, sizeof(r->status))) {
        dev_errf(err, "receipt without a status");
        goto cleanup;
    }
    rc = 0;
cleanup:
    cJSON_Delete(j);
    return rc;
}
