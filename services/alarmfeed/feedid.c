/*
 * feedid.c - the feed id; see feedid.h. SHA-256 is OpenSSL's (libcrypto,
 * already on every machine that runs Paho with TLS).
 */
#include "feedid.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ay_schema.h"

bool alarmfeed_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

/* ---- the feed id -------------------------------------------------------------- */

enum ay_err alarmfeed_feed_id(enum alarmfeed_event ev, const char *district, const char *school,
                              const char *device, const char *msg_id, char out[AY_UUID_STRLEN])
{
    char name[256];
    char id[AY_UUID_STRLEN];
    uint8_t d[32];

    if (!ay_schema_uuid_is_valid(msg_id))
        return AY_ERR_INVALID;
    for (size_t i = 0; i < AY_UUID_STRLEN; i++)
        id[i] = (char)tolower((unsigned char)msg_id[i]);
    int n = snprintf(name, sizeof(name), "anyuan.v1.PoliceAlarm\n%s\n%s\n%s\n%s\n%s",
                     ev == ALARMFEED_CANCEL ? "cancel" : "alarm", district, school, device, id);
    if (n < 0 || (size_t)n >= sizeof(name))
        return AY_ERR_INVALID;
    if (!alarmfeed_sha256(name, (size_t)n, d))
        return AY_ERR_NOMEM;
    d[6] = (uint8_t)(0x80 | (d[6] & 0x0f)); /* version 8 */
    d[8] = (uint8_t)(0x80 | (d[8] & 0x3f)); /* RFC 9562 variant */
    snprintf(out, AY_UUID_STRLEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1],
             d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14],
             d[15]);
    return AY_OK;
}
