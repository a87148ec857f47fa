"""Sierra socket data accounting: +KTCP_DATA, AT+KTCPRCV, AT+KTCPSTAT (sierra-hl78xx.md S4).

- The protocol, fed every split of a ``+KTCPRCV`` answer whose data holds ``OK`` lines, URC
  text and pieces of the pattern, delivers exactly the data, then the ``OK``.
- The driver's :class:`SierraSocket`, against a scripted module that returns
  ``k = min(ndata, buffered)`` and sends its ``+KTCP_DATA`` counts before, inside or after a
  read (or never, or stale), delivers exactly the bytes the server sent.
- A 1 MiB GET over the virtual modem through a relay that re-chunks the bytes is byte-exact.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import re
import socket
import threading
from collections import deque
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celltls import Certificate, Modem, TlsProfile
from celltls.at.channel import ATChannel
from celltls.at.protocol import ATProtocol, Final, RawData, Request, Urc
from celltls.dialects.sierra import catalog as cat
from celltls.dialects.sierra.driver import Sierra, SierraSocket, notif_error
from celltls.errors import ConnectTimeoutError, DNSError, NetworkLostError, SocketError
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer

#: A pattern with no border (no proper prefix equal to a suffix), so that data which does not
#: hold it is framed unambiguously however reads cut it (a pattern like ``--x--`` is not: data
#: ending in ``--x`` would end early, on the module too: sierra-hl78xx.md S11).
PATTERN = b"<celltls-0123456789ab>"
TRICKY = [
    b"OK\r\n", b"\r\nOK\r\n", b"\r\nERROR\r\n", b"+KTCP_DATA: 1,5\r\n", b"CONNECT\r\n",
    PATTERN[:1], PATTERN[:5], PATTERN[:-1], b"--", b"\r", b"\n", b"\x00\xff",
]
payloads = st.lists(
    st.one_of(st.binary(max_size=40), st.sampled_from(TRICKY)), max_size=8
).map(b"".join)


def _no_pattern(data: bytes) -> bool:
    """The module cannot frame data that holds the pattern (sierra-hl78xx.md S11)."""
    return (data + PATTERN).find(PATTERN) == len(data)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[last:point])
        last = point
    return [p for p in pieces if p]


# -- the protocol ------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(data=payloads.filter(_no_pattern), cuts=st.lists(st.integers(0, 10_000), max_size=12),
       urcs=st.lists(st.sampled_from(["before", "between", "after"]), max_size=3),
       echo=st.booleans())
def test_ktcprcv_answer_any_split(data: bytes, cuts: list[int], urcs: list[str],
                                  echo: bool) -> None:
    line = f"AT+KTCPRCV=1,{len(data) + 7}"  # asked for more than the module holds
    before = [f"+KTCP_DATA: 1,{i}" for i, u in enumerate(urcs) if u == "before"]
    between = [f"+KTCP_NOTIF: 1,{i}" for i, u in enumerate(urcs) if u == "between"]
    after = [f"+KCNX_IND: 1,{i}" for i, u in enumerate(urcs) if u == "after"]
    stream = (line.encode() + b"\r" if echo else b"")
    stream += b"".join(f"\r\n{u}\r\n".encode() for u in before)
    stream += b"\r\nCONNECT\r\n" + data + PATTERN
    stream += b"".join(f"\r\n{u}\r\n".encode() for u in between)
    stream += b"\r\nOK\r\n" + b"".join(f"\r\n{u}\r\n".encode() for u in after)
    proto = ATProtocol(urc_prefixes=cat.CATALOG.urc_prefixes())
    proto.end_raw_at(PATTERN)
    proto.send_command(Request(line, connect_is_final=True, raw_after_connect=True))
    events = []
    for piece in _split(stream, cuts):
        events += proto.receive_data(piece)
    raw = [e for e in events if isinstance(e, RawData)]
    assert b"".join(e.data for e in raw) == data
    assert raw[-1] == RawData(b"") and [e for e in raw if not e.data] == [RawData(b"")]
    finals = [e for e in events if isinstance(e, Final)]
    assert [f.kind for f in finals] == ["CONNECT"]
    assert [e.text for e in events if isinstance(e, Urc)] == [*before, *between, "OK", *after]
    assert not proto.in_raw_mode and proto.pending is None


# -- the driver against a scripted module -----------------------------------------------------

@dataclass
class Arrival:
    """Bytes the server sends; the module announces them ``mode``: ``before`` the next
    read's CONNECT, ``inside`` it (between pattern and OK), ``after`` its OK, ``none``, or
    ``stale`` (after the OK, repeating the count from before the read)."""

    data: bytes
    mode: str
    delay: int  # commands to wait after the previous arrival


class ScriptedSierra:
    """A pyserial-like port that answers like an HL78xx TCP session 1, nothing more.

    Written for this test from sierra-hl78xx.md S4 only: ``AT+KTCPRCV`` returns
    ``min(ndata, buffered)`` bytes then the pattern then ``OK``; ``AT+KTCPSTAT`` tells the
    buffered count; the output is cut into the given chunk sizes.
    """

    name = "scripted-sierra"

    def __init__(self, arrivals: list[Arrival], chunks: list[int]) -> None:
        self.arrivals = deque(arrivals)
        self.chunks = chunks or [64]
        self._chunk = 0
        self.buffered = bytearray()
        self.out = bytearray()
        self.cond = threading.Condition()
        self.line = bytearray()
        self.commands = 0
        self.wait = self.arrivals[0].delay if self.arrivals else 0
        self.closed_sent = False
        self.reads: list[tuple[int, int]] = []

    # pyserial surface used by ATChannel
    timeout = 0.02

    @property
    def in_waiting(self) -> int:
        with self.cond:
            size = self.chunks[self._chunk % len(self.chunks)]
            return max(0, min(len(self.out), size - 1))

    def read(self, size: int = 1) -> bytes:
        with self.cond:
            if not self.out:
                self.cond.wait(0.02)
            if size == 1 and self.out:
                self._chunk += 1
            data = bytes(self.out[:size])
            del self.out[:size]
            return data

    def write(self, data: bytes) -> int:
        for byte in data:
            if byte == 13:
                self._command(self.line.decode())
                self.line.clear()
            else:
                self.line.append(byte)
        return len(data)

    def close(self) -> None:
        pass

    # the module
    def _emit(self, text: bytes) -> None:
        with self.cond:
            self.out += text
            self.cond.notify_all()

    def _due(self, mode: str) -> Arrival | None:
        if self.arrivals and self.wait <= 0 and self.arrivals[0].mode == mode:
            arrival = self.arrivals.popleft()
            self.buffered += arrival.data
            self.wait = self.arrivals[0].delay if self.arrivals else 0
            return arrival
        return None

    def _urc_for(self, mode: str) -> bytes:
        arrival = self._due(mode)
        if arrival is None and mode == "after":
            arrival = self._due("inside")  # no read to be inside of: announce it after
        if arrival is None:
            return b""
        return f"\r\n+KTCP_DATA: 1,{len(self.buffered)}\r\n".encode()

    def _command(self, line: str) -> None:
        self.commands += 1
        self.wait -= 1
        if self.arrivals and self.wait <= 0 and self.arrivals[0].mode == "none":
            self._due("none")
        out = self._urc_for("before") + self._urc_for("stale")
        stale = b""
        match = re.fullmatch(r"AT\+KTCPRCV=1,(\d+)", line)
        if match:
            ask = int(match.group(1))
            had = len(self.buffered)
            take = bytes(self.buffered[:ask])
            del self.buffered[:len(take)]
            self.reads.append((ask, len(take)))
            out += b"\r\nCONNECT\r\n" + take + PATTERN + self._urc_for("inside") + b"\r\nOK\r\n"
            if had > len(take) or not self.arrivals:
                stale = f"\r\n+KTCP_DATA: 1,{had}\r\n".encode()
        elif line == "AT+KTCPSTAT=1":
            status = 5 if self.closed_sent else 3
            out += f"\r\n+KTCPSTAT: {status},-1,0,{len(self.buffered)}\r\n\r\nOK\r\n".encode()
        else:
            out += b"\r\nOK\r\n"
        out += self._urc_for("after")
        if stale and self.reads and self.reads[-1][1] and random.random() < 0.3:
            out += stale  # an out-of-date count, larger than what is buffered
        if not self.arrivals and not self.closed_sent:
            self.closed_sent = True
            out += b"\r\n+KTCP_NOTIF: 1,4\r\n"
        self._emit(out)


arrivals = st.lists(
    st.builds(Arrival, payloads,
              st.sampled_from(["before", "inside", "after", "none", "stale"]),
              st.integers(0, 2)),
    min_size=1, max_size=6).filter(lambda s: PATTERN not in b"".join(a.data for a in s))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=arrivals, chunks=st.lists(st.integers(1, 24), min_size=1, max_size=6),
       read_size=st.integers(1, 300), seed=st.integers(0, 1000))
def test_socket_delivers_exact_bytes(script: list[Arrival], chunks: list[int], read_size: int,
                                     seed: int) -> None:
    random.seed(seed)
    port = ScriptedSierra(script, chunks)
    channel = ATChannel(port, urc_prefixes=cat.CATALOG.urc_prefixes())
    try:
        driver = Sierra(channel, model="hl7800")
        driver.pattern = PATTERN
        sock = SierraSocket(driver, 1, "server.test", 443)
        sock.poll_interval = 0.02
        sock.timeout = 3
        driver._sockets[1] = sock
        got = bytearray()
        while True:
            piece = sock.recv(read_size)
            if not piece:
                break
            assert len(piece) <= read_size
            got += piece
        assert bytes(got) == b"".join(a.data for a in script)
        assert all(k <= ask for ask, k in port.reads)
    finally:
        channel.close()


def test_notif_codes_are_named() -> None:
    assert isinstance(notif_error("+KTCP_NOTIF: 1,3", host="nowhere.test"), DNSError)
    assert isinstance(notif_error("+KTCP_NOTIF: 1,12", host="h", port=1), ConnectTimeoutError)
    lost = notif_error("+KTCP_NOTIF: 2,0")
    assert isinstance(lost, NetworkLostError) and lost.urc == "+KTCP_NOTIF: 2,0"
    other = notif_error("+KTCP_NOTIF: 1,8")
    assert isinstance(other, SocketError) and "KTCPSND" in str(other)


# -- end to end through a re-chunking relay ----------------------------------------------------

class ChunkingRelay:
    """A TCP relay on 127.0.0.1 that forwards each direction in random pieces of 1-97 bytes,
    as a USB-serial adapter hands bytes over in its own chunks. Stops with the test."""

    def __init__(self, target: tuple[str, int], seed: int = 7) -> None:
        self.target = target
        self.random = random.Random(seed)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        upstream = socket.create_connection(self.target)
        self.sockets += [client, upstream]
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(4096):
                while data:
                    size = self.random.randint(1, 97)
                    dst.sendall(data[:size])
                    data = data[size:]
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        for s in self.sockets:
            s.close()


def test_one_megabyte_through_rechunking_relay(pki: PKI, https: LocalHTTPSServer) -> None:
    size = 1024 * 1024
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)
    with VirtualModemServer("sierra", model="hl7800") as sim:
        host, port = sim.url.removeprefix("socket://").split(":")
        relay = ChunkingRelay((host, int(port)))
        try:
            with Modem(relay.url, "sierra") as modem:
                modem.attach(apn="internet")
                response = modem.request("GET", https.url(f"/bytes/{size}?seed=5"),
                                         profile=profile, via="socket")
                digest = hashlib.sha256()
                total = 0
                for chunk in response.iter_bytes():
                    digest.update(chunk)
                    total += len(chunk)
        finally:
            relay.close()
    assert total == size
    assert digest.hexdigest() == hashlib.sha256(deterministic_bytes(size, seed=5)).hexdigest()
