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
 * Why not ay-loadgen (Paho, one ay_mqtt client per device): 10,000
 * connections. Paho 1.3.12 takes ~2 s per connect (see devices_connect in
 * loadgen.c), so 10,000 would take minutes; here one thread drives every
 * connection with epoll and a minimal MQTT v5 client of its own (CONNECT,
 * SUBSCRIBE, PUBLISH QoS 1 both ways, PUBACK, PINGREQ, DISCONNECT), one
 * socket per device, so that the generator costs little next to the system
 * it loads (its CPU is reported).
 *
 * Device i (1-based) is PREFIX%05u, of school SCHOOL_PREFIX%04u with school
 * index (i - 1) % schools + 1, heartbeat interval min + (i - 1) % (max - min
 * + 1) seconds; silent are the devices i = k * step (k = 1..silent, step =
 * devices / silent), the k-th stopping at silent_at + (k - 1) * spread /
 * (silent - 1) seconds after every device was connected (bench/supervision/run
 * registers the same names and intervals with SQL).
 *
 * Owns: the devices' sockets, their MQTT sessions on the wire, the timers
 * (a min-heap of the devices by their next action). Does not own: the
 * broker accounts and the registry rows (bench/supervision/run makes them).
 * Threads: one; signal handlers only set a flag.
 * Exit status: 0 every device connected and none was dropped, 1 otherwise,
 * 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "anyuan/v1/device.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "ay_log.h"
#include "ay_time.h"
#include "ay_topic.h"
#include "ay_uuid.h"

#define NS_PER_S      1000000000LL
#define NS_PER_MS     1000000LL
#define IN_MAX        (64 * 1024) /* largest packet we accept (receipts are ~150 bytes) */
#define PASSWORD_MAX  256
#define EVENTS_MAX    1024
#define LOG_DROPS_MAX 10

enum state {
    S_IDLE,    /* not connected yet */
    S_TCP,     /* TCP connect in progress */
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
    int fd;
    enum state st;
    unsigned interval_s;
    bool silent;         /* one of the devices that fall silent */
    bool stopped;        /* silent now: sends no more heartbeats */
    int64_t stop_ns;     /* when it falls silent (monotonic) */
    int64_t next_hb_ns;  /* next heartbeat (monotonic) */
    int64_t last_out_ns; /* last packet sent (keepalive) */
    int64_t due_ns;      /* its timer: min(next heartbeat, ping) */
    size_t heap;         /* position in the timer heap */
    uint16_t next_pid;
    /* The latest status published: its id and when (latency of its receipt:
     * heartbeats sent from measure_from_ns on). */
    char last_id[AY_UUID_STRLEN];
    int64_t last_sent_ns;
    bool last_measured;
    int64_t last_hb_wall_us; /* wall clock of the latest HEARTBEAT publish */
    char last_hb_id[AY_UUID_STRLEN];
    int64_t stop_wall_us;
    unsigned long heartbeats;
    uint8_t *in;
    size_t inlen, incap;
    uint8_t *out;
    size_t outlen, outcap;
    bool want_out;
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

/* The device's next timer: its next heartbeat (unless silent), or a ping
 * when nothing was sent for a keepalive interval. */
static void reschedule(struct dev *d)
{
    int64_t ping = d->last_out_ns + (int64_t)o.keepalive_s * NS_PER_S;
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

/* ---- MQTT v5 encoding -------------------------------------------------------------- */

struct buf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
};

static void b_put(struct buf *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void b_u8(struct buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    b_put(b, &x, 1);
}

static void b_u16(struct buf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    b_put(b, x, 2);
}

static void b_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    b_put(b, x, 4);
}

static void b_varint(struct buf *b, size_t v)
{
    do {
        uint8_t x = (uint8_t)(v % 128);
        v /= 128;
        if (v > 0)
            x |= 128;
        b_put(b, &x, 1);
    } while (v > 0);
}

static void b_str(struct buf *b, const void *s, size_t n)
{
    b_u16(b, (unsigned)n);
    b_put(b, s, n);
}

/* Fixed header (type and flags, remaining length) in front of body. */
static bool packet(struct buf *out, unsigned first, const struct buf *body)
{
    b_u8(out, first);
    b_varint(out, body->n);
    b_put(out, body->p, body->n);
    return !out->oom && !body->oom;
}

/* A DeviceStatus of d, packed into b; its id into id. */
static bool status_pack(const struct dev *d, int state, struct buf *b, char id[AY_UUID_STRLEN])
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
    size_t len = protobuf_c_message_get_packed_size(&m.base);
    uint8_t tmp[512];
    if (len > sizeof(tmp))
        return false;
    protobuf_c_message_pack(&m.base, tmp);
    b_put(b, tmp, len);
    return !b->oom;
}

