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

stop_stack() {
    if [ "${VIDEO_API_TEST_KEEP:-0}" != 1 ]; then
        scripts/stack.sh stop pg redis amqp || true
    fi
}
trap stop_stack EXIT

scripts/stack.sh start pg redis amqp
eval "$(scripts/stack.sh env)"

# settings the suites read (Test::Nginx substitutes $TEST_NGINX_* in configs)
export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES=${TEST_NGINX_LOAD_MODULES:-"$PWD/build/ngx_http_video_api_module.so /usr/lib/nginx/modules/ngx_rtmp_module.so"}
export TEST_NGINX_PG_PORT=$VIDEO_API_PG_PORT
export TEST_NGINX_REDIS_PORT=$VIDEO_API_REDIS_PORT
export TEST_NGINX_AMQP_PORT=$VIDEO_API_AMQP_PORT
export TEST_NGINX_PG_CONNINFO=$VIDEO_API_PG_CONNINFO

# upstream Test::Nginx when installed, else the subset in t/lib
if ! perl -MTest::Nginx::Socket -e 1 2>/dev/null; then
    export PERL5LIB=$PWD/t/lib${PERL5LIB:+:$PERL5LIB}
fi

status=0

echo "== unit tests (Check)"
build/unit-tests || status=1

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

echo "== Test::Nginx suites"
prove -r t/ || status=1

# the same suites with nginx under memcheck: any leak or invalid access
# fails the run (nginx's own single-process leaks are in valgrind.suppress)
if [ "${VIDEO_API_TEST_VALGRIND:-1}" = 1 ]; then
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

echo "== make test: $([ $status = 0 ] && echo passed || echo FAILED)" \
     "in $(( $(date +%s) - started ))s"
exit $status
