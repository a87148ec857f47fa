"""The Quectel GSM virtual modem as a powered module: state across host restarts, AT+QSSLSTATE,
plain TCP sockets, reboot and PDP faults, identification answers (issues 12, 18).

Sources are named per test: "the note" is the Quectel GSM SSL Application Note V3.3
(shared/seeds/004_...txt), "ref" is shared/reference/quectel-gsm-tcpip.md.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from celltls.sim.httpsd import PKI
from celltls.sim.serve import VirtualModemServer
from tests.sim.helpers import GUARD, Host, ScriptedTLSServer, bring_up, server_context


class EchoTCPServer:
    """A plain TCP echo server on 127.0.0.1 (one connection at a time); stops on exit."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self.closed = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> EchoTCPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.listener.close()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.1)
            with conn:
                while not self.stop.is_set():
                    try:
                        data = conn.recv(65536)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    self.received += data
                    conn.sendall(data)
            self.closed.set()


def _ready(host: Host) -> Host:
    assert host.cmd("ATE0")[-1] == "OK"
    host.drain(0.05)
    return host


def _open(host: Host, port: int, ssid: int = 1, mode: int = 0) -> str:
    assert host.cmd(f'AT+QSSLOPEN={ssid},0,"127.0.0.1",{port},{mode},20') == ["OK"]
    return host.read_line(timeout=10)


def _wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


@pytest.fixture
def server() -> Iterator[VirtualModemServer]:
    with VirtualModemServer("quectel-gsm", guard_time=GUARD) as s:
        yield s


# ---------------------------------------------------------------- state across host restarts
def test_transparent_mode_survives_a_killed_host(pki: PKI, server: VirtualModemServer) -> None:
    """ref 6 and 10: host restarts do not reset the module; a host that comes back while the
    module is in transparent mode sends its AT text to the peer as data, until +++ with guard
    times (the note 3.4: +++ -> OK); the socket and the PDP context are still there."""
    with ScriptedTLSServer(server_context(pki), echo=False) as tls:
        first = _ready(Host(server))
        bring_up(first)
        assert _open(first, tls.port, mode=1) == "CONNECT"
        first.send(b"hello")
        _wait_for(lambda: bytes(tls.received) == b"hello")
        first.close()  # the host program is killed; the module stays powered

        second = Host(server)
        second.send(b"ATE0\rAT+QSSLCLOSE=1\r")  # a restarted driver's first lines
        _wait_for(lambda: bytes(tls.received) == b"helloATE0\rAT+QSSLCLOSE=1\r")
        assert second.drain(0.2) == b""  # nothing answered: the line is in data mode
        second.escape(GUARD)
        assert second.read_line() == "OK"
        assert second.cmd("ATE0")[-1] == "OK"
        second.drain(0.05)
        assert second.cmd("AT+QSSLSTATE") == [
            '+QSSLSTATE: "IP PROCESSING"',
            f'+QSSLSTATE: 1,"TCP","127.0.0.1",{tls.port},"CONNECTED",1',
            "OK",
        ]
        assert second.cmd("ATO") == ["CONNECT"]  # the connection is resumable
        second.send(b"more")
        _wait_for(lambda: bytes(tls.received).endswith(b"more"))
        second.escape(GUARD)
        assert second.read_line() == "OK"
        assert second.cmd("AT+QSSLCLOSE=1") == ["CLOSE OK"]
        assert second.cmd("AT+QSSLSTATE") == ['+QSSLSTATE: "IP STATUS"', "OK"]
        second.close()


def test_ssl_socket_survives_a_killed_host_until_closed(
    pki: PKI, server: VirtualModemServer
) -> None:
    """Issue 12 "no recovery": the socket an earlier run left open answers AT+QSSLOPEN with
    -2 "socket is occupied" (the note 2.2.2) until the new run closes it with AT+QSSLCLOSE
    (the note 2.2.5; ref 6: S9 closes before every open)."""
    with ScriptedTLSServer(server_context(pki), echo=True) as tls:
        first = _ready(Host(server))
        bring_up(first)
        assert _open(first, tls.port) == "+QSSLOPEN: 1,0"
        first.close()

        second = _ready(Host(server))
        assert _open(second, tls.port) == "+QSSLOPEN: 1,-2"
        assert second.cmd("AT+QSSLCLOSE=1") == ["CLOSE OK"]
        assert _open(second, tls.port) == "+QSSLOPEN: 1,0"  # PDP context kept: no bring-up
        second.send(b"AT+QSSLSEND=1,2\r")
        second.read_until(b"> ")
        second.send(b"hi")
        assert second.read_line() == "SEND OK"
        assert second.read_line() == '+QSSLURC: "recv",0,1'
        assert second.cmd("AT+QSSLCLOSE=1") == ["CLOSE OK"]
        second.close()