/* ---- sockets ------------------------------------------------------------------------ */

static void watch(struct dev *d, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = d};
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
    if (d->fd >= 0) {
        (void)epoll_ctl(ep, EPOLL_CTL_DEL, d->fd, NULL);
        close(d->fd);
    }
    d->fd = -1;
    d->st = S_DEAD;
    heap_remove(d);
}

/* Writes what is buffered; true unless the connection broke. */
static bool flush_out(struct dev *d)
{
    size_t off = 0;
    while (off < d->outlen) {
        ssize_t w = send(d->fd, d->out + off, d->outlen - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        drop(d, w < 0 ? strerror(errno) : "send returned 0");
        return false;
    }
    memmove(d->out, d->out + off, d->outlen - off);
    d->outlen -= off;
    watch(d, d->outlen > 0);
    return true;
}

/* Queues a packet and writes what the socket takes now. */
static bool send_packet(struct dev *d, const struct buf *p, int64_t now)
{
    if (d->outlen + p->n > d->outcap) {
        size_t cap = d->outcap ? d->outcap : 512;
        while (cap < d->outlen + p->n)
            cap *= 2;
        uint8_t *q = realloc(d->out, cap);
        if (q == NULL) {
            drop(d, "out of memory");
            return false;
        }
        d->out = q;
        d->outcap = cap;
    }
    memcpy(d->out + d->outlen, p->p, p->n);
    d->outlen += p->n;
    d->last_out_ns = now;
    return flush_out(d);
}

static uint16_t next_pid(struct dev *d)
{
    if (++d->next_pid == 0)
        d->next_pid = 1;
    return d->next_pid;
}

static bool send_connect(struct dev *d, int64_t now)
{
    struct buf body = {0}, pkt = {0}, will = {0};
    char will_id[AY_UUID_STRLEN];
    size_t pwlen = strlen(password);
    bool ok;

    /* The last will: OFFLINE, a fresh message id for every CONNECT. */
    ok = status_pack(d, ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_OFFLINE, &will, will_id);
    b_str(&body, "MQTT", 4);
    b_u8(&body, 5);
    /* user name, password, will QoS 1, will; Clean Start 0 (persistent session). */
    b_u8(&body, 0x80 | 0x40 | 0x08 | 0x04);
    b_u16(&body, o.keepalive_s);
    b_varint(&body, 5 + 3);
    b_u8(&body, 0x11); /* Session Expiry Interval */
    b_u32(&body, o.session_expiry_s);
    b_u8(&body, 0x21); /* Receive Maximum */
    b_u16(&body, 10);
    b_str(&body, d->name, strlen(d->name));
    b_varint(&body, 0); /* will properties */
    b_str(&body, d->topic, strlen(d->topic));
    b_str(&body, will.p, will.n);
    b_str(&body, d->name, strlen(d->name));
    b_str(&body, password, pwlen);
    ok = ok && packet(&pkt, 0x10, &body) && send_packet(d, &pkt, now);
    if (ok)
        d->st = S_CONNACK;
    free(body.p);
    free(pkt.p);
    free(will.p);
    return ok;
}

static bool send_subscribe(struct dev *d, int64_t now)
{
    struct buf body = {0}, pkt = {0};
    char topic[AY_TOPIC_MAX];
    bool ok = ay_topic_receipt(topic, o.district, d->school, d->name) == AY_OK;

    b_u16(&body, next_pid(d));
    b_varint(&body, 0);
    b_str(&body, topic, strlen(topic));
    b_u8(&body, 0x01); /* QoS 1 */
    ok = ok && packet(&pkt, 0x82, &body) && send_packet(d, &pkt, now);
    if (ok)
        d->st = S_SUBACK;
    free(body.p);
    free(pkt.p);
    return ok;
}

/* Publishes a status (QoS 1); a heartbeat unless online. */
static bool publish_status(struct dev *d, bool online, int64_t now)
{
    struct buf body = {0}, pkt = {0}, msg = {0};
    char id[AY_UUID_STRLEN];
    bool ok = status_pack(d,
                          online ? ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_ONLINE
                                 : ANYUAN__V1__DEVICE_STATE__DEVICE_STATE_HEARTBEAT,
                          &msg, id);

    b_str(&body, d->topic, strlen(d->topic));
    b_u16(&body, next_pid(d));
    b_varint(&body, 0);
    b_put(&body, msg.p, msg.n);
    ok = ok && packet(&pkt, 0x32, &body) && send_packet(d, &pkt, now);
    if (ok) {
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
    } else if (d->st != S_DEAD) {
        drop(d, "cannot build or send a status");
    }
    free(body.p);
    free(pkt.p);
    free(msg.p);
    return ok;
}

static void send_simple(struct dev *d, unsigned first, const uint8_t *rest, size_t n, int64_t now)
{
    struct buf body = {0}, pkt = {0};
    b_put(&body, rest, n);
    if (packet(&pkt, first, &body))
        (void)send_packet(d, &pkt, now);
    free(body.p);
    free(pkt.p);
}

static void start_connect(struct dev *d, int64_t now)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o.port)};
    int one = 1;

    if (inet_pton(AF_INET, o.host, &sa.sin_addr) != 1) {
        drop(d, "bad host address");
        return;
    }
    d->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0) {
        drop(d, strerror(errno));
        return;
    }
    (void)setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = d};
    d->want_out = true;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, d->fd, &ev) != 0) {
        drop(d, strerror(errno));
        return;
    }
    d->st = S_TCP;
    d->last_out_ns = now;
    if (connect(d->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        (void)send_connect(d, now);
    } else if (errno != EINPROGRESS) {
        drop(d, strerror(errno));
    }
}

