"""Faults injected into the virtual Quectel GSM modem: the library reacts as the note says."""

from __future__ import annotations

import contextlib
import datetime
import io
import socket
import threading
from collections.abc import Iterator

import pytest
import trustme

from celltls import HTTPError, Modem, NetworkError, SocketError, TlsProfile
from celltls.errors import (
    CertificateExpiredError,
    ConnectionRefusedByServer,
    ConnectTimeoutError,
    DNSError,
    ModuleRebootedError,
    NetworkLostError,
)
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from celltls.trace import TranscriptWriter, read_text


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


# -- names for what happened (issue 12) ---------------------------------------------------------


def _modem_lines(transcript: io.StringIO) -> list[str]:
    return [r.text for r in read_text(transcript.getvalue()).records if r.direction == "<"]


def _host_lines(transcript: io.StringIO) -> list[str]:
    return [r.text for r in read_text(transcript.getvalue()).records if r.direction == ">"]


@pytest.mark.parametrize("transparent", [False, True], ids=["read-commands", "transparent"])
def test_pdp_loss_mid_download_is_network_lost(modem: Modem, sim: VirtualModemServer,
                                              https: LocalHTTPSServer, profile: TlsProfile,
                                              transcript: io.StringIO, transparent: bool) -> None:
    """With the read commands: ``+QSSLURC: "closed"`` then ``+PDP DEACT`` (SSL-AN 2.2.10.2).
    In transparent mode (a request the server ends): ``CLOSED`` ends data mode, then
    ``+PDP DEACT``, sometimes in a later read, which the cut body waits for
    (SecureSocket.end_cause). Either way the network's loss is named, with the URC, not a body
    that merely stopped short (PartialBodyError), and the next request works."""
    options: dict[str, object] = {"tls": "module", "keep_alive": False} if transparent else {}
    # transparent: a body the server spreads over 2 s, so that the loss comes in the middle
    path = "/chunked/200000?interval=0.01" if transparent else "/bytes/1048576"
    response = modem.request("GET", https.url(path), profile=profile,
                             **options)  # type: ignore[arg-type]
    chunks = response.iter_bytes()
    next(chunks)
    sim.modem.fault_deactivate_pdp()
    with pytest.raises(NetworkLostError) as caught:
        for _ in chunks:
            pass
    assert "PDP DEACT" in caught.value.urc
    assert "PDP DEACT" in str(caught.value)
    opens = [line for line in _host_lines(transcript) if line.startswith("AT+QSSLOPEN=")]
    assert opens and opens[0].split(",")[4] == ("1" if transparent else "0"), opens
    modem.attach(apn="internet")
    again = modem.request("GET", https.url("/bytes/2000"), profile=profile,
                          **options)  # type: ignore[arg-type]
    assert again.read() == deterministic_bytes(2000)


def test_reboot_mid_download_is_module_rebooted(modem: Modem, sim: VirtualModemServer,
                                               https: LocalHTTPSServer,
                                               profile: TlsProfile) -> None:
    response = modem.request("GET", https.url("/bytes/1048576"), profile=profile)
    _reboot_is_named_then_the_next_request_works(modem, sim, https, profile,
                                                 response.iter_bytes())


def _reboot_is_named_then_the_next_request_works(
        modem: Modem, sim: VirtualModemServer, https: LocalHTTPSServer, profile: TlsProfile,
        chunks: Iterator[bytes]) -> None:
    """Restart the virtual module after the first piece of a body: the rest of it raises
    ModuleRebootedError naming the boot line, and the next request works, the driver having
    brought the network back up as the session's attach() did (the restart lost the PDP
    context, quectel-gsm-tcpip.md 2, 3)."""
    next(chunks)
    sim.modem.reboot()
    with pytest.raises(ModuleRebootedError) as caught:
        for _ in chunks:
            pass
    assert caught.value.urc in ("RDY", "Call Ready")
    again = modem.request("GET", https.url("/bytes/2000"), profile=profile)
    assert again.read() == deterministic_bytes(2000)


