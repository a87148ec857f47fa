"""AT transcripts, version 1: a writer and a reader (``shared/transcripts/FORMAT.md``).

A transcript is UTF-8 text, one record a line::

    # format: celltls-transcript 1
    [0.000] > AT+QSSLCFG="sslversion",0,4
    [0.012] < OK
    [1.419] << >\\x20
    [1.420] >> hello, world

The reader also accepts logs as people paste them (no direction marks, echoed commands, lower-case
``at``, typographic quotes): a line that begins with ``AT`` (any case) is the host's, every other
non-empty line is the modem's, and the text is kept exactly as pasted.

Secrets never reach a transcript: a data phase marked secret is written as
``>> <redacted N bytes>``.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from celltls.errors import TranscriptError

FORMAT_NAME = "celltls-transcript 1"

Direction = Literal[">", "<", ">>", "<<", "#"]
_REDACTED = re.compile(r"<redacted (\d+) bytes>")
_STAMP = re.compile(r"^\[(\d+(?:\.\d+)?)\]\s?")


def escape_bytes(data: bytes) -> str:
    r"""Encode bytes as a ``>>``/``<<`` record's BYTES: ``\r \n \t \\`` and ``\xHH`` escapes.

    Args:
        data: any bytes-like object.

    Returns:
        str: ASCII text in the form of ``shared/transcripts/FORMAT.md`` ("Records"): bytes
        0x20-0x7E as they are but the backslash (``\\``), ``\r``, ``\n``, ``\t``, and
        ``\xhh`` (lower-case hex) for any other byte; a trailing space is written ``\x20``.

    Python's ``unicode_escape`` codec, applied to the bytes read as Latin-1 (one character a
    byte), writes exactly these escapes, in C: no Python loop per byte.
    """
    text = bytes(data).decode("latin-1").encode("unicode_escape").decode("ascii")
    # A trailing space would be invisible and easily lost by editors: escape it.
    if text.endswith(" "):
        text = text[:-1] + "\\x20"
    return text


def unescape_bytes(text: str) -> bytes:
    r"""Decode a record's BYTES (the inverse of :func:`escape_bytes`).

    Raises:
        TranscriptError: a malformed escape (``\q``, ``\x4``).
    """
    if "\\" not in text:  # no escape at all: the text's own bytes
        return text.encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt in ("r", "n", "t", "\\"):
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}[nxt]
            i += 2
        elif nxt == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 2 : i + 4]):
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        else:
            raise TranscriptError(f"bad escape {text[i:i + 4]!r} in {text!r}")
    return bytes(out)


@dataclass(frozen=True)
class Record:
    """One transcript record.

    Attributes:
        direction: ``">"`` host command line, ``"<"`` modem line, ``">>"`` host raw bytes,
            ``"<<"`` modem raw bytes, ``"#"`` header or comment.
        text: the line's text (for ``>``, ``<``, ``#``), as written or pasted.
        data: the bytes of a ``>>``/``<<`` record (``b""`` for a redacted one).
        time: seconds since the transcript started, when stamped.
        redacted: the number of bytes withheld, for a redacted secret.
        lineno: the line number in the source text (1-based).
        marked: whether the record had a direction mark (``False`` for a pasted log line).
    """

    direction: Direction
    text: str = ""
    data: bytes = b""
    time: float | None = None
    redacted: int | None = None
    lineno: int = 0
    marked: bool = True


@dataclass
class Transcript:
    """A read transcript: its header fields and its records, in order."""

    header: dict[str, str] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    pasted: bool = False

    def host_lines(self) -> list[Record]:
        """The host's command lines (``>`` records)."""
        return [r for r in self.records if r.direction == ">"]


def parse_line(line: str, lineno: int = 0) -> Record | None:
    """Parse one marked transcript line; ``None`` for a blank line.

    Raises:
        TranscriptError: the line has a time stamp but no record, or a malformed escape.
    """
    body = line.rstrip("\r\n")
    if not body.strip():
        return None
    stamp: float | None = None
    found = _STAMP.match(body)
    if found:
        stamp = float(found.group(1))
        body = body[found.end() :]
    if body.startswith("#"):
        return Record("#", body[1:].strip(), time=stamp, lineno=lineno)
    for mark in (">>", "<<", ">", "<"):
        if body.startswith(mark + " ") or body == mark:
            rest = body[len(mark) + 1 :]
            if mark in (">>", "<<"):
                redacted = _REDACTED.fullmatch(rest)
                if redacted:
                    return Record(mark, rest, b"", stamp, int(redacted.group(1)), lineno)
                return Record(mark, rest, unescape_bytes(rest), stamp, None, lineno)
            return Record(mark, rest, time=stamp, lineno=lineno)
    raise TranscriptError(f"line {lineno}: no direction mark in {line!r}")


