#!/usr/bin/env bash
# Refused access leaves a trace in the broker's log: the audit plugin
# (broker-plugin/, ay_audit) writes ONE line per refused publish, subscription
# and login, naming the account, the client id, the peer address and the
# topic; the client gets the refusal as before; allowed access writes
# nothing; the password never reaches the log. A flood of 200 refused
# publishes from one account costs at most `burst` (10) lines plus a line
# with the count of the rest, and does not hide another account's refusal.
# If the plugin cannot find dynsec's functions it warns once and the broker
# still works (dynsec decides alone); if the plugin is not built,
# ay_broker_setup warns and the broker works without it.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_init
ay_test_start_broker
H=127.0.0.1
BDIR=$AY_T/broker
LOG=$BDIR/mosquitto.log
BURST=10

ay_test_account device d01 s1 dev-a1 pw-a1
ay_test_account device d01 s2 dev-b1 pw-b1
ay_test_account device d01 s3 dev-f1 pw-f1 # floods
ay_test_account police d01 p1 pw-p1
ay_test_account bureau d01 b1 pw-b1x
ay_test_account service svc-m pw-m

# count NEEDLE: lines of the broker log containing NEEDLE (a fixed string).
count() { grep -cF -- "$1" "$LOG"; }
logged() { grep -qF -- "$1" "$LOG"; }
ONCE=()
# expect_line DESC LINE: the broker logs LINE (in a line of its own); at the
# end of the test it must be there exactly once.
expect_line() {
  ay_wait_until 10 "$1" logged "$2" || ay_fail "$1: no log line '$2'"
  ONCE+=("$2")
}

ay_wait_until 10 "the audit plugin to start" logged 'svc=ay_audit msg="logging refused access"' ||
  ay_fail "the audit plugin did not start: $(grep -F ay_audit "$LOG")"
ay_expect "audit plugin loaded before dynsec" bash -c "grep -n '^plugin ' '$BDIR/mosquitto.conf' | head -n 1 | grep -q ay_audit.so"

# ---- a device publishing into another school's topic
out=$(mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s2/dev-b1/alarm x 2>&1)
[[ $out == *"Not authorized"* ]] || ay_fail "dev-a1 was not told its publish was refused: $out"
expect_line "refused publish" 'svc=ay_audit msg="refused publish" username=dev-a1 client_id=dev-a1 address=127.0.0.1 topic=ay/v1/d01/school/s2/dev-b1/alarm reason="no ACL allows it"'

# ---- device and bureau accounts subscribing to the police alarm feed
expect_sub_denied "dev-a1 reading the police feed" dev-a1 pw-a1 'ay/v1/d01/school/+/+/alarm'
expect_line "refused subscribe (device)" 'svc=ay_audit msg="refused subscribe" username=dev-a1 client_id=dev-a1 address=127.0.0.1 topic=ay/v1/d01/school/+/+/alarm reason="no ACL allows it"'
expect_sub_denied "b1 reading the police feed" b1 pw-b1x 'ay/v1/d01/school/+/+/alarm'
expect_line "refused subscribe (bureau)" 'svc=ay_audit msg="refused subscribe" username=b1 client_id=b1 address=127.0.0.1 topic=ay/v1/d01/school/+/+/alarm reason="no ACL allows it"'

# ---- refused logins: wrong password, unknown account, no username, a
# police account with another client id
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u dev-a1 -P wrong-secret-7731 -i dev-a1 -q 1 \
  -t ay/v1/d01/school/s1/dev-a1/alarm -m x 2>&1)
