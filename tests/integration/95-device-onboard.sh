#!/usr/bin/env bash
# Issue 14: `ayctl device add` registers a device and makes its broker
# account in one step, prints its secret once and a connection profile
# (also as a JSON file, mode 0600). With nothing but that profile the
# device connects over TLS, its first test gets a STORED receipt, and its
# alarm reaches the police feed as a known device with its registered
# place (the feed learnt of it through NOTIFY ay_registry, no restart).
# If either half fails nothing is left: an unknown school, an id taken,
# a leftover broker account, a broker that refuses the admin.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
source "$AY_SOURCE_DIR/tests/lib/onboard.sh"
ay_test_stack
ob_ops_conf
ay_test_start_recorder
ay_test_start_alarmfeed
af_wait_load alarmfeed 0
ay_sub_start police police alarm
loads=$(af_loads alarmfeed)

# 1. Add a button in a shop near the school, with a profile file.
out=$(ob device add --school sch-0102 --kind nearby_shop --location "学府路5号" \
  --shop "好邻居便利店" --geo 31.8301,117.2402 --heartbeat 30s --profile "$AY_T/p.json") ||
  ay_fail "device add: $out"
P=$AY_T/p.json
id=$(jq -r .deviceId "$P")
[[ $id =~ ^shop-[0-9a-f]{8}$ ]] || ay_fail "made-up id: $id"
ay_expect_eq "profile mode" 600 "$(stat -c %a "$P")"
secret=$(jq -r .credentials.password "$P")
[[ $secret =~ ^[0-9a-f]{32}$ ]] || ay_fail "secret: $secret"
grep -qF "$secret" <<<"$out" || ay_fail "the secret is not shown: $out"
grep -qF "first test" <<<"$out" || ay_fail "no first test shown: $out"
ay_expect_eq "profile" "$id|$id|$id|d01|sch-0102|nearby_shop|localhost|$AY_MQTTS_PORT|$AY_WS_PORT|$AY_T/broker/certs/ca.crt" \
  "$(jq -r '[.credentials.clientId, .credentials.username, .deviceId, .districtId, .schoolId, .kind,
     .broker.host, .broker.mqttsPort, .broker.wsPort, .broker.caFile] | map(tostring) | join("|")' "$P")"
ay_expect_eq "the CA itself" "$(cat "$AY_T/broker/certs/ca.crt")" "$(jq -r .broker.caPem "$P")"
ay_expect_eq "its topics" "ay/v1/d01/school/sch-0102/$id/alarm|ay/v1/d01/receipt/sch-0102/$id|8" \
  "$(jq -r '[.topics.publish.alarm, .topics.receipts, (.topics.publish | length)] | map(tostring) | join("|")' "$P")"
ay_expect_eq "the registry row" "sch-0102|nearby_shop|t|学府路5号|好邻居便利店|31.8301|117.2402|30|t|f" \
  "$(ay_psql "SELECT school_id, kind, enabled, location, place_name, latitude, longitude, heartbeat_s,
              secret_issued_at IS NOT NULL, removed_at IS NOT NULL FROM devices WHERE id = '$id'")"
ay_expect_eq "an audit row" "device.added|$(id -un)" \
  "$(ay_psql "SELECT action, actor FROM audit_events WHERE detail->>'device' = '$id'")"
ay_expect "the broker account, bound to its client id" \
  bash -c "'$AYCTL' --config '$AY_T/etc/ops.conf' account list | grep -qx '$id	device.d01.sch-0102.$id	$id	enabled'"

# 2. The first test of the profile, run as printed (ayctl on PATH, the
#    device's configuration saved as <id>.conf).
mkdir -p "$AY_T/dev" && jq -r .ayctlConfig "$P" >"$AY_T/dev/$id.conf"
test_out=$(cd "$AY_T/dev" && PATH="$(dirname "$AYCTL"):$PATH" bash -c "$(jq -r .firstTest "$P")") ||
  ay_fail "the first test failed: $test_out"
ay_expect_eq "first test stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$test_out")"

# 3. An alarm with the profile's credentials over TLS: STORED, and on the
#    police feed as a known device in its shop (the feed reloaded, no restart).
af_wait_load alarmfeed "$loads"
ob_dev_conf "$P" shop
af_alarm_json "$AY_T/alarm.json"
known() {
  local r
  r=$(ay_ctl shop pub alarm --json "$AY_T/alarm.json") || return 1
  [ "$(jq -r .status <<<"$r")" = RECEIPT_STATUS_STORED ] || ay_fail "alarm not stored: $r"
  aid=$(jq -r .refMessageId <<<"$r")
  m=$(af_wait_line police "$aid" | jq -c .message)
  [ "$(jq -r '.deviceUnknown // false' <<<"$m")" = false ]
}
ay_wait_until 20 "the feed to know the new device" known || ay_fail "unknown to the feed: $m"
ay_expect_eq "the feed tells the shop" "$id|好邻居便利店|学府路5号|ALARM_SOURCE_NEARBY_SHOP|31.8301" \
  "$(jq -r '[.deviceId, .placeName, .location, .source, .geo.latitude] | map(tostring) | join("|")' <<<"$m")"
