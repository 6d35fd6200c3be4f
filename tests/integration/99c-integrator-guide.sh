#!/usr/bin/env bash
# Issue 14: docs/integrators.md cannot go stale. Every command block of the
# guide is run here, in order, from the checkout, on a fresh deploy/up stack
# (this build's binaries, state in the test's directory, free ports: the
# environment deploy/up reads; the guide names the state directory $V =
# ${AY_VAR_DIR:-var}), and what the guide shows after a command is what must
# come out. The blocks are marked by a comment line just before them:
#   <!-- run -->                      a ```sh block: run it, wait for it
#   <!-- run in background: NAME -->  a ```sh block run in another terminal:
#                                     its stdin is what the guide types into
#                                     NAME, its output NAME's
#   <!-- type into: NAME -->          a ```text block: lines typed into NAME
#   <!-- expect from: NAME|last -->   a ```text block: each line must be a
#                                     whole line of NAME's output (after what
#                                     an earlier expect of NAME matched;
#                                     waiting up to 120 s), or of the last
#                                     run block's; `…` stands for anything
#   <!-- stop: NAME -->               (no block) Ctrl-C to NAME; exit code 0
# A ```sh, ```bash or ```console block without a run mark fails the test.
source "$AY_SOURCE_DIR/tests/lib/harness.sh"
ay_test_init
guide=${AY_GUIDE:-$AY_SOURCE_DIR/docs/integrators.md} # AY_GUIDE: to try the runner on another copy
G=$AY_T/guide
mkdir -p "$G/steps"

# 1. The steps, one file each: NNNN.<kind>, its first line the name.
awk -v dir="$G/steps" '
  function fail(m) { print "docs/integrators.md:" NR ": " m > "/dev/stderr"; bad = 1; exit 1 }
  /^<!-- run -->$/                   { kind = "run"; name = "-"; next }
  /^<!-- run in background: [a-z0-9]+ -->$/ { kind = "bg"; name = $5; next }
  /^<!-- type into: [a-z0-9]+ -->$/  { kind = "type"; name = $4; next }
  /^<!-- expect from: [a-z0-9]+ -->$/ { kind = "expect"; name = $4; next }
  /^<!-- stop: [a-z0-9]+ -->$/       { n++; f = sprintf("%s/%04d.stop", dir, n); print $3 > f; close(f); next }
  /^<!-- (run|type|expect|stop)/     { fail("unknown mark: " $0) }
  /^```/ && !inblock {
    inblock = 1
    lang = substr($0, 4)
    if (kind == "" && (lang == "sh" || lang == "bash" || lang == "console"))
      fail("a command block without a run mark")
    if (kind != "") { n++; f = sprintf("%s/%04d.%s", dir, n, kind); print name > f; line = NR }
    next
  }
  /^```$/ && inblock { inblock = 0; if (kind != "") close(f); kind = ""; next }
  inblock && kind != "" { print > f; next }
  !inblock && kind != "" && $0 != "" { fail("a mark not followed by its block") }
  END { if (!bad && n < 20) { print "docs/integrators.md: only " n " steps" > "/dev/stderr"; exit 1 } }
' "$guide" || ay_fail "cannot read the guide's steps"

# 2. The environment deploy/up reads: this build, state under $AY_T.
export AY_VAR_DIR=$AY_T/var AY_DEPLOY_BUILD_DIR=$AY_BUILD_DIR AY_DEPLOY_SKIP_BUILD=1
for v in AY_PG_PORT AY_MQTT_PORT AY_MQTTS_PORT AY_WS_PORT; do
  export "$v=$(ay_free_port)"
done
declare -A BG_PID=() BG_FD=() MARK=()
guide_cleanup() {
  local n
  for n in "${!BG_PID[@]}"; do
    pkill -TERM -P "${BG_PID[$n]}" 2>/dev/null
    kill -TERM "${BG_PID[$n]}" 2>/dev/null
  done
  AY_VAR_DIR=$AY_T/var "$AY_SOURCE_DIR/deploy/down"
}
AY_T_CLEANUP+=(guide_cleanup)

# An expected line as a whole-line extended regex: `…` is anything.
to_regex() { LC_ALL=C sed -e 's/[][\.*^$(){}?+|]/\\&/g' -e 's/…/.*/g' <<<"$1"; }

# expect_all NAME FILE: every line of FILE (after the name) matches a line
# of NAME's output after its mark; the mark moves past the last match.
expect_all() {
  local name=$1 f=$2 out start=0 max=0 line re n
  if [ "$name" = last ]; then out=$G/last.out; else out=$AY_T/log/guide-$name.log; start=${MARK[$name]:-0}; fi
  max=$start
  while IFS= read -r line; do
    re=$(to_regex "$line")
    n=$(tail -n +"$((start + 1))" "$out" | LC_ALL=C grep -n -x -E -- "$re" | head -n 1 | cut -d: -f1)
    [ -n "$n" ] || return 1
    [ $((start + n)) -gt "$max" ] && max=$((start + n))
  done < <(tail -n +2 "$f")
  [ "$name" = last ] || MARK[$name]=$max
}

# 3. Run them, from the checkout, in this shell (a block's variables, like
#    $V, hold for the next ones).
cd "$AY_SOURCE_DIR" || ay_fail "no checkout"
exec 3>&2
for step in "$G"/steps/*; do
  kind=${step##*.}
  name=$(head -n 1 "$step")
  code=$(tail -n +2 "$step")
  what="guide step $(basename "$step") ($kind $name)"
  case $kind in
  run)
    set -e
    # Inside the block stderr is last.out: the trap tells on fd 3.
    trap 'echo "FAIL: $what failed: $code" >&3; tail -n 20 "$G/last.out" >&3' ERR
    { eval "$code"; } >"$G/last.out" 2>&1
    trap - ERR
    set +e
    ;;
  bg)
    [ -p "$G/$name.in" ] || mkfifo "$G/$name.in"
    exec {fd}<>"$G/$name.in"
    BG_FD[$name]=$fd
    (eval "$code") <"$G/$name.in" >>"$AY_T/log/guide-$name.log" 2>&1 &
    BG_PID[$name]=$!
    ;;
  type)
    [ -n "${BG_FD[$name]:-}" ] || ay_fail "$what: nothing runs as $name"
    printf '%s\n' "$code" >&"${BG_FD[$name]}"
    ;;
  expect)
    if [ "$name" = last ]; then
      expect_all last "$step" || ay_fail "$what: expected
$code
got:
$(cat "$G/last.out")"
    else
      ay_wait_until 120 "$what" expect_all "$name" "$step" ||
        ay_fail "$what: expected
$code
in (after line ${MARK[$name]:-0}):
$(tail -n 25 "$AY_T/log/guide-$name.log")"
    fi
    ;;
  stop)
    pid=${BG_PID[$name]:-}
    [ -n "$pid" ] || ay_fail "$what: nothing runs as $name"
    pkill -INT -P "$pid"
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && ay_fail "$what: $name did not stop on Ctrl-C"
    wait "$pid"
    ay_expect_eq "$what: exit code" 0 "$?"
    unset "BG_PID[$name]"
    ;;
  esac
done
ay_test_pass
