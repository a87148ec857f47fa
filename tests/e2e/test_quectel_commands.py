"""The commands of a request on a module that an earlier run set up (issue 17: "the minimum of
commands", and no command echo taking line bytes): identification in one ``ATI``
(quectel-gsm-tcpip.md 2, S17, L1) or none when the model is given, ``AT+CMEE=1`` as the probe
of the line, the ``AT+QSSLSTATE`` read at start standing for the stack state, the CA not
uploaded again (``AT+QSECREAD`` checksum, SSL-AN 2.2.8).
"""

from __future__ import annotations

import io

from celltls import Modem, TlsProfile
from celltls.sim.httpsd import LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from celltls.trace import TranscriptWriter
from tests.e2e.records import host_lines

#: data commands, whose count follows the body's size
DATA = ("AT+QSSLSEND", "AT+QSSLRECV", "AT+QISEND", "AT+QIRD")


def _control(sim: VirtualModemServer, https: LocalHTTPSServer, profile: TlsProfile | None,
             tls: str, **options: object) -> tuple[list[str], dict[str, str]]:
    transcript = io.StringIO()
    with Modem(sim.url, "quectel-gsm", trace=TranscriptWriter(transcript), guard_time=0.2,
               **options) as modem:
        modem.attach(apn="internet")
        response = modem.request("GET", https.url("/bytes/3000?seed=2"), profile=profile,
                                 tls=tls)  # type: ignore[arg-type]
        assert response.read() == deterministic_bytes(3000, seed=2)
        info = dict(modem.info)
    return [line for line in host_lines(transcript) if not line.startswith(DATA)], info


def test_a_warm_module_tls_request_reads_before_it_writes(
        sim: VirtualModemServer, https: LocalHTTPSServer, profile: TlsProfile) -> None:
    cold, info = _control(sim, https, profile, "module")
    assert info == {"model": "Quectel_M66", "firmware": "M66FAR02A12"}  # the ATI lines
    assert any(line.startswith("AT+QSECWRITE") for line in cold)
    assert cold.count("ATE0") == 1  # echo on at power-up (V.250 6.2.4): turned off once
    warm, _ = _control(sim, https, profile, "module")
    assert not any(line.startswith("AT+QSECWRITE") for line in warm)  # same checksum
    assert warm[:3] == ["AT+CMEE=1", "ATI", "AT+QSSLSTATE"]  # no ATE0: echo stayed off
    assert warm.count("AT+QSSLSTATE") == 1
    assert not any(line in ("AT", "AT+CGMM", "AT+CGMR") for line in warm)
    assert len(warm) <= 13, warm
    given, info = _control(sim, https, profile, "module", model="m66")
    assert "ATI" not in given and info == {"model": "Quectel_M66"}
    assert len(given) <= 12, given


def test_a_warm_host_tls_request(sim: VirtualModemServer, https: LocalHTTPSServer,
                                 profile: TlsProfile) -> None:
    _control(sim, https, profile, "host")
    warm, _ = _control(sim, https, profile, "host", model="M66")
    assert warm[0] == "AT+CMEE=1" and "ATI" not in warm
    assert len(warm) <= 10, warm


def test_the_transparent_option_opens_in_transparent_mode(
        sim: VirtualModemServer, https: LocalHTTPSServer, profile: TlsProfile) -> None:
    """``transparent=True`` (the CLI's ``--transparent``): ``AT+QSSLOPEN`` with connectmode 1
    (SSL-AN 2.2.2), the body as raw bytes after ``CONNECT``, no ``AT+QSSLRECV``."""
    transcript = io.StringIO()
    with Modem(sim.url, "quectel-gsm", trace=TranscriptWriter(transcript), guard_time=0.2,
               transparent=True) as modem:
        modem.attach(apn="internet")
        response = modem.request("GET", https.url("/bytes/40000?seed=4"), profile=profile,
                                 tls="module")
        assert response.read() == deterministic_bytes(40000, seed=4)
    sent = host_lines(transcript)
    opens = [line for line in sent if line.startswith("AT+QSSLOPEN=")]
    assert len(opens) == 1 and opens[0].split(",")[4] == "1", opens
    assert not any(line.startswith(DATA) for line in sent)
