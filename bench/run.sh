#!/usr/bin/env bash
# Load benchmark of the API against nginx's own `return 200` of an answer
# of the same size, in the same nginx and the same run, measured again
# just before each route.  Absolute numbers on a shared machine are noise;
# the ratios to that baseline are what we compare between builds.
#
#   bench/run.sh [duration]        (default 10s per route; or BENCH_DURATION)
#
# It starts its own PostgreSQL and Redis (scripts/stack.sh, run directory
# .run/bench, ports 25433 and 26380) and its own nginx (one worker, on
# 127.0.0.1:28080), seeds 10,000 videos, runs wrk against each route, then
# BENCH_MIXED_REQUESTS (200,000) more mixed requests to show whether the
# worker's memory stays flat.  Everything it started is stopped on exit,
# Ctrl-C included (BENCH_KEEP=1 leaves PostgreSQL and Redis running).  After
# a kill -9: VIDEO_API_RUN_DIR=.run/bench scripts/stack.sh stop.
#
# The table goes to bench/results/<UTC timestamp>.txt as well.  The exit
# status is non-zero when more than 1% of a route's answers are not what
# the route should answer (errors measure nothing); the targets are printed
# as PASS/MISS and do not change the exit status.
#
# BENCH_ROUTES (default all) names the routes to run, separated by spaces or
# commas, e.g. BENCH_ROUTES=file-static,play-public,play-token for the
# delivery rows alone (each still after its own baseline run);
# BENCH_MIXED_REQUESTS=0 skips the memory run.
#
# Settings: BENCH_CONNECTIONS (64), BENCH_PORT (28080), BENCH_RUN_DIR,
# BENCH_PG_PORT, BENCH_REDIS_PORT, BENCH_MIXED_REQUESTS, BENCH_ROUTES,
# BENCH_KEEP, NGINX, BENCH_MODULE (the module to load, by default
# build/ngx_http_video_api_module.so: a saved copy compares two builds).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-${BENCH_DURATION:-10s}}
conns=${BENCH_CONNECTIONS:-64}
port=${BENCH_PORT:-28080}
auth_port=$((port + 1))
mixed_requests=${BENCH_MIXED_REQUESTS:-200000}
selected=${BENCH_ROUTES:-}
nginx=${NGINX:-/usr/sbin/nginx}
module=${BENCH_MODULE:-build/ngx_http_video_api_module.so}
videos=10000

# targets from the performance issue
target_get_rps=0.40
target_list_rps=0.15
target_get_p99_ms=10
target_views_rps=0.50
target_views_p99_ms=10

export VIDEO_API_RUN_DIR=${BENCH_RUN_DIR:-.run/bench}
export VIDEO_API_PG_PORT=${BENCH_PG_PORT:-25433}
export VIDEO_API_REDIS_PORT=${BENCH_REDIS_PORT:-26380}
# never started here, but kept off the dev and test stacks' ports so that
# `stack.sh env` describes this stack only
export VIDEO_API_AMQP_PORT=${BENCH_AMQP_PORT:-25673}
unset VIDEO_API_AMQP_DIST_PORT

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

[[ $duration =~ ^[0-9]+[smh]?$ ]] || die "duration must look like 10s, 1m (got '$duration')"
[[ $conns =~ ^[0-9]+$ ]] && [ "$conns" -ge 1 ] || die "BENCH_CONNECTIONS must be a positive number"
[[ $mixed_requests =~ ^[0-9]+$ ]] || die "BENCH_MIXED_REQUESTS must be a number"
selected=" ${selected//,/ } "
[[ $selected =~ ^[\ a-z0-9-]*$ ]] || die "BENCH_ROUTES: route names separated by spaces or commas"
command -v wrk >/dev/null || die "wrk not installed: make deps"
command -v curl >/dev/null || die "curl not installed: make deps"
command -v python3 >/dev/null || die "python3 not installed: make deps"
test -x "$nginx" || die "nginx not found at $nginx (set NGINX)"
test -f "$module" || die "$module missing: run make first"

