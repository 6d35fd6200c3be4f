#!/usr/bin/env bash
# Memory stays bounded when the database is away: the recorder's queue fills,
# it holds the broker back (the broker keeps the rest in the recorder's
# session), and once the database is back every message is stored once.
# Then SIGTERM stops it cleanly (exit 0, "stopped").
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
# A tiny queue and one worker, so that 20 messages overflow it.
echo "queue_max_items = 3" >>"$AY_T/etc/recorder.conf"
echo "batch_max = 2" >>"$AY_T/etc/recorder.conf"
echo "workers = 1" >>"$AY_T/etc/recorder.conf"
ay_test_start_recorder

ay_test_stop_pg
for i in $(seq 1 20); do
  ay_ctl device encode status --json "$AY_SOURCE_DIR/tests/data/e2e/status.json" >"$AY_T/m$i.bin" ||
    ay_fail "ayctl encode"
  mosquitto_pub -V 5 -q 1 -p "$AY_MQTT_PORT" -u btn-0102-01 -P dev-pw -i btn-0102-01 \
    -t ay/v1/d01/school/sch-0102/btn-0102-01/status -f "$AY_T/m$i.bin" || ay_fail "mosquitto_pub $i"
done
ay_wait_until 60 "the queue to fill" ay_log_has recorder 'queue full, holding the broker back' ||
  ay_fail "the recorder never held the broker back"
ay_test_restart_pg
ay_sql_eq "all 20 stored once after the outage" "20|20" \
  "SELECT count(*), count(DISTINCT message_id) FROM messages"

ay_stop recorder TERM
ay_expect_eq "exit code after SIGTERM" 0 "$?"
ay_log_has recorder 'msg=stopped' || ay_fail "no clean stop logged"
ay_test_pass
