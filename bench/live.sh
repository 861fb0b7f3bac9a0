#!/usr/bin/env bash
# Live ingest figures, with real ffmpeg publishers and the shipped rtmp
# setup (callbacks, push to the hls application, 2 s fragments, recording):
#
#   bench/live.sh publishers [max]   how many concurrent 720p 2.5 Mb/s
#                                    publishers one nginx takes before HLS
#                                    fragments fall behind (steps up to max,
#                                    default 64)
#   bench/live.sh rss [minutes]      the RSS of the nginx workers while one
#                                    stream runs that long (default 10)
#   bench/live.sh first [n]          seconds from publish start to the first
#                                    playable live playlist, n times (5)
#
# Publishers send a pre-encoded 720p 2.5 Mb/s H.264/AAC clip in a loop
# (ffmpeg -re -stream_loop -1 -c copy), so the encoders do not compete with
# nginx for the CPU; they still run on this machine.  A step passes when
# every stream's playlist gained fragments worth at least 85% of the
# window (60 s, BENCH_LIVE_WINDOW) in media time: fragments are cut at
# keyframes, so a window always ends inside one.  It starts its own PostgreSQL and Redis
# (scripts/stack.sh, run directory .run/bench-live, ports 27433 and 27380)
# and its own nginx (worker_processes auto, HTTP 28180, RTMP 28190);
# everything is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-publishers}
arg=${2:-}
http=${BENCH_LIVE_PORT:-28180}
rtmp=${BENCH_LIVE_RTMP_PORT:-28190}
window=${BENCH_LIVE_WINDOW:-60}
nginx=${NGINX:-/usr/sbin/nginx}

export VIDEO_API_RUN_DIR=${BENCH_LIVE_RUN_DIR:-.run/bench-live}
export VIDEO_API_PG_PORT=${BENCH_LIVE_PG_PORT:-27433}
export VIDEO_API_REDIS_PORT=${BENCH_LIVE_REDIS_PORT:-27380}
export VIDEO_API_AMQP_PORT=${BENCH_LIVE_AMQP_PORT:-27673}
unset VIDEO_API_AMQP_DIST_PORT

die() { printf 'bench/live: %s\n' "$*" >&2; exit 1; }

case $mode in publishers|rss|first) ;; *) die "mode: publishers, rss or first" ;; esac
[ -z "$arg" ] || [[ $arg =~ ^[0-9]+$ ]] || die "the count must be a number"
test -f build/ngx_http_video_api_module.so || die "run make first"
command -v ffmpeg >/dev/null || die "ffmpeg not installed: make deps"

