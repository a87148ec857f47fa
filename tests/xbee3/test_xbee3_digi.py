"""Digi's own Python library (PyPI ``digi-xbee``) drives the virtual XBee 3 Cellular on a pty.

As it drives a real module: ``CellularDevice.open()`` (0x09 reads of AP, IM, HV, VR, SH, SL,
NI...), ``is_connected()`` (AI), ``get_imei_addr()``, and ``digi.xbee.xsocket`` with
``IPProtocol.TCP_SSL`` and ``SocketOption.TLS_PROFILE`` (extended socket frames 0x40-0x44,
shared/reference/xbee3.md §8, §11) to a local HTTPS server, exchanging HTTP/1.1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from celltls.dialects.xbee3.modem_fs import StoredFile
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer

pytest.importorskip("digi.xbee")

from digi.xbee import xsocket
from digi.xbee.devices import CellularDevice
from digi.xbee.exception import XBeeSocketException
from digi.xbee.models.options import SocketOption
from digi.xbee.models.protocol import IPProtocol, XBeeProtocol
from digi.xbee.models.status import SocketState


def _server(**options: object) -> VirtualModemServer:
    """``celltls sim xbee3 --pty`` in process: the xbee3 virtual modem on a pseudo-terminal."""
    return VirtualModemServer("xbee3", pty=True, guard_time=0.1, **options)


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki()


@pytest.fixture
def device(pki: PKI) -> Iterator[tuple[CellularDevice, VirtualModemServer]]:
    server = _server(api_mode=1)
    server.modem.fs.files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
    server.start()
    dev = CellularDevice(server.url, 9600)
    try:
        yield dev, server
    finally:
        if dev.is_open():
            dev.close()
        server.stop()


def _recv_response(sock: xsocket.socket, length: int, timeout: float = 15.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data += bytes(sock.recv(4096))
        _head, sep, body = data.partition(b"\r\n\r\n")
        if sep and len(body) >= length:
            return data
    raise TimeoutError(f"got {len(data)} bytes")


def test_open_identity_and_connection(device: tuple[CellularDevice, VirtualModemServer]) -> None:
    """open(), is_connected(), get_imei_addr(): the protocol is cellular (HV 0x4B, C1 hw.py)."""
    dev, server = device
    dev.open()
    assert dev.get_protocol() is XBeeProtocol.CELLULAR
    assert dev.is_connected()
    assert str(dev.get_imei_addr()) == server.modem.imei
    server.modem.fault_lose_registration()
    assert not dev.is_connected()


def test_tls_socket_http_get_and_post(pki: PKI,
                                      device: tuple[CellularDevice, VirtualModemServer]) -> None:
    """xsocket over TCP_SSL with TLS profile 1 (``$1`` = root CA): GET and POST, byte-exact."""
    dev, server = device
    dev.open()
    dev.set_parameter("$1", b"root.pem;;")
    with LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem) as https:
        sock = xsocket.socket(dev, IPProtocol.TCP_SSL)
        try:
            sock.setsocketopt(SocketOption.TLS_PROFILE, bytes([1]))
            assert bytes(sock.getsocketopt(SocketOption.TLS_PROFILE)) == b"\x01"
            sock.connect(("127.0.0.1", https.port))
            sock.sendall(f"GET /bytes/5000?seed=3 HTTP/1.1\r\nHost: 127.0.0.1:{https.port}"
                         "\r\n\r\n".encode())
            response = _recv_response(sock, 5000)
            assert response.startswith(b"HTTP/1.1 200")
            assert response.partition(b"\r\n\r\n")[2] == deterministic_bytes(5000, 3)
            body = b"posted through digi-xbee"
            sock.sendall(f"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}"
                         "\r\nContent-Type: text/plain\r\n\r\n".encode() + body)
            response = _recv_response(sock, len(body))
            assert response.partition(b"\r\n\r\n")[2] == body
        finally:
            sock.close()
    assert server.modem.sockets == {}


def test_tls_socket_wrong_ca_fails(device: tuple[CellularDevice, VirtualModemServer]) -> None:
    """A profile whose CA did not sign the server: connect() fails with the 0xCF status
    (0x08 unknown error: the simulator's choice, §8 leaves the TLS failure code unknown)."""
    import trustme

    dev, server = device
    other = trustme.CA(key_type=trustme.KeyType.RSA)
    server.modem.fs.files["/flash/cert/other.pem"] = StoredFile(other.cert_pem.bytes())
    dev.open()
    dev.set_parameter("$2", b"other.pem;;")
    pki = make_pki()
    with LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem) as https:
        sock = xsocket.socket(dev, IPProtocol.TCP_SSL)
        try:
            sock.setsocketopt(SocketOption.TLS_PROFILE, bytes([2]))
            with pytest.raises(XBeeSocketException) as caught:
                sock.connect(("127.0.0.1", https.port))
            assert caught.value.status is SocketState.UNKNOWN_ERROR  # 0xCF 0x08
        finally:
            sock.close()
    assert server.modem.last_failure is not None
    assert server.modem.last_failure.reason.startswith("verify failed")
