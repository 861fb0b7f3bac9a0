#!/usr/bin/env bash
# Runs the libFuzzer harnesses of t/fuzz (built by `make fuzzers`) and
# prints a table: executions, edge coverage (cov), features (ft), corpus
# size and crashes per harness.  Exits non-zero when any harness crashed,
# leaked or broke one of its checks; the reproducer is kept.
#
#   scripts/fuzz.sh run     `make fuzz`: each harness for FUZZ_SECONDS
#                           (default 20) on a scratch corpus,
#                           build/fuzz/corpus/<name>, that starts from the
#                           seeds in t/fuzz/corpus/<name> and keeps what it
#                           finds for the next run.  FUZZ_MERGE=1 then adds
#                           the inputs that reach new coverage to the seeds.
#   scripts/fuzz.sh check   the step of `make test`: every seed once, then
#                           FUZZ_SECONDS (default 4) of fuzzing in a
#                           directory that is thrown away.
#
# FUZZ_TARGETS="form route" runs only those harnesses; FUZZ_JOBS of them
# run at once (default: one per core).  Crashes are kept
# in build/fuzz/crashes/<name>/ (`build/fuzz/<name> <file>` replays one),
# logs in build/fuzz/logs/<mode>/<name>.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

mode=${1:-run}

case $mode in
run)   seconds=${FUZZ_SECONDS:-20} ;;
check) seconds=${FUZZ_SECONDS:-4} ;;
*)     echo "usage: $0 run|check" >&2; exit 2 ;;
esac

if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a names <<< "$FUZZ_TARGETS"
else
    names=()
    for f in t/fuzz/*.c; do
        names+=("$(basename "$f" .c)")
    done
fi

scratch_root=build/fuzz/corpus
scratch_root_tmp=
if [ "$mode" = check ]; then
    scratch_root=$(mktemp -d "${TMPDIR:-/tmp}/video-api-fuzz.XXXXXX")
    scratch_root_tmp=$scratch_root
fi

started=$(date +%s)
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
results=$(mktemp -d "${TMPDIR:-/tmp}/video-api-fuzz-results.XXXXXX")
trap 'rm -rf "$results" ${scratch_root_tmp:+"$scratch_root_tmp"}' EXIT

for name in "${names[@]}"; do
    if [ ! -x "build/fuzz/$name" ]; then
        echo "fuzz: build/fuzz/$name is not built (make fuzzers)" >&2
        exit 2
    fi
done

# one harness: its table row in $results/<name>.row, what it reports on
# failure in $results/<name>.err
fuzz_one() {
    local name=$1
    local bin=build/fuzz/$name
    local seeds=t/fuzz/corpus/$name
    local scratch=$scratch_root/$name
    local crashes=build/fuzz/crashes/$name
    local log=build/fuzz/logs/$mode/$name.log
    local args before after found rc status execs cov ft corp

    mkdir -p "$scratch" "$crashes" "$(dirname "$log")" "$seeds"

    args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10
          -rss_limit_mb=2048 -artifact_prefix="$crashes/")
    if [ -f "t/fuzz/$name.dict" ]; then
        args+=(-dict="t/fuzz/$name.dict")
    fi

    before=$(find "$crashes" -type f | wc -l)

    # the scratch corpus first: libFuzzer writes new inputs there only
    "$bin" "${args[@]}" "$scratch" "$seeds" > "$log" 2>&1
    rc=$?

    after=$(find "$crashes" -type f | wc -l)
    found=$((after - before))

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    status=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$status")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$status")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$status")

    if [ $rc -ne 0 ] && [ $found -eq 0 ]; then
        found=1
    fi

    printf '%-14s %10s %6s %6s %7s %8s\n' "$name" "${execs:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found" > "$results/$name.row"

    if [ $rc -ne 0 ]; then
        {
            echo "fuzz: $name failed (exit $rc); its log: $log"
            grep -E -m 5 'ERROR|runtime error|SUMMARY|Test unit written' "$log"
            echo "fuzz: replay with $bin $crashes/<file>"
        } > "$results/$name.err"
        return 1
    fi

    if [ "$mode" = run ] && [ "${FUZZ_MERGE:-0}" = 1 ]; then
        "$bin" -merge=1 "$seeds" "$scratch" > "$log.merge" 2>&1 || {
            echo "fuzz: merging $name's corpus failed; its log: $log.merge" \
                > "$results/$name.err"
            return 1
        }
    fi
    return 0
}

running=0
for name in "${names[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    fuzz_one "$name" &
    running=$((running + 1))
done
wait

failed=0
rows=()
for name in "${names[@]}"; do
    rows+=("$(cat "$results/$name.row" 2>/dev/null \
              || printf '%-14s %10s' "$name" '(no result)')")
    if [ -e "$results/$name.err" ] || [ ! -e "$results/$name.row" ]; then
        failed=1
        cat "$results/$name.err" >&2 2>/dev/null || :
    fi
done

printf '%-14s %10s %6s %6s %7s %8s\n' harness execs cov ft corpus crashes
printf '%s\n' "${rows[@]}"
echo "fuzz: ${#names[@]} harnesses, ${seconds}s each, $jobs at a time," \
     "$(( $(date +%s) - started ))s in all"

exit $failed
