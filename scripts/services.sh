#!/usr/bin/env bash
# Outfield local services: PostgreSQL+PostGIS and Redis.
#
#   bash scripts/services.sh        ensure both services answer, then print exactly
#                                   two lines to stdout:
#                                     export DATABASE_URL=postgresql://...
#                                     export REDIS_URL=redis://...
#                                   (the Makefile does `eval "$(bash scripts/services.sh)"`)
#   bash scripts/services.sh stop   stop the private services under .local/ (prints nothing)
#
# If DATABASE_URL and REDIS_URL are both set and answer, they are used as given
# (`CREATE EXTENSION IF NOT EXISTS postgis` is run on the database) and printed back.
# Otherwise a private PostgreSQL cluster and Redis are run from the project-local,
# gitignored folder .local/:
#   .local/pg             cluster data          .local/pg.log      its log
#   .local/redis          redis working dir     .local/redis.log   its log
#   .local/run            unix sockets, pid files
#   .local/services.env   the chosen ports, reused on the next call
#   .local/services.lock  flock(1) lock serialising concurrent calls
# Missing binaries are installed with apt-get on Debian/Ubuntu.
#
# Everything except the two export lines goes to stderr.
set -euo pipefail

# fd 3 = the caller's stdout (only the export lines go there); everything else -> stderr.
exec 3>&1 1>&2

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
LOCAL="$ROOT/.local"
PGDATA_DIR="$LOCAL/pg"
PG_LOG="$LOCAL/pg.log"
REDIS_DIR="$LOCAL/redis"
REDIS_LOG="$LOCAL/redis.log"
RUN_DIR="$LOCAL/run"
REDIS_PIDFILE="$RUN_DIR/redis.pid"
ENV_FILE="$LOCAL/services.env"
LOCK_FILE="$LOCAL/services.lock"
DB_NAME=outfield
DB_USER=outfield
PG_PORT_BASE=55432
REDIS_PORT_BASE=56379

log() { printf 'services.sh: %s\n' "$*" >&2; }
die() {
    printf 'services.sh: ERROR: %s\n' "$*" >&2
    exit 1
}

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

# Print the export lines (shell-quoted, so the caller's eval is safe) to the real stdout.
emit() {
    printf 'export DATABASE_URL=%q\n' "$1" >&3
    printf 'export REDIS_URL=%q\n' "$2" >&3
}

lock() {
    mkdir -p "$LOCAL"
    exec 9>"$LOCK_FILE"
    if ! flock -w 300 9; then
        die "timed out waiting for $LOCK_FILE (another services.sh still running?)"
    fi
}

# ---------------------------------------------------------------- small helpers

# pid is alive and its executable name is $2 (guards against stale/reused pids).
pid_is() {
    local pid="$1" name="$2" comm
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    pid_gone "$pid" && return 1
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    [ "$comm" = "$name" ]
}

pid_gone() { # exited, or a zombie not yet reaped (it is not our child, so we cannot reap it)
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
    stat="${stat##*) }"
    [ "${stat%% *}" = Z ]
}

wait_gone() { # pid seconds
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        pid_gone "$1" && return 0
        sleep 0.05
    done
    return 1
}

pg_postmaster_pid() { # prints the pid of the running postmaster of .local/pg, if any
    local pid
    [ -f "$PGDATA_DIR/postmaster.pid" ] || return 1
    pid="$(head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true)"
    pid_is "$pid" postgres || return 1
    printf '%s\n' "$pid"
}

redis_pid() {
    local pid
    [ -f "$REDIS_PIDFILE" ] || return 1
    pid="$(cat "$REDIS_PIDFILE" 2>/dev/null || true)"
    pid_is "$pid" redis-server || return 1
    printf '%s\n' "$pid"
}

read_env_file() { # sets ENV_PG_PORT / ENV_REDIS_PORT from .local/services.env
    ENV_PG_PORT=""
    ENV_REDIS_PORT=""
    [ -f "$ENV_FILE" ] || return 0
    local k v
    while IFS='=' read -r k v; do
        case "$k" in
            PG_PORT) [[ "$v" =~ ^[0-9]+$ ]] && ENV_PG_PORT="$v" ;;
            REDIS_PORT) [[ "$v" =~ ^[0-9]+$ ]] && ENV_REDIS_PORT="$v" ;;
        esac
    done <"$ENV_FILE"
    return 0
}

