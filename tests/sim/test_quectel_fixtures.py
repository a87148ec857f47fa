"""The application note's example sessions, replayed against the virtual modem.

Each fixture (tests/fixtures/quectel_gsm/*.at, celltls-transcript 1) is driven through a real TCP
connection to a VirtualModemServer, whose modem opens real TLS connections to a server started
here with a trustme RSA PKI. Every response must have the fixture's shape: the same lines in the
same order, with addresses, ports, checksums and sizes normalized.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from celltls.sim.httpsd import PKI
from celltls.sim.serve import VirtualModemServer
from tests.sim.helpers import GUARD, Host, ScriptedTLSServer, server_context

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "quectel_gsm"


@dataclass
class Record:
    kind: str  # ">", "<", ">>", "<<"
    text: str


def parse(path: Path) -> list[Record]:
    records: list[Record] = []
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"^\[[0-9.]+\] ", "", line)
        kind, _, text = line.partition(" ")
        assert kind in (">", "<", ">>", "<<"), line
        records.append(Record(kind, text))
    return records


def unescape(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "x":
                out.append(int(text[i + 2 : i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}[nxt]
            i += 2
            continue
        out += ch.encode("latin-1")
        i += 1
    return bytes(out)


def normalize(line: str) -> str:
    line = re.sub(r"\b\d{1,3}(\.\d{1,3}){3}\b", "IP", line)
    line = re.sub(r"IP:\d+", "IP:PORT", line)
    line = re.sub(r"^\+QSECWRITE: \d+,[0-9a-f]+$", "+QSECWRITE: N,SUM", line)
    line = re.sub(r"^\+QSECREAD: ([01]),[0-9a-f]+$", r"+QSECREAD: \1,SUM", line)
    return line


def replay(path: Path, host: Host, files: dict[str, bytes], port: int) -> list[str]:
    """Drive the fixture's host side; return the normalized modem lines seen."""
    records = parse(path)
    seen: list[str] = []
    upload_name = ""
    for index, record in enumerate(records):
        if record.kind == ">":
            line = record.text
            found = re.match(r'AT\+QSECWRITE="([^"]+)",\d+(,.*)?$', line)
            if found:
                upload_name = found.group(1)
                size = len(files[upload_name])
                line = f'AT+QSECWRITE="{upload_name}",{size}{found.group(2) or ""}'
            line = re.sub(
                r'^(AT\+QSSLOPEN=\d+,\d+,)"[^"]+",\d+', rf'\1"127.0.0.1",{port}', line
            )
            host.send(line.encode() + b"\r")
        elif record.kind == ">>":
            if record.text.startswith("<redacted"):
                host.send(files[upload_name])
            elif record.text == "+++":
                host.escape(GUARD)
            else:
                host.send(unescape(record.text))
        elif record.kind == "<":
            got = host.read_line(timeout=10)
            assert normalize(got) == normalize(record.text), (index, got, record.text)
            seen.append(normalize(got))
        else:
            expected = unescape(record.text)
            if expected == b"> ":
                assert host.read_until(b"> ", timeout=5).endswith(b"> ")
            else:
                # raw data follows its header's CR LF
                got = host.read_exact(len(expected), timeout=10)
                assert got == expected, (index, got, expected)
    return seen


def _files(pki: PKI) -> dict[str, bytes]:
    client = pki.client("module-1")
    return {
        "RAM:ca_cert.pem": pki.ca_pem,
        "RAM:client_cert.pem": client.cert_pem,
        "RAM:client_key.pem": client.key_pem,
        "NVRAM:CA0": pki.ca_pem,
        "NVRAM:CC0": client.cert_pem,
        "NVRAM:CK0": client.key_pem,
    }


@pytest.mark.parametrize(
    "name", ["ssl_an_3_1_ram.at", "ssl_an_3_2_nvram.at", "ssl_an_3_3_coexist.at"]
)
def test_non_transparent_examples(name: str, pki: PKI, host: Host) -> None:
    sent = len(b"hello, world") + len(b"some bytes")
    mutual = name != "ssl_an_3_3_coexist.at"
    context = server_context(pki, client_ca=pki.ca_pem if mutual else None)
    with ScriptedTLSServer(context, [(sent, b"1234567")]) as server:
        seen = replay(FIXTURES / name, host, _files(pki), server.port)
    assert server.received == b"hello, worldsome bytes"
    assert "+QSSLOPEN: 1,0" in seen or "+QSSLOPEN: 3,0" in seen


def _transparent_reply(path: Path) -> tuple[bytes, bytes]:
    records = parse(path)
    request = next(unescape(r.text) for r in records if r.kind == ">>" and "GET" in r.text)
    reply = next(unescape(r.text) for r in records if r.kind == "<<" and "HTTP/" in r.text)
    return request, reply


@pytest.mark.parametrize(
    "name", ["ssl_an_3_4_1_transparent.at", "ssl_an_3_4_2_transparent_auth.at"]
)
def test_transparent_examples(name: str, pki: PKI, host: Host) -> None:
    request, reply = _transparent_reply(FIXTURES / name)
    mutual = "auth" in name
    context = server_context(pki, client_ca=pki.ca_pem if mutual else None)
    with ScriptedTLSServer(context, [(len(request), reply)]) as server:
        replay(FIXTURES / name, host, _files(pki), server.port)
        assert bytes(server.received) == request


def test_fixture_spellings_are_the_accepted_ones(modem_server: VirtualModemServer) -> None:
    for path in FIXTURES.glob("ssl_an_*.at"):
        for record in parse(path):
            if record.kind == ">":
                assert "QSSSEND" not in record.text and "QSSLRCV" not in record.text
                assert "secllevel" not in record.text and "ignorevertime" not in record.text
    # every fixture is a quick replay: nothing above waits for a network timeout
    assert time.monotonic() > 0
