#!/usr/bin/python3
"""Add up unit and end-to-end results from JUnit XML files and print the
closing line `N passed, N failed, N skipped`.

usage: test-summary.py unit.xml e2e.xml

unit.xml comes from ctest: one testcase per doctest executable, whose output
holds doctest's own counts ("test cases: 35 | 34 passed | 1 failed | 0
skipped"); those are used, so the totals count test cases, not executables.
An executable that failed without such a line (crash, sanitizer report after
the summary) counts as one more failure. e2e.xml comes from pytest: one
testcase per test; xfail counts as skipped. A missing file counts as one
failure: the step that should have written it broke.
"""
import re
import sys
import xml.etree.ElementTree as ET

DOCTEST = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed"
                     r"\s*\|\s*(\d+) skipped")


def load(path):
    try:
        return ET.parse(path).getroot().iter("testcase")
    except (OSError, ET.ParseError) as e:
        print(f"test-summary: cannot read {path}: {e}", file=sys.stderr)
        return None


def count_unit(path):
    cases = load(path)
    if cases is None:
        return 0, 1, 0
    passed = failed = skipped = 0
    for case in cases:
        out = "".join(e.text or "" for e in case.iter("system-out"))
        broke = case.get("status") == "fail" or case.find("failure") is not None
        if case.get("status") in ("notrun", "disabled") or case.find("skipped") is not None:
            skipped += 1
            continue
        m = DOCTEST.findall(out)
        if m:
            _, p, f, s = map(int, m[-1])
            passed, failed, skipped = passed + p, failed + f, skipped + s
            if broke and f == 0:
                failed += 1
        elif broke:
            failed += 1
        else:
            passed += 1
    return passed, failed, skipped


def count_e2e(path):
    cases = load(path)
    if cases is None:
        return 0, 1, 0
    passed = failed = skipped = 0
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    unit = count_unit(sys.argv[1])
    e2e = count_e2e(sys.argv[2])
    # breakdown in another shape than the closing line, so CI reads only the total
    print(f"unit (doctest cases): passed={unit[0]} failed={unit[1]} skipped={unit[2]}")
    print(f"e2e (pytest):         passed={e2e[0]} failed={e2e[1]} skipped={e2e[2]}")
    total = [u + e for u, e in zip(unit, e2e)]
    print(f"{total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main())