def test_reboot_between_requests_the_next_one_works(modem: Modem, sim: VirtualModemServer,
                                                    https: LocalHTTPSServer,
                                                    profile: TlsProfile) -> None:
    """A restart while idle (the kept-alive connection and the PDP context are gone): the next
    request sets the module up again, attaches again and returns the exact bytes."""
    assert modem.request("GET", https.url("/bytes/100"), profile=profile).read() == \
        deterministic_bytes(100)
    booted = modem.channel.expect_urc(lambda text: text.strip() == "Call Ready")
    sim.modem.reboot()
    booted.wait(10, "Call Ready")
    modem.channel.forget(booted)
    again = modem.request("GET", https.url("/bytes/3000"), profile=profile)
    assert again.read() == deterministic_bytes(3000)


def test_reboot_in_transparent_mode_is_module_rebooted(modem: Modem, sim: VirtualModemServer,
                                                      https: LocalHTTPSServer,
                                                      profile: TlsProfile) -> None:
    """A restart while the line is in transparent mode: the start-up lines (``RDY`` ...
    ``SMS Ready``, quectel-gsm-tcpip.md 2 "Boot") reach the host as payload, and then nothing
    more comes. The read that times out names the restart (``ModuleRebootedError``), not a
    timeout; the line is back in command mode and the next request works."""
    from celltls.http import HTTPConnection

    sock = modem.tls_connect("127.0.0.1", https.port, profile, transparent=True)
    sock.timeout = 1.0
    response = HTTPConnection(sock, f"127.0.0.1:{https.port}").request(
        "GET", "/chunked/200000?interval=0.01")
    _reboot_is_named_then_the_next_request_works(modem, sim, https, profile,
                                                 response.iter_bytes())


def test_a_quiet_server_in_transparent_mode_is_a_timeout(modem: Modem, https: LocalHTTPSServer,
                                                        profile: TlsProfile) -> None:
    """The same silence without a restart (nothing asked of the server): a read timeout,
    and the connection is still there."""
    from celltls.errors import ATTimeoutError

    sock = modem.tls_connect("127.0.0.1", https.port, profile, transparent=True)
    sock.timeout = 0.5
    with pytest.raises(ATTimeoutError):
        sock.recv(100)
    sock.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = b""
    while (piece := sock.recv(4096)):
        got += piece
    assert got.endswith(deterministic_bytes(10))
    sock.close()


def test_unknown_host_is_a_dns_error(modem: Modem, profile: TlsProfile) -> None:
    with pytest.raises(DNSError, match=r"no-such-host\.invalid"):
        modem.tls_connect("no-such-host.invalid", 443, profile, timeout=30)


def test_refused_port_is_connection_refused(modem: Modem, profile: TlsProfile) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionRefusedByServer, match=str(port)):
        modem.tls_connect("127.0.0.1", port, profile, timeout=30)


