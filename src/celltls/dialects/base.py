"""What every dialect driver offers: its capabilities and the portable operations.

The facade (:class:`celltls.Modem`) chooses a path from a driver's :class:`Capabilities`, never
from the vendor's name.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from celltls.at import quoting
from celltls.at.channel import ATChannel, Reply, UrcWaiter
from celltls.at.codes import REGISTERED, REGISTRATION_STATES, csq_to_dbm
from celltls.at.protocol import Urc
from celltls.dialects.spec import Catalog
from celltls.errors import (
    ATCommandError,
    ATProtocolError,
    ATTimeoutError,
    CellTLSError,
    ModuleRebootedError,
    NetworkError,
    ProfileError,
)
from celltls.http import BaseResponse, Body
from celltls.state import ModuleState
from celltls.tls import Capabilities as Capabilities  # re-exported: part of the driver contract
from celltls.tls import TlsProfile

log = logging.getLogger(__name__)

CredentialKind = Literal["ca", "client_cert", "client_key"]


@dataclass(frozen=True)
class NetworkStatus:
    """The state of the network after :meth:`Dialect.attach`.

    Attributes:
        registered: whether the module is registered (home or roaming).
        registration: the 27.007 <stat> value and its meaning.
        ip_address: the PDP context's IP address, or ``None``.
        apn: the APN used.
    """

    registered: bool
    registration: tuple[int, str]
    ip_address: str | None
    apn: str


@dataclass(frozen=True)
class Signal:
    """Signal quality (3GPP TS 27.007 8.5).

    Attributes:
        rssi: the raw <rssi> (0..31, 99 unknown).
        dbm: the received signal strength in dBm, ``None`` when unknown.
        ber: the raw <ber> (0..7, 99 unknown).
    """

    rssi: int
    dbm: int | None
    ber: int


@dataclass(frozen=True)
class StoredCredential:
    """A credential in the module.

    Attributes:
        name: the module's name for it (``"RAM:ca.pem"``, ``"NVRAM:CA0"``, a sec_tag...).
        kind: ``"ca"``, ``"client_cert"`` or ``"client_key"``.
        size: bytes stored.
        checksum: as the module reports it, when it does.
        uploaded: ``False`` when the same content was already there and nothing was sent.
    """

    name: str
    kind: CredentialKind
    size: int
    checksum: str | None
    uploaded: bool


@dataclass
class RecvClock:
    """The clock of one :meth:`SecureSocket.recv` call, kept by the dialect's ``_fill``.

    Attributes:
        deadline: ``time.monotonic()`` value at which the call gives up (ATTimeoutError); a
            dialect may move it on after data came.
        next_poll: ``time.monotonic()`` value at which the dialect asks the module itself
            rather than waiting for a URC announcing data (a URC may be lost).
    """

    deadline: float
    next_poll: float


class SecureSocket(abc.ABC):
    """A TLS connection held by the module; socket-like for :mod:`celltls.http`.

    What is the same for every dialect lives here: the bytes received but not yet taken
    (:meth:`recv` hands them out in order, a chunk larger than asked for split), the wait for
    more under :attr:`timeout`, :meth:`sendall` cut into pieces of at most the module's
    ``max_send`` bytes, an idempotent :meth:`close`, and the first failure, raised from then on.
    A dialect's socket fills in its commands and its own data accounting: :meth:`_fill` (wait
    for or read data into the buffer with :meth:`_deliver`), :meth:`_send_piece` and
    :meth:`_close_in_module`. The reader thread's notifications and the host side share
    ``_cond`` (its lock guards the buffer and the dialect's counts).

    Args:
        host: the server's name or address.
        port: the server's port.
        max_send: the largest payload of one send command, bytes
            (:attr:`Capabilities.max_send`).

    Attributes:
        timeout: seconds :meth:`recv` waits for data before raising ATTimeoutError.
        poll_interval: seconds without news after which the dialect asks the module itself.
        received: bytes read from the module over the socket's life.
    """

    host: str
    port: int
    timeout: float = 60.0
    poll_interval: float = 2.0

    def __init__(self, host: str, port: int, *, max_send: int) -> None:
        self.host = host
        self.port = port
        self.max_send = max_send
        #: bytes read from the module over the socket's life.
        self.received = 0
        self._cond = threading.Condition()
        #: asks the AT channel's reader thread to read at once (ATChannel.wake_reader), set
        #: by a dialect whose URC handlers notify ``_cond``; ``None``: nothing to wake
        self._wake_reader: Callable[[], None] | None = None
        self._buffer: deque[bytes] = deque()
        self._failure: CellTLSError | None = None
        self._closed = False

    def sendall(self, data: bytes) -> None:
        """Send all of ``data``, in pieces of at most ``max_send`` bytes (:meth:`_send_piece`).

        Raises:
            SocketError: the connection is closed or failed (the dialect says more).
            NetworkLostError, ModuleRebootedError: the network or the module went away.
        """
        view = memoryview(data)
        while view:
            piece = bytes(view[: self.max_send])
            self._send_piece(piece)
            view = view[len(piece) :]

    def recv(self, max_bytes: int) -> bytes:
        """Receive up to ``max_bytes``; ``b""`` when the server closed the connection and
        everything was read. Bytes already received are delivered before an error is raised.

        Raises:
            SocketError: the connection failed (then every later call raises it too).
            NetworkLostError, ModuleRebootedError: the network or the module went away.
            ATTimeoutError: nothing arrived within :attr:`timeout` seconds.
        """
        now = time.monotonic()
        clock = RecvClock(now + self.timeout, now + self.poll_interval)
        while True:
            with self._cond:
                if self._buffer:
                    chunk = self._buffer.popleft()
                    if len(chunk) > max_bytes:
                        self._buffer.appendleft(chunk[max_bytes:])
                        chunk = chunk[:max_bytes]
                    return chunk
                if self._failure is not None:
                    raise self._failure
                if self._closed:
                    return b""
            if not self._fill(clock):
                return b""

    def close(self) -> None:
        """Close the connection (idempotent): :meth:`_close_in_module` once, then wake any
        :meth:`recv` waiting."""
        self._close_once(self._close_in_module)

    @property
    def closed(self) -> bool:
        """Whether the connection is closed."""
        return self._closed

    @property
    def failure(self) -> CellTLSError | None:
        """Why the socket cannot be used any more, or ``None``."""
        return self._failure

    def end_cause(self, wait: float) -> CellTLSError | None:
        """Why the stream ended before the caller expected it to: the failure the module
        reported (a PDP loss, a restart), waiting up to ``wait`` seconds for it, since a module
        may print it just after the close (Quectel GSM: ``CLOSED``, then ``+PDP DEACT``,
        SSL-AN 2.2.10.2). ``None`` when nothing was reported: the server closed it.

        Args:
            wait: seconds to wait for a report (only on this error path: an HTTP body cut
                short).
        """
        with self._cond:
            if self._failure is None and self._wake_reader is not None:
                self._wake_reader()
            self._cond.wait_for(lambda: self._failure is not None, timeout=wait)
            return self._failure

    def _wait_for_news(self, timeout: float) -> None:
        """Wait (``_cond`` held) up to ``timeout`` seconds for a URC handler's notification,
        the channel's reader thread asked to read at once (it may be parked after a command:
        ATChannel.wake_reader)."""
        if self._wake_reader is not None:
            self._wake_reader()
        self._cond.wait(timeout)

    def _close_once(self, close_in_module: Callable[[], None]) -> None:
        """Mark the socket closed and run ``close_in_module``, unless already closed."""
        if self._closed:
            return
        self._closed = True
        try:
            close_in_module()
        finally:
            with self._cond:
                self._cond.notify_all()

    def _deliver(self, data: bytes) -> None:
        """Put bytes read from the module at the end of the buffer (any thread)."""
        if data:
            with self._cond:
                self._buffer.append(data)
                self.received += len(data)

    def _fail(self, error: CellTLSError) -> None:
        """Record the first reason the stream cannot go on and wake waiters (any thread)."""
        with self._cond:
            if self._failure is None:
                self._failure = error
            self._cond.notify_all()

    @abc.abstractmethod
    def _fill(self, clock: RecvClock) -> bool:
        """Make progress towards data while the buffer is empty: wait (``_cond`` notified
        by the reader thread, at most until ``clock.next_poll``) or read with the module's
        commands, handing bytes to :meth:`_deliver`.

        Returns:
            bool: ``False`` when the stream has ended (:meth:`recv` returns ``b""``).

        Raises:
            ATTimeoutError: ``clock.deadline`` passed with no data.
            CellTLSError: the read failed (the dialect's classes).
        """

    @abc.abstractmethod
    def _send_piece(self, piece: bytes) -> None:
        """Send one piece of at most ``max_send`` bytes with the module's send command,
        first checking that the socket can still be used."""

    @abc.abstractmethod
    def _close_in_module(self) -> None:
        """Close the connection in the module (called once, by :meth:`close`)."""

    def __enter__(self) -> SecureSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Dialect(abc.ABC):
    """A dialect driver: vendor knowledge mapped onto the portable operations.

    Attributes:
        name: the dialect's name.
        capabilities: what the module can do.
        catalog: the dialect's catalog; :meth:`at` builds commands from it.
        retry_safe: names of commands safe to send again when their final result code was
            lost (queries, settings that leave the same state); any read form (``AT+X?``) is.
    """

    name: str
    capabilities: Capabilities
    catalog: Catalog | None = None
    retry_safe: frozenset[str] = frozenset()

    def __init__(self, channel: ATChannel) -> None:
        self.channel = channel
        #: the last failure a URC reported (a reboot, a lost network) and how many so far:
        #: waits started before it raise it (:meth:`_report`, :meth:`_raise_trouble`)
        self._trouble: CellTLSError | None = None
        self._trouble_seq = 0
        if self.catalog is not None:
            # the catalog's framing (URC prefixes, data blocks, data-mode exit markers),
            # whoever built the channel
            channel.configure(self.catalog.framing())

    def at(self, name: str, args: str = "", *, check: bool = True, **overrides: object) -> Reply:
        """Send ``AT<name>[=<args>]`` (``args`` ``"?"``: ``AT<name>?``) as the catalog
        describes it: its timeout, response prefix, data phase and result codes
        (:meth:`celltls.dialects.spec.Command.request`); ``overrides`` replace any of them.
        With ``check=False`` a failure final result code is returned, not raised.

        A command of :attr:`retry_safe`, or a read form, whose final result code does not come
        is sent once more (the channel first resynchronises the line with ``AT``); any other
        command's timeout is raised, since the module may have acted on it.

        Raises:
            KeyError: the catalog has no such command (a driver bug).
            UnsafeArgumentError: the line cannot be sent (nothing is written).
            ATCommandError: a failure final result code.
            ATTimeoutError: no final result code (twice for a repeatable command).
            PortError: the port failed.
        """
        if self.catalog is None:
            raise KeyError(f"{type(self).__name__} has no catalog to build AT{name} from")
        command = self.catalog.command(name)
        request = command.request(args, **overrides)
        attempts = 2 if args == "?" or command.name in self.retry_safe else 1
        for attempt in range(attempts):
            mark = self._before_command()
            try:
                return self.channel.execute(request, check=check)
            except ATTimeoutError as exc:
                self._after_lost_answer(mark)
                if attempt + 1 >= attempts:
                    raise
                log.warning("%s: %s; asking again (safe to repeat)", request.display, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    def identify(self) -> dict[str, str]:
        """Turn on numeric ``+CME ERROR`` codes (``AT+CMEE=1``, 27.007 9.1), then read the
        model (``AT+CGMM``, 27.007 5.2) and the firmware (``AT+CGMR``, 27.007 5.3) with
        :meth:`at`. A query the module refuses leaves its entry out.

        Returns:
            dict: ``model`` (the first line of ``AT+CGMM``) and ``firmware`` (the last line
            of ``AT+CGMR``), ``""`` for an answer without lines.

        Raises:
            ATCommandError: ``AT+CMEE=1`` refused.
            ATTimeoutError: no final result code.
            PortError: the port failed.
        """
        self.at("+CMEE", "1")
        info: dict[str, str] = {}
        with contextlib.suppress(ATCommandError):
            model = self.at("+CGMM").lines
            info["model"] = model[0] if model else ""
        with contextlib.suppress(ATCommandError):
            firmware = self.at("+CGMR").lines
            info["firmware"] = firmware[-1] if firmware else ""
        return info

    @abc.abstractmethod
    def close_all(self) -> None:
        """Close every socket and session this driver opened (the end of a :class:`Modem`);
        never raises for a module answer."""

    def _before_command(self) -> int:
        """Hook: called before each try of :meth:`at`; what it returns goes to
        :meth:`_after_lost_answer` (by default the count of failures reported so far)."""
        return self._trouble_seq

    def _after_lost_answer(self, mark: int) -> None:
        """Hook: a try of :meth:`at` got no final result code; a failure a URC reported
        meanwhile (the module rebooted, the network went: :meth:`_report`) explains it and is
        raised instead."""
        self._raise_trouble(mark)

    def _report(self, error: CellTLSError) -> None:
        """Record a failure a URC reported (called on the reader thread): every wait begun
        before it raises it (:meth:`_raise_trouble`, :meth:`wait_urc`)."""
        self._trouble = error
        self._trouble_seq += 1

    def _raise_trouble(self, since: int) -> None:
        """Raise the failure reported after mark ``since`` (a ``_trouble_seq`` value), if any."""
        if self._trouble_seq != since and self._trouble is not None:
            raise self._trouble

    def wait_urc(self, waiter: UrcWaiter, timeout: float, what: str) -> str:
        """Wait for a URC of ``waiter``, failing early on a failure a URC reported meanwhile.

        Returns:
            str: the URC's text (or a data block's header).

        Raises:
            ATTimeoutError: none within ``timeout`` seconds.
            ModuleRebootedError, NetworkLostError...: reported (:meth:`_report`) while waiting.
        """
        seq = self._trouble_seq
        deadline = time.monotonic() + timeout
        while True:
            self._raise_trouble(seq)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ATTimeoutError(what, timeout)
            try:
                event = waiter.wait(min(remaining, 0.25), what)
            except ATTimeoutError:
                continue
            return event.text if isinstance(event, Urc) else event.header

    @abc.abstractmethod
    def initialise(self) -> dict[str, str]:
        """Prepare the command line (error reporting, echo) and identify the module.

        Returns:
            dict: ``manufacturer``, ``model``, ``firmware`` as reported.
        """

    @abc.abstractmethod
    def attach(
        self, apn: str, user: str | None, password: str | None, timeout: float
    ) -> NetworkStatus:
        """Wait for registration and bring up a PDP context with ``apn``.

        Raises:
            NetworkError: not registered within ``timeout`` seconds, or the context failed.
            UnsafeArgumentError: the APN, user or password cannot be sent.
        """

    def attach_again(self, why: str, apn: str, user: str | None, password: str | None,
                     timeout: float, *, restart_urc: str | None) -> None:
        """:meth:`attach` once more with a session's APN, credentials and timeout (seconds),
        after a restart or a lost registration took the PDP context: a driver calls it before
        the next request, so that the request does not fail for want of the network.

        Args:
            why: what happened, for the log and the error (``"the module restarted (RDY)"``).
            restart_urc: the line that reported a restart, or ``None`` when there was none.

        Raises:
            ModuleRebootedError: (``restart_urc`` given) the network did not come back.
            NetworkError: (no ``restart_urc``) the network did not come back.
        """
        log.warning("%s: bringing the network back up (APN %r) as this session's attach() did",
                    why, apn)
        try:
            self.attach(apn, user, password, timeout)
        except NetworkError as exc:
            message = f"{why}, and the network did not come back: {exc}"
            if restart_urc is not None:
                raise ModuleRebootedError(message, urc=restart_urc) from exc
            raise NetworkError(message) from exc

    #: the registration command that matters for data: ``"+CGREG"`` (GPRS, 27.007 10.1.20)
    #: or ``"+CEREG"`` (EPS, 27.007 10.1.22).
    registration_command = "+CGREG"

    def registration(self) -> tuple[int, str]:
        """Read the registration state with ``AT<registration_command>?``.

        Returns:
            tuple: ``(stat, meaning)`` (27.007 7.2 / 10.1.20 / 10.1.22 <stat>).

        Raises:
            ATProtocolError: the answer has no numeric <stat>.
        """
        prefix = self.registration_command + ":"
        reply = self.channel.command(
            f"AT{self.registration_command}?", timeout=2, response_prefixes=(prefix,)
        )
        text = reply.first(prefix)
        fields = quoting.split_arguments(text)
        try:
            stat = int(fields[1] if len(fields) > 1 else fields[0])
        except ValueError:
            raise ATProtocolError(f"malformed registration state {text!r}") from None
        return stat, REGISTRATION_STATES.get(stat, "unknown")

    def wait_registered(self, timeout: float, poll: float = 1.0) -> tuple[int, str]:
        """Poll :meth:`registration` until registered (home or roaming).

        Args:
            timeout: seconds to wait.
            poll: seconds between queries.

        Returns:
            tuple: the registered ``(stat, meaning)``.

        Raises:
            NetworkError: registration denied (stat 3), or not registered within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        name = self.registration_command
        while True:
            stat, meaning = self.registration()
            if stat in REGISTERED:
                return stat, meaning
            if stat == 3:
                raise NetworkError(f"registration denied by the network ({name} stat 3: {meaning})")
            if time.monotonic() > deadline:
                raise NetworkError(
                    f"not registered after {timeout:g} s ({name} stat {stat}: {meaning}); check "
                    "the antenna, the SIM, the signal and that the network offers packet data"
                )
            time.sleep(poll)

    def signal(self) -> Signal:
        """Read the signal quality with ``AT+CSQ`` (27.007 8.5).

        Raises:
            ATProtocolError: the answer is not ``+CSQ: <rssi>,<ber>``.
        """
        text = self.channel.command("AT+CSQ", timeout=2, response_prefixes=("+CSQ:",)).first(
            "+CSQ:"
        )
        rssi_text, _, ber_text = text.partition(",")
        try:
            rssi, ber = int(rssi_text), int(ber_text or 99)
            return Signal(rssi, csq_to_dbm(rssi), ber)
        except ValueError:
            raise ATProtocolError(f"malformed +CSQ answer {text!r}") from None

    @abc.abstractmethod
    def store_credential(
        self, kind: CredentialKind, data: bytes, name: str | None
    ) -> StoredCredential:
        """Store a certificate or key, skipping the upload when the same content is there.

        Raises:
            CredentialError: too large, badly named, or stored corrupted.
        """

    @abc.abstractmethod
    def delete_credential(self, name: str) -> None:
        """Delete a stored credential.

        Raises:
            ATCommandError: the module refused.
        """

    @abc.abstractmethod
    def tls_connect(
        self, host: str, port: int, profile: TlsProfile, *, timeout: float,
        transparent: bool = False,
    ) -> SecureSocket:
        """Provision what ``profile`` needs, apply it and open a secure socket.

        Raises:
            ProfileError: the module cannot implement the profile.
            CertificateVerifyError, TLSNegotiationError, TLSHandshakeError: the handshake
                failed (as far as the cause can be told).
            NetworkError: no network.
            SocketError: no free socket.
        """

    #: whether :meth:`tcp_connect` opens plain TCP sockets (for TLS on the host,
    #: :mod:`celltls.hosttls`); a driver that implements it sets this to ``True``.
    plain_tcp: bool = False
    #: where the driver records what it wrote that the module cannot read back (set by
    #: :class:`celltls.Modem` before :meth:`initialise`; ``None``: nothing is recorded)
    state: ModuleState | None = None

    def tcp_connect(self, host: str, port: int, *, timeout: float) -> SecureSocket:
        """Open a plain (not encrypted) TCP socket through the module, for TLS on the host
        (:mod:`celltls.hosttls`). Same ``sendall``/``recv``/``close`` contract as a secure
        socket; the bytes are the server's, unchanged.

        Args:
            host: the server's name or address (already checked by the caller).
            port: the server's port, 1..65535.
            timeout: seconds the module may take to connect.

        Returns:
            SecureSocket: the byte stream.

        Raises:
            ProfileError: this dialect's driver has no plain TCP sockets (the default, when
                :attr:`plain_tcp` is false).
            NetworkError, ConnectTimeoutError, SocketError: see the driver.
        """
        del host, port, timeout
        raise ProfileError(
            f"plain TCP sockets are not supported by the {self.name} dialect's driver, so TLS "
            "cannot run on the host through it; use the module's own TLS (tls='module')"
        )

    def native_request(
        self,
        method: str,
        url: str,
        *,
        profile: TlsProfile,
        headers: list[tuple[str, str]],
        body: Body,
        timeout: float,
    ) -> BaseResponse:
        """Make the request with the module's own HTTP(S) client (``capabilities.native_http``).

        Args:
            method: ``GET``, ``HEAD``, ``POST``...
            url: ``https://host[:port]/path?query``, already checked for unsafe characters.
            profile: the TLS profile to apply.
            headers: extra request headers.
            body: the request body.
            timeout: seconds the module may take.

        Returns:
            BaseResponse: status, headers and a streamed body.

        Raises:
            ProfileError: the dialect has no native HTTP client (the default).
        """
        raise ProfileError(f"{self.name} has no native HTTP client")
