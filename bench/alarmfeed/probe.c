/*
 * ay-alarmfeed-probe - alarm -> police feed latency, end to end.
 *
 * One device account presses its button --count times, --rate per second
 * (each a new Alarm, QoS 1, on its own alarm topic); one police account,
 * subscribed to the district's police feed, receives each PoliceAlarm that
 * ay-alarmfeed republishes. The latency of an alarm is the time from just
 * before the device's publish to the police client's arrival of its
 * PoliceAlarm, both taken in this process on CLOCK_MONOTONIC. An alarm is
 * matched by its note ("probe-<n>", which the feed passes on).
 * --raw: the reference without the feed: the listener (then a service
 * account) subscribes to the device's own alarm topic instead, one broker
 * hop instead of two.
 * Prints one line of figures: alarms, received, lost, p50/p99/max/mean in ms,
 * over the alarms after the first --warmup.
 * Exit codes: 0 every alarm arrived; 1 some did not (or the run could not
 * take place); 2 usage.
 * Threads: the main thread publishes; the police client's callback runs on
 * Paho's receive thread and only records the arrival time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/police.pb-c.h"
#include "ay_log.h"
#include "ay_mqtt.h"
#include "ay_sync.h"
#include "ay_time.h"
#include "ay_topic.h"
#include "ay_uuid.h"

struct probe {
    pthread_mutex_t lock;
    pthread_cond_t arrived;
    unsigned long count;
    int64_t *sent_us; /* monotonic, just before the publish; 0: not yet */
    int64_t *lat_us;  /* -1 until its PoliceAlarm arrived */
    unsigned long received;
    unsigned long strays; /* feed messages that are not ours */
    bool raw;             /* listening to the raw alarm topic */
};

struct opts {
    const char *url;
    const char *district;
    const char *school;
    const char *device;
    const char *device_pw;
    const char *police;
    const char *police_pw;
    unsigned long count;
    unsigned long rate; /* alarms per second */
    unsigned long warmup;
    unsigned long timeout_ms;
    bool raw;
};

/* Paho receive thread: a PoliceAlarm (--raw: an Alarm) arrived. */
static void on_feed(void *arg, const struct ay_mqtt_msg *m)
{
    struct probe *p = arg;
    int64_t now = ay_mono_us();
    Anyuan__V1__PoliceAlarm *pa =
        p->raw ? NULL : anyuan__v1__police_alarm__unpack(NULL, m->len, m->payload);
    Anyuan__V1__Alarm *a = p->raw ? anyuan__v1__alarm__unpack(NULL, m->len, m->payload) : NULL;
    const char *note = pa ? pa->note : (a ? a->note : NULL);
    unsigned long n = 0;
    char *end = NULL;

    if (note != NULL && strncmp(note, "probe-", 6) == 0) {
        errno = 0;
        n = strtoul(note + 6, &end, 10);
    }
    pthread_mutex_lock(&p->lock);
    if (note == NULL || end == NULL || *end != '\0' || errno != 0 || n >= p->count ||
        p->sent_us[n] == 0 || p->lat_us[n] >= 0) {
        p->strays++;
    } else {
        p->lat_us[n] = now - p->sent_us[n];
        p->received++;
        pthread_cond_signal(&p->arrived);
    }
    pthread_mutex_unlock(&p->lock);
    if (pa)
        anyuan__v1__police_alarm__free_unpacked(pa, NULL);
    if (a)
        anyuan__v1__alarm__free_unpacked(a, NULL);
}

