"""The virtual XBee 3 Cellular in API mode: framing, AT frames, 0x23, extended sockets.

Byte strings are the ones shared/reference/xbee3.md §6-8 and §12 C give (sections named per
test); TLS goes to real local HTTPS servers.
"""

from __future__ import annotations

import hashlib
import ssl
import time
from collections.abc import Iterator

import pytest
import trustme

from celltls.dialects.xbee3.modem_fs import StoredFile
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from tests.xbee3.test_xbee3_modem_support import Line, frame, unframe


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki()


@pytest.fixture(scope="module")
def https(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem) as server:
        yield server


@pytest.fixture
def api(pki: PKI) -> Iterator[Line]:
    host = Line(api_mode=1)
    host.modem.fs.files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
    host.modem.params["$0"] = "root.pem;;"
    yield host
    host.close()


def _http_get(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def _body_complete(data: bytes, length: int) -> bool:
    _head, sep, body = data.partition(b"\r\n\r\n")
    return bool(sep) and len(body) >= length


# ---------------------------------------------------------------------- framing, 0x08/0x88
def test_reference_at_examples(api: Line) -> None:
    """§7 examples: AI query, DE set, unknown command, byte for byte."""
    api.send(bytes.fromhex("7E000408014149 6C".replace(" ", "")))
    assert api.read_exact(10) == bytes.fromhex("7E0006880141490000EC")
    api.send(bytes.fromhex("7E0006080244 4501BBB0".replace(" ", "")))
    assert api.read_exact(9) == bytes.fromhex("7E0005880244450 0EC".replace(" ", ""))
    api.send(bytes.fromhex("7E00040803585844"))
    assert api.read_exact(9) == bytes.fromhex("7E00058803585802C2")
    assert api.modem.params["DE"] == 0x1BB


def test_bad_checksum_is_dropped(api: Line) -> None:
    """§6: a frame whose checksum does not add up to 0xFF is ignored."""
    api.send(bytes.fromhex("7E00040801414900"))
    time.sleep(0.1)
    assert api.take() == b""
    assert api.modem.reader.dropped == 1


def test_frame_id_zero_suppresses_the_response(api: Line) -> None:
    """§6: frame ID 0 suppresses the 0x88 response."""
    api.send(frame(b"\x08\x00DE\x00\x50"))
    time.sleep(0.1)
    assert api.take() == b""
    assert api.modem.params["DE"] == 0x50


def test_escaped_mode_reference_example() -> None:
    """§6 AP=2: frame ID 0x7D travels as ``7D 5D``; the response is escaped the same way."""
    host = Line(api_mode=2)
    try:
        host.send(bytes.fromhex("7E000408 7D5D 4149F0".replace(" ", "")))
        raw = host.read_exact(11, timeout=2)
        assert raw == bytes.fromhex("7E000688 7D5D 41490000 70".replace(" ", ""))
        assert unframe(raw, escaped=True) == [bytes.fromhex("887D41490000")]
    finally:
        host.close()


def test_api_values_are_binary(api: Line) -> None:
    """§2: in API mode values are binary (AP one byte; MY four bytes, D2 ``r_cmd_od``)."""
    api.send(frame(b"\x08\x05AP"))
    assert api.frames(1) == [b"\x88\x05AP\x00\x01"]
    api.send(frame(b"\x08\x06MY"))
    [reply] = api.frames(1)
    assert reply[:5] == b"\x88\x06MY\x00" and len(reply) == 9
    api.send(frame(b"\x08\x07IM"))
    assert api.frames(1) == [b"\x88\x07IM\x00" + api.modem.imei.encode()]
    api.send(frame(b"\x08\x08AP\x03"))  # AP 3 is no mode: invalid parameter
    assert api.frames(1) == [b"\x88\x08AP\x03"]


def test_queued_at_waits_for_ac(api: Line) -> None:
    """§7 0x09: the value is held until AC."""
    api.send(frame(b"\x09\x01AP\x02"))
    assert api.frames(1) == [b"\x88\x01AP\x00"]
    assert api.modem.op_mode == 1
    api.send(frame(b"\x08\x02AC"))
    assert api.frames(1) == [b"\x88\x02AC\x00"]
    assert api.modem.op_mode == 2


def test_reset_sends_modem_status(api: Line) -> None:
    """§4 0x8A: 0x00 on reset, then 0x02 registered (``7E 00 02 8A 02 73``)."""
    api.send(frame(b"\x08\x01FR"))
    frames = api.frames(3, timeout=3)
    assert frames == [b"\x88\x01FR\x00", b"\x8a\x00", b"\x8a\x02"]


def test_registration_loss_status_and_refusals(api: Line) -> None:
    """§4 0x8A 0x03 unregistered; §8 0xC0 status 0x22 not registered."""
    api.modem.fault_lose_registration()
    assert api.frames(1) == [b"\x8a\x03"]
    api.send(frame(b"\x40\x01\x01"))
    assert api.frames(1) == [b"\xc0\x01\xff\x22"]
    api.modem.fault_restore_registration()
    assert api.frames(1) == [b"\x8a\x02"]


# ---------------------------------------------------------------------- 0x23 and 0xB0
def test_tx_with_tls_profile_and_rx(api: Line, https: LocalHTTPSServer) -> None:
    """§7 0x23 (frame ID, IPv4, port, source port 0, profile, options, payload) → 0x89 0x00,
    the response in 0xB0 frames (source IPv4, local port, remote port, protocol 4, status)."""
    request = _http_get("/bytes/3000", https.port)
    head = b"\x23\x01" + bytes([127, 0, 0, 1]) + https.port.to_bytes(2, "big") + b"\x00\x00\x00\x00"
    api.send(frame(head + request))
    [status] = api.frames(1, timeout=10)
    assert status == b"\x89\x01\x00"
    received = b""
    while not _body_complete(received, 3000):
        for rx in api.frames(1, timeout=10):
            assert rx[0] == 0xB0
            assert rx[1:5] == bytes([127, 0, 0, 1])
            assert int.from_bytes(rx[7:9], "big") == https.port
            assert rx[9] == 4
            received += rx[11:]
    assert received.partition(b"\r\n\r\n")[2] == deterministic_bytes(3000)


def test_tx_profile_out_of_range_and_missing_file(api: Line, https: LocalHTTPSServer) -> None:
    """§7 0x89 0x86: a profile that does not exist, or a file that is missing (C1)."""
    head = b"\x23\x02" + bytes([127, 0, 0, 1]) + https.port.to_bytes(2, "big") + b"\x00\x00"
    api.send(frame(head + b"\x03\x00" + b"x"))
    assert api.frames(1) == [b"\x89\x02\x86"]
    api.modem.params["$1"] = "missing.pem;;"
    api.send(frame(head.replace(b"\x23\x02", b"\x23\x03") + b"\x01\x00" + b"x"))
    assert api.frames(1, timeout=10) == [b"\x89\x03\x86"]


def test_seed_leaf_certificate_as_ca_fails_root_works(pki: PKI, https: LocalHTTPSServer) -> None:
    """Seed 003 / §12 A, §10: the site's own certificate in the CA field fails (0x89 0x8B,
    TLS authentication error); the root at the top of the chain works."""
    host = Line(api_mode=1)
    try:
        leaf = pki.server_chain_pem.split(b"-----END CERTIFICATE-----")[0]
        leaf += b"-----END CERTIFICATE-----\n"
        host.modem.fs.files["/flash/cert/site.crt"] = StoredFile(leaf)
        host.modem.fs.files["/flash/cert/root.crt"] = StoredFile(pki.ca_pem)
        host.modem.params["$1"] = "site.crt;;"
        host.modem.params["$2"] = "root.crt;;"
        addr = bytes([127, 0, 0, 1]) + https.port.to_bytes(2, "big") + b"\x00\x00"
        request = _http_get("/bytes/10", https.port)
        host.send(frame(b"\x23\x01" + addr + b"\x01\x00" + request))
        assert host.frames(1, timeout=10) == [b"\x89\x01\x8b"]
        host.send(frame(b"\x23\x02" + addr + b"\x02\x00" + request))
        assert host.frames(1, timeout=10) == [b"\x89\x02\x00"]
    finally:
        host.close()


# ---------------------------------------------------------------------- extended sockets
def _create(host: Line, frame_id: int, protocol: int = 4) -> int:
    host.send(frame(bytes([0x40, frame_id, protocol])))
    [reply] = host.frames(1)
    assert reply[:2] == bytes([0xC0, frame_id]) and reply[3] == 0
    return reply[2]


def _connect(host: Line, frame_id: int, sid: int, port: int, name: bytes = b"127.0.0.1") -> None:
    host.send(frame(bytes([0x42, frame_id, sid]) + port.to_bytes(2, "big") + b"\x01" + name))
    assert host.frames(1) == [bytes([0xC2, frame_id, sid, 0x00])]  # started
    assert host.frames(1, timeout=10) == [bytes([0xCF, sid, 0x00])]  # connected


def test_extended_socket_session_log_c_shapes(api: Line, https: LocalHTTPSServer) -> None:
    """§12 C (D1 HTTP example): create → C0, connect by name (type 1) → C2 00 then CF 00,
    send → 89 00, CD receive frames, close → C3."""
    api.send(bytes.fromhex("7E00034001 04BA".replace(" ", "")))  # create TLS, frame ID 1
    assert api.read_exact(8) == bytes.fromhex("7E0004C00100003E")
    api.send(frame(b"\x41\x05\x00\x00\x00"))  # TLS profile option = 0 (§8)
    assert api.frames(1) == [b"\xc1\x05\x00\x00\x00"]
    _connect(api, 2, 0, https.port, b"localhost")
    api.send(frame(b"\x44\x03\x00\x00" + _http_get("/bytes/4000", https.port)))
    assert api.frames(1, timeout=10) == [b"\x89\x03\x00"]
    data = b""
    while not _body_complete(data, 4000):
        [rx] = api.frames(1, timeout=10)
        assert rx[:4] == b"\xcd\x00\x00\x00" and len(rx) - 4 <= 1500
        data += rx[4:]
    assert data.partition(b"\r\n\r\n")[2] == deterministic_bytes(4000)
    api.send(bytes.fromhex("7E0003430100BB"))
    assert api.read_exact(8) == bytes.fromhex("7E0004C30100003B")


def test_peer_close_reports_cf_07_and_frees_the_id(api: Line, https: LocalHTTPSServer) -> None:
    """§8 0xCF 0x07 connection lost (peer closed); the ID is freed (D2 p.281)."""
    sid = _create(api, 1)
    _connect(api, 2, sid, https.port)
    request = b"GET /status/204 HTTP/1.1\r\nConnection: close\r\n\r\n"
    api.send(frame(bytes([0x44, 3, sid, 0]) + request))
    frames: list[bytes] = []
    while bytes([0xCF, sid, 0x07]) not in frames:
        frames += api.frames(1, timeout=10)
    assert frames[0] == b"\x89\x03\x00"
    assert sid not in api.modem.sockets
    api.send(frame(bytes([0x44, 4, sid, 0]) + b"x"))
    assert api.frames(1) == [b"\x89\x04\x20"]


def test_option_and_connect_errors(api: Line) -> None:
    """§8: option on a TCP socket → 0x01; bad socket → 0x20; bad address type → 0x01;
    send before connect → 0x89 0x87; close of an unknown ID → 0x20; protocol 2 → 0x7B."""
    tcp = _create(api, 1, protocol=1)
    api.send(frame(bytes([0x41, 2, tcp, 0, 1])))
    assert api.frames(1) == [bytes([0xC1, 2, tcp, 0, 0x01])]
    api.send(frame(bytes([0x41, 3, 9, 0])))
    assert api.frames(1) == [bytes([0xC1, 3, 9, 0, 0x20])]
    api.send(frame(bytes([0x42, 4, tcp, 0, 80, 7]) + b"x"))
    assert api.frames(1) == [bytes([0xC2, 4, tcp, 0x01])]
    api.send(frame(bytes([0x44, 5, tcp, 0]) + b"x"))
    assert api.frames(1) == [b"\x89\x05\x87"]
    api.send(frame(bytes([0x43, 6, 9])))
    assert api.frames(1) == [bytes([0xC3, 6, 9, 0x20])]
    api.send(frame(bytes([0x40, 7, 2])))
    assert api.frames(1) == [b"\xc0\x07\xff\x7b"]


def test_create_always_answers_and_socket_limit(api: Line) -> None:
    """§6: 0x40 answers even with frame ID 0; §8 0x32 once the sockets are used up."""
    ids = [_create(api, 0) for _ in range(6)]
    assert sorted(ids) == list(range(6))
    api.send(frame(b"\x40\x01\x04"))
    assert api.frames(1) == [b"\xc0\x01\xff\x32"]
    api.send(frame(b"\x43\x02\xff"))  # close all
    assert api.frames(1) == [b"\xc3\x02\xff\x00"]
    assert api.modem.sockets == {}


def test_wrong_ca_on_extended_socket(pki: PKI, https: LocalHTTPSServer) -> None:
    """§10: a CA that did not sign the server fails the connection: 0xCF with a non-zero
    status (0x08, the simulator's choice: §8 leaves the code unknown) and the ID is freed."""
    host = Line(api_mode=1)
    try:
        other = trustme.CA(key_type=trustme.KeyType.RSA)
        host.modem.fs.files["/flash/cert/other.pem"] = StoredFile(other.cert_pem.bytes())
        host.modem.params["$0"] = "other.pem;;"
        sid = _create(host, 1)
        host.send(frame(bytes([0x42, 2, sid]) + https.port.to_bytes(2, "big") + b"\x00"
                        + bytes([127, 0, 0, 1])))
        assert host.frames(2, timeout=10) == [bytes([0xC2, 2, sid, 0]), bytes([0xCF, sid, 0x08])]
        assert sid not in host.modem.sockets
        assert host.modem.last_failure is not None
        assert host.modem.last_failure.reason.startswith("verify failed")
    finally:
        host.close()


def test_connection_refused_on_extended_socket(api: Line) -> None:
    """§8 0xCF 0x02 connection refused."""
    import socket as _socket

    probe = _socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sid = _create(api, 1, protocol=1)
    api.send(frame(bytes([0x42, 2, sid]) + port.to_bytes(2, "big") + b"\x01127.0.0.1"))
    assert api.frames(2, timeout=10) == [bytes([0xC2, 2, sid, 0]), bytes([0xCF, sid, 0x02])]


def test_several_sockets_at_once(api: Line, https: LocalHTTPSServer) -> None:
    """§8: several extended sockets open together, each with its own data."""
    sids = [_create(api, i + 1) for i in range(3)]
    for i, sid in enumerate(sids):
        _connect(api, 10 + i, sid, https.port)
    for i, sid in enumerate(sids):
        api.send(frame(bytes([0x44, 20 + i, sid, 0])
                       + _http_get(f"/bytes/{2000 + i}?seed={i}", https.port)))
    received = {sid: b"" for sid in sids}
    statuses: list[bytes] = []
    while not all(_body_complete(received[s], 2000 + i) for i, s in enumerate(sids)):
        [item] = api.frames(1, timeout=10)
        if item[0] == 0xCD:
            received[item[2]] += item[4:]
        else:
            statuses.append(item)
    assert sorted(statuses) == [bytes([0x89, 20 + i, 0]) for i in range(3)]
    for i, sid in enumerate(sids):
        assert received[sid].partition(b"\r\n\r\n")[2] == deterministic_bytes(2000 + i, i)


def test_one_mib_byte_exact(api: Line, https: LocalHTTPSServer) -> None:
    """A 1 MiB body arrives byte-exact in 0xCD frames of at most 1500 bytes (§6 limit)."""
    size = 1 << 20
    sid = _create(api, 1)
    _connect(api, 2, sid, https.port)
    api.send(frame(bytes([0x44, 3, sid, 0]) + _http_get(f"/bytes/{size}", https.port)))
    data = bytearray()
    while not _body_complete(bytes(data), size):
        for item in api.frames(1, timeout=20):
            if item[0] == 0xCD:
                assert len(item) - 4 <= 1500
                data += item[4:]
    body = bytes(data).partition(b"\r\n\r\n")[2]
    assert hashlib.sha256(body).digest() == hashlib.sha256(deterministic_bytes(size)).digest()


def test_module_tls_is_limited(pki: PKI) -> None:
    """§10 (L2): the module offers RSA key exchange AES-256-CBC only; an ECDHE-only server
    fails the handshake (0x89 0x85 on 0x23, as L2 saw)."""
    server = LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem, ciphers="ECDHE+AESGCM",
                              minimum_version=ssl.TLSVersion.TLSv1_2)
    host = Line(api_mode=1)
    try:
        server.start()
        host.modem.fs.files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
        host.modem.params["$0"] = "root.pem;;"
        addr = bytes([127, 0, 0, 1]) + server.port.to_bytes(2, "big") + b"\x00\x00"
        host.send(frame(b"\x23\x01" + addr + b"\x00\x00" + b"GET / HTTP/1.1\r\n\r\n"))
        assert host.frames(1, timeout=10) == [b"\x89\x01\x85"]
    finally:
        host.close()
        server.stop()


