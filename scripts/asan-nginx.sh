#!/usr/bin/env bash
# Builds nginx from Debian's source package with AddressSanitizer and
# UndefinedBehaviorSanitizer, for `make test`'s sanitizer pass.
#
#   scripts/asan-nginx.sh          build unless cached; print the directory
#   scripts/asan-nginx.sh --key    print the cache key only (for a CI cache)
#
# Preloading libasan into the packaged nginx cannot see an overflow past an
# object inside a pool block, the usual module bug: nginx carves pool
# objects out of larger malloc'ed blocks.  Built with NGX_DEBUG_PALLOC, each
# pool allocation is its own malloc, so ASan puts a red zone after every
# one.  Everything else is Debian's (but for two lines changed for
# LeakSanitizer, below): the source package of the installed nginx with
# its patches, and the configure arguments of the installed binary, so the
# module signature is the same and both our module and Debian's prebuilt
# nginx-rtmp load into it.
#
# The compiler is clang ($VIDEO_API_ASAN_CC names another clang): with
# gcc 12's runtime UBSan ignores log_path and reports on stderr, which
# nginx points at its error log; clang's writes every report (ASan, UBSan,
# LeakSanitizer) to the log_path files make test reads.  UBSan skips the
# functions ubsan.ignore lists (nginx's own harmless cases).
#
# The result is cached in $VIDEO_API_ASAN_CACHE (default build/asan-cache)
# under a key made of the nginx package version, the configure arguments,
# the compiler, ubsan.ignore and this script, so a second `make test` does
# not rebuild.
# The directory holds:
#
#   nginx            the sanitized binary
#   src/             the patched source tree, configured (objs/ without
#                    the object files), for building modules against
#   configure-args   the configure arguments, one per line (compiler and
#                    sanitizer flags included)
#   ubsan.ignore     the copy of ubsan.ignore the build used
#   source-version   the Debian source version actually built
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'asan-nginx: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'asan-nginx: %s\n' "$*" >&2; }

NGINX=${NGINX:-/usr/sbin/nginx}
CC=${VIDEO_API_ASAN_CC:-clang}
CACHE=${VIDEO_API_ASAN_CACHE:-build/asan-cache}
case $CACHE in /*) ;; *) CACHE=$PWD/$CACHE ;; esac

# NGX_DEBUG_PALLOC only changes ngx_palloc.c's behaviour, not a structure,
# so the binary interface stays that of the packaged nginx.  _FORTIFY_SOURCE
# is dropped: its checked copies (__memcpy_chk) bypass ASan's interceptors.
SAN_CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined"
SAN_CFLAGS+=" -U_FORTIFY_SOURCE -DNGX_DEBUG_PALLOC=1"
SAN_LDFLAGS="-fsanitize=address,undefined"

[ -x "$NGINX" ] || die "$NGINX not found: run 'make deps'"

for cmd in apt-get apt-cache dpkg-source make; do
    command -v "$cmd" >/dev/null || die "$cmd not found"
done

# Debian's build dependencies of the nginx binary (nginx-dev pulls in
# most of them, dpkg-dev unpacks the source package), and clang with what
# it only recommends: its sanitizer runtimes and llvm-symbolizer (reports
# name functions, and suppressions match them, only with it)
install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    note "installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"
}
install_missing dpkg-dev libpcre2-dev libssl-dev zlib1g-dev libcrypt-dev
if [ "$CC" = clang ]; then
    install_missing clang
    major=$(clang -dumpversion | cut -d. -f1)
    install_missing "libclang-rt-$major-dev" "llvm-$major"
fi
command -v "$CC" >/dev/null || die "$CC not found"

pkg_version=$(dpkg-query -W -f='${Version}' nginx 2>/dev/null) \
    || die "the nginx package is not installed: run 'make deps'"
upstream_version=${pkg_version%%-*}
upstream_version=${upstream_version#*:}

# The installed binary's configure arguments, without its compiler and
# linker options (ours replace them) and without the =dynamic modules:
# those are separate packages that need libraries (GeoIP, GD, XSLT, Perl)
# the tests do not load.
nginx_v=$("$NGINX" -V 2>&1)
args_line=$(sed -n 's/^configure arguments: //p' <<<"$nginx_v")
[ -n "$args_line" ] || die "cannot read the configure arguments of $NGINX"
deb_cc_opt=$(sed -nE "s/.*--with-cc-opt='([^']*)'.*/\1/p" <<<"$args_line")
deb_ld_opt=$(sed -nE "s/.*--with-ld-opt='([^']*)'.*/\1/p" <<<"$args_line")
args_line=$(sed -E "s/--with-(cc|ld)-opt='[^']*'//g" <<<"$args_line")
configure_args=()
for a in $args_line; do
    case $a in
        *=dynamic) ;;
        --with-*|--without-*|--prefix=*|--*-path=*) configure_args+=("$a") ;;
        *) die "unexpected configure argument of $NGINX: $a" ;;
    esac
