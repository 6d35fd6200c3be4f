/*
 * ay_msgtype.c - the table of anyuan.v1 message types (see ay_msgtype.h).
 *
 * Adding a message type to the contract means adding one row here; the
 * codec, schema, labels and their tests pick it up from this table.
 */
#include "ay_msgtype.h"

#include <string.h>

#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/device.pb-c.h"
#include "anyuan/v1/hazard.pb-c.h"
#include "anyuan/v1/incident.pb-c.h"
#include "anyuan/v1/monthly.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "anyuan/v1/police.pb-c.h"

static const struct ay_msgtype msgtypes[] = {
    /* Sent by devices without a person: accepted whatever the device's clock says. */
    {"alarm", "alarm", AY_DIR_INBOUND, &anyuan__v1__alarm__descriptor, true},
    {"alarm-cancel", "alarm-cancel", AY_DIR_INBOUND, &anyuan__v1__alarm_cancel__descriptor, true},
    {"notice", "notice", AY_DIR_INBOUND, &anyuan__v1__incident_notice__descriptor, false},
    {"report", "report", AY_DIR_INBOUND, &anyuan__v1__incident_report__descriptor, false},
    {"hazard", "hazard", AY_DIR_INBOUND, &anyuan__v1__hazard_report__descriptor, false},
    {"hazard-update", "hazard-update", AY_DIR_INBOUND, &anyuan__v1__hazard_update__descriptor,
     false},
    {"monthly", "monthly", AY_DIR_INBOUND, &anyuan__v1__monthly_report__descriptor, false},
    {"status", "status", AY_DIR_INBOUND, &anyuan__v1__device_status__descriptor, true},
    {"receipt", NULL, AY_DIR_OUTBOUND, &anyuan__v1__receipt__descriptor, false},
    {"escalation", NULL, AY_DIR_OUTBOUND, &anyuan__v1__escalation__descriptor, false},
    {"ack", NULL, AY_DIR_ACK, &anyuan__v1__ack__descriptor, false},
    /* The police alarm feed carries the device's own times, whatever its clock said. */
    {"police-alarm", NULL, AY_DIR_OUTBOUND, &anyuan__v1__police_alarm__descriptor, true},
};

#define MSGTYPE_COUNT (sizeof(msgtypes) / sizeof(msgtypes[0]))

const struct ay_msgtype *ay_msgtype_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < MSGTYPE_COUNT; i++) {
        if (strcmp(msgtypes[i].name, name) == 0)
            return &msgtypes[i];
    }
    return NULL;
}

const struct ay_msgtype *ay_msgtype_by_desc(const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; d != NULL && i < MSGTYPE_COUNT; i++) {
        if (msgtypes[i].desc == d)
            return &msgtypes[i];
    }
    return NULL;
}

const struct ay_msgtype *ay_msgtype_all(size_t *count)
{
    *count = MSGTYPE_COUNT;
    return msgtypes;
}
