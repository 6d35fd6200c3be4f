/*
 * ay_topic.c - building and splitting topics of contract v1.
 */
#include "ay_topic.h"

#include <stdio.h>
#include <string.h>

#include "ay_schema.h"
#include "ay_text.h"

static int kind_ok(const char *k)
{
    return ay_schema_id_is_valid(k) && strlen(k) < AY_KIND_MAX;
}

static enum ay_err fmt(char out[AY_TOPIC_MAX], const char *a, const char *cls, const char *b,
                       const char *c, const char *d)
{
    int n;
    if (d)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/%s/%s/%s/%s", a, cls, b, c, d);
    else if (c)
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/%s/%s/%s", a, cls, b, c);
    else
        n = snprintf(out, AY_TOPIC_MAX, "ay/v1/%s/%s/%s", a, cls, b);
    return (n < 0 || n >= AY_TOPIC_MAX) ? AY_ERR_INVALID : AY_OK;
}

enum ay_err ay_topic_school(char out[AY_TOPIC_MAX], const char *district, const char *school,
                            const char *device, const char *kind)
{
    if (!ay_schema_id_is_valid(district) || !ay_schema_id_is_valid(school) ||
        !ay_schema_id_is_valid(device) || !kind_ok(kind))
        return AY_ERR_INVALID;
    return fmt(out, district, "school", school, device, kind);
}

enum ay_err ay_topic_receipt(char out[AY_TOPIC_MAX], const char *district, const char *school,
                             const char *device)
{
    if (!ay_schema_id_is_valid(district) || !ay_schema_id_is_valid(school) ||
        !ay_schema_id_is_valid(device))
        return AY_ERR_INVALID;
    return fmt(out, district, "receipt", school, device, NULL);
}

enum ay_err ay_topic_escalation(char out[AY_TOPIC_MAX], const char *district, const char *audience)
{
    if (!ay_schema_id_is_valid(district) || !kind_ok(audience) ||
        strcmp(audience, AY_TOPIC_AUDIENCE_SCHOOL) == 0)
        return AY_ERR_INVALID;
    return fmt(out, district, "escalation", audience, NULL, NULL);
}

enum ay_err ay_topic_escalation_school(char out[AY_TOPIC_MAX], const char *district,
                                       const char *school)
{
    if (!ay_schema_id_is_valid(district) || !ay_schema_id_is_valid(school))
        return AY_ERR_INVALID;
    return fmt(out, district, "escalation", AY_TOPIC_AUDIENCE_SCHOOL, school, NULL);
}

enum ay_err ay_topic_escalation_feed(char out[AY_TOPIC_MAX], const char *district,
                                     const char *audience, const char *school)
{
    if (audience != NULL && strcmp(audience, AY_TOPIC_AUDIENCE_SCHOOL) == 0)
        return ay_topic_escalation_school(out, district, school);
    return ay_topic_escalation(out, district, audience);
}

enum ay_err ay_topic_ack(char out[AY_TOPIC_MAX], const char *district, const char *audience,
                         const char *account)
{
    if (!ay_schema_id_is_valid(district) || !kind_ok(audience) || !ay_schema_id_is_valid(account))
        return AY_ERR_INVALID;
    return fmt(out, district, "ack", audience, account, NULL);
}

enum ay_err ay_topic_ack_receipt(char out[AY_TOPIC_MAX], const char *district, const char *audience,
                                 const char *account)
{
    if (!ay_schema_id_is_valid(district) || !kind_ok(audience) || !ay_schema_id_is_valid(account))
        return AY_ERR_INVALID;
    return fmt(out, district, "ack-receipt", audience, account, NULL);
}

