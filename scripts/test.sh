#!/usr/bin/env bash
# `make test`: Check unit tests, then every t/*.t suite with prove, against
# a private stack (own run directory and ports, so a `make run` stack keeps
# running untouched).  Exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

export VIDEO_API_RUN_DIR=${VIDEO_API_TEST_RUN_DIR:-.run/test}
export VIDEO_API_PG_PORT=${VIDEO_API_TEST_PG_PORT:-15433}
export VIDEO_API_REDIS_PORT=${VIDEO_API_TEST_REDIS_PORT:-16380}
export VIDEO_API_AMQP_PORT=${VIDEO_API_TEST_AMQP_PORT:-15673}
unset VIDEO_API_AMQP_DIST_PORT

started=$(date +%s)

asan_build_pid=
stop_stack() {
    if [ -n "$asan_build_pid" ]; then
        kill -- "-$asan_build_pid" 2>/dev/null || :
    fi
    if [ "${VIDEO_API_TEST_KEEP:-0}" != 1 ]; then
        scripts/stack.sh stop pg redis amqp || true
    fi
}
trap stop_stack EXIT

# the slowest suites of a prove --timer log, where a pass spends its time
slowest() {
    echo "   slowest suites:"
    grep -E '^\[[0-9:]+\] t/.* ok +[0-9]+ ms' "$1" \
        | awk '{ print $5, $2 }' | sort -rn | head -n 8 \
        | awk '{ printf "   %7.1f s  %s\n", $1 / 1000, $2 }' || :
}

