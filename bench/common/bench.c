/*
 * bench.c - see bench.h.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

/* Where the signal handler writes (bench_stop_on_signals). */
static volatile sig_atomic_t *stop_flag;

bool bench_read_secret(const char *prog, const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "%s: cannot read a password from %s\n", prog, path);
        return false;
    }
    if (fgets(buf, (int)cap, f) == NULL)
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    if (buf[0] == '\0') {
        fprintf(stderr, "%s: the password file %s is empty\n", prog, path);
        return false;
    }
    return true;
}

static void on_signal(int sig)
{
    (void)sig;
    *stop_flag = 1;
}

void bench_stop_on_signals(volatile sig_atomic_t *flag)
{
    struct sigaction sa = {.sa_handler = on_signal};

    stop_flag = flag;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
