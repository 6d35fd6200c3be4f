#!/usr/bin/env bash
# Issue 14: `ayctl device import` adds every device of a CSV file, all or
# nothing. A bad file changes nothing, neither in the registry nor on the
# broker, and names the line and the field; so does a file the registry or
# the broker refuses (a school it does not know, an id taken, a leftover
# account). A good file of 1,000 devices imports in seconds (the time is
# printed); their secrets go to a file of mode 0600 and work. Admin
# commands running at the same time all succeed: each ayctl has its own
# client id and takes only the dynsec answers correlated to its requests.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
source "$AY_SOURCE_DIR/tests/lib/onboard.sh"
ay_test_stack
ob_ops_conf
"$AYCTL" registry add-school d01 sch-0103 "第二学校" "Second school" || ay_fail "registry"
"$AYCTL" registry add-school d01 sch-0104 "第三学校" "Third school" || ay_fail "registry"
S=$AY_T/secrets.csv

# csv_of N FILE [SCHOOL]: N devices of sch-0102 (ids given for even ones,
# made up for odd ones; kinds, positions and shops mixed), as a
# spreadsheet writes them (BOM, CRLF).
csv_of() {
  local n=$1 f=$2 i
  {
    printf '\xef\xbb\xbfid,kind,location,geo,shop,heartbeat\r\n'
    for ((i = 1; i <= n; i++)); do
      case $((i % 4)) in
        0) printf 'imp-%04d,button,"教学楼 %d 层, 东侧",%s,,60s\r\n' "$i" $((i % 6)) "\"31.8$i,117.2\"" ;;
        1) printf ',panel,门卫室 %d,,,30\r\n' "$i" ;;
        2) printf 'imp-%04d,nearby_shop,学府路 %d 号,,"便利店 ""%d""",2m\r\n' "$i" "$i" "$i" ;;
        3) printf ',gateway,机房,,,\r\n' ;;
      esac
    done
  } >"$f"
}
n_rows() { ay_psql "SELECT count(*) FROM devices"; }
n_accounts() { ob account list | wc -l; }
rows=$(n_rows)
accts=$(n_accounts)
nothing_changed() {
  ay_expect_eq "$1: registry unchanged" "$rows" "$(n_rows)"
  ay_expect_eq "$1: accounts unchanged" "$accts" "$(n_accounts)"
  [ ! -e "$S" ] || ay_fail "$1: a secrets file was left"
}

# 1. A bad file: its line and field named, nothing changed.
csv_of 1000 "$AY_T/bad.csv"
sed -i '537s/,gateway,/,gatewy,/; 537s/,panel,/,panl,/; 537s/,button,/,buton,/; 537s/,nearby_shop,/,nearby-shop,/' "$AY_T/bad.csv"
err=$(ob device import "$AY_T/bad.csv" --school sch-0102 --secrets "$S" 2>&1)
ay_expect_eq "bad kind: exit" 2 "$?"
grep -qE '^ayctl: device import: .*/bad.csv: line 537: kind: "[a-z_-]+" is not one of button, panel, app, nearby_shop, nearby_home, gateway \(nothing was imported\)$' <<<"$err" ||
  ay_fail "bad kind: $err"
nothing_changed "bad kind"
csv_of 20 "$AY_T/bad2.csv"
sed -i '13s/^imp-0012,/imp-0004,/' "$AY_T/bad2.csv"
err=$(ob device import "$AY_T/bad2.csv" --school sch-0102 --secrets "$S" 2>&1)
ay_expect_eq "an id twice: exit" 2 "$?"
grep -q 'line 13: id: "imp-0004" is also on line 5' <<<"$err" || ay_fail "id twice: $err"
nothing_changed "id twice"

# 2. Files the registry or the broker refuse: named, nothing changed.
csv_of 50 "$AY_T/r.csv"
printf 'kind,location,school\r\nbutton,a,sch-0102\r\nbutton,b,sch-nope\r\n' >"$AY_T/school.csv"
err=$(ob device import "$AY_T/school.csv" --secrets "$S" 2>&1)
ay_expect_eq "unknown school: exit" 2 "$?"
grep -q 'line 3: school: "sch-nope" is not in the registry' <<<"$err" || ay_fail "unknown school: $err"
nothing_changed "unknown school"
sed -i '31s/^imp-0030,/btn-0102-01,/' "$AY_T/r.csv"
err=$(ob device import "$AY_T/r.csv" --school sch-0102 --secrets "$S" 2>&1)
ay_expect_eq "an id taken: exit" 2 "$?"
grep -q 'line 31: id: device "btn-0102-01" exists already' <<<"$err" || ay_fail "id taken: $err"
nothing_changed "id taken"
csv_of 50 "$AY_T/r.csv"
ay_test_account device d01 sch-0102 imp-0042 pw-left
accts=$((accts + 1))
err=$(ob device import "$AY_T/r.csv" --school sch-0102 --secrets "$S" 2>&1)
ay_expect_eq "a leftover account: exit" 2 "$?"
grep -q 'line 43: id: the broker has an account imp-0042 already' <<<"$err" || ay_fail "leftover: $err"
nothing_changed "leftover"
"$AY_SOURCE_DIR/deploy/broker-ctl" --dir "$AY_T/broker" delete imp-0042 >/dev/null || ay_fail "delete"
accts=$((accts - 1))
echo keep >"$S"
err=$(ob device import "$AY_T/r.csv" --school sch-0102 --secrets "$S" 2>&1)
ay_expect_eq "secrets never overwritten" 2 "$?"
ay_expect_eq "the old file kept" keep "$(cat "$S")"
rm -f "$S"
nothing_changed "secrets file exists"