/* Splits topic into at most 8 levels in place; returns the count or -1. */
static int split(char *buf, char *lv[8])
{
    int n = 0;
    char *p = buf;
    for (;;) {
        if (n == 8)
            return -1;
        lv[n++] = p;
        char *slash = strchr(p, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    return n;
}

static enum ay_err take(char *dst, size_t cap, const char *src, const char *what,
                        char err[AY_ERRLEN])
{
    if (!ay_schema_id_is_valid(src) || strlen(src) >= cap) {
        char shown[41];
        ay_errf(err, "topic: invalid %s \"%s\"", what, ay_text_sanitize(shown, sizeof(shown), src));
        return AY_ERR_INVALID;
    }
    memcpy(dst, src, strlen(src) + 1);
    return AY_OK;
}

enum ay_err ay_topic_parse(const char *topic, struct ay_topic *out, char err[AY_ERRLEN])
{
    char shown[61];
    char buf[AY_TOPIC_MAX];
    char *lv[8];
    struct ay_topic t;
    enum ay_err rc = AY_ERR_INVALID;

    memset(&t, 0, sizeof(t));
    if (topic == NULL || strlen(topic) >= sizeof(buf)) {
        ay_errf(err, "topic: too long");
        return AY_ERR_INVALID;
    }
    memcpy(buf, topic, strlen(topic) + 1);
    int n = split(buf, lv);
    if (n < 5 || strcmp(lv[0], "ay") != 0 || strcmp(lv[1], "v1") != 0) {
        ay_errf(err, "topic: \"%s\" is not in the ay/v1 tree",
                ay_text_sanitize(shown, sizeof(shown), topic));
        return AY_ERR_INVALID;
    }
    if ((rc = take(t.district, sizeof(t.district), lv[2], "district", err)) != AY_OK)
        return rc;
    if (strcmp(lv[3], "school") == 0 && n == 7) {
        t.cls = AY_TOPIC_SCHOOL;
        if ((rc = take(t.school, sizeof(t.school), lv[4], "school", err)) != AY_OK ||
            (rc = take(t.device, sizeof(t.device), lv[5], "device", err)) != AY_OK ||
            (rc = take(t.kind, sizeof(t.kind), lv[6], "message kind", err)) != AY_OK)
            return rc;
    } else if (strcmp(lv[3], "receipt") == 0 && n == 6) {
        t.cls = AY_TOPIC_RECEIPT;
        if ((rc = take(t.school, sizeof(t.school), lv[4], "school", err)) != AY_OK ||
            (rc = take(t.device, sizeof(t.device), lv[5], "device", err)) != AY_OK)
            return rc;
    } else if (strcmp(lv[3], "escalation") == 0 && n == 5 &&
               strcmp(lv[4], AY_TOPIC_AUDIENCE_SCHOOL) != 0) {
        t.cls = AY_TOPIC_ESCALATION;
        if ((rc = take(t.kind, sizeof(t.kind), lv[4], "audience", err)) != AY_OK)
            return rc;
    } else if (strcmp(lv[3], "escalation") == 0 && n == 6 &&
               strcmp(lv[4], AY_TOPIC_AUDIENCE_SCHOOL) == 0) {
        /* A school's own feed. */
        t.cls = AY_TOPIC_ESCALATION;
        memcpy(t.kind, AY_TOPIC_AUDIENCE_SCHOOL, sizeof(AY_TOPIC_AUDIENCE_SCHOOL));
        if ((rc = take(t.school, sizeof(t.school), lv[5], "school", err)) != AY_OK)
            return rc;
    } else if ((strcmp(lv[3], "ack") == 0 || strcmp(lv[3], "ack-receipt") == 0) && n == 6) {
        t.cls = strcmp(lv[3], "ack") == 0 ? AY_TOPIC_ACK : AY_TOPIC_ACK_RECEIPT;
        if ((rc = take(t.kind, sizeof(t.kind), lv[4], "audience", err)) != AY_OK ||
            (rc = take(t.device, sizeof(t.device), lv[5], "account", err)) != AY_OK)
            return rc;
    } else {
        ay_errf(err, "topic: \"%s\" is not in the ay/v1 tree",
                ay_text_sanitize(shown, sizeof(shown), topic));
        return AY_ERR_INVALID;
    }
    *out = t;
    return AY_OK;
}
