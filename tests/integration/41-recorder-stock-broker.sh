#!/usr/bin/env bash
# A user's own, stock Mosquitto (max_inflight_messages 20, no
# set_tcp_nodelay, retained messages allowed) must not make the system
# crawl: after a burst of 3000 messages the receipt of an unrelated device
# still arrives within seconds (receipts used to leave at ~20/s: Paho stalls
# 1 s per full in-flight window). And a retained publish, which this broker
# allows, is refused by the recorder with a receipt saying why.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_init
ay_test_start_pg
ay_test_start_stock_broker
AY_MQTT_URL="tcp://127.0.0.1:$AY_STOCK_PORT"
mkdir -p "$AY_T/etc"
ay_test_conf recorder svc-recorder x "stats_interval_s = 1"
ay_test_conf device btn-0102-01 x "school = sch-0102" "receipt_wait_ms = 20000" "timeout_ms = 60000"
ay_test_conf other btn-0102-02 x "school = sch-0102" "receipt_wait_ms = 20000" "timeout_ms = 60000"
"$AYCTL" registry add-district d01 || ay_fail registry
"$AYCTL" registry add-school d01 sch-0102 || ay_fail registry
"$AYCTL" registry add-device sch-0102 btn-0102-01 button || ay_fail registry
"$AYCTL" registry add-device sch-0102 btn-0102-02 button || ay_fail registry
ay_test_start_recorder
ay_log_has recorder 'the broker accepts few messages in flight.*receive_max=20' ||
  ay_fail "the recorder did not say that the broker's window is small"

# A burst: 1800 junk messages from one device, each answered with a
# REJECTED receipt as fast as the recorder refuses them (fewer than the
# 2000 a stock broker queues for a consumer: it drops QoS 1 messages past
# max_queued_messages 1000 plus the 1000 in flight, see docs/broker.md).
mosquitto_pub -V 5 -q 1 -p "$AY_STOCK_PORT" -i btn-0102-01 --repeat 1800 -m junk \
  -t ay/v1/d01/school/sch-0102/btn-0102-01/alarm || ay_fail "mosquitto_pub"
start=$(date +%s%N)
r=$(ay_ctl other pub alarm --json "$AY_SOURCE_DIR/tests/data/e2e/alarm.json") ||
  ay_fail "the other device got no receipt"
took_ms=$((($(date +%s%N) - start) / 1000000))
ay_expect_eq "receipt" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
echo "receipt after the burst: $took_ms ms"
[ "$took_ms" -le 3000 ] || ay_fail "the unrelated device waited $took_ms ms for its receipt"
burst_done() { grep -qE 'msg=stats stored=1 duplicates=0 rejected=1800 ' "$AY_T/log/recorder.log"; }
ay_wait_until 60 "the burst refused" burst_done ||
  ay_fail "burst: $(grep msg=stats "$AY_T/log/recorder.log" | tail -n 1)"

# A retained alarm: refused, with a receipt that says why; not stored.
ay_ctl other encode alarm --json "$AY_SOURCE_DIR/tests/data/e2e/alarm.json" >"$AY_T/a.bin" ||
  ay_fail "ayctl encode"
ay_sub_start receipts other --topic 'ay/v1/d01/receipt/sch-0102/btn-0102-02' --count 1
mosquitto_pub -V 5 -q 1 -r -p "$AY_STOCK_PORT" -i btn-0102-02x \
  -t ay/v1/d01/school/sch-0102/btn-0102-02/alarm -f "$AY_T/a.bin" || ay_fail "mosquitto_pub -r"
ay_wait_until 30 "receipt for the retained alarm" test -s "$AY_T/receipts.out" ||
  ay_fail "no receipt for the retained alarm"
ay_expect_eq "status" RECEIPT_STATUS_REJECTED "$(jq -r .message.status "$AY_T/receipts.out")"
grep -q 'published with the retain flag' <<<"$(jq -r .message.reason "$AY_T/receipts.out")" ||
  ay_fail "reason: $(cat "$AY_T/receipts.out")"
ay_expect_eq "retained alarm not stored" 1 "$(ay_psql 'SELECT count(*) FROM alarms')"
ay_expect_eq "kept as a dead letter" 1 \
  "$(ay_psql "SELECT count(*) FROM dead_letters WHERE reason LIKE '%retain flag%'")"
ay_test_pass
