#!/usr/bin/env bash
# tests/style/config_doc.sh - docs/configuration.md shows exactly the
# configuration tables the programs have (their --config-reference output),
# so the reference cannot drift from the code. With --write it rewrites the
# tables in place.
set -uo pipefail
src=${AY_SOURCE_DIR:?}
build=${AY_BUILD_DIR:?}
doc=$src/docs/configuration.md
declare -A cmd=(
  [ayctl]="$build/tools/ayctl/ayctl config-reference"
  [ay-recorder]="$build/services/recorder/ay-recorder --config-reference"
  [ay-watchdog]="$build/services/watchdog/ay-watchdog --config-reference"
  [ay-alarmfeed]="$build/services/alarmfeed/ay-alarmfeed --config-reference"
)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
fail=0
for prog in "${!cmd[@]}"; do
  grep -q "<!-- config: $prog -->" "$doc" || { echo "docs/configuration.md has no table for $prog"; fail=1; continue; }
  want=$(env -i PATH=/usr/bin:/bin ${cmd[$prog]}) || { echo "cannot run $prog"; fail=1; continue; }
  # The table is the block of lines starting with '|' right after the marker.
  have=$(awk -v m="<!-- config: $prog -->" '$0 == m {on=1; next} on && /^\|/ {print; next} on {exit}' "$doc")
  if [ "$have" != "$want" ]; then
    if [ "${1:-}" = "--write" ]; then
      awk -v m="<!-- config: $prog -->" -v t="$want" '
        $0 == m {print; print t; skip=1; next}
        skip && /^\|/ {next}
        {skip=0; print}' "$doc" >"$tmp" && cp "$tmp" "$doc"
      echo "rewrote the $prog table"
    else
      echo "docs/configuration.md: the $prog table differs from '$prog --config-reference':"
      diff <(echo "$have") <(echo "$want")
      fail=1
    fi
  fi
done
[ $fail -eq 0 ] && echo "config_doc: ok"
exit $fail
