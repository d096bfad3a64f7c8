#!/bin/sh
# make install: run as an unprivileged user (nobody) into a DESTDIR it owns,
# so a write anywhere else fails; then the installed tree is exactly the
# expected list, nothing outside DESTDIR changed, every man page renders
# without a warning, systemd-analyze verify is silent on the installed
# units, the installed example config (and the same with every key
# uncommented at its documented default) passes each daemon's -n, every key
# of the code is in the example and in nexus.conf(5), and the installed
# videod serves the installed call page by default.
. test/lib/common.sh

NOBODY=65534
DAEMONS="chatd filed audiod videod"
for d in $DAEMONS; do [ -x "$BUILD/$d" ] || fail "$BUILD/$d is not built"; done
chmod 0755 "$T"

# install_as_nobody PREFIX DESTDIR: make install as uid 65534. -o keeps make
# from rebuilding the programs (a source edited since the build would
# otherwise make it compile into build/, which nobody may not write).
install_as_nobody() {
	mkdir -p "$2" && chown "$NOBODY:$NOBODY" "$2"
	keep=""
	for b in $DAEMONS nexus; do keep="$keep -o $BUILD/$b"; done
	# shellcheck disable=SC2086
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
		make --no-print-directory -C "$ROOT" BUILD="$BUILD" $keep install \
		PREFIX="$1" DESTDIR="$2" >"$T/install.out" 2>&1 || {
		cat "$T/install.out"
		fail "make install PREFIX=$1 DESTDIR=$2 failed as an unprivileged user"
	}
}

