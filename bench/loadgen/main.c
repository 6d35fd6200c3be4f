/*
 * ay-loadgen main.c - options, wiring, the figures at the end. The work is
 * in loadgen.c, the messages in msgs.c.
 *
 * Exit codes: 0 every message got a STORED or DUPLICATE Receipt (--no-wait:
 * every message was acknowledged by the broker); 1 some message got none or
 * was REJECTED, or the run could not take place; 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ay_log.h"
#include "loadgen.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: ay-loadgen --url URL [OPTIONS]\n\n"
               "Simulates devices of one school, each on its own MQTT v5 connection (client id =\n"
               "account name, clean start, subscribed to its receipt topic), all driven by one\n"
               "thread (libmosquitto), sends COUNT new messages in all and waits for a Receipt\n"
               "for each, re-sending the same bytes after --resend-ms. Prints the figures of the\n"
               "run at the end, with its own CPU time.\n\n"
               "  --url URL              broker, e.g. tcp://127.0.0.1:1883 (required)\n"
               "  --district D           district of the school (default d01)\n"
               "  --school S             school of every device (default bench-school)\n"
               "  --device-prefix P      accounts are P0001, P0002, ... (default bench-)\n"
               "  --password-prefix P    password of account NAME is P followed by NAME\n"
               "                         (default bench-pw-)\n"
               "  --devices N            simulated devices (default 50)\n"
               "  --count N              messages to send in all (default 100000)\n"
               "  --rate R               new messages per second in all; 0 = as fast as the\n"
               "                         windows allow (default 0)\n"
               "  --window W             messages per device waiting for a Receipt (default 16)\n"
               "  --resend-ms MS         re-send after MS without Receipt (default 5000)\n"
               "  --drain-timeout-ms MS  give up after MS without any Receipt (default 30000)\n"
               "  --mix A,N,H,M,S        weights of alarm, notice, hazard, monthly, status\n"
               "                         (default 10,5,15,2,68)\n"
               "  --no-wait              publish only: no receipt subscription; a message is\n"
               "                         done when the broker acknowledges it (PUBACK), the\n"
               "                         window bounds the unacknowledged publishes per device,\n"
               "                         and only a\n"
               "                         failed publish is repeated. Fills a backlog for a\n"
               "                         recorder that is not running.\n\n"
               "Exit status: 0 all receipted (STORED or DUPLICATE; --no-wait: all acknowledged\n"
               "by the broker), 1 a message was not receipted or was REJECTED (or the run\n"
               "failed), 2 usage error.\n");
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
        return false;
    *out = (unsigned long)v;
    return true;
}

static bool parse_mix(const char *s, unsigned mix[LG_NTYPES])
{
    const char *p = s;
    unsigned total = 0;

    for (int t = 0; t < LG_NTYPES; t++) {
        char *end = NULL;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno != 0 || end == p || v < 0 || v > 1000000)
            return false;
        if (*end != (t == LG_NTYPES - 1 ? '\0' : ','))
            return false;
        mix[t] = (unsigned)v;
        total += mix[t];
        p = end + 1;
    }
    return total > 0;
}

/* One option and its value; false on a bad value or an unknown option. */
static bool parse_opt(struct lg_opts *o, const char *name, const char *v)
{
    unsigned long n = 0;
    char *end = NULL;

    if (strcmp(name, "--url") == 0)
        o->url = v;
    else if (strcmp(name, "--district") == 0)
        o->district = v;
    else if (strcmp(name, "--school") == 0)
        o->school = v;
    else if (strcmp(name, "--device-prefix") == 0)
        o->device_prefix = v;
    else if (strcmp(name, "--password-prefix") == 0)
        o->password_prefix = v;
    else if (strcmp(name, "--devices") == 0 && parse_ulong(v, 1, 9999, &n))
        o->devices = (unsigned)n;
    else if (strcmp(name, "--count") == 0 && parse_ulong(v, 1, 100000000, &n))
        o->count = n;
    else if (strcmp(name, "--window") == 0 && parse_ulong(v, 1, 90, &n))
        o->window = (unsigned)n;
    else if (strcmp(name, "--resend-ms") == 0 && parse_ulong(v, 10, 3600000, &n))
        o->resend_ms = (int)n;
    else if (strcmp(name, "--drain-timeout-ms") == 0 && parse_ulong(v, 100, 3600000, &n))
        o->drain_timeout_ms = (int)n;
    else if (strcmp(name, "--mix") == 0 && parse_mix(v, o->mix))
        ;
    else if (strcmp(name, "--rate") == 0 && (o->rate = strtod(v, &end)) >= 0 && end != v &&
             *end == '\0')
        ;
    else
        return false;
    return true;
}

