"""The modem side of the serial line: V.250 command lines, result codes, data phases, data mode.

:class:`LineEngine` takes the bytes a host writes (:meth:`LineEngine.feed`) and writes the
modem's bytes to an output sink (set by the simulator's server). It knows no command beyond the
few that belong to the line itself; :class:`celltls.sim.general.GeneralEngine` adds the 3GPP
TS 27.007 general commands and each dialect's virtual modem adds its own.

- command lines per ITU-T V.250 5.2: the ``AT``/``at`` prefix, S3 (CR) terminates a line, an LF
  right after CR and a lone LF are ignored, backspace (S5) edits, several commands on one line
  (basic commands back to back, extended commands separated by ``;``), parsed by
  :mod:`celltls.at.syntax`;
- echo per ``ATE0``/``ATE1``; the default is ``E1`` as V.250 6.2.4 specifies (real modules
  also start with echo on); ``ATV1`` and ``ATQ0`` (the only forms simulated, V.250 6.2.6-6.2.5);
- result codes framed ``<CR><LF>text<CR><LF>`` (V.250 5.7.1, verbose form ``V1``), ``ERROR``
  for a failed command (27.007 ``+CME ERROR`` is added by the general commands);
- data phases: a ``> `` prompt (no line end) followed by a fixed number of bytes or bytes up to
  Ctrl-Z, ESC cancelling; and ``CONNECT`` followed by a fixed number of bytes (the payload of a
  data phase is never echoed);
- data (transparent) mode, left with the escape sequence ``+++`` surrounded by guard times of
  silence (V.250 6.3.12 and S12; 1 s by default here), resumed with ``ATO`` (V.250 6.3.7);
- URCs held back while a data phase or data mode owns the line, then delivered.

Thread safety: every entry point takes the engine's lock; network threads call
:meth:`LineEngine.urc` and :meth:`LineEngine.write_raw`.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from celltls.at.syntax import CommandSyntaxError, find_prefix, parse_commands
from celltls.sim.commands import CommandError, Handler, ParsedCommand, int_arg

if TYPE_CHECKING:  # pragma: no cover
    from celltls.dialects.spec import Catalog

__all__ = ["LineEngine"]

log = logging.getLogger(__name__)

CR = 0x0D
LF = 0x0A
BS = 0x08
CTRL_Z = 0x1A
ESC = 0x1B
PLUS = 0x2B
#: Longest command line kept; longer input is dropped (V.250 5.2.4 asks for at least 40).
MAX_LINE = 4096


class _Mode(enum.Enum):
    COMMAND = "command"
    PROMPT = "prompt"  # "> " data phase
    CONNECT = "connect"  # CONNECT + fixed number of bytes
    DATA = "data"  # transparent data mode


class LineEngine:
    """The V.250 line of a virtual modem: command lines, result codes, data phases, data mode.

    Args:
        guard_time: the escape sequence's guard time, seconds (V.250 S12; default 1 s).

    Subclasses register commands with :meth:`register` (handlers return the final result
    code text, ``None`` when they answer later, or raise
    :class:`~celltls.sim.commands.CommandError`) and may override :meth:`on_escape`,
    :meth:`on_resume`, :meth:`after_resume` and :meth:`shutdown`. State that a reboot resets is
    set in :meth:`_reset_state`, which subclasses extend (calling ``super()``).

    A subclass that sets :attr:`catalog` has the test form ``AT+X=?`` of every registered
    command answered from it (:meth:`test_answer`), with no handler of its own.
    """

    #: The dialect's catalog: its documented test-form answers are given by the engine.
    catalog: Catalog | None = None
    #: Strict mode (``celltls sim --strict``): where the virtual modem would take a liberty
    #: that the real module does not (accept an input the module refuses, answer a command
    #: the model lacks), refuse as the module does. The default answers are the same in both
    #: modes wherever the vendor documents or real logs show them; docs/virtual-modems.md
    #: lists what strict mode changes per dialect.
    strict: bool = False
    #: The longest command line the model takes, characters after ``AT`` (``None``: no limit
    #: beyond :data:`MAX_LINE`); enforced in strict mode only.
    max_command_line: int | None = None

    def __init__(self, *, guard_time: float = 1.0) -> None:
        self.lock = threading.RLock()
        self.guard_time = guard_time
        self._sink: Callable[[bytes], None] | None = None
        self._commands: dict[str, Handler] = {}
        self.transcript: list[tuple[str, bytes]] = []
        self.keep_transcript = False
        for name, handler in {
            "E": self._cmd_echo,
            "V": self._cmd_verbose,
            "Q": self._cmd_quiet,
            "O": self._cmd_online,
        }.items():
            self.register(name, handler)
        self._reset_state()

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        """Set the state a reboot resets (subclasses extend it, calling ``super()``)."""
        self.echo = True
        self._line = bytearray()
        self._last_was_cr = False
        self._mode = _Mode.COMMAND
        self._pending_urcs: list[bytes] = []
        self._holding = 0  # output phases under way (hold_urcs)
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
        self._esc_timer: threading.Timer | None = None
        self._esc_generation = 0

    # ------------------------------------------------------------------ output
    def attach_sink(self, sink: Callable[[bytes], None] | None) -> None:
        """Connect (or, with ``None``, disconnect) the byte sink the modem writes to.

        While no sink is attached, what the modem writes is lost, as on a serial line with
        nobody listening. The modem's state is kept: closing the port does not reset a module.
        """
        with self.lock:
            self._sink = sink

    def _emit(self, data: bytes) -> None:
        """Write bytes to the sink (lock held); every byte the modem writes passes here."""
        if not data:
            return
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
        """Write one information response line, framed ``<CR><LF>text<CR><LF>`` (latin-1)."""
        with self.lock:
            self._emit(b"\r\n" + text.encode("latin-1") + b"\r\n")

    def respond_lines(self, lines: list[str]) -> None:
        """Write a multi-line information response: ``<CR><LF>l1<CR><LF>l2...<CR><LF>``."""
        with self.lock:
            body = "\r\n".join(lines)
            self._emit(b"\r\n" + body.encode("latin-1") + b"\r\n")

    def final(self, text: str) -> None:
        """Write a final (or intermediate) result code such as ``OK`` or ``CONNECT``.

        URCs held back during a data phase follow it once the line is in command mode.
        """
        self.respond(text)
        with self.lock:
            if self._mode is _Mode.COMMAND and not self._holding:
                self._flush_urcs()

    def error(self, exc: CommandError) -> None:
        """Write the result of a failed command: ``ERROR`` (V.250 5.7.1)."""
        with self.lock:
            if exc.reason:
                log.debug("command failed: %s", exc.reason)
            self.final("ERROR")

    def urc(self, text: str) -> None:
        """Report an unsolicited result code; held back while a data phase or data mode runs."""
        with self.lock:
            framed = b"\r\n" + text.encode("latin-1") + b"\r\n"
            if self._mode is _Mode.COMMAND and not self._holding:
                self._emit(framed)
            else:
                self._pending_urcs.append(framed)

    def hold_urcs(self) -> None:
        """An output phase begins (a module's own data after ``CONNECT``, such as an HTTP
        response up to its end-of-data pattern): URCs wait until :meth:`release_urcs`, as they
        do in a host data phase, so none lands inside the data."""
        with self.lock:
            self._holding += 1

    def release_urcs(self) -> None:
        """The output phase of :meth:`hold_urcs` ended: deliver what was held."""
        with self.lock:
            self._holding = max(0, self._holding - 1)
            if self._mode is _Mode.COMMAND and not self._holding:
                self._flush_urcs()

    def _flush_urcs(self) -> None:
        pending, self._pending_urcs = self._pending_urcs, []
        for framed in pending:
            self._emit(framed)

    def register(self, name: str, handler: Handler) -> None:
        """Register the handler of command ``name`` (``"+QSSLOPEN"``, ``"O"``, ``"&F"``).

        A later registration of the same name replaces the earlier one.
        """
        self._commands[name.upper()] = handler

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
        if len(self._line) > MAX_LINE:
            self._line.clear()

    def _execute_line(self, raw: bytes) -> None:
        text = raw.decode("latin-1").strip()
        if not text:
            return
        if text.upper() == "A/":
            return  # repeat-last-command is not supported; ignored
        start = find_prefix(text)
        if start is None:
            return  # V.250 5.2.1: characters before "AT" are ignored; no AT, no command
        if self.strict:
            if text[start - 2:start] not in ("AT", "at"):
                return  # V.250 5.2.1: the prefix is "AT" or "at"; "At"/"aT" start nothing
            limit = self.max_command_line
            if limit is not None and len(text) - start > limit:
                self.error(CommandError(None, f"command line over {limit} characters"))
                return
        try:
            commands = [ParsedCommand.of(c) for c in parse_commands(text, start)]
        except CommandSyntaxError as exc:
            self.error(CommandError(None, str(exc)))
            return
        if not commands:
            self.final("OK")
            return
        for index, command in enumerate(commands):
            handler = self._commands.get(command.name)
            if handler is None:
                self.error(CommandError(None, f"unknown command AT{command.raw}"))
                return
            documented = self.test_answer(command.name) if command.kind == "test" else None
            try:
                if documented is not None:
                    self.respond_lines(list(documented))
                    result: str | None = "OK"
                else:
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
            if byte == PLUS and self._plus and silence >= self.guard_time:
                # The escape characters must each follow the previous one within the guard
                # time (Hayes S12; Sierra Wireless DART 300 feature reference 2110212, 6):
                # the sequence is broken, the '+' held so far are data, and this one, after
                # a guard time of silence, may start a new sequence.
                out += self._plus
                self._plus.clear()
            if byte == PLUS and len(self._plus) < 3 and (self._plus or silence >= self.guard_time):
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

    # escape sequence (V.250 6.3.12, S12) ----------------------------------------
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

    def test_answer(self, name: str) -> tuple[str, ...] | None:
        """The answer lines to ``AT<name>=?`` documented in :attr:`catalog`, or ``None``
        (then the command's handler answers the test form, as for any other form).

        A subclass overrides it where a model answers otherwise than the documented one, or
        lacks the form.
        """
        if self.catalog is None:
            return None
        try:
            command = self.catalog.command(name)
        except KeyError:
            return None
        return command.test_answer.lines if command.test_answer is not None else None

    # ------------------------------------------------------------------ hooks
    def on_escape(self) -> None:
        """Called (lock held) when ``+++`` leaves data mode; the connection stays open."""

    def on_resume(self) -> bool:
        """Called (lock held) by ``ATO``; return ``False`` when there is nothing to resume."""
        return self._resumable and self._data_handler is not None

    def after_resume(self) -> None:
        """Called (lock held) right after ``ATO`` re-entered data mode."""

    def shutdown(self) -> None:
        """Release everything the line holds (the escape sequence's timer)."""
        with self.lock:
            self._cancel_escape_timer()

    # ------------------------------------------------------------------ line commands
    int_arg = staticmethod(int_arg)

    def _cmd_echo(self, cmd: ParsedCommand) -> str:
        """``ATE<n>``: command echo (V.250 6.2.4)."""
        value = self.int_arg(cmd.args[0], 0, 1, code=4) if cmd.args else 0
        self.echo = bool(value)
        return "OK"

    def _cmd_verbose(self, cmd: ParsedCommand) -> str:
        """``ATV<n>``: result code format (V.250 6.2.6); only ``V1`` is simulated."""
        if cmd.args and cmd.args[0] != "1":
            raise CommandError(4, "numeric result codes (V0) are not simulated")
        return "OK"

    def _cmd_quiet(self, cmd: ParsedCommand) -> str:
        """``ATQ<n>``: result code suppression (V.250 6.2.5); only ``Q0`` is simulated."""
        if cmd.args and cmd.args[0] != "0":
            raise CommandError(4, "quiet mode (Q1) is not simulated")
        return "OK"

    def _cmd_online(self, cmd: ParsedCommand) -> str | None:
        """``ATO``: return to online data mode (V.250 6.3.7)."""
        if not self.on_resume():
            raise CommandError(3, "ATO: no connection to resume")
        self.respond("CONNECT")
        self._mode = _Mode.DATA
        self._plus.clear()
        self._last_rx = time.monotonic()
        self.after_resume()
        return None