/* ---- receiving ----------------------------------------------------------------------- */

static void on_receipt(struct dev *d, const uint8_t *payload, size_t n, int64_t now)
{
    Anyuan__V1__Receipt *r = anyuan__v1__receipt__unpack(NULL, n, payload);
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

/* Skips a variable byte integer (a properties length) and what it counts. */
static size_t skip_properties(const uint8_t *p, size_t n, size_t off)
{
    size_t len = 0, mul = 1;
    while (off < n) {
        len += (p[off] & 127) * mul;
        mul *= 128;
        if ((p[off++] & 128) == 0)
            break;
    }
    return off + len;
}

/* SUBACK: packet id, properties, one reason code (0x01: granted QoS 1). */
static bool on_suback(struct dev *d, const uint8_t *p, size_t n, int64_t now)
{
    char why[96];
    size_t off = skip_properties(p, n, 2);
    if (d->st != S_SUBACK || off >= n || p[off] != 0x01) {
        snprintf(why, sizeof(why), "SUBACK reason 0x%02x", off < n ? p[off] : 0xff);
        drop(d, why);
        return false;
    }
    became_up(d, now);
    return d->st != S_DEAD;
}

/* PUBLISH to the device: its receipt; a QoS 1 one is acknowledged. */
static bool on_publish(struct dev *d, unsigned first, const uint8_t *p, size_t n, int64_t now)
{
    unsigned qos = (first >> 1) & 3;
    uint8_t pid[2] = {0, 0};
    if (n < 2)
        return true;
    size_t off = 2 + ((size_t)p[0] << 8 | p[1]);
    if (qos > 0) {
        if (off + 2 > n)
            return true;
        pid[0] = p[off];
        pid[1] = p[off + 1];
        off += 2;
    }
    off = skip_properties(p, n, off);
    if (off <= n)
        on_receipt(d, p + off, n - off, now);
    if (qos == 1)
        send_simple(d, 0x40, pid, 2, now);
    return d->st != S_DEAD;
}

/* Handles one complete packet; false when the device is gone. */
static bool on_packet(struct dev *d, unsigned first, const uint8_t *p, size_t n, int64_t now)
{
    char why[96];

    switch (first >> 4) {
    case 2: /* CONNACK: flags, reason code */
        if (d->st != S_CONNACK || n < 2 || p[1] != 0) {
            snprintf(why, sizeof(why), "CONNACK reason 0x%02x", n >= 2 ? p[1] : 0xff);
            drop(d, why);
            return false;
        }
        return send_subscribe(d, now);
    case 9:
        return on_suback(d, p, n, now);
    case 4: /* PUBACK: packet id [reason [properties]]; 0x10: no subscribers (success) */
        fig.pubacks++;
        if (n >= 3 && p[2] != 0x00 && p[2] != 0x10 && fig.puback_errors++ == 0) {
            snprintf(why, sizeof(why), "0x%02x", p[2]);
            ay_log_warn("broker refused a status", "device", d->name, "reason", why, NULL);
        }
        return true;
    case 3:
        return on_publish(d, first, p, n, now);
    case 14: /* DISCONNECT from the broker */
        snprintf(why, sizeof(why), "DISCONNECT reason 0x%02x", n >= 1 ? p[0] : 0);
        drop(d, why);
        return false;
    default: /* PINGRESP */
        return true;
    }
}

/* Handles the complete packets in d->in; false when the device is gone. */
static bool parse_in(struct dev *d, int64_t now)
{
    size_t off = 0;
    while (d->inlen - off >= 2) {
        size_t len = 0, mul = 1, i = off + 1;
        bool complete = false;
        while (i < d->inlen && i < off + 5) {
            len += (d->in[i] & 127) * mul;
            mul *= 128;
            if ((d->in[i++] & 128) == 0) {
                complete = true;
                break;
            }
        }
        if (!complete || d->inlen - i < len)
            break;
        if (!on_packet(d, d->in[off], d->in + i, len, now))
            return false;
        off = i + len;
    }
    memmove(d->in, d->in + off, d->inlen - off);
    d->inlen -= off;
    return true;
}

static void on_readable(struct dev *d, int64_t now)
{
    for (;;) {
        if (d->incap - d->inlen < 512) {
            size_t cap = d->incap ? d->incap * 2 : 1024;
            if (cap > IN_MAX + 1024) {
                drop(d, "packet too large");
                return;
            }
            uint8_t *q = realloc(d->in, cap);
            if (q == NULL) {
                drop(d, "out of memory");
                return;
            }
            d->in = q;
            d->incap = cap;
        }
        size_t space = d->incap - d->inlen;
        ssize_t r = recv(d->fd, d->in + d->inlen, space, 0);
        if (r == 0) {
            drop(d, "connection closed by the broker");
            return;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                drop(d, strerror(errno));
            return;
        }
        d->inlen += (size_t)r;
        if (!parse_in(d, now) || (size_t)r < space)
            return; /* gone, or read everything there was */
    }
}

static void on_writable(struct dev *d, int64_t now)
{
    if (d->st == S_TCP) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            drop(d, strerror(err ? err : errno));
            return;
        }
        watch(d, false);
        (void)send_connect(d, now);
        return;
    }
    (void)flush_out(d);
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
    if (now >= d->last_out_ns + (int64_t)o.keepalive_s * NS_PER_S) {
        static const uint8_t none[1] = {0};
        fig.pings++;
        send_simple(d, 0xC0, none, 0, now);
        if (d->st == S_DEAD)
            return;
    }
    reschedule(d);
}

