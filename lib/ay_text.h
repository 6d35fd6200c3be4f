/*
 * ay_text.h - byte and text encodings the contract and the database need:
 * UTF-8 validation (every string from outside), standard base64 (proto3 JSON
 * bytes), lower-case hex (bytea parameters).
 *
 * Owns: nothing; pure functions. Threads: thread-safe.
 */
#ifndef AY_TEXT_H
#define AY_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"

/* Well-formed UTF-8 (RFC 3629): no overlong forms, surrogates or code
 * points past U+10FFFF. */
bool ay_text_utf8_is_valid(const char *s, size_t len);

/* Copies src into dst (cap bytes with the NUL) as well-formed UTF-8: every
 * byte of an invalid sequence becomes '?', and a text too long is cut at a
 * character boundary, never inside one. For text from outside that goes
 * into a reason, a log line or a jsonb value. Returns dst. */
char *ay_text_sanitize(char *dst, size_t cap, const char *src);

/* Standard base64 with padding; a new string the caller frees, NULL when out
 * of memory. */
char *ay_text_base64_encode(const uint8_t *p, size_t n);

/*
 * Strict standard base64: length a multiple of 4, '=' only as the last one or
 * two characters, unused bits zero (so every byte string has one spelling).
 * On AY_OK *out is a new buffer the caller frees (NULL when *out_len is 0);
 * AY_ERR_INVALID for anything else, AY_ERR_NOMEM.
 */
enum ay_err ay_text_base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len);

/* Lower-case hex of n bytes; a new string the caller frees, NULL when out of
 * memory. */
char *ay_text_hex_encode(const uint8_t *p, size_t n);

#endif
