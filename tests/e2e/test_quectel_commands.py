"""The commands of a request on a module that an earlier run set up (issue 17: "the minimum of
commands", and no command echo taking line bytes): identification in one ``ATI``
(quectel-gsm-tcpip.md 2, S17, L1) or none when the model is given, ``AT+CMEE=1`` as the probe
of the line, the ``AT+QSSLSTATE`` read at start standing for the stack state, the CA not
uploaded again (``AT+QSECREAD`` checksum, SSL-AN 2.2.8).
"""

from __future__ import annotations

import io

import pytest

from celltls import Modem, TlsProfile
from celltls.errors import ProfileError, UnsafeArgumentError
from celltls.sim.httpsd import LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from celltls.trace import TranscriptWriter, read_text
from tests.e2e.records import host_lines, modem_lines

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


def _raw_writes(transcript: io.StringIO) -> list[bytes]:
    """What the host wrote as raw bytes (``>>`` records): payload in data mode, ``+++``."""
    return [r.data for r in read_text(transcript.getvalue()).records if r.direction == ">>"]


def _get(sim: VirtualModemServer, https: LocalHTTPSServer, profile: TlsProfile,
         guard_time: float, **request: object) -> tuple[list[str], list[bytes], list[str]]:
    transcript = io.StringIO()
    with Modem(sim.url, "quectel-gsm", trace=TranscriptWriter(transcript),
               guard_time=guard_time) as modem:
        modem.attach(apn="internet")
        response = modem.request("GET", https.url("/bytes/40000?seed=5"), profile=profile,
                                 tls="module", **request)  # type: ignore[arg-type]
        assert response.read() == deterministic_bytes(40000, seed=5)
    return host_lines(transcript), _raw_writes(transcript), modem_lines(transcript)


def test_a_request_the_server_ends_runs_in_transparent_mode(
        sim: VirtualModemServer, https: LocalHTTPSServer, profile: TlsProfile) -> None:
    """``keep_alive=False`` (what ``celltls get`` asks): the request says ``Connection: close``,
    the module prefers transparent mode for it (issue 17), and the server's close ends data
    mode (SSL-AN 1.2 step 6: ``CLOSED``), so no ``+++`` is written, even with a long guard time
    that the escape would have to wait out, and no ``AT+QSSLCLOSE`` either: the module closed
    the connection itself (as after ``+QSSLURC: "closed"``, SSL-AN 2.2.10.2)."""
    sent, raw, answers = _get(sim, https, profile, guard_time=5.0, keep_alive=False)
    opens = [line for line in sent if line.startswith("AT+QSSLOPEN=")]
    assert len(opens) == 1 and opens[0].split(",")[4] == "1", opens
    assert not any(line.startswith(DATA) for line in sent)
    heads = [data for data in raw if data.startswith(b"GET /bytes/40000?seed=5 HTTP/1.1\r\n")]
    assert len(heads) == 1 and b"\r\nConnection: close\r\n" in heads[0], raw
    assert b"+++" not in raw
    assert "CLOSED" in answers
    assert not any(line.startswith("AT+QSSLCLOSE") for line in sent), sent
    assert "ERROR" not in answers


def test_a_kept_connection_and_no_transparent_use_the_read_commands(
        sim: VirtualModemServer, https: LocalHTTPSServer, profile: TlsProfile) -> None:
    """Keep-alive (the library's default) would need ``+++`` and two guard times to end a
    transparent connection, so it reads with ``AT+QSSLRECV``; ``transparent=False`` (the CLI's
    ``--no-transparent``) does so even for a request the server ends."""
    for request in ({}, {"keep_alive": False, "transparent": False}):
        sent, raw, _ = _get(sim, https, profile, guard_time=0.2, **request)
        opens = [line for line in sent if line.startswith("AT+QSSLOPEN=")]
        assert len(opens) == 1 and opens[0].split(",")[4] == "0", (request, opens)
        assert any(line.startswith("AT+QSSLRECV") for line in sent), request
        assert b"+++" not in raw


def test_transparent_choices_are_checked_before_anything_is_sent(
        sim: VirtualModemServer, https: LocalHTTPSServer, profile: TlsProfile) -> None:
    transcript = io.StringIO()
    with Modem(sim.url, "quectel-gsm", trace=TranscriptWriter(transcript), guard_time=0.2,
               model="M66") as modem:
        modem.attach(apn="internet")
        before = len(host_lines(transcript))
        url = https.url("/bytes/10")
        with pytest.raises(ProfileError, match="TLS runs on the host"):
            modem.request("GET", url, profile=profile, tls="host", transparent=True)
        with pytest.raises(UnsafeArgumentError, match="transparent"):
            modem.request("GET", url, profile=profile, transparent="yes")  # type: ignore[arg-type]
        with pytest.raises(UnsafeArgumentError, match="keep_alive"):
            modem.request("GET", url, profile=profile, keep_alive=None)  # type: ignore[arg-type]
        assert len(host_lines(transcript)) == before
