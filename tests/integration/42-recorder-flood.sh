#!/usr/bin/env bash
# One device flooding junk costs a bounded amount: a few log lines and a
# summary count, at most dead_letter_cap dead letters per hour (the rest
# counted in dead_letter_overflow), and every valid alarm it sends in the
# middle of it is still stored.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
cat >>"$AY_T/etc/recorder.conf" <<CONF
dead_letter_cap = 50
stats_interval_s = 3
CONF
ay_test_start_recorder
mosquitto_pub -V 5 -q 1 -p "$AY_MQTT_PORT" -u btn-0102-01 -P dev-pw -i btn-0102-01 --repeat 2000 \
  -t ay/v1/d01/school/sch-0102/btn-0102-01/alarm -m 'junk junk junk' || ay_fail "mosquitto_pub"
r=$(ay_ctl device pub alarm --json "$AY_SOURCE_DIR/tests/data/e2e/alarm.json") ||
  ay_fail "valid alarm during the flood"
ay_expect_eq "valid alarm stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
# The cap is checked per batch: two workers' concurrent batches may each
# still see room, so it may be passed by at most a batch per worker.
ay_sql_eq "every refusal kept or counted" 2000 \
  "SELECT (SELECT count(*) FROM dead_letters WHERE device_id = 'btn-0102-01') +
          (SELECT coalesce(sum(count), 0) FROM dead_letter_overflow WHERE device_id = 'btn-0102-01')"
kept=$(ay_psql "SELECT count(*) FROM dead_letters WHERE device_id = 'btn-0102-01'")
[ "$kept" -ge 50 ] && [ "$kept" -le 150 ] || ay_fail "$kept dead letters kept with a cap of 50"
# Every refusal is either one of a few lines or in a logged count.
accounted() {
  lines=$(grep -c 'msg="rejected message".*device=btn-0102-01' "$AY_T/log/recorder.log")
  counted=$(grep 'more rejected messages, not logged one by one.*device=btn-0102-01' \
    "$AY_T/log/recorder.log" | sed -E 's/.* count=([0-9]+).*/\1/' | awk '{s += $1} END {print s + 0}')
  [ $((lines + ${counted:-0})) -eq 2000 ]
}
ay_wait_until 20 "every refusal logged or counted" accounted ||
  ay_fail "refusals: $lines lines, $counted counted"
[ "$lines" -le 20 ] || ay_fail "$lines log lines for one device's junk"
ay_test_pass
