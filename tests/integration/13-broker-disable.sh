#!/usr/bin/env bash
# Disabling an account takes effect at once: new connections are refused and
# the dynamic security plugin (2.0.11: disableClient kicks every connection
# with that username) disconnects a subscriber that is already connected.
# Enabling restores access; a password change disconnects live sessions and
# only the new password works; a deleted account is gone for good (and its
# device role with it); the state survives a broker restart.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/broker-clients.sh"
ay_test_init
ay_test_start_broker
H=127.0.0.1
BDIR=$AY_T/broker
CTL=("$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$BDIR")

ay_test_account police d01 p1 pw-p1
ay_test_account device d01 s1 dev-a1 pw-a1
ay_test_account service svc-m pw-m

pid_of() { cat "$AY_T/$1.pid"; }
exited() { ! kill -0 "$1" 2>/dev/null; }
# connect_rc USER PASSWORD: exit code of one publish as USER (0 = accepted,
# 135 = CONNACK "not authorized").
connect_rc() {
  mosquitto_pub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u "$1" -P "$2" -i "$1" -q 1 -t ay/v1/d01/ack/police -m x \
    >>"$AY_T/log/pub.log" 2>&1
  echo $?
}

# ---- disable kicks a live subscriber and refuses new connections
sub_start p1-a p1 pw-p1 ay/v1/d01/escalation/police
sub_ready p1-a ay/v1/d01/escalation/police
pid=$(pid_of p1-a)
"${CTL[@]}" disable p1 >/dev/null || ay_fail "broker-ctl disable p1"
ay_wait_until 10 "the live subscriber of p1 to be disconnected" exited "$pid" ||
  ay_fail "disabled p1 stayed connected"
ay_expect "broker logged the kick" grep -q 'Client p1 been disconnected by administrative action' "$BDIR/mosquitto.log"
ay_expect_eq "disabled p1 connecting" 135 "$(connect_rc p1 pw-p1)"
out=$(mosquitto_sub -V 5 -h "$H" -p "$AY_MQTT_PORT" -u p1 -P pw-p1 -i p1 -t ay/v1/d01/escalation/police -W 10 2>&1)
[[ $out == *"Not authorized"* ]] || ay_fail "disabled p1 subscribing: $out"
ay_expect "list shows p1 disabled" bash -c "'${CTL[0]}' --dir '$BDIR' list | grep -q '^p1[[:space:]].*disabled$'"
"${CTL[@]}" disable p1 >/dev/null || ay_fail "disable is idempotent"

# ---- enable restores access, including receiving
"${CTL[@]}" enable p1 >/dev/null || ay_fail "broker-ctl enable p1"
ay_expect_eq "enabled p1 connecting" 0 "$(connect_rc p1 pw-p1)"
sub_start p1-b p1 pw-p1 ay/v1/d01/escalation/police
sub_ready p1-b ay/v1/d01/escalation/police
ay_stop p1-b

# ---- a disabled device cannot publish an alarm; enabled again it can
"${CTL[@]}" disable dev-a1 >/dev/null || ay_fail "disable dev-a1"
out=$(mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s1/dev-a1/alarm x 2>&1)
ay_expect_eq "disabled device publishing" 135 "$?"
"${CTL[@]}" enable dev-a1 >/dev/null || ay_fail "enable dev-a1"
ay_expect "enabled device publishes" mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s1/dev-a1/alarm x

# ---- password change: live session disconnected, old password refused
sub_start p1-c p1 pw-p1 ay/v1/d01/escalation/police
sub_ready p1-c ay/v1/d01/escalation/police
pid=$(pid_of p1-c)
echo 'new pw p1' | "${CTL[@]}" password p1 - >/dev/null || ay_fail "broker-ctl password p1"
ay_wait_until 10 "p1's session to be closed after the password change" exited "$pid" ||
  ay_fail "p1 stayed connected after a password change"
ay_expect_eq "old password" 135 "$(connect_rc p1 pw-p1)"
ay_expect_eq "new password" 0 "$(connect_rc p1 'new pw p1')"

# ---- state survives a restart
"${CTL[@]}" disable p1 >/dev/null || ay_fail "disable p1 again"
ay_broker_stop "$BDIR" || ay_fail "stop"
ay_broker_start "$BDIR" || ay_fail "restart"
ay_expect_eq "p1 still disabled after restart" 135 "$(connect_rc p1 'new pw p1')"
"${CTL[@]}" enable p1 >/dev/null || ay_fail "enable p1 after restart"
ay_expect_eq "p1 enabled after restart" 0 "$(connect_rc p1 'new pw p1')"

# ---- delete: refused from then on; the device's own role goes too
sub_start dev-sub dev-a1 pw-a1 ay/v1/d01/receipt/s1/dev-a1
sub_ready dev-sub ay/v1/d01/receipt/s1/dev-a1
pid=$(pid_of dev-sub)
"${CTL[@]}" delete dev-a1 >/dev/null || ay_fail "broker-ctl delete dev-a1"
ay_wait_until 10 "the deleted device to be disconnected" exited "$pid" || ay_fail "deleted device stayed connected"
out=$(mqtt_pub dev-a1 pw-a1 ay/v1/d01/school/s1/dev-a1/alarm x 2>&1)
ay_expect_eq "deleted device publishing" 135 "$?"
"${CTL[@]}" delete dev-a1 >/dev/null || ay_fail "delete is idempotent"
XDG_CONFIG_HOME="$BDIR/secrets/ctrl" mosquitto_ctrl dynsec listRoles >"$AY_T/roles.txt" 2>/dev/null
ay_expect "role list readable" grep -qx 'police.d01' "$AY_T/roles.txt"
if grep -q '^device\.d01\.s1\.dev-a1$' "$AY_T/roles.txt"; then ay_fail "the device's role was left behind"; fi
"${CTL[@]}" disable dev-a1 >/dev/null 2>&1
ay_expect_eq "disabling a missing account fails" 1 "$?"
# Re-created with a new password it works again.
ay_test_account device d01 s1 dev-a1 pw-a1-new
ay_expect "re-created device publishes" mqtt_pub dev-a1 pw-a1-new ay/v1/d01/school/s1/dev-a1/alarm x

ay_test_pass
