"""Time ``celltls.doctor.diagnose`` on a 10,000-line log (issue 7: under one second).

Run: ``.venv/bin/python benchmarks/doctor_bench.py`` (from the repository root).
The log is the Quectel application note's example sessions (seed 004) repeated to 10,000
lines, plus a mixed log built from all five seeds. Prints the best of five runs of each.
"""

from __future__ import annotations

import time
from pathlib import Path

from celltls.doctor import diagnose

SEEDS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "seeds"
LINES = 10_000


def _log(names: list[str]) -> str:
    seed: list[str] = []
    for name in names:
        seed.extend((SEEDS / name).read_text(encoding="utf-8").splitlines())
    return "\n".join((seed * (LINES // len(seed) + 1))[:LINES])


def _best(text: str, runs: int = 5) -> tuple[float, int]:
    best = float("inf")
    findings = 0
    for _ in range(runs):
        start = time.perf_counter()
        report = diagnose(text)
        best = min(best, time.perf_counter() - start)
        findings = len(report.findings)
    return best, findings


def main() -> None:
    cases = {
        "quectel (seed 004 x N)": _log(["004_quectel_gsm.log"]),
        "all seeds mixed": _log(sorted(p.name for p in SEEDS.glob("*.log"))),
    }
    for label, text in cases.items():
        seconds, findings = _best(text)
        print(f"{label}: {LINES} lines in {seconds:.3f} s (best of 5), {findings} findings")


if __name__ == "__main__":
    main()
