#!/usr/bin/env bash
# The feeds in JSON (docs/contract.md 4.5): every message of the police
# alarm feed and of the escalation feeds is published twice, protobuf on
# the feed's topic and the same message as JSON on its /json twin (content
# type application/json, the same header.messageId), so a police or bureau
# console that cannot read protobuf subscribes to the twin. An alarm sent
# as JSON reaches the police feed like any other. An Ack may be sent as
# JSON: it is applied and stored like a protobuf one (its JSON kept in
# ack_originals), and its receipt comes back as JSON.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/json.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
ay_test_policy '{"verbal_notice":"30m","written_report":"1h",
  "chains":{"bureau":[{"target":"duty_officer","name_zh":"值班员","ack_timeout":"5m","reminder":"5m"}]}}'
ay_test_account police d01 police-02 police2-pw
ay_test_account bureau d01 bureau-02 bureau2-pw
ay_test_account bureau d01 bureau-03 bureau3-pw
ay_test_conf bureau3 bureau-03 bureau3-pw "audience = bureau"
ay_test_start_recorder
ay_test_start_alarmfeed
af_wait_load alarmfeed 0
ay_test_start_watchdog
data=$AY_SOURCE_DIR/tests/data/e2e

# Police: police-01 reads the whole police subtree with ayctl (both forms),
# police-02 the JSON twin raw. Bureau: bureau-01 the JSON twin of its
# escalations with ayctl, bureau-02 both raw.
ay_sub_start police police --topic 'ay/v1/d01/police/#'
ay_spawn police-raw mosquitto_sub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u police-02 -P police2-pw \
  -i police-02 -q 1 -F '%t|%C|%p' -t ay/v1/d01/police/alarm/json
ay_sub_start bureau bureau escalation bureau --wire json
ay_spawn bureau-raw mosquitto_sub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u bureau-02 -P bureau2-pw \
  -i bureau-02 -q 1 -F '%t|%C|%x' -t ay/v1/d01/escalation/bureau -t ay/v1/d01/escalation/bureau/json
json_spy_start acks ay/v1/d01/ack-receipt/bureau/probe 'ay/v1/d01/ack-receipt/#'
# The raw subscribers are ready once a probe of the feed's publisher reaches them.
probe() { # TOPIC LOG
  _probed() {
    mosquitto_pub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u svc-recorder -P svc-pw -i probe-feeds \
      -q 1 -t "$1" -m "probe-$2" >/dev/null 2>&1 && grep -qF "probe-$2" "$AY_T/log/$2.log"
  }
  ay_wait_until 15 "$2 ready" _probed "$@" || ay_fail "$2 got no probe"
}
probe ay/v1/d01/police/alarm/json police-raw
_probed_hex() {
  mosquitto_pub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -u svc-recorder -P svc-pw -i probe-feeds \
    -q 1 -t ay/v1/d01/escalation/bureau/json -m probe-bureau >/dev/null 2>&1 &&
    grep -qF "$(hex_of probe-bureau)" "$AY_T/log/bureau-raw.log"
}
ay_wait_until 15 "bureau-raw ready" _probed_hex || ay_fail "bureau-raw got no probe"

# 1. An alarm sent as JSON: on the police feed in both forms, the same message.
af_alarm_json "$AY_T/alarm.json"
r=$(ay_ctl device pub alarm --json "$AY_T/alarm.json" --wire json) || ay_fail "pub alarm --wire json"
alarm=$(jq -r .refMessageId <<<"$r")
two() { [ "$(jq -s --arg a "$alarm" '[.[] | select(.message.alarmId == $a)] | length' "$AY_T/police.out")" -ge 2 ]; }
ay_wait_until 15 "the alarm in both forms" two || ay_fail "police feed: $(cat "$AY_T/police.out")"
pb=$(jq -c --arg a "$alarm" 'select(.message.alarmId == $a and .wire == "protobuf")' "$AY_T/police.out")
js=$(jq -c --arg a "$alarm" 'select(.message.alarmId == $a and .wire == "json")' "$AY_T/police.out")
ay_expect_eq "protobuf on the feed, JSON on its twin" \
  "ay/v1/d01/police/alarm police-alarm|ay/v1/d01/police/alarm/json police-alarm" \
  "$(jq -r '"\(.topic) \(.type)"' <<<"$pb")|$(jq -r '"\(.topic) \(.type)"' <<<"$js")"
ay_expect_eq "the same PoliceAlarm, the same feed id" "$(jq -c .message <<<"$pb")" \
  "$(jq -c .message <<<"$js")"
ay_expect_eq "the feed id" "$(af_feed_id alarm d01 sch-0102 btn-0102-01 "$alarm")" \
  "$(jq -r .message.header.messageId <<<"$js")"
ay_wait_until 10 "police-02's raw copy" grep -qF "$alarm" "$AY_T/log/police-raw.log" ||
  ay_fail "police-02 got nothing: $(cat "$AY_T/log/police-raw.log")"
