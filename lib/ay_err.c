/*
 * ay_err.c - names of error codes and the reason-buffer printf.
 */
#include "ay_err.h"

#include <stdarg.h>
#include <stdio.h>

const char *ay_strerror(enum ay_err e)
{
    switch (e) {
    case AY_OK:
        return "ok";
    case AY_ERR_NOMEM:
        return "out of memory";
    case AY_ERR_INVALID:
        return "invalid input";
    case AY_ERR_IO:
        return "i/o error";
    case AY_ERR_TIMEOUT:
        return "timed out";
    case AY_ERR_DB:
        return "database error";
    case AY_ERR_MQTT:
        return "mqtt error";
    case AY_ERR_CONFIG:
        return "configuration error";
    case AY_ERR_NOTFOUND:
        return "not found";
    case AY_ERR_FULL:
        return "full";
    case AY_ERR_CLOSED:
        return "closed";
    }
    return "unknown error";
}

void ay_errf(char err[AY_ERRLEN], const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err, AY_ERRLEN, fmt, ap);
    va_end(ap);
}