/* The bytes of alarm n (a new id, triggered now). */
static uint8_t *alarm_bytes(const struct opts *o, unsigned long n, size_t *len)
{
    Anyuan__V1__Alarm a = ANYUAN__V1__ALARM__INIT;
    Anyuan__V1__Header h = ANYUAN__V1__HEADER__INIT;
    Anyuan__V1__Timestamp now = ANYUAN__V1__TIMESTAMP__INIT;
    char id[AY_UUID_STRLEN];
    char note[32];
    int64_t secs;
    int32_t nanos;

    if (ay_uuid_v4(id) != AY_OK)
        return NULL;
    snprintf(note, sizeof(note), "probe-%lu", n);
    ay_time_from_us(ay_time_now_us(), &secs, &nanos);
    now.seconds = secs;
    now.nanos = nanos;
    h.message_id = id;
    h.device_id = (char *)o->device;
    h.school_id = (char *)o->school;
    h.district_id = (char *)o->district;
    h.sent_at = &now;
    h.schema_version = 1;
    a.header = &h;
    a.kind = ANYUAN__V1__ALARM_KIND__ALARM_KIND_PANIC;
    a.triggered_at = &now;
    a.location = "probe";
    a.source = ANYUAN__V1__ALARM_SOURCE__ALARM_SOURCE_SCHOOL;
    a.note = note;
    *len = protobuf_c_message_get_packed_size(&a.base);
    uint8_t *b = malloc(*len);
    if (b != NULL)
        protobuf_c_message_pack(&a.base, b);
    return b;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void report(const struct opts *o, struct probe *p)
{
    int64_t *v = malloc(sizeof(*v) * (p->count + 1));
    size_t n = 0;
    double sum = 0;

    for (unsigned long i = o->warmup; v != NULL && i < p->count; i++)
        if (p->lat_us[i] >= 0) {
            v[n++] = p->lat_us[i];
            sum += (double)p->lat_us[i];
        }
    if (v != NULL && n > 0)
        qsort(v, n, sizeof(*v), cmp_i64);
    printf("alarms=%lu received=%lu lost=%lu strays=%lu measured=%zu", p->count, p->received,
           p->count - p->received, p->strays, n);
    if (v != NULL && n > 0)
        printf(" p50_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f", v[(n - 1) / 2] / 1000.0,
               v[(n * 99 + 99) / 100 - 1] / 1000.0, v[n - 1] / 1000.0, sum / (double)n / 1000.0);
    printf("\n");
    free(v);
}

static bool parse_num(const char *s, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0)
        return false;
    *out = v;
    return true;
}

static int parse(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (strcmp(k, "--raw") == 0) {
            o->raw = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = v != NULL;
        if (ok && strcmp(k, "--url") == 0)
            o->url = v;
        else if (ok && strcmp(k, "--district") == 0)
            o->district = v;
        else if (ok && strcmp(k, "--school") == 0)
            o->school = v;
        else if (ok && strcmp(k, "--device") == 0)
            o->device = v;
        else if (ok && strcmp(k, "--device-password") == 0)
            o->device_pw = v;
        else if (ok && strcmp(k, "--police") == 0)
            o->police = v;
        else if (ok && strcmp(k, "--police-password") == 0)
            o->police_pw = v;
        else if (ok && strcmp(k, "--count") == 0)
            ok = parse_num(v, &o->count) && o->count > 0 && o->count <= 10000000;
        else if (ok && strcmp(k, "--rate") == 0)
            ok = parse_num(v, &o->rate) && o->rate > 0 && o->rate <= 100000;
        else if (ok && strcmp(k, "--warmup") == 0)
            ok = parse_num(v, &o->warmup);
        else if (ok && strcmp(k, "--timeout-ms") == 0)
            ok = parse_num(v, &o->timeout_ms) && o->timeout_ms <= 3600000;
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "ay-alarmfeed-probe: bad argument %s\n", k);
            return 2;
        }
        i++;
    }
    if (!o->url || !o->device || !o->device_pw || !o->police || !o->police_pw) {
        fprintf(stderr, "usage: ay-alarmfeed-probe --url URL --device NAME --device-password PW\n"
                        "  --police NAME --police-password PW [--district D] [--school S]\n"
                        "  [--count N] [--rate PER_S] [--warmup N] [--timeout-ms MS] [--raw]\n");
        return 2;
    }
    return 0;
}

