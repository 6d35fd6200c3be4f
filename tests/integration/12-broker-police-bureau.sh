#!/usr/bin/env bash
# Police of a district read its police alarm feed (ay/v1/D/police/#, what
# the alarm feed service republishes; not another district's, and no longer
# the devices' raw alarm topics) plus escalation/police, and publish only
# acks, on the topic naming their own account; bureau and government staff read only
# their escalation feed of their district and publish their own acks;
# services read everything, also through MQTT 5 shared subscriptions
# ($share/GROUP/...), and publish receipts, escalations and the police feed.
# Refusals are proven by ordering (see 11-broker-school-scope.sh).
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_init
ay_test_start_broker
H=127.0.0.1
"$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$AY_T/broker" district d02 >/dev/null || ay_fail "district d02"

ay_test_account device d01 s1 dev-a1 pw-a1
ay_test_account device d02 s1 dev-z1 pw-z1
ay_test_account police d01 p1 pw-p1
ay_test_account police d02 p2 pw-p2
ay_test_account bureau d01 b1 pw-b1
ay_test_account service svc-w pw-w # the watcher, on ay/v1/#
ay_test_account service svc-m pw-m # markers, receipts, escalations
ay_test_account service recorder pw-r # two instances share it


MARK=ay/v1/d01/receipt/s9/marker
sub_start watch svc-w pw-w 'ay/v1/#'
sub_ready watch "$MARK"

# Device, police and bureau accounts have a fixed client id (their name): a
# second connection of the same account would take the first one's place. So each account's refused
# subscriptions and its publishes are checked while it has no subscriber
# running, and its own subscriber is started afterwards.

# ---- police d01 subscribe to nothing but their feed ...
expect_sub_denied "police d01 subscribing to d02's feed" p1 pw-p1 'ay/v1/d02/police/alarm'
expect_sub_denied "police d01 subscribing to the raw alarm topics" p1 pw-p1 'ay/v1/d01/school/+/+/alarm'
expect_sub_denied "police d01 subscribing to the raw cancel topics" p1 pw-p1 'ay/v1/d01/school/+/+/alarm-cancel'
expect_sub_denied "police d01 subscribing to d02's raw alarms" p1 pw-p1 'ay/v1/d02/school/+/+/alarm'
expect_sub_denied "police d01 subscribing to all of d01's school topics" p1 pw-p1 'ay/v1/d01/school/#'
expect_sub_denied "police d01 subscribing to reports" p1 pw-p1 'ay/v1/d01/school/+/+/report'
expect_sub_denied "police d01 subscribing to receipts" p1 pw-p1 'ay/v1/d01/receipt/#'
expect_sub_denied "police d01 subscribing to escalation/bureau" p1 pw-p1 ay/v1/d01/escalation/bureau
expect_sub_denied "police d01 subscribing to acks" p1 pw-p1 'ay/v1/d01/ack/+/+'
expect_sub_denied "police d01 subscribing to another's ack receipts" p1 pw-p1 ay/v1/d01/ack-receipt/police/p9
expect_sub_denied "police d01 through a shared subscription" p1 pw-p1 '$share/g/ay/v1/d01/school/#'
expect_sub_denied "police d01 subscribing to everything" p1 pw-p1 '#'

# ---- ... and publish acks only, on the topic that names the account
expect_delivered "police d01 publishes ack/police/p1" watch p1 pw-p1 ay/v1/d01/ack/police/p1
W=(watch p1 pw-p1)
expect_refused "police publishing as another account" "${W[@]}" ay/v1/d01/ack/police/p2 "$MARK"
expect_refused "police publishing on the old shared ack topic" "${W[@]}" ay/v1/d01/ack/police "$MARK"
expect_refused "police publishing an alarm" "${W[@]}" ay/v1/d01/school/s1/dev-a1/alarm "$MARK"
expect_refused "police publishing an alarm-cancel" "${W[@]}" ay/v1/d01/school/s1/dev-a1/alarm-cancel "$MARK"
expect_refused "police publishing a status" "${W[@]}" ay/v1/d01/school/s1/dev-a1/status "$MARK"
expect_refused "police publishing ack/bureau" "${W[@]}" ay/v1/d01/ack/bureau/p1 "$MARK"
expect_refused "police publishing ack/police of d02" "${W[@]}" ay/v1/d02/ack/police/p1 "$MARK"
expect_refused "police publishing escalation/police" "${W[@]}" ay/v1/d01/escalation/police "$MARK"
expect_refused "police publishing on the police feed" "${W[@]}" ay/v1/d01/police/alarm "$MARK"
expect_refused "a device publishing on the police feed" watch dev-a1 pw-a1 ay/v1/d01/police/alarm "$MARK"
expect_refused "police publishing a receipt" "${W[@]}" ay/v1/d01/receipt/s1/dev-a1 "$MARK"

