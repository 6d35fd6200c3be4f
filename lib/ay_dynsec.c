/*
 * ay_dynsec.c - the broker's roles and dynsec commands; see ay_dynsec.h.
 *
 * The ACLs here and deploy/broker-ctl's acls_* functions must stay the
 * same: tests/integration/98-account-roles.sh makes accounts both ways and
 * compares what the broker holds.
 */
#include "ay_dynsec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ay_json.h"
#include "ay_msgtype.h"
#include "ay_schema.h"

/* ---- roles ------------------------------------------------------------------------ */

static bool add_acl(struct ay_dynsec_role *r, const char *type, const char *topic)
{
    if (r->nacls >= AY_DYNSEC_ACLS_MAX)
        return false;
    struct ay_dynsec_acl *a = &r->acls[r->nacls];
    int n = snprintf(a->topic, sizeof(a->topic), "%s", topic);
    if (n < 0 || (size_t)n >= sizeof(a->topic))
        return false;
    snprintf(a->type, sizeof(a->type), "%s", type);
    a->allow = true;
    a->priority = 0;
    r->nacls++;
    return true;
}

/* subscribePattern and publishClientReceive of one filter: dynsec's default
 * denies receiving too (ay_broker_setup), so a role grants both. */
static bool add_read(struct ay_dynsec_role *r, const char *filter)
{
    return add_acl(r, "subscribePattern", filter) && add_acl(r, "publishClientReceive", filter);
}

static bool set_name(struct ay_dynsec_role *r, const char *fmt, const char *a, const char *b,
                     const char *c)
{
    int n = snprintf(r->name, sizeof(r->name), fmt, a, b, c);
    return n > 0 && (size_t)n < sizeof(r->name);
}

enum ay_err ay_dynsec_device_role(const char *district, const char *school, const char *device,
                                  struct ay_dynsec_role *out)
{
    struct ay_dynsec_role r = {.nacls = 0};
    char topic[AY_TOPIC_MAX];
    size_t ntypes = 0;
    const struct ay_msgtype *types = ay_msgtype_all(&ntypes);

    if (!ay_schema_id_is_valid(district) || !ay_schema_id_is_valid(school) ||
        !ay_schema_id_is_valid(device) ||
        !set_name(&r, "device.%s.%s.%s", district, school, device))
        return AY_ERR_INVALID;
    for (size_t i = 0; i < ntypes; i++) {
        if (types[i].direction != AY_DIR_INBOUND || types[i].topic_kind == NULL)
            continue;
        if (ay_topic_school(topic, district, school, device, types[i].topic_kind) != AY_OK ||
            !add_acl(&r, "publishClientSend", topic))
            return AY_ERR_INVALID;
    }
    if (ay_topic_receipt(topic, district, school, device) != AY_OK || !add_read(&r, topic))
        return AY_ERR_INVALID;
    /* Its school is told of its devices (issue 12): the school's own
     * escalation feed and JSON twin, never another school's; a school
     * acknowledges through its devices, on a topic that names the device
     * (so the watchdog knows which school acknowledged). */
    char twin[AY_TOPIC_MAX];
    if (ay_topic_escalation_school(topic, district, school) != AY_OK || !add_read(&r, topic) ||
        snprintf(twin, sizeof(twin), "%s/json", topic) >= (int)sizeof(twin) ||
        !add_read(&r, twin) ||
        ay_topic_ack(topic, district, AY_TOPIC_AUDIENCE_SCHOOL, device) != AY_OK ||
        !add_acl(&r, "publishClientSend", topic) ||
        ay_topic_ack_receipt(topic, district, AY_TOPIC_AUDIENCE_SCHOOL, device) != AY_OK ||
        !add_read(&r, topic))
        return AY_ERR_INVALID;
    *out = r;
    return AY_OK;
}

enum ay_err ay_dynsec_audience_role(enum ay_audience a, const char *district,
                                    struct ay_dynsec_role *out)
{
    struct ay_dynsec_role r = {.nacls = 0};
    char topic[AY_TOPIC_MAX];
    const char *word = ay_audience_word(a);