ay_expect_eq "stored once" 1 "$(ay_psql "SELECT count(*) FROM alarms WHERE message_id = '$aid'")"
ay_expect_eq "alarmfeed started once" 1 "$(grep -c 'msg=ready' "$AY_T/log/alarmfeed.log")"

# 4. The device's account is scoped: its own topics only.
ay_expect_eq "its account" 0 "$(ob_connect_rc "$P")"
out=$(timeout 20 mosquitto_pub -V 5 -h localhost -p "$AY_MQTTS_PORT" --cafile "$AY_T/broker/certs/ca.crt" \
  -i "$id" -u "$id" -P "$secret" -q 1 -t ay/v1/d01/school/sch-0102/btn-0102-01/alarm -m x 2>&1)
ay_expect "another device's topic is refused (audit line)" \
  ay_wait_until 10 "refused publish" grep -q "refused publish\" username=$id" "$AY_T/broker/mosquitto.log"

# 5. Nothing half-made.
n_rows() { ay_psql "SELECT count(*) FROM devices"; }
n_accounts() { ob account list | wc -l; }
rows=$(n_rows)
accts=$(n_accounts)
err=$(ob device add --school sch-nope --kind button --location x 2>&1)
ay_expect_eq "unknown school: exit" 2 "$?"
grep -q 'school: "sch-nope" is not in the registry' <<<"$err" || ay_fail "unknown school: $err"
err=$(ob device add --school sch-0102 --kind button --location x --id "$id" 2>&1)
ay_expect_eq "id taken: exit" 2 "$?"
grep -q "id: device \"$id\" exists already" <<<"$err" || ay_fail "id taken: $err"
err=$(ob device add --school sch-0102 --kind buton --location x 2>&1)
ay_expect_eq "bad kind: exit" 2 "$?"
grep -q 'kind: "buton" is not one of button' <<<"$err" || ay_fail "bad kind: $err"
err=$(ob device add --school sch-0102 --kind nearby_home --location x 2>&1)
ay_expect_eq "a home without its name" 2 "$?"
# A leftover broker account of that name (made outside ayctl): refused, named.
ay_test_account device d01 sch-0102 btn-left pw-left
err=$(ob device add --school sch-0102 --kind button --location x --id btn-left 2>&1)
ay_expect_eq "leftover account: exit" 2 "$?"
grep -q 'the broker has an account btn-left already' <<<"$err" || ay_fail "leftover: $err"
ay_expect_eq "its password unchanged" 0 "$(mosquitto_pub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" -i btn-left \
  -u btn-left -P pw-left -q 1 -t ay/v1/d01/school/sch-0102/btn-left/status -m x >/dev/null 2>&1; echo $?)"
# The broker refuses the admin: the registry row is rolled back.
cp "$AY_T/etc/ops.conf" "$AY_T/etc/badadmin.conf"
echo wrong >"$AY_T/badpw"
echo "broker_admin_password_file = $AY_T/badpw" >>"$AY_T/etc/badadmin.conf"
err=$("$AYCTL" --config "$AY_T/etc/badadmin.conf" device add --school sch-0102 --kind button \
  --location x --id btn-halfmade 2>&1)
ay_expect_eq "admin refused: exit" 1 "$?"
grep -q 'cannot connect to the broker as its admin account' <<<"$err" || ay_fail "admin refused: $err"
ay_expect_eq "no row for btn-halfmade" 0 "$(ay_psql "SELECT count(*) FROM devices WHERE id = 'btn-halfmade'")"
ay_expect_eq "rows unchanged" "$rows" "$(n_rows)"
ay_expect_eq "accounts: only the leftover more" "$((accts + 1))" "$(n_accounts)"
# Not configured at all: a clear configuration error before any change.
err=$(AY_BROKER_ADMIN_PASSWORD_FILE= "$AYCTL" --config "$AY_T/etc/recorder.conf" device add \
  --school sch-0102 --kind button --location x 2>&1)
ay_expect_eq "admin not configured: exit" 2 "$?"
grep -q 'broker_admin_password_file' <<<"$err" || ay_fail "not configured: $err"

# 6. list and show.
ob device list >"$AY_T/list.txt" || ay_fail "device list"
grep -qE "^$id +sch-0102 +nearby_shop +enabled +ok +学府路5号" "$AY_T/list.txt" || ay_fail "list: $(cat "$AY_T/list.txt")"
grep -qE "^btn-0102-01 +sch-0102 +button +enabled +ok" "$AY_T/list.txt" || ay_fail "list: $(cat "$AY_T/list.txt")"
grep -qE "^btn-left +sch-0102 +\? +unregistered +ok" "$AY_T/list.txt" || ay_fail "list: $(cat "$AY_T/list.txt")"
ay_expect_eq "show" "enabled|ok|device.d01.sch-0102.$id|30" \
  "$(ob device show "$id" --json | jq -r '[.state, .account, .roles, .heartbeatIntervalS] | map(tostring) | join("|")')"
ay_expect "show a device that has sent something" bash -c \
  "'$AYCTL' --config '$AY_T/etc/ops.conf' device show '$id' | grep -q '^lastSeenAt'"
ay_test_pass
