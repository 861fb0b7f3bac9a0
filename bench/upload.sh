#!/usr/bin/env bash
# Upload benchmark (`make bench-upload`): a 4 GiB file of random bytes
# sent into the built-in store (`video_api_store on`) as a multipart upload
# by the aws-cli (`aws s3 cp`, 4 parts in flight, 64 MiB parts), timed
# against `cp` of the same file on the same disk, with the RSS of nginx's
# worker sampled every 0.2 s during the upload: what the worker holds must
# not grow with the parts (each part's body streams through a small
# buffer into its temporary file, hashed as it passes).  Then the object
# is checked: its size, S3's multipart ETag (the MD5 of the parts' MD5s,
# "-<parts>") computed here from the file, and its bytes (cmp).
#
#   bench/upload.sh
#
# Settings: BENCH_UPLOAD_MIB (4096), BENCH_UPLOAD_PART_MIB (64),
# BENCH_UPLOAD_CONCURRENCY (4), BENCH_UPLOAD_PORT (28090),
# BENCH_UPLOAD_DIR (.run/bench-upload: the source file, its copies and the
# store's data directory, so all on one file system), BENCH_KEEP=1 leaves
# the files there, NGINX, BENCH_MODULE (build/ngx_http_video_api_module.so).
#
# Neither side syncs: cp and the store both leave their writes in the page
# cache; a "cp + fsync" row shows what the disk itself takes.  The source
# is written (and fsynced) first, so both read it from the page cache when
# the machine has the memory.  The table goes to
# bench/results/upload-<UTC timestamp>.txt as well.  The exit status is
# non-zero when the object is not the file; the RSS target (growth under
# the size of one part, BENCH_UPLOAD_RSS_MIB, 16) prints PASS/MISS and
# does not change it.
set -euo pipefail
cd "$(dirname "$0")/.."

mib=${BENCH_UPLOAD_MIB:-4096}
part_mib=${BENCH_UPLOAD_PART_MIB:-64}
concurrency=${BENCH_UPLOAD_CONCURRENCY:-4}
port=${BENCH_UPLOAD_PORT:-28090}
dir=${BENCH_UPLOAD_DIR:-.run/bench-upload}
rss_target_mib=${BENCH_UPLOAD_RSS_MIB:-16}
nginx=${NGINX:-/usr/sbin/nginx}
module=${BENCH_MODULE:-build/ngx_http_video_api_module.so}
aws=${AWS:-/usr/bin/aws}

die() { printf 'bench-upload: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench-upload: %s\n' "$*"; }

for v in mib part_mib concurrency port rss_target_mib; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number"
done
test -x "$nginx" || die "nginx not found at $nginx (set NGINX)"
test -f "$module" || die "$module missing: run make first"
test -x "$aws" || die "no $aws (awscli): make deps"
command -v python3 >/dev/null || die "python3 not installed: make deps"
test -x /usr/bin/time || die "no /usr/bin/time (the time package)"

mkdir -p "$dir" bench/results
dir=$(cd "$dir" && pwd)
module=$(cd "$(dirname "$module")" && pwd)/$(basename "$module")
src=$dir/source.bin
data=$dir/store
ndir=$dir/nginx
bytes=$((mib * 1024 * 1024))

free_mib=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
# the source, the parts and the object (briefly both), one copy
[ "$free_mib" -gt $((mib * 4 + 1024)) ] ||
    die "$dir: ${free_mib} MiB free, the run needs $((mib * 4 + 1024))"

nginx_pid=
sampler=
cleanup() {
    [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    if [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -rf "$dir/store" "$dir/copy.bin" "$src"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# -- the source ---------------------------------------------------------------

rm -rf "$data" "$dir/copy.bin"
if [ "$(stat -c %s "$src" 2>/dev/null || echo 0)" != "$bytes" ]; then
    say "writing $mib MiB of random bytes to $src"
    head -c "$bytes" /dev/urandom > "$src.tmp"
    mv "$src.tmp" "$src"
fi
sync "$src"

# -- cp, and cp + fsync, on the same disk --------------------------------------

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v m="$mib" -v s="$1" 'BEGIN { printf "%.0f", m / s }'; }

# each twice, the faster kept: the machine is shared
best() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a < b) ? a : b }'; }
cp_runs=() cps_runs=()
for i in 1 2; do
    say "cp of the file ($i of 2)"
    t0=$(now)
    cp "$src" "$dir/copy.bin"
    cp_runs+=("$(secs "$t0" "$(now)")")
    rm -f "$dir/copy.bin"

    say "cp of the file, then fsync of the copy ($i of 2)"
    t0=$(now)
    cp "$src" "$dir/copy.bin"
    sync "$dir/copy.bin"
    cps_runs+=("$(secs "$t0" "$(now)")")
    rm -f "$dir/copy.bin"
