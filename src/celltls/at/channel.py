"""A synchronous AT runner over a pyserial port, with a reader thread and URC dispatch.

The port is opened by pyserial URL: a device (``/dev/ttyUSB0``), a pty (``/dev/pts/5``) or a
TCP socket (``socket://127.0.0.1:7000``). Everything received is fed to the sans-IO
:class:`~celltls.at.protocol.ATProtocol`, by the thread that sent a command while it waits for
the answer (:meth:`ATChannel._take_port`), and by a reader thread between commands; URCs go to
subscribers and to waiters, the pending command's events to the caller of
:meth:`ATChannel.command`, raw (transparent-mode) bytes to :meth:`ATChannel.read_raw`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import select
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import serial

from celltls.at import quoting
from celltls.at.framing import BlockHeader as DataBlockRule
from celltls.at.framing import Framing
from celltls.at.protocol import (
    ATProtocol,
    DataBlock,
    Echo,
    Event,
    Final,
    Intermediate,
    Mode,
    Prompt,
    RawData,
    Request,
    Response,
    Urc,
)
from celltls.errors import (
    ATCommandError,
    ATProtocolError,
    ATTimeoutError,
    PortError,
    PortLostError,
)
from celltls.trace import TranscriptWriter

log = logging.getLogger(__name__)

#: errno values of a read or write that found nothing to do (pyserial ignores them too).
_RETRY_ERRNOS = frozenset(
    {errno.EAGAIN, errno.EALREADY, errno.EWOULDBLOCK, errno.EINPROGRESS, errno.EINTR}
)
#: the longest the reader waits before it looks at the stop flag again; close() wakes it at once.
_READER_WAIT = 1.0
#: Transparent mode: how long the line must stay quiet before bytes held back as the possible
#: start of an exit marker are decided (:meth:`ATProtocol.settle_raw`), plus the time of 16
#: bytes on the line. A module prints the marker in one piece; a USB serial adapter may still
#: deliver it in two packets, the second after its latency timer (16 ms by default on FTDI
#: chips: FTDI application note AN232B-04, "latency timer").
_MARKER_WAIT = 0.05
#: :attr:`ATChannel.raw_coalescing`: after a read shorter than ``_TRICKLE`` bytes in data mode,
#: the reader lets the line fill for the time ``_TRICKLE`` bytes take (10 bits a byte), at most
#: ``_COALESCE_WAIT`` seconds, before it reads again.
_TRICKLE = 512
_COALESCE_WAIT = 0.020
#: ``socket://`` ports in a bulk transparent stream: while each read fills the low-water mark
#: (the stream flows at line rate), the mark doubles from ``_TRICKLE`` up to the bytes the line
#: carries in ``_RUN_TIME`` seconds; a read that falls short of it (the stream paused or
#: ended) starts again from ``_TRICKLE``. The end of a stream then costs at most the mark's
#: wait once (twice its line time plus ``_LOW_WATER_SLACK``: 60 ms at 921600 bit/s).
_RUN_TIME = 0.020
#: ``socket://`` ports in a data block (:meth:`ATChannel._set_low_water`): the smallest rest
#: worth waiting for, the largest low-water mark, and the slack added to the rest's line time.
_LOW_WATER_MIN = 64
_LOW_WATER_MAX = 16384
_LOW_WATER_SLACK = 0.020
#: The caller of a command reads its answer itself (:meth:`ATChannel._take_port`); the reader
#: thread stays off the port while a command runs and for ``_PARK_LINGER`` seconds after it (the
#: next command of a burst then needs no hand-over), and looks again after ``_PARK_POLL``
#: seconds, a wait that doubles up to ``_PARK_POLL_MAX`` while commands keep coming (a long
#: command, a bulk transfer of ``AT+QIRD`` reads: 10 wake-ups a second, not 200). A URC that
#: comes right after a command may therefore be read that much later, unless somebody waits
#: for it through the channel (:meth:`UrcWaiter.wait`, :meth:`ATChannel.read_raw`,
#: :meth:`ATChannel.escape`, :meth:`ATChannel.wake_reader`), which calls the reader back at once.
_PARK_LINGER = 0.002
_PARK_POLL = 0.005
_PARK_POLL_MAX = 0.100


def _is_socket_port(port: object) -> bool:
    """Whether ``port`` is pyserial's ``socket://`` port (its module is imported by pyserial
    when such a URL is opened, not here: start-up time)."""
    module = sys.modules.get("serial.urlhandler.protocol_socket")
    return module is not None and isinstance(port, module.Serial)


@dataclass
class Reply:
    """Everything a command got back.

    Attributes:
        command: the command line as sent (secrets masked).
        lines: information response lines, in order.
        blocks: data blocks (header and bytes), in order.
        intermediate: intermediate results (``CONNECT``), in order.
        final: the final result code.
        echoed: the module echoed the command line (V.250 6.2.4, ``ATE1``).
    """

    command: str
    lines: list[str] = field(default_factory=list)
    blocks: list[DataBlock] = field(default_factory=list)
    intermediate: list[str] = field(default_factory=list)
    final: Final | None = None
    echoed: bool = False

    def first(self, prefix: str) -> str:
        """The text after ``prefix`` of the first line starting with it.

        Raises:
            ATProtocolError: no line starts with ``prefix``.
        """
        for line in self.lines:
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        raise ATProtocolError(f"{self.command!r}: no {prefix!r} line in {self.lines!r}")


class UrcWaiter:
    """Collects the URCs that match a predicate from the moment it is created."""

    def __init__(
        self, predicate: Callable[[str], bool], wake_reader: Callable[[], None] | None = None
    ) -> None:
        self.predicate = predicate
        self._queue: queue.Queue[Urc | DataBlock] = queue.Queue()
        self._wake_reader = wake_reader

    def _offer(self, event: Urc | DataBlock) -> bool:
        text = event.text if isinstance(event, Urc) else event.header
        if self.predicate(text):
            self._queue.put(event)
            return True
        return False

    def wait(self, timeout: float, what: str = "URC") -> Urc | DataBlock:
        """Wait for the next matching URC.

        Raises:
            ATTimeoutError: none arrived within ``timeout`` seconds.
        """
        if self._wake_reader is not None and self._queue.empty():
            self._wake_reader()
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise ATTimeoutError(what, timeout) from None

    def poll(self) -> Urc | DataBlock | None:
        """The next matching URC already received, or ``None``."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None


