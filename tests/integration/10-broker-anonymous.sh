#!/usr/bin/env bash
# Broker basics: files and permissions made by ay_broker_setup; anonymous and
# wrongly authenticated clients are refused; device, police and bureau
# accounts are bound to their own client id (no session takeover); names with
# MQTT wildcards are refused; setup is idempotent and re-running it with new
# ports moves the broker without losing accounts.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_init
ay_test_start_broker
BDIR=$AY_T/broker
CTL="$AY_SOURCE_DIR/deploy/broker-ctl"
H=127.0.0.1

# mode_of FILE: octal permission bits.
mode_of() { stat -c %a "$1"; }

# ---- what setup made
ay_expect "ports file is shell-sourceable" bash -c "set -u; source '$BDIR/ports'; [ \"\$AY_MQTT_PORT\" = $AY_MQTT_PORT ] && [ \"\$AY_MQTTS_PORT\" = $AY_MQTTS_PORT ] && [ \"\$AY_WS_PORT\" = $AY_WS_PORT ]"
ay_expect_eq "admin.pw mode" 600 "$(mode_of "$BDIR/secrets/admin.pw")"
ay_expect_eq "ca.key mode" 600 "$(mode_of "$BDIR/certs/ca.key")"
ay_expect_eq "server.key mode" 600 "$(mode_of "$BDIR/certs/server.key")"
ay_expect_eq "dynsec dir mode" 700 "$(mode_of "$BDIR/dynsec")"
if [ "$(id -u)" -eq 0 ]; then
  # Started as root the broker runs as `mosquitto`: it owns what it writes
  # and its key, nothing else.
  ay_expect_eq "server.key owner" mosquitto "$(stat -c %U "$BDIR/certs/server.key")"
  ay_expect_eq "ca.key owner" root "$(stat -c %U "$BDIR/certs/ca.key")"
  ay_expect_eq "dynsec owner" mosquitto "$(stat -c %U "$BDIR/dynsec/dynsec.json")"
  ay_expect_eq "broker process user" mosquitto "$(ps -o user= -p "$(cat "$BDIR/mosquitto.pid")")"
  ay_expect "conf not writable by the broker" runuser -u mosquitto -- test ! -w "$BDIR/mosquitto.conf"
  ay_expect "conf dir not writable by the broker" runuser -u mosquitto -- test ! -w "$BDIR"
fi
ay_expect "plain listener on loopback only" grep -qx "listener $AY_MQTT_PORT 127.0.0.1" "$BDIR/mosquitto.conf"
ay_expect "default ACL access denies receiving" grep -q '"publishClientReceive":[[:space:]]*false' "$BDIR/dynsec/dynsec.json"

ay_test_account device d01 s1 dev-a1 pw-a1
ay_test_account police d01 p1 pw-p1
ay_test_account service svc-w pw-w

# ---- anonymous clients are refused, MQTT 5 and 3.1.1
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -q 1 -t ay/v1/d01/school/s1/dev-a1/alarm -m anon 2>&1)
rc=$?
ay_expect_eq "anonymous v5 exit code (0x87 not authorized)" 135 "$rc"
[[ $out == *"Not authorized"* ]] || ay_fail "anonymous v5: unexpected message: $out"
out=$(mosquitto_pub -V 311 -h "$H" -p "$AY_MQTT_PORT" -q 1 -t ay/v1/d01/school/s1/dev-a1/alarm -m anon 2>&1)
rc=$?
ay_expect_eq "anonymous v3.1.1 exit code (CONNACK 5)" 5 "$rc"
[[ $out == *"not authorised"* ]] || ay_fail "anonymous v3.1.1: unexpected message: $out"
out=$(mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -t '#' -C 1 -W 10 2>&1)
rc=$?
ay_expect_eq "anonymous subscriber exit code" 135 "$rc"

# ---- wrong password, unknown user
out=$(mqtt_pub dev-a1 wrong ay/v1/d01/school/s1/dev-a1/alarm x 2>&1)
ay_expect_eq "wrong password refused" 135 "$?"
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u nobody -P x -i nobody -t a -m x 2>&1)
ay_expect_eq "unknown user refused" 135 "$?"

# ---- fixed client ids: a device (police, bureau) account connects only with
# client id = its name
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u dev-a1 -P pw-a1 -i other-id -q 1 \
  -t ay/v1/d01/school/s1/dev-a1/status -m x 2>&1)
ay_expect_eq "device with another client id refused" 135 "$?"
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u dev-a1 -P pw-a1 -q 1 \
  -t ay/v1/d01/school/s1/dev-a1/status -m x 2>&1)
ay_expect_eq "device with a broker-assigned client id refused" 135 "$?"
# Another valid account may not use the device's client id: Mosquitto would
# otherwise close the device's connection and hand its session over.
ay_spawn dev-a1-sub mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u dev-a1 -P pw-a1 -i dev-a1 -q 1 -v \
  -t ay/v1/d01/receipt/s1/dev-a1 -W 120
