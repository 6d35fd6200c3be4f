#!/usr/bin/env bash
# ayctl (the project's own MQTT client, Paho with OpenSSL) over the TLS
# listener: with the deployment's CA it publishes; without it, one clear
# error line and exit 1. The police read the alarm on their feed over TLS.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/alarmfeed.sh"
ay_test_stack
ay_test_start_alarmfeed
sed -i "s|^mqtt_url = .*|mqtt_url = ssl://localhost:$AY_MQTTS_PORT|" "$AY_T/etc/device.conf" "$AY_T/etc/police.conf"
echo "mqtt_ca_file = $AY_T/broker/certs/ca.crt" >>"$AY_T/etc/police.conf"
cp "$AY_T/etc/device.conf" "$AY_T/etc/device-noca.conf"
echo "mqtt_ca_file = $AY_T/broker/certs/ca.crt" >>"$AY_T/etc/device.conf"

ay_sub_start police police alarm --count 1
ay_ctl device pub alarm --no-receipt --json "$AY_SOURCE_DIR/tests/data/e2e/alarm.json" >/dev/null ||
  ay_fail "ayctl pub over TLS failed"
ay_wait_until 30 "the alarm over TLS" test -s "$AY_T/police.out" || ay_fail "no alarm over TLS"
ay_expect_eq "type" police-alarm "$(jq -r .type "$AY_T/police.out")"

err=$(AY_TIMEOUT_MS=5000 ay_ctl device-noca pub alarm --no-receipt \
  --json "$AY_SOURCE_DIR/tests/data/e2e/alarm.json" 2>&1 >/dev/null)
rc=$?
ay_expect_eq "exit code without the CA" 1 "$rc"
ay_expect_eq "one error line" 1 "$(wc -l <<<"$err")"
grep -q '^ayctl: ' <<<"$err" || ay_fail "error: $err"
ay_test_pass
