"""Sierra recovery: what an earlier host run left open is closed at start (sierra-hl78xx.md S4
"Sessions left by an earlier host run", S6), a restart (+KSUP, S2) and a lost network
(+KCNX_IND <cnx>,0, S3) are named, and the next request succeeds."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.at.channel import ATChannel
from celltls.dialects.sierra import catalog as cat
from celltls.dialects.sierra.driver import Sierra, SierraSocket
from celltls.dialects.sierra.modem import SierraModem
from celltls.errors import ModuleRebootedError, NetworkLostError
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from tests.faults.proxy import TcpRelay
from tests.sierra.test_sierra_socket import PATTERN, Arrival, ScriptedSierra

GUARD = 0.2  # escape-sequence guard time of the virtual modem and the driver, seconds


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


def _line_free(sim: VirtualModemServer, timeout: float = 3.0) -> None:
    """Wait until the virtual modem noticed that the host's connection is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and getattr(sim, "_conn", None) is not None:
        time.sleep(0.02)


@pytest.mark.parametrize(("rate", "size", "ended_within"),
                         [(48 * 1024, 240000, None), (16 * 1024, 400000, 20.0)],
                         ids=["waits-for-the-end", "ends-it-with-escape"])
def test_next_request_after_a_line_drop_mid_body(https: LocalHTTPSServer, profile: TlsProfile,
                                                  monkeypatch: pytest.MonkeyPatch, rate: int,
                                                  size: int, ended_within: float | None) -> None:
    """The line drops in the middle of an AT+KHTTPGET body while the module still streams it
    (a slow server); a new run on the same module must then get exact bytes, twice.

    The module stays in data mode until the EOF pattern and OK (HL75-ATIG 11.10.3, S7 p.207),
    so the new run's commands are not answered inside the old body: the driver's start
    (:meth:`Sierra.sync`) waits for that end (about 4 s left) or, when it does not come (about
    24 s left), ends the transfer with ``+++`` (HL75-ATIG 16.9, S7 p.302), then deletes the
    leftover session. The new session's connection is made slow (it starts 0.5 s after the old
    transfer ended), so that the old transfer's ``+KHTTP_IND: 1,3,...`` taken for the new
    session's ``+KHTTP_IND: 1,1`` (the id is reused) would fail the request."""
    relay = TcpRelay(https.port, rate=rate)
    url = f"https://127.0.0.1:{relay.port}"
    try:
        with VirtualModemServer("sierra", model="hl7800", guard_time=GUARD) as sim:
            module = sim.modem
            assert isinstance(module, SierraModem)
            old_done, dropped = threading.Event(), threading.Event()
            exchange, connect = module._http_exchange, module._http_connect

            def exchange_then_mark(*args: Any) -> None:
                exchange(*args)
                old_done.set()

            def slow_connect(*args: Any) -> None:
                if dropped.is_set():
                    old_done.wait(30)
                    time.sleep(0.5)
                connect(*args)

            monkeypatch.setattr(module, "_http_exchange", exchange_then_mark)
            monkeypatch.setattr(module, "_http_connect", slow_connect)
            modem = Modem(sim.url, "sierra", model="hl7800", guard_time=GUARD)
            modem.attach(apn="internet")
            response = modem.request("GET", f"{url}/bytes/{size}", profile=profile,
                                     via="native")
            next(response.iter_bytes())
            modem.channel.close()  # the line drops mid-body; the module keeps its transfer
            dropped.set()
            cut = time.monotonic()
            _line_free(sim)
            assert not old_done.is_set(), "the cut transfer should still be streaming"
            with Modem(sim.url, "sierra", model="hl7800", guard_time=GUARD) as modem:
                assert old_done.is_set(), "the new run started inside the old transfer"
                if ended_within is not None:  # by +++, long before the server's last byte
                    assert time.monotonic() - cut < ended_within
                modem.attach(apn="internet")
                for seed in (7, 8):
                    response = modem.request("GET", f"{url}/bytes/3000?seed={seed}",
                                             profile=profile, via="native")
                    assert response.status == 200
                    assert response.read() == deterministic_bytes(3000, seed)
    finally:
        relay.close()


