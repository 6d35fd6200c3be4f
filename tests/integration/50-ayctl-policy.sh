#!/usr/bin/env bash
# ayctl policy show|set|import: a district without a policy shows the
# defaults (and says so); a change of one key (dotted paths into chains and
# routes) stores a new version with who set it and a history row, and says
# what changed; import replaces the whole document; every kind of invalid
# input (a bad value, an unknown key, a bad path, a route to a step that
# does not exist, an unknown time zone, a file that is not JSON) is refused
# with exit 2 and the key named, and nothing is stored; the school's chain
# and the device route to the school (issue 12) likewise.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_init
ay_test_start_pg
"$AYCTL" registry add-district d01 "测试区" "Test district" || ay_fail "registry"
"$AYCTL" registry add-district d02 || ay_fail "registry"
me=$(id -un)
out=$AY_T/out
err=$AY_T/err

# ctl ARGS...: ayctl, stdout in $out, stderr in $err; returns its exit code.
ctl() {
  "$AYCTL" "$@" >"$out" 2>"$err"
}
stored() { ay_psql "SELECT coalesce(max(version), 0) || '/' || (SELECT count(*) FROM policy_history WHERE district_id = '${1:-d01}') FROM policies WHERE district_id = '${1:-d01}'"; }
has_err() { grep -qF -- "$1" "$err" || ay_fail "${2:-stderr} lacks '$1': $(cat "$err")"; }

# 1. No policy row: the defaults, said on stderr.
ctl policy show || ay_fail "policy show: $(cat "$err")"
ay_expect_eq "default written report" 1h "$(jq -r .written_report "$out")"
ay_expect_eq "default zone" Asia/Shanghai "$(jq -r .timezone "$out")"
ay_expect_eq "default bureau chain" "duty_officer safety_head city_bureau" \
  "$(jq -r '[.chains.bureau[].target] | join(" ")' "$out")"
ay_expect_eq "default route of severity I" '["bureau@3","government"]' "$(jq -c .routing.SEVERITY_I "$out")"
has_err "district d01 has no stored policy: these are the defaults"
cp "$out" "$AY_T/defaults.json"
rc=0; ctl policy show --district d99 || rc=$?
ay_expect_eq "unregistered district" 2 "$rc"
has_err 'district "d99" is not registered'

# 2. One key: a new version, who set it, its history row, what changed.
ctl policy set written_report 2h || ay_fail "set written_report: $(cat "$err")"
has_err "written_report: 1h -> 2h"
has_err "policy of d01: version 1 stored, set by $me"
ay_expect_eq "stored document" '{"written_report": "2h"}' \
  "$(ay_psql "SELECT doc FROM policies WHERE district_id = 'd01'")"
ay_expect_eq "version and history" "1/1" "$(stored)"
ay_expect_eq "history row" "1|{\"written_report\": \"2h\"}|$me" \
  "$(ay_psql "SELECT version, doc, set_by FROM policy_history WHERE district_id = 'd01'")"
ay_expect_eq "updated_by" "$me" "$(ay_psql "SELECT updated_by FROM policies WHERE district_id = 'd01'")"
ctl policy show || ay_fail "show"
ay_expect_eq "shown" 2h "$(jq -r .written_report "$out")"
has_err "policy of d01: version 1, set "
ay_expect_eq "the rest stays the defaults" "$(jq -c 'del(.written_report)' "$AY_T/defaults.json")" \
  "$(jq -c 'del(.written_report)' "$out")"

# 3. Inside a chain: that chain is copied and changed, the others stay defaults.
ctl policy set 'chains.bureau[0].ack_timeout' 5m || ay_fail "set chain: $(cat "$err")"
has_err "chains.bureau[0].ack_timeout: 15m -> 5m"
ay_expect_eq "bureau chain stored whole, nothing else" "2h|3|5m|t|t" \
  "$(ay_psql "SELECT doc->>'written_report', jsonb_array_length(doc->'chains'->'bureau'),
              doc->'chains'->'bureau'->0->>'ack_timeout', doc->'chains'->'police' IS NULL, doc->'routing' IS NULL
              FROM policies WHERE district_id = 'd01'")"
ay_expect_eq "version 2" "2/2" "$(stored)"

