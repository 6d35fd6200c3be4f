#!/usr/bin/env bash
# The JSON twins of the feeds (TOPIC/json, docs/contract.md 4.5) are read by
# exactly the accounts that read the feed: police their district's police
# feed and escalation/police twins, bureau and government their own; no one
# else, and only the backbone's services publish them. Acks go as JSON on
# the account's own ack topic (no twin: the form is the sender's choice).
# Refusals are proven by ordering (see 11-broker-school-scope.sh).
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_init
ay_test_start_broker
H=127.0.0.1
"$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$AY_T/broker" district d02 >/dev/null || ay_fail "district d02"

ay_test_account device d01 s1 dev-a1 pw-a1
ay_test_account police d01 p1 pw-p1
ay_test_account police d02 p2 pw-p2
ay_test_account bureau d01 b1 pw-b1
ay_test_account government d01 g1 pw-g1
ay_test_account service svc-w pw-w # the watcher, on ay/v1/#
ay_test_account service svc-m pw-m # markers and the feeds

MARK=ay/v1/d01/receipt/s9/marker
sub_start watch svc-w pw-w 'ay/v1/#'
sub_ready watch "$MARK"

# ---- refused subscriptions to others' twins
expect_sub_denied "police d01: d02's police twin" p1 pw-p1 ay/v1/d02/police/alarm/json
expect_sub_denied "police d01: the bureau's twin" p1 pw-p1 ay/v1/d01/escalation/bureau/json
expect_sub_denied "police d01: every twin" p1 pw-p1 'ay/v1/d01/+/+/json'
expect_sub_denied "bureau d01: the police feed's twin" b1 pw-b1 ay/v1/d01/police/alarm/json
expect_sub_denied "bureau d01: the police escalation twin" b1 pw-b1 ay/v1/d01/escalation/police/json
expect_sub_denied "bureau d01: d02's twin" b1 pw-b1 ay/v1/d02/escalation/bureau/json
expect_sub_denied "government d01: the bureau's twin" g1 pw-g1 ay/v1/d01/escalation/bureau/json
expect_sub_denied "a device: the police twin" dev-a1 pw-a1 ay/v1/d01/police/alarm/json

# ---- only services publish twins; people publish their acks (JSON too)
expect_refused "police publishing the police twin" watch p1 pw-p1 ay/v1/d01/police/alarm/json "$MARK"
expect_refused "bureau publishing its twin" watch b1 pw-b1 ay/v1/d01/escalation/bureau/json "$MARK"
expect_refused "a device publishing the police twin" watch dev-a1 pw-a1 ay/v1/d01/police/alarm/json "$MARK"
expect_refused "police publishing an ack twin" watch p1 pw-p1 ay/v1/d01/ack/police/p1/json "$MARK"
expect_delivered "the police feed's twin, by a service" watch svc-m pw-m ay/v1/d02/police/alarm/json
expect_delivered "an escalation twin, by a service" watch svc-m pw-m ay/v1/d02/escalation/police/json
mqtt_pub b1 pw-b1 ay/v1/d01/ack/bureau/b1 '{"escalationId": "x"}' -D publish content-type application/json ||
  ay_fail "bureau's JSON ack refused"
ay_wait_until 10 "the bureau's JSON ack" grep -qF 'ay/v1/d01/ack/bureau/b1 {"escalationId": "x"}' \
  "$AY_T/log/watch.log" || ay_fail "the bureau's JSON ack was not delivered"

# ---- each reads its own twins
sub_start p1 p1 pw-p1 ay/v1/d01/police/alarm/json ay/v1/d01/escalation/police/json
sub_ready p1 ay/v1/d01/escalation/police/json
expect_delivered "police d01 gets the police twin" p1 svc-m pw-m ay/v1/d01/police/alarm/json
expect_refused "police d01 gets d02's police twin" p1 svc-m pw-m ay/v1/d02/police/alarm/json \
  ay/v1/d01/escalation/police/json
expect_refused "police d01 gets the bureau's twin" p1 svc-m pw-m ay/v1/d01/escalation/bureau/json \
  ay/v1/d01/escalation/police/json
ay_stop p1
# police/# (as consoles may subscribe) covers the twin as well
sub_start p2 p2 pw-p2 'ay/v1/d02/police/#'
sub_ready p2 ay/v1/d02/police/alarm
expect_delivered "police d02 on police/# gets the twin too" p2 svc-m pw-m ay/v1/d02/police/alarm/json
ay_stop p2
sub_start b1 b1 pw-b1 ay/v1/d01/escalation/bureau/json
sub_ready b1 ay/v1/d01/escalation/bureau/json
expect_delivered "bureau d01 gets its twin" b1 svc-m pw-m ay/v1/d01/escalation/bureau/json
ay_stop b1
sub_start g1 g1 pw-g1 ay/v1/d01/escalation/government/json
sub_ready g1 ay/v1/d01/escalation/government/json
expect_delivered "government d01 gets its twin" g1 svc-m pw-m ay/v1/d01/escalation/government/json
ay_stop g1
ay_test_pass
