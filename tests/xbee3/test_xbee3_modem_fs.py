"""The virtual XBee 3 Cellular's file system: ATFS commands and YMODEM upload.

Shapes from shared/reference/xbee3.md §5 (D2 p.228, C1 ``filesystem.py``/``util/xmodem.py``).
The YMODEM sender here is written for the test from §5; a second test drives the upload with
Digi's own ``digi.xbee.util.xmodem`` when it is installed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from celltls.dialects.xbee3.modem_fs import StoredFile
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from tests.xbee3.test_xbee3_modem_support import GUARD, Line

SOH, STX, EOT, ACK, NAK = 0x01, 0x02, 0x04, 0x06, 0x15


@pytest.fixture
def line() -> Iterator[Line]:
    host = Line()
    host.escape()
    yield host
    host.close()


def _crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _block(seq: int, payload: bytes, size: int) -> bytes:
    payload = payload.ljust(size, b"\x1a" if seq else b"\x00")
    head = SOH if size == 128 else STX
    return bytes([head, seq & 0xFF, 0xFF - (seq & 0xFF)]) + payload + _crc(payload).to_bytes(2,
                                                                                           "big")


def ymodem_send(line: Line, name: str, data: bytes) -> None:
    """§5: wait for ``C``, block 0, 1024-byte blocks (ACK each), EOT, ``C``, empty block 0."""
    assert line.read_exact(1) == b"C"
    line.send(_block(0, name.encode() + b"\0" + str(len(data)).encode() + b" 0", 128))
    assert line.read_exact(1) == bytes([ACK])
    assert line.read_exact(1) == b"C"
    for seq, start in enumerate(range(0, len(data), 1024), start=1):
        chunk = data[start:start + 1024]
        line.send(_block(seq, chunk, 1024 if len(chunk) >= 128 else 128))
        assert line.read_exact(1) == bytes([ACK])
    line.send(bytes([EOT]))
    assert line.read_exact(1) == bytes([ACK])
    assert line.read_exact(1) == b"C"
    line.send(_block(0, b"", 128))
    assert line.read_exact(1) == bytes([ACK])


def _lines(line: Line, until: bytes) -> list[str]:
    return line.read_until(until).decode().split("\r")


def test_pwd_md_cd_ls_shapes(line: Line) -> None:
    """§5: ATFS starts in /flash; LS lines are size or <DIR>, a space, the name, then a blank
    line; directories end in ``/``."""
    assert line.at("ATFS PWD") == "/flash"
    assert line.at("ATFS MD certs2") == "OK"
    line.send(b"ATFS LS\r")
    listing = _lines(line, b"\r\r")
    assert listing[:2] == ["   <DIR> ./", "   <DIR> ../"]
    assert "   <DIR> cert/" in listing and "   <DIR> certs2/" in listing
    assert line.at("ATFS CD cert") == "/flash/cert"
    assert line.at("ATFS PWD") == "/flash/cert"
    assert line.at("ATFS CD /nowhere").startswith("E")


def test_put_hash_ls_rm(line: Line) -> None:
    """§5: PUT receives by YMODEM (prompt, then ``C``), the size from block 0 cuts the padding;
    HASH prints the SHA-256; LS shows the size; RM deletes; a missing file is an ``E`` line."""
    data = deterministic_bytes(3000, 7)
    line.send(b"ATFS PUT cert/ca.pem\r")
    assert line.read_until(b"\r") == b"Receiving file with YMODEM...\r"
    ymodem_send(line, "ca.pem", data)
    assert line.read_until(b"\r") == b"OK\r"
    assert line.modem.fs.files["/flash/cert/ca.pem"].data == data
    digest = line.at("ATFS HASH cert/ca.pem")
    assert digest.split("sha256")[1].strip().lower() == hashlib.sha256(data).hexdigest()
    line.send(b"ATFS LS cert\r")
    assert "    3000 ca.pem" in _lines(line, b"\r\r")
    assert line.at("ATFS RM cert/ca.pem") == "OK"
    error = line.at("ATFS RM cert/ca.pem")
    assert error[0] == "E" and error.split(" ")[0].isupper()


def test_xput_is_secure(line: Line) -> None:
    """§5: XPUT stores a secure (write-only) file: listed with ``#`` (C1), no HASH."""
    line.send(b"ATFS XPUT /flash/cert/key.pem\r")
    assert line.read_until(b"\r") == b"Receiving file with YMODEM...\r"
    ymodem_send(line, "key.pem", b"-----BEGIN RSA PRIVATE KEY-----\n")
    assert line.read_until(b"\r") == b"OK\r"
    line.send(b"ATFS LS /flash/cert\r")
    assert any(entry.endswith("key.pem#") for entry in _lines(line, b"\r\r"))
    assert line.at("ATFS HASH /flash/cert/key.pem").startswith("E")


