"""The sans-IO AT protocol: framing, URCs, data blocks, prompts, raw mode.

Response shapes follow the Quectel GSM SSL Application Note V3.3 (SSL-AN) chapter 3 sessions.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltls.at.protocol import (
    ATProtocol,
    DataBlock,
    Echo,
    Event,
    Final,
    Intermediate,
    Prompt,
    RawData,
    Request,
    Response,
    Urc,
)
from celltls.dialects.quectel_gsm.catalog import CATALOG
from celltls.errors import ATProtocolError

URCS = CATALOG.urc_prefixes()


def proto() -> ATProtocol:
    return ATProtocol(urc_prefixes=URCS, data_blocks=CATALOG.data_blocks)


def feed(p: ATProtocol, chunks: list[bytes]) -> list[Event]:
    events: list[Event] = []
    for chunk in chunks:
        events.extend(p.receive_data(chunk))
    return events


RECV = Request("AT+QSSLRECV=0,1,1500", response_prefixes=("+QSSLRECV:",))
# SSL-AN 3.2: the header, CR LF, exactly <len> raw bytes, CR LF, OK. Here the payload itself
# holds CR LF OK CR LF and a URC-looking line.
PAYLOAD = b'ab\r\nOK\r\n+QSSLURC: "closed",1\r\nz'
RECV_STREAM = (
    b"\r\n+QSSLRECV: 116.247.104.27:465,TCP,%d\r\n" % len(PAYLOAD) + PAYLOAD + b"\r\nOK\r\n"
)


def test_data_block_holding_ok_is_read_exactly() -> None:
    p = proto()
    p.send_command(RECV)
    events = feed(p, [RECV_STREAM])
    assert events == [
        DataBlock(f"+QSSLRECV: 116.247.104.27:465,TCP,{len(PAYLOAD)}", PAYLOAD),
        Final("OK", True, "OK"),
    ]


def split_points(data: bytes) -> st.SearchStrategy[list[bytes]]:
    def cut(cuts: list[int]) -> list[bytes]:
        starts, ends = [0, *sorted(cuts)], [*sorted(cuts), len(data)]
        return [data[a:b] for a, b in zip(starts, ends, strict=True)]

    return st.lists(st.integers(0, len(data)), max_size=12).map(cut)


@settings(max_examples=300)
@given(split_points(RECV_STREAM))
def test_any_split_gives_the_same_events(chunks: list[bytes]) -> None:
    whole = proto()
    whole.send_command(RECV)
    expected = feed(whole, [RECV_STREAM])
    p = proto()
    p.send_command(RECV)
    assert feed(p, chunks) == expected


SESSION = [
    # (request, the module's bytes) pairs; echo on, as after power-up (V.250 E1).
    (Request('AT+QSSLCFG="sslversion",0,4', response_prefixes=("+QSSLCFG:",)),
     b'AT+QSSLCFG="sslversion",0,4\r\r\nOK\r\n'),
    # The write form's result comes after OK, as a URC (SSL-AN 2.2.2, 3.1): no response prefix.
    (Request("AT+QSSLOPEN=1,0,\"116.247.104.27\",465,0"),
     b'AT+QSSLOPEN=1,0,"116.247.104.27",465,0\r\r\nOK\r\n'),
    (Request("AT+QSSLSEND=1,12", data_phase="prompt", final_results=("SEND OK",),
             failure_results=("SEND FAIL",)),
     b"AT+QSSLSEND=1,12\r\r\n> "),
    (None, b"\r\nSEND OK\r\n"),
    (Request("AT+QILOCIP", final_pattern=r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"),
     b"AT+QILOCIP\r\r\n10.1.83.188\r\n"),
    (Request("AT+QSECREAD=\"RAM:ca_cert.pem\"", response_prefixes=("+QSECREAD:",)),
     b'AT+QSECREAD="RAM:ca_cert.pem"\r\r\n+QSECREAD: 1,4039\r\n\r\nOK\r\n'),
    (Request("AT+QSSLCLOSE=1", final_results=("CLOSE OK",)),
     b"AT+QSSLCLOSE=1\r\r\nCLOSE OK\r\n"),
]

URC_LINES = [
    b'\r\n+QSSLURC: "recv",0,1\r\n',
    b"\r\n+QSSLOPEN: 1,0\r\n",
    b'\r\n+QSSLURC: "closed",3\r\n',
    b"\r\n+CGREG: 1\r\n",
]


def run_session(urc_at: dict[int, bytes], splits: int = 0) -> list[Event]:
    """Run SESSION, inserting URCs before the module bytes of given steps."""
    p = proto()
    events: list[Event] = []
    for index, (request, data) in enumerate(SESSION):
        if request is not None:
            p.send_command(request)
        stream = urc_at.get(index, b"") + data
        if splits:
            size = max(1, len(stream) // splits)
            chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        else:
            chunks = [stream]
        events.extend(feed(p, chunks))
    return events


def test_session_events() -> None:
    events = run_session({})
    assert [type(e) for e in events] == [
        Echo, Final, Echo, Final, Echo, Prompt, Final, Echo, Final, Echo, Response, Final,
        Echo, Final,
    ]
    assert Final("10.1.83.188", True, "VALUE") in events
    assert Final("SEND OK", True, "SEND OK") in events
    assert Response("+QSECREAD: 1,4039") in events


@settings(max_examples=200)
@given(
    st.dictionaries(st.integers(0, len(SESSION) - 1), st.sampled_from(URC_LINES), max_size=4),
    st.integers(0, 7),
)
def test_urcs_interleaved_anywhere_are_delivered_and_not_taken_as_responses(
    urc_at: dict[int, bytes], splits: int
) -> None:
    plain = [e for e in run_session({}) if not isinstance(e, Urc)]
    events = run_session(urc_at, splits)
    urcs = [e for e in events if isinstance(e, Urc)]
    expected = [Urc(line.strip().decode()) for _, line in sorted(urc_at.items())]
    assert urcs == expected
    assert [e for e in events if not isinstance(e, Urc)] == plain


def test_urc_in_the_middle_of_a_response() -> None:
    p = proto()
    p.send_command(Request("AT+QSECREAD=\"RAM:a\"", response_prefixes=("+QSECREAD:",)))
    events = feed(p, [b'\r\n+QSECREAD: 1,618\r\n\r\n+QSSLURC: "recv",0,1\r\n\r\nOK\r\n'])
    assert events == [
        Response("+QSECREAD: 1,618"),
        Urc('+QSSLURC: "recv",0,1'),
        Final("OK", True, "OK"),
    ]


def test_cme_error_is_decoded() -> None:
    p = proto()
    p.send_command(Request("AT+QSECDEL=\"RAM:x\""))
    (event,) = feed(p, [b"\r\n+CME ERROR: 3\r\n"])
    assert event == Final("+CME ERROR: 3", False, "CME", 3, "operation not allowed")


def test_cms_and_verbose_errors() -> None:
    p = proto()
    p.send_command(Request("AT+X"))
    assert feed(p, [b"\r\n+CMS ERROR: 331\r\n"]) == [
        Final("+CMS ERROR: 331", False, "CMS", 331, "no network service")
    ]
    p.send_command(Request("AT+X"))
    assert feed(p, [b"\r\n+CME ERROR: SIM not inserted\r\n"]) == [
        Final("+CME ERROR: SIM not inserted", False, "CME", None, "SIM not inserted")
    ]


def test_secwrite_connect_is_intermediate() -> None:
    p = proto()
    p.send_command(Request('AT+QSECWRITE="RAM:ca.pem",5,100', data_phase="connect",
                           response_prefixes=("+QSECWRITE:",)))
    assert feed(p, [b"\r\nCONNECT\r\n"]) == [Intermediate("CONNECT")]
    assert feed(p, [b"\r\n+QSECWRITE: 5,618\r\n\r\nOK\r\n"]) == [
        Response("+QSECWRITE: 5,618"),
        Final("OK", True, "OK"),
    ]


def test_transparent_mode_and_escape() -> None:
    # SSL-AN 3.4.1: AT+QSSLOPEN=...,1 -> OK, then CONNECT and raw data; +++ -> OK.
    p = proto()
    p.send_command(Request('AT+QSSLOPEN=1,0,"h",8011,1'))
    p.arm_raw_on_connect()
    events = feed(p, [b"\r\nOK\r\n\r\nCONNECT\r\nHTTP/1.1 200 OK\r\n\r\nOK\r\n"])
    assert events[:2] == [Final("OK", True, "OK"), Intermediate("CONNECT")]
    assert b"".join(e.data for e in events[2:] if isinstance(e, RawData)) == (
        b"HTTP/1.1 200 OK\r\n\r\nOK\r\n"
    )
    assert p.in_raw_mode
    p.begin_escape()
    events = feed(p, [b"tail", b"\r\nO", b"K\r\n"])
    assert events == [RawData(b"tail"), Final("OK", True, "OK")]
    assert not p.in_raw_mode


def test_ato_connect_is_final_and_enters_raw_mode() -> None:
    p = proto()
    p.send_command(Request("ATO", connect_is_final=True, raw_after_connect=True))
    assert feed(p, [b"\r\nCONNECT\r\nxyz"]) == [Final("CONNECT", True, "CONNECT"), RawData(b"xyz")]


def test_unknown_line_without_command_is_a_urc() -> None:
    p = proto()
    assert feed(p, [b"\r\nRDY\r\n\r\nSOMETHING NEW\r\n"]) == [Urc("RDY"), Urc("SOMETHING NEW")]


def test_unsolicited_data_block() -> None:
    p = proto()
    assert feed(p, [b"\r\n+QSSLRECV: 1.2.3.4:5,TCP,3\r\nabc\r\n"]) == [
        DataBlock("+QSSLRECV: 1.2.3.4:5,TCP,3", b"abc", solicited=False)
    ]


def test_prompt_only_when_expected() -> None:
    p = proto()
    p.send_command(Request("AT+X"))
    assert feed(p, [b"\r\n> not a prompt\r\n\r\nOK\r\n"]) == [
        Response("> not a prompt"),
        Final("OK", True, "OK"),
    ]


def test_second_command_while_pending_is_refused() -> None:
    p = proto()
    p.send_command(Request("AT"))
    with pytest.raises(ATProtocolError, match="pending"):
        p.send_command(Request("AT"))


def test_non_ascii_command_registers_nothing() -> None:
    p = proto()
    with pytest.raises(ATProtocolError, match="not ASCII"):
        p.send_command(Request("AT+X=\"\u00e9\""))
    assert p.pending is None
    assert p.send_command(Request("AT")) == b"AT\r"


def test_transparent_mode_left_by_the_module() -> None:
    p = ATProtocol(raw_exit_markers=(b"\r\nCLOSED\r\n",))
    p.enter_raw_mode()
    events = feed(p, [b"data\r\n", b"\r\nCL", b"OSED\r\n"])
    assert b"".join(e.data for e in events if isinstance(e, RawData)) == b"data\r\n"
    assert events[-1] == Urc("CLOSED")
    assert not p.in_raw_mode


def test_partial_marker_is_released_when_it_is_data() -> None:
    p = ATProtocol(raw_exit_markers=(b"\r\nCLOSED\r\n",))
    p.enter_raw_mode()
    events = feed(p, [b"ab\r\nCL", b"X"])
    assert b"".join(e.data for e in events if isinstance(e, RawData)) == b"ab\r\nCLX"
    assert p.in_raw_mode


def test_module_leaves_data_mode_while_the_host_escapes() -> None:
    p = ATProtocol(raw_exit_markers=(b"\r\nCLOSED\r\n",))
    p.enter_raw_mode()
    p.begin_escape()
    events = feed(p, [b"tail\r\nCLOSED\r\n"])
    assert events == [RawData(b"tail"), Final("CLOSED", True, "CLOSED")]
    assert p.pending is None and not p.in_raw_mode


@settings(max_examples=200)
@given(st.lists(st.integers(0, 60), max_size=8))
def test_data_phase_bounded_by_a_pattern(cuts: list[int]) -> None:
    """A Sierra-style data phase: CONNECT, data, the EOF pattern, OK (AT+KPATTERN)."""
    pattern = b"--EOF--Pattern--"
    data = b"body with --EOF--Pat and \r\nOK\r\n inside"
    stream = b"\r\nCONNECT\r\n" + data + pattern + b"\r\nOK\r\n"
    starts, ends = [0, *sorted(cuts)], [*sorted(cuts), len(stream)]
    p = ATProtocol()
    p.send_command(Request("AT+KHTTPGET=1,\"/\"", connect_is_final=True, raw_after_connect=True))
    p.end_raw_at(pattern)
    events: list[Event] = []
    for a, b in zip(starts, ends, strict=True):
        events.extend(p.receive_data(stream[a:b]))
    assert events[0] == Final("CONNECT", True, "CONNECT")
    raw = [e for e in events if isinstance(e, RawData)]
    assert b"".join(e.data for e in raw) == data
    assert raw[-1] == RawData(b"")
    assert events[-1] == Urc("OK")
    assert not p.in_raw_mode



def test_expected_bytes_of_a_block_and_of_a_sized_data_phase() -> None:
    """What the host may wait for before it reads again (ATChannel's low-water mark): the rest
    of a length-delimited block, the rest of a data phase whose size the command asked for,
    never more than that, and nothing once the phase ends or is given up."""
    p = ATProtocol(data_blocks=CATALOG.data_blocks)
    p.send_command(Request("AT+QSSLRECV=0,1,1500", response_prefixes=("+QSSLRECV:",)))
    assert p.expected_bytes == 0
    p.receive_data(b"\r\n+QSSLRECV: 1.2.3.4:443,TCP,1500\r\n" + b"x" * 100)
    assert p.expected_bytes == 1400 + len(b"\r\nOK\r\n")  # the final result code follows
    p.receive_data(b"x" * 1400 + b"\r\nOK\r\n")
    assert p.expected_bytes == 0

    pattern = b"--EOF--Pattern--"
    p.send_command(Request("AT+KTCPRCV=1,1000", connect_is_final=True, raw_after_connect=True))
    p.end_raw_at(pattern, 1000)
    p.receive_data(b"\r\nCONNECT\r\n" + b"y" * 300)
    assert p.expected_bytes == 700
    p.receive_data(b"y" * 200 + pattern + b"\r\nOK\r\n")  # fewer bytes than asked
    assert p.expected_bytes == 0 and not p.in_raw_mode

    p.send_command(Request("AT+KTCPRCV=1,1000", connect_is_final=True, raw_after_connect=True))
    p.end_raw_at(pattern, 1000)
    p.receive_data(b"\r\n+CME ERROR: 3\r\n")  # refused: no data phase
    p.cancel_raw_end()
    assert p.expected_bytes == 0

@settings(max_examples=300)
@given(st.lists(st.integers(0, 70), max_size=6))
def test_exit_marker_followed_by_urcs_in_one_read(cuts: list[int]) -> None:
    """A Quectel GSM module whose PDP context is lost in transparent mode prints ``CLOSED``
    and then ``+PDP DEACT`` (quectel-gsm-tcpip.md §3, §5), often in one read: the marker ends
    data mode although it does not end the read, and the URC after it is a URC, however the
    bytes are split."""
    stream = b"body\r\nCLOSE\r\nmore body\r\nCLOSED\r\n\r\n+PDP DEACT\r\n"
    starts, ends = [0, *sorted(cuts)], [*sorted(cuts), len(stream)]
    p = ATProtocol(urc_prefixes=("+PDP DEACT",), raw_exit_markers=(b"\r\nCLOSED\r\n",))
    p.enter_raw_mode()
    events: list[Event] = []
    for a, b in zip(starts, ends, strict=True):
        events.extend(p.receive_data(stream[a:b]))
    raw = b"".join(e.data for e in events if isinstance(e, RawData))
    assert raw == b"body\r\nCLOSE\r\nmore body"
    assert [e for e in events if not isinstance(e, RawData)] == [Urc("CLOSED"),
                                                                 Urc("+PDP DEACT")]
    assert not p.in_raw_mode


@pytest.mark.parametrize("cut", [1, 2])
def test_a_marker_split_after_its_cr_or_lf_is_recognised(cut: int) -> None:
    """A read that ends between the CR and the LF in front of ``CLOSED`` (or just after them):
    those bytes are held back, and the next read completes the marker."""
    p = ATProtocol(raw_exit_markers=(b"\r\nCLOSED\r\n",))
    p.enter_raw_mode()
    stream = b"body" + b"\r\nCLOSED\r\n"
    events = feed(p, [stream[: 4 + cut], stream[4 + cut :]])
    assert events == [RawData(b"body"), Urc("CLOSED")]
    assert not p.in_raw_mode


@pytest.mark.parametrize("tail", [b"\r", b"\r\n", b"\r\nCL", b"\r\nCLOSED\r"])
def test_held_bytes_are_payload_when_the_line_goes_quiet(tail: bytes) -> None:
    """A body that ends with what could start the marker (an HTTP message ending in CR LF) is
    held back only until settle_raw(), which the channel calls when no more bytes came."""
    p = ATProtocol(raw_exit_markers=(b"\r\nCLOSED\r\n",))
    p.enter_raw_mode()
    events = feed(p, [b"0\r\n" + tail])
    assert b"".join(e.data for e in events if isinstance(e, RawData)) == b"0\r\n"
    assert p.holding_raw
    settled = p.settle_raw()
    raw = b"".join(e.data for e in events + settled if isinstance(e, RawData))
    assert raw == b"0\r\n" + tail
    assert p.in_raw_mode and not p.holding_raw
    assert p.settle_raw() == []


def test_a_marker_whose_urc_never_finishes_ends_data_mode_when_the_line_goes_quiet() -> None:
    p = ATProtocol(urc_prefixes=("+PDP DEACT",), raw_exit_markers=(b"\r\nCLOSED\r\n",))
    p.enter_raw_mode()
    events = feed(p, [b"end\r\nCLOSED\r\n\r\n+PDP DE"])
    assert events == [RawData(b"end")]
    assert p.holding_raw
    assert p.settle_raw() == [Urc("CLOSED")]
    assert not p.in_raw_mode
    assert feed(p, [b"ACT\r\n"]) == [Urc("+PDP DEACT")]


def test_nothing_to_settle_outside_transparent_mode() -> None:
    p = ATProtocol(raw_exit_markers=(b"\r\nCLOSED\r\n",))
    assert feed(p, [b"\r\n+CSQ: 1"]) == []
    assert not p.holding_raw
    assert p.settle_raw() == []


def test_a_marker_followed_by_other_lines_is_payload() -> None:
    p = ATProtocol(urc_prefixes=("+PDP DEACT",), raw_exit_markers=(b"\r\nCLOSED\r\n",))
    p.enter_raw_mode()
    events = feed(p, [b"a\r\nCLOSED\r\n\r\nHTTP/1.1 200 OK\r\n", b"rest"])
    assert b"".join(e.data for e in events if isinstance(e, RawData)) == \
        b"a\r\nCLOSED\r\n\r\nHTTP/1.1 200 OK\r\nrest"
    assert p.in_raw_mode