def _looks_marked(lines: list[str]) -> bool:
    for line in lines:
        body = _STAMP.sub("", line.strip(), count=1)
        if not body:
            continue
        if body.startswith("# format:") or body.startswith(("> ", "< ", ">> ", "<< ")):
            return True
        if body.startswith("#"):
            continue
        return False
    return False


def read_text(text: str) -> Transcript:
    """Read a transcript, or a log pasted without direction marks.

    A text whose first record-looking line carries a direction mark (or that starts with
    ``# format:``) is read as a transcript; anything else as a pasted log, where a line that
    begins with ``AT`` (any case, after blanks) is the host's and every other non-empty line the
    modem's, kept exactly as pasted.

    Raises:
        TranscriptError: a marked transcript has a line that is not a record.
    """
    lines = text.splitlines()
    result = Transcript()
    if not _looks_marked(lines):
        result.pasted = True
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            direction: Direction = ">" if line.lstrip()[:2].upper() == "AT" else "<"
            result.records.append(Record(direction, line, lineno=number, marked=False))
        return result
    for number, line in enumerate(lines, start=1):
        record = parse_line(line, number)
        if record is None:
            continue
        if record.direction == "#" and ":" in record.text:
            key, _, value = record.text.partition(":")
            if key.strip() and " " not in key.strip():
                result.header.setdefault(key.strip(), value.strip())
        result.records.append(record)
    return result


def read_file(path: str | Path) -> Transcript:
    """Read a transcript file (UTF-8; undecodable bytes are replaced, never fatal).

    Raises:
        OSError: the file cannot be read.
        TranscriptError: as :func:`read_text`.
    """
    return read_text(Path(path).read_text(encoding="utf-8", errors="replace"))


class TranscriptWriter:
    """Writes a transcript as a session runs; thread-safe.

    Args:
        stream: a text stream, or a path to create.
        header: extra header fields (``dialect``, ``model``, ``baudrate``...).
        timestamps: stamp each record with the seconds since the start.

    Secrets: call :meth:`host_bytes` with ``secret=True`` for key, PSK and password payloads; only
    their length is written. Command lines holding a secret are given to :meth:`host_line`
    already masked by the driver.
    """

    def __init__(
        self,
        stream: TextIO | str | Path,
        *,
        header: dict[str, str] | None = None,
        timestamps: bool = True,
    ) -> None:
        if isinstance(stream, (str, Path)):
            self._stream: TextIO = open(stream, "w", encoding="utf-8")  # noqa: SIM115
            self._owned = True
        else:
            self._stream = stream
            self._owned = False
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._timestamps = timestamps
        self._write_raw(f"# format: {FORMAT_NAME}")
        fields = {"started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        fields.update(header or {})
        for key, value in fields.items():
            self._write_raw(f"# {key}: {value}")

    def _write_raw(self, text: str) -> None:
        self._write_line(text + "\n")

    def _write_line(self, line: str) -> None:
        with self._lock:
            self._stream.write(line)
            self._stream.flush()

    def _record(self, mark: str, text: str) -> None:
        if self._timestamps:
            self._write_line(f"[{time.monotonic() - self._start:.3f}] {mark} {text}\n")
        else:
            self._write_line(f"{mark} {text}\n")

    def header(self, key: str, value: str) -> None:
        """Write a ``# key: value`` line (e.g. ``outcome`` at the end)."""
        self._write_raw(f"# {key}: {value}")

    def host_line(self, text: str) -> None:
        """Record a command line the host sent."""
        self._record(">", text)

    def modem_line(self, text: str) -> None:
        """Record one response line of the modem."""
        self._record("<", text)

    def host_bytes(self, data: bytes, *, secret: bool = False) -> None:
        """Record raw bytes the host sent; ``secret`` writes only their length."""
        self._record(">>", f"<redacted {len(data)} bytes>" if secret else escape_bytes(data))

    def modem_bytes(self, data: bytes) -> None:
        """Record raw bytes the modem sent."""
        self._record("<<", escape_bytes(data))

    def close(self) -> None:
        """Close the file if this writer opened it."""
        if self._owned:
            self._stream.close()


def write_records(records: Iterable[Record], header: dict[str, str] | None = None) -> str:
    """Render records as transcript text (no time stamps unless the records carry them)."""
    out = io.StringIO()
    out.write(f"# format: {FORMAT_NAME}\n")
    for key, value in (header or {}).items():
        out.write(f"# {key}: {value}\n")
    for record in records:
        stamp = f"[{record.time:.3f}] " if record.time is not None else ""
        if record.direction == "#":
            out.write(f"{stamp}# {record.text}\n")
        elif record.direction in (">>", "<<"):
            body = (
                f"<redacted {record.redacted} bytes>"
                if record.redacted is not None
                else escape_bytes(record.data)
            )
            out.write(f"{stamp}{record.direction} {body}\n")
        else:
            out.write(f"{stamp}{record.direction} {record.text}\n")
    return out.getvalue()


def iter_records(text: str) -> Iterator[Record]:
    """Iterate the records of a transcript text (see :func:`read_text`)."""
    yield from read_text(text).records
