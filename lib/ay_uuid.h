/*
 * ay_uuid.h - random (version 4) UUIDs for message ids, from getrandom(2);
 * name-based (version 8, SHA-256) UUIDs for ids that must come out the
 * same wherever and however often they are made (a police feed id, the
 * subject of a school's periodic report).
 */
#ifndef AY_UUID_H
#define AY_UUID_H

#include <stddef.h>

#include "ay_err.h"

#define AY_UUID_STRLEN 37 /* 36 characters and the NUL */

/* Writes a new lower-case canonical UUID v4 into out. */
enum ay_err ay_uuid_v4(char out[AY_UUID_STRLEN]);

/* The UUID of a name, in the manner of RFC 9562 appendix B.2: the first 16
 * bytes of SHA-256(name), version 8 and variant bits set, lower case.
 * AY_ERR_NOMEM if the digest could not be computed (OpenSSL). */
enum ay_err ay_uuid_v8_name(const void *name, size_t len, char out[AY_UUID_STRLEN]);

#endif
