#!/usr/bin/env bash
# Two recorder instances share the load (MQTT v5 shared subscription): no
# duplicates, no loss, and both do work.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
for n in 1 2 3 4; do ay_test_device $n; done
ay_test_start_recorder rec1 1
ay_test_start_recorder rec2 2

ay_pub_loops_start 4 10 r
ay_pub_loops_wait 4
ay_expect_eq "stored exactly once" "40|40" \
  "$(ay_psql "SELECT count(*), count(DISTINCT message_id) FROM messages")"
ay_expect_eq "both instances answered" "svc-recorder-1 svc-recorder-2" \
  "$(cat "$AY_T"/r*.out | jq -r .header.deviceId | sort -u | xargs)"
ay_test_pass
