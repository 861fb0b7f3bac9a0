#!/usr/bin/env bash
# Project-local server stack: PostgreSQL, Redis, RabbitMQ and nginx, all
# running from $VIDEO_API_RUN_DIR (default .run) so that several stacks (dev,
# test) can coexist on one machine without touching system services.
#
#   scripts/stack.sh start [service...]   start (all by default), then migrate
#   scripts/stack.sh stop [service...]    stop (all running by default)
#   scripts/stack.sh status [service...]  exit 0 if all listed are running, 3 if not
#   scripts/stack.sh logs [service...]    log paths and their last lines
#   scripts/stack.sh migrate              apply pending conf/sql/NNNN_*.sql
#   scripts/stack.sh env                  export lines of the effective settings
#   scripts/stack.sh conf-check           render conf/nginx.conf (and conf/worker.conf)
#                                         with this installation's secrets, run nginx -t
#   scripts/stack.sh admin-key            make the admin API key make run keeps in
#                                         $VIDEO_API_RUN_DIR/admin.key, unless it works
#   scripts/stack.sh rabbitmqctl args...  rabbitmqctl against this stack's node
#
# Services: pg (postgres, postgresql), redis, amqp (rabbitmq), nginx,
# workers (video-worker relay, transcode, cleanup, analytics and webhook, each
# restarted by a supervisor if it dies; settings from conf/worker.conf plus
# this stack's ports).
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)

# ---------------------------------------------------------------- settings --

RUN_DIR_SETTING=${VIDEO_API_RUN_DIR:-.run}
LISTEN=${VIDEO_API_LISTEN:-127.0.0.1}
HTTP_PORT=${VIDEO_API_HTTP_PORT:-8080}
RTMP_PORT=${VIDEO_API_RTMP_PORT:-1935}
STORE_PORT=${VIDEO_API_STORE_PORT:-9000}
PG_HOST=${VIDEO_API_PG_HOST:-127.0.0.1}
PG_PORT=${VIDEO_API_PG_PORT:-5433}
PG_USER=${VIDEO_API_PG_USER:-video}
PG_PASSWORD=${VIDEO_API_PG_PASSWORD:-video}
PG_DB=${VIDEO_API_PG_DB:-video}
REDIS_HOST=127.0.0.1
REDIS_PORT=${VIDEO_API_REDIS_PORT:-6380}
AMQP_HOST=127.0.0.1
AMQP_PORT=${VIDEO_API_AMQP_PORT:-5673}
AMQP_USER=video
AMQP_PASSWORD=video
AMQP_DIST_PORT=${VIDEO_API_AMQP_DIST_PORT:-}
# the relay's metrics port, the next ones transcode's, cleanup's,
# analytics', webhook's, then the other transcode workers'; unset:
# conf/worker.conf's metrics_listen (9471..9475, the others 9476 on)
WORKER_METRICS_PORT=${VIDEO_API_WORKER_METRICS_PORT:-}
# transcode workers: one per core unless said (1..64); with chunks every
# one of them takes a piece of the same video
TRANSCODERS=${VIDEO_API_TRANSCODERS:-$(nproc 2>/dev/null || echo 1)}
if [ -z "$AMQP_DIST_PORT" ] && [[ $AMQP_PORT =~ ^[0-9]+$ ]]; then
    AMQP_DIST_PORT=$((AMQP_PORT + 20000))
fi

