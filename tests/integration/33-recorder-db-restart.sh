#!/usr/bin/env bash
# PostgreSQL restarted while messages keep coming: nothing is lost, the
# recorder reconnects, everything published meanwhile is stored once.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
for n in 1 2 3; do ay_test_device $n; done
ay_test_start_recorder

for n in 1 2 3; do
  ay_pub_loop "dev$n" 3 "$AY_T/before.out" || ay_fail "publish before the outage"
done
ay_expect_eq "stored before the outage" 9 "$(ay_psql "SELECT count(*) FROM messages")"

ay_test_stop_pg
ay_pub_loops_start 3 5 during
ay_wait_until 60 "the recorder noticed the outage" ay_log_has recorder 'database unavailable' ||
  ay_fail "recorder did not notice the database going away"
ay_test_restart_pg
ay_pub_loops_wait 3
ay_expect_eq "every message stored once" 24 "$(ay_psql "SELECT count(*) FROM messages")"
ay_expect_eq "receipts" 15 "$(cat "$AY_T"/during*.out | jq -r .status | grep -cE 'STORED|DUPLICATE')"
ay_log_has recorder 'reconnected to the database' || ay_fail "no reconnect logged"
ay_test_pass
