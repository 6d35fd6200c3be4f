/*
 * ay_uuid.h - random (version 4) UUIDs for message ids, from getrandom(2).
 */
#ifndef AY_UUID_H
#define AY_UUID_H

#include "ay_err.h"

#define AY_UUID_STRLEN 37 /* 36 characters and the NUL */

/* Writes a new lower-case canonical UUID v4 into out. */
enum ay_err ay_uuid_v4(char out[AY_UUID_STRLEN]);

#endif
