/*
 * main.c - ay-device, the reference device of Anyuan: a one-click alarm
 * button that integrators copy (docs/integrators.md).
 *
 *   ay-device --profile FILE [--state DIR] [--password-file FILE]
 *             [--notice FILE] [--heartbeat-s N] [--receipt-wait-ms N]
 *             [--max-wait-ms N]
 *
 * What it does, and where the contract (docs/contract.md) says so:
 * - connects over TLS as its own account, with a persistent session and a
 *   Last Will (section 2; link.c), reconnecting with backoff;
 * - subscribes to its receipt topic before it publishes anything (6.2);
 * - says ONLINE after each connect, then sends a heartbeat every
 *   heartbeatIntervalS seconds (5.8);
 * - sends an alarm when the button is pressed: a line "alarm" (or "alarm
 *   test" for a drill) on stdin, or the signal SIGUSR1 (5.1); an incident
 *   notice from a JSON file: a line "notice FILE" or --notice FILE (5.3);
 * - keeps every alarm and notice on disk until its Receipt arrives, re-sends
 *   it with the same bytes and messageId after a timeout that doubles
 *   (5 s to 60 s), across reconnects and restarts (6.2; outbox.c);
 * - prints each of their Receipts as one JSON line on stdout, logs on
 *   stderr;
 * - on SIGTERM (or a line "quit") says OFFLINE itself and disconnects.
 *
 * Threads: one, this one, runs everything; Paho's callbacks only queue
 * events (link.c). Exit codes: 0 clean stop, 1 runtime failure, 2 usage or
 * profile error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "device.h"

/* Signal handlers only count or flag, and wake the main loop's poll() by
 * writing a byte to the link's wake pipe (write(2) is async-signal-safe):
 * a press is acted on at once, even one that comes just before poll(). */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t button_presses; /* SIGUSR1: one press each */
static int signal_wake_fd = -1;              /* set once, before the handlers */

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGUSR1)
        button_presses++;
    else
        stop_requested = 1;
    if (signal_wake_fd >= 0 && write(signal_wake_fd, "s", 1) < 0) {
        /* pipe full: the loop is awake anyway */
    }
    errno = saved;
}

enum link_state { DOWN, CONNECTING, SUBSCRIBING, UP };

struct device {
    struct dev_profile p;
    struct dev_outbox outbox;
    struct dev_link link;
    enum link_state state;
    int64_t reconnect_at_ms, heartbeat_at_ms;
    int64_t asked_at_ms; /* when the CONNECT or SUBSCRIBE now awaited was sent */
    int reconnect_wait_ms;
    int heartbeat_s, receipt_wait_ms, max_wait_ms;
    sig_atomic_t presses_seen;
    char line[4096];
    size_t line_len;
    bool stdin_open;
};

/* ---- time and log -------------------------------------------------------- */

static int64_t now_ms(void) /* monotonic: timers are immune to clock changes */
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char log_device[DEV_ID_LEN] = "";

void dev_log_set_device(const char *device_id)
{
    snprintf(log_device, sizeof(log_device), "%s", device_id);
}

void dev_log(const char *level, const char *fmt, ...)
{
    struct timespec ts;
    struct tm tm;
    char when[32];
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "ts=%s.%03ldZ level=%s svc=ay-device device=%s ", when, ts.tv_nsec / 1000000,
            level, log_device[0] ? log_device : "-");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- the connection ------------------------------------------------------ */

/* Connects with a Last Will made for this CONNECT: an OFFLINE status with
 * a new messageId and the time of the CONNECT (contract 2). */
static void connect_now(struct device *d)
{
    struct dev_msg will = {0};
    char err[DEV_ERRLEN] = "";

    if (dev_msg_status(&d->p, "DEVICE_STATE_OFFLINE", &will) == 0 &&
        dev_link_connect(&d->link, will.json, err) == 0) {
        d->state = CONNECTING;
        d->asked_at_ms = now_ms();
    } else {
        dev_log("warn", "msg=\"could not connect\" err=\"%s\"", err);
        d->state = DOWN;
        d->reconnect_at_ms = now_ms() + d->reconnect_wait_ms;
    }
    free(will.json);
}

/* Reconnect backoff: 1 s doubling to 30 s, with up to 25 % jitter so that
 * a school's buttons do not all reconnect in the same second after the
 * broker restarted. */