done
# Debian's hardening flags stay; the path map points into Debian's build
# tree and means nothing here
cc_opt=$(sed -E 's/-ffile-prefix-map=[^ ]*//' <<<"$deb_cc_opt")
configure_args+=("--with-cc=$CC" "--with-cc-opt=$cc_opt $SAN_CFLAGS"
                 "--with-ld-opt=$deb_ld_opt $SAN_LDFLAGS")

[ -f ubsan.ignore ] || die "ubsan.ignore not found"
key=$( { echo "$pkg_version"; printf '%s\n' "${configure_args[@]}";
         "$CC" --version | head -n 1; cat "$0" ubsan.ignore; } \
       | sha256sum | cut -c1-12)
dir=$CACHE/nginx-$upstream_version-$key

if [ "${1:-}" = --key ]; then
    echo "$key"
    exit 0
fi

if [ -f "$dir/.done" ]; then
    echo "$dir"
    exit 0
fi

# ---------------------------------------------------------------- build --

# one build at a time per cache (two test runs may start together); the
# build happens in place, so the paths in its debug information (and in
# the reports) are the cached ones; .done marks a finished build
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$dir/.done" ]; then
    echo "$dir"
    exit 0
fi

started=$(date +%s)
note "building a sanitized nginx $pkg_version in $dir (once; cached)"

work=$dir
trap '[ -f "$work/.done" ] || rm -rf "$work"' EXIT
rm -rf "$work"
mkdir -p "$work/apt/lists/partial" "$work/dl"

# apt with a sources list of its own (deb-src lines for this release), so
# the system's apt configuration is neither needed nor touched
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || die "cannot tell the Debian release from /etc/os-release"
mirror=${VIDEO_API_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${VIDEO_API_DEBIAN_SECURITY_MIRROR:-$mirror-security}
cat > "$work/apt/sources.list" <<EOF
deb-src $mirror $codename main
deb-src $mirror $codename-updates main
deb-src $security $codename-security main
EOF
apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list"
          -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$work/apt/lists"
          -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
          -o "APT::Sandbox::User=$(id -un)")
apt-get "${apt_opts[@]}" -qq update >"$work/apt.log" 2>&1 \
    || { cat "$work/apt.log" >&2; die "apt-get update (deb-src) failed"; }

# The installed version's source; when the mirror no longer has it (a
# security update replaced it), the newest other Debian revision of the
# same upstream version: same ABI, same code but for later fixes.
versions=("$pkg_version")
while read -r v; do
    [ "$v" != "$pkg_version" ] && [ "${v%%-*}" = "${pkg_version%%-*}" ] \
        && versions+=("$v")
done < <(apt-cache "${apt_opts[@]}" showsrc nginx 2>/dev/null \
         | sed -n 's/^Version: //p' | sort -Vr -u)