case $VIDEO_API_RUN_DIR in
    /*) run=$VIDEO_API_RUN_DIR ;;
    *) run=$PWD/$VIDEO_API_RUN_DIR ;;
esac
# the place scripts/stack.sh looks for nginx, so `stack.sh stop` with this
# run directory also finds a bench nginx left behind by a kill -9
ndir=$run/nginx
base_url=http://127.0.0.1:$port

# ------------------------------------------------------------- lifecycle --

nginx_master=
wrk_pid=
stack_started=0

# the pid must still be nginx: pid files outlive the processes they name
is_nginx() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nginx ] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ]
}

stop_nginx_pid() {
    local pid=$1
    is_nginx "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        is_nginx "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

stop_nginx() {
    if [ -n "$nginx_master" ]; then
        stop_nginx_pid "$nginx_master"
        nginx_master=
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$wrk_pid" ]; then
        kill -TERM "$wrk_pid" 2>/dev/null || true
        wait "$wrk_pid" 2>/dev/null || true
    fi
    stop_nginx
    if [ "$stack_started" = 1 ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
        scripts/stack.sh stop pg redis >/dev/null || rc=1
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_open() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# $1: the body /baseline answers with
write_nginx_conf() {
    local t
    mkdir -p "$ndir"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
    # workers run as nobody when the master is root; PATCH bodies may be
    # buffered to disk
    [ "$(id -u)" -ne 0 ] || chown -R nobody "$ndir/tmp" 2>/dev/null || true
    cat > "$ndir/nginx.conf" <<CONF
load_module $ndir/ngx_http_video_api_module.so;
worker_processes 1;
pid $ndir/nginx.pid;
error_log $ndir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
$(for t in body proxy fastcgi uwsgi scgi; do
    [ $t = body ] && printf '    client_body_temp_path %s;\n' "$ndir/tmp/$t" ||
        printf '    %s_temp_path %s;\n' $t "$ndir/tmp/$t"
done)
    video_api_postgres "$VIDEO_API_PG_CONNINFO" pool=8;
    video_api_redis 127.0.0.1:$VIDEO_API_REDIS_PORT;
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b;
    video_api_public_url http://127.0.0.1:$port;
    # /play/ serves the store's files itself, as conf/nginx.conf does
    video_api_playback root=$ndir/store;
    types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
    server {
        listen 127.0.0.1:$port backlog=4096;
        # the open contract: the rows measured before access control,
        # and what the keyed and anonymous rows are compared with
        video_api_auth off;
        location = /baseline {
            default_type application/json;
            return 200 '$1';
        }
        location = /health { video_api health; }
        location /api/ { video_api all; }
        location /play/ { video_api play; }
        location /_video_api/media/ {
            internal;
            alias $ndir/store/;
        }
        # the same files without the module: what /play/ is measured against
        location /static/ {
            alias $ndir/store/;
        }
    }
    # the same API with access control on: keyed and anonymous callers
    server {
        listen 127.0.0.1:$auth_port backlog=4096;
        location /api/ { video_api all; video_api_auth on; }
    }
}
CONF
}

start_nginx() {
    local pid
    port_open "$port" && die "127.0.0.1:$port is in use (set BENCH_PORT)"
    "$nginx" -t -q -p "$ndir/" -c "$ndir/nginx.conf" -e "$ndir/error.log" ||
        die "nginx -t failed on $ndir/nginx.conf"
    "$nginx" -p "$ndir/" -c "$ndir/nginx.conf" -e "$ndir/error.log"
    for _ in $(seq 1 100); do
        pid=$(cat "$ndir/nginx.pid" 2>/dev/null || true)
        if is_nginx "$pid"; then
            nginx_master=$pid
            break
        fi
        sleep 0.1
    done
    [ -n "$nginx_master" ] || die "nginx did not start (see $ndir/error.log)"
    for _ in $(seq 1 100); do
        curl -fs -o /dev/null "$base_url/baseline" && return 0
        sleep 0.1
    done
    die "nginx does not answer on $base_url (see $ndir/error.log)"
}

# a crashed worker is replaced within moments
worker_pid() {
    local pid
    for _ in $(seq 1 50); do
        pid=$(ps -o pid= --ppid "$nginx_master" | head -n 1 | tr -d ' ')
        [ -z "$pid" ] || { printf '%s' "$pid"; return 0; }
        sleep 0.1
    done
    die "no nginx worker under master $nginx_master"
}

worker_rss_kb() {
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$(worker_pid)/status"
}

# ------------------------------------------------------------------ stack --

# a leftover of an earlier run that was killed: ours, so stopped
if old=$(cat "$ndir/nginx.pid" 2>/dev/null) && is_nginx "$old"; then
    echo "bench: stopping a bench nginx left running (pid $old)"
    stop_nginx_pid "$old"
fi

stack_started=1
scripts/stack.sh start pg redis
eval "$(scripts/stack.sh env)"
case $VIDEO_API_PG_CONNINFO in
    *[\"\']*) die "the PostgreSQL settings must not contain quotes" ;;
esac

psql_bench() {
    psql "$VIDEO_API_PG_CONNINFO" -X -q -v ON_ERROR_STOP=1 "$@"
}

# A migration edited after this data directory applied it would not run
# again: the schema is rebuilt from conf/sql on every run instead.
PGOPTIONS='-c client_min_messages=warning' psql_bench \
    -c 'DROP SCHEMA public CASCADE' -c 'CREATE SCHEMA public'
scripts/stack.sh migrate >/dev/null

# ------------------------------------------------------------------- seed --

# Deterministic rows, rewritten on every run so runs compare: ids are the
# base64url of a hash of the row number.  video_counts is recomputed from
# the rows so the list's total is right whatever TRUNCATE did to it.
echo "bench: seeding $videos videos"
PGOPTIONS='-c client_min_messages=warning' psql_bench -v n="$videos" <<'SQL'
BEGIN;
TRUNCATE videos, outbox CASCADE;

INSERT INTO videos (id, title, description, status, visibility, video_type,
                    duration, original_key, thumbnail_key, hls_manifest_key,
                    is_live_now, transcoding_progress, views_today,
                    views_month, views_total, created_at, updated_at)
SELECT id, title,
       CASE WHEN i % 4 = 0 THEN NULL
            ELSE 'Recorded for the benchmark, take ' || i || '. '
                 || repeat('Some words about this video. ', 1 + i % 5) END,
       status, visibility,
       CASE WHEN status = 'LIVE' THEN 'LIVE' ELSE 'VOD' END::video_type,
       CASE WHEN status = 'READY' THEN 30 + (i * 7919) % 3600 END,
       id || '/original.mp4',
       CASE WHEN status = 'READY' THEN id || '/thumbnail.jpg' END,
       CASE WHEN status IN ('READY', 'LIVE') THEN id || '/master.m3u8' END,
       status = 'LIVE',
       CASE status WHEN 'READY' THEN 100 WHEN 'PROCESSING' THEN i % 100
                   ELSE 0 END,
       i % 50, i % 700, (i * 31) % 100000,
       created, created + (i % 3600) * interval '1 second'
FROM (
    SELECT i,
           translate(substr(encode(sha256(convert_to('bench-video-' || i,
                                                     'UTF8')), 'base64'),
                            1, 21), '+/', '-_') AS id,
           (ARRAY['Morning', 'Evening', 'Weekend', 'Travel', 'Cooking',
                  'Coding', 'Garden', 'Concert', 'Lecture', 'Interview',
                  'Unboxing', 'Tutorial'])[1 + i % 12]
           || ' ' ||
           (ARRAY['diary', 'highlights', 'live session', 'walkthrough',
                  'review', 'recap', 'notes', 'special', 'q&a'])[1 + (i / 12) % 9]
           || ' #' || i AS title,
           (ARRAY['READY', 'READY', 'READY', 'READY', 'READY', 'READY',
                  'PROCESSING', 'PENDING', 'FAILED', 'LIVE'])[1 + i % 10]
               ::video_status AS status,
           (ARRAY['PUBLIC', 'PUBLIC', 'PUBLIC', 'UNLISTED', 'PRIVATE'])
               [1 + (i * 7) % 5]::video_visibility AS visibility,
           -- one every 37 s, plus a few microseconds so no two share a time
           timestamptz '2025-01-01 00:00:00+00' + i * interval '37 seconds'
               + (i % 1000) * interval '1 microsecond' AS created
    FROM generate_series(1, :n) AS i
) s;

INSERT INTO video_variants (id, video_id, resolution, width, height, bitrate,
                            playlist_key)
SELECT translate(substr(encode(sha256(convert_to(
           'bench-variant-' || v.id || r.resolution, 'UTF8')), 'base64'),
           1, 21), '+/', '-_'),
       v.id, r.resolution, r.width, r.height, r.bitrate,
       v.id || '/' || r.resolution || '/playlist.m3u8'
FROM videos v,
     (VALUES ('1080p', 1920, 1080, 5000), ('720p', 1280, 720, 2800),
             ('480p', 854, 480, 1400)) AS r (resolution, width, height, bitrate)
WHERE v.status = 'READY';

UPDATE video_counts c SET n = (
    SELECT count(*) FROM videos v
    WHERE v.status = c.status AND v.visibility = c.visibility
      AND v.video_type = c.video_type);
COMMIT;

VACUUM ANALYZE videos;
VACUUM ANALYZE video_variants;
VACUUM ANALYZE video_counts;
SQL

count=$(psql_bench -At -c 'SELECT count(*) FROM videos')
[ "$count" = "$videos" ] || die "seeding left $count videos, expected $videos"

# cache entries of an earlier run may carry a newer version than the
# reseeded rows and would win over them
redis-cli -h 127.0.0.1 -p "$VIDEO_API_REDIS_PORT" FLUSHALL >/dev/null

# the video read over and over: public, with variants, mid-table, and not
# one of the PATCH targets below (those are every tenth row)
get_id=$(psql_bench -At -c "
    SELECT id FROM (SELECT id, status, visibility,
                           row_number() OVER (ORDER BY created_at DESC) AS rn
                    FROM videos) t
    WHERE status = 'READY' AND visibility = 'PUBLIC' AND rn % 10 <> 0
      AND rn > $videos / 2
    ORDER BY rn LIMIT 1")
# a private one, whose answer carries play tokens
private_id=$(psql_bench -At -c "
    SELECT id FROM videos WHERE status = 'READY' AND visibility = 'PRIVATE'
    ORDER BY created_at LIMIT 1")
# 1000 PATCH targets spread over the table, so no row is hot
mapfile -t patch_ids < <(psql_bench -At -c "
    SELECT id FROM (SELECT id, row_number() OVER (ORDER BY created_at DESC)
                               AS rn FROM videos) t
    WHERE rn % 10 = 0 ORDER BY rn")
[ -n "$get_id" ] && [ -n "$private_id" ] && [ "${#patch_ids[@]}" -eq 1000 ] ||
    die "could not pick ids from the seed"
# an editor's key of the account the seeded videos belong to
key=$(VIDEO_WORKER_CONF=conf/worker.conf VIDEO_WORKER_POSTGRES=$VIDEO_API_PG_CONNINFO \
      build/video-worker keys create --account default --role editor \
      --name bench 2>/dev/null) || die "could not make an API key"
auth_url=http://127.0.0.1:$auth_port

# every video, for views of random ones
mapfile -t all_ids < <(psql_bench -At -c "SELECT id FROM videos")

# ------------------------------------------------------------------ nginx --

mkdir -p "$ndir" bench/results
tmp=$ndir/bench.tmp
mkdir -p "$tmp"

# as in production, the analytics worker fills the set of video ids views
# are checked against and loads the seeded view counts into Redis
VIDEO_WORKER_POSTGRES=$VIDEO_API_PG_CONNINFO \
VIDEO_WORKER_REDIS=127.0.0.1:$VIDEO_API_REDIS_PORT \
    build/video-worker analytics --once > "$tmp/analytics.log" 2>&1 ||
    die "video-worker analytics --once failed: $(cat "$tmp/analytics.log")"

# A copy: make rewrites build/*.so in place, and a rebuild under a running
# nginx changes the code its master forks workers from, which then crash.
cp "$module" "$ndir/module.tmp"
mv -f "$ndir/module.tmp" "$ndir/ngx_http_video_api_module.so"
module_built=$(date -u -r "$module" +%H:%M:%SZ)
if [ -n "$(find src ngx_http_video_api_module.c -newer "$module" -name '*.[ch]' 2>/dev/null | head -n 1)" ]; then
    module_built="$module_built, older than some sources (make rebuilds it)"
fi

# a variant playlist for the public and the private video, as the
# transcoder writes them, in the store the media location serves
for id in "$get_id" "$private_id"; do
    mkdir -p "$ndir/store/videos-processed/$id/720p"
    {
        printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n'
        for i in $(seq 0 9); do
            printf '#EXTINF:6.000000,\nsegment_%03d.ts\n' "$i"
        done
        printf '#EXT-X-ENDLIST\n'
    } > "$ndir/store/videos-processed/$id/720p/playlist.m3u8"
done
chmod -R a+rX "$ndir/store"

# first with a placeholder baseline, to get a real answer's size
write_nginx_conf '{"success":true}'
start_nginx

code=$(curl -s -o "$tmp/get.json" -w '%{http_code}' "$base_url/api/videos/$get_id")
[ "$code" = 200 ] || die "GET /api/videos/$get_id answered $code: $(head -c 500 "$tmp/get.json")"
get_size=$(wc -c < "$tmp/get.json")

# The baseline serves the same number of bytes: filler JSON with no quote,
# backslash or dollar, which nginx's return would interpret.
prefix='{"success":true,"data":{"filler":"'
suffix='"}}'
fill=$((get_size - ${#prefix} - ${#suffix}))
[ "$fill" -ge 0 ] || die "GET answer of $get_size bytes is too small for a baseline"
baseline_body=$prefix$(head -c "$fill" < <(yes abcdefghijklmnopqrstuvwxyz0123456789 | tr -d '\n'))$suffix

stop_nginx
write_nginx_conf "$baseline_body"
start_nginx

base_size=$(curl -s "$base_url/baseline" | wc -c)
[ "$base_size" = "$get_size" ] || die "baseline is $base_size bytes, GET is $get_size"

rss_before=$(worker_rss_kb)
worker_before=$(worker_pid)
log_lines_before=$(wc -l < "$ndir/error.log")

# "cached" means warm: one GET first, which fills the cache when Redis is
# reachable, and the note says whether it did
curl -fs -o /dev/null "$base_url/api/videos/$get_id" || die "warm-up GET failed"
sleep 0.2
if [ "$(redis-cli -h 127.0.0.1 -p "$VIDEO_API_REDIS_PORT" EXISTS "video:$get_id")" = 1 ]; then
    cache_note="video:$get_id is in Redis: GETs are cache hits"
else
    cache_note="video:$get_id is NOT in Redis after a GET: every GET is answered by PostgreSQL"
fi

# the private video's play URL, token included, from its answer
curl -fs -o /dev/null "$base_url/api/videos/$private_id" || die "warm-up GET failed"
play_url=$(curl -fs "$base_url/api/videos/$private_id" | python3 -c '
import json, sys
print(json.load(sys.stdin)["data"]["video"]["variants"][1]["playbackUrl"])') ||
    die "no play URL in the private video's answer"
play_path=${play_url#"$base_url"}
case $play_path in
    /play/"$private_id"/*-*/720p/playlist.m3u8) ;;
    *) die "the private video's 720p URL carries no token: $play_url" ;;
