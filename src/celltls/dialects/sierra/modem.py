"""The virtual Sierra Wireless AirPrime modem (``celltls sim sierra --model rc7620|hl7800``).

Written from the documents listed in :mod:`celltls.dialects.sierra.catalog` and the shapes of the
seed thread's log (SEED-000), not from the driver. What it does:

- ``AT+KPATTERN``: the end-of-data pattern of every data phase (default ``--EOF--Pattern--``).
- ``AT+KCNXCFG``, ``AT+KCNXUP``/``AT+KCNXDOWN`` (HL78xx only) with ``+KCNX_IND``; ``AT+CEREG``,
  ``AT+CGPADDR``, ``AT+CSQ``.
- ``AT+KCERTSTORE`` (RC76xx: the file then ``+++``; HL78xx: ``<type>,<size>[,<index>]``, the
  file then the EOF pattern), ``AT+KPRIVKSTORE``, ``AT+KCERTDELETE``, ``AT+KPRIVKDELETE``,
  ``AT+KCERTSTORE?`` (listing), ``AT+KSSLCRYPTO`` (HL78xx).
- The HTTP client: ``AT+KHTTPCFG`` (answers ``+KHTTPCFG: <id>``, connects at once and reports
  ``+KHTTP_IND: <id>,1`` or ``+KHTTP_ERROR: <id>,5``), ``AT+KHTTPHEADER`` (lines up to the
  pattern; with no pattern within ``data_timeout`` seconds: ``+KHTTP_ERROR: <id>,6``, as in
  SEED-000), ``AT+KHTTPGET``/``AT+KHTTPHEAD``/``AT+KHTTPPOST`` (``CONNECT``, the response as the
  server sent it, the pattern, ``OK``, then ``+KHTTP_IND: <id>,3,<len>,<code>,"<reason>"``), a
  ``<request_uri>`` longer than the model takes refused with ``+CME ERROR: 3`` (SEED-000),
  ``AT+KHTTPCLOSE``, ``AT+KHTTPDEL``.
- TLS sockets (HL78xx): ``AT+KTCPCFG=<cnx>,3,...``, ``AT+KTCPCNX`` (``+KTCP_IND: <id>,1`` or
  ``+KTCP_NOTIF: <id>,<n>``), ``AT+KTCPSND`` (``CONNECT``, data up to the pattern, ``OK``;
  ``+KTCP_NOTIF: <id>,8`` when the count differs), ``+KTCP_DATA: <id>,<n>`` when data arrives,
  ``AT+KTCPRCV`` (``CONNECT``, data, pattern, ``OK``), ``AT+KTCPCLOSE``, ``AT+KTCPDEL``, and
  ``+KTCP_NOTIF: <id>,4`` when the server closes.

TLS is real (:class:`celltls.sim.network.TlsConnection`), limited to TLS 1.2 and
:data:`~celltls.dialects.sierra.catalog.CIPHER_SUITES`; the server is verified against the stored
root CA, and a secure session with no root CA stored fails with notification 5 as SEED-000's
HTTPS attempts did. Plain HTTP (``<secure>`` 0) is not simulated (``+CME ERROR: 4``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celltls.dialects.sierra import catalog as cat
from celltls.sim.engine import ATEngine, CommandError, ParsedCommand, unquote
from celltls.sim.network import (
    ContextBuild,
    TlsConnection,
    TlsOpenError,
    build_client_context,
)

log = logging.getLogger(__name__)


@dataclass
class _HttpSession:
    sid: int
    host: str
    port: int
    secure: bool
    cipher_index: int
    connected: bool = False
    headers: bytes = b""


@dataclass
class _TcpSession:
    sid: int
    host: str
    port: int
    secure: bool
    cipher_index: int
    conn: TlsConnection | None = None
    rx: bytearray = field(default_factory=bytearray)
    state: int = 1  # +KTCPSTAT <status>
    notified: bool = False


class SierraModem(ATEngine):
    """A virtual AirPrime RC7620 or HL7800.

    Args:
        model: ``"rc7620"`` or ``"hl7800"`` (default).
        data_timeout: seconds a data phase waits for the EOF pattern before it fails.
        connect_timeout: seconds a TLS connection may take.
        **engine: :class:`~celltls.sim.engine.ATEngine` options (``guard_time``, ``latency``...).

    Raises:
        KeyError: unknown model.
    """

    def __init__(
        self, *, model: str | None = None, data_timeout: float = 10.0,
        connect_timeout: float = 20.0, **engine: Any,
    ) -> None:
        self.profile = cat.model(model)
        self.data_timeout = data_timeout
        self.connect_timeout = connect_timeout
        names = {"rc7620": "RC7620", "hl7800": "HL7800"}
        super().__init__(manufacturer="Sierra Wireless", model=names[self.profile.name],
                         revision="celltls-sim", **engine)
        self.certs: dict[tuple[int, int], bytes] = {}
        self.keys: dict[int, bytes] = {}
        self.errors: list[str] = []
        self._reset_sierra()
        for name, handler in {
            "+KPATTERN": self._kpattern, "+KCNXCFG": self._kcnxcfg, "+KCNXUP": self._kcnxup,
            "+KCNXDOWN": self._kcnxdown, "+CEREG": self._cereg, "+CGPADDR": self._cgpaddr,
            "+KCERTSTORE": self._kcertstore, "+KPRIVKSTORE": self._kprivkstore,
            "+KCERTDELETE": self._kcertdelete, "+KPRIVKDELETE": self._kprivkdelete,
            "+KSSLCRYPTO": self._ksslcrypto, "+KHTTPCFG": self._khttpcfg,
            "+KHTTPHEADER": self._khttpheader, "+KHTTPGET": self._khttpget,
            "+KHTTPHEAD": self._khttphead, "+KHTTPPOST": self._khttppost,
            "+KHTTPCLOSE": self._khttpclose, "+KHTTPDEL": self._khttpdel,
            "+KTCPCFG": self._ktcpcfg, "+KTCPCNX": self._ktcpcnx, "+KTCPSND": self._ktcpsnd,
            "+KTCPRCV": self._ktcprcv, "+KTCPCLOSE": self._ktcpclose, "+KTCPDEL": self._ktcpdel,
            "+KTCPSTAT": self._ktcpstat,
        }.items():
            self.register(name, handler)

    def _reset_sierra(self) -> None:
        self.pattern = cat.DEFAULT_PATTERN.encode()
        self.cnx: dict[int, tuple[str, str]] = {}
        self.cnx_up = False
        self.cereg_n = 0
        self.crypto: dict[int, tuple[int, ...]] = {0: (0, 0, 0, 0, 0, 1)}
        self.http: dict[int, _HttpSession] = {}
        self.tcp: dict[int, _TcpSession] = {}
        self._phase_timer: threading.Timer | None = None
        self._escape_hook: Callable[[], None] | None = None

    def on_reboot(self) -> None:
        for session in self.tcp.values():
            if session.conn is not None:
                session.conn.close()
        self._reset_sierra()

    def shutdown(self) -> None:
        with self.lock:
            for session in self.tcp.values():
                if session.conn is not None:
                    session.conn.close()
            if self._phase_timer is not None:
                self._phase_timer.cancel()
        super().shutdown()

    # ------------------------------------------------------------------ helpers
    def _free_sid(self) -> int:
        used = set(self.http) | set(self.tcp)
        for sid in range(cat.SESSION_RANGE[0], cat.SESSION_RANGE[1] + 1):
            if sid not in used:
                return sid
        raise CommandError(3, "all sessions are used")

    @staticmethod
    def _str(arg: str, name: str) -> str:
        text = unquote(arg)
        if text is None:
            raise CommandError(50, f"<{name}> must be quoted")
        return text

    def _pattern_phase(self, on_done: Callable[[bytes], None], on_timeout: Callable[[], None]
                       ) -> None:
        """``CONNECT``, then bytes up to the EOF pattern (HL78-ATIG data phases)."""
        buffer = bytearray()
        pattern = self.pattern

        def handler(data: bytes) -> None:
            buffer.extend(data)
            index = buffer.find(pattern)
            if index < 0:
                return
            self._cancel_phase_timer()
            payload = bytes(buffer[:index])
            self.leave_data_mode(None)
            on_done(payload)

        def expired() -> None:
            with self.lock:
                if self._phase_timer is not timer:
                    return
                self._phase_timer = None
                self.leave_data_mode(None)
                on_timeout()

        timer = threading.Timer(self.data_timeout, expired)
        timer.daemon = True
        self._phase_timer = timer
        self.enter_data_mode(handler)
        timer.start()

    def _cancel_phase_timer(self) -> None:
        if self._phase_timer is not None:
            self._phase_timer.cancel()
            self._phase_timer = None

    def on_escape(self) -> None:
        hook, self._escape_hook = self._escape_hook, None
        self._cancel_phase_timer()
        self._resumable = False
        if hook is not None:
            hook()

    def _context(self, secure_index: int) -> ContextBuild:
        """The module's TLS: 1.2 only, the catalog's suites, verification per
        ``AT+KSSLCRYPTO`` against the root CAs stored with ``AT+KCERTSTORE``.

        Raises:
            TlsOpenError: verification asked for and no CA stored, or a CA that cannot load.
        """
        auth = self.crypto.get(secure_index, (0, 0, 0, 0, 0, 1))[-1]
        ca = b"".join(pem for (kind, _i), pem in sorted(self.certs.items()) if kind == 0)
        return build_client_context(
            versions=["TLSv1.2"], suites=cat.CIPHER_SUITES,
            verify="none" if auth == 0 else "server", ca_pem=ca or None,
        )

    def _open(self, host: str, port: int, cipher_index: int) -> TlsConnection:
        build = self._context(cipher_index)
        return TlsConnection.open(host, port, build, timeout=self.connect_timeout,
                                  latency=self.latency, clock=self.now())

    def _spawn(self, target: Callable[[], None]) -> None:
        threading.Thread(target=target, name="celltls-sim-sierra", daemon=True).start()

    # ------------------------------------------------------------------ network
    def _kpattern(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(f'+KPATTERN: "{self.pattern.decode("latin-1")}"')
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(50, "AT+KPATTERN=<pattern>")
        text = self._str(cmd.args[0], "EOF_pattern")
        if not text or len(text) > cat.MAX_PATTERN:
            raise CommandError(50, "bad pattern length")
        self.pattern = text.encode("latin-1")
        return "OK"

    def _kcnxcfg(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            for cnx, (kind, apn) in sorted(self.cnx.items()):
                self.respond(f'+KCNXCFG: {cnx},"{kind}","{apn}"')
            return "OK"
        if cmd.kind != "write" or len(cmd.args) < 3:
            raise CommandError(50, "AT+KCNXCFG=<cnx cnf>,<type>,<apn>...")
        cnx = self.int_arg(cmd.args[0], *cat.CNX_RANGE)
        self.cnx[cnx] = (self._str(cmd.args[1], "ctxt_type"), self._str(cmd.args[2], "apn"))
        return "OK"

    def _bring_up(self) -> bool:
        if self.cnx_up:
            return True
        if 1 not in self.cnx or self.registration not in (1, 5):
            self.urc("+KCNX_IND: 1,2,1,2,30")
            return False
        self.cnx_up = True
        self.urc("+KCNX_IND: 1,1,0")
        return True

    def _kcnxup(self, cmd: ParsedCommand) -> str | None:
        if not self.profile.cnxup:
            raise CommandError(None, "no AT+KCNXUP on this model")
        self.int_arg(cmd.args[0] if cmd.args else "", *cat.CNX_RANGE)
        self.final("OK")
        self._bring_up()
        return None

    def _kcnxdown(self, cmd: ParsedCommand) -> str | None:
        if not self.profile.cnxup:
            raise CommandError(None, "no AT+KCNXDOWN on this model")
        self.cnx_up = False
        self.final("OK")
        self.urc("+KCNX_IND: 1,3")
        return None

    def _cereg(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(f"+CEREG: {self.cereg_n},{self.registration}")
        elif cmd.kind == "write":
            self.cereg_n = self.int_arg(cmd.args[0], 0, 5)
        elif cmd.kind == "test":
            self.respond("+CEREG: (0-5)")
        return "OK"

    def _cgpaddr(self, cmd: ParsedCommand) -> str:
        address = "10.64.0.17" if self.cnx_up else "0.0.0.0"
        self.respond(f'+CGPADDR: 1,"{address}"')
        return "OK"

    # ------------------------------------------------------------------ credentials
    def _kcertstore(self, cmd: ParsedCommand) -> str | None:
        if cmd.kind == "read":
            for (kind, index), pem in sorted(self.certs.items()):
                self.respond(f"+KCERTSTORE: {kind},{index},{len(pem)}")
            return "OK"
        if cmd.kind != "write" or not cmd.args:
            raise CommandError(50, "AT+KCERTSTORE=<data_type>...")
        kind = self.int_arg(cmd.args[0], 0, 1)
        if not self.profile.certstore_size:
            # RC76xx (SEED-000): the file, then +++ with guard times
            if len(cmd.args) > 1:
                raise CommandError(50, "RC76xx takes AT+KCERTSTORE=<data_type>")
            self.certs.pop((kind, 0), None)
            collected = bytearray()

            def done() -> None:
                self.certs[(kind, 0)] = bytes(collected)

            self._escape_hook = done
            self.enter_data_mode(collected.extend)
            return None
        size = self.int_arg(cmd.args[1], 1, self.profile.max_cert) if len(cmd.args) > 1 else 0
        if size == 0:
            raise CommandError(50, "HL78xx needs <NbData>")
        index = self.int_arg(cmd.args[2], 0, self.profile.cert_slots - 1) if len(cmd.args) > 2 \
            else 0
        self._store_phase(size, lambda data: self.certs.__setitem__((kind, index), data))
        return None

    def _store_phase(self, size: int, store: Callable[[bytes], None]) -> None:
        def done(data: bytes) -> None:
            if len(data) != size:
                self.error(CommandError(50, f"got {len(data)} bytes, announced {size}"))
                return
            store(data)
            self.final("OK")

        def timeout() -> None:
            self.error(CommandError(3, "no EOF pattern"))

        self._pattern_phase(done, timeout)

    def _kprivkstore(self, cmd: ParsedCommand) -> str | None:
        if cmd.kind == "read":
            for index, pem in sorted(self.keys.items()):
                self.respond(f"+KPRIVKSTORE: {index},{len(pem)}")
            return "OK"
        if not self.profile.certstore_size or cmd.kind != "write" or len(cmd.args) != 2:
            raise CommandError(None, "AT+KPRIVKSTORE=<index>,<NbData> (HL78xx)")
        index = self.int_arg(cmd.args[0], 0, 2)
        size = self.int_arg(cmd.args[1], 1, self.profile.max_cert)
        self._store_phase(size, lambda data: self.keys.__setitem__(index, data))
        return None

    def _kcertdelete(self, cmd: ParsedCommand) -> str:
        kind = self.int_arg(cmd.args[0], 0, 1)
        index = self.int_arg(cmd.args[1], 0, 2) if len(cmd.args) > 1 else 0
        if self.certs.pop((kind, index), None) is None:
            raise CommandError(3, "no such certificate")
        return "OK"

    def _kprivkdelete(self, cmd: ParsedCommand) -> str:
        if self.keys.pop(self.int_arg(cmd.args[0], 0, 2), None) is None:
            raise CommandError(3, "no such key")
        return "OK"

    def _ksslcrypto(self, cmd: ParsedCommand) -> str:
        if not self.profile.ksslcrypto:
            raise CommandError(None, "no AT+KSSLCRYPTO on this model")
        if cmd.kind == "read":
            for index, values in sorted(self.crypto.items()):
                self.respond(f"+KSSLCRYPTO: {index}," + ",".join(map(str, values)))
            return "OK"
        if cmd.kind != "write" or len(cmd.args) < 7:
            raise CommandError(50, "AT+KSSLCRYPTO=<cipher_index>,... (7 values or more)")
        index = self.int_arg(cmd.args[0], 0, 4)
        values = tuple(self.int_arg(a, 0, 2**31) for a in cmd.args[1:7])
        if values[-1] not in (0, 1, 3):
            raise CommandError(50, "<auth> must be 0, 1 or 3")
        self.crypto[index] = values
        return "OK"

    # ------------------------------------------------------------------ HTTP client
    def _session(self, arg: str) -> _HttpSession:
        sid = self.int_arg(arg, *cat.SESSION_RANGE)
        session = self.http.get(sid)
        if session is None:
            raise CommandError(3, f"no HTTP session {sid}")
        return session

    def _khttpcfg(self, cmd: ParsedCommand) -> str | None:
        if cmd.kind != "write":
            raise CommandError(50, "AT+KHTTPCFG=...")
        args = list(cmd.args)
        if args and unquote(args[0]) is None:
            self.int_arg(args.pop(0), *cat.CNX_RANGE)
        if not args:
            raise CommandError(50, "no server")
        host = self._str(args[0], "server_name")
        port = self.int_arg(args[1], 1, 65535) if len(args) > 1 and args[1] else 80
        start = self.int_arg(args[5], 0, 1) if len(args) > 5 and args[5] else 1
        secure = self.int_arg(args[6], 0, 1) if len(args) > 6 and args[6] else 0
        cipher = self.int_arg(args[7], 0, 4) if len(args) > 7 and args[7] else 0
        if not secure:
            raise CommandError(4, "plain HTTP is not simulated")
        sid = self._free_sid()
        session = _HttpSession(sid, host, port, bool(secure), cipher)
        self.http[sid] = session
        self.respond(f"+KHTTPCFG: {sid}")
        self.final("OK")
        if start:
            if not self._bring_up():
                self.urc(f"+KHTTP_ERROR: {sid},5")
                return None
            self._spawn(lambda: self._http_connect(session))
        return None

    def _http_connect(self, session: _HttpSession) -> None:
        try:
            conn = self._open(session.host, session.port, session.cipher_index)
        except TlsOpenError as exc:
            with self.lock:
                self.errors.append(exc.reason)
                session.connected = False
                self.urc(f"+KHTTP_ERROR: {session.sid},5")
            return
        conn.close()
        with self.lock:
            session.connected = True
            self.urc(f"+KHTTP_IND: {session.sid},1")

    def _khttpheader(self, cmd: ParsedCommand) -> str | None:
        session = self._session(cmd.args[0] if cmd.args else "")

        def done(data: bytes) -> None:
            session.headers = data
            self.final("OK")

        def timeout() -> None:
            # SEED-000 http_header_fail: CONNECT, then after a while +KHTTP_ERROR: 1,6
            self.urc(f"+KHTTP_ERROR: {session.sid},6")

        self._pattern_phase(done, timeout)
        return None

    def _check_uri(self, arg: str) -> str:
        uri = self._str(arg, "request_uri")
        if len(uri) > self.profile.max_uri:
            raise CommandError(3, f"request_uri of {len(uri)} characters")
        return uri

    def _khttpget(self, cmd: ParsedCommand) -> str | None:
        return self._http_request("GET", cmd)

    def _khttphead(self, cmd: ParsedCommand) -> str | None:
        return self._http_request("HEAD", cmd)

    def _khttppost(self, cmd: ParsedCommand) -> str | None:
        return self._http_request("POST", cmd)

    def _http_request(self, method: str, cmd: ParsedCommand) -> str | None:
        if cmd.kind != "write" or len(cmd.args) < 2:
            raise CommandError(50, f"AT+KHTTP{method}=<session_id>,...")
        session = self._session(cmd.args[0])
        if method == "POST":
            if len(cmd.args) < 3:
                raise CommandError(50, "AT+KHTTPPOST=<session_id>,[<local_uri>],<request_uri>")
            uri = self._check_uri(cmd.args[2])
            show = cmd.args[3] if len(cmd.args) > 3 else "1"
        else:
            uri = self._check_uri(cmd.args[1])
            show = cmd.args[2] if len(cmd.args) > 2 else "1"
        show_resp = (self.int_arg(show, 0, 1) if show else 1) == 1 or method == "HEAD"
        if not session.connected:
            raise CommandError(3, "session not connected")
        if method != "POST":
            self.respond("CONNECT")
            self._spawn(lambda: self._http_exchange(session, method, uri, None, show_resp))
            return None

        def body_done(body: bytes) -> None:
            self._spawn(lambda: self._http_exchange(session, method, uri, body, show_resp))

        def body_timeout() -> None:
            self.urc(f"+KHTTP_ERROR: {session.sid},6")

        self._pattern_phase(body_done, body_timeout)
        return None

    def _http_exchange(self, session: _HttpSession, method: str, uri: str, body: bytes | None,
                       show_resp: bool) -> None:
        custom = session.headers.replace(b"\r\n", b"\n").split(b"\n")
        lines = [line for line in custom if line.strip()]
        names = {line.split(b":", 1)[0].strip().lower() for line in lines}
        head = [f"{method} {uri} HTTP/1.1".encode(), f"Host: {session.host}".encode()]
        head += lines
        if body is not None and b"content-length" not in names:
            head.append(b"Content-Length: %d" % len(body))
        head.append(b"Connection: close")
        request = b"\r\n".join(head) + b"\r\n\r\n" + (body or b"")
        try:
            conn = self._open(session.host, session.port, session.cipher_index)
            conn.send(request)
        except (TlsOpenError, OSError) as exc:
            with self.lock:
                self.errors.append(str(exc))
                self.urc(f"+KHTTP_ERROR: {session.sid},5")
                self.error(CommandError(None, str(exc)))
            return
        received = bytearray()
        state = {"in_body": show_resp, "sent": 0}
        finished = threading.Event()

        def on_data(data: bytes) -> None:
            received.extend(data)
            if not state["in_body"]:
                end = received.find(b"\r\n\r\n")
                if end < 0:
                    return
                state["in_body"] = True
                state["sent"] = end + 4
            out = bytes(received[state["sent"]:])
            state["sent"] = len(received)
            if out:
                self.write_raw(out)

        def on_closed(_reason: str) -> None:
            finished.set()

        conn.start(on_data, on_closed)
        finished.wait(self.connect_timeout + 120)
        conn.close()
        status_line = bytes(received.split(b"\r\n", 1)[0]).decode("latin-1")
        parts = status_line.split(" ", 2)
        code = parts[1] if len(parts) > 1 else "0"
        reason = parts[2] if len(parts) > 2 else ""
        with self.lock:
            self.write_raw(self.pattern + b"\r\nOK\r\n")
            self.urc(f'+KHTTP_IND: {session.sid},3,{len(received)},{code},"{reason}"')

    def _khttpclose(self, cmd: ParsedCommand) -> str:
        self._session(cmd.args[0] if cmd.args else "").connected = False
        return "OK"

    def _khttpdel(self, cmd: ParsedCommand) -> str:
        session = self._session(cmd.args[0] if cmd.args else "")
        del self.http[session.sid]
        return "OK"

    # ------------------------------------------------------------------ TCP / TLS sockets
    def _tcp_session(self, arg: str) -> _TcpSession:
        sid = self.int_arg(arg, *cat.SESSION_RANGE)
        session = self.tcp.get(sid)
        if session is None:
            raise CommandError(910, f"bad session ID {sid}")
        return session

    def _ktcpcfg(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            for sid, s in sorted(self.tcp.items()):
                self.respond(f'+KTCPCFG: {sid},{s.state},1,{3 if s.secure else 0},"{s.host}",'
                             f"{s.port}")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) < 4:
            raise CommandError(50, "AT+KTCPCFG=<cnx cnf>,<mode>,<remote>,<port>...")
        mode = self.int_arg(cmd.args[1], 0, 3)
        if mode == 3 and not self.profile.secure_sockets:
            raise CommandError(4, "no secure TCP client on this model")
        if mode != 3:
            raise CommandError(4, "only the secure client mode is simulated")
        host = self._str(cmd.args[2], "remote_name")
        port = self.int_arg(cmd.args[3], 1, 65535)
        cipher = self.int_arg(cmd.args[8], 0, 4) if len(cmd.args) > 8 and cmd.args[8] else 0
        sid = self._free_sid()
        self.tcp[sid] = _TcpSession(sid, host, port, True, cipher)
        self.respond(f"+KTCPCFG: {sid}")
        return "OK"

    def _ktcpcnx(self, cmd: ParsedCommand) -> str | None:
        session = self._tcp_session(cmd.args[0] if cmd.args else "")
        if session.conn is not None:
            raise CommandError(3, "session is already running")
        self.final("OK")
        if not self._bring_up():
            self.urc(f"+KTCP_NOTIF: {session.sid},0")
            return None
        session.state = 2
        self._spawn(lambda: self._tcp_connect(session))
        return None

    def _tcp_connect(self, session: _TcpSession) -> None:
        try:
            conn = self._open(session.host, session.port, session.cipher_index)
        except TlsOpenError as exc:
            with self.lock:
                self.errors.append(exc.reason)
                session.state = 5
                code = 3 if exc.reason.startswith("dns") else 5
                self.urc(f"+KTCP_NOTIF: {session.sid},{code}")
            return
        with self.lock:
            session.conn = conn
            session.state = 3
            conn.start(lambda data: self._tcp_data(session, data),
                       lambda reason: self._tcp_closed(session))
            self.urc(f"+KTCP_IND: {session.sid},1")

    def _tcp_data(self, session: _TcpSession, data: bytes) -> None:
        with self.lock:
            was_empty = not session.rx
            session.rx.extend(data)
            if was_empty:
                self.urc(f"+KTCP_DATA: {session.sid},{len(session.rx)}")

    def _tcp_closed(self, session: _TcpSession) -> None:
        with self.lock:
            session.state = 5
            self.urc(f"+KTCP_NOTIF: {session.sid},4")

    def _ktcpsnd(self, cmd: ParsedCommand) -> str | None:
        session = self._tcp_session(cmd.args[0] if cmd.args else "")
        ndata = self.int_arg(cmd.args[1] if len(cmd.args) > 1 else "", 1, 4294967295)
        if session.conn is None or session.state != 3:
            raise CommandError(3, "session not connected")
        conn = session.conn

        def done(data: bytes) -> None:
            try:
                conn.send(data)
            except OSError:
                self.urc(f"+KTCP_NOTIF: {session.sid},4")
                self.error(CommandError(None, "send failed"))
                return
            self.final("OK")
            if len(data) != ndata:
                self.urc(f"+KTCP_NOTIF: {session.sid},8")

        def timeout() -> None:
            self.urc(f"+KTCP_NOTIF: {session.sid},6")

        self._pattern_phase(done, timeout)
        return None

    def _ktcprcv(self, cmd: ParsedCommand) -> str | None:
        session = self._tcp_session(cmd.args[0] if cmd.args else "")
        ndata = self.int_arg(cmd.args[1] if len(cmd.args) > 1 else "", 1, 4294967295)
        take = bytes(session.rx[:ndata])
        del session.rx[:ndata]
        self.respond("CONNECT")
        self.write_raw(take + self.pattern)
        self.final("OK")
        if session.rx:
            self.urc(f"+KTCP_DATA: {session.sid},{len(session.rx)}")
        return None

    def _ktcpclose(self, cmd: ParsedCommand) -> str:
        session = self._tcp_session(cmd.args[0] if cmd.args else "")
        if session.conn is not None:
            session.conn.close()
            session.conn = None
        session.state = 5
        return "OK"

    def _ktcpdel(self, cmd: ParsedCommand) -> str:
        session = self._tcp_session(cmd.args[0] if cmd.args else "")
        if session.conn is not None:
            raise CommandError(3, "close the session first")
        del self.tcp[session.sid]
        return "OK"

    def _ktcpstat(self, cmd: ParsedCommand) -> str:
        session = self._tcp_session(cmd.args[0] if cmd.args else "")
        self.respond(f"+KTCPSTAT: {session.state},-1,0,{len(session.rx)}")
        return "OK"

    def on_server_close(self, socket_id: int) -> None:
        session = self.tcp.get(socket_id)
        if session is None or session.conn is None:
            raise ValueError(f"no connection {socket_id}")
        session.conn.abort()


def factory(**options: Any) -> SierraModem:
    """Make a :class:`SierraModem` (for :func:`celltls.sim.serve.register_dialect`)."""
    options = {k: v for k, v in options.items() if v is not None or k != "model"}
    return SierraModem(**options)

