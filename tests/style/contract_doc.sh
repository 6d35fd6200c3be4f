#!/usr/bin/env bash
# tests/style/contract_doc.sh - docs/contract.md and tests/data/valid/ never drift apart.
#
# For every line `<!-- example: NAME -->` in the contract, the very next line
# must open a ```json block; the block's content must equal
# tests/data/valid/NAME.json byte for byte, after trailing whitespace is
# stripped from every line and trailing blank lines are dropped. Every message
# type must have such an example: the types are ayctl's list (`ayctl --help`,
# when $AY_BUILD_DIR holds a built ayctl) and the rows of lib/ay_msgtype.c.
# Every example is shown in binary form too (docs/contract.md 4.1): a line
# `<!-- protobuf: NAME -->` followed by a ```base64 block, the base64 (76
# columns) of what `ayctl encode NAME --json tests/data/valid/NAME.json`
# writes; the bytes are compared when $AY_BUILD_DIR holds a built ayctl.
# With --write (and a built ayctl) the base64 blocks are rewritten in place,
# a missing one added after its example.
# No python, no jq: bash, awk, diff, base64 only.
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

ayctl=${AY_BUILD_DIR:+$AY_BUILD_DIR/tools/ayctl/ayctl}
[ -n "$ayctl" ] && [ -x "$ayctl" ] || ayctl=""

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