/* Publishes the alarms at the rate, then waits for the last arrivals. */
static int run(const struct opts *o, struct probe *p, struct ay_mqtt *dev)
{
    char err[AY_ERRLEN] = "";
    char topic[AY_TOPIC_MAX];
    int64_t start = ay_mono_us();

    if (ay_topic_school(topic, o->district, o->school, o->device, "alarm") != AY_OK) {
        fprintf(stderr, "ay-alarmfeed-probe: invalid district, school or device id\n");
        return 2;
    }
    for (unsigned long i = 0; i < p->count; i++) {
        int64_t due = start + (int64_t)(i * 1000000.0 / (double)o->rate);
        int64_t wait = due - ay_mono_us();
        size_t len = 0;
        if (wait > 0)
            ay_time_sleep_ms((int)((wait + 999) / 1000));
        uint8_t *b = alarm_bytes(o, i, &len);
        if (b == NULL)
            return 1;
        pthread_mutex_lock(&p->lock);
        p->sent_us[i] = ay_mono_us();
        pthread_mutex_unlock(&p->lock);
        enum ay_err rc = ay_mqtt_publish(dev, topic, b, len, 1, false, NULL, NULL, err);
        free(b);
        if (rc != AY_OK) {
            fprintf(stderr, "ay-alarmfeed-probe: publish %lu: %s\n", i, err);
            return 1;
        }
    }
    int64_t deadline = ay_mono_deadline_us((int)o->timeout_ms);
    pthread_mutex_lock(&p->lock);
    while (p->received < p->count && ay_cond_wait_until(&p->arrived, &p->lock, deadline))
        ;
    pthread_mutex_unlock(&p->lock);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.district = "d01",
                     .school = "bench-school",
                     .count = 1000,
                     .rate = 50,
                     .warmup = 20,
                     .timeout_ms = 10000};
    struct probe p = {.count = 0};
    struct ay_mqtt *dev = NULL, *pol = NULL;
    char err[AY_ERRLEN] = "";
    char filter[AY_TOPIC_MAX];
    int code = parse(argc, argv, &o);

    if (code != 0)
        return code;
    ay_log_init("alarmfeed-probe", AY_LOG_WARN);
    p.count = o.count;
    p.sent_us = calloc(o.count, sizeof(*p.sent_us));
    p.lat_us = malloc(o.count * sizeof(*p.lat_us));
    if (p.sent_us == NULL || p.lat_us == NULL)
        return 1;
    for (unsigned long i = 0; i < o.count; i++)
        p.lat_us[i] = -1;
    pthread_mutex_init(&p.lock, NULL);
    ay_cond_init(&p.arrived);
    p.raw = o.raw;
    if (o.raw)
        snprintf(filter, sizeof(filter), "ay/v1/%s/school/%s/%s/alarm", o.district, o.school,
                 o.device);
    else
        snprintf(filter, sizeof(filter), "ay/v1/%s/police/alarm", o.district);
    struct ay_mqtt_opts po = {.url = o.url,
                              .client_id = o.police,
                              .username = o.police,
                              .password = o.police_pw,
                              .clean_start = true};
    struct ay_mqtt_opts dopt = {.url = o.url,
                                .client_id = o.device,
                                .username = o.device,
                                .password = o.device_pw,
                                .clean_start = true};
    code = 1;
    if (ay_mqtt_new(&po, on_feed, &p, &pol, err) != AY_OK ||
        ay_mqtt_subscribe(pol, filter, 1, err) != AY_OK ||
        ay_mqtt_connect(pol, 10000, err) != AY_OK ||
        ay_mqtt_new(&dopt, NULL, NULL, &dev, err) != AY_OK ||
        ay_mqtt_connect(dev, 10000, err) != AY_OK) {
        fprintf(stderr, "ay-alarmfeed-probe: %s\n", err);
        goto cleanup;
    }
    if ((code = run(&o, &p, dev)) != 0)
        goto cleanup;
    report(&o, &p);
    code = p.received == p.count ? 0 : 1;
cleanup:
    ay_mqtt_free(dev);
    ay_mqtt_free(pol);
    pthread_cond_destroy(&p.arrived);
    pthread_mutex_destroy(&p.lock);
    free(p.sent_us);
    free(p.lat_us);
    return code;
}
