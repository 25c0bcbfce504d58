#!/usr/bin/env python3
"""Every outcome of every verdict rule is reached by a named test.

Each demo declares, beside each verdict its rule can reach, the Catch test case that reaches it
(RuleInfo::Outcome::reached_by; `proclab rules --json`). This check fails on an outcome that names
no test, and on a name that no test binary lists (a renamed or deleted test): an outcome that no
test reaches is a defect of the rule, not a row to hide.

usage: rules_reached.py PROCLAB TEST_BINARY...
"""
import json
import subprocess
import sys


def test_names(binary):
    # Catch2 v2 exits with the number of tests listed: the output is what counts.
    out = subprocess.run([binary, "--list-test-names-only"], check=False, capture_output=True, text=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    proclab, binaries = argv[1], argv[2:]
    names = set()
    for b in binaries:
        names |= test_names(b)
    rules = json.loads(subprocess.run([proclab, "rules", "--json"], check=True, capture_output=True, text=True).stdout)
    defects = []
    reached = 0
    for rule in rules:
        where = f"{rule['claim']} ({rule['demo']})"
        if not rule.get("outcomes"):
            defects.append(f"{where}: declares no outcome")
        for o in rule.get("outcomes", []):
            test = o.get("reached_by", "")
            if not test:
                defects.append(f"{where} {o['verdict']}: no test reaches it")
            elif test not in names:
                defects.append(f"{where} {o['verdict']}: names the test \"{test}\", which no test binary lists")
            else:
                reached += 1
    for d in defects:
        print(d)
    print(f"{len(rules)} rules, {reached} outcomes reached by a named test, {len(defects)} defects")
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