# 4. A route, given as JSON.
ctl policy set routing.SEVERITY_II '["bureau@2", "police"]' || ay_fail "set route: $(cat "$err")"
has_err 'routing.SEVERITY_II: ["bureau@3","government"] -> ["police","bureau@2"]'
ctl policy show || ay_fail "show"
ay_expect_eq "route shown" '["police","bureau@2"]' "$(jq -c .routing.SEVERITY_II "$out")"
ay_expect_eq "version 3" "3/3" "$(stored)"

# 5. Setting what is already stored changes nothing.
ctl policy set written_report 2h || ay_fail "same value: $(cat "$err")"
has_err "policy of d01: no change (version 3 stays)"
ay_expect_eq "still version 3" "3/3" "$(stored)"

# 6. Every kind of invalid input: exit 2, the key named, nothing stored.
before=$(ay_psql "SELECT doc FROM policies WHERE district_id = 'd01'")
refused() { # WHAT EXPECTED-TEXT ARGS...
  local what=$1 text=$2 rc=0
  shift 2
  ctl "$@" || rc=$?
  ay_expect_eq "exit code of $what" 2 "$rc"
  has_err "$text" "$what"
  ay_expect_eq "nothing stored after $what" "3/3" "$(stored)"
  ay_expect_eq "document unchanged after $what" "$before" \
    "$(ay_psql "SELECT doc FROM policies WHERE district_id = 'd01'")"
}
refused "a zero duration" "invalid policy for d01: written_report: expected a duration" \
  policy set written_report 0s
refused "a number for a duration" "written_report: expected a duration" policy set written_report 10
refused "a day past the 28th" "monthly_report_day: expected a whole number from 1 to 28" \
  policy set monthly_report_day 29
refused "a bad duration in a chain" "chains.bureau[0].ack_timeout: expected a duration" \
  policy set 'chains.bureau[0].ack_timeout' soon
refused "a step that is not there" "chains.bureau[7]: no such item: the list has 3" \
  policy set 'chains.bureau[7].target' x
refused "an incomplete new step" "chains.bureau[3].ack_timeout: required" \
  policy set 'chains.bureau[3]' '{"target": "x"}'
refused "a step number out of range" "routing.SEVERITY_II[0]: the step after @ must be 1 to 8" \
  policy set routing.SEVERITY_II '["bureau@9"]'
refused "a route past the chain" "routing.SEVERITY_I: bureau@4, but chains.bureau has 3 step(s)" \
  policy set routing.SEVERITY_I '["bureau@4"]'
refused "a chain too short for a route" "routing.SEVERITY_I: bureau@3, but chains.bureau has 1 step(s)" \
  policy set chains.bureau '[{"target": "duty_officer", "ack_timeout": "15m"}]'
refused "an unknown audience" "routing.SEVERITY_IV[0]: unknown audience" \
  policy set routing.SEVERITY_IV '["army"]'
refused "an unknown key" "written_reprot: unknown key" policy set written_reprot 2h
refused "an unknown key in a step" "chains.police[0].colour: unknown key" \
  policy set 'chains.police[0].colour' red
refused "a key under a value" "written_report: is not an object" policy set written_report.x 1
refused "a bad path" "chains..: empty key" policy set chains..x 1
refused "a bad zone name" 'timezone: expected a time zone name like "Asia/Shanghai"' \
  policy set timezone ../../etc/passwd
refused "an unknown time zone" 'timezone: unknown time zone "Mars/Olympus_Mons"' \
  policy set timezone Mars/Olympus_Mons
printf '{"written_report": "2h",' >"$AY_T/broken.json"
refused "a file that is not JSON" "broken.json: not valid JSON" policy import "$AY_T/broken.json"
echo '[]' >"$AY_T/list.json"
refused "a file that is not an object" "policy: not a JSON object" policy import "$AY_T/list.json"
echo '{"verbal_notice": "15m", "escalate": true}' >"$AY_T/unknown.json"
refused "a file with an unknown key" "escalate: unknown key" policy import "$AY_T/unknown.json"
echo '{"timezone": "Europe/Atlantis"}' >"$AY_T/tz.json"
refused "a file with an unknown zone" 'timezone: unknown time zone "Europe/Atlantis"' \
  policy import "$AY_T/tz.json"
refused "a missing file" "nope.json: cannot open" policy import "$AY_T/nope.json"
refused "no value" "usage: ayctl policy" policy set written_report

