/*
 * store.h - the police feed's SQL (services/alarmfeed/sql, embedded as
 * alarmfeed_sql): loading the registry snapshot.
 *
 * Tables read: schools, devices, device_test_windows. Nothing is written:
 * the feed never waits on the database on its way to the police (feed.c
 * loads on a thread of its own).
 */
#ifndef ALARMFEED_STORE_H
#define ALARMFEED_STORE_H

#include <stddef.h>

#include "ay_err.h"
#include "ay_pg.h"
#include "registry.h"

extern const struct ay_pg_stmt alarmfeed_sql[];
extern const size_t alarmfeed_sql_count;

/* The body of one transaction (an ay_pg_tx_fn, arg a struct
 * alarmfeed_load): loads every school, device and test window not yet
 * ended into a new sealed snapshot. Starts from scratch each time (frees
 * what an earlier attempt left in reg). When the transaction as a whole
 * fails (its COMMIT may fail after this succeeded), the caller frees reg. */
struct alarmfeed_load {
    struct alarmfeed_registry *reg; /* out, on AY_OK: the caller frees it */
    size_t skipped;                 /* out: rows whose ids are not ids */
};
enum ay_err alarmfeed_store_load(struct ay_pg *db, void *arg, char err[AY_ERRLEN]);

#endif
