#!/usr/bin/env bash
# Issue 14: ayctl (C, lib/ay_dynsec) and deploy/broker-ctl (shell) make the
# same roles and accounts. Accounts made both ways are listed alike by
# `ayctl account list` and `broker-ctl list` (which print the same lines),
# each role made by one is "up to date" for the other, and the roles of
# accounts made both ways hold the same ACLs, name for name.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/onboard.sh"
ay_test_init
ay_test_start_pg
ay_test_start_broker # broker-ctl district d01: police.d01, bureau.d01, government.d01, service
ob_ops_conf
CTL=("$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$AY_T/broker")
"$AYCTL" registry add-district d01 || ay_fail "registry"
"$AYCTL" registry add-school d01 sch-1 || ay_fail "registry"

# acls ROLE [FROM TO]: the role's ACLs as sorted lines, FROM replaced by TO.
acls() {
  ay_broker_dynsec_json "$AY_T/broker" "{\"commands\":[{\"command\":\"getRole\",\"rolename\":\"$1\"}]}" |
    jq -r '.responses[0] | if .error then "error: " + .error else
      (.data.role.acls[] | [.acltype, .topic, (.allow | tostring), (.priority | tostring)] | join(" ")) end' |
    sed "s|${2:-^$}|${3:-}|g" | sort
}
same_acls() { # WHAT ROLE_A ROLE_B FROM TO
  local a b
  a=$(acls "$2" "$4" "$5")
  b=$(acls "$3")
  [ -n "$b" ] && [[ $b != error* ]] || ay_fail "$1: $3: $b"
  [ "$a" = "$b" ] || ay_fail "$1: $2 and $3 differ:"$'\n'"$(diff <(echo "$a") <(echo "$b"))"
}

# 1. The shared roles broker-ctl made are up to date for ayctl, and those
#    ayctl made (a new district) are up to date for broker-ctl.
for r in police bureau government; do
  out=$(ob account add --role "$r" --district d01 "$r-c") || ay_fail "account add $r: $out"
  grep -qx "role $r.d01: up to date" <<<"$out" || ay_fail "ayctl changed broker-ctl's $r.d01: $out"
  ay_test_account "$r" d01 "$r-sh" "pw-$r"
  same_acls "$r's own role" "acks.d01.$r.$r-sh" "acks.d01.$r.$r-c" "$r-sh" "$r-c"
  out=$(ob account add --role "$r" --district d02 "$r-c2") || ay_fail "account add $r d02: $out"
  grep -qx "role $r.d02: created" <<<"$out" || ay_fail "ayctl did not make $r.d02: $out"
done
out=$("${CTL[@]}" district d02) || ay_fail "broker-ctl district d02"
ay_expect_eq "broker-ctl agrees with the roles ayctl made" \
  "role police.d02: up to date|role bureau.d02: up to date|role government.d02: up to date|role service: up to date" \
  "$(paste -sd'|' <<<"$out")"
"${CTL[@]}" district d03 >/dev/null || ay_fail "broker-ctl district d03"
same_acls "police of a district" police.d03 police.d02 d03 d02

# 2. Services.
out=$(ob account add --role service svc-c) || ay_fail "account add service: $out"
grep -qx "role service: up to date" <<<"$out" || ay_fail "service role: $out"
ay_test_account service svc-sh pw-svc

# 3. Devices: broker-ctl's device role and ayctl's are the same.
ay_test_account device d01 sch-1 dev-sh pw-dev
ob device add --school sch-1 --kind button --location x --id dev-c >/dev/null || ay_fail "device add"
same_acls "a device's role" device.d01.sch-1.dev-sh device.d01.sch-1.dev-c dev-sh dev-c

# 4. Both list the same lines, and accounts made both ways alike.
ob account list >"$AY_T/ayctl.list" || ay_fail "ayctl account list"
"${CTL[@]}" list >"$AY_T/ctl.list" || ay_fail "broker-ctl list"
diff "$AY_T/ctl.list" "$AY_T/ayctl.list" || ay_fail "the two lists differ"
line() { grep "^$1	" "$AY_T/ayctl.list" | sed "s/$1/NAME/g"; }
for pair in police-sh:police-c bureau-sh:bureau-c government-sh:government-c svc-sh:svc-c dev-sh:dev-c; do
  ay_expect_eq "accounts ${pair/:/ and }" "$(line "${pair%%:*}")" "$(line "${pair##*:}")"
done
ay_expect_eq "a person's account" "police-c	acks.d01.police.police-c,police.d01	police-c	enabled" \
  "$(grep '^police-c	' "$AY_T/ayctl.list")"
ay_expect_eq "a service" "svc-c	service	-	enabled" "$(grep '^svc-c	' "$AY_T/ayctl.list")"

# 5. A wider ACL added behind their back is taken away again (both tools
#    refresh the shared role the same way).
ay_broker_ctrl "$AY_T/broker" dynsec addRoleACL bureau.d01 subscribePattern 'ay/v1/#' allow 0 >/dev/null 2>&1 ||
  ay_fail "addRoleACL"
out=$(ob account add --role bureau --district d01 bureau-c3) || ay_fail "account add: $out"
grep -qx "role bureau.d01: updated" <<<"$out" || ay_fail "not refreshed: $out"
same_acls "bureau.d01 after the refresh" bureau.d02 bureau.d01 d02 d01

# 6. Accounts of people are not devices, and the other way round.
err=$(ob account disable dev-c 2>&1)
ay_expect_eq "account disable of a device" 2 "$?"
grep -q 'ayctl device disable dev-c' <<<"$err" || ay_fail "$err"
err=$(ob device remove police-c 2>&1)
ay_expect_eq "device remove of a person" 2 "$?"
grep -q 'ayctl account remove police-c' <<<"$err" || ay_fail "$err"
err=$(ob account add --role police admin 2>&1)
ay_expect_eq "the admin account" 2 "$?"
err=$(ob account add --role police police-c 2>&1)
ay_expect_eq "an account twice" 2 "$?"
grep -q 'account police-c exists already' <<<"$err" || ay_fail "$err"
ob account remove police-c >/dev/null || ay_fail "account remove"
ay_expect_eq "its own role gone" "error: Role not found" "$(acls acks.d01.police.police-c)"
ay_expect_eq "the shared role kept" 6 "$(acls police.d01 | wc -l)"
ay_test_pass
