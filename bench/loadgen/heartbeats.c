/*
 * ay-heartbeats - many simulated devices that only report their status:
 * the device side of supervision (docs/contract.md, sections 2 and 5.8;
 * domain.md rule 1, 联得通) for bench/supervision/run.
 *
 * Each device is one MQTT v5 connection (client id = account name = device
 * id, persistent session, keepalive, a last will OFFLINE with a fresh
 * message id), subscribed to its receipt topic; right after connecting it
 * publishes ONLINE, then a HEARTBEAT every interval (its own, promised in
 * heartbeatIntervalS), the first one at a random point of its first
 * interval so that the devices are staggered. --silent of them stop
 * heartbeating at staggered times (they stay connected and keep answering
 * the broker's keepalive, so no last will is published: the backbone must
 * notice the silence itself). On SIGINT/SIGTERM (or after --duration) every
 * device disconnects normally (no will), the silent devices are written to
 * --report, and the figures are printed.
 *
 * 10,000 connections on one thread: each device is a libmosquitto client
 * whose socket this thread watches with epoll and hands to libmosquitto's
 * socket-level loop (mosquitto_loop_read / _write / _misc), so that the
 * generator costs little next to the system it loads (its CPU is reported).
 * Paho would not do: one connect takes ~2 s in 1.3.12, and its threads are
 * its own.
 *
 * Device i (1-based) is PREFIX%05u, of school SCHOOL_PREFIX%04u with school
 * index (i - 1) % schools + 1, heartbeat interval min + (i - 1) % (max - min
 * + 1) seconds; silent are the devices i = k * step (k = 1..silent, step =
 * devices / silent), the k-th stopping at silent_at + (k - 1) * spread /
 * (silent - 1) seconds after every device was connected (bench/supervision/run
 * registers the same names and intervals with SQL).
 *
 * Owns: the devices' libmosquitto clients (their sockets), the timers (a
 * min-heap of the devices by their next action). Does not own: the
 * broker accounts and the registry rows (bench/supervision/run makes them).
 * Threads: one; signal handlers only set a flag.
 * Exit status: 0 every device connected and none was dropped, 1 otherwise,
 * 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "anyuan/v1/device.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_log.h"
#include "bench.h"
#include "ay_time.h"
#include "ay_topic.h"
#include "ay_uuid.h"

#define NS_PER_S      1000000000LL
#define NS_PER_MS     1000000LL
#define PASSWORD_MAX  256
#define EVENTS_MAX    1024
#define LOG_DROPS_MAX 10

enum state {
    S_IDLE,    /* not connected yet */
    S_CONNACK, /* CONNECT sent */
    S_SUBACK,  /* SUBSCRIBE sent */
    S_UP,      /* ONLINE published; heartbeating (or silent) */
    S_DEAD,    /* dropped by the broker or failed */
};

struct dev {
    unsigned index; /* 1-based */
    char name[AY_ID_MAX];
    char school[AY_ID_MAX];
    char topic[AY_TOPIC_MAX];
    struct mosquitto *m;
    int fd; /* libmosquitto's socket, while connected */
    bool watched;
    bool want_out;
    enum state st;
    unsigned interval_s;
    bool silent;         /* one of the devices that fall silent */
    bool stopped;        /* silent now: sends no more heartbeats */
    int64_t stop_ns;     /* when it falls silent (monotonic) */
    int64_t next_hb_ns;  /* next heartbeat (monotonic) */
    int64_t last_out_ns; /* last keepalive check (or publish) */
    int64_t due_ns;      /* its timer: min(next heartbeat, keepalive check) */
    size_t heap;         /* position in the timer heap */
    /* The latest status published: its id and when (latency of its receipt:
     * heartbeats sent from measure_from_ns on). */
    char last_id[AY_UUID_STRLEN];
    int64_t last_sent_ns;
    bool last_measured;
    int64_t last_hb_wall_us; /* wall clock of the latest HEARTBEAT publish */
    char last_hb_id[AY_UUID_STRLEN];
    int64_t stop_wall_us;
    unsigned long heartbeats;
};

struct opts {
    const char *host;
    int port;
    const char *district;
    const char *school_prefix;
    const char *device_prefix;
    const char *password_file;
    const char *report;
    unsigned devices;
    unsigned schools;
    unsigned interval_min, interval_max;
    unsigned silent;
    double silent_at_s, silent_spread_s;
    unsigned keepalive_s;
    unsigned parallel;
    double duration_s;
    double measure_from_s; /* receipt latency of heartbeats sent this long after t0 */
    unsigned session_expiry_s;
};