def test_files_are_flash_and_survive_reset(tmp_path: Path) -> None:
    """§5: the file system is flash: kept across a reset and, with ``nvram_path``, processes."""
    path = tmp_path / "nvm.json"
    first = Line(nvram_path=path)
    first.escape()
    first.send(b"ATFS PUT cert/a.pem\r")
    first.read_until(b"\r")
    ymodem_send(first, "a.pem", b"abc")
    assert first.read_until(b"\r") == b"OK\r"
    first.modem.reboot()
    first.escape()
    assert first.at("ATFS HASH cert/a.pem").split("sha256")[1].strip().lower() == (
        hashlib.sha256(b"abc").hexdigest())
    first.close()
    second = Line(nvram_path=path)
    try:
        assert second.modem.fs.files["/flash/cert/a.pem"].data == b"abc"
    finally:
        second.close()


def test_fs_refused_in_api_mode() -> None:
    """§5: ATFS is only taken in command mode; an 0x08 FS frame is refused (status 2)."""
    from tests.xbee3.test_xbee3_modem_support import frame

    host = Line(api_mode=1)
    try:
        host.send(frame(b"\x08\x01FSLS"))
        assert host.frames(1) == [b"\x88\x01FS\x02"]
    finally:
        host.close()


def test_digi_ymodem_upload_then_tls_with_it(tmp_path: Path) -> None:
    """§5 as C1 drives it: Digi's own YMODEM sender uploads the root CA; ``$0`` names it and a
    transparent TLS session verifies the server with it (§3, §9)."""
    xmodem = pytest.importorskip("digi.xbee.util.xmodem")
    pki: PKI = make_pki()
    source = tmp_path / "root.pem"
    source.write_bytes(pki.ca_pem)
    host = Line()
    try:
        host.escape()
        host.send(b"ATFS PUT /flash/cert/root.pem\r")
        assert host.read_until(b"\r") == b"Receiving file with YMODEM...\r"

        def write(data: bytes) -> bool:
            host.send(bytes(data))
            return True

        def read(size: int, timeout: float | None = None) -> bytes | None:
            try:
                return host.read_exact(size, timeout=timeout or 1.0)
            except TimeoutError:
                return None

        xmodem.send_file_ymodem(str(source), write, read)
        assert host.read_until(b"\r") == b"OK\r"
        with LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem) as https:
            for command in ("ATIP4", "ATDLlocalhost", f"ATDE{https.port:X}", "AT$0root.pem;;",
                            "ATCN"):
                assert host.at(command) == "OK"
            time.sleep(GUARD)
            host.send(b"GET /bytes/64 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            host.read_until(b"\r\n\r\n", timeout=10)
            assert host.read_exact(64, timeout=10) == deterministic_bytes(64)
    finally:
        host.close()


def _receive_block(line: Line) -> tuple[int, bytes]:
    head = line.read_exact(1)[0]
    if head == EOT:
        return -1, b""
    size = 128 if head == SOH else 1024
    assert head in (SOH, STX)
    rest = line.read_exact(2 + size + 2)
    seq, inverse, payload = rest[0], rest[1], rest[2:2 + size]
    assert seq ^ inverse == 0xFF
    assert _crc(payload) == int.from_bytes(rest[-2:], "big")
    return seq, payload


def test_get_sends_by_ymodem(line: Line) -> None:
    """§5 GET: the prompt, then the NAK C1 waits for; a standard CRC-mode YMODEM receiver gets
    block 0 (name, NUL, size), blocks from 1 on, EOT, the closing empty block 0, then ``OK``.
    A secure file cannot be downloaded."""
    data = deterministic_bytes(2500, 9)
    line.modem.fs.files["/flash/cert/ca.pem"] = StoredFile(data)
    line.modem.fs.files["/flash/cert/k.pem"] = StoredFile(b"k", secure=True)
    assert line.at("ATFS GET cert/k.pem").startswith("E")
    line.send(b"ATFS GET cert/ca.pem\r")
    assert line.read_until(b"\r") == b"Sending file with YMODEM...\r"
    assert line.read_exact(1) == bytes([NAK])
    line.send(b"C")
    seq, header = _receive_block(line)
    assert seq == 0 and header.split(b"\0")[:2] == [b"ca.pem", b"2500"]
    line.send(bytes([ACK]) + b"C")
    received = b""
    expected = 1
    while True:
        seq, payload = _receive_block(line)
        if seq == -1:
            break
        assert seq == expected
        received += payload
        expected += 1
        line.send(bytes([ACK]))
    line.send(bytes([ACK]) + b"C")
    seq, closing = _receive_block(line)
    assert seq == 0 and closing == bytes(128)
    line.send(bytes([ACK]))
    assert line.read_until(b"\r") == b"OK\r"
    assert received[:2500] == data and set(received[2500:]) == {0x1A}
    assert line.at("ATFS PWD") == "/flash"


def test_fs_alone_lists_subcommands(line: Line) -> None:
    """§5: ``ATFS`` alone lists the sub-commands; C1 reads ``...ATFS commands: <names>`` to
    learn whether XPUT and MV exist."""
    listing = line.at("ATFS")
    assert listing.startswith("ATFS commands: ")
    assert {"XPUT", "MV", "PUT", "HASH", "LS", "RM"} <= set(listing.split(": ")[1].split())
    assert line.at("ATFS FORMAT").startswith("E")
    assert line.at("ATFS FORMAT confirm") == "OK"
