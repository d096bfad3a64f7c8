#!/usr/bin/env python3
"""The client's layers, checked on its object files (nm): no file calls up.

  ground   core trust request cli https settings servers output progress:
           the connection core, pins, the one-request helper, argument
           parsing, the HTTPS client, settings and saved servers, output;
           they call only each other (and common/, libraries)
  commands cmd_*, talk_*, audio_*: the scripting commands; they never call
           the full-screen client (tui*)
  screen   tui*: the full-screen client; it runs commands as children, so it
           calls no cmd_* function either

Usage: layers.py OBJDIR (build/obj/client-cli). Prints each upward call and
exits 1 when there is one."""
import glob
import os
import subprocess
import sys

GROUND = set("core trust request cli https settings servers output progress".split())


def layer(name):
    if name in GROUND:
        return "ground"
    if name.startswith("tui"):
        return "screen"
    if name == "nexus":
        return "main"
    return "commands"


# who may call whom (main may call anything)
ALLOWED = {
    "ground": {"ground"},
    "commands": {"ground", "commands"},
    "screen": {"ground", "screen"},
    "main": {"ground", "commands", "screen", "main"},
}


def nm(path, *flags):
    out = subprocess.run(["nm", *flags, path], capture_output=True, text=True, check=True).stdout
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


def main():
    objdir = sys.argv[1]
    objs = {os.path.basename(p)[:-2]: p for p in glob.glob(os.path.join(objdir, "*.o"))}
    missing = (GROUND | {"nexus"}) - set(objs)
    if missing:
        print("FAIL: no object for", ", ".join(sorted(missing)), "in", objdir)
        return 1
    owner = {}
    for name, path in objs.items():
        for sym in nm(path, "--defined-only", "-g"):
            owner[sym] = name
    bad = 0
    for name, path in sorted(objs.items()):
        for sym in nm(path, "-u"):
            to = owner.get(sym)
            if to and to != name and layer(to) not in ALLOWED[layer(name)]:
                print("upward call: %s.c (%s) -> %s() in %s.c (%s)"
                      % (name, layer(name), sym, to, layer(to)))
                bad += 1
    calls = sum(1 for name, path in objs.items() for sym in nm(path, "-u") if sym in owner)
    print("%d objects, %d calls between them, %d upward" % (len(objs), calls, bad))
    return 1 if bad else 0


sys.exit(main())
