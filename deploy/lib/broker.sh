# deploy/lib/broker.sh - a private Mosquitto broker in a directory of ours.
# Sourced after common.sh; functions only. See docs/broker.md.
#
# Layout of DIR (owner when set up as root; otherwise everything belongs to
# the invoking user):
#   mosquitto.conf       generated from broker-config/mosquitto.conf.in  root 0644
#   ports                AY_MQTT_PORT=.. AY_MQTTS_PORT=.. AY_WS_PORT=..   root 0644
#   certs/ca.crt         local CA that signed the server certificate     root 0644
#   certs/ca.key         its key (only needed to re-issue)                root 0600
#   certs/server.crt     server certificate (localhost, 127.0.0.1, ::1)   root 0644
#   certs/server.key     its key                                     mosquitto 0600
#   secrets/admin.pw     password of the dynsec account `admin`           root 0600
#   secrets/ctrl/        mosquitto_ctrl and mosquitto_rr options (host, port,
#                        admin credentials)                               root 0600
#   plugins/ay_audit.so  copy of the audit plugin (broker-plugin/), if built root 0644
#   dynsec/dynsec.json   accounts, roles, ACLs (dynamic security plugin)
#                        rewritten by the broker itself              mosquitto 0700 dir
#   data/                persistence snapshot (mosquitto.db)         mosquitto 0700
#   mosquitto.log        the broker's log                            mosquitto 0640
#   console.log          the broker's stdout/stderr (startup errors)
#   mosquitto.pid        pid of the running broker
#
# Why dynsec.json is in a subdirectory: the plugin saves it by writing
# dynsec.json.new and renaming it over the old file, so the broker (which
# drops from root to `mosquitto` before loading the plugin) needs write access
# to the *directory* holding it. Were that DIR itself, a compromised broker
# could replace the root-read mosquitto.conf and get root at the next start.

AY_BROKER_ADMIN="admin"