struct figures {
    unsigned long connected, dropped, connect_failed;
    unsigned long online, heartbeats, pubacks, puback_errors;
    unsigned long receipts_stored, receipts_duplicate, receipts_rejected, receipts_other;
    unsigned long pings;
    int64_t *lat_us;
    size_t nlat, caplat;
    double connect_s;
    char first_drop[160];
};

static struct opts o = {.host = "127.0.0.1",
                        .port = 0,
                        .district = "d01",
                        .school_prefix = "sup-s",
                        .device_prefix = "sup-d",
                        .devices = 10000,
                        .schools = 500,
                        .interval_min = 10,
                        .interval_max = 30,
                        .silent = 0,
                        .silent_at_s = 60,
                        .silent_spread_s = 60,
                        .keepalive_s = 20,
                        .parallel = 100,
                        .session_expiry_s = 3600};
static struct figures fig;
static struct dev *devs;
static struct dev **heap;
static size_t heap_n;
static int ep = -1;
static char password[PASSWORD_MAX];
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static int64_t measure_from_ns = INT64_MAX; /* set at t0 */
static volatile sig_atomic_t stop_flag;
static bool closing; /* disconnecting at the end: a closed connection is no drop */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static double rand01(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- timer heap (min-heap of devices by due_ns) ---------------------------------- */

static void heap_swap(size_t a, size_t b)
{
    struct dev *t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
    heap[a]->heap = a;
    heap[b]->heap = b;
}

static void heap_up(size_t i)
{
    while (i > 0 && heap[(i - 1) / 2]->due_ns > heap[i]->due_ns) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_n && heap[l]->due_ns < heap[m]->due_ns)
            m = l;
        if (r < heap_n && heap[r]->due_ns < heap[m]->due_ns)
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static void heap_push(struct dev *d)
{
    d->heap = heap_n;
    heap[heap_n++] = d;
    heap_up(d->heap);
}

static void heap_remove(struct dev *d)
{
    size_t i = d->heap;
    if (i >= heap_n || heap[i] != d)
        return;
    heap_swap(i, heap_n - 1);
    heap_n--;
    if (i < heap_n) {
        heap_up(i);
        heap_down(heap[i]->heap);
    }
    d->heap = SIZE_MAX;
}

/* The device's next timer: its next heartbeat (unless silent), or a
 * keepalive check a quarter of a keepalive after the last one: libmosquitto
 * sends a PINGREQ when it has sent nothing for a keepalive (its clock counts
 * the PUBACKs of receipts too), so the gap stays below the broker's 1.5x. */
static void reschedule(struct dev *d)
{
    int64_t ping = d->last_out_ns + (int64_t)o.keepalive_s * NS_PER_S / 4;
    int64_t due = ping;
    if (!d->stopped && d->next_hb_ns < due)
        due = d->next_hb_ns;
    if (d->silent && !d->stopped && d->stop_ns < due)
        due = d->stop_ns;
    d->due_ns = due;
    if (d->heap == SIZE_MAX) {
        heap_push(d);
    } else {
        heap_up(d->heap);
        heap_down(d->heap);
    }
}

/* ---- messages ---------------------------------------------------------------------- */

/* A DeviceStatus of d, packed into out (cap bytes); its length into *len and
 * its id into id. */
static bool status_pack(const struct dev *d, int state, uint8_t *out, size_t cap, size_t *len,
                        char id[AY_UUID_STRLEN])
{
    Anyuan__V1__DeviceStatus m;
    Anyuan__V1__Header h;
    Anyuan__V1__Timestamp ts;

    if (ay_uuid_v4(id) != AY_OK)
        return false;
    anyuan__v1__device_status__init(&m);
    anyuan__v1__header__init(&h);
    anyuan__v1__timestamp__init(&ts);
    ay_time_from_us(ay_time_now_us(), &ts.seconds, &ts.nanos);
    h.message_id = id;
    h.device_id = (char *)d->name;
    h.school_id = (char *)d->school;
    h.district_id = (char *)o.district;
    h.sent_at = &ts;
    h.schema_version = 1;
    m.header = &h;
    m.state = state;
    m.firmware = (char *)"bench";
    m.heartbeat_interval_s = d->interval_s;
    *len = protobuf_c_message_get_packed_size(&m.base);
    if (*len > cap)
        return false;
    protobuf_c_message_pack(&m.base, out);
    return true;
}

/* ---- sockets (libmosquitto's, driven from here) ------------------------------------- */

/* Registers d's socket with epoll once libmosquitto has one, and asks for
 * writability while libmosquitto holds unwritten packets. */
static void watch(struct dev *d)
{
    bool out = mosquitto_want_write(d->m);
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = d};

    if (d->st == S_DEAD || d->fd < 0)
        return;
    if (!d->watched) {
        if (epoll_ctl(ep, EPOLL_CTL_ADD, d->fd, &ev) == 0) {
            d->watched = true;
            d->want_out = out;
        }
        return;
    }
    if (out != d->want_out) {
        d->want_out = out;
        (void)epoll_ctl(ep, EPOLL_CTL_MOD, d->fd, &ev);
    }
}

