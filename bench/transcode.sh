#!/usr/bin/env bash
# Transcode benchmark (`make bench-transcode`): the transcoder's one ffmpeg
# run (decode once, split + scale, every rung and the thumbnail) against
# the other way (one ffmpeg run per rung with the same encoder settings,
# plus one for the thumbnail, in sequence), on a 60 s 1920x1080 30 fps
# testsrc clip with a sine tone: the 4-rung ladder.  Reports wall and CPU
# seconds of each and their ratio, then how many transcodes run side by
# side on this machine and at what speed.
#
#   bench/transcode.sh            (BENCH_TRANSCODE_SECONDS: clip length, 60)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_TRANSCODE_SECONDS:-60}
dir=${BENCH_TRANSCODE_DIR:-.run/bench-transcode}
worker=build/video-worker

die() { printf 'bench-transcode: %s\n' "$*" >&2; exit 1; }

[ -x "$worker" ] || die "$worker missing: run make first"
command -v ffmpeg >/dev/null || die "ffmpeg not installed: make deps"

mkdir -p "$dir" bench/results
src=$dir/source-${seconds}s-1080p30.mp4

if [ ! -s "$src" ]; then
    echo "bench-transcode: making the ${seconds} s 1920x1080 30 fps source"
    ffmpeg -loglevel error -y \
        -f lavfi -i "testsrc=duration=$seconds:size=1920x1080:rate=30" \
        -f lavfi -i "sine=duration=$seconds:frequency=440" \
        -pix_fmt yuv420p -c:v libx264 -preset ultrafast -crf 18 \
        -c:a aac -b:a 192k "$src"
fi

# runs a command; prints "wall user sys" in seconds (the children's CPU)
measure() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.monotonic() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if rc != 0:
    sys.exit("command failed (%d): %s" % (rc, " ".join(sys.argv[1:])))
print("%.2f %.2f %.2f" % (wall, ru.ru_utime, ru.ru_stime))
PY
}

# -- ours: the worker's own code path --------------------------------------

rm -rf "$dir/ours"
echo "bench-transcode: one run for the whole ladder (video-worker ladder)"
read -r ours_wall ours_user ours_sys < <(measure "$worker" ladder "$src" "$dir/ours")
ours_cpu=$(awk -v u="$ours_user" -v s="$ours_sys" 'BEGIN { printf "%.2f", u + s }')

# the settings ours used, taken from the ladder it wrote
rungs=()
while IFS= read -r line; do
    rungs+=("$line")
done < <(awk -F'[=,x"]' '/^#EXT-X-STREAM-INF/ {
        for (i = 1; i <= NF; i++) if ($i ~ /RESOLUTION$/) { w = $(i + 1); h = $(i + 2) }
        getline name; sub(/\/playlist.m3u8$/, "", name); print name, w, h
    }' "$dir/ours/out/master.m3u8")
[ "${#rungs[@]}" -eq 4 ] || die "expected 4 rungs from a 1080p source, got ${#rungs[@]}"

# rates and levels as src/lib/video_ladder.c has them
declare -A vk=([1080p]=5000 [720p]=2800 [480p]=1400 [360p]=800)
declare -A ak=([1080p]=192 [720p]=128 [480p]=128 [360p]=96)
declare -A lv=([1080p]=4.0 [720p]=3.1 [480p]=3.0 [360p]=3.0)
preset=$(awk -F' *= *' '$1 == "preset" { print $2 }' conf/worker.conf)
segment=$(awk -F' *= *' '$1 == "segment_seconds" { print $2 }' conf/worker.conf)
threads=$(awk -F' *= *' '$1 == "encoder_threads" { print $2 }' conf/worker.conf)
preset=${preset:-veryfast} segment=${segment:-4}
[ -n "$threads" ] && [ "$threads" != 0 ] || threads=$(nproc)
gop=$((30 * segment))

# -- the other way: a run per rung, then the thumbnail ---------------------

rm -rf "$dir/theirs"
mkdir -p "$dir/theirs"
cat > "$dir/theirs.sh" <<EOF
set -e
EOF
for r in "${rungs[@]}"; do
    read -r name w h <<< "$r"
    mkdir -p "$dir/theirs/$name"
    cat >> "$dir/theirs.sh" <<EOF