def test_an_earlier_transfers_report_is_not_taken_for_the_connection(
        https: LocalHTTPSServer, profile: TlsProfile, monkeypatch: pytest.MonkeyPatch) -> None:
    """After ``AT+KHTTPCFG`` the driver waits for ``+KHTTP_IND: <id>,1`` (§6, S5d); a
    ``+KHTTP_IND: <id>,3,...`` of the same id is the end of an earlier transfer on a reused id
    (a cut request's) and must not start the request before the session is connected."""
    with VirtualModemServer("sierra", model="hl7800") as sim:
        module = sim.modem
        assert isinstance(module, SierraModem)
        connect = module._http_connect

        def late_connect(*args: Any) -> None:
            session = args[0]
            module.urc(f'+KHTTP_IND: {session.sid},3,3230,200,"OK"')  # an earlier transfer's
            time.sleep(0.3)
            connect(*args)

        monkeypatch.setattr(module, "_http_connect", late_connect)
        with Modem(sim.url, "sierra", model="hl7800") as modem:
            modem.attach(apn="internet")
            response = modem.request("GET", https.url("/bytes/3000"), profile=profile,
                                     via="native")
            assert response.read() == deterministic_bytes(3000)


def _spy_writes(modem: Modem, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record every raw write of the driver's channel (``+++`` is one)."""
    written: list[bytes] = []
    write_raw = modem.channel.write_raw

    def spy(data: bytes, **kwargs: Any) -> None:
        written.append(bytes(data))
        write_raw(data, **kwargs)

    monkeypatch.setattr(modem.channel, "write_raw", spy)
    return written


@pytest.mark.parametrize("after", ["timeout-left", "timeout-aborted", "closed-early"])
def test_next_request_after_a_given_up_native_download(
        https: LocalHTTPSServer, profile: TlsProfile, monkeypatch: pytest.MonkeyPatch,
        after: str) -> None:
    """The same Modem gives up on an AT+KHTTPGET before its pattern and OK: a read times out
    (the server stalls: one 1000-byte chunk every 4 s, 20 s in all), after which the caller
    drops the response or aborts it, or the caller aborts it after the first chunk. The module
    would stay in data mode until the transfer's end (HL75-ATIG 11.10.3, S7 p.207); the driver
    leaves it with ``+++`` framed by the guard time (HL75-ATIG 16.9, S7 p.302, HTTP row: ``OK``,
    the transfer dropped), so the next request on the same Modem starts at once and returns
    exact bytes, long before the old transfer would have ended."""
    with VirtualModemServer("sierra", model="hl7800", guard_time=GUARD) as sim, \
            Modem(sim.url, "sierra", model="hl7800", guard_time=GUARD) as modem:
        modem.attach(apn="internet")
        written = _spy_writes(modem, monkeypatch)
        response = modem.request("GET", https.url("/chunked/5000?interval=4"), profile=profile,
                                 via="native", timeout=1.0)
        chunks = response.iter_bytes()
        assert next(chunks) == deterministic_bytes(5000)[:1000]
        first_chunk = time.monotonic()  # the rest would take 16 s more
        if after == "closed-early":
            response.abort()
        else:
            with pytest.raises(TimeoutError):
                next(chunks)
            if after == "timeout-aborted":
                response.abort()
        escapes = written.count(b"+++")
        response = modem.request("GET", https.url("/bytes/3000?seed=5"), profile=profile,
                                 via="native")
        assert response.status == 200
        assert response.read() == deterministic_bytes(3000, 5)
        # the read timeout (1 s), two guard times, the escape's OK, the next request
        assert time.monotonic() - first_chunk < 6.0, "the next request waited for the old one"
        assert escapes == 1, "the given-up transfer was not left with +++"
        assert written.count(b"+++") == 1  # a transfer that ends by itself is not escaped


def test_a_transfer_that_ends_within_the_guard_time_is_not_escaped(
        https: LocalHTTPSServer, profile: TlsProfile, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read of an AT+KHTTPGET body times out (1 s), but the transfer ends by itself (the
    server's last chunk, the pattern, OK) within the guard time that precedes ``+++``: the
    module is in command mode again, so no ``+++`` is written (it would be taken as characters
    of the next command line), and the next request on the same Modem succeeds at once."""
    guard = 1.5
    with VirtualModemServer("sierra", model="hl7800", guard_time=guard) as sim, \
            Modem(sim.url, "sierra", model="hl7800", guard_time=guard) as modem:
        modem.attach(apn="internet")
        written = _spy_writes(modem, monkeypatch)
        # one 1000-byte chunk, then 2 s until the last chunk and the server's close
        response = modem.request("GET", https.url("/chunked/1000?interval=2"),
                                 profile=profile, via="native", timeout=1.0)
        chunks = response.iter_bytes()
        assert next(chunks) == deterministic_bytes(1000)
        with pytest.raises(TimeoutError):
            next(chunks)
        timed_out = time.monotonic()
        response.abort()
        assert b"+++" not in written
        response = modem.request("GET", https.url("/bytes/3000?seed=6"), profile=profile,
                                 via="native")
        assert response.read() == deterministic_bytes(3000, 6)
        assert time.monotonic() - timed_out < 4.0
        assert b"+++" not in written


def test_closing_the_modem_mid_download_leaves_the_module_in_command_mode(
        https: LocalHTTPSServer, profile: TlsProfile) -> None:
    """``Modem.close()`` while a native response is still being received ends its transfer
    with ``+++`` (HL75-ATIG 16.9, S7 p.302) before closing the session: the next run on the
    module finds it in command mode at once, instead of inside the old transfer's data."""
    with VirtualModemServer("sierra", model="hl7800", guard_time=GUARD) as sim:
        modem = Modem(sim.url, "sierra", model="hl7800", guard_time=GUARD)
        modem.attach(apn="internet")
        response = modem.request("GET", https.url("/chunked/5000?interval=4"), profile=profile,
                                 via="native", timeout=5.0)
        next(response.iter_bytes())
        started = time.monotonic()
        modem.close()
        with Modem(sim.url, "sierra", model="hl7800", guard_time=GUARD) as modem:
            modem.attach(apn="internet")
            response = modem.request("GET", https.url("/bytes/3000?seed=9"), profile=profile,
                                     via="native")
            assert response.read() == deterministic_bytes(3000, 9)
        assert time.monotonic() - started < 4.0


@pytest.mark.parametrize("via", ["socket", "native"])
def test_restart_between_requests_the_next_one_works(https: LocalHTTPSServer,
                                                     profile: TlsProfile, via: str) -> None:
    """A restart while idle (+KSUP: 0, S2) loses the sessions and the PDP connection: the next
    request on the same Modem sets the module up again and brings the network back up as the
    session's attach() did (AT+KCNXUP, S3), and returns the exact bytes."""
    with VirtualModemServer("sierra", model="hl7800") as sim, \
            Modem(sim.url, "sierra") as modem:
        modem.attach(apn="internet")
        first = modem.request("GET", https.url("/bytes/100"), profile=profile,
                              via=via)  # type: ignore[arg-type]
        assert first.read() == deterministic_bytes(100)
        restarted = modem.channel.expect_urc(lambda text: text.startswith("+KSUP:"))
        sim.modem.reboot()
        restarted.wait(10, "+KSUP")
        modem.channel.forget(restarted)
        again = modem.request("GET", https.url("/bytes/3000"), profile=profile,
                              via=via)  # type: ignore[arg-type]
        assert again.read() == deterministic_bytes(3000)
