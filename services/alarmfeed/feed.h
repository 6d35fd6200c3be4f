/*
 * feed.h - the police alarm feed at run time: the registry snapshot under a
 * read-write lock, the thread that keeps it fresh, the path of each alarm
 * from the broker's callback to the outbox, counts and rate-limited logs.
 *
 * The path of an alarm never waits on the database (domain.md rule 1): it
 * is decode, a read of the snapshot under the read lock, pack, and a put
 * into lib/ay_outbox, all on Paho's receive thread. The snapshot is loaded
 * by a thread of its own with its own connection (LISTEN ay_registry, a
 * full reload on every notification, after every reconnect and every
 * reload_interval_s); until the first load, and while PostgreSQL is away,
 * the feed goes on with what it has (at first: nothing, so every alarm goes
 * out marked deviceUnknown).
 * Owns: the snapshot, the registry thread and its connection, the outbox.
 * Does not own: the MQTT clients (main.c), which must outlive the outbox's
 * close (ay_outbox.h).
 * Threads: alarmfeed_feed_offer on Paho's receive thread; the rest on the
 * main thread.
 */
#ifndef ALARMFEED_FEED_H
#define ALARMFEED_FEED_H

#include <stddef.h>

#include "ay_err.h"
#include "ay_mqtt.h"

struct alarmfeed_feed_opts {
    const char *database_url;
    const char *service_id; /* header.deviceId of what the feed publishes */
    int reload_interval_s;  /* a full reload at least this often */
    int stats_interval_ms;  /* window of the log rate limits and the counts */
};

struct alarmfeed_feed;

/* On AY_OK *out is a feed whose outbox publishes through `out` (borrowed);
 * its registry thread is not started yet. */
enum ay_err alarmfeed_feed_new(const struct alarmfeed_feed_opts *o, struct ay_mqtt *out,
                               struct alarmfeed_feed **f, char err[AY_ERRLEN]);

/* Starts the registry thread; it connects by itself, with backoff, and
 * never holds up the caller. */
enum ay_err alarmfeed_feed_start(struct alarmfeed_feed *f, char err[AY_ERRLEN]);

/* An alarm or cancel from the broker (an ay_mqtt_msg_fn, arg the feed);
 * runs on Paho's receive thread and never blocks. */
void alarmfeed_feed_offer(void *arg, const struct ay_mqtt_msg *m);

/* Logs the counts if they changed and the rate limits' suppressed lines. */
void alarmfeed_feed_stats(struct alarmfeed_feed *f);

/* After the intake stopped: waits for the registry thread (which returns
 * once the service is stopping) and publishes what is queued, for at most
 * drain_timeout_ms. Returns how many feed messages were never handed to
 * the broker. */
size_t alarmfeed_feed_finish(struct alarmfeed_feed *f, int drain_timeout_ms);

/* Call after the MQTT clients are freed. NULL is a no-op. */
void alarmfeed_feed_free(struct alarmfeed_feed *f);

#endif
