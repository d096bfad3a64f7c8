#!/bin/sh
# Builds the libFuzzer targets (clang, ASan, UBSan) and runs each for
# FUZZ_SECONDS (default 60) over a corpus seeded from test/fuzz/seeds_NAME
# (the frame decoder's from test/fuzz/seeds). FUZZ_TARGETS (default: all)
# picks some, e.g. FUZZ_TARGETS="http config". Exits non-zero on a crash;
# the crashing input is left in $BUILD/fuzz/NAME-crash-*, replay it with
# $BUILD/fuzz/fuzz_NAME FILE.
#
#   frame   common/proto.c frames, decoded and re-encoded
#   stun rtp sdp json   videod's UDP and signalling parsers
#   http    videod's HTTP requests through evhttp and http.c's handlers
#   token   login tokens and room passes (common/auth.c)
#   revoke  the token.revoked file (common/revoke.c)
#   config  nexus.conf and -o overrides (common/config.c)
#   client  server frames in the client, any state (client-cli/core.c, tui_net.c)
#   link    nexus:// links and file notices (client-cli)
set -eu
cd "$(dirname "$0")/../.."
out=${BUILD:-build}/fuzz
all="frame stun rtp sdp json http token revoke config client link"
targets=${FUZZ_TARGETS:-$all}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
pkgs="libevent libevent_openssl openssl libsystemd sqlite3 libargon2 opus libopusenc opusfile libsrtp2 jansson"
mkdir -p "$out"

# The project's own objects, instrumented, through the Makefile (its
# dependency files rebuild only what changed).
tree=$out/tree
objs() { # SOURCES...
	for f in "$@"; do echo "$tree/obj/${f%.c}.o"; done
}
vd_objs=$(objs videod/http.c videod/api.c videod/room.c videod/events.c videod/media.c \
	videod/sdp.c videod/stun.c videod/rtp.c videod/dtls.c videod/srtp.c)
cli_objs=$(objs $(ls client-cli/*.c | grep -v '/nexus\.c$'))
need_tree=
for t in $targets; do case $t in http | client | link) need_tree=1 ;; esac; done
if [ -n "$need_tree" ]; then
	# shellcheck disable=SC2086
	make -s -j2 BUILD="$tree" CC=clang SAN=0 \
		CFLAGS="-g -O1 -fsanitize=fuzzer-no-link $san" "$tree/libnexus.a" $vd_objs $cli_objs
	# The client's main file, its main() renamed: libFuzzer has its own.
	clang -g -O1 -fsanitize=fuzzer-no-link $san -std=c11 -D_GNU_SOURCE -iquote common \
		$(pkg-config --cflags ncursesw libpulse-simple) -Dmain=nexus_main \
		-c client-cli/nexus.c -o "$tree/nexus_main.o"
fi

build() { # NAME SOURCES-AND-FLAGS...
	name=$1
	shift
	clang -g -O1 -fsanitize=fuzzer $san -iquote common -iquote videod -D_GNU_SOURCE \
		"test/fuzz/fuzz_$name.c" "$@" -o "$out/fuzz_$name"
}

run() { # NAME MAX_LEN SEEDS [libFuzzer flags...]
	name=$1 maxlen=$2 seeds=$3
	shift 3
	mkdir -p "$out/corpus_$name"
	cp "$seeds"/* "$out/corpus_$name/"
	echo "== fuzz_$name: ${FUZZ_SECONDS:-60} s"
	"$out/fuzz_$name" -max_total_time="${FUZZ_SECONDS:-60}" -max_len="$maxlen" \
		-artifact_prefix="$out/$name-" -print_final_stats=1 "$@" "$out/corpus_$name"
}

vd_src="videod/stun.c videod/rtp.c videod/sdp.c videod/api.c common/proto.c common/utf8.c common/str.c"
for t in $targets; do
	case $t in
	frame)
		build frame common/proto.c common/utf8.c
		run frame 20000 test/fuzz/seeds ;;
	stun | rtp | sdp | json)
		# shellcheck disable=SC2086
		build "$t" $vd_src -lcrypto -ljansson
		run "$t" 65536 "test/fuzz/seeds_$t" ;;
	token)
		build token common/auth.c common/hex.c common/fsutil.c -largon2 -lcrypto
		run token 1024 test/fuzz/seeds_token ;;
	revoke)
		build revoke common/revoke.c common/auth.c common/hex.c common/fsutil.c -largon2 -lcrypto
		run revoke 65536 test/fuzz/seeds_revoke ;;
	config)
		build config common/config.c
		run config 16384 test/fuzz/seeds_config ;;
	http)
		# shellcheck disable=SC2086
		build http -DFUZZ_WWW="\"$(pwd)/videod/www\"" $vd_objs "$tree/libnexus.a" \
			$(pkg-config --libs $pkgs) -lm
		run http 16384 test/fuzz/seeds_http -close_fd_mask=3 ;;
	client | link)
		# shellcheck disable=SC2086
		build "$t" $cli_objs "$tree/nexus_main.o" "$tree/libnexus.a" \
			$(pkg-config --libs $pkgs ncursesw libpulse-simple) -lm
		run "$t" 65536 "test/fuzz/seeds_$t" -close_fd_mask=3 ;;
	*)
		echo "unknown fuzz target $t (targets: $all)" >&2
		exit 2 ;;
	esac
done
