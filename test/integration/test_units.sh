#!/bin/sh
# The systemd units: `systemd-analyze verify` finds nothing to say about them,
# `systemd-analyze security` rates the service 1.5 or lower, and the
# sysusers.d and tmpfiles.d entries apply to an empty root.
. test/lib/common.sh

MAX_EXPOSURE=1.5
command -v systemd-analyze >/dev/null 2>&1 || {
	echo "FAIL: systemd-analyze is not installed (Debian package systemd; make test installs it)"
	exit 1
}

# Every daemon that has units: chatd, filed, ...
DAEMONS=""
for f in systemd/nexus-*.service.in; do
	d=${f#systemd/nexus-}
	DAEMONS="$DAEMONS ${d%.service.in}"
done
say "generate the services from systemd/nexus-*.service.in:$DAEMONS"
mkdir -p "$T/sbin" "$T/units"
units="$T/units/nexus.target"
cp systemd/nexus.target "$T/units/"
for d in $DAEMONS; do
	# verify insists that ExecStart names an executable file
	[ -x "$BUILD/$d" ] || fail "$BUILD/$d is not built"
	cp "$BUILD/$d" "$T/sbin/$d"
	[ -f "systemd/nexus-$d.socket" ] || fail "systemd/nexus-$d.socket is missing"
	sed "s|@SBINDIR@|$T/sbin|g" "systemd/nexus-$d.service.in" >"$T/units/nexus-$d.service"
	cp "systemd/nexus-$d.socket" "$T/units/"
	grep -Eq "^ExecStart=$T/sbin/$d( |$)" "$T/units/nexus-$d.service" ||
		fail "ExecStart of nexus-$d.service does not use @SBINDIR@/$d"
	grep -q "nexus-$d.service" systemd/nexus.target || fail "nexus.target does not want nexus-$d.service"
	units="$units $T/units/nexus-$d.service $T/units/nexus-$d.socket"
done
grep -n '@[A-Z_]*@' "$T/units/"* && fail "placeholders left after substitution"
ok "units generated in $T/units"

say "systemd-analyze verify --man=no prints nothing"
# shellcheck disable=SC2086 # word splitting of $units is wanted
systemd-analyze verify --man=no $units >"$T/verify.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ -s "$T/verify.out" ]; then
	cat "$T/verify.out"
	fail "systemd-analyze verify: exit $rc, $(wc -l <"$T/verify.out") line(s) of output"
fi
ok "verify is silent for the services, sockets and target"

for d in $DAEMONS; do
	say "systemd-analyze security --offline=true rates nexus-$d.service <= $MAX_EXPOSURE"
	systemd-analyze security --offline=true "$T/units/nexus-$d.service" >"$T/security.out" 2>&1
	score=$(sed -n "s/.*Overall exposure level for nexus-$d.service: \([0-9.]*\).*/\1/p" "$T/security.out")
	if [ -z "$score" ]; then
		cat "$T/security.out"
		fail "no exposure level in the output of systemd-analyze security"
	fi
	grep '✗' "$T/security.out" | sed 's/  */ /g; s/^/  exposed: /'
	awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
		fail "nexus-$d.service: exposure level $score is above $MAX_EXPOSURE"
	ok "nexus-$d.service: exposure level $score"
done

say "sysusers.d and tmpfiles.d entries apply to an empty root"
mkdir -p "$T/root/etc"
if ! systemd-sysusers --root="$T/root" "$ROOT/systemd/nexus.sysusers" >"$T/sysusers.out" 2>&1; then
	cat "$T/sysusers.out"
	fail "systemd-sysusers rejected systemd/nexus.sysusers"
fi
grep -q '^nexus:x:[0-9]*:[0-9]*:Shadow Nexus daemons:/var/lib/nexus:' "$T/root/etc/passwd" ||
	fail "sysusers did not create the nexus user: $(cat "$T/root/etc/passwd")"
if ! systemd-tmpfiles --root="$T/root" --create "$ROOT/systemd/nexus.tmpfiles" >"$T/tmpfiles.out" 2>&1 ||
	[ -s "$T/tmpfiles.out" ]; then
	cat "$T/tmpfiles.out"
	fail "systemd-tmpfiles did not apply systemd/nexus.tmpfiles cleanly"
fi
uid=$(sed -n 's/^nexus:x:\([0-9]*\):.*/\1/p' "$T/root/etc/passwd")
[ "$(stat -c '%a %u' "$T/root/var/lib/nexus")" = "750 $uid" ] ||
	fail "/var/lib/nexus is $(stat -c '%a %u' "$T/root/var/lib/nexus"), want 750 owned by nexus ($uid)"
[ "$(stat -c '%a %u' "$T/root/etc/nexus")" = "755 0" ] ||
	fail "/etc/nexus is $(stat -c '%a %u' "$T/root/etc/nexus"), want 755 owned by root"
ok "nexus user, /var/lib/nexus 0750 nexus, /etc/nexus 0755 root"

echo "all unit checks passed"
exit 0