ffmpeg -hide_banner -nostdin -loglevel error -y -i '$src' \
    -vf scale=$w:$h,setsar=1 -map 0:v:0 -map 0:a:0 -threads $threads \
    -c:v libx264 -preset $preset -profile:v high -pix_fmt yuv420p \
    -g $gop -keyint_min $gop -sc_threshold 0 -force_key_frames 'expr:gte(t,n_forced*$segment)' \
    -b:v ${vk[$name]}k -maxrate $((vk[$name] * 107 / 100))k -bufsize $((vk[$name] * 2))k -level:v ${lv[$name]} \
    -c:a aac -ac 2 -ar 48000 -b:a ${ak[$name]}k \
    -f hls -hls_time $segment -hls_playlist_type vod -hls_flags independent_segments \
    -hls_segment_filename '$dir/theirs/$name/segment_%03d.ts' '$dir/theirs/$name/playlist.m3u8'
EOF
done
cat >> "$dir/theirs.sh" <<EOF
ffmpeg -hide_banner -nostdin -loglevel error -y -ss 5 -i '$src' -frames:v 1 \
    -vf scale=640:-2 -q:v 3 '$dir/theirs/thumbnail.jpg'
EOF

echo "bench-transcode: one run per rung, in sequence"
read -r their_wall their_user their_sys < <(measure bash "$dir/theirs.sh")
their_cpu=$(awk -v u="$their_user" -v s="$their_sys" 'BEGIN { printf "%.2f", u + s }')

# both made every segment of every rung
for r in "${rungs[@]}"; do
    read -r name _ _ <<< "$r"
    a=$(ls "$dir/ours/out/$name" | grep -c '\.ts$')
    b=$(ls "$dir/theirs/$name" | grep -c '\.ts$')
    [ "$a" -gt 0 ] && [ "$a" = "$b" ] || die "$name: $a segments ours, $b theirs"
done

# -- side by side ------------------------------------------------------------

parallel_rows=()
short=$dir/source-20s-1080p30.mp4
if [ ! -s "$short" ]; then
    ffmpeg -loglevel error -y -i "$src" -t 20 -c copy "$short"
fi
for n in 1 2 3; do
    pids=() start=$(date +%s.%N)
    for i in $(seq 1 "$n"); do
        rm -rf "$dir/par-$i"
        "$worker" ladder "$short" "$dir/par-$i" 2>/dev/null &
        pids+=($!)
    done
    for p in "${pids[@]}"; do
        wait "$p" || die "a parallel transcode failed"
    done
    wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
    parallel_rows+=("$(awk -v n="$n" -v w="$wall" 'BEGIN {
        printf "%d at once: %.2f s wall for %d x 20 s of 1080p: %.2fx real time each, %.2f s of video per second", n, w, n, 20 / w, n * 20 / w }')")
done

# -- report --------------------------------------------------------------------

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/transcode-$stamp.txt
{
    echo "video-api transcode bench $stamp, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "source: ${seconds} s 1920x1080 30 fps testsrc + sine; ladder: ${rungs[*]// /:}; x264 preset $preset, ${segment} s segments, $threads threads per encoder in both"
    echo "$(nproc) cores; $(ffmpeg -version | head -n 1 | cut -d' ' -f1-3); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo ""
    printf '%-34s %9s %9s\n' "" "wall s" "CPU s"
    printf '%-34s %9s %9s\n' "one run, decode once (ours)" "$ours_wall" "$ours_cpu"
    printf '%-34s %9s %9s\n' "one run per rung + thumbnail" "$their_wall" "$their_cpu"
    printf '%-34s %9s %9s\n' "ratio (theirs / ours)" \
        "$(awk -v a="$their_wall" -v b="$ours_wall" 'BEGIN { printf "%.2f", a / b }')" \
        "$(awk -v a="$their_cpu" -v b="$ours_cpu" 'BEGIN { printf "%.2f", a / b }')"
    echo ""
    printf '%s\n' "${parallel_rows[@]}"
} | tee "$out"
echo "(saved in $out)"
