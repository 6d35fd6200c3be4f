/*
 * policy_edit.h - changing one key of a district's policy document by its
 * dotted path, and saying what changed (`ayctl policy set|import`).
 *
 * The document's meaning is lib/ay_policy's: a stored document holds only
 * what differs from the defaults; the document, "chains" and "routing"
 * merge key by key over the defaults, while a chain (chains.bureau) and a
 * route (routing.SEVERITY_II) replace their default whole. So a change
 * inside a chain copies that chain from the effective policy first, and a
 * stored document stays as small as the change allows.
 * Whether the result is a valid policy is for ay_policy_from_json: these
 * functions only edit JSON.
 * Owns: nothing beyond what the caller passes. Threads: pure; thread-safe.
 */
#ifndef AYCTL_POLICY_EDIT_H
#define AYCTL_POLICY_EDIT_H

#include <cjson/cJSON.h>

#include "ay_err.h"

/* Longest key path accepted, and most segments in it. */
#define AYCTL_PATH_MAX      200
#define AYCTL_PATH_SEGMENTS 16

/*
 * Sets the key at path in the stored document doc (an object) to value.
 * path: a key, then ".key" or "[N]" segments: "written_report",
 * "chains.bureau[0].ack_timeout", "routing.SEVERITY_II". A key or list the
 * stored document lacks is made on the way: a list (a chain, a route) as a
 * copy of eff's (the effective document, ay_policy_to_json), anything else
 * as an empty object. [N] may name an existing item or the one after the
 * last (which appends).
 * On AY_OK value belongs to doc. On failure value is still the caller's,
 * doc may have gained empty keys on the way (the caller drops it), and err
 * names the path up to the segment that failed: AY_ERR_INVALID for a bad
 * path, a segment that does not fit (".key" on a list, "[N]" on an object
 * or past the end), AY_ERR_NOMEM.
 */
enum ay_err ayctl_policy_set_path(cJSON *doc, const cJSON *eff, const char *path, cJSON *value,
                                  char err[AY_ERRLEN]);

/* VALUE of `policy set`: the JSON it is if the whole text parses as JSON
 * ("5", "[\"bureau\"]", "\"2h\""), else the text as a string ("2h",
 * "Asia/Shanghai"). New item the caller deletes; NULL when out of memory. */
cJSON *ayctl_policy_value(const char *text);

/*
 * What differs between two effective documents, one line per leaf:
 * "written_report: 1h -> 2h", "chains.bureau[3].target: (none) -> x",
 * "routing.SEVERITY_II: [\"bureau@3\",\"government\"] -> [\"bureau\"]" (a
 * list of plain values is one leaf), in the order of after (then what only
 * before had). "" when nothing differs. New string; NULL when out of memory.
 */
char *ayctl_policy_diff(const cJSON *before, const cJSON *after);

#endif