case $RUN_DIR_SETTING in
    /*) RUN=$RUN_DIR_SETTING ;;
    *) RUN=$ROOT/$RUN_DIR_SETTING ;;
esac
RUN=${RUN%/}
LOGS=$RUN/logs

PG_BASE=$RUN/pg
PG_DATA=$PG_BASE/data
PG_LOG=$LOGS/postgresql.log
REDIS_DIR=$RUN/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$LOGS/redis.log
RMQ_DIR=$RUN/rabbitmq
RMQ_PID=$RMQ_DIR/rabbitmq.pid
RMQ_LOG=$LOGS/rabbitmq.log
RMQ_STARTUP_LOG=$LOGS/rabbitmq-startup.log
RMQ_NODE=video-api-$AMQP_PORT@localhost
# rabbitmqctl is an Erlang node too and listens while it runs. Its stock range
# (35672-35682) would hold the dist port of a stack on AMQP port 15673, so it
# gets the ten ports next to this stack's dist port instead.
RMQ_CTL_PORT_MIN=0
if [[ $AMQP_DIST_PORT =~ ^[0-9]+$ ]]; then
    if [ "$AMQP_DIST_PORT" -le 65525 ]; then
        RMQ_CTL_PORT_MIN=$((AMQP_DIST_PORT + 1))
    else
        RMQ_CTL_PORT_MIN=$((AMQP_DIST_PORT - 10))
    fi
fi
NGINX_DIR=$RUN/nginx
NGINX_CONF_SRC=$ROOT/conf/nginx.conf
NGINX_CONF=$NGINX_DIR/nginx.conf
NGINX_LOG=$LOGS/nginx-error.log
SQL_DIR=$ROOT/conf/sql

PG_START_TIMEOUT=60
REDIS_START_TIMEOUT=20
RMQ_START_TIMEOUT=120
NGINX_START_TIMEOUT=20
STOP_TIMEOUT=60

ALL_SERVICES=(pg redis amqp nginx workers)

# ----------------------------------------------------------------- helpers --

info() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Shown relative to the repo when possible: shorter, and what people type.
pretty_path() {
    case $1 in
        "$ROOT"/*) printf '%s' "${1#"$ROOT"/}" ;;
        *) printf '%s' "$1" ;;
    esac
}

show_log_tail() {
    local f
    for f in "$@"; do
        [ -s "$f" ] || continue
        printf -- '--- last lines of %s ---\n' "$(pretty_path "$f")" >&2
        tail -n 40 "$f" >&2 || true
    done
}

# Service failure: name it, point at its log(s) and show their tails.
fail_service() {
    local svc=$1 msg=$2
    shift 2
    local f seen=""
    printf 'error: %s: %s\n' "$svc" "$msg" >&2
    for f in "$@"; do
        [ -s "$f" ] && seen="$seen $(pretty_path "$f")"
    done
    [ -z "$seen" ] || printf 'error: %s: see%s\n' "$svc" "$seen" >&2
    show_log_tail "$@"
    exit 1
}

check_port() {
    local name=$1 value=$2
    [[ $value =~ ^[0-9]+$ ]] && [ "$value" -ge 1 ] && [ "$value" -le 65535 ] ||
        die "$name must be a TCP port number (1-65535), got '$value'"
}

validate_settings() {
    check_port VIDEO_API_HTTP_PORT "$HTTP_PORT"
    check_port VIDEO_API_RTMP_PORT "$RTMP_PORT"
    check_port VIDEO_API_STORE_PORT "$STORE_PORT"
    check_port VIDEO_API_PG_PORT "$PG_PORT"
    check_port VIDEO_API_REDIS_PORT "$REDIS_PORT"
    check_port VIDEO_API_AMQP_PORT "$AMQP_PORT"
    check_port "VIDEO_API_AMQP_DIST_PORT (defaults to AMQP port + 20000)" "$AMQP_DIST_PORT"
    [[ $TRANSCODERS =~ ^[0-9]+$ ]] && [ "$TRANSCODERS" -ge 1 ] && [ "$TRANSCODERS" -le 64 ] ||
        die "VIDEO_API_TRANSCODERS must be a number of transcode workers (1-64), got '$TRANSCODERS'"
    [ -z "$WORKER_METRICS_PORT" ] ||
        check_port "VIDEO_API_WORKER_METRICS_PORT (and the $((3 + TRANSCODERS)) after it)" \
            "$WORKER_METRICS_PORT"
}

# The pid must be alive *and* be the expected program: pid files outlive
# crashes and reboots, and the number may since belong to something else.
pid_is() {
    local pid=$1 comm=$2 actual stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    actual=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [ "$actual" = "$comm" ] || return 1
    # Daemons are reparented to init, which may reap them late: an exited
    # server can linger as a zombie.
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ]
}

read_pid() {
    local f=$1 pid=""
    [ -r "$f" ] && read -r pid <"$f" 2>/dev/null || true
    printf '%s' "$pid"
}

# True when something accepts TCP connections on host:port.
port_open() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

require_port_free() {
    local svc=$1 host=$2 port=$3
    if port_open "$host" "$port"; then
        die "$svc: $host:$port is already in use by another process (not this stack's); stop it or choose another port"
    fi
}

# What a running server was started with, recorded at start: the settings
# may have changed since.
started_with() {
    local f=$1 default=$2 v=""
    [ -r "$f" ] && read -r v <"$f" 2>/dev/null || true
    printf '%s' "${v:-$default}"
}

warn_if_changed() {
    [ "$2" = "$3" ] || warn "$1: running on $2 but the settings say $3; stop and start it to apply"
}

wait_pid_exit() {
    local pid=$1 comm=$2 timeout=$3
    local deadline=$((SECONDS + timeout))
    while pid_is "$pid" "$comm"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

find_bin() {
    local name=$1 d
    shift
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        return
    fi
    # Non-root PATHs usually lack the sbin directories.
    for d in "$@" /usr/sbin /sbin /usr/local/sbin; do
        if [ -x "$d/$name" ]; then
            printf '%s\n' "$d/$name"
            return
        fi
    done
    return 1
}

# Grants $user search (x) permission on every ancestor of $dir that lacks it.
# Needed when root runs the stack from a checkout under a private directory
# such as /root: PostgreSQL must run as an unprivileged user, and that user
# has to be able to walk down to its data directory. Only search permission
# is added (names can't be listed), with an ACL for just that user when the
# acl tools exist, otherwise for "other".
ensure_traversable() {
    local user=$1 dir=$2 d="" part
    local -a parts
    runuser -u "$user" -- test -x "$dir" 2>/dev/null && return 0
    IFS=/ read -ra parts <<<"${dir#/}"
    for part in "${parts[@]}"; do
        [ -n "$part" ] || continue
        d=$d/$part
        runuser -u "$user" -- test -x "$d" 2>/dev/null && continue
        if command -v setfacl >/dev/null 2>&1; then
            info "granting user $user search permission on $d (ACL) so it can reach $(pretty_path "$dir")"
            setfacl -m "u:$user:x" "$d"
        else
            info "granting search permission (o+x) on $d so user $user can reach $(pretty_path "$dir")"
            chmod o+x "$d"
        fi
    done
    runuser -u "$user" -- test -x "$dir" ||
        die "user $user still cannot reach $dir; check the permissions of its parent directories"
}

normalize_service() {
    case $1 in
        pg | postgres | postgresql) echo pg ;;
        redis) echo redis ;;
        amqp | rabbitmq | rabbit) echo amqp ;;
        nginx | http) echo nginx ;;
        workers | worker) echo workers ;;
        *) die "unknown service '$1' (services: pg redis amqp nginx workers)" ;;
    esac
}

# -------------------------------------------------------------- postgresql --

PG_BIN=""
pg_find_bin() {
    [ -n "$PG_BIN" ] && return 0
    local ver="" d
    # A data directory can only be served by its own major version.
    if [ -r "$PG_DATA/PG_VERSION" ]; then
        read -r ver <"$PG_DATA/PG_VERSION" || true
        if [ -n "$ver" ] && [ -x "/usr/lib/postgresql/$ver/bin/pg_ctl" ]; then
            PG_BIN=/usr/lib/postgresql/$ver/bin
            return 0
        fi
    fi
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then
        PG_BIN=$d
    elif command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN=$(dirname "$(command -v pg_ctl)")
    else
        die "postgresql: server binaries not found (apt-get install postgresql)"
    fi
    if [ -n "$ver" ] && ! "$PG_BIN/pg_ctl" --version | grep -q " $ver\."; then
        die "postgresql: $(pretty_path "$PG_DATA") was created by PostgreSQL $ver, which is not installed"
    fi
}

# PostgreSQL refuses to run as root, so as root its programs run as postgres.
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

pg_pid() {
    local pid=""
    [ -r "$PG_DATA/postmaster.pid" ] && pid=$(sed -n 1p "$PG_DATA/postmaster.pid" 2>/dev/null || true)
    pid_is "$pid" postgres && printf '%s' "$pid"
}

pg_running() { pg_pid >/dev/null; }

# Host and port of the running server, from postmaster.pid (lines 4 and 6),
# which may differ from the current settings if those changed since start.
pg_actual_addr() {
    local port host
    port=$(sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true)
    host=$(sed -n 6p "$PG_DATA/postmaster.pid" 2>/dev/null || true)
    printf '%s:%s' "${host:-$PG_HOST}" "${port:-$PG_PORT}"
}

# Local administration goes through the unix socket (trust), so it keeps
# working even if the password setting changed after initdb; the port is the
# running server's, which names the socket.
pg_psql() {
    local port
    port=$(sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true)
    PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
        "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "${port:-$PG_PORT}" -U "$PG_USER" "$@"
}

pg_init() {
    local pwfile=$PG_BASE/initdb.pw
    info "postgresql: initializing $(pretty_path "$PG_DATA")"
    (umask 077 && printf '%s\n' "$PG_PASSWORD" >"$pwfile")
    is_root && chown postgres: "$pwfile"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile="$pwfile" \
        -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 \
        --no-instructions >>"$PG_LOG" 2>&1; then
        rm -f "$pwfile"
        fail_service postgresql "initdb failed" "$PG_LOG"
    fi
    rm -f "$pwfile"
    # Per-start settings live in their own file so postgresql.conf stays stock.
    printf "\ninclude_if_exists = 'video-api.conf'\n" >>"$PG_DATA/postgresql.conf"
}

pg_write_settings() {
    local f=$PG_DATA/video-api.conf sock=${PG_BASE//\'/\'\'}
    {
        echo "# Rewritten by scripts/stack.sh on every start."
        echo "listen_addresses = '$PG_HOST'"
        echo "port = $PG_PORT"
        echo "unix_socket_directories = '$sock'"
        echo "lc_messages = 'C'"
    } >"$f"
    is_root && chown postgres: "$f"
    return 0
}

start_pg() {
    pg_find_bin
    if pg_running; then
        info "postgresql already running on $(pg_actual_addr) (pid $(pg_pid))"
        warn_if_changed postgresql "$(pg_actual_addr)" "$PG_HOST:$PG_PORT"
    else
        require_port_free postgresql "$PG_HOST" "$PG_PORT"
        # The socket path must fit in sockaddr_un (107 bytes).
        local sock=$PG_BASE/.s.PGSQL.$PG_PORT
        [ "${#sock}" -le 100 ] ||
            die "postgresql: unix socket path $sock is too long; use a shorter VIDEO_API_RUN_DIR"
        mkdir -p "$PG_BASE" "$LOGS"
        touch "$PG_LOG"
        if is_root; then
            id postgres >/dev/null 2>&1 || die "postgresql: running as root needs the 'postgres' user (apt-get install postgresql)"
            chown postgres: "$PG_BASE" "$PG_LOG"
            [ -d "$PG_DATA" ] && chown postgres: "$PG_DATA"
            ensure_traversable postgres "$PG_BASE"
        fi
        chmod 700 "$PG_BASE"
        [ -f "$PG_DATA/PG_VERSION" ] || pg_init
        pg_write_settings
        info "postgresql: starting on $PG_HOST:$PG_PORT"
        if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_START_TIMEOUT" -s >/dev/null 2>>"$PG_LOG"; then
            fail_service postgresql "pg_ctl start failed (waited up to ${PG_START_TIMEOUT}s)" "$PG_LOG"
        fi
        pg_running || fail_service postgresql "exited right after starting" "$PG_LOG"
    fi
    pg_ensure_db
}

pg_ensure_db() {
    local state
    state=$(pg_psql -d postgres -At -v db="$PG_DB" -v owner="$PG_USER" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT 'exists' WHERE EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db');
SQL
    ) || fail_service postgresql "could not create database $PG_DB" "$PG_LOG"
    [ "$state" = exists ] || fail_service postgresql "database $PG_DB is missing" "$PG_LOG"
}

stop_pg() {
    if ! pg_running; then
        info "postgresql not running"
        return 0
    fi
    pg_find_bin
    info "postgresql: stopping (pid $(pg_pid))"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t "$STOP_TIMEOUT" -s >/dev/null 2>>"$PG_LOG" ||
        fail_service postgresql "did not stop within ${STOP_TIMEOUT}s" "$PG_LOG"
}

status_pg() {
    local pid
    if pid=$(pg_pid); then
        status_line postgresql running "$(pg_actual_addr)" "pid $pid"
    else
        status_line postgresql stopped "$PG_HOST:$PG_PORT" ""
        return 1
    fi
}

# -------------------------------------------------------------- migrations --

migrate() {
    pg_find_bin
    pg_running || die "migrate: postgresql is not running (scripts/stack.sh start pg)"

    local -a files=()
    local f name version prev="" out applied=0 skipped=0
    shopt -s nullglob
    files=("$SQL_DIR"/[0-9][0-9][0-9][0-9]_*.sql)
    shopt -u nullglob
    if [ ${#files[@]} -gt 0 ]; then
        mapfile -t files < <(printf '%s\n' "${files[@]}" | LC_ALL=C sort)
    fi
    for f in "${files[@]+"${files[@]}"}"; do
        version=$(basename "$f")
        version=${version%%_*}
        [ "$version" != "$prev" ] || die "migrate: two migrations share version $version (conf/sql/${version}_*.sql)"
        prev=$version
    done

    # One lock for all runners; taken per transaction so a crashed runner
    # can never leave it held.
    local lock="SELECT pg_advisory_xact_lock(hashtext('video-api:schema_migrations')) AS migration_lock \gset"
    pg_psql -d "$PG_DB" --single-transaction <<SQL || die "migrate: could not create schema_migrations (see $(pretty_path "$PG_LOG"))"
$lock
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
SQL

    local done_list
    done_list=$(pg_psql -d "$PG_DB" -At -c 'SELECT version FROM schema_migrations') ||
        die "migrate: could not read schema_migrations"

    for f in "${files[@]+"${files[@]}"}"; do
        name=$(basename "$f")
        version=${name%%_*}
        if grep -qxF -- "$version" <<<"$done_list"; then
            skipped=$((skipped + 1))
            continue
        fi
        # File and bookkeeping row commit together or not at all. Under the
        # lock the version is checked again, in case a concurrent runner
        # applied it since the list above was read.
        out=$(
            {
                cat <<SQL
$lock
SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = :'version') AS already_applied \gset
\if :already_applied
\echo video-api-migration-skipped
\else
SQL
                cat -- "$f"
                cat <<'SQL'

INSERT INTO schema_migrations (version) VALUES (:'version');
\endif
SQL
            } | pg_psql -d "$PG_DB" --single-transaction -v version="$version" 2>&1
        ) || {
            printf '%s\n' "$out" >&2
            die "migrate: $name failed; nothing of it was applied"
        }
        if grep -qx video-api-migration-skipped <<<"$out"; then
            skipped=$((skipped + 1))
        else
            [ -z "$out" ] || printf '%s\n' "$out"
            info "migrate: applied $name"
            applied=$((applied + 1))
        fi
    done

    if [ "$applied" -eq 0 ]; then
        info "migrate: nothing to apply ($skipped already applied)"
    else
        info "migrate: applied $applied, $skipped already applied"
    fi
}

# ------------------------------------------------------------------- redis --

redis_pid() {
    local pid
    pid=$(read_pid "$REDIS_PID")
    pid_is "$pid" redis-server && printf '%s' "$pid"
}

redis_running() { redis_pid >/dev/null; }

start_redis() {
    if redis_running; then
        local addr
        addr=$(started_with "$REDIS_DIR/address" "$REDIS_HOST:$REDIS_PORT")
        info "redis already running on $addr (pid $(redis_pid))"
        warn_if_changed redis "$addr" "$REDIS_HOST:$REDIS_PORT"
        return 0
    fi
    local server cli
    server=$(find_bin redis-server) || die "redis: redis-server not found (apt-get install redis-server)"
    cli=$(find_bin redis-cli) || die "redis: redis-cli not found (apt-get install redis-tools)"
    require_port_free redis "$REDIS_HOST" "$REDIS_PORT"
    mkdir -p "$REDIS_DIR" "$LOGS"
    rm -f "$REDIS_PID"
    echo "$REDIS_HOST:$REDIS_PORT" >"$REDIS_DIR/address"
    info "redis: starting on $REDIS_HOST:$REDIS_PORT"
    # appendonly: counters (e.g. view counts) must survive restarts.
    "$server" --port "$REDIS_PORT" --bind "$REDIS_HOST" --dir "$REDIS_DIR" \
        --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" \
        --appendonly yes </dev/null >>"$REDIS_LOG" 2>&1 ||
        fail_service redis "redis-server failed to start" "$REDIS_LOG"

    local deadline=$((SECONDS + REDIS_START_TIMEOUT))
    until [ "$("$cli" -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && redis_running; do
        [ "$SECONDS" -lt "$deadline" ] ||
            fail_service redis "not answering PING on $REDIS_HOST:$REDIS_PORT after ${REDIS_START_TIMEOUT}s" "$REDIS_LOG"
        sleep 0.1
    done
}

stop_redis() {
    local pid
    if ! pid=$(redis_pid); then
        info "redis not running"
        return 0
    fi
    info "redis: stopping (pid $pid)"
    # SIGTERM makes redis flush the append-only file before exiting.
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid_exit "$pid" redis-server "$STOP_TIMEOUT" ||
        fail_service redis "did not stop within ${STOP_TIMEOUT}s" "$REDIS_LOG"
}

status_redis() {
    local pid
    if pid=$(redis_pid); then
        status_line redis running "$(started_with "$REDIS_DIR/address" "$REDIS_HOST:$REDIS_PORT")" "pid $pid"
    else
        status_line redis stopped "$REDIS_HOST:$REDIS_PORT" ""
        return 1
    fi
}

# ---------------------------------------------------------------- rabbitmq --

RMQ_BIN=""
rmq_find_bin() {
    [ -n "$RMQ_BIN" ] && return 0
    local d
    # Debian's /usr/sbin/rabbitmq-* wrappers switch to the rabbitmq user and
    # its /var/lib/rabbitmq; the real scripts honour our environment.
    for d in /usr/lib/rabbitmq/bin /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin; do
        if [ -x "$d/rabbitmq-server" ] && [ -x "$d/rabbitmqctl" ]; then
            RMQ_BIN=$d
            return 0
        fi
    done
    die "rabbitmq: server scripts not found in /usr/lib/rabbitmq/bin (apt-get install rabbitmq-server)"
}

# Everything RabbitMQ would otherwise take from /etc/rabbitmq, /var/lib and
# $HOME points into the run dir. HOME carries the Erlang cookie, so the
# server and our rabbitmqctl calls share one that belongs to this stack.
# Erlang distribution (node, CLI and an epmd we start) would otherwise listen
# on all interfaces.
rmq_env() {
    env HOME="$RMQ_DIR" \
        RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf" \
        RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia" \
        RABBITMQ_LOG_BASE="$LOGS" \
        RABBITMQ_LOGS="$RMQ_LOG" \
        RABBITMQ_PID_FILE="$RMQ_PID" \
        RABBITMQ_NODENAME="$RMQ_NODE" \
        RABBITMQ_NODE_IP_ADDRESS="$AMQP_HOST" \
        RABBITMQ_NODE_PORT="$AMQP_PORT" \
        RABBITMQ_DIST_PORT="$AMQP_DIST_PORT" \
        RABBITMQ_CTL_DIST_PORT_MIN="$RMQ_CTL_PORT_MIN" \
        RABBITMQ_CTL_DIST_PORT_MAX="$((RMQ_CTL_PORT_MIN + 9))" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        ERL_EPMD_ADDRESS=127.0.0.1 \
        ERL_CRASH_DUMP="$LOGS/erl_crash.dump" \
        "$@"
}

rmqctl() {
    rmq_env "$RMQ_BIN/rabbitmqctl" -n "$RMQ_NODE" "$@"
}

# "host:port node" of the running node.
rmq_started_with() {
    started_with "$RMQ_DIR/address" "$AMQP_HOST:$AMQP_PORT $RMQ_NODE"
}

rmq_pid() {
    local pid
    pid=$(read_pid "$RMQ_PID")
    pid_is "$pid" beam.smp && printf '%s' "$pid"
}

rmq_running() { rmq_pid >/dev/null; }

rmq_write_config() {
    mkdir -p "$RMQ_DIR/mnesia" "$LOGS"
    cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# Rewritten by scripts/stack.sh on every start.
listeners.tcp.default = $AMQP_HOST:$AMQP_PORT
# Only applied when the node boots on an empty database.
default_user = $AMQP_USER
default_pass = $AMQP_PASSWORD
default_vhost = /
default_user_tags.administrator = true
loopback_users = none
log.file.level = info
log.console = false
# a transcode holds its job unacknowledged while it runs: give long videos
# six hours before the broker takes the job back
consumer_timeout = 21600000
EOF
    echo '[].' >"$RMQ_DIR/enabled_plugins"
    : >"$RMQ_DIR/rabbitmq-env.conf"
}

# Whether epmd lists our node: a cheap readiness pre-check, because every
# rabbitmqctl call boots an Erlang VM and would slow the booting node.
rmq_registered() {
    local names
    names=$(epmd -names 2>/dev/null) || return 1
    grep -q "^name ${RMQ_NODE%@*} at port " <<<"$names"
}

start_amqp() {
    rmq_find_bin
    if rmq_running; then
        local addr
        addr=$(rmq_started_with)
        info "rabbitmq already running on ${addr%% *} (pid $(rmq_pid), node ${addr#* })"
        warn_if_changed rabbitmq "${addr%% *}" "$AMQP_HOST:$AMQP_PORT"
        return 0
    fi
    command -v epmd >/dev/null 2>&1 || die "rabbitmq: epmd not found (apt-get install erlang-base)"
    require_port_free rabbitmq "$AMQP_HOST" "$AMQP_PORT"
    require_port_free "rabbitmq (Erlang distribution, VIDEO_API_AMQP_DIST_PORT)" 127.0.0.1 "$AMQP_DIST_PORT"
    if rmq_registered; then
        die "rabbitmq: an Erlang node named $RMQ_NODE is already registered with epmd (another checkout using AMQP port $AMQP_PORT?)"
    fi
    rmq_write_config
    rm -f "$RMQ_PID"
    : >"$RMQ_STARTUP_LOG"
    echo "$AMQP_HOST:$AMQP_PORT $RMQ_NODE" >"$RMQ_DIR/address"
    info "rabbitmq: starting on $AMQP_HOST:$AMQP_PORT (node $RMQ_NODE)"
    # setsid: the node must not get the terminal's signals (Ctrl-C in the
    # shell that started the stack). All fds go to files, so callers that
    # capture our output don't wait for the node to exit.
    (cd "$RMQ_DIR" && rmq_env setsid "$RMQ_BIN/rabbitmq-server") \
        </dev/null >>"$RMQ_STARTUP_LOG" 2>&1 &
    local launcher=$!

    local deadline=$((SECONDS + RMQ_START_TIMEOUT))
    until rmq_registered; do
        kill -0 "$launcher" 2>/dev/null ||
            fail_service rabbitmq "exited during startup" "$RMQ_LOG" "$RMQ_STARTUP_LOG"
        [ "$SECONDS" -lt "$deadline" ] ||
            fail_service rabbitmq "node $RMQ_NODE did not come up within ${RMQ_START_TIMEOUT}s" "$RMQ_LOG" "$RMQ_STARTUP_LOG"
        sleep 0.2
    done
    local left=$((deadline - SECONDS))
    [ "$left" -ge 1 ] || left=1
    if ! rmqctl -q await_startup --timeout "$left" >>"$RMQ_STARTUP_LOG" 2>&1; then
        fail_service rabbitmq "node $RMQ_NODE did not finish booting within ${RMQ_START_TIMEOUT}s" "$RMQ_LOG" "$RMQ_STARTUP_LOG"
    fi
    until port_open "$AMQP_HOST" "$AMQP_PORT"; do
        [ "$SECONDS" -lt "$deadline" ] ||
            fail_service rabbitmq "booted but not accepting AMQP connections on $AMQP_HOST:$AMQP_PORT" "$RMQ_LOG" "$RMQ_STARTUP_LOG"
        sleep 0.2
    done
    rmq_running || fail_service rabbitmq "booted but its pid file $(pretty_path "$RMQ_PID") is missing" "$RMQ_LOG"
}

# epmd is started on demand by the first Erlang node and is shared by all of
# them; it is only ended once no node is registered, so it never pulls the
# rug from another stack (epmd itself also refuses -kill while nodes live).
rmq_stop_idle_epmd() {
    local names
    names=$(epmd -names 2>/dev/null) || return 0
    grep -q '^name ' <<<"$names" && return 0
    epmd -kill >/dev/null 2>&1 || true
}

stop_amqp() {
    local pid
    if ! pid=$(rmq_pid); then
        info "rabbitmq not running"
        return 0
    fi
    rmq_find_bin
    local node
    node=$(rmq_started_with)
    node=${node#* }
    info "rabbitmq: stopping (pid $pid, node $node)"
    # With the pid file, "stop" waits until the Erlang VM has exited.
    if ! rmq_env timeout "$STOP_TIMEOUT" "$RMQ_BIN/rabbitmqctl" -n "$node" -q stop "$RMQ_PID" \
        >>"$RMQ_STARTUP_LOG" 2>&1; then
        warn "rabbitmq: rabbitmqctl stop failed; sending SIGTERM to $pid"
        kill -TERM "$pid" 2>/dev/null || true
    fi
    wait_pid_exit "$pid" beam.smp "$STOP_TIMEOUT" ||
        fail_service rabbitmq "did not stop within ${STOP_TIMEOUT}s" "$RMQ_LOG" "$RMQ_STARTUP_LOG"
    rm -f "$RMQ_PID"
    rmq_stop_idle_epmd
}

status_amqp() {
    local pid
    if pid=$(rmq_pid); then
        local addr
        addr=$(rmq_started_with)
        status_line rabbitmq running "${addr%% *}" "pid $pid, node ${addr#* }"
    else
        status_line rabbitmq stopped "$AMQP_HOST:$AMQP_PORT" ""
        return 1
    fi
}

# ------------------------------------------------------------------- nginx --

NGINX_BIN=""
nginx_find_bin() {
    [ -n "$NGINX_BIN" ] && return 0
    NGINX_BIN=$(find_bin nginx) || die "nginx: nginx not found (apt-get install nginx)"
}

# ----------------------------------------------------------------- secrets --

# Each installation's own secrets, made once and kept 0600 under the run
# directory: the storage key pair (the local store's, which the module and
# the workers sign with), the key of play tokens and the key that seals
# webhook endpoints' signing secrets at rest.  conf/nginx.conf and
# conf/worker.conf hold placeholders; the rendered copies hold these.
SECRETS=$RUN/secrets.env
STORAGE_ACCESS_KEY=
STORAGE_SECRET_KEY=
PLAYBACK_SECRET=
LIVE_RELAY_SECRET=
WEBHOOK_KEY=

random_text() {
    # $1 bytes from the kernel's CSPRNG, as base64url without padding
    head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='
}

# a new value for secret $1
secret_make() {
    case $1 in
        STORAGE_ACCESS_KEY) printf 'VA%s' "$(head -c 15 /dev/urandom | base32 | head -c 18)" ;;
        STORAGE_SECRET_KEY) random_text 30 ;;
        # nginx-rtmp sends at most 31 bytes of a flashVer: 184 bits
        LIVE_RELAY_SECRET) random_text 23 ;;
        *) random_text 32 ;;
    esac
}

secrets_load() {
    [ -z "$STORAGE_SECRET_KEY" ] || return 0
    local name value made=()
    mkdir -p "$RUN"
    (umask 077; touch "$SECRETS")
    chmod 600 "$SECRETS"
    [ -s "$SECRETS" ] ||
        printf '# made by scripts/stack.sh; keep it private (README, Secrets)\n' >>"$SECRETS"
    while IFS='=' read -r name value; do
        case $name in
            STORAGE_ACCESS_KEY | STORAGE_SECRET_KEY | PLAYBACK_SECRET | LIVE_RELAY_SECRET | WEBHOOK_KEY)
                printf -v "$name" '%s' "$value" ;;
        esac
    done <"$SECRETS"
    # each one made once, when it is first needed
    for name in STORAGE_ACCESS_KEY STORAGE_SECRET_KEY PLAYBACK_SECRET LIVE_RELAY_SECRET WEBHOOK_KEY; do
        if [ -z "${!name}" ]; then
            printf -v "$name" '%s' "$(secret_make "$name")"
            printf '%s=%s\n' "$name" "${!name}" >>"$SECRETS"
            made+=("$name")
        fi
    done
    [ ${#made[@]} -eq 0 ] ||
        info "secrets: generated ${made[*]} in $(pretty_path "$SECRETS") (mode 0600)"
    [[ $STORAGE_ACCESS_KEY =~ ^[A-Z0-9]{16,}$ && $STORAGE_SECRET_KEY =~ ^[A-Za-z0-9_-]{32,}$ &&
       $PLAYBACK_SECRET =~ ^[A-Za-z0-9_-]{32,}$ && $LIVE_RELAY_SECRET =~ ^[A-Za-z0-9_-]{16,31}$ &&
       $WEBHOOK_KEY =~ ^[A-Za-z0-9_-]{32,}$ ]] ||
        die "secrets: $(pretty_path "$SECRETS") is damaged; remove it to make new ones (running stacks must restart)"
}

# stdin to stdout with the secrets' placeholders filled in
secrets_render() {
    sed -e "s/@STORAGE_ACCESS_KEY@/$STORAGE_ACCESS_KEY/g" \
        -e "s/@STORAGE_SECRET_KEY@/$STORAGE_SECRET_KEY/g" \
        -e "s/@PLAYBACK_SECRET@/$PLAYBACK_SECRET/g" \
        -e "s/@LIVE_RELAY_SECRET@/$LIVE_RELAY_SECRET/g" \
        -e "s/@WEBHOOK_KEY@/$WEBHOOK_KEY/g"
}

sed_escape_repl() {
    printf '%s' "$1" | sed -e 's/[\\&#]/\\&/g'
}

# The checked-in config uses the default ports, 127.0.0.1 on listen lines and
# .run/ paths; the rendered copy carries this stack's settings.
nginx_render() {
    local run_repl listen_repl
    secrets_load
    run_repl=$(sed_escape_repl "$RUN/")
    listen_repl=$(sed_escape_repl "$LISTEN")
    mkdir -p "$NGINX_DIR"
    # the copy holds the secrets: only its owner (nginx's master) reads it
    (umask 077; : >"$NGINX_CONF.tmp")
    # Two passes through placeholders, so a new port that equals another
    # default port (say HTTP on 9000) is not rewritten a second time.
    sed -E \
        -e 's/\b8080\b/@VIDEO_API_HTTP_PORT@/g' \
        -e 's/\b1935\b/@VIDEO_API_RTMP_PORT@/g' \
        -e 's/\b9000\b/@VIDEO_API_STORE_PORT@/g' \
        -e 's/\b5433\b/@VIDEO_API_PG_PORT@/g' \
        -e 's/\b6380\b/@VIDEO_API_REDIS_PORT@/g' \
        -e 's/\b5673\b/@VIDEO_API_AMQP_PORT@/g' \
        -e "/(^|[[:space:];{])listen[[:space:]]/ s#\\b127\\.0\\.0\\.1\\b#$listen_repl#g" \
        -e "s#(^|[^[:alnum:]_./-])\\.run/#\\1$run_repl#g" \
        "$NGINX_CONF_SRC" |
        sed -e "s/@VIDEO_API_HTTP_PORT@/$HTTP_PORT/g" \
            -e "s/@VIDEO_API_RTMP_PORT@/$RTMP_PORT/g" \
            -e "s/@VIDEO_API_STORE_PORT@/$STORE_PORT/g" \
            -e "s/@VIDEO_API_PG_PORT@/$PG_PORT/g" \
            -e "s/@VIDEO_API_REDIS_PORT@/$REDIS_PORT/g" \
            -e "s/@VIDEO_API_AMQP_PORT@/$AMQP_PORT/g" |
        secrets_render >"$NGINX_CONF.tmp"
    chmod 600 "$NGINX_CONF.tmp"
    mv -f "$NGINX_CONF.tmp" "$NGINX_CONF"
}

# First argument of a top-level-looking directive in the rendered config.
nginx_directive() {
    [ -r "$NGINX_CONF" ] || return 0
    awk -v d="$1" '$1 == d { v = $2; sub(/;.*/, "", v); gsub(/["\047]/, "", v); print v; exit }' "$NGINX_CONF"
}

nginx_abs() {
    case $1 in
        /*) printf '%s' "$1" ;;
        *) printf '%s' "$ROOT/$1" ;;
    esac
}

nginx_pidfile() {
    local p
    p=$(nginx_directive pid)
    if [ -n "$p" ]; then nginx_abs "$p"; else printf '%s' "$NGINX_DIR/nginx.pid"; fi
}

nginx_pid() {
    local pid
    pid=$(read_pid "$(nginx_pidfile)")
    pid_is "$pid" nginx && printf '%s' "$pid"
}

nginx_running() { nginx_pid >/dev/null; }

nginx_listens_on() {
    grep -Eq "(^|[[:space:];{])listen[[:space:]]+([^;[:space:]]*:)?$1([^0-9]|\$)" "$NGINX_CONF"
}

nginx_addr() {
    printf '%s:%s (rtmp %s, store %s)\n' "$LISTEN" "$HTTP_PORT" "$RTMP_PORT" "$STORE_PORT"
}

nginx_args() {
    NGINX_ARGS=(-p "$ROOT/" -c "$NGINX_CONF" -e "$NGINX_LOG")
    # Without a pid directive nginx would use its system-wide pid file.
    [ -n "$(nginx_directive pid)" ] || NGINX_ARGS+=(-g "pid $NGINX_DIR/nginx.pid;")
}

start_nginx() {
    if nginx_running; then
        local addr
        addr=$(started_with "$NGINX_DIR/address" "$(nginx_addr)")
        info "nginx already running on $addr (pid $(nginx_pid))"
        warn_if_changed nginx "$addr" "$(nginx_addr)"
        return 0
    fi
    nginx_prepare

    local port
    for port in "$HTTP_PORT" "$RTMP_PORT" "$STORE_PORT"; do
        if nginx_listens_on "$port"; then
            require_port_free nginx "$(connect_host "$LISTEN")" "$port"
        fi
    done

    local out
    info "nginx: starting on $(nginx_addr)"
    nginx_addr >"$NGINX_DIR/address"
    if ! out=$("$NGINX_BIN" "${NGINX_ARGS[@]}" </dev/null 2>&1); then
        printf '%s\n' "$out" >&2
        fail_service nginx "failed to start" "$NGINX_LOG"
    fi
    [ -z "$out" ] || printf '%s\n' "$out" >&2

    local deadline=$((SECONDS + NGINX_START_TIMEOUT))
    until nginx_running; do
        [ "$SECONDS" -lt "$deadline" ] ||
            fail_service nginx "no running master process after ${NGINX_START_TIMEOUT}s" "$NGINX_LOG"
        sleep 0.1
    done
    for port in "$HTTP_PORT" "$RTMP_PORT" "$STORE_PORT"; do
        nginx_listens_on "$port" || continue
        until port_open "$(connect_host "$LISTEN")" "$port"; do
            [ "$SECONDS" -lt "$deadline" ] ||
                fail_service nginx "not accepting connections on $LISTEN:$port" "$NGINX_LOG"
            sleep 0.1
        done
    done
}

# Renders the config, checks that its modules exist, creates the directories
# it needs, and runs nginx -t on it.
nginx_prepare() {
    nginx_find_bin
    [ -f "$NGINX_CONF_SRC" ] || die "nginx: $(pretty_path "$NGINX_CONF_SRC") does not exist yet"
    nginx_render

    local m missing=0
    while IFS= read -r m; do
        [ -n "$m" ] || continue
        if [ ! -f "$(nginx_abs "$m")" ]; then
            printf 'error: nginx: module %s not found (build it first: make)\n' "$m" >&2
            missing=1
        fi
    done < <(awk '$1 == "load_module" { v = $2; sub(/;.*/, "", v); gsub(/["\047]/, "", v); print v }' "$NGINX_CONF")
    [ "$missing" -eq 0 ] || exit 1

    mkdir -p "$LOGS" "$RUN/store" "$RUN/live" "$RUN/live-rec" \
             "$NGINX_DIR"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
    if is_root; then
        # Workers drop to the configured user (nobody by default), and the
        # store is written by them.
        local wuser
        wuser=$(nginx_directive user)
        wuser=${wuser:-nobody}
        if [ "$wuser" != root ] && id "$wuser" >/dev/null 2>&1; then
            chown "$wuser" "$RUN/store" "$RUN/live" "$RUN/live-rec"
            ensure_traversable "$wuser" "$RUN/store"
        fi
    fi

    nginx_args
    local out
    if ! out=$("$NGINX_BIN" -t -q "${NGINX_ARGS[@]}" 2>&1); then
        printf '%s\n' "$out" >&2
        fail_service nginx "configuration test failed for $(pretty_path "$NGINX_CONF") (rendered from conf/nginx.conf)" "$NGINX_LOG"
    fi
}

stop_nginx() {
    local pid
    if ! pid=$(nginx_pid); then
        info "nginx not running"
        return 0
    fi
    info "nginx: stopping (pid $pid)"
    # Graceful first; long-lived connections (RTMP publishers, keepalive)
    # can hold a graceful shutdown open, so fall back to a fast one.
    kill -QUIT "$pid" 2>/dev/null || true
    if ! wait_pid_exit "$pid" nginx 10; then
        warn "nginx: graceful shutdown still waiting after 10s; terminating"
        kill -TERM "$pid" 2>/dev/null || true
        wait_pid_exit "$pid" nginx "$STOP_TIMEOUT" ||
            fail_service nginx "did not stop" "$NGINX_LOG"
    fi
}

status_nginx() {
    local pid
    if pid=$(nginx_pid); then
        status_line nginx running "$(started_with "$NGINX_DIR/address" "$(nginx_addr)")" "pid $pid"
    else
        status_line nginx stopped "$(nginx_addr)" ""
        return 1
    fi
}

# ----------------------------------------------------------------- workers --

WORKER_BIN=$ROOT/build/video-worker
WORKER_DIR=$RUN/workers
# the roles, one process each, then the transcode workers after the first
# (transcode-2 ... transcode-N, VIDEO_API_TRANSCODERS in all), and any
# other one a pid file says was started with more
WORKER_ROLES=(relay transcode cleanup analytics webhook)
n=$TRANSCODERS
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -le 64 ] || n=1
for ((k = 2; k <= n; k++)); do
    WORKER_ROLES+=("transcode-$k")
done
for f in "$WORKER_DIR"/transcode-*.pid; do
    [ -e "$f" ] || continue
    f=${f##*/}
    f=${f%.pid}
    [[ $f =~ ^transcode-[0-9]+$ ]] && [[ " ${WORKER_ROLES[*]} " != *" $f "* ]] &&
        WORKER_ROLES+=("$f")
done
unset f k n

worker_pid() {
    local pid
    [ -r "$WORKER_DIR/$1.pid" ] || return 1
    read -r pid <"$WORKER_DIR/$1.pid" || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

# The workers get this stack's addresses over conf/worker.conf's defaults.
worker_env() {
    local host
    host=$(connect_host "$LISTEN")
    export VIDEO_WORKER_CONF=$WORKER_DIR/worker.conf
    export VIDEO_WORKER_POSTGRES="host=$PG_HOST port=$PG_PORT dbname=$PG_DB user=$PG_USER password=$PG_PASSWORD"
    export VIDEO_WORKER_REDIS=$REDIS_HOST:$REDIS_PORT
    export VIDEO_WORKER_AMQP=amqp://$AMQP_USER:$AMQP_PASSWORD@$AMQP_HOST:$AMQP_PORT/
    export VIDEO_WORKER_STORAGE_ENDPOINT=http://$host:$STORE_PORT
    export VIDEO_WORKER_PUBLIC_URL=http://$host:$HTTP_PORT
    export VIDEO_WORKER_WORK_DIR=$RUN/work
    export VIDEO_WORKER_RECORD_PATH=$RUN/live-rec
}

# conf/worker.conf with this installation's secrets, readable by its owner
# only
workers_render() {
    secrets_load
    mkdir -p "$WORKER_DIR"
    (umask 077; secrets_render <"$ROOT/conf/worker.conf" >"$WORKER_DIR/worker.conf.tmp")
    mv -f "$WORKER_DIR/worker.conf.tmp" "$WORKER_DIR/worker.conf"
}

# a setting of the workers' configuration (the rendered copy), or ''
conf_value() {
    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/p" \
        "$WORKER_DIR/worker.conf" 2>/dev/null | tail -n 1
}

start_workers() {
    local role pid i=-1
    [ -x "$WORKER_BIN" ] || die "workers: $(pretty_path "$WORKER_BIN") not built (run make first)"
    mkdir -p "$WORKER_DIR" "$RUN/work" "$LOGS"
    workers_render
    local threads='' listen k
    # encoder_threads 0 (one per core) is the cores shared among them
    if [ "$TRANSCODERS" -gt 1 ] && [ -z "${VIDEO_WORKER_ENCODER_THREADS:-}" ] &&
        [ "$(conf_value encoder_threads)" = 0 ]; then
        threads=$(( $(nproc) / TRANSCODERS ))
        [ "$threads" -ge 1 ] || threads=1
    fi
    listen=$(conf_value metrics_listen)
    for role in "${WORKER_ROLES[@]}"; do
        i=$((i + 1))     # the role's metrics port: the relay's + i
        if pid=$(worker_pid "$role"); then
            info "worker $role already running (supervisor pid $pid)"
            continue
        fi
        if [[ $role == transcode-* ]]; then
            k=${role#transcode-}
            [ "$k" -le "$TRANSCODERS" ] || continue
        fi
        info "worker $role: starting (log $(pretty_path "$LOGS/worker-$role.log"))"
        # The supervisor restarts the worker when it dies; TERM stops both
        # (the worker finishes or requeues its job first).
        (
            worker_env
            if [ -n "$WORKER_METRICS_PORT" ]; then
                export VIDEO_WORKER_METRICS_LISTEN=127.0.0.1:$((WORKER_METRICS_PORT + i))
            elif [[ $role == transcode-* ]]; then
                # the role's port is the first transcode worker's: the
                # others the ports after the webhook's (9476, ...), on
                # metrics_listen's host; none when it names a port
                case $listen in
                    off | *:*[0-9]) export VIDEO_WORKER_METRICS_LISTEN=off ;;
                    *) export VIDEO_WORKER_METRICS_LISTEN=${listen:-127.0.0.1}:$((9471 + i)) ;;
                esac
            fi
            [ -z "$threads" ] || [[ $role != transcode* ]] ||
                export VIDEO_WORKER_ENCODER_THREADS=$threads
            cd "$ROOT"
            child=
            # the supervisor's lines in the worker's format (log_format)
            format=${VIDEO_WORKER_LOG_FORMAT:-$(conf_value log_format)}
            trap '[ -z "$child" ] || kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
            while :; do
                "$WORKER_BIN" "${role%-[0-9]*}" &
                child=$!
                rc=0
                wait "$child" || rc=$?
                if [ "$format" = json ]; then
                    printf '{"time":"%s","level":"error","role":"%s","message":"supervisor: video-worker %s exited (%s), restarting in 1s"}\n' \
                        "$(date -u +%FT%TZ)" "$role" "$role" "$rc"
                else
                    printf '%s supervisor: video-worker %s exited (%s), restarting in 1s\n' \
                        "$(date -u +%FT%TZ)" "$role" "$rc"
                fi
                sleep 1
            done
        ) </dev/null >>"$LOGS/worker-$role.log" 2>&1 &
        echo $! >"$WORKER_DIR/$role.pid"
    done
}

stop_workers() {
    local role pid
    for role in "${WORKER_ROLES[@]}"; do
        if ! pid=$(worker_pid "$role"); then
            info "worker $role not running"
            continue
        fi
        info "worker $role: stopping (supervisor pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        wait_pid_exit "$pid" bash "$STOP_TIMEOUT" || {
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        }
        rm -f "$WORKER_DIR/$role.pid"
    done
}

status_workers() {
    local role pid rc=0
    for role in "${WORKER_ROLES[@]}"; do
        if pid=$(worker_pid "$role"); then
            status_line "worker" running "$role" "supervisor pid $pid"
        else
            status_line "worker" stopped "$role" ""
            rc=1
        fi
    done
    return "$rc"
}

# ---------------------------------------------------------------- commands --

# A wildcard listen address is reached through loopback.
# make run's admin API key: made once (while the database knows it), kept
# readable by its owner only under the run directory
ADMIN_KEY=${VIDEO_API_ADMIN_KEY:-$RUN/admin.key}

admin_key_ensure() {
    local key known
    [ -x "$WORKER_BIN" ] || return 0
    pg_find_bin
    if [ -s "$ADMIN_KEY" ]; then
        read -r key <"$ADMIN_KEY" || key=
        known=$(pg_psql -d "$PG_DB" -At -v key="$key" <<'SQL' 2>/dev/null || true
SELECT count(*) FROM api_keys
WHERE key_hash = sha256(convert_to(:'key', 'UTF8')) AND revoked_at IS NULL
  AND (expires_at IS NULL OR expires_at > now());
SQL
)
        [ "$known" != 1 ] || return 0
    fi
    key=$( (worker_env; export VIDEO_WORKER_CONF=$ROOT/conf/worker.conf
            "$WORKER_BIN" keys create --account default \
                --role admin --name "make run") 2>>"$LOGS/admin-key.log") || {
        warn "could not make an admin API key (see $(pretty_path "$LOGS/admin-key.log"))"
        return 0
    }
    (umask 077; printf '%s\n' "$key" >"$ADMIN_KEY.tmp")
    mv -f "$ADMIN_KEY.tmp" "$ADMIN_KEY"
    info "made an admin API key, kept in $(pretty_path "$ADMIN_KEY")"
}

connect_host() {
    case $1 in
        0.0.0.0 | '*') echo 127.0.0.1 ;;
        '[::]' | '::') echo ::1 ;;
        *) echo "$1" ;;
    esac
}

