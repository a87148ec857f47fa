"""Each seed's log, as pasted, names the cause the thread found (shared/seeds/README.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from celltls.doctor import diagnose

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


def _report(name: str, dialect: str | None = None):  # type: ignore[no-untyped-def]
    return diagnose((SEEDS / name).read_text(encoding="utf-8"), dialect)


def _at(report, code: str):  # type: ignore[no-untyped-def]
    return [f for f in report.findings if f.code == code]


def test_001_nordic_stray_quote_and_httpccon_failure() -> None:
    report = _report("001_nordic_slm.log")
    assert report.dialect == "nordic-slm"
    stray = _at(report, "stray-quote")
    assert len(stray) == 1
    assert (stray[0].line, stray[0].column) == (228, 39)
    text = (SEEDS / "001_nordic_slm.log").read_text(encoding="utf-8").splitlines()
    assert text[227][38] == '"' and text[227].rstrip().endswith('42"')
    assert "remove the stray quote" in stray[0].fix
    assert stray[0].fix.endswith('AT#XHTTPCCON=1,"google.com",443,42')
    failed = _at(report, "nordic-httpccon-failed")
    assert failed and failed[0].line == 65 and "sec_tag 42" in failed[0].message
    errnos = {f.line: f.message for f in _at(report, "nordic-errno")}
    assert "ENETUNREACH" in errnos[205] and "IPv6" in errnos[205]
    assert "ETIMEDOUT" in errnos[208]
    assert report.exit_status == 1


def test_002_sequans_certvalidlevel_7_causes_error_77() -> None:
    report = _report("002_sequans.log")
    assert report.dialect == "sequans"
    invalid = _at(report, "sequans-certvalidlevel-invalid")
    assert [f.line for f in invalid] == [23]
    assert "certValidLevel 7" in invalid[0].message and "not a valid value" in invalid[0].message
    assert "certValidLevel 1" in invalid[0].fix
    http = _at(report, "sequans-http-error")
    assert http and http[0].line == 33
    assert "77" in http[0].message and "certificate validation" in http[0].message
    assert "line 23" in http[0].message and 23 in http[0].related
    assert "sequans-host-has-path" in report.codes()
    assert "typographic-quote" in report.codes()


def test_002_fixed_profile_is_accepted() -> None:
    fixed = (SEEDS / "002_sequans.log").read_text(encoding="utf-8").replace(
        "AT+SQNSPCFG=1,2,“”,7,19", 'AT+SQNSPCFG=1,2,"",1,19').replace(
        "+SQNSPCFG: 1,2,“”,7,19", "+SQNSPCFG: 1,2,“”,1,19")
    assert "sequans-certvalidlevel-invalid" not in diagnose(fixed).codes()


def test_003_xbee3_ci_0x26_and_root_ca() -> None:
    report = _report("003_xbee3.log")
    assert report.dialect == "xbee3"
    ci = [f for f in _at(report, "xbee3-ci-status") if f.severity == "error"]
    assert ci and ci[0].line == 27 and "0x26" in ci[0].message and "refused" in ci[0].message
    root = _at(report, "xbee3-ca-must-be-root")
    assert root and "root CA" in root[0].message and "top of the certification path" in \
        root[0].message
    path = _at(report, "xbee3-cert-path")
    assert path and "flash/cert/wgc.crt" in path[0].message
    assert any(f.code == "xbee3-ci-status" and "0xFF" in f.message for f in report.findings)


def test_004_quectel_note_typos() -> None:
    report = _report("004_quectel_gsm.log")
    assert report.dialect == "quectel-gsm"
    typos = {f.message.split(" ")[0] for f in _at(report, "quectel-misspelling")}
    assert {"+QSSSEND", '"secllevel"', '"ignorevertime"', "+QSSLRCV"} <= typos
    # "ignorertctime" is an alias real firmware accepts (catalog.SETTING_ALIASES): no error.
    assert '"ignorertctime"' not in typos
    secl = next(f for f in _at(report, "quectel-misspelling") if "secllevel" in f.message)
    assert "seclevel" in secl.fix and "no server authentication" in secl.message


def test_000_generic_findings() -> None:
    report = _report("000_sierra.log")
    assert report.dialect == "sierra"
    cme = _at(report, "cme-error")
    assert cme and "+CME ERROR: 3" in cme[0].message and "long" in cme[0].why
    assert "typographic-quote" in report.codes()


SIERRA = importlib.util.find_spec("celltls.dialects.sierra") is not None and \
    importlib.util.find_spec("celltls.dialects.sierra.rules") is not None


@pytest.mark.xfail(not SIERRA, strict=False, reason="Sierra rules come with issue 3")
def test_000_sierra_causes() -> None:
    report = _report("000_sierra.log")
    text = " ".join(f"{f.message} {f.why} {f.fix}" for f in report.findings).lower()
    assert "eof" in text  # +KHTTP_ERROR: 1,6: the end-of-data pattern was missing
    assert "kcertstore" in text  # HTTPS needs the server's CA stored with +KCERTSTORE
