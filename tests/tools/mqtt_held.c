/*
 * ay-test-mqtt-held - checks lib/ay_mqtt's own-thread client against a real
 * broker, for tests/integration/18-mqtt-own-thread.sh.
 *
 *   ay-test-mqtt-held held URL USER PASSWORD [CA_FILE] [--paho]
 *     A Paho client's message callback holds Paho's one receive thread (as
 *     the recorder's intake does when its queue is full); meanwhile 300
 *     QoS 1 publishes go through an ay_outbox on an own-thread client (or,
 *     with --paho, on a Paho client). Prints "acknowledged N of 300 while
 *     held" after at most 10 s; exit 0 if all 300 were.
 *   ay-test-mqtt-held connect URL USER PASSWORD [CA_FILE]
 *     Connects an own-thread client (3 s), publishes one message and waits
 *     for its acknowledgement, disconnects. Prints "connected" and
 *     "acknowledged", or the error; exit 0 on success, 1 otherwise.
 *
 * The user must be a service account (publishes and subscribes under
 * ay/v1/d01/receipt/).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "ay_mqtt.h"
#include "ay_outbox.h"
#include "ay_sync.h"
#include "ay_time.h"

#define COUNT      300
#define HOLD_TOPIC "ay/v1/d01/receipt/held-school/hold"

struct hold {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, release;
};

static atomic_int acked;

/* Paho's receive thread: stays here until released. */
static void on_hold(void *arg, const struct ay_mqtt_msg *m)
{
    struct hold *h = arg;
    (void)m;
    pthread_mutex_lock(&h->lock);
    h->entered = true;
    pthread_cond_broadcast(&h->cond);
    int64_t until = ay_mono_deadline_us(20000);
    while (!h->release && ay_cond_wait_until(&h->cond, &h->lock, until))
        ;
    pthread_mutex_unlock(&h->lock);
}

static void on_done(void *arg, enum ay_err rc, const char *reason)
{
    (void)arg;
    if (rc == AY_OK)
        atomic_fetch_add(&acked, 1);
    else
        fprintf(stderr, "publish failed: %s\n", reason);
}

static struct ay_mqtt_opts opts(char **argv, int argc, const char *id, bool own)
{
    struct ay_mqtt_opts o = {.url = argv[2],
                             .client_id = id,
                             .username = argv[3],
                             .password = argv[4],
                             .ca_file = argc > 5 && argv[5][0] != '-' ? argv[5] : NULL,
                             .clean_start = true,
                             .own_thread = own};
    return o;
}

static int held(int argc, char **argv, bool paho)
{
    char err[AY_ERRLEN] = "";
    struct hold h = {.entered = false};
    struct ay_mqtt *holder = NULL, *out = NULL;
    struct ay_outbox *ob = NULL;
    struct ay_outbox_opts oo = {.qos = 1};
    struct ay_mqtt_opts ho = opts(argv, argc, "held-holder", false);
    struct ay_mqtt_opts po = opts(argv, argc, "held-publisher", !paho);
    int code = 1;

    pthread_mutex_init(&h.lock, NULL);
    ay_cond_init(&h.cond);
    if (ay_mqtt_new(&ho, on_hold, &h, &holder, err) != AY_OK ||
        ay_mqtt_subscribe(holder, HOLD_TOPIC, 1, err) != AY_OK ||
        ay_mqtt_connect(holder, 5000, err) != AY_OK ||
        ay_mqtt_new(&po, NULL, NULL, &out, err) != AY_OK ||
        ay_mqtt_connect(out, 5000, err) != AY_OK ||
        /* Not waited for: through Paho its PUBACK would be read by the
         * thread it is about to hold. */
        ay_mqtt_publish(out, HOLD_TOPIC, "hold", 4, 1, false, NULL, NULL, err) != AY_OK) {
        fprintf(stderr, "setup: %s\n", err);
        goto cleanup;
    }
    pthread_mutex_lock(&h.lock);
    int64_t until = ay_mono_deadline_us(5000);
    while (!h.entered && ay_cond_wait_until(&h.cond, &h.lock, until))
        ;
    bool entered = h.entered;
    pthread_mutex_unlock(&h.lock);
    if (!entered) {
        fprintf(stderr, "the holding callback never ran\n");
        goto cleanup;
    }
    if (ay_outbox_new(out, &oo, &ob, err) != AY_OK) {
        fprintf(stderr, "outbox: %s\n", err);
        goto cleanup;
    }
    for (int i = 0; i < COUNT; i++) {
        char topic[96];
        char *payload = strdup("receipt");
        snprintf(topic, sizeof(topic), "ay/v1/d01/receipt/held-school/dev-%d", i % 10);
        if (payload == NULL || ay_outbox_put_take_typed(ob, topic, NULL, payload, strlen(payload),
                                                        on_done, NULL) != AY_OK) {
            free(payload);
            fprintf(stderr, "could not queue publish %d\n", i);
            goto release;
        }
    }
    until = ay_mono_deadline_us(10000);
    while (atomic_load(&acked) < COUNT && ay_mono_us() < until)
        ay_time_sleep_ms(20);
    printf("acknowledged %d of %d while held\n", atomic_load(&acked), COUNT);
    code = atomic_load(&acked) == COUNT ? 0 : 1;
release:
    pthread_mutex_lock(&h.lock);
    h.release = true;
    pthread_cond_broadcast(&h.cond);
    pthread_mutex_unlock(&h.lock);
    if (ob != NULL)
        (void)ay_outbox_close(ob, 5000);
cleanup:
    ay_mqtt_free(holder);
    ay_mqtt_free(out);
    ay_outbox_free(ob);
    pthread_cond_destroy(&h.cond);
    pthread_mutex_destroy(&h.lock);
    return code;
}

static int connect_once(int argc, char **argv)
{
    char err[AY_ERRLEN] = "";
    struct ay_mqtt *c = NULL;
    struct ay_mqtt_opts o = opts(argv, argc, "held-connect", true);
    int code = 1;

    if (ay_mqtt_new(&o, NULL, NULL, &c, err) != AY_OK || ay_mqtt_connect(c, 3000, err) != AY_OK) {
        printf("error: %s\n", err);
        goto cleanup;
    }
    printf("connected\n");
    if (ay_mqtt_publish_wait_typed(c, "ay/v1/d01/receipt/held-school/dev-0", "application/json",
                                   "{}", 2, 1, 5000, err) != AY_OK) {
        printf("error: %s\n", err);
        goto cleanup;
    }
    printf("acknowledged\n");
    code = 0;
cleanup:
    int64_t t0 = ay_mono_us();
    ay_mqtt_free(c);
    printf("closed in %lld ms\n", (long long)((ay_mono_us() - t0) / 1000));
    return code;
}

int main(int argc, char **argv)
{
    ay_log_init("mqtt-held", AY_LOG_INFO);
    if (argc >= 5 && strcmp(argv[1], "held") == 0)
        return held(argc, argv, strcmp(argv[argc - 1], "--paho") == 0);
    if (argc >= 5 && strcmp(argv[1], "connect") == 0)
        return connect_once(argc, argv);
    fprintf(stderr, "usage: ay-test-mqtt-held held|connect URL USER PASSWORD [CA_FILE] [--paho]\n");
    return 2;
}
