"""The virtual Sierra HL78xx modem against the reference (shared/reference/sierra-hl78xx.md).

Each test names the source ids (S#, L#) of the behaviour it checks. The host side is a raw TCP
client (no driver), the peers are real TCP/TLS servers on 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer
from tests.faults.proxy import TcpRelay
from tests.sim.helpers import GUARD, Host, server_context

PATTERN = b"--EOF--Pattern--"


class Peer:
    """A TCP server on 127.0.0.1 that hands the test each accepted connection."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5.0)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []

    def accept(self) -> socket.socket:
        conn, _ = self.listener.accept()
        conn.settimeout(5.0)
        self.accepted.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.listener.close()


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


@pytest.fixture
def server() -> Iterator[VirtualModemServer]:
    with VirtualModemServer("sierra", model="hl7800", guard_time=GUARD) as s:
        yield s


def open_host(server: VirtualModemServer) -> Host:
    h = Host(server)
    assert h.cmd("ATE0")[-1] == "OK"
    assert h.cmd("AT+CMEE=1") == ["OK"]
    return h


@pytest.fixture
def host(server: VirtualModemServer) -> Iterator[Host]:
    h = open_host(server)
    assert h.cmd('AT+KCNXCFG=1,"GPRS","internet"') == ["OK"]
    yield h
    h.close()


def wait_line(host: Host, prefix: str, timeout: float = 5.0) -> tuple[str, list[str]]:
    """The next line starting with ``prefix``, and the lines seen before it."""
    before: list[str] = []
    while True:
        line = host.read_line(timeout)
        if line.startswith(prefix):
            return line, before
        before.append(line)


def stat(host: Host, sid: int = 1, others: list[str] | None = None) -> str:
    """The ``+KTCPSTAT:`` line; other lines seen (URCs) go to ``others``."""
    lines = host.cmd(f"AT+KTCPSTAT={sid}")
    assert lines[-1] == "OK", lines
    if others is not None:
        others += [line for line in lines[:-1] if not line.startswith("+KTCPSTAT:")]
    return next(line for line in lines if line.startswith("+KTCPSTAT:"))


def wait_rcv(host: Host, expected: int, sid: int = 1, others: list[str] | None = None) -> str:
    """Poll +KTCPSTAT until <rcv_data> is ``expected``; the last +KTCPSTAT line."""
    deadline = time.monotonic() + 5.0
    while True:
        line = stat(host, sid, others)
        if line.endswith(f",{expected}") or time.monotonic() > deadline:
            return line
        time.sleep(0.02)


def connect_tcp(host: Host, peer: Peer) -> socket.socket:
    """``AT+KTCPCFG=1,0,...`` + ``AT+KTCPCNX=1`` (L1); the server side of the connection."""
    assert host.cmd(f'AT+KTCPCFG=1,0,"127.0.0.1",{peer.port}') == ["+KTCPCFG: 1", "OK"]
    assert host.cmd("AT+KTCPCNX=1")[-1] == "OK"
    conn = peer.accept()
    wait_line(host, "+KTCP_IND: 1,1")
    return conn


def receive(host: Host, sid: int, ndata: int) -> bytes:
    """``AT+KTCPRCV``: the exact bytes after the command, checked framing, the data returned."""
    host.send(f"AT+KTCPRCV={sid},{ndata}\r".encode())
    raw = host.read_until(PATTERN + b"\r\nOK\r\n")
    assert raw.startswith(b"\r\nCONNECT\r\n"), raw[:40]
    return raw[len(b"\r\nCONNECT\r\n"): -len(PATTERN + b"\r\nOK\r\n")]


# -- identification (L1, L3; issue 18) ----------------------------------------------------------

def test_ati_answers_one_line_and_firmware_lines(server: VirtualModemServer) -> None:
    """L3: ATI -> HL7800 / OK; L1: ATI3 and AT+CGMR give the firmware string on one line."""
    h = open_host(server)
    assert h.cmd("ATI") == ["HL7800", "OK"]
    ati3 = h.cmd("ATI3")
    assert len(ati3) == 2 and ati3[1] == "OK" and "HL7800" in ati3[0]
    assert h.cmd("AT+CGMR") == [ati3[0], "OK"]
    h.close()


