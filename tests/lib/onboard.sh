# shellcheck shell=bash
# tests/lib/onboard.sh - what the device onboarding tests (95-98) share.
# Sourced after harness.sh, once the test has its broker and database.

# ob_ops_conf: $AY_T/etc/ops.conf, an operator's ayctl configuration as
# deploy/up writes it: the database, the broker's admin account (its
# password file under the broker directory) and the endpoints handed to
# devices in their profiles (TLS and WebSocket, the broker's CA).
ob_ops_conf() {
  mkdir -p "$AY_T/etc"
  {
    echo "mqtt_url = tcp://127.0.0.1:$AY_MQTT_PORT"
    echo "database_url = $DATABASE_URL"
    echo "district = d01"
    echo "broker_admin_url = tcp://127.0.0.1:$AY_MQTT_PORT"
    echo "broker_admin_password_file = $AY_T/broker/secrets/admin.pw"
    echo "profile_host = localhost"
    echo "profile_mqtts_port = $AY_MQTTS_PORT"
    echo "profile_ws_port = $AY_WS_PORT"
    echo "profile_ca_file = $AY_T/broker/certs/ca.crt"
  } >"$AY_T/etc/ops.conf"
}

# ob ARGS...: ayctl as the operator.
ob() { "$AYCTL" --config "$AY_T/etc/ops.conf" "$@"; }

# ob_dev_conf PROFILE NAME [EXTRA LINES...]: $AY_T/etc/NAME.conf, the
# device's own ayctl configuration taken from its profile (TLS, its CA, its
# secret), with the test's receipt timings.
ob_dev_conf() {
  local profile=$1 name=$2
  shift 2
  {
    jq -r .ayctlConfig "$profile"
    echo "receipt_wait_ms = ${AY_TEST_RECEIPT_WAIT_MS:-2000}"
    echo "timeout_ms = 20000"
    printf '%s\n' "$@"
  } >"$AY_T/etc/$name.conf" || ay_fail "cannot make $name.conf from $profile"
}

# ob_connect_rc PROFILE [PASSWORD]: exit code of one MQTT v5 publish over TLS
# with the profile's credentials (0 accepted, 5 or 135 refused), on the
# device's status topic.
ob_connect_rc() {
  local p=$1 id pw topic
  id=$(jq -r .credentials.username "$p")
  pw=${2:-$(jq -r .credentials.password "$p")}
  topic=$(jq -r .topics.publish.status "$p")
  timeout 20 mosquitto_pub -V 5 -h localhost -p "$(jq -r .broker.mqttsPort "$p")" \
    --cafile "$(jq -r .broker.caFile "$p")" -i "$id" -u "$id" -P "$pw" -q 1 -t "$topic" -m x \
    >>"$AY_T/log/connect.log" 2>&1
  echo $?
}

# ob_sub_start NAME PROFILE: a mosquitto_sub connected over TLS as the
# profile's device, on its receipt topic; its pid in $AY_T/NAME.pid.
# Returns once the broker logged its connection.
ob_sub_start() {
  local name=$1 p=$2 id before
  id=$(jq -r .credentials.username "$p")
  before=$(ob__connected "$id")
  ay_spawn "$name" mosquitto_sub -V 5 -h localhost -p "$(jq -r .broker.mqttsPort "$p")" \
    --cafile "$(jq -r .broker.caFile "$p")" -i "$id" -u "$id" -P "$(jq -r .credentials.password "$p")" \
    -q 1 -t "$(jq -r .topics.receipts "$p")" -W 200
  ob__more() { [ "$(ob__connected "$1")" -gt "$2" ]; }
  ay_wait_until 15 "$name connected" ob__more "$id" "$before" || ay_fail "$name did not connect"
}
ob__connected() { grep -c "New client connected from .* as $1 (" "$AY_T/broker/mosquitto.log" || true; }