def test_silent_server_is_a_connect_timeout(modem: Modem, profile: TlsProfile) -> None:
    """TCP is accepted (by the listen backlog) and no TLS answer ever comes: the module's own
    timeout (SSL-AN 2.2.2, 10 s here) expires; that is not a TLS problem."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        with pytest.raises(ConnectTimeoutError, match="within 10 s"):
            modem.tls_connect("127.0.0.1", silent.getsockname()[1], profile, timeout=10)


def test_expired_certificate_is_named(modem: Modem, pki: PKI, profile: TlsProfile) -> None:
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)
    leaf = pki.ca.issue_cert("127.0.0.1", key_type=trustme.KeyType.RSA,
                             not_before=past - datetime.timedelta(days=60), not_after=past)
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    with (
        LocalHTTPSServer(cert_chain_pem=chain, key_pem=leaf.private_key_pem.bytes()) as server,
        pytest.raises(CertificateExpiredError, match="expired"),
    ):
        modem.request("GET", server.url("/bytes/10"), profile=profile)


class DroppingRelay:
    """A line between driver and virtual modem that can lose one final result code."""

    def __init__(self, upstream_port: int) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self._listener.getsockname()[1]}"
        self._upstream_port = upstream_port
        self._pattern: bytes | None = None
        self._keep = 0
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_next(self, pattern: bytes, after: bytes = b"") -> None:
        """Drop the next ``pattern`` (modem to host); with ``after``, only a ``pattern`` that
        follows those bytes (which pass)."""
        with self._lock:
            self._pattern = after + pattern
            self._keep = len(after)

    def _accept(self) -> None:
        try:
            host, _ = self._listener.accept()
        except OSError:
            return
        modem_side = socket.create_connection(("127.0.0.1", self._upstream_port))
        self._socks += [host, modem_side]
        threading.Thread(target=self._pump, args=(host, modem_side, False), daemon=True).start()
        self._pump(modem_side, host, True)

    def _pump(self, src: socket.socket, dst: socket.socket, filtered: bool) -> None:
        held = bytearray()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                return
            held += data
            with self._lock:
                pattern = self._pattern if filtered else None
                if pattern is not None and (at := held.find(pattern)) >= 0:
                    del held[at + self._keep : at + len(pattern)]
                    self._pattern = pattern = None
            # Hold back only a tail that may be the start of the pattern (a prompt must pass).
            keep = next((k for k in range(len(pattern or b"") - 1, 0, -1)
                         if pattern and held.endswith(pattern[:k])), 0)
            out = bytes(held[: len(held) - keep])
            del held[: len(out)]
            with contextlib.suppress(OSError):
                dst.sendall(out)

    def close(self) -> None:
        self._listener.close()
        for sock in self._socks:
            with contextlib.suppress(OSError):
                sock.close()


@pytest.fixture
def relay(sim: VirtualModemServer) -> Iterator[DroppingRelay]:
    line = DroppingRelay(sim.port)
    yield line
    line.close()


def test_lost_ok_of_a_query_is_asked_again(relay: DroppingRelay) -> None:
    transcript = io.StringIO()
    with Modem(relay.url, "quectel-gsm", trace=TranscriptWriter(transcript)) as modem:
        modem.attach(apn="internet")
        before = _host_lines(transcript).count("AT+QSSLSTATE")
        relay.drop_next(b"\r\nOK\r\n")
        assert modem.driver.ip_state() == "IP STATUS"  # type: ignore[attr-defined]
        assert _host_lines(transcript).count("AT+QSSLSTATE") == before + 2


def test_lost_send_ok_is_reported_not_sent_again(relay: DroppingRelay, https: LocalHTTPSServer,
                                                 profile: TlsProfile) -> None:
    transcript = io.StringIO()
    with Modem(relay.url, "quectel-gsm", trace=TranscriptWriter(transcript)) as modem:
        modem.attach(apn="internet")
        sock = modem.tls_connect("127.0.0.1", https.port, profile)
        sock.send_timeout = 3.0  # type: ignore[attr-defined]
        relay.drop_next(b"\r\nSEND OK\r\n")
        with pytest.raises(SocketError, match="not sent again"):
            sock.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n")
        sends = [line for line in _host_lines(transcript) if line.startswith("AT+QSSLSEND=")]
        assert len(sends) == 1
        with pytest.raises(SocketError):
            sock.recv(10)  # the stream is abandoned, not continued
        again = modem.request("GET", https.url("/bytes/700"), profile=profile)
        assert again.read() == deterministic_bytes(700)


def test_lost_ok_after_a_whole_read_keeps_the_bytes(relay: DroppingRelay,
                                                    https: LocalHTTPSServer,
                                                    profile: TlsProfile,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Issue 12 item 4: the ``OK`` after an ``AT+QSSLRECV`` data block is lost. The block was
    cut by its own length field (SSL-AN 2.2.4), so its bytes are whole: they are delivered, the
    read is not repeated (it empties the module's buffer), and the stream goes on exact."""
    transcript = io.StringIO()
    with Modem(relay.url, "quectel-gsm", trace=TranscriptWriter(transcript)) as modem:
        modem.attach(apn="internet")
        sock = modem.tls_connect("127.0.0.1", https.port, profile)
        sock.sendall(b"GET /bytes/700 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        # the OK after the block that ends with the body's last bytes (an earlier read may
        # have found the buffer empty, and the OK of an empty read proves nothing)
        relay.drop_next(b"\r\nOK\r\n", after=deterministic_bytes(700)[-24:])
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")
        assert received.endswith(deterministic_bytes(700))
        assert "came whole but no final result code followed" in caplog.text
        again = modem.request("GET", https.url("/bytes/70"), profile=profile)
        assert again.read() == deterministic_bytes(70)
