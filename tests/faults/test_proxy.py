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
