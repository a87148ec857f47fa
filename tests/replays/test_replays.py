"""Real module sessions replayed line by line against the virtual modems (issue 18).

Each file in ``sessions/`` is a celltls transcript (shared/transcripts/FORMAT.md) of a real
Quectel GSM or Sierra Wireless module, or of the exact answers a vendor's own test script
expects from one, with its source cited in its header. The host lines (``>``, ``>>``) are sent to
a :class:`~celltls.sim.serve.VirtualModemServer` of the session's dialect and model over a real
TCP connection; every modem line (``<``, ``<<``) that follows must come back with the same
*shape*: the same final result code, ``+CME ERROR`` number, prompt, response prefix and field
count, and the same kind of field (quoted, number, empty, word); values such as addresses,
ports, lengths, checksums and times are not compared, except the status fields of
:data:`EXACT`, whose values carry the meaning (``+KCNX_IND: 1,4,1`` then ``1,1,0``...).

Header keys used beyond the format's own:

- ``# setup: <command line>``: sent before the session, its answer not compared (state the
  log does not show, such as a PDP profile defined earlier in the same thread);
- ``# peer: <host> <port> [reply=<n>|echo|silent]``: a TCP server on 127.0.0.1 stands in for
  the log's server; ``"<host>",<port>`` and ``"<host>","<port>"`` in host lines are rewritten
  to it. It echoes what it gets, answers each arrival with ``n`` bytes, or stays silent.
- ``>> <redacted N bytes>``: N bytes of filler data in PEM dress (the log's payload is not
  shown; modules that check credentials look for a PEM header).

Every session runs in the default mode and in strict mode (``celltls sim --strict``): real
modules accepted every line of these logs, so strict mode must accept them too.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from celltls.sim.serve import VirtualModemServer
from tests.sim.helpers import GUARD, Host

SESSIONS = Path(__file__).resolve().parent / "sessions"

#: Fields whose value is compared exactly, by response prefix (0-based field indices).
EXACT: dict[str, set[int]] = {
    "+KCNX_IND": {0, 1}, "+KTCP_IND": {1}, "+KTCP_NOTIF": {1}, "+KTCPSTAT": {0, 1},
    "+KSUP": {0}, "+CREG": {0, 1}, "+CGREG": {0, 1}, "+CEREG": {0, 1}, "+COPS": {0, 1},
    "+QSSLOPEN": {1}, "+KCNXCFG": {1, 5, 9}, "+CMEE": {0}, "+KHTTP_IND": {1},
    "+KHTTP_ERROR": {1}, "+KSSLCFG": {0, 1}, "+KSLEEP": {0}, "+KURCCFG": {0, 1, 2},
    "+KIPOPT": {0, 1}, "+QIMUX": {0}, "+QIMODE": {0}, "+QIDNSIP": {0}, "+QINDI": {0},
    "+QICSGP": {0}, "STATE": {0}, "+CGACT": {1}, "+KSREP": {0, 1}, "+CPIN": {0},
    "+KCNXTIMER": {0, 1, 2, 3, 4}, "+QSECREAD": {0}, "+CGDCONT": {0, 1},
}
FINALS = {"OK", "ERROR", "CONNECT", "NO CARRIER", "SEND OK", "SEND FAIL", "CLOSE OK",
          "DEACT OK", "CONNECT OK", "CONNECT FAIL", "ALREADY CONNECT"}
_PREFIX = re.compile(r"^([+%#$]?[A-Za-z][A-Za-z0-9_& ]*):\s?(.*)$")
_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}(:\d+)?$")


def _fields(text: str) -> list[str]:
    out, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def _kind(value: str) -> str:
    if value == "":
        return "empty"
    if value.startswith('"'):
        return "quoted"
    if re.fullmatch(r"-?\d+|[0-9a-f]+", value):
        return "number"  # decimal, or lower-case hex such as an AT+QSECWRITE checksum
    if _IP.match(value):
        return "address"
    return "word"


def shape(line: str) -> tuple[object, ...]:
    """What is compared of one modem line (see the module docstring)."""
    if line in FINALS or line.startswith("+CME ERROR"):
        return ("final", line)
    if _IP.match(line):
        return ("address",)
    if re.fullmatch(r"\d+", line):
        return ("digits", len(line))
    found = re.fullmatch(r"(\d+), ?([A-Z][A-Z ]+)", line)  # "1, CONNECT OK" (QIMUX=1)
    if found:
        return ("indexed", found.group(2))
    if line.startswith("IPD") and ":" in line:  # AT+QIHEAD=1 push: IPD<len>:<data>
        return ("ipd",)
    found = _PREFIX.match(line)
    if found and not re.fullmatch(r"[a-z_]+,\d+,\d+", line):
        prefix, rest = found.group(1), found.group(2)
        fields = _fields(rest)
        exact = EXACT.get(prefix, set())
        return ("info", prefix, len(fields),
                tuple(f if i in exact else _kind(f) for i, f in enumerate(fields)))
    if re.fullmatch(r"[A-Za-z0-9]*\.[A-Za-z0-9.\-_]+", line):  # a firmware string
        return ("firmware",)
    if "," in line:
        fields = _fields(line)
        return ("list", fields[0], len(fields), tuple(_kind(f) for f in fields[1:]))
    return ("text", line)


def unescape(text: str) -> bytes:
    """FORMAT.md ``BYTES``: backslash escapes; ``<redacted N bytes>`` is N filler bytes."""
    found = re.fullmatch(r"<redacted (\d+) bytes>", text)
    if found:
        size = int(found.group(1))
        filler = b"-----BEGIN CERTIFICATE-----\n" + b"MIIBfillerdata0123456789\n" * (size // 24 + 1)
        return filler[:size]
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "x":
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}[nxt]
            i += 2
            continue
        out += text[i].encode("latin-1")
        i += 1
    return bytes(out)


@dataclass
class Session:
    path: Path
    headers: dict[str, list[str]] = field(default_factory=dict)
    records: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Session:
        session = cls(path)
        for raw in path.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            if raw.startswith("#"):
                key, sep, value = raw[1:].strip().partition(":")
                if sep:
                    session.headers.setdefault(key.strip(), []).append(value.strip())
                continue
            line = re.sub(r"^\[[0-9.]+\] ", "", raw)
            kind, _, text = line.partition(" ")
            assert kind in (">", "<", ">>", "<<"), f"{path.name}: {raw!r}"
            session.records.append((kind, text))
        return session

    def header(self, key: str, default: str = "") -> str:
        return self.headers.get(key, [default])[0]


class Peer:
    """A TCP server on 127.0.0.1 standing in for the log's server."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        with conn:
            while not self.stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                if self.mode == "echo":
                    conn.sendall(data)
                elif self.mode.startswith("reply="):
                    conn.sendall(b"r" * int(self.mode[6:]))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.listener.close()


