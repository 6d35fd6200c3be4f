#!/usr/bin/env bash
# Issue 14, the reference device (devices/reference, ay-device) with
# nothing but the profile `ayctl device add` wrote:
# 1. it connects over TLS, says ONLINE and sends heartbeats at its
#    interval (device_status, ayctl devices);
# 2. a button press (a line "alarm" on stdin, or SIGUSR1) is receipted
#    STORED on its stdout and stored exactly once; its outbox is empty;
# 3. a notice from a JSON file is stored with its written-report deadline;
#    a notice the recorder refuses comes back REJECTED with the reason,
#    is not re-sent, and is kept in the state's rejected/ folder;
# 4. killed with SIGKILL its Last Will marks it offline (a new messageId
#    per connect); stopped with SIGTERM it says OFFLINE itself, exit 0;
# 5. a wrong secret or a broken profile is refused with a clear message.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/onboard.sh"
source "$AY_SOURCE_DIR/tests/lib/refdevice.sh"
ay_test_stack
ob_ops_conf
ay_test_start_recorder
dv_add btn
P=$AY_T/btn.json
id=$(jq -r .deviceId "$P")

# 1. Connected, online, heartbeats every second (--heartbeat-s 1).
dv_start btn "$P"
ay_sql_eq "online" t "SELECT state IN ('DEVICE_STATE_ONLINE', 'DEVICE_STATE_HEARTBEAT') FROM device_status WHERE device_id = '$id'"
hb() { ay_psql "SELECT count(*) FROM messages WHERE device_id = '$id' AND body->>'state' = 'DEVICE_STATE_HEARTBEAT'"; }
ay_wait_until 15 "three heartbeats" ay__sql_ge 3 "SELECT count(*) FROM messages WHERE device_id = '$id' AND body->>'state' = 'DEVICE_STATE_HEARTBEAT'" ||
  ay_fail "heartbeats: $(hb)"
ay_expect_eq "the interval it promises, over JSON" "1|application/json" \
  "$(ay_psql "SELECT m.body->>'heartbeatIntervalS', o.content_type FROM messages m JOIN message_originals o USING (message_id)
              WHERE m.device_id = '$id' AND m.body->>'state' = 'DEVICE_STATE_HEARTBEAT' LIMIT 1")"
ay_expect_eq "ayctl devices: online, last heartbeat" "online|true" \
  "$(ay_ctl recorder devices --school sch-0102 --json | jq -r --arg d "$id" \
     'select(.device == $d) | [.state, (.lastSeen | length > 0)] | map(tostring) | join("|")')"

# 2. The button: a line on stdin, then SIGUSR1.
a1=$(dv_cmd btn alarm) || ay_fail "press"
r=$(dv_receipt btn "$a1")
ay_expect_eq "alarm receipted" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
ay_expect_eq "stored once, where the button is" "1|东门门卫室|ALARM_SOURCE_SCHOOL|ALARM_KIND_PANIC|31.820591" \
  "$(ay_psql "SELECT count(*), min(location), min(source), min(kind), min(latitude) FROM alarms WHERE message_id = '$a1'")"
ay_expect_eq "outbox empty" "" "$(dv_outbox btn)"
before=$(dv__count btn 'msg=queued')
kill -USR1 "$(cat "$AY_T/btn.pid")"
ay_wait_until 15 "SIGUSR1 pressed" bash -c "[ \$(grep -c msg=queued '$AY_T/log/btn.log') -gt $before ]" ||
  ay_fail "SIGUSR1 did not press the button"
a2=$(grep 'msg=queued' "$AY_T/log/btn.log" | tail -n 1 | sed 's/.*msg_id=\([^ ]*\).*/\1/')
ay_expect_eq "SIGUSR1 alarm stored" RECEIPT_STATUS_STORED "$(dv_receipt btn "$a2" | jq -r .status)"
ay_expect_eq "two alarms of the device" 2 "$(ay_psql "SELECT count(*) FROM alarms WHERE device_id = '$id'")"
ay_expect_eq "the receipt came as JSON (the form sent)" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"

