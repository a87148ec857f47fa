"""`celltls doctor` on the real failed logs of tests/doctor_cases/: hit list and rate (issue 20).

Each case is a log posted in a public forum or issue tracker with the cause its thread agreed on
(see :mod:`celltls.doctor.corpus` for the format). The doctor runs as a user would run it: the
dialect is detected, nothing is forced. A case counts as named when the expected cause is among
the report's causes (for ``no-known-cause`` cases: when the report names no cause, or only a
low-confidence one). A wrong high-confidence cause is counted separately: the issue's target is
>= 90% named and none of those.

Run from the repository root::

    .venv/bin/python benchmarks/doctor_cases.py [--verbose] [--folder tests/doctor_cases]

Prints one line per case and the totals. Measured, never asserted in the tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from celltls.doctor.corpus import evaluate, load_cases  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the corpus and print the hit list; returns 0 (a benchmark never fails a build)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "tests" / "doctor_cases")
    parser.add_argument("--verbose", action="store_true", help="print every cause found")
    args = parser.parse_args(argv)
    cases = load_cases(args.folder)
    named = wrong = detected = 0
    by_vendor: dict[str, list[int]] = {}
    start = time.perf_counter()
    for case in cases:
        outcome = evaluate(case)
        vendor = case.name.split("_")[0]
        tally = by_vendor.setdefault(vendor, [0, 0])
        tally[1] += 1
        if outcome.named:
            named += 1
            tally[0] += 1
        wrong += outcome.wrong_high
        detected += outcome.dialect_ok
        mark = "HIT " if outcome.named else "MISS"
        if outcome.wrong_high:
            mark = "WRONG"
        depends = f" [depends on {case.depends} rules]" if case.depends else ""
        print(f"{mark:5} {case.name:45} expected {'|'.join(case.causes):40} "
              f"got {outcome.primary} ({outcome.report.dialect}){depends}")
        if args.verbose:
            for finding in outcome.report.causes():
                print(f"        line {finding.line} {finding.code} {finding.severity} "
                      f"{finding.confidence}")
    elapsed = time.perf_counter() - start
    total = len(cases)
    print()
    for vendor, (hits, count) in sorted(by_vendor.items()):
        print(f"{vendor:12} {hits}/{count}")
    print(f"named the cause: {named}/{total} = {100 * named / max(total, 1):.1f}% "
          f"(target >= 90%); wrong cause with high confidence: {wrong}; "
          f"dialect detected: {detected}/{total}; {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
