#!/usr/bin/env bash
# Installs the Debian packages video-api needs, skipping those already
# installed, then the npm packages of package-lock.json (the page's hls.js
# and Swagger UI, the browser tests' playwright-core, the OpenAPI linter
# @redocly/cli, the contract check's ajv) when node_modules is older than
# the lock file, so it is cheap to run before every build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    # build
    gcc make pkg-config
    nginx nginx-dev libnginx-mod-rtmp
    libpq-dev libhiredis-dev librabbitmq-dev libjansson-dev
    libcurl4-openssl-dev libssl-dev check
    # fuzzing (t/fuzz): clang with libFuzzer and the sanitizer runtimes
    clang-14 libclang-rt-14-dev
    # servers
    postgresql postgresql-client redis-server redis-tools rabbitmq-server
    # media
    ffmpeg
    # tests: prove and Test::Base for t/lib's Test::Nginx, plus the modules
    # upstream Test::Nginx uses, so it works too when installed
    perl libtest-base-perl libtest-longstring-perl libtext-diff-perl
    liblist-moreutils-perl libhttp-message-perl liburi-perl libipc-run-perl
    libwww-perl curl valgrind
    # metrics: promtool checks the text format, and t/034-prometheus.t
    # scrapes the module and the workers with a real Prometheus
    prometheus
    # browser tests of the page (t/090-web.t), driven by playwright-core
    # and puppeteer-core from node_modules (below)
    chromium firefox-esr
    # benchmarks and S3 signature checks; aws-cli brings python3-awscrt,
    # whose signer (and aws-cli's own SDK core) t/020-store.t presigns
    # uploads with besides botocore's
    wrk python3 python3-botocore awscli
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} packages installed"
else
    echo "deps: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"
fi

# The user ffprobe and ffmpeg run as when the workers run as root (the
# transcoder's media sandbox, media_user in conf/worker.conf): a system
# user of its own, with its own group, no home and no shell, owning
# nothing but the out/ directory of the job it runs.
if [ "$(id -u)" -eq 0 ] && ! getent passwd video-media >/dev/null; then
    echo "deps: creating the system user video-media"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "video-api media sandbox" \
        video-media
fi

# npm packages: exactly the lock file's versions (npm ci), again only when
# something changed: node_modules missing or older than the lock file.
# npm ci writes node_modules/.package-lock.json, which dates the install.
# node and npm come from Debian only when there are none: a node from
# elsewhere (NodeSource's nodejs carries its own npm) conflicts with
# Debian's npm package.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "deps: installing nodejs npm"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends nodejs npm
fi
if [ ! -f node_modules/.package-lock.json ] \
        || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: npm ci"
    # devDependencies too, whatever NODE_ENV or npm's config say: the
    # suites' tools are among them (ajv, the browser drivers, standardwebhooks)
    npm ci --include=dev --no-audit --no-fund
else
    echo "deps: node_modules up to date"
fi
