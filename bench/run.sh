#!/usr/bin/env bash
# Load benchmark: wrk against each route next to nginx's own `return 200`
# in the same nginx, same run, and the ratios between them.  Absolute
# numbers on a shared machine are noise; ratios are what we compare.
#
#   bench/run.sh [duration]        (default 10s per route)
#
# One nginx worker and one wrk thread, so each has a core of a 2-core box.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-10s}
conns=${BENCH_CONNECTIONS:-64}
port=${BENCH_PORT:-18999}
dir=$PWD/.run/bench
nginx=${NGINX:-/usr/sbin/nginx}

command -v wrk >/dev/null || { echo "wrk not installed: make deps"; exit 1; }
test -f build/ngx_http_video_api_module.so || { echo "run make first"; exit 1; }

mkdir -p "$dir/logs" "$dir/tmp" bench/results
cat > "$dir/nginx.conf" <<CONF
load_module $PWD/build/ngx_http_video_api_module.so;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    server {
        listen 127.0.0.1:$port backlog=4096;
        location = /baseline { return 200 "ok"; }
        location = /health { video_api health; }
        location /api/ { video_api all; }
    }
}
CONF

"$nginx" -p "$dir/" -c "$dir/nginx.conf"
trap '"$nginx" -p "$dir/" -c "$dir/nginx.conf" -s stop 2>/dev/null || true' EXIT

for _ in $(seq 1 50); do
    curl -fs "http://127.0.0.1:$port/baseline" >/dev/null && break
    sleep 0.1
done

# name | method | path
routes=(
    "baseline|GET|/baseline"
    "health|GET|/health"
    "not-found|GET|/api/nope"
    "json-400|PATCH|/api/videos/V1StGXR8_Z5jdHi6B-myT"
)

lua=$dir/patch.lua
cat > "$lua" <<'LUA'
wrk.method = "PATCH"
wrk.body = '{"title": '
wrk.headers["Content-Type"] = "application/json"
LUA

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/$stamp.txt

printf '%-10s %12s %10s %10s %10s\n' route req/s p99 rps-ratio p99-ratio | tee "$out"

base_rps= base_p99=
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v }
        else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
    }'
}

for r in "${routes[@]}"; do
    IFS='|' read -r name method path <<< "$r"
    args=(-t1 -c"$conns" -d"$duration" --latency)
    if [ "$method" = PATCH ]; then
        args+=(-s "$lua")
    fi
    res=$(wrk "${args[@]}" "http://127.0.0.1:$port$path")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<< "$res")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<< "$res")")
    if [ -z "$base_rps" ]; then
        base_rps=$rps base_p99=$p99
    fi
    printf '%-10s %12.0f %8.3fms %10.2f %10.2f\n' "$name" "$rps" "$p99" \
        "$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { print a / b }')" \
        "$(awk -v a="$p99" -v b="$base_p99" 'BEGIN { print a / b }')" \
        | tee -a "$out"
done

echo "($conns connections, $duration per route, nginx $($nginx -v 2>&1 | sed 's|.*/||'), $(nproc) cores; saved in $out)"
