#!/usr/bin/env bash
# The recorder killed with SIGKILL mid-stream and restarted: with publishers
# re-sending what has no receipt, every message is stored exactly once.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
for n in 1 2 3 4; do ay_test_device $n; done
ay_test_start_recorder recorder

ay_pub_loops_start 4 15 r
ay_wait_until 60 "some messages stored" ay__sql_ge 10 "SELECT count(*) FROM messages" ||
  ay_fail "nothing stored before the kill"
ay_stop recorder KILL
ay_test_start_recorder recorder2 # same instance id: resumes the session
ay_pub_loops_wait 4
ay_expect_eq "every message stored exactly once" "60|60" \
  "$(ay_psql "SELECT count(*), count(DISTINCT message_id) FROM messages")"
ay_expect_eq "every publisher got 15 receipts" "15 15 15 15" \
  "$(for n in 1 2 3 4; do jq -r .refMessageId "$AY_T/r$n.out" | sort -u | wc -l; done | xargs)"
ay_test_pass
