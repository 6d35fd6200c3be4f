/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz and their seed tool share.
 *
 * Owns: the layout of a fuzz input (its first byte picks the message type or
 * the topic, so one corpus covers every type), the fixed present the schema
 * is checked against, and the checks whose failure is a bug in our code.
 * A failed check prints what was expected and calls abort(): libFuzzer
 * reports that as a crash and keeps the input (tests/fuzz/README.md).
 * Bad input itself is never a failure: our code must turn it into
 * AY_ERR_INVALID with a reason (style.md section 4).
 * Threads: one; libFuzzer runs inputs one after the other.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "ay_err.h"
#include "ay_msgtype.h"

/* 2026-11-24T08:00:00Z, the day of tests/data, so that their times are valid. */
#define FUZZ_NOW_US 1795507200000000LL

/* The device whose topic the recorder target uses for selectors below 0x80
 * (the one named in tests/data). */
#define FUZZ_TOPIC_PREFIX "ay/v1/d01/school/sch-0102/btn-0102-01/"

/* The type a selector byte picks: sel modulo the number of types in
 * ay_msgtype_all() (only the inbound ones when inbound_only). */
const struct ay_msgtype *fuzz_type_pick(uint8_t sel, bool inbound_only);

/* The smallest selector that picks the type named name; -1 if there is none. */
int fuzz_type_selector(const char *name, bool inbound_only);

/* Prints "fuzz: check failed: ..." and aborts. */
_Noreturn void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What a function of ours (named what) reported for a message of type t:
 * rc must be AY_ERR_INVALID, err a valid UTF-8 reason (it ends up in
 * receipts and dead letters) starting with the JSON path root t->name. */
void fuzz_check_reason(const struct ay_msgtype *t, const char *what, enum ay_err rc,
                       const char *err);

/* Runs ay_schema_validate and its AY_SCHEMA_ANY_CLOCK variant on m (of type
 * t): a valid message stays valid when the clock is not checked. Returns
 * whether m is valid. */
bool fuzz_check_schema(const struct ay_msgtype *t, const ProtobufCMessage *m);

/* m (of type t) encodes to JSON (one line and pretty), each text decodes
 * again to a message that encodes to the same line and, if m is valid (as
 * the schema judged it), is valid too. */
void fuzz_check_round_trip(const struct ay_msgtype *t, const ProtobufCMessage *m, bool valid);

#endif
