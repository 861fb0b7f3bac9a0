#!/usr/bin/env bash
# The OpenAPI document of the API: docs/openapi.yaml is the source,
# docs/openapi.json (what nginx serves at /api/openapi.json and the
# contract check reads) is generated from it; both are committed.
#   scripts/openapi.sh build   regenerate docs/openapi.json
#   scripts/openapi.sh check   lint docs/openapi.yaml (Redocly CLI, rules in
#                              redocly.yaml) and fail on any error or
#                              warning, or when docs/openapi.json is not
#                              what docs/openapi.yaml generates
set -euo pipefail
cd "$(dirname "$0")/.."

redocly=node_modules/.bin/redocly
if [ ! -x "$redocly" ]; then
    echo "openapi: $redocly missing: run 'make deps'" >&2
    exit 1
fi
# no usage reports, no update notices
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

bundle() {
    "$redocly" bundle docs/openapi.yaml --ext json -o "$1" >/dev/null 2>&1 \
        || "$redocly" bundle docs/openapi.yaml --ext json -o "$1"
}

case ${1:-check} in
build)
    bundle docs/openapi.json
    echo "openapi: docs/openapi.json generated from docs/openapi.yaml"
    ;;
check)
    out=$("$redocly" lint --format=stylish docs/openapi.yaml 2>&1) \
        && rc=0 || rc=$?
    if [ "$rc" != 0 ] || grep -v "[║╔╚]" <<<"$out" | grep -Eqi "\b(warning|error)s?\b"; then
        grep -v '[║╔╚]' <<<"$out"
        echo "openapi: docs/openapi.yaml does not pass the linter"
        exit 1
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    bundle "$tmp/openapi.json"
    if ! cmp -s "$tmp/openapi.json" docs/openapi.json; then
        diff -u docs/openapi.json "$tmp/openapi.json" | head -n 40
        echo "openapi: docs/openapi.json is not docs/openapi.yaml's:" \
             "run 'make openapi'"
        exit 1
    fi
    echo "openapi: docs/openapi.yaml lints clean" \
         "($("$redocly" --version 2>/dev/null | tail -n 1)," \
         "redocly.yaml), docs/openapi.json matches it"
    ;;
*)
    echo "usage: $0 build|check" >&2
    exit 2
    ;;
esac