def test_escape_from_api_mode_and_back(api: Line) -> None:
    """§2: command mode is entered from API mode too (D1p p.123: CN returns to the previous
    mode); digi-xbee relies on it to find the operating mode."""
    api.escape()
    assert api.at("ATAP") == "1"
    assert api.at("ATCN") == "OK"
    api.send(frame(b"\x08\x01AP"))
    assert api.frames(1) == [b"\x88\x01AP\x00\x01"]


def test_si_lists_open_sockets(api: Line, https: LocalHTTPSServer) -> None:
    """§3 SI (D1p p.243): IDs one per line then a blank line; with an ID, its details."""
    sid = _create(api, 1)
    _connect(api, 2, sid, https.port)
    api.escape()
    api.send(b"ATSI\r")
    assert api.read_until(b"\r\r") == f"{sid:X}\r\r".encode()
    api.send(f"ATSI{sid:X}\r".encode())
    details = api.read_until(b"\r\r").decode().split("\r")
    assert details[:3] == [f"{sid:X}", "Connected", "TLS"]
    assert details[4] == f"{https.port:X}" and details[5] == "127.0.0.1"
    assert api.at("ATCN") == "OK"


def test_secure_upload_never_reaches_the_transcript() -> None:
    """A private key uploaded with XPUT (§5) is recorded as ``<redacted N bytes>``."""
    from tests.xbee3.test_xbee3_modem_fs import ymodem_send

    host = Line()
    host.modem.keep_transcript = True
    try:
        host.escape()
        host.send(b"ATFS XPUT cert/key.pem\r")
        host.read_until(b"\r")
        secret = b"-----BEGIN RSA PRIVATE KEY-----\nMIIsecret\n"
        ymodem_send(host, "key.pem", secret)
        assert host.read_until(b"\r") == b"OK\r"
        sent = b"".join(data for direction, data in host.modem.transcript if direction == ">")
        assert b"MIIsecret" not in sent and b"<redacted" in sent
        assert host.modem.fs.files["/flash/cert/key.pem"].data == secret
    finally:
        host.close()