# -- bring-up shapes (L2, L3) ---------------------------------------------------------------------

def test_kcnxup_reports_connecting_then_connected_and_kcnxcfg_has_ten_fields(host: Host) -> None:
    """L3: AT+KCNXUP=1 -> OK, +KCNX_IND: 1,4,1; L2: +KCNX_IND: 1,1,0; L3: 10-field +KCNXCFG?."""
    assert host.cmd("AT+KCNXUP=1") == ["OK"]
    assert [host.read_line(), host.read_line()] == ["+KCNX_IND: 1,4,1", "+KCNX_IND: 1,1,0"]
    assert host.cmd("AT+KCNXCFG?") == [
        '+KCNXCFG: 1,"GPRS","internet","","","IPV4","0.0.0.0","0.0.0.0","0.0.0.0",2', "OK"]


# -- plain TCP, KTCPSTAT sequence, KTCPRCV framing (S5b, L1, S7 p.207) --------------------------

def test_plain_tcp_session_and_ktcpstat_sequence(server: VirtualModemServer, host: Host,
                                                 peer: Peer) -> None:
    """S5b: +KTCPSTAT 1,-1,0,0 -> 2,-1,0,0 -> 3,-1,0,0 -> 3,-1,0,34 -> 3,-1,0,0 -> 5,-1,0,0,
    then +CME ERROR: 910 once deleted; L1: the lines of a plain TCP session."""
    assert host.cmd(f'AT+KTCPCFG=1,0,"127.0.0.1",{peer.port}') == ["+KTCPCFG: 1", "OK"]
    assert stat(host) == "+KTCPSTAT: 1,-1,0,0"
    server.modem.latency = 0.5  # hold the connect long enough to see status 2
    assert host.cmd("AT+KTCPCNX=1") == ["OK"]
    # §9 (S5d, L2, L3): the session brings the PDP up by itself, reported after the OK
    assert [host.read_line(), host.read_line()] == ["+KCNX_IND: 1,4,1", "+KCNX_IND: 1,1,0"]
    assert stat(host) == "+KTCPSTAT: 2,-1,0,0"
    conn = peer.accept()
    assert wait_line(host, "+KTCP_IND:") == ("+KTCP_IND: 1,1", [])
    server.modem.latency = 0.0
    assert stat(host) == "+KTCPSTAT: 3,-1,0,0"

    assert host.cmd("AT+KTCPSND=1,8") == ["CONNECT"]  # L1
    host.send(b"11111111" + PATTERN)
    assert host.read_line() == "OK"
    assert conn.recv(100) == b"11111111"

    conn.sendall(b"x" * 34)
    assert wait_line(host, "+KTCP_DATA:")[0] == "+KTCP_DATA: 1,34"  # S5b
    assert stat(host) == "+KTCPSTAT: 3,-1,0,34"
    host.send(b"AT+KTCPRCV=1,34\r")
    assert host.read_until(b"OK\r\n") == b"\r\nCONNECT\r\n" + b"x" * 34 + PATTERN + b"\r\nOK\r\n"
    assert stat(host) == "+KTCPSTAT: 3,-1,0,0"
    assert host.cmd("AT+KTCPCLOSE=1,1") == ["OK"]
    assert host.read_line() == "+KCNX_IND: 1,5,30"  # L1, S5b: the idle count-down starts
    assert stat(host) == "+KTCPSTAT: 5,-1,0,0"
    assert host.cmd("AT+KTCPDEL=1") == ["OK"]
    assert host.cmd("AT+KTCPSTAT=1") == ["+CME ERROR: 910"]


def test_undefined_session_ids_answer_910(host: Host) -> None:
    """S5b, S7, S10b: an id that is not defined (or deleted) -> +CME ERROR: 910."""
    for line in ("AT+KTCPSTAT=3", "AT+KTCPRCV=3,10", "AT+KTCPCNX=3", "AT+KTCPSND=3,5",
                 "AT+KTCPCLOSE=3", "AT+KTCPDEL=3", "AT+KHTTPCLOSE=3", "AT+KHTTPDEL=3"):
        assert host.cmd(line) == ["+CME ERROR: 910"], line
    assert host.cmd("AT+CMEE=2") == ["OK"]
    assert host.cmd("AT+KTCPSTAT=3") == ["+CME ERROR: bad session ID"]  # S6 text


