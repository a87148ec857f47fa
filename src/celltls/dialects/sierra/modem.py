"""The virtual Sierra Wireless AirPrime modem (``celltls sim sierra --model rc7620|hl7800``).

Written from the documents listed in :mod:`celltls.dialects.sierra.catalog`, from
``shared/reference/sierra-hl78xx.md`` (source ids S#/L# below) and from the shapes of the seed
thread's log (SEED-000), not from the driver. What it does:

- ``ATI`` answers one line, the model (``HL7800``, L3); ``ATI3`` and ``AT+CGMR`` the firmware
  string on one line (L1). ``AT+KSREP=<0|1>`` / ``AT+KSREP?`` (kept across reboots, as in NV);
  a reboot drops every session and the PDP connection and, after ``AT+KSREP=1``, reports
  ``+KSUP: 0`` (§2, S1).
- ``AT+KPATTERN``: the end-of-data pattern of every data phase (default ``--EOF--Pattern--``).
- ``AT+KCNXCFG``, ``AT+KCNXUP``/``AT+KCNXDOWN`` (HL78xx only) with ``+KCNX_IND``; ``AT+CEREG``,
  ``AT+CGPADDR``, ``AT+CSQ``. The network deactivating the PDP context reports
  ``+KCNX_IND: 1,0,0`` and ``+KTCP_NOTIF: <id>,0`` for every open session (§3, S7). A session
  brings the PDP up by itself (``+KCNX_IND: 1,4,1`` then ``1,1,0``: L3, L2); closing the last one
  starts the idle count-down (``OK``, ``+KCNX_IND: 1,5,30``, then ``1,3``: L1, S5b), which a new
  session cancels (``+KCNX_IND: 1,6``, S7).
- ``AT+KCERTSTORE`` (RC76xx: the file then ``+++``; HL78xx: ``<type>,<size>[,<index>]``, the
  file then the EOF pattern), ``AT+KPRIVKSTORE``, ``AT+KCERTDELETE``, ``AT+KPRIVKDELETE``,
  ``AT+KCERTSTORE?`` (listing), ``AT+KSSLCRYPTO`` (HL78xx).
- The HTTP client: ``AT+KHTTPCFG`` (answers ``+KHTTPCFG: <id>``, connects at once and reports
  ``+KHTTP_IND: <id>,1`` or ``+KHTTP_ERROR: <id>,5``), ``AT+KHTTPCFG?`` (every session, §6 S5d),
  ``AT+KHTTPCNX``, ``AT+KHTTPHEADER`` (lines up to the pattern; with no pattern within
  ``data_timeout`` seconds: ``+KHTTP_ERROR: <id>,6``, as in SEED-000),
  ``AT+KHTTPGET``/``AT+KHTTPHEAD``/``AT+KHTTPPOST`` (``CONNECT``, the response as the server sent
  it, the pattern, ``OK``, then ``+KHTTP_IND: <id>,3,<len>,<code>,"<reason>"``), a
  ``<request_uri>`` longer than the model takes refused with ``+CME ERROR: 3`` (SEED-000),
  ``AT+KHTTPCLOSE``, ``AT+KHTTPDEL``.
- TCP sessions (§4): ``AT+KTCPCFG=[<cnx>],0,"<host>",<port>`` (plain TCP client, both models)
  and ``...,3,...`` (TLS client, HL78xx) answered ``+KTCPCFG: <id>``; ``AT+KTCPCFG?`` lists every
  defined session; ``AT+KTCPCNX`` (``OK``, then ``+KTCP_IND: <id>,1`` or
  ``+KTCP_NOTIF: <id>,<n>``), ``AT+KTCPSND`` (``CONNECT``, data up to the pattern, ``OK``;
  ``+KTCP_NOTIF: <id>,8`` when the count differs), ``+KTCP_DATA: <id>,<n>`` with ``n`` the unread
  bytes at that moment, sent once and re-armed by the next ``AT+KTCPRCV`` (S5b, S5e, S7 p.220),
  ``AT+KTCPRCV=<id>,<ndata>`` (``CONNECT``, min(ndata, buffered) bytes, the pattern, ``OK``;
  S7 p.207, S2, S1), ``AT+KTCPSTAT=<id>`` (``+KTCPSTAT: <status>,<tcp_notif>,<rem_data>,
  <rcv_data>``, S5b), ``AT+KTCPCLOSE``, ``AT+KTCPDEL``, ``+KTCP_NOTIF: <id>,4`` when the server
  closes (buffered data stays readable, S4). An id that is not defined answers
  ``+CME ERROR: 910``; a session beyond the model's limit (6 on HL78xx, S4) ``+CME ERROR: 912``.
- Sessions (TCP and HTTP, one pool of ids as on the HL75, S7 p.192) belong to the modem, not
  to the host's connection: they stay, with their open connections and buffered data, when the
  host's serial connection drops and another one opens (:mod:`celltls.sim.serve` keeps one modem
  object for all of them), until ``AT+KTCPDEL``/``AT+KHTTPDEL`` or a reboot frees them.

Choices where the reference says "unknown": ``AT+KTCPRCV`` with nothing buffered on a session
that has been connected returns ``CONNECT``, no data, the pattern, ``OK`` (the S7 min rule with
0); ``AT+KTCPCFG?`` ``<status>`` is 1 while the session is connecting or connected, else 0;
errors without a documented number use the S6 names: 911 session already running, 922 session
invalid state, 916 parameter out of range, 917 missing parameter. The receive buffer of a
session holds ``rx_buffer`` bytes; beyond that the server is held back by TCP flow control.

TLS is real (:class:`celltls.sim.network.TlsConnection`), limited to TLS 1.2 and
:data:`~celltls.dialects.sierra.catalog.CIPHER_SUITES`; the server is verified against the stored
root CA, and a secure session with no root CA stored fails as SEED-000's HTTPS attempts did
(``+KHTTP_ERROR: <id>,5``; on a TLS socket ``+KTCP_NOTIF: <id>,15``, S2). Plain HTTP
(``<secure>`` 0) is not simulated (``+CME ERROR: 4``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from celltls.dialects.sierra import catalog as cat
from celltls.dialects.spec import Catalog, Value
from celltls.sim.engine import ATEngine, CommandError, ParsedCommand, form_args
from celltls.sim.network import (
    ContextBuild,
    TcpConnection,
    TlsConnection,
    TlsOpenError,
    build_client_context,
)

log = logging.getLogger(__name__)


class _Link(Protocol):
    """What a session needs of its connection (TLS or plain TCP)."""

    def start(self, on_data: Callable[[bytes], None], on_closed: Callable[[str], None],
              can_receive: Callable[[], bool] | None = None) -> None: ...

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


@dataclass
class _HttpSession:
    sid: int
    host: str
    port: int
    secure: bool
    cipher_index: int
    cnx: int = 1
    login: str = ""
    password: str = ""
    connected: bool = False
    headers: bytes = b""


@dataclass
class _TcpSession:
    sid: int
    cnx: int
    mode: int  # 0 TCP client, 3 TLS client (sierra-hl78xx.md §4)
    host: str
    port: int
    src_port: int = 0
    data_mode: int = 0
    urc_endtcp: int = 0
    af: int = 0
    cipher_index: int = 0
    conn: _Link | None = None
    rx: bytearray = field(default_factory=bytearray)
    state: int = 1  # +KTCPSTAT <status>: 1 defined, 2 connecting, 3 up, 5 closed
    notif: int = -1  # +KTCPSTAT <tcp_notif>: the last +KTCP_NOTIF code, -1 none
    armed: bool = True  # whether the next arrival reports +KTCP_DATA

    @property
    def secure(self) -> bool:
        return self.mode == 3


def _int(value: Value, default: int = 0) -> int:
    """A decoded numeric argument, or ``default`` when it was omitted."""
    return value if isinstance(value, int) else default


def _text(value: Value) -> str:
    """A decoded string argument, or ``""`` when it was omitted."""
    return value if isinstance(value, str) else ""


class SierraModem(ATEngine):
    """A virtual AirPrime RC7620 or HL7800.

    The arguments of every K command are checked with the catalog's forms before it acts
    (:meth:`args`: a fault is answered with the S6 code of :data:`~celltls.dialects.sierra.
    catalog.ARGUMENT_ERRORS`, a bad session id with 910), and the test forms the catalog
    documents are answered by the engine from it.

    Args:
        model: ``"rc7620"`` or ``"hl7800"`` (default).
        data_timeout: seconds a data phase waits for the EOF pattern before it fails.
        connect_timeout: seconds a TCP or TLS connection may take.
        rx_buffer: bytes a TCP session buffers before the server is held back (flow control).
        idle_time: seconds the PDP connection stays up after its last session closed (the
            ``<idle>`` of ``AT+KCNXTIMER``; catalog IDLE_TIME).
        **engine: :class:`~celltls.sim.engine.ATEngine` options (``guard_time``, ``latency``...).

    Raises:
        KeyError: unknown model.
    """

    catalog: Catalog | None = cat.CATALOG

    def __init__(
        self, *, model: str | None = None, data_timeout: float = 10.0,
        connect_timeout: float = 20.0, rx_buffer: int = cat.RX_BUFFER,
        idle_time: float = cat.IDLE_TIME, **engine: Any,
    ) -> None:
        self.profile = cat.model(model)
        self.idle_time = idle_time
        self.data_timeout = data_timeout
        self.connect_timeout = connect_timeout
        self.rx_buffer = rx_buffer
        names = {"rc7620": "RC7620", "hl7800": "HL7800"}
        super().__init__(manufacturer="Sierra Wireless", model=names[self.profile.name],
                         revision=f"{names[self.profile.name]}.celltls-sim", **engine)
        self.certs: dict[tuple[int, int], bytes] = {}
        self.keys: dict[int, bytes] = {}
        self.errors: list[str] = []
        self.ksrep = 0  # AT+KSREP, kept in non-volatile memory (sierra-hl78xx.md §2, S1)
        self.boots = 0  # reboots so far: an HTTP exchange under way stops at the next one
        self._reset_sierra()
        for name, handler in {
            "I": self._ati, "+CGMR": self._cgmr, "+KSREP": self._ksrep,
            "+KPATTERN": self._kpattern, "+KCNXCFG": self._kcnxcfg, "+KCNXUP": self._kcnxup,
            "+KCNXDOWN": self._kcnxdown, "+CEREG": self._cereg, "+CGPADDR": self._cgpaddr,
            "+KCERTSTORE": self._kcertstore, "+KPRIVKSTORE": self._kprivkstore,
            "+KCERTDELETE": self._kcertdelete, "+KPRIVKDELETE": self._kprivkdelete,
            "+KSSLCRYPTO": self._ksslcrypto, "+KHTTPCFG": self._khttpcfg,
            "+KHTTPCNX": self._khttpcnx,
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
        self.cnx: dict[int, tuple[str, str, str, str, str]] = {}
        self.cnx_up = False
        self.cereg_n = 0
        # profile 0 as firmware 04.06.01 ships it, <auth> 1 (sierra-hl78xx.md §5, S5a)
        self.crypto: dict[int, tuple[int, ...]] = {
            0: (*cat.KSSL_ECDHE_PROFILE.values(), 1)}
        self.http: dict[int, _HttpSession] = {}
        self.tcp: dict[int, _TcpSession] = {}
        self._phase_timer: threading.Timer | None = None
        self._idle_timer: threading.Timer | None = None
        self._escape_hook: Callable[[], None] | None = None

    def _close_all_links(self) -> None:
        for session in self.tcp.values():
            link, session.conn = session.conn, None
            if link is not None:
                link.close()

    def on_reboot(self) -> None:
        """A reboot forgets the sessions, the PDP connection and the pattern; certificates,
        keys and ``AT+KSREP`` stay; ``+KSUP: 0`` when ``AT+KSREP=1`` (sierra-hl78xx.md §2)."""
        self.boots += 1
        self._close_all_links()
        self._cancel_phase_timer()
        self._cancel_idle()
        self._reset_sierra()
        if self.ksrep:
            self.urc("+KSUP: 0")

    def on_pdp_deactivated(self) -> None:
        """The network dropped the PDP context: ``+KCNX_IND: 1,0,0`` (lost by the network,
        sierra-hl78xx.md §3, S7) and ``+KTCP_NOTIF: <id>,0`` (network error) per open session;
        what they buffered stays readable."""
        was_up, self.cnx_up = self.cnx_up, False
        self._cancel_idle()
        for session in sorted(self.tcp.values(), key=lambda s: s.sid):
            if session.state in (2, 3):
                link, session.conn = session.conn, None
                if link is not None:
                    link.close()
                session.state = 5
                session.notif = 0
                self.urc(f"+KTCP_NOTIF: {session.sid},0")
        for http in self.http.values():
            http.connected = False
        if was_up:
            self.urc("+KCNX_IND: 1,0,0")

    def shutdown(self) -> None:
        with self.lock:
            self._close_all_links()
            self._cancel_phase_timer()
            self._cancel_idle()
        super().shutdown()

    def error(self, exc: CommandError) -> None:
        """As the engine, with the K commands' own texts for ``AT+CMEE=2`` (S6 table)."""
        with self.lock:
            text = cat.CME_ERRORS.get(exc.code) if exc.code is not None else None
            if self.cmee == 2 and text is not None:
                log.debug("command failed: %s", exc.reason)
                self.final(f"+CME ERROR: {text}")
                return
        super().error(exc)

    # ------------------------------------------------------------------ identity, boot
    def _ati(self, cmd: ParsedCommand) -> str:
        """``ATI`` → the model on one line (L3: ``HL7800``); ``ATI3`` → the firmware (L1)."""
        which = cmd.args[0] if cmd.args else "0"
        if which in ("", "0"):
            self.respond(self.model)
        elif which == "3":
            self.respond(self.revision)
        else:
            raise CommandError(None, f"ATI{which} is not simulated")
        return "OK"

    def _cgmr(self, cmd: ParsedCommand) -> str:
        """``AT+CGMR`` → the firmware string alone on its line (L1)."""
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "unexpected form")
        self.respond(self.revision)
        return "OK"

    def _ksrep(self, cmd: ParsedCommand) -> str:
        """``AT+KSREP=<0|1>``; ``AT+KSREP?`` → ``+KSREP: <en>,<status>`` (0 ready; §2, S1, S5)."""
        if cmd.kind == "read":
            self.respond(f"+KSREP: {self.ksrep},0")
        elif cmd.kind == "test":
            self.respond("+KSREP: (0-1)")
        elif cmd.kind == "write":
            self.ksrep = _int(self.args(cmd)["act"])
        else:
            raise CommandError(917, "AT+KSREP=<act>")
        return "OK"

    # ------------------------------------------------------------------ helpers
    def args(self, cmd: ParsedCommand) -> dict[str, Value]:
        """The arguments of a write command, checked with its form in the catalog.

        Raises:
            CommandError: the first fault, with its S6 code (catalog ARGUMENT_ERRORS); any
                fault of ``<session_id>`` is ``+CME ERROR: 910`` (bad session ID, S5b, S7).
        """
        form = cat.CATALOG.command(cmd.name).plain_form()
        return form_args(form, cmd, cat.ARGUMENT_ERRORS,
                         by_param={"session_id": cat.CME_BAD_SESSION})

    def test_answer(self, name: str) -> tuple[str, ...] | None:
        """The catalog's test-form answer, except for the certificate commands on RC76xx,
        whose forms differ from the HL78xx ones the answers were quoted from (SEED-000)."""
        if not self.profile.certstore_size and name.upper() in (
                "+KCERTSTORE", "+KCERTDELETE", "+KPRIVKDELETE"):
            return None
        return super().test_answer(name)

    def _free_sid(self) -> int:
        """The lowest free session id (TCP and HTTP share them: S7 p.192).

        Raises:
            CommandError: ``+CME ERROR: 912``, all sessions are used (sierra-hl78xx.md §4, S6).
        """
        used = set(self.http) | set(self.tcp)
        for sid in range(1, self.profile.sessions + 1):
            if sid not in used:
                return sid
        raise CommandError(cat.CME_ALL_SESSIONS_USED, "all sessions are used")

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
            rest = bytes(buffer[index + len(pattern):])
            buffer.clear()
            self.leave_data_mode(None)
            on_done(payload)
            if rest:
                self.feed(rest)  # what follows the pattern is command input again

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
        if cmd.kind != "write":
            raise CommandError(50, "AT+KPATTERN=<pattern>")
        text = _text(self.args(cmd)["EOF_pattern"])
        if not text:
            raise CommandError(cat.ARGUMENT_ERRORS["length"], "an empty pattern")
        self.pattern = text.encode("latin-1")
        return "OK"

    def _kcnxcfg(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            # L3: 10 fields, the addresses stay 0.0.0.0 even while connected (state 2)
            for cnx, fields in sorted(self.cnx.items()):
                kind, apn, login, password, af = fields
                state = 2 if self.cnx_up and cnx == 1 else 0
                self.respond(f'+KCNXCFG: {cnx},"{kind}","{apn}","{login}","{password}","{af}",'
                             f'"0.0.0.0","0.0.0.0","0.0.0.0",{state}')
            return "OK"
        if cmd.kind != "write":
            raise CommandError(50, "AT+KCNXCFG=<cnx cnf>,<type>,<apn>...")
        a = self.args(cmd)
        self.cnx[_int(a["cnx_cnf"])] = (
            _text(a["ctxt_type"]), _text(a["apn"]), _text(a["login"]), _text(a["password"]),
            _text(a["pdp_type"]) or "IPV4")
        return "OK"

    def _bring_up(self) -> bool:
        if self.cnx_up:
            if self._idle_timer is not None:
                self._cancel_idle()
                self.urc("+KCNX_IND: 1,6")  # idle count-down cancelled (S7)
            return True
        if 1 not in self.cnx or self.registration not in (1, 5):
            self.urc("+KCNX_IND: 1,2,1,2,30")
            return False
        self.cnx_up = True
        # L3: +KCNX_IND: 1,4,1 (connecting, attempt 1), L2: +KCNX_IND: 1,1,0 (connected, IPv4)
        self.urc("+KCNX_IND: 1,4,1")
        self.urc("+KCNX_IND: 1,1,0")
        return True

    def _kcnxup(self, cmd: ParsedCommand) -> str | None:
        if not self.profile.cnxup:
            raise CommandError(None, "no AT+KCNXUP on this model")
        self.args(cmd)
        self.final("OK")
        self._bring_up()
        return None

    def _kcnxdown(self, cmd: ParsedCommand) -> str | None:
        if not self.profile.cnxup:
            raise CommandError(None, "no AT+KCNXDOWN on this model")
        self.args(cmd)
        self.cnx_up = False
        self._cancel_idle()
        self.final("OK")
        self.urc("+KCNX_IND: 1,3")
        return None

    def _start_idle(self) -> None:
        """The last session closed: ``+KCNX_IND: 1,5,<idle>``, and ``+KCNX_IND: 1,3`` with the
        PDP connection down once ``idle_time`` seconds pass (sierra-hl78xx.md §3: L1, S5b)."""
        if not self.cnx_up or any(s.state in (2, 3) for s in self.tcp.values()):
            return
        self._cancel_idle()
        self.urc(f"+KCNX_IND: 1,5,{round(self.idle_time)}")

        def expired() -> None:
            with self.lock:
                if self._idle_timer is not timer:
                    return
                self._idle_timer = None
                self.cnx_up = False
                self.urc("+KCNX_IND: 1,3")

        timer = threading.Timer(self.idle_time, expired)
        timer.daemon = True
        self._idle_timer = timer
        timer.start()

    def _cancel_idle(self) -> None:
        timer, self._idle_timer = self._idle_timer, None
        if timer is not None:
            timer.cancel()

    def _cereg(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(f"+CEREG: {self.cereg_n},{self.registration}")
        elif cmd.kind == "write":
            self.cereg_n = _int(self.args(cmd)["n"])
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
        if cmd.kind != "write":
            raise CommandError(50, "AT+KCERTSTORE=<data_type>...")
        a = self.args(cmd)
        kind = _int(a["data_type"])
        if not self.profile.certstore_size:
            # RC76xx (SEED-000): the file, then +++ with guard times
            if a["NbData"] is not None or a["index"] is not None:
                raise CommandError(cat.ARGUMENT_ERRORS["unexpected"],
                                   "RC76xx takes AT+KCERTSTORE=<data_type>")
            self.certs.pop((kind, 0), None)
            collected = bytearray()

            def done() -> None:
                self.certs[(kind, 0)] = bytes(collected)

            self._escape_hook = done
            self.enter_data_mode(collected.extend)
            return None
        size = _int(a["NbData"])
        if size == 0:
            raise CommandError(cat.ARGUMENT_ERRORS["missing"], "HL78xx needs <NbData>")
        index = _int(a["index"])
        self._check_model_limits(size, index)
        self._store_phase(size, lambda data: self.certs.__setitem__((kind, index), data))
        return None

    def _check_model_limits(self, size: int, index: int) -> None:
        """The model's own limits, within the catalog form's ranges (catalog MODELS).

        Raises:
            CommandError: ``+CME ERROR: 916`` (parameter out of range, S6).
        """
        if size > self.profile.max_cert or index >= self.profile.cert_slots:
            raise CommandError(cat.ARGUMENT_ERRORS["range"],
                               f"{size} bytes in slot {index}: {self.profile.title} takes "
                               f"{self.profile.max_cert} bytes, slots 0-"
                               f"{self.profile.cert_slots - 1}")

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
        if not self.profile.certstore_size or cmd.kind != "write":
            raise CommandError(None, "AT+KPRIVKSTORE=<index>,<NbData> (HL78xx)")
        a = self.args(cmd)
        index, size = _int(a["index"]), _int(a["NbData"])
        self._check_model_limits(size, 0)
        self._store_phase(size, lambda data: self.keys.__setitem__(index, data))
        return None

    def _kcertdelete(self, cmd: ParsedCommand) -> str:
        a = self.args(cmd)
        kind, index = _int(a["data_type"]), _int(a["index"])
        if self.certs.pop((kind, index), None) is None:
            raise CommandError(3, "no such certificate")
        return "OK"

    def _kprivkdelete(self, cmd: ParsedCommand) -> str:
        if self.keys.pop(_int(self.args(cmd)["index"]), None) is None:
            raise CommandError(3, "no such key")
        return "OK"

    def _ksslcrypto(self, cmd: ParsedCommand) -> str:
        if not self.profile.ksslcrypto:
            raise CommandError(None, "no AT+KSSLCRYPTO on this model")
        if cmd.kind == "read":
            for index, values in sorted(self.crypto.items()):
                self.respond(f"+KSSLCRYPTO: {index}," + ",".join(map(str, values)))
            return "OK"
        if cmd.kind != "write":
            raise CommandError(50, "AT+KSSLCRYPTO=<cipher_index>,...")
        a = self.args(cmd)
        names = ("mkey_algo", "auth_algo", "enc_algo", "mac_algo", "tls_ver", "auth")
        self.crypto[_int(a["cipher_index"])] = tuple(_int(a[name]) for name in names)
        return "OK"

    # ------------------------------------------------------------------ HTTP client
    def _session(self, cmd: ParsedCommand) -> tuple[_HttpSession, dict[str, Value]]:
        """The HTTP session a command names, and its checked arguments.

        Raises:
            CommandError: ``+CME ERROR: 910`` for an id that is not an HTTP session
                (sierra-hl78xx.md §6, S10b); see :meth:`args`.
        """
        a = self.args(cmd)
        sid = _int(a["session_id"])
        session = self.http.get(sid)
        if session is None:
            raise CommandError(cat.CME_BAD_SESSION, f"no HTTP session {sid}")
        return session, a

    def _khttpcfg(self, cmd: ParsedCommand) -> str | None:
        if cmd.kind == "read":
            # sierra-hl78xx.md §6 (S5d): +KHTTPCFG: 1,1,"httpbin.org",443,2,"","",0,0,0; the
            # 8th field is 1 while connected; <sec> 0 HTTP, 2 HTTPS
            for sid, h in sorted(self.http.items()):
                self.respond(f'+KHTTPCFG: {sid},{h.cnx},"{h.host}",{h.port},'
                             f'{2 if h.secure else 0},"{h.login}","{h.password}",'
                             f"{int(h.connected)},0,{h.cipher_index}")
            return "OK"
        if cmd.kind != "write":
            raise CommandError(50, "AT+KHTTPCFG=...")
        # AT+KHTTPCFG=<cnx>,"<server>"[,<port>[,<sec>[,"<login>"[,"<pwd>"[,<start>[,<x>
        # [,<cipher_idx>]]]]]]], checked by the catalog form (sierra-hl78xx.md §6, S5d).
        a = self.args(cmd)
        form = cat.CATALOG.command("+KHTTPCFG").plain_form()
        defaults = {p.name: p.default for p in form.params}
        port = _int(a["http_port"], _int(defaults["http_port"]))
        sec = _int(a["http_sec"], _int(defaults["http_sec"]))
        if sec != cat.HTTP_SEC_HTTPS:
            raise CommandError(4, "plain HTTP is not simulated")
        start = _int(a["start_http_session"], 1)  # our choice: the default is not documented
        sid = self._free_sid()
        session = _HttpSession(sid, _text(a["server_name"]), port, True,
                               _int(a["cipher_index"]), _int(a["cnx_cnf"], 1),
                               _text(a["login"]), _text(a["password"]))
        self.http[sid] = session
        self.respond(f"+KHTTPCFG: {sid}")
        self.final("OK")
        if start:
            self._http_start(session)
        return None

    def _http_start(self, session: _HttpSession) -> None:
        if not self._bring_up():
            self.urc(f"+KHTTP_ERROR: {session.sid},5")
            return
        self._spawn(lambda: self._http_connect(session))

    def _khttpcnx(self, cmd: ParsedCommand) -> str | None:
        """``AT+KHTTPCNX=<id>`` → ``OK``, then ``+KHTTP_IND: <id>,1`` (sierra-hl78xx.md §6, S5d)."""
        session, _a = self._session(cmd)
        self.final("OK")
        self._http_start(session)
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
            if self.http.get(session.sid) is not session:
                return
            session.connected = True
            self.urc(f"+KHTTP_IND: {session.sid},1")

    def _khttpheader(self, cmd: ParsedCommand) -> str | None:
        session, _a = self._session(cmd)

        def done(data: bytes) -> None:
            session.headers = data
            self.final("OK")

        def timeout() -> None:
            # SEED-000 http_header_fail: CONNECT, then after a while +KHTTP_ERROR: 1,6
            self.urc(f"+KHTTP_ERROR: {session.sid},6")

        self._pattern_phase(done, timeout)
        return None

    def _check_uri(self, uri: str) -> str:
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
        if cmd.kind != "write":
            raise CommandError(50, f"AT+KHTTP{method}=<session_id>,...")
        session, a = self._session(cmd)
        uri = self._check_uri(_text(a["request_uri"]))
        show_resp = _int(a.get("show_resp"), 1) == 1 or method == "HEAD"
        if not session.connected:
            raise CommandError(3, "session not connected")
        # From CONNECT to the pattern and OK the line carries the response: URCs wait
        # (a URC inside it would be taken for body bytes).
        if method != "POST":
            self.hold_urcs()
            self.respond("CONNECT")
            self._spawn(lambda: self._http_exchange(session, method, uri, None, show_resp))
            return None

        def body_done(body: bytes) -> None:
            self.hold_urcs()
            self._spawn(lambda: self._http_exchange(session, method, uri, body, show_resp))

        def body_timeout() -> None:
            self.urc(f"+KHTTP_ERROR: {session.sid},6")

        self._pattern_phase(body_done, body_timeout)
        return None

    def _http_exchange(self, session: _HttpSession, method: str, uri: str, body: bytes | None,
                       show_resp: bool) -> None:
        try:
            self._http_exchange_held(session, method, uri, body, show_resp)
        finally:
            self.release_urcs()

    def _http_exchange_held(self, session: _HttpSession, method: str, uri: str,
                            body: bytes | None, show_resp: bool) -> None:
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
        boot = self.boots

        def on_data(data: bytes) -> None:
            if self.boots != boot:  # the module restarted: its HTTP client is gone
                finished.set()
                return
            received.extend(data)
            if not state["in_body"]:
                end = received.find(b"\r\n\r\n")
                if end < 0:
                    return
                state["in_body"] = True
                state["sent"] = end + 4
            out = bytes(received[state["sent"]:])
            state["sent"] = len(received)
            with self.lock:  # a reboot between the check above and this write ends it too
                if out and self.boots == boot:
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
            if self.boots != boot:
                return
            self.write_raw(self.pattern + b"\r\nOK\r\n")
            self.urc(f'+KHTTP_IND: {session.sid},3,{len(received)},{code},"{reason}"')

    def _khttpclose(self, cmd: ParsedCommand) -> str:
        self._session(cmd)[0].connected = False
        return "OK"

    def _khttpdel(self, cmd: ParsedCommand) -> str:
        session, _a = self._session(cmd)
        del self.http[session.sid]
        return "OK"

    # ------------------------------------------------------------------ TCP / TLS sockets
    def _tcp_session(self, cmd: ParsedCommand) -> tuple[_TcpSession, dict[str, Value]]:
        """The TCP session a command names, and its checked arguments.

        Raises:
            CommandError: ``+CME ERROR: 910`` (bad session ID) when the id is not a defined
                session (sierra-hl78xx.md S5b, S7: also after ``+KTCPDEL``); see :meth:`args`.
        """
        a = self.args(cmd)
        sid = _int(a["session_id"])
        session = self.tcp.get(sid)
        if session is None:
            raise CommandError(cat.CME_BAD_SESSION, f"bad session ID {sid}")
        return session, a

    def _ktcpcfg(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            # sierra-hl78xx.md §4 (S5c): <sid>,<status>,<cnx>,<mode>,,"<remote>",<port>,
            # <src_port>,<data_mode>,<urc_endtcp>,<af>; <status> 0 once closed (S5f)
            for sid, s in sorted(self.tcp.items()):
                status = 1 if s.state in (2, 3) else 0
                self.respond(f'+KTCPCFG: {sid},{status},{s.cnx},{s.mode},,"{s.host}",{s.port},'
                             f"{s.src_port},{s.data_mode},{s.urc_endtcp},{s.af}")
            return "OK"
        if cmd.kind == "test":
            self.respond('+KTCPCFG: (1-2),(0,3),<remote-name/ip>,(1-65535),(0-65535),(0-1),'
                         "(0-1),(0-1),(0-7),(0-1)")
            return "OK"
        if cmd.kind != "write":
            raise CommandError(917, "AT+KTCPCFG=[<cnx>],<mode>,[<remote>],<port>...")
        a = self.args(cmd)
        mode = _int(a["mode"])
        if mode == cat.TCP_MODE_TLS_CLIENT and not self.profile.secure_sockets:
            raise CommandError(4, "no secure TCP client on this model")
        if mode not in (0, cat.TCP_MODE_TLS_CLIENT):
            raise CommandError(4, "TCP server modes (1, 2, 4) are not simulated")
        host = _text(a["remote_name"])
        if not host:
            raise CommandError(cat.ARGUMENT_ERRORS["missing"],
                               "a client session needs <remote-name/ip>")
        session = _TcpSession(
            sid=0, cnx=_int(a["cnx_cnf"], 1), mode=mode, host=host, port=_int(a["tcp_port"]),
            src_port=_int(a["source_port"]), data_mode=_int(a["data_mode"]),
            urc_endtcp=_int(a["urc_endtcp_enable"]), af=_int(a["af"]),
            cipher_index=_int(a["cipher_index"]),
        )
        session.sid = self._free_sid()
        self.tcp[session.sid] = session
        self.respond(f"+KTCPCFG: {session.sid}")
        return "OK"

    def _ktcpcnx(self, cmd: ParsedCommand) -> str | None:
        session, _a = self._tcp_session(cmd)
        if session.state in (2, 3):
            raise CommandError(911, "session is already running")
        self.final("OK")
        if not self._bring_up():
            session.notif = 0
            self.urc(f"+KTCP_NOTIF: {session.sid},0")
            return None
        session.state = 2
        session.notif = -1
        session.rx.clear()
        session.armed = True
        self._spawn(lambda: self._tcp_connect(session))
        return None

    @staticmethod
    def _open_failure_code(reason: str) -> int:
        """The ``+KTCP_NOTIF`` code of a failed open (sierra-hl78xx.md §4, S2 and S7 lists)."""
        if reason.startswith("dns"):
            return 3  # DNS error
        if reason.startswith("timeout"):
            return 12  # connection timeout
        if reason.startswith("connect"):
            return 5  # connection error
        if reason.startswith(("verify", "no CA")):
            return 15  # SSL certificate error
        return 13  # SSL connection error

    def _tcp_connect(self, session: _TcpSession) -> None:
        try:
            link: _Link
            if session.mode == 3:
                link = self._open(session.host, session.port, session.cipher_index)
            else:
                link = TcpConnection.open(session.host, session.port, timeout=self.connect_timeout,
                                     latency=self.latency)
        except TlsOpenError as exc:
            with self.lock:
                self.errors.append(exc.reason)
                if self.tcp.get(session.sid) is not session:
                    return
                session.state = 5
                session.notif = self._open_failure_code(exc.reason)
                self.urc(f"+KTCP_NOTIF: {session.sid},{session.notif}")
            return
        with self.lock:
            if self.tcp.get(session.sid) is not session or session.state != 2:
                link.close()  # deleted, closed or rebooted meanwhile
                return
            session.conn = link
            session.state = 3
            link.start(lambda data: self._tcp_data(session, data),
                       lambda reason: self._tcp_closed(session, link),
                       lambda: len(session.rx) < self.rx_buffer)
            self.urc(f"+KTCP_IND: {session.sid},1")

    def _tcp_data(self, session: _TcpSession, data: bytes) -> None:
        """Data from the server: buffered; ``+KTCP_DATA: <sid>,<n>`` with ``n`` the unread
        bytes now, once, re-armed by the next ``AT+KTCPRCV`` (sierra-hl78xx.md §4: S5b, S5e,
        S7 p.220)."""
        with self.lock:
            if self.tcp.get(session.sid) is not session or session.conn is None:
                return
            session.rx.extend(data)
            if session.armed:
                session.armed = False
                self.urc(f"+KTCP_DATA: {session.sid},{len(session.rx)}")

    def _tcp_closed(self, session: _TcpSession, link: _Link) -> None:
        with self.lock:
            if self.tcp.get(session.sid) is not session or session.conn is not link:
                return
            session.state = 5
            session.notif = 4
            # buffered data stays readable after a remote close (sierra-hl78xx.md §4, S4)
            self.urc(f"+KTCP_NOTIF: {session.sid},4")

    def _ktcpsnd(self, cmd: ParsedCommand) -> str | None:
        """``CONNECT``, the data up to the pattern, ``OK`` (the test form is answered from the
        catalog by the engine)."""
        session, a = self._tcp_session(cmd)
        ndata = _int(a["ndata"])
        if session.conn is None or session.state != 3:
            raise CommandError(922, "session not connected")
        conn = session.conn

        def done(data: bytes) -> None:
            if self.take_send_fault():
                data = b""
            try:
                if data:
                    conn.send(data)
            except OSError:
                session.notif = 0
                self.error(CommandError(922, "send failed"))
                return
            self.final("OK")
            if len(data) != ndata:
                session.notif = 8
                self.urc(f"+KTCP_NOTIF: {session.sid},8")

        def timeout() -> None:
            session.notif = 6
            self.urc(f"+KTCP_NOTIF: {session.sid},6")

        self._pattern_phase(done, timeout)
        return None

    def _ktcprcv(self, cmd: ParsedCommand) -> str | None:
        """``CONNECT``, k = min(ndata, buffered) bytes, the EOF pattern, ``OK``
        (sierra-hl78xx.md §4: S7 p.207, S2, S1); then ``+KTCP_DATA`` for what is still unread
        (S5e). The test form is answered from the catalog by the engine."""
        session, a = self._tcp_session(cmd)
        ndata = _int(a["ndata"])
        if session.state in (1, 2) and not session.rx:
            raise CommandError(922, "session not connected")
        take = bytes(session.rx[:ndata])
        del session.rx[:ndata]
        self.respond("CONNECT")
        self.write_raw(take + self.pattern)
        self.final("OK")
        session.armed = True
        if session.rx:
            session.armed = False
            self.urc(f"+KTCP_DATA: {session.sid},{len(session.rx)}")
        return None

    def _ktcpclose(self, cmd: ParsedCommand) -> str | None:
        session, _a = self._tcp_session(cmd)
        was_open = session.state in (2, 3)
        self._drop_link(session)
        session.state = 5
        session.notif = -1
        session.rx.clear()
        self.final("OK")
        if was_open:
            self._start_idle()  # L1: OK, then +KCNX_IND: 1,5,30
        return None

    def _ktcpdel(self, cmd: ParsedCommand) -> str:
        session, _a = self._tcp_session(cmd)
        if session.state in (2, 3):
            # (HL75) the session must be closed first (sierra-hl78xx.md §4, S7)
            raise CommandError(922, "close the session first")
        self._drop_link(session)
        del self.tcp[session.sid]
        return "OK"

    def _ktcpstat(self, cmd: ParsedCommand) -> str:
        if cmd.kind != "write" or not cmd.args or not cmd.args[0]:
            raise CommandError(917, "AT+KTCPSTAT=<session_id>")
        session, _a = self._tcp_session(cmd)
        # sierra-hl78xx.md §4 (S4, S5b, S8): <status>,<tcp_notif>,<rem_data>,<rcv_data>;
        # a send completes before its OK here, so <rem_data> is 0
        self.respond(f"+KTCPSTAT: {session.state},{session.notif},0,{len(session.rx)}")
        return "OK"

    def _drop_link(self, session: _TcpSession) -> None:
        link, session.conn = session.conn, None
        if link is not None:
            link.close()

    def on_server_close(self, socket_id: int) -> None:
        session = self.tcp.get(socket_id)
        if session is None or session.conn is None:
            raise ValueError(f"no connection {socket_id}")
        session.conn.abort()


def factory(**options: Any) -> SierraModem:
    """Make a :class:`SierraModem` (for :func:`celltls.sim.serve.register_dialect`)."""
    options = {k: v for k, v in options.items() if v is not None or k != "model"}
    return SierraModem(**options)