ay_expect_eq "wrong password refused (CONNACK 0x87)" 135 "$?"
expect_line "refused login, wrong password" 'svc=ay_audit msg="refused login" username=dev-a1 client_id=dev-a1 address=127.0.0.1 reason="wrong password, disabled account or client id not allowed"'
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u nobody -P x -i nobody-1 -t a -m x 2>&1)
ay_expect_eq "unknown account refused" 135 "$?"
expect_line "refused login, unknown account" 'svc=ay_audit msg="refused login" username=nobody client_id=nobody-1 address=127.0.0.1 reason="unknown account"'
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -i anon-1 -t a -m x 2>&1)
ay_expect_eq "anonymous refused" 135 "$?"
expect_line "refused login, anonymous" 'svc=ay_audit msg="refused login" client_id=anon-1 address=127.0.0.1 reason="no username"'
out=$(mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u p1 -P pw-p1 -i p1-second -t ay/v1/d01/ack/police -m x 2>&1)
ay_expect_eq "police with another client id refused" 135 "$?"
expect_line "refused login, client id" 'svc=ay_audit msg="refused login" username=p1 client_id=p1-second address=127.0.0.1'
if grep -qF -e wrong-secret-7731 -e pw-p1 "$LOG"; then ay_fail "a password reached the broker log"; fi

# ---- allowed access writes nothing: allowed publishes, subscriptions and
# deliveries, then one refusal as the end marker (the broker handles them
# in order, so a line about the allowed ones would come before it)
before=$(count 'svc=ay_audit msg="refused')
sub_start p1-feed p1 pw-p1 'ay/v1/d01/police/#' ay/v1/d01/escalation/police
sub_ready p1-feed ay/v1/d01/escalation/police
expect_delivered "the police feed to the police" p1-feed svc-m pw-m ay/v1/d01/police/alarm
expect_delivered "an escalation to the police" p1-feed svc-m pw-m ay/v1/d01/escalation/police
ay_stop p1-feed
mqtt_pub dev-b1 pw-b1 ay/v1/d01/school/s1/dev-a1/alarm end-marker >/dev/null 2>&1
expect_line "the end marker" 'msg="refused publish" username=dev-b1 client_id=dev-b1 address=127.0.0.1 topic=ay/v1/d01/school/s1/dev-a1/alarm'
ay_expect_eq "lines about allowed access" $((before + 1)) "$(count 'svc=ay_audit msg="refused')"

# ---- a flood: 200 refused publishes from dev-f1, one after the other. One
# connection each: with max_queued_messages 0, Debian's 2.0.11 (the backported
# CVE-2023-28366 fix, upstream #3244) closes a client's connection after any
# refused publish, even at QoS 0, after the PUBACK 0x87 at QoS 1.
started=$SECONDS
for i in $(seq 1 200); do
  mqtt_pub dev-f1 pw-f1 ay/v1/d01/school/s1/dev-a1/alarm "flood-$i" >>"$AY_T/flood.out" 2>&1
done
flood_s=$((SECONDS - started))
ay_expect_eq "the flooder was told of every refusal" 200 "$(grep -c 'Not authorized' "$AY_T/flood.out")"
# Another account's refusal during the flood's window is not hidden.
mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s3/dev-f1/alarm x >/dev/null 2>&1
expect_line "dev-a1 refused after the flood" 'msg="refused publish" username=dev-a1 client_id=dev-a1 address=127.0.0.1 topic=ay/v1/d01/school/s3/dev-f1/alarm'
# The count of the rest comes once the account's 10 s window has ended.
SUMMARY='svc=ay_audit msg="refusals suppressed" username=dev-f1 suppressed='
flood_lines() { count 'msg="refused publish" username=dev-f1 '; }
flood_suppressed() { grep -F -- "$SUMMARY" "$LOG" | sed -E 's/.* suppressed=([0-9]+) .*/\1/' | awk '{ s += $1 } END { print s + 0 }'; }
accounted() { [ $(($(flood_lines) + $(flood_suppressed))) -eq 200 ]; }
ay_wait_until 30 "every refusal of the flood to be a line or counted" accounted ||
  ay_fail "flood: $(flood_lines) lines and $(flood_suppressed) counted, not 200"