/* ---- the run --------------------------------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

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
    printf("  PINGREQs sent          %lu\n", fig.pings);
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

static bool read_password(void)
{
    FILE *f = fopen(o.password_file, "r");
    if (f == NULL || fgets(password, sizeof(password), f) == NULL) {
        fprintf(stderr, "ay-heartbeats: cannot read %s\n", o.password_file);
        if (f)
            fclose(f);
        return false;
    }
    fclose(f);
    password[strcspn(password, "\r\n")] = '\0';
    return password[0] != '\0';
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
 * discards its will); the sockets are closed once the broker closed them
 * (or after 3 s), so that no reset overtakes a DISCONNECT. */
static void disconnect_all(void)
{
    static const uint8_t none[1] = {0};
    int64_t now = mono_ns();
    unsigned open = 0;
    closing = true;
    for (unsigned i = 0; i < o.devices; i++) {
        struct dev *d = &devs[i];
        if (d->fd < 0)
            continue;
        if (d->st == S_UP)
            send_simple(d, 0xE0, none, 0, now);
        if (d->fd >= 0)
            open++;
    }
    for (int round = 0; round < 30 && open > 0; round++) {
        usleep(100000);
        open = 0;
        for (unsigned i = 0; i < o.devices; i++) {
            struct dev *d = &devs[i];
            uint8_t sink[4096];
            ssize_t r;
            if (d->fd < 0)
                continue;
            if (d->outlen > 0 && d->st != S_DEAD)
                (void)flush_out(d);
            while ((r = recv(d->fd, sink, sizeof(sink), 0)) > 0)
                ;
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                close(d->fd);
                d->fd = -1;
                continue;
            }
            open++;
        }
    }
    for (unsigned i = 0; i < o.devices; i++) {
        if (devs[i].fd >= 0) {
            close(devs[i].fd);
            devs[i].fd = -1;
        }
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
        if (evs[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_writable(d, now);
        if (d->st != S_DEAD && d->st != S_TCP && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            on_readable(d, now);
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
    if (!read_password())
        return 2;
    ay_log_init("heartbeats", AY_LOG_INFO);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
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
    return fig.connected == o.devices && fig.dropped == 0 ? 0 : 1;
}
