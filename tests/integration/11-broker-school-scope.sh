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
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_init
ay_test_start_broker
H=127.0.0.1
KINDS=(alarm alarm-cancel notice report hazard hazard-update monthly status)

ay_test_account device d01 s1 dev-a1 pw-a1
ay_test_account device d01 s1 dev-a2 pw-a2
ay_test_account device d01 s2 dev-b1 pw-b1
ay_test_account service svc-w pw-w # the watcher
ay_test_account service svc-m pw-m # publishes markers and receipts


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
expect_refused "dev-a1 into ack/police" "${W[@]}" ay/v1/d01/ack/police/dev-a1 "$MARK"
expect_refused "dev-a1 into ack/bureau" "${W[@]}" ay/v1/d01/ack/bureau/dev-a1 "$MARK"
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