write_env_file() { # pg_port redis_port
    local tmp="$ENV_FILE.tmp.$$"
    printf 'PG_PORT=%s\nREDIS_PORT=%s\n' "$1" "$2" >"$tmp"
    mv -f "$tmp" "$ENV_FILE"
}

private_db_url() { printf 'postgresql://%s@127.0.0.1:%s/%s' "$DB_USER" "$1" "$DB_NAME"; }
private_redis_url() { printf 'redis://127.0.0.1:%s/0' "$1"; }

# A python3 that is not a pyenv/asdf shim (those cost ~100ms each call).
PYTHON3=""
for p in /usr/bin/python3 /usr/local/bin/python3; do
    if [ -x "$p" ]; then
        PYTHON3="$p"
        break
    fi
done
[ -n "$PYTHON3" ] || PYTHON3="$(command -v python3 || true)"

port_free() { # can a server bind 127.0.0.1:PORT right now?
    local port="$1"
    if [ -n "$PYTHON3" ]; then
        "$PYTHON3" - "$port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # like postgres/redis do
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
    elif command -v ss >/dev/null 2>&1; then
        [ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]
    else
        if (exec 5<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 1; fi
        return 0
    fi
}

pick_port() { # preferred base avoid -> prints a free port
    local want="$1" base="$2" avoid="$3" p
    if [ -n "$want" ] && [ "$want" != "$avoid" ] && port_free "$want"; then
        printf '%s\n' "$want"
        return 0
    fi
    for ((p = base; p < base + 200; p++)); do
        [ "$p" = "$avoid" ] && continue
        [ "$p" = "$want" ] && continue
        if port_free "$p"; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    die "no free TCP port on 127.0.0.1 in $base..$((base + 199))"
}

# ---------------------------------------------------------------- binaries / install

APT_UPDATED=0
APT_SUDO=()
apt_prepare() { # dies with a clear message unless apt-get can be used; runs `apt-get update` once
    if ! [ -r /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
        die "PostgreSQL with PostGIS 3 and/or Redis are missing, and automatic installation only
works on Debian/Ubuntu (apt-get). Either install them yourself (PostgreSQL server binaries
under /usr/lib/postgresql/<version>/bin with PostGIS 3, and redis-server), or point
DATABASE_URL and REDIS_URL at running services (PostGIS available) and call this again."
    fi
    if [ "$IS_ROOT" -eq 0 ]; then
        command -v sudo >/dev/null 2>&1 ||
            die "packages must be installed with apt-get, but this is not root and sudo is unavailable"
        APT_SUDO=(sudo)
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        "${APT_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >&2 ||
            die "apt-get update failed"
        APT_UPDATED=1
    fi
}

apt_install() { # packages...
    apt_prepare
    log "apt-get install -y $*"
    "${APT_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2 ||
        die "apt-get install $* failed"
}

# Newest /usr/lib/postgresql/<V>/bin that has PostGIS; prints V.
find_pg_version() {
    local d v best=""
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || continue
        v="$(basename "$(dirname "$d")")"
        [ -f "/usr/share/postgresql/$v/extension/postgis.control" ] || continue
        if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n1)" = "$v" ]; then
            best="$v"
        fi
    done
    [ -n "$best" ] || return 1
    printf '%s\n' "$best"
}

pg_ok_for() { # V: server binaries + postgis present
    [ -x "/usr/lib/postgresql/$1/bin/postgres" ] &&
        [ -f "/usr/share/postgresql/$1/extension/postgis.control" ]
}

ensure_server_binaries() { # sets PG_VERSION PG_BIN REDIS_SERVER REDIS_CLI
    local existing=""
    [ -f "$PGDATA_DIR/PG_VERSION" ] && existing="$(cat "$PGDATA_DIR/PG_VERSION")"
    PG_VERSION=""
    if [ -n "$existing" ]; then
        # An existing cluster must keep running on its own major version.
        if pg_ok_for "$existing"; then
            PG_VERSION="$existing"
        elif [ -x "/usr/lib/postgresql/$existing/bin/postgres" ]; then
            die "PostGIS for PostgreSQL $existing (the version of $PGDATA_DIR) is missing;
install postgresql-$existing-postgis-3, or drop the dev cluster: bash scripts/services.sh stop && rm -rf '$PGDATA_DIR'"
        else
            die "$PGDATA_DIR was created by PostgreSQL $existing, which is no longer installed.
It is a throw-away dev cluster: bash scripts/services.sh stop && rm -rf '$PGDATA_DIR'"
        fi
    else
        PG_VERSION="$(find_pg_version || true)"
    fi
    REDIS_SERVER="$(command -v redis-server || true)"
    REDIS_CLI="$(command -v redis-cli || true)"

    if [ -z "$PG_VERSION" ] || [ -z "$REDIS_SERVER" ] || [ -z "$REDIS_CLI" ]; then
        local pkgs=() v
        if [ -z "$PG_VERSION" ]; then
            # Fresh package lists first, then ask which major version the
            # `postgresql` metapackage brings.
            apt_prepare
            v="$(apt-cache depends postgresql 2>/dev/null |
                sed -n 's/^ *Depends: postgresql-\([0-9][0-9.]*\)$/\1/p' | head -n1)"
            [ -n "$v" ] || die "cannot tell which PostgreSQL version the 'postgresql' apt package brings"
            pkgs+=(postgresql "postgresql-$v-postgis-3")
        fi
        if [ -z "$REDIS_SERVER" ] || [ -z "$REDIS_CLI" ]; then
            pkgs+=(redis-server)
        fi
        apt_install "${pkgs[@]}"
        [ -n "$PG_VERSION" ] || PG_VERSION="$(find_pg_version || true)"
        REDIS_SERVER="$(command -v redis-server || true)"
        REDIS_CLI="$(command -v redis-cli || true)"
        [ -n "$PG_VERSION" ] || die "PostgreSQL with PostGIS still not found under /usr/lib/postgresql after installing"
        [ -n "$REDIS_SERVER" ] && [ -n "$REDIS_CLI" ] || die "redis-server/redis-cli still missing after installing"
    fi
    PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
}