    if (word == NULL || !ay_schema_id_is_valid(district) ||
        !set_name(&r, "%s.%s%s", word, district, ""))
        return AY_ERR_INVALID;
    /* Police read the district's police feed (every alarm, republished by
     * the alarm feed with the school and the button's place). */
    if (a == AY_AUDIENCE_POLICE) {
        snprintf(topic, sizeof(topic), "ay/v1/%s/police/#", district);
        if (!add_read(&r, topic))
            return AY_ERR_INVALID;
    }
    /* The escalation feed and its JSON twin TOPIC/json (docs/contract.md 4.5). */
    char twin[AY_TOPIC_MAX];
    if (ay_topic_escalation(topic, district, word) != AY_OK || !add_read(&r, topic) ||
        snprintf(twin, sizeof(twin), "%s/json", topic) >= (int)sizeof(twin) || !add_read(&r, twin))
        return AY_ERR_INVALID;
    *out = r;
    return AY_OK;
}

enum ay_err ay_dynsec_acks_role(enum ay_audience a, const char *district, const char *account,
                                struct ay_dynsec_role *out)
{
    struct ay_dynsec_role r = {.nacls = 0};
    char topic[AY_TOPIC_MAX];
    const char *word = ay_audience_word(a);

    /* A school has no accounts of people: it acknowledges through its
     * devices (ay_dynsec_device_role). */
    if (word == NULL || a == AY_AUDIENCE_SCHOOL || !ay_schema_id_is_valid(district) ||
        !ay_schema_id_is_valid(account) || !set_name(&r, "acks.%s.%s.%s", district, word, account))
        return AY_ERR_INVALID;
    if (ay_topic_ack(topic, district, word, account) != AY_OK ||
        !add_acl(&r, "publishClientSend", topic) ||
        ay_topic_ack_receipt(topic, district, word, account) != AY_OK || !add_read(&r, topic))
        return AY_ERR_INVALID;
    *out = r;
    return AY_OK;
}

void ay_dynsec_service_role(struct ay_dynsec_role *out)
{
    struct ay_dynsec_role r = {.nacls = 0};

    snprintf(r.name, sizeof(r.name), "service");
    /* Mosquitto 2.0.11 checks a shared subscription against the whole
     * filter "$share/GROUP/ay/v1/...": it needs its own pattern ('+' = any
     * group); what arrives through it is checked on its real topic. */
    (void)add_acl(&r, "subscribePattern", "ay/v1/#");
    (void)add_acl(&r, "subscribePattern", "$share/+/ay/v1/#");
    (void)add_acl(&r, "publishClientReceive", "ay/v1/#");
    (void)add_acl(&r, "publishClientSend", "ay/v1/+/receipt/#");
    (void)add_acl(&r, "publishClientSend", "ay/v1/+/escalation/#");
    (void)add_acl(&r, "publishClientSend", "ay/v1/+/police/#");
    (void)add_acl(&r, "publishClientSend", "ay/v1/+/ack-receipt/#");
    *out = r;
}

bool ay_dynsec_role_has_acl(const struct ay_dynsec_role *r, const struct ay_dynsec_acl *acl)
{
    for (size_t i = 0; i < r->nacls; i++) {
        const struct ay_dynsec_acl *a = &r->acls[i];
        if (strcasecmp(a->type, acl->type) == 0 && strcmp(a->topic, acl->topic) == 0 &&
            a->allow == acl->allow && a->priority == acl->priority)
            return true;
    }
    return false;
}

enum ay_err ay_dynsec_role_from_json(const cJSON *role, struct ay_dynsec_role *out,
                                     char err[AY_ERRLEN])
{
    struct ay_dynsec_role r = {.nacls = 0};
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(role, "rolename");
    const cJSON *acls = cJSON_GetObjectItemCaseSensitive(role, "acls");
    const cJSON *acl = NULL;

    if (!cJSON_IsString(name) ||
        snprintf(r.name, sizeof(r.name), "%s", name->valuestring) >= (int)sizeof(r.name)) {
        ay_errf(err, "role: no or too long rolename");
        return AY_ERR_INVALID;
    }
    if (acls != NULL && !cJSON_IsArray(acls)) {
        ay_errf(err, "role %s: acls is not an array", r.name);
        return AY_ERR_INVALID;
    }
    cJSON_ArrayForEach(acl, acls)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(acl, "acltype");
        const cJSON *topic = cJSON_GetObjectItemCaseSensitive(acl, "topic");
        const cJSON *allow = cJSON_GetObjectItemCaseSensitive(acl, "allow");
        const cJSON *prio = cJSON_GetObjectItemCaseSensitive(acl, "priority");
        if (!cJSON_IsString(type) || !cJSON_IsString(topic) ||
            strlen(type->valuestring) >= AY_DYNSEC_ACLTYPE_MAX ||
            !add_acl(&r, type->valuestring, topic->valuestring)) {
            ay_errf(err, "role %s: unexpected ACL (or more than %d)", r.name, AY_DYNSEC_ACLS_MAX);
            return AY_ERR_INVALID;
        }
        r.acls[r.nacls - 1].allow = cJSON_IsTrue(allow);
        r.acls[r.nacls - 1].priority = cJSON_IsNumber(prio) ? prio->valueint : 0;
    }
    *out = r;
    return AY_OK;
}

