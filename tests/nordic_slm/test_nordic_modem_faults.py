"""The virtual nRF91 SLM when things go wrong: closed peers, failed sends, resets, NVM.

Shapes from shared/reference/nordic-slm.md §6.2 (``#XRECV`` with a closed peer: ``OK`` alone;
timeout: ``ERROR``), §7 (after a failed send, input is dropped until ``+++``, and the SLM sends
``+++`` first), §8.1 (``#XHTTPCRSP: 0,-104`` when the server closes before the end), §3
(``Ready`` after a reset), §5 (credentials in NVM).
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from celltls.dialects.nordic_slm.modem import NordicSlmModem, factory
from celltls.sim.httpsd import PKI, LocalHTTPSServer
from tests.nordic_slm.line import FINAL, Line


@pytest.fixture
def line(pki: PKI) -> Iterator[Line]:
    modem = factory()
    h = Line(modem)
    assert h.cmd(f'AT%CMNG=0,42,0,"{pki.ca_pem.decode().strip()}"') == b"\r\nOK\r\n"
    h.cmd("AT+CFUN=1")
    yield h
    modem.shutdown()


def _connect(line: Line, port: int) -> None:
    assert line.cmd("AT#XSSOCKET=1,1,0,42") == b"\r\n#XSSOCKET: 0,1,258\r\n\r\nOK\r\n"
    assert line.cmd(f'AT#XCONNECT="127.0.0.1",{port}').endswith(b"\r\nOK\r\n")


def _wait_closed(modem: NordicSlmModem, handle: int) -> None:
    link = modem.sockets[handle].link
    assert link is not None
    deadline = time.monotonic() + 5
    while not link.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert link.closed


def test_recv_timeout_dontwait_and_closed_peer(line: Line, https: LocalHTTPSServer) -> None:
    """§6.2: nothing within the timeout → ERROR; DONTWAIT (64) with nothing → ERROR; after
    the peer closed → OK alone, no #XRECV line."""
    _connect(line, https.port)
    assert line.cmd("AT#XRECV=1") == b"\r\nERROR\r\n"
    assert line.cmd("AT#XRECV=0,64") == b"\r\nERROR\r\n"
    line.modem.fault_server_close(0)
    _wait_closed(line.modem, 0)
    assert line.cmd("AT#XRECV=5") == b"\r\nOK\r\n"


def test_commands_wait_for_a_blocking_recv(line: Line, https: LocalHTTPSServer) -> None:
    """§3 (the AT host runs one command at a time): a line written during AT#XRECV is taken
    after its result."""
    _connect(line, https.port)
    line.send(b"AT#XRECV=1\r\nAT+CFUN?\r\n")
    assert line.until(FINAL) == b"\r\nERROR\r\n"
    assert line.until(FINAL) == b"\r\n+CFUN: 1\r\n\r\nOK\r\n"


def test_send_after_peer_closed_in_data_mode(line: Line, https: LocalHTTPSServer) -> None:
    """§7: a failed send in data mode: the SLM sends +++ itself, drops input until the host's
    +++, then reports a negative status; a string send after close is ERROR."""
    _connect(line, https.port)
    line.modem.fault_server_close(0)
    _wait_closed(line.modem, 0)
    assert line.cmd('AT#XSEND="x"') == b"\r\nERROR\r\n"
    assert line.cmd("AT#XSEND") == b"\r\nOK\r\n"
    line.send(b"GET / HTTP/1.1\r\n")
    assert line.until(re.compile(rb"\+\+\+")) == b"+++"
    line.send(b"dropped AT\r\n+++")
    assert line.until(re.compile(rb"\r\n#XDATAMODE: -\d+\r\n")) == b"\r\n#XDATAMODE: -128\r\n"
    assert line.cmd("AT") == b"\r\nOK\r\n"


def test_urcs_dropped_in_data_mode(line: Line, https: LocalHTTPSServer) -> None:
    """§3/§7: G2 drops modem URCs while in data mode."""
    line.cmd("AT+CEREG=1")
    _connect(line, https.port)
    assert line.cmd("AT#XSEND") == b"\r\nOK\r\n"
    line.modem.fault_lose_registration(4)
    line.send(b"+++")
    assert line.until(re.compile(rb"\r\n#XDATAMODE: 0\r\n")) == b"\r\n#XDATAMODE: 0\r\n"
    assert line.cmd("AT+CEREG?") == b"\r\n+CEREG: 1,4\r\n\r\nOK\r\n"  # no URC came before


def test_reset_drops_sockets(line: Line, https: LocalHTTPSServer) -> None:
    """§3: a reset answers Ready; RAM state (sockets, +CFUN) is gone."""
    _connect(line, https.port)
    line.modem.reboot()
    assert line.until(re.compile(rb"Ready\r\n")) == b"Ready\r\n"
    assert line.cmd("AT#XSOCKET?") == b"\r\nOK\r\n"
    assert line.cmd("AT+CFUN?") == b"\r\n+CFUN: 0\r\n\r\nOK\r\n"


def _truncating_server(pki: PKI, tmp: Path) -> tuple[socket.socket, threading.Thread]:
    """A TLS server that promises 1000 body bytes, sends 10 and closes."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    chain = tmp / "chain.pem"
    key = tmp / "key.pem"
    chain.write_bytes(pki.server_chain_pem)
    key.write_bytes(pki.server_key_pem)
    context.load_cert_chain(chain, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            raw, _ = listener.accept()
        except OSError:
            return
        with context.wrap_socket(raw, server_side=True) as tls:
            tls.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                data += tls.recv(4096)
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            time.sleep(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_httpc_server_closes_mid_body(line: Line, pki: PKI, tmp_path: Path) -> None:
    """§8.1: the server closes before the body is complete → #XHTTPCRSP: 0,-104."""
    listener, thread = _truncating_server(pki, tmp_path)
    port = listener.getsockname()[1]
    try:
        assert line.cmd(f'AT#XHTTPCCON=1,"127.0.0.1",{port},42').endswith(b"OK\r\n")
        assert line.cmd('AT#XHTTPCREQ="GET","/"') == b"\r\nOK\r\n"
        out = line.until(re.compile(rb"\r\n#XHTTPCRSP: 0,-104\r\n"))
        assert out == (b"\r\n#XHTTPCREQ: 0\r\n"
                       b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
                       b"\r\n#XHTTPCRSP:41,0\r\n"
                       b"0123456789\r\n#XHTTPCRSP:10,0\r\n"
                       b"\r\n#XHTTPCRSP: 0,-104\r\n")
        # the client still counts as connected; the next request reports the send error
        assert line.cmd('AT#XHTTPCREQ="GET","/"') == b"\r\nOK\r\n"
        assert line.until(re.compile(rb"\r\n#XHTTPCREQ: -\d+\r\n")) == (
            b"\r\n#XHTTPCREQ: -128\r\n")
    finally:
        listener.close()
        thread.join(5)


def test_credentials_kept_in_nvram_file(tmp_path: Path) -> None:
    """§5: the store is non-volatile: with ``nvram_path`` a new process finds it."""
    path = tmp_path / "nrf.json"
    first = Line(factory(nvram_path=path))
    assert first.cmd('AT%CMNG=0,12,4,"identity"') == b"\r\nOK\r\n"
    first.modem.shutdown()
    assert path.stat().st_mode & 0o077 == 0
    second = Line(factory(nvram_path=path))
    assert second.cmd("AT%CMNG=1").startswith(b'\r\n%CMNG: 12,4,"')
    second.modem.shutdown()