static void connection_down(struct device *d, const char *why)
{
    if (d->state == DOWN)
        return;
    dev_log("warn", "msg=\"not connected, retrying\" in_ms=%d err=\"%s\"", d->reconnect_wait_ms,
            why);
    d->state = DOWN;
    d->reconnect_at_ms = now_ms() + d->reconnect_wait_ms + rand() % (d->reconnect_wait_ms / 4 + 1);
    d->reconnect_wait_ms = d->reconnect_wait_ms * 2 > 30000 ? 30000 : d->reconnect_wait_ms * 2;
}

/* A status message (ONLINE, HEARTBEAT): sent once, not kept in the outbox.
 * It says "alive now": re-sent later it would say nothing true, and the
 * next heartbeat replaces a lost one. */
static void send_status(struct device *d, const char *state)
{
    struct dev_msg m = {0};
    char err[DEV_ERRLEN] = "";

    if (dev_msg_status(&d->p, state, &m) != 0 ||
        dev_link_publish(&d->link, d->p.topic_status, m.json, err) != 0)
        dev_log("warn", "msg=\"could not send status\" state=%s err=\"%s\"", state, err);
    free(m.json);
}

/* Subscribed: now the device may publish (contract 6.2, step 2). Everything
 * in the outbox goes out again at once, with its first timeout. */
static void connection_up(struct device *d)
{
    d->state = UP;
    d->reconnect_wait_ms = 1000;
    dev_log("info", "msg=connected url=%s outbox=%zu", d->p.url, d->outbox.n);
    send_status(d, "DEVICE_STATE_ONLINE");
    d->heartbeat_at_ms = now_ms() + (int64_t)d->heartbeat_s * 1000;
    for (size_t i = 0; i < d->outbox.n; i++) {
        d->outbox.e[i].next_send_ms = now_ms();
        d->outbox.e[i].wait_ms = d->receipt_wait_ms;
    }
}

/* ---- the outbox: send, re-send, receipts -------------------------------- */

/* Keeps a new alarm or notice on disk, then lets send_due() send it. */
static void queue_message(struct device *d, const char *kind, struct dev_msg *m)
{
    char err[DEV_ERRLEN] = "";

    if (dev_outbox_put(&d->outbox, m->id, kind, m->json, err) != 0) {
        /* Cannot keep it: send it once all the same, an alarm must be heard. */
        dev_log("error",
                "msg=\"could not keep message, sending it once\" kind=%s msg_id=%s "
                "err=\"%s\"",
                kind, m->id, err);
        if (d->state == UP)
            dev_link_publish(&d->link,
                             strcmp(kind, "alarm") == 0 ? d->p.topic_alarm : d->p.topic_notice,
                             m->json, err);
        return;
    }
    struct dev_outbox_entry *e = dev_outbox_find(&d->outbox, m->id);
    e->next_send_ms = now_ms();
    e->wait_ms = d->receipt_wait_ms;
    dev_log("info", "msg=queued kind=%s msg_id=%s outbox=%zu", kind, m->id, d->outbox.n);
}

/* Sends what is due: new messages, and those whose Receipt did not come
 * within their wait, again with the same bytes (contract 6.2, step 5). The
 * wait doubles from --receipt-wait-ms (5 s) to --max-wait-ms (60 s). */
static void send_due(struct device *d)
{
    int64_t now = now_ms();

    for (size_t i = 0; d->state == UP && i < d->outbox.n; i++) {
        struct dev_outbox_entry *e = &d->outbox.e[i];
        char err[DEV_ERRLEN] = "";
        char *json = NULL;
        size_t len;

        if (e->next_send_ms > now)
            continue;
        const char *topic = strcmp(e->kind, "alarm") == 0 ? d->p.topic_alarm : d->p.topic_notice;
        if (dev_outbox_read(&d->outbox, e, &json, &len, err) != 0 ||
            dev_link_publish(&d->link, topic, json, err) != 0)
            dev_log("warn", "msg=\"could not send, will retry\" msg_id=%s err=\"%s\"", e->id, err);
        else
            dev_log("info", "msg=%s kind=%s msg_id=%s wait_ms=%d", e->sends ? "re-sent" : "sent",
                    e->kind, e->id, e->wait_ms);
        free(json);
        e->sends++;
        e->next_send_ms = now + e->wait_ms;
        e->wait_ms = e->wait_ms * 2 > d->max_wait_ms ? d->max_wait_ms : e->wait_ms * 2;
    }
}