done
cp_s=$(best "${cp_runs[@]}")
cps_s=$(best "${cps_runs[@]}")

# -- nginx with the store ------------------------------------------------------

# fresh logs: the parts' times are read from this run's access log
rm -rf "$ndir/logs"
mkdir -p "$data/videos-raw" "$data/.incoming" "$ndir/logs"
# nginx's workers run as nobody when it runs as root
if [ "$(id -u)" -eq 0 ]; then
    chown -R nobody "$data"
fi

cat > "$ndir/nginx.conf" <<EOF
load_module $module;
worker_processes 1;
error_log $ndir/logs/error.log notice;
pid $ndir/logs/nginx.pid;
events { worker_connections 256; }
http {
    log_format bench '\$request_method \$arg_partNumber \$arg_uploads \$status '
                     '\$request_length \$request_time';
    access_log $ndir/logs/access.log bench;
    video_api_storage endpoint=http://127.0.0.1:$port region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    server {
        listen 127.0.0.1:$port;
        root $data;
        client_max_body_size 5g;
        client_body_temp_path $data/.incoming;
        location / {
            video_api_store on;
        }
    }
}
EOF
"$nginx" -t -q -p "$ndir/" -c "$ndir/nginx.conf" ||
    die "nginx -t failed on $ndir/nginx.conf"
"$nginx" -p "$ndir/" -c "$ndir/nginx.conf"
for _ in $(seq 1 50); do
    nginx_pid=$(cat "$ndir/logs/nginx.pid" 2>/dev/null || true)
    [ -n "$nginx_pid" ] && break
    sleep 0.1
done
[ -n "$nginx_pid" ] || die "nginx did not start (see $ndir/logs/error.log)"

# the aws-cli with its own files: nothing of the machine's environment
home=$dir/aws
mkdir -p "$home"
cat > "$home/config" <<EOF
[default]
region = us-east-1
s3 =
    addressing_style = path
    max_concurrent_requests = $concurrency
    multipart_threshold = ${part_mib}MB
    multipart_chunksize = ${part_mib}MB
EOF
cat > "$home/credentials" <<EOF
[default]
aws_access_key_id = videoapi
aws_secret_access_key = videoapi-secret
EOF
for v in $(env | awk -F= '/^AWS_/ { print $1 }'); do unset "$v"; done
export AWS_CONFIG_FILE=$home/config AWS_SHARED_CREDENTIALS_FILE=$home/credentials
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
s3() { "$aws" --endpoint-url "http://127.0.0.1:$port" "$@"; }

# nginx's workers (children of the master): the sum of their VmRSS, KiB
workers_rss() {
    local total=0 p r
    for p in $(pgrep -P "$nginx_pid"); do
        r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        total=$((total + ${r:-0}))
    done
    echo "$total"
}

# CPU seconds (user + system) nginx's workers used so far
workers_cpu() {
    local p
    for p in $(pgrep -P "$nginx_pid"); do
        cat "/proc/$p/stat" 2>/dev/null || true
    done | awk -v hz="$(getconf CLK_TCK)" '{
        sub(/^.*\) /, ""); t += $12 + $13 } END { printf "%.2f", t / hz }'
}

# a small upload first: what the worker allocates once is counted before
head -c 1024 /dev/urandom > "$dir/warm.bin"
s3 s3 cp --quiet "$dir/warm.bin" s3://videos-raw/bench/warm.bin ||
    die "the warm-up upload failed (see $ndir/logs/error.log)"
rm -f "$dir/warm.bin"
sleep 0.5
rss_before=$(workers_rss)

(
    while :; do
        workers_rss
        sleep 0.2
    done
) > "$dir/rss.log" &
sampler=$!

parts=$(( (mib + part_mib - 1) / part_mib ))
say "aws s3 cp: $mib MiB as $parts parts of $part_mib MiB, $concurrency at a time"
cpu0=$(workers_cpu)
t0=$(now)
/usr/bin/time -o "$dir/aws.time" -f '%U %S' \
    "$aws" --endpoint-url "http://127.0.0.1:$port" s3 cp --only-show-errors \
    --content-type video/mp4 "$src" s3://videos-raw/bench/source.bin ||
    die "the upload failed (see $ndir/logs/error.log)"