# The binary form of each example: `<!-- protobuf: NAME -->` and a ```base64
# block, extracted into $tmp/pb/NAME.<k>.b64, listed in $tmp/pbmarkers.
mkdir -p "$tmp/pb" "$tmp/want"
awk -v out="$tmp/pb" -v markers="$tmp/pbmarkers" -v errors="$tmp/pberrors" '
  state == "fence" {
    if ($0 ~ /^```base64[ \t]*$/) { state = "block"; next }
    printf "line %d: marker for the protobuf of %s is not immediately followed by a ```base64 line\n", mline, name >> errors
    state = ""
  }
  state == "block" {
    if ($0 ~ /^```[ \t]*$/) { state = ""; close(file); next }
    print > file
    next
  }
  /<!--[ \t]*protobuf:/ {
    if ($0 !~ /^<!-- protobuf: [a-z][a-z0-9-]* -->[ \t]*$/) {
      printf "line %d: malformed protobuf marker: %s\n", NR, $0 >> errors
      next
    }
    name = $0; sub(/^<!-- protobuf: /, "", name); sub(/ -->.*$/, "", name)
    count[name]++
    file = out "/" name "." count[name] ".b64"
    printf "" > file
    printf "%s\t%d\t%s\n", name, NR, file >> markers
    mline = NR; state = "fence"
  }
  END { if (state != "") printf "line %d: protobuf of %s: unterminated block\n", mline, name >> errors }
' "$doc"
touch "$tmp/pbmarkers"
if [ -s "$tmp/pberrors" ]; then
  sed 's/^/contract_doc: /' "$tmp/pberrors"
  fail=1
fi
if [ -n "$ayctl" ]; then
  while IFS=$'\t' read -r name line file; do
    [ -f "$data/$name.json" ] || continue
    # A clean environment: nothing of the caller's configuration fills a header.
    if ! env -i PATH=/usr/bin:/bin "$ayctl" encode "$name" --json "$data/$name.json" 2>"$tmp/encode.err" |
      base64 -w 76 >"$tmp/want/$name.b64" || [ ! -s "$tmp/want/$name.b64" ]; then
      echo "contract_doc: ayctl encode $name failed: $(cat "$tmp/encode.err")"
      fail=1
    fi
  done <"$tmp/markers"
fi
if [ "${1:-}" = "--write" ]; then
  [ -n "$ayctl" ] || { echo "contract_doc: --write needs a built ayctl in \$AY_BUILD_DIR" >&2; exit 2; }
  # Rewrite every block; after an example without one, add it.
  awk -v want="$tmp/want" -v have="$tmp/pbmarkers" '
    function emit(n,   l, f) {
      f = want "/" n ".b64"; print "```base64"
      while ((getline l < f) > 0) print l
      close(f); print "```"
    }
    BEGIN { while ((getline l < have) > 0) { split(l, a, "\t"); has[a[1]] = 1 } }
    state == "example" && /^```[ \t]*$/ {
      print; state = ""
      if (!has[name]) {
        print ""; print "The same message as binary protobuf (base64 of what `ayctl encode " name "` writes):"
        print ""; print "<!-- protobuf: " name " -->"; emit(name)
      }
      next
    }
    state == "skip" { if ($0 ~ /^```[ \t]*$/) state = ""; next }
    /^<!-- example: [a-z][a-z0-9-]* -->/ { name = $0; sub(/^<!-- example: /, "", name); sub(/ -->.*$/, "", name); state = "example" }
    /^<!-- protobuf: [a-z][a-z0-9-]* -->/ {
      print; n = $0; sub(/^<!-- protobuf: /, "", n); sub(/ -->.*$/, "", n)
      emit(n); getline; state = ($0 ~ /^```base64/) ? "skip" : ""
      if (state == "") print
      next
    }
    { print }' "$doc" >"$tmp/doc.new" && cp "$tmp/doc.new" "$doc" || exit 2
  echo "contract_doc: rewrote the protobuf blocks of $doc"
  exec bash "$0"
fi
while IFS=$'\t' read -r name line file; do
  if ! grep -q "^$name	" "$tmp/pbmarkers"; then
    echo "contract_doc: example \"$name\" at line $line has no <!-- protobuf: $name --> block (run with --write)"
    fail=1
  fi
done <"$tmp/markers"
while IFS=$'\t' read -r name line file; do
  if [ ! -f "$data/$name.json" ]; then
    echo "contract_doc: line $line: protobuf of \"$name\" has no tests/data/valid/$name.json"
    fail=1
  elif [ -n "$ayctl" ] && [ -s "$tmp/want/$name.b64" ] &&
    ! diff -u --label "ayctl encode $name | base64" --label "docs/contract.md (protobuf at line $line)" \
      "$tmp/want/$name.b64" <(normalise "$file"); then
    echo "contract_doc: the protobuf of \"$name\" at line $line is not what ayctl encodes (run with --write)"
    fail=1
  fi
done <"$tmp/pbmarkers"
[ -n "$ayctl" ] || echo "contract_doc: note: no built ayctl; the protobuf blocks' bytes are not checked" >&2

# The message types: ayctl's list and the registry table.
types=$(sed -n 's/^[[:space:]]*{"\([a-z][a-z-]*\)", \(NULL\|"[a-z-]*"\), AY_DIR_[A-Z]*,.*$/\1/p' "$src/lib/ay_msgtype.c")
[ -n "$types" ] || { echo "contract_doc: no message types found in lib/ay_msgtype.c" >&2; exit 2; }
if [ -n "$ayctl" ]; then
  # "TYPE: alarm alarm-cancel ...\n      receipt escalation ack" in the usage text.
  cli=$("$ayctl" --help 2>/dev/null | awk '/^TYPE:/ { on = 1; sub(/^TYPE:/, "") }
      on && /^[ \t]*$/ { exit } on { print }' | tr -s ' \t' '\n' | sed '/^$/d')
  [ -n "$cli" ] || { echo "contract_doc: could not read the message types from ayctl --help" >&2; exit 2; }
  types=$(printf '%s\n%s\n' "$types" "$cli" | sort -u)
elif [ -n "${AY_BUILD_DIR:-}" ]; then
  echo "contract_doc: note: $AY_BUILD_DIR/tools/ayctl/ayctl not built; using lib/ay_msgtype.c only" >&2
fi
for t in $types; do
  if ! grep -q "^$t	" "$tmp/markers" 2>/dev/null; then
    echo "contract_doc: message type \"$t\" has no <!-- example: $t --> in $(basename "$doc")"
    fail=1
  fi
done

n=$(wc -l <"$tmp/markers" 2>/dev/null || echo 0)
[ $fail -eq 0 ] && echo "contract_doc: ok ($n examples in JSON and protobuf, $(printf "%s\n" "$types" | grep -c .) message types)"
exit $fail