echo "flood: $(flood_lines) lines, $(flood_suppressed) suppressed, sent in ${flood_s}s"
if [ "$flood_s" -lt 9 ]; then
  # all within one 10 s window of the account
  ay_expect_eq "lines for the flood" "$BURST" "$(flood_lines)"
  ay_expect_eq "summary lines for the flood" 1 "$(count "$SUMMARY")"
  ONCE+=("${SUMMARY}190 burst=10 window_s=10")
else
  # a slow machine: still at most BURST lines per started window
  [ "$(flood_lines)" -le $((BURST * (flood_s / 10 + 2))) ] || ay_fail "the flood wrote $(flood_lines) lines"
fi

for l in "${ONCE[@]}"; do
  ay_expect_eq "times logged: $l" 1 "$(count "$l")"
done

# ---- dynsec's functions not found: one warning, the broker works, dynsec
# alone decides. (Simulated by naming a loaded library without them.)
ay_broker_stop "$BDIR" || ay_fail "stop"
sed -i "s|^plugin_opt_dynsec_plugin .*|plugin_opt_dynsec_plugin $BDIR/plugins/ay_audit.so|" "$BDIR/mosquitto.conf"
: >"$LOG"
ay_broker_start "$BDIR" || ay_fail "the broker did not start with a wrong dynsec_plugin"
WARN='svc=ay_audit msg="cannot log refused access, dynsec decides alone"'
ay_wait_until 10 "the plugin's warning" logged "$WARN" || ay_fail "no warning: $(grep -F ay_audit "$LOG")"
ay_expect "an allowed publish still works" mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s1/dev-a1/status up
out=$(mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s2/dev-b1/alarm x 2>&1)
[[ $out == *"Not authorized"* ]] || ay_fail "degraded plugin: publish into s2 not refused: $out"
expect_sub_denied "degraded plugin: dev-a1 reading the police feed" dev-a1 pw-a1 'ay/v1/d01/school/+/+/alarm'
out=$(mqtt_pub dev-a1 wrong ay/v1/d01/school/s1/dev-a1/alarm x 2>&1)
ay_expect_eq "degraded plugin: wrong password refused" 135 "$?"
ay_expect_eq "warnings of the degraded plugin" 1 "$(count "$WARN")"
ay_expect_eq "refusal lines of the degraded plugin" 0 "$(count 'msg="refused')"

# ---- plugin not built: setup warns, the broker runs with dynsec alone
NDIR=$AY_T/broker-noaudit
ports=()
while [ "${#ports[@]}" -lt 3 ]; do
  p=$(ay_free_port)
  [[ " ${ports[*]} $AY_MQTT_PORT $AY_MQTTS_PORT $AY_WS_PORT " == *" $p "* ]] || ports+=("$p")
done
AY_BROKER_AUDIT_PLUGIN=$AY_T/missing/ay_audit.so ay_broker_setup "$NDIR" 127.0.0.1 "${ports[@]}" \
  2>"$AY_T/setup-noaudit.err" || ay_fail "setup without the plugin failed: $(cat "$AY_T/setup-noaudit.err")"
ay_expect_eq "setup warnings without the plugin" 1 "$(grep -c 'warning: audit plugin' "$AY_T/setup-noaudit.err")"
if grep -q 'ay_audit.so' "$NDIR/mosquitto.conf"; then ay_fail "configuration names the missing plugin"; fi
AY_T_CLEANUP+=("ay_broker_stop '$NDIR'")
ay_broker_start "$NDIR" || ay_fail "the broker without the plugin did not start"
out=$(mosquitto_pub -V 5 -h "$H" -p "${ports[0]}" -u nobody -P x -i nobody -t a -m x 2>&1)
ay_expect_eq "without the plugin: unknown account refused" 135 "$?"
ay_expect "without the plugin: admin works" ay_broker_admin_ok "$NDIR"

ay_test_pass
