#!/usr/bin/env bash
# Upload benchmark (`make bench-upload`): a 4 GiB file of random bytes
# sent into the built-in store (`video_api_store on`) as a multipart upload
# twice, 4 parts of 64 MiB in flight: first by the aws-cli (`aws s3 cp`,
# every payload signed: the client hashes each part with SHA-256 and the
# store checks it), then the way a browser sends it (the upload created
# with `aws s3api create-multipart-upload`, each part PUT by curl to a
# presigned URL, UNSIGNED-PAYLOAD, the parts' ETags taken from their
# answers, `aws s3api complete-multipart-upload` with them).  Each is
# timed against `cp` of the same file on the same disk, with the RSS of
# nginx's worker sampled every 0.2 s during the upload: what the worker
# holds must not grow with the parts (each part's body streams through a
# small buffer into its temporary file, hashed as it passes).  Then each
# object is checked: its size, S3's multipart ETag (the MD5 of the parts'
# MD5s, "-<parts>") computed here from the file, and its bytes (cmp).
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
# non-zero when an object is not the file; the RSS target (growth under
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
command -v curl >/dev/null || die "curl not installed"

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
        rm -rf "$dir/store" "$dir/copy.bin" "$dir/parts" "$src"
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

parts=$(( (mib + part_mib - 1) / part_mib ))
part_bytes=$((part_mib * 1024 * 1024))
endpoint=http://127.0.0.1:$port

# S3's multipart ETag of the file, the same for both uploads
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

# -- measuring one upload ----------------------------------------------------------

# before an upload: the worker's RSS, its CPU, the access log's length,
# and the RSS sampled every 0.2 s from here on
measure_start() {
    sleep 0.5
    m_rss_before=$(workers_rss)
    m_cpu0=$(workers_cpu)
    m_log0=$(wc -l < "$ndir/logs/access.log")
    (
        while :; do
            workers_rss
            sleep 0.2
        done
    ) > "$dir/rss.log" &
    sampler=$!
    m_t0=$(now)
}

