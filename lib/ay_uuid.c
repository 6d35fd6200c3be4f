/*
 * ay_uuid.c - UUID v4 (RFC 9562 section 5.4) from the kernel's CSPRNG;
 * name-based v8 from OpenSSL's SHA-256.
 */
#include "ay_uuid.h"

#include <stdio.h>
#include <sys/random.h>

#include <openssl/evp.h>

static void format(const unsigned char b[16], char out[AY_UUID_STRLEN])
{
    snprintf(out, AY_UUID_STRLEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

enum ay_err ay_uuid_v4(char out[AY_UUID_STRLEN])
{
    unsigned char b[16];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return AY_ERR_IO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC variant */
    format(b, out);
    return AY_OK;
}

enum ay_err ay_uuid_v8_name(const void *name, size_t len, char out[AY_UUID_STRLEN])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(name, len, d, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return AY_ERR_NOMEM;
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x80); /* version 8 */
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80); /* RFC variant */
    format(d, out);
    return AY_OK;
}