def _rewrite(line: str, peers: list[tuple[str, str, Peer]]) -> str:
    for host, port, peer in peers:
        line = line.replace(f'"{host}",{port}', f'"127.0.0.1",{peer.port}')
        line = line.replace(f'"{host}","{port}"', f'"127.0.0.1","{peer.port}"')
    return line


def _read_raw(host: Host, expected: bytes) -> bytes:
    """The next ``len(expected)`` bytes; before a ``> `` prompt, line ends are skipped."""
    if expected.startswith(b">"):
        deadline = time.monotonic() + 10
        while not host.buf or bytes(host.buf[:1]) in (b"\r", b"\n"):
            if host.buf:
                del host.buf[:1]
            elif not host._fill(deadline):
                raise TimeoutError(f"no prompt {expected!r}")
    return host.read_exact(len(expected), timeout=10)


def replay(session: Session, *, strict: bool) -> None:
    """Run ``session`` against a fresh virtual modem; fail at the first line of another shape."""
    peers: list[tuple[str, str, Peer]] = []
    for spec in session.headers.get("peer", []):
        parts = spec.split()
        peers.append((parts[0], parts[1], Peer(parts[2] if len(parts) > 2 else "echo")))
    options: dict[str, Any] = ({"bearer_time": 0.2, "data_timeout": 1.0}
               if session.header("dialect") == "sierra" else {})
    try:
        with VirtualModemServer(session.header("dialect"), model=session.header("model") or None,
                                guard_time=GUARD, strict=strict, **options) as server:
            host = Host(server)
            try:
                host.cmd("ATE0")
                for line in session.headers.get("setup", []):
                    host.cmd(_rewrite(line, peers), timeout=10)
                host.drain(0.3)
                _run_records(session, host, peers)
            finally:
                host.close()
    finally:
        for _h, _p, peer in peers:
            peer.close()


def _run_records(session: Session, host: Host, peers: list[tuple[str, str, Peer]]) -> None:
    last = ""
    for number, (kind, text) in enumerate(session.records, 1):
        where = f"{session.path.name} record {number} ({kind} {text!r}) after {last!r}"
        if kind == ">":
            host.send(_rewrite(text, peers).encode("latin-1") + b"\r")
            last = text
        elif kind == ">>":
            host.send(unescape(text))
        elif kind == "<":
            got = host.read_line(timeout=10)
            assert shape(got) == shape(text), f"{where}: the modem answered {got!r}"
        else:
            expected = unescape(text)
            got_raw = _read_raw(host, expected)
            assert len(got_raw) == len(expected), f"{where}: got {got_raw!r}"
            for marker in (b"--EOF--Pattern--", b"> "):
                if marker in expected:
                    at = expected.index(marker)
                    assert got_raw[at:at + len(marker)] == marker, f"{where}: got {got_raw!r}"
    extra = host.drain(0.3)
    assert b"ERROR" not in extra, f"{session.path.name}: unexpected {extra!r} at the end"


def _sessions() -> Iterator[Path]:
    return iter(sorted(SESSIONS.glob("*/*.at")))


def test_at_least_twenty_sessions_from_both_dialects() -> None:
    paths = list(_sessions())
    dialects = {Session.load(p).header("dialect") for p in paths}
    assert len(paths) >= 20, paths
    assert {"sierra", "quectel-gsm"} <= dialects
    for path in paths:
        assert Session.load(path).header("source"), f"{path.name} cites no source"


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
@pytest.mark.parametrize("path", list(_sessions()), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_replay(path: Path, strict: bool) -> None:
    replay(Session.load(path), strict=strict)


def test_shape_tells_a_different_answer_apart() -> None:
    assert shape('+KCNXCFG: 1,"GPRS","a","","","IPV4","0.0.0.0","0.0.0.0","0.0.0.0",2') != shape(
        '+KCNXCFG: 1,"GPRS","a"')
    assert shape("+KCNX_IND: 1,4,1") != shape("+KCNX_IND: 1,1,0")
    assert shape("+CME ERROR: 910") != shape("+CME ERROR: 3")
    assert shape("10.1.83.188") == shape("10.137.160.20")
    assert shape("452040038115715") != shape("89840480000381157157")
    assert shape("+QIRD: 93.184.216.34:80,TCP,5") == shape("+QIRD: 10.0.0.1:443,TCP,1500")