# the sanitizer pass's build (below) starts now, at the lowest priority:
# on a fresh tree it builds nginx from source, minutes of compiling that
# the unit tests, the fuzzing and the regular pass (which waits more than
# it computes) leave room for.  Its own process group, so that stopping
# make test stops it.
asan_on=${VIDEO_API_TEST_ASAN:-1}
case $VIDEO_API_RUN_DIR in
    /*) san_dir=$VIDEO_API_RUN_DIR/sanitizers ;;
    *) san_dir=$PWD/$VIDEO_API_RUN_DIR/sanitizers ;;
esac
if [ "$asan_on" = 1 ]; then
    rm -rf "$san_dir"
    mkdir -p "$san_dir"
    # nginx's workers write their reports as nobody
    chmod 1777 "$san_dir"
    set -m
    nice -n 19 "${MAKE:-make}" --no-print-directory asan \
        >"$san_dir/build.log" 2>&1 &
    asan_build_pid=$!
    set +m
fi

scripts/stack.sh start pg redis amqp
eval "$(scripts/stack.sh env)"

# settings the suites read (Test::Nginx substitutes $TEST_NGINX_* in configs)
export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES=${TEST_NGINX_LOAD_MODULES:-"$PWD/build/ngx_http_video_api_module.so /usr/lib/nginx/modules/ngx_rtmp_module.so"}
export TEST_NGINX_PG_PORT=$VIDEO_API_PG_PORT
export TEST_NGINX_REDIS_PORT=$VIDEO_API_REDIS_PORT
export TEST_NGINX_AMQP_PORT=$VIDEO_API_AMQP_PORT
export TEST_NGINX_PG_CONNINFO=$VIDEO_API_PG_CONNINFO
# Test::Nginx's nginx logs at info, not debug: nginx's debug log writes
# every request header, API keys in Authorization included, and
# t/099-no-key-in-logs.t checks that no log holds one
export TEST_NGINX_LOG_LEVEL=${TEST_NGINX_LOG_LEVEL:-info}

# upstream Test::Nginx when installed, else the subset in t/lib
if ! perl -MTest::Nginx::Socket -e 1 2>/dev/null; then
    export PERL5LIB=$PWD/t/lib${PERL5LIB:+:$PERL5LIB}
fi

status=0
failed=()

echo "== unit tests (Check)"
build/unit-tests || { status=1; failed+=(unit); }

# every libFuzzer harness (t/fuzz) over its seeds, then a few seconds of
# fuzzing each; `make fuzz` runs them for longer
if [ "${VIDEO_API_TEST_FUZZ:-1}" = 1 ]; then
    fuzz_seconds=${VIDEO_API_TEST_FUZZ_SECONDS:-3}
    echo "== fuzz harnesses (their seeds, then ${fuzz_seconds}s each)"
    mkdir -p "$VIDEO_API_RUN_DIR"
    if make -s fuzzers > "$VIDEO_API_RUN_DIR/fuzz-build.log" 2>&1; then
        FUZZ_SECONDS=$fuzz_seconds FUZZ_TARGETS= scripts/fuzz.sh check \
            || status=1
    else
        tail -n 20 "$VIDEO_API_RUN_DIR/fuzz-build.log"
        status=1
    fi
fi

echo "== OpenAPI document (docs/openapi.yaml, Redocly CLI's lint)"
scripts/openapi.sh check || status=1

# every answer of this pass is recorded (t/inc/ContractLog.pm) and each JSON
# one checked against docs/openapi.json (scripts/contract.mjs)
echo "== Test::Nginx suites"
contract_log=$VIDEO_API_RUN_DIR/contract.jsonl
mkdir -p "$VIDEO_API_RUN_DIR"
rm -f "$contract_log"
case $contract_log in /*) ;; *) contract_log=$PWD/$contract_log ;; esac
suites_log=$VIDEO_API_RUN_DIR/prove.log
VIDEO_API_CONTRACT_LOG=$contract_log prove --timer -r t/ 2>&1 \
    | tee "$suites_log" || { status=1; failed+=(suites); }
slowest "$suites_log"

echo "== answers against the OpenAPI document"
if [ -s "$contract_log" ]; then
    node scripts/contract.mjs "$contract_log" || status=1
else
    echo "no answer was recorded in $contract_log"
    status=1
fi

# the same suites with nginx under memcheck: any leak or invalid access
# fails the run (nginx's own single-process leaks are in valgrind.suppress).
# Opt-in with VIDEO_API_TEST_VALGRIND=1: the sanitizer pass below covers
# the same suites and more in a third of the time; memcheck adds only the
# use of uninitialised memory
if [ "${VIDEO_API_TEST_VALGRIND:-0}" = 1 ]; then
    echo "== Test::Nginx suites under valgrind"
    vg_log=$VIDEO_API_RUN_DIR/valgrind.log
    mkdir -p "$(dirname "$vg_log")"
    # the Test::Nginx suites, and those of the others that start their
    # own nginx and say it may run under valgrind, with a longer request
    # timeout: memcheck is slow
    mapfile -t vg_suites < <(grep -lE 'use Test::Nginx::Socket|^# memcheck: yes' t/*.t)
    TEST_NGINX_USE_VALGRIND=1 TEST_NGINX_TIMEOUT=${TEST_NGINX_TIMEOUT:-15} \
        prove "${vg_suites[@]}" > "$vg_log" 2>&1 || status=1
    tail -n 3 "$vg_log"
    if grep -qE 'definitely lost|indirectly lost|Invalid (read|write|free)|uninitialised|Conditional jump|Mismatched free' "$vg_log"; then
        echo "valgrind found errors (full log: $vg_log):"
        grep -B2 -A30 -E 'definitely lost|indirectly lost|Invalid (read|write|free)|uninitialised|Conditional jump|Mismatched free' "$vg_log" | head -n 200
        status=1
    fi
fi

# the same suites, the worker suites and the unit tests against nginx, the
# module and the worker built with AddressSanitizer, UndefinedBehavior-
# Sanitizer and LeakSanitizer (`make asan`; nginx itself comes from
# Debian's source with NGX_DEBUG_PALLOC, built once and cached by
# scripts/asan-nginx.sh): every report fails the run and is printed.
# The reports are files under the run directory, not output: nginx
# points its stderr at its error log, and a worker's stderr is its log.
# VIDEO_API_TEST_ASAN=0 skips it.
if [ "$asan_on" = 1 ]; then
    echo "== unit tests and suites under ASan + UBSan + LSan"
    san_started=$(date +%s)
    build_rc=0
    wait "$asan_build_pid" || build_rc=$?
    asan_build_pid=
    echo "   waited $(( $(date +%s) - san_started ))s for its build"
    if [ "$build_rc" -ne 0 ]; then
        tail -n 30 "$san_dir/build.log"
        echo "the sanitizer build failed (log: $san_dir/build.log)"
        status=1
    else
        # the valgrind pass's suites, those that run the worker program and
        # those marked "# sanitizers: yes"; not the browser suites (t/web/),
        # where the browsers take the time
        mapfile -t san_suites < <(
            { grep -lE 'use Test::Nginx::Socket|^# (memcheck|sanitizers): yes' \
                  t/*.t
              grep -lF 'worker_start(' t/*.t | xargs grep -LF 't/web/'
            } | sort -u)
        symbolizer=$(clang -print-prog-name=llvm-symbolizer 2>/dev/null || :)
        (
            # every report goes to a report.<pid> file; halt_on_error: a
            # UBSan finding stops the process as ASan's do
            ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
            export ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$san_dir/report
            export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
            LSAN_OPTIONS=suppressions=$PWD/lsan.suppress
            export LSAN_OPTIONS=$LSAN_OPTIONS:print_suppressions=0
            if [ -x "$symbolizer" ]; then
                export ASAN_SYMBOLIZER_PATH=$symbolizer
            fi
            export TEST_NGINX_BINARY=$PWD/build/asan/nginx
            plain=$PWD/build/ngx_http_video_api_module.so
            asan=$PWD/build/asan/ngx_http_video_api_module.so
            mods=${TEST_NGINX_LOAD_MODULES//"$plain"/$asan}
            export TEST_NGINX_LOAD_MODULES=$mods
            export VIDEO_API_TEST_WORKER=$PWD/build/asan/video-worker
            export VIDEO_API_TEST_WEBHOOK_SIGN=$PWD/build/asan/webhook-sign
            # a suite that also plays in browsers leaves that to the
            # regular pass
            export VIDEO_API_TEST_BROWSERS=0
            # ASan's nginx is slower, and its leak check runs at exit
            export TEST_NGINX_TIMEOUT=${TEST_NGINX_TIMEOUT:-10}
            rc=0
            build/asan/unit-tests || rc=1
            prove --timer "${san_suites[@]}" || rc=1
            exit $rc
        ) >"$san_dir/prove.log" 2>&1 || { status=1; failed+=(sanitizers); }
        tail -n 3 "$san_dir/prove.log"
        slowest "$san_dir/prove.log"
        # which suite and which test failed, as the log is not printed
        sed -n '/^Test Summary Report/,/^Files=/p' "$san_dir/prove.log" \
            | head -n 40
        grep -E -A3 '^#   Failed test' "$san_dir/prove.log" | head -n 80 || :
        reports=("$san_dir"/report.*)
        if [ -e "${reports[0]}" ]; then
            echo "the sanitizers reported errors (tests: $san_dir/prove.log):"
            for r in "${reports[@]}"; do
                echo "-- $r"
                head -n 80 "$r"
            done
            status=1
        fi
    fi
    echo "   sanitizer pass: $(( $(date +%s) - san_started ))s"
fi

# the regular pass's failures again, where a shortened log still shows them
if [[ " ${failed[*]} " == *" suites "* ]]; then
    echo "== the suites that failed (log: $suites_log)"
    sed -n '/^Test Summary Report/,/^Files=/p' "$suites_log" | head -n 40
    # and what each failed test said
    grep -E -A6 '^#   Failed test' "$suites_log" | head -n 80 || :
fi

echo "== make test: $([ $status = 0 ] && echo passed || echo FAILED)" \
     "in $(( $(date +%s) - started ))s${failed[*]:+ (failed: ${failed[*]})}"
exit $status
