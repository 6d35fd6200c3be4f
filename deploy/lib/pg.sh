# deploy/lib/pg.sh - a private PostgreSQL cluster in a directory of ours.
# Sourced after common.sh. PostgreSQL refuses to run as root, so as root the
# cluster is owned by and run as the `postgres` user (created by the Debian
# package).
#
# Layout of DIR: data/ (the cluster), run/ (unix socket), postgres.log,
# secrets/db.pw (the password of role `anyuan`).

ay_pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$d/initdb" ] || return 1
  echo "$d"
}

# Runs a command as the cluster's owner.
ay_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# ay_pg_init DIR: creates the cluster once (idempotent). With AY_PG_TEMPLATE
# set to a directory, an initdb result is cached there and copied, which
# saves the tests a second or two each.
ay_pg_init() {
  local dir=$1 bin
  bin=$(ay_pg_bindir) || ay_die "PostgreSQL server binaries not found (run deploy/install-deps)"
  mkdir -p "$dir/run" "$dir/secrets"
  chmod 700 "$dir/secrets"
  if [ ! -s "$dir/data/PG_VERSION" ]; then
    if [ -n "${AY_PG_TEMPLATE:-}" ]; then
      if [ ! -s "$AY_PG_TEMPLATE/data/PG_VERSION" ]; then
        ay_pg_initdb "$bin" "$AY_PG_TEMPLATE.$$"
        mv -T "$AY_PG_TEMPLATE.$$" "$AY_PG_TEMPLATE" 2>/dev/null || rm -rf "$AY_PG_TEMPLATE.$$"
      fi
      cp -a "$AY_PG_TEMPLATE/data" "$dir/data"
    else
      ay_pg_initdb "$bin" "$dir"
    fi
  fi
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$dir/data" "$dir/run"
  fi
}

ay_pg_initdb() {
  local bin=$1 dir=$2
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  ay_pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; ay_die "initdb failed in $dir"; }
}

# ay_pg_start DIR PORT: starts the cluster on 127.0.0.1:PORT (socket in
# DIR/run) and waits until it accepts connections. Idempotent.
ay_pg_start() {
  local dir=$1 port=$2 bin
  bin=$(ay_pg_bindir) || ay_die "PostgreSQL server binaries not found"
  if [ -s "$dir/data/postmaster.pid" ] && ay_pg_as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    return 0
  fi
  touch "$dir/postgres.log"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/postgres.log"
  # fsync stays on: this is the system of record even when run locally.
  ay_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $dir/run -c listen_addresses=127.0.0.1 -c max_connections=200 -c unix_socket_permissions=0700" \
    start >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; return 1; }
}

ay_pg_stop() {
  local dir=$1 bin
  bin=$(ay_pg_bindir) || return 0
  [ -s "$dir/data/postmaster.pid" ] || return 0
  ay_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# ay_pg_superuser_sql DIR PORT SQL...: runs SQL as the postgres superuser
# over the private socket.
ay_pg_superuser_sql() {
  local dir=$1 port=$2
  shift 2
  ay_pg_as_owner psql -X -q -v ON_ERROR_STOP=1 -h "$dir/run" -p "$port" -U postgres -d postgres "$@"
}

# ay_pg_provision DIR PORT: creates role and database `anyuan` (idempotent)
# and prints the DATABASE_URL the services use.
ay_pg_provision() {
  local dir=$1 port=$2 pw
  if [ ! -s "$dir/secrets/db.pw" ]; then
    ay_random_secret >"$dir/secrets/db.pw"
    chmod 600 "$dir/secrets/db.pw"
  fi
  pw=$(cat "$dir/secrets/db.pw")
  ay_pg_superuser_sql "$dir" "$port" -v pw="$pw" >/dev/null <<'SQL'
SELECT format('CREATE ROLE anyuan LOGIN PASSWORD %L', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anyuan') \gexec
SELECT format('ALTER ROLE anyuan PASSWORD %L', :'pw') \gexec
SELECT 'CREATE DATABASE anyuan OWNER anyuan'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'anyuan') \gexec
SQL
  echo "postgresql://anyuan:$pw@127.0.0.1:$port/anyuan"
}
