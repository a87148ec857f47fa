"""Sequans driver: a module restart between two requests, on the native HTTP path and on the
socket path, against the virtual GM02S.

The module boots with its radio off: the seed thread (SQN-FORUM, shared/seeds/002, quoted in
shared/reference/sequans.md §3) shows ``+SYSSTART``, then the host's ``AT+CFUN=1`` before any
``+CEREG`` registration. A restart loses every socket and HTTP session (sequans.md §12 pitfall
16), but the PDP context definition and the NV credentials survive (§3, §4). So after a
restart the next request must bring the network back up (``AT+CFUN=1``, registration) by
itself, or fail with an error that names the restart or the radio state, never with the
"could not connect" (``+SQNHTTPCONNECT: <p>,7``) that a module with its radio off answers.

The virtual module's ``boot_time`` is made longer than the time the host takes to start its
next request, so that request begins before ``+SYSSTART`` arrives (the virtual module answers
during its boot; the fault runs of tests/faults hit exactly this order).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Literal

import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.errors import ConnectionRefusedByServer, ModuleRebootedError, NetworkError
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer

Via = Literal["socket", "native"]

#: seconds from the restart to +SYSSTART on the virtual module: longer than the host needs to
#: begin its next request
SLOW_BOOT = 0.4


@pytest.fixture
def slow_boot() -> Iterator[VirtualModemServer]:
    with VirtualModemServer("sequans", boot_time=SLOW_BOOT) as sim:
        yield sim


def _profile(pki: PKI) -> TlsProfile:
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem))


def _get(m: Modem, https: LocalHTTPSServer, pki: PKI, via: Via, seed: int, *,
         keep_alive: bool = False) -> bytes:
    """GET 3000 bytes; on the socket path each request opens its own secure socket unless
    ``keep_alive`` (the pooled connection is reused)."""
    response = m.request("GET", https.url(f"/bytes/3000?seed={seed}"), profile=_profile(pki),
                         via=via, timeout=10, keep_alive=keep_alive)
    assert response.status == 200
    return response.read()


@pytest.mark.parametrize("via", ["native", "socket"])
def test_restart_between_requests_next_request_succeeds(
        slow_boot: VirtualModemServer, pki: PKI, https: LocalHTTPSServer, via: Via) -> None:
    """A restart between two requests, its +SYSSTART not yet received when the next request
    begins: the driver finds the radio off (``+CFUN: 0``, the boot state of sequans.md §3,
    SQN-FORUM), brings the network back up and the request returns the exact bytes."""
    with Modem(slow_boot.url, "sequans") as m:
        m.attach(apn="internet", timeout=10)
        assert _get(m, https, pki, via, 1) == deterministic_bytes(3000, 1)
        slow_boot.modem.reboot()
        assert _get(m, https, pki, via, 2) == deterministic_bytes(3000, 2)
        assert slow_boot.modem.cfun == 1
        # the late +SYSSTART is the restart already handled: the request after it succeeds
        time.sleep(SLOW_BOOT + 0.2)
        assert _get(m, https, pki, via, 3) == deterministic_bytes(3000, 3)


@pytest.mark.parametrize("via", ["native", "socket"])
def test_restart_reported_while_idle_next_request_succeeds(
        slow_boot: VirtualModemServer, pki: PKI, https: LocalHTTPSServer, via: Via) -> None:
    """A restart whose +SYSSTART came while the host was idle (sequans.md §3): the next
    request initialises again, attaches again and succeeds."""
    with Modem(slow_boot.url, "sequans") as m:
        m.attach(apn="internet", timeout=10)
        assert _get(m, https, pki, via, 1) == deterministic_bytes(3000, 1)
        slow_boot.modem.reboot()
        time.sleep(SLOW_BOOT + 0.2)
        assert _get(m, https, pki, via, 2) == deterministic_bytes(3000, 2)


def test_restart_under_a_kept_alive_socket_is_named_then_the_next_request_succeeds(
        slow_boot: VirtualModemServer, pki: PKI, https: LocalHTTPSServer) -> None:
    """A kept-alive secure socket does not survive a restart (sequans.md §12 pitfall 16). When
    the request reusing it begins before +SYSSTART, the refused ``AT+SQNSSENDEXT`` (§6) is
    explained by the restart (:class:`ModuleRebootedError`), not reported as a socket
    failure: a POST (not idempotent) raises it; a GET is sent once more on a new socket
    (``Modem.request``, RFC 9112 9.3.1) over the network brought back up."""
    with Modem(slow_boot.url, "sequans") as m:
        m.attach(apn="internet", timeout=10)
        assert _get(m, https, pki, "socket", 1, keep_alive=True) == deterministic_bytes(3000, 1)
        slow_boot.modem.reboot()
        with pytest.raises(ModuleRebootedError):
            m.request("POST", https.url("/echo"), profile=_profile(pki), via="socket",
                      timeout=10, body=b"once")
        assert _get(m, https, pki, "socket", 2, keep_alive=True) == deterministic_bytes(3000, 2)
        slow_boot.modem.reboot()
        assert _get(m, https, pki, "socket", 3, keep_alive=True) == deterministic_bytes(3000, 3)


@pytest.mark.parametrize("via", ["native", "socket"])
def test_restart_and_no_registration_names_the_restart(
        slow_boot: VirtualModemServer, pki: PKI, https: LocalHTTPSServer, via: Via) -> None:
    """When the network cannot come back after a restart within the session's attach timeout,
    the error names the restart and the registration state (sequans.md §3), not "could not
    connect"."""
    with Modem(slow_boot.url, "sequans") as m:
        m.attach(apn="internet", timeout=2)
        slow_boot.modem.registration_delay = 30.0  # the network does not answer in time
        slow_boot.modem.reboot()
        start = time.monotonic()
        with pytest.raises(ModuleRebootedError) as caught:
            _get(m, https, pki, via, 1)
        assert time.monotonic() - start < 10
        text = str(caught.value)
        assert "restarted" in text and "not registered" in text
        assert not isinstance(caught.value, ConnectionRefusedByServer)


@pytest.mark.parametrize("via", ["native", "socket"])
def test_radio_off_without_attach_is_named(pki: PKI, https: LocalHTTPSServer,
                                            via: Via) -> None:
    """A session that never attached, on a module in its boot state (``+CFUN: 0``, sequans.md
    §3): the request fails with a :class:`NetworkError` naming the radio state and attach,
    not with :class:`ConnectionRefusedByServer`."""
    with VirtualModemServer("sequans") as sim, Modem(sim.url, "sequans") as m:
        m.credentials.store_ca(Certificate.from_pem(pki.ca_pem))
        with pytest.raises(NetworkError) as caught:
            _get(m, https, pki, via, 1)
        assert not isinstance(caught.value, ConnectionRefusedByServer)
        assert "+CFUN: 0" in str(caught.value) and "attach" in str(caught.value)
