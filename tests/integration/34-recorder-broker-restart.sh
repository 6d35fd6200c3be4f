#!/usr/bin/env bash
# Broker restarted: the recorder reconnects by itself (persistent session,
# subscriptions renewed on connect) and messages published meanwhile are
# stored once. Mosquitto 2.0.11 does not bring back the recorder's shared
# subscription after a restart until the recorder re-subscribes, so a message
# published in that gap is dropped by the broker: the publisher's re-send
# (no receipt) is what gets it stored. This test publishes into that gap.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_start_recorder
data=$AY_SOURCE_DIR/tests/data/e2e

ay_ctl device pub alarm --json "$data/alarm.json" >/dev/null || ay_fail "publish before restart"
ay_broker_stop "$AY_T/broker"
ay_broker_start "$AY_T/broker" || ay_fail "broker restart"
# At once, before the recorder is back: ayctl re-sends until it has a receipt.
out=$(ay_ctl device pub alarm --json "$data/alarm.json") || ay_fail "publish across the restart"
status=$(jq -r .status <<<"$out")
[[ $status == RECEIPT_STATUS_STORED || $status == RECEIPT_STATUS_DUPLICATE ]] ||
  ay_fail "receipt after restart: $out"
ay_log_has recorder 'reconnected to broker' || ay_fail "recorder did not log its reconnect"
out=$(ay_ctl device pub alarm --json "$data/alarm.json") || ay_fail "publish after restart"
ay_expect_eq "stored after restart" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$out")"
ay_expect_eq "all three stored once" "3|3" \
  "$(ay_psql "SELECT count(*), count(DISTINCT message_id) FROM alarms")"
ay_test_pass