# 7. import replaces the whole document (from a file, or stdin).
cat >"$AY_T/new.json" <<'EOF'
{"timezone": "America/New_York", "verbal_notice": "15m", "written_report": "2h"}
EOF
ctl policy import "$AY_T/new.json" || ay_fail "import: $(cat "$err")"
has_err "timezone: Asia/Shanghai -> America/New_York"
has_err "verbal_notice: 30m -> 15m"
has_err "chains.bureau[0].ack_timeout: 5m -> 15m"
has_err "routing.SEVERITY_II: [\"police\",\"bureau@2\"] -> [\"bureau@3\",\"government\"]"
grep -q "written_report" "$err" && ay_fail "an unchanged key was listed: $(cat "$err")"
ay_expect_eq "version 4" "4/4" "$(stored)"
ay_expect_eq "document replaced" "$(jq -cS . "$AY_T/new.json")" \
  "$(ay_psql "SELECT doc FROM policies WHERE district_id = 'd01'" | jq -cS .)"
"$AYCTL" policy import - <"$AY_T/new.json" >"$out" 2>"$err" || ay_fail "import -: $(cat "$err")"
has_err "no change (version 4 stays)"
echo '{"written_report": "90m"}' | "$AYCTL" policy import - >"$out" 2>"$err" || ay_fail "import -"
ay_expect_eq "version 5 from stdin" "5/5" "$(stored)"
ay_expect_eq "every version kept, in order" "1 2h|2 2h|3 2h|4 2h|5 90m" \
  "$(ay_psql "SELECT string_agg(version || ' ' || (doc->>'written_report'), '|' ORDER BY version)
              FROM policy_history WHERE district_id = 'd01'")"

# 8. Another district is its own; --district chooses it.
ctl policy set verbal_notice 20m --district d02 || ay_fail "d02: $(cat "$err")"
ay_expect_eq "d02 version 1" "1/1" "$(stored d02)"
ay_expect_eq "d01 untouched" "5/5" "$(stored)"

# 9. A stored document the services would refuse (written behind ayctl's
# back) is reported, and a set builds a valid one (the bad key named until fixed).
"$AYCTL" registry add-district d03 || ay_fail "registry"
ay_psql "INSERT INTO policies (district_id, doc) VALUES ('d03', '{\"written_report\": \"0s\"}')"
rc=0; ctl policy show --district d03 || rc=$?
ay_expect_eq "show of a broken stored policy" 1 "$rc"
has_err "the stored policy of d03 is invalid: written_report: expected a duration"
refused_d03() { local rc=0; ctl "$@" || rc=$?; ay_expect_eq "exit of $*" 2 "$rc"; }
refused_d03 policy set verbal_notice 20m --district d03
has_err "written_report: expected a duration"
ctl policy set written_report 3h --district d03 || ay_fail "fixing d03: $(cat "$err")"
ay_expect_eq "d03 fixed" '{"written_report": "3h"}' \
  "$(ay_psql "SELECT doc FROM policies WHERE district_id = 'd03'")"

# 10. The school audience (issue 12): its chain and the device route, shown
# and set like the others; errors name the key.
ctl policy show --district d02 || ay_fail "show d02: $(cat "$err")"
ay_expect_eq "default school chain" "safety_office 校安办 15m 5m" \
  "$(jq -r '.chains.school[] | "\(.target) \(.name_zh) \(.ack_timeout) \(.reminder)"' "$out")"
ay_expect_eq "default device route" '["bureau","school"]' "$(jq -c .routing.device "$out")"
ctl policy set 'chains.school[0].ack_timeout' 30m --district d02 || ay_fail "school chain: $(cat "$err")"
has_err "chains.school[0].ack_timeout: 15m -> 30m"
ctl policy set routing.device '["school"]' --district d02 || ay_fail "device route: $(cat "$err")"
has_err 'routing.device: ["bureau","school"] -> ["school"]'
ay_expect_eq "d02 stored" '30m|["school"]' \
  "$(ay_psql "SELECT doc->'chains'->'school'->0->>'ack_timeout', doc->'routing'->>'device'
              FROM policies WHERE district_id = 'd02'" | tr -d ' ')"
rc=0; ctl policy set 'chains.school[0].reminder' often --district d02 || rc=$?
ay_expect_eq "a bad school step" 2 "$rc"
has_err "chains.school[0].reminder: expected a duration"
rc=0; ctl policy set routing.device '["school@2"]' --district d02 || rc=$?
ay_expect_eq "a route past the school's chain" 2 "$rc"
has_err "routing.device: school@2, but chains.school has 1 step(s)"
ay_test_pass