def test_ktcp_data_counts_unread_bytes_and_rearms_after_a_read(host: Host, peer: Peer) -> None:
    """S5e: after a partial AT+KTCPRCV a second +KTCP_DATA gives the rest; S5b/§4: <n> is the
    unread count; S7 p.220: sent once, re-armed by a read; S7 p.207: k = min(ndata, buffered)."""
    conn = connect_tcp(host, peer)
    data = bytes(range(200)) * 10
    conn.sendall(data[:100])
    assert wait_line(host, "+KTCP_DATA:")[0] == "+KTCP_DATA: 1,100"
    conn.sendall(data[100:])  # arrives while the first 100 bytes are unread
    others: list[str] = []
    assert wait_rcv(host, 2000, others=others) == "+KTCPSTAT: 3,-1,0,2000"
    assert host.drain(0.2) == b""
    assert others == []  # no second URC while nothing was read (S7 p.220)

    assert receive(host, 1, 500) == data[:500]
    assert host.read_line() == "+KTCP_DATA: 1,1500"  # after OK, what is still unread
    assert receive(host, 1, 4096) == data[500:]  # k = min(ndata, buffered)
    assert host.drain(0.2) == b""  # nothing left, no URC
    assert stat(host) == "+KTCPSTAT: 3,-1,0,0"

    conn.sendall(b"0123456789")
    assert wait_line(host, "+KTCP_DATA:")[0] == "+KTCP_DATA: 1,10"  # re-armed
    assert receive(host, 1, 10) == b"0123456789"


def test_remote_close_keeps_buffered_data_readable(host: Host, peer: Peer) -> None:
    """§4: +KTCP_NOTIF: <sid>,4 when the remote side disconnects; S4: buffered data is still
    read after it; +KTCPSTAT then gives status 5 and <tcp_notif> 4 (S4, S8)."""
    conn = connect_tcp(host, peer)
    conn.sendall(b"last words" * 3)
    conn.close()
    assert wait_line(host, "+KTCP_DATA:")[0].startswith("+KTCP_DATA: 1,")
    wait_line(host, "+KTCP_NOTIF: 1,4")
    assert wait_rcv(host, 30) == "+KTCPSTAT: 5,4,0,30"
    assert receive(host, 1, 100) == b"last words" * 3
    assert host.cmd("AT+KTCPDEL=1") == ["OK"]  # S1: delete without a close after a remote close


def test_ktcpsnd_count_mismatch_and_pipelined_command(host: Host, peer: Peer) -> None:
    """S7 code list, L2: +KTCP_NOTIF: <sid>,8 when the bytes before the pattern differ from
    <ndata>; a command written right after the pattern runs (the line is back in command mode)."""
    conn = connect_tcp(host, peer)
    assert host.cmd("AT+KTCPSND=1,10") == ["CONNECT"]
    host.send(b"abc" + PATTERN + b"AT+KTCPSTAT=1\r")
    assert host.read_line() == "OK"
    rest = [host.read_line() for _ in range(3)]
    assert "+KTCP_NOTIF: 1,8" in rest and "+KTCPSTAT: 3,8,0,0" in rest and rest[-1] == "OK"
    assert conn.recv(10) == b"abc"


def test_idle_count_down_after_the_last_close(server: VirtualModemServer, host: Host,
                                              peer: Peer) -> None:
    """§3 (S7 status 5/6/3; L1, S5b): closing the last session starts the idle count-down, a new
    session cancels it (+KCNX_IND: 1,6), and when it runs out the PDP is closed (1,3)."""
    server.modem.idle_time = 0.3  # type: ignore[attr-defined]
    connect_tcp(host, peer)
    assert host.cmd("AT+KTCPCLOSE=1,1") == ["OK"]
    assert host.read_line() == "+KCNX_IND: 1,5,0"
    assert host.cmd("AT+KTCPCNX=1") == ["OK"]
    assert host.read_line() == "+KCNX_IND: 1,6"
    peer.accept()
    wait_line(host, "+KTCP_IND: 1,1")
    assert host.cmd("AT+KTCPCLOSE=1,1") == ["OK"]
    assert host.read_line() == "+KCNX_IND: 1,5,0"
    assert host.read_line() == "+KCNX_IND: 1,3"
    assert host.cmd("AT+KCNXCFG?")[0].endswith(",0")  # disconnected
    assert host.cmd("AT+KTCPCNX=1") == ["OK"]  # the next session brings it up again (L2)
    assert [host.read_line(), host.read_line()] == ["+KCNX_IND: 1,4,1", "+KCNX_IND: 1,1,0"]