# after it: its time, and from nginx's log (this upload's lines) the
# parts' time in nginx (first byte to answer, all of them summed, and the
# slowest), and CompleteMultipartUpload's (the last POST: the assembly,
# in the thread pool)
measure_stop() {
    m_s=$(secs "$m_t0" "$(now)")
    m_cpu=$(awk -v a="$m_cpu0" -v b="$(workers_cpu)" \
        'BEGIN { printf "%.2f", b - a }')
    read -r m_part_n m_part_sum m_part_max m_complete_s < <(awk -v from="$m_log0" '
        NR <= from { next }
        $1 == "PUT" && $2 != "-" { n++; s += $6; if ($6 > m) m = $6 }
        $1 == "POST" { c = $6 }
        END { printf "%d %.2f %.2f %.2f\n", n, s, m, c }' "$ndir/logs/access.log")
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    sampler=
    sleep 0.5
    m_rss_after=$(workers_rss)
    m_rss_max=$(sort -n "$dir/rss.log" | tail -n 1)
    m_samples=$(wc -l < "$dir/rss.log")
}

# the object at KEY: its size, its ETag, whether it has the file's bytes
check_object() {
    local head_json
    head_json=$(s3 s3api head-object --bucket videos-raw --key "$1")
    read -r o_len o_etag < <(python3 -c '
import json, sys
h = json.load(sys.stdin)
print(h["ContentLength"], h["ETag"])' <<< "$head_json")
    o_same=no
    if cmp -s "$src" "$data/videos-raw/$1"; then
        o_same=yes
    fi
}

# -- 1. the aws-cli: aws s3 cp ---------------------------------------------------------

say "aws s3 cp: $mib MiB as $parts parts of $part_mib MiB, $concurrency at a time"
measure_start
/usr/bin/time -o "$dir/aws.time" -f '%U %S' \
    "$aws" --endpoint-url "$endpoint" s3 cp --only-show-errors \
    --content-type video/mp4 "$src" s3://videos-raw/bench/source.bin ||
    die "the upload failed (see $ndir/logs/error.log)"
measure_stop
a_s=$m_s a_nginx_cpu=$m_cpu
a_part_n=$m_part_n a_part_sum=$m_part_sum a_part_max=$m_part_max
a_complete_s=$m_complete_s
a_rss_before=$m_rss_before a_rss_max=$m_rss_max a_rss_after=$m_rss_after
a_samples=$m_samples
a_client_cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$dir/aws.time")

say "checking the object"
check_object bench/source.bin
a_len=$o_len a_etag=$o_etag a_same=$o_same
# the disk it takes back before the second upload
s3 s3api delete-object --bucket videos-raw --key bench/source.bin >/dev/null

# -- 2. presigned parts: what a browser does -------------------------------------------

# CreateMultipartUpload signed by the aws-cli (the API's part), each part
# PUT by curl to a presigned URL (UNSIGNED-PAYLOAD: the store hashes it
# for its ETag only), the parts' ETags from their answers' headers, then
# CompleteMultipartUpload with them.  Each part is read from the file by
# dd at its offset and sent with its Content-Length, as a browser sends
# a slice of a File: no chunked encoding, no Expect: 100-continue.
put_part() {
    local n=$1 url len
    url=$(sed -n "${n}p" "$dir/parts/urls")
    len=$((bytes - (n - 1) * part_bytes))
    [ "$len" -lt "$part_bytes" ] || len=$part_bytes
    set -o pipefail
    dd if="$src" bs=1M skip=$(((n - 1) * part_mib)) count="$part_mib" \
        status=none |
        curl -sS -f -X PUT -T - -H "Content-Length: $len" \
            -H 'Transfer-Encoding:' -H 'Expect:' \
            -D "$dir/parts/$n.headers" -o /dev/null "$url"
}
export -f put_part
export src bytes part_bytes part_mib dir

rm -rf "$dir/parts"
mkdir -p "$dir/parts"
say "presigned parts: $mib MiB as $parts parts of $part_mib MiB, curl x$concurrency"
measure_start
upload_id=$(s3 s3api create-multipart-upload --bucket videos-raw \
    --key bench/presigned.bin --content-type video/mp4 \
    --query UploadId --output text) ||
    die "CreateMultipartUpload failed (see $ndir/logs/error.log)"
p_create_s=$(secs "$m_t0" "$(now)")
t1=$(now)
python3 t/inc/s3presign.py PUT "$endpoint" videos-raw bench/presigned.bin \
    3600 --upload-id "$upload_id" \
    $(seq -f '--part-number %g' 1 "$parts") > "$dir/parts/urls" ||
    die "presigning the parts failed"
p_presign_s=$(secs "$t1" "$(now)")
t1=$(now)
seq 1 "$parts" |
    /usr/bin/time -o "$dir/curl.time" -f '%U %S' \
    xargs -P "$concurrency" -n 1 bash -c 'put_part "$1"' _ ||
    die "a part's upload failed (see $ndir/logs/error.log)"
p_parts_s=$(secs "$t1" "$(now)")
t1=$(now)
{
    printf '{"Parts": ['
    for n in $(seq 1 "$parts"); do
        etag=$(awk 'tolower($1) == "etag:" { print $2 }' \
            "$dir/parts/$n.headers" | tr -d '\r')
        [ -n "$etag" ] || die "no ETag in part $n's answer"
        [ "$n" = 1 ] || printf ', '
        printf '{"PartNumber": %d, "ETag": "%s"}' "$n" "${etag//\"/\\\"}"
    done
    printf ']}\n'
} > "$dir/parts/complete.json"
s3 s3api complete-multipart-upload --bucket videos-raw \
    --key bench/presigned.bin --upload-id "$upload_id" \
    --multipart-upload "file://$dir/parts/complete.json" >/dev/null ||
    die "CompleteMultipartUpload failed (see $ndir/logs/error.log)"
p_finish_s=$(secs "$t1" "$(now)")
measure_stop
# the presigning is not counted: the API signs the parts' URLs in nginx,
# here it is a Python process importing botocore
p_s=$(awk -v a="$m_s" -v b="$p_presign_s" 'BEGIN { printf "%.2f", a - b }')
p_nginx_cpu=$m_cpu
p_part_n=$m_part_n p_part_sum=$m_part_sum p_part_max=$m_part_max
p_complete_s=$m_complete_s
p_rss_before=$m_rss_before p_rss_max=$m_rss_max p_rss_after=$m_rss_after
p_samples=$m_samples
p_client_cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$dir/curl.time")

say "checking the object"
check_object bench/presigned.bin
p_len=$o_len p_etag=$o_etag p_same=$o_same
leftover=$(find "$data/.uploads" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)

# -- report ------------------------------------------------------------------------

kib_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v u="$1" -v c="$2" 'BEGIN { printf "%.2f", c / u }'; }
# the RSS line of one upload: before, max, after (KiB), samples
rss_line() {
    local growth=$(($2 - $1)) verdict=PASS
    [ "$growth" -lt $((rss_target_mib * 1024)) ] || verdict=MISS
    printf 'before %s, max %s, after %s; max - before %s (%d samples every 0.2 s): %s (under %d MiB)\n' \
        "$(kib_mib "$1")" "$(kib_mib "$2")" "$(kib_mib "$3")" \
        "$(kib_mib "$growth")" "$4" "$verdict" "$rss_target_mib"
}
row() {
    printf '%-44s %9s %9s %9s %11s\n' "$1" "$2" "$(rate "$2")" \
        "$(ratio "$2" "$cp_s")" "$(ratio "$2" "$cps_s")"
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/upload-$stamp.txt
{
    echo "video-api upload bench $stamp, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "$mib MiB of random bytes as $parts parts of $part_mib MiB, $concurrency in flight, into video_api_store (nginx, 1 worker) on $(df -P "$dir" | awk 'NR == 2 { print $1 }'), the source and the copies on the same file system; aws-cli $("$aws" --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2), $(curl --version | head -n 1 | cut -d' ' -f1-2)"
    echo "$(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average after the uploads: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo ""
    printf '%-44s %9s %9s %9s %11s\n' "" "seconds" "MiB/s" "/ cp" "/ cp+fsync"
    row "upload (aws s3 cp, multipart, to the store)" "$a_s"
    row "presigned parts, curl x$concurrency" "$p_s"
    printf '%-44s %9s %9s\n' "cp (same disk, no sync)" "$cp_s" "$(rate "$cp_s")"
    printf '%-44s %9s %9s\n' "cp + fsync of the copy" "$cps_s" "$(rate "$cps_s")"
    echo "(/ cp: the upload's MiB/s over cp's)"
    echo "cp runs: ${cp_runs[*]} s; cp + fsync runs: ${cps_runs[*]} s (the faster of each above)"
    echo ""
    echo "aws s3 cp (every payload signed: the aws-cli hashes each part with SHA-256, the store checks it):"
    echo "  in nginx: $a_part_n UploadPart requests, $a_part_sum s summed (the slowest $a_part_max s), CompleteMultipartUpload (the assembly) $a_complete_s s"
    echo "  CPU: nginx's worker $a_nginx_cpu s (MD5 and SHA-256 of every part, the assembly), the aws-cli $a_client_cpu s"
    echo "  nginx worker RSS (MiB): $(rss_line "$a_rss_before" "$a_rss_max" "$a_rss_after" "$a_samples")"
    echo "  object: $a_len bytes (want $bytes), ETag $a_etag (want $want_etag), same bytes as the source: $a_same"
    echo "presigned parts (UNSIGNED-PAYLOAD query signatures, curl reading each part with dd):"
    echo "  client side: CreateMultipartUpload (aws s3api) $p_create_s s, presigning $p_presign_s s (not in the row above: the API signs in nginx), the parts $p_parts_s s, CompleteMultipartUpload (aws s3api) $p_finish_s s"
    echo "  in nginx: $p_part_n UploadPart requests, $p_part_sum s summed (the slowest $p_part_max s), CompleteMultipartUpload (the assembly) $p_complete_s s"
    echo "  CPU: nginx's worker $p_nginx_cpu s (MD5 of every part, the assembly), curl and dd $p_client_cpu s"
    echo "  nginx worker RSS (MiB): $(rss_line "$p_rss_before" "$p_rss_max" "$p_rss_after" "$p_samples")"
    echo "  object: $p_len bytes (want $bytes), ETag $p_etag (want $want_etag), same bytes as the source: $p_same"
    echo "uploads left in .uploads: $leftover"
} | tee "$out"
echo "(saved in $out)"

for m in a p; do
    len=${m}_len etag=${m}_etag same=${m}_same
    name=$([ $m = a ] && echo "aws s3 cp" || echo "presigned parts")
    [ "${!len}" = "$bytes" ] || die "$name: the object is ${!len} bytes, not $bytes"
    [ "${!etag}" = "$want_etag" ] || die "$name: the object's ETag is ${!etag}, not $want_etag"
    [ "${!same}" = yes ] || die "$name: the object's bytes differ from the source"
done
[ "$leftover" = 0 ] || die "$leftover upload(s) left in $data/.uploads"
