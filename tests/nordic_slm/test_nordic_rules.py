"""Doctor rules of the Nordic SLM dialect (dialects/nordic_slm/rules.py) on the seed 001 and on
small logs written for each rule (shared/reference/nordic-slm.md = NRF-REF)."""

from __future__ import annotations

from pathlib import Path

from celltls.doctor.engine import diagnose
from celltls.doctor.model import Finding

SEED = Path(__file__).parent.parent / "fixtures" / "seeds" / "001_nordic_slm.log"


def _codes(text: str) -> dict[str, list[Finding]]:
    report = diagnose(text, dialect="nordic-slm")
    found: dict[str, list[Finding]] = {}
    for finding in report.findings:
        found.setdefault(finding.code, []).append(finding)
    return found


def test_seed_names_the_stray_quote_and_decodes_cereg_and_errno() -> None:
    report = diagnose(SEED.read_text(encoding="utf-8"))
    assert report.dialect == "nordic-slm"
    codes = {f.code: f for f in report.findings}
    assert report.cause is not None and report.cause.code == "stray-quote"
    cereg = [f for f in report.findings if f.code == "nordic-cereg"]
    assert [f.line for f in cereg] == [57, 58]
    assert "searching" in cereg[0].message and "NB-IoT" in cereg[0].message
    assert "registered, home network" in cereg[1].message and "3600 s" in cereg[1].message
    errnos = {f.line: f.message for f in report.findings if f.code == "nordic-errno"}
    assert "ENETUNREACH" in errnos[205] and "ETIMEDOUT" in errnos[208]
    # sec_tag 42's CA is read back at the top of the seed: not reported as unprovisioned
    assert "nordic-sec-tag-unprovisioned" not in codes


def test_sec_tag_used_but_never_provisioned() -> None:
    log = 'AT#XHTTPCCON=1,"example.com",443,7\n#XHTTPCCON: 0\nERROR\n'
    found = _codes(log)
    assert "nordic-sec-tag-unprovisioned" in found
    provisioned = 'AT+CFUN=4\nOK\nAT%CMNG=0,7,0,"-----BEGIN CERTIFICATE-----"\nOK\n' + log
    assert "nordic-sec-tag-unprovisioned" not in _codes(provisioned)


def test_credentials_written_while_online_and_denied_registration() -> None:
    log = ('AT+CFUN=1\nOK\n+CEREG: 3,"5209","0A19790D",7,0,15\n'
           'AT%CMNG=0,7,0,"-----BEGIN CERTIFICATE-----"\n+CME ERROR: 518\n')
    found = _codes(log)
    assert "nordic-cmng-while-active" in found
    denied = found["nordic-cereg"][0]
    assert denied.severity == "error" and "reject cause 15" in denied.message


def test_no_sec_tag_finding_without_verification_or_for_a_cid() -> None:
    """NRF-REF 6.2: AT#XSOCKET's 4th argument is a <cid>; peer_verify 0 needs no CA."""
    log = ('AT#XSOCKET=1,1,0,0\n#XSOCKET: 0,1,6\nOK\n'
           'AT#XSSOCKET=1,1,0,9,0\n#XSSOCKET: 1,1,258\nOK\n')
    assert "nordic-sec-tag-unprovisioned" not in _codes(log)


def test_failed_socket_connect_names_what_to_check() -> None:
    """NRF-REF 6.2: a failed #XCONNECT is a bare ERROR; the finding names the sec_tag and the
    host name the modem checks. Repeated +CEREG states are reported once."""
    log = ('+CEREG: 1,"5209","0A19790D",7\n+CEREG: 1,"5209","0A19790D",7\n'
           'AT#XSSOCKET=1,1,0,42,2\n#XSSOCKET: 0,1,258\nOK\n'
           'AT#XSSOCKETOPT=1,2,"example.com"\nOK\n'
           'AT#XCONNECT="example.com",443\nERROR\n')
    found = _codes(log)
    failed = found["nordic-connect-failed"][0]
    assert "sec_tag 42" in failed.message and "'example.com'" in failed.fix
    assert len(found["nordic-cereg"]) == 1
