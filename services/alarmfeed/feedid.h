/*
 * feedid.h - the police feed's message ids: the same alarm (or cancel),
 * however often it is delivered to the feed, gets the same feed id, so a
 * police console can drop a repeat (after a restart, a re-send by the
 * device, a second feed instance).
 *
 * The rule (docs/contract.md 5.12), a name-based UUID version 8 in the
 * manner of RFC 9562 appendix B.2:
 *   name   = "anyuan.v1.PoliceAlarm\n" EVENT "\n" DISTRICT "\n" SCHOOL "\n"
 *            DEVICE "\n" ID
 *            EVENT "alarm" or "cancel"; DISTRICT, SCHOOL, DEVICE the levels of
 *            the topic the message came on; ID its header.messageId in lower case
 *   id     = ay_uuid_v8_name(name): SHA-256(name) bytes 0..15; byte 6 =
 *            0x80 | (byte 6 & 0x0f) (version 8), byte 8 = 0x80 | (byte 8 &
 *            0x3f) (variant 10); lower-case text
 * The device and school are in the name so that two devices that (wrongly)
 * send the same message id never have one of their alarms dropped as a repeat.
 * Pure functions; thread-safe.
 */
#ifndef ALARMFEED_FEEDID_H
#define ALARMFEED_FEEDID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ay_err.h"
#include "ay_uuid.h"

enum alarmfeed_event {
    ALARMFEED_ALARM = 1,  /* PoliceAlarmEvent ALARM */
    ALARMFEED_CANCEL = 2, /* PoliceAlarmEvent CANCEL */
};

/* Writes the feed id of the rule above into out. AY_ERR_INVALID when msg_id
 * is not a UUID or the name would not fit (ids longer than the contract's);
 * AY_ERR_NOMEM if the digest could not be computed. */
enum ay_err alarmfeed_feed_id(enum alarmfeed_event ev, const char *district, const char *school,
                              const char *device, const char *msg_id, char out[AY_UUID_STRLEN]);

#endif
