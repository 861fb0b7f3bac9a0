#!/usr/bin/env bash
# Time-to-playable benchmark (`make bench-playable`): how long after an
# upload's `complete` a video first plays and when it is READY, through
# the whole service (nginx with the module and the built-in store,
# PostgreSQL, Redis, RabbitMQ, the relay and transcode workers), on 1080p30
# test sources (lavfi testsrc2 1920x1080 30 fps with a sine tone), uploaded
# as a client does: presign, PUT to the store, complete; then GET
# /api/videos/:id/progress every 100 ms.
#
#   bench/playable.sh          (BENCH_PLAYABLE: which scenarios, default all)
#
# Scenarios (BENCH_PLAYABLE, names separated by spaces or commas; "all";
# "short" = idle-short and busy-short with a background as long as the
# short source, a few minutes in all):
#   idle-short   the short source (BENCH_PLAYABLE_SHORT_SECONDS, 60), no
#                other work, the transcode workers as `make run` has them
#                (one per core, the cores divided among them;
#                BENCH_PLAYABLE_TRANSCODERS says how many)
#   idle-long    the long source (BENCH_PLAYABLE_LONG_SECONDS, 600), idem
#   busy-short   the short source completed while a long one's transcode is
#                already running (PROCESSING) on the same worker(s); the
#                background video is deleted once the measured one is READY
#   busy-long    the long source, idem
#   workers-1    the long source, 1 transcode worker, encoder_threads = 1
#   workers-2    the long source, 2 transcode workers, encoder_threads = 1
#                each: the 2 cores are the only resource
#   oldway       the old service's way on the long source, with ffmpeg
#                alone (no API): one ffmpeg run per rendition in sequence,
#                x264 preset medium, CRF 23, 6 s segments, 1080p, 720p and
#                480p; READY (and so first playable) when the last ends
#   ours-oldway  ours through the API at the same preset and segment
#                length (preset = medium, segment_seconds = 6): our
#                ladder and its capped bitrates, not CRF
#   quality      the short source in chunks (chunk_seconds as the run
#                has it) and in one piece with the same settings
#                (chunk_seconds and chunk_first_seconds 600), one worker
#                each: SSIM of the first against the second per rung, its
#                lowest segment and its lowest segment at a chunk's start,
#                and each rung's peak segment bitrate against its cap
#                (bench/quality.py)
#
# First playable is the API's playableAt (on the video object or in
# /progress) when it has that field, otherwise the first poll that sees
# READY: a video plays only when READY today.  "worst" is, over every
# segment of every rendition, when it was first seen in its playlist
# (from complete) minus its start offset in the video: a player that
# starts at first playable never waits when it stays under a few seconds.
# CPU-s per output minute: the transcode workers' CPU (their own and
# their reaped children's, ffprobe and ffmpeg, from /proc/<pid>/stat)
# over the job, per minute of video; only where one video was
# transcoded alone.  Each scenario's note says what share of the
# machine's CPU time the hypervisor gave to other guests meanwhile
# (/proc/stat's steal): on a virtual machine two busy cores are not
# always two cores' work.
#
# It starts its own stack (scripts/stack.sh: run directory
# .run/bench-playable, PostgreSQL 25533, Redis 26480, RabbitMQ 25673 and
# its distribution port 45673, nginx on 28180, its store on 28181, RTMP on
# 28182) and its own workers (metrics on 28183 and up); everything it
# started is stopped on exit, Ctrl-C included.  The sources are made once
# and kept in the run directory (sources/); the store's objects are
# removed on exit unless BENCH_KEEP=1.  The table goes to
# bench/results/playable-<UTC timestamp>.txt as well.  The goals (from
# the time-to-playable issue: first playable <= 5 s, worst <= 5 s; READY
# 1.8x faster with 2 workers than with 1) print PASS/MISS and do not
# change the exit status; a failed upload or transcode does.
#
# Settings: BENCH_PLAYABLE, BENCH_PLAYABLE_TRANSCODERS, BENCH_PLAYABLE_SHORT_SECONDS,
# BENCH_PLAYABLE_LONG_SECONDS, BENCH_PLAYABLE_BACKGROUND_SECONDS (the busy
# scenarios' running transcode: the long length, the short one in short
# mode), BENCH_PLAYABLE_CHUNK_SECONDS (the workers' chunk_seconds,
# conf/worker.conf's unless set; 0: one run per video; the pipeline's
# label follows it), BENCH_PLAYABLE_CHUNK_FIRST_SECONDS (their
# chunk_first_seconds, likewise), BENCH_PLAYABLE_CHUNK_RAMP_SECONDS
# (their chunk_ramp_seconds, likewise),
# BENCH_PLAYABLE_PIPELINE (the label of the pipeline measured, "single-run"
# or "chunked-<n>s-first-<n>s-ramp-<n>s"), BENCH_PLAYABLE_TIMEOUT (s per video, 7200),
# BENCH_KEEP.
set -euo pipefail
cd "$(dirname "$0")/.."