src_version=
for v in "${versions[@]}"; do
    if (cd "$work/dl" && apt-get "${apt_opts[@]}" -qq source \
            --download-only "nginx=$v" >>"$work/apt.log" 2>&1); then
        src_version=$v
        break
    fi
    rm -f "$work"/dl/*
done
if [ -z "$src_version" ]; then
    cat "$work/apt.log" >&2
    die "no Debian source package of nginx $upstream_version was found"
fi
[ "$src_version" = "$pkg_version" ] || note "the source of $pkg_version is" \
    "not on the mirror; building $src_version (same upstream version and ABI)"

dpkg-source -x "$work"/dl/nginx_*.dsc "$work/src" >"$work/unpack.log" 2>&1 \
    || { cat "$work/unpack.log" >&2; die "dpkg-source -x failed"; }
rm -rf "$work/src/debian" "$work"/nginx_*.orig.tar.*

# Modules stay mapped until the process ends: nginx unloads them when it
# destroys the cycle, before LeakSanitizer's exit-time report, which could
# then not name their functions (nor suppress by them).  Only exit differs:
# on a reload the new cycle opens a module before the old one closes it.
h=$work/src/src/os/unix/ngx_dlopen.h
from='^#define ngx_dlclose(handle) *dlclose(handle)$'
to='#define ngx_dlclose(handle)        ((void) (handle), 0)'
grep -q "$from" "$h" || die "unexpected ngx_dlclose in $h"
sed -i "s/$from/$to/" "$h"

# main()'s init_cycle, whose pool holds the command line's paths, and
# cycle are local variables: when nginx exits on a configuration error,
# or after "nginx -t" (which returns before ngx_cycle points at the new
# cycle), main has returned and nothing points at those pools, so every
# failed start (the suites' must_die tests) and every configuration test
# would count as a leak.  Static, they stay reachable, as they are for a
# start that succeeds.
c=$work/src/src/core/nginx.c
from='^    ngx_cycle_t      \*cycle, init_cycle;$'
to='    static ngx_cycle_t  *cycle, init_cycle;'
grep -q "$from" "$c" || die "unexpected declaration of init_cycle in $c"
sed -i "s/$from/$to/" "$c"

# the ignore list is read from the build's own copy, so the arguments (and
# the key) do not depend on where the checkout is
cp ubsan.ignore "$work/ubsan.ignore"
ignore=-fsanitize-ignorelist=$work/ubsan.ignore
for i in "${!configure_args[@]}"; do
    case ${configure_args[$i]} in
        --with-cc-opt=*) configure_args[$i]+=" $ignore" ;;
    esac
done

(cd "$work/src" && ./configure "${configure_args[@]}") \
    >"$work/configure.log" 2>&1 \
    || { tail -n 30 "$work/configure.log" >&2; die "configure failed"; }
make -C "$work/src" -f objs/Makefile -j"$(nproc)" >"$work/build.log" 2>&1 \
    || { grep -B5 -A5 -m5 -E 'error|Error' "$work/build.log" >&2;
         die "the build failed"; }

# the module signature must be the packaged binary's, or no module loads
sig() { grep -aoE '[0-9]+,[0-9]+,[0-9]+,[01]{30,}' "$1" | head -n 1; }
[ "$(sig "$work/src/objs/nginx")" = "$(sig "$NGINX")" ] \
    || die "module signature differs from $NGINX's"

cp "$work/src/objs/nginx" "$work/nginx"
# modules are built in a copy of the tree: the object files are not needed
find "$work/src/objs" -name '*.o' -delete
rm -f "$work/src/objs/nginx"
printf '%s\n' "${configure_args[@]}" > "$work/configure-args"
echo "$src_version" > "$work/source-version"
rm -rf "$work/dl" "$work/apt"
touch "$work/.done"
note "built in $(( $(date +%s) - started ))s"
echo "$dir"