# ---- police d01 read the police feed and escalation/police of d01
sub_start p1 p1 pw-p1 'ay/v1/d01/police/#' ay/v1/d01/escalation/police ay/v1/d01/ack-receipt/police/p1
sub_ready p1 ay/v1/d01/escalation/police
expect_delivered "police d01 gets its ack receipts" p1 svc-m pw-m ay/v1/d01/ack-receipt/police/p1
expect_delivered "police d01 gets the d01 police feed" p1 svc-m pw-m ay/v1/d01/police/alarm
expect_delivered "police d01 gets escalation/police" p1 svc-m pw-m ay/v1/d01/escalation/police
expect_refused "police d01 gets escalation/bureau" p1 svc-m pw-m ay/v1/d01/escalation/bureau ay/v1/d01/escalation/police
expect_refused "police d01 gets a d01 report" p1 dev-a1 pw-a1 ay/v1/d01/school/s1/dev-a1/report ay/v1/d01/escalation/police

# ---- police d02 read d02's feed; neither district sees the other's
sub_start p2 p2 pw-p2 ay/v1/d02/police/alarm ay/v1/d02/escalation/police
sub_ready p2 ay/v1/d02/escalation/police
expect_delivered "police d02 gets the d02 police feed" p2 svc-m pw-m ay/v1/d02/police/alarm
expect_refused "police d02 gets the d01 police feed" p2 svc-m pw-m ay/v1/d01/police/alarm ay/v1/d02/escalation/police
expect_refused "police d01 gets the d02 police feed" p1 svc-m pw-m ay/v1/d02/police/alarm ay/v1/d01/escalation/police
expect_refused "police d01 gets d02's escalation" p1 svc-m pw-m ay/v1/d02/escalation/police ay/v1/d01/escalation/police
ay_stop p1
ay_stop p2

# ---- bureau d01: subscribe to escalation/bureau of d01 only ...
expect_sub_denied "bureau subscribing to escalation/police" b1 pw-b1 ay/v1/d01/escalation/police
expect_sub_denied "bureau subscribing to the alarm feed" b1 pw-b1 'ay/v1/d01/school/+/+/alarm'
expect_sub_denied "bureau subscribing to the police feed" b1 pw-b1 'ay/v1/d01/police/#'
expect_sub_denied "bureau subscribing to d02's escalation/bureau" b1 pw-b1 ay/v1/d02/escalation/bureau
expect_sub_denied "bureau subscribing to all escalations" b1 pw-b1 'ay/v1/d01/escalation/#'
expect_sub_denied "bureau subscribing to acks" b1 pw-b1 ay/v1/d01/ack/bureau/b1
expect_sub_denied "bureau subscribing to escalation/government" b1 pw-b1 ay/v1/d01/escalation/government
# ---- ... publish ack/bureau/b1 only ...
expect_delivered "bureau d01 publishes ack/bureau/b1" watch b1 pw-b1 ay/v1/d01/ack/bureau/b1
W=(watch b1 pw-b1)
expect_refused "bureau publishing ack/police" "${W[@]}" ay/v1/d01/ack/police/b1 "$MARK"
expect_refused "bureau publishing ack/bureau of d02" "${W[@]}" ay/v1/d02/ack/bureau/b1 "$MARK"
expect_refused "bureau publishing an alarm" "${W[@]}" ay/v1/d01/school/s1/dev-a1/alarm "$MARK"
expect_refused "bureau publishing escalation/bureau" "${W[@]}" ay/v1/d01/escalation/bureau "$MARK"
# ---- ... and read it
sub_start b1 b1 pw-b1 ay/v1/d01/escalation/bureau
sub_ready b1 ay/v1/d01/escalation/bureau
expect_delivered "bureau d01 gets escalation/bureau" b1 svc-m pw-m ay/v1/d01/escalation/bureau
expect_refused "bureau d01 gets escalation/bureau of d02" b1 svc-m pw-m ay/v1/d02/escalation/bureau ay/v1/d01/escalation/bureau
ay_stop b1