static int parse_args(int argc, char **argv, struct lg_opts *o)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(argv[i], "--no-wait") == 0) {
            o->no_wait = true;
            continue;
        }
        if (i + 1 >= argc || !parse_opt(o, argv[i], argv[i + 1])) {
            fprintf(stderr, "ay-loadgen: invalid option or value: %s (see --help)\n", argv[i]);
            return 2;
        }
        i++;
    }
    if (o->url == NULL) {
        fprintf(stderr, "ay-loadgen: --url is required (see --help)\n");
        return 2;
    }
    return 0;
}

static double ms(int64_t us)
{
    return (double)us / 1000.0;
}

static void print_result(const struct lg_opts *o, const struct lg_result *r)
{
    const char *done = o->no_wait ? "acknowledged by the broker" : "receipted";

    printf("ay-loadgen figures\n");
    printf("  mode                   %s\n",
           o->no_wait ? "publish only (--no-wait: done at the broker's PUBACK)"
                      : "wait for Receipts");
    printf("  devices                %u (window %u)\n", o->devices, r->window);
    printf("  target rate            %.0f msgs/s%s\n", o->rate, o->rate > 0 ? "" : " (unlimited)");
    printf("  messages sent          %lu\n", r->sent);
    printf("  by type                alarm %lu, notice %lu, hazard %lu, monthly %lu, status %lu\n",
           r->by_type[LG_ALARM], r->by_type[LG_NOTICE], r->by_type[LG_HAZARD],
           r->by_type[LG_MONTHLY], r->by_type[LG_STATUS]);
    printf("  receipts STORED        %lu\n", r->stored);
    printf("  receipts DUPLICATE     %lu\n", r->duplicate);
    printf("  receipts REJECTED      %lu\n", r->rejected);
    printf("  re-sends               %lu\n", r->resends);
    printf("  late receipts          %lu\n", r->late_receipts);
    printf("  publish errors         %lu\n", r->publish_errors);
    printf("  unanswered             %lu\n", r->unanswered);
    printf("  elapsed                %.3f s\n", r->elapsed_s);
    printf("  throughput             %.0f msgs/s (%s)\n",
           r->elapsed_s > 0 ? (double)(r->sent - r->unanswered) / r->elapsed_s : 0.0, done);
    printf("  latency p50            %.2f ms\n", ms(r->p50_us));
    printf("  latency p99            %.2f ms\n", ms(r->p99_us));
    printf("  latency max            %.2f ms\n", ms(r->max_us));
    printf("  devices lost           %u\n", r->lost);
    printf("  loadgen CPU            %.2f s (%.2f cores over the run; %.2f s in all)\n", r->cpu_s,
           r->elapsed_s > 0 ? r->cpu_s / r->elapsed_s : 0.0, r->cpu_total_s);
    if (r->rejected > 0)
        printf("  first rejection        %s\n", r->first_reject);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct lg_opts o = {.district = "d01",
                        .school = "bench-school",
                        .device_prefix = "bench-",
                        .password_prefix = "bench-pw-",
                        .devices = 50,
                        .count = 100000,
                        .window = 16,
                        .resend_ms = 5000,
                        .drain_timeout_ms = 30000,
                        .mix = {10, 5, 15, 2, 68}};
    struct lg_result r;
    char err[AY_ERRLEN] = "";

    int code = parse_args(argc, argv, &o);
    if (code != 0)
        return code;
    ay_log_init("loadgen", AY_LOG_INFO);
    if (lg_run(&o, &r, err) != AY_OK) {
        ay_log_error("cannot run the load", "err", err[0] ? err : "out of memory", NULL);
        return 1;
    }
    print_result(&o, &r);
    if (r.unanswered > 0 || r.rejected > 0 || r.sent < o.count) {
        ay_log_error("run failed: messages unanswered or rejected", NULL);
        return 1;
    }
    return 0;
}