# ---------------------------------------------------------------- AT+QSSLSTATE, QSSLCLOSE, TCP
def test_qsslstate_lists_plain_tcp_and_ssl_sockets_sharing_indices(
    pki: PKI, server: VirtualModemServer
) -> None:
    """The note 2.2.6: the state line, then one line per socket, plain TCP included, with
    <sslconnectionflag> 0/1; the note 1.3: TCP and SSL share the indices of a context, so
    AT+QSSLOPEN on the TCP socket's index is occupied (2.2.2 code -2; ref 10). TCP lines:
    ref 5 (`1, CONNECT OK`, `1, CLOSE OK`, S1 3.3, S6, S13)."""
    host = _ready(Host(server))
    for line in ("AT+QIFGCNT=0", 'AT+QICSGP=1,"CMNET"', "AT+QIMUX=1", "AT+QIREGAPP", "AT+QIACT"):
        assert host.cmd(line) == ["OK"], line
    host.send(b"AT+QILOCIP\r")
    host.read_line()
    with EchoTCPServer() as tcp, ScriptedTLSServer(server_context(pki)) as tls:
        assert host.cmd("AT+QINDI=1") == ["OK"]
        assert host.cmd(f'AT+QIOPEN=1,"TCP","127.0.0.1",{tcp.port}') == ["OK"]
        assert host.read_line() == "1, CONNECT OK"
        assert _open(host, tls.port, ssid=1) == "+QSSLOPEN: 1,-2"
        assert _open(host, tls.port, ssid=3) == "+QSSLOPEN: 3,0"
        assert host.cmd("AT+QSSLSTATE") == [
            '+QSSLSTATE: "IP PROCESSING"',
            f'+QSSLSTATE: 1,"TCP","127.0.0.1",{tcp.port},"CONNECTED",0',
            f'+QSSLSTATE: 3,"TCP","127.0.0.1",{tls.port},"CONNECTED",1',
            "OK",
        ]
        assert host.cmd("AT+QSSLCLOSE=1") == ["ERROR"]  # index 1 is not an SSL socket
        assert host.cmd("AT+QSSLCLOSE=3") == ["CLOSE OK"]
        host.send(b"AT+QICLOSE=1\r")
        assert host.read_line() == "1, CLOSE OK"  # a final result Host.cmd does not know
        assert host.cmd("AT+QSSLSTATE") == ['+QSSLSTATE: "IP STATUS"', "OK"]
        assert host.cmd("AT+QICLOSE=1") == ["ERROR"]  # ref 5: closed socket -> ERROR (S4)


def test_plain_tcp_send_read_ack(server: VirtualModemServer) -> None:
    """The note 3.3 step 2 (QINDI=1, QIOPEN, QISEND, +QIRDI, QIRD) with the shapes of ref 5:
    `+QIRD: <ip>:<port>,TCP,<n>` + n bytes + OK (S1 3.3, L2), bare OK when empty (S4),
    `+QISACK: <sent>, <acked>, <nAcked>` (L1); QIMUX after QIACT -> ERROR (ref 4, L5)."""
    host = _ready(Host(server))
    for line in ("AT+QIMUX=1", 'AT+QICSGP=1,"CMNET"', "AT+QIREGAPP", "AT+QIACT"):
        assert host.cmd(line) == ["OK"], line
    assert host.cmd("AT+QIMUX=0") == ["ERROR"]
    assert host.cmd("AT+QIMUX?") == ["+QIMUX: 1", "OK"]
    with EchoTCPServer() as tcp:
        assert host.cmd("AT+QINDI=1") == ["OK"]
        assert host.cmd('AT+QIOPEN=1,"TCP","localhost",80') == ["OK"]
        assert host.read_line() == "1, CONNECT FAIL"  # QIDNSIP=0: a dotted IP only (S4)
        assert host.cmd(f'AT+QIOPEN=1,"TCP","127.0.0.1","{tcp.port}"') == ["OK"]  # L1 quoting
        assert host.read_line() == "1, CONNECT OK"
        host.send(b"AT+QISEND=1,10\r")
        host.read_until(b"> ")
        host.send(b"ABCDE12345")
        assert host.read_line() == "SEND OK"
        assert host.read_line() == "+QIRDI: 0,1,1"
        host.send(b"AT+QIRD=0,1,1,4\r")
        assert host.read_line() == f"+QIRD: 127.0.0.1:{tcp.port},TCP,4"
        assert host.read_exact(4) == b"ABCD"
        assert host.read_line() == "OK"
        host.send(b"AT+QIRD=0,1,1,1024\r")
        assert host.read_line().endswith(",TCP,6")
        assert host.read_exact(6) == b"E12345"
        assert host.read_line() == "OK"
        assert host.cmd("AT+QIRD=0,1,1,1024") == ["OK"]
        assert host.cmd("AT+QISACK=1") == ["+QISACK: 10, 10, 0", "OK"]
        assert host.cmd("AT+QISACK") == ["ERROR"]  # QIMUX=1 needs the index (S4)
        server.modem.fault_server_close(1)
        assert host.read_line() == "1, CLOSED"  # ref 5: peer close with QIMUX=1
        assert host.cmd("AT+QICLOSE=1") == ["ERROR"]
        _wait_for(tcp.closed.is_set)
    assert bytes(tcp.received) == b"ABCDE12345"


