"""Fault injection at scale: N runs per fault kind and target through the fault proxy.

Run from the repository root: ``.venv/bin/python benchmarks/faults.py [--runs 100]`` (or
``make faults``). Each run is the one of ``tests/faults`` (see tests/faults/harness.py): a GET
and a POST through ``Modem`` with a fault injected at a seeded random position, then a new
``Modem`` on the same virtual modem. Prints a Markdown table per target and fault kind: runs,
faults injected, successes with exact bytes, named errors (class and exit code), hangs, silent
corruptions, foreign exceptions and failed next requests; then the runs that went wrong, each
with the command that repeats it. Measured, never asserted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults import harness
from tests.faults.proxy import KINDS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="runs per kind and target")
    parser.add_argument("--seed", type=int, default=1, help="first seed (then seed+1, ...)")
    parser.add_argument("--kind", action="append", choices=KINDS,
                        help="fault kind (repeat; default: all)")
    parser.add_argument("--target", action="append", choices=sorted(harness.TARGETS),
                        help="target (repeat; default: all)")
    parser.add_argument("--bound", type=float, default=harness.BOUND,
                        help="seconds before a run counts as a hang")
    parser.add_argument("--stall", type=float, default=harness.STALL, help="stall, seconds")
    parser.add_argument("--socket-timeout", type=float, default=harness.SOCKET_TIMEOUT,
                        help="the drivers' secure-socket read timeout, seconds")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    kinds = args.kind or list(KINDS)
    targets = args.target or list(harness.TARGETS)
    rows: list[str] = []
    bad: list[str] = []
    start = time.monotonic()
    with harness.Lab(bound=args.bound, stall=args.stall,
                     socket_timeout=args.socket_timeout) as lab:
        for target in targets:
            for kind in kinds:
                results: Counter[str] = Counter()
                errors: Counter[str] = Counter()
                fired = recovery_failed = 0
                for seed in range(args.seed, args.seed + args.runs):
                    outcome = lab.run(target, kind, seed)
                    results[outcome.run.result] += 1
                    fired += outcome.fired
                    if outcome.run.result == "error":
                        errors[f"{outcome.run.error} ({outcome.run.exit_code})"] += 1
                    if outcome.recovery.result != "success":
                        recovery_failed += 1
                    if args.verbose or not outcome.ok:
                        print(outcome.report(), file=sys.stderr, flush=True)
                    if not outcome.ok:
                        bad.append(outcome.report())
                named = ", ".join(f"{name} ×{n}" for name, n in errors.most_common())
                rows.append(
                    f"| {target} | {kind} | {args.runs} | {fired} | {results['success']} | "
                    f"{results['error']}: {named or '-'} | {results['hang']} | "
                    f"{results['corruption']} | {results['foreign']} | {recovery_failed} |")
                print(rows[-1], file=sys.stderr, flush=True)
    print("| target | fault | runs | injected | exact bytes | named errors (class (exit code)) "
          "| hangs | silent corruptions | foreign exceptions | next request failed |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\n{len(bad)} runs went wrong; {time.monotonic() - start:.0f} s in all.")
    for text in bad:
        print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
