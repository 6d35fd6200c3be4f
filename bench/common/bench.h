/*
 * bench.h - what the bench's C tools (ay-heartbeats, ay-responder) share:
 * reading a password file and stopping on a signal.
 *
 * Threads: call both from main before any other thread starts; the stop
 * flag is set from the signal handler only.
 */
#ifndef AY_BENCH_H
#define AY_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* The first line of the file at path (a password, without its line end)
 * into buf of cap bytes. False, having said why on stderr naming prog, if
 * the file cannot be read or the line is empty. */
bool bench_read_secret(const char *prog, const char *path, char *buf, size_t cap);

/* SIGINT and SIGTERM set *flag to 1; SIGPIPE is ignored. */
void bench_stop_on_signals(volatile sig_atomic_t *flag);

#endif
