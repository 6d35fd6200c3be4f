#!/usr/bin/env bash
# lib/ay_mqtt's own-thread client (libmosquitto on a network thread of its
# own; the recorder publishes its receipts through one): its publishes are
# acknowledged while a Paho message callback holds Paho's one receive
# thread, as the recorder's intake does when its queue is full; it connects
# over TLS with the broker's CA; a refused login is a clear error; it closes
# promptly.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_init
ay_test_start_broker
ay_test_account service svc-held held-pw
HELD=$AY_BUILD_DIR/tests/ay-test-mqtt-held
CA=$AY_T/broker/certs/ca.crt

# 300 QoS 1 publishes, three windows of the broker's Receive Maximum (100),
# all acknowledged while Paho's thread is held. Through Paho (--paho) none
# would be: Paho reads their PUBACKs on the thread that is held.
out=$("$HELD" held "$AY_MQTT_URL" svc-held held-pw) || ay_fail "held: $out"
ay_expect_eq "acknowledged while held" "acknowledged 300 of 300 while held" "$out"

# TLS, by address, trusting the broker's CA.
out=$("$HELD" connect "ssl://127.0.0.1:$AY_MQTTS_PORT" svc-held held-pw "$CA") ||
  ay_fail "TLS connect: $out"
grep -qx acknowledged <<<"$out" || ay_fail "TLS publish not acknowledged: $out"
ms=$(sed -n 's/^closed in \([0-9]*\) ms$/\1/p' <<<"$out")
[ -n "$ms" ] && [ "$ms" -le 2500 ] || ay_fail "closing took too long: $out"

# Without the CA, TLS fails with a reason; a wrong password is refused by name.
out=$("$HELD" connect "ssl://127.0.0.1:$AY_MQTTS_PORT" svc-held held-pw /dev/null) &&
  ay_fail "TLS without the CA connected: $out"
grep -q '^error: ' <<<"$out" || ay_fail "no error without the CA: $out"
out=$("$HELD" connect "$AY_MQTT_URL" svc-held wrong-pw) && ay_fail "wrong password connected"
grep -qi 'broker refused connection: .*\(password\|authori\)' <<<"$out" ||
  ay_fail "refusal not explained: $out"
# Nothing listening: an error naming the address, within the timeout.
port=$(ay_free_port)
out=$("$HELD" connect "tcp://127.0.0.1:$port" svc-held held-pw) && ay_fail "connected to nothing"
grep -q "127.0.0.1:$port" <<<"$out" || ay_fail "no address in: $out"
ay_test_pass
