#!/usr/bin/env bash
# Issue 14, the reference device (ay-device) loses and duplicates nothing:
# every alarm is stored exactly once, and its outbox is empty at the end,
# 1. with the recorder stopped: the alarm stays in the outbox (a file named
#    by its message id), the device is killed (SIGKILL) and restarted, it
#    re-sends the same message; when the recorder returns, one row;
# 2. across a broker restart: an alarm in flight when the broker stops and
#    one pressed while it is down;
# 3. across a PostgreSQL restart.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/onboard.sh"
source "$AY_SOURCE_DIR/tests/lib/refdevice.sh"
ay_test_stack
ob_ops_conf
ay_test_start_recorder
dv_add btn
P=$AY_T/btn.json
id=$(jq -r .deviceId "$P")
dv_start btn "$P"
a1=$(dv_cmd btn alarm) || ay_fail "press 1"
ay_expect_eq "first alarm" RECEIPT_STATUS_STORED "$(dv_receipt btn "$a1" | jq -r .status)"
once() { ay_psql "SELECT count(*) FROM alarms WHERE message_id = '$1'"; }

# 1. The recorder is down: no receipt, the alarm stays in the outbox.
ay_stop recorder
a2=$(dv_cmd btn alarm) || ay_fail "press 2"
ay_wait_until 15 "a2 re-sent" ay_log_has btn "msg=re-sent kind=alarm msg_id=$a2" || ay_fail "a2 not re-sent"
ay_expect_eq "kept in the outbox, named by its id" "$a2.alarm" "$(dv_outbox btn)"
ay_expect "the bytes sent" jq -e --arg id "$a2" '.header.messageId == $id' "$AY_T/btn.state/outbox/$a2.alarm"
ay_stop btn KILL
ay_expect_eq "still in the outbox after SIGKILL" "$a2.alarm" "$(dv_outbox btn)"
before=$(grep -c "msg=sent kind=alarm msg_id=$a2" "$AY_T/log/btn.log")
dv_start btn "$P"
ay_log_has btn "msg=started .* outbox=1" || ay_fail "the restart did not find the outbox"
ay_wait_until 15 "a2 sent again after the restart" \
  bash -c "[ \$(grep -c 'msg=sent kind=alarm msg_id=$a2' '$AY_T/log/btn.log') -gt $before ]" ||
  ay_fail "a2 not sent after the restart"
ay_expect_eq "not stored yet" 0 "$(once "$a2")"
ay_test_start_recorder recorder2
r=$(dv_receipt btn "$a2" 60)
ay_expect_eq "receipted once the recorder is back" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
ay_expect_eq "exactly one row" 1 "$(once "$a2")"
ay_expect_eq "outbox empty" "" "$(dv_outbox btn)"

# 2. The broker restarts with an alarm in flight (sent, no receipt yet: the
#    recorder is stopped too), another is pressed while it is down (kept,
#    sent after the reconnect).
ay_stop recorder2
a3=$(dv_cmd btn alarm) || ay_fail "press 3"
ay_wait_until 15 "a3 sent" ay_log_has btn "msg=sent kind=alarm msg_id=$a3" || ay_fail "a3 not sent"
ay_broker_stop "$AY_T/broker"
a4=$(dv_cmd btn alarm) || ay_fail "press 4"
ay_expect_eq "both in the outbox while the broker is down" "$(printf '%s\n' "$a3.alarm" "$a4.alarm" | sort)" \
  "$(dv_outbox btn | sort)"
ay_broker_start "$AY_T/broker" || ay_fail "broker restart"
ay_test_start_recorder recorder3
for a in "$a3" "$a4"; do
  s=$(dv_receipt btn "$a" 90 | jq -r .status)
  [[ $s == RECEIPT_STATUS_STORED || $s == RECEIPT_STATUS_DUPLICATE ]] || ay_fail "receipt of $a: $s"
  ay_expect_eq "$a stored once" 1 "$(once "$a")"
done
ay_log_has btn 'msg="not connected, retrying"' || ay_fail "the device did not notice the broker going"
ay_expect_eq "outbox empty after the broker restart" "" "$(dv_outbox btn)"

# 3. PostgreSQL restarts.
ay_test_stop_pg
a5=$(dv_cmd btn alarm) || ay_fail "press 5"
ay_wait_until 15 "a5 re-sent" ay_log_has btn "msg=re-sent kind=alarm msg_id=$a5" || ay_fail "a5 not re-sent"
ay_test_restart_pg
ay_expect_eq "a5 receipted" RECEIPT_STATUS_STORED "$(dv_receipt btn "$a5" 90 | jq -r .status)"

ay_expect_eq "five presses, five alarms, each once" "5|5" \
  "$(ay_psql "SELECT count(*), count(DISTINCT message_id) FROM alarms WHERE device_id = '$id'")"
ay_expect_eq "the presses' ids" "$(printf '%s\n' "$a1" "$a2" "$a3" "$a4" "$a5" | sort)" \
  "$(ay_psql "SELECT message_id FROM alarms WHERE device_id = '$id' ORDER BY 1")"
ay_expect_eq "nothing refused" 0 "$(ay_psql "SELECT count(*) FROM dead_letters")"
ay_expect_eq "outbox empty at the end" "" "$(dv_outbox btn)"
ay_stop btn TERM
ay_expect_eq "clean stop" 0 "$?"
ay_test_pass
