/*
 * ay_topic.h - the MQTT topic tree of contract v1 (docs/contract.md).
 *
 *   ay/v1/{district}/school/{school}/{device}/{kind}  devices -> backbone
 *   ay/v1/{district}/receipt/{school}/{device}        backbone -> one device
 *   ay/v1/{district}/escalation/{audience}            backbone -> police, bureau, government
 *   ay/v1/{district}/escalation/school/{school}       backbone -> one school (its devices)
 *   ay/v1/{district}/ack/{audience}/{account}         one person's account -> backbone
 *   ay/v1/{district}/ack-receipt/{audience}/{account} backbone -> that account
 *
 * The district and school are levels of their own so that the broker's ACLs
 * can scope each account to its subtree. Ids follow ay_schema_id_is_valid.
 * Pure functions; no allocation.
 */
#ifndef AY_TOPIC_H
#define AY_TOPIC_H

#include <stddef.h>

#include "ay_err.h"

#define AY_TOPIC_MAX 160
#define AY_ID_MAX    33 /* 32 characters and the NUL */
#define AY_KIND_MAX  24
/* The audience whose escalation feed is per school (lib/ay_policy's word
 * of AY_AUDIENCE_SCHOOL). */
#define AY_TOPIC_AUDIENCE_SCHOOL "school"

enum ay_topic_class {
    AY_TOPIC_SCHOOL,      /* a device's inbound message */
    AY_TOPIC_RECEIPT,     /* a receipt for a device */
    AY_TOPIC_ESCALATION,  /* an escalation feed */
    AY_TOPIC_ACK,         /* an acknowledgement from an account (police, bureau, government) or
                             a school's device */
    AY_TOPIC_ACK_RECEIPT, /* the receipt of an acknowledgement */
};

struct ay_topic {
    enum ay_topic_class cls;
    char district[AY_ID_MAX];
    char school[AY_ID_MAX]; /* SCHOOL, RECEIPT; ESCALATION: a school's feed, else "" */
    char device[AY_ID_MAX]; /* SCHOOL, RECEIPT: device; ACK, ACK_RECEIPT: account */
    char kind[AY_KIND_MAX]; /* SCHOOL: message kind; ESCALATION, ACK*: audience */
};

/* Splits a topic of the tree; AY_ERR_INVALID with a reason otherwise. */
enum ay_err ay_topic_parse(const char *topic, struct ay_topic *out, char err[AY_ERRLEN]);

/* Builders: AY_ERR_INVALID if an id is not valid or the result is too long. */
enum ay_err ay_topic_school(char out[AY_TOPIC_MAX], const char *district, const char *school,
                            const char *device, const char *kind);
enum ay_err ay_topic_receipt(char out[AY_TOPIC_MAX], const char *district, const char *school,
                             const char *device);
/* The feed of an audience other than a school: "school" is refused here
 * (each school has a feed of its own, below). */
enum ay_err ay_topic_escalation(char out[AY_TOPIC_MAX], const char *district, const char *audience);
/* The escalation feed of one school: ay/v1/{district}/escalation/school/{school}.
 * A school's devices read it and no other school's (docs/broker.md). */
enum ay_err ay_topic_escalation_school(char out[AY_TOPIC_MAX], const char *district,
                                       const char *school);
/* The feed an escalation to audience (a topic word) is published on:
 * ay_topic_escalation, or for AY_TOPIC_AUDIENCE_SCHOOL the school's own
 * feed (school must then be an id; it is ignored otherwise). */
enum ay_err ay_topic_escalation_feed(char out[AY_TOPIC_MAX], const char *district,
                                     const char *audience, const char *school);
enum ay_err ay_topic_ack(char out[AY_TOPIC_MAX], const char *district, const char *audience,
                         const char *account);
enum ay_err ay_topic_ack_receipt(char out[AY_TOPIC_MAX], const char *district, const char *audience,
                                 const char *account);

#endif
