"""The fault proxy injects exactly what it says, where it says (bytes in, bytes out)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from celltls.sim.engine import ATEngine
from tests.faults.proxy import Fault, FaultProxy

RECV = b"\r\n+QSSLRECV: 127.0.0.1:443,TCP,10\r\n0123456789\r\nOK\r\n"


@pytest.fixture
def quectel() -> Iterator[FaultProxy]:
    proxy = FaultProxy(1, "quectel-gsm", ATEngine())
    yield proxy
    proxy.close()


@pytest.fixture
def sierra() -> Iterator[FaultProxy]:
    proxy = FaultProxy(1, "sierra", ATEngine())
    yield proxy
    proxy.close()


def process(proxy: FaultProxy, data: bytes) -> bytes:
    out, keep = proxy._process(bytearray(data), None)  # type: ignore[arg-type]
    return out + bytes(keep)


def test_counts_without_a_fault(quectel: FaultProxy) -> None:
    quectel.arm(None)
    assert process(quectel, RECV * 3) == RECV * 3
    assert (quectel.counters.down_bytes, quectel.counters.oks, quectel.counters.data_bytes) == (
        3 * len(RECV), 3, 30)
    assert not quectel.fired.is_set()


def test_lost_and_duplicated_ok(quectel: FaultProxy) -> None:
    quectel.arm(Fault("lost_ok", 1))
    assert process(quectel, RECV * 3) == RECV + RECV[:-4] + RECV
    quectel.arm(Fault("duplicate_ok", 0))
    assert process(quectel, RECV) == RECV + b"\r\nOK\r\n"
    assert quectel.fired.is_set()


def test_ok_split_across_reads_is_still_found(quectel: FaultProxy) -> None:
    quectel.arm(Fault("lost_ok", 0))
    out, keep = quectel._process(bytearray(b"\r\nSEND OK\r\n\r\nO"), None)  # type: ignore[arg-type]
    assert (out, bytes(keep)) == (b"\r\nSEND OK\r\n", b"\r\nO")
    out, keep = quectel._process(keep + b"K\r\n", None)  # type: ignore[arg-type]
    assert out + bytes(keep) == b"\r\n"


def test_urc_storm_copies_a_data_report(quectel: FaultProxy) -> None:
    quectel.arm(Fault("urc_storm", 0, size=3))
    urc = b'\r\n+QSSLURC: "recv",0,0\r\n'
    assert process(quectel, urc + RECV) == urc + RECV + urc * 3


def test_truncation_stays_inside_the_data_block(quectel: FaultProxy) -> None:
    quectel.arm(Fault("truncate", 7, size=50))
    assert process(quectel, RECV) == RECV.replace(b"789", b"")
    assert quectel.counters.data_bytes == 10


def test_garble_changes_exactly_size_bytes(quectel: FaultProxy) -> None:
    quectel.arm(Fault("garble", 5, size=4))
    out = process(quectel, RECV)
    assert [i for i, (a, b) in enumerate(zip(out, RECV, strict=True)) if a != b] == [5, 6, 7, 8]


def test_sierra_download_runs_to_the_pattern(sierra: FaultProxy) -> None:
    sierra._tracker.host_line(b'AT+KPATTERN="--p--"')
    sierra._tracker.host_line(b"AT+KTCPRCV=1,6")
    sierra.arm(None)
    process(sierra, b"\r\nCONNECT\r\nabcdef--p--\r\nOK\r\n")
    assert sierra.counters.data_bytes == len(b"abcdef--p--")
    assert sierra.counters.oks == 1
    sierra._tracker.host_line(b"AT+KTCPSND=1,6")  # CONNECT of an upload: no data comes back
    sierra.arm(None)
    process(sierra, b"\r\nCONNECT\r\n\r\nOK\r\n")
    assert (sierra.counters.data_bytes, sierra.counters.oks) == (0, 1)


@pytest.fixture
def xbee3() -> Iterator[FaultProxy]:
    proxy = FaultProxy(1, "xbee3", ATEngine())
    yield proxy
    proxy.close()


def _xbee_frame(data: bytes) -> bytes:
    """An API mode 1 frame (xbee3.md S6), built here rather than with the driver's codec."""
    return b"\x7e" + len(data).to_bytes(2, "big") + data + bytes([0xFF - (sum(data) & 0xFF)])


#: command-mode answers, then a 0xCD Socket Receive whose payload holds "OK\r" and a 0x7E
XBEE = (b"OK\r1BB\rOK\r" + _xbee_frame(b"\xcd\x00\x00\x00" + b"HTTP/1.1 200 OK\r\n\x7e\x00")
        + _xbee_frame(b"\x89\x05\x00"))


def test_xbee3_counts_command_mode_oks_and_socket_receive_payload(xbee3: FaultProxy) -> None:
    xbee3.arm(None)
    assert process(xbee3, XBEE) == XBEE
    assert (xbee3.counters.oks, xbee3.counters.data_bytes) == (2, len(b"HTTP/1.1 200 OK\r\n") + 2)


def test_xbee3_lost_and_duplicated_ok_and_no_urc_storm(xbee3: FaultProxy) -> None:
    xbee3.arm(Fault("lost_ok", 1))
    assert process(xbee3, XBEE) == XBEE.replace(b"1BB\rOK\r", b"1BB\r", 1)
    xbee3.arm(Fault("duplicate_ok", 0))
    assert process(xbee3, XBEE) == b"OK\r" + XBEE
    xbee3.arm(Fault("urc_storm", 0, size=3))  # no unsolicited line on an XBee (NOT_INJECTED)
    assert process(xbee3, XBEE) == XBEE and not xbee3.fired.is_set()


def test_xbee3_truncation_stays_inside_the_frame_payload(xbee3: FaultProxy) -> None:
    xbee3.arm(Fault("truncate", 9, size=500))
    assert process(xbee3, XBEE) == XBEE.replace(b"200 OK\r\n\x7e\x00", b"", 1)
