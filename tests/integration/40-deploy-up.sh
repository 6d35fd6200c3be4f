#!/usr/bin/env bash
# The quick start, as a test: deploy/up starts the whole backbone (private
# PostgreSQL and Mosquitto, the recorder, the watchdog, the alarm feed), the
# printed commands work (the police feed shows the demo alarm with the demo
# school's address and phone and the button's place, the device gets its
# receipt), deploy/up again changes nothing, deploy/down stops everything.
# Then the same with a database of the user's own (DATABASE_URL): no private
# cluster is made.
# Binaries come from this build (AY_DEPLOY_SKIP_BUILD); state in $AY_T.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_init
export AY_DEPLOY_BUILD_DIR=$AY_BUILD_DIR AY_DEPLOY_SKIP_BUILD=1
up() { "$AY_SOURCE_DIR/deploy/up"; }
down() { "$AY_SOURCE_DIR/deploy/down"; }
free_ports() {
  AY_PG_PORT=$(ay_free_port) AY_MQTT_PORT=$(ay_free_port) AY_MQTTS_PORT=$(ay_free_port)
  AY_WS_PORT=$(ay_free_port)
  export AY_PG_PORT AY_MQTT_PORT AY_MQTTS_PORT AY_WS_PORT
}

# 1. Everything private.
export AY_VAR_DIR=$AY_T/var
free_ports
AY_T_CLEANUP+=("AY_VAR_DIR=$AY_VAR_DIR $AY_SOURCE_DIR/deploy/down")
up >"$AY_T/up1.out" 2>&1 || { cat "$AY_T/up1.out"; ay_fail "deploy/up failed"; }
grep -q 'Anyuan is up' "$AY_T/up1.out" || ay_fail "deploy/up did not say it is up"
grep -q 'No such file' "$AY_T/up1.out" && ay_fail "deploy/up printed an error: $(grep 'No such file' "$AY_T/up1.out")"
grep -q "bin/ayctl --config .*police-demo.conf sub alarm" "$AY_T/up1.out" ||
  ay_fail "deploy/up did not print what to try"
v=$AY_VAR_DIR
"$v/bin/ayctl" --config "$v/etc/police-demo.conf" sub alarm --count 1 >"$AY_T/police.out" \
  2>"$AY_T/log/police.log" &
ay_wait_until 30 "police subscribed" ay_log_has police 'msg=subscribed' || ay_fail "police feed"
r=$("$v/bin/ayctl" --config "$v/etc/device-demo.conf" pub alarm \
  --json "$AY_SOURCE_DIR/docs/examples/alarm.json") || ay_fail "the printed pub command failed"
ay_expect_eq "receipt" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
ay_wait_until 30 "police saw the alarm" test -s "$AY_T/police.out" || ay_fail "no alarm on the feed"
# The police feed (ay-alarmfeed) shows the alarm with what the demo registry knows.
feed=$(head -n 1 "$AY_T/police.out")
ay_expect_eq "alarm on the police feed" "$(jq -r .refMessageId <<<"$r")" "$(jq -r .message.alarmId <<<"$feed")"
ay_expect_eq "police feed topic" "ay/v1/d01/police/alarm|police-alarm" "$(jq -r '.topic + "|" + .type' <<<"$feed")"
ay_expect_eq "enriched for the dispatcher" "示范学校|示范区学府路1号|0551-62345678|东门门卫室|31.820591|false" \
  "$(jq -r '.message | [.schoolName, .schoolAddress, .schoolPhone, .location, .geo.latitude,
    (.deviceUnknown // false)] | join("|")' <<<"$feed")"
db=$(sed -n 's/^database_url = //p' "$v/etc/recorder.conf")
ay_expect_eq "alarm stored" 1 "$(psql -X -At "$db" -c 'SELECT count(*) FROM alarms')"
# The demo button is pressed now, not on the day the example was written.
ay_expect_eq "demo alarm triggered now" t "$(psql -X -At "$db" -c \
  "SELECT abs(extract(epoch FROM m.received_at - a.triggered_at)) < 60 AND m.warning IS NULL
   FROM alarms a JOIN messages m USING (message_id)")"
# The printed next steps: the police acknowledge by the alarm's id; a
# heartbeat of the button; the list of buttons.
grep -q "police-demo.conf ack ALARM_ID dispatched" "$AY_T/up1.out" || ay_fail "no ack step printed"
ack=$("$v/bin/ayctl" --config "$v/etc/police-demo.conf" ack "$(jq -r .message.alarmId <<<"$feed")" dispatched) ||
  ay_fail "the printed ack failed: $ack"
ay_expect_eq "ack stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$ack")"
"$v/bin/ayctl" --config "$v/etc/device-demo.conf" heartbeat --interval 10 --count 1 >/dev/null ||
  ay_fail "the printed heartbeat failed"
