/*
 * ay_dynsec.h - the broker's role model in C, and the JSON commands of
 * Mosquitto's dynamic security plugin ("dynsec") with their answers
 * matched to them.
 *
 * Owns: what each role grants (docs/broker.md "Topics and roles"; the same
 * ACLs as deploy/broker-ctl's acls_* functions, compared by
 * tests/integration/98-account-roles.sh), and a batch of dynsec commands:
 * each command gets correlationData "<tag>:<index>", the batch is cut into
 * request payloads ({"commands":[...]}) of bounded size, and response
 * payloads are matched back to the commands by that correlation.
 *
 * Why the correlation: dynsec 2.0.11 publishes every response on
 * $CONTROL/dynamic-security/v1/response to *every* subscriber
 * (mosquitto_broker_publish with no client id), so two admin tools running
 * at once see each other's responses. A response entry whose correlation
 * does not carry this batch's tag is not ours and is ignored.
 *
 * Does not own: the MQTT connection (tools/ayctl/broker_admin.c sends the
 * payloads and feeds the responses back), the database.
 * Pure: no I/O, no clock. Threads: a batch is not thread-safe; its user
 * serialises access (the responses arrive on Paho's thread).
 */
#ifndef AY_DYNSEC_H
#define AY_DYNSEC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "ay_err.h"
#include "ay_policy.h"
#include "ay_topic.h"

/* The request and response topics of the plugin. */
#define AY_DYNSEC_TOPIC          "$CONTROL/dynamic-security/v1"
#define AY_DYNSEC_RESPONSE_TOPIC "$CONTROL/dynamic-security/v1/response"

#define AY_DYNSEC_NAME_MAX    128 /* a role name: device.D.S.DEV is at most 105 bytes */
#define AY_DYNSEC_ACLTYPE_MAX 24
#define AY_DYNSEC_ACLS_MAX    24
#define AY_DYNSEC_TAG_MAX     64

/* ---- roles ------------------------------------------------------------------------ */

struct ay_dynsec_acl {
    char type[AY_DYNSEC_ACLTYPE_MAX]; /* publishClientSend, publishClientReceive, subscribePattern,
                                         ... */
    char topic[AY_TOPIC_MAX];
    bool allow;
    int priority;
};

struct ay_dynsec_role {
    char name[AY_DYNSEC_NAME_MAX];
    size_t nacls;
    struct ay_dynsec_acl acls[AY_DYNSEC_ACLS_MAX];
};

/*
 * The roles of docs/broker.md. Ids must pass ay_schema_id_is_valid
 * (AY_ERR_INVALID otherwise, out untouched).
 *   device.D.S.DEV    publish on the device's topic of each inbound kind of
 *                     lib/ay_msgtype (the 8 kinds), receive its receipts;
 *                     read its school's escalation feed (and /json twin),
 *                     acknowledge on ack/school/DEV and read those receipts
 *   police.D          the police feed ay/v1/D/police/# and its escalations
 *   bureau.D, government.D  their escalations
 *   acks.D.AUD.NAME   one person's ack topic and the receipts of its acks
 *                     (police, bureau, government; AY_AUDIENCE_SCHOOL is
 *                     refused for both: a school's devices have its feed)
 *   service           the backbone's services (all of ay/v1, shares too)
 */
enum ay_err ay_dynsec_device_role(const char *district, const char *school, const char *device,
                                  struct ay_dynsec_role *out);
enum ay_err ay_dynsec_audience_role(enum ay_audience a, const char *district,
                                    struct ay_dynsec_role *out);
enum ay_err ay_dynsec_acks_role(enum ay_audience a, const char *district, const char *account,
                                struct ay_dynsec_role *out);
void ay_dynsec_service_role(struct ay_dynsec_role *out);

/* Whether r has an ACL equal to acl (type compared without case, as dynsec does). */
bool ay_dynsec_role_has_acl(const struct ay_dynsec_role *r, const struct ay_dynsec_acl *acl);

/* Reads the "role" object of a getRole answer ({"rolename":..,"acls":[..]})
 * into *out. AY_ERR_INVALID (err names what) when it has another shape or
 * more ACLs than AY_DYNSEC_ACLS_MAX; out untouched then. */
enum ay_err ay_dynsec_role_from_json(const cJSON *role, struct ay_dynsec_role *out,
                                     char err[AY_ERRLEN]);