def test_qsslclose_unused_ssid_is_error_whatever_cmee(server: VirtualModemServer) -> None:
    """Unknown in every source (ref 6, 11); the note 2.2.5 gives ERROR for any error, and the
    SSL socket commands of 2.2.2-2.2.6 answer ERROR, not +CME ERROR."""
    host = _ready(Host(server))
    bring_up(host)
    for cmee in (0, 1, 2):
        assert host.cmd(f"AT+CMEE={cmee}") == ["OK"]
        assert host.cmd("AT+QSSLCLOSE=4") == ["ERROR"]
        assert host.cmd("AT+QSSLSEND=9") == ["ERROR"]
        assert host.cmd('AT+QSECREAD="RAM:none"') == (  # 2.2.8: +CME ERROR: <err>
            ["ERROR"] if cmee == 0 else ["+CME ERROR: 3" if cmee == 1 else "+CME ERROR: "
                                         "operation not allowed"]
        )


# ---------------------------------------------------------------- reboot and PDP faults
def test_reboot_boot_lines_drop_sockets_and_pdp(pki: PKI, server: VirtualModemServer) -> None:
    """Boot lines drivers of the family handle (ref 2: RDY and Call Ready S6, +CFUN: 1 S12,
    +CPIN: READY and SMS Ready S13; order not captured, ref 11); AT+QIURC=0 hides Call Ready
    (ref 2, 10). RAM state goes: sockets, PDP context (the note 2.2.7: NVRAM stays)."""
    host = _ready(Host(server))
    bring_up(host)
    with ScriptedTLSServer(server_context(pki)) as tls:
        assert _open(host, tls.port) == "+QSSLOPEN: 1,0"
        server.modem.reboot()
        lines = [host.read_line() for _ in range(5)]
        assert lines == ["RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"]
        assert host.drain(0.1) == b""  # no +QSSLURC: the module lost them without a word
        assert _ready(host).cmd("AT+QSSLSTATE") == ['+QSSLSTATE: "IP INITIAL"', "OK"]
        assert host.cmd("AT+QIURC=0") == ["OK"]
        assert host.cmd("AT+CFUN=1,1") == ["OK"]
        lines = [host.read_line() for _ in range(4)]
        assert lines == ["RDY", "+CFUN: 1", "+CPIN: READY", "SMS Ready"]
        assert host.cmd("AT+QIURC?") == ["AT+QIURC?\r", "+QIURC: 0", "OK"]  # echo on again


def test_pdp_deactivation_closes_sockets_with_urcs(pki: PKI, server: VirtualModemServer) -> None:
    """The note 2.2.10.2: PDP deactivation closes SSL sockets with +QSSLURC: "closed",<ssid>;
    ref 3: +PDP DEACT, then AT+QISTAT/AT+QSSLSTATE report PDP DEACT (S2, the note 2.2.6);
    plain TCP sockets report `<id>, CLOSED` (ref 5)."""
    host = _ready(Host(server))
    for line in ("AT+QIMUX=1", "AT+QIREGAPP", "AT+QIACT"):
        assert host.cmd(line) == ["OK"], line
    with EchoTCPServer() as tcp, ScriptedTLSServer(server_context(pki)) as tls:
        assert host.cmd(f'AT+QIOPEN=2,"TCP","127.0.0.1",{tcp.port}') == ["OK"]
        assert host.read_line() == "2, CONNECT OK"
        assert _open(host, tls.port, ssid=4) == "+QSSLOPEN: 4,0"
        server.modem.fault_deactivate_pdp()
        lines = [host.read_line() for _ in range(3)]
        assert lines == ["2, CLOSED", '+QSSLURC: "closed",4', "+PDP DEACT"]
        assert host.cmd("AT+QSSLSTATE") == ['+QSSLSTATE: "PDP DEACT"', "OK"]
        assert host.cmd("AT+QIDEACT") == ["DEACT OK"]  # S10: answer PDP DEACT with QIDEACT
        assert host.cmd("AT+QSSLSTATE") == ['+QSSLSTATE: "IP INITIAL"', "OK"]