# ay_broker_plugin_path: prints the path of the dynamic security plugin of
# the installed mosquitto package (multiarch directory varies by machine).
ay_broker_plugin_path() {
  local p
  p=$(dpkg -L mosquitto 2>/dev/null | grep -m1 '/mosquitto_dynamic_security\.so$') || p=""
  if [ -z "$p" ] || [ ! -f "$p" ]; then
    for p in /usr/lib/*/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so \
      /usr/local/lib/mosquitto_dynamic_security.so; do
      [ -f "$p" ] && break
    done
  fi
  [ -f "$p" ] || return 1
  echo "$p"
}

# ay_broker_audit_plugin_src: prints the path of the built audit plugin
# (broker-plugin/, ay_audit.so): AY_BROKER_AUDIT_PLUGIN if set (deploy/up
# sets it to its build tree, tests/lib/harness.sh to the test build),
# otherwise the release build that deploy/up makes by default.
ay_broker_audit_plugin_src() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  echo "${AY_BROKER_AUDIT_PLUGIN:-$root/build/release/broker-plugin/ay_audit.so}"
}

# ay_broker_install_audit_plugin DIR: copies the built audit plugin to
# DIR/plugins/ay_audit.so and prints that path; without a built plugin it
# removes an old copy, warns once on stderr and prints nothing (the broker
# then runs without the audit trail of refused access). A copy, not the
# build tree's file: the broker (dropped to `mosquitto`) must be able to read
# it, a rebuild must not change a running broker's code, and the file the
# configuration names stays root's. Replaced by rename, never rewritten in
# place: a running broker has the old one mapped.
ay_broker_install_audit_plugin() {
  local dir=$1 src
  src=$(ay_broker_audit_plugin_src)
  if [ ! -f "$src" ]; then
    rm -f "$dir/plugins/ay_audit.so"
    echo "broker setup: warning: audit plugin $src not built (cmake --build <build tree>, or set" \
      "AY_BROKER_AUDIT_PLUGIN); refused logins, publishes and subscriptions will not be logged" >&2
    return 0
  fi
  mkdir -p "$dir/plugins" || return 1
  cp "$src" "$dir/plugins/ay_audit.so.tmp" && chmod 644 "$dir/plugins/ay_audit.so.tmp" &&
    mv "$dir/plugins/ay_audit.so.tmp" "$dir/plugins/ay_audit.so" || return 1
  echo "$dir/plugins/ay_audit.so"
}

# ay_broker_ctrl DIR ARGS...: runs `mosquitto_ctrl ARGS...` connected to
# DIR's broker on its plain loopback port as the admin account. The
# connection options come from DIR/secrets/ctrl/mosquitto_ctrl (found through
# XDG_CONFIG_HOME; mosquitto_ctrl 2.0.11 ignores -o), so the admin password
# never appears on a command line, and a ~/.config/mosquitto_ctrl of the
# caller cannot interfere.
ay_broker_ctrl() {
  local dir=$1
  shift
  XDG_CONFIG_HOME="$dir/secrets/ctrl" timeout 30 mosquitto_ctrl "$@"
}

# ay_broker_dynsec_json DIR JSON: sends one raw dynamic-security request
# ({"commands":[...]}) as admin and prints the JSON response. For requests
# without secrets only (the payload is on the command line).
ay_broker_dynsec_json() {
  XDG_CONFIG_HOME="$1/secrets/ctrl" mosquitto_rr -t '$CONTROL/dynamic-security/v1' \
    -e '$CONTROL/dynamic-security/v1/response' -W 30 -m "$2"
}

# ay_broker_owned_by_broker PATH...: as root, gives PATHs to the user the
# broker drops to. No-op otherwise.
ay_broker_owned_by_broker() {
  [ "$(id -u)" -eq 0 ] || return 0
  chown mosquitto:mosquitto "$@"
}

# ay_broker_fix_perms DIR: ownership and modes of the layout above; run by
# setup and before every start (a DIR set up by another user keeps working).
ay_broker_fix_perms() {
  local dir=$1
  chmod 755 "$dir" "$dir/certs"
  chmod 700 "$dir/secrets" "$dir/secrets/ctrl" "$dir/dynsec" "$dir/data"
  chmod 644 "$dir/certs/ca.crt" "$dir/certs/server.crt"
  if [ -d "$dir/plugins" ]; then chmod 755 "$dir/plugins"; fi
  chmod 600 "$dir/certs/ca.key" "$dir/certs/server.key" "$dir/secrets/admin.pw" \
    "$dir/secrets/ctrl/mosquitto_ctrl" "$dir/secrets/ctrl/mosquitto_rr" "$dir/dynsec/dynsec.json"
  [ -e "$dir/mosquitto.log" ] || : >"$dir/mosquitto.log"
  chmod 640 "$dir/mosquitto.log"
  if [ "$(id -u)" -eq 0 ]; then
    id mosquitto >/dev/null 2>&1 || { echo "user 'mosquitto' does not exist (install the mosquitto package)" >&2; return 1; }
    chown root:root "$dir" "$dir/certs" "$dir/certs/ca.crt" "$dir/certs/ca.key" "$dir/certs/server.crt" \
      "$dir/secrets" "$dir/secrets/admin.pw"
    chown -R root:root "$dir/secrets/ctrl"
    if [ -d "$dir/plugins" ]; then chown -R root:root "$dir/plugins"; fi
    ay_broker_owned_by_broker "$dir/certs/server.key" "$dir/mosquitto.log"
    chown -R mosquitto:mosquitto "$dir/dynsec" "$dir/data"
    # The broker, now `mosquitto`, must reach DIR through every parent:
    # grant traversal (o+x, not listing) where it is missing.
    if ! runuser -u mosquitto -- test -w "$dir/dynsec" 2>/dev/null; then
      local d=$dir
      while [ "$d" != "/" ]; do
        d=$(dirname "$d")
        if ! runuser -u mosquitto -- test -x "$d" 2>/dev/null; then
          chmod o+x "$d" && ay_log "broker: granted o+x on $d so that user mosquitto reaches $dir"
        fi
      done
      runuser -u mosquitto -- test -w "$dir/dynsec" ||
        { echo "user mosquitto cannot write $dir/dynsec" >&2; return 1; }
    fi
  fi
}

# ay_broker_gen_certs DIR BIND: a local CA and a server certificate signed by
# it, each only if absent. EC P-256 keys; the server certificate is for
# localhost, 127.0.0.1, ::1, BIND when it is a specific address, and any
# extra subjectAltName entries in AY_BROKER_TLS_SANS ("DNS:x,IP:y").
ay_broker_gen_certs() {
  local dir=$1 bind=$2 c=$1/certs tmp sans serial
  mkdir -p "$c"
  tmp=$(mktemp -d "$c/.gen.XXXXXX") || return 1
  if [ ! -s "$c/ca.crt" ] || [ ! -s "$c/ca.key" ]; then
    rm -f "$c/server.crt" "$c/server.key" # signed by a CA that is gone
    (umask 077 && openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$tmp/ca.key" -out "$tmp/ca.crt" -days 3650 -sha256 \
      -subj "/O=Anyuan/CN=Anyuan broker CA $(hostname -s 2>/dev/null || echo local)" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
      -addext "keyUsage=critical,keyCertSign,cRLSign") >"$tmp/openssl.log" 2>&1 ||
      { cat "$tmp/openssl.log" >&2; rm -rf "$tmp"; echo "could not create the CA" >&2; return 1; }
    mv "$tmp/ca.key" "$c/ca.key" && mv "$tmp/ca.crt" "$c/ca.crt"
  fi
  if [ ! -s "$c/server.crt" ] || [ ! -s "$c/server.key" ]; then
    sans="DNS:localhost,IP:127.0.0.1,IP:::1"
    case $bind in
      0.0.0.0 | :: | 127.0.0.1 | ::1 | localhost) ;;
      *[!0-9.]*) [[ $bind == *:* ]] && sans="$sans,IP:$bind" || sans="$sans,DNS:$bind" ;;
      *) sans="$sans,IP:$bind" ;;
    esac
    [ -n "${AY_BROKER_TLS_SANS:-}" ] && sans="$sans,$AY_BROKER_TLS_SANS"
    serial=0x$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    cat >"$tmp/ext.cnf" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$sans
EOF
    (umask 077 &&
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$tmp/server.key" -out "$tmp/server.csr" -subj "/O=Anyuan/CN=localhost" &&
      openssl x509 -req -in "$tmp/server.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" \
        -set_serial "$serial" -days 825 -sha256 -extfile "$tmp/ext.cnf" -out "$tmp/server.crt") \
      >"$tmp/openssl.log" 2>&1 ||
      { cat "$tmp/openssl.log" >&2; rm -rf "$tmp"; echo "could not create the server certificate" >&2; return 1; }
    mv "$tmp/server.key" "$c/server.key" && mv "$tmp/server.crt" "$c/server.crt"
  fi
  rm -rf "$tmp"
}

# ay_broker_setup DIR BIND PLAIN_PORT TLS_PORT WS_PORT: creates or updates the
# broker directory (idempotent). Keys, certificates, the admin password and
# the accounts are created only when absent; the configuration, the ports
# file and the admin tool's options are rewritten every time (a running
# broker picks new ports up only when restarted).
ay_broker_setup() {
  if [ $# -ne 5 ]; then
    echo "usage: ay_broker_setup DIR BIND PLAIN_PORT TLS_PORT WS_PORT" >&2
    return 2
  fi
  local dir=$1 bind=$2 plain=$3 tls=$4 ws=$5 p plugin tmpl pw audit audit_sed
  for p in "$plain" "$tls" "$ws"; do
    if ! [[ $p =~ ^[0-9]{1,5}$ ]] || [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then
      echo "broker setup: invalid port '$p'" >&2
      return 1
    fi
  done
  if [ "$plain" = "$tls" ] || [ "$plain" = "$ws" ] || [ "$tls" = "$ws" ]; then
    echo "broker setup: the three ports must differ ($plain $tls $ws)" >&2
    return 1
  fi
  if ! [[ $bind =~ ^[A-Za-z0-9.:-]+$ ]]; then
    echo "broker setup: invalid bind address '$bind'" >&2
    return 1
  fi
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd -P) || return 1
  # The path goes into mosquitto.conf (space-separated) and through sed.
  if [[ $dir =~ [[:space:][:cntrl:]\|\&\\] ]]; then
    echo "broker setup: directory path must not contain spaces or any of | & \\: $dir" >&2
    return 1
  fi
  for p in mosquitto mosquitto_ctrl openssl; do
    command -v "$p" >/dev/null || { echo "broker setup: $p not found (run deploy/install-deps)" >&2; return 1; }
  done
  plugin=$(ay_broker_plugin_path) ||
    { echo "broker setup: mosquitto_dynamic_security.so not found (package mosquitto)" >&2; return 1; }
  tmpl="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/broker-config/mosquitto.conf.in"
  [ -f "$tmpl" ] || { echo "broker setup: template $tmpl not found" >&2; return 1; }

  mkdir -p "$dir/certs" "$dir/secrets/ctrl" "$dir/dynsec" "$dir/data" || return 1
  chmod 700 "$dir/secrets" "$dir/secrets/ctrl"

  ay_broker_gen_certs "$dir" "$bind" || return 1

  if [ ! -s "$dir/secrets/admin.pw" ]; then
    if [ -s "$dir/dynsec/dynsec.json" ]; then
      echo "broker setup: $dir/dynsec/dynsec.json exists but secrets/admin.pw is missing;" \
        "set a new admin password with the broker stopped or start over" >&2
      return 1
    fi
    (umask 077 && ay_random_secret >"$dir/secrets/admin.pw.tmp") && mv "$dir/secrets/admin.pw.tmp" "$dir/secrets/admin.pw"
  fi
  pw=$(cat "$dir/secrets/admin.pw")

  if [ ! -s "$dir/dynsec/dynsec.json" ]; then
    rm -f "$dir/dynsec/dynsec.json"
    mosquitto_ctrl dynsec init "$dir/dynsec/dynsec.json.init" "$AY_BROKER_ADMIN" "$pw" >"$dir/dynsec/init.log" 2>&1 ||
      { cat "$dir/dynsec/init.log" >&2; rm -f "$dir/dynsec/dynsec.json.init"; echo "broker setup: dynsec init failed" >&2; return 1; }
    rm -f "$dir/dynsec/init.log"
    # `init` leaves publishClientReceive allowed by default: a client could
    # then receive anything its subscribe ACLs let through. Deny by default:
    # every role grants what it may receive explicitly.
    sed -i 's/^\([[:space:]]*"publishClientReceive":[[:space:]]*\)true/\1false/' "$dir/dynsec/dynsec.json.init"
    if ! grep -q '"publishClientReceive":[[:space:]]*false' "$dir/dynsec/dynsec.json.init" ||
      ! grep -q '"publishClientSend":[[:space:]]*false' "$dir/dynsec/dynsec.json.init" ||
      ! grep -q '"subscribe":[[:space:]]*false' "$dir/dynsec/dynsec.json.init"; then
      echo "broker setup: unexpected dynsec init output; default ACL access not deny" >&2
      return 1
    fi
    chmod 600 "$dir/dynsec/dynsec.json.init"
    mv "$dir/dynsec/dynsec.json.init" "$dir/dynsec/dynsec.json"
  fi

  # Lines marked @AUDIT@ load the audit plugin: kept when it is built,
  # otherwise replaced by one comment.
  audit=$(ay_broker_install_audit_plugin "$dir") || return 1
  if [ -n "$audit" ]; then
    audit_sed=(-e "s|^@AUDIT@||" -e "s|@AUDIT_PLUGIN@|$audit|g")
  else
    audit_sed=(-e "s|^@AUDIT@plugin .*|# ay_audit not built: refused access is not logged (docs/broker.md)|"
      -e "/^@AUDIT@/d")
  fi
  sed "${audit_sed[@]}" -e "s|@DIR@|$dir|g" -e "s|@BIND@|$bind|g" -e "s|@PLAIN_PORT@|$plain|g" \
    -e "s|@TLS_PORT@|$tls|g" -e "s|@WS_PORT@|$ws|g" -e "s|@DYNSEC_PLUGIN@|$plugin|g" \
    -e "s|@DYNSEC_FILE@|$dir/dynsec/dynsec.json|g" "$tmpl" >"$dir/mosquitto.conf.tmp" || return 1
  if grep -q '@[A-Z_]*@' "$dir/mosquitto.conf.tmp"; then
    echo "broker setup: unfilled placeholder in $tmpl" >&2
    return 1
  fi
  chmod 644 "$dir/mosquitto.conf.tmp" && mv "$dir/mosquitto.conf.tmp" "$dir/mosquitto.conf"

  printf 'AY_MQTT_PORT=%s\nAY_MQTTS_PORT=%s\nAY_WS_PORT=%s\n' "$plain" "$tls" "$ws" >"$dir/ports.tmp" &&
    chmod 644 "$dir/ports.tmp" && mv "$dir/ports.tmp" "$dir/ports"

  for p in mosquitto_ctrl mosquitto_rr; do
    (umask 077 && printf -- '-h 127.0.0.1\n-p %s\n-u %s\n-P %s\n-V 5\n' "$plain" "$AY_BROKER_ADMIN" "$pw" \
      >"$dir/secrets/ctrl/$p.tmp") && mv "$dir/secrets/ctrl/$p.tmp" "$dir/secrets/ctrl/$p" || return 1
  done

  ay_broker_fix_perms "$dir"
}

# ay_broker_pid DIR: prints the pid of DIR's running broker; fails if none.
ay_broker_pid() {
  local dir pid
  dir=$(cd "$1" 2>/dev/null && pwd -P) || return 1
  [ -s "$dir/mosquitto.pid" ] || return 1
  pid=$(cat "$dir/mosquitto.pid")
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: it must be a mosquitto with our config.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-c $dir/mosquitto.conf" || return 1
  echo "$pid"
}

# ay_broker_admin_ok DIR: the admin account can connect and use dynsec.
ay_broker_admin_ok() {
  ay_broker_ctrl "$1" dynsec getDefaultACLAccess 2>&1 | grep -q 'publishClientSend'
}

# ay_broker_start DIR: starts DIR's broker unless it runs, and waits (at most
# AY_BROKER_START_TIMEOUT s, default 20) until the admin account can connect
# on the plain port. Idempotent.
ay_broker_start() {
  local dir pid timeout_s=${AY_BROKER_START_TIMEOUT:-20} deadline
  dir=$(cd "$1" 2>/dev/null && pwd -P) || { echo "broker start: no directory $1" >&2; return 1; }
  [ -f "$dir/mosquitto.conf" ] || { echo "broker start: $dir is not set up (ay_broker_setup)" >&2; return 1; }
  if ay_broker_pid "$dir" >/dev/null; then
    ay_wait_until "$timeout_s" "broker in $dir to accept the admin account" ay_broker_admin_ok "$dir"
    return
  fi
  rm -f "$dir/mosquitto.pid"
  ay_broker_fix_perms "$dir" || return 1
  # Foreground process in the background: its pid is $! (it never forks),
  # and it keeps that pid after dropping from root to `mosquitto`.
  mosquitto -c "$dir/mosquitto.conf" </dev/null >>"$dir/console.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/mosquitto.pid"
  deadline=$((SECONDS + timeout_s))
  while ! ay_broker_admin_ok "$dir"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "broker start: mosquitto exited (port in use?); last lines:" >&2
      tail -n 5 "$dir/console.log" "$dir/mosquitto.log" >&2 2>/dev/null
      rm -f "$dir/mosquitto.pid"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "broker start: admin could not connect within ${timeout_s}s; last lines:" >&2
      tail -n 5 "$dir/console.log" "$dir/mosquitto.log" >&2 2>/dev/null
      return 1
    fi
    sleep 0.05
  done
}

# ay_broker_stop DIR [TIMEOUT_S]: SIGTERM (the broker writes its persistence
# snapshot on a clean stop), waits up to TIMEOUT_S (default 20), then SIGKILL.
ay_broker_stop() {
  local dir=$1 timeout_s=${2:-20} pid
  pid=$(ay_broker_pid "$dir") || { rm -f "$dir/mosquitto.pid"; return 0; }
  ay_stop_pidfile "$dir/mosquitto.pid" "$timeout_s"
  wait "$pid" 2>/dev/null || true
  ! kill -0 "$pid" 2>/dev/null
}
