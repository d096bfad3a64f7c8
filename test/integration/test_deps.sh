#!/bin/sh
# A fresh Debian 12 machine gets everything from test/deps.sh: every
# pkg-config module the Makefile uses and every program a test runs must come
# from a package it names (or one those depend on, or a "required" one).
# Also: a missing module stops the build before compiling, naming its package.
. "$(dirname "$0")/../lib/common.sh"

say "test/deps.sh names every package the build and the tests need"
python3 test/lib/deps_check.py Makefile "$(make -s print-pkgs)" "$(sh test/deps.sh list test)" \
	test/integration/*.sh test/lib/*.sh test/run.sh test/run-local.sh >"$T/check.out" 2>&1
rc=$?
cat "$T/check.out"
[ $rc -eq 0 ] || fail "test/deps.sh misses packages (above)"
ok "$(tail -n 1 "$T/check.out")"

say "a missing pkg-config module stops make before it compiles, naming the package"
make -s BUILD="$T/build" PKG_DEBS="jansson:libjansson-dev nexus-nosuch:libnexus-nosuch-dev" all \
	>"$T/make.out" 2>&1 && fail "make succeeded with a missing module"
cat "$T/make.out"
grep -qx "missing pkg-config module nexus-nosuch: apt-get install libnexus-nosuch-dev" "$T/make.out" ||
	fail "no line naming the missing module and its package"
grep -q "jansson" "$T/make.out" && fail "an installed module was reported missing"
[ -d "$T/build/obj" ] && fail "make compiled something before stopping"
ok "make stopped before compiling: $(head -n 1 "$T/make.out")"

say "every daemon is built (none drops out of the build silently)"
for d in chatd filed audiod videod nexus; do
	[ -x "$BUILD/$d" ] || fail "$BUILD/$d was not built"
done
grep -q '^DAEMONS := chatd filed audiod videod$' Makefile || fail "the Makefile does not list the daemons"
ok "chatd filed audiod videod nexus built"