# ---- services: acks reach them; they publish receipts and escalations
expect_delivered "service publishes a receipt" watch svc-m pw-m ay/v1/d02/receipt/s1/dev-z1
expect_delivered "service publishes escalation/police" watch svc-m pw-m ay/v1/d02/escalation/police
expect_delivered "service publishes an ack receipt" watch svc-m pw-m ay/v1/d01/ack-receipt/police/p1
expect_delivered "service publishes the police feed" watch svc-m pw-m ay/v1/d02/police/alarm
expect_refused "service publishing an ack" watch svc-m pw-m ay/v1/d01/ack/police/p1 "$MARK"

# ---- government d01: escalation/government of d01 only; its own acks
ay_test_account government d01 g1 pw-g1
expect_sub_denied "government subscribing to escalation/bureau" g1 pw-g1 ay/v1/d01/escalation/bureau
expect_delivered "government d01 publishes ack/government/g1" watch g1 pw-g1 ay/v1/d01/ack/government/g1
expect_refused "government publishing ack/bureau" watch g1 pw-g1 ay/v1/d01/ack/bureau/g1 "$MARK"
sub_start g1 g1 pw-g1 ay/v1/d01/escalation/government
sub_ready g1 ay/v1/d01/escalation/government
expect_delivered "government d01 gets escalation/government" g1 svc-m pw-m ay/v1/d01/escalation/government
ay_stop g1
expect_refused "service publishing outside ay/v1" watch svc-m pw-m ay/v2/d01/escalation/police "$MARK"

# ---- shared subscription: two instances of one service account (client ids
# recorder-1, recorder-2, as the recorder names its connections) share the
# school feed; each message reaches exactly one of them, and both take part.
G='$share/recorder/ay/v1/+/school/#'
for i in 1 2; do
  ay_spawn "rec-$i" mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u recorder -P pw-r -i "recorder-$i" -q 1 -v -t "$G" -W 200
done
both_ready() {
  mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s1/dev-a1/status "probe-$RANDOM" >/dev/null 2>&1
  grep -q probe- "$AY_T/log/rec-1.log" && grep -q probe- "$AY_T/log/rec-2.log"
}
ay_wait_until 15 "both group members subscribed" both_ready || ay_fail "the shared subscription did not work"
for i in $(seq 1 20); do
  mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s1/dev-a1/report "shared-$i" || ay_fail "publish shared-$i"
done
mqtt_pub dev-z1 pw-z1 ay/v1/d02/school/s1/dev-z1/alarm shared-21 || ay_fail "publish shared-21"
all_shared() { [ "$(cat "$AY_T/log/rec-1.log" "$AY_T/log/rec-2.log" | grep -c ' shared-')" -ge 21 ]; }
ay_wait_until 15 "21 shared messages" all_shared || ay_fail "shared messages lost"
ay_expect_eq "each shared message exactly once" 21 \
  "$(cat "$AY_T/log/rec-1.log" "$AY_T/log/rec-2.log" | grep -o ' shared-[0-9]*$' | sort -u | wc -l)"
ay_expect_eq "no duplicates" 21 "$(cat "$AY_T/log/rec-1.log" "$AY_T/log/rec-2.log" | grep -c ' shared-')"
n1=$(grep -c ' shared-' "$AY_T/log/rec-1.log")
n2=$(grep -c ' shared-' "$AY_T/log/rec-2.log")
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || ay_fail "one member got everything ($n1/$n2)"
expect_sub_denied "service sharing outside ay/v1" recorder pw-r '$share/g/#'

# ---- an offline police console loses no alarm of its feed: with
# Mosquitto's default max_queued_messages (1000) the broker would silently
# drop what exceeds it.
PF=('ay/v1/d01/police/#' ay/v1/d01/escalation/police)
ay_spawn p1-session mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u p1 -P pw-p1 -i p1 -c -x 3600 -q 1 -v \
  -t "${PF[0]}" -t "${PF[1]}" -W 200
sub_ready p1-session ay/v1/d01/escalation/police
ay_stop p1-session # disconnects; the session (expiry 1 h) keeps queueing
seq -f 'queued-%g' 1 1500 | mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u svc-m -P pw-m -i svc-m -q 1 \
  -t ay/v1/d01/police/alarm -l || ay_fail "publishing 1500 alarms on the police feed"
mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u p1 -P pw-p1 -i p1 -c -x 0 -q 1 -v \
  -t "${PF[0]}" -t "${PF[1]}" -C 1500 -W 60 >"$AY_T/queued.txt" 2>&1
ay_expect_eq "alarms queued for the offline console and delivered on reconnect" 1500 \
  "$(grep -o ' queued-[0-9]*$' "$AY_T/queued.txt" | sort -u | wc -l)"

ay_test_pass
