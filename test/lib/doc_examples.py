"""Prints the commands of one documented example, one per line, so that a
test runs exactly what the documents show.

  doc_examples.py README.md NAME   the ```sh block after <!-- doc-test: NAME -->
  doc_examples.py PAGE.N N         the Nth .EX/.EE block of the EXAMPLES section

Comments (# ...) and blank lines are dropped; roff escapes are undone.
Exit 1 when the block is not there (the test must not pass on nothing).
"""
import re
import sys


def readme_block(path, name):
    lines = open(path).read().splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "<!-- doc-test: %s -->" % name:
            j = i + 1
            if j < len(lines) and lines[j].startswith("```"):
                out = []
                for l in lines[j + 1:]:
                    if l.startswith("```"):
                        return out
                    out.append(l)
    return None


ROFF = [("\\-", "-"), ("\\(aq", "'"), ("\\(dq", '"'), ("\\en", "\\n"), ("\\e", "\\"), ("\\&", "")]


def man_block(path, n):
    text = open(path).read()
    m = re.search(r"^\.SH EXAMPLES\n(.*?)(?=^\.SH |\Z)", text, re.S | re.M)
    if not m:
        return None
    blocks = re.findall(r"^\.EX\n(.*?)^\.EE", m.group(1), re.S | re.M)
    if n < 1 or n > len(blocks):
        return None
    out = []
    for l in blocks[n - 1].splitlines():
        for a, b in ROFF:
            l = l.replace(a, b)
        out.append(l)
    return out


def main():
    path, which = sys.argv[1], sys.argv[2]
    block = man_block(path, int(which)) if re.search(r"\.\d$", path) else readme_block(path, which)
    if block is None:
        print("no example %s in %s" % (which, path), file=sys.stderr)
        return 1
    for l in block:
        l = re.sub(r"\s+#.*$", "", l).rstrip()
        if l and not l.lstrip().startswith("#"):
            print(l)
    return 0


if __name__ == "__main__":
    sys.exit(main())