# -- state survives the host (issue 12 recovery; §4 "Sessions left by an earlier host run") -----

def test_sessions_survive_the_host_connection(server: VirtualModemServer, host: Host,
                                              peer: Peer) -> None:
    """§4/§11: sessions live in the module across host restarts; AT+KTCPCFG? lists them (S5c
    shape), their connection and buffered data are still there, KTCPCLOSE/KTCPDEL free them."""
    conn = connect_tcp(host, peer)
    conn.sendall(b"while you were away")
    wait_line(host, "+KTCP_DATA:")
    host.close()  # the host program dies; the module stays powered

    again = open_host(server)
    cfg = again.cmd("AT+KTCPCFG?")
    assert cfg == [f'+KTCPCFG: 1,1,1,0,,"127.0.0.1",{peer.port},0,0,0,0', "OK"]
    assert wait_rcv(again, 19) == "+KTCPSTAT: 3,-1,0,19"
    assert receive(again, 1, 100) == b"while you were away"
    assert again.cmd("AT+KTCPSND=1,4") == ["CONNECT"]
    again.send(b"back" + PATTERN)
    assert again.read_line() == "OK"
    assert conn.recv(10) == b"back"  # the same TCP connection
    assert again.cmd("AT+KTCPDEL=1") == ["+CME ERROR: 922"]  # S7: close it first
    assert again.cmd("AT+KTCPCLOSE=1,1") == ["OK"]
    assert again.read_line() == "+KCNX_IND: 1,5,30"
    assert again.cmd("AT+KTCPCFG?") == [
        f'+KTCPCFG: 1,0,1,0,,"127.0.0.1",{peer.port},0,0,0,0', "OK"]  # S5f: status 0
    assert again.cmd("AT+KTCPDEL=1") == ["OK"]
    assert again.cmd("AT+KTCPCFG?") == ["OK"]
    again.close()


def test_session_limit_is_shared_and_freed_by_delete(host: Host) -> None:
    """S4: 6 sessions on HL78xx; S6/S10b: +CME ERROR: 912 when all are used, so a leftover
    session blocks a new one until deleted; §6 S5d: +KHTTPCFG? shape."""
    assert host.cmd('AT+KHTTPCFG=1,"example.invalid",443,2,"","",0,0') == ["+KHTTPCFG: 1", "OK"]
    assert host.cmd("AT+KHTTPCFG?") == ['+KHTTPCFG: 1,1,"example.invalid",443,2,"","",0,0,0',
                                        "OK"]
    for sid in range(2, 7):
        assert host.cmd(f'AT+KTCPCFG=1,0,"127.0.0.1",{1000 + sid}') == [f"+KTCPCFG: {sid}", "OK"]
    assert host.cmd('AT+KTCPCFG=1,0,"127.0.0.1",999') == ["+CME ERROR: 912"]
    assert host.cmd('AT+KHTTPCFG=1,"example.invalid",443,2,"","",0,0') == ["+CME ERROR: 912"]
    assert host.cmd("AT+KHTTPCLOSE=1") == ["OK"]
    assert host.cmd("AT+KHTTPDEL=1") == ["OK"]
    assert host.cmd("AT+KHTTPCFG?") == ["OK"]
    assert host.cmd('AT+KTCPCFG=1,0,"127.0.0.1",999') == ["+KTCPCFG: 1", "OK"]
    assert host.cmd("AT+KTCPDEL=4") == ["OK"]
    assert host.cmd('AT+KTCPCFG=1,0,"127.0.0.1",998') == ["+KTCPCFG: 4", "OK"]


# -- reboot and network faults (§2 S1, §3 S7) -----------------------------------------------------