expected_list() { # PREFIX (without the leading /)
	p=$1
	{
		echo etc/nexus/nexus.conf
		echo etc/nexus/nexus.conf.example
		echo "$p/bin/nexus"
		for d in $DAEMONS; do
			echo "$p/sbin/$d"
			echo "$p/lib/systemd/system/nexus-$d.service"
			echo "$p/lib/systemd/system/nexus-$d.socket"
			echo "$p/share/man/man8/$d.8"
		done
		echo "$p/lib/systemd/system/nexus.target"
		echo "$p/lib/sysusers.d/nexus.conf"
		echo "$p/lib/tmpfiles.d/nexus.conf"
		echo "$p/share/man/man1/nexus.1"
		echo "$p/share/man/man5/nexus.conf.5"
		for f in videod/www/*; do echo "$p/share/nexus/videod/www/${f#videod/www/}"; done
	} | sort
}

say "make install PREFIX=/usr DESTDIR=... as nobody"
etc_before=$(ls -la --time-style=full-iso /etc/nexus 2>&1)
touch "$T/stamp"
sleep 1 # a file written in the same second as the stamp still counts as newer
D=$T/dest
install_as_nobody /usr "$D"
ok "installed into $D"

say "the installed files are exactly the expected ones"
(cd "$D" && find . ! -type d | sed 's|^\./||' | sort) >"$T/got.list"
expected_list usr >"$T/want.list"
if ! diff -u "$T/want.list" "$T/got.list"; then
	fail "installed files differ from the expected list (- missing, + unexpected)"
fi
ok "$(wc -l <"$T/got.list") files: $(tr '\n' ' ' <"$T/got.list")"
for f in $(cat "$T/got.list"); do
	case $f in
	*/bin/* | */sbin/*) want=755 ;;
	*) want=644 ;;
	esac
	[ "$(stat -c %a "$D/$f")" = $want ] || fail "$f has mode $(stat -c %a "$D/$f"), not $want"
done
ok "programs are 0755, everything else 0644"

say "nothing outside DESTDIR changed"
# nobody could write only in world-writable folders; look for anything it
# owns that is newer than the stamp, anywhere but in our folder.
find / /tmp /var/tmp /dev/shm /run -xdev -user $NOBODY -newer "$T/stamp" \
	! -path "$T" ! -path "$T/*" 2>/dev/null | sort -u >"$T/outside"
[ -s "$T/outside" ] && fail "files written outside DESTDIR: $(head -n 20 "$T/outside")"
[ "$(ls -la --time-style=full-iso /etc/nexus 2>&1)" = "$etc_before" ] || fail "/etc/nexus changed"
ok "no file owned by nobody newer than the install outside $T; /etc/nexus as before"

say "installed units: nexus.target wants the four sockets and services"
U=$D/usr/lib/systemd/system
for d in $DAEMONS; do
	for u in "nexus-$d.socket" "nexus-$d.service"; do
		grep -q "^Wants=.*\<$u\>" "$U/nexus.target" || fail "nexus.target does not want $u"
	done
	grep -q "^ExecStart=/usr/sbin/$d\( \|$\)" "$U/nexus-$d.service" ||
		fail "nexus-$d.service does not run /usr/sbin/$d: $(grep ExecStart "$U/nexus-$d.service")"
done
grep -n '@[A-Z_]*@' "$U"/* && fail "placeholders left in the installed units"
ok "Wants= lists all eight; ExecStart= is /usr/sbin/NAME"

say "systemd-analyze verify --man=no prints nothing for the installed units"
# verify wants ExecStart= to exist: in a private mount namespace, the
# installed sbin stands in for /usr/sbin.
unshare -m sh -c 'mount --bind "$1/usr/sbin" /usr/sbin && cd "$2" &&
	systemd-analyze verify --man=no nexus.target nexus-*.socket nexus-*.service' \
	sh "$D" "$U" >"$T/verify.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ -s "$T/verify.out" ]; then
	cat "$T/verify.out"
	fail "systemd-analyze verify: exit $rc"
fi
ok "verify is silent"

say "sysusers.d and tmpfiles.d entries apply to an empty root"
mkdir -p "$T/root/etc"
systemd-sysusers --root="$T/root" "$D/usr/lib/sysusers.d/nexus.conf" >"$T/sys.out" 2>&1 ||
	fail "systemd-sysusers: $(cat "$T/sys.out")"
systemd-tmpfiles --root="$T/root" --create "$D/usr/lib/tmpfiles.d/nexus.conf" >"$T/tmp.out" 2>&1 ||
	fail "systemd-tmpfiles: $(cat "$T/tmp.out")"
[ -d "$T/root/var/lib/nexus" ] && [ -d "$T/root/etc/nexus" ] ||
	fail "tmpfiles did not make /var/lib/nexus and /etc/nexus"
ok "user nexus and /var/lib/nexus ($(stat -c %a "$T/root/var/lib/nexus")) made"

say "every installed man page renders without warnings"
for m in "$D"/usr/share/man/man*/*; do
	groff -ww -man -Tutf8 "$m" >/dev/null 2>"$T/groff.err"
	[ -s "$T/groff.err" ] && fail "groff -ww $m: $(cat "$T/groff.err")"
	MANWIDTH=80 man --warnings -l "$m" >/dev/null 2>"$T/man.err"
	[ -s "$T/man.err" ] && fail "man --warnings -l $m: $(cat "$T/man.err")"
done
ok "$(ls "$D"/usr/share/man/man*/* | wc -l) pages render silently with groff -ww and man --warnings"

say "the example config documents every key of every daemon"
EX=$D/etc/nexus/nexus.conf
cmp -s "$EX" "$D/etc/nexus/nexus.conf.example" || fail "nexus.conf differs from nexus.conf.example"
# section.key of every key in the example (all commented out)
awk '/^\[/ { s = substr($0, 2, length($0) - 2) }
	/^#[a-z_]+ =/ { sub(/^#/, ""); print s "." $1 }' "$EX" | sort >"$T/ex.keys"
grep -Ev '^[[:space:]]*(#|;|$|\[)' "$EX" && fail "the example sets something (every key must be commented out)"
# keys of the code: [common] from config.h, the others from each key table
{
	sed -n 's/.*{"common", "\([a-z_]*\)".*/common.\1/p' common/config.h
	for d in $DAEMONS; do
		cat "$d"/*.c | sed -n "s/.*KEY(\"\([a-z_]*\)\".*/$d.\1/p; s/.*{\"$d\", \"\([a-z_]*\)\".*/$d.\1/p"
	done
} | sort -u >"$T/code.keys"
[ "$(wc -l <"$T/code.keys")" -gt 40 ] || fail "found only $(wc -l <"$T/code.keys") keys in the code"
diff -u "$T/code.keys" "$T/ex.keys" || fail "keys of the code (-) and of the example (+) differ"
ok "$(wc -l <"$T/ex.keys") keys, the same as the code's"
while read -r sk; do
	s=${sk%%.*} k=${sk#*.}
	sed -n "/^\.SH \[$s\]/,/^\.SH [^[]/p" common/nexus.conf.5 | grep -Eq "^\.BR? .*\<$k\>" ||
		fail "nexus.conf(5) does not describe $k in [$s]"
done <"$T/code.keys"
ok "nexus.conf(5) describes each of them in its section"
grep -q "^#www = /usr/share/nexus/videod/www$" "$EX" || fail "the example's www is not the installed folder"

say "each installed daemon accepts the example, and all keys uncommented"
sed -E 's/^#([a-z_]+ =)/\1/' "$EX" >"$T/all.conf"
[ "$(grep -Ec '^[a-z_]+ =' "$T/all.conf")" = "$(wc -l <"$T/ex.keys")" ] ||
	fail "could not uncomment every key"
for d in $DAEMONS; do
	for c in "$EX" "$T/all.conf"; do
		"$D/usr/sbin/$d" -n -f "$c" >"$T/n.out" 2>&1 || fail "$d -n -f $c: $(cat "$T/n.out")"
	done
done
ok "$DAEMONS: -n accepts both"

say "the installed videod serves the installed call page by default"
mkdir -p "$T/vstate"
# videod reads the page at start-up: mark the installed copy first.
echo "<!-- installed page -->" >>"$D/usr/share/nexus/videod/www/index.html"
vport=$(nx_free_port)
(cd / && exec "$D/usr/sbin/videod" -d -f /dev/null -s "$T/vstate" -p "$vport" -m "$vport" \
	-o common.bind=127.0.0.1) >"$T/videod.log" 2>&1 &
vpid=$!
PIDS="$PIDS $vpid"
wait_for 30 grep -q "listening on" "$T/videod.log" || {
	cat "$T/videod.log"
	fail "installed videod did not start"
}
python3 -c 'import ssl, sys, urllib.request
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=c, timeout=20).read().decode())' \
	"https://127.0.0.1:$vport/" >"$T/page.html" || fail "no page from videod"
grep -q "installed page" "$T/page.html" || fail "videod served another page than $D/usr/share/nexus/videod/www"
ok "videod (started from /) served $D/usr/share/nexus/videod/www/index.html"

say "PREFIX=/usr/local: the same files under usr/local, config still in /etc"
install_as_nobody /usr/local "$T/dest2"
(cd "$T/dest2" && find . ! -type d | sed 's|^\./||' | sort) >"$T/got2.list"
expected_list usr/local >"$T/want2.list"
diff -u "$T/want2.list" "$T/got2.list" || fail "PREFIX=/usr/local: unexpected layout"
grep -q "^ExecStart=/usr/local/sbin/chatd$" "$T/dest2/usr/local/lib/systemd/system/nexus-chatd.service" ||
	fail "PREFIX=/usr/local: ExecStart is not /usr/local/sbin/chatd"
ok "$(wc -l <"$T/got2.list") files; systemd reads /usr/local/lib/systemd/system too:"
systemd-analyze unit-paths | grep -x /usr/local/lib/systemd/system || fail "systemd does not read /usr/local/lib/systemd/system"

say "a second install keeps an edited nexus.conf"
echo "# edited" >>"$T/dest2/etc/nexus/nexus.conf"
install_as_nobody /usr/local "$T/dest2"
grep -q "^# edited" "$T/dest2/etc/nexus/nexus.conf" || fail "make install overwrote nexus.conf"
ok "nexus.conf kept; nexus.conf.example refreshed"
find / /tmp /var/tmp /dev/shm /run -xdev -user $NOBODY -newer "$T/stamp" \
	! -path "$T" ! -path "$T/*" 2>/dev/null | sort -u >"$T/outside"
[ -s "$T/outside" ] && fail "files written outside DESTDIR: $(head -n 20 "$T/outside")"
ok "still nothing outside DESTDIR"
echo "PASS"