# psql/pg_isready/redis-cli for talking to services (fast: avoid Debian's perl pg_wrapper).
find_clients() { # sets PSQL PG_ISREADY REDIS_CLI, return 1 if something is missing
    local d
    PSQL=""
    PG_ISREADY=""
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        if [ -x "$d/psql" ] && [ -x "$d/pg_isready" ]; then
            PSQL="$d/psql"
            PG_ISREADY="$d/pg_isready"
            break
        fi
    done
    [ -n "$PSQL" ] || PSQL="$(command -v psql || true)"
    [ -n "$PG_ISREADY" ] || PG_ISREADY="$(command -v pg_isready || true)"
    REDIS_CLI="$(command -v redis-cli || true)"
    [ -n "$PSQL" ] && [ -n "$PG_ISREADY" ] && [ -n "$REDIS_CLI" ]
}

# Close every fd above 2 in the current (sub)shell, so that daemons started from it
# hold neither our stdout copy (fd 3: `$(...)` in the caller would wait forever), nor the
# lock (fd 9), nor any pipe inherited from whoever called us.
close_extra_fds() {
    local f n
    for f in /proc/"$BASHPID"/fd/*; do
        n="${f##*/}"
        [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null
    done
    return 0
}

# Run a program with only fds 0-2 open (see close_extra_fds).
launch() {
    (
        close_extra_fds
        exec "$@"
    )
}

# Run a PostgreSQL server-side tool: as `postgres` when we are root (initdb/postgres refuse root).
as_pg() {
    if [ "$IS_ROOT" -eq 1 ]; then
        (cd / && launch runuser -u postgres -- "$@")
    else
        launch "$@"
    fi
}

# ---------------------------------------------------------------- external services

redis_ping() { # url
    local args=(--no-auth-warning -u "$1")
    case "$1" in rediss://*) args=(--tls "${args[@]}") ;; esac
    [ "$(timeout 5 "$REDIS_CLI" "${args[@]}" ping 2>/dev/null || true)" = "PONG" ]
}