def test_reboot_drops_sessions_and_reports_ksup_when_asked(server: VirtualModemServer,
                                                           host: Host, peer: Peer) -> None:
    """§2 (S1): +KSUP: 0 at start-up only after AT+KSREP=1, which is kept across reboots;
    AT+KSREP? -> +KSREP: <en>,<status>; a reboot forgets the sessions."""
    connect_tcp(host, peer)
    server.modem.reboot()
    assert host.drain(0.2) == b""  # AT+KSREP=0 (default): no +KSUP
    host.cmd("ATE0")
    assert host.cmd("AT+KTCPCFG?") == ["OK"]
    assert host.cmd("AT+KSREP=1") == ["OK"]
    assert host.cmd("AT+KSREP?") == ["+KSREP: 1,0", "OK"]
    assert host.cmd(f'AT+KTCPCFG=1,0,"127.0.0.1",{peer.port}') == ["+KTCPCFG: 1", "OK"]
    assert host.cmd("AT+CFUN=1,1")[-1] == "OK"
    assert wait_line(host, "+KSUP:")[0] == "+KSUP: 0"
    host.cmd("ATE0")
    assert host.cmd("AT+KSREP?") == ["+KSREP: 1,0", "OK"]
    assert host.cmd("AT+KTCPSTAT=1") == ["ERROR"]  # CMEE back to 0 after the reboot
    assert host.cmd("AT+KTCPCFG?") == ["OK"]


def test_pdp_deactivation_notifies_sessions(server: VirtualModemServer, host: Host,
                                            peer: Peer) -> None:
    """§3 (S7): +KCNX_IND: <cnx>,0,<af> when the network drops the PDP; §4: notification 0
    (network error) for the open session, status 5 afterwards."""
    conn = connect_tcp(host, peer)
    conn.sendall(b"abc")
    wait_line(host, "+KTCP_DATA: 1,3")
    server.modem.fault_deactivate_pdp()
    seen = {host.read_line(), host.read_line()}
    assert seen == {"+KTCP_NOTIF: 1,0", "+KCNX_IND: 1,0,0"}
    assert stat(host) == "+KTCPSTAT: 5,0,0,3"
    assert receive(host, 1, 10) == b"abc"


# -- TLS sockets (mode 3; §4, §5, S2) ------------------------------------------------------------

def tls_accept(pki: PKI, peer: Peer) -> ssl.SSLSocket:
    return server_context(pki).wrap_socket(peer.accept(), server_side=True)


def store_ca(host: Host, ca: bytes) -> None:
    """§5 (S2, S5a): AT+KCERTSTORE=0,<size> -> CONNECT -> bytes -> pattern -> OK."""
    assert host.cmd(f"AT+KCERTSTORE=0,{len(ca)}") == ["CONNECT"]
    host.send(ca + PATTERN)
    assert host.read_line() == "OK"


def test_tls_session_and_certificate_error(host: Host, peer: Peer, pki: PKI) -> None:
    """§4 mode 3 (S2, S5f, S10a): +KTCPCFG: <id>, +KTCP_IND, data both ways; with another CA the
    handshake fails with +KTCP_NOTIF: <id>,15 (SSL certificate error, S2)."""
    store_ca(host, pki.ca_pem)
    assert host.cmd(f'AT+KTCPCFG=1,3,"localhost",{peer.port},,,,0,0,0') == ["+KTCPCFG: 1",
                                                                             "OK"]
    assert host.cmd("AT+KTCPCNX=1")[-1] == "OK"
    tls = tls_accept(pki, peer)
    wait_line(host, "+KTCP_IND: 1,1")
    tls.sendall(b"hello over TLS")
    assert wait_line(host, "+KTCP_DATA:")[0].startswith("+KTCP_DATA: 1,")
    assert wait_rcv(host, 14).endswith(",14")
    assert receive(host, 1, 14) == b"hello over TLS"

    other = make_pki(key_type="rsa")
    store_ca(host, other.ca_pem)
    assert host.cmd(f'AT+KTCPCFG=1,3,"localhost",{peer.port}') == ["+KTCPCFG: 2", "OK"]
    assert host.cmd("AT+KTCPCNX=2")[-1] == "OK"
    with pytest.raises((ssl.SSLError, OSError)):
        tls_accept(pki, peer)
    line = wait_line(host, "+KTCP_NOTIF: 2,")[0]
    assert re.fullmatch(r"\+KTCP_NOTIF: 2,15", line)
    assert stat(host, 2) == "+KTCPSTAT: 5,15,0,0"