# 3. 1,000 devices, in seconds.
csv_of 1000 "$AY_T/good.csv"
start=$(date +%s%N)
out=$(ob device import "$AY_T/good.csv" --school sch-0102 --secrets "$S") || ay_fail "import: $out"
took_ms=$((($(date +%s%N) - start) / 1000000))
echo "MEASURED: $out"
echo "MEASURED: 1000 devices imported in $((took_ms / 1000)).$(printf %03d $((took_ms % 1000))) s" \
  "(wall clock of the ayctl process, this build)"
# The figure is the printed one (README, "Measured"); the bound only catches
# a return to one broker round trip per device, which took many minutes, and
# leaves room for a machine loaded by other tests (83 s seen at load 10).
[ "$took_ms" -lt 300000 ] || ay_fail "1000 devices took $took_ms ms"
ay_expect_eq "rows" $((rows + 1000)) "$(n_rows)"
ay_expect_eq "accounts" $((accts + 1000)) "$(n_accounts)"
ay_expect_eq "each with its own role (and btn-0102-01)" 1001 \
  "$(ob account list | awk -F'\t' '$2 == "device.d01.sch-0102." $1 && $3 == $1' | wc -l)"
ay_expect_eq "secrets file mode" 600 "$(stat -c %a "$S")"
ay_expect_eq "secrets lines" 1001 "$(wc -l <"$S")"
ay_expect_eq "registry as in the file" "31.84|教学楼 4 层, 东侧|60" \
  "$(ay_psql "SELECT latitude, location, heartbeat_s FROM devices WHERE id = 'imp-0004'")"
ay_expect_eq "a shop" '便利店 "2"|120' \
  "$(ay_psql "SELECT place_name, heartbeat_s FROM devices WHERE id = 'imp-0002'")"
ay_expect_eq "an audit row each" 1000 \
  "$(ay_psql "SELECT count(*) FROM audit_events WHERE action = 'device.added' AND detail->>'via' = '$AY_T/good.csv'")"
# Some secrets of the file, tried on the broker.
for line in 2 500 1001; do
  IFS=, read -r id school district user pw cid <<<"$(sed -n "${line}p" "$S")"
  ay_expect_eq "secret of $id ($school $district)" 0 "$(mosquitto_pub -V 5 -h 127.0.0.1 -p "$AY_MQTT_PORT" \
    -i "$cid" -u "$user" -P "$pw" -q 1 -t "ay/v1/d01/school/sch-0102/$id/status" -m x >/dev/null 2>&1; echo $?)"
done

# 4. Admin commands at the same time: two imports, single adds, a person's
#    account; all succeed, each device with its account.
csv_of 150 "$AY_T/c1.csv"
sed -i 's/^imp-/c1-/' "$AY_T/c1.csv"
csv_of 150 "$AY_T/c2.csv"
sed -i 's/^imp-/c2-/' "$AY_T/c2.csv"
ob device import "$AY_T/c1.csv" --school sch-0103 --secrets "$AY_T/s1.csv" >"$AY_T/c1.out" 2>&1 &
p1=$!
ob device import "$AY_T/c2.csv" --school sch-0104 --profiles "$AY_T/profiles" >"$AY_T/c2.out" 2>&1 &
p2=$!
for i in 1 2 3; do
  ob device add --school sch-0103 --kind button --location "add $i" --id "one-$i" >"$AY_T/a$i.out" 2>&1 &
  eval "p$((i + 2))=\$!"
done
ob account add --role bureau --district d01 bureau-cc >"$AY_T/acc.out" 2>&1 &
p6=$!
for p in p1 p2 p3 p4 p5 p6; do
  wait "${!p}" || ay_fail "concurrent command $p failed: $(cat "$AY_T"/c1.out "$AY_T"/c2.out "$AY_T"/a*.out "$AY_T/acc.out")"
done
ay_expect_eq "all their rows" 303 "$(ay_psql "SELECT count(*) FROM devices WHERE school_id IN ('sch-0103', 'sch-0104')")"
ob device list --district d01 >"$AY_T/list.txt" || ay_fail "device list"
ay_expect_eq "every device with its account" $((rows + 1303)) "$(grep -cE ' (enabled) +ok ' "$AY_T/list.txt")"
ay_expect_eq "profiles, private" "150|600" \
  "$(echo "$(ls "$AY_T/profiles" | wc -l)|$(stat -c %a "$AY_T/profiles/c2-0004.json")")"
ay_expect_eq "a profile is a profile" "c2-0004|sch-0104" \
  "$(jq -r '[.deviceId, .schoolId] | join("|")' "$AY_T/profiles/c2-0004.json")"
grep -q "^bureau-cc	acks.d01.bureau.bureau-cc,bureau.d01	bureau-cc	enabled$" <(ob account list) ||
  ay_fail "the bureau account made alongside"
ay_test_pass