scenarios=${BENCH_PLAYABLE:-all}
short_s=${BENCH_PLAYABLE_SHORT_SECONDS:-60}
long_s=${BENCH_PLAYABLE_LONG_SECONDS:-600}
chunk_s=${BENCH_PLAYABLE_CHUNK_SECONDS:-$(awk -F' *= *' '$1 == "chunk_seconds" { print $2 }' conf/worker.conf)}
[[ $chunk_s =~ ^[0-9]+$ ]] && [ "$chunk_s" -le 600 ] ||
    { echo "BENCH_PLAYABLE_CHUNK_SECONDS: 0..600" >&2; exit 2; }
export VIDEO_WORKER_CHUNK_SECONDS=$chunk_s
first_s=${BENCH_PLAYABLE_CHUNK_FIRST_SECONDS:-$(awk -F' *= *' '$1 == "chunk_first_seconds" { print $2 }' conf/worker.conf)}
[[ $first_s =~ ^[0-9]+$ ]] && [ "$first_s" -ge 1 ] && [ "$first_s" -le 600 ] ||
    { echo "BENCH_PLAYABLE_CHUNK_FIRST_SECONDS: 1..600" >&2; exit 2; }
export VIDEO_WORKER_CHUNK_FIRST_SECONDS=$first_s
ramp_s=${BENCH_PLAYABLE_CHUNK_RAMP_SECONDS:-$(awk -F' *= *' '$1 == "chunk_ramp_seconds" { print $2 }' conf/worker.conf)}
[[ $ramp_s =~ ^[0-9]+$ ]] && [ "$ramp_s" -le 86400 ] ||
    { echo "BENCH_PLAYABLE_CHUNK_RAMP_SECONDS: 0..86400" >&2; exit 2; }
export VIDEO_WORKER_CHUNK_RAMP_SECONDS=$ramp_s
if [ "$chunk_s" = 0 ]; then
    pipeline=${BENCH_PLAYABLE_PIPELINE:-single-run}
else
    pipeline=${BENCH_PLAYABLE_PIPELINE:-chunked-${chunk_s}s-first-${first_s}s-ramp-${ramp_s}s}
fi
timeout_s=${BENCH_PLAYABLE_TIMEOUT:-7200}
# the transcode workers as make run starts them (scripts/stack.sh): one
# per core, encoder_threads 0 shared among them
makerun_n=${BENCH_PLAYABLE_TRANSCODERS:-$(nproc)}
[[ $makerun_n =~ ^[1-9][0-9]*$ ]] ||
    { echo "BENCH_PLAYABLE_TRANSCODERS: a number of workers" >&2; exit 2; }
