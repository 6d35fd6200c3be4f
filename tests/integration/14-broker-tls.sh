#!/usr/bin/env bash
# The TLS listener: a client trusting DIR/certs/ca.crt connects (by name and
# by address) and publishes; a client that does not trust that CA, or that
# speaks plain MQTT to the TLS port, is refused; TLS 1.2 and 1.3 are offered;
# anonymous clients are refused over TLS too.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_init
ay_test_start_broker
H=127.0.0.1
CA=$AY_T/broker/certs/ca.crt

ay_test_account device d01 s1 dev-a1 pw-a1
ay_test_account service svc-w pw-w
ay_test_account service svc-m pw-m

tls_pub() { # HOST USER PASSWORD TOPIC PAYLOAD [TLS OPTIONS...]: over TLS
  local host=$1 u=$2 pw=$3 t=$4 m=$5
  shift 5
  mosquitto_pub -V 5 -h "$host" -p "$AY_MQTTS_PORT" -u "$u" -P "$pw" -i "$u" -q 1 -t "$t" -m "$m" "$@"
}
ay_spawn watch mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u svc-w -P pw-w -i svc-w -q 1 -v -t 'ay/v1/#' -W 200
probe_once() { mqtt_pub svc-m pw-m ay/v1/d01/receipt/s9/marker probe-1 >/dev/null 2>&1 && grep -qF probe-1 "$AY_T/log/watch.log"; }
ay_wait_until 15 "watcher ready" probe_once || ay_fail "watcher never got a probe"
T=ay/v1/d01/school/s1/dev-a1/alarm

# ---- trusted CA: connects and publishes, by name and by address
ay_expect "TLS publish to localhost" tls_pub localhost dev-a1 pw-a1 "$T" tls-by-name --cafile "$CA"
ay_expect "TLS publish to 127.0.0.1" tls_pub 127.0.0.1 dev-a1 pw-a1 "$T" tls-by-ip --cafile "$CA"
ay_wait_until 10 "TLS messages at the watcher" grep -qx "$T tls-by-ip" "$AY_T/log/watch.log" ||
  ay_fail "TLS message not delivered"
ay_expect "first TLS message delivered" grep -qx "$T tls-by-name" "$AY_T/log/watch.log"

# ---- untrusted: system CAs only, or nothing at all
out=$(tls_pub localhost dev-a1 pw-a1 "$T" untrusted-1 --capath /etc/ssl/certs -d 2>&1)
rc=$?
[ "$rc" -ne 0 ] || ay_fail "client without our CA connected"
[[ $out == *"certificate verify failed"* ]] || ay_fail "unexpected error without the CA: $out"
out=$(tls_pub localhost dev-a1 pw-a1 "$T" untrusted-2 2>&1)
[ "$?" -ne 0 ] || ay_fail "plain MQTT on the TLS port was accepted"
# The wrong name: the certificate is for localhost/127.0.0.1/::1 only.
if getent hosts "$(hostname)" | grep -qv '^127\.\|^::1'; then
  out=$(tls_pub "$(hostname)" dev-a1 pw-a1 "$T" untrusted-3 --cafile "$CA" 2>&1)
  [ "$?" -ne 0 ] || ay_fail "certificate accepted for host name $(hostname)"
fi
# Ordering proof that none of the refused messages went through.
mqtt_pub svc-m pw-m ay/v1/d01/receipt/s9/marker after-untrusted || ay_fail "marker"
ay_wait_until 10 "marker" grep -qF after-untrusted "$AY_T/log/watch.log" || ay_fail "marker lost"
if grep -q untrusted- "$AY_T/log/watch.log"; then ay_fail "a message from an untrusted connection was delivered"; fi

# ---- anonymous and wrong password over TLS
out=$(mosquitto_pub -V 5 -h localhost -p "$AY_MQTTS_PORT" --cafile "$CA" -q 1 -t "$T" -m anon 2>&1)
ay_expect_eq "anonymous over TLS" 135 "$?"
out=$(tls_pub localhost dev-a1 wrong "$T" x --cafile "$CA" 2>&1)
ay_expect_eq "wrong password over TLS" 135 "$?"

# ---- protocol versions offered
ay_expect "TLS 1.2 handshake" bash -c "openssl s_client -connect 127.0.0.1:$AY_MQTTS_PORT -servername localhost \
  -CAfile '$CA' -verify_return_error -tls1_2 </dev/null 2>&1 | grep -q 'Verify return code: 0 (ok)'"
ay_expect "TLS 1.3 handshake" bash -c "openssl s_client -connect 127.0.0.1:$AY_MQTTS_PORT -servername localhost \
  -CAfile '$CA' -verify_return_error -tls1_3 </dev/null 2>&1 | grep -q 'Verify return code: 0 (ok)'"
ay_expect "server certificate names" bash -c "openssl x509 -in '$AY_T/broker/certs/server.crt' -noout -ext subjectAltName |
  grep -q 'DNS:localhost, IP Address:127.0.0.1'"
ay_expect "server certificate verifies against the CA" openssl verify -CAfile "$CA" "$AY_T/broker/certs/server.crt"

ay_test_pass
