#!/usr/bin/env python3
"""mutate.py -- apply each fault of regress/mutate/mutations, one at a time,
to a copy of the tree; rebuild; run the tests the fault names; a fault that
no test kills "survives".  Prints the kill rate; exits 1 if any fault
survived or no longer applies.  The live tree is never touched.

usage: mutate.py [-k] [ID ...]	(-k: keep the scratch copy)
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
LIST = os.path.join(ROOT, "regress", "mutate", "mutations")
TEST_TIMEOUT = 600


def parse(path):
    muts, cur = [], None
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            where = "%s:%d" % (path, n)
            if line.startswith("== "):
                ident, _, desc = line[3:].partition(" ")
                cur = {"id": ident, "desc": desc.strip(), "file": None,
                       "tests": [], "edits": [], "where": where}
                muts.append(cur)
            elif cur is None:
                sys.exit("%s: a fault starts with '== ID description'" % where)
            elif line.startswith("file "):
                cur["file"] = line[5:].strip()
            elif line.startswith("test "):
                cur["tests"] += line[5:].split()
            elif line.startswith("- "):
                cur["edits"].append([line[2:].strip(), None])
            elif line.startswith("+ "):
                if not cur["edits"] or cur["edits"][-1][1] is not None:
                    sys.exit("%s: '+' without its '-'" % where)
                cur["edits"][-1][1] = line[2:].strip().replace("\\n", "\n")
            else:
                sys.exit("%s: cannot parse: %s" % (where, line))
    for m in muts:
        if (m["file"] is None or not m["tests"] or not m["edits"] or
                any(e[1] is None for e in m["edits"])):
            sys.exit("%s: %s needs file, test, and '-'/'+' pairs" %
                     (m["where"], m["id"]))
    return muts


def run(cmd, cwd, log, timeout=None):
    try:
        r = subprocess.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                           timeout=timeout)
        return r.returncode
    except subprocess.TimeoutExpired:
        return 124


def bins(tests):
    return ["build/regress/" + t for t in tests
            if not t.endswith(".t") and not t.startswith("fuzz/")]


def fuzz_bins(tests):
    """fuzz/f_x names the libFuzzer harness f_x, replayed over its seeds."""
    return ["build-fuzz/fuzz/" + t[5:] for t in tests if t.startswith("fuzz/")]


def build(tree, tests, log):
    """0 if the normal build, the test binaries and the harnesses build."""
    if run(["make", "-j2", "all"] + bins(tests), tree, log) != 0:
        return 1
    fb = fuzz_bins(tests)
    if fb and run(["make", "-j2", "FUZZ=1"] + fb, tree, log) != 0:
        return 1
    return 0


def run_tests(work, tests, log):
    """0 if every test passes."""
    for t in tests:
        if t.startswith("fuzz/"):
            h = t[5:]
            cmd = ["sh", "-c", "build-fuzz/fuzz/%s regress/fuzz/seeds/%s/*" %
                   (h, h)]
        elif t.endswith(".t"):
            cmd = ["prove", "-f", t]
            env_build = os.path.join(work, "build")
            cmd = ["env", "VPND_BUILD=" + env_build] + cmd
        else:
            cmd = ["prove", "-f", "build/regress/" + t]
        if run(cmd, work, log, TEST_TIMEOUT) != 0:
            return 1
    return 0


def main():
    args = sys.argv[1:]
    keep = "-k" in args
    only = [a for a in args if a != "-k"]
    muts = parse(LIST)
    if only:
        muts = [m for m in muts if m["id"] in only]
    work = tempfile.mkdtemp(prefix="vpnd-mutate.")
    log = open(os.path.join(work, "mutate.log"), "w")
    try:
        files = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=ROOT, check=True, stdout=subprocess.PIPE).stdout
        tree = os.path.join(work, "tree")
        os.mkdir(tree)
        for f in files.decode().split("\0"):
            if not f or not os.path.isfile(os.path.join(ROOT, f)):
                continue
            os.makedirs(os.path.join(tree, os.path.dirname(f)),
                        exist_ok=True)
            shutil.copy2(os.path.join(ROOT, f), os.path.join(tree, f))
        alltests = sorted({t for m in muts for t in m["tests"]})
        need_e2e = any(t.endswith(".t") for t in alltests)
        print("# scratch copy in %s" % tree, flush=True)
        if build(tree, alltests, log) != 0 or \
                (need_e2e and run(["make", "-j2", "TESTHOOKS=1", "all"],
                                  tree, log) != 0):
            print("Bail out! the unmutated tree does not build")
            return 1
        if run_tests(tree, alltests, log) != 0:
            print("Bail out! the unmutated tree fails its tests")
            return 1
        print("1..%d" % len(muts), flush=True)
        killed = bad = 0
        survivors = []
        for i, m in enumerate(muts, 1):
            path = os.path.join(tree, m["file"])
            if not os.path.isfile(path):
                bad += 1
                print("not ok %d - %s %s: no file %s" % (
                    i, m["id"], m["desc"], m["file"]), flush=True)
                continue
            with open(path) as f:
                orig = f.read()
            text, why = orig, None
            for old, new in m["edits"]:
                if text.count(old) != 1:
                    why = "'%s' occurs %d times in %s" % (
                        old, text.count(old), m["file"])
                    break
                text = text.replace(old, new)
            if why is None:
                with open(path, "w") as f:
                    f.write(text)
                if build(tree, m["tests"], log) != 0:
                    why = "the mutated tree does not build"
                elif any(t.endswith(".t") for t in m["tests"]) and run(
                        ["make", "-j2", "TESTHOOKS=1", "all"], tree,
                        log) != 0:
                    why = "the mutated test build does not build"
            if why is not None:
                bad += 1
                print("not ok %d - %s %s: %s" % (i, m["id"], m["desc"], why),
                      flush=True)
            elif run_tests(tree, m["tests"], log) != 0:
                killed += 1
                print("ok %d - %s killed: %s" % (i, m["id"], m["desc"]),
                      flush=True)
            else:
                survivors.append(m["id"])
                print("not ok %d - %s SURVIVED: %s (%s)" % (
                    i, m["id"], m["desc"], " ".join(m["tests"])), flush=True)
            with open(path, "w") as f:
                f.write(orig)
        total = len(muts)
        print("# kill rate: %d/%d (%.0f%%)%s%s" % (
            killed, total, 100.0 * killed / total if total else 0,
            "; survived: " + " ".join(survivors) if survivors else "",
            "; %d not applicable" % bad if bad else ""))
        return 0 if killed == total else 1
    finally:
        log.close()
        if keep:
            print("# kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
