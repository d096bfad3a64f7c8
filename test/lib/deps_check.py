"""Checks that test/deps.sh installs everything the build and the tests use.

Usage: deps_check.py MAKEFILE "MODULE:PACKAGE ..." "DEPS-PACKAGES" SCRIPT...

- every pkg-config module the Makefile names is in its PKG_DEBS table;
- each module's .pc file belongs (dpkg -S) to the package the table names,
  and test/deps.sh installs that package;
- every program a test script runs (a word in command position that is on
  PATH) comes from a package test/deps.sh installs, from one those depend on,
  or from a package of priority "required" (on every Debian system).
Prints one line per problem; exit 1 when there is one.
"""
import os
import re
import subprocess
import sys


def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def path_variants(path):
    """PATH as dpkg may know it: resolved, and with or without /usr (merged /usr)."""
    out = []
    for p in (path, os.path.realpath(path)):
        out += [p, p[4:] if p.startswith("/usr/") else "/usr" + p]
    return out


def owners(paths):
    """{path: package} for every path dpkg knows, asked in one dpkg -S call
    (one call per path takes a minute)."""
    wanted = sorted({v for p in paths for v in path_variants(p)})
    r = subprocess.run(["dpkg", "-S", *wanted], capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion by") or ": " not in line:
            continue
        pkgs, path = line.split(": ", 1)
        found[path.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    return {p: next((found[v] for v in path_variants(p) if v in found), "") for p in paths}


def makefile_modules(makefile):
    text = open(makefile).read()
    pkgs = re.search(r"^PKGS\s*=\s*(.*)$", text, re.M).group(1).split()
    mods = set()
    text = text.replace("$(PKGS)", "@PKGS@")
    for m in re.finditer(r"pkg-config\s+--(?:cflags|libs)\s+([^)\n]*?)\s*(?:2>|\))", text):
        for w in m.group(1).split():
            mods.update(pkgs if w == "@PKGS@" else [w])
    return mods


# A word in command position: at the start of a line or after | ; & ( $(
# ` then do else exec, or after `timeout N`, setsid, nice, `--`.
CMD = re.compile(
    r"(?:^|[|;&(`]|\$\(|\bthen\b|\bdo\b|\belse\b|\bexec\b|"
    r"\btimeout(?:\s+-k\s+\S+)?\s+\S+|\bsetsid\b|\bnice\b|--)\s*"
    r"([A-Za-z][A-Za-z0-9_.+-]*)(?=\s|$|[;|&)`])")


def which(prog):
    """Debian's own copy (a tool manager's folder on PATH is not Debian's
    and may hold words that are only prose here, like `idle`)."""
    for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        if os.access(os.path.join(d, prog), os.X_OK):
            return os.path.join(d, prog)
    return None


def script_programs(paths):
    """Programs run by shell scripts, skipping here-documents, comments,
    quoted text and the scripts' own functions."""
    found, funcs, wrappers = {}, set(), set()
    for f in paths:
        text = open(f, errors="replace").read()
        funcs.update(re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)", text, re.M))
        # a wrapper runs its arguments as a command ("$@" in its body)
        for m in re.finditer(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(\)\s*\{(.*?)^\}", text, re.M | re.S):
            if '"$@"' in m.group(2):
                wrappers.add(m.group(1))
        for m in re.finditer(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)\s*\{([^\n]*)\}\s*$", text, re.M):
            if '"$@"' in m.group(2):
                wrappers.add(m.group(1))
    for f in paths:
        heredoc_end, in_quote = None, False
        for n, line in enumerate(open(f, errors="replace"), 1):
            if heredoc_end is not None:
                if line.strip() == heredoc_end:
                    heredoc_end = None
                continue
            if in_quote:
                in_quote = line.count("'") % 2 == 0
                continue
            if line.lstrip().startswith("#"):
                continue
            h = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
            text = re.sub(r"'[^']*'", "", line)
            text = re.sub(r'"[^"$]*"', "", text)
            if "'" in text:
                in_quote, text = True, text.split("'")[0]
            text = text.split(" #", 1)[0]
            words = [m.group(1) for m in CMD.finditer(text)]
            # a wrapper function's first argument: `in_ns curl ...`
            words += re.findall(r"\b(?:%s)\s+([A-Za-z][A-Za-z0-9_.+-]*)(?=\s|$)" %
                                "|".join(sorted(wrappers)), text) if wrappers else []
            for w in words:
                if w not in funcs and which(w):
                    found.setdefault(w, "%s:%d" % (f, n))
            if h:
                heredoc_end = h.group(1)
    return found


def main():
    makefile, table, named = sys.argv[1], sys.argv[2].split(), set(sys.argv[3].split())
    scripts = sys.argv[4:]
    problems = []
    mapping = dict(e.split(":", 1) for e in table)
    for m in sorted(makefile_modules(makefile) - set(mapping)):
        problems.append("Makefile uses pkg-config module %s but PKG_DEBS does not name its package" % m)
    pcfiles = {}
    for mod, pkg in sorted(mapping.items()):
        if pkg not in named:
            problems.append("pkg-config module %s comes from %s, which test/deps.sh does not install" % (mod, pkg))
        pcdir = sh("pkg-config", "--variable=pcfiledir", mod)
        if pcdir:
            pcfiles[mod] = os.path.join(pcdir, mod + ".pc")
        else:
            problems.append("pkg-config module %s is not installed here (apt-get install %s)" % (mod, pkg))
    programs = script_programs(scripts)
    pkg_of = owners(list(pcfiles.values()) + [which(p) for p in programs])
    for mod, pc in sorted(pcfiles.items()):
        if pkg_of[pc] != mapping[mod]:
            problems.append("%s.pc belongs to %s, but the Makefile's PKG_DEBS says %s" % (mod, pkg_of[pc] or "no package", mapping[mod]))
    closure = set(named)
    deps = sh("apt-cache", "depends", "--recurse", "--installed", "--no-recommends",
              "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
              "--no-enhances", *sorted(named))
    closure.update(l.split(":")[0] for l in deps.splitlines() if l and not l.startswith(" "))
    for prog, where in sorted(programs.items()):
        pkg = pkg_of[which(prog)]
        if not pkg:
            problems.append("%s (run at %s) belongs to no Debian package" % (prog, where))
        elif pkg not in closure and sh("dpkg-query", "-W", "-f=${Priority}", pkg) != "required":
            problems.append("%s (run at %s) comes from %s, which test/deps.sh does not install" % (prog, where, pkg))
    for p in problems:
        print(p)
    print("checked %d pkg-config modules and %d programs" % (len(mapping), len(programs)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
