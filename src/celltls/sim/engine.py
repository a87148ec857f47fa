"""The modem side of an AT command port: a V.250 command engine that dialect modems build on.

:class:`ATEngine` takes the bytes a host writes (:meth:`ATEngine.feed`) and produces the bytes a
modem writes back through an output sink (set by :mod:`celltls.sim.serve`). It does what every
module does the same way, and leaves the vendor commands to a subclass:

- command lines per ITU-T V.250 5.2: the ``AT``/``at`` prefix, S3 (CR) terminates a line, an LF
  right after CR and a lone LF are ignored, backspace (S5) edits, several commands on one line
  (basic commands back to back, extended commands separated by ``;``);
- echo per ``ATE0``/``ATE1``; the default is ``E1`` as V.250 6.2.4 specifies (real modules
  also start with echo on);
- result codes framed ``<CR><LF>text<CR><LF>`` (V.250 5.7.1, verbose form ``V1``);
- errors as ``ERROR`` or, after ``AT+CMEE=1``/``2``, ``+CME ERROR: <n>`` / ``+CME ERROR: <text>``
  with the numbers and texts of 3GPP TS 27.007 9.2.1;
- the general commands ``ATI``, ``AT+CGMI``, ``AT+CGMM``, ``AT+CGMR``, ``AT+GSN``/``AT+CGSN``,
  ``AT&F``, ``ATZ``, ``AT+CFUN``, ``AT+CMEE``, ``AT+CPIN?``, ``AT+CREG``, ``AT+CGREG``,
  ``AT+CGATT``, ``AT+CSQ``, ``AT+CCLK`` in the shapes of 27.007 (5.1-5.4, 8.2, 9.1, 7.2, 10.1.20,
  10.1.9, 8.5, 8.15);
- data phases: a ``> `` prompt (no line end) followed by a fixed number of bytes or bytes up to
  Ctrl-Z, ESC cancelling; and ``CONNECT`` followed by a fixed number of bytes (the payload of a
  data phase is never echoed);
- data (transparent) mode, left with the escape sequence ``+++`` surrounded by guard times of
  silence (V.250 6.3.12 and S12; 1 s by default here), resumed with ``ATO`` (V.250 6.3.7);
- URCs held back while a data phase or data mode owns the line, then delivered;
- a clock (``AT+CCLK``), registration state, and a fault injection API
  (:meth:`ATEngine.fault_lose_registration`, :meth:`ATEngine.fault_deactivate_pdp`,
  :meth:`ATEngine.reboot`, :meth:`ATEngine.fault_garble`, :meth:`ATEngine.fault_fail_next_send`,
  :meth:`ATEngine.fault_server_close`).

Thread safety: every entry point takes the engine's lock; network threads call
:meth:`ATEngine.urc` and :meth:`ATEngine.write_raw`.
"""

from __future__ import annotations

import datetime as _dt
import enum
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from celltls.at.quoting import split_arguments

__all__ = [
    "CME_ERRORS",
    "ATEngine",
    "CommandError",
    "ParsedCommand",
    "split_args",
    "unquote",
]

log = logging.getLogger(__name__)

CR = 0x0D
LF = 0x0A
BS = 0x08
CTRL_Z = 0x1A
ESC = 0x1B

#: +CME ERROR numbers and texts used by the virtual modems (3GPP TS 27.007 9.2.1).
CME_ERRORS: dict[int, str] = {
    0: "phone failure",
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    30: "no network service",
    50: "Incorrect parameters",
    100: "unknown",
    148: "unspecified GPRS error",
}


class CommandError(Exception):
    """A command failed; the engine answers ``ERROR`` or ``+CME ERROR: <code>``.

    Args:
        code: a 27.007 9.2.1 error number, or ``None`` for a plain ``ERROR`` whatever
            ``AT+CMEE`` says (V.250 5.7.1: a line that cannot be parsed or an unknown command).
        reason: why, for the log.
    """

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(reason or (CME_ERRORS.get(code, "error") if code is not None else "error"))
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class ParsedCommand:
    """One command of a command line.

    Attributes:
        name: upper-case name without ``AT``: ``"+QSSLCFG"``, ``"E"``, ``"&F"``, ``"I"``.
        kind: ``"exec"`` (``AT+X`` or a basic command), ``"read"`` (``AT+X?``), ``"test"``
            (``AT+X=?``) or ``"write"`` (``AT+X=...``).
        args: the write arguments as written, split on commas outside quotes; for a basic
            command, its numeric argument (``["0"]`` for ``E0``) or ``[]``.
        raw: the command as the host wrote it.
    """

    name: str
    kind: str
    args: tuple[str, ...]
    raw: str


