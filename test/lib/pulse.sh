# A private PulseAudio server for tests (sourced after common.sh): no sound
# card, two null sinks instead. `nexus_mic` is the microphone: what is
# played into it comes out of its monitor, the server's default source.
# `nexus_spk` is the speaker, the default sink: record its monitor to hear
# what a client played. The server runs as the current user (root too,
# with --system=no), with its home, runtime folder and socket in DIR, and
# is stopped by its PID. The null sinks run without rewinds: with them, a
# low-latency stream (40 ms, as nexus talk asks) is played at about three
# quarters of real time (measured: 5 s of sound took 6.8 s to play), a
# null-sink artefact that a sound card's clock does not have.
#
#   pulse_start DIR         start, export PULSE_SERVER, wait for pactl info
#   pulse_play FILE         play a WAV into nexus_mic (waits until played)
#   pulse_record_start OUT  record nexus_spk.monitor to OUT (WAV, 48 kHz mono)
#   pulse_record_stop       stop that recording (the WAV is finished)
#   pulse_stop              stop the server
#
# Several servers: call pulse_start again with another DIR; PULSE_SERVER,
# PULSE_PID and PULSE_DIR then name the new one (save the old values to
# switch back; pulse_stop stops the current one).
PULSE_PID=""
PULSE_REC_PID=""

# pulse_need: fail without the server or its tools (make test installs them).
pulse_need() {
	for b in pulseaudio pactl paplay parecord; do
		command -v $b >/dev/null || { echo "FAIL: $b missing (make test installs it)"; exit 1; }
	done
}

pulse_start() {
	PULSE_DIR=$1
	mkdir -p "$PULSE_DIR/home" "$PULSE_DIR/run"
	chmod 700 "$PULSE_DIR/run"
	cat >"$PULSE_DIR/default.pa" <<EOF
load-module module-native-protocol-unix socket=$PULSE_DIR/native auth-anonymous=1
load-module module-null-sink sink_name=nexus_mic rate=48000 channels=1 norewinds=1 sink_properties=device.description=nexus_mic
load-module module-null-sink sink_name=nexus_spk rate=48000 channels=1 norewinds=1 sink_properties=device.description=nexus_spk
set-default-source nexus_mic.monitor
set-default-sink nexus_spk
EOF
	HOME="$PULSE_DIR/home" XDG_RUNTIME_DIR="$PULSE_DIR/run" XDG_CONFIG_HOME="$PULSE_DIR/home" \
		pulseaudio --system=no -n -F "$PULSE_DIR/default.pa" --daemonize=no \
		--exit-idle-time=-1 --use-pid-file=no --disable-shm=yes --log-target=stderr \
		>"$PULSE_DIR/pulse.log" 2>&1 &
	PULSE_PID=$!
	PIDS="$PIDS $PULSE_PID"
	PULSE_SERVER="unix:$PULSE_DIR/native"
	export PULSE_SERVER
	if ! wait_for 20 pactl info; then
		tail -n 20 "$PULSE_DIR/pulse.log"
		fail "the PulseAudio server in $PULSE_DIR did not start"
	fi
	[ "$(pactl get-default-sink)" = nexus_spk ] || fail "pulse: default sink is not nexus_spk"
}

pulse_play() {
	paplay -d nexus_mic "$1" || fail "paplay $1 into nexus_mic"
}

pulse_record_start() {
	parecord -d nexus_spk.monitor --rate=48000 --channels=1 --format=s16le \
		--file-format=wav "$1" 2>"$PULSE_DIR/parecord.err" &
	PULSE_REC_PID=$!
	PIDS="$PIDS $PULSE_REC_PID"
}

pulse_record_stop() {
	[ -n "$PULSE_REC_PID" ] || return 0
	# parecord finishes the WAV header on SIGINT/SIGTERM
	kill -INT "$PULSE_REC_PID" 2>/dev/null
	wait "$PULSE_REC_PID" 2>/dev/null
	nx_forget_pid "$PULSE_REC_PID"
	PULSE_REC_PID=""
}

pulse_stop() {
	pulse_record_stop
	[ -n "$PULSE_PID" ] || return 0
	nx_kill "$PULSE_PID"
	PULSE_PID=""
}
