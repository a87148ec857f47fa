"""Sierra recovery: what an earlier host run left open is closed at start (sierra-hl78xx.md S4
"Sessions left by an earlier host run", S6), a restart (+KSUP, S2) and a lost network
(+KCNX_IND <cnx>,0, S3) are named, and the next request succeeds."""

from __future__ import annotations

import logging

import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.at.channel import ATChannel
from celltls.dialects.sierra import catalog as cat
from celltls.dialects.sierra.driver import Sierra, SierraSocket
from celltls.errors import ModuleRebootedError, NetworkLostError
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from tests.sierra.test_sierra_socket import PATTERN, Arrival, ScriptedSierra


@pytest.fixture
def profile(pki: PKI) -> TlsProfile:
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)


def _killed(url: str, https: LocalHTTPSServer, profile: TlsProfile, via: str) -> None:
    """A host run that stops mid-download without closing anything (as if killed)."""
    modem = Modem(url, "sierra")
    modem.attach(apn="internet")
    response = modem.request("GET", https.url("/bytes/200000"), profile=profile,
                             via=via)  # type: ignore[arg-type]
    next(response.iter_bytes())
    modem.channel.close()  # the port goes away; the module keeps its sessions


@pytest.mark.parametrize("via", ["socket", "native"])
def test_next_run_cleans_up_after_a_killed_one(https: LocalHTTPSServer, profile: TlsProfile,
                                               via: str, caplog: pytest.LogCaptureFixture
                                               ) -> None:
    with VirtualModemServer("sierra", model="hl7800") as sim:
        _killed(sim.url, https, profile, via)
        with caplog.at_level(logging.WARNING, logger="celltls.dialects.sierra.driver"), \
                Modem(sim.url, "sierra") as modem:
            left = [r.getMessage() for r in caplog.records if "earlier run" in r.getMessage()]
            assert left, "the leftover session was not found"
            driver = modem.driver
            assert isinstance(driver, Sierra)
            assert driver.recover() == {"tcp": [], "http": []}  # nothing left any more
            modem.attach(apn="internet")
            for _ in range(2):
                response = modem.request("GET", https.url("/bytes/3000"), profile=profile,
                                         via=via)  # type: ignore[arg-type]
                assert response.read() == deterministic_bytes(3000)


def _scripted_socket() -> tuple[ScriptedSierra, ATChannel, SierraSocket]:
    port = ScriptedSierra([Arrival(b"x" * 10, "after", 50)], [64])
    channel = ATChannel(port, urc_prefixes=cat.CATALOG.urc_prefixes())
    driver = Sierra(channel, model="hl7800")
    driver.pattern = PATTERN
    sock = SierraSocket(driver, 1, "server.test", 443)
    sock.poll_interval = 0.05
    sock.timeout = 5
    driver._sockets[1] = sock
    return port, channel, sock


def test_module_restart_is_named() -> None:
    port, channel, sock = _scripted_socket()
    try:
        port._emit(b"\r\n+KSUP: 0\r\n")
        with pytest.raises(ModuleRebootedError) as info:
            sock.recv(100)
        assert info.value.urc == "+KSUP: 0" and "ready" in str(info.value)
    finally:
        channel.close()


def test_network_loss_is_named() -> None:
    port, channel, sock = _scripted_socket()
    try:
        port._emit(b"\r\n+KCNX_IND: 1,0,0\r\n")
        with pytest.raises(NetworkLostError) as info:
            sock.recv(100)
        assert info.value.urc == "+KCNX_IND: 1,0,0"
    finally:
        channel.close()