makerun=("$makerun_n")
if [ "$makerun_n" -gt 1 ]; then
    makerun+=("ENCODER_THREADS=$(( $(nproc) / makerun_n > 0 ? $(nproc) / makerun_n : 1 ))")
fi
worker=build/video-worker

export VIDEO_API_RUN_DIR=${BENCH_RUN_DIR:-.run/bench-playable}
export VIDEO_API_PG_PORT=${BENCH_PG_PORT:-25533}
export VIDEO_API_REDIS_PORT=${BENCH_REDIS_PORT:-26480}
export VIDEO_API_AMQP_PORT=${BENCH_AMQP_PORT:-25673}
export VIDEO_API_AMQP_DIST_PORT=${BENCH_AMQP_DIST_PORT:-45673}
export VIDEO_API_HTTP_PORT=${BENCH_PORT:-28180}
export VIDEO_API_STORE_PORT=${BENCH_STORE_PORT:-28181}
export VIDEO_API_RTMP_PORT=${BENCH_RTMP_PORT:-28182}
export VIDEO_API_LISTEN=127.0.0.1
metrics_port=${BENCH_METRICS_PORT:-28183}

die() { printf 'bench-playable: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench-playable: %s\n' "$*"; }

for v in short_s long_s timeout_s metrics_port; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number"
done
[[ $pipeline =~ ^[A-Za-z0-9._-]+$ ]] ||
    die "BENCH_PLAYABLE_PIPELINE: letters, digits, . _ -"

all_scenarios="idle-short idle-long busy-short busy-long workers-1 workers-2 oldway ours-oldway quality"
scenarios=${scenarios//,/ }
case " $scenarios " in
    " all ") scenarios=$all_scenarios ;;
    " short ")
        scenarios="idle-short busy-short"
        bg_default=$short_s
        ;;
esac
bg_s=${BENCH_PLAYABLE_BACKGROUND_SECONDS:-${bg_default:-$long_s}}
[[ $bg_s =~ ^[1-9][0-9]*$ ]] ||
    die "BENCH_PLAYABLE_BACKGROUND_SECONDS must be a positive number"
for s in $scenarios; do
    [[ " $all_scenarios " == *" $s "* ]] ||
        die "unknown scenario '$s' (all, short, or of: $all_scenarios)"
done

[ -x "$worker" ] || die "$worker missing: run make first"
command -v ffmpeg >/dev/null || die "ffmpeg not installed: make deps"
command -v python3 >/dev/null || die "python3 not installed: make deps"

