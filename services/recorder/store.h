/*
 * store.h - the recorder's SQL, through lib/ay_pg only.
 *
 * One call stores a batch in ONE transaction: registry and reference checks,
 * the raw message log (ON CONFLICT on message_id: a duplicate changes
 * nothing), the domain tables, the deadlines the messages start or meet, and
 * the dead letters. Whatever creates an obligation commits with the message
 * that caused it.
 * Tables written: messages, dead_letters, alarms, alarm_cancels, incidents,
 * incident_reports, hazards, hazard_events, monthly_reports, device_status,
 * deadlines. Read: devices, schools, districts.
 */
#ifndef RECORDER_STORE_H
#define RECORDER_STORE_H

#include <stddef.h>

#include "ay_err.h"
#include "recorder.h"

struct ay_pg;

/* Registers the prepared statements (re-prepared on reconnect by ay_pg). */
enum ay_err recorder_store_prepare(struct ay_pg *db, char err[AY_ERRLEN]);

/*
 * Stores items[0..n) and sets each item's final outcome. On AY_OK everything
 * is committed. On error nothing is (rolled back) and the items are as
 * before: AY_ERR_IO means the connection failed (reconnect, retry the batch);
 * AY_ERR_DB means the server refused something (retry the items one by one
 * to find the one it refuses).
 */
enum ay_err recorder_store_batch(struct ay_pg *db, struct recorder_item **items, size_t n,
                                 char err[AY_ERRLEN]);

/* Stores one item as a dead letter with reason (its own transaction); used
 * when the database refuses an item that passed validation. */
enum ay_err recorder_store_dead_letter(struct ay_pg *db, struct recorder_item *it,
                                       char err[AY_ERRLEN]);

#endif
