#!/usr/bin/env bash
# A device is confined to its own subtree: it publishes its eight kinds under
# ay/v1/D/school/S/DEVICE/ and reads only its own receipt topic. It cannot
# publish into another school, as another device of its own school, into
# another district, or into escalation/ack/receipt topics; it cannot read
# another device's receipts or the police feed. Services cannot publish into
# school/ topics.
#
# A refused publish is proven by ordering, never by waiting: a service
# subscribed to ay/v1/# (the watcher) must get an allowed marker published
# *after* the forbidden message, and must not have got the forbidden one.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_init
ay_test_start_broker
H=127.0.0.1
KINDS=(alarm alarm-cancel notice report hazard hazard-update monthly status)

ay_test_account device d01 s1 dev-a1 pw-a1
ay_test_account device d01 s1 dev-a2 pw-a2
ay_test_account device d01 s2 dev-b1 pw-b1
ay_test_account service svc-w pw-w # the watcher
ay_test_account service svc-m pw-m # publishes markers and receipts

# ---- helpers (same in every broker test)
mqtt_pub() { # USER PASSWORD TOPIC PAYLOAD: QoS 1, client id = USER
  mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u "$1" -P "$2" -i "$1" -q 1 -t "$3" -m "$4"
}
sub_start() { # NAME USER PASSWORD FILTER...: subscriber, output in $AY_T/log/NAME.log
  local name=$1 u=$2 pw=$3 f args=()
  shift 3
  for f in "$@"; do args+=(-t "$f"); done
  ay_spawn "$name" mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u "$u" -P "$pw" -i "$u" -q 1 -v "${args[@]}" -W 200
}
sub_ready() { # NAME TOPIC: publishes probes (as svc-m) until subscriber NAME has one
  local name=$1 topic=$2 probe="probe-$1-$RANDOM"
  _probe() { mqtt_pub svc-m pw-m "$topic" "$probe" >/dev/null 2>&1 && grep -qF "$probe" "$AY_T/log/$name.log"; }
  ay_wait_until 15 "subscriber $name ready" _probe || ay_fail "subscriber $name never got a probe"
}
SEQ=0
# expect_delivered DESC NAME USER PASSWORD TOPIC: USER publishes; subscriber
# NAME gets "TOPIC payload".
expect_delivered() {
  local desc=$1 name=$2 u=$3 pw=$4 topic=$5 msg="ok-$((++SEQ))-$RANDOM"
  mqtt_pub "$u" "$pw" "$topic" "$msg" >>"$AY_T/log/pub.log" 2>&1 || ay_fail "$desc: publish failed"
  ay_wait_until 10 "$desc" grep -qxF "$topic $msg" "$AY_T/log/$name.log" || ay_fail "$desc: not delivered"
}
# expect_refused DESC NAME USER PASSWORD TOPIC MARKER_TOPIC: USER publishes
# to TOPIC, then svc-m to MARKER_TOPIC; subscriber NAME (which receives
# MARKER_TOPIC) must get the marker and not USER's message.
expect_refused() {
  local desc=$1 name=$2 u=$3 pw=$4 topic=$5 mtopic=$6 bad="forbidden-$((++SEQ))-$RANDOM" mark="marker-$SEQ-$RANDOM"
  mqtt_pub "$u" "$pw" "$topic" "$bad" >>"$AY_T/log/pub.log" 2>&1
  mqtt_pub svc-m pw-m "$mtopic" "$mark" >>"$AY_T/log/pub.log" 2>&1 || ay_fail "$desc: marker publish failed"
  ay_wait_until 10 "marker after: $desc" grep -qF "$mark" "$AY_T/log/$name.log" || ay_fail "$desc: marker lost"
  if grep -qF "$bad" "$AY_T/log/$name.log"; then ay_fail "$desc: the forbidden message was delivered"; fi
}
# expect_sub_denied DESC USER PASSWORD FILTER: the broker refuses the
# subscription itself (mosquitto_sub reports it and exits).
expect_sub_denied() {
  local out
  out=$(mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u "$2" -P "$3" -i "$2" -q 1 -t "$4" -W 20 2>&1)
  [[ $out == *"All subscription requests were denied"* ]] || ay_fail "$1: subscription not refused: $out"
}

MARK=ay/v1/d01/receipt/s9/marker # only services can publish there
sub_start watch svc-w pw-w 'ay/v1/#'
sub_ready watch "$MARK"

# ---- a device publishes every kind into its own subtree
for k in "${KINDS[@]}"; do
  expect_delivered "dev-a1 publishes $k" watch dev-a1 pw-a1 "ay/v1/d01/school/s1/dev-a1/$k"
done

