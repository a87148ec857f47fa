"""Faults injected into the virtual Quectel GSM modem: the library reacts as the note says."""

from __future__ import annotations

import io

import pytest

from celltls import HTTPError, Modem, NetworkError, SocketError, TlsProfile
from celltls.sim.httpsd import LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer


def test_send_fail_is_retried(modem: Modem, sim: VirtualModemServer, https: LocalHTTPSServer,
                              profile: TlsProfile, transcript: io.StringIO) -> None:
    """SSL-AN 2.2.3: SEND FAIL means sending is blocked; the host waits and sends again."""
    sock = modem.tls_connect("127.0.0.1", https.port, profile)
    sim.modem.fault_fail_next_send()
    sock.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    assert received.endswith(deterministic_bytes(10))
    assert "< SEND FAIL" in transcript.getvalue()
    sock.close()


def test_pdp_deactivation_then_attach_again(modem: Modem, sim: VirtualModemServer,
                                            https: LocalHTTPSServer,
                                            profile: TlsProfile) -> None:
    assert modem.request("GET", https.url("/bytes/10"), profile=profile).read()
    sim.modem.fault_deactivate_pdp()
    with pytest.raises((NetworkError, SocketError, HTTPError)):
        modem.request("GET", https.url("/bytes/10"), profile=profile).read()
    status = modem.attach(apn="internet")
    assert status.ip_address
    assert modem.request("GET", https.url("/bytes/10"), profile=profile).read() == (
        deterministic_bytes(10)
    )


def test_not_registered(sim: VirtualModemServer) -> None:
    sim.modem.fault_lose_registration(2)
    with (
        Modem(sim.url, "quectel-gsm") as modem,
        pytest.raises(NetworkError, match=r"not registered.*\+CREG stat 2"),
    ):
        modem.attach(apn="internet", timeout=1.5)


def test_server_close_mid_response(modem: Modem, sim: VirtualModemServer,
                                   https: LocalHTTPSServer, profile: TlsProfile) -> None:
    """SSL-AN 2.2.10.2: +QSSLURC: "closed" -> the module closed the socket itself."""
    sock = modem.tls_connect("127.0.0.1", https.port, profile)
    ssid = sock.ssid  # type: ignore[attr-defined]
    sim.modem.fault_server_close(ssid)
    assert sock.recv(100) == b""
    with pytest.raises(SocketError, match="closed"):
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
    sock.close()