def test_khttpcfg_fields_as_sierra_tests_send_them(host: Host) -> None:
    """sierra-hl78xx.md §6 (S5d): ``AT+KHTTPCFG=1,"<server>",<port>,2,"","",0,0,0`` creates an
    HTTPS session (<sec> 2 = HTTPS), read back as ``+KHTTPCFG: 1,1,"<server>",<port>,2,"","",0,0,0``
    (8th field 0: not connected); <sec> 1 is no value of the test answer's ``(0,2)``."""
    assert host.cmd('AT+KHTTPCFG=1,"example.invalid",443,2,"","",0,0,0') == ["+KHTTPCFG: 1",
                                                                             "OK"]
    assert host.cmd("AT+KHTTPCFG?") == ['+KHTTPCFG: 1,1,"example.invalid",443,2,"","",0,0,0',
                                        "OK"]
    assert host.cmd('AT+KHTTPCFG=1,"example.invalid",443,1') == ["+CME ERROR: 916"]


# -- HTTP data phase: data mode until the pattern and OK; +++ ends it (S7 p.207, p.302) ---------

def test_http_get_is_data_mode_and_escape_ends_the_transfer(host: Host, pki: PKI,
                                                             https: LocalHTTPSServer) -> None:
    """From ``CONNECT`` to the pattern and ``OK`` of ``AT+KHTTPGET`` the module is in data mode
    (HL75-ATIG 11.10.3, S7 p.207: it "returns to command state" after the data): a command
    line written meanwhile is not answered inside the body. ``+++`` with guard times ends the
    transfer: ``OK``, nothing more of it (no pattern, no ``+KHTTP_IND``), and ``ATO`` answers
    ``NO CARRIER`` (HL75-ATIG 16.9, S7 p.302, +KHTTPGET: ``OK``/``NO CARRIER (disconnect)``);
    the session connects again and the next GET is exact."""
    relay = TcpRelay(https.port, rate=48 * 1024)  # ~4 s for the body: still streaming
    try:
        store_ca(host, pki.ca_pem)
        assert host.cmd(f'AT+KHTTPCFG=1,"127.0.0.1",{relay.port},2,"","",1,0,0') == [
            "+KHTTPCFG: 1", "OK"]
        wait_line(host, "+KHTTP_IND: 1,1")
        assert host.cmd('AT+KHTTPGET=1,"/bytes/200000",1') == ["CONNECT"]
        got = host.read_exact(1000)  # the status line, the headers, the start of the body
        host.send(b"AT\r")  # data, not a command: no OK inside the body
        time.sleep(0.5)
        host.escape()
        got += host.drain(1.0)
        assert got.endswith(b"\r\nOK\r\n"), got[-40:]
        assert host.drain(1.0) == b""  # no more data, no pattern, no +KHTTP_IND
        body = got[:-len(b"\r\nOK\r\n")].split(b"\r\n\r\n", 1)[1]
        assert 0 < len(body) < 200000
        assert deterministic_bytes(200000).startswith(body)  # no answer was put in the body
        host.send(b"ATO\r")
        assert host.read_line() == "NO CARRIER"
        assert host.cmd("AT+KHTTPCFG?") == [
            f'+KHTTPCFG: 1,1,"127.0.0.1",{relay.port},2,"","",0,0,0', "OK"]
        assert host.cmd("AT+KHTTPCNX=1") == ["OK"]
        wait_line(host, "+KHTTP_IND: 1,1")
        host.send(b'AT+KHTTPGET=1,"/bytes/3000?seed=5",1\r')
        raw = host.read_until(PATTERN + b"\r\nOK\r\n", timeout=10)
        assert raw.startswith(b"\r\nCONNECT\r\n")
        assert raw.split(b"\r\n\r\n", 1)[1][:-len(PATTERN + b"\r\nOK\r\n")] == \
            deterministic_bytes(3000, 5)
        assert re.fullmatch(r'\+KHTTP_IND: 1,3,\d+,200,"OK"', host.read_line())
    finally:
        relay.close()