def test_escaped_api_mode_carries_every_byte(https: LocalHTTPSServer, pki: PKI) -> None:
    """§6 AP=2: a body full of 0x7E/0x7D/0x11/0x13 arrives intact in escaped 0xCD frames."""
    host = Line(api_mode=2)
    try:
        host.modem.fs.files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
        host.modem.params["$0"] = "root.pem;;"
        host.send(frame(b"\x40\x01\x04", escaped=True))
        [created] = host.frames(1, escaped=True)
        sid = created[2]
        host.send(frame(bytes([0x42, 2, sid]) + https.port.to_bytes(2, "big") + b"\x01localhost",
                        escaped=True))
        assert host.frames(2, escaped=True, timeout=10) == [bytes([0xC2, 2, sid, 0]),
                                                            bytes([0xCF, sid, 0])]
        size = 50_000
        host.send(frame(bytes([0x44, 0x11, sid, 0]) + _http_get(f"/bytes/{size}?seed=5",
                                                                https.port), escaped=True))
        data = b""
        while not _body_complete(data, size):
            [item] = host.frames(1, escaped=True, timeout=10)
            if item[0] == 0xCD:
                data += item[4:]
            else:
                assert item == b"\x89\x11\x00"
        body = data.partition(b"\r\n\r\n")[2]
        assert body == deterministic_bytes(size, 5)
        assert {0x7E, 0x7D, 0x11, 0x13} <= set(body)
    finally:
        host.close()