/* A Receipt: match it by refMessageId (contract 6.2, step 4). STORED or
 * DUPLICATE: safe, drop it from the outbox. REJECTED: final, never re-sent
 * unchanged; kept in STATE/rejected with its reason for people to fix. */
static void on_receipt(struct device *d, const char *payload, size_t len)
{
    struct dev_receipt r;
    char err[DEV_ERRLEN] = "";

    if (dev_receipt_parse(payload, len, &r, err) != 0) {
        dev_log("warn", "msg=\"ignoring a message on the receipt topic\" err=\"%s\"", err);
        return;
    }
    bool rejected = strcmp(r.status, "RECEIPT_STATUS_REJECTED") == 0;
    struct dev_outbox_entry *e = dev_outbox_find(&d->outbox, r.ref_message_id);
    if (e == NULL) {
        /* A status message's, or a second one for a re-sent message. */
        dev_log(rejected ? "warn" : "info", "msg=receipt msg_id=%s status=%s reason=\"%s\"",
                r.ref_message_id[0] ? r.ref_message_id : "-", r.status, r.reason);
        return;
    }
    printf("%.*s\n", (int)len, payload);
    fflush(stdout);
    dev_log(rejected ? "warn" : "info",
            "msg=receipt kind=%s msg_id=%s status=%s reference=%s%s%s%s", e->kind, e->id, r.status,
            r.reference[0] ? r.reference : "-", rejected ? " reason=\"" : "",
            rejected ? r.reason : "", rejected ? "\"" : "");
    if (dev_outbox_done(&d->outbox, r.ref_message_id, rejected ? r.reason : NULL, err) != 0)
        dev_log("error", "msg=\"could not update the outbox\" err=\"%s\"", err);
}

/* ---- the button and other commands --------------------------------------- */

static void press_button(struct device *d, bool is_test)
{
    struct dev_msg m = {0};
    if (dev_msg_alarm(&d->p, is_test, &m) == 0)
        queue_message(d, "alarm", &m);
    else
        dev_log("error", "msg=\"could not make an alarm\" err=\"out of memory or no random\"");
    free(m.json);
}

static void queue_notice(struct device *d, const char *file)
{
    struct dev_msg m = {0};
    char err[DEV_ERRLEN] = "";
    if (dev_msg_notice(&d->p, file, &m, err) == 0)
        queue_message(d, "notice", &m);
    else
        dev_log("warn", "msg=\"cannot send notice\" err=\"%s\"", err);
    free(m.json);
}

/* One line of stdin: "alarm", "alarm test", "notice FILE" or "quit". */
static void command(struct device *d, char *line)
{
    line[strcspn(line, "\r")] = '\0';
    if (strcmp(line, "alarm") == 0 || strcmp(line, "alarm test") == 0)
        press_button(d, strcmp(line, "alarm test") == 0);
    else if (strncmp(line, "notice ", 7) == 0)
        queue_notice(d, line + 7);
    else if (strcmp(line, "quit") == 0)
        stop_requested = 1;
    else if (line[0] != '\0')
        dev_log("warn", "msg=\"unknown command: alarm, alarm test, notice FILE or quit\"");
}

static void read_stdin(struct device *d)
{
    ssize_t n = read(STDIN_FILENO, d->line + d->line_len, sizeof(d->line) - 1 - d->line_len);
    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN))
            d->stdin_open = false; /* headless: signals and the outbox still work */
        return;
    }
    d->line_len += (size_t)n;
    d->line[d->line_len] = '\0';
    for (char *nl; (nl = strchr(d->line, '\n')) != NULL;) {
        *nl = '\0';
        command(d, d->line);
        d->line_len -= (size_t)(nl + 1 - d->line);
        memmove(d->line, nl + 1, d->line_len + 1);
    }
    if (d->line_len == sizeof(d->line) - 1)
        d->line_len = 0; /* an endless line: dropped */
}

/* ---- the main loop ------------------------------------------------------- */

static void handle_event(struct device *d, struct dev_event *ev)
{
    char err[DEV_ERRLEN] = "";

    switch (ev->kind) {
    case DEV_EV_CONNECTED:
        d->state = SUBSCRIBING;
        d->asked_at_ms = now_ms();
        if (dev_link_subscribe(&d->link, err) != 0)
            connection_down(d, err);
        break;
    case DEV_EV_SUBSCRIBED:
        connection_up(d);
        break;
    case DEV_EV_CONNECT_FAILED:
    case DEV_EV_SUBSCRIBE_FAILED:
    case DEV_EV_LOST:
        connection_down(d, ev->text);
        break;
    case DEV_EV_MESSAGE:
        on_receipt(d, ev->payload, ev->len);
        break;
    }
}

