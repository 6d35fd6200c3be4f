/*
 * ay_backoff.c - doubling delays; see ay_backoff.h.
 */
#include "ay_backoff.h"

void ay_backoff_init(struct ay_backoff *b, int min_ms, int max_ms)
{
    b->min_ms = min_ms > 0 ? min_ms : 1;
    b->max_ms = max_ms >= b->min_ms ? max_ms : b->min_ms;
    b->next_ms = b->min_ms;
}

int ay_backoff_next(struct ay_backoff *b)
{
    int now = b->next_ms;
    b->next_ms = now > b->max_ms / 2 ? b->max_ms : now * 2;
    return now;
}

void ay_backoff_reset(struct ay_backoff *b)
{
    b->next_ms = b->min_ms;
}
