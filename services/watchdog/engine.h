/*
 * engine.h - the watchdog's moving parts on the shared runtime: three
 * workers (lib/ay_pool), each with its own database connection.
 *
 * timers  sleeps until the earliest due time of any deadline or escalation
 *         (by the database's clock), woken at once by NOTIFY ay_timers when
 *         a transaction creates or moves one, and at least every sweep_ms
 *         (a safety net, not the precision). It then claims what is due
 *         (FOR UPDATE SKIP LOCKED, short transactions) and acts: a missed
 *         deadline is marked missed and escalated; an escalation's timer
 *         reminds, climbs or re-escalates; a silent device is flagged. No
 *         fixed polling tick decides when something fires. At start and
 *         every schedule_ms it also schedules the periodic reports every
 *         school owes (their deadlines exist before anything arrives).
 * sender  publishes pending notifications (leased, so two watchdogs never
 *         publish one at the same time) through the outbox, at least once:
 *         marked sent only after the broker acknowledged; a lost publish is
 *         published again with the same id when its lease expires.
 * acks    stores and applies acknowledgements taken from the broker
 *         ($share/watchdog/ay/v1/+/ack/+/+) and answers each with a
 *         receipt on the account's ack-receipt topic.
 * Stop: the acks intake stops first (the caller disconnects its client,
 * then recorder-style the queue is closed and drained); timers and sender
 * finish their transaction and return; the outbox sends what it holds
 * within the drain time.
 * Threads: watchdog_engine_offer runs on Paho's receive thread; the rest on
 * the main thread.
 */
#ifndef WATCHDOG_ENGINE_H
#define WATCHDOG_ENGINE_H

#include <stddef.h>

#include "ay_err.h"
#include "ay_mqtt.h"

struct watchdog_engine;

struct watchdog_engine_opts {
    const char *database_url;
    const char *service_id; /* header.deviceId of what it publishes */
    int sweep_ms;           /* look for due work at least this often */
    int64_t schedule_ms;    /* schedule the periodic reports owed this often */
    int64_t report_lookback_s;
    int lease_s;          /* a notification's publish lease */
    int drain_timeout_ms; /* on stop, time to send what is queued */
    size_t ack_queue_max; /* acknowledgements held before the broker waits */
    int dead_letter_cap;  /* refused acks kept per account and hour */
};

/* On AY_OK *out is an engine (not connected, no threads) publishing
 * through out (borrowed; free the client before the engine). */
enum ay_err watchdog_engine_new(const struct watchdog_engine_opts *o, struct ay_mqtt *out,
                                struct watchdog_engine **e, char err[AY_ERRLEN]);
/* Connects the workers' database connections (with backoff, until the
 * service stops: AY_ERR_TIMEOUT). */
enum ay_err watchdog_engine_connect(struct watchdog_engine *e, char err[AY_ERRLEN]);
struct ay_pg *watchdog_engine_db(struct watchdog_engine *e);
enum ay_err watchdog_engine_start(struct watchdog_engine *e, char err[AY_ERRLEN]);
/* The acks client's message callback (Paho receive thread). */
void watchdog_engine_offer(void *arg, const struct ay_mqtt_msg *m);
/* After the acks client disconnected: drains, stops the workers, sends
 * what is queued. */
void watchdog_engine_finish(struct watchdog_engine *e);
void watchdog_engine_free(struct watchdog_engine *e); /* NULL is a no-op */

#endif
