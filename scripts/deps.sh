#!/usr/bin/env bash
# Installs the Debian packages video-api needs, skipping those already
# installed, so it is cheap to run before every build.
set -euo pipefail

packages=(
    # build
    gcc make pkg-config
    nginx nginx-dev libnginx-mod-rtmp
    libpq-dev libhiredis-dev librabbitmq-dev libjansson-dev
    libcurl4-openssl-dev libssl-dev check
    # servers
    postgresql postgresql-client redis-server redis-tools rabbitmq-server
    # media
    ffmpeg
    # tests: prove and Test::Base for t/lib's Test::Nginx, plus the modules
    # upstream Test::Nginx uses, so it works too when installed
    perl libtest-base-perl libtest-longstring-perl libtext-diff-perl
    liblist-moreutils-perl libhttp-message-perl liburi-perl libipc-run-perl
    libwww-perl curl valgrind
    # benchmarks and S3 signature checks
    wrk python3 python3-botocore
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} packages installed"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
