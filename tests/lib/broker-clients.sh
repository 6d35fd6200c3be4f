# tests/lib/broker-clients.sh - mosquitto_pub/mosquitto_sub helpers of the
# broker tests (10-15). Sourced after harness.sh; uses $H (the broker host)
# and $AY_MQTT_PORT, and the service account svc-m (password pw-m) for
# probes and markers.

# mqtt_pub USER PASSWORD TOPIC PAYLOAD [ARGS...]: one QoS 1 publish on the
# plain port as USER with client id USER.
mqtt_pub() {
  local u=$1 pw=$2 t=$3 m=$4
  shift 4
  mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u "$u" -P "$pw" -i "$u" -q 1 -t "$t" -m "$m" "$@"
}

# sub_start NAME USER PASSWORD FILTER...: a subscriber, output in $AY_T/log/NAME.log.
sub_start() {
  local name=$1 u=$2 pw=$3 f args=()
  shift 3
  for f in "$@"; do args+=(-t "$f"); done
  ay_spawn "$name" mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u "$u" -P "$pw" -i "$u" -q 1 -v "${args[@]}" -W 200
}

# sub_ready NAME TOPIC: publishes probes (as svc-m) until subscriber NAME has one.
sub_ready() {
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
