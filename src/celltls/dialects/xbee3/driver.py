"""The Digi XBee 3 Cellular driver (host side): command mode, API frames, transparent mode.

Facts and their sources are in :mod:`celltls.dialects.xbee3.catalog` (reference
shared/reference/xbee3.md, written ``xbee3.md S<n>`` below). What this driver adds:

- **One byte pump.** An XBee is never a V.250 modem: command mode answers end in CR alone, a
  read answers the bare value with no ``OK`` and the escape sequence is answered ``OK\\r``
  (xbee3.md S2), and API mode is binary frames (S6). So the driver keeps the AT channel in its
  raw (data) mode for the whole session and reads every byte itself on one thread: in command
  mode into a text buffer (:meth:`XBee3.command`), in API mode through the frame decoder
  (:mod:`celltls.dialects.xbee3.frames`), in transparent mode into the open connection. This is
  also why :meth:`~celltls.dialects.base.Dialect.at` is not used: the catalog's
  :func:`~celltls.dialects.xbee3.catalog.command_line` builds and checks every line instead.
- **Command mode** is entered with guard time, ``+++``, guard time (answer ``OK``), left with
  ``ATCN``, and taken as lost after ``CT`` (10 s) of silence (S2).
- **API mode (the default)**: extended sockets (0x40 create with protocol 4, 0x41 option 0x00 =
  TLS profile, 0x42 connect by name then wait for 0xCF, 0x44 send with 0x89 status, 0xCD
  receive, 0x43 close; S8), several at once; parameters through 0x08/0x88 (S7).
- **Transparent mode** (``XBee3(..., transparent=True)`` or ``tls_connect(transparent=True)``):
  ``IP`` 4, ``DL``, ``DE`` (hex), ``$0``, ``ATCN``; the connection opens with the first byte
  sent and nothing is said on the line when it fails, so when no data comes the driver goes to
  command mode and reads ``CI`` and ``OD`` (S9, S4).
- **Credentials are files** in ``/flash/cert`` sent with ``ATFS PUT`` (``XPUT`` for keys) and
  YMODEM, skipped when ``ATFS HASH`` already gives their SHA-256 (S5); TLS profile ``$n`` is
  ``ca;cert;key`` (S3, S10).
- **What the module cannot do is said**: no host-name check is documented and SNI is not sent
  (S10), so :attr:`Capabilities.hostname_check` is ``False`` and :class:`celltls.Modem` refuses
  a profile that asks for one; the CA file must be one self-signed root (S10), checked before
  anything is sent.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from celltls.at.channel import ATChannel, Reply
from celltls.at.protocol import Final
from celltls.dialects.base import (
    Capabilities,
    CredentialKind,
    Dialect,
    NetworkStatus,
    RecvClock,
    SecureSocket,
    Signal,
    StoredCredential,
)
from celltls.dialects.xbee3 import catalog as cat
from celltls.dialects.xbee3 import frames as fr
from celltls.errors import (
    ATCommandError,
    ATProtocolError,
    ATTimeoutError,
    CellTLSError,
    CertificateVerifyError,
    ConnectionRefusedByServer,
    ConnectTimeoutError,
    CredentialError,
    DNSError,
    ModuleRebootedError,
    NetworkError,
    NetworkLostError,
    PortError,
    PortLostError,
    ProfileError,
    SocketError,
    TLSError,
    TLSNegotiationError,
    UnsafeArgumentError,
)
from celltls.tls import TlsProfile, TlsVersion, Verify
from celltls.tlsprobe import explain_failure

log = logging.getLogger(__name__)

Mode = Literal["unknown", "command", "escape", "api", "transparent"]
F = TypeVar("F", bound=fr.Frame)

#: Seconds added to the guard time on each side of ``+++`` (the host's timer is not exact).
GUARD_MARGIN = 0.1
#: Seconds to wait for a command-mode answer (xbee3.md S2 gives none; ``WR`` may take longer).
COMMAND_TIMEOUT = 3.0
#: Seconds to wait for a frame's answer in API mode.
FRAME_TIMEOUT = 10.0
#: Seconds of silence on the line after which a frame still incomplete in API mode is broken
#: (:meth:`celltls.dialects.xbee3.frames.FrameDecoder.settle`; xbee3.md S6) when it was found
#: by resynchronising after a loss (most likely a 0x7E inside frame data): a module writes a
#: frame in one go, and a USB serial adapter holds bytes back at most its latency timer
#: (16 ms), so this is far above any pause inside a healthy frame.
QUIET_LINE_S = 0.5
#: The same for a frame that began right after a good one: its delimiter is real, so it is
#: broken only when a good frame starts inside it (a garbled length swallowing the frames
#: after it), never for a pause of the line itself, however long (a serial link over a
#: network, a stalled adapter: ``FrameDecoder.settle``); given more time all the same, still
#: below the shortest answer timeout (3 s).
QUIET_FRAME_S = 2.0
#: Seconds the pump waits for bytes in one read (also how often it looks for a quiet line).
PUMP_READ_S = 0.2
#: Hardware series read by ``HS`` (xbee3.md S2, C3).
HARDWARE_SERIES = {"B01": "XBee Cellular LTE Cat 1 Verizon", "B02": "XBee Cellular 3G",
                   "B06": "XBee3 Cellular LTE Cat 1 AT&T", "B08": "XBee3 Cellular LTE-M/NB-IoT"}
#: IANA codes of the suites seen offered by an LTE-M/NB-IoT module (xbee3.md S10, L2).
CIPHER_SUITES = (0x0035, 0x003D)


def capabilities_for(model: str | None = None) -> Capabilities:
    """What an XBee 3 Cellular can do (both models alike as far as the sources go).

    Args:
        model: ``"lte-m"``, ``"cat1"`` or ``None``.

    Returns:
        Capabilities: TLS 1.2 (``TL`` codes unknown; XCTU shows "TLSv1.2", xbee3.md S10, L1),
        RSA key exchange suites (S10, L2), 3 profiles ``$0``-``$2`` (S10), 1500-byte frames
        (S6), transparent mode, no host-name check (S10: none documented, no SNI).
    """
    del model
    return Capabilities(
        tls_versions=(TlsVersion.TLS1_2,),
        cipher_suites=CIPHER_SUITES,
        cipher_selection="one-or-all",
        key_exchange="RSA key exchange (TLS_RSA_WITH_AES_256_CBC_SHA/SHA256 seen offered; no "
                     "ECDHE or DHE suites: xbee3.md S10, L2)",
        verify_modes=(Verify.SERVER, Verify.MUTUAL, Verify.NONE),
        # the socket count per variant is unknown (xbee3.md S14); 0xC0 status 0x32 says full
        secure_sockets=4,
        security_contexts=cat.TLS_PROFILES,
        max_send=cat.MAX_PAYLOAD,
        max_recv=cat.MAX_PAYLOAD,
        credential_limits={"flash": 1024 * 1024},
        transparent_mode=True,
        native_http=False,
        max_hostname=255,
        hostname_check=False,
        sources=("shared/reference/xbee3.md S3, S6, S8, S10",),
    )


@dataclass
class _Slot:
    """A frame answer being waited for."""

    event: threading.Event
    frame: fr.Frame | None = None


class XBee3(Dialect):
    """Driver of the Digi XBee 3 Cellular (LTE-M/NB-IoT and LTE Cat 1).

    Args:
        channel: the AT channel (kept in raw mode by this driver).
        probe_failures: after a failed TLS connection, probe the server from the host to say
            why (:func:`celltls.tlsprobe.explain_failure`).
        model: ``"lte-m"`` or ``"cat1"`` (capabilities are the same).
        transparent: make :meth:`tls_connect` use transparent mode (``IP`` 4 to ``DL``:``DE``)
            by default instead of API frames.
        escaped: use API mode 2 (``AP=2``, escaped bytes) instead of 1.
        guard_time: the module's ``GT`` in seconds (default 1 s, xbee3.md S2); raised to the
            value read from the module at :meth:`initialise` if that is longer.

    Raises:
        ProfileError: an option has a wrong value.
    """

    name = "xbee3"
    catalog = cat.CATALOG

    def __init__(self, channel: ATChannel, *, probe_failures: bool = True,
                 model: str | None = None, transparent: bool = False, escaped: bool = False,
                 guard_time: float | None = None) -> None:
        super().__init__(channel)
        if guard_time is not None and not 0.002 <= guard_time <= 10:
            raise ProfileError(f"guard_time {guard_time!r} s is outside 0.002-10 s")
        self.probe_failures = probe_failures
        self.model = model
        self.capabilities = capabilities_for(model)
        self.transparent = transparent
        #: plain TCP sockets (TLS on the host) exist in API mode only (xbee3.md S8)
        self.plain_tcp = not transparent
        self.api_mode = 2 if escaped else 1
        self.guard_time = guard_time if guard_time is not None else cat.DEFAULT_GT_MS / 1000
        self.command_timeout_s = cat.DEFAULT_CT_S
        self._mode: Mode = "unknown"
        self._ap: int | None = None
        self._cond = threading.Condition()
        self._text = bytearray()
        self._decoder = fr.FrameDecoder(escaped=escaped)
        self._last_rx = time.monotonic()  # when the pump last got bytes
        self._slots: dict[tuple[int, int], _Slot] = {}
        self._sockets: dict[int, XBeeSocket] = {}
        self._transparent_sock: TransparentSocket | None = None
        self._frame_id = 0
        self._dead: CellTLSError | None = None
        self._io = threading.RLock()  # one command-mode exchange or mode change at a time
        self._write_lock = threading.Lock()
        self._last_command = 0.0
        self._profiles: dict[int, str] = {}
        self._stray: set[int] = set()  # socket IDs already warned about
        self._stop = threading.Event()
        self.info: dict[str, str] = {}
        # xbee3.md S2/S6: nothing the module sends is a V.250 line; read every byte ourselves.
        if not channel.in_data_mode:
            channel.enter_data_phase()
        self._pump = threading.Thread(target=self._pump_loop, name="celltls-xbee3-pump",
                                      daemon=True)
        self._pump.start()

    # -- the byte pump -----------------------------------------------------------------------

    def _pump_loop(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.channel.read_raw(65536, PUMP_READ_S)
            except ATTimeoutError:
                try:
                    self._settle_if_quiet()
                except Exception:  # as below
                    log.exception("xbee3: could not settle the frame decoder")
                continue
            except PortError as exc:
                self._die(PortLostError(f"serial line lost: {exc}"))
                return
            if not data:
                self._die(PortLostError(f"port {self.channel.name} was closed"))
                return
            with self._cond:
                self._last_rx = time.monotonic()
            try:
                self._route(data)
            except Exception:  # a bug in routing must not stop the pump silently
                log.exception("xbee3: could not route %d bytes", len(data))

    def _settle_if_quiet(self) -> None:
        """In API mode, after :data:`QUIET_LINE_S` without a byte (:data:`QUIET_FRAME_S` when
        the frame began right after a good one, and then only when a good frame starts inside
        it), a frame still incomplete is reported broken and the real frames held behind it
        are dispatched (xbee3.md S6;
        :meth:`~celltls.dialects.xbee3.frames.FrameDecoder.settle`).

        Called by the pump after a read that timed out: every byte that came since the pump's
        last read would have been returned by it, so ``now - _last_rx`` is time the line was
        quiet, however long the pump itself was busy. A mode change that hands bytes back to the
        decoder feeds them under the same lock as it sets the mode (:meth:`_escape`), so bytes
        of a frame are never missing here while on their way.
        """
        with self._cond:
            decoder = self._decoder
            if self._mode != "api" or not decoder.pending:
                return
            quiet = QUIET_LINE_S if decoder.resynchronising else QUIET_FRAME_S
            if time.monotonic() - self._last_rx < quiet:
                return
            items = decoder.settle()
        for item in items:
            self._dispatch(item)

    def _die(self, error: CellTLSError) -> None:
        with self._cond:
            if self._dead is None and not self._stop.is_set():
                self._dead = error
            self._cond.notify_all()
        for sock in self._all_sockets():
            sock._fail(error)
        with self._cond:
            for slot in self._slots.values():
                slot.event.set()

    def _route(self, data: bytes) -> None:
        with self._cond:
            mode = self._mode
            if mode == "api":
                items = self._decoder.feed(data)
            elif mode == "transparent" and self._transparent_sock is not None:
                self._transparent_sock._on_data(data)
                return
            else:
                self._text += data
                self._cond.notify_all()
                return
        for item in items:
            self._dispatch(item)

    def _dispatch(self, item: bytes | fr.FrameError) -> None:
        if isinstance(item, fr.FrameError):
            self._frame_broken(item)
            return
        try:
            frame = fr.parse(item)
        except fr.FrameError as exc:
            self._frame_broken(exc)
            return
        if isinstance(frame, fr.UnknownFrame):
            log.debug("xbee3: skipping frame type 0x%02X (xbee3.md S6)", frame.frame_type)
            return
        if isinstance(frame, fr.ModemStatus):
            self._on_modem_status(frame.status)
            return
        if isinstance(frame, fr.SocketReceive):
            with self._cond:
                sock = self._sockets.get(frame.socket_id)
            if sock is None:
                level = logging.DEBUG if frame.socket_id in self._stray else logging.WARNING
                self._stray.add(frame.socket_id)
                log.log(level, "xbee3: %d bytes for socket %d, which is not open here (closed "
                        "or left by an earlier run): dropped", len(frame.payload),
                        frame.socket_id)
            else:
                sock._on_data(frame.payload)
            return
        if isinstance(frame, fr.SocketStatus):
            with self._cond:
                slot = self._slots.pop((fr.SocketStatus.TYPE, frame.socket_id), None)
                sock = (self._sockets.pop(frame.socket_id, None) if frame.status
                        else self._sockets.get(frame.socket_id))
            if slot is not None:
                slot.frame = frame
                slot.event.set()
            if sock is not None and slot is None:
                sock._on_status(frame.status)
            return
        frame_id = getattr(frame, "frame_id", None)
        if isinstance(frame_id, int):
            with self._cond:
                slot = self._slots.pop((frame.TYPE, frame_id), None)
            if slot is not None:
                slot.frame = frame
                slot.event.set()
                return
        log.debug("xbee3: unsolicited %r", frame)

    def _frame_broken(self, error: fr.FrameError) -> None:
        """A frame was lost: a socket's byte stream can no longer be trusted (xbee3.md S6)."""
        log.error("xbee3: %s", error)
        for sock in list(self._sockets.values()):
            sock._fail(fr.FrameError(f"a frame from the module was corrupted ({error}); the "
                                     f"data of socket {sock.sid} may be incomplete"))

    def _on_modem_status(self, status: int) -> None:
        meaning = cat.MODEM_STATUS.get(status, "unknown")
        log.info("xbee3: modem status 0x%02X (%s)", status, meaning)
        if status in cat.MODEM_RESET:
            error: CellTLSError = ModuleRebootedError(
                f"the module restarted (0x8A modem status 0x{status:02X}: {meaning}); its "
                "sockets are gone", urc=f"0x8A {status:02X}")
        elif status == 0x03:
            error = NetworkLostError(f"the module lost the cellular network (0x8A modem status "
                                     f"0x03: {meaning})", urc="0x8A 03")
        else:
            return
        with self._cond:
            socks = list(self._sockets.values())
            self._sockets.clear()
        for sock in socks:
            if status in cat.MODEM_RESET:
                sock._gone(error)
            else:
                sock._fail(error)

    def _all_sockets(self) -> list[SecureSocket]:
        with self._cond:
            socks: list[SecureSocket] = list(self._sockets.values())
            if self._transparent_sock is not None:
                socks.append(self._transparent_sock)
        return socks

    def _raise_if_dead(self) -> None:
        if self._dead is not None:
            raise self._dead

    def _write(self, data: bytes, *, secret: bool = False) -> None:
        self._raise_if_dead()
        with self._write_lock:
            self.channel.write_raw(data, secret=secret)

    # -- command mode (xbee3.md S2) --------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        """Where the line is now: ``"command"``, ``"api"``, ``"transparent"`` (or
        ``"unknown"`` before :meth:`initialise`)."""
        return self._mode

    def _set_mode(self, mode: Mode) -> None:
        with self._cond:
            self._mode = mode
            self._text.clear()
            if mode == "api":
                self._decoder = fr.FrameDecoder(escaped=self.api_mode == 2)

    def _wait_text(self, predicate: Callable[[bytearray], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self._text):
                self._raise_if_dead()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.2))
            return True

    def enter_command_mode(self) -> None:
        """Make sure the module is in command mode, entering it with guard time, ``+++``, guard
        time when needed (xbee3.md S2; D5), from API, transparent or an unknown mode.

        Bytes that arrive before the ``OK`` go where they belonged (the transparent connection
        or the frame decoder).

        Raises:
            ATTimeoutError: no ``OK`` (wrong baud rate ``BD``, another ``CC``, or a module that
                stopped answering ``+++``: xbee3.md S13 items 13, 16).
            PortLostError: the serial line is gone.
        """
        with self._io:
            idle = time.monotonic() - self._last_command
            if self._mode == "command" and idle < self.command_timeout_s * 0.7:
                return
            guards = [self.guard_time]
            if self.guard_time < cat.DEFAULT_GT_MS / 1000:
                guards.append(cat.DEFAULT_GT_MS / 1000)  # the module's default GT
            for guard in guards:
                if self._escape(guard):
                    return
            # Already in command mode (a "+++" there is just text): end that line and ask.
            self._set_mode("command")
            self._write(b"\rAT\r")
            if self._wait_text(lambda t: b"OK\r" in t, COMMAND_TIMEOUT):
                self._set_mode("command")
                self._last_command = time.monotonic()
                return
            raise ATTimeoutError(
                "+++ (escape sequence): the module did not answer OK; check the baud rate (BD, "
                "xbee3.md S2), the command character CC and the guard time GT",
                guards[-1] * 2 + 2 * GUARD_MARGIN + 2.0)

    def _escape(self, guard: float) -> bool:
        prior = self._mode
        with self._cond:
            self._mode = "escape"
            leftover = bytes(self._text)
            self._text.clear()
        if prior in ("command", "unknown") and leftover:
            log.debug("xbee3: dropping %r before +++", leftover)
        time.sleep(guard + GUARD_MARGIN)
        self._write(bytes((cat.DEFAULT_CC,)) * 3)
        ok = self._wait_text(lambda t: t.endswith(b"OK\r"), guard + GUARD_MARGIN + 1.0)
        items: list[bytes | fr.FrameError] = []
        with self._cond:
            before = bytes(self._text[:-3]) if ok else bytes(self._text)
            self._text.clear()
            self._mode = "command" if ok else prior
            if before and prior == "api":  # in the same lock: see _settle_if_quiet
                items = self._decoder.feed(before)
        if before and prior != "api":
            self._hand_back(prior, before)
        for item in items:
            self._dispatch(item)
        if ok:
            self._last_command = time.monotonic()
        return ok

    def _hand_back(self, prior: Mode, data: bytes) -> None:
        """Bytes that came between ``+++`` and its ``OK`` belong to the mode left (API mode:
        fed to the decoder by :meth:`_escape` itself)."""
        if prior == "transparent" and self._transparent_sock is not None:
            self._transparent_sock._on_data(data)
        else:
            log.debug("xbee3: dropping %r around +++", data)

    def command(self, line: str, *, timeout: float = COMMAND_TIMEOUT, secret: bool = False,
                lines: int = 1) -> list[str]:
        """Send one command-mode line and return its answer lines (xbee3.md S2).

        Args:
            line: the line without its CR, built by
                :func:`~celltls.dialects.xbee3.catalog.command_line` or ``fs_line``.
            timeout: seconds to wait for the answer.
            secret: the line holds a secret (only its name is traced and logged).
            lines: answer lines to wait for; 0 = until a blank line (``ATFS LS``, ``ATSI``).

        Returns:
            list[str]: the answer lines, CR removed (``["OK"]``, ``["1BB"]``).

        Raises:
            ATCommandError: the module answered ``ERROR`` or an ATFS ``E...`` line.
            ATTimeoutError: no answer within ``timeout``.
            UnsafeArgumentError: the line holds a character that cannot be sent.
        """
        try:
            raw = line.encode("ascii")
        except UnicodeEncodeError:
            raise UnsafeArgumentError("command", line[:2], "non-ASCII text") from None
        if any(b < 0x20 for b in raw):
            raise UnsafeArgumentError("command", line[:4], "a control character")
        shown = line[:4] + " ***" if secret else line
        with self._io:
            self.enter_command_mode()
            with self._cond:
                self._text.clear()
            self._write(raw + cat.CR, secret=secret)
            answer = self._read_lines(lines, timeout)
            self._last_command = time.monotonic()
        if answer is None:
            raise ATTimeoutError(shown, timeout)
        log.debug("xbee3: %s -> %r", shown, answer)
        last = answer[-1] if answer else ""
        if last == cat.ERROR or (line.startswith("ATFS") and cat.fs_error(last)):
            raise ATCommandError(shown, answer, kind="ERROR",
                                 meaning="refused: a bad command or value (xbee3.md S2, S5)")
        return answer

    def _read_lines(self, count: int, timeout: float) -> list[str] | None:
        def done(text: bytearray) -> bool:
            if count == 0:
                return b"\r\r" in text.replace(b"\n", b"") or text.replace(b"\n", b"") == b"\r"
            # an empty value is a line too ("\r": ATAN with no APN set); LF is not XBee's
            return text.replace(b"\n", b"").count(b"\r") >= count
        if not self._wait_text(done, timeout):
            return None
        with self._cond:
            text = bytes(self._text)
            self._text.clear()
        if bytes((cat.FRAME_DELIMITER,)) in text and self._sockets:
            # API frames while in command mode: a socket's data may be lost; say so (S6)
            self._frame_broken(fr.FrameError("API frames arrived while the module was in "
                                             "command mode"))
        parts = text.replace(b"\n", b"").split(b"\r")
        out = [p.decode("ascii", errors="replace").strip() for p in parts]
        while out and out[-1] == "":
            out.pop()
        if count:
            out = [p for p in out if p] or [""]
        return out

    def at(self, name: str, args: str = "", *, check: bool = True,
           **overrides: object) -> Reply:
        """``AT<name><args>`` in command mode, XBee style (no ``=``: xbee3.md S2), for code
        written against :meth:`Dialect.at`: ``args`` is checked by the catalog parameter
        (hex parameters take hex text, ``"1BB"``); a read answers its value in
        ``Reply.lines`` with a final ``OK`` made up (the module sends none), a set its
        ``OK``. ``overrides`` other than ``timeout`` are not applicable and refused.

        Raises:
            KeyError: not a catalog parameter. ProfileError: an inapplicable override.
            ParamError: a bad value. ATCommandError: ``ERROR`` (when ``check``).
            ATTimeoutError: no answer.
        """
        unknown = set(overrides) - {"timeout"}
        if unknown:
            raise ProfileError(f"xbee3 command mode has no {', '.join(sorted(unknown))}")
        given = overrides.get("timeout", COMMAND_TIMEOUT)
        timeout = float(given) if isinstance(given, int | float) else COMMAND_TIMEOUT
        param = cat.parameter(name)
        value: int | str | None = None
        if args:
            value = int(args, 16) if param.kind == "hex" else args
        line = cat.command_line(param.name, value)
        reply = Reply(line)
        try:
            answer = self.command(line, timeout=timeout)
        except ATCommandError as exc:
            if check:
                raise
            reply.lines = exc.response[:-1]
            reply.final = Final(exc.response[-1] if exc.response else cat.ERROR, False, "ERROR")
            return reply
        if answer == [cat.OK]:
            reply.final = Final(cat.OK, True, "OK")
        else:
            reply.lines = answer
            reply.final = Final(cat.OK, True, "VALUE")
        return reply

    def leave_command_mode(self) -> None:
        """``ATCN``: back to the mode ``AP`` says (xbee3.md S2, D1p p.123).

        Raises:
            ATCommandError, ATTimeoutError: as :meth:`command`.
        """
        with self._io:
            if self._mode != "command":
                return
            self.command("ATCN")
            target: Mode = "api" if self._ap in (1, 2) else "transparent"
            self._set_mode(target)

    def read(self, name: str) -> str:
        """Read a parameter in command mode: the value as the module writes it (hex without
        ``0x`` for numbers: xbee3.md S2).

        Raises:
            KeyError: not a catalog parameter. ATCommandError, ATTimeoutError: see
            :meth:`command`.
        """
        return self.command(cat.command_line(name))[0]

    def read_hex(self, name: str) -> int:
        """Read a hexadecimal parameter (``AI``, ``CI``, ``AP``...).

        Raises:
            ATProtocolError: the answer is not hexadecimal. Others: see :meth:`read`.
        """
        text = self.read(name)
        try:
            return int(text, 16)
        except ValueError:
            raise ATProtocolError(f"AT{name} answered {text!r}, not a hex number") from None

    def write(self, name: str, value: int | str, *, secret: bool = False) -> None:
        """Set a parameter in command mode (``ATDE1BB``); the value is checked by the catalog
        before anything is written (xbee3.md S2, S3).

        Raises:
            ParamError: (UnsafeArgumentError) the value does not fit the parameter.
            ATCommandError: ``ERROR``. ATTimeoutError: no answer.
        """
        line = cat.command_line(name, value)
        answer = self.command(line, secret=secret)
        if answer[-1] != cat.OK:
            raise ATProtocolError(f"AT{name}: expected OK, got {answer!r}")
        if name.upper() == "CT" and isinstance(value, int) and value > 0:
            # the new command-mode timeout counts from when it is applied (ATCN/AC); until
            # then the shorter of the two is assumed
            self.command_timeout_s = min(self.command_timeout_s, value * cat.CT_UNIT_S)

    # -- API frames (xbee3.md S6-S8) -----------------------------------------------------------

    def _next_frame_id(self) -> int:
        with self._cond:
            for _ in range(255):
                self._frame_id = self._frame_id % 255 + 1
                if not any(key[1] == self._frame_id and key[0] != fr.SocketStatus.TYPE
                           for key in self._slots):
                    return self._frame_id
        raise SocketError("no free API frame ID (255 requests pending)")

    def ensure_api_mode(self) -> None:
        """Bring the module to API mode ``api_mode`` (``ATAP``, ``ATCN``) (xbee3.md S3 AP).

        Raises:
            ATCommandError, ATTimeoutError: the module refused or did not answer.
        """
        with self._io:
            if self._mode == "api" and self._ap == self.api_mode:
                return
            self.enter_command_mode()
            if self._ap != self.api_mode:
                self._close_transparent_quietly()
                self.write("AP", self.api_mode)
                self._ap = self.api_mode
            self.leave_command_mode()

    def request(self, build: Callable[[int], fr.Frame], answer: type[F], *,
                timeout: float = FRAME_TIMEOUT, key: int | None = None,
                poll: float | None = None) -> F:
        """Send one API frame and wait for its answer.

        Args:
            build: makes the frame from a fresh frame ID.
            answer: the answer's frame class (matched by type and frame ID).
            timeout: seconds.
            key: match the answer on this value instead of the frame ID (0xCF: socket ID).
            poll: for a long ``timeout``: every ``poll`` seconds without the answer, ask the
                module whether it is still there in API mode (:meth:`check_alive`): one that
                restarted in AP 0 takes frames for transparent data and never answers
                (xbee3.md S4).

        Raises:
            ATTimeoutError: no answer within ``timeout``.
            ModuleRebootedError: (with ``poll``) the module restarted while the answer was
                waited for.
            PortLostError: the line is gone.
        """
        self.ensure_api_mode()
        frame_id = self._next_frame_id()
        slot = _Slot(threading.Event())
        with self._cond:
            self._slots[(answer.TYPE, frame_id if key is None else key)] = slot
        frame = build(frame_id)
        try:
            self._write(fr.encode(frame, escaped=self.api_mode == 2))
            deadline = time.monotonic() + timeout
            while not slot.event.wait(min(poll or timeout, deadline - time.monotonic())):
                if poll is None or time.monotonic() >= deadline:
                    raise ATTimeoutError(
                        f"API frame 0x{frame.TYPE:02X} (no 0x{answer.TYPE:02X})", timeout)
                self.check_alive()
        finally:
            with self._cond:
                self._slots.pop((answer.TYPE, frame_id if key is None else key), None)
        self._raise_if_dead()
        if not isinstance(slot.frame, answer):
            raise ATProtocolError(f"API frame 0x{frame.TYPE:02X} answered {slot.frame!r}")
        return slot.frame

    def at_frame(self, name: str, value: int | str | None = None) -> bytes:
        """Read (``value`` ``None``) or set a parameter with frame 0x08 (xbee3.md S7): values
        binary (hex parameters big-endian, text ASCII).

        Returns:
            bytes: the value read (empty for a set).

        Raises:
            ATCommandError: status 1-3 (ERROR, invalid command, invalid parameter).
            ParamError: the value does not fit the parameter (nothing is sent).
        """
        param = cat.parameter(name)
        data = b"" if value is None else cat.binary_value(name, value)
        reply = self.request(lambda fid: fr.ATCommand(fid, param.name, data), fr.ATResponse)
        status = reply.status & 0x0F
        if status:
            shown = f"0x08 AT{param.name}" + ("" if value is None else " <value>")
            raise ATCommandError(shown, [f"0x88 status {status}"], kind="ERROR", code=status,
                                 meaning=cat.AT_STATUS.get(status, "unknown"))
        return reply.value

    def check_alive(self) -> None:
        """Ask the module for ``AI`` with frame 0x08; with no answer, find out why in command
        mode: ``AP`` no longer what this driver set means the module restarted (``AP`` is not
        written to flash with ``WR``; a restart in API mode also sends 0x8A 0x00: xbee3.md S4).

        Raises:
            ModuleRebootedError: the module restarted; every socket is failed with it.
            ATTimeoutError: the module answers neither frames nor ``+++``.
        """
        try:
            self.request(lambda fid: fr.ATCommand(fid, "AI"), fr.ATResponse, timeout=3.0)
            return
        except ATTimeoutError:
            log.warning("xbee3: no answer to an API frame; checking the module in command mode")
        with self._io:
            self._set_mode("unknown")
            self.enter_command_mode()
            ap = self.read_hex("AP")
            self._ap = ap
            if ap == self.api_mode:
                raise ATTimeoutError("API frame 0x08 AI (the module answers in command mode "
                                     "only)", 3.0)
            error = ModuleRebootedError(
                f"the module restarted: it stopped answering API frames and AP reads {ap}, not "
                f"the {self.api_mode} set by this driver; its sockets are gone",
                urc=f"ATAP {ap}")
            with self._cond:
                socks = list(self._sockets.values())
                self._sockets.clear()
            for sock in socks:
                sock._gone(error)
            raise error

    # -- parameters whichever the mode -------------------------------------------------------

    def get_param(self, name: str) -> str:
        """A parameter's value as command mode writes it (hex text for numbers), read with
        frame 0x08 in API mode and in command mode otherwise.

        Raises:
            ATCommandError, ATTimeoutError: refused or no answer.
        """
        if self._mode == "api":
            raw = self.at_frame(name)
            if cat.parameter(name).kind == "hex":
                return format(int.from_bytes(raw, "big"), "X") if raw else "0"
            return raw.decode("ascii", errors="replace")
        return self.read(name)

    def set_param(self, name: str, value: int | str, *, apply: bool = True) -> None:
        """Set a parameter (0x08 and ``AC`` in API mode; ``AT<name><value>`` otherwise, applied
        on ``ATCN``) (xbee3.md S2 "Applying").

        Raises:
            ParamError: the value does not fit (nothing sent). ATCommandError, ATTimeoutError.
        """
        if self._mode == "api":
            self.at_frame(name, value)
            if apply:
                self.at_frame("AC")
            return
        self.write(name, value)

    # -- start-up and recovery ---------------------------------------------------------------

    def initialise(self) -> dict[str, str]:
        """Find the module whatever mode an earlier run left it in, identify it, and leave it
        in the mode this driver works in with nothing open (xbee3.md S2, S8, S9).

        Steps: command mode (``+++``), ``AP``, ``GT``, ``CT``, ``HS``, ``VR``, ``IM``; then
        for API mode ``ATAP<n>``, ``ATCN`` and frame 0x43 socket 0xFF (close every extended
        socket); for transparent mode a live connection (``OD`` not 0.0.0.0) is closed by
        writing ``TM`` back (xbee3.md S9, C3) and ``AP`` set to 0.

        Returns:
            dict: ``manufacturer``, ``model``, ``firmware``, ``imei`` (when read).

        Raises:
            ATTimeoutError: the module does not answer ``+++``.
        """
        self.enter_command_mode()
        self._ap = self.read_hex("AP")
        with contextlib.suppress(ATCommandError, ATProtocolError, ATTimeoutError):
            gt = self.read_hex("GT") / 1000
            if gt > self.guard_time:
                log.info("xbee3: the module's guard time GT is %.3f s; using it", gt)
                self.guard_time = gt
        with contextlib.suppress(ATCommandError, ATProtocolError, ATTimeoutError):
            ct = self.read_hex("CT") * cat.CT_UNIT_S
            if ct > 0:
                self.command_timeout_s = ct
        info = {"manufacturer": "Digi"}
        for key, name in (("series", "HS"), ("firmware", "VR"), ("hardware", "HV"),
                          ("imei", "IM")):
            with contextlib.suppress(ATCommandError, ATTimeoutError):
                info[key] = self.read(name)
        info["model"] = HARDWARE_SERIES.get(info.get("series", "").upper(),
                                            info.get("series", "XBee 3 Cellular"))
        self.info = info
        self.recover()
        return info

    def recover(self) -> None:
        """Close what an earlier run left open and rest in the working mode (see
        :meth:`initialise`).

        Raises:
            ATCommandError, ATTimeoutError: the module refused or did not answer.
        """
        with self._io:
            self.enter_command_mode()
            self._close_transparent_quietly()
            if self.transparent:
                if self._ap != 0:
                    self.write("AP", 0)
                    self._ap = 0
                self.leave_command_mode()
                return
            self.ensure_api_mode()
            reply = self.request(lambda fid: fr.SocketClose(fid, cat.ALL_SOCKETS),
                                 fr.SocketCloseResponse)
            log.info("xbee3: closed every extended socket (0x43 0xFF: status 0x%02X)",
                     reply.status)

    def _close_transparent_quietly(self) -> None:
        """In command mode: close a transparent connection if ``OD`` shows one, by writing
        ``TM`` back unchanged (xbee3.md S9, S13 item 12)."""
        try:
            destination = self.read("OD")
            if destination in ("", "0.0.0.0"):
                return
            log.info("xbee3: closing the transparent connection to %s", destination)
            self.write("TM", self.read_hex("TM"))
        except (ATCommandError, ATProtocolError, ATTimeoutError) as exc:
            log.info("xbee3: could not check for a transparent connection (%s)", exc)

    def close_all(self) -> None:
        """Close every socket this driver opened, then stop reading; never raises."""
        for sock in self._all_sockets():
            with contextlib.suppress(CellTLSError):
                sock.close()
        self._stop.set()

    # -- network -----------------------------------------------------------------------------

    def registration(self) -> tuple[int, str]:
        """``AI`` and its meaning (xbee3.md S4), in place of ``+CGREG``.

        Raises:
            ATCommandError, ATTimeoutError, ATProtocolError.
        """
        value = int(self.get_param("AI"), 16)
        return value, cat.AI_STATUS.get(value, "unknown")

    def attach(self, apn: str, user: str | None = None, password: str | None = None,
               timeout: float = 120.0) -> NetworkStatus:
        """Set ``AN`` when it differs, then wait for ``AI`` 0x00 (xbee3.md S3, S4).

        Raises:
            ProfileError: APN user or password given (``CU``/``CW`` are not documented enough
                to set: xbee3.md S2).
            UnsafeArgumentError: the APN cannot be sent.
            NetworkError: registration denied, the modem off, airplane or Bypass mode, or
                not connected within ``timeout`` seconds.
        """
        if user or password:
            raise ProfileError("xbee3: APN user and password (CU/CW) are not supported by this "
                               "driver (xbee3.md S2 lists them without format)")
        cat.command_line("AN", apn)  # checked before the first byte
        if not self.transparent:
            self.ensure_api_mode()
        if self.get_param("AN") != apn:
            self.set_param("AN", apn)
            if self._mode == "command":
                self.leave_command_mode()
        deadline = time.monotonic() + timeout
        while True:
            ai, meaning = self.registration()
            if ai == 0:
                break
            if ai not in cat.AI_TRANSIENT:
                raise NetworkError(f"no Internet: AI 0x{ai:02X} ({meaning}) (xbee3.md S4)")
            if time.monotonic() > deadline:
                raise NetworkError(f"not connected after {timeout:g} s: AI 0x{ai:02X} "
                                   f"({meaning})")
            time.sleep(1.0)
        address: str | None = None
        with contextlib.suppress(ATCommandError, ATTimeoutError):
            if self._mode == "api":
                raw = self.at_frame("MY")  # binary in API mode, like OD (xbee3.md S2)
                address = ".".join(str(b) for b in raw) if len(raw) == 4 else raw.decode(
                    "ascii", errors="replace")
            else:
                address = self.get_param("MY")
        if self._mode == "command":
            self.leave_command_mode()
        return NetworkStatus(True, (0, "AI 0x00: connected to the Internet"), address, apn)

    def signal(self) -> Signal:
        """``DB`` (received signal, -dBm, xbee3.md S2) as a :class:`Signal` (``rssi``/``ber``
        99: not reported).

        Raises:
            ATCommandError, ATTimeoutError.
        """
        db = int(self.get_param("DB"), 16)
        return Signal(99, -db if db else None, 99)

    # -- files (xbee3.md S5) ---------------------------------------------------------------------

    def _fs(self, sub: str, *args: str, lines: int = 1, timeout: float = 10.0) -> list[str]:
        return self.command(cat.fs_line(sub, *args), lines=lines, timeout=timeout)

    def file_hash(self, path: str) -> str | None:
        """``ATFS HASH``: the file's SHA-256 in lower-case hex, ``None`` when the module
        answers an error (no such file, a secure file) (xbee3.md S5, C1).

        Raises:
            ParamError: bad path. ATTimeoutError: no answer.
        """
        for attempt in range(2):
            try:
                answer = self._fs("HASH", path)
            except ATCommandError:
                return None
            found = cat.FS_HASH.search(" ".join(answer))
            if found:
                return found.group(1).lower()
            # A line left over from what came before (the tail of an upload's result) took the
            # place of the answer: let the line settle, drop what is there, and ask again (a
            # query, safe to repeat).
            if attempt == 0:
                log.info("ATFS HASH %s answered %r: asking again", path, answer)
                self._settle()
                with self._cond:
                    self._text.clear()
        return None

    def list_files(self, directory: str = cat.CERT_DIR) -> dict[str, int | None]:
        """``ATFS LS``: names -> size in bytes (``None`` for directories) (xbee3.md S5).

        Raises:
            ATCommandError: no such directory. ATTimeoutError: no answer.
        """
        out: dict[str, int | None] = {}
        for line in self._fs("LS", directory, lines=0):
            size, _, name = line.strip().partition(" ")
            if not name:
                continue
            out[name.strip()] = None if size == "<DIR>" else int(size) if size.isdigit() else None
        return out

    def store_credential(self, kind: CredentialKind, data: bytes,
                         name: str | None = None) -> StoredCredential:
        """Store a certificate or key as a file in ``/flash/cert`` (keys as secure files with
        ``ATFS XPUT``), skipped when ``ATFS HASH`` shows the same content (xbee3.md S5).

        Args:
            kind: ``"ca"``, ``"client_cert"`` or ``"client_key"``.
            data: PEM; a key is converted to unencrypted PKCS#1 RSA, the only form the module
                takes (xbee3.md S10, D3 p.101).
            name: file name in ``/flash/cert``; default ``<kind>-<sha256 prefix>.pem``.

        Raises:
            CredentialError: not PEM, a non-RSA key, refused by the module, or stored with a
                different SHA-256.
            ParamError: a name that breaks the file-name rules (xbee3.md S5).
        """
        if kind == "client_key":
            data = _pkcs1(data)
        elif b"-----BEGIN CERTIFICATE-----" not in data:
            raise CredentialError(f"{kind} is not a PEM certificate")
        digest = hashlib.sha256(data).hexdigest()
        name = name or f"{kind.replace('_', '-')}-{digest[:16]}.pem"
        cat.check_path(name, "name")
        path = f"{cat.CERT_DIR}/{name}"
        secret = kind == "client_key"
        with self._io:
            back_to_api = self._mode == "api"
            try:
                if self.file_hash(path) == digest:
                    return StoredCredential(name, kind, len(data), digest, False)
                with contextlib.suppress(ATCommandError):
                    self._fs("MD", cat.CERT_DIR)
                with contextlib.suppress(ATCommandError):
                    self._fs("RM", path)
                self._upload(path, data, secure=secret)
                stored = self.file_hash(path)
                if stored is not None and stored != digest:
                    raise CredentialError(f"{path} was stored corrupted: SHA-256 {stored}, "
                                          f"sent {digest}")
                if stored is None and not secret:
                    raise CredentialError(f"{path}: ATFS HASH gives no digest after the upload")
            finally:
                if back_to_api and self._mode == "command":
                    self.leave_command_mode()
        return StoredCredential(name, kind, len(data), digest, True)

    def delete_credential(self, name: str) -> None:
        """``ATFS RM /flash/cert/<name>`` (xbee3.md S5).

        Raises:
            ATCommandError: the module refused (no such file). ParamError: a bad name.
        """
        cat.check_path(name, "name")
        with self._io:
            back_to_api = self._mode == "api"
            try:
                self._fs("RM", f"{cat.CERT_DIR}/{name}")
            finally:
                if back_to_api and self._mode == "command":
                    self.leave_command_mode()

    def _upload(self, path: str, data: bytes, *, secure: bool) -> None:
        """``ATFS PUT``/``XPUT`` then a YMODEM batch of one file (xbee3.md S5, as C1 drives it):
        block 0 (name, NUL, size), 1024-byte STX blocks padded with 0x1A (a last piece under
        128 bytes as a SOH block), CRC-16/XMODEM, ACK per block, EOT, then an empty block 0.

        Not the PyPI ``xmodem`` package: its 0.5.0 has no YMODEM batch header, so block 0 and
        the ending would be ours anyway, and it would be a new run-time dependency.

        Raises:
            CredentialError: the module refused the file or cancelled (CAN), or a block was
                not acknowledged after retries.
            ATTimeoutError: the module did not start the transfer.
        """
        line = cat.fs_line("XPUT" if secure else "PUT", path)
        with self._io:
            self.enter_command_mode()
            with self._cond:
                self._text.clear()
            self._write(line.encode("ascii") + cat.CR)
            if not self._wait_text(lambda t: t.endswith(b"C") or _fs_error(t) is not None,
                                   10.0):
                raise ATTimeoutError(f"{line} (no YMODEM 'C')", 10.0)
            with self._cond:
                error = _fs_error(self._text)
            if error:
                raise CredentialError(f"{line} refused: {error} (xbee3.md S5)")
            name = path.rsplit("/", 1)[-1].encode("ascii")
            header = name + b"\0" + str(len(data)).encode() + b" " + \
                format(int(time.time()), "o").encode()
            self._block(0, header, secret=False)
            self._wait_byte({cat.CRC_MODE}, 3.0, required=False)
            sequence = 1
            for start in range(0, len(data), cat.YMODEM_BLOCK):
                self._block(sequence, data[start : start + cat.YMODEM_BLOCK], secret=secure)
                sequence += 1
            for _attempt in range(3):
                self._write(bytes((cat.EOT,)))
                got = self._wait_byte({cat.ACK, cat.NAK, cat.CAN}, 10.0)
                if got == cat.ACK:
                    break
                if got == cat.CAN:
                    raise CredentialError(f"{line}: the module cancelled the transfer")
            self._wait_byte({cat.CRC_MODE}, 3.0, required=False)
            self._block(0, b"", secret=False)
            self._last_command = time.monotonic()
            # the result line (xbee3.md S5: an E... line on failure)
            self._wait_text(lambda t: bool(_complete_lines(t)), 2.0)
            self._settle()  # the rest of that line and its ending
            with self._cond:
                error = _fs_error(self._text)
                self._text.clear()
            if error:
                raise CredentialError(f"{line} failed: {error} (xbee3.md S5)")

    def _settle(self, quiet: float = 0.15, limit: float = 2.0) -> None:
        """Wait until the module has sent nothing new for ``quiet`` seconds (at most
        ``limit``), so that the tail of an answer is not taken for the next one's."""
        deadline = time.monotonic() + limit
        with self._cond:
            size = len(self._text)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            with self._cond:
                if len(self._text) == size:
                    return
                size = len(self._text)

    def _block(self, sequence: int, payload: bytes, *, secret: bool) -> None:
        size = cat.YMODEM_SHORT_BLOCK if len(payload) <= cat.YMODEM_SHORT_BLOCK \
            else cat.YMODEM_BLOCK
        pad = 0 if sequence == 0 else cat.YMODEM_PAD
        body = payload.ljust(size, bytes((pad,)))
        block = bytes((cat.SOH if size == cat.YMODEM_SHORT_BLOCK else cat.STX,
                       sequence & 0xFF, 0xFF - (sequence & 0xFF))) + body + \
            binascii.crc_hqx(body, 0).to_bytes(2, "big")
        for _attempt in range(10):
            with self._cond:
                self._text.clear()
            self._write(block, secret=secret)
            got = self._wait_byte({cat.ACK, cat.NAK, cat.CAN}, 15.0)
            if got == cat.ACK:
                return
            if got == cat.CAN:
                raise CredentialError(f"YMODEM block {sequence}: the module cancelled")
        raise CredentialError(f"YMODEM block {sequence} not acknowledged after 10 tries")

    def _wait_byte(self, wanted: set[int], timeout: float, *, required: bool = True) -> int | None:
        found: list[int] = []

        def seen(text: bytearray) -> bool:
            for index, byte in enumerate(text):
                if byte in wanted:
                    found.append(byte)
                    del text[: index + 1]
                    return True
            return False

        if self._wait_text(seen, timeout):
            return found[0]
        if required:
            raise CredentialError(f"YMODEM: no answer within {timeout:g} s")
        return None

    # -- TLS ------------------------------------------------------------------------------------

    def _check_profile(self, profile: TlsProfile) -> None:
        caps = self.capabilities
        if not profile.versions(caps.tls_versions):
            raise ProfileError("xbee3 speaks TLS 1.2 only as far as documented (TL codes are "
                               "unknown, xbee3.md S10); the profile excludes it")
        if profile.cipher_suites is not None:
            raise ProfileError("xbee3 has no setting for cipher suites (xbee3.md S10); leave "
                               "TlsProfile.cipher_suites unset")
        if (profile.verify is not Verify.NONE and profile.ca is not None
                and not profile.ca.is_self_signed):
            raise ProfileError(
                f"the XBee trusts exactly one self-signed root CA per file (xbee3.md S10, "
                f"D3 p.100-101); {profile.ca.subject} is issued by {profile.ca.issuer}: "
                "give the root at the top of the server's chain")

    def _profile_files(self, profile: TlsProfile) -> str:
        """Store what ``profile`` needs and return the ``$n`` value ``ca;cert;key``."""
        ca = cert = key = ""
        if profile.verify is not Verify.NONE and profile.ca is not None:
            ca = self.store_credential("ca", profile.ca.pem).name
        if profile.verify is Verify.MUTUAL and profile.client_cert and profile.client_key:
            cert = self.store_credential("client_cert", profile.client_cert.pem).name
            key = self.store_credential("client_key", profile.client_key.pem).name
        return f"{ca};{cert};{key}"

    def _apply_profile(self, value: str, *, transparent: bool) -> int:
        """Put ``value`` in a free ``$n`` (``$0`` for transparent mode, xbee3.md S10) and
        return ``n``."""
        in_use = {sock.profile_index for sock in list(self._sockets.values())}
        choices = [0] if transparent else [n for n in range(cat.TLS_PROFILES)]
        for index in choices:
            if self._profiles.get(index) == value:
                return index
        for index in choices:
            if index in in_use:
                continue
            current = self._profiles.get(index)
            if current is None:
                with contextlib.suppress(ATCommandError):
                    current = self.get_param(f"${index}")
            if current != value:
                self.set_param(f"${index}", value)
            self._profiles[index] = value
            return index
        raise SocketError("every TLS profile ($0-$2) is in use by an open socket with other "
                          "credentials; close one first")

    def tls_connect(self, host: str, port: int, profile: TlsProfile, *, timeout: float = 90.0,
                    transparent: bool = False) -> SecureSocket:
        """Store the profile's files, set a ``$n`` and open a TLS connection: extended socket
        frames in API mode, ``IP``/``DL``/``DE`` in transparent mode (xbee3.md S8, S9).

        Raises:
            ProfileError: the module cannot do the profile (versions, suites, a CA that is not
                a self-signed root).
            UnsafeArgumentError: the host cannot be sent.
            CertificateVerifyError, TLSHandshakeError, TLSNegotiationError: the handshake
                failed (cause found by probing from the host when ``probe_failures``).
            DNSError, ConnectionRefusedByServer, ConnectTimeoutError, NetworkError: the
                connection failed.
            SocketError: no free socket.
        """
        self._check_destination(host, port)
        self._check_profile(profile)
        profile.warn_if_insecure("xbee3 TLS")
        use_transparent = transparent or self.transparent
        with self._io:
            files = self._profile_files(profile)
            if use_transparent:
                return self._connect_transparent(host, port, profile, files)
            index = self._apply_profile(files, transparent=False)
        return self._connect_api(host, port, profile, index, timeout)

    def tcp_connect(self, host: str, port: int, *, timeout: float = 90.0) -> SecureSocket:
        """A plain TCP extended socket (0x40 create with protocol 1 TCP, then 0x42 connect;
        xbee3.md S8), for TLS on the host (:mod:`celltls.hosttls`): TLS 1.3, host-name checks
        and today's cipher suites, which the module's own TLS lacks (xbee3.md S10).

        Raises:
            ProfileError: the driver runs in transparent mode (API frames only).
            UnsafeArgumentError: the host or port cannot be sent.
            DNSError, ConnectionRefusedByServer, ConnectTimeoutError, NetworkError,
                SocketError: the connection failed (0xCF status, xbee3.md S8).
        """
        if self.transparent:
            raise ProfileError("plain TCP sockets need the XBee API mode; this driver runs "
                               "in transparent mode (--transparent): use the module's TLS")
        self._check_destination(host, port)
        return self._connect_api(host, port, None, -1, timeout)

    def _check_destination(self, host: str, port: int) -> None:
        """The server's host and port, checked before the first byte is written.

        Raises:
            UnsafeArgumentError: a port outside 1-65535, or a host ``DL`` cannot carry.
        """
        if not 1 <= port <= 0xFFFF:
            raise UnsafeArgumentError("port", str(port), "must be 1-65535")
        cat.command_line("DL", host)
        if len(host) > self.capabilities.max_hostname:
            raise UnsafeArgumentError("host", host, "longer than 255 bytes")

    def _connect_api(self, host: str, port: int, profile: TlsProfile | None, index: int,
                     timeout: float) -> XBeeSocket:
        """An extended socket: TLS with profile ``$index``, or plain TCP when ``profile`` is
        ``None`` (``index`` -1)."""
        protocol = cat.IP_TCP if profile is None else cat.IP_TLS
        created = self.request(lambda fid: fr.SocketCreate(fid, protocol),
                               fr.SocketCreateResponse)
        if created.status or created.socket_id == 0xFF:
            raise _create_error(created.status)
        sid = created.socket_id
        sock = XBeeSocket(self, sid, host, port, index)
        with self._cond:
            self._sockets[sid] = sock
        try:
            option = None if profile is None else self.request(
                lambda fid: fr.SocketOption(fid, sid, cat.OPTION_TLS_PROFILE, bytes((index,))),
                fr.SocketOptionResponse)
            if option is not None and option.status:
                raise ProfileError(f"TLS profile ${index} refused on socket {sid}: 0xC1 status "
                                   f"0x{option.status:02X} "
                                   f"({cat.OPTION_STATUS.get(option.status, 'unknown')})")
            slot = _Slot(threading.Event())
            with self._cond:
                self._slots[(fr.SocketStatus.TYPE, sid)] = slot
            try:
                started = self.request(
                    lambda fid: fr.SocketConnect(fid, sid, port, cat.ADDRESS_NAME,
                                                 host.encode("ascii")),
                    fr.SocketConnectResponse)
                if started.status:
                    meaning = cat.CONNECT_STATUS.get(started.status, "unknown")
                    raise SocketError(f"connect to {host}:{port} refused by the module: 0xC2 "
                                      f"status 0x{started.status:02X} ({meaning})")
                if not slot.event.wait(timeout):
                    raise ConnectTimeoutError(f"no 0xCF socket status for {host}:{port} within "
                                              f"{timeout:g} s")
            finally:
                with self._cond:
                    self._slots.pop((fr.SocketStatus.TYPE, sid), None)
            self._raise_if_dead()
            status = slot.frame.status if isinstance(slot.frame, fr.SocketStatus) else 0x08
            if status:
                with self._cond:
                    self._sockets.pop(sid, None)
                sock._freed = True
                raise self._status_error(status, host, port, profile)
            return sock
        except BaseException:
            with self._cond:
                self._sockets.pop(sid, None)
            if not sock._freed:
                with contextlib.suppress(CellTLSError):
                    self.request(lambda fid: fr.SocketClose(fid, sid), fr.SocketCloseResponse,
                                 timeout=5.0)
            sock._closed = True
            raise

    def _status_error(self, status: int, host: str, port: int,
                      profile: TlsProfile | None) -> CellTLSError:
        """The error for a non-zero 0xCF status while connecting (xbee3.md S8)."""
        meaning = cat.SOCKET_STATUS.get(status, "unknown")
        reported = f"0xCF socket status 0x{status:02X} ({meaning})"
        where = f"{host}:{port}"
        if status in (0x01, 0x09):
            return DNSError(f"the module could not resolve {host!r} ({reported})")
        if status == 0x04:
            return ConnectTimeoutError(f"no answer from {where} ({reported})")
        if status in (0x06, 0x0E):
            return NetworkError(f"{where} unreachable from the module ({reported})")
        if status == 0x0A:
            return SocketError(f"the module is out of resources ({reported})")
        if status == 0x02 and (profile is None or not self.probe_failures):
            return ConnectionRefusedByServer(f"{where} refused the connection ({reported})")
        if profile is None:  # plain TCP: no handshake to explain
            return SocketError(f"connect to {where} failed: {reported}")
        # Which 0xCF a failed TLS handshake gives is not documented (xbee3.md S8): ask the host.
        return self._tls_failure(host, port, profile, reported)

    def _tls_failure(self, host: str, port: int, profile: TlsProfile,
                     reported: str) -> TLSError | NetworkError:
        if not self.probe_failures and ("0x2F" in reported or "0x8B" in reported):
            return CertificateVerifyError(
                f"the module could not authenticate {host}:{port} ({reported})",
                host=host, port=port, detail=reported,
                evidence=["the CA file of the TLS profile must be the self-signed root at the "
                          "top of the server's chain (xbee3.md S10, S13 item 3)"])
        return explain_failure(host, port, self.capabilities, profile, reported=reported,
                               do_probe=self.probe_failures)

    def tx_error(self, status: int, sock: SecureSocket) -> CellTLSError:
        """The error for a non-zero 0x89 TX status on a send (xbee3.md S7 table).

        Returns:
            CellTLSError: NetworkLostError (0x22, 0x8A), CredentialError (0x86 invalid TLS
            configuration), CertificateVerifyError (0x8B), TLSNegotiationError (0x85, with
            L2's cipher-suite hint), else SocketError.
        """
        meaning = cat.TX_STATUS.get(status, "unknown")
        reported = f"0x89 TX status 0x{status:02X} ({meaning})"
        if status in (0x22, 0x8A):
            return NetworkLostError(f"send failed: {reported}", urc=reported)
        if status == 0x86:
            return CredentialError(f"send failed: {reported}; check the files named in $n "
                                   "(xbee3.md S3, S13 item 2)")
        if status == 0x8B:
            return CertificateVerifyError(f"send failed: {reported}", host=sock.host,
                                          port=sock.port, detail=reported)
        if status == 0x85:
            return TLSNegotiationError(f"send failed: {reported}; on XBee this is what a "
                                       "server with no common cipher suite gives (xbee3.md S10, "
                                       "L2)", host=sock.host, port=sock.port, detail=reported)
        return SocketError(f"send on {sock.host}:{sock.port} failed: {reported}")

    # -- transparent mode (xbee3.md S9) --------------------------------------------------------

    def _connect_transparent(self, host: str, port: int, profile: TlsProfile,
                             files: str) -> TransparentSocket:
        with self._io:
            previous = self._transparent_sock
            if previous is not None and not previous.closed:
                # transparent mode carries one connection (xbee3.md S9): a new one replaces it
                log.warning("xbee3: closing the transparent connection to %s:%d to open one to "
                            "%s:%d", previous.host, previous.port, host, port)
                previous.close()
            if self._sockets:
                raise SocketError("API sockets are open; transparent mode cannot be used "
                                  "until they are closed")
            self.enter_command_mode()
            self._close_transparent_quietly()
            if self._profiles.get(0) != files:
                self.write("$0", files)
                self._profiles[0] = files
            self.write("IP", cat.IP_TLS)
            self.write("DL", host)
            self.write("DE", port)  # hexadecimal on the line (xbee3.md S13 item 1)
            if self._ap != 0:
                self.write("AP", 0)
                self._ap = 0
            sock = TransparentSocket(self, host, port, profile)
            with self._cond:
                self._transparent_sock = sock
            self.leave_command_mode()
            return sock

    def _transparent_send(self, sock: TransparentSocket, piece: bytes) -> None:
        with self._io:
            if self._mode == "command":
                self.leave_command_mode()
            if self._mode != "transparent":
                raise SocketError("the transparent connection is no longer selected")
            self._write(piece)
            self._last_command = 0.0

    def _transparent_probe(self, sock: TransparentSocket) -> bool:
        """Command mode, ``CI`` and ``OD``: is the connection still open (True), ended after
        data (False), or failed (raises)? (xbee3.md S4 CI table, S9, S12 log B.)"""
        with self._io:
            self.enter_command_mode()
            ci = self.read_hex("CI")
            try:
                destination: str | None = self.read("OD")
            except (ATCommandError, ATTimeoutError):
                destination = None
            closed = destination == "0.0.0.0"
            got_data = sock.received > 0 or sock.has_data
            log.info("xbee3: transparent connection: CI 0x%02X (%s), OD %s", ci,
                     cat.CI_TCP.get(ci, "unknown"), destination)
            if ci in (0x00, cat.CI_NO_STATUS) and not closed:
                self.leave_command_mode()
                return True
            if got_data and (closed or ci in (0x00, 0x21, 0x27)):
                return False
            raise self._ci_error(ci, sock)

    def _ci_error(self, ci: int, sock: TransparentSocket) -> CellTLSError:
        """The error for a failed transparent TLS connection's ``CI`` (xbee3.md S4, S10)."""
        meaning = cat.CI_TCP.get(ci, "unknown")
        reported = f"CI 0x{ci:02X} ({meaning})"
        host, port = sock.host, sock.port
        if ci in (0x12, 0x25):
            return DNSError(f"the module could not resolve {host!r} ({reported})")
        if ci == 0x24:
            return ConnectTimeoutError(f"no answer from {host}:{port} ({reported})")
        if ci in (0x10, 0x11, 0x22, 0x23):
            return NetworkError(f"no network for {host}:{port} ({reported})")
        if ci == 0x02:
            return UnsafeArgumentError("host", host, f"the module calls it invalid ({reported})")
        if ci in (0x2F, 0x26, 0x28, 0x00, cat.CI_NO_STATUS):
            # 0x2F on LTE-M, 0x26 on Cat 1, 0xFF seen on LTE-M for a failed TLS set-up
            # (xbee3.md S4 notes, L1); closed with no data and no failure code alike
            return self._tls_failure(host, port, sock.profile, reported)
        return SocketError(f"the transparent connection to {host}:{port} failed ({reported})")

    def _close_transparent(self, sock: TransparentSocket) -> None:
        with self._io:
            with self._cond:
                if self._transparent_sock is sock:
                    self._transparent_sock = None
            if self._dead is not None:
                return
            self.enter_command_mode()
            self._close_transparent_quietly()
            if not self.transparent:
                self.ensure_api_mode()
            else:
                self.leave_command_mode()