esac
for u in "$play_path" "/play/$get_id/720p/playlist.m3u8" \
         "/static/videos-processed/$get_id/720p/playlist.m3u8"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base_url$u")
    [ "$code" = 200 ] || die "GET $u answered $code"
done
playlist_size=$(wc -c < "$ndir/store/videos-processed/$get_id/720p/playlist.m3u8")

# a cursor from the middle of the table: the page after offset 5000
code=$(curl -s -o "$tmp/page.json" -w '%{http_code}' \
    "$base_url/api/videos?limit=20&offset=$((videos / 2))")
[ "$code" = 200 ] || die "GET /api/videos?offset answered $code: $(head -c 500 "$tmp/page.json")"
cursor=$(python3 -c '
import json, sys, urllib.parse
c = json.load(open(sys.argv[1]))["data"].get("nextCursor")
print(urllib.parse.quote(c, safe="") if c else "")' "$tmp/page.json") ||
    die "the list answer is not the expected JSON: $(head -c 500 "$tmp/page.json")"
[ -n "$cursor" ] || die "the list answer at offset $((videos / 2)) has no nextCursor"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base_url/api/videos?limit=20&cursor=$cursor")
[ "$code" = 200 ] || die "GET /api/videos?cursor answered $code"

# ------------------------------------------------------------ wrk scripts --

lua_ids() {
    local id
    printf 'local ids = {\n'
    for id in "${patch_ids[@]}"; do
        printf '  "%s",\n' "$id"
    done
    printf '}\n'
}

# each PATCH renames a random one of the 1000 videos
{
    lua_ids
    cat <<'LUA'
local n = 0
local headers = { ["Content-Type"] = "application/json" }
request = function()
    n = n + 1
    return wrk.format("PATCH", "/api/videos/" .. ids[math.random(#ids)],
                      headers, '{"title":"Benchmark rename ' .. n .. '"}')
end
LUA
} > "$tmp/patch.lua"

# each view is of a random one of the 10,000 videos
{
    printf 'local ids = {\n'
    printf '  "%s",\n' "${all_ids[@]}"
    printf '}\n'
    cat <<'LUA'
-- built once, so wrk spends no more per request than picking one
local requests = {}
init = function()
    for i, id in ipairs(ids) do
        requests[i] = wrk.format("POST", "/api/analytics/view/" .. id)
    end
end
request = function()
    return requests[math.random(#requests)]
end
LUA
} > "$tmp/views.lua"

# malformed JSON: the 400 path, body parsing included
cat > "$tmp/json400.lua" <<'LUA'
wrk.method = "PATCH"
wrk.body = '{"title": '
wrk.headers["Content-Type"] = "application/json"
LUA

# GET cached, list and PATCH in turn
{
    lua_ids
    cat <<LUA
local get_path = "/api/videos/$get_id"
local list_path = "/api/videos?limit=20"
LUA
    cat <<'LUA'
local n = 0
local headers = { ["Content-Type"] = "application/json" }
request = function()
    n = n + 1
    local k = n % 3
    if k == 0 then
        return wrk.format("PATCH", "/api/videos/" .. ids[math.random(#ids)],
                          headers, '{"title":"Mixed rename ' .. n .. '"}')
    elseif k == 1 then
        return wrk.format("GET", get_path)
    end
    return wrk.format("GET", list_path)
end
LUA
} > "$tmp/mixed.lua"

# ------------------------------------------------------------------- runs --

# wrk runs in the background and the shell waits for it: wrk handles Ctrl-C
# itself and exits normally, and bash then ignores the Ctrl-C it got too;
# `wait` instead returns at once and runs the INT trap.
run_wrk() {
    local file=$1 rc=0
    shift
    wrk "$@" > "$file" 2>&1 &
    wrk_pid=$!
    wait "$wrk_pid" || rc=$?
    wrk_pid=
    [ "$rc" -eq 0 ] || die "wrk failed ($*): $(cat "$file")"
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/$stamp.txt
: > "$out"
say() { printf '%s\n' "$*" | tee -a "$out"; }

# wrk prints 250.00us, 1.20ms, 1.02s, 1.00m
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
        else if (v ~ /m$/) { sub(/m$/, "", v); print v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
        else print "nan"
    }'
}

# $1 wrk output: sets requests, rps, p50, p99 (ms), non2xx, sockerr
parse_wrk() {
    local res=$1
    requests=$(awk '/ requests in / { print $1 }' <<< "$res")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<< "$res")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<< "$res")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<< "$res")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<< "$res")
    sockerr=$(awk '/Socket errors:/ {
        gsub(/,/, ""); print $4 + $6 + $8 + $10 }' <<< "$res")
    requests=${requests:-0} rps=${rps:-0} non2xx=${non2xx:-0} sockerr=${sockerr:-0}
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# name | method | path (or a whole URL) | wrk script | expected answers
# (2xx: 2xx and 3xx; 4xx: errors by design) | a header to send
routes=(
    "baseline|GET|/baseline||2xx"
    "health|GET|/health||2xx"
    "not-found|GET|/api/nope||4xx"
    "json-400|PATCH|/api/videos/V1StGXR8_Z5jdHi6B-myT|json400.lua|4xx"
    "get-cached|GET|/api/videos/$get_id||2xx"
    "list|GET|/api/videos?limit=20||2xx"
    "list-cursor|GET|/api/videos?limit=20&cursor=$cursor||2xx"
    "patch|PATCH|/api/videos/:id (1000 ids)|patch.lua|2xx"
    "views|POST|/api/analytics/view/:id (10,000 ids)|views.lua|2xx"
    "get-private|GET|/api/videos/$private_id||2xx"
    "get-keyed|GET|$auth_url/api/videos/$get_id||2xx|Authorization: Bearer $key"
    "list-keyed|GET|$auth_url/api/videos?limit=20||2xx|Authorization: Bearer $key"
    "list-anon|GET|$auth_url/api/videos?limit=20||2xx"
    "file-static|GET|/static/videos-processed/$get_id/720p/playlist.m3u8||2xx"
    "play-token|GET|$play_path||2xx"
    "play-public|GET|/play/$get_id/720p/playlist.m3u8||2xx"
)

known=" "
for r in "${routes[@]}"; do
    known="$known${r%%|*} "
done
for n in $selected; do
    [[ $known == *" $n "* ]] || die "BENCH_ROUTES: no route '$n' (routes:$known)"
done

say "video-api bench $stamp, $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src ngx_http_video_api_module.c 2>/dev/null || echo '+local changes')"
say "module built $module_built; $($nginx -v 2>&1 | sed 's|.*: ||'), 1 worker; wrk: 1 thread, $conns connections, $duration per route; $videos videos seeded"
say "$(nproc) cores shared by the nginx worker, PostgreSQL, Redis and wrk; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "GET /api/videos/:id answer and /baseline: $get_size bytes each; $cache_note"
say "get-keyed, list-keyed: with an editor's API key where video_api_auth is on; list-anon: an anonymous caller there (PUBLIC videos, their public view)"
say "play-* and file-static: a $playlist_size-byte variant playlist from disk; play-token: a private video with the token from its answer; play-public: a public one, no token (visibility from the Redis cache)"
say ""

header=$(printf '%-12s %10s %9s %9s %9s %10s %9s %9s  %s' \
    route req/s p50-ms p99-ms bad base-req/s rps/base p99/base target)
say "$header"
say "$(printf '%s' "$header" | tr -c '\n' '-')"

failed=()
base_rps= base_p99=
declare -A ratio_of
for r in "${routes[@]}"; do
    IFS='|' read -r name method path script expect hdr <<< "$r"
    if [ -n "${selected// /}" ] && [[ $selected != *" $name "* ]]; then
        continue
    fi
    args=(-t1 -c"$conns" -d"$duration" --latency)
    [ -z "$script" ] || args+=(-s "$tmp/$script")
    [ -z "$hdr" ] || args+=(-H "$hdr")
    case $path in
        http*) url=$path ;;
        *) url=$base_url$path ;;
    esac
    [ "$name" != patch ] && [ "$name" != views ] || url=$base_url/

    # the machine's speed drifts over a run (other load, CPU frequency):
    # each route is compared with the baseline run just before it
    if [ "$name" != baseline ]; then
        run_wrk "$tmp/wrk-base-$name.txt" -t1 -c"$conns" -d"$duration" \
            --latency "$base_url/baseline"
        parse_wrk "$(cat "$tmp/wrk-base-$name.txt")"
        base_rps=$rps base_p99=$p99
    fi

    run_wrk "$tmp/wrk-$name.txt" "${args[@]}" "$url"
    parse_wrk "$(cat "$tmp/wrk-$name.txt")"

    # answers that are not what the route is for, socket errors included
    if [ "$expect" = 4xx ]; then
        bad=$((requests - non2xx + sockerr))
    else
        bad=$((non2xx + sockerr))
    fi
    if [ "$requests" -eq 0 ] || [ $((bad * 100)) -gt "$requests" ]; then
        failed+=("$name ($bad of $requests answers unexpected; wrk output in $tmp/wrk-$name.txt)")
    fi

    if [ "$name" = baseline ]; then
        base_rps=$rps base_p99=$p99
    fi
    rps_ratio=$(ratio "$rps" "$base_rps")
    p99_ratio=$(ratio "$p99" "$base_p99")
    ratio_of[$name]=$rps_ratio

    target=
    case $name in
        get-cached)
            ge "$rps_ratio" "$target_get_rps" && t1=PASS || t1=MISS
            lt "$p99" "$target_get_p99_ms" && t2=PASS || t2=MISS
            target="req/s >= $target_get_rps x base: $t1; p99 < ${target_get_p99_ms}ms: $t2"
            get_rps_ok=$t1 get_p99_ok=$t2
            ;;
        views)
            ge "$rps_ratio" "$target_views_rps" && t1=PASS || t1=MISS
            lt "$p99" "$target_views_p99_ms" && t2=PASS || t2=MISS
            target="req/s >= $target_views_rps x base: $t1; p99 < ${target_views_p99_ms}ms: $t2"
            views_rps_ok=$t1 views_p99_ok=$t2
            ;;
        list)
            ge "$rps_ratio" "$target_list_rps" && t1=PASS || t1=MISS
            target="req/s >= $target_list_rps x base: $t1"
            list_rps_ok=$t1
            ;;
        json-400 | not-found)
            target="(${expect} expected)"
            ;;
    esac
    say "$(printf '%-12s %10.0f %9.2f %9.2f %9d %10.0f %9s %9s  %s' \
        "$name" "$rps" "$p50" "$p99" "$bad" "$base_rps" "$rps_ratio" "$p99_ratio" "$target")"
