"""The Quectel GSM plain-TCP read: +QIRD answers taken by their own length fields
(quectel-gsm-tcpip.md 5 "AT+QIRD": S1 3.3, S12, L2), framed by the sans-IO protocol."""

from __future__ import annotations

import pytest

from celltls.at.channel import Reply
from celltls.at.protocol import ATProtocol, DataBlock, Final, Request, Response
from celltls.dialects.quectel_gsm.driver import QIRD_BLOCK, qird_payload
from celltls.errors import ATProtocolError


def _answer(raw: bytes) -> Reply:
    proto = ATProtocol(urc_prefixes=["+QIRDI:"], data_blocks=[QIRD_BLOCK])
    proto.send_command(Request("AT+QIRD=0,1,0,1500", response_prefixes=("+QIRD:",)))
    reply = Reply("AT+QIRD=0,1,0,1500")
    for event in proto.receive_data(raw):
        if isinstance(event, DataBlock):
            reply.blocks.append(event)
        elif isinstance(event, Response):
            reply.lines.append(event.text)
        elif isinstance(event, Final):
            reply.final = event
    assert reply.final is not None and reply.final.ok
    return reply


def test_binary_block_with_ok_and_crlf_inside_is_taken_whole() -> None:
    data = b"\r\nOK\r\n+QIRDI: 0,1,0\r\n> \x00\xff"
    reply = _answer(b"\r\n+QIRD: 10.0.0.1:443,TCP,%d\r\n" % len(data) + data + b"\r\nOK\r\n")
    assert qird_payload(reply, 1500) == data


def test_several_blocks_in_order_and_empty_buffer() -> None:
    raw = (b"\r\n+QIRD: 1.2.3.4:80,TCP,3\r\nabc\r\n+QIRD: 1.2.3.4:80,TCP,2\r\nde"
           b"\r\nOK\r\n")
    assert qird_payload(_answer(raw), 1500) == b"abcde"
    assert qird_payload(_answer(b"\r\nOK\r\n"), 1500) == b""


def test_stray_lines_or_oversized_blocks_are_refused() -> None:
    with pytest.raises(ATProtocolError, match="malformed"):
        qird_payload(_answer(b"\r\ngarbage\r\n\r\nOK\r\n"), 1500)
    with pytest.raises(ATProtocolError, match="at most 4"):
        qird_payload(_answer(b"\r\n+QIRD: 1.2.3.4:80,TCP,5\r\nabcde\r\nOK\r\n"), 4)
