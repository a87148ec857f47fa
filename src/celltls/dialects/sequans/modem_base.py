"""The state and plumbing of the virtual Sequans modem: NV memory, arguments, TLS/TCP opens.

:class:`SequansBase` is what :mod:`celltls.dialects.sequans.modem` (commands of bring-up,
credentials and security profiles), :mod:`~celltls.dialects.sequans.modem_sockets` and
:mod:`~celltls.dialects.sequans.modem_http` build on. Written from shared/reference/sequans.md
(SQN-REF) and seed 002 (SQN-FORUM), not from the driver; the choices made where SQN-REF says
"unknown" are listed in :mod:`celltls.dialects.sequans.modem`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import json
import logging
import os
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from celltls.dialects.sequans.modem_support import (
    host_matches,
    level_problem,
    load_certificates,
    parse_cipher_specs,
)
from celltls.sim.engine import ATEngine, CommandError, ParsedCommand, unquote
from celltls.sim.network import (
    ContextBuild,
    TcpConnection,
    TlsConnection,
    TlsOpenError,
    build_client_context,
)

__all__ = ["MODELS", "HttpProfile", "Model", "SecurityProfile", "SequansBase"]

log = logging.getLogger(__name__)

BAD = 50  # 27.007 9.2.1 "incorrect parameters" (SQN-REF §10)
NOT_ALLOWED = 3  # 27.007 9.2.1 "operation not allowed"
NO_SERVICE = 30  # 27.007 9.2.1 "no network service"
MAX_SEND = 1500  # SQN-REF §6: AT+SQNSSENDEXT / AT+SQNSRECV carry at most 1500 bytes (S7, S8)
SOCKETS = range(1, 7)  # connId 1-6 (SQN-REF §6)
PROFILES = range(1, 7)  # spId 1-6 (SQN-REF §5)
HTTP_PROFILES = range(0, 3)  # prof_id 0-2 (SQN-REF §7, S3, S5)
NV_TYPES = ("certificate", "privatekey")  # SQN-REF §4 (S2)
#: +CEREG location of the seed's cell (SQN-FORUM: +CEREG: 5,"E198","043A5E0A",7).
TAC, CELL, ACT = "E198", "043A5E0A", 7
#: Content-Type of <post_param> 0-4 (SQN-REF §7: S3, S6, S13).
POST_TYPES = ("application/x-www-form-urlencoded", "text/plain", "application/octet-stream",
              "multipart/form-data", "application/json")
#: SQN-REF §7: <command> of AT+SQNHTTPQRY and AT+SQNHTTPSND.
QRY_METHODS = ("GET", "HEAD", "DELETE")
SND_METHODS = ("POST", "PUT")
#: libcurl CURLcode numbers the HTTP client reports (SQN-REF §8, S14).
RC_OK, RC_DNS, RC_CONNECT, RC_TIMEOUT, RC_TLS = 0, 6, 7, 28, 35
RC_NOTHING, RC_SEND, RC_RECV, RC_CLIENT_CERT, RC_CIPHER = 52, 55, 56, 58, 59
RC_VERIFY, RC_CA = 60, 77
_VERSIONS = {0: "TLSv1", 1: "TLSv1.1", 2: "TLSv1.2"}  # SQN-REF §5 <version>; 3 = TLS 1.3


@dataclass(frozen=True)
class Model:
    """One module model (SQN-REF scope and §4, §9).

    Attributes:
        name: the ``AT+CGMM`` answer.
        family: ``Monarch`` or ``Monarch 2``.
        firmware: the ``AT+CGMR`` answer (versions seen: SQN-REF §3).
        suites: the IANA cipher-suite codes the module offers by default (SQN-REF §9: S2's
            list, plus for Monarch 2 the ECDHE-GCM suites of the GM02S driver S6), limited to
            those the simulator's TLS knows.
        max_cert: largest certificate upload, bytes (M2: 8 kB, S2; M1: 16384, S8).
        max_key: largest private key upload, bytes (M2: 2 kB, S2).
    """

    name: str
    family: str
    firmware: str
    suites: tuple[int, ...]
    max_cert: int
    max_key: int


_BASE_SUITES = (0xC014, 0xC013, 0x003D, 0x003C, 0x0035, 0x002F, 0x009C, 0x000A)
MODELS = {
    "GM02S": Model("GM02S", "Monarch 2", "UE8.2.1.0",
                   (0xC030, 0xC02F, 0xC02C, 0xC02B, 0x009D, *_BASE_SUITES), 8192, 2048),
    "GM02SP": Model("GM02SP", "Monarch 2", "UE8.2.1.0",
                    (0xC030, 0xC02F, 0xC02C, 0xC02B, 0x009D, *_BASE_SUITES), 8192, 2048),
    "GM01Q": Model("GM01Q", "Monarch", "LR5.1.1.0-32741", _BASE_SUITES, 16384, 2048),
    "RYZ014A": Model("RYZ014A", "Monarch", "LR5.1.1.0-32741", _BASE_SUITES, 16384, 2048),
}


class _Link(Protocol):
    """What a socket or HTTP transfer needs of its connection (TLS or plain TCP)."""

    def start(self, on_data: Callable[[bytes], None], on_closed: Callable[[str], None],
              can_receive: Callable[[], bool] | None = None) -> None: ...

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class _SqnTls(TlsConnection):
    """A TLS connection that can show the server's certificate (for the host-name check)."""

    def peer_der(self) -> bytes:
        """The server's certificate, DER (``b""`` when it sent none)."""
        sock = self._sock
        assert isinstance(sock, ssl.SSLSocket)
        return sock.getpeercert(binary_form=True) or b""


