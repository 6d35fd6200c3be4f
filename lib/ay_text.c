/*
 * ay_text.c - UTF-8 validation, base64 and hex; see ay_text.h.
 */
#include "ay_text.h"

#include <stdlib.h>
#include <string.h>

bool ay_text_utf8_is_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        uint32_t min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Length of the well-formed UTF-8 character at s (1..4), 0 if s does not
 * start one within len bytes. */
static size_t utf8_char_len(const char *s, size_t len)
{
    unsigned char c = (unsigned char)s[0];
    size_t n = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
    if (n == 0 || n > len || !ay_text_utf8_is_valid(s, n))
        return 0;
    return n;
}

char *ay_text_sanitize(char *dst, size_t cap, const char *src)
{
    size_t len = strlen(src);
    size_t out = 0;

    if (cap == 0)
        return dst;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char_len(src + i, len - i);
        if (n == 0) {
            if (out + 1 >= cap)
                break;
            dst[out++] = '?';
            i++;
            continue;
        }
        if (out + n >= cap)
            break;
        memcpy(dst + out, src + i, n);
        out += n;
        i += n;
    }
    dst[out] = '\0';
    return dst;
}

char *ay_text_base64_encode(const uint8_t *p, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p = c != '\0' ? strchr(b64_alphabet, c) : NULL;

    return p != NULL ? (int)(p - b64_alphabet) : -1;
}

enum ay_err ay_text_base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    size_t pad = 0;
    uint8_t *buf = NULL;
    size_t o = 0;

    if (len % 4 != 0)
        return AY_ERR_INVALID;
    if (len > 0 && s[len - 1] == '=')
        pad = (len > 1 && s[len - 2] == '=') ? 2 : 1;
    if (len > 0 && (buf = malloc(len / 4 * 3)) == NULL)
        return AY_ERR_NOMEM;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int v[4];
        for (int k = 0; k < 4; k++)
            v[k] = (last && k >= 4 - (int)pad) ? 0 : b64_value(s[i + k]);
        if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
            goto bad;
        uint32_t q =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if ((last && pad == 2 && (q & 0xffff) != 0) || (last && pad == 1 && (q & 0xff) != 0))
            goto bad;
        buf[o++] = (uint8_t)(q >> 16);
        if (!last || pad < 2)
            buf[o++] = (uint8_t)(q >> 8);
        if (!last || pad < 1)
            buf[o++] = (uint8_t)q;
    }
    *out = buf;
    *out_len = o;
    return AY_OK;
bad:
    free(buf);
    return AY_ERR_INVALID;
}

char *ay_text_hex_encode(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);

    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}