ay_wait_until 15 "the heartbeat recorded" bash -c "\"$v/bin/ayctl\" --config \"$v/etc/bureau-demo.conf\" devices --all | grep -q '在线'" ||
  ay_fail "devices: $("$v/bin/ayctl" --config "$v/etc/bureau-demo.conf" devices --all 2>&1)"
# The printed onboarding step: the operator's configuration registers a
# button with its broker account; its profile's first test is stored.
grep -q "etc/ayctl.conf device add --school sch-demo" "$AY_T/up1.out" || ay_fail "no device add step printed"
"$v/bin/ayctl" --config "$v/etc/ayctl.conf" device add --school sch-demo --kind button \
  --location "南门传达室" --profile "$AY_T/my-button.json" >/dev/null || ay_fail "device add on the stack"
jq -r .ayctlConfig "$AY_T/my-button.json" >"$AY_T/my-button.conf"
r=$(echo '{"state": "DEVICE_STATE_ONLINE"}' |
  "$v/bin/ayctl" --config "$AY_T/my-button.conf" pub status --json -) || ay_fail "the new button: $r"
ay_expect_eq "the new button's first test" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"

up >"$AY_T/up2.out" 2>&1 || ay_fail "second deploy/up failed"
grep -q 'recorder already running' "$AY_T/up2.out" || ay_fail "second deploy/up restarted the recorder"
grep -q 'watchdog already running' "$AY_T/up2.out" || ay_fail "second deploy/up restarted the watchdog"
grep -q 'alarmfeed already running' "$AY_T/up2.out" || ay_fail "second deploy/up restarted the alarm feed"
down >"$AY_T/down1.out" 2>&1 || ay_fail "deploy/down failed"
for pidfile in "$v"/run/*.pid "$v/broker/mosquitto.pid" "$v/pg/data/postmaster.pid"; do
  [ -e "$pidfile" ] && ay_fail "still running after deploy/down: $pidfile"
done
grep -q 'level=info svc=recorder msg=stopped' "$v/log/recorder.log" || ay_fail "recorder did not stop cleanly"
grep -q 'level=info svc=watchdog msg=stopped' "$v/log/watchdog.log" || ay_fail "watchdog did not stop cleanly"
grep -q 'level=info svc=alarmfeed msg=stopped' "$v/log/alarmfeed.log" || ay_fail "the alarm feed did not stop cleanly"

# 2. The user's own database: no private cluster.
ay_test_start_pg
export AY_VAR_DIR=$AY_T/var2
free_ports
AY_T_CLEANUP+=("AY_VAR_DIR=$AY_VAR_DIR $AY_SOURCE_DIR/deploy/down")
DATABASE_URL=$DATABASE_URL up >"$AY_T/up3.out" 2>&1 || { cat "$AY_T/up3.out"; ay_fail "deploy/up with DATABASE_URL"; }
grep -q 'using the database of DATABASE_URL' "$AY_T/up3.out" || ay_fail "DATABASE_URL ignored"
[ -d "$AY_VAR_DIR/pg" ] && ay_fail "a private cluster was made although DATABASE_URL was given"
"$AY_VAR_DIR/bin/ayctl" --config "$AY_VAR_DIR/etc/device-demo.conf" pub alarm \
  --json "$AY_SOURCE_DIR/docs/examples/alarm.json" >/dev/null || ay_fail "pub with DATABASE_URL"
ay_expect_eq "stored in the user's database" 1 "$(ay_psql 'SELECT count(*) FROM alarms')"
down >/dev/null 2>&1 || ay_fail "deploy/down"
ay_test_pass