class _OpenFailed(Exception):
    """Opening a connection failed with libcurl code ``rc`` (SQN-REF §8)."""

    def __init__(self, rc: int, reason: str) -> None:
        super().__init__(reason)
        self.rc = rc
        self.reason = reason


@dataclass
class SecurityProfile:
    """One ``AT+SQNSPCFG`` profile (SQN-REF §5; defaults: all validation off, S2)."""

    sp_id: int
    version: int = 2
    ciphers: str = ""
    level: int = 0
    ca: int | None = None
    client_cert: int | None = None
    client_key: int | None = None
    psk: str = ""
    psk_identity: str = ""
    storage: int = 0
    resume: int = 0
    lifetime: int = 0

    def line(self) -> str:
        """The echo/list line: ten fields, unset ids as ``""``, no PSK (SQN-FORUM, S1)."""

        def opt(value: int | None) -> str:
            return '""' if value is None else str(value)

        return (f'+SQNSPCFG: {self.sp_id},{self.version},"{self.ciphers}",{self.level:X},'
                f"{opt(self.ca)},{opt(self.client_cert)},{opt(self.client_key)},"
                f"{self.storage},{self.resume},{self.lifetime}")


@dataclass
class HttpProfile:
    """One ``AT+SQNHTTPCFG`` profile (SQN-REF §7)."""

    prof_id: int
    host: str = ""
    port: int = 80
    auth: int = 0
    user: str = ""
    password: str = ""
    ssl: int = 0
    max_to: int = 120
    cid: int = 1
    sp_id: int = 1
    cnx_to: int = 60
    inactivity: int = 15


@dataclass
class _HttpState:
    """What RAM holds of an HTTP profile: its connection, a transfer under way, the body."""

    link: _Link | None = None
    busy: bool = False
    body: bytearray = field(default_factory=bytearray)


@dataclass
class _Socket:
    """One socket, connId 1-6 (SQN-REF §6); its configuration is RAM (our choice)."""

    conn_id: int
    cid: int = 1
    pkt_sz: int = 300
    max_to: int = 90
    conn_to: int = 600
    tx_to: int = 50
    sr_mode: int = 0
    recv_hex: int = 0
    keepalive: int = 0
    listen_auto: int = 0
    send_hex: int = 0
    secure: bool = False
    sp_id: int = 1
    state: int = 0  # +SQNSS <state>: 0 closed, 1 active, 2 suspended, 3 pending data, 6 opening
    host: str = ""
    port: int = 0
    local_port: int = 0
    closure: int = 0
    online: bool = False
    link: _Link | None = None
    rx: bytearray = field(default_factory=bytearray)
    sent: int = 0
    received: int = 0
    armed: bool = True


