#!/usr/bin/env bash
# A stop always finishes within the drain time plus a bounded margin, in
# every state, and says how many messages it could not store; nothing the
# broker still holds is lost.
# 1. Database down, queue full (the MQTT callback waiting for room while
#    Paho holds its lock): SIGTERM must still end the recorder within
#    drain_timeout_ms + margin (it used to hang forever in the disconnect).
#    Exit 1, one "final counts" line with unstored=N, and once the database
#    is back a new recorder stores exactly the 20 - N the broker kept.
# 2. Queue not full, database up: the stop takes well under the drain time,
#    and the final counts agree with the stats.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
cat >>"$AY_T/etc/recorder.conf" <<CONF
queue_max_items = 3
batch_max = 2
workers = 1
drain_timeout_ms = 2000
CONF
AY_T_ALLOW_ERRORS='could not store messages before stopping'
ay_test_start_recorder
ay_encode_many 20 status "$AY_SOURCE_DIR/tests/data/e2e/status.json" "$AY_T/msgs"

ay_test_stop_pg
for i in $(seq 1 20); do
  mosquitto_pub -V 5 -q 1 -p "$AY_MQTT_PORT" -u btn-0102-01 -P dev-pw -i btn-0102-01 \
    -t ay/v1/d01/school/sch-0102/btn-0102-01/status -f "$AY_T/msgs/$i.bin" || ay_fail "mosquitto_pub $i"
done
ay_wait_until 60 "the queue to fill" ay_log_has recorder 'queue full, holding the broker back' ||
  ay_fail "the recorder never held the broker back"
start=$SECONDS
ay_stop recorder TERM
rc=$?
took=$((SECONDS - start))
ay_expect_eq "exit code of a stop with unstored messages" 1 "$rc"
[ "$took" -le 8 ] || ay_fail "stop took ${took} s with a drain time of 2 s"
ay_log_has recorder 'msg="final counts"' || ay_fail "no final counts"
unstored=$(grep 'msg="final counts"' "$AY_T/log/recorder.log" | sed -E 's/.* unstored=([0-9]+).*/\1/')
[ "$unstored" -ge 1 ] || ay_fail "final counts say nothing was left unstored: $unstored"
ay_log_has recorder "could not store messages before stopping" || ay_fail "the loss was not logged"

ay_test_restart_pg
mv "$AY_T/log/recorder.log" "$AY_T/log/recorder-1.log.txt"
ay_test_start_recorder
ay_sql_eq "the broker kept what was not taken" "$((20 - unstored))" "SELECT count(*) FROM messages"

# 2. A plain stop.
start=$SECONDS
ay_stop recorder TERM
ay_expect_eq "exit code of a clean stop" 0 "$?"
[ $((SECONDS - start)) -le 4 ] || ay_fail "a plain stop took $((SECONDS - start)) s"
grep -q "msg=\"final counts\" stored=$((20 - unstored)) duplicates=0 rejected=0 unstored=0" \
  "$AY_T/log/recorder.log" || ay_fail "final counts: $(grep 'final counts' "$AY_T/log/recorder.log")"
ay_log_has recorder 'msg=stopped' || ay_fail "no clean stop logged"
ay_test_pass
