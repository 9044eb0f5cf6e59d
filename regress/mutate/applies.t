#!/usr/bin/env python3
# applies.t -- every fault in regress/mutate/mutations still applies to
# the tree: each '-' text occurs exactly once in its file when the edits
# before it are made, and each test it names exists. A fault whose text
# is gone is one `make mutate` can no longer run, so the check it stood
# for would be held by nothing, unnoticed until someone runs the long
# mutation pass; this runs in make check, in well under a second.
import importlib.util
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
os.chdir(ROOT)
spec = importlib.util.spec_from_file_location("mutate",
                                              "regress/mutate/mutate.py")
mutate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutate)
muts = mutate.parse("regress/mutate/mutations")


def test_exists(name):
    if name.endswith(".t"):
        return os.path.isfile(name)
    if name.startswith("fuzz/"):
        return os.path.isfile("regress/%s.c" % name)
    # binaries the Makefile builds from another test's source
    if name in ("t_datapath_pool",):
        return ("/regress/%s:" % name) in open("Makefile").read()
    for d in os.listdir("regress/unit"):
        if os.path.isfile("regress/unit/%s/%s.c" % (d, name)):
            return True
    return False


print("1..%d" % (2 * len(muts)))
n = bad = 0
seen = set()
for m in muts:
    why = None
    if m["id"] in seen:
        why = "the id is used twice"
    seen.add(m["id"])
    if why is None and not os.path.isfile(m["file"]):
        why = "no file %s" % m["file"]
    if why is None:
        with open(m["file"]) as f:
            text = f.read()
        for old, new in m["edits"]:
            if text.count(old) != 1:
                why = "'%s' occurs %d times in %s" % (old, text.count(old),
                                                      m["file"])
                break
            text = text.replace(old, new)
    n += 1
    if why is None:
        print("ok %d - %s applies" % (n, m["id"]))
    else:
        bad += 1
        print("not ok %d - %s applies: %s" % (n, m["id"], why))
    missing = [t for t in m["tests"] if not test_exists(t)]
    n += 1
    if missing:
        bad += 1
        print("not ok %d - %s: no test %s" % (n, m["id"], " ".join(missing)))
    else:
        print("ok %d - %s: its tests exist" % (n, m["id"]))
sys.exit(1 if bad else 0)