/* Paho answers a CONNECT within its connectTimeout (10 s) and a SUBSCRIBE
 * while connected; should an answer still not come (an event lost for
 * want of memory), the device does not wait forever: after 30 s it asks
 * again. */
static void check_unanswered(struct device *d)
{
    char err[DEV_ERRLEN] = "";

    if ((d->state != CONNECTING && d->state != SUBSCRIBING) || now_ms() - d->asked_at_ms < 30000)
        return;
    dev_log("warn", "msg=\"no answer from the broker within 30 s, asking again\"");
    if (d->state == CONNECTING) {
        d->state = DOWN;
        d->reconnect_at_ms = now_ms();
    } else if (dev_link_subscribe(&d->link, err) != 0) {
        connection_down(d, err);
    } else {
        d->asked_at_ms = now_ms();
    }
}

/* How long poll() may sleep: until the next timer, at most 1 s. */
static int poll_timeout_ms(const struct device *d)
{
    int64_t next = now_ms() + 1000;
    if (d->state == DOWN && d->reconnect_at_ms < next)
        next = d->reconnect_at_ms;
    if (d->state == UP) {
        if (d->heartbeat_at_ms < next)
            next = d->heartbeat_at_ms;
        for (size_t i = 0; i < d->outbox.n; i++)
            if (d->outbox.e[i].next_send_ms < next)
                next = d->outbox.e[i].next_send_ms;
    }
    int64_t wait = next - now_ms();
    return wait < 0 ? 0 : (int)wait;
}

static void run(struct device *d)
{
    connect_now(d);
    while (!stop_requested) {
        struct pollfd fds[2] = {{.fd = d->link.wake[0], .events = POLLIN},
                                {.fd = d->stdin_open ? STDIN_FILENO : -1, .events = POLLIN}};
        if (poll(fds, 2, poll_timeout_ms(d)) < 0 && errno != EINTR)
            break;
        for (struct dev_event *ev; (ev = dev_link_next(&d->link)) != NULL; dev_event_free(ev))
            handle_event(d, ev);
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
            read_stdin(d);
        while (d->presses_seen != button_presses) {
            d->presses_seen++;
            press_button(d, false);
        }
        check_unanswered(d);
        if (d->state == DOWN && now_ms() >= d->reconnect_at_ms)
            connect_now(d);
        if (d->state == UP && now_ms() >= d->heartbeat_at_ms) {
            send_status(d, "DEVICE_STATE_HEARTBEAT");
            d->heartbeat_at_ms = now_ms() + (int64_t)d->heartbeat_s * 1000;
        }
        send_due(d);
    }
}

/* ---- start and stop ------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: ay-device --profile FILE [--state DIR] [--password-file FILE] "
                    "[--notice FILE]\n"
                    "                 [--heartbeat-s N] [--receipt-wait-ms N] [--max-wait-ms N]\n"
                    "stdin: alarm | alarm test | notice FILE | quit;  SIGUSR1: alarm;  SIGTERM: "
                    "stop\n");
}

static bool number(const char *s, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

struct options {
    const char *profile, *state, *password_file, *notice;
    int heartbeat_s; /* 0: the profile's */
    char state_buf[DEV_PATH];
};

/* Fills o and d's timings from the command line; false on a usage error. */
static bool parse_args(int argc, char **argv, struct options *o, struct device *d)
{
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = v != NULL;
        if (strcmp(argv[i], "--profile") == 0)
            o->profile = v;
        else if (strcmp(argv[i], "--state") == 0)
            o->state = v;
        else if (strcmp(argv[i], "--password-file") == 0)
            o->password_file = v;
        else if (strcmp(argv[i], "--notice") == 0)
            o->notice = v;
        else if (strcmp(argv[i], "--heartbeat-s") == 0)
            ok = ok && number(v, 1, 86400, &o->heartbeat_s);
        else if (strcmp(argv[i], "--receipt-wait-ms") == 0)
            ok = ok && number(v, 100, 600000, &d->receipt_wait_ms);
        else if (strcmp(argv[i], "--max-wait-ms") == 0)
            ok = ok && number(v, 100, 3600000, &d->max_wait_ms);
        else
            ok = false;
        if (!ok)
            return false;
    }
    if (o->profile == NULL)
        return false;
    /* Default state directory: next to the profile. */
    if (o->state == NULL) {
        if (snprintf(o->state_buf, sizeof(o->state_buf), "%s.state", o->profile) >=
            (int)sizeof(o->state_buf))
            return false;
        o->state = o->state_buf;
    }
    return true;
}

