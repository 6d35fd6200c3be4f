# shellcheck shell=bash
# tests/lib/refdevice.sh - running the reference device (devices/reference,
# ay-device) in the integration tests 99*. Sourced after harness.sh.
#
# A device NAME has: its state directory $AY_T/NAME.state (outbox, CA),
# its stdin, the fifo $AY_T/NAME.in (the test keeps it open, so a line
# written there is a button press even while the device is down: the next
# start reads it), its receipts (stdout) in $AY_T/NAME.out and its log in
# $AY_T/log/NAME.log. NAME: letters and digits.

AY_DEVICE="${AY_DEVICE:-$AY_BUILD_DIR/devices/reference/ay-device}" # another build: AY_DEVICE=…
declare -gA DV_FDS=()
# Short timings: heartbeat every second, re-send after 1 s, at most 2 s.
DV_ARGS=(--heartbeat-s 1 --receipt-wait-ms 1000 --max-wait-ms 2000)

dv__count() {
  local n
  n=$(grep -c -- "$2" "$AY_T/log/$1.log" 2>/dev/null)
  echo "${n:-0}"
}
# dv__more NAME PATTERN N: the log of NAME has more than N lines with PATTERN.
dv__more() { [ "$(dv__count "$1" "$2")" -gt "$3" ]; }

# dv_start NAME PROFILE [ARGS...]: starts ay-device; returns once it is
# connected and subscribed (its "msg=connected" of this start).
dv_start() {
  local name=$1 before
  before=$(dv__count "$name" 'msg=connected')
  dv_start_bg "$@"
  ay_wait_until 30 "$name connected" dv__more "$name" 'msg=connected' "$before" ||
    ay_fail "$name did not connect: $(tail -n 5 "$AY_T/log/$name.log")"
}

# dv_start_bg NAME PROFILE [ARGS...]: starts ay-device without waiting (the
# broker may be down).
dv_start_bg() {
  local name=$1 profile=$2 fd
  shift 2
  [ -p "$AY_T/$name.in" ] || mkfifo "$AY_T/$name.in"
  if [ -z "${DV_FDS[$name]:-}" ]; then
    exec {fd}<>"$AY_T/$name.in"
    DV_FDS[$name]=$fd
  fi
  "$AY_DEVICE" --profile "$profile" --state "$AY_T/$name.state" "${DV_ARGS[@]}" "$@" \
    <"$AY_T/$name.in" >>"$AY_T/$name.out" 2>>"$AY_T/log/$name.log" &
  echo $! >"$AY_T/$name.pid"
  AY_T_PIDFILES+=("$AY_T/$name.pid")
}

# dv_cmd NAME LINE: types LINE into the device's stdin and prints the id
# of the message it queued (its "msg=queued" line).
dv_cmd() {
  local name=$1 line=$2 before
  before=$(dv__count "$name" 'msg=queued')
  echo "$line" >&"${DV_FDS[$name]}"
  ay_wait_until 15 "$name queued" dv__more "$name" 'msg=queued' "$before" ||
    ay_fail "$name did not queue '$line': $(tail -n 5 "$AY_T/log/$name.log")"
  grep 'msg=queued' "$AY_T/log/$name.log" | sed -n "$((before + 1))p" | sed 's/.*msg_id=\([^ ]*\).*/\1/'
}

# dv_receipt NAME MSG_ID [SECONDS]: waits for the receipt of MSG_ID on the
# device's stdout and prints it.
dv_receipt() {
  local name=$1 id=$2 secs=${3:-30}
  local deadline=$((SECONDS + secs)) out
  # One read gives both the answer and what is printed: the file grows
  # while it is read (a line may be half written), so what one jq saw is
  # not taken as proof that a second one will.
  while :; do
    out=$(jq -c --arg id "$id" 'select(.refMessageId == $id)' "$AY_T/$name.out" 2>/dev/null | head -n 1)
    [ -z "$out" ] || break
    [ "$SECONDS" -lt "$deadline" ] ||
      ay_fail "no receipt for $id on $name's stdout: $(tail -n 8 "$AY_T/log/$name.log")"
    sleep 0.05
  done
  echo "$out"
}

# dv_outbox NAME: the files in the device's outbox, one a line.
dv_outbox() { ls "$AY_T/$1.state/outbox"; }

# dv_add NAME [ARGS...]: `ayctl device add` as the operator (onboard.sh),
# a button of sch-0102 with a 5 s heartbeat, its profile $AY_T/NAME.json.
dv_add() {
  local name=$1
  shift
  ob device add --school sch-0102 --kind button --location "东门门卫室" --geo 31.820591,117.227239 \
    --heartbeat 5s --profile "$AY_T/$name.json" "$@" >/dev/null || ay_fail "device add $name"
}
