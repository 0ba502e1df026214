#!/usr/bin/env python3
"""promparse.py - check a Prometheus text exposition and print its samples.

    promparse.py < metrics.txt

Every line must be a "# HELP name text", a "# TYPE name counter|gauge" (one
per family, before its samples), or a sample "name{label="value",...} N"
whose family was declared; counters must end in _total. Prints one line per
sample: "name{labels} value" as read. Exits 1 at the first bad line.
"""
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9]+(\.[0-9]+)?)$')
LABEL = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"$')


def main():
    types = {}
    for n, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            if typ not in ("counter", "gauge") or name in types:
                sys.exit("line %d: bad or repeated TYPE: %s" % (n, line))
            if typ == "counter" and not name.endswith("_total"):
                sys.exit("line %d: counter without _total: %s" % (n, line))
            types[name] = typ
            continue
        m = SAMPLE.match(line)
        if not m:
            sys.exit("line %d: not a sample: %s" % (n, line))
        if m.group(1) not in types:
            sys.exit("line %d: sample of an undeclared family: %s" % (n, line))
        if m.group(3):
            for lab in m.group(3).split(","):
                if not LABEL.match(lab):
                    sys.exit("line %d: bad label %r" % (n, lab))
        print(line)


if __name__ == "__main__":
    main()