case $VIDEO_API_RUN_DIR in
    /*) run=$VIDEO_API_RUN_DIR ;;
    *) run=$PWD/$VIDEO_API_RUN_DIR ;;
esac
ndir=$run/nginx-live
pubs=()

cleanup() {
    set +e
    [ ${#pubs[@]} -gt 0 ] && kill "${pubs[@]}" 2>/dev/null
    [ -f "$ndir/nginx.pid" ] && kill -QUIT "$(cat "$ndir/nginx.pid")" 2>/dev/null
    sleep 1
    scripts/stack.sh stop pg redis >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/stack.sh start pg redis >/dev/null
eval "$(scripts/stack.sh env)"

rm -rf "$ndir"
mkdir -p "$ndir"/{logs,hls,rec,tmp}
chown -R nobody "$ndir"/{hls,rec} 2>/dev/null || true

cat >"$ndir/nginx.conf" <<EOF
load_module $PWD/build/ngx_http_video_api_module.so;
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
worker_processes ${BENCH_LIVE_WORKERS:-auto};
error_log $ndir/logs/error.log notice;
pid $ndir/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $ndir/tmp;
    video_api_postgres "$VIDEO_API_PG_CONNINFO" pool=4 timeout=5s;
    video_api_redis 127.0.0.1:$VIDEO_API_REDIS_PORT;
    video_api_public_url http://127.0.0.1:$http;
    video_api_live_record_path $ndir/rec;
    video_api_live_relay_secret bench-relay-secret-0123456789ab;
    server {
        listen 127.0.0.1:$http;
        location /api/ { video_api all; }
        location /live/ { video_api play; }
        location /_video_api/live/ { internal; alias $ndir/hls/; }
        location /_video_api/rtmp/ { internal; rtmp_control all; }
        location ~ ^/api/live/(verify|unpublish|record|relay) {
            allow 127.0.0.1;
            deny all;
            video_api live_callbacks;
        }
    }
}
rtmp {
    server {
        listen 127.0.0.1:$rtmp;
        application live {
            live on;
            deny play all;
            push rtmp://127.0.0.1:$rtmp/hls flashVer=bench-relay-secret-0123456789ab;
            record all;
            record_path $ndir/rec;
            record_unique on;
            record_suffix .flv;
            on_publish http://127.0.0.1:$http/api/live/verify;
            on_publish_done http://127.0.0.1:$http/api/live/unpublish;
            on_record_done http://127.0.0.1:$http/api/live/record;
        }
        application hls {
            live on;
            allow publish 127.0.0.1;
            deny publish all;
            deny play all;
            on_publish http://127.0.0.1:$http/api/live/relay;
            hls on;
            hls_path $ndir/hls;
            hls_nested on;
            hls_fragment 2s;
            hls_playlist_length 10s;
        }
    }
}
EOF
"$nginx" -p "$ndir/" -c "$ndir/nginx.conf" || die "nginx did not start"
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$http/api/live/active" >/dev/null && break
    sleep 0.2
done

src=$run/live-720p-2s.flv
if [ ! -s "$src" ]; then
    echo "making a 60 s 720p 2.5 Mb/s clip"
    ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
           -f lavfi -i sine=frequency=440:sample_rate=44100 -t 60 \
           -c:v libx264 -preset veryfast -tune zerolatency -b:v 2500k \
           -maxrate 2500k -bufsize 5000k -g 60 -keyint_min 60 \
           -sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 128k \
           -f flv "$src.tmp" && mv "$src.tmp" "$src"
fi

workers() { pgrep -P "$(cat "$ndir/nginx.pid")" -f 'worker process' | tr '\n' ' '; }

rss_kib() {
    local total=0 pid
    for pid in $(workers); do
        total=$(( total + $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status") ))
    done
    echo "$total"
}

cpu_ticks() {
    local total=0 pid
    for pid in $(workers); do
        total=$(( total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat") ))
    done
    echo "$total"
}

create() {
    curl -s -X POST "http://127.0.0.1:$http/api/live/create" \
         -H 'Content-Type: application/json' -d '{"title": "bench"}' |
        python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d["videoId"], d["streamKey"])'
}

publish() {
    ffmpeg -loglevel error -re -stream_loop -1 -i "$src" -c copy -f flv \
           "rtmp://127.0.0.1:$rtmp/live/$1" </dev/null >/dev/null 2>>"$ndir/logs/ffmpeg.log" &
    pubs+=($!)
}

# Watches the playlists of the streams named for $window seconds
# and prints the smallest share (percent) of real time any of them gained
# in media: the EXTINF seconds of the fragments that appeared meanwhile.
media_share() {
    python3 - "$ndir/hls" "$window" "$@" <<'PY'
import os, sys, time
root, window = sys.argv[1], float(sys.argv[2])
ids = sys.argv[3:]

def fragments(i):
    out = {}
    try:
        seq, dur = 0, None
        for line in open(os.path.join(root, i, "index.m3u8")):
            line = line.strip()
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                seq = int(line.split(":")[1])
            elif line.startswith("#EXTINF:"):
                dur = float(line[8:].split(",")[0])
            elif line and not line.startswith("#"):
                out[seq] = dur or 0.0
                seq += 1
    except OSError:
        pass
    return out

seen = {i: set(fragments(i)) for i in ids}
gained = {i: 0.0 for i in ids}
end = time.time() + window
while time.time() < end:
    time.sleep(0.5)
    for i in ids:
        for n, d in fragments(i).items():
            if n not in seen[i]:
                seen[i].add(n)
                gained[i] += d
print(int(min(gained.values()) * 100 / window) if ids else 0)
PY
}

stop_all() {
    local id
    [ ${#pubs[@]} -gt 0 ] && kill "${pubs[@]}" 2>/dev/null
    wait 2>/dev/null || true
    pubs=()
    sleep 2
    for id in "$@"; do
        curl -s -o /dev/null -X POST "http://127.0.0.1:$http/api/live/$id/stop" \
             -H 'Content-Type: application/json' -d '{"convertToVOD": false}'
    done
    rm -f "$ndir"/rec/*.flv
}

case $mode in

first)
    n=${arg:-5}
    echo "publish start to first playable live playlist (one 720p publisher at a time)"
    for i in $(seq "$n"); do
        read -r id key < <(create)
        t0=$(date +%s.%N)
        publish "$key"
        until curl -sf "http://127.0.0.1:$http/live/$id/index.m3u8" | grep -q '\.ts$'; do
            sleep 0.05
        done
        t1=$(date +%s.%N)
        printf '  run %d: %.2f s\n' "$i" "$(echo "$t1 - $t0" | bc)"
        stop_all "$id"
    done
    ;;

rss)
    minutes=${arg:-10}
    read -r id key < <(create)
    publish "$key"
    sleep 5
    echo "RSS of the nginx workers (KiB, all workers summed) during one 720p stream"
    start=$(rss_kib); max=$start
    printf '  %4ss %8s\n' 0 "$start"
    for s in $(seq 30 30 $(( minutes * 60 ))); do
        sleep 30
        r=$(rss_kib)
        [ "$r" -gt "$max" ] && max=$r
        printf '  %4ss %8s\n' "$s" "$r"
    done
    echo "start $start KiB, max $max KiB, end $r KiB over $minutes min"
    stop_all "$id"
    ;;

publishers)
    max=${arg:-64}
    hz=$(getconf CLK_TCK)
    printf '%-10s %-24s %-14s %-12s %s\n' publishers "media/real time (min)" "nginx CPU" "RSS KiB" result
    for n in 1 2 4 8 12 16 24 32 48 64 96 128; do
        [ "$n" -le "$max" ] || break
        ids=(); keys=()
        for _ in $(seq "$n"); do
            read -r id key < <(create)
            ids+=("$id"); keys+=("$key")
        done
        for key in "${keys[@]}"; do publish "$key"; done
        sleep 12
        c0=$(cpu_ticks)
        share=$(media_share "${ids[@]}")
        c1=$(cpu_ticks)
        cpu=$(( (c1 - c0) * 100 / hz / window ))
        rss=$(rss_kib)
        # fragments are cut at keyframes: a window ends mid-fragment
        if [ "$share" -ge 85 ]; then result=keeps-up; else result=BEHIND; fi
        printf '%-10s %-24s %-14s %-12s %s\n' "$n" "${share}%" "${cpu}% of a core" "$rss" "$result"
        stop_all "${ids[@]}"
        [ "$result" = keeps-up ] || break
    done
    ;;
esac
