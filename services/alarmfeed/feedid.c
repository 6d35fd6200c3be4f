/*
 * feedid.c - the feed id; see feedid.h.
 */
#include "feedid.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ay_schema.h"

/* ---- the feed id -------------------------------------------------------------- */

enum ay_err alarmfeed_feed_id(enum alarmfeed_event ev, const char *district, const char *school,
                              const char *device, const char *msg_id, char out[AY_UUID_STRLEN])
{
    char name[256];
    char id[AY_UUID_STRLEN];

    if (!ay_schema_uuid_is_valid(msg_id))
        return AY_ERR_INVALID;
    for (size_t i = 0; i < AY_UUID_STRLEN; i++)
        id[i] = (char)tolower((unsigned char)msg_id[i]);
    int n = snprintf(name, sizeof(name), "anyuan.v1.PoliceAlarm\n%s\n%s\n%s\n%s\n%s",
                     ev == ALARMFEED_CANCEL ? "cancel" : "alarm", district, school, device, id);
    if (n < 0 || (size_t)n >= sizeof(name))
        return AY_ERR_INVALID;
    return ay_uuid_v8_name(name, (size_t)n, out);
}
