"""The virtual XBee 3 Cellular in Transparent mode: TLS to DL:DE with ``$0``, and CI.

Shapes from shared/reference/xbee3.md §9 (the first data bytes open the connection, received
bytes come raw, failures only in CI), §4 (CI table) and the seed thread (§12 A, L1).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from celltls.dialects.xbee3.modem_fs import StoredFile
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from tests.xbee3.test_xbee3_modem_support import GUARD, Line


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki()


@pytest.fixture(scope="module")
def https(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem) as server:
        yield server


def _configure(line: Line, host: str, port: int, profile: str, ip: int = 4) -> None:
    line.escape()
    assert line.at(f"ATIP{ip:X}") == "OK"
    assert line.at(f"ATDL{host}") == "OK"
    assert line.at(f"ATDE{port:X}") == "OK"
    assert line.at(f"AT$0{profile}") == "OK"
    assert line.at("ATCN") == "OK"


def _response(line: Line, length: int) -> bytes:
    head = line.read_until(b"\r\n\r\n", timeout=10)
    assert head.startswith(b"HTTP/1.1 200")
    return line.read_exact(length, timeout=10)


def _ci(line: Line) -> str:
    time.sleep(GUARD)
    line.escape()
    value = line.at("ATCI")
    assert line.at("ATCN") == "OK"
    return value


def test_https_get_and_post_in_transparent_mode(pki: PKI, https: LocalHTTPSServer) -> None:
    """§9: IP=4, DL, DE in hex, ``$0`` = root CA: GET and POST over the serial line; CI reads
    0xFF before any data and 0x00 after (§4 notes, §12 B)."""
    line = Line()
    try:
        line.modem.fs.files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
        _configure(line, "localhost", https.port, "root.pem;;")
        assert _ci(line) == "FF"
        time.sleep(GUARD)
        line.send(f"GET /bytes/2000 HTTP/1.1\r\nHost: localhost:{https.port}\r\n\r\n".encode())
        assert _response(line, 2000) == deterministic_bytes(2000)
        body = b"hello xbee"
        line.send(f"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n"
                  "Content-Type: text/plain\r\n\r\n".encode() + body)
        assert _response(line, len(body)) == body
        assert _ci(line) == "0"
    finally:
        line.close()


def test_od_shows_the_live_destination(pki: PKI, https: LocalHTTPSServer) -> None:
    """§9 / D2 ``r_cmd_od``: OD is the connected IP, 0.0.0.0 when closed; changing DE closes."""
    line = Line()
    try:
        _configure(line, "127.0.0.1", https.port, ";;")  # no CA: encrypted, unauthenticated
        time.sleep(GUARD)
        line.send(b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _response(line, 10) == deterministic_bytes(10)
        time.sleep(GUARD)
        line.escape()
        assert line.at("ATOD") == "127.0.0.1"
        assert line.at("ATDE1BB") == "OK"
        assert line.at("ATAC") == "OK"
        assert line.at("ATOD") == "0.0.0.0"
    finally:
        line.close()


def test_connection_refused_sets_ci_26() -> None:
    """§4 CI 0x26 connection refused; nothing is written to the serial line (§9)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    line = Line()
    try:
        _configure(line, "127.0.0.1", port, ";;", ip=1)
        time.sleep(GUARD)
        line.send(b"GET / HTTP/1.1\r\n\r\n")
        time.sleep(0.5)
        assert line.take() == b""
        assert _ci(line) == "26"
    finally:
        line.close()


def test_dns_failure_sets_ci_25() -> None:
    """§4 CI 0x25 unknown server (DNS lookup failed)."""
    line = Line()
    try:
        _configure(line, "no-such-host.invalid", 443, ";;")
        time.sleep(GUARD)
        line.send(b"x")
        time.sleep(0.5)
        assert _ci(line) == "25"
    finally:
        line.close()