# ---------------------------------------------------------------- issue 18: answers
def test_identification_answers_as_real_logs(server: VirtualModemServer) -> None:
    """ref 9 L1 (MC60 log) and ref 2: +IPR: 115200; CIMI 15 bare digits; QCCID 20 bare digits
    with no prefix (not TinyGSM's +QCCID:, S4); +COPS: 0,0,"<oper>" with three fields;
    AT+CCID with its prefix (S5, S3)."""
    host = _ready(Host(server))
    assert host.cmd("AT+IPR?") == ["+IPR: 115200", "OK"]
    cimi = host.cmd("AT+CIMI")
    assert len(cimi) == 2 and cimi[0].isdigit() and len(cimi[0]) == 15 and cimi[1] == "OK"
    qccid = host.cmd("AT+QCCID")
    assert len(qccid) == 2 and qccid[0].isdigit() and len(qccid[0]) == 20
    assert host.cmd("AT+CCID") == [f"+CCID: {qccid[0]}", "OK"]
    cops = host.cmd("AT+COPS?")
    assert cops[0].startswith('+COPS: 0,0,"') and cops[0].count(",") == 2 and cops[1] == "OK"
    assert host.cmd("AT+IPR=0") == ["OK"]  # auto-baud (S4)
    assert host.cmd("AT+IPR?") == ["+IPR: 0", "OK"]
    server.modem.fault_lose_registration()
    assert host.cmd("AT+COPS?") == ["+COPS: 0", "OK"]  # 27.007 7.3: no operator


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        # the note 2.2.1-2.2.9: the test (=?) and read (?) forms its tables show
        ("AT+QSSLCFG=?", ['+QSSLCFG: "type",(0-5),"value"', "OK"]),
        ("AT+QSSLOPEN=?", ['+QSSLOPEN: (0-5),(0-5),"ADDRESS",(1-65535),(0,1),(10-300)', "OK"]),
        ("AT+QSSLOPEN?", ["OK"]),
        ("AT+QSSLSEND=?", ["+QSSLSEND: (0-5),(1-1460)", "OK"]),
        ("AT+QSSLSEND?", ["OK"]),
        ("AT+QSSLRECV=?", ["+QSSLRECV: (0,1),(0-5),(1-1500)", "OK"]),
        ("AT+QSSLCLOSE=?", ["+QSSLCLOSE: (0-5),(0,1)", "OK"]),
        ("AT+QSSLCLOSE?", ["OK"]),
        ("AT+QSSLSTATE=?", ["OK"]),
        ("AT+QSSLSTATE?", ["OK"]),
        ("AT+QSECWRITE=?", ["+QSECWRITE: <filename>,<filesize>,(3-200)", "OK"]),
        ("AT+QSECWRITE?", ["OK"]),
        ("AT+QSECREAD=?", ["+QSECREAD: <filename>", "OK"]),
        ("AT+QSECDEL=?", ["+QSECDEL: <filename>", "OK"]),
        # forms the note's tables do not list
        ("AT+QSSLRECV?", ["ERROR"]),
        ("AT+QSSLCFG?", ["ERROR"]),
    ],
)
def test_ssl_command_test_and_read_forms(server: VirtualModemServer, line: str,
                                         answer: list[str]) -> None:
    assert _ready(Host(server)).cmd(line) == answer


def test_unknown_command_is_error_in_every_cmee_mode(server: VirtualModemServer) -> None:
    """27.007 9.1 (+CMEE): +CME ERROR replaces ERROR for errors of the MT's functionality;
    "ERROR is returned normally when error is related to syntax, invalid parameters, or TA
    functionality" -- an unknown command is a syntax error (V.250 5.7.1); no real capture of
    the family shows otherwise. A known command's MT error follows AT+CMEE."""
    host = _ready(Host(server))
    for cmee, mt_error in ((0, "ERROR"), (1, "+CME ERROR: 3"),
                           (2, "+CME ERROR: operation not allowed")):
        assert host.cmd(f"AT+CMEE={cmee}") == ["OK"]
        assert host.cmd("AT+QNOSUCH") == ["ERROR"]
        assert host.cmd("AT+QSSSEND=1") == ["ERROR"]  # the note's misspelling (2.2.3)
        assert host.cmd('AT+QSECDEL="RAM:none"') == [mt_error]
