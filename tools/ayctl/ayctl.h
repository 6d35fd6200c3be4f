/*
 * ayctl.h - the command-line client for people and tests.
 *
 * Commands share one configuration (the same keys and environment variables
 * as the services, lib/ay_config.h) and report every failure as one line on
 * stderr. Exit codes: 0 done, 1 runtime failure (broker, database, timeout),
 * 2 usage, configuration or invalid input.
 *
 * Files: main.c (configuration table, usage, dispatch), common.c (what
 * every command shares), pub.c / sub.c / deliver.c (messages in and out),
 * admin.c (migrate, registry), policy.c (policy show|set|import), watch.c,
 * ack.c, deadlines.c, history.c, compliance.c (the commands for people);
 * device.c, device_admin.c, account.c (devices' registry rows and broker
 * accounts together, people's and services' accounts) over
 * broker_admin.c (the broker's dynsec admin connection); the pure parts
 * are policy_edit.c, people_text.c, compliance_text.c and device_spec.c
 * (unit-tested through ayctl_core).
 */
#ifndef AYCTL_H
#define AYCTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "ay_config.h"
#include "ay_dynsec.h"
#include "ay_err.h"
#include "ay_mqtt.h"
#include "ay_pg.h"
#include "ay_policy.h"
#include "ay_tz.h"

struct ayctl_config {
    struct ay_common_config common;
    char *school;              /* the school this client belongs to (devices) */
    long long timeout_ms;      /* overall wait for a receipt or a message */
    long long receipt_wait_ms; /* re-send a message without receipt after this */
    bool wait_receipt;         /* pub: wait for the backbone's receipt */
    char *audience;            /* police, bureau or government: watch and ack */
    /* device and account: the broker's admin account (dynsec) */
    char *broker_admin_url;           /* NULL: mqtt_url */
    char *broker_admin_username;      /* the dynsec admin account */
    char *broker_admin_password_file; /* its password, first line */
    long long broker_admin_batch_ms;  /* keep the broker busy at most this long per request */
    /* device and account: what a connection profile tells a device or person */
    char *profile_host;           /* NULL: the host of broker_admin_url (or mqtt_url) */
    long long profile_mqtts_port; /* 0: not offered */
    long long profile_ws_port;    /* 0: not offered */
    long long profile_mqtt_port;  /* plain MQTT; 0: not offered */
    char *profile_ca_file;        /* NULL: mqtt_ca_file */
};

#define AYCTL_EXIT_OK      0
#define AYCTL_EXIT_FAILURE 1
#define AYCTL_EXIT_USAGE   2