class SequansBase(ATEngine):
    """The state every part of the virtual Sequans modem shares: NV memory (certificates,
    keys, security and HTTP profiles, PDP contexts), sockets and HTTP transfers in RAM, timers,
    argument parsing and the TLS/TCP opens (the commands: :mod:`celltls.dialects.sequans.modem`).

    Args:
        model: ``"GM02S"`` (default), ``"GM02SP"``, ``"GM01Q"`` or ``"RYZ014A"``, any case.
        nvram_path: a JSON file keeping the non-volatile memory across processes (read at
            start, written on each change); ``None``: in memory (it still survives a reboot).
        registration_delay: seconds from ``AT+CFUN=1`` to each registration URC.
        boot_time: seconds from ``AT^RESET``'s ``OK`` to ``+SYSSTART``.
        boot_cfun: the functionality level after a boot (0, as in SQN-FORUM).
        connect_timeout: the longest a TCP/TLS connection may take, seconds.
        rx_buffer: bytes a socket buffers before the server is held back (flow control).
        data_timeout: seconds a ``> `` data phase waits for the next byte of its payload.
        unset_clock: the clock reads 1970-01-01 after each boot until the network sets it
            (``AT+CTZU=1`` and registration), ``AT+SQNNTP`` or ``AT+CCLK=`` does (SQN-REF §3
            and pitfall 4: until then certValidLevel bit 0 fails on the validity dates).
        **engine: :class:`~celltls.sim.engine.ATEngine` options (``guard_time``, ``latency``,
            ``clock``...).

    Raises:
        KeyError: unknown model.
    """

    eps_registration = True

    def __init__(
        self, *, model: str | None = None, nvram_path: str | Path | None = None,
        registration_delay: float = 0.05, boot_time: float = 0.05, boot_cfun: int = 0,
        connect_timeout: float = 30.0, rx_buffer: int = 32768, data_timeout: float = 20.0,
        unset_clock: bool = False,
        **engine: Any,
    ) -> None:
        self.profile = MODELS[(model or "GM02S").upper()]
        self.registration_delay = registration_delay
        self.boot_time = boot_time
        self.boot_cfun = boot_cfun
        self.connect_timeout = connect_timeout
        self.rx_buffer = rx_buffer
        self.data_timeout = data_timeout
        self.unset_clock = unset_clock
        self.off = False
        self.nvram_path = Path(nvram_path) if nvram_path is not None else None
        self.nv: dict[tuple[str, int], bytes] = {}
        self.spcfg: dict[int, SecurityProfile] = {}
        self.httpcfg: dict[int, HttpProfile] = {}
        self.pdp: dict[int, tuple[str, str]] = {1: ("IPV4V6", "")}
        self.errors: list[str] = []
        self.boots = 0
        self._timers: list[threading.Timer] = []
        self.sockets: dict[int, _Socket] = {}
        self.http: dict[int, _HttpState] = {}
        super().__init__(manufacturer="SEQUANS Communications", model=self.profile.name,
                         revision=self.profile.firmware, **engine)
        self._load_nv()
        self._reset_sequans()
        if unset_clock:
            self.set_clock(_EPOCH)

    def _reset_state(self) -> None:
        super()._reset_state()
        # SQN-FORUM: after +SYSSTART the host sends AT+CFUN=1 before anything registers
        self.cfun = getattr(self, "boot_cfun", 0)
        self.registration = 1 if self.cfun == 1 else 0
        self.attached = self.cfun == 1
        self.csq = (20, 99)  # SQN-REF §3: ber always 99 (S2)
        self.ctzu = 0

    def _reset_sequans(self) -> None:
        self.sockets = {i: _Socket(i) for i in SOCKETS}
        self.http = {p: _HttpState() for p in HTTP_PROFILES}

    def _load_nv(self) -> None:
        if self.nvram_path is None or not self.nvram_path.exists():
            return
        stored = json.loads(self.nvram_path.read_text())
        for key, blob in stored.get("nv", {}).items():
            kind, index = key.rsplit(":", 1)
            self.nv[(kind, int(index))] = base64.b64decode(blob)
        self.spcfg = {int(k): SecurityProfile(**v) for k, v in stored.get("spcfg", {}).items()}
        self.httpcfg = {int(k): HttpProfile(**v) for k, v in stored.get("httpcfg", {}).items()}
        self.pdp = {int(k): (v[0], v[1]) for k, v in stored.get("pdp", {}).items()}

    def _save_nv(self) -> None:
        if self.nvram_path is None:
            return
        payload = {
            "nv": {f"{k}:{i}": base64.b64encode(v).decode() for (k, i), v in self.nv.items()},
            "spcfg": {str(k): asdict(v) for k, v in self.spcfg.items()},
            "httpcfg": {str(k): asdict(v) for k, v in self.httpcfg.items()},
            "pdp": {str(k): list(v) for k, v in self.pdp.items()},
        }
        fd = os.open(self.nvram_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=1)

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` (engine lock held) after ``delay`` seconds, unless a reboot came."""
        boot = self.boots

        def fire() -> None:
            with self.lock:
                with contextlib.suppress(ValueError):
                    self._timers.remove(timer)
                if self.boots == boot:
                    action()

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _cancel_timers(self) -> None:
        timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()

    def _close_everything(self) -> None:
        for sock in self.sockets.values():
            link, sock.link = sock.link, None
            if link is not None:
                link.close()
        for state in self.http.values():
            link, state.link = state.link, None
            if link is not None:
                link.close()

    def on_reboot(self) -> None:
        """RAM is lost (sockets, HTTP transfers), NV kept; ``+SYSSTART`` once booted
        (SQN-REF §3: S2, S3, S8; pitfall 16: all state lost)."""
        self.boots += 1
        self.off = False
        self._cancel_timers()
        self._close_everything()
        self._reset_sequans()
        if self.unset_clock:
            self.set_clock(_EPOCH)
        self._later(self.boot_time, lambda: self.urc("+SYSSTART"))

    def feed(self, data: bytes) -> None:
        """As the engine, except after ``AT+SQNSSHDN``: nothing is read until a reboot (the
        RESETN line, SQN-REF §3, S2)."""
        with self.lock:
            if self.off:
                return
        super().feed(data)

    def fault_crash(self, text: str = "^EXIT: exception: 7 ITYPE: 0x6600e4 PC: 0x1c4063a2 "
                    "EVA: 0x04fffffd") -> None:
        """A firmware crash (SQN-REF §2, L3, pitfall 16): the ``^EXIT`` line, written even in
        a data phase, then the reboot and ``+SYSSTART``."""
        with self.lock:
            self.write_raw(b"\r\n" + text.encode("latin-1") + b"\r\n")
            self.reboot()

    def on_server_close(self, socket_id: int) -> None:
        """Make the server drop socket ``socket_id`` (a fault: ``fault_server_close``).

        Raises:
            ValueError: that socket (connId 1-6) has no connection.
        """
        sock = self.sockets.get(socket_id)
        if sock is None or sock.link is None:
            raise ValueError(f"no connection {socket_id}")
        sock.link.abort()

    def shutdown(self) -> None:
        """Stop the timers and close every connection (the simulator stops)."""
        with self.lock:
            self._cancel_timers()
            self._close_everything()
        super().shutdown()

    @staticmethod
    def _count(cmd: ParsedCommand, low: int, high: int) -> tuple[str, ...]:
        if cmd.kind != "write":
            raise CommandError(BAD, f"AT{cmd.name}=... expected")
        if not low <= len(cmd.args) <= high:
            raise CommandError(BAD, f"AT{cmd.name} takes {low}-{high} values")
        return cmd.args + ("",) * (high - len(cmd.args))

    def _num(self, arg: str, low: int, high: int, default: int | None = None) -> int:
        if not arg.strip():
            if default is None:
                raise CommandError(BAD, "a value is missing")
            return default
        text = unquote(arg)
        return self.int_arg(text if text is not None else arg, low, high, code=BAD)

    @staticmethod
    def _text(arg: str, max_len: int = 255) -> str:
        if not arg.strip():
            return ""
        text = unquote(arg)
        if text is None:
            raise CommandError(BAD, "a quoted string expected")  # no value: it may be secret
        if len(text) > max_len:
            raise CommandError(BAD, f"{len(text)} characters, at most {max_len}")
        return text

    def _slot(self, arg: str) -> int | None:
        """An NV slot id 0-19, or ``None`` for an empty value or ``""`` (SQN-REF §5)."""
        text = unquote(arg)
        if not arg.strip() or text == "":
            return None
        return self._num(arg, 0, 19)

    def _socket(self, arg: str) -> _Socket:
        return self.sockets[self._num(arg, 1, len(SOCKETS))]

    def _prompt(self, size: int | None, done: Callable[[bytes], None],
                cancel: Callable[[], None] | None = None) -> None:
        """``\\r\\n> `` (CR LF, ``>``, space, no line end: SQN-REF §2, S7, L1), then the
        payload; when no byte of it comes for ``data_timeout`` seconds the phase ends with
        ``ERROR`` and the line takes commands again (our choice: SQN-REF does not say)."""
        finished = False
        seen = 0

        def complete(data: bytes) -> None:
            nonlocal finished
            finished = True
            done(data)

        def expire() -> None:
            nonlocal seen
            if finished or self._phase_done is not complete:
                return
            if len(self._phase_buf) != seen:  # bytes still coming: wait on
                seen = len(self._phase_buf)
                self._later(self.data_timeout, expire)
                return
            self._end_phase()
            self.error(CommandError(None, "the data phase timed out"))

        with self.lock:
            self._emit(b"\r\n")
            self.start_prompt(size, complete, cancel or (lambda: self.final("OK")),
                              max_length=MAX_SEND)
            self._later(self.data_timeout, expire)

    def _context(self, sp_id: int) -> tuple[ContextBuild, SecurityProfile]:
        """The module's TLS for security profile ``sp_id`` (SQN-REF §5, §9).

        Raises:
            _OpenFailed: 77 for an invalid ``certValidLevel`` or a CA missing or unreadable;
                58 for a client certificate/key missing; 59 for no usable suite; 35 for what
                is not simulated (TLS 1.3, PSK).
        """
        profile = self.spcfg.get(sp_id) or SecurityProfile(sp_id)
        problem = level_problem(profile.level)
        if problem:
            raise _OpenFailed(RC_CA, f"certValidLevel {profile.level:X}: {problem}")
        if profile.version not in _VERSIONS:
            raise _OpenFailed(RC_TLS, "TLS 1.3 is not simulated")
        if profile.psk:
            raise _OpenFailed(RC_TLS, "PSK cipher suites are not simulated")
        wanted = parse_cipher_specs(profile.ciphers)
        suites = [c for c in wanted if c in self.profile.suites] if wanted else list(
            self.profile.suites)
        if not suites:
            raise _OpenFailed(RC_CIPHER, f"no suite of {profile.ciphers} is supported")
        ca_pem: bytes | None = None
        verify = "none"
        if profile.level & 0x01:
            verify = "server"
            ca_pem = self.nv.get(("certificate", profile.ca)) if profile.ca is not None else None
            if ca_pem is None:
                raise _OpenFailed(RC_CA, f"no CA certificate in slot {profile.ca}")
            try:
                load_certificates(ca_pem)
            except ValueError as exc:
                raise _OpenFailed(RC_CA, f"CA in slot {profile.ca}: {exc}") from None
            ca_pem = ca_pem.replace(b"\r", b"")
        client: tuple[bytes, bytes] | None = None
        if profile.client_cert is not None or profile.client_key is not None:
            cert = self.nv.get(("certificate", profile.client_cert or 0))
            key = self.nv.get(("privatekey", profile.client_key or 0))
            if profile.client_cert is None or profile.client_key is None or not cert or not key:
                raise _OpenFailed(RC_CLIENT_CERT, "client certificate or key missing")
            client = (cert.replace(b"\r", b""), key.replace(b"\r", b""))
        try:
            build = build_client_context(
                versions=[_VERSIONS[profile.version]], suites=suites,
                verify="mutual" if client and verify == "server" else verify, ca_pem=ca_pem,
                client_cert_pem=client[0] if client else None,
                client_key_pem=client[1] if client else None)
        except TlsOpenError as exc:
            raise _OpenFailed(RC_CLIENT_CERT if "client" in exc.reason else RC_TLS,
                              exc.reason) from None
        if client and verify == "none":
            _load_client(build.context, *client)
        return build, profile

    def _open(self, host: str, port: int, secure: bool, sp_id: int, timeout: float) -> _Link:
        """Connect (and handshake, and verify per ``certValidLevel``) within ``timeout``.

        Raises:
            _OpenFailed: with its libcurl code (module docstring).
        """
        try:
            if not secure:
                return TcpConnection.open(host, port, timeout=timeout, latency=self.latency)
            build, profile = self._context(sp_id)
            link = _SqnTls.open(host, port, build, timeout=timeout, latency=self.latency,
                                clock=self.now() if profile.level & 0x01 else None)
        except TlsOpenError as exc:
            reason = exc.reason
            rc = (RC_DNS if reason.startswith("dns") else RC_TIMEOUT if reason.startswith(
                "timeout") else RC_CONNECT if reason.startswith("connect") else RC_VERIFY
                if reason.startswith("verify") else RC_CA if reason.startswith("no CA")
                else RC_TLS)
            raise _OpenFailed(rc, reason) from None
        assert isinstance(link, _SqnTls)
        if profile.level & 0x04:
            ok, names = host_matches(link.peer_der(), host)
            if not ok:
                link.close()
                raise _OpenFailed(RC_VERIFY, f"host name {host} not in the certificate "
                                  f"(names: {', '.join(names) or 'none'})")
        return link

    def _spawn(self, target: Callable[[], None]) -> None:
        threading.Thread(target=target, name="celltls-sim-sequans", daemon=True).start()



_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def _load_client(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """Load a client certificate and key into ``context`` (files in a private directory,
    removed at once: :mod:`ssl` loads them only from files).

    Raises:
        _OpenFailed: 58, the credentials cannot be loaded.
    """
    with tempfile.TemporaryDirectory(prefix="celltls-sqn-") as directory:
        paths = []
        for name, blob in (("c.pem", cert), ("k.pem", key)):
            path = os.path.join(directory, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            paths.append(path)
        try:
            context.load_cert_chain(paths[0], paths[1])
        except (ssl.SSLError, ValueError) as exc:
            raise _OpenFailed(RC_CLIENT_CERT, f"client credentials: {exc}") from None