def _complete_lines(text: bytearray | bytes) -> list[bytes]:
    """The non-blank lines of ``text`` that have their CR (or LF) already."""
    parts = bytes(text).replace(b"\n", b"\r").split(b"\r")[:-1]
    return [part for part in parts if part.strip()]


def _fs_error(text: bytearray | bytes) -> str | None:
    for raw in bytes(text).replace(b"\n", b"\r").split(b"\r"):
        error = cat.fs_error(raw.decode("ascii", errors="replace"))
        if error:
            return error
    return None


def _pkcs1(pem: bytes) -> bytes:
    """An RSA private key as unencrypted PKCS#1 PEM (``BEGIN RSA PRIVATE KEY``), the form the
    module takes (xbee3.md S10, D3 p.101).

    Raises:
        CredentialError: not a PEM private key, encrypted, or not RSA.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CredentialError(f"the client key cannot be read: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CredentialError("the XBee takes RSA client keys only (xbee3.md S10, D3 p.101)")
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _create_error(status: int) -> CellTLSError:
    meaning = cat.CREATE_STATUS.get(status, "unknown")
    text = f"socket create failed: 0xC0 status 0x{status:02X} ({meaning})"
    if status == 0x22:
        return NetworkError(text)
    if status == 0x86:
        return CredentialError(text)
    return SocketError(text + ("; close a socket first" if status == 0x32 else ""))


class XBeeSocket(SecureSocket):
    """An extended TLS socket in API mode (xbee3.md S8): 0x44 to send (one 0x89 per piece),
    0xCD received into the buffer by the pump, 0xCF 0x07/0x03 the orderly end, any other
    non-zero 0xCF a failure, 0x43 to close.

    Attributes:
        sid: the module's socket ID.
        profile_index: the ``$n`` it was opened with.
        timeout: seconds :meth:`recv` waits for data before raising ATTimeoutError (declared
            here, like every dialect's socket class, so a caller such as the fault harness can
            shorten it for this class alone).
    """

    timeout: float = 60.0

    def __init__(self, driver: XBee3, sid: int, host: str, port: int,
                 profile_index: int) -> None:
        super().__init__(host, port, max_send=cat.MAX_PAYLOAD)
        self._driver = driver
        self.sid = sid
        self.profile_index = profile_index
        self._eof = False
        self._freed = False  # the module freed the ID (after a non-zero 0xCF)
        self._last_check = 0.0  # time.monotonic() of the last check that the module is alive

    def _on_data(self, payload: bytes) -> None:
        with self._cond:
            if self._failure is not None:  # after a lost frame nothing more is trusted
                return
        self._deliver(payload)
        with self._cond:
            self._cond.notify_all()

    def _on_status(self, status: int) -> None:
        """A non-zero 0xCF: the module closed the socket and freed its ID (xbee3.md S8), so
        it is closed here too (a connection pool drops it); 0x03/0x07 end the stream, any
        other value fails it."""
        if status == 0:
            return
        self._freed = True
        meaning = cat.SOCKET_STATUS.get(status, "unknown")
        if status in cat.SOCKET_STATUS_EOF:
            with self._cond:
                self._eof = True
                self._closed = True
                self._cond.notify_all()
            return
        error: CellTLSError
        if status == 0x0E:
            error = NetworkLostError(f"socket {self.sid}: 0xCF 0x0E ({meaning})", urc="0xCF 0E")
        else:
            error = SocketError(f"socket {self.sid} to {self.host}:{self.port} failed: 0xCF "
                                f"status 0x{status:02X} ({meaning})")
        self._fail(error)
        with self._cond:
            self._closed = True

    def _gone(self, error: CellTLSError) -> None:
        """The module lost the socket (it restarted): failed and closed."""
        self._freed = True
        self._fail(error)
        with self._cond:
            self._closed = True

    poll_interval = 5.0

    def _fill(self, clock: RecvClock) -> bool:
        """Wait for data; after :attr:`poll_interval` quiet seconds, and before a read times
        out if the module was not asked during it (a :attr:`timeout` below the poll interval),
        make sure the module is alive and in API mode: restarted in AP 0 it says nothing on the
        line (no 0x8A outside API mode, xbee3.md S4), so only asking tells a restart
        (``ModuleRebootedError``) from a quiet server (``ATTimeoutError``)."""
        with self._cond:
            while not self._buffer and self._failure is None and not self._eof \
                    and not self._closed:
                if self._driver._dead is not None:
                    self._failure = self._driver._dead
                    break
                now = time.monotonic()
                if now >= clock.deadline:
                    if self._last_check >= clock.deadline - self.timeout:
                        raise ATTimeoutError(f"receive on socket {self.sid}", self.timeout)
                    break  # not asked during this read yet: ask before timing out
                if now >= clock.next_poll:
                    break
                self._cond.wait(min(clock.deadline, clock.next_poll) - now)
            if self._buffer or self._failure is not None or self._eof or self._closed:
                return bool(self._buffer) or self._failure is not None or not (
                    self._eof or self._closed)
        # quiet for poll_interval (or the read's end): is the module still there, in API mode?
        clock.next_poll = time.monotonic() + self.poll_interval
        try:
            self._driver.check_alive()
        except CellTLSError as exc:
            self._fail(exc)
        self._last_check = time.monotonic()
        return True

    def _send_piece(self, piece: bytes) -> None:
        if self._failure is not None:
            raise self._failure
        if self._closed or self._freed:
            raise SocketError(f"socket {self.sid} to {self.host}:{self.port} is closed")
        for attempt in range(6):
            reply = self._driver.request(lambda fid: fr.SocketSend(fid, self.sid, 0, piece),
                                         fr.TXStatus, timeout=60.0, poll=self.poll_interval)
            if reply.status == 0:
                return
            if reply.status == 0x32 and attempt < 5:  # resource error, retry later (S7)
                time.sleep(0.2 * (attempt + 1))
                continue
            raise self._driver.tx_error(reply.status, self)

    def _close_in_module(self) -> None:
        with self._driver._cond:
            if self._driver._sockets.get(self.sid) is self:
                del self._driver._sockets[self.sid]
        if self._freed or self._driver._dead is not None:
            return
        self._freed = True
        with contextlib.suppress(CellTLSError):
            self._driver.request(lambda fid: fr.SocketClose(fid, self.sid),
                                 fr.SocketCloseResponse, timeout=5.0)


class TransparentSocket(SecureSocket):
    """The transparent-mode connection (xbee3.md S9): the serial line is the socket. Failures
    are silent on the line; when nothing comes for :attr:`poll_interval` seconds the driver
    reads ``CI`` and ``OD`` in command mode (:meth:`XBee3._transparent_probe`).

    Attributes:
        timeout: seconds :meth:`recv` waits for data (see :class:`XBeeSocket`).
    """

    timeout: float = 60.0
    poll_interval = 2.0

    def __init__(self, driver: XBee3, host: str, port: int, profile: TlsProfile) -> None:
        super().__init__(host, port, max_send=cat.MAX_PAYLOAD)
        self._driver = driver
        self.profile = profile
        self._eof = False
        self._sent = 0
        self._probes = 0

    @property
    def has_data(self) -> bool:
        """Whether bytes wait in the buffer."""
        with self._cond:
            return bool(self._buffer)

    def _on_data(self, payload: bytes) -> None:
        self._deliver(payload)
        with self._cond:
            self._probes = 0
            self._cond.notify_all()

    def _send_piece(self, piece: bytes) -> None:
        if self._failure is not None:
            raise self._failure
        if self._closed or self._eof:
            raise SocketError(f"the transparent connection to {self.host}:{self.port} is closed")
        if piece.strip(b"+") == b"" and len(piece) == 3:
            raise UnsafeArgumentError("data", "+++", "alone on the line it is the escape "
                                      "sequence, not data (xbee3.md S13 item 13)")
        self._driver._transparent_send(self, piece)
        self._sent += len(piece)

    def _fill(self, clock: RecvClock) -> bool:
        while True:
            with self._cond:
                while not self._buffer and self._failure is None and not self._closed \
                        and not self._eof:
                    if self._driver._dead is not None:
                        self._failure = self._driver._dead
                        break
                    now = time.monotonic()
                    if now >= clock.deadline:
                        raise ATTimeoutError("receive in transparent mode", self.timeout)
                    if now >= clock.next_poll:
                        break
                    self._cond.wait(min(clock.next_poll, clock.deadline) - now)
                if self._buffer or self._failure is not None:
                    return True
                if self._closed or self._eof:
                    return False
            if not self._sent:
                clock.next_poll = time.monotonic() + self.poll_interval
                continue
            try:
                still_open = self._driver._transparent_probe(self)
            except CellTLSError as exc:
                self._fail(exc)
                return True
            if not still_open:
                with self._cond:
                    self._eof = True
                continue
            # each probe costs two guard times: ask less often while the server stays quiet
            self._probes += 1
            clock.next_poll = time.monotonic() + min(self.poll_interval * 2 ** self._probes,
                                                     30.0)

    def _close_in_module(self) -> None:
        with contextlib.suppress(CellTLSError):
            self._driver._close_transparent(self)