def split_args(text: str) -> list[str]:
    """Split a write command's arguments on commas outside double quotes.

    Args:
        text: what follows ``=``, e.g. ``'"sslversion",0,4'``.

    Returns:
        The arguments with surrounding blanks removed, quotes kept (``['"sslversion"', '0', '4']``).

    Raises:
        CommandError: a double quote is not closed (V.250 5.4.2.2).
    """
    if text.count('"') % 2:
        raise CommandError(None, "unterminated string")
    return [arg.strip() for arg in split_arguments(text)]


def unquote(arg: str) -> str | None:
    """The content of a double-quoted string argument, or ``None`` when ``arg`` is not quoted."""
    if len(arg) >= 2 and arg[0] == '"' and arg[-1] == '"' and '"' not in arg[1:-1]:
        return arg[1:-1]
    return None


class _Mode(enum.Enum):
    COMMAND = "command"
    PROMPT = "prompt"  # "> " data phase
    CONNECT = "connect"  # CONNECT + fixed number of bytes
    DATA = "data"  # transparent data mode


Handler = Callable[[ParsedCommand], "str | None"]
_EXTENDED_PREFIXES = "+#%$^*"


class ATEngine:
    """A V.250 modem engine; dialect modems subclass it and register their commands.

    Args:
        manufacturer: the answer to ``AT+CGMI``.
        model: the answer to ``AT+CGMM``.
        revision: the answer to ``AT+CGMR``.
        imei: the answer to ``AT+GSN``.
        guard_time: the escape sequence's guard time, seconds (V.250 S12; default 1 s).
        latency: network round-trip time added by the dialect's network operations, seconds.
        clock: the modem's real-time clock at construction (``None``: the host's time now).

    A subclass registers commands with :meth:`register` (handlers return the final result
    code text, ``None`` when they answer later, or raise :class:`CommandError`) and may
    override :meth:`on_reboot`, :meth:`on_registration_lost`, :meth:`on_pdp_deactivated`,
    :meth:`on_server_close`, :meth:`on_escape`, :meth:`on_resume` and :meth:`shutdown`.
    """

    def __init__(
        self,
        *,
        manufacturer: str = "celltls",
        model: str = "virtual",
        revision: str = "0.1",
        imei: str = "860000000000001",
        guard_time: float = 1.0,
        latency: float = 0.0,
        clock: _dt.datetime | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.manufacturer = manufacturer
        self.model = model
        self.revision = revision
        self.imei = imei
        self.guard_time = guard_time
        self.latency = latency
        self._sink: Callable[[bytes], None] | None = None
        self._commands: dict[str, Handler] = {}
        self._clock_offset = 0.0
        if clock is not None:
            self.set_clock(clock)
        self.transcript: list[tuple[str, bytes]] = []
        self.keep_transcript = False
        self._register_general()
        self._reset_engine_state()

    # ------------------------------------------------------------------ state
    def _reset_engine_state(self) -> None:
        self.echo = True
        self.cmee = 0
        self.cfun = 1
        self.creg_n = 0
        self.cgreg_n = 0
        self.registration = 1  # 27.007 7.2 <stat>: 1 registered, home network
        self.attached = True
        self.csq = (24, 0)  # 27.007 8.5: <rssi> 24 = -65 dBm, <ber> 0
        self._line = bytearray()
        self._last_was_cr = False
        self._mode = _Mode.COMMAND
        self._pending_urcs: list[bytes] = []
        self._garble = 0
        self._fail_next_send = False
        # data phases
        self._phase_buf = bytearray()
        self._phase_len: int | None = None
        self._phase_done: Callable[[bytes], None] | None = None
        self._phase_cancel: Callable[[], None] | None = None
        self._phase_escape: Callable[[bytes], None] | None = None
        self._phase_max = 0
        # data mode
        self._data_handler: Callable[[bytes], None] | None = None
        self._resumable = False
        # escape sequence detection
        self._last_rx = 0.0
        self._plus = bytearray()
        self._plus_started = False
        self._esc_timer: threading.Timer | None = None
        self._esc_generation = 0

    # ------------------------------------------------------------------ wiring
    def attach_sink(self, sink: Callable[[bytes], None] | None) -> None:
        """Connect (or, with ``None``, disconnect) the byte sink the modem writes to.

        While no sink is attached, what the modem writes is lost, as on a serial line with
        nobody listening. The modem's state is kept: closing the port does not reset a module.
        """
        with self.lock:
            self._sink = sink

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        if self._garble > 0:
            n = min(self._garble, len(data))
            noise = bytes((b ^ 0x5A) or 0x7F for b in data[:n])
            data = noise + data[n:]
            self._garble -= n
        if self.keep_transcript:
            self.transcript.append(("<", data))
        sink = self._sink
        if sink is not None:
            sink(data)

    def write_raw(self, data: bytes) -> None:
        """Write bytes to the host as they are (data mode payload, a data block)."""
        with self.lock:
            self._emit(data)

    def respond(self, text: str) -> None:
        """Write one information response line, framed ``<CR><LF>text<CR><LF>``."""
        with self.lock:
            self._emit(b"\r\n" + text.encode("latin-1") + b"\r\n")

    def respond_lines(self, lines: list[str]) -> None:
        """Write a multi-line information response: ``<CR><LF>l1<CR><LF>l2...<CR><LF>``."""
        with self.lock:
            body = "\r\n".join(lines)
            self._emit(b"\r\n" + body.encode("latin-1") + b"\r\n")

    def final(self, text: str) -> None:
        """Write a final (or intermediate) result code such as ``OK`` or ``CONNECT``."""
        self.respond(text)
        with self.lock:
            if self._mode is _Mode.COMMAND:
                self._flush_urcs()

    def error(self, exc: CommandError) -> None:
        """Write the result of a failed command per ``AT+CMEE`` (27.007 9.1)."""
        with self.lock:
            if exc.reason:
                log.debug("command failed: %s", exc.reason)
            if exc.code is None or self.cmee == 0:
                self.final("ERROR")
            elif self.cmee == 1:
                self.final(f"+CME ERROR: {exc.code}")
            else:
                self.final(f"+CME ERROR: {CME_ERRORS.get(exc.code, 'unknown')}")

    def urc(self, text: str) -> None:
        """Report an unsolicited result code; held back while a data phase or data mode runs."""
        with self.lock:
            framed = b"\r\n" + text.encode("latin-1") + b"\r\n"
            if self._mode is _Mode.COMMAND:
                self._emit(framed)
            else:
                self._pending_urcs.append(framed)

    def _flush_urcs(self) -> None:
        pending, self._pending_urcs = self._pending_urcs, []
        for framed in pending:
            self._emit(framed)

    def register(self, name: str, handler: Handler) -> None:
        """Register the handler of command ``name`` (``"+QSSLOPEN"``, ``"O"``, ``"&F"``)."""
        self._commands[name.upper()] = handler

    # ------------------------------------------------------------------ clock
    def now(self) -> _dt.datetime:
        """The modem's clock (timezone-aware, UTC)."""
        return _dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=self._clock_offset)

    def set_clock(self, when: _dt.datetime) -> None:
        """Set the modem's real-time clock (naive datetimes are taken as UTC)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.UTC)
        self._clock_offset = (when - _dt.datetime.now(_dt.UTC)).total_seconds()

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes) -> None:
        """Process bytes written by the host.

        Args:
            data: any number of bytes, split anywhere.
        """
        with self.lock:
            if self.keep_transcript:
                self.transcript.append((">", data))
            for i, byte in enumerate(data):
                mode = self._mode
                if mode is _Mode.COMMAND:
                    self._command_byte(byte)
                elif mode is _Mode.PROMPT:
                    self._prompt_byte(byte)
                else:
                    # CONNECT phases and data mode take the rest of the chunk at once
                    self._data_bytes(data[i:])
                    break

    # command mode -------------------------------------------------------------
    def _command_byte(self, byte: int) -> None:
        if byte == LF and self._last_was_cr:
            self._last_was_cr = False
            return
        self._last_was_cr = byte == CR
        if byte == CR:
            if self.echo:
                self._emit(b"\r")
            line = bytes(self._line)
            self._line.clear()
            self._execute_line(line)
            return
        if byte == LF:
            return  # a lone LF is ignored (V.250 5.2.1 ignores characters before "AT")
        if byte == BS:
            if self._line:
                self._line.pop()
                if self.echo:
                    self._emit(b"\x08 \x08")
            return
        if self.echo:
            self._emit(bytes([byte]))
        self._line.append(byte)
        if len(self._line) > 4096:
            self._line.clear()

    def _execute_line(self, raw: bytes) -> None:
        text = raw.decode("latin-1").strip()
        if not text:
            return
        if text.upper() == "A/":
            return  # repeat-last-command is not supported; ignored
        at = text.upper().find("AT")
        if at < 0:
            return  # V.250 5.2.1: characters before "AT" are ignored; no AT, no command
        body = text[at + 2 :]
        try:
            commands = self._parse(body)
        except CommandError as exc:
            self.error(exc)
            return
        if not commands:
            self.final("OK")
            return
        for index, command in enumerate(commands):
            handler = self._commands.get(command.name)
            if handler is None:
                self.error(CommandError(None, f"unknown command AT{command.raw}"))
                return
            try:
                result = handler(command)
            except CommandError as exc:
                self.error(exc)
                return
            if result is None:
                return  # the handler answers later (data phase, deferred result)
            if index == len(commands) - 1 or result != "OK":
                self.final(result)
                if result != "OK":
                    return

    def _parse(self, body: str) -> list[ParsedCommand]:
        commands: list[ParsedCommand] = []
        i = 0
        n = len(body)
        while i < n:
            ch = body[i]
            if ch in " ;":
                i += 1
                continue
            if ch in _EXTENDED_PREFIXES:
                j = i + 1
                while j < n and (body[j].isalnum() or body[j] in "_.-"):
                    j += 1
                name = body[i:j].upper()
                if len(name) < 2:
                    raise CommandError(None, "empty extended command name")
                quoted = False
                k = j
                while k < n:
                    if body[k] == '"':
                        quoted = not quoted
                    elif body[k] == ";" and not quoted:
                        break
                    k += 1
                rest = body[j:k].strip()
                raw = body[i:k]
                if rest == "":
                    commands.append(ParsedCommand(name, "exec", (), raw))
                elif rest == "?":
                    commands.append(ParsedCommand(name, "read", (), raw))
                elif rest.replace(" ", "") == "=?":
                    commands.append(ParsedCommand(name, "test", (), raw))
                elif rest.startswith("="):
                    commands.append(ParsedCommand(name, "write", tuple(split_args(rest[1:])), raw))
                else:
                    raise CommandError(None, f"cannot parse {raw!r}")
                i = k
                continue
            # basic commands: a letter or &letter, then digits (V.250 5.3.1)
            j = i + 1
            if ch == "&" and j < n:
                j += 1
            name = body[i:j].upper()
            if not name[-1].isalpha():
                raise CommandError(None, f"cannot parse {body[i:]!r}")
            if j < n and body[j] == "?":
                commands.append(ParsedCommand(name, "read", (), body[i : j + 1]))
                i = j + 1
                continue
            if name == "S":
                k = j
                while k < n and body[k].isdigit():
                    k += 1
                reg = body[j:k]
                if k < n and body[k] == "?":
                    commands.append(ParsedCommand("S" + reg, "read", (), body[i : k + 1]))
                    i = k + 1
                    continue
                if k < n and body[k] == "=":
                    m = k + 1
                    while m < n and body[m].isdigit():
                        m += 1
                    value = body[k + 1 : m]
                    commands.append(ParsedCommand("S" + reg, "write", (value,), body[i:m]))
                    i = m
                    continue
                raise CommandError(None, "bad S-parameter command")
            k = j
            while k < n and body[k].isdigit():
                k += 1
            args = (body[j:k],) if k > j else ()
            commands.append(ParsedCommand(name, "exec", args, body[i:k]))
            i = k
        return commands

    # prompt data phase --------------------------------------------------------
    def start_prompt(
        self,
        length: int | None,
        on_done: Callable[[bytes], None],
        on_cancel: Callable[[], None],
        *,
        max_length: int = 1460,
    ) -> None:
        """Write ``> `` (no line end) and collect the payload of a send command.

        Args:
            length: the fixed number of bytes to take (every byte is data, Ctrl-Z and ESC
                included), or ``None`` to take bytes up to Ctrl-Z, ESC cancelling.
            on_done: called with the payload (engine lock held) when it is complete.
            on_cancel: called when ESC cancels a Ctrl-Z terminated payload.
            max_length: in Ctrl-Z mode, the payload is taken as complete at this many bytes.
        """
        with self.lock:
            self._mode = _Mode.PROMPT
            self._phase_buf = bytearray()
            self._phase_len = length
            self._phase_done = on_done
            self._phase_cancel = on_cancel
            self._phase_max = max_length
            self._emit(b"> ")

    def _prompt_byte(self, byte: int) -> None:
        if self._phase_len is not None:
            self._phase_buf.append(byte)
            if len(self._phase_buf) >= self._phase_len:
                self._finish_phase()
            return
        if byte == CTRL_Z:
            self._finish_phase()
        elif byte == ESC:
            cancel = self._phase_cancel
            self._end_phase()
            if cancel is not None:
                cancel()
        else:
            self._phase_buf.append(byte)
            if len(self._phase_buf) >= self._phase_max:
                self._finish_phase()

    def _finish_phase(self) -> None:
        done = self._phase_done
        payload = bytes(self._phase_buf)
        self._end_phase()
        if done is not None:
            done(payload)

    def _end_phase(self) -> None:
        self._mode = _Mode.COMMAND
        self._phase_buf = bytearray()
        self._phase_done = None
        self._phase_cancel = None
        self._phase_escape = None
        self._cancel_escape_timer()
        self._plus.clear()

    # CONNECT data phase -------------------------------------------------------
    def start_connect_phase(
        self,
        length: int,
        on_done: Callable[[bytes], None],
        on_escape: Callable[[bytes], None],
    ) -> None:
        """Write ``CONNECT`` and collect exactly ``length`` bytes, or less if ``+++`` ends it.

        Args:
            length: bytes to take.
            on_done: called with the payload when ``length`` bytes have arrived.
            on_escape: called with what arrived before a guarded ``+++`` (or a timeout).
        """
        with self.lock:
            self.respond("CONNECT")
            self._mode = _Mode.CONNECT
            self._phase_buf = bytearray()
            self._phase_len = length
            self._phase_done = on_done
            self._phase_escape = on_escape
            self._plus.clear()
            self._plus_started = False
            self._last_rx = time.monotonic()

    def abort_connect_phase(self) -> None:
        """End a ``CONNECT`` phase now (its timeout expired) as if ``+++`` had been typed."""
        with self.lock:
            if self._mode is _Mode.CONNECT:
                self._escape()

    # data mode ----------------------------------------------------------------
    def enter_data_mode(self, handler: Callable[[bytes], None]) -> None:
        """Write ``CONNECT`` and pass every byte the host writes to ``handler`` (transparent mode).

        The escape sequence (``+++`` with guard times) returns to command mode with ``OK``;
        ``ATO`` resumes with ``CONNECT``.
        """
        with self.lock:
            self._data_handler = handler
            self._resumable = True
            self.respond("CONNECT")
            self._mode = _Mode.DATA
            self._plus.clear()
            self._plus_started = False
            self._last_rx = time.monotonic()

    def leave_data_mode(self, result: str | None) -> None:
        """Leave data mode on the modem's own initiative (the connection ended).

        Args:
            result: the line to report, e.g. ``CLOSED`` or ``NO CARRIER``; ``None`` for none.
        """
        with self.lock:
            was_data = self._mode is _Mode.DATA
            self._resumable = False
            self._data_handler = None
            if was_data:
                self._mode = _Mode.COMMAND
                self._cancel_escape_timer()
                self._plus.clear()
                if result:
                    self.final(result)
                else:
                    self._flush_urcs()

    @property
    def in_data_mode(self) -> bool:
        """Whether the line is in transparent data mode now."""
        return self._mode is _Mode.DATA

    def _data_bytes(self, data: bytes) -> None:
        now = time.monotonic()
        silence = now - self._last_rx
        self._last_rx = now
        self._cancel_escape_timer()
        out = bytearray()
        for byte in data:
            if byte == 0x2B and len(self._plus) < 3 and (self._plus or silence >= self.guard_time):
                self._plus.append(byte)
                silence = 0.0
                continue
            if self._plus:
                out += self._plus
                self._plus.clear()
            out.append(byte)
            silence = 0.0
        if out:
            self._deliver(bytes(out))
        if len(self._plus) == 3:
            self._arm_escape_timer()

    def _deliver(self, data: bytes) -> None:
        if self._mode is _Mode.CONNECT:
            assert self._phase_len is not None
            need = self._phase_len - len(self._phase_buf)
            self._phase_buf += data[:need]
            if len(self._phase_buf) >= self._phase_len:
                self._finish_phase()
        elif self._mode is _Mode.DATA and self._data_handler is not None:
            self._data_handler(data)

    def _arm_escape_timer(self) -> None:
        self._esc_generation += 1
        generation = self._esc_generation
        timer = threading.Timer(self.guard_time, self._escape_timer_fired, args=(generation,))
        timer.daemon = True
        self._esc_timer = timer
        timer.start()

    def _cancel_escape_timer(self) -> None:
        self._esc_generation += 1
        if self._esc_timer is not None:
            self._esc_timer.cancel()
            self._esc_timer = None

    def _escape_timer_fired(self, generation: int) -> None:
        with self.lock:
            if generation != self._esc_generation or len(self._plus) != 3:
                return
            self._plus.clear()
            self._esc_timer = None
            self._escape()

    def _escape(self) -> None:
        if self._mode is _Mode.CONNECT:
            escape = self._phase_escape
            payload = bytes(self._phase_buf)
            self._end_phase()
            if escape is not None:
                escape(payload)
        elif self._mode is _Mode.DATA:
            self._mode = _Mode.COMMAND
            self.on_escape()
            self.final("OK")

    # ------------------------------------------------------------------ hooks
    def on_escape(self) -> None:
        """Called (lock held) when ``+++`` leaves data mode; the connection stays open."""

    def on_resume(self) -> bool:
        """Called (lock held) by ``ATO``; return ``False`` when there is nothing to resume."""
        return self._resumable and self._data_handler is not None

    def on_reboot(self) -> None:
        """Called (lock held) by :meth:`reboot` and ``AT+CFUN=1,1``: forget what RAM held."""

    def on_registration_lost(self) -> None:
        """Called (lock held) when registration is lost: a dialect drops its PDP contexts."""
        self.on_pdp_deactivated()

    def on_pdp_deactivated(self) -> None:
        """Called (lock held) when the network deactivates the PDP context."""

    def on_server_close(self, socket_id: int) -> None:
        """Called (lock held) to make the server close connection ``socket_id``."""
        raise ValueError(f"no connection {socket_id}")

    def shutdown(self) -> None:
        """Release everything the modem holds (network connections, timers)."""
        with self.lock:
            self._cancel_escape_timer()

    # ------------------------------------------------------------------ faults
    def fault_lose_registration(self, stat: int = 0) -> None:
        """Lose network registration (27.007 7.2 ``<stat>``, 0 = not registered, not searching).

        The PS attachment and every PDP context go with it.
        """
        with self.lock:
            self.registration = stat
            self.attached = False
            self._registration_urcs()
            self.on_registration_lost()

    def fault_restore_registration(self, stat: int = 1) -> None:
        """Register again (``stat`` 1 home, 5 roaming) and attach to the PS domain."""
        with self.lock:
            self.registration = stat
            self.attached = True
            self._registration_urcs()

    def fault_deactivate_pdp(self) -> None:
        """The network deactivates the PDP context; open connections close."""
        with self.lock:
            self.on_pdp_deactivated()

    def reboot(self) -> None:
        """Reboot the module: RAM is lost, non-volatile memory is kept, connections drop."""
        with self.lock:
            self._cancel_escape_timer()
            self._reset_engine_state()
            self.on_reboot()

    def fault_garble(self, count: int) -> None:
        """Corrupt the next ``count`` bytes the modem writes (line noise)."""
        with self.lock:
            self._garble += count

    def fault_fail_next_send(self) -> None:
        """Make the next send operation of the dialect fail."""
        with self.lock:
            self._fail_next_send = True

    def take_send_fault(self) -> bool:
        """Whether a send fault is armed; it is consumed."""
        with self.lock:
            armed, self._fail_next_send = self._fail_next_send, False
            return armed

    def fault_server_close(self, socket_id: int) -> None:
        """Make the remote server close connection ``socket_id``.

        Raises:
            ValueError: there is no such open connection.
        """
        with self.lock:
            self.on_server_close(socket_id)

    def _registration_urcs(self) -> None:
        if self.creg_n:
            self.urc(f"+CREG: {self.registration}")
        if self.cgreg_n:
            self.urc(f"+CGREG: {self.registration if self.attached else 0}")

    # ------------------------------------------------------------------ general commands
    def _register_general(self) -> None:
        for name, handler in {
            "E": self._cmd_echo,
            "V": self._cmd_verbose,
            "Q": self._cmd_quiet,
            "I": self._cmd_info,
            "Z": self._cmd_reset,
            "&F": self._cmd_reset,
            "&W": self._cmd_ok,
            "O": self._cmd_online,
            "+CGMI": self._cmd_cgmi,
            "+GMI": self._cmd_cgmi,
            "+CGMM": self._cmd_cgmm,
            "+GMM": self._cmd_cgmm,
            "+CGMR": self._cmd_cgmr,
            "+GMR": self._cmd_cgmr,
            "+GSN": self._cmd_gsn,
            "+CGSN": self._cmd_gsn,
            "+CMEE": self._cmd_cmee,
            "+CFUN": self._cmd_cfun,
            "+CPIN": self._cmd_cpin,
            "+CREG": self._cmd_creg,
            "+CGREG": self._cmd_cgreg,
            "+CGATT": self._cmd_cgatt,
            "+CSQ": self._cmd_csq,
            "+CCLK": self._cmd_cclk,
        }.items():
            self.register(name, handler)

    @staticmethod
    def int_arg(arg: str, low: int, high: int, code: int = 50) -> int:
        """Parse a decimal argument within ``low``..``high``.

        Raises:
            CommandError: not a number or out of range (``code``, 27.007 50 by default).
        """
        try:
            value = int(arg.strip(), 10)
        except ValueError:
            raise CommandError(code, f"not a number: {arg!r}") from None
        if not low <= value <= high:
            raise CommandError(code, f"{value} out of range {low}-{high}")
        return value

    def _cmd_ok(self, cmd: ParsedCommand) -> str:
        return "OK"

    def _cmd_echo(self, cmd: ParsedCommand) -> str:
        value = self.int_arg(cmd.args[0], 0, 1, code=4) if cmd.args else 0
        self.echo = bool(value)
        return "OK"

    def _cmd_verbose(self, cmd: ParsedCommand) -> str:
        if cmd.args and cmd.args[0] != "1":
            raise CommandError(4, "numeric result codes (V0) are not simulated")
        return "OK"

    def _cmd_quiet(self, cmd: ParsedCommand) -> str:
        if cmd.args and cmd.args[0] != "0":
            raise CommandError(4, "quiet mode (Q1) is not simulated")
        return "OK"

    def _cmd_info(self, cmd: ParsedCommand) -> str:
        self.respond_lines([self.manufacturer, self.model, f"Revision: {self.revision}"])
        return "OK"

    def _cmd_reset(self, cmd: ParsedCommand) -> str:
        self.echo = True
        self.cmee = 0
        self.creg_n = 0
        self.cgreg_n = 0
        return "OK"

    def _cmd_online(self, cmd: ParsedCommand) -> str | None:
        if not self.on_resume():
            raise CommandError(3, "ATO: no connection to resume")
        self.respond("CONNECT")
        self._mode = _Mode.DATA
        self._plus.clear()
        self._last_rx = time.monotonic()
        self.after_resume()
        return None

    def after_resume(self) -> None:
        """Called (lock held) right after ``ATO`` re-entered data mode."""

    def _info_only(self, cmd: ParsedCommand, text: str) -> str:
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "unexpected form")
        self.respond(text)
        return "OK"

    def _cmd_cgmi(self, cmd: ParsedCommand) -> str:
        return self._info_only(cmd, self.manufacturer)

    def _cmd_cgmm(self, cmd: ParsedCommand) -> str:
        return self._info_only(cmd, self.model)

    def _cmd_cgmr(self, cmd: ParsedCommand) -> str:
        return self._info_only(cmd, f"Revision: {self.revision}")

    def _cmd_gsn(self, cmd: ParsedCommand) -> str:
        return self._info_only(cmd, self.imei)

    def _cmd_cmee(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(f"+CMEE: {self.cmee}")
        elif cmd.kind == "test":
            self.respond("+CMEE: (0-2)")
        elif cmd.kind == "write":
            self.cmee = self.int_arg(cmd.args[0], 0, 2) if cmd.args[0] else 0
        else:
            self.cmee = 0
        return "OK"

    def _cmd_cfun(self, cmd: ParsedCommand) -> str | None:
        if cmd.kind == "read":
            self.respond(f"+CFUN: {self.cfun}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+CFUN: (0,1,4),(0-1)")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) > 2:
            raise CommandError(None, "bad AT+CFUN")
        fun = self.int_arg(cmd.args[0], 0, 4)
        if fun not in (0, 1, 4):
            raise CommandError(50, "unsupported <fun>")
        reset = self.int_arg(cmd.args[1], 0, 1) if len(cmd.args) > 1 else 0
        if reset:
            self.final("OK")
            self.reboot()
            self.cfun = fun
            return None
        self.cfun = fun
        if fun != 1:
            self.fault_lose_registration(0)
        elif self.registration not in (1, 5):
            self.fault_restore_registration(1)
        return "OK"

    def _cmd_cpin(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond("+CPIN: READY")
            return "OK"
        if cmd.kind == "test":
            return "OK"
        raise CommandError(3, "no PIN is needed")

    def _cmd_creg(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(f"+CREG: {self.creg_n},{self.registration}")
        elif cmd.kind == "test":
            self.respond("+CREG: (0-1)")
        elif cmd.kind == "write":
            self.creg_n = self.int_arg(cmd.args[0], 0, 1)
        else:
            raise CommandError(None, "bad AT+CREG")
        return "OK"

    def _cmd_cgreg(self, cmd: ParsedCommand) -> str:
        stat = self.registration if self.attached else 0
        if cmd.kind == "read":
            self.respond(f"+CGREG: {self.cgreg_n},{stat}")
        elif cmd.kind == "test":
            self.respond("+CGREG: (0-1)")
        elif cmd.kind == "write":
            self.cgreg_n = self.int_arg(cmd.args[0], 0, 1)
        else:
            raise CommandError(None, "bad AT+CGREG")
        return "OK"

    def _cmd_cgatt(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(f"+CGATT: {int(self.attached)}")
        elif cmd.kind == "test":
            self.respond("+CGATT: (0,1)")
        elif cmd.kind == "write":
            state = self.int_arg(cmd.args[0], 0, 1)
            if state and self.registration not in (1, 5):
                raise CommandError(30, "not registered")
            if not state and self.attached:
                self.attached = False
                self.on_pdp_deactivated()
            self.attached = bool(state)
        else:
            raise CommandError(None, "bad AT+CGATT")
        return "OK"

    def _cmd_csq(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "test":
            self.respond("+CSQ: (0-31,99),(0-7,99)")
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "bad AT+CSQ")
        rssi, ber = self.csq if self.registration in (1, 5) else (99, 99)
        self.respond(f"+CSQ: {rssi},{ber}")
        return "OK"

    def _cmd_cclk(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "test":
            return "OK"
        if cmd.kind == "read":
            now = self.now()
            self.respond(f'+CCLK: "{now:%y/%m/%d,%H:%M:%S}+00"')
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(None, "bad AT+CCLK")
        text = unquote(cmd.args[0])
        if text is None:
            raise CommandError(50, "<time> must be quoted")
        self.set_clock(parse_cclk(text))
        return "OK"


def parse_cclk(text: str) -> _dt.datetime:
    """Parse a 27.007 8.15 ``"yy/MM/dd,hh:mm:ss±zz"`` time (zz in quarters of an hour).

    Raises:
        CommandError: the text is not such a time (27.007 error 50).
    """
    try:
        date_part, time_part = text.split(",")
        zone_q = 0
        for sign in "+-":
            if sign in time_part:
                time_part, zone = time_part.split(sign)
                zone_q = int(zone) * (1 if sign == "+" else -1)
                break
        yy, mo, dd = (int(x) for x in date_part.split("/"))
        hh, mi, ss = (int(x) for x in time_part.split(":"))
        tz = _dt.timezone(_dt.timedelta(minutes=15 * zone_q))
        return _dt.datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=tz)
    except (ValueError, TypeError) as exc:
        raise CommandError(50, f"bad time {text!r}") from exc


def env_guard_time(default: float) -> float:
    """The guard time from ``CELLTLS_SIM_GUARD_TIME`` (seconds), else ``default``."""
    value = os.environ.get("CELLTLS_SIM_GUARD_TIME")
    try:
        return float(value) if value else default
    except ValueError:
        return default