def test_reboot_closes_sockets_and_reports_status(api: Line, https: LocalHTTPSServer) -> None:
    """A module reset (fault): modem status 0x00 then 0x02 (§4 0x8A); the sockets are gone,
    a send on the old ID answers 0x89 0x20; a new socket works."""
    sid = _create(api, 1)
    _connect(api, 2, sid, https.port)
    api.modem.reboot()
    assert api.frames(2) == [b"\x8a\x00", b"\x8a\x02"]
    assert api.modem.sockets == {}
    api.send(frame(bytes([0x44, 3, sid, 0]) + b"x"))
    assert api.frames(1) == [b"\x89\x03\x20"]
    again = _create(api, 4)
    _connect(api, 5, again, https.port)


def test_server_close_fault(api: Line, https: LocalHTTPSServer) -> None:
    """fault_server_close: the server side drops; the module reports 0xCF 0x07 (§8)."""
    sid = _create(api, 1)
    _connect(api, 2, sid, https.port)
    api.modem.fault_server_close(sid)
    assert api.frames(1, timeout=10) == [bytes([0xCF, sid, 0x07])]


def test_tx_ipv4_plain_tcp() -> None:
    """§7 0x20 protocol 1 (TCP): an echo server's answer comes back in 0xB0 with protocol 1;
    options bit 1 closes the socket after the send."""
    import socket as _socket
    import threading

    listener = _socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def echo() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(conn.recv(100).upper())
            time.sleep(0.5)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    host = Line(api_mode=1)
    try:
        addr = bytes([127, 0, 0, 1]) + port.to_bytes(2, "big") + b"\x00\x00"
        host.send(frame(b"\x20\x01" + addr + b"\x01\x00" + b"hello"))
        frames = host.frames(2, timeout=10)
        assert frames[0] == b"\x89\x01\x00"
        assert frames[1][0] == 0xB0 and frames[1][9] == 1 and frames[1][11:] == b"HELLO"
        local_port = int.from_bytes(frames[1][5:7], "big")
        host.send(frame(b"\x20\x02" + addr[:6] + local_port.to_bytes(2, "big") + b"\x01\x02!"))
        assert host.frames(1, timeout=10) == [b"\x89\x02\x00"]
        time.sleep(0.1)
        assert host.modem.sockets == {}
    finally:
        host.close()
        listener.close()
        thread.join(timeout=2)