@pytest.mark.parametrize(("model", "ci"), [("lte-m", "2F"), ("cat1", "26")])
def test_seed_site_certificate_as_ca(model: str, ci: str, pki: PKI,
                                     https: LocalHTTPSServer) -> None:
    """Seed 003 (§12 A): ``$0`` names the site's own certificate (a regular file in
    /flash/cert): the GET gets no reply and CI reads 0x26 on Cat 1 (L1) or 0x2F, TLS
    authentication error, on LTE-M (§4); with the root CA the same GET works."""
    line = Line(model=model)
    try:
        leaf = pki.server_chain_pem.split(b"-----END CERTIFICATE-----")[0]
        line.modem.fs.files["/flash/cert/wgc.crt"] = StoredFile(
            leaf + b"-----END CERTIFICATE-----\n")
        line.modem.fs.files["/flash/cert/root.crt"] = StoredFile(pki.ca_pem)
        _configure(line, "localhost", https.port, "wgc.crt;;")
        time.sleep(GUARD)
        line.send(b"GET /bytes/10 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        time.sleep(0.5)
        assert line.take() == b""
        assert _ci(line) == ci
        line.escape()
        assert line.at("AT$0root.crt;;") == "OK"
        assert line.at("ATCN") == "OK"
        time.sleep(GUARD)
        line.send(b"GET /bytes/10 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert _response(line, 10) == deterministic_bytes(10)
    finally:
        line.close()


def test_path_without_leading_slash_is_relative_to_cert(pki: PKI,
                                                        https: LocalHTTPSServer) -> None:
    """§3, §13 pitfall 2: ``flash/cert/x`` names /flash/cert/flash/cert/x, which does not
    exist: accepted when set, the connection fails."""
    line = Line()
    try:
        line.modem.fs.files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
        _configure(line, "localhost", https.port, "flash/cert/root.pem;;")
        time.sleep(GUARD)
        line.send(b"GET / HTTP/1.1\r\n\r\n")
        time.sleep(0.5)
        assert _ci(line) == "2F"
        assert line.modem.last_failure is not None
        assert "/flash/cert/flash/cert/root.pem" in line.modem.last_failure.reason
    finally:
        line.close()


def test_escape_then_data_resumes_same_connection(pki: PKI, https: LocalHTTPSServer) -> None:
    """§2/§9: ``+++`` enters command mode with the connection kept; CN returns to it."""
    line = Line()
    try:
        line.modem.fs.files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
        _configure(line, "localhost", https.port, "root.pem;;")
        time.sleep(GUARD)
        line.send(b"GET /bytes/5 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert _response(line, 5) == deterministic_bytes(5)
        first = line.modem.transparent
        assert _ci(line) == "0"
        time.sleep(GUARD)
        line.send(b"GET /bytes/6 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert _response(line, 6) == deterministic_bytes(6)
        assert line.modem.transparent is first
    finally:
        line.close()


def test_one_mib_byte_exact_in_transparent_mode(pki: PKI, https: LocalHTTPSServer) -> None:
    """§9: received bytes are written raw to the serial line: 1 MiB arrives byte-exact."""
    import hashlib

    size = 1 << 20
    line = Line()
    try:
        line.modem.fs.files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
        _configure(line, "localhost", https.port, "root.pem;;")
        time.sleep(GUARD)
        line.send(f"GET /bytes/{size} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        body = _response(line, size)
        assert hashlib.sha256(body).digest() == hashlib.sha256(deterministic_bytes(size)).digest()
    finally:
        line.close()


def test_no_sni_is_sent(pki: PKI) -> None:
    """§10: SNI is not supported: with ``DL`` a host name, the ClientHello carries no
    server name (the module resolves the name and connects to the address)."""
    seen: list[str | None] = []
    server = LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem)
    server.context.sni_callback = lambda _sock, name, _ctx: seen.append(name) or None
    line = Line()
    try:
        server.start()
        line.modem.fs.files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
        _configure(line, "localhost", server.port, "root.pem;;")
        time.sleep(GUARD)
        line.send(b"GET /bytes/3 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert _response(line, 3) == deterministic_bytes(3)
        assert seen == [None]
    finally:
        line.close()
        server.stop()


def test_transparent_udp() -> None:
    """§3 IP=0, §9: serial data goes out as datagrams to DL:DE, datagrams come back raw; CI
    0x00 after a send (§4 UDP table); an unknown name gives CI 0x22 (UDP table)."""
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(5)
    line = Line()
    try:
        _configure(line, "127.0.0.1", peer.getsockname()[1], ";;", ip=0)
        time.sleep(GUARD)
        line.send(b"datagram")
        data, source = peer.recvfrom(100)
        assert data == b"datagram"
        peer.sendto(b"answer", source)
        assert line.read_exact(6) == b"answer"
        assert _ci(line) == "0"
        line.escape()
        assert line.at("ATDLno-such-host.invalid") == "OK"
        assert line.at("ATCN") == "OK"
        time.sleep(GUARD)
        line.send(b"x")
        time.sleep(0.5)
        assert _ci(line) == "22"
    finally:
        line.close()
        peer.close()