# 3. Notices from a JSON file: the header is the device's.
jq --arg t "$(ay_now_iso '-5 minutes')" '.occurredAt = $t | .discoveredAt = $t' \
  "$AY_SOURCE_DIR/tests/data/e2e/notice.json" >"$AY_T/notice.json"
n1=$(dv_cmd btn "notice $AY_T/notice.json") || ay_fail "notice"
r=$(dv_receipt btn "$n1")
ay_expect_eq "notice stored, its written report due" "RECEIPT_STATUS_STORED|DEADLINE_KIND_WRITTEN_REPORT|$n1" \
  "$(jq -r '[.status, .deadlines[0].kind, .deadlines[0].subjectId] | join("|")' <<<"$r")"
ay_expect_eq "the incident" "1|操场 playground" "$(ay_psql "SELECT count(*), min(place) FROM incidents WHERE id = '$n1'")"
jq 'del(.summary)' "$AY_T/notice.json" >"$AY_T/bad-notice.json"
n2=$(dv_cmd btn "notice $AY_T/bad-notice.json") || ay_fail "bad notice"
r=$(dv_receipt btn "$n2")
ay_expect_eq "refused, with the reason" "RECEIPT_STATUS_REJECTED|notice.summary: required" \
  "$(jq -r '[.status, .reason] | join("|")' <<<"$r")"
ay_expect_eq "out of the outbox" "" "$(dv_outbox btn)"
ay_expect_eq "kept with its reason" "notice.summary: required" "$(cat "$AY_T/btn.state/rejected/$n2.reason")"
ay_expect "the message as sent" jq -e --arg id "$n2" '.header.messageId == $id' "$AY_T/btn.state/rejected/$n2.notice"
sleep 3 # longer than the re-send timeout: a rejected message is not sent again
ay_expect_eq "sent once" 1 "$(grep -c "msg_id=$n2 wait_ms" "$AY_T/log/btn.log")"
ay_expect_eq "one dead letter" 1 "$(ay_psql "SELECT count(*) FROM dead_letters WHERE message_id = '$n2'")"

# 4. Killed: its Last Will says OFFLINE at once. Back: ONLINE. Stopped:
#    OFFLINE from the device itself, exit 0.
ay_stop btn KILL
ay_sql_eq "offline by its will" DEVICE_STATE_OFFLINE "SELECT state FROM device_status WHERE device_id = '$id'"
dv_start btn "$P"
ay_sql_eq "back online" t "SELECT state <> 'DEVICE_STATE_OFFLINE' FROM device_status WHERE device_id = '$id'"
ay_stop btn TERM
ay_expect_eq "SIGTERM: exit code" 0 "$?"
ay_sql_eq "offline, said by the device" DEVICE_STATE_OFFLINE "SELECT state FROM device_status WHERE device_id = '$id'"
ay_log_has btn 'msg=stopped outbox=0' || ay_fail "no clean stop: $(tail -n 3 "$AY_T/log/btn.log")"
ay_expect_eq "every OFFLINE its own message id" "2|2" \
  "$(ay_psql "SELECT count(*), count(DISTINCT message_id) FROM messages WHERE device_id = '$id' AND body->>'state' = 'DEVICE_STATE_OFFLINE'")"
ay_expect_eq "still two alarms" 2 "$(ay_psql "SELECT count(*) FROM alarms WHERE device_id = '$id'")"

# 5. A wrong secret: refused, and it keeps trying (a warning, not a crash).
echo wrong-secret >"$AY_T/wrong.pw"
dv_start_bg wrong "$P" --password-file "$AY_T/wrong.pw"
ay_wait_until 15 "refused" ay_log_has wrong 'msg="not connected, retrying".*(Bad user name or password|Not authorized)' ||
  ay_fail "wrong secret: $(tail -n 3 "$AY_T/log/wrong.log")"
ay_stop wrong TERM
ay_expect_eq "stopped while refused: exit code" 0 "$?"
echo '{"deviceId": "x"}' >"$AY_T/broken.json"
err=$("$AY_DEVICE" --profile "$AY_T/broken.json" --state "$AY_T/broken.state" 2>&1 </dev/null)
ay_expect_eq "broken profile: exit code" 2 "$?"
grep -q 'broken.json: districtId: missing or not valid' <<<"$err" || ay_fail "broken profile: $err"
ay_test_pass
