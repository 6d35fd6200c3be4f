/*
 * ay_json.h - building JSON with cJSON where every step is checked.
 *
 * cJSON's Add* functions return NULL when memory runs out and leave the
 * object without the member: printed as is, the JSON would silently lack
 * it. These helpers return false instead, so a builder chains them
 * (`ok = ok && ay_json_str(o, "k", v);`) and checks once.
 * Owns: nothing. Threads: thread-safe (cJSON's default allocator).
 */
#ifndef AY_JSON_H
#define AY_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Adds key: v (v NULL: adds nothing and succeeds). */
bool ay_json_str(cJSON *o, const char *key, const char *v);
bool ay_json_num(cJSON *o, const char *key, double v);
bool ay_json_bool(cJSON *o, const char *key, bool v);
/* Adds key: the RFC 3339 UTC text of us (microseconds since the epoch). */
bool ay_json_time(cJSON *o, const char *key, int64_t us);
/* Adds key: item (taken, also on failure: then deleted). */
bool ay_json_take(cJSON *o, const char *key, cJSON *item);
/* Appends item to the array (taken, also on failure: then deleted). */
bool ay_json_push(cJSON *array, cJSON *item);
/* Prints j unformatted and deletes it (also on failure). NULL on failure. */
char *ay_json_print_free(cJSON *j);

#endif
