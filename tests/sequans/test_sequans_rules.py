"""Sequans doctor rules: certValidLevel decoded bit by bit, error codes explained, a CA index the
log never wrote (sequans.md §4, §5, §8; the seed thread 002)."""

from __future__ import annotations

from pathlib import Path

from celltls.doctor import diagnose

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "002_sequans.log"


def _log(level: str, ca: str = "19", write: bool = True, rc: str = "77") -> str:
    lines = ["+SYSSTART"]
    if write:
        lines += ['AT+SQNSNVW="certificate",19,1200', "OK"]
    lines += ["AT+CFUN=1", "OK", f'AT+SQNSPCFG=1,2,"",{level},{ca}',
              f'+SQNSPCFG: 1,2,"",{level},{ca},"","",0,0,0', "OK",
              'AT+SQNHTTPCFG=1,"example.com",443,0,"","",1,120,1,1', "OK",
              "AT+SQNHTTPCONNECT=1", "OK", f"+SQNHTTPCONNECT: 1,{rc}", f"+SQNHTTPSH: 1,{rc}"]
    return "\n".join(lines) + "\n"


def _codes(text: str) -> dict[str, list[str]]:
    report = diagnose(text, "sequans")
    out: dict[str, list[str]] = {}
    for finding in report.findings:
        out.setdefault(finding.code, []).append(finding.message)
    return out


def test_seed_names_certvalidlevel_7_bit_by_bit_and_error_77() -> None:
    found = _codes(SEED.read_text(encoding="utf-8"))
    (invalid,) = found["sequans-certvalidlevel-invalid"]
    assert "certValidLevel 7" in invalid
    assert "bit 1 (unused)" in invalid and "bit 2" in invalid and "bit 0" in invalid
    assert any("77" in m for m in found["sequans-http-error"])
    assert "sequans-ca-not-written" not in found  # the seed writes index 19 first


def test_bit2_without_bit0_and_reserved_bits_are_named() -> None:
    four = _codes(_log("4"))["sequans-certvalidlevel-invalid"][0]
    assert "bit 2 (host name check) cannot be used without bit 0" in four
    eight = _codes(_log("9"))["sequans-certvalidlevel-invalid"][0]
    assert "bit 3 reserved" in eight


def test_valid_levels_are_not_flagged() -> None:
    for level in ("1", "5"):
        assert "sequans-certvalidlevel-invalid" not in _codes(_log(level, rc="0"))
    assert "sequans-verification-off" in _codes(_log("0", rc="0"))


def test_ca_index_never_written_in_the_log() -> None:
    found = _codes(_log("1", ca="12"))
    (message,) = found["sequans-ca-not-written"]
    assert "NV index 12" in message
    assert "sequans-ca-not-written" not in _codes(_log("1", ca="19"))
    assert "sequans-ca-not-written" in _codes(_log("1", ca="19", write=False))


def test_other_codes_are_explained() -> None:
    dns = _codes(_log("1", rc="6"))["sequans-http-error"][0]
    assert "could not resolve host" in dns and "DNS" in dns
    refused = _codes(_log("1", rc="7"))["sequans-http-error"][0]
    assert "could not connect" in refused