class ATChannel:
    """One AT command port.

    Args:
        port: a pyserial URL or device path, or an already open pyserial-like object (with
            ``read(n)``, ``write(b)``, ``close()`` and a ``timeout`` attribute).
        baudrate: bits per second for a real serial port (ignored by ``socket://``).
        urc_prefixes: the dialect's URC prefixes.
        data_blocks: the dialect's data-block headers.
        trace: a transcript writer, or ``None``.

    Raises:
        PortError: the port cannot be opened.
    """

    def __init__(
        self,
        port: str | serial.SerialBase,
        *,
        baudrate: int = 115200,
        urc_prefixes: Iterable[str] = (),
        data_blocks: Iterable[DataBlockRule] = (),
        trace: TranscriptWriter | None = None,
    ) -> None:
        if isinstance(port, str):
            try:
                self._port = serial.serial_for_url(port, baudrate=baudrate, timeout=0)
            except (serial.SerialException, OSError, ValueError) as exc:
                raise PortError(f"cannot open {port}: {exc}") from exc
            self.name = port
            self._selectable = True
        else:
            self._port = port
            self.name = str(getattr(port, "name", None) or getattr(port, "port", "port"))
            self._selectable = False
        # How the reader waits and reads: one select() on the port and a wake-up pipe, then one
        # read of what is there (pyserial's read() would select() a second time). A device or
        # pty is read with os.read on its descriptor, a socket:// port with recv on its socket;
        # any other port through pyserial as before.
        self._fd: int | None = None
        self._sock: socket.socket | None = None
        #: the socket's receive low-water mark (SO_RCVLOWAT) now; 0 where it cannot be set
        self._lowat = 1
        #: the low-water mark of a bulk transparent stream (``_RUN_TIME``); 0: not in one
        self._run_mark = 0
        if self._selectable:
            if _is_socket_port(self._port):
                self._sock = getattr(self._port, "_socket", None)
            elif isinstance(getattr(self._port, "fd", None), int):
                self._fd = self._port.fd
        # A write is drained (flush(), tcdrain on a device) only where it matters: on a port
        # object given by the caller (it may buffer) and before an escape's guard time
        # (escape(), write_raw()); a command line needs no drain, the answer tells.
        self._flush_commands = not self._selectable
        #: seconds a byte takes on the line (10 bits at ``baudrate``); 0 on a port object given
        #: by the caller (its pacing is unknown)
        self._byte_time = 10.0 / baudrate if self._selectable and baudrate > 0 else 0.0
        #: In transparent data mode, read in fewer, larger pieces (see ``_TRICKLE``): a bulk
        #: stream on a slow line then wakes the reader, and the caller of read_raw(), about 50
        #: times a second instead of once per USB packet. Costs up to ``_COALESCE_WAIT`` of
        #: latency per read, so a driver turns it on for a bulk transfer only (issue 17:
        #: Quectel GSM transparent 256 KiB at 115200 bit/s, CPU 0.94 -> 0.44 s, same wall time;
        #: benchmarks/README.md). Reading length-delimited blocks this way saved no CPU.
        self.raw_coalescing = False
        self._wake_r, self._wake_w = os.pipe()
        self._select_fds: list[int] | None = None  # the port's descriptor and _wake_r
        self._closed = False
        self.protocol = ATProtocol(urc_prefixes=urc_prefixes, data_blocks=data_blocks)
        self.trace = trace
        self._lock = threading.Lock()  # subscriptions and waiters
        self._cmd_lock = threading.RLock()  # one command at a time
        self._proto_lock = threading.Lock()
        # The pending command's events (and a port failure), handed from the reader thread to
        # the caller of command(): a batch per read, and one wake-up per batch, only when the
        # caller waits. ``_signal`` is a lock held while nobody is being woken: the reader
        # releases it, the waiting caller acquires it (one C call each way).
        self._events: deque[Event | BaseException] = deque()
        self._signal = threading.Lock()
        self._signal.acquire()
        self._events_waiting = False
        # Who reads the port (issue 17: a hand-over between two threads costs more CPU than
        # the whole command, benchmarks/README.md "The caller reads its own answer"). On a
        # port the channel can select() on, the caller of a command reads the answer itself,
        # holding ``_port_lock``; the reader thread reads the port between commands (URCs,
        # transparent mode) and keeps off it while ``_commanding`` or until ``_park_until``.
        self._caller_reads = self._selectable and callable(getattr(self._port, "fileno", None))
        # an RLock for _is_owned(): a Ctrl-C between its acquire and the next line must not
        # leave it held (_give_port)
        self._port_lock = threading.RLock()
        self._port_owner = 0  # thread ident of the caller holding _port_lock, 0 if none
        self._reader_wanted = False  # wake_reader() came while a command held the port
        self._reader_selecting = False
        self._commanding = False
        self._park_until = 0.0
        self._unpark = threading.Event()
        self._raw: deque[bytes] = deque()
        self._raw_cond = threading.Condition()
        self._raw_closed = False
        self._waiters: list[UrcWaiter] = []
        self._subscribers: list[tuple[str, Callable[[Urc | DataBlock], None]]] = []
        self._urc_history: deque[Urc | DataBlock] = deque(maxlen=256)
        self._stop = threading.Event()
        self._dead: BaseException | None = None
        self._desync = False
        self._echo: tuple[str, str] | None = None  # (command line, as shown) for echo masking
        self._reader = threading.Thread(
            target=self._read_loop, name="celltls-at-reader", daemon=True
        )
        self._reader.start()

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the reader thread and close the port; commands and reads blocked in other
        threads end with :class:`PortError`.

        Returns without sleeping: the reader is woken through a pipe, and a ``socket://``
        port is shut down here (pyserial's own close() sleeps 0.3 s after it).
        """
        self._stop.set()
        if self._dead is None:
            self._dead = PortLostError(f"port {self.name} was closed")
        self._put_events((self._dead,))
        self.mark_raw_closed()
        self._unpark.set()
        if not self._closed:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")
        joined = True
        if self._reader is not threading.current_thread():
            self._reader.join(timeout=2)
            joined = not self._reader.is_alive()
        # a command's caller that reads the port (_take_port) has been woken too: let it
        # leave the port before its descriptors are closed (their numbers may be reused)
        quiet = self._port_lock.acquire(timeout=2)
        try:
            with contextlib.suppress(Exception):
                self._close_port()
            if joined and quiet and not self._closed:
                self._closed = True
                for fd in (self._wake_r, self._wake_w):
                    with contextlib.suppress(OSError):
                        os.close(fd)
        finally:
            if quiet:
                self._port_lock.release()

    def _close_port(self) -> None:
        port = self._port
        if _is_socket_port(port) and port.is_open:
            # What pyserial's close() does for socket://, without its time.sleep(0.3).
            sock = getattr(port, "_socket", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
                port._socket = None
            port.is_open = False
            return
        port.close()

    def __enter__(self) -> ATChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- URCs --------------------------------------------------------------------------------

    def subscribe(self, prefix: str, handler: Callable[[Urc | DataBlock], None]) -> None:
        """Call ``handler(event)`` in the reader thread for each URC starting with ``prefix``.

        Handlers must be quick and must not send commands: they run on the reader thread, or
        on the thread of a command whose answer carries the URC. A caller that waits for a
        state a handler sets calls :meth:`wake_reader` first.
        """
        with self._lock:
            self._subscribers.append((prefix, handler))

    def expect_urc(self, predicate: Callable[[str], bool]) -> UrcWaiter:
        """Start collecting URCs matching ``predicate``; call before sending the command that
        provokes them, so none is missed. Stop with :meth:`forget`."""
        waiter = UrcWaiter(predicate, self.wake_reader)
        with self._lock:
            self._waiters.append(waiter)
        return waiter

    def forget(self, waiter: UrcWaiter) -> None:
        """Stop feeding ``waiter``."""
        with self._lock, contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def recent_urcs(self) -> list[Urc | DataBlock]:
        """The last 256 URCs, oldest first (for diagnosis)."""
        return list(self._urc_history)

    # -- commands ----------------------------------------------------------------------------

    def configure(self, framing: Framing) -> None:
        """Apply a dialect's framing (URC prefixes, data blocks, data-mode exit markers) once,
        before the first command."""
        with self._proto_lock:
            self.protocol.urc_prefixes = tuple(framing.urc_prefixes)
            self.protocol.data_blocks = tuple(framing.data_blocks)
            self.protocol.raw_exit_markers = tuple(framing.raw_exit_markers)

    def add_urc_prefixes(self, *prefixes: str) -> None:
        """Recognise more URC prefixes (a driver that turns on a URC the catalog lists late)."""
        with self._proto_lock:
            known = self.protocol.urc_prefixes
            self.protocol.urc_prefixes = (*known, *(p for p in prefixes if p not in known))

    @property
    def mode(self) -> Mode:
        """The protocol's mode (:class:`celltls.at.protocol.Mode`)."""
        return self.protocol.mode

    @property
    def in_data_mode(self) -> bool:
        """Whether the line carries data now (transparent mode, escape, pattern data phase)."""
        return self.protocol.in_raw_mode

    def command(
        self,
        line: str,
        *,
        timeout: float,
        response_prefixes: Iterable[str] = (),
        check: bool = True,
    ) -> Reply:
        """Send one plain command line (no data phase) and collect its answer.

        Args:
            line: the command line without terminator (already validated by the caller).
            timeout: seconds to wait for the final result code.
            response_prefixes: prefixes of its information responses.
            check: raise on a failure final result code.

        Returns / Raises: as :meth:`execute`.
        """
        return self.execute(
            Request(line, response_prefixes=tuple(response_prefixes), timeout=timeout),
            check=check,
        )

    def execute(self, request: Request, *, check: bool = True) -> Reply:
        """Send one command and collect its answer up to the final result code.

        The request carries everything: the line, its response prefixes and result codes, its
        data phase and payload (written after ``>`` or ``CONNECT``), whether the payload is a
        secret, the masked form to show, and the timeout (see
        :class:`~celltls.at.protocol.Request`).

        Args:
            request: the command.
            check: raise on a failure final result code.

        Returns:
            Reply: the response lines, data blocks and final result code.

        Raises:
            UnsafeArgumentError: the line holds a character that cannot be sent (nothing is
                written then).
            ATCommandError: the final result code reports a failure (when ``check``).
            ATTimeoutError: no final result code within ``request.timeout`` seconds.
            PortError: the port failed.
        """
        line, display = request.line, request.display
        quoting.command_line(line, display)
        with self._cmd_lock:
            self._raise_if_dead()
            nested = self._port_owner == threading.get_ident()
            try:
                if not nested:
                    self._take_port(request.timeout)
                if self._desync:
                    self._resync()
                self._drain_stale()
                with self._proto_lock:
                    data = self.protocol.send_command(request)
                    self._echo = (line.strip().upper(), display)
                try:
                    return self._run(request, data, check)
                except ATCommandError:
                    raise
                except BaseException:
                    # Timeout, port failure, Ctrl-C: the answer may still come; forget the
                    # command and make sure the next one starts on a quiet line.
                    with self._proto_lock:
                        self.protocol.abort_pending()
                    self._desync = True
                    raise
            finally:
                if not nested:
                    self._give_port()

    def _take_port(self, timeout: float) -> None:
        """Make the calling thread the port's reader for one command (``_caller_reads``):
        keep the reader thread off the port, waking it out of its select() if it is in one.

        Raises:
            ATTimeoutError: the reader thread kept the port for ``timeout`` seconds (a URC
                handler that does not return).
        """
        if not self._caller_reads:
            return
        self._commanding = True  # the reader thread starts no select() from now on ...
        if self._reader_selecting and not self._closed:  # ... and is woken out of one
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"c")
        if not self._port_lock.acquire(timeout=max(timeout, 1.0)):
            raise ATTimeoutError("the AT port (the reader thread did not let go of it: a URC "
                                 "handler that does not return?)", timeout)
        self._port_owner = threading.get_ident()

    def _give_port(self) -> None:
        """End :meth:`_take_port` (also after a Ctrl-C anywhere in it): the reader thread
        reads again after ``_PARK_LINGER``, at once in transparent mode (whose bytes nobody
        else reads) or when somebody asked for it meanwhile (:meth:`wake_reader`)."""
        if not self._caller_reads:
            return
        self._port_owner = 0
        try:
            if self._port_lock._is_owned():  # type: ignore[attr-defined]
                # released before _commanding falls: the reader never finds the lock taken
                # while _commanding is off (it would try again at once instead of parking)
                self._port_lock.release()
        finally:
            now = self.protocol.in_raw_mode or self._reader_wanted
            self._park_until = 0.0 if now else time.monotonic() + _PARK_LINGER
            self._commanding = False
            if now:
                self._reader_wanted = False
                self._unpark.set()

    def wake_reader(self) -> None:
        """Call before waiting for something only a URC would bring (a state that a
        :meth:`subscribe` handler sets): the reader thread then reads the port at once instead
        of after its park (up to ``_PARK_POLL_MAX`` seconds after the last command). UrcWaiter.wait,
        read_raw and escape call it themselves. Cheap; never blocks."""
        self._park_until = 0.0
        if self._commanding:  # the command's end lets the reader go at once
            self._reader_wanted = True
        if not self._unpark.is_set():
            self._unpark.set()

    def _run(self, request: Request, data: bytes, check: bool) -> Reply:
        display, timeout = request.display, request.timeout
        payload, secret_payload = request.payload, request.secret_payload
        log.debug("> %s", display)
        if self.trace:
            self.trace.host_line(display)
        self._write(data)
        reply = Reply(display)
        deadline = time.monotonic() + timeout
        reads = self._port_owner == threading.get_ident()  # this thread took the port
        events = self._events
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                partial = reply.lines + reply.intermediate
                raise ATTimeoutError(display, timeout, partial, reply=reply)
            event: Event | BaseException | None
            if reads:  # this thread reads the answer (_take_port)
                if not events:
                    self._raise_if_dead()
                    self._pump_in_caller(min(remaining, 0.5))
                    continue
                event = events.popleft()
            else:
                event = self._next_event(min(remaining, 0.5))
            if event is None:
                self._raise_if_dead()
                continue
            if isinstance(event, BaseException):
                raise PortLostError(f"port {self.name} failed: {event}") from event
            if isinstance(event, Echo):
                reply.echoed = True
                continue
            if isinstance(event, Response):
                reply.lines.append(event.text)
            elif isinstance(event, DataBlock):
                reply.blocks.append(event)
            elif isinstance(event, Prompt | Intermediate):
                if isinstance(event, Intermediate):
                    reply.intermediate.append(event.text)
                if payload is not None:
                    if self.trace:
                        self.trace.host_bytes(payload, secret=secret_payload)
                    self._write(payload)
                    payload = None
            elif isinstance(event, Final):
                reply.final = event
                if check and not event.ok:
                    raise ATCommandError(
                        display,
                        [*reply.lines, event.text],
                        kind=event.kind,
                        code=event.code,
                        meaning=event.meaning,
                    )
                return reply

    def _resync(self) -> None:
        """After a command was abandoned, its answer may still come: send ``AT`` until an
        ``OK`` answers it, dropping whatever came before (V.250 5.2.1: ``AT`` alone is a valid
        command line), so that no late answer is taken for the next command's."""
        for _attempt in range(3):
            self._drain_stale()
            with self._proto_lock:
                if self.protocol.in_raw_mode or self.protocol.pending is not None:
                    self.protocol.abort_pending()
                probe = Request("AT", timeout=2.0)
                data = self.protocol.send_command(probe)
                self._echo = ("AT", "AT")
            try:
                reply = self._run(probe, data, False)
            except ATTimeoutError:
                with self._proto_lock:
                    self.protocol.abort_pending()
                continue
            if reply.final is not None and reply.final.ok and not reply.lines:
                self._desync = False
                return
            log.warning("resynchronising %s: dropped %r", self.name, reply.lines)
        raise ATTimeoutError("AT (resynchronisation after an abandoned command)", 6.0)

    def _drain_stale(self) -> None:
        events = self._events
        while events:
            try:
                stale = events.popleft()
            except IndexError:
                return
            log.warning("discarding a stale event with no command pending: %r", stale)

    def _put_events(self, events: Iterable[Event | BaseException]) -> None:
        """Hand events to the caller of command() (reader thread; close()).

        The deque's extend and popleft are atomic; the caller raises ``_events_waiting``
        before it looks at the deque a last time, and this looks at the flag after extending,
        so a wake-up is never lost (at worst one is spurious, and the caller waits again).
        """
        self._events.extend(events)
        if self._events_waiting:
            with contextlib.suppress(RuntimeError):  # already released: the caller wakes
                self._signal.release()

    def _next_event(self, timeout: float) -> Event | BaseException | None:
        """The next event for the caller of command(), waiting up to ``timeout`` seconds;
        ``None`` when none came (or on a spurious wake-up). One caller at a time (under
        ``_cmd_lock``)."""
        events = self._events
        if not events:
            self._events_waiting = True
            try:
                if not events:
                    self._signal.acquire(timeout=timeout)
            finally:
                self._events_waiting = False
            if not events:
                return None
        try:
            return events.popleft()
        except IndexError:  # _drain_stale in another thread took it
            return None

    # -- raw (transparent) mode --------------------------------------------------------------

    def arm_raw_on_connect(self) -> None:
        """See :meth:`ATProtocol.arm_raw_on_connect`."""
        with self._proto_lock:
            self.protocol.arm_raw_on_connect()
        with self._raw_cond:
            self._raw_closed = False

    def disarm_raw_on_connect(self) -> None:
        """See :meth:`ATProtocol.disarm_raw_on_connect`."""
        with self._proto_lock:
            self.protocol.disarm_raw_on_connect()

    def enter_data_phase(self) -> None:
        """Take every byte from the module as raw data from now on (:meth:`read_raw`), until
        :meth:`abandon_data_phase` or an armed end-of-data pattern: for an answer that no
        header line or ``CONNECT`` announces (a marker such as Sequans's ``<<<``, an XBee in
        transparent mode). Call it with no command pending."""
        with self._proto_lock:
            self.protocol.enter_raw_mode()
        with self._raw_cond:
            self._raw_closed = False
        self.wake_reader()

    def end_data_phase_at(self, pattern: bytes, expected: int = 0) -> None:
        """End the next data phase at an end-of-data pattern (:meth:`ATProtocol.end_raw_at`);
        ``expected``: the bytes it should carry, when known (lets a ``socket://`` port wait
        for them, :meth:`_set_low_water`)."""
        with self._proto_lock:
            self.protocol.end_raw_at(pattern, expected)

    def cancel_data_phase_end(self) -> None:
        """Forget :meth:`end_data_phase_at` (the command failed before its data phase)."""
        with self._proto_lock:
            self.protocol.cancel_raw_end()

    def write_raw(self, data: bytes, *, secret: bool = False) -> None:
        """Write bytes as they are (a data phase, transparent mode, ``+++``); returns when they
        have left the host (``flush()``: a guard time may follow)."""
        if self.trace:
            self.trace.host_bytes(data, secret=secret)
        self._write(data, drain=True)

    def read_raw(self, max_bytes: int, timeout: float | None) -> bytes:
        """Read up to ``max_bytes`` received in transparent mode.

        Returns ``b""`` when data mode has ended (escape or connection closed) and nothing is
        left.

        Raises:
            ATTimeoutError: nothing arrived within ``timeout`` seconds (``None``: wait forever).
            PortError: the port failed or was closed (a lost port is not a clean end of data).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._raw:
            self.wake_reader()
        with self._raw_cond:
            while not self._raw:
                if self._dead is not None:
                    raise PortLostError(f"port {self.name} is gone: {self._dead}")
                if self._raw_closed:
                    return b""
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise ATTimeoutError("read in transparent mode", timeout or 0.0)
                self._raw_cond.wait(timeout=0.2 if remaining is None else min(remaining, 0.2))
            chunk = self._raw.popleft()
            if len(chunk) > max_bytes:
                self._raw.appendleft(chunk[max_bytes:])
                chunk = chunk[:max_bytes]
            return chunk

    def escape(self, guard_time: float, timeout: float = 5.0) -> None:
        """Leave transparent mode with ``+++`` framed by ``guard_time`` seconds of silence.

        Returns when the module answers ``OK``, or as soon as it turns out to have left data
        mode by itself (a raw-mode exit marker such as ``CLOSED`` arrived, e.g. the server
        closed the connection) during the first guard time: then nothing is written.

        Raises:
            ATTimeoutError: the module did not answer; the line is then taken to be in command
                mode again.
        """
        with self._cmd_lock:
            self.wake_reader()  # the answer comes through the reader thread
            self._drain_output()  # the guard time's silence begins when the line is idle
            silent_until = time.monotonic() + guard_time
            with self._raw_cond:  # the reader notifies when data mode ends
                while self.protocol.in_raw_mode and self._dead is None:
                    remaining = silent_until - time.monotonic()
                    if remaining <= 0:
                        break
                    self._raw_cond.wait(remaining)
            self._drain_stale()
            with self._proto_lock:
                if not self.protocol.in_raw_mode:
                    return  # the module left data mode by itself during the guard time
                self.protocol.begin_escape()
            self.write_raw(b"+++")
            deadline = time.monotonic() + guard_time + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    # The module did not answer: give the line back to command mode so that
                    # the next command can find out what state the module is in.
                    with self._proto_lock:
                        self.protocol.abort_pending()
                        self.protocol.leave_raw_mode()
                    self.mark_raw_closed()
                    self._desync = True
                    raise ATTimeoutError("+++ (escape sequence)", guard_time + timeout)
                event = self._next_event(min(remaining, 0.5))
                if event is None:
                    continue
                if isinstance(event, BaseException):
                    raise PortLostError(f"port {self.name} failed: {event}") from event
                if isinstance(event, Final):
                    return

    def abandon_data_phase(self) -> None:
        """Give up a data phase the module may still be in the middle of (a read timed out,
        the caller stopped reading): the line is taken back to command mode, and the next
        command first resynchronises with ``AT`` so that leftover data is not taken for its
        answer."""
        with self._proto_lock:
            self.protocol.cancel_raw_end()
            self.protocol.disarm_raw_on_connect()
            self.protocol.leave_raw_mode()
            self.protocol.abort_pending()
        self.mark_raw_closed()
        self._desync = True

    def mark_raw_closed(self) -> None:
        """Data mode ended; wake readers."""
        with self._raw_cond:
            self._raw_closed = True
            self._raw_cond.notify_all()

    # -- plumbing ----------------------------------------------------------------------------

    def _write(self, data: bytes, *, drain: bool = False) -> None:
        try:
            if self._fd is not None and not self._stop.is_set():
                self._write_fd(self._fd, data)
            else:  # after close(): pyserial says the port is not open
                self._port.write(data)
            if drain or self._flush_commands:
                self._drain_output()
        except (serial.SerialException, OSError) as exc:
            raise PortLostError(f"cannot write to {self.name}: {exc}") from exc

    @staticmethod
    def _write_fd(fd: int, data: bytes) -> None:
        """Write all of ``data`` to a device descriptor (pyserial's write with no write
        timeout, without its select() after a complete write)."""
        view = memoryview(data)
        while view:
            try:
                written = os.write(fd, view)
            except OSError as exc:
                if exc.errno not in _RETRY_ERRNOS:
                    raise serial.SerialException(f"write failed: {exc}") from exc
                written = 0
            view = view[written:]
            if view:
                select.select([], [fd], [], None)

    def _drain_output(self) -> None:
        """Wait until what was written has left the host (pyserial's flush(): tcdrain on a
        device, nothing on a socket)."""
        flush = getattr(self._port, "flush", None)
        if flush is not None:
            flush()

    def _raise_if_dead(self) -> None:
        if self._dead is not None:
            raise PortLostError(f"port {self.name} is gone: {self._dead}")

    def _read_some(self, wait: float = _READER_WAIT) -> bytes:
        """Wait for input (or for close(), or for a caller taking the port: :meth:`_take_port`)
        up to ``wait`` seconds and return what is there without waiting for more.

        pyserial's ``read(n)`` with a timeout waits for all ``n`` bytes; a modem answers in
        short bursts, so the port and the wake-up pipe are waited on with one select() and the
        port is read once, without blocking.

        Raises:
            serial.SerialException: the port failed or reached its end (as pyserial says it).
        """
        fds = self._select_fds
        if fds is None:
            fileno = getattr(self._port, "fileno", None)
            if self._selectable and fileno is not None:
                fds = self._select_fds = [fileno(), self._wake_r]
        if fds is not None:
            if self._sock is not None and self._lowat:
                wait = self._set_low_water(wait)
            if self.protocol.holding_raw:  # the start of an exit marker? (ATProtocol.settle_raw)
                wait = _MARKER_WAIT + 16 * self._byte_time
            ready, _, _ = select.select(fds, [], [], wait)
            if self._run_mark:  # a bulk stream: grow the mark while reads fill it
                self._run_mark = (min(2 * self._run_mark, self._run_cap()) if ready
                                  else _TRICKLE)
            if not ready:
                if self._lowat <= 1:
                    return b""
                # the rest of a block is late (a module slower than the line, a block cut
                # short): read what has come. The socket is non-blocking, and Linux's TCP
                # then returns what is queued even below the low-water mark (the mark only
                # delays a blocking receive and select(): socket(7) SO_RCVLOWAT); pinned by
                # test_a_late_rest_of_a_block_does_not_keep_what_came_unread (tests/at))
            elif ready[0] != fds[0]:  # only the wake-up pipe: take its bytes
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 64)
                return b""
            try:
                if self._fd is not None:
                    data: bytes = os.read(self._fd, 65536)
                    if not data:
                        raise serial.SerialException(
                            "device reports readiness to read but returned no data "
                            "(device disconnected or multiple access on port?)"
                        )
                elif self._sock is not None:
                    data = self._sock.recv(65536)
                    if not data:
                        if not ready:  # nothing came within the wait, and the peer is there
                            return b""
                        raise serial.SerialException("socket disconnected")
                else:
                    data = self._port.read(65536)
            except OSError as exc:
                if exc.errno in _RETRY_ERRNOS:
                    return b""
                raise serial.SerialException(f"read failed: {exc}") from exc
            return data
        first: bytes = self._port.read(1)
        if not first:
            return b""
        waiting = getattr(self._port, "in_waiting", 0) or 0
        return first + (self._port.read(waiting) if waiting else b"")

    def _set_low_water(self, wait: float) -> float:
        """On a ``socket://`` port, while bytes are known to be on their way
        (:attr:`ATProtocol.expected_bytes`: the rest of a length-delimited data block, or of
        a data phase whose size the command asked for): let the socket wake the reader only
        once they are there (SO_RCVLOWAT, which Linux's select() honours: socket(7)), instead
        of for every TCP segment a serial server or relay sends; in a bulk transparent stream
        (:attr:`raw_coalescing`) once ``_TRICKLE`` bytes are there, a mark that grows while the
        stream flows (``_RUN_TIME``: transparent 1 MiB at 921600, in-process CPU 0.48 ->
        0.24 s, benchmarks/README.md). Returns the wait for
        select(): at most twice the time those bytes take on the line plus 20 ms, after which
        what has come is read anyway (a module slower than the line, a block cut short).
        Issue 17: ~5,500 -> ~2,200 reads per MiB of ``AT+QIRD`` blocks (benchmarks/README.md).
        Otherwise the mark is 1 byte.

        A platform that refuses the option (Windows) turns the feature off for the port.
        """
        remaining = self.protocol.expected_bytes
        if not remaining and self.raw_coalescing and self.protocol.mode is Mode.DATA:
            # a bulk stream in transparent mode: read in larger pieces (_RUN_TIME)
            remaining = self._run_mark = self._run_mark or _TRICKLE
        else:
            self._run_mark = 0
        lowat = min(remaining, _LOW_WATER_MAX) if remaining >= _LOW_WATER_MIN else 1
        if lowat != self._lowat:
            assert self._sock is not None
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, lowat)
            except OSError:
                self._lowat = 0
                return wait
            self._lowat = lowat
        if lowat > 1:
            return min(wait, 2 * lowat * self._byte_time + _LOW_WATER_SLACK)
        return wait

    def _run_cap(self) -> int:
        """The largest low-water mark of a bulk transparent stream: the bytes the line
        carries in ``_RUN_TIME`` (1,843 at 921600 bit/s), never below ``_TRICKLE``."""
        return max(_TRICKLE, min(int(_RUN_TIME / self._byte_time) if self._byte_time else 0,
                                 _LOW_WATER_MAX))

    def _read_loop(self) -> None:
        """The reader thread: reads the port whenever no caller does (:meth:`_take_port`)."""
        port_lock, unpark = self._port_lock, self._unpark
        poll = _PARK_POLL
        while not self._stop.is_set() and self._dead is None:
            try:
                if self._commanding or (
                    self._park_until and time.monotonic() < self._park_until
                ):
                    # a caller reads, or has just read: keep off
                    poll = _PARK_POLL if unpark.wait(poll) else min(2 * poll, _PARK_POLL_MAX)
                    unpark.clear()
                    continue
                poll = _PARK_POLL
                if not port_lock.acquire(blocking=False):  # a caller took it just now
                    continue
                try:
                    self._reader_selecting = True
                    self._reader_wanted = False
                    if self._commanding or self._stop.is_set():
                        continue
                    data = self._pump(_READER_WAIT)
                finally:
                    self._reader_selecting = False
                    port_lock.release()
                if (self.raw_coalescing and self._byte_time and 0 < len(data) < _TRICKLE
                        and self.protocol.mode is Mode.DATA and self._lowat <= 1):
                    # where the socket cannot wait for _TRICKLE bytes itself (_set_low_water)
                    # close() writes the wake-up pipe, which ends this wait at once
                    select.select([self._wake_r], [], [],
                                  min(_TRICKLE * self._byte_time, _COALESCE_WAIT))
            except Exception as exc:  # any failure here ends the session, loudly
                if not self._stop.is_set():
                    self._port_failed(exc)
                return

    def _pump(self, wait: float) -> bytes:
        """Read what the port has (waiting up to ``wait`` seconds), parse it and deliver the
        events: the pending command's to ``_events``, URCs to waiters and subscribers, raw
        bytes to read_raw(). Returns the bytes read. Whoever holds ``_port_lock`` calls it.

        Raises:
            serial.SerialException, OSError: the port failed.
        """
        data = self._read_some(wait)
        with self._proto_lock:
            was_raw = self.protocol.in_raw_mode
            if data:
                events = self.protocol.receive_data(data)
            elif self.protocol.holding_raw:  # the line went quiet
                events = self.protocol.settle_raw()
            else:
                return data
        if events:
            if self.trace is not None or log.isEnabledFor(logging.DEBUG):
                self._trace_incoming(events, was_raw)
            for_command: list[Event] = []
            rest = iter(events)
            try:
                for event in rest:
                    self._dispatch(event, for_command)
            except BaseException:
                # a Ctrl-C in the caller's thread (or a failure): the rest of the batch still
                # reaches its waiters, subscribers and read_raw()
                for event in rest:
                    with contextlib.suppress(Exception):
                        self._dispatch(event, for_command)
                raise
            finally:
                if for_command:
                    self._put_events(for_command)
        if was_raw and not self.protocol.in_raw_mode:
            self.mark_raw_closed()
        return data

    def _pump_in_caller(self, wait: float) -> None:
        """:meth:`_pump` in the thread of a command's caller (it holds the port)."""
        try:
            self._pump(wait)
        except Exception as exc:
            if self._dead is None and not self._stop.is_set():
                self._port_failed(exc)
            raise PortLostError(f"port {self.name} failed: {self._dead or exc}") from exc

    def _port_failed(self, exc: BaseException) -> None:
        """The port failed: the session ends, loudly (waiting callers get the error)."""
        log.error("reader of %s stopped: %s", self.name, exc)
        self._dead = exc
        self._put_events((exc,))
        self.mark_raw_closed()
        self._unpark.set()
        if not self._closed:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")

    def _trace_incoming(self, events: list[Event], was_raw: bool) -> None:
        for event in events:
            if isinstance(event, RawData):
                log.debug("<< %d raw bytes", len(event.data))
                if self.trace:
                    self.trace.modem_bytes(event.data)
            elif isinstance(event, Prompt):
                if self.trace:
                    self.trace.modem_bytes(b"> ")
            elif isinstance(event, DataBlock):
                log.debug("< %s (+%d bytes)", event.header, len(event.data))
                if self.trace:
                    self.trace.modem_line(event.header)
                    self.trace.modem_bytes(event.data)
            else:
                text = event.text
                if isinstance(event, Echo) and self._echo and text.upper() == self._echo[0]:
                    text = self._echo[1]  # the echo repeats the line: mask it as it was shown
                log.debug("< %s", text)
                if self.trace:
                    self.trace.modem_line(text)

    def _dispatch(self, event: Event, for_command: list[Event]) -> None:
        """Deliver one event: raw data to read_raw(), URCs to waiters and subscribers, the
        pending command's events to ``for_command`` (handed over once per read)."""
        if isinstance(event, RawData):
            with self._raw_cond:
                self._raw.append(event.data)
                self._raw_cond.notify_all()
            return
        if isinstance(event, Intermediate) and self.protocol.pending is None:
            # CONNECT of a transparent-mode open: data mode begins.
            with self._raw_cond:
                self._raw_closed = False
            event = Urc(event.text)
        if isinstance(event, Urc) or (isinstance(event, DataBlock) and not event.solicited):
            self._urc_history.append(event)
            text = event.text if isinstance(event, Urc) else event.header
            with self._lock:
                waiters = list(self._waiters)
                subscribers = list(self._subscribers)
            for waiter in waiters:
                try:
                    waiter._offer(event)
                except Exception:  # a bad predicate must not kill the reader
                    log.exception("URC waiter predicate failed on %r", text)
            for prefix, handler in subscribers:
                if text.startswith(prefix):
                    try:
                        handler(event)
                    except Exception:
                        log.exception("URC handler for %r failed", prefix)
            return
        if isinstance(event, Final):
            if event.text == "OK" and not self.protocol.in_raw_mode:
                if not self._raw_closed:  # already closed: no reader to wake
                    self.mark_raw_closed()
            elif event.kind == "CONNECT" and self.protocol.in_raw_mode:
                with self._raw_cond:  # ATO: data mode again
                    self._raw_closed = False
        for_command.append(event)
