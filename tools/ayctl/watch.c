/*
 * ayctl watch: the escalation feed of one audience (police, bureau or
 * government) of the configured district, or of the configured school
 * (audience school, through a device of that school), one line per
 * escalation for a person to read (people_text.c), or JSON lines as `ayctl
 * sub` prints them.
 *
 * Enforces for people what domain.md rules 1, 2 and 6 need from them: each
 * escalation says who it is for, why, and by when to acknowledge, with the
 * id `ayctl ack` takes. A notification re-sent by the backbone repeats its
 * header.messageId (docs/contract.md, "Delivery") and is printed once.
 * Times are in the district's zone: read from the database when
 * database_url is configured, else AY_TZ_DEFAULT (every district's default).
 * "subscribed" is logged on stderr once the broker granted the subscription.
 * Threads: lines are printed on Paho's receive thread, under the state's
 * mutex, which the main thread takes to read the count.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anyuan/v1/outbound.pb-c.h"
#include "ay_log.h"
#include "ay_time.h"
#include "ay_topic.h"
#include "ay_uuid.h"
#include "ayctl.h"
#include "people_text.h"

/* Message ids remembered for de-duplication: re-sends of a notification
 * come minutes apart, and a person's feed carries far fewer than this in
 * that time. */
#define SEEN_MAX 1024

struct watch_state {
    pthread_mutex_t lock;
    long long count; /* escalations printed */
    bool json;
    enum ay_lang lang;
    const struct ay_tz *zone;
    const struct ay_district_policy *policy;
    char seen[SEEN_MAX][AY_UUID_STRLEN]; /* a ring of the last message ids */
    size_t nseen;
    size_t next;
};

/* True if id was seen; remembers it otherwise. Called under the lock. */
static bool seen_before(struct watch_state *s, const char *id)
{
    if (id == NULL || id[0] == '\0' || strlen(id) >= AY_UUID_STRLEN)
        return false;
    for (size_t i = 0; i < s->nseen; i++)
        if (strcmp(s->seen[i], id) == 0)
            return true;
    memcpy(s->seen[s->next], id, strlen(id) + 1);
    s->next = (s->next + 1) % SEEN_MAX;
    if (s->nseen < SEEN_MAX)
        s->nseen++;
    return false;
}

/* Paho receive thread. */
static void on_escalation(void *arg, const struct ay_mqtt_msg *msg)
{
    struct watch_state *s = arg;
    char *line = NULL;
    Anyuan__V1__Escalation *e = anyuan__v1__escalation__unpack(NULL, msg->len, msg->payload);

    if (e == NULL && !s->json) {
        ay_log_warn("ignoring a message that is not an Escalation", "topic", msg->topic, NULL);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (e == NULL || !seen_before(s, e->header ? e->header->message_id : NULL)) {
        line = s->json ? ayctl_sub_render(msg)
                       : ayctl_escalation_line(e, s->zone, s->policy, s->lang, ay_time_now_us());
        if (line != NULL) {
            fputs(line, stdout);
            fputc('\n', stdout);
            fflush(stdout);
        }
        if (e != NULL)
            s->count++;
    }
    pthread_mutex_unlock(&s->lock);
    free(line);
    if (e != NULL)
        anyuan__v1__escalation__free_unpacked(e, NULL);
}

struct watch_args {
    const char *audience;
    const char *lang;
    long long count;
    bool json;
};

static int parse_args(int argc, char **argv, struct watch_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (!ayctl_parse_count(argv[++i], &a->count))
                return AYCTL_EXIT_USAGE;
        } else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
            a->lang = argv[++i];
        } else if (strcmp(argv[i], "--audience") == 0 && i + 1 < argc) {
            a->audience = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = true;
        } else {
            ayctl_fail("watch: unexpected argument \"%s\" (usage: ayctl watch [--audience A] "
                       "[--count N] [--lang en] [--json])",
                       argv[i]);
            return AYCTL_EXIT_USAGE;
        }
    }
    return AYCTL_EXIT_OK;
}

/* The district's zone and policy; the defaults when the database is not
 * configured or cannot tell (said on stderr: watching must not depend on it). */
static enum ay_err load_zone(const struct ayctl_config *cfg, struct ay_tz **zone,
                             struct ay_district_policy *p)
{
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;

    if (cfg->common.database_url != NULL && cfg->common.database_url[0] != '\0' &&
        ayctl_db_connect(cfg, &db, err) != AY_OK)
        ayctl_fail("warning: %s; showing times in %s", err, AY_TZ_DEFAULT);
    enum ay_err rc = ayctl_district_zone(db, cfg->common.district, zone, p, err);
    if (rc != AY_OK && db != NULL) {
        ayctl_fail("warning: %s; showing times in %s", err, AY_TZ_DEFAULT);
        rc = ayctl_district_zone(NULL, cfg->common.district, zone, p, err);
    }
    if (rc != AY_OK)
        ayctl_fail("%s", err);
    ay_pg_free(db);
    return rc;
}

int ayctl_watch(const struct ayctl_config *cfg, int argc, char **argv)
{
    char topic[AY_TOPIC_MAX];
    char err[AY_ERRLEN] = "";
    char idbuf[64];
    struct watch_args a;
    struct ay_district_policy policy;
    struct ay_tz *zone = NULL;
    struct ay_mqtt *c = NULL;
    struct watch_state *s = NULL;
    int code = parse_args(argc, argv, &a);

    if (code != AYCTL_EXIT_OK)
        return code;
    const char *audience = ayctl_audience(cfg, a.audience);
    if (audience == NULL)
        return AYCTL_EXIT_USAGE;
    if (ay_topic_escalation_feed(topic, cfg->common.district, audience, cfg->school) != AY_OK) {
        ayctl_fail("watch: invalid district \"%s\"%s", cfg->common.district,
                   strcmp(audience, AY_TOPIC_AUDIENCE_SCHOOL) == 0
                       ? " or school (the school audience needs school = S in the configuration)"
                       : "");
        return AYCTL_EXIT_USAGE;
    }
    if (load_zone(cfg, &zone, &policy) != AY_OK)
        return AYCTL_EXIT_FAILURE;
    code = AYCTL_EXIT_FAILURE;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto cleanup;
    pthread_mutex_init(&s->lock, NULL);
    s->json = a.json;
    s->lang = ay_lang_parse(a.lang);
    s->zone = zone;
    s->policy = &policy;
    struct ay_mqtt_opts o;
    ayctl_mqtt_opts(cfg, idbuf, sizeof(idbuf), &o);
    if (ay_mqtt_new(&o, on_escalation, s, &c, err) != AY_OK ||
        ay_mqtt_subscribe(c, topic, 1, err) != AY_OK ||
        ay_mqtt_connect(c, (int)cfg->timeout_ms, err) != AY_OK) {
        ayctl_fail("%s", err[0] ? err : "cannot set up the MQTT client");
        goto cleanup;
    }
    ay_log_info("subscribed", "topic", topic, NULL);
    code = ayctl_wait_count(cfg, &s->lock, &s->count, a.count);
cleanup:
    ay_mqtt_free(c);
    if (s != NULL)
        pthread_mutex_destroy(&s->lock);
    free(s);
    ay_tz_free(zone);
    return code;
}