try_external() { # returns 0 after printing, 1 to fall back to the private services
    local db_url="${DATABASE_URL:-}" redis_url="${REDIS_URL:-}"
    if [ -z "$db_url" ] && [ -z "$redis_url" ]; then
        return 1
    fi
    if [ -z "$db_url" ] || [ -z "$redis_url" ]; then
        log "only one of DATABASE_URL/REDIS_URL is set; both are needed to use external services - using private ones under .local/"
        return 1
    fi
    if ! find_clients; then
        if [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
            apt_install postgresql-client redis-tools
            find_clients || die "psql/pg_isready/redis-cli still missing after installing"
        else
            die "psql, pg_isready and redis-cli are needed to check DATABASE_URL/REDIS_URL; please install them"
        fi
    fi
    # SQLAlchemy driver suffixes (postgresql+asyncpg://) mean nothing to libpq.
    local libpq_url
    libpq_url="$(printf '%s' "$db_url" | sed -E 's#^(postgres(ql)?)\+[A-Za-z0-9_]+://#\1://#')"
    if ! "$PG_ISREADY" -q -t 3 -d "$libpq_url" >/dev/null 2>&1; then
        log "DATABASE_URL does not answer (pg_isready); falling back to private services under .local/"
        return 1
    fi
    if ! redis_ping "$redis_url"; then
        log "REDIS_URL does not answer PING; falling back to private services under .local/"
        return 1
    fi
    if ! PGOPTIONS='-c client_min_messages=warning' PGCONNECT_TIMEOUT=5 \
        "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$libpq_url" \
        -c 'CREATE EXTENSION IF NOT EXISTS postgis' >/dev/null; then
        die "DATABASE_URL answers but 'CREATE EXTENSION IF NOT EXISTS postgis' failed on it (see above)"
    fi
    log "using DATABASE_URL and REDIS_URL from the environment"
    emit "$db_url" "$redis_url"
    return 0
}

# ---------------------------------------------------------------- private services

# Both private services answer on the ports in services.env and really are ours.
private_up() { # pg_port redis_port
    local pg_port="$1" redis_port="$2" dir psql_bin redis_cli
    [ -n "$pg_port" ] && [ -n "$redis_port" ] || return 1
    [ -f "$PGDATA_DIR/PG_VERSION" ] || return 1
    # cheap checks first: our own pid files name live processes, on the expected port
    pg_postmaster_pid >/dev/null || return 1
    [ "$(sed -n 4p "$PGDATA_DIR/postmaster.pid")" = "$pg_port" ] || return 1
    redis_pid >/dev/null || return 1
    psql_bin="/usr/lib/postgresql/$(cat "$PGDATA_DIR/PG_VERSION")/bin/psql"
    [ -x "$psql_bin" ] || return 1
    redis_cli="$(command -v redis-cli || true)"
    [ -n "$redis_cli" ] || return 1
    # Identity checks: the server on that port must use *our* data/working dirs
    # (another checkout of the project may run its own services on nearby ports).
    dir="$(PGCONNECT_TIMEOUT=2 "$psql_bin" -X -A -t -q \
        -d "$(private_db_url "$pg_port")" -c 'SHOW data_directory' 2>/dev/null || true)"
    [ "$dir" = "$PGDATA_DIR" ] || return 1
    dir="$(timeout 3 "$redis_cli" -h 127.0.0.1 -p "$redis_port" --raw CONFIG GET dir 2>/dev/null |
        sed -n 2p || true)"
    [ "$dir" = "$REDIS_DIR" ] || return 1
}

check_pg_reachable_dirs() { # postgres (when we are root) must traverse every parent of .local
    local d="$LOCAL" bad=""
    while [ -n "$d" ] && [ "$d" != "/" ]; do
        if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
            bad="$d"
        fi
        d="$(dirname "$d")"
    done
    if [ -n "$bad" ]; then
        die "running as root, the private PostgreSQL must run as user 'postgres', but 'postgres'
cannot enter '$bad' (needed to reach $PGDATA_DIR). Either make it traversable
(chmod o+x '$bad'), move the checkout elsewhere (e.g. under /srv or /tmp), run as a
normal user, or set DATABASE_URL and REDIS_URL to existing services."
    fi
}

