"""The doctor never crashes, on any text, and finishes on long logs."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from celltls.doctor import diagnose, render_json

_ALPHABET = st.sampled_from([*'AT+#%$"“”–=,?:01 9\nOKERROR\r>CME',
                             "AT+CEREG?", "+CEREG: 2\n", "+CME ERROR: 3\n", "AT+QSSLOPEN=",
                             "+QSSLOPEN: 1,-1\n", "-----BEGIN CERTIFICATE-----\n",
                             "AT+SQNSPCFG=1,2,\"\",", "ATCI\n", "# format: celltls", "[1.0] > "])


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_crashes_on_any_unicode(text: str) -> None:
    report = diagnose(text)
    render_json(report)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_never_crashes_on_log_like_text(text: str) -> None:
    for dialect in (None, "quectel-gsm", "nordic-slm", "sequans", "xbee3", "sierra", "generic"):
        diagnose(text, dialect)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_never_crashes_on_binary(data: bytes) -> None:
    diagnose(data.decode("latin-1"))


def test_ten_thousand_lines_finish() -> None:
    from pathlib import Path

    seed = (Path(__file__).resolve().parents[1] / "fixtures" / "seeds" /
            "004_quectel_gsm.log").read_text(encoding="utf-8").splitlines()
    text = "\n".join((seed * (10_000 // len(seed) + 1))[:10_000])
    start = time.perf_counter()
    report = diagnose(text)
    assert len(report.decoded) >= 9_999  # a trailing blank line is not a line
    assert time.perf_counter() - start < 60  # hang guard only; see benchmarks/doctor_bench.py