static void drop(struct dev *d, const char *why)
{
    if (d->st == S_DEAD)
        return;
    bool was_up = d->st == S_UP;
    if (closing)
        ;
    else if (was_up)
        fig.dropped++;
    else
        fig.connect_failed++;
    if (!closing && fig.dropped + fig.connect_failed <= LOG_DROPS_MAX)
        ay_log_warn(was_up ? "device dropped" : "device could not connect", "device", d->name,
                    "why", why, NULL);
    if (!closing && fig.first_drop[0] == '\0')
        snprintf(fig.first_drop, sizeof(fig.first_drop), "%.40s: %.100s", d->name, why);
    if (d->watched)
        (void)epoll_ctl(ep, EPOLL_CTL_DEL, d->fd, NULL);
    d->watched = false;
    d->st = S_DEAD;
    /* Closes the socket if libmosquitto has not already (no DISCONNECT is
     * sent on a broken connection; the broker publishes the will). */
    if (d->m != NULL && mosquitto_socket(d->m) >= 0)
        (void)mosquitto_disconnect_v5(d->m, MQTT_RC_UNSPECIFIED, NULL);
    d->fd = -1;
    heap_remove(d);
}

static const char *mosq_err(int rc)
{
    return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

/* Publishes a status (QoS 1); a heartbeat unless online. Outside a callback
 * libmosquitto writes at once; inside one it queues (watch asks for EPOLLOUT). */
static bool publish_status(struct dev *d, bool online, int64_t now)
{
    uint8_t msg[512];
    size_t len = 0;
    char id[AY_UUID_STRLEN];
    int rc = MOSQ_ERR_NOMEM;

    if (status_pack(d,
                    online ? ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_ONLINE
                           : ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_HEARTBEAT,
                    msg, sizeof(msg), &len, id))
        rc = mosquitto_publish_v5(d->m, NULL, d->topic, (int)len, msg, 1, false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        drop(d, rc == MOSQ_ERR_NOMEM ? "cannot build a status" : mosq_err(rc));
        return false;
    }
    d->last_out_ns = now;
    memcpy(d->last_id, id, sizeof(d->last_id));
    d->last_sent_ns = now;
    d->last_measured = !online && now >= measure_from_ns;
    if (online) {
        fig.online++;
    } else {
        fig.heartbeats++;
        d->heartbeats++;
        d->last_hb_wall_us = ay_time_now_us();
        memcpy(d->last_hb_id, id, sizeof(d->last_hb_id));
    }
    watch(d);
    return true;
}

/* ---- libmosquitto callbacks (this thread, inside loop_read / loop_write) ------------- */

static void on_connect(struct mosquitto *m, void *arg, int rc, int flags,
                       const mosquitto_property *props)
{
    struct dev *d = arg;
    char topic[AY_TOPIC_MAX];
    char why[96];

    (void)flags;
    (void)props;
    if (d->st != S_CONNACK || rc != 0) {
        snprintf(why, sizeof(why), "CONNACK: %s", mosquitto_reason_string(rc));
        drop(d, why);
        return;
    }
    int s = MOSQ_ERR_INVAL;
    if (ay_topic_receipt(topic, o.district, d->school, d->name) == AY_OK)
        s = mosquitto_subscribe_v5(m, NULL, topic, 1, 0, NULL);
    if (s != MOSQ_ERR_SUCCESS) {
        drop(d, mosq_err(s));
        return;
    }
    d->st = S_SUBACK;
}

static void became_up(struct dev *d, int64_t now)
{
    d->st = S_UP;
    fig.connected++;
    if (!publish_status(d, true, now))
        return;
    /* The first heartbeat somewhere in the first interval: staggered. */
    d->next_hb_ns = now + (int64_t)((0.02 + 0.98 * rand01()) * d->interval_s * NS_PER_S);
    reschedule(d);
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
    struct dev *d = arg;
    char why[96];

    (void)m;
    (void)mid;
    (void)props;
    if (d->st != S_SUBACK || n < 1 || granted[0] != 1) {
        snprintf(why, sizeof(why), "SUBACK reason 0x%02x", n >= 1 ? (unsigned)granted[0] : 0xffu);
        drop(d, why);
        return;
    }
    became_up(d, mono_ns());
}

/* PUBACK of a status; 0x10 (no subscribers) is a success too. */
static void on_publish(struct mosquitto *m, void *arg, int mid, int rc,
                       const mosquitto_property *props)
{
    struct dev *d = arg;
    char why[16];

    (void)m;
    (void)mid;
    (void)props;
    fig.pubacks++;
    if (rc != 0 && rc != 0x10 && fig.puback_errors++ == 0) {
        snprintf(why, sizeof(why), "0x%02x", (unsigned)rc);
        ay_log_warn("broker refused a status", "device", d->name, "reason", why, NULL);
    }
}

/* A receipt; libmosquitto acknowledges it to the broker. */
static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    struct dev *d = arg;
    int64_t now = mono_ns();

    (void)m;
    (void)props;
    Anyuan__V1__Receipt *r =
        anyuan__v1__receipt__unpack(NULL, (size_t)msg->payloadlen, msg->payload);
    if (r == NULL) {
        fig.receipts_other++;
        return;
    }
    switch (r->status) {
    case ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_STORED:
        fig.receipts_stored++;
        break;
    case ANYUAN__V1__RECEIPT_STATUS__RECEIPT_STATUS_DUPLICATE:
        fig.receipts_duplicate++;
        break;
    default:
        if (fig.receipts_rejected++ == 0)
            ay_log_warn("status rejected", "device", d->name, "reason", r->reason, NULL);
        break;
    }
    if (r->ref_message_id && strcmp(r->ref_message_id, d->last_id) == 0 && d->last_measured) {
        if (fig.nlat == fig.caplat) {
            size_t cap = fig.caplat ? fig.caplat * 2 : 65536;
            int64_t *p = realloc(fig.lat_us, cap * sizeof(*p));
            if (p != NULL) {
                fig.lat_us = p;
                fig.caplat = cap;
            }
        }
        if (fig.nlat < fig.caplat)
            fig.lat_us[fig.nlat++] = (now - d->last_sent_ns) / 1000;
        d->last_measured = false;
    }
    anyuan__v1__receipt__free_unpacked(r, NULL);
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc, const mosquitto_property *props)
{
    char why[96];

    (void)m;
    (void)props;
    if (closing && rc == 0)
        return;
    snprintf(why, sizeof(why), "disconnected: %s", mosquitto_reason_string(rc));
    drop(arg, why);
}

