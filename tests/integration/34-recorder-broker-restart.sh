#!/usr/bin/env bash
# Broker restarted: the recorder's persistent session resumes by itself and
# messages published afterwards are stored.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_start_recorder
data=$AY_SOURCE_DIR/tests/data/e2e

ay_ctl device pub alarm --json "$data/alarm.json" >/dev/null || ay_fail "publish before restart"
ay_broker_stop "$AY_T/broker"
ay_broker_start "$AY_T/broker" || ay_fail "broker restart"
ay_wait_until 90 "recorder reconnected" ay_log_has recorder 'reconnected to broker' ||
  ay_fail "recorder did not reconnect"
out=$(ay_ctl device pub alarm --json "$data/alarm.json") || ay_fail "publish after restart"
ay_expect_eq "stored after restart" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$out")"
ay_expect_eq "both stored" 2 "$(ay_psql "SELECT count(*) FROM alarms")"
ay_test_pass
