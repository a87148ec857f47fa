"""The xbee3 diagnosis rules (celltls.dialects.xbee3.rules) on pasted logs and transcripts:
AI values, the $0 CA file (missing, a server certificate), DE in decimal, guard times
(shared/reference/xbee3.md S2, S3, S4, S10, S13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from celltls.doctor import diagnose
from celltls.sim.httpsd import make_pki


def _codes(text: str) -> dict[str, list[object]]:
    report = diagnose(text, "xbee3")
    out: dict[str, list[object]] = {}
    for finding in report.findings:
        out.setdefault(finding.code, []).append(finding)
    return out


def test_ai_values_read_are_explained() -> None:
    log = ("# format: celltls-transcript 1\n# dialect: xbee3\n"
           ">> +++\n<< OK\\r\n>> ATAI\\r\n<< 22\\r\n>> ATAI\\r\n<< 25\\r\n>> ATCN\\r\n<< OK\\r\n")
    found = _codes(log)["xbee3-ai-status"]
    assert [(f.line, f.severity) for f in found] == [(6, "warning"), (8, "error")]  # type: ignore[attr-defined]
    assert "registering" in found[0].message  # type: ignore[attr-defined]
    assert "denied" in found[1].message  # type: ignore[attr-defined]


def test_ca_file_that_is_not_there() -> None:
    log = "ATFS LS /flash/cert\n  <DIR> ./\n  1188 root.pem\n\nAT$0wgc.crt;;\nOK\nATIP4\nOK\n"
    found = _codes(log)["xbee3-ca-file-missing"]
    assert found and found[0].line == 5 and "wgc.crt" in found[0].message  # type: ignore[attr-defined]
    fixed = log.replace("AT$0wgc.crt;;", "AT$0root.pem;;")
    assert "xbee3-ca-file-missing" not in _codes(fixed)


def test_server_certificate_pasted_as_ca() -> None:
    pki = make_pki()
    leaf = pki.server_chain_pem.decode()
    log = f"AT$0site.pem;;\nOK\nATIP4\nOK\nthe file I uploaded:\n{leaf}\n"
    found = _codes(log)["xbee3-ca-is-server-cert"]
    assert found and "server certificate" in found[0].message  # type: ignore[attr-defined]
    root = log.replace(leaf, pki.ca_pem.decode())
    assert "xbee3-ca-is-server-cert" not in _codes(root)


def test_port_in_decimal() -> None:
    found = _codes("ATIP4\nOK\nATDE443\nOK\n")["xbee3-port-not-hex"]
    assert found and "1091" in found[0].message and "1BB" in found[0].fix  # type: ignore[attr-defined]
    assert "xbee3-port-not-hex" not in _codes("ATIP4\nOK\nATDE1BB\nOK\n")


def test_guard_time_violations() -> None:
    head = "# format: celltls-transcript 1\n# dialect: xbee3\n"
    early = head + ("[0.000] >> GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\n[0.200] >> +++\n"
                    "[1.400] << OK\\r\n")
    found = _codes(early)["xbee3-guard-time"]
    assert found and found[0].line == 4 and "0.200 s" in found[0].message  # type: ignore[attr-defined]
    with_cr = head + "[0.000] >> +++\\r\n[1.400] << OK\\r\n"
    assert "CR" in _codes(with_cr)["xbee3-guard-time"][0].message  # type: ignore[attr-defined]
    right = head + ("[0.000] >> GET / HTTP/1.1\\r\\n\\r\\n\n[1.200] >> +++\n[2.400] << OK\\r\n"
                    "[2.500] >> ATCI\\r\n[2.510] << 0\\r\n")
    assert "xbee3-guard-time" not in _codes(right)
    shorter = head + ("[0.000] >> ATGT64\\r\n[0.010] << OK\\r\n[0.020] >> ATCN\\r\n"
                      "[0.030] << OK\\r\n[0.200] >> +++\n[0.400] << OK\\r\n")
    assert "xbee3-guard-time" not in _codes(shorter)


def test_seed_003_still_explained() -> None:
    seed = Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "003_xbee3.log"
    codes = _codes(seed.read_text(encoding="utf-8"))
    assert {"xbee3-ci-status", "xbee3-ca-must-be-root", "xbee3-cert-path"} <= set(codes)
    # "I downloaded the CA certificate from https://google.com": the site's own certificate
    assert "xbee3-ca-is-server-cert" in codes


def test_l4_many_unanswered_escapes_among_http() -> None:
    head = "# format: celltls-transcript 1\n# dialect: xbee3\n"
    body = "".join(">> +++\n<< HTTP/1.1 400 Bad Request\\r\\n\n" if i == 0 else ">> +++\n"
                   for i in range(4))
    found = _codes(head + body)["xbee3-guard-time"]
    assert any("4 escape sequences" in f.message for f in found)  # type: ignore[attr-defined]


def test_a_transcript_of_the_driver_is_explained(tmp_path: Path) -> None:
    """The xbee3 driver's own transcript of a transparent TLS connection with the wrong CA:
    CI 0x2F read after +++ (raw records) is found, and its correct escapes are not blamed."""
    from celltls import Certificate, Modem, TlsProfile
    from celltls.errors import CertificateVerifyError
    from celltls.sim.httpsd import LocalHTTPSServer
    from celltls.sim.serve import VirtualModemServer
    from tests.xbee3.conftest import GUARD

    pki, other = make_pki(), make_pki()
    trace = tmp_path / "t.txt"
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem,
                          key_pem=pki.server_key_pem) as https, \
            VirtualModemServer("xbee3", guard_time=GUARD) as sim, \
            pytest.raises(CertificateVerifyError), \
            Modem(sim.url, dialect="xbee3", guard_time=GUARD, transparent=True,
                  probe_failures=False, trace=trace) as modem:
        modem.request("GET", https.url("/"), profile=TlsProfile(
            ca=Certificate.from_pem(other.ca_pem), check_hostname=False))
    report = diagnose(trace.read_text(encoding="utf-8"))
    assert report.dialect == "xbee3"
    codes = {f.code: f for f in report.findings}
    assert "0x2F" in codes["xbee3-ci-status"].message
    assert "xbee3-ca-must-be-root" in codes
    assert "xbee3-guard-time" not in codes
