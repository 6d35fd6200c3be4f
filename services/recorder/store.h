/*
 * store.h - the recorder's SQL (the files in services/recorder/sql, embedded by
 * the build as recorder_sql), through lib/ay_pg only.
 *
 * One batch is one transaction (run by ay_pg_tx, which retries what
 * PostgreSQL calls transient): read what the decision needs (messages
 * already stored, devices, districts' policies, referenced incidents and
 * hazards, open deadlines) into struct recorder_facts; decide
 * (recorder_decide, pure); write the raw log (ON CONFLICT on message_id), the
 * domain tables, the deadlines the messages start or meet, and the dead
 * letters. Whatever creates an obligation commits with the message that
 * caused it.
 * Tables written: messages, dead_letters, dead_letter_overflow, alarms,
 * alarm_cancels, incidents, incident_reports, hazards, hazard_events,
 * monthly_reports, device_status, deadlines, escalations, notifications,
 * audit_events. Read: devices, schools, districts, incidents, hazards
 * (locked while a batch moves them), deadlines.
 */
#ifndef RECORDER_STORE_H
#define RECORDER_STORE_H

#include <stddef.h>

#include "ay_err.h"
#include "ay_pg.h"
#include "ay_tzcache.h"
#include "recorder.h"

extern const struct ay_pg_stmt recorder_sql[];
extern const size_t recorder_sql_count;

struct recorder_batch {
    struct recorder_item **items;
    size_t n;
    int dead_letter_cap;      /* per device and hour */
    struct ay_tzcache *zones; /* the districts' time zones */
};

/*
 * The body of one batch's transaction (an ay_pg_tx_fn; arg is a struct
 * recorder_batch): sets every item's final outcome. Starts from the items'
 * decoded state every time, so ay_pg_tx may run it again. On an error the
 * caller's transaction is rolled back and the outcomes are meaningless.
 */
enum ay_err recorder_store_batch(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

/* The body of a transaction storing items as dead letters only (arg is a
 * struct recorder_batch whose items are all REJECTED): used when the
 * database refuses an item that passed validation. */
enum ay_err recorder_store_dead_letters(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

#endif