/* The state directory holds the outbox and the CA: one per device. Only
 * one process may use it (a second one would take over the first one's
 * connection, the same client id, and its outbox): STATE/pid is locked
 * until exit. Returns its descriptor, or -1. */
static int lock_state(const char *state)
{
    char path[DEV_PATH + 8];
    int fd = -1;

    /* mkdir -p */
    snprintf(path, sizeof(path), "%s", state);
    for (char *slash = path + 1;; slash++) {
        bool end = *slash == '\0';
        if (*slash != '/' && !end)
            continue;
        *slash = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "ay-device: cannot make %s: %s\n", path, strerror(errno));
            return -1;
        }
        if (end)
            break;
        *slash = '/';
    }
    if (snprintf(path, sizeof(path), "%s/pid", state) < (int)sizeof(path))
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "ay-device: %s: another ay-device uses this state directory\n", state);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* The file also tells our pid: kill -USR1 $(cat STATE/pid) presses the button. */
    if (ftruncate(fd, 0) != 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0)
        fprintf(stderr, "ay-device: %s: cannot write the pid: %s\n", path, strerror(errno));
    return fd;
}

/* A deliberate stop: say OFFLINE ourselves, since a clean DISCONNECT
 * suppresses the Last Will (contract 2). What is still in the outbox stays
 * on disk for the next start. */
static void say_offline(struct device *d)
{
    struct dev_msg m = {0};
    char err[DEV_ERRLEN] = "";

    if (d->state != UP)
        return;
    if (dev_msg_status(&d->p, "DEVICE_STATE_OFFLINE", &m) != 0 ||
        dev_link_publish_wait(&d->link, d->p.topic_status, m.json, 2000, err) != 0)
        dev_log("warn", "msg=\"could not say offline\" err=\"%s\"", err);
    free(m.json);
}

int main(int argc, char **argv)
{
    struct device d = {.receipt_wait_ms = 5000, .max_wait_ms = 60000, .reconnect_wait_ms = 1000};
    struct options o = {0};
    char err[DEV_ERRLEN] = "";
    int lock_fd = -1, code = 2;
    bool link_made = false;

    if (!parse_args(argc, argv, &o, &d)) {
        usage();
        return 2;
    }
    lock_fd = lock_state(o.state);
    if (lock_fd < 0)
        return 2;
    if (dev_profile_load(o.profile, o.state, o.password_file, &d.p, err) != 0) {
        fprintf(stderr, "ay-device: %s\n", err);
        goto cleanup;
    }
    dev_log_set_device(d.p.device_id);
    d.heartbeat_s = o.heartbeat_s ? o.heartbeat_s : d.p.heartbeat_s > 0 ? d.p.heartbeat_s : 60;
    d.p.heartbeat_s = d.heartbeat_s; /* the interval its heartbeats promise */
    code = 1;
    if (dev_outbox_open(&d.outbox, o.state, err) != 0) {
        dev_log("error", "msg=\"cannot open the outbox\" err=\"%s\"", err);
        goto cleanup;
    }
    link_made = true;
    if (dev_link_init(&d.link, &d.p, err) != 0) {
        dev_log("error", "msg=\"cannot make the MQTT client\" err=\"%s\"", err);
        goto cleanup;
    }
    signal_wake_fd = d.link.wake[1];
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)getpid() ^ (unsigned)time(NULL));
    d.stdin_open = true;
    dev_log("info", "msg=started url=%s state=%s outbox=%zu heartbeat_s=%d", d.p.url, o.state,
            d.outbox.n, d.heartbeat_s);
    if (o.notice)
        queue_notice(&d, o.notice);

    run(&d);
    say_offline(&d);
    dev_log("info", "msg=stopped outbox=%zu", d.outbox.n);
    code = 0;
cleanup:
    signal_wake_fd = -1; /* the pipe is closed next */
    if (link_made)
        dev_link_cleanup(&d.link, 2000);
    dev_outbox_close(&d.outbox);
    close(lock_fd);
    return code;
}