/* ---- commands ------------------------------------------------------------------------
 * Each returns a new command object (the caller owns it, usually handing it
 * to ay_dynsec_batch_take), or NULL when out of memory. Strings are copied. */

cJSON *ay_dynsec_cmd_create_role(const struct ay_dynsec_role *r);
/* client_id NULL or "": the account may use any client id. */
cJSON *ay_dynsec_cmd_create_client(const char *username, const char *password,
                                   const char *client_id, const char *const *roles, size_t nroles);
/* command: getClient, deleteClient, enableClient or disableClient. */
cJSON *ay_dynsec_cmd_client(const char *command, const char *username);
/* command: getRole or deleteRole. */
cJSON *ay_dynsec_cmd_role(const char *command, const char *rolename);
cJSON *ay_dynsec_cmd_set_password(const char *username, const char *password);
/* command: addRoleACL or removeRoleACL. */
cJSON *ay_dynsec_cmd_role_acl(const char *command, const char *rolename,
                              const struct ay_dynsec_acl *acl);
cJSON *ay_dynsec_cmd_add_client_role(const char *username, const char *rolename);
/* listClients, verbose (roles, client id, disabled), all of them. */
cJSON *ay_dynsec_cmd_list_clients(void);

/* The answer texts of dynsec 2.0.11 a caller decides on. */
bool ay_dynsec_is_not_found(const char *error);      /* "Client not found", "Role not found" */
bool ay_dynsec_is_already_exists(const char *error); /* "Client already exists", ... */

/* ---- batches: requests and their answers ------------------------------------------ */

struct ay_dynsec_batch; /* opaque */

/* On AY_OK *out is a new empty batch the caller frees with
 * ay_dynsec_batch_free(). tag: 1..AY_DYNSEC_TAG_MAX-1 characters of
 * A-Z a-z 0-9 '-' '_' '.', unique to this process and invocation (a UUID);
 * AY_ERR_INVALID otherwise. */
enum ay_err ay_dynsec_batch_new(const char *tag, struct ay_dynsec_batch **out);
void ay_dynsec_batch_free(struct ay_dynsec_batch *b); /* NULL is a no-op */

/* Appends cmd (taken only on AY_OK; AY_ERR_INVALID if it is not an object
 * with a "command"), setting its correlationData; *index (may be NULL) gets
 * its position, 0 for the first. */
enum ay_err ay_dynsec_batch_take(struct ay_dynsec_batch *b, cJSON *cmd, size_t *index);
size_t ay_dynsec_batch_count(const struct ay_dynsec_batch *b);
/* The command's "command" name. Borrowed; "" for a bad index. */
const char *ay_dynsec_batch_command(const struct ay_dynsec_batch *b, size_t index);

/*
 * The next request payload: commands from index `from` on, as many as fit
 * in max_cmds commands and max_bytes bytes (at least one). On AY_OK
 * *payload is a new NUL-terminated string of *len bytes the caller frees,
 * and *to is the index after the last command in it. AY_ERR_INVALID when
 * from is past the end or the command at `from` alone is larger than
 * max_bytes (err says which).
 */
enum ay_err ay_dynsec_batch_message(const struct ay_dynsec_batch *b, size_t from, size_t max_cmds,
                                    size_t max_bytes, char **payload, size_t *len, size_t *to,
                                    char err[AY_ERRLEN]);

/*
 * Records the answers in a response payload ({"responses":[...]}) that
 * belong to this batch: entries whose correlationData is "<tag>:<index>"
 * with an index of the batch not answered before. Everything else (another
 * tool's answers, a repeat, an answer without correlation, a payload that
 * is not JSON) is ignored. Returns how many answers were recorded.
 */
size_t ay_dynsec_batch_accept(struct ay_dynsec_batch *b, const void *payload, size_t len);
/* How many commands in [from, to) have no answer yet. */
size_t ay_dynsec_batch_unanswered(const struct ay_dynsec_batch *b, size_t from, size_t to);
/*
 * The answer to command index: false if there is none (yet). On true,
 * *error is dynsec's error text or NULL for success, and *data (may be
 * NULL) the answer's "data" object or NULL; both borrowed from the batch.
 */
bool ay_dynsec_batch_result(const struct ay_dynsec_batch *b, size_t index, const char **error,
                            const cJSON **data);

#endif
