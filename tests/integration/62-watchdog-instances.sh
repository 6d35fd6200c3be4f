#!/usr/bin/env bash
# Several watchdogs share the work and each deadline fires exactly once;
# a watchdog killed and restarted after an outage fires what fell due
# meanwhile once, with its true due time, and sends one reminder per
# escalation where several fell due, not a storm of stale ones.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
ay_test_policy '{"written_report":"3s",
  "chains":{"bureau":[{"target":"duty_officer","ack_timeout":"1h","reminder":"2s"}],
            "police":[{"target":"liaison","ack_timeout":"1h","reminder":"1h"}],
            "government":[{"target":"duty","ack_timeout":"1h","reminder":"1h"}]},
  "routing":{"SEVERITY_I":["bureau"],"SEVERITY_II":["bureau"],"SEVERITY_III":[],"SEVERITY_IV":[]}}'
ay_test_start_recorder
ay_test_start_watchdog wd1 1
ay_test_start_watchdog wd2 2
ay_sub_start feed bureau escalation bureau
topic=ay/v1/d01/school/sch-0102/btn-0102-01/notice
publish_notices() { # N PREFIX
  local i
  for i in $(seq 1 "$1"); do
    jq --arg t "$(ay_now_iso)" '.occurredAt = $t | del(.discoveredAt)' \
      "$AY_SOURCE_DIR/tests/data/e2e/notice.json" >"$AY_T/n.json"
    ay_ctl device encode notice --json "$AY_T/n.json" >"$AY_T/$2$i.bin" || ay_fail "encode"
    mosquitto_pub -V 5 -q 1 -p "$AY_MQTT_PORT" -u btn-0102-01 -P dev-pw -i btn-0102-01 \
      -t "$topic" -f "$AY_T/$2$i.bin" || ay_fail "mosquitto_pub"
  done
}
missed_count() { ay_psql "SELECT count(*) FROM deadlines WHERE kind = 'DEADLINE_KIND_WRITTEN_REPORT' AND status = 'missed'"; }

# 1. Two watchdogs, 20 deadlines due at about the same time.
publish_notices 20 a
ay_sql_eq "20 written reports missed" 20 "SELECT count(*) FROM deadlines WHERE kind = 'DEADLINE_KIND_WRITTEN_REPORT' AND status = 'missed'"
ay_expect_eq "each escalated once" "20|20" \
  "$(ay_psql "SELECT count(*), count(DISTINCT deadline_id) FROM escalations WHERE reason = 'ESCALATION_REASON_DEADLINE_MISSED'")"
ay_expect_eq "both watchdogs fired some (SKIP LOCKED shares the work), or one all" t \
  "$(ay_psql "SELECT count(*) = 20 FROM audit_events WHERE action = 'deadline.missed'")"
first_msgs() { jq -s '[.[] | select(.message.kind == "NOTIFICATION_KIND_FIRST")] | length' "$AY_T/feed.out"; }
ay_wait_until 15 "20 first notifications published" bash -c "[ \$(jq -s '[.[] | select(.message.kind == \"NOTIFICATION_KIND_FIRST\")] | length' '$AY_T/feed.out') -ge 20 ]" ||
  ay_fail "published: $(first_msgs)"
ay_expect_eq "each published once (never twice by two senders)" 20 \
  "$(jq -r 'select(.message.kind == "NOTIFICATION_KIND_FIRST") | .message.header.messageId' "$AY_T/feed.out" | sort -u | wc -l)"
ay_expect_eq "no notification id repeated" 0 \
  "$(jq -r 'select(.message.kind == "NOTIFICATION_KIND_FIRST") | .message.header.messageId' "$AY_T/feed.out" | sort | uniq -d | wc -l)"

# 2. Both killed (no clean stop); 10 more deadlines fall due meanwhile and
#    the 20 escalations' reminders (every 2 s) pile up for 8 s.
ay_stop wd1 KILL
ay_stop wd2 KILL
publish_notices 10 b
sleep 8
restart=$(ay_psql "SELECT clock_timestamp()")
ay_test_start_watchdog wd3 3
ay_sql_eq "the 10 that fell due meanwhile fired" 30 "SELECT count(*) FROM deadlines WHERE kind = 'DEADLINE_KIND_WRITTEN_REPORT' AND status = 'missed'"
ay_expect_eq "each once, late by the outage (its true due time kept)" "10|t" \
  "$(ay_psql "SELECT count(*), min(fired_at - due_at) > interval '2 seconds' FROM deadlines
              WHERE kind = 'DEADLINE_KIND_WRITTEN_REPORT' AND fired_at > '$restart'")"
ay_expect_eq "still one escalation per deadline" "30|30" \
  "$(ay_psql "SELECT count(*), count(DISTINCT deadline_id) FROM escalations WHERE reason = 'ESCALATION_REASON_DEADLINE_MISSED'")"
ay_wait_until 10 "the stale escalations reminded" ay__sql_ge 20 \
  "SELECT count(DISTINCT escalation_id) FROM notifications WHERE kind = 'NOTIFICATION_KIND_REMINDER' AND created_at > '$restart'" ||
  ay_fail "no reminders after the restart"
# No storm: reminders of one escalation never closer together than half
# their interval (2 s), also right after the outage when four had fallen
# due. Reminders keep to their schedule, so one sent late (seen: 0.8 s on a
# loaded machine) is followed by one on time, 1.2 s after it; a storm of
# stale ones would come milliseconds apart.
ay_expect_eq "no burst of stale reminders" 0 \
  "$(ay_psql "SELECT count(*) FROM (SELECT created_at - lag(created_at) OVER (PARTITION BY escalation_id ORDER BY created_at) AS gap
              FROM notifications) x WHERE gap < interval '1000 milliseconds'")"
ay_test_pass
