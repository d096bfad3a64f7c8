# Helpers for the audio tests (sourced after common.sh): audiod, speech
# made with espeak-ng, `nexus talk` in the background, similarity scores.

AUDIO_PORT=${AUDIO_PORT:-$(nx_free_port)}
export NEXUS_AUDIO_PORT=$AUDIO_PORT

# numpy lives in Debian's python3 (python3-numpy), which may not be first
# on PATH.
AUDIO_PY=python3
$AUDIO_PY -c 'import numpy' 2>/dev/null || AUDIO_PY=/usr/bin/python3

nx_need_audio() {
	nx_need_bins
	[ -x "$BUILD/audiod" ] || { echo "FAIL: $BUILD/audiod not built"; exit 1; }
	for b in espeak-ng sox; do
		command -v $b >/dev/null || { echo "FAIL: $b missing (make test installs it)"; exit 1; }
	done
	$AUDIO_PY -c 'import numpy' 2>/dev/null || { echo "FAIL: python3-numpy missing"; exit 1; }
}

# nx_start_audiod [args]: audiod on $AUDIO_PORT sharing chatd's state (the
# token key and the certificate). Sets AUDIOD_PID.
nx_start_audiod() {
	touch "$T/audiod.log"
	a_seen=$(grep -c "listening on" "$T/audiod.log")
	"$BUILD/audiod" -d -s "$T/state" -p "$AUDIO_PORT" -o common.bind=127.0.0.1 "$@" \
		>>"$T/audiod.log" 2>&1 &
	AUDIOD_PID=$!
	PIDS="$PIDS $AUDIOD_PID"
	a_end=$(($(date +%s) + 20))
	while [ "$(grep -c "listening on" "$T/audiod.log")" -le "$a_seen" ]; do
		if ! kill -0 "$AUDIOD_PID" 2>/dev/null || [ "$(date +%s)" -ge "$a_end" ]; then
			tail -n 30 "$T/audiod.log"
			fail "audiod did not start"
		fi
		sleep 0.1
	done
}

audiod_alive() {
	kill -0 "$AUDIOD_PID" 2>/dev/null || { tail -n 30 "$T/audiod.log"; fail "audiod died: $1"; }
}

# nx_speech NAME TEXT [VOICE]: $T/NAME.wav, 48 kHz mono 16-bit speech.
nx_speech() {
	espeak-ng -v "${3:-en}" --stdout "$2" 2>/dev/null |
		sox -t wav - -r 48000 -c 1 -b 16 "$T/$1.wav" || fail "cannot make speech $1"
}

# nx_talk NAME USER ROOM ARGS...: `nexus talk` in the background with
# --json events into $T/NAME.json (stderr $T/NAME.err). Sets TALK_PID.
nx_talk() {
	k_name=$1 k_user=$2 k_room=$3
	shift 3
	NX_EXEC=1 nexus_as "$k_user" talk "$k_room" --json "$@" >"$T/$k_name.json" \
		2>"$T/$k_name.err" &
	TALK_PID=$!
	PIDS="$PIDS $TALK_PID"
}

# nx_talk_joined NAME: wait until that talk joined its room.
nx_talk_joined() {
	nx_wait_grep 15 "$T/$1.json" '"event":"joined"' "$1 joined the voice room"
}

# nx_talk_wait PID NAME: wait for a talk to end by itself; it must exit 0.
nx_talk_wait() {
	wait "$1"
	w_rc=$?
	nx_forget_pid "$1"
	[ $w_rc -eq 0 ] || { cat "$T/$2.json" "$T/$2.err"; fail "talk $2 exited $w_rc"; }
}

# nx_sim [--tail S] [--chunks] REF REC: prints "SCORE LAG_MS"; with
# --chunk-report instead a line per half second of REF (test/lib/audio_sim.py).
nx_sim() {
	$AUDIO_PY "$ROOT/test/lib/audio_sim.py" "$@"
}

# nx_expect_sim DESC MIN|max:MAX REF REC [--tail S]: the score must be >= MIN
# or <= MAX. MIN is checked with each half second of REF aligned on its own
# (--chunks): a busy machine makes jitter buffers stretch or shed a frame,
# which shifts the rest of a recording by 20 ms and would spoil one global
# alignment though every word is there. MAX (this voice must be absent) is
# checked with one global alignment, the stricter test for absence.
nx_expect_sim() {
	x_desc=$1 x_lim=$2 x_ref=$3 x_rec=$4
	shift 4
	case "$x_lim" in
	max:*)
		x_out=$(nx_sim "$@" "$x_ref" "$x_rec") || fail "$x_desc: similarity helper failed"
		x_score=${x_out% *}
		awk "BEGIN { exit !($x_score <= ${x_lim#max:}) }" ||
			fail "$x_desc: similarity $x_score above ${x_lim#max:}"
		ok "$x_desc: similarity $x_score (<= ${x_lim#max:}), lag ${x_out#* } ms"
		;;
	*)
		# Sanitizer builds run two to three times slower: real-time audio
		# on a shared machine suffers; they are here for memory errors.
		[ "${SAN:-0}" = 1 ] && x_lim=$(awk "BEGIN { print $x_lim * 0.8 }")
		x_out=$(nx_sim "$@" --chunks "$x_ref" "$x_rec") || fail "$x_desc: similarity helper failed"
		x_score=${x_out% *}
		x_glob=$(nx_sim "$@" "$x_ref" "$x_rec")
		if ! awk "BEGIN { exit !($x_score >= $x_lim) }"; then
			# where the audio went missing: each half second of REF,
			# where it was found in REC and by how much that moved
			echo "$x_desc: each half second of $(basename "$x_ref") in $(basename "$x_rec"):"
			nx_sim "$@" --chunk-report "$x_ref" "$x_rec" | sed 's/^/    /'
			fail "$x_desc: similarity $x_score below $x_lim (one alignment: ${x_glob% *})"
		fi
		ok "$x_desc: similarity $x_score (>= $x_lim; one alignment: ${x_glob% *}, lag ${x_glob#* } ms)"
		;;
	esac
}

# audioraw SCENARIO USER ROOM ARGS...: test/lib/audioraw.py as USER (its
# cached login).
audioraw() {
	r_sc=$1 r_user=$2 r_room=$3
	shift 3
	python3 "$ROOT/test/lib/audioraw.py" "$CHAT_PORT" "$AUDIO_PORT" "$r_sc" "$r_user" \
		"$T/cfg/$r_user/tokens/127.0.0.1_$CHAT_PORT" "$r_room" "$@"
}

# talk_stat NAME KEY: a number from the stats event of a finished talk.
talk_stat() {
	sed -n 's/.*"event":"stats".*"'"$2"'":\([0-9]*\).*/\1/p' "$T/$1.json" | tail -n 1
}
