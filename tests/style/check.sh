#!/usr/bin/env bash
# tests/style/check.sh - style.md rules a machine can check: clang-format
# clean, no banned functions, only lib/ay_mqtt.c includes MQTTAsync.h and
# only lib/ay_pg.c includes libpq-fe.h, no generated protobuf C committed.
set -uo pipefail
cd "${AY_SOURCE_DIR:-$(dirname "$0")/../..}"
fail=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find lib services gateways tools tests bench -name '*.[ch]')
for f in $files; do
  [ -f "$f" ] || continue
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not clang-format clean: $f (run clang-format -i $f)"
    fail=1
  fi
done
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets|system)\s*\('
if grep -nE "$banned" $files | grep -v '^\s*/\*' | grep -vE 'snprintf|vsnprintf'; then
  echo "banned function used (style.md section 4)"
  fail=1
fi
# devices/reference/link.c too: the reference device is the model integrators
# copy, self-contained (no lib/), so it shows its Paho calls itself.
if grep -ln 'MQTTAsync.h' $files | grep -vE '^(lib/ay_mqtt.c|devices/reference/link.c)$'; then
  echo "only lib/ay_mqtt.c (and devices/reference/link.c) may include MQTTAsync.h"
  fail=1
fi
# libmosquitto: only lib/ay_mqtt_own.c (the own-thread client behind ay_mqtt),
# the bench's load generators and responder, and the broker's own plugin.
if grep -ln '<mosquitto.h>' $files | grep -vE '^(lib/ay_mqtt_own.c|bench/.*|broker-plugin/.*)$'; then
  echo "only lib/ay_mqtt_own.c (and bench/, broker-plugin/) may include mosquitto.h"
  fail=1
fi
if grep -ln 'libpq-fe.h' $files | grep -v '^lib/ay_pg.c$'; then
  echo "only lib/ay_pg.c may include libpq-fe.h"
  fail=1
fi
if git ls-files '*.pb-c.c' '*.pb-c.h' 2>/dev/null | grep -q .; then
  echo "generated protobuf-c files are committed"
  fail=1
fi
[ $fail -eq 0 ] && echo "style: ok"
exit $fail
