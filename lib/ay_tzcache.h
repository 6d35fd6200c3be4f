/*
 * ay_tzcache.h - the time zones a service has loaded, by name, so a
 * district's zone is read from /usr/share/zoneinfo once, not per message.
 *
 * Owns: the zones (immutable once loaded, shared by every thread). A name
 * that cannot be loaded gets the fallback zone (China Standard Time,
 * "CST-8", the default of every district), so a policy with a broken zone
 * never stops a deadline; ayctl refuses such a policy in the first place.
 * Threads: thread-safe (one mutex around the lookup).
 */
#ifndef AY_TZCACHE_H
#define AY_TZCACHE_H

#include "ay_err.h"
#include "ay_tz.h"

struct ay_tzcache;

enum ay_err ay_tzcache_new(struct ay_tzcache **out);
void ay_tzcache_free(struct ay_tzcache *c); /* NULL is a no-op */

/* The zone called name (borrowed, valid until ay_tzcache_free); the
 * fallback when it cannot be loaded. Never NULL once created. */
const struct ay_tz *ay_tzcache_get(struct ay_tzcache *c, const char *name);

#endif