done

# access control's cost: each route with a caller against the same
# route where video_api_auth is off (both as ratios to their baselines)
access_line=
for pair in get-keyed:get-cached list-keyed:list list-anon:list; do
    a=${pair%%:*} b=${pair#*:}
    r=$(ratio "${ratio_of[$a]:-0}" "${ratio_of[$b]:-0}")
    ge "$r" 0.9 && t=PASS || t=MISS
    access_line="$access_line $a/$b $r ($t);"
done

# delivery's cost: each /play/ route against the same file served by a
# plain alias location (both as ratios to their baselines)
delivery_line=
for pair in play-public:file-static play-token:file-static; do
    a=${pair%%:*} b=${pair#*:}
    [ -n "${ratio_of[$a]:-}" ] && [ -n "${ratio_of[$b]:-}" ] || continue
    r=$(ratio "${ratio_of[$a]}" "${ratio_of[$b]}")
    ge "$r" 0.9 && t=PASS || t=MISS
    delivery_line="$delivery_line $a/$b $r ($t);"
done

# ------------------------------------------------------------ memory run --

rss_routes=$(worker_rss_kb)

# wrk runs for a time, not a count: chunks until the count is reached
mixed_done=0 mixed_bad=0 mixed_secs=0 chunks=0 rss_series=
started=$SECONDS
while [ "$mixed_done" -lt "$mixed_requests" ]; do
    run_wrk "$tmp/wrk-mixed.txt" -t1 -c"$conns" -d10s -s "$tmp/mixed.lua" "$base_url/"
    parse_wrk "$(cat "$tmp/wrk-mixed.txt")"
    [ "$requests" -gt 0 ] || { failed+=("mixed (a 10s chunk got no answer)"); break; }
    mixed_done=$((mixed_done + requests))
    mixed_bad=$((mixed_bad + non2xx + sockerr))
    chunks=$((chunks + 1))
    # a series, so a plateau tells from a slow climb
    rss_series="$rss_series $(worker_rss_kb)"
    if [ $((SECONDS - started)) -gt 1800 ]; then
        echo "bench: the mixed run stopped after 30 minutes" >&2
        break
    fi
done
mixed_secs=$((SECONDS - started))
if [ "$mixed_requests" -gt 0 ] &&
   { [ "$mixed_done" -eq 0 ] || [ $((mixed_bad * 100)) -gt "$mixed_done" ]; }; then
    failed+=("mixed ($mixed_bad of $mixed_done answers unexpected)")
fi

rss_after=$(worker_rss_kb)

# a worker that died and was replaced makes the RSS numbers those of two
# processes, and a crash is a failure whatever the numbers
worker_after=$(worker_pid)
crashes=$(tail -n +"$((log_lines_before + 1))" "$ndir/error.log" |
    grep -c 'exited on signal' || true)
if [ "$crashes" -gt 0 ] || [ "$worker_after" != "$worker_before" ]; then
    failed+=("nginx worker crashed $crashes time(s) during the run (pid $worker_before, now $worker_after); see $ndir/error.log")
fi

say ""
say "bad: answers other than the route's expected class (2xx/304, or 4xx for not-found and json-400), socket errors included; above 1% fails the run"
say "mixed run: $mixed_done requests (GET cached, list, PATCH in turn) in ${mixed_secs}s, $(awk -v a="$mixed_done" -v b="$mixed_secs" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }') req/s, $mixed_bad bad"
say "worker RSS before: $rss_before kB, after: $rss_after kB (after the route runs: $rss_routes kB)"
say "worker RSS after each 10s of the mixed run (kB):$rss_series"
say "access control (req/s ratios, target >= 0.9):$access_line"
say "delivery (/play/ req/s ratio to the same file from a plain alias location, target >= 0.9):$delivery_line"
say "targets: cached GET req/s >= $target_get_rps x baseline: ${get_rps_ok:-?}; list req/s >= $target_list_rps x baseline: ${list_rps_ok:-?}; cached GET p99 < ${target_get_p99_ms} ms: ${get_p99_ok:-?}; views req/s >= $target_views_rps x baseline: ${views_rps_ok:-?}; views p99 < ${target_views_p99_ms} ms: ${views_p99_ok:-?}"

if [ "${#failed[@]}" -gt 0 ]; then
    for f in "${failed[@]}"; do
        say "FAILED: $f"
    done
    echo "(saved in $out)"
    exit 1
fi
echo "(saved in $out)"