/* ---- connecting ---------------------------------------------------------------------- */

/*
 * One socket per device, not three. libmosquitto 2.0.11 opens a socket pair
 * for every client (to wake its own loop thread, which is not used here), in
 * mosquitto_new and again when connecting, and carries on without it when
 * that fails (a warning to the log callback; 2.1 has MOSQ_OPT_DISABLE_SOCKETPAIR
 * for this). Three descriptors per device would pass the open files limit
 * (20,000 here, not raisable) at about 6,600 devices. So while a client is
 * made and connected, the soft limit is set to leave exactly one descriptor
 * free: the pair (two) fails, the device's socket (one) gets it. The lowest
 * free descriptor is the next one the kernel gives, so nothing below it is
 * free and the count is exact.
 */
static bool limit_to_one_more(struct rlimit *saved)
{
    struct rlimit rl;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* the lowest free descriptor */

    if (fd < 0 || getrlimit(RLIMIT_NOFILE, saved) != 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    close(fd);
    rl = *saved;
    rl.rlim_cur = (rlim_t)fd + 1;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

/*
 * MQTT v5, persistent session (Clean Start 0, Session Expiry Interval),
 * Receive Maximum 10, keepalive, a last will OFFLINE with a fresh message id,
 * TCP_NODELAY. mosquitto_connect_bind_v5 is the only libmosquitto 2.0 call
 * that sends CONNECT properties (the session expiry); it connects the TCP
 * socket blocking, which on the loopback completes at once while the broker
 * listens, and returns without waiting for the CONNACK (on_connect takes it).
 */
static void start_connect(struct dev *d, int64_t now)
{
    uint8_t will[512];
    size_t wlen = 0;
    char will_id[AY_UUID_STRLEN];
    mosquitto_property *props = NULL;
    struct rlimit saved;
    int rc = MOSQ_ERR_NOMEM;

    d->st = S_CONNACK;
    d->last_out_ns = now;
    bool limited = limit_to_one_more(&saved);
    d->m = mosquitto_new(d->name, false, d);
    if (d->m == NULL)
        goto cleanup;
    mosquitto_int_option(d->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(d->m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(d->m, MOSQ_OPT_RECEIVE_MAXIMUM, 10);
    mosquitto_connect_v5_callback_set(d->m, on_connect);
    mosquitto_subscribe_v5_callback_set(d->m, on_subscribe);
    mosquitto_publish_v5_callback_set(d->m, on_publish);
    mosquitto_message_v5_callback_set(d->m, on_message);
    mosquitto_disconnect_v5_callback_set(d->m, on_disconnect);
    if (!status_pack(d, ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_OFFLINE, will, sizeof(will), &wlen,
                     will_id))
        goto cleanup;
    rc = mosquitto_will_set_v5(d->m, d->topic, (int)wlen, will, 1, false, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_username_pw_set(d->m, d->name, password);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                          o.session_expiry_s);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect_bind_v5(d->m, o.host, o.port, (int)o.keepalive_s, NULL, props);
cleanup:
    if (limited)
        (void)setrlimit(RLIMIT_NOFILE, &saved);
    mosquitto_property_free_all(&props);
    if (rc != MOSQ_ERR_SUCCESS) {
        drop(d, d->m == NULL ? "out of memory" : mosq_err(rc));
        return;
    }
    d->fd = mosquitto_socket(d->m);
    watch(d);
}

/* ---- socket events --------------------------------------------------------------------- */

static void on_readable(struct dev *d)
{
    int rc = mosquitto_loop_read(d->m, 1);
    if (rc != MOSQ_ERR_SUCCESS && d->st != S_DEAD)
        drop(d, rc == MOSQ_ERR_CONN_LOST ? "connection closed by the broker" : mosq_err(rc));
    watch(d);
}

static void on_writable(struct dev *d)
{
    int rc = mosquitto_loop_write(d->m, 1);
    if (rc != MOSQ_ERR_SUCCESS && d->st != S_DEAD)
        drop(d, mosq_err(rc));
    watch(d);
}
/* ---- timers --------------------------------------------------------------------------- */

static void on_timer(struct dev *d, int64_t now)
{
    if (d->silent && !d->stopped && now >= d->stop_ns) {
        d->stopped = true;
        d->stop_wall_us = ay_time_now_us();
    }
    if (!d->stopped && now >= d->next_hb_ns) {
        if (!publish_status(d, false, now))
            return;
        /* Fixed schedule: lateness of one heartbeat does not shift the next. */
        while (d->next_hb_ns <= now)
            d->next_hb_ns += (int64_t)d->interval_s * NS_PER_S;
    }
    if (now >= d->last_out_ns + (int64_t)o.keepalive_s * NS_PER_S / 4) {
        fig.pings++;
        d->last_out_ns = now;
        int rc = mosquitto_loop_misc(d->m);
        if (rc != MOSQ_ERR_SUCCESS) {
            drop(d, rc == MOSQ_ERR_NO_CONN ? "no PINGRESP within the keepalive" : mosq_err(rc));
            return;
        }
        watch(d);
    }
    reschedule(d);
}

/* ---- the run --------------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(double p)
{
    if (fig.nlat == 0)
        return 0;
    size_t k = (size_t)((p / 100.0) * (double)fig.nlat + 0.999999);
    if (k < 1)
        k = 1;
    if (k > fig.nlat)
        k = fig.nlat;
    return (double)fig.lat_us[k - 1] / 1000.0;
}

static void write_report(void)
{
    if (o.report == NULL)
        return;
    FILE *f = fopen(o.report, "w");
    if (f == NULL) {
        ay_log_error("cannot write the report", "file", o.report, "err", strerror(errno), NULL);
        return;
    }
    /* device, school, interval_s, last heartbeat id, its wall time (epoch s),
     * the time it fell silent (epoch s), heartbeats it sent, state. */
    for (unsigned i = 0; i < o.devices; i++) {
        const struct dev *d = &devs[i];
        if (!d->silent)
            continue;
        fprintf(f, "%s,%s,%u,%s,%.6f,%.6f,%lu,%s\n", d->name, d->school, d->interval_s,
                d->last_hb_id[0] ? d->last_hb_id : "", (double)d->last_hb_wall_us / 1e6,
                (double)d->stop_wall_us / 1e6, d->heartbeats,
                d->st == S_UP ? (d->stopped ? "silent" : "not-yet-silent") : "dropped");
    }
    fclose(f);
}

static void print_figures(double elapsed_s)
{
    struct rusage ru;
    double cpu = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
              ru.ru_stime.tv_usec / 1e6;
    if (fig.nlat > 0)
        qsort(fig.lat_us, fig.nlat, sizeof(*fig.lat_us), cmp_i64);
    printf("ay-heartbeats figures\n");
    printf("  devices                %u (%u schools, interval %u..%u s, keepalive %u s)\n",
           o.devices, o.schools, o.interval_min, o.interval_max, o.keepalive_s);
    printf("  connected              %lu in %.1f s\n", fig.connected, fig.connect_s);
    printf("  could not connect      %lu\n", fig.connect_failed);
    printf("  dropped by the broker  %lu%s%s\n", fig.dropped, fig.first_drop[0] ? " first: " : "",
           fig.first_drop);
    printf("  silent devices         %u\n", o.silent);
    printf("  ONLINE sent            %lu\n", fig.online);
    printf("  HEARTBEATs sent        %lu\n", fig.heartbeats);
    printf("  PUBACKs                %lu (refused %lu)\n", fig.pubacks, fig.puback_errors);
    printf("  receipts STORED        %lu\n", fig.receipts_stored);
    printf("  receipts DUPLICATE     %lu\n", fig.receipts_duplicate);
    printf("  receipts REJECTED      %lu\n", fig.receipts_rejected);
    printf("  receipts undecodable   %lu\n", fig.receipts_other);
    printf("  keepalive checks       %lu (libmosquitto sends a PINGREQ when one is due)\n",
           fig.pings);
    printf("  receipts measured      %zu (heartbeats sent %.0f s or more after all connected)\n",
           fig.nlat, o.measure_from_s);
    printf("  receipt latency p50    %.2f ms\n", pct_ms(50));
    printf("  receipt latency p99    %.2f ms\n", pct_ms(99));
    printf("  receipt latency max    %.2f ms\n", pct_ms(100));
    printf("  elapsed                %.1f s\n", elapsed_s);
    printf("  own CPU                %.2f s (%.3f cores)\n", cpu,
           elapsed_s > 0 ? cpu / elapsed_s : 0.0);
    fflush(stdout);
}

static const char *const usage_text =
    "usage: ay-heartbeats --port PORT --password-file FILE [OPTIONS]\n\n"
    "Simulated devices that connect (MQTT v5, persistent session, last will), publish\n"
    "ONLINE, then a HEARTBEAT every interval; --silent of them stop heartbeating at\n"
    "staggered times but stay connected. Runs until SIGINT/SIGTERM or --duration,\n"
    "then disconnects every device normally (no will) and prints its figures.\n\n"
    "  --host ADDR            broker address, IPv4 (default 127.0.0.1)\n"
    "  --port PORT            broker port (required)\n"
    "  --password-file FILE   the devices' password (first line; the same for all)\n"
    "  --district D           (default d01)\n"
    "  --school-prefix P      schools are P0001, P0002, ... (default sup-s)\n"
    "  --schools N            devices are spread round-robin over N schools (default 500)\n"
    "  --device-prefix P      devices are P00001, P00002, ... (default sup-d)\n"
    "  --devices N            (default 10000)\n"
    "  --interval-min S       heartbeat interval of device i: min + (i-1) % (max-min+1)\n"
    "  --interval-max S       (defaults 10 and 30)\n"
    "  --silent N             devices that fall silent (every devices/N-th; default 0)\n"
    "  --silent-at S          the first falls silent S s after all are connected (default 60)\n"
    "  --silent-spread S      the others evenly over the next S s (default 60)\n"
    "  --keepalive S          MQTT keepalive (default 20, as docs/contract.md recommends)\n"
    "  --parallel N           connections being set up at a time (default 100)\n"
    "  --duration S           stop after S s once all are connected (default: at a signal)\n"
    "  --measure-from S       receipt latency of the heartbeats sent S s or more after all\n"
    "                         are connected (default 0: all heartbeats; ONLINE never)\n"
    "  --report FILE          CSV of the silent devices (device, school, interval, last\n"
    "                         heartbeat id, its time, when it fell silent, heartbeats, state)\n\n"
    "Logs (stderr) \"all devices connected\" with t0 (epoch seconds): the silences and the\n"
    "duration count from t0. Exit status 0 when every device connected and none was\n"
    "dropped, 1 otherwise, 2 usage error.\n";

static bool num(const char *s, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv)
{
    const char *a = "";
    for (int i = 1; i < argc; i++) {
        a = argv[i];
        double v = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (i + 1 >= argc)
            goto bad;
        const char *s = argv[++i];
        if (strcmp(a, "--host") == 0)
            o.host = s;
        else if (strcmp(a, "--password-file") == 0)
            o.password_file = s;
        else if (strcmp(a, "--district") == 0)
            o.district = s;
        else if (strcmp(a, "--school-prefix") == 0)
            o.school_prefix = s;
        else if (strcmp(a, "--device-prefix") == 0)
            o.device_prefix = s;
        else if (strcmp(a, "--report") == 0)
            o.report = s;
        else if (strcmp(a, "--port") == 0 && num(s, 1, 65535, &v))
            o.port = (int)v;
        else if (strcmp(a, "--schools") == 0 && num(s, 1, 9999, &v))
            o.schools = (unsigned)v;
        else if (strcmp(a, "--devices") == 0 && num(s, 1, 99999, &v))
            o.devices = (unsigned)v;
        else if (strcmp(a, "--interval-min") == 0 && num(s, 1, 86400, &v))
            o.interval_min = (unsigned)v;
        else if (strcmp(a, "--interval-max") == 0 && num(s, 1, 86400, &v))
            o.interval_max = (unsigned)v;
        else if (strcmp(a, "--silent") == 0 && num(s, 0, 99999, &v))
            o.silent = (unsigned)v;
        else if (strcmp(a, "--silent-at") == 0 && num(s, 0, 86400, &v))
            o.silent_at_s = v;
        else if (strcmp(a, "--silent-spread") == 0 && num(s, 0, 86400, &v))
            o.silent_spread_s = v;
        else if (strcmp(a, "--keepalive") == 0 && num(s, 5, 600, &v))
            o.keepalive_s = (unsigned)v;
        else if (strcmp(a, "--parallel") == 0 && num(s, 1, 10000, &v))
            o.parallel = (unsigned)v;
        else if (strcmp(a, "--duration") == 0 && num(s, 0, 86400 * 7, &v))
            o.duration_s = v;
        else if (strcmp(a, "--measure-from") == 0 && num(s, 0, 86400 * 7, &v))
            o.measure_from_s = v;
        else
            goto bad;
    }
    if (o.password_file == NULL || o.port == 0) {
        fprintf(stderr, "ay-heartbeats: --port and --password-file are required (see --help)\n");
        return 2;
    }
    if (o.interval_max < o.interval_min || o.silent > o.devices) {
        fprintf(stderr, "ay-heartbeats: need --interval-min <= --interval-max and --silent <= "
                        "--devices\n");
        return 2;
    }
    return 0;
bad:
    fprintf(stderr, "ay-heartbeats: invalid option or value: %s (see --help)\n", a);
    return 2;
}

static bool devices_init(void)
{
    unsigned step = o.silent > 0 ? o.devices / o.silent : 0;
    devs = calloc(o.devices, sizeof(*devs));
    heap = calloc(o.devices, sizeof(*heap));
    if (devs == NULL || heap == NULL)
        return false;
    for (unsigned i = 0; i < o.devices; i++) {
        struct dev *d = &devs[i];
        d->index = i + 1;
        d->fd = -1;
        d->heap = SIZE_MAX;
        d->stop_ns = INT64_MAX; /* set by start_clock once every device is connected */
        snprintf(d->name, sizeof(d->name), "%s%05u", o.device_prefix, i + 1);
        snprintf(d->school, sizeof(d->school), "%s%04u", o.school_prefix, i % o.schools + 1);
        d->interval_s = o.interval_min + i % (o.interval_max - o.interval_min + 1);
        d->silent = step > 0 && (i + 1) % step == 0 && (i + 1) / step <= o.silent;
        if (ay_topic_school(d->topic, o.district, d->school, d->name, "status") != AY_OK) {
            fprintf(stderr, "ay-heartbeats: invalid ids: %s %s %s\n", o.district, d->school,
                    d->name);
            return false;
        }
    }
    return true;
}

/* Sets the silences and the end relative to t0 (all connected). */
static void start_clock(int64_t t0)
{
    unsigned step = o.silent > 0 ? o.devices / o.silent : 0;
    for (unsigned i = 0; i < o.devices; i++) {
        struct dev *d = &devs[i];
        if (!d->silent)
            continue;
        unsigned k = (i + 1) / step - 1;
        d->stop_ns = t0 + (int64_t)((o.silent_at_s +
                                     (o.silent > 1 ? o.silent_spread_s * k / (o.silent - 1) : 0)) *
                                    NS_PER_S);
        if (d->st == S_UP)
            reschedule(d);
    }
}

/* Every device disconnects normally (DISCONNECT, reason 0: the broker
 * discards its will). libmosquitto writes the DISCONNECT and closes the
 * socket itself; what the socket did not take at once is written here
 * within 3 s. Then the clients are freed. */
static void disconnect_all(void)
{
    static struct epoll_event evs[EVENTS_MAX];
    int64_t end = mono_ns() + 3 * NS_PER_S;
    unsigned pending = 0;

    closing = true;
    for (unsigned i = 0; i < o.devices; i++) {
        struct dev *d = &devs[i];
        if (d->m == NULL || mosquitto_socket(d->m) < 0)
            continue;
        (void)mosquitto_disconnect_v5(d->m, MQTT_RC_NORMAL_DISCONNECTION, NULL);
        if (mosquitto_socket(d->m) >= 0) {
            watch(d);
            pending++;
        }
    }
    while (pending > 0 && mono_ns() < end) {
        int n = epoll_wait(ep, evs, EVENTS_MAX, 100);
        for (int k = 0; k < n; k++) {
            struct dev *d = evs[k].data.ptr;
            if (evs[k].events & EPOLLOUT)
                (void)mosquitto_loop_write(d->m, 1);
            if (mosquitto_socket(d->m) >= 0 && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                (void)mosquitto_loop_read(d->m, 1);
        }
        pending = 0;
        for (unsigned i = 0; i < o.devices; i++)
            if (devs[i].m != NULL && mosquitto_socket(devs[i].m) >= 0)
                pending++;
    }
    for (unsigned i = 0; i < o.devices; i++) {
        mosquitto_destroy(devs[i].m);
        devs[i].m = NULL;
        devs[i].fd = -1;
    }
}

/* The connection phase: keeps --parallel connections being set up; once
 * every device is up (or failed), starts the clock (t0). */
static void connect_step(int64_t now, int64_t start, unsigned *next, int64_t *t0, int64_t *end)
{
    char n[24], at[32], took[32];
    unsigned up = (unsigned)(fig.connected + fig.connect_failed + fig.dropped);
    unsigned busy = *next - up;

    while (*next < o.devices && busy < o.parallel) {
        start_connect(&devs[(*next)++], now);
        busy++;
    }
    if (up < o.devices)
        return;
    *t0 = now;
    fig.connect_s = (double)(now - start) / 1e9;
    start_clock(now);
    measure_from_ns = now + (int64_t)(o.measure_from_s * NS_PER_S);
    if (o.duration_s > 0)
        *end = now + (int64_t)(o.duration_s * NS_PER_S);
    snprintf(n, sizeof(n), "%lu", fig.connected);
    snprintf(at, sizeof(at), "%.6f", (double)ay_time_now_us() / 1e6);
    snprintf(took, sizeof(took), "%.1f", fig.connect_s);
    ay_log_info("all devices connected", "connected", n, "t0", at, "connect_s", took, NULL);
}

/* Waits for socket events until the next timer (at most 100 ms), handles
 * them and the timers due; false on an epoll error. */
static bool poll_once(struct epoll_event *evs)
{
    int64_t now = mono_ns();
    int timeout = 100;
    if (heap_n > 0) {
        int64_t ms = (heap[0]->due_ns - now + NS_PER_MS - 1) / NS_PER_MS;
        if (ms < timeout)
            timeout = ms < 0 ? 0 : (int)ms;
    }
    int n = epoll_wait(ep, evs, EVENTS_MAX, timeout);
    if (n < 0 && errno != EINTR)
        return false;
    now = mono_ns();
    for (int k = 0; k < n; k++) {
        struct dev *d = evs[k].data.ptr;
        if (d->st == S_DEAD)
            continue;
        if (evs[k].events & EPOLLOUT)
            on_writable(d);
        if (d->st != S_DEAD && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            on_readable(d);
    }
    while (heap_n > 0 && heap[0]->due_ns <= now)
        on_timer(heap[0], now); /* reschedules it later, or drops it */
    return true;
}

int main(int argc, char **argv)
{
    static struct epoll_event evs[EVENTS_MAX];
    int code = parse_args(argc, argv);
    if (code != 0)
        return code;
    if (!bench_read_secret("ay-heartbeats", o.password_file, password, sizeof(password)))
        return 2;
    ay_log_init("heartbeats", AY_LOG_INFO);
    bench_stop_on_signals(&stop_flag);
    mosquitto_lib_init();
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || !devices_init()) {
        fprintf(stderr, "ay-heartbeats: cannot start (out of memory or epoll)\n");
        return 1;
    }

    int64_t start = mono_ns(), t0 = 0, end = 0;
    unsigned next_connect = 0;
    char n[24];
    snprintf(n, sizeof(n), "%u", o.devices);
    ay_log_info("connecting devices", "devices", n, NULL);
    while (!stop_flag) {
        int64_t now = mono_ns();
        if (t0 == 0) {
            connect_step(now, start, &next_connect, &t0, &end);
            if (t0 != 0 && fig.connect_failed > 0)
                break;
            if (t0 == 0 && now - start > 300 * NS_PER_S) {
                ay_log_error("not every device connected within 300 s", NULL);
                break;
            }
        }
        if ((end > 0 && now >= end) || !poll_once(evs))
            break;
    }
    double elapsed = (double)(mono_ns() - (t0 ? t0 : start)) / 1e9;
    ay_log_info("stopping: disconnecting every device", NULL);
    disconnect_all();
    write_report();
    print_figures(elapsed);
    mosquitto_lib_cleanup();
    return fig.connected == o.devices && fig.dropped == 0 ? 0 : 1;
}
