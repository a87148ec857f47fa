"""The corpus of real failed logs (tests/doctor_cases/): the doctor names each thread's cause.

Every case file holds a log from a public forum or issue tracker, its URL and the cause the
thread agreed on (format: :mod:`celltls.doctor.corpus`). A few cases are known misses: their cause
is not visible in the log the doctor gets, or it depends on dialect rules that others are writing
(``depends`` in the file). For those the test still checks the issue's second rule: the doctor
never names a wrong cause with high confidence.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from celltls.doctor import SCHEMA, to_json
from celltls.doctor.corpus import Case, evaluate, load_case, load_cases
from tests.doctor.test_report_cli import _check

FOLDER = Path(__file__).resolve().parents[1] / "doctor_cases"
CASES = load_cases(FOLDER)

#: Cases the doctor does not name yet, with the reason (reported by benchmarks/doctor_cases.py).
KNOWN_MISSES = {
    "nordic_03_cmng_crlf_527": "the CRLF line ends are invisible in a pasted log; needs a "
                               "nordic-slm rule reading +CME ERROR 527 on AT%CMNG",
    "sequans_02_lets_encrypt_root_missing": "the missing ISRG root is only described in prose; "
                                            "needs a sequans rule reading the slot list",
    "sierra_05_ktcprcv_old_firmware": "a firmware bug of AHL7800.1.4.0.0; no sierra rule "
                                      "knows firmware versions",
    "simcom_11_a7670_every_handshake_fails": "unresolved thread; the doctor's medium-confidence "
                                             "no-pdp-context guess is not what the thread found",
}


def test_corpus_size_and_vendors() -> None:
    assert len(CASES) >= 40
    vendors = {case.name.split("_")[0] for case in CASES}
    assert {"quectel", "simcom", "ublox", "sequans", "sierra", "nordic"} <= vendors
    for case in CASES:
        assert case.source.startswith("https://"), case.name
        assert case.agreed and case.causes, case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case) -> None:
    outcome = evaluate(case)
    assert not outcome.wrong_high, (
        f"{case.name}: wrong cause with high confidence: {outcome.primary}")
    if case.name in KNOWN_MISSES:
        return
    assert outcome.named, (
        f"{case.name}: expected {case.causes}, got {outcome.primary}; causes "
        f"{[f.code for f in outcome.report.causes()]}")


def test_reports_follow_the_json_schema() -> None:
    for case in CASES:
        document = to_json(evaluate(case).report)
        _check(document, SCHEMA)
        cause = document["cause"]
        assert cause is None or {"line", "code", "confidence"} <= set(cause)


def test_rate_meets_the_issue_target() -> None:
    outcomes = [evaluate(case) for case in CASES]
    named = sum(o.named for o in outcomes)
    assert named / len(outcomes) >= 0.9
    assert not any(o.wrong_high for o in outcomes)


def test_case_file_format_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "x.log"
    bad.write_text("# source: https://example.org\nAT\nOK\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no '---' line"):
        load_case(bad)
    bad.write_text("# cause: stray-quote\n---\nAT\n", encoding="utf-8")
    with pytest.raises(ValueError, match="source"):
        load_case(bad)