/* ---- commands ------------------------------------------------------------------------ */

static cJSON *command(const char *name)
{
    cJSON *c = cJSON_CreateObject();
    if (c != NULL && !ay_json_str(c, "command", name)) {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

static cJSON *done(cJSON *c, bool ok)
{
    if (!ok) {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

static cJSON *acl_json(const struct ay_dynsec_acl *a)
{
    cJSON *j = cJSON_CreateObject();
    bool ok = j != NULL && ay_json_str(j, "acltype", a->type) &&
              ay_json_str(j, "topic", a->topic) && ay_json_num(j, "priority", a->priority) &&
              ay_json_bool(j, "allow", a->allow);
    return done(j, ok);
}

cJSON *ay_dynsec_cmd_create_role(const struct ay_dynsec_role *r)
{
    cJSON *acls = cJSON_CreateArray();
    bool ok = acls != NULL;

    for (size_t i = 0; ok && i < r->nacls; i++)
        ok = ay_json_push(acls, acl_json(&r->acls[i]));
    cJSON *c = ok ? command("createRole") : NULL;
    if (c == NULL) {
        cJSON_Delete(acls);
        return NULL;
    }
    return done(c, ay_json_str(c, "rolename", r->name) && ay_json_take(c, "acls", acls));
}

/* Roles without a priority, as mosquitto_ctrl adds them (dynsec: -1). */
cJSON *ay_dynsec_cmd_create_client(const char *username, const char *password,
                                   const char *client_id, const char *const *roles, size_t nroles)
{
    cJSON *c = command("createClient");
    bool ok = c != NULL && ay_json_str(c, "username", username) &&
              ay_json_str(c, "password", password) &&
              (client_id == NULL || client_id[0] == '\0' || ay_json_str(c, "clientid", client_id));
    cJSON *list = ok ? cJSON_AddArrayToObject(c, "roles") : NULL;

    ok = ok && list != NULL;
    for (size_t i = 0; ok && i < nroles; i++) {
        cJSON *r = cJSON_CreateObject();
        if (r == NULL || !ay_json_str(r, "rolename", roles[i])) {
            cJSON_Delete(r);
            ok = false;
        } else {
            ok = ay_json_push(list, r);
        }
    }
    return done(c, ok);
}

cJSON *ay_dynsec_cmd_client(const char *command_name, const char *username)
{
    cJSON *c = command(command_name);
    return done(c, c != NULL && ay_json_str(c, "username", username));
}

cJSON *ay_dynsec_cmd_role(const char *command_name, const char *rolename)
{
    cJSON *c = command(command_name);
    return done(c, c != NULL && ay_json_str(c, "rolename", rolename));
}

cJSON *ay_dynsec_cmd_set_password(const char *username, const char *password)
{
    cJSON *c = command("setClientPassword");
    return done(c, c != NULL && ay_json_str(c, "username", username) &&
                       ay_json_str(c, "password", password));
}

cJSON *ay_dynsec_cmd_role_acl(const char *command_name, const char *rolename,
                              const struct ay_dynsec_acl *acl)
{
    cJSON *c = command(command_name);
    bool ok = c != NULL && ay_json_str(c, "rolename", rolename) &&
              ay_json_str(c, "acltype", acl->type) && ay_json_str(c, "topic", acl->topic);
    /* removeRoleACL names the ACL by type and topic only. */
    if (ok && strcmp(command_name, "addRoleACL") == 0)
        ok = ay_json_num(c, "priority", acl->priority) && ay_json_bool(c, "allow", acl->allow);
    return done(c, ok);
}

cJSON *ay_dynsec_cmd_add_client_role(const char *username, const char *rolename)
{
    cJSON *c = command("addClientRole");
    return done(c, c != NULL && ay_json_str(c, "username", username) &&
                       ay_json_str(c, "rolename", rolename));
}

cJSON *ay_dynsec_cmd_list_clients(void)
{
    cJSON *c = command("listClients");
    return done(c, c != NULL && ay_json_bool(c, "verbose", true) && ay_json_num(c, "count", -1));
}

bool ay_dynsec_is_not_found(const char *error)
{
    return error != NULL && strstr(error, "not found") != NULL;
}

bool ay_dynsec_is_already_exists(const char *error)
{
    return error != NULL && strstr(error, "already exists") != NULL;
}

/* ---- batches ------------------------------------------------------------------------ */

struct answer {
    bool answered;
    char *error;   /* NULL: success */
    cJSON *result; /* the whole response entry */
};

struct ay_dynsec_batch {
    char tag[AY_DYNSEC_TAG_MAX];
    size_t n;
    size_t cap;
    char **text;         /* each command, printed unformatted */
    char (*name)[32];    /* each command's name */
    struct answer *answ; /* each command's answer */
};

static bool tag_is_valid(const char *tag)
{
    size_t n = tag ? strlen(tag) : 0;

    if (n == 0 || n >= AY_DYNSEC_TAG_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = tag[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

enum ay_err ay_dynsec_batch_new(const char *tag, struct ay_dynsec_batch **out)
{
    if (!tag_is_valid(tag))
        return AY_ERR_INVALID;
    struct ay_dynsec_batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return AY_ERR_NOMEM;
    snprintf(b->tag, sizeof(b->tag), "%s", tag);
    *out = b;
    return AY_OK;
}

void ay_dynsec_batch_free(struct ay_dynsec_batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->text[i]);
        free(b->answ[i].error);
        cJSON_Delete(b->answ[i].result);
    }
    free(b->text);
    free(b->name);
    free(b->answ);
    free(b);
}

static bool grow(struct ay_dynsec_batch *b)
{
    if (b->n < b->cap)
        return true;
    size_t cap = b->cap ? b->cap * 2 : 16;
    char **text = realloc(b->text, cap * sizeof(*text));
    if (text == NULL)
        return false;
    b->text = text;
    char(*name)[32] = realloc(b->name, cap * sizeof(*name));
    if (name == NULL)
        return false;
    b->name = name;
    struct answer *answ = realloc(b->answ, cap * sizeof(*answ));
    if (answ == NULL)
        return false;
    b->answ = answ;
    b->cap = cap;
    return true;
}

enum ay_err ay_dynsec_batch_take(struct ay_dynsec_batch *b, cJSON *cmd, size_t *index)
{
    char corr[AY_DYNSEC_TAG_MAX + 24];
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cmd, "command");

    if (!cJSON_IsObject(cmd) || !cJSON_IsString(name) || strlen(name->valuestring) >= 32 ||
        cJSON_GetObjectItemCaseSensitive(cmd, "correlationData") != NULL)
        return AY_ERR_INVALID;
    if (!grow(b))
        return AY_ERR_NOMEM;
    snprintf(corr, sizeof(corr), "%s:%zu", b->tag, b->n);
    cJSON *c = cJSON_CreateString(corr);
    if (c == NULL || !cJSON_AddItemToObject(cmd, "correlationData", c)) {
        cJSON_Delete(c);
        return AY_ERR_NOMEM;
    }
    char *text = cJSON_PrintUnformatted(cmd);
    if (text == NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(cmd, "correlationData");
        return AY_ERR_NOMEM;
    }
    snprintf(b->name[b->n], sizeof(b->name[b->n]), "%s", name->valuestring);
    b->text[b->n] = text;
    b->answ[b->n] = (struct answer){.answered = false};
    if (index)
        *index = b->n;
    b->n++;
    cJSON_Delete(cmd);
    return AY_OK;
}

size_t ay_dynsec_batch_count(const struct ay_dynsec_batch *b)
{
    return b->n;
}

const char *ay_dynsec_batch_command(const struct ay_dynsec_batch *b, size_t index)
{
    return index < b->n ? b->name[index] : "";
}

enum ay_err ay_dynsec_batch_message(const struct ay_dynsec_batch *b, size_t from, size_t max_cmds,
                                    size_t max_bytes, char **payload, size_t *len, size_t *to,
                                    char err[AY_ERRLEN])
{
    static const char head[] = "{\"commands\":[";
    static const char tail[] = "]}";
    size_t total = sizeof(head) - 1 + sizeof(tail) - 1;
    size_t end = from;

    if (from >= b->n) {
        ay_errf(err, "no command at %zu (the batch has %zu)", from, b->n);
        return AY_ERR_INVALID;
    }
    while (end < b->n && end - from < (max_cmds ? max_cmds : 1)) {
        size_t add = strlen(b->text[end]) + (end > from ? 1 : 0);
        if (total + add > max_bytes)
            break;
        total += add;
        end++;
    }
    if (end == from) {
        ay_errf(err, "command %zu (%s) alone is larger than %zu bytes", from, b->name[from],
                max_bytes);
        return AY_ERR_INVALID;
    }
    char *p = malloc(total + 1);
    if (p == NULL)
        return AY_ERR_NOMEM;
    size_t off = 0;
    memcpy(p, head, sizeof(head) - 1);
    off += sizeof(head) - 1;
    for (size_t i = from; i < end; i++) {
        if (i > from)
            p[off++] = ',';
        size_t n = strlen(b->text[i]);
        memcpy(p + off, b->text[i], n);
        off += n;
    }
    memcpy(p + off, tail, sizeof(tail) - 1);
    off += sizeof(tail) - 1;
    p[off] = '\0';
    *payload = p;
    *len = off;
    *to = end;
    return AY_OK;
}

/* The index of a correlation "<tag>:<index>" of this batch, or false. */
static bool our_index(const struct ay_dynsec_batch *b, const char *corr, size_t *index)
{
    size_t tl = strlen(b->tag);
    size_t v = 0;

    if (strncmp(corr, b->tag, tl) != 0 || corr[tl] != ':' || corr[tl + 1] == '\0')
        return false;
    for (const char *p = corr + tl + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > b->n)
            return false;
        v = v * 10 + (size_t)(*p - '0');
    }
    if (v >= b->n || (corr[tl + 1] == '0' && corr[tl + 2] != '\0'))
        return false;
    *index = v;
    return true;
}

size_t ay_dynsec_batch_accept(struct ay_dynsec_batch *b, const void *payload, size_t len)
{
    cJSON *tree = cJSON_ParseWithLength(payload, len);
    cJSON *responses = cJSON_GetObjectItemCaseSensitive(tree, "responses");
    size_t got = 0;

    if (!cJSON_IsArray(responses)) {
        cJSON_Delete(tree);
        return 0;
    }
    for (cJSON *r = responses->child; r != NULL;) {
        cJSON *next = r->next;
        const cJSON *corr = cJSON_GetObjectItemCaseSensitive(r, "correlationData");
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(r, "error");
        size_t i = 0;
        if (cJSON_IsObject(r) && cJSON_IsString(corr) && our_index(b, corr->valuestring, &i) &&
            !b->answ[i].answered) {
            char *e = NULL;
            if (cJSON_IsString(error) && (e = strdup(error->valuestring)) == NULL)
                break; /* out of memory: left unanswered, the caller times out */
            b->answ[i].error = e;
            b->answ[i].result = cJSON_DetachItemViaPointer(responses, r);
            b->answ[i].answered = true;
            got++;
        }
        r = next;
    }
    cJSON_Delete(tree);
    return got;
}

size_t ay_dynsec_batch_unanswered(const struct ay_dynsec_batch *b, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to && i < b->n; i++)
        n += b->answ[i].answered ? 0 : 1;
    return n;
}

bool ay_dynsec_batch_result(const struct ay_dynsec_batch *b, size_t index, const char **error,
                            const cJSON **data)
{
    if (index >= b->n || !b->answ[index].answered)
        return false;
    *error = b->answ[index].error;
    if (data)
        *data = cJSON_GetObjectItemCaseSensitive(b->answ[index].result, "data");
    return true;
}
