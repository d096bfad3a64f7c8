#!/usr/bin/env python3
"""Queries over a file of JSON lines (nexus --json output).

  jsonl.py FILE valid            every non-empty line parses as a JSON object
  jsonl.py FILE count EXPR       number of lines for which EXPR is true
  jsonl.py FILE get EXPR KEY     KEY of every matching line, one per line
  jsonl.py FILE show EXPR        matching lines, as they are

EXPR is a Python expression over j (the line's object), e.g.
'j["user"] == "alice" and j["text"] == "hi"'. Exit 2 (with the line) when a
line is not a JSON object; exit 1 for `count` when nothing matched.
"""
import json
import sys


def lines(path):
    out = []
    with open(path, encoding="utf-8", errors="strict") as f:
        for no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                j = json.loads(line)
            except ValueError as e:
                sys.stderr.write("%s:%d: not JSON (%s): %r\n" % (path, no, e, line))
                sys.exit(2)
            if not isinstance(j, dict):
                sys.stderr.write("%s:%d: not a JSON object: %r\n" % (path, no, line))
                sys.exit(2)
            out.append((j, line.rstrip("\n")))
    return out


def main(a):
    if len(a) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    path, op = a[1], a[2]
    rows = lines(path)
    if op == "valid":
        print(len(rows))
        return
    expr = compile(a[3], "EXPR", "eval")

    def match(j):
        try:
            return eval(expr, {}, {"j": j})
        except (KeyError, TypeError, IndexError):
            return False

    hits = [(j, l) for j, l in rows if match(j)]
    if op == "count":
        print(len(hits))
        sys.exit(0 if hits else 1)
    elif op == "get":
        for j, _ in hits:
            v = j.get(a[4])
            print(json.dumps(v) if not isinstance(v, str) else v)
    elif op == "show":
        for _, l in hits:
            print(l)
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