probe_once() {
  mqtt_pub svc-w pw-w ay/v1/d01/receipt/s1/dev-a1 probe-1 >/dev/null 2>&1 &&
    grep -qF probe-1 "$AY_T/log/dev-a1-sub.log"
}
ay_wait_until 15 "device subscriber ready" probe_once || ay_fail "device subscriber never got a probe"
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u p1 -P pw-p1 -i dev-a1 -q 1 -t ay/v1/d01/ack/police/p1 -m x 2>&1)
ay_expect_eq "police using the device's client id refused" 135 "$?"
ay_expect "device subscriber still connected" kill -0 "$(cat "$AY_T/dev-a1-sub.pid")"
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u p1 -P pw-p1 -i p1-second -q 1 -t ay/v1/d01/ack/police/p1 -m x 2>&1)
ay_expect_eq "police with another client id refused" 135 "$?"
ay_expect "device subscription still works" mqtt_pub svc-w pw-w ay/v1/d01/receipt/s1/dev-a1 after-takeover-attempt
ay_wait_until 10 "receipt after the takeover attempt" grep -qF after-takeover-attempt "$AY_T/log/dev-a1-sub.log" ||
  ay_fail "device lost its subscription"

# Services (the trusted backbone) choose their client ids: several
# connections per account.
ay_expect "service with its own client id" mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u svc-w -P pw-w \
  -i svc-w-instance-2 -q 1 -t ay/v1/d01/receipt/s1/dev-a1 -m from-instance-2

# ---- names: wildcards and separators refused (CVE-2017-7650), exit 2
for bad in 'a#' 'a+b' 'a/b' '-lead' 'UPPER' '' "$(printf 'x%.0s' {1..33})"; do
  "$CTL" --dir "$BDIR" police d01 "$bad" pw >/dev/null 2>&1
  ay_expect_eq "broker-ctl refuses account name '$bad'" 2 "$?"
done
"$CTL" --dir "$BDIR" device d01 's#' dev-x pw >/dev/null 2>&1
ay_expect_eq "broker-ctl refuses school 's#'" 2 "$?"
"$CTL" --dir "$BDIR" district 'd+' >/dev/null 2>&1
ay_expect_eq "broker-ctl refuses district 'd+'" 2 "$?"
"$CTL" --dir "$BDIR" frobnicate >/dev/null 2>&1
ay_expect_eq "broker-ctl unknown command" 2 "$?"
"$CTL" --dir "$AY_T/nonexistent" list >/dev/null 2>&1
ay_expect_eq "broker-ctl with a missing directory" 1 "$?"
ay_expect "broker-ctl --help" bash -c "'$CTL' --help | grep -q 'usage: broker-ctl'"
# Re-creating an account with the same role is fine; with another role not.
ay_expect "device re-created" "$CTL" --dir "$BDIR" device d01 s1 dev-a1 pw-a1
"$CTL" --dir "$BDIR" device d01 s2 dev-a1 pw-a1 >/dev/null 2>&1
ay_expect_eq "device moved to another school without delete" 1 "$?"
# Passwords from stdin, never on a command line.
ay_expect "password from stdin" bash -c "echo 'pw from stdin' | '$CTL' --dir '$BDIR' bureau d01 b1 - >/dev/null"
ay_expect "account with stdin password connects" mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" \
  -u b1 -P 'pw from stdin' -i b1 -q 1 -t ay/v1/d01/ack/bureau/b1 -m hello

# ---- setup is idempotent; new ports move the broker, nothing else changes
ca_before=$(sha256sum <"$BDIR/certs/ca.crt")
pw_before=$(cat "$BDIR/secrets/admin.pw")
ay_stop dev-a1-sub
ay_broker_start "$BDIR" || ay_fail "second ay_broker_start (already running) failed"
ay_broker_stop "$BDIR" || ay_fail "ay_broker_stop failed"
ay_expect "persistence written on stop" test -s "$BDIR/data/mosquitto.db"
old_port=$AY_MQTT_PORT
AY_MQTT_PORT=$(ay_free_port)
while [ "$AY_MQTT_PORT" = "$old_port" ] || [ "$AY_MQTT_PORT" = "$AY_MQTTS_PORT" ] || [ "$AY_MQTT_PORT" = "$AY_WS_PORT" ]; do
  AY_MQTT_PORT=$(ay_free_port)
done
ay_broker_setup "$BDIR" 127.0.0.1 "$AY_MQTT_PORT" "$AY_MQTTS_PORT" "$AY_WS_PORT" || ay_fail "setup re-run failed"
ay_expect "conf rewritten with the new port" grep -qx "listener $AY_MQTT_PORT 127.0.0.1" "$BDIR/mosquitto.conf"
ay_expect "ports file rewritten" grep -qx "AY_MQTT_PORT=$AY_MQTT_PORT" "$BDIR/ports"
ay_expect_eq "CA kept" "$ca_before" "$(sha256sum <"$BDIR/certs/ca.crt")"
ay_expect_eq "admin password kept" "$pw_before" "$(cat "$BDIR/secrets/admin.pw")"
ay_broker_start "$BDIR" || ay_fail "restart on the new port failed"
ay_expect "accounts kept" bash -c "'$CTL' --dir '$BDIR' list | grep -q '^dev-a1[[:space:]]device.d01.s1.dev-a1[[:space:]]dev-a1[[:space:]]enabled'"
ay_expect "device connects on the new port" mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s1/dev-a1/status up
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -q 1 -t x -m anon 2>&1)
ay_expect_eq "anonymous still refused after restart" 135 "$?"

ay_test_pass