# ---- ... and nowhere else
W=(watch dev-a1 pw-a1)
expect_refused "dev-a1 into school s2" "${W[@]}" ay/v1/d01/school/s2/dev-b1/alarm "$MARK"
expect_refused "dev-a1 as its schoolmate dev-a2" "${W[@]}" ay/v1/d01/school/s1/dev-a2/alarm "$MARK"
expect_refused "dev-a1 into another district" "${W[@]}" ay/v1/d02/school/s1/dev-a1/alarm "$MARK"
expect_refused "dev-a1 with an unknown kind" "${W[@]}" ay/v1/d01/school/s1/dev-a1/bogus "$MARK"
expect_refused "dev-a1 below a kind" "${W[@]}" ay/v1/d01/school/s1/dev-a1/alarm/extra "$MARK"
expect_refused "dev-a1 at its school's level" "${W[@]}" ay/v1/d01/school/s1/alarm "$MARK"
expect_refused "dev-a1 into escalation/police" "${W[@]}" ay/v1/d01/escalation/police "$MARK"
expect_refused "dev-a1 into escalation/bureau" "${W[@]}" ay/v1/d01/escalation/bureau "$MARK"
expect_refused "dev-a1 into ack/police" "${W[@]}" ay/v1/d01/ack/police "$MARK"
expect_refused "dev-a1 into ack/bureau" "${W[@]}" ay/v1/d01/ack/bureau "$MARK"
expect_refused "dev-a1 forging its own receipt" "${W[@]}" ay/v1/d01/receipt/s1/dev-a1 "$MARK"
expect_refused "dev-a1 forging a receipt for dev-a2" "${W[@]}" ay/v1/d01/receipt/s1/dev-a2 "$MARK"
# The refusal is also reported to the publisher (MQTT 5 PUBACK reason code).
out=$(mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s2/dev-b1/alarm x 2>&1)
[[ $out == *"Not authorized"* ]] || ay_fail "dev-a1 was not told its publish was refused: $out"

# ---- services may not publish into school/ topics
expect_refused "service into a device's alarm topic" watch svc-m pw-m ay/v1/d01/school/s1/dev-a1/alarm "$MARK"
expect_refused "service into a device's status topic" watch svc-m pw-m ay/v1/d01/school/s2/dev-b1/status "$MARK"

# ---- subscriptions: only its own receipt topic
expect_sub_denied "dev-a1 reading dev-a2's receipts" dev-a1 pw-a1 ay/v1/d01/receipt/s1/dev-a2
expect_sub_denied "dev-a1 reading its school's receipts" dev-a1 pw-a1 'ay/v1/d01/receipt/s1/+'
expect_sub_denied "dev-a1 reading all receipts" dev-a1 pw-a1 'ay/v1/d01/receipt/#'
expect_sub_denied "dev-a1 reading the police alarm feed" dev-a1 pw-a1 'ay/v1/d01/school/+/+/alarm'
expect_sub_denied "dev-a1 reading escalation/police" dev-a1 pw-a1 ay/v1/d01/escalation/police
expect_sub_denied "dev-a1 reading everything" dev-a1 pw-a1 '#'
expect_sub_denied "dev-a1 via a shared subscription" dev-a1 pw-a1 '$share/g/ay/v1/d01/receipt/s1/dev-a2'

# ---- receipts reach their device, and only it: dev-a1 subscribes to its own
# receipts plus (refused) dev-a2's and the police feed; the backbone sends a
# receipt to dev-a2 and an alarm appears, then a receipt to dev-a1: dev-a1
# gets its receipt and neither of the others.
sub_start dev-a1 dev-a1 pw-a1 ay/v1/d01/receipt/s1/dev-a1 ay/v1/d01/receipt/s1/dev-a2 'ay/v1/d01/school/+/+/alarm'
sub_ready dev-a1 ay/v1/d01/receipt/s1/dev-a1
expect_refused "dev-a1 receiving dev-a2's receipt" dev-a1 svc-m pw-m ay/v1/d01/receipt/s1/dev-a2 ay/v1/d01/receipt/s1/dev-a1
expect_refused "dev-a1 receiving dev-b1's alarm" dev-a1 dev-b1 pw-b1 ay/v1/d01/school/s2/dev-b1/alarm ay/v1/d01/receipt/s1/dev-a1
expect_delivered "receipt to dev-a1" dev-a1 svc-m pw-m ay/v1/d01/receipt/s1/dev-a1
# (the alarm itself did reach the service)
ay_expect "dev-b1's alarm reached the watcher" grep -q '^ay/v1/d01/school/s2/dev-b1/alarm forbidden-' "$AY_T/log/watch.log"

ay_test_pass
