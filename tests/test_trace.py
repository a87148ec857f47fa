"""Transcripts: writer, reader, redaction, pasted logs (shared/transcripts/FORMAT.md)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltls.errors import TranscriptError
from celltls.trace import TranscriptWriter, escape_bytes, read_text, unescape_bytes, write_records

FORMAT_EXAMPLE = """# format: celltls-transcript 1
# dialect: quectel-gsm
# model: M66
[0.000] > AT+QSSLCFG="sslversion",0,4
[0.012] < OK
[0.020] > AT+QSSLOPEN=1,0,"116.247.104.27",465,0
[0.031] < OK
[1.402] < +QSSLOPEN: 1,0
[1.410] > AT+QSSLSEND=1,12
[1.419] << >\\x20
[1.420] >> hello, world
[1.650] < SEND OK
"""


def test_reads_the_format_example() -> None:
    transcript = read_text(FORMAT_EXAMPLE)
    assert transcript.header == {"format": "celltls-transcript 1", "dialect": "quectel-gsm",
                                 "model": "M66"}
    body = [r for r in transcript.records if r.direction != "#"]
    assert [r.direction for r in body] == [">", "<", ">", "<", "<", ">", "<<", ">>", "<"]
    assert body[6].data == b"> "
    assert body[7].data == b"hello, world"
    assert body[0].time == 0.0 and body[-1].time == 1.65
    assert not transcript.pasted


@given(st.binary(max_size=200))
def test_bytes_round_trip(data: bytes) -> None:
    text = escape_bytes(data)
    assert "\n" not in text and "\r" not in text
    assert not text.endswith(" ")
    assert unescape_bytes(text) == data


def test_bad_escape() -> None:
    with pytest.raises(TranscriptError):
        unescape_bytes("\\q")


def test_writer_redacts_secrets_and_reads_back() -> None:
    out = io.StringIO()
    writer = TranscriptWriter(out, header={"dialect": "quectel-gsm"}, timestamps=False)
    writer.host_line('AT+QSECWRITE="RAM:key.pem",1679,100')
    writer.modem_line("CONNECT")
    secret = b"-----BEGIN " + b"PRIVATE KEY-----\nsecret"  # split: not a key, not for key scans
    writer.host_bytes(secret, secret=True)
    writer.modem_bytes(b"\r\n> ")
    text = out.getvalue()
    assert "PRIVATE" not in text and "secret" not in text
    assert f">> <redacted {len(secret)} bytes>" in text
    records = [r for r in read_text(text).records if r.direction != "#"]
    assert records[2].redacted == len(secret) and records[3].data == b"\r\n> "
    assert read_text(write_records(records)).records[-1].data == b"\r\n> "


def test_pasted_log() -> None:
    pasted = "at+qsslcfg=\u201csslversion\u201d,0,4\nOK\n\n  AT+CSQ\n+CSQ: 20,0\n"
    transcript = read_text(pasted)
    assert transcript.pasted
    assert [(r.direction, r.lineno) for r in transcript.records] == [
        (">", 1), ("<", 2), (">", 4), ("<", 5)
    ]
    assert transcript.records[0].text == "at+qsslcfg=\u201csslversion\u201d,0,4"
