"""The AT command protocol, host side, sans-IO: bytes in, events out; commands in, bytes out.

:class:`ATProtocol` never reads a port, never sleeps and never looks at a clock. A runner
(:mod:`celltls.at.channel` for threads) writes what :meth:`ATProtocol.send_command` returns,
feeds whatever arrives to :meth:`ATProtocol.receive_data` and acts on the events it gets back.

What it understands (ITU-T V.250 5.7 result code framing, 3GPP TS 27.007 9.2):

- response lines framed by CR LF (a lone CR also ends a line: command echo is terminated by S3);
- the command echo (``ATE1``): the first line equal to the pending command line;
- final result codes: ``OK``, ``ERROR``, ``+CME ERROR: <n>``, ``+CMS ERROR: <n>``, ``NO CARRIER``,
  ``NO ANSWER``, ``BUSY``, ``NO DIALTONE``, plus the command's own (``SEND OK``, ``CLOSE OK``...)
  and a command answered by a bare value (``AT+QILOCIP`` answers ``10.1.83.188`` and no OK);
- intermediate results: ``CONNECT`` before a data phase, the ``> `` prompt with no line end;
- URCs, recognised by their prefixes, delivered as :class:`Urc` even in the middle of another
  command's response, never taken as that response;
- length-delimited data blocks: a header line (``+QSSLRECV: 1.2.3.4:443,TCP,7``) followed by
  exactly that many raw bytes, which may hold CR LF, ``OK`` or anything else;
- raw (transparent) data mode after ``CONNECT``, left with the escape sequence's ``OK``;
- data phases bounded by an end-of-data pattern (Sierra ``AT+KPATTERN``).

The modes are an explicit state machine: :class:`Mode` and its :data:`TRANSITIONS` table.

A line that arrives while no command is pending and that is no known URC is delivered as a
:class:`Urc` as well (an unknown URC is still a URC): nothing the module says is dropped.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from celltls.at.codes import cme_meaning, cms_meaning
from celltls.at.framing import BlockHeader as DataBlockRule
from celltls.errors import ATProtocolError

DataPhase = Literal["prompt", "connect"]


@dataclass(frozen=True)
class Request:
    """A command to send, with what the protocol needs to know to frame its answer.

    Attributes:
        line: the command line without its terminator, e.g. ``'AT+QSSLSEND=1,12'``.
        response_prefixes: prefixes of its information responses; a URC-looking line with one
            of these prefixes is taken as the response, not as a URC.
        data_phase: ``"prompt"``: the module answers ``>`` and waits for the payload;
            ``"connect"``: the module answers ``CONNECT`` and waits for the payload.
        final_results: extra success final result codes (``"SEND OK"``).
        failure_results: extra failure final result codes (``"SEND FAIL"``).
        final_pattern: a regex; a line matching it in full is the (successful) final result.
        connect_is_final: ``CONNECT`` ends the command successfully (``ATO``, ``ATD``).
        raw_after_connect: after that ``CONNECT`` the line is in transparent data mode.
        timeout: seconds a runner waits for the final result code (the catalog's value).
        payload: the data-phase bytes a runner writes after ``>`` or ``CONNECT`` (its
            terminator, Ctrl-Z or an end-of-data pattern, included).
        secret_payload: the payload is a secret: transcripts record only its length.
        shown: the line as logged and traced, a secret argument masked (``None``: ``line``).
    """

    line: str
    response_prefixes: tuple[str, ...] = ()
    data_phase: DataPhase | None = None
    final_results: tuple[str, ...] = ()
    failure_results: tuple[str, ...] = ()
    final_pattern: str | None = None
    connect_is_final: bool = False
    raw_after_connect: bool = False
    timeout: float = 2.0
    payload: bytes | None = field(default=None, repr=False)
    secret_payload: bool = False
    shown: str | None = None

    @property
    def display(self) -> str:
        """The line as it may be shown (``shown``, else ``line``)."""
        return self.shown if self.shown is not None else self.line


@dataclass(frozen=True)
class Echo:
    """The module echoed the command line."""

    text: str


@dataclass(frozen=True)
class Response:
    """An information response line of the pending command."""

    text: str


@dataclass(frozen=True)
class Prompt:
    """The ``>`` prompt: the module waits for the data-phase payload."""

    text: str = "> "


@dataclass(frozen=True)
class Intermediate:
    """An intermediate result such as ``CONNECT`` before a data phase."""

    text: str


@dataclass(frozen=True)
class Final:
    """The final result code of the pending command.

    Attributes:
        text: the line as received.
        ok: whether it reports success.
        kind: ``"OK"``, ``"ERROR"``, ``"CME"``, ``"CMS"``, ``"CONNECT"``, ``"NO CARRIER"``...,
            the text itself for a command's own result codes, ``"VALUE"`` for a bare value.
        code: the numeric code of ``+CME ERROR``/``+CMS ERROR`` when numeric.
        meaning: the 27.007/27.005 meaning of ``code``.
    """

    text: str
    ok: bool
    kind: str
    code: int | None = None
    meaning: str | None = None


@dataclass(frozen=True)
class Urc:
    """An unsolicited result code (or any line that arrived outside a command)."""

    text: str


@dataclass(frozen=True)
class DataBlock:
    """A length-delimited block: its header line and exactly the announced bytes.

    ``solicited`` tells whether it answered the pending command or arrived unsolicited.
    """

    header: str
    data: bytes
    solicited: bool = True


@dataclass(frozen=True)
class RawData:
    """Bytes received in transparent (data) mode.

    An empty ``RawData(b"")`` marks the end of a data phase bounded by a pattern
    (:meth:`ATProtocol.end_raw_at`).
    """

    data: bytes


Event = Echo | Response | Prompt | Intermediate | Final | Urc | DataBlock | RawData

_V250_FAILURES = ("ERROR", "NO CARRIER", "NO ANSWER", "BUSY", "NO DIALTONE")
_CME = re.compile(r"\+(CME|CMS) ERROR:\s*(.*)")


#: ``OK``, the most frequent event, and the prompt: one immutable instance each, shared.
_FINAL_OK = Final("OK", True, "OK")
_PROMPT = Prompt()


def classify_final(text: str, request: Request | None = None) -> Final | None:
    """Return the :class:`Final` that ``text`` is, or ``None`` when it is no final result code.

    ``CONNECT`` is a final result only when ``request.connect_is_final``.
    """
    if text == "OK":
        return _FINAL_OK
    if text in _V250_FAILURES:
        return Final(text, False, text)
    match = _CME.fullmatch(text)
    if match:
        kind, rest = match.group(1), match.group(2).strip()
        if rest.isdigit():
            code = int(rest)
            meaning = cme_meaning(code) if kind == "CME" else cms_meaning(code)
            return Final(text, False, kind, code, meaning)
        return Final(text, False, kind, None, rest or None)
    if request is not None:
        if text in request.final_results:
            return Final(text, True, text)
        if text in request.failure_results:
            return Final(text, False, text)
        if request.connect_is_final and (text == "CONNECT" or text.startswith("CONNECT ")):
            return Final(text, True, "CONNECT")
        if request.final_pattern and re.fullmatch(request.final_pattern, text):
            return Final(text, True, "VALUE")
    return None


class Mode(enum.Enum):
    """What the bytes from the module are, now (ITU-T V.250 5.7, 6.3.7 and the vendors' data
    phases).

    - ``COMMAND``: result-code lines (echo, information responses, final result codes, URCs,
      the ``>`` prompt), whether a command is pending or not;
    - ``BLOCK``: the announced number of bytes of a length-delimited block
      (``+QSSLRECV: ...,<length>``), then back to ``COMMAND``;
    - ``DATA``: transparent (online) data mode after ``CONNECT``, until the module leaves it by
      itself (an exit marker such as ``CLOSED``) or the host sends the escape sequence;
    - ``ESCAPE``: the host sent ``+++``; data may still arrive until the module's ``OK``;
    - ``DATA_PHASE``: a data phase bounded by an end-of-data pattern (Sierra ``AT+KPATTERN``),
      until that pattern.
    """

    COMMAND = "command"
    BLOCK = "block"
    DATA = "data"
    ESCAPE = "escape"
    DATA_PHASE = "data phase"


#: The transitions the protocol makes; any other is a bug and raises ATProtocolError.
TRANSITIONS: dict[Mode, frozenset[Mode]] = {
    Mode.COMMAND: frozenset({Mode.BLOCK, Mode.DATA, Mode.DATA_PHASE}),
    Mode.BLOCK: frozenset({Mode.COMMAND}),
    Mode.DATA: frozenset({Mode.COMMAND, Mode.ESCAPE}),
    Mode.ESCAPE: frozenset({Mode.COMMAND}),
    Mode.DATA_PHASE: frozenset({Mode.COMMAND, Mode.ESCAPE}),
}
#: The modes in which the bytes are data, not lines.
DATA_MODES = frozenset({Mode.DATA, Mode.ESCAPE, Mode.DATA_PHASE})

# The members as module constants: compared by identity on the hot path (an enum's hash is
# computed in Python, a frozenset test costs more than the rest of a step).
_COMMAND = Mode.COMMAND
_BLOCK = Mode.BLOCK
_DATA = Mode.DATA
_ESCAPE = Mode.ESCAPE
_DATA_PHASE = Mode.DATA_PHASE
_CR = 0x0D
_LF = 0x0A
#: bytes of the shortest final result code in verbose form, ``<CR><LF>OK<CR><LF>`` (V.250
#: 5.7.1): what surely follows the data block of a pending command (:attr:`expected_bytes`)
_SHORTEST_FINAL = 6


@dataclass
class _State:
    mode: Mode = Mode.COMMAND
    pending: Request | None = None
    answered: bool = False
    prompted: bool = False
    swallow_space: bool = False
    block_header: str = ""
    block_remaining: int = 0
    block_data: bytearray = field(default_factory=bytearray)
    block_solicited: bool = True
    # what the next CONNECT (after the command's OK) or data mode will be
    raw_on_connect: bool = False
    raw_end: bytes | None = None
    raw_expected: int = 0  # bytes the pattern-ended data phase is still expected to carry


class ATProtocol:
    """Host side of an AT command line, sans-IO.

    Args:
        urc_prefixes: the prefixes that identify URCs (``'+QSSLURC:'``, ``'+CREG:'``...).
        data_blocks: the dialect's data block headers.
        terminator: the command line terminator (S3), ``b"\\r"`` by default (V.250 6.2.1).
        raw_exit_markers: what the module prints when it leaves transparent mode by itself
            (the connection closed), e.g. ``b"\\r\\nCLOSED\\r\\n"``. Transparent mode is
            ambiguous by nature: a marker is recognised only at the very end of what has
            arrived, and payload that ends exactly like one is taken for it.

    Usage::

        proto = ATProtocol(urc_prefixes=["+QSSLURC:"], data_blocks=catalog.data_blocks)
        port.write(proto.send_command(Request("AT+QSSLRECV=0,1,1500")))
        events = proto.receive_data(port.read(256))
    """

    def __init__(
        self,
        *,
        urc_prefixes: Iterable[str] = (),
        data_blocks: Iterable[DataBlockRule] = (),
        terminator: bytes = b"\r",
        raw_exit_markers: Iterable[bytes] = (),
    ) -> None:
        self._urc_prefixes: tuple[str, ...] = ()
        self.urc_prefixes = tuple(urc_prefixes)
        self.raw_exit_markers = tuple(raw_exit_markers)
        self._block_rules: tuple[tuple[DataBlockRule, re.Pattern[str] | None], ...] = ()
        self.data_blocks = tuple(data_blocks)
        self.terminator = terminator
        self._buffer = bytearray()
        self._state = _State()

    @property
    def urc_prefixes(self) -> tuple[str, ...]:
        """The prefixes that identify URCs (assignable, any iterable of str)."""
        return self._urc_prefixes

    @urc_prefixes.setter
    def urc_prefixes(self, prefixes: Iterable[str]) -> None:
        self._urc_prefixes = tuple(prefixes)

    @property
    def data_blocks(self) -> tuple[DataBlockRule, ...]:
        """The dialect's data block headers (assignable; their patterns are compiled once)."""
        return tuple(rule for rule, _ in self._block_rules)

    @data_blocks.setter
    def data_blocks(self, rules: Iterable[DataBlockRule]) -> None:
        # A plain BlockHeader is matched with its pattern compiled here; a rule of another type
        # keeps its own match().
        self._block_rules = tuple(
            (rule, re.compile(rule.pattern) if type(rule) is DataBlockRule else None)
            for rule in rules
        )

    # -- host to module -------------------------------------------------------------------

    @property
    def pending(self) -> Request | None:
        """The command awaiting its final result code, if any."""
        return self._state.pending

    @property
    def mode(self) -> Mode:
        """The protocol's mode (see :class:`Mode`)."""
        return self._state.mode

    @property
    def in_raw_mode(self) -> bool:
        """Whether the bytes from the module are data (any mode of :data:`DATA_MODES`)."""
        mode = self._state.mode
        return mode is _DATA or mode is _ESCAPE or mode is _DATA_PHASE

    def _to(self, mode: Mode) -> None:
        """Move to ``mode`` by a transition of :data:`TRANSITIONS`.

        Raises:
            ATProtocolError: not a transition of the table (a bug in the caller).
        """
        current = self._state.mode
        if mode is current:
            return
        if mode not in TRANSITIONS[current]:
            raise ATProtocolError(f"no transition from {current.value} to {mode.value} mode")
        self._state.mode = mode
        if mode is Mode.COMMAND:
            self._state.raw_end = None
            self._state.raw_expected = 0

    def _enter_data(self) -> None:
        self._to(Mode.DATA_PHASE if self._state.raw_end is not None else Mode.DATA)

    def send_command(self, request: Request) -> bytes:
        """Register ``request`` as pending and return the bytes to write.

        Raises:
            ATProtocolError: another command is still pending, the line is in data mode, or
                the command line is not ASCII (nothing is registered then).
        """
        if self._state.pending is not None:
            raise ATProtocolError(f"{self._state.pending.line!r} is still pending")
        if self._state.mode is not Mode.COMMAND:
            raise ATProtocolError(
                f"the line is in {self._state.mode.value} mode; a command needs command mode")
        try:
            data = request.line.encode("ascii") + self.terminator
        except UnicodeEncodeError as exc:
            raise ATProtocolError(f"the command line is not ASCII: {exc}") from exc
        self._state.pending = request
        self._state.answered = False
        self._state.prompted = False
        return data

    def abort_pending(self) -> None:
        """Forget the pending command (after a timeout); later lines are delivered as URCs.

        A length-delimited block still being read is dropped with it: after a lost byte its
        count can no longer be trusted, and counting on would swallow the next answers.
        """
        self._state.pending = None
        self._state.prompted = False
        if self._state.mode is Mode.BLOCK:
            self._state.block_remaining = 0
            self._state.block_data = bytearray()
            self._to(Mode.COMMAND)

    def arm_raw_on_connect(self) -> None:
        """Treat the next ``CONNECT`` (arriving after the command's ``OK``) as the start of
        transparent mode: ``AT+QSSLOPEN=...,1`` answers ``OK`` and later ``CONNECT``."""
        self._state.raw_on_connect = True

    def disarm_raw_on_connect(self) -> None:
        """Undo :meth:`arm_raw_on_connect`."""
        self._state.raw_on_connect = False

    def begin_escape(self) -> None:
        """The host has sent the escape sequence (``+++``): the next ``CR LF OK CR LF`` in the
        raw stream ends data mode and is delivered as the :class:`Final` of a pending
        ``+++`` request (V.250 6.3.7; Quectel GSM SSL-AN 3.4.1 step 3).

        Raises:
            ATProtocolError: the line is not in a data mode.
        """
        self._to(Mode.ESCAPE)
        self._state.pending = Request("+++")

    def end_raw_at(self, pattern: bytes, expected: int = 0) -> None:
        """End the next data phase at ``pattern`` instead of at an escape (:data:`Mode.DATA_PHASE`).

        The bytes before the pattern are delivered as :class:`RawData`, then ``RawData(b"")``
        marks the end and line parsing resumes, so the ``OK`` and URCs that follow are read as
        lines. For dialects that frame data phases with an end-of-data pattern (Sierra Wireless
        ``AT+KPATTERN``). No byte count is taken: a module may send fewer bytes than asked
        (sierra-hl78xx.md §4, ``+KTCPRCV``), so only the pattern can end the phase.

        Args:
            pattern: the end-of-data pattern, at least one byte.
            expected: the bytes the phase should carry before the pattern, when the command
                asked for that many (a hint for how long the host may wait before it reads,
                :attr:`expected_bytes`; never used to end the phase); 0: unknown.

        Raises:
            ValueError: an empty pattern.
        """
        if not pattern:
            raise ValueError("the end-of-data pattern must not be empty")
        self._state.raw_end = pattern
        self._state.raw_expected = max(0, expected)
        if self._state.mode is Mode.DATA:
            self._state.mode = Mode.DATA_PHASE

    def cancel_raw_end(self) -> None:
        """Forget :meth:`end_raw_at` (the command failed before its data phase)."""
        self._state.raw_end = None
        self._state.raw_expected = 0

    def enter_raw_mode(self) -> None:
        """Switch to data mode now (the runner saw it begin): :data:`Mode.DATA_PHASE` when an
        end-of-data pattern is armed, else :data:`Mode.DATA`."""
        self._enter_data()

    @property
    def expected_bytes(self) -> int:
        """Bytes known to be on their way, which the host can wait for before it reads again:
        the rest of the length-delimited data block being read (with the shortest final
        result code when the block answers a pending command), or of a pattern-ended data
        phase whose size the command asked for (:meth:`end_raw_at`); 0 otherwise."""
        state = self._state
        mode = state.mode
        if mode is _BLOCK:
            if state.pending is not None and state.block_solicited:
                # the command's final result code follows its block: read them together
                return state.block_remaining + _SHORTEST_FINAL
            return state.block_remaining
        return state.raw_expected if mode is _DATA_PHASE else 0

    @property
    def holding_raw(self) -> bool:
        """Whether transparent-mode bytes are held back: a suffix that may be the start of an
        exit marker (a lone CR too), or a marker whose following URC line is still arriving.
        The host decides them with :meth:`settle_raw` once the line has gone quiet."""
        return self._state.mode is _DATA and bool(self._buffer)

    def settle_raw(self) -> list[Event]:
        """The line has gone quiet in transparent mode: decide the bytes held back.

        A module prints its exit marker (``CR LF CLOSED CR LF``) in one piece, but the port may
        deliver it in two reads, split anywhere, even between its CR and LF; so a read that
        ends with the start of a marker is held back until the next read tells. When no more
        bytes come, what is held is payload (an HTTP body ending in CR LF), or a marker
        followed by the start of a URC line the module did not finish: data mode ended there.

        Returns:
            list[Event]: the held bytes as :class:`RawData`, or the data before the marker,
            the marker as a :class:`Urc` and the events of the lines after it. Empty outside
            transparent mode or when nothing is held.
        """
        events: list[Event] = []
        if not self.holding_raw:
            return events
        buf = self._buffer
        found = self._find_exit(buf)
        if found is None:
            self._deliver(events, len(buf))
            return events
        index, marker, _complete = found
        events.append(Urc(self._exit_at(events, index, marker)))
        while self._step(events):
            pass
        return events

    def _exit_at(self, events: list[Event], index: int, marker: bytes) -> str:
        """The module left data mode with ``marker`` at ``index`` of the buffer: deliver the
        payload before it, drop the marker, back to command mode; returns the marker's text."""
        self._deliver(events, index)
        del self._buffer[: len(marker)]
        self._to(Mode.COMMAND)
        return marker.strip().decode("ascii", errors="replace")

    def leave_raw_mode(self) -> None:
        """Back to command mode (data mode ended, e.g. the connection closed, or abandoned)."""
        if self._state.mode in DATA_MODES:
            self._to(Mode.COMMAND)

    # -- module to host -------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes received from the module; return the events they complete, in order.

        The bytes of a length-delimited block are taken from ``data`` without copying them
        into the line buffer first (one copy, into the :class:`DataBlock`).
        """
        events: list[Event] = []
        buf = self._buffer
        state = self._state
        if state.mode is _BLOCK and not buf:
            remaining = state.block_remaining
            if len(data) < remaining:  # the middle of a block: nothing to parse
                state.block_data += data
                state.block_remaining = remaining - len(data)
                return events
            with memoryview(data) as view:
                taken = self._take_block(view, events)
                if taken < len(view):
                    buf += view[taken:]
        elif state.mode is _DATA and not buf and type(data) is bytes and data:
            self._raw_fast(data, events)
            return events
        else:
            buf += data
        while self._step(events):
            pass
        return events

    def _raw_fast(self, data: bytes, events: list[Event]) -> None:
        """Transparent mode, nothing buffered: what :meth:`_step_raw` does with ``data`` as the
        buffer, delivering ``data`` itself when no part of it must be held back."""
        keep = 0
        for marker in self.raw_exit_markers:
            if marker in data:
                self._buffer += data  # maybe the module left data mode: the general path
                while self._step(events):
                    pass
                return
            held = _partial_suffix(data, marker)
            if held > keep:
                keep = held
        if keep:
            self._buffer += data[-keep:]
            data = data[:-keep]
        if data:
            events.append(RawData(data))

    def _take_block(self, view: memoryview, events: list[Event]) -> int:
        """Move up to the rest of the current block from ``view``; return the bytes taken."""
        state = self._state
        remaining = state.block_remaining
        size = len(view)
        if size < remaining:
            state.block_data += view
            state.block_remaining = remaining - size
            return size
        if state.block_data:
            state.block_data += view[:remaining]
            data = bytes(state.block_data)
            state.block_data = bytearray()
        else:
            data = bytes(view[:remaining])
        state.block_remaining = 0
        events.append(DataBlock(state.block_header, data, state.block_solicited))
        # BLOCK -> COMMAND (a transition of TRANSITIONS), as _to(Mode.COMMAND) does it.
        state.mode = _COMMAND
        state.raw_end = None
        return remaining

    def _step(self, events: list[Event]) -> bool:
        state = self._state
        buf = self._buffer
        if not buf:
            return False
        mode = state.mode
        if mode is not _COMMAND:
            if mode is _DATA_PHASE and state.raw_end is not None:
                return self._step_raw_until_pattern(events, state.raw_end)
            if mode is _BLOCK:
                with memoryview(buf) as view:
                    taken = self._take_block(view, events)
                del buf[:taken]
                return True
            return self._step_raw(events)
        if state.swallow_space:
            state.swallow_space = False
            if buf[0] == 0x20:
                del buf[:1]
            return True
        first = buf[0]
        if first in (_CR, _LF):
            # Skip every line end at once (each would be a step of its own, with no effect
            # but its removal), then go on with what follows.
            skip = 1
            size = len(buf)
            while skip < size and (buf[skip] == _CR or buf[skip] == _LF):
                skip += 1
            del buf[:skip]
            if not buf:
                return False
            first = buf[0]
        pending = state.pending
        if (
            first == 0x3E  # ">"
            and pending is not None
            and pending.data_phase == "prompt"
            and not state.prompted
        ):
            del buf[:1]
            state.prompted = True
            state.swallow_space = True
            events.append(_PROMPT)
            return True
        end = _line_end(buf)
        if end < 0:
            return False
        text = buf[:end].decode("utf-8", errors="replace")
        # A line ended by CR: wait for a following LF if what comes next must start exactly
        # after the line end (a data block, or raw data after CONNECT).
        consumed = end + 1
        if buf[end] == _CR:
            if consumed >= len(buf):
                if self._starts_something(text):
                    return False
            elif buf[consumed] == _LF:
                consumed += 1
        del buf[:consumed]
        self._line(text, events)
        return True

    def _starts_something(self, text: str) -> bool:
        if any(
            (rule.match(text) if compiled is None else compiled.fullmatch(text)) is not None
            for rule, compiled in self._block_rules
        ):
            return True
        return text.startswith("CONNECT") and (
            self._state.raw_on_connect
            or (self._state.pending is not None and self._state.pending.raw_after_connect)
        )

    def _step_raw(self, events: list[Event]) -> bool:
        state = self._state
        buf = self._buffer
        escaping = state.mode is Mode.ESCAPE
        found = self._find_exit(buf)
        if found is not None and not found[2]:
            # an exit marker followed by the start of a URC line: wait for the rest
            self._deliver(events, found[0])
            return False
        if found is not None:
            # The module left data mode by itself (the connection closed), maybe while the
            # host was sending the escape sequence: that escape is then answered by this.
            # URC lines the module printed after it (+PDP DEACT) are parsed in command mode.
            index, exit_marker, _ = found
            text = self._exit_at(events, index, exit_marker)
            if escaping:
                state.pending = None
                events.append(Final(text, True, text))
            else:
                events.append(Urc(text))
            return bool(buf)
        if escaping:
            marker = b"\r\nOK\r\n"
            index = buf.find(marker)
            if index < 0:
                self._hold_back(events, (marker,), minimum=1)
                return False
            self._deliver(events, index)
            del buf[: len(marker)]
            self._to(Mode.COMMAND)
            events.append(Final("OK", True, "OK") if state.pending else Urc("OK"))
            state.pending = None
            return True
        # Hold back a possible start of an exit marker, even a lone CR, until the next bytes
        # tell or the line goes quiet (settle_raw).
        self._hold_back(events, self.raw_exit_markers, minimum=1)
        return False

    def _find_exit(self, buf: bytearray) -> tuple[int, bytes, bool] | None:
        """Where the module left data mode by itself: ``(index, marker, complete)`` of the
        first exit marker that ends ``buf`` or is followed only by URC lines (a module that
        loses its connection with the PDP context prints ``CLOSED`` then ``+PDP DEACT``);
        ``complete`` is ``False`` while the last of those lines is still arriving. ``None``
        when no marker is there, or every one is followed by other bytes (payload that
        happens to contain the marker's text)."""
        for marker in self.raw_exit_markers:
            if buf.endswith(marker):
                return len(buf) - len(marker), marker, True
        for marker in self.raw_exit_markers:
            index = buf.find(marker)
            while index >= 0:
                tail = self._urc_tail(buf, index + len(marker))
                if tail is not None:
                    return index, marker, tail
                index = buf.find(marker, index + 1)
        return None

    def _urc_tail(self, buf: bytearray, pos: int) -> bool | None:
        """Whether ``buf[pos:]`` is only URC lines (``CR LF <URC> CR LF`` each, at most
        :data:`_URC_TAIL_MAX` bytes): ``True`` if complete, ``False`` if the last one may still
        be arriving, ``None`` if not."""
        size = len(buf)
        if size - pos > _URC_TAIL_MAX:
            return None
        prefixes = self._urc_prefixes
        while pos < size:
            if buf[pos : pos + 2] != b"\r\n":
                return False if b"\r\n".startswith(bytes(buf[pos:])) else None
            end = buf.find(b"\r\n", pos + 2)
            line = bytes(buf[pos + 2 : size if end < 0 else end]).decode("latin-1")
            if end < 0:  # a line still arriving: it must be able to become a URC
                if any(line.startswith(p) or p.startswith(line) for p in prefixes):
                    return False
                return None
            if line and not line.startswith(prefixes):
                return None
            pos = end if not line else end + 2
        return True

    def _step_raw_until_pattern(self, events: list[Event], pattern: bytes) -> bool:
        buf = self._buffer
        index = buf.find(pattern)
        if index < 0:
            self._hold_back(events, (pattern,), minimum=1)
            return False
        self._deliver(events, index)
        del buf[: len(pattern)]
        self._to(Mode.COMMAND)
        events.append(RawData(b""))
        return True

    def _deliver(self, events: list[Event], count: int) -> None:
        """Deliver the first ``count`` buffered bytes as raw data."""
        if count > 0:
            with memoryview(self._buffer) as view:
                data = bytes(view[:count])
            events.append(RawData(data))
            del self._buffer[:count]
            state = self._state
            if state.raw_expected:
                state.raw_expected = max(0, state.raw_expected - count)

    def _hold_back(self, events: list[Event], markers: Iterable[bytes], *, minimum: int) -> None:
        """Deliver the buffer but for a suffix of at least ``minimum`` bytes that may be the
        start of one of ``markers``."""
        keep = max(
            (k for m in markers if (k := _partial_suffix(self._buffer, m)) >= minimum), default=0
        )
        self._deliver(events, len(self._buffer) - keep)

    def _line(self, text: str, events: list[Event]) -> None:
        state = self._state
        pending = state.pending
        stripped = text.strip()
        if not stripped:
            return
        if pending is None:
            if state.raw_on_connect and (stripped == "CONNECT" or stripped.startswith("CONNECT ")):
                state.raw_on_connect = False
                self._enter_data()
                events.append(Intermediate(stripped))
                return
            length = self._block_length(stripped)
            if length is not None:
                self._start_block(stripped, length, solicited=False, events=events)
                return
            events.append(Urc(stripped))
            return
        if not state.answered and stripped.upper() == pending.line.strip().upper():
            events.append(Echo(stripped))
            return
        if self._is_urc(stripped, pending):
            events.append(Urc(stripped))
            return
        state.answered = True
        if pending.data_phase == "connect" and (
            stripped == "CONNECT" or stripped.startswith("CONNECT ")
        ):
            events.append(Intermediate(stripped))
            return
        final = classify_final(stripped, pending)
        if final is not None:
            state.pending = None
            state.prompted = False
            if final.kind == "CONNECT" and pending.raw_after_connect:
                self._enter_data()
            events.append(final)
            return
        length = self._block_length(stripped)
        if length is not None:
            self._start_block(stripped, length, solicited=True, events=events)
            return
        events.append(Response(stripped))

    def _is_urc(self, text: str, pending: Request) -> bool:
        responses = pending.response_prefixes
        if responses and text.startswith(tuple(responses)):
            return False
        return text.startswith(self._urc_prefixes)

    def _block_length(self, text: str) -> int | None:
        for rule, compiled in self._block_rules:
            if compiled is None:
                length = rule.match(text)
            else:
                found = compiled.fullmatch(text)
                length = int(found.group("length")) if found else None
            if length is not None:
                if rule.max_length is not None and length > rule.max_length:
                    # A garbled header: taking it as a block would swallow everything after
                    # it. Deliver it as a line; the driver reports it.
                    return None
                return length
        return None

    def _start_block(
        self, header: str, length: int, *, solicited: bool, events: list[Event]
    ) -> None:
        if length == 0:
            events.append(DataBlock(header, b"", solicited))
            return
        state = self._state
        state.block_header = header
        state.block_remaining = length
        state.block_solicited = solicited
        self._to(_BLOCK)


def _line_end(buf: bytearray) -> int:
    """Index of the first CR or LF in ``buf``, -1 if none (an LF is looked for only before the
    first CR, so that a long buffer is not scanned twice)."""
    cr = buf.find(b"\r")
    if cr < 0:
        return buf.find(b"\n")
    lf = buf.find(b"\n", 0, cr)
    return cr if lf < 0 else lf


#: the most bytes of URC lines an exit marker may be followed by in one read (see
#: ATProtocol._find_exit); more is taken for payload
_URC_TAIL_MAX = 256


def _partial_suffix(buf: bytes | bytearray, marker: bytes) -> int:
    """Length of the longest suffix of ``buf`` that is a proper prefix of ``marker``.

    Only the positions of the last ``len(marker) - 1`` bytes that hold the marker's first byte
    can start one (found by ``find``, not tried size by size); the first that fits is the
    longest.
    """
    size = len(buf)
    first = marker[:1]
    start = buf.find(first, max(0, size - len(marker) + 1))
    while start >= 0:
        if marker.startswith(buf[start:]):
            return size - start
        start = buf.find(first, start + 1)
    return 0