line=$(grep -F "$alarm" "$AY_T/log/police-raw.log" | head -n 1)
ay_expect_eq "raw JSON twin: topic and content type" "ay/v1/d01/police/alarm/json|application/json" \
  "$(cut -d'|' -f1-2 <<<"$line")"
ay_expect_eq "raw JSON twin: a JSON PoliceAlarm" "POLICE_ALARM_EVENT_ALARM 测试学校" \
  "$(cut -d'|' -f3- <<<"$line" | jq -r '"\(.event) \(.schoolName)"')"

# 2. A notice routed to the bureau: the escalation in both forms.
now=$(ay_now_iso)
jq --arg t "$now" '.occurredAt = $t | .discoveredAt = $t' "$data/notice.json" >"$AY_T/notice.json"
r=$(ay_ctl device pub notice --json "$AY_T/notice.json") || ay_fail "pub notice"
incident=$(jq -r .refMessageId <<<"$r")
got_esc() { jq -e --arg i "$incident" 'select(.message.subjectId == $i)' "$AY_T/bureau.out" >/dev/null 2>&1; }
ay_wait_until 15 "the escalation on the JSON twin" got_esc ||
  ay_fail "bureau JSON feed: $(cat "$AY_T/bureau.out")"
esc_line=$(jq -c --arg i "$incident" 'select(.message.subjectId == $i)' "$AY_T/bureau.out" | head -n 1)
ay_expect_eq "ayctl sub --wire json reads the twin" \
  "ay/v1/d01/escalation/bureau/json escalation json ESCALATION_REASON_INCIDENT" \
  "$(jq -r '"\(.topic) \(.type) \(.wire) \(.message.reason)"' <<<"$esc_line")"
esc=$(jq -r .message.escalationId <<<"$esc_line")
note_id=$(jq -r .message.header.messageId <<<"$esc_line")
ay_wait_until 10 "both forms raw" grep -qF "$(hex_of "$note_id")" "$AY_T/log/bureau-raw.log" ||
  ay_fail "bureau-02 got nothing"
ay_expect_eq "the notification in both forms, each with its content type" \
  "ay/v1/d01/escalation/bureau/json|application/json
ay/v1/d01/escalation/bureau|application/x-protobuf" \
  "$(grep -F "$(hex_of "$note_id")" "$AY_T/log/bureau-raw.log" | cut -d'|' -f1-2 | LC_ALL=C sort -u)"
ay_sql_eq "one notification, marked sent once both forms are out" "sent" \
  "SELECT state FROM notifications WHERE id = '$note_id'"

# 3. A JSON ack: applied, stored once, its JSON kept; its receipt is JSON.
out=$(ay_ctl bureau3 ack "$esc" received --by 周敏 --wire json) || ay_fail "ack --wire json"
ack_id=$(jq -r .refMessageId <<<"$out")
ay_expect_eq "the ack's receipt" "RECEIPT_STATUS_STORED $esc" "$(jq -r '"\(.status) \(.reference)"' <<<"$out")"
ay_sql_eq "the escalation acknowledged" acknowledged "SELECT status FROM escalations WHERE id = '$esc'"
json_spy_wait acks "$ack_id"
json_spy_line acks "$ack_id"
ay_expect_eq "the ack receipt is JSON, and says so" \
  "ay/v1/d01/ack-receipt/bureau/bureau-03|application/json|RECEIPT_STATUS_STORED" \
  "$SPY_TOPIC|$SPY_CT|$(jq -r .status <<<"$SPY_PAYLOAD")"
ay_expect_eq "stored as protobuf, the JSON kept beside it" "10|json|application/json|$esc" \
  "$(ay_psql "SELECT get_byte(a.payload, 0), o.wire_format, o.content_type,
                     convert_from(o.original, 'UTF8')::jsonb ->> 'escalationId'
              FROM acks a JOIN ack_originals o USING (message_id) WHERE a.message_id = '$ack_id'")"

# 4. Bad JSON on the ack topic: refused in JSON, kept as a dead letter.
mqtt_as bureau-03 bureau3-pw -V 5 -t ay/v1/d01/ack/bureau/bureau-03 -m '{"escalationId": ' ||
  ay_fail "mosquitto_pub bad ack"
json_spy_wait acks "ack: invalid JSON near byte"
json_spy_line acks "ack: invalid JSON near byte"
ay_expect_eq "refused in JSON" "application/json|RECEIPT_STATUS_REJECTED" \
  "$SPY_CT|$(jq -r .status <<<"$SPY_PAYLOAD")"
ay_sql_eq "the bad ack kept as received" "json|{\"escalationId\": " \
  "SELECT wire_format, convert_from(payload, 'UTF8') FROM dead_letters WHERE topic LIKE '%/ack/%'"
ay_test_pass
