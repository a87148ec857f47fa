"""Exact data accounting of Quectel GSM reads (SSL-AN 2.2.4, 2.2.10.1; quectel-gsm-tcpip.md L3).

Two levels, both with hypothesis:

- the protocol: a series of ``AT+QSSLRECV`` answers (binary payloads holding ``OK``, CR LF and
  URC-looking text), URCs put before, inside (between the data and ``OK``) and after each
  answer, the byte stream cut at every place: every payload comes out once, whole, in order,
  and every URC is delivered;
- the driver's read loop, over a real :class:`~celltls.at.channel.ATChannel`, against a small
  scripted module that keeps a receive buffer, reports ``+QSSLURC: "recv"`` only when data
  arrives into an empty buffer, puts that URC inside its read answers, and hands its output out
  in arbitrary pieces: what ``recv`` returns is exactly what arrived, neither lost nor doubled.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celltls.at.channel import ATChannel, Reply
from celltls.at.protocol import (
    ATProtocol,
    DataBlock,
    Echo,
    Event,
    Final,
    Request,
    Response,
    Urc,
)
from celltls.dialects.quectel_gsm.catalog import CATALOG
from celltls.dialects.quectel_gsm.driver import (
    QuectelGsm,
    QuectelSocket,
    recv_payload,
)
from celltls.errors import ATProtocolError

HEADER = b"+QSSLRECV: 116.247.104.27:465,TCP,%d"
URC_LINES = (
    '+QSSLURC: "recv",0,1',
    '+QSSLURC: "closed",3',
    "+CGREG: 1",
    "+QSSLOPEN: 2,0",
)
# Payload material that looks like framing: it must stay payload.
TRICKY = (b"\r\nOK\r\n", b'\r\n+QSSLURC: "recv",0,1\r\n', b"\r\n+QSSLRECV: 1.2.3.4:5,TCP,3\r\n",
          b"ERROR", b"\r", b"\n", b"> ", b"\x00", b"+++")

payloads = st.lists(
    st.one_of(st.binary(max_size=40), st.sampled_from(TRICKY)), max_size=12
).map(b"".join).map(lambda b: b[:1500])
urc_spots = st.lists(st.sampled_from(URC_LINES), max_size=2)


def proto() -> ATProtocol:
    return ATProtocol(urc_prefixes=CATALOG.urc_prefixes(), data_blocks=CATALOG.data_blocks)


def answer(payload: bytes, before: list[str], inside: list[str], after: list[str],
           echo: bool) -> bytes:
    """One read answer as SSL-AN 2.2.4 frames it, URCs where L3 saw them and beyond."""
    out = b"AT+QSSLRECV=0,1,1500\r" if echo else b""
    out += b"".join(b"\r\n" + u.encode() + b"\r\n" for u in before)
    if payload:
        out += b"\r\n" + HEADER % len(payload) + b"\r\n" + payload
    out += b"".join(b"\r\n" + u.encode() + b"\r\n" for u in inside)
    out += b"\r\nOK\r\n"
    out += b"".join(b"\r\n" + u.encode() + b"\r\n" for u in after)
    return out


def cut(data: bytes, points: list[int]) -> list[bytes]:
    marks = sorted({p % (len(data) + 1) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(marks)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(payloads, urc_spots, urc_spots, urc_spots, st.booleans(),
                  st.lists(st.integers(0, 2000), max_size=8)),
        min_size=1, max_size=5,
    )
)
def test_every_split_and_urc_position_gives_the_payloads_exactly(
    reads: list[tuple[bytes, list[str], list[str], list[str], bool, list[int]]],
) -> None:
    p = proto()
    urcs_sent: list[str] = []
    urcs_got: list[str] = []
    for payload, before, inside, after, echo, points in reads:
        p.send_command(Request("AT+QSSLRECV=0,1,1500", response_prefixes=("+QSSLRECV:",)))
        stream = answer(payload, before, inside, after, echo)
        events: list[Event] = []
        for chunk in cut(stream, points):
            events.extend(p.receive_data(chunk))
        urcs_sent += before + inside + after
        urcs_got += [e.text for e in events if isinstance(e, Urc)]
        reply = Reply("AT+QSSLRECV=0,1,1500")
        for event in events:
            assert not isinstance(event, Response), f"stray line {event!r}"
            if isinstance(event, DataBlock):
                assert event.solicited
                reply.blocks.append(event)
            elif isinstance(event, Final):
                reply.final = event
            else:
                assert isinstance(event, Urc | Echo)
        assert reply.final == Final("OK", True, "OK")
        assert recv_payload(reply, 1500) == payload
        assert p.pending is None
    assert urcs_got == urcs_sent


def test_a_garbled_answer_is_refused_not_delivered() -> None:
    reply = Reply("AT+QSSLRECV=0,1,1500", lines=["+QSSLRECV: 1.2.3.4:443,TCP,9999", "xyz"],
                  final=Final("OK", True, "OK"))
    with pytest.raises(ATProtocolError, match="malformed"):
        recv_payload(reply, 1500)
    two = Reply("x", blocks=[DataBlock("h", b"a"), DataBlock("h", b"b")])
    with pytest.raises(ATProtocolError, match="2 data blocks"):
        recv_payload(two, 1500)
    big = Reply("x", blocks=[DataBlock("h", b"a" * 20)])
    with pytest.raises(ATProtocolError, match="at most 10"):
        recv_payload(big, 10)


class ScriptedModule:
    """A pyserial-like port playing a Quectel GSM module with one SSL socket (ssid 1).

    Network data arrives from ``arrivals``; the module keeps it in a receive buffer, reports
    ``+QSSLURC: "recv",0,1`` only when data lands in an empty buffer (SSL-AN 2.2.10.1 note 1)
    and places that URC before the read answer, between its data and ``OK``, or after ``OK``
    (``spots``). ``AT+QSSLRECV`` answers at most the requested length (2.2.4). When all data
    has been read, ``+QSSLURC: "closed",1`` follows (2.2.10.2). Output is handed out in pieces
    of the sizes in ``chunks``.
    """

    timeout = 0.01

    def __init__(self, arrivals: list[bytes], spots: list[int], chunks: list[int]) -> None:
        self.arrivals = deque(a for a in arrivals if a)
        self.spots = deque(spots)
        self.chunks = deque(chunks)
        self.buffer = bytearray()
        self.out = bytearray()
        self.line = bytearray()
        self.cond = threading.Condition()
        self.closed_sent = False
        self.name = "scripted"

    # the host side -------------------------------------------------------------------------
    def write(self, data: bytes) -> int:
        for byte in data:
            if byte == 0x0D:
                self._command(self.line.decode())
                self.line.clear()
            else:
                self.line.append(byte)
        return len(data)

    def read(self, size: int = 1) -> bytes:
        with self.cond:
            if not self.out:
                self.cond.wait(self.timeout)
            piece = self._piece(size)
            data = bytes(self.out[:piece])
            del self.out[:piece]
            return data

    @property
    def in_waiting(self) -> int:
        with self.cond:
            return self._piece(len(self.out))

    def close(self) -> None:
        pass

    # the module ----------------------------------------------------------------------------
    def _piece(self, size: int) -> int:
        step = self.chunks[0] if self.chunks else size
        return max(0, min(size, len(self.out), max(1, step)))

    def _emit(self, data: bytes) -> None:
        with self.cond:
            self.out += data
            if self.chunks:
                self.chunks.rotate(-1)
            self.cond.notify_all()

    def _arrive(self) -> bool:
        """Next network data into the buffer; whether a URC is due (the buffer was empty)."""
        if not self.arrivals:
            return False
        was_empty = not self.buffer
        self.buffer += self.arrivals.popleft()
        return was_empty

    def _spot(self) -> int:
        if not self.spots:
            return 2
        self.spots.rotate(-1)
        return self.spots[-1] % 3

    def _command(self, line: str) -> None:
        urc = b'\r\n+QSSLURC: "recv",0,1\r\n'
        if line.startswith("AT+QSSLRECV="):
            length = int(line.rsplit(",", 1)[1])
            out = urc if self._arrive() else b""
            data = bytes(self.buffer[:length])
            del self.buffer[:length]
            if data:
                out += b"\r\n" + HEADER % len(data) + b"\r\n" + data
            # Data arriving while the answer is written: the URC lands inside it or after it.
            due = not self.buffer and self._arrive()
            spot = self._spot()
            if due and spot == 1:
                out += urc
            out += b"\r\nOK\r\n"
            if due and spot != 1:
                out += urc
            if not self.buffer and not self.arrivals and not self.closed_sent:
                self.closed_sent = True
                out += b'\r\n+QSSLURC: "closed",1\r\n'
            self._emit(out)
        elif line.startswith("AT+QSSLSTATE"):
            self._emit(b'\r\n+QSSLSTATE: "IP STATUS"\r\n\r\nOK\r\n')
        elif line.startswith("AT+QSSLCLOSE"):
            self._emit(b"\r\nERROR\r\n" if self.closed_sent else b"\r\nCLOSE OK\r\n")
        elif line.strip():
            self._emit(b"\r\nOK\r\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.binary(min_size=1, max_size=200),
            st.tuples(st.integers(1, 4000), st.integers(0, 255)).map(
                lambda t: bytes((t[1] + i) % 256 for i in range(t[0]))
            ),
        ),
        min_size=1, max_size=6,
    ),
    st.lists(st.integers(0, 2), min_size=1, max_size=6),
    st.lists(st.integers(1, 400), min_size=1, max_size=6),
    st.integers(1, 5000),
)
def test_read_loop_never_loses_or_doubles_bytes(
    arrivals: list[bytes], spots: list[int], chunks: list[int], max_bytes: int,
) -> None:
    module = ScriptedModule(arrivals, spots, chunks)
    channel = ATChannel(module, urc_prefixes=CATALOG.urc_prefixes(),
                        data_blocks=CATALOG.data_blocks)
    try:
        driver = QuectelGsm(channel, probe_failures=False)
        sock = QuectelSocket(driver, 1, "116.247.104.27", 465)
        sock.timeout = 5.0
        sock.poll_interval = 60.0  # progress must come from the URCs and reads, not polling
        driver._sockets[1] = sock
        received = bytearray()
        while chunk := sock.recv(max_bytes):
            assert len(chunk) <= max_bytes
            received += chunk
        assert bytes(received) == b"".join(arrivals)
        assert sock.received == len(received)
        sock.close()
    finally:
        channel.close()
