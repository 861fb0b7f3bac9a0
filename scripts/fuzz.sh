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
# FUZZ_TARGETS="form route" runs only those harnesses.  Crashes are kept
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
if [ "$mode" = check ]; then
    scratch_root=$(mktemp -d "${TMPDIR:-/tmp}/video-api-fuzz.XXXXXX")
    trap 'rm -rf "$scratch_root"' EXIT
fi

started=$(date +%s)
failed=0
rows=()

for name in "${names[@]}"; do
    bin=build/fuzz/$name
    seeds=t/fuzz/corpus/$name
    scratch=$scratch_root/$name
    crashes=build/fuzz/crashes/$name
    log=build/fuzz/logs/$mode/$name.log

    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin is not built (make fuzzers)" >&2
        exit 2
    fi

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

    rows+=("$(printf '%-14s %10s %6s %6s %7s %8s' "$name" "${execs:-?}" \
              "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found")")

    if [ $rc -ne 0 ]; then
        failed=1
        echo "fuzz: $name failed (exit $rc); its log: $log" >&2
        grep -E -m 5 'ERROR|runtime error|SUMMARY|Test unit written' "$log" >&2
        echo "fuzz: replay with $bin $crashes/<file>" >&2
    fi

    if [ "$mode" = run ] && [ "${FUZZ_MERGE:-0}" = 1 ] && [ $rc -eq 0 ]; then
        "$bin" -merge=1 "$seeds" "$scratch" > "$log.merge" 2>&1 || failed=1
    fi
done

printf '%-14s %10s %6s %6s %7s %8s\n' harness execs cov ft corpus crashes
printf '%s\n' "${rows[@]}"
echo "fuzz: ${#names[@]} harnesses, ${seconds}s each," \
     "$(( $(date +%s) - started ))s in all"

exit $failed