prepare_dirs() {
    mkdir -p "$LOCAL" "$RUN_DIR" "$REDIS_DIR"
    if [ "$IS_ROOT" -eq 1 ]; then
        getent passwd postgres >/dev/null ||
            die "running as root but there is no 'postgres' user to run PostgreSQL as"
        check_pg_reachable_dirs
        touch "$PG_LOG"
        chown postgres: "$RUN_DIR" "$PG_LOG"
    fi
}

init_cluster() {
    if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
        return 0
    fi
    if [ -e "$PGDATA_DIR" ]; then
        log "removing incomplete cluster directory $PGDATA_DIR"
        rm -rf "$PGDATA_DIR"
    fi
    mkdir -p "$PGDATA_DIR"
    chmod 700 "$PGDATA_DIR"
    if [ "$IS_ROOT" -eq 1 ]; then chown postgres: "$PGDATA_DIR"; fi
    log "initdb $PGDATA_DIR (PostgreSQL $PG_VERSION)"
    local common=(-D "$PGDATA_DIR" -A trust -U "$DB_USER" --encoding=UTF8 --no-sync)
    local initlog="$LOCAL/initdb.log"
    if ! as_pg "$PG_BIN/initdb" "${common[@]}" --locale=C.UTF-8 >"$initlog" 2>&1; then
        log "initdb with --locale=C.UTF-8 failed; retrying with --locale=C"
        rm -rf "$PGDATA_DIR"
        mkdir -p "$PGDATA_DIR"
        chmod 700 "$PGDATA_DIR"
        if [ "$IS_ROOT" -eq 1 ]; then chown postgres: "$PGDATA_DIR"; fi
        if ! as_pg "$PG_BIN/initdb" "${common[@]}" --locale=C >"$initlog" 2>&1; then
            cat "$initlog" >&2
            rm -rf "$PGDATA_DIR"
            die "initdb failed (output above, also in $initlog)"
        fi
    fi
}