case $VIDEO_API_RUN_DIR in
    /*) run=$VIDEO_API_RUN_DIR ;;
    *) run=$PWD/$VIDEO_API_RUN_DIR ;;
esac
mkdir -p "$run/sources" "$run/logs" bench/results
stack() { scripts/stack.sh "$@"; }

free_mib=$(df -Pm "$run" | awk 'NR == 2 { print $4 }')
need_mib=$(( (long_s + short_s) * 4 + 2048 ))
[ "$free_mib" -gt "$need_mib" ] ||
    die "$run: ${free_mib} MiB free, the run may need $need_mib"

# -- cleanup -------------------------------------------------------------------

# pid of each transcode worker we run, and the relay's
transcoders=()
relay=
stack_started=0

stop_pid() {
    local p=$1
    kill -0 "$p" 2>/dev/null || return 0
    kill -TERM "$p" 2>/dev/null || true
    # a transcode stops its ffmpeg and puts the job back
    for _ in $(seq 1 300); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$p" 2>/dev/null; then
        kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
}

stop_transcoders() {
    local p
    for p in "${transcoders[@]+"${transcoders[@]}"}"; do
        stop_pid "$p"
    done
    transcoders=()
}

cleanup() {
    stop_transcoders
    [ -z "$relay" ] || stop_pid "$relay"
    if [ "$stack_started" = 1 ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
        stack stop >/dev/null || true
        rm -rf "$run/store" "$run/work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# -- the sources ------------------------------------------------------------------

# source SECONDS: the path of the cached 1080p30 source of that length
source_path() { echo "$run/sources/testsrc2-${1}s-1080p30.mp4"; }

make_source() {
    local s=$1 out
    out=$(source_path "$s")
    [ -s "$out" ] && return 0
    say "making the ${s} s 1920x1080 30 fps source (kept in $(dirname "$out"))"
    ffmpeg -hide_banner -nostdin -loglevel error -y \
        -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$s" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$s" \
        -c:v libx264 -preset veryfast -crf 20 -g 60 -pix_fmt yuv420p \
        -c:a aac -b:a 128k -movflags +faststart "$out.tmp.mp4" ||
        die "ffmpeg could not make the source"
    mv "$out.tmp.mp4" "$out"
}

needs_api=0
for s in $scenarios; do
    case $s in
        idle-short | quality) make_source "$short_s"; needs_api=1 ;;
        busy-short) make_source "$short_s"; make_source "$bg_s"; needs_api=1 ;;
        busy-long) make_source "$long_s"; make_source "$bg_s"; needs_api=1 ;;
        oldway) make_source "$long_s" ;;
        *) make_source "$long_s"; needs_api=1 ;;
    esac
done
for f in "$run"/sources/*.mp4; do
    [ "$(stat -c %s "$f")" -le $((2 * 1024 * 1024 * 1024)) ] ||
        die "$f is over the API's 2 GiB upload limit"
done

# -- the stack and the workers -----------------------------------------------------

# CPU seconds (user + system, its own and its reaped children's) of PIDs
cpu_of() {
    local p
    for p in "$@"; do
        cat "/proc/$p/stat" 2>/dev/null || true
    done | awk -v hz="$(getconf CLK_TCK)" '{
        sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 }
        END { printf "%.2f", t / hz }'
}

# the machine's CPU time so far: "<busy s> <stolen s>" (/proc/stat: the
# time the hypervisor gave another guest while this one wanted to run)
machine_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {
        printf "%.2f %.2f", ($2 + $3 + $4 + $7 + $8) / hz, $9 / hz }' /proc/stat
}

# the share of the CPU time stolen between two machine_cpu readings
stolen_pct() {
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
        busy = y[1] - x[1]; st = y[2] - x[2];
        printf "%.0f%%", (busy + st > 0) ? 100 * st / (busy + st) : 0 }'
}

worker_env() {
    export VIDEO_WORKER_CONF=$run/workers/worker.conf
    export VIDEO_WORKER_POSTGRES="host=127.0.0.1 port=$VIDEO_API_PG_PORT dbname=video user=video password=video"
    export VIDEO_WORKER_REDIS=127.0.0.1:$VIDEO_API_REDIS_PORT
    export VIDEO_WORKER_AMQP=amqp://video:video@127.0.0.1:$VIDEO_API_AMQP_PORT/
    export VIDEO_WORKER_STORAGE_ENDPOINT=http://127.0.0.1:$VIDEO_API_STORE_PORT
    export VIDEO_WORKER_PUBLIC_URL=http://127.0.0.1:$VIDEO_API_HTTP_PORT
    export VIDEO_WORKER_WORK_DIR=$run/work
    export VIDEO_WORKER_RECORD_PATH=$run/live-rec
}

# start_transcoders N [NAME=VALUE...]: N transcode workers with these
# settings over conf/worker.conf's, in place of the running ones
start_transcoders() {
    local n=$1 i
    shift
    stop_transcoders
    for i in $(seq 1 "$n"); do
        (
            worker_env
            for kv in "$@"; do
                export "VIDEO_WORKER_$kv"
            done
            exec "$worker" transcode --metrics-listen \
                "127.0.0.1:$((metrics_port + i))"
        ) </dev/null >>"$run/logs/bench-transcode-$i.log" 2>&1 &
        transcoders+=($!)
    done
    sleep 1
    for i in "${transcoders[@]}"; do
        kill -0 "$i" 2>/dev/null ||
            die "a transcode worker exited at start (see $run/logs/bench-transcode-*.log)"
    done
    workers_desc="$n x transcode${*:+ ($*)}"
}

if [ "$needs_api" = 1 ]; then
    # a stack left behind by a kill -9 of an earlier run
    stack stop >/dev/null 2>&1 || true
    rm -rf "$run/store" "$run/work"
    stack_started=1
    say "starting PostgreSQL, Redis, RabbitMQ and nginx ($VIDEO_API_RUN_DIR)"
    stack start pg redis amqp nginx >"$run/logs/bench-stack.log" 2>&1 ||
        { cat "$run/logs/bench-stack.log" >&2; die "the stack did not start"; }
    stack conf-check >>"$run/logs/bench-stack.log" 2>&1 ||
        die "scripts/stack.sh conf-check failed (see $run/logs/bench-stack.log)"
    [ -s "$run/admin.key" ] || die "no admin API key in $run/admin.key"
    export BENCH_API=http://127.0.0.1:$VIDEO_API_HTTP_PORT
    BENCH_KEY=$(head -n 1 "$run/admin.key")
    export BENCH_KEY
    (
        worker_env
        exec "$worker" relay --metrics-listen "127.0.0.1:$metrics_port"
    ) </dev/null >>"$run/logs/bench-relay.log" 2>&1 &
    relay=$!
fi

api() { python3 bench/playable.py "$@"; }

# -- one measured upload --------------------------------------------------------------

rows=()
notes=()
declare -A ready_of

# measure NAME SOURCE_SECONDS CPU(yes|no) [BACKGROUND_SECONDS]
measure() {
    local name=$1 s=$2 cpu=$3 bg=${4:-} bg_id='' id t0 c0 c1 out cpm=-
    local play ready worst segs how worst_at m0 stolen
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ -n "$bg" ]; then
        say "$name: a ${bg} s upload first, its transcode running before the next"
        read -r bg_id _ < <(api upload "$(source_path "$bg")" "bench $name background") ||
            die "$name: the background upload failed"
        api wait "$bg_id" PROCESSING "$timeout_s" || die "$name: the background video failed"
        sleep 2
    fi
    c0=$(cpu_of "${transcoders[@]}")
    m0=$(machine_cpu)
    say "$name: ${s} s source, $workers_desc"
    read -r id t0 < <(api upload "$(source_path "$s")" "bench $name") ||
        die "$name: the upload failed"
    out=$(BENCH_PLAYABLE_TRACE="$run/logs/segments-$name.txt" api measure "$id" "$t0" "$timeout_s") ||
        die "$name: video $id did not become READY"
    c1=$(cpu_of "${transcoders[@]}")
    stolen=$(stolen_pct "$m0" "$(machine_cpu)")
    read -r play ready worst segs how worst_at <<< "$out"
    if [ "$cpu" = yes ]; then
        cpm=$(awk -v a="$c0" -v b="$c1" -v s="$s" 'BEGIN { printf "%.1f", (b - a) / (s / 60) }')
    fi
    if [ -n "$bg_id" ]; then
        # its remaining chunks are not measured: deleted, they are
        # dropped by the worker that takes them
        api delete "$bg_id" || die "$name: the background video could not be deleted"
        say "$name: the background video deleted"
        sleep 5
    fi
    ready_of[$name]=$ready
    local goal=-
    case $name in
        idle-* | busy-*)
            goal=PASS
            awk -v p="$play" -v w="$worst" 'BEGIN { exit !(p > 5 || w > 5) }' && goal=MISS
            goal="playable <= 5 s, worst <= 5 s: $goal"
            ;;
        workers-2)
            if [ -n "${ready_of[workers-1]:-}" ]; then
                local x
                x=$(awk -v a="${ready_of[workers-1]}" -v b="$ready" 'BEGIN { printf "%.2f", a / b }')
                goal="READY >= 1.80x faster than 1 worker: ${x}x $(awk -v x="$x" 'BEGIN { print (x >= 1.8) ? "PASS" : "MISS" }')"
            else
                goal="READY >= 1.80x faster than 1 worker: (workers-1 not run)"
            fi
            ;;
        workers-1) goal="the reference of workers-2" ;;
        ours-oldway)
            if [ -n "${ready_of[oldway]:-}" ]; then
                goal="READY $(awk -v a="${ready_of[oldway]}" -v b="$ready" 'BEGIN { printf "%.2f", a / b }')x faster than the old way"
            fi
            ;;
    esac
    [ "$name" != idle-long ] ||
        goal="$goal; single-run, 1 worker on both cores: chunked within 10% of its CPU"
    rows+=("$(printf '%-12s %6ss %-40s %9s %9s %9s %9s  %s' "$name" "$s" \
        "$workers_desc" "$play" "$ready" "$worst" "$cpm" "$goal")")
    notes+=("$name: video $id, first playable from $how, $segs segments seen (worst: the one at $worst_at s; all in $run/logs/segments-$name.txt), $stolen of the CPU time stolen by the hypervisor, load average ${load} at start${bg:+, background ${bg} s video $bg_id}")
}

# -- the old service's way: ffmpeg alone -------------------------------------------------

oldway() {
    local s=$1 src dir t1 cpu segs
    src=$(source_path "$s")
    dir=$run/oldway
    rm -rf "$dir"
    mkdir -p "$dir"
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    say "oldway: ${s} s source, one ffmpeg per rendition in sequence (medium, CRF 23, 6 s)"
    read -r t1 cpu < <(python3 - "$src" "$dir" <<'PY'
import resource, subprocess, sys, time
src, d = sys.argv[1], sys.argv[2]
t = time.monotonic()
for name, w, h, ab in (('1080p', 1920, 1080, '192k'), ('720p', 1280, 720, '128k'),
                       ('480p', 854, 480, '128k')):
    cmd = ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
           '-i', src, '-vf', 'scale=%d:%d' % (w, h),
           '-c:v', 'libx264', '-preset', 'medium', '-crf', '23',
           '-pix_fmt', 'yuv420p', '-force_key_frames', 'expr:gte(t,n_forced*6)',
           '-c:a', 'aac', '-b:a', ab,
           '-f', 'hls', '-hls_time', '6', '-hls_playlist_type', 'vod',
           '-hls_segment_filename', '%s/%s_%%03d.ts' % (d, name),
           '%s/%s.m3u8' % (d, name)]
    if subprocess.call(cmd) != 0:
        sys.exit('ffmpeg failed: ' + ' '.join(cmd))
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print('%.2f %.2f' % (time.monotonic() - t, ru.ru_utime + ru.ru_stime))
PY
) || die "oldway: ffmpeg failed"
    ready_of[oldway]=$t1
    local cpm
    cpm=$(awk -v c="$cpu" -v s="$s" 'BEGIN { printf "%.1f", c / (s / 60) }')
    rows+=("$(printf '%-12s %6ss %-40s %9s %9s %9s %9s  %s' oldway "$s" \
        "3 ffmpeg runs in sequence, no API" "$t1" "$t1" "$t1" "$cpm" \
        "the old service: playable when READY")")
    segs=$(find "$dir" -name '*.ts' | wc -l)
    notes+=("oldway: $segs segments, $cpu CPU-s, load average $load at start; READY counted from the first ffmpeg's start (no upload, no queue)")
    rm -rf "$dir"
}

# -- chunked against one piece: quality at the boundaries, peak bitrates -------------

quality() {
    local s=$1 a b c=$chunk_s
    [ "$c" != 0 ] || c=8
    start_transcoders 1 CHUNK_SECONDS=$c
    say "quality: ${s} s source in ${c} s chunks"
    read -r a _ < <(api upload "$(source_path "$s")" "bench quality chunks") ||
        die "quality: the upload failed"
    api wait "$a" READY "$timeout_s" || die "quality: video $a failed"
    start_transcoders 1 CHUNK_SECONDS=600 CHUNK_FIRST_SECONDS=600
    say "quality: the same source in one piece, the same settings"
    read -r b _ < <(api upload "$(source_path "$s")" "bench quality one piece") ||
        die "quality: the upload failed"
    api wait "$b" READY "$timeout_s" || die "quality: video $b failed"
    notes+=("quality: ${c} s chunks (video $a) against one piece (video $b), SSIM per segment of the chunked rung; cap: the rung's BANDWIDTH less the 128 kb/s audio")
    notes+=("$(python3 bench/quality.py "$run/store/videos-processed/$a" \
        "$run/store/videos-processed/$b" 128)") || die "quality: bench/quality.py failed"
}

# -- the scenarios ---------------------------------------------------------------------

started=$(date -u +%Y%m%dT%H%M%SZ)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for s in $scenarios; do
    case $s in
        idle-short) start_transcoders "${makerun[@]}"; measure "$s" "$short_s" yes ;;
        idle-long) start_transcoders "${makerun[@]}"; measure "$s" "$long_s" yes ;;
        busy-short) start_transcoders "${makerun[@]}"; measure "$s" "$short_s" no "$bg_s" ;;
        busy-long) start_transcoders "${makerun[@]}"; measure "$s" "$long_s" no "$bg_s" ;;
        workers-1) start_transcoders 1 ENCODER_THREADS=1; measure "$s" "$long_s" yes ;;
        workers-2) start_transcoders 2 ENCODER_THREADS=1; measure "$s" "$long_s" yes ;;
        oldway) stop_transcoders; oldway "$long_s" ;;
        quality) quality "$short_s" ;;
        ours-oldway)
            start_transcoders 1 PRESET=medium SEGMENT_SECONDS=6
            measure "$s" "$long_s" yes
            ;;
    esac
done
stop_transcoders

# -- report ---------------------------------------------------------------------------------

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/playable-$stamp.txt
{
    echo "video-api time-to-playable bench $started, $(git rev-parse --short HEAD 2>/dev/null || echo '?'), pipeline: $pipeline"
    echo "sources: lavfi testsrc2 1920x1080 30 fps + 440 Hz sine (x264 veryfast CRF 20, 2 s GOP, AAC), uploaded by presign + PUT + complete to nginx's store; /progress polled every 100 ms"
    echo "$(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(ffmpeg -version | head -n 1 | cut -d' ' -f1-3); worker.conf: preset $(awk -F' *= *' '$1 == "preset" { print $2 }' conf/worker.conf), $(awk -F' *= *' '$1 == "segment_seconds" { print $2 }' conf/worker.conf) s segments, encoder_threads $(awk -F' *= *' '$1 == "encoder_threads" { print $2 }' conf/worker.conf) unless the row says otherwise"
    echo "load average at start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo ""
    printf '%-12s %7s %-40s %9s %9s %9s %9s  %s\n' "scenario" "source" "workers" \
        "playable" "READY" "worst" "CPU-s/min" "goal"
    printf '%-12s %7s %-40s %9s %9s %9s %9s\n' "" "" "" "s" "s" "s" "of output"
    printf '%s\n' "${rows[@]}"
    echo ""
    echo "playable, READY: seconds from complete (its request sent) to first playable and to READY;"
    echo "worst: over every segment of every rendition, first seen in its playlist minus its start offset (s from complete);"
    echo "CPU-s/min: the transcode workers' CPU with their children's, per minute of the video (- where two videos overlapped)"
    printf '%s\n' "${notes[@]}"
} | tee "$out"
echo "(saved in $out)"
