#!/bin/sh
# The systemd units: `systemd-analyze verify` finds nothing to say about them,
# `systemd-analyze security` rates the service 1.5 or lower, and the
# sysusers.d and tmpfiles.d entries apply to an empty root.
. test/lib/common.sh

MAX_EXPOSURE=1.5
command -v systemd-analyze >/dev/null 2>&1 || {
	echo "systemd-analyze is not installed (Debian package systemd)"
	exit 77
}

say "generate nexus-chatd.service from systemd/nexus-chatd.service.in"
mkdir -p "$T/sbin" "$T/units"
# verify insists that ExecStart names an executable file
if [ -x "$BUILD/chatd" ]; then
	cp "$BUILD/chatd" "$T/sbin/chatd"
else
	echo "note: $BUILD/chatd is not built; /bin/true stands in for it"
	cp /bin/true "$T/sbin/chatd"
fi
sed "s|@SBINDIR@|$T/sbin|g" systemd/nexus-chatd.service.in >"$T/units/nexus-chatd.service"
cp systemd/nexus-chatd.socket systemd/nexus.target "$T/units/"
grep -n '@[A-Z_]*@' "$T/units/"* && fail "placeholders left after substitution"
grep -Eq "^ExecStart=$T/sbin/chatd( |$)" "$T/units/nexus-chatd.service" || fail "ExecStart does not use @SBINDIR@/chatd"
ok "units generated in $T/units"

say "systemd-analyze verify --man=no prints nothing"
units="$T/units/nexus-chatd.service $T/units/nexus-chatd.socket $T/units/nexus.target"
# shellcheck disable=SC2086 # word splitting of $units is wanted
systemd-analyze verify --man=no $units >"$T/verify.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ -s "$T/verify.out" ]; then
	cat "$T/verify.out"
	fail "systemd-analyze verify: exit $rc, $(wc -l <"$T/verify.out") line(s) of output"
fi
ok "verify is silent for service, socket and target"

say "systemd-analyze security --offline=true rates the service <= $MAX_EXPOSURE"
systemd-analyze security --offline=true "$T/units/nexus-chatd.service" >"$T/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for nexus-chatd.service: \([0-9.]*\).*/\1/p' "$T/security.out")
if [ -z "$score" ]; then
	cat "$T/security.out"
	fail "no exposure level in the output of systemd-analyze security"
fi
grep '✗' "$T/security.out" | sed 's/  */ /g; s/^/  exposed: /'
awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
	fail "exposure level $score is above $MAX_EXPOSURE"
ok "exposure level $score"

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