int ayctl_pub(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_sub(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_encode(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_validate(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_migrate(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_registry(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_policy(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_watch(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_ack(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_deadlines(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_history(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_devices(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_heartbeat(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_compliance(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_device(const struct ayctl_config *cfg, int argc, char **argv);
int ayctl_account(const struct ayctl_config *cfg, int argc, char **argv);

/* ---- common.c: shared by the commands ------------------------------------- */

/* Exit code for an error code. */
int ayctl_exit_code(enum ay_err rc);
/* Prints "ayctl: <reason>" on stderr. */
void ayctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reads all of a file ("-" = stdin), at most max bytes, into a new NUL-terminated buffer. */
enum ay_err ayctl_read_all(const char *path, size_t max, char **out, size_t *len,
                           char err[AY_ERRLEN]);
/* Connection options from the configuration: a clean session with client id
 * mqtt_client_id, else the account name, else "ayctl-<pid>" (written into
 * idbuf, which must outlive *o). */
void ayctl_mqtt_opts(const struct ayctl_config *cfg, char *idbuf, size_t cap,
                     struct ay_mqtt_opts *o);
/* A connected database handle (database_url) the caller frees with
 * ay_pg_free(); nothing is written to *out on failure. */
enum ay_err ayctl_db_connect(const struct ayctl_config *cfg, struct ay_pg **out,
                             char err[AY_ERRLEN]);
/* Parses the value of --count (a positive number); prints the reason on failure. */
bool ayctl_parse_count(const char *s, long long *out);
/* The audience of watch and ack: --audience, else the configuration's
 * `audience`, else "bureau"; prints the reason and returns NULL when it is
 * not police, bureau or government. Borrowed. */
const char *ayctl_audience(const struct ayctl_config *cfg, const char *option);
/* Waits until *got (read under lock) reaches want (0: forever), a signal
 * came, or, with want > 0, timeout_ms passed (then exit 1, saying how many
 * arrived). Exit code. */
int ayctl_wait_count(const struct ayctl_config *cfg, pthread_mutex_t *lock, const long long *got,
                     long long want);

/* ---- sub.c ------------------------------------------------------------------ */

/* The JSON line `ayctl sub` prints for a message in either wire form:
 * {"topic", "type", "wire", "message"} or, when it cannot be read, with
 * "error" instead of "message". New string; NULL when out of memory. */
char *ayctl_sub_render(const struct ay_mqtt_msg *msg);

/* ---- pub.c ------------------------------------------------------------------ */

/* Fills what a sender may leave out of m's header (created if absent, all
 * of it malloc'd): a new message id, the time, the schema version, the
 * account as deviceId, the district, and the school of an inbound message. */
enum ay_err ayctl_fill_header(const struct ayctl_config *cfg, ProtobufCMessage *m, int64_t now_us);

/* ---- deliver.c: publish until the backbone's receipt -------------------------- */

/* The receipt of a delivered message (matched by refMessageId). */
struct ayctl_receipt {
    char *json; /* the receipt as JSON; the caller frees it */
    int status; /* Anyuan__V1__ReceiptStatus */
    char reason[AY_ERRLEN];
};

/*
 * The publisher side of the end-to-end contract (docs/contract.md,
 * "Delivery"): publishes buf on topic (QoS 1, with the MQTT v5 content type
 * content_type unless NULL) as the configured account and, when
 * receipt_topic is not NULL, waits for the Receipt (in either wire form)
 * whose refMessageId is message_id on receipt_topic, re-sending the same
 * bytes (same message id) every receipt_wait_ms until it arrives or
 * timeout_ms ran out. Prints the reason of a failure. Exit code; on AYCTL_EXIT_OK with
 * a receipt topic, *out holds the receipt (out->json the caller frees).
 */
int ayctl_deliver(const struct ayctl_config *cfg, const char *topic, const char *content_type,
                  const uint8_t *buf, size_t len, const char *message_id, const char *receipt_topic,
                  struct ayctl_receipt *out);

/* ---- policy.c: a district's policy and time zone -------------------------------- */

/*
 * The effective policy of district (the stored document over the defaults).
 * *stored tells whether the district has a row in policies. AY_ERR_NOTFOUND
 * when the district is not registered; AY_ERR_INVALID when the stored
 * document does not parse (err names the key). *out written only on AY_OK.
 */
enum ay_err ayctl_policy_load(struct ay_pg *db, const char *district,
                              struct ay_district_policy *out, bool *stored, char err[AY_ERRLEN]);

/*
 * The time zone to show times of district in, and its policy: read from the
 * database when db is not NULL, else the defaults (AY_TZ_DEFAULT). A zone
 * that cannot be loaded (tzdata missing) falls back to China Standard Time
 * with a warning on stderr. On AY_OK *zone is new (ay_tz_free) and *p (if
 * not NULL) is written.
 */
enum ay_err ayctl_district_zone(struct ay_pg *db, const char *district, struct ay_tz **zone,
                                struct ay_district_policy *p, char err[AY_ERRLEN]);

/* Who does it, for audit rows and policy versions: the OS user, else the
 * configured account, else "ayctl". */
void ayctl_who(const struct ayctl_config *cfg, char *buf, size_t cap);

/* ---- broker_admin.c: the broker's dynsec admin connection ------------------------ */

struct ayctl_admin; /* opaque */

#define AYCTL_SECRET_LEN 33 /* 32 hex characters (128 bits) and the NUL */

/* The URL of the admin connection: broker_admin_url, else mqtt_url. Borrowed. */
const char *ayctl_admin_url(const struct ayctl_config *cfg);
/*
 * Connects as the broker's dynsec admin (broker_admin_username, the
 * password on the first line of broker_admin_password_file) to
 * ayctl_admin_url, with a client id of this invocation's own, and
 * subscribes to the answers. On AY_OK *out is a new connection the caller
 * frees with ayctl_admin_free(). AY_ERR_CONFIG when the admin is not
 * configured; AY_ERR_MQTT / AY_ERR_TIMEOUT when the broker refused or
 * did not answer (err says which and why).
 */
enum ay_err ayctl_admin_connect(const struct ayctl_config *cfg, struct ayctl_admin **out,
                                char err[AY_ERRLEN]);
void ayctl_admin_free(struct ayctl_admin *a); /* NULL is a no-op; disconnects */
/* A new empty batch with a tag of its own (a random UUID). */
enum ay_err ayctl_admin_batch(struct ay_dynsec_batch **out);
/* Appends cmd to b: taken in every case (deleted on failure; NULL is
 * AY_ERR_NOMEM, so a builder's result can be passed straight in). */
enum ay_err ayctl_admin_add(struct ay_dynsec_batch *b, cJSON *cmd);
/*
 * Sends the commands of b in order, one request at a time, each sized to
 * keep the broker busy about broker_admin_batch_ms, and waits for the
 * answers of each (timeout_ms per request). AY_OK once every command has
 * an answer; a command dynsec refused is an answer too (read them with
 * ay_dynsec_batch_result). AY_ERR_TIMEOUT when answers did not come: the
 * commands of that request may or may not have been applied, later
 * requests were not sent.
 */
enum ay_err ayctl_admin_run(struct ayctl_admin *a, struct ay_dynsec_batch *b, char err[AY_ERRLEN]);
/* One command (taken): on AY_OK *out is its answered batch (the caller
 * frees it) and *error dynsec's error text or NULL (borrowed from *out). */
enum ay_err ayctl_admin_run_one(struct ayctl_admin *a, cJSON *cmd, const char **error,
                                struct ay_dynsec_batch **out, char err[AY_ERRLEN]);
/* dynsec's getClient of name: on AY_OK *found says whether the account
 * exists and *client is its "client" object (borrowed from *keep). *keep
 * is the answered batch, also when an error comes after it; the caller
 * frees it. */
enum ay_err ayctl_admin_get_client(struct ayctl_admin *a, const char *name, bool *found,
                                   const cJSON **client, struct ay_dynsec_batch **keep,
                                   char err[AY_ERRLEN]);
/* AY_OK if every command of b succeeded; otherwise the first failure as
 * "<what>: <command>: <dynsec's text>" in err. */
enum ay_err ayctl_admin_first_error(const struct ay_dynsec_batch *b, const char *what,
                                    char err[AY_ERRLEN]);
/* Makes the shared role exist with exactly want's ACLs (created, or the
 * differences removed and added: each change disconnects the role's
 * clients, so only real changes are sent). *what: "created", "updated"
 * or "up to date". */
enum ay_err ayctl_admin_ensure_role(struct ayctl_admin *a, const struct ay_dynsec_role *want,
                                    const char **what, char err[AY_ERRLEN]);
/* A new random secret: 32 lower-case hex characters from getrandom(2). */
enum ay_err ayctl_secret_new(char out[AYCTL_SECRET_LEN]);

#endif