status_line() {
    printf '%-11s %-8s %-45s %s\n' "$1" "$2" "$3" "$4"
}

parse_services() {
    local s
    SERVICES=()
    if [ $# -eq 0 ]; then
        SERVICES=("${ALL_SERVICES[@]}")
        return
    fi
    for s in "$@"; do
        SERVICES+=("$(normalize_service "$s")")
    done
}

has_service() {
    local want=$1 s
    for s in "${SERVICES[@]}"; do [ "$s" = "$want" ] && return 0; done
    return 1
}

print_endpoints() {
    info ""
    has_service pg && info "  PostgreSQL  postgresql://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/$PG_DB"
    has_service redis && info "  Redis       redis://$REDIS_HOST:$REDIS_PORT"
    has_service amqp && info "  RabbitMQ    amqp://$AMQP_USER:$AMQP_PASSWORD@$AMQP_HOST:$AMQP_PORT/"
    if has_service nginx; then
        info "  Web page    http://$LISTEN:$HTTP_PORT/"
        info "  HTTP API    http://$LISTEN:$HTTP_PORT/api/"
        info "  RTMP        rtmp://$LISTEN:$RTMP_PORT/live"
        info "  Store       http://$LISTEN:$STORE_PORT"
    fi
    info "  Logs        $(pretty_path "$LOGS")/"
    if has_service nginx && [ -s "$ADMIN_KEY" ]; then
        local key
        read -r key <"$ADMIN_KEY" || key=
        info ""
        info "  Admin API key in $(pretty_path "$ADMIN_KEY") (0600). Sign in on the page"
        info "  with this link: the key is in its fragment, which the browser sends to"
        info "  no server, and the page keeps it for that tab only:"
        info "    http://$(connect_host "$LISTEN"):$HTTP_PORT/#key=$key"
        info "  or call the API:"
        info "    curl -H \"Authorization: Bearer \$(cat $(pretty_path "$ADMIN_KEY"))\" http://$(connect_host "$LISTEN"):$HTTP_PORT/api/videos"
    fi
}

cmd_start() {
    parse_services "$@"
    validate_settings
    mkdir -p "$LOGS"
    local s
    # Dependency order, whatever order the services were named in.
    for s in "${ALL_SERVICES[@]}"; do
        has_service "$s" || continue
        "start_$s"
        [ "$s" != pg ] || migrate
    done
    if has_service nginx && pg_running; then
        admin_key_ensure
    fi
    print_endpoints
}

cmd_stop() {
    parse_services "$@"
    local s rc=0 i
    for ((i = ${#ALL_SERVICES[@]} - 1; i >= 0; i--)); do
        s=${ALL_SERVICES[i]}
        has_service "$s" || continue
        # Keep going so one stuck service doesn't leave the others running.
        ("stop_$s") || rc=1
    done
    return "$rc"
}

cmd_status() {
    parse_services "$@"
    local s rc=0
    for s in "${ALL_SERVICES[@]}"; do
        has_service "$s" || continue
        "status_$s" || rc=3
    done
    return "$rc"
}

cmd_logs() {
    parse_services "$@"
    local -a files=()
    local f
    if [ $# -eq 0 ]; then
        shopt -s nullglob
        files=("$LOGS"/*.log)
        shopt -u nullglob
    else
        has_service pg && files+=("$PG_LOG")
        has_service redis && files+=("$REDIS_LOG")
        has_service amqp && files+=("$RMQ_LOG" "$RMQ_STARTUP_LOG")
        has_service nginx && files+=("$NGINX_LOG")
        if has_service workers; then
            local role
            for role in "${WORKER_ROLES[@]}"; do
                files+=("$LOGS/worker-$role.log")
            done
        fi
    fi
    if [ ${#files[@]} -eq 0 ]; then
        info "no logs in $(pretty_path "$LOGS")/ yet"
        return 0
    fi
    for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        printf '==> %s <==\n' "$(pretty_path "$f")"
        tail -n 20 "$f"
        printf '\n'
    done
}

cmd_env() {
    local name
    printf 'export VIDEO_API_RUN_DIR=%q\n' "$RUN"
    for name in LISTEN HTTP_PORT RTMP_PORT STORE_PORT PG_HOST PG_PORT PG_USER \
        PG_PASSWORD PG_DB REDIS_PORT AMQP_PORT AMQP_DIST_PORT; do
        printf 'export VIDEO_API_%s=%q\n' "$name" "${!name}"
    done
    printf 'export VIDEO_API_PG_CONNINFO=%q\n' \
        "host=$PG_HOST port=$PG_PORT dbname=$PG_DB user=$PG_USER password=$PG_PASSWORD"
    printf 'export VIDEO_API_AMQP_URL=%q\n' "amqp://$AMQP_USER:$AMQP_PASSWORD@$AMQP_HOST:$AMQP_PORT/"
}

usage() {
    sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    cat <<EOF

Settings (environment): VIDEO_API_RUN_DIR VIDEO_API_LISTEN VIDEO_API_HTTP_PORT
VIDEO_API_RTMP_PORT VIDEO_API_STORE_PORT VIDEO_API_PG_HOST VIDEO_API_PG_PORT
VIDEO_API_PG_USER VIDEO_API_PG_PASSWORD VIDEO_API_PG_DB VIDEO_API_REDIS_PORT
VIDEO_API_AMQP_PORT VIDEO_API_AMQP_DIST_PORT; see "$(basename "$0") env".
EOF
}

main() {
    local cmd=${1:-}
    [ $# -eq 0 ] || shift
    case $cmd in
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        logs) cmd_logs "$@" ;;
        migrate)
            [ $# -eq 0 ] || die "migrate takes no arguments"
            validate_settings
            migrate
            ;;
        env) cmd_env ;;
        rabbitmqctl)
            rmq_find_bin
            rmqctl "$@"
            ;;
        admin-key)
            pg_running || die "admin-key: postgresql is not running (scripts/stack.sh start pg)"
            mkdir -p "$LOGS"
            admin_key_ensure
            [ -s "$ADMIN_KEY" ] || exit 1
            info "admin API key: $(pretty_path "$ADMIN_KEY")"
            ;;
        conf-check)
            validate_settings
            nginx_prepare
            workers_render
            info "nginx: conf/nginx.conf is valid (rendered to $(pretty_path "$NGINX_CONF"))"
            ;;
        -h | --help | help) usage ;;
        "") usage >&2; exit 2 ;;
        *) printf 'error: unknown command %s\n\n' "$cmd" >&2; usage >&2; exit 2 ;;
    esac
}

main "$@"
