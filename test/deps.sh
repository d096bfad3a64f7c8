#!/bin/sh
# Installs the Debian packages a make target needs (when root), or prints
# the one command to run (when not). Usage: test/deps.sh build|test|fuzz|bench
# `test/deps.sh list MODE` prints the packages MODE needs (test_deps reads it).
set -u
mode=${1:-build}
list=0
[ "$mode" = list ] && { list=1; mode=${2:-build}; }

build="build-essential pkg-config libevent-dev libssl-dev libsystemd-dev libsqlite3-dev
libargon2-dev libncurses-dev libcmocka-dev libopus-dev libopusenc-dev libopusfile-dev
libpulse-dev libsrtp2-dev libjansson-dev"
test_extra="clang clang-format libclang-rt-14-dev systemd systemd-container tmux python3 procps iproute2 man-db groff-base
espeak-ng sox opus-tools python3-numpy chromium pulseaudio pulseaudio-utils openssl curl jq"
fuzz_extra="clang libclang-rt-14-dev"
bench_extra="ngircd redis-server redis-tools janus espeak-ng sox opus-tools nginx openssh-server openssh-client curl"

case "$mode" in
build) want="$build" ;;
test) want="$build $test_extra" ;;
fuzz) want="$build $fuzz_extra" ;;
bench) want="$build $bench_extra" ;;
*) echo "usage: $0 [list] build|test|fuzz|bench" >&2; exit 2 ;;
esac
if [ $list = 1 ]; then
	# nodejs and npm are installed only when no npm works (see below).
	[ "$mode" = test ] && want="$want nodejs npm"
	echo $want
	exit 0
fi

# Node.js and npm (for playwright-core) may come from another package than
# Debian's (e.g. a nodejs that bundles npm): take any working npm.
if [ "$mode" = test ] && ! command -v npm >/dev/null 2>&1; then
	want="$want nodejs npm"
fi

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "Missing Debian packages:$missing" >&2
	echo "Install them with:  sudo $cmd" >&2
	exit 1
fi
echo "Installing Debian packages:$missing" >&2
# Services that packages ship (redis, ngircd) must not start on install.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.nexus
[ -e /usr/sbin/policy-rc.d ] || { cp /usr/sbin/policy-rc.d.nexus /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT; }
rm -f /usr/sbin/policy-rc.d.nexus
export DEBIAN_FRONTEND=noninteractive
if ! $cmd >/tmp/nexus-apt.log 2>&1; then
	apt-get -o DPkg::Lock::Timeout=120 update >>/tmp/nexus-apt.log 2>&1
	$cmd >>/tmp/nexus-apt.log 2>&1 || { tail -20 /tmp/nexus-apt.log >&2; echo "package install failed: $cmd" >&2; exit 1; }
fi
