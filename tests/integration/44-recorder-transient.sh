#!/usr/bin/env bash
# A valid message is never rejected because of a transient database error.
# Each class PostgreSQL calls transient is provoked in the recorder's
# transaction (a trigger on messages raises it for the next N inserts):
# serialization failure 40001, deadlock 40P01, lock not available 55P03,
# statement timeout 57014, and a lost connection (the backend terminated).
# Every message is stored once with a STORED receipt, nothing becomes a dead
# letter, and the retries are logged. A permanent refusal, by contrast,
# makes a dead letter of that one message and stores the rest.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_stack
# The injected faults run as the database owner: triggers are schema changes.
ay_psql "
CREATE SEQUENCE fault_seq;
CREATE TABLE fault (code text NOT NULL, upto bigint NOT NULL);
CREATE FUNCTION fault_fire() RETURNS trigger LANGUAGE plpgsql AS \$\$
DECLARE f fault;
BEGIN
  SELECT * INTO f FROM fault LIMIT 1;
  IF f.code IS NOT NULL AND nextval('fault_seq') <= f.upto THEN
    IF f.code = 'kill' THEN
      PERFORM pg_terminate_backend(pg_backend_pid());
    ELSIF f.code = 'poison' AND NEW.body->>'note' = 'poison' THEN
      RAISE EXCEPTION 'injected permanent fault' USING ERRCODE = '23514';
    ELSIF f.code <> 'poison' THEN
      RAISE EXCEPTION 'injected fault %', f.code USING ERRCODE = f.code;
    END IF;
  END IF;
  RETURN NEW;
END \$\$;
CREATE TRIGGER fault BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION fault_fire();" ||
  ay_fail "could not install the fault trigger"
ay_test_start_recorder
data=$AY_SOURCE_DIR/tests/data/e2e

n=0
for code in 40001 40P01 55P03 57014 kill; do
  ay_psql "DELETE FROM fault; INSERT INTO fault VALUES ('$code', 2); SELECT setval('fault_seq', 1, false)" >/dev/null
  r=$(ay_ctl device pub alarm --json "$data/alarm.json") || ay_fail "pub during $code"
  ay_expect_eq "receipt during $code" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
  n=$((n + 1))
  ay_expect_eq "stored once during $code" "$n" "$(ay_psql 'SELECT count(*) FROM alarms')"
done
ay_expect_eq "no dead letters" 0 "$(ay_psql 'SELECT count(*) FROM dead_letters')"
for code in 40001 40P01 55P03 57014; do
  ay_log_has recorder "transient database error, retrying.*sqlstate=$code" ||
    ay_fail "no retry logged for $code"
done
ay_log_has recorder 'database connection lost, reconnecting to retry' || ay_fail "no reconnect logged"
ay_log_has recorder 'database refused' && ay_fail "a transient error was taken as a refusal"

# A permanent refusal of one message: that one is a dead letter, not the batch.
ay_psql "DELETE FROM fault; INSERT INTO fault VALUES ('poison', 1000)" >/dev/null
jq '.note = "poison"' "$data/alarm.json" >"$AY_T/poison.json"
r=$(ay_ctl device pub alarm --json "$AY_T/poison.json" 2>/dev/null)
ay_expect_eq "poisoned message rejected" RECEIPT_STATUS_REJECTED "$(jq -r .status <<<"$r")"
grep -q 'injected permanent fault' <<<"$(jq -r .reason <<<"$r")" || ay_fail "reason: $r"
r=$(ay_ctl device pub alarm --json "$data/alarm.json") || ay_fail "pub after the poison"
ay_expect_eq "the next one stored" RECEIPT_STATUS_STORED "$(jq -r .status <<<"$r")"
ay_test_pass
