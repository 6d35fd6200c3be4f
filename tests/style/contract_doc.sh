#!/usr/bin/env bash
# tests/style/contract_doc.sh - docs/contract.md and tests/data/valid/ never drift apart.
#
# For every line `<!-- example: NAME -->` in the contract, the very next line
# must open a ```json block; the block's content must equal
# tests/data/valid/NAME.json byte for byte, after trailing whitespace is
# stripped from every line and trailing blank lines are dropped. Every message
# type must have such an example: the types are ayctl's list (`ayctl --help`,
# when $AY_BUILD_DIR holds a built ayctl) and the rows of lib/ay_msgtype.c.
# No python, no jq: bash, awk, diff only.
#
# Environment: AY_SOURCE_DIR (default: this script's repository),
# AY_BUILD_DIR (optional), AY_CONTRACT_DOC (default: docs/contract.md; the
# file to check, so a test can point it at a modified copy).
# Exit status: 0 in step, 1 drift or a missing example, 2 setup error.
set -uo pipefail

src=${AY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
doc=${AY_CONTRACT_DOC:-$src/docs/contract.md}
data=$src/tests/data/valid
[ -f "$doc" ] || { echo "contract_doc: $doc not found" >&2; exit 2; }
[ -d "$data" ] || { echo "contract_doc: $data not found" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/contract_doc.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# Normalises a file: no trailing whitespace on any line, no trailing blank lines.
normalise() {
  awk '{ sub(/[ \t\r]+$/, ""); lines[NR] = $0 }
       END { n = NR; while (n > 0 && lines[n] == "") n--; for (i = 1; i <= n; i++) print lines[i] }' "$1"
}

# Extracts every example into $tmp/ex/NAME.<k>.json and lists "NAME<TAB>LINE"
# in $tmp/markers; structural errors go to $tmp/errors.
mkdir -p "$tmp/ex"
awk -v out="$tmp/ex" -v markers="$tmp/markers" -v errors="$tmp/errors" '
  function flush() { close(file); inblock = 0 }
  state == "fence" {
    if ($0 ~ /^```json[ \t]*$/) { state = "block"; next }
    printf "line %d: marker for %s is not immediately followed by a ```json line\n", mline, name >> errors
    state = ""
  }
  state == "block" {
    if ($0 ~ /^```[ \t]*$/) { state = ""; close(file); next }
    print > file
    next
  }
  /<!--[ \t]*example:/ {
    line = $0
    if (line !~ /^<!-- example: [a-z][a-z0-9-]* -->[ \t]*$/) {
      printf "line %d: malformed example marker: %s\n", NR, line >> errors
      next
    }
    name = line; sub(/^<!-- example: /, "", name); sub(/ -->.*$/, "", name)
    count[name]++
    file = out "/" name "." count[name] ".json"
    printf "" > file
    printf "%s\t%d\t%s\n", name, NR, file >> markers
    mline = NR; state = "fence"
  }
  END { if (state != "") printf "line %d: example %s: unterminated block\n", mline, name >> errors }
' "$doc"

fail=0
if [ -s "$tmp/errors" ]; then
  sed 's/^/contract_doc: /' "$tmp/errors"
  fail=1
fi

# Compare each example with its file.
if [ -s "$tmp/markers" ]; then
  while IFS=$'\t' read -r name line file; do
    want=$data/$name.json
    if [ ! -f "$want" ]; then
      echo "contract_doc: line $line: example \"$name\" has no tests/data/valid/$name.json"
      fail=1
      continue
    fi
    normalise "$want" >"$tmp/want.json"
    normalise "$file" >"$tmp/got.json"
    if ! diff -u --label "tests/data/valid/$name.json" --label "docs/contract.md (example at line $line)" \
      "$tmp/want.json" "$tmp/got.json"; then
      echo "contract_doc: example \"$name\" at line $line differs from tests/data/valid/$name.json"
      fail=1
    fi
  done <"$tmp/markers"
fi

# The message types: ayctl's list and the registry table.
types=$(sed -n 's/^[[:space:]]*{"\([a-z][a-z-]*\)", \(NULL\|"[a-z-]*"\), AY_DIR_[A-Z]*,.*$/\1/p' "$src/lib/ay_msgtype.c")
[ -n "$types" ] || { echo "contract_doc: no message types found in lib/ay_msgtype.c" >&2; exit 2; }
ayctl=${AY_BUILD_DIR:+$AY_BUILD_DIR/tools/ayctl/ayctl}
if [ -n "$ayctl" ] && [ -x "$ayctl" ]; then
  # "TYPE: alarm alarm-cancel ...\n      receipt escalation ack" in the usage text.
  cli=$("$ayctl" --help 2>/dev/null | awk '/^TYPE:/ { on = 1; sub(/^TYPE:/, "") }
      on && /^[ \t]*$/ { exit } on { print }' | tr -s ' \t' '\n' | sed '/^$/d')
  [ -n "$cli" ] || { echo "contract_doc: could not read the message types from ayctl --help" >&2; exit 2; }
  types=$(printf '%s\n%s\n' "$types" "$cli" | sort -u)
elif [ -n "${AY_BUILD_DIR:-}" ]; then
  echo "contract_doc: note: $ayctl not built; using lib/ay_msgtype.c only" >&2
fi
for t in $types; do
  if ! grep -q "^$t	" "$tmp/markers" 2>/dev/null; then
    echo "contract_doc: message type \"$t\" has no <!-- example: $t --> in $(basename "$doc")"
    fail=1
  fi
done

n=$(wc -l <"$tmp/markers" 2>/dev/null || echo 0)
[ $fail -eq 0 ] && echo "contract_doc: ok ($n examples, $(printf "%s\n" "$types" | grep -c .) message types)"
exit $fail
