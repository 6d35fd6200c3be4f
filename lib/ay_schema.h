/*
 * ay_schema.h - what a decoded contract message must contain beyond its types.
 *
 * Owns: the rules proto3 cannot express (it has no required fields): which
 * fields must be present, id and UUID syntax, enum values known and not
 * *_UNSPECIFIED where a value is needed, length limits, number ranges,
 * coordinates and sane times. One rule table (ay_schema.c) plus checks by
 * field name that apply wherever that field occurs.
 * Enforces domain.md "Rules that the backbone enforces": 2 (bullying notices
 * name the people involved and the measures taken; a final written report
 * gives cause, handling, lessons and rectification), 3 (a hazard has a
 * responsible person and a rectification deadline), 4 (a monthly report is
 * signed).
 * Limits: free text <= AY_SCHEMA_TEXT_MAX bytes; names, roles, phones, places,
 * locations, firmware, references and subject ids <= AY_SCHEMA_SHORT_MAX bytes.
 * Times: not before 2000-01-01T00:00:00Z; event times not more than 24 h
 * after now_us; deadlines (rectificationDeadline, newDeadline, dueAt) not
 * after 2100-01-01T00:00:00Z.
 * Does not own: decoding (ay_codec.h), whether ids refer to existing records.
 * Threads: pure functions; thread-safe.
 */
#ifndef AY_SCHEMA_H
#define AY_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "ay_err.h"

#define AY_SCHEMA_TEXT_MAX  4096
#define AY_SCHEMA_SHORT_MAX 128
#define AY_SCHEMA_ID_MAX    32

/*
 * Checks m, a message of a type registered in ay_msgtype.h, against the rules
 * above, with now_us (UTC microseconds) as the present. Returns AY_OK, or
 * AY_ERR_INVALID with err naming the first failing field by its JSON path as
 * the codec does, e.g. "alarm.header.messageId: required". m is not changed.
 */
enum ay_err ay_schema_validate(const ProtobufCMessage *m, int64_t now_us, char err[AY_ERRLEN]);

/*
 * Flags of ay_schema_validate_flags.
 * AY_SCHEMA_ANY_CLOCK: event times may lie anywhere (a device whose clock is
 * wrong: before 2000, or more than 24 h ahead of now_us); everything else is
 * checked as usual. For alarms, which must never be refused for a clock.
 */
#define AY_SCHEMA_ANY_CLOCK 1u
/* AY_SCHEMA_PAST_24H: event times more than 24 h before now_us fail too.
 * Not a rule of the contract (a late report is real, and lateness is judged
 * against when the backbone received it): the recorder uses it to find
 * times worth a warning, as a future time gets one. */
#define AY_SCHEMA_PAST_24H 2u
enum ay_err ay_schema_validate_flags(const ProtobufCMessage *m, int64_t now_us, unsigned flags,
                                     char err[AY_ERRLEN]);

/* Id syntax used for district, school and device ids: 1..32 chars of [a-z0-9-],
 * not starting with '-'. */
bool ay_schema_id_is_valid(const char *id);

/* Canonical 8-4-4-4-12 hex UUID, lower or upper case (any version). */
bool ay_schema_uuid_is_valid(const char *s);

#endif
