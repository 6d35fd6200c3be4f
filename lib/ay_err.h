/*
 * ay_err.h - the one error numbering of the project, and the reason buffer.
 *
 * Owns: enum ay_err and its names. Every action in lib/, services/ and
 * gateways/ returns one of these; functions that touch the outside world
 * also fill a caller's char err[AY_ERRLEN] with one line saying what failed.
 */
#ifndef AY_ERR_H
#define AY_ERR_H

#include <stddef.h>

#define AY_ERRLEN 256

enum ay_err {
    AY_OK = 0,
    AY_ERR_NOMEM,    /* out of memory */
    AY_ERR_INVALID,  /* bad input: a message, an argument, a file */
    AY_ERR_IO,       /* file or socket I/O */
    AY_ERR_TIMEOUT,  /* a bounded wait ran out */
    AY_ERR_DB,       /* PostgreSQL said no or went away */
    AY_ERR_MQTT,     /* the broker or the MQTT client said no or went away */
    AY_ERR_CONFIG,   /* configuration or usage error */
    AY_ERR_NOTFOUND, /* a looked-up thing does not exist */
    AY_ERR_FULL,     /* a bounded queue or buffer is full */
    AY_ERR_CLOSED,   /* the object is shutting down */
};

/* Short English name of an error code; never NULL. */
const char *ay_strerror(enum ay_err e);

/* printf into a reason buffer of AY_ERRLEN bytes (truncates safely). */
void ay_errf(char err[AY_ERRLEN], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