def test_mutual_tls_with_client_certificate(pki: PKI) -> None:
    """§3 ``$n`` = ca;client_cert;client_key: the certificate is presented when the server asks;
    the key must be unencrypted PKCS#1 RSA (§10, D3 p.101), a PKCS#8 key is refused (0x86)."""
    from cryptography.hazmat.primitives import serialization

    creds = pki.client("xbee-device")
    key = serialization.load_pem_private_key(creds.key_pem, password=None)
    pkcs1 = key.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption())
    pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    server = LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem, client_ca_pem=pki.ca_pem)
    host = Line(api_mode=1)
    try:
        server.start()
        files = host.modem.fs.files
        files["/flash/cert/root.pem"] = StoredFile(pki.ca_pem)
        files["/flash/cert/dev.crt"] = StoredFile(creds.cert_pem)
        files["/flash/cert/dev.key"] = StoredFile(pkcs1, secure=True)
        files["/flash/cert/dev8.key"] = StoredFile(pkcs8, secure=True)
        host.modem.params["$1"] = "root.pem;dev.crt;dev.key"
        host.modem.params["$2"] = "root.pem;dev.crt;dev8.key"
        addr = bytes([127, 0, 0, 1]) + server.port.to_bytes(2, "big") + b"\x00\x00"
        request = _http_get("/client-cert", server.port)
        host.send(frame(b"\x23\x01" + addr + b"\x02\x00" + request))
        assert host.frames(1, timeout=10) == [b"\x89\x01\x86"]
        host.send(frame(b"\x23\x02" + addr + b"\x01\x00" + request))
        assert host.frames(1, timeout=10) == [b"\x89\x02\x00"]
        data = b""
        while b"xbee-device" not in data:
            [rx] = host.frames(1, timeout=10)
            data += rx[11:]
        assert data.startswith(b"HTTP/1.1 200")
    finally:
        host.close()
        server.stop()


