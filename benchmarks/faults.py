"""Fault injection at scale: N runs per fault kind and target through the fault proxy.

Run from the repository root: ``.venv/bin/python benchmarks/faults.py [--runs 100]`` (or
``make faults``). Each run is the one of ``tests/faults`` (see tests/faults/harness.py): a GET
and a POST through ``Modem`` with a fault injected at a seeded random position, then a new
``Modem`` on the same virtual modem. Prints a Markdown table per target and fault kind: runs,
faults injected, successes with exact bytes, named errors (class and exit code), hangs, silent
corruptions, foreign exceptions and failed next requests; then the kinds never injected on a
target (the proxy counts data only in Quectel, Sierra and XBee3 framing, and has no storm of
unsolicited lines on an XBee3: tests/faults/proxy.py), and the runs that went wrong, each with
the command that repeats it. Measured, never asserted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults import harness
from tests.faults.proxy import KINDS

_LAB: harness.Lab | None = None


def _start_lab(options: dict[str, Any]) -> None:
    """Worker initializer: one Lab (PKI, HTTPS server, relay, calibrations) per process."""
    global _LAB
    logging.basicConfig(level=logging.CRITICAL)
    _LAB = harness.Lab(**options)


def _one(task: tuple[str, str, int]) -> harness.Outcome:
    assert _LAB is not None
    outcome = _LAB.run(*task)
    return harness.Outcome(outcome.target, outcome.kind, outcome.seed, outcome.fault,
                           outcome.fired, outcome.note, outcome.run, outcome.recovery)


def _outcomes(tasks: list[tuple[str, str, int]], options: dict[str, Any],
              jobs: int) -> Iterator[harness.Outcome]:
    """The outcome of every task, in task order; ``jobs`` worker processes when above 1 (each
    process has its own virtual modems, server and relay: runs never share a line)."""
    if jobs <= 1:
        global _LAB
        with harness.Lab(**options) as lab:
            _LAB = lab
            for task in tasks:
                yield _one(task)
        return
    with ProcessPoolExecutor(jobs, initializer=_start_lab, initargs=(options,)) as pool:
        yield from pool.map(_one, tasks)


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
    parser.add_argument("-j", "--jobs", type=int, default=1,
                        help="worker processes running runs side by side (default 1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    kinds = args.kind or list(KINDS)
    targets = args.target or list(harness.TARGETS)
    rows: list[str] = []
    bad: list[str] = []
    never: list[str] = []
    start = time.monotonic()
    options = {"bound": args.bound, "stall": args.stall, "socket_timeout": args.socket_timeout}
    tasks = [(target, kind, seed) for target in targets for kind in kinds
             for seed in range(args.seed, args.seed + args.runs)]
    outcomes = _outcomes(tasks, options, args.jobs)
    for target in targets:
        for kind in kinds:
            results: Counter[str] = Counter()
            errors: Counter[str] = Counter()
            fired = recovery_failed = 0
            for _ in range(args.runs):
                outcome = next(outcomes)
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
            if not fired:
                never.append(f"{target} × {kind}")
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
    if never:
        print(f"\nNever injected (no such position on that line, or the transfer ended "
              f"before it; those runs had no fault): {', '.join(never)}.")
    print(f"\n{len(bad)} runs went wrong; {time.monotonic() - start:.0f} s in all.")
    for text in bad:
        print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