up_s=$(secs "$t0" "$(now)")
# from nginx's log: the parts' time in nginx (first byte to answer, all
# of them summed, and the slowest), and CompleteMultipartUpload's (the
# last POST: the assembly, in the thread pool)
read -r part_n part_sum part_max complete_s < <(awk '
    $1 == "PUT" && $2 != "-" { n++; s += $6; if ($6 > m) m = $6 }
    $1 == "POST" { c = $6 }
    END { printf "%d %.2f %.2f %.2f\n", n, s, m, c }' "$ndir/logs/access.log")
nginx_cpu=$(awk -v a="$cpu0" -v b="$(workers_cpu)" 'BEGIN { printf "%.2f", b - a }')
aws_cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$dir/aws.time")

kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=
sleep 0.5
rss_after=$(workers_rss)
rss_max=$(sort -n "$dir/rss.log" | tail -n 1)
samples=$(wc -l < "$dir/rss.log")

# -- the object ------------------------------------------------------------------

say "checking the object"
head_json=$(s3 s3api head-object --bucket videos-raw --key bench/source.bin)
read -r got_len got_etag < <(python3 -c '
import json, sys
h = json.load(sys.stdin)
print(h["ContentLength"], h["ETag"])' <<< "$head_json")
want_etag=$(python3 - "$src" "$part_mib" <<'PY'
import hashlib, sys
part = int(sys.argv[2]) * 1024 * 1024
digests = []
with open(sys.argv[1], 'rb') as f:
    while True:
        chunk = f.read(part)
        if not chunk:
            break
        digests.append(hashlib.md5(chunk).digest())
print('"%s-%d"' % (hashlib.md5(b''.join(digests)).hexdigest(), len(digests)))
PY
)
object=$data/videos-raw/bench/source.bin
same=no
if cmp -s "$src" "$object"; then
    same=yes
fi
leftover=$(find "$data/.uploads" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)

# -- report ------------------------------------------------------------------------

kib_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
growth=$((rss_max - rss_before))
verdict=PASS
[ "$growth" -lt $((rss_target_mib * 1024)) ] || verdict=MISS

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/upload-$stamp.txt
{
    echo "video-api upload bench $stamp, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "$mib MiB of random bytes; aws s3 cp ($("$aws" --version 2>&1 | cut -d' ' -f1)), $parts parts of $part_mib MiB, $concurrency in flight, into video_api_store (nginx, 1 worker) on $(df -P "$dir" | awk 'NR == 2 { print $1 }'), the source and the copies on the same file system"
    echo "$(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average at start of the upload's report: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo ""
    printf '%-44s %9s %9s\n' "" "seconds" "MiB/s"
    printf '%-44s %9s %9s\n' "upload (aws s3 cp, multipart, to the store)" "$up_s" "$(rate "$up_s")"
    printf '%-44s %9s %9s\n' "cp (same disk, no sync)" "$cp_s" "$(rate "$cp_s")"
    printf '%-44s %9s %9s\n' "cp + fsync of the copy" "$cps_s" "$(rate "$cps_s")"
    printf '%-44s %9s\n' "upload / cp (MiB/s ratio)" \
        "$(awk -v u="$up_s" -v c="$cp_s" 'BEGIN { printf "%.2f", c / u }')"
    printf '%-44s %9s\n' "upload / cp + fsync (MiB/s ratio)" \
        "$(awk -v u="$up_s" -v c="$cps_s" 'BEGIN { printf "%.2f", c / u }')"
    echo "cp runs: ${cp_runs[*]} s; cp + fsync runs: ${cps_runs[*]} s (the faster of each above)"
    echo "in nginx: $part_n UploadPart requests, $part_sum s summed (the slowest $part_max s), CompleteMultipartUpload (the assembly) $complete_s s"
    echo "CPU during the upload: nginx's worker $nginx_cpu s (MD5 of every part, SHA-256 of every signed payload, the assembly), the aws-cli $aws_cpu s"
    echo ""
    printf 'nginx worker RSS (MiB): before %s, max %s, after %s; max - before %s (%d samples every 0.2 s): %s (under %d MiB)\n' \
        "$(kib_mib "$rss_before")" "$(kib_mib "$rss_max")" "$(kib_mib "$rss_after")" \
        "$(kib_mib "$growth")" "$samples" "$verdict" "$rss_target_mib"
    echo "object: $got_len bytes (want $bytes), ETag $got_etag (want $want_etag), same bytes as the source: $same, uploads left in .uploads: $leftover"
} | tee "$out"
echo "(saved in $out)"

[ "$got_len" = "$bytes" ] || die "the object is $got_len bytes, not $bytes"
[ "$got_etag" = "$want_etag" ] || die "the object's ETag is $got_etag, not $want_etag"
[ "$same" = yes ] || die "the object's bytes differ from the source"
[ "$leftover" = 0 ] || die "$leftover upload(s) left in $data/.uploads"