def test_frames_wait_while_in_command_mode(api: Line) -> None:
    """Command mode owns the line: data arriving on a socket meanwhile is framed after CN
    (the command responses stay plain ``...\\r`` lines, §2)."""
    import socket as _socket
    import threading

    listener = _socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def late_sender() -> None:
        conn, _ = listener.accept()
        with conn:
            time.sleep(0.4)
            conn.sendall(b"late data")
            time.sleep(0.5)

    thread = threading.Thread(target=late_sender, daemon=True)
    thread.start()
    try:
        sid = _create(api, 1, protocol=1)
        _connect(api, 2, sid, port)
        api.escape()
        time.sleep(0.6)  # the data arrives now
        assert api.at("ATAI") == "0"
        assert api.take() == b""
        assert api.at("ATCN") == "OK"
        assert api.frames(1, timeout=5) == [bytes([0xCD, 0, sid, 0]) + b"late data"]
    finally:
        listener.close()
        thread.join(timeout=2)


def test_udp_sockets() -> None:
    """§8 UDP: 0x40 protocol 0; 0x46 bind then 0x45 SendTo and 0xCE ReceiveFrom (source
    address and port); 0x42 then 0x44 and 0xCD; §7 0x20 UDP with 0xB0 (protocol 0) and the
    512-byte limit (§6)."""
    import socket as _socket

    peer = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(5)
    peer_port = peer.getsockname()[1]
    host = Line(api_mode=1)
    try:
        sid = _create(host, 1, protocol=0)
        host.send(frame(bytes([0x45, 2, sid]) + bytes([127, 0, 0, 1])
                        + peer_port.to_bytes(2, "big") + b"\x00" + b"early"))
        assert host.frames(1) == [b"\x89\x02\x88"]  # not bound
        host.send(frame(bytes([0x46, 3, sid]) + b"\x00\x00"))
        assert host.frames(1) == [bytes([0xC6, 3, sid, 0x01])]  # port 0: invalid
        probe = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        local = probe.getsockname()[1]
        probe.close()
        host.send(frame(bytes([0x46, 4, sid]) + local.to_bytes(2, "big")))
        assert host.frames(1) == [bytes([0xC6, 4, sid, 0x00])]
        host.send(frame(bytes([0x45, 5, sid]) + bytes([127, 0, 0, 1])
                        + peer_port.to_bytes(2, "big") + b"\x00" + b"ping"))
        assert host.frames(1) == [b"\x89\x05\x00"]
        data, source = peer.recvfrom(100)
        assert data == b"ping" and source[1] == local
        peer.sendto(b"pong", source)
        assert host.frames(1) == [bytes([0xCE, 0, sid, 127, 0, 0, 1])
                                  + peer_port.to_bytes(2, "big") + b"\x00pong"]
        other = _create(host, 6, protocol=0)
        host.send(frame(bytes([0x42, 7, other]) + peer_port.to_bytes(2, "big") + b"\x01localhost"))
        assert host.frames(2) == [bytes([0xC2, 7, other, 0]), bytes([0xCF, other, 0])]
        host.send(frame(bytes([0x44, 8, other, 0]) + b"hello"))
        assert host.frames(1) == [b"\x89\x08\x00"]
        data, source = peer.recvfrom(100)
        assert data == b"hello"
        peer.sendto(b"back", source)
        assert host.frames(1) == [bytes([0xCD, 0, other, 0]) + b"back"]
        addr = bytes([127, 0, 0, 1]) + peer_port.to_bytes(2, "big") + b"\x00\x00"
        host.send(frame(b"\x20\x09" + addr + b"\x00\x00" + bytes(513)))
        assert host.frames(1) == [b"\x89\x09\x74"]
        host.send(frame(b"\x20\x0a" + addr + b"\x00\x00" + b"implicit"))
        assert host.frames(1) == [b"\x89\x0a\x00"]
        data, source = peer.recvfrom(100)
        assert data == b"implicit"
        peer.sendto(b"reply", source)
        [rx] = host.frames(1)
        assert rx[0] == 0xB0 and rx[1:5] == bytes([127, 0, 0, 1]) and rx[9] == 0
        assert int.from_bytes(rx[7:9], "big") == peer_port and rx[11:] == b"reply"
    finally:
        host.close()
        peer.close()


def test_ca_file_with_two_certificates_is_refused(pki: PKI, https: LocalHTTPSServer) -> None:
    """§10, §13 pitfall 4: one certificate per CA file; a bundle is an invalid TLS
    configuration (0x89 0x86)."""
    host = Line(api_mode=1)
    try:
        other = trustme.CA(key_type=trustme.KeyType.RSA).cert_pem.bytes()
        host.modem.fs.files["/flash/cert/bundle.pem"] = StoredFile(pki.ca_pem + other)
        host.modem.params["$0"] = "bundle.pem;;"
        addr = bytes([127, 0, 0, 1]) + https.port.to_bytes(2, "big") + b"\x00\x00"
        host.send(frame(b"\x23\x01" + addr + b"\x00\x00" + _http_get("/", https.port)))
        assert host.frames(1, timeout=10) == [b"\x89\x01\x86"]
    finally:
        host.close()