start_pg() { # wanted_port avoid_port -> sets PG_PORT
    local pid want="$1" avoid="$2" attempt port sockdir
    if pid="$(pg_postmaster_pid)"; then
        # Already running (e.g. services.env lost or redis was the part that was down).
        PG_PORT="$(sed -n 4p "$PGDATA_DIR/postmaster.pid")"
        log "PostgreSQL already running (pid $pid, port $PG_PORT)"
        return 0
    fi
    # Not running. If it crashed and its zombie is not reaped yet (containers whose PID 1
    # does not reap), postgres would take the pid files for a live server: drop them.
    pid="$(head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && [ -e "/proc/$pid" ] && pid_gone "$pid"; then
        log "removing stale $PGDATA_DIR/postmaster.pid (pid $pid has exited)"
        rm -f "$PGDATA_DIR/postmaster.pid"
    fi
    rm -f "$RUN_DIR"/.s.PGSQL.* # .local/run is ours alone and our server is down
    for attempt in 1 2 3 4 5; do
        # after a crash, orphaned backends may hold the port/shared memory for a moment
        [ "$attempt" -gt 1 ] && sleep 1
        port="$(pick_port "$want" "$PG_PORT_BASE" "$avoid")"
        sockdir="$RUN_DIR"
        # Unix socket paths are limited to 107 bytes; TCP alone is enough for us.
        if [ $((${#RUN_DIR} + 16)) -gt 107 ]; then
            log "socket directory path too long for a unix socket; PostgreSQL listens on TCP only"
            sockdir=""
        fi
        log "starting PostgreSQL $PG_VERSION on 127.0.0.1:$port"
        # NOTE: fsync/synchronous_commit/full_page_writes off and trust auth: this is a
        # throw-away dev/test cluster, bound to 127.0.0.1 only. A crash can lose its data.
        if as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 \
            -o "-p $port -k '$sockdir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start </dev/null >&2; then
            PG_PORT="$port"
            return 0
        fi
        log "PostgreSQL did not start (attempt $attempt); last lines of $PG_LOG:"
        tail -n 5 "$PG_LOG" >&2 || true
    done
    die "could not start PostgreSQL (see $PG_LOG)"
}

setup_db() {
    local psql_base=(env PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1)
    local admin_url="postgresql://$DB_USER@127.0.0.1:$PG_PORT/postgres"
    if [ -z "$("${psql_base[@]}" -d "$admin_url" -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
        log "creating database $DB_NAME"
        "${psql_base[@]}" -d "$admin_url" -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null
    fi
    "${psql_base[@]}" -d "$(private_db_url "$PG_PORT")" \
        -c 'CREATE EXTENSION IF NOT EXISTS postgis' >/dev/null
}

start_redis() { # wanted_port avoid_port -> sets REDIS_PORT
    local pid want="$1" avoid="$2" attempt port i
    if pid="$(redis_pid)"; then
        if [ -n "$want" ] && [ "$(timeout 3 "$REDIS_CLI" -h 127.0.0.1 -p "$want" --raw CONFIG GET dir 2>/dev/null | sed -n 2p || true)" = "$REDIS_DIR" ]; then
            REDIS_PORT="$want"
            log "Redis already running (pid $pid, port $REDIS_PORT)"
            return 0
        fi
        log "restarting our Redis (pid $pid): its port is unknown"
        kill "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "Redis pid $pid did not stop"
    fi
    rm -f "$REDIS_PIDFILE"
    for attempt in 1 2 3; do
        [ "$attempt" -gt 1 ] && sleep 1
        port="$(pick_port "$want" "$REDIS_PORT_BASE" "$avoid")"
        log "starting Redis on 127.0.0.1:$port"
        if (cd "$REDIS_DIR" && launch "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --daemonize yes \
            --dir "$REDIS_DIR" --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" \
            --save "" --appendonly no </dev/null >&2); then
            for ((i = 0; i < 100; i++)); do
                if [ "$(timeout 2 "$REDIS_CLI" -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" = "PONG" ]; then
                    REDIS_PORT="$port"
                    return 0
                fi
                # daemonized child died (e.g. port taken): stop waiting
                if [ "$i" -gt 5 ] && ! redis_pid >/dev/null; then break; fi
                sleep 0.1
            done
        fi
        log "Redis did not start; last lines of $REDIS_LOG:"
        tail -n 5 "$REDIS_LOG" >&2 || true
        if pid="$(redis_pid)"; then
            kill "$pid" 2>/dev/null || true
            wait_gone "$pid" 10 || true
        fi
    done
    die "could not start Redis (see $REDIS_LOG)"
}

ensure_private() {
    lock
    read_env_file
    # Fast path: both already up on the recorded ports.
    if private_up "$ENV_PG_PORT" "$ENV_REDIS_PORT"; then
        emit "$(private_db_url "$ENV_PG_PORT")" "$(private_redis_url "$ENV_REDIS_PORT")"
        return 0
    fi
    ensure_server_binaries
    prepare_dirs
    init_cluster
    start_pg "$ENV_PG_PORT" "$ENV_REDIS_PORT"
    setup_db
    start_redis "$ENV_REDIS_PORT" "$PG_PORT"
    write_env_file "$PG_PORT" "$REDIS_PORT"
    private_up "$PG_PORT" "$REDIS_PORT" || die "services started but do not answer as expected"
    log "private PostgreSQL (127.0.0.1:$PG_PORT) and Redis (127.0.0.1:$REDIS_PORT) ready"
    emit "$(private_db_url "$PG_PORT")" "$(private_redis_url "$REDIS_PORT")"
}

stop_private() {
    [ -d "$LOCAL" ] || return 0
    lock
    local pid
    if pid="$(pg_postmaster_pid)"; then
        log "stopping PostgreSQL (pid $pid)"
        kill -INT "$pid" # "fast" shutdown, like pg_ctl stop -m fast
        wait_gone "$pid" 60 || die "PostgreSQL (pid $pid) did not stop within 60s"
    fi
    if pid="$(redis_pid)"; then
        log "stopping Redis (pid $pid)"
        kill -TERM "$pid"
        wait_gone "$pid" 30 || die "Redis (pid $pid) did not stop within 30s"
    fi
    rm -f "$REDIS_PIDFILE"
}

case "${1:-}" in
    "" | start)
        try_external || ensure_private
        ;;
    stop)
        stop_private
        ;;
    *)
        die "usage: bash scripts/services.sh [start|stop]"
        ;;
esac
