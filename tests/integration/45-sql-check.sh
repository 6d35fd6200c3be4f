#!/usr/bin/env bash
# Every SQL statement of every service (their .sql files, embedded by the
# build) prepares against a migrated database: `--check-sql` says how many;
# against an empty database it fails naming the statement.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_init
ay_test_start_pg
for bin in "$AY_BUILD_DIR"/services/*/ay-*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  out=$(DATABASE_URL=$DATABASE_URL "$bin" --check-sql 2>&1) || ay_fail "$name --check-sql: $out"
  grep -qE "^${name#ay-}: [0-9]+ SQL statements prepared$" <<<"$out" || ay_fail "$name: $out"
done
ay_pg_superuser_sql "$AY_T/pg" "$AY_PG_PORT" -c "CREATE DATABASE empty OWNER anyuan" >/dev/null ||
  ay_fail "create database"
empty=${DATABASE_URL%/*}/empty
out=$(DATABASE_URL=$empty "$AY_BUILD_DIR/services/recorder/ay-recorder" --check-sql 2>&1) &&
  ay_fail "--check-sql passed against an empty database"
grep -q 'cannot prepare the service.s SQL.*does not exist' <<<"$out" || ay_fail "output: $out"
ay_test_pass
