"""The virtual Sierra Wireless AirPrime modem (``celltls sim sierra --model rc7620|hl7800``).

Written from the documents listed in :mod:`celltls.dialects.sierra.catalog`, from
``shared/reference/sierra-hl78xx.md`` (source ids S#/L# below) and from the shapes of the seed
thread's log (SEED-000), not from the driver. What it does:

- ``ATI`` answers one line, the model (``HL7800``, L3); ``ATI3`` and ``AT+CGMR`` the firmware
  string on one line (L1); ``ATI9`` fourteen lines (S5); ``AT+KGSN``, ``AT+CCID``, ``AT&V``
  (S1, S5). The 27.007 bring-up and information commands come from the engine
  (:attr:`~celltls.sim.general.GeneralEngine.bringup_commands`) in this model's shapes
  (``AT+CGDCONT?`` with 16 fields, S1; ``AT+COPS?`` with ``<AcT>``); ``AT+KSSLCFG``,
  ``AT+KCGPADDR``, ``AT+KSLEEP``, ``AT+KURCCFG``, ``AT+KIPOPT``, ``AT+KCNXTIMER``,
  ``AT+KCNXPROFILE`` as S5a/S5b and L3 show them; every K command answers its test form
  (:data:`_TEST_FORMS` where the catalog quotes none). ``AT+KSREP=<0|1>`` / ``AT+KSREP?``
  (kept across reboots, as in NV); a reboot drops every session and the PDP connection and,
  after ``AT+KSREP=1``, reports ``+KSUP: 0`` (§2, S1).
- ``AT+KPATTERN``: the end-of-data pattern of every data phase (default ``--EOF--Pattern--``).
- ``AT+KCNXCFG``, ``AT+KCNXUP``/``AT+KCNXDOWN`` (HL78xx only) with ``+KCNX_IND``; ``AT+CEREG``,
  ``AT+CGPADDR``, ``AT+CSQ``. ``AT+KCNXUP`` reports ``+KCNX_IND: 1,4,1`` at once and
  ``+KCNX_IND: 1,1,0`` ``bearer_time`` seconds later (L3, L2). The network deactivating the PDP
  context reports
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
  ``AT+KHTTPCLOSE``, ``AT+KHTTPDEL``. From ``CONNECT`` to the pattern and ``OK`` the line is in
  data mode: the module "returns to command state" only after the data (HL75-ATIG 11.10.3,
  S7 p.207), so what the host writes meanwhile is not a command and is not answered; the
  escape sequence ``+++`` ends the transfer: ``OK``, the transfer is dropped (no more data, no
  pattern, no ``+KHTTP_IND``) and ``ATO`` answers ``NO CARRIER`` (HL75-ATIG 16.9 "Switch
  Data/Command Mode DTR +++ ATO Behavior Table", S7 p.302, HTTP row: ``+++``/``ATO`` →
  ``OK``/``NO CARRIER (disconnect)``; simulated for GET, HEAD and POST, not for the
  ``AT+KHTTPHEADER`` upload). Whether a ``+KHTTP_IND`` follows an escape is not documented:
  none here. The same table's DTR drop (``AT&D1``/``&D2``) is not simulated (the engine has
  no DTR line); a host connection that closes is not a DTR drop: the module goes on with the
  transfer, writing to nobody, as its sessions stay (below).
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
from celltls.sim.engine import ATEngine, CommandError, ParsedCommand, form_args, unquote
from celltls.sim.network import (
    ContextBuild,
    TcpConnection,
    TlsConnection,
    TlsOpenError,
    build_client_context,
)

log = logging.getLogger(__name__)

# S6 numbers of argument faults (sierra-hl78xx.md §7), as plain ints for the handlers
_UNEXPECTED = 915
_RANGE = 916
_MISSING = 917
_FORMAT = 932


def _unquoted(arg: str) -> str | None:
    """The text of a quoted argument, ``None`` when it is not quoted."""
    return unquote(arg)


#: Test-form answers of the commands whose answer the catalog does not quote, in the K
#: command set's own notation (ranges in parentheses, ``<name>`` for a string, as in the
#: quoted answers of ``+KHTTPCFG=?`` and ``+KSSLCFG=?``, S5a/S5d). Ranges: ``<cnx cnf>``
#: (1-2) (L3), session ids (1-6) (S4, S5d), certificate index and sizes (S5a).
_TEST_FORMS: dict[str, tuple[str, ...]] = {
    "+KPATTERN": ("+KPATTERN: <EOF_pattern>",),
    "+KCNXCFG": ('+KCNXCFG: (1-2),"GPRS",<apn>,<login>,<password>,("IPV4","IPV6","IPV4V6"),'
                 "<ip>,<dns1>,<dns2>",),
    "+KCNXUP": ("+KCNXUP: (1-2)",),
    "+KCNXDOWN": ("+KCNXDOWN: (1-2),(0-1)",),
    "+KPRIVKSTORE": ("+KPRIVKSTORE: (0-2),(1-4096)",),
    "+KSSLCRYPTO": ("+KSSLCRYPTO: <profile_id>,<mkey_Algo>,<auth_algo>,<enc_algo>,"
                    "<mac_algo>,<tls_ver>,<auth>,<root_cert_idx>",),  # S5a, 04.06+
    "+KHTTPCNX": ("+KHTTPCNX: (1-6)",),
    "+KHTTPHEADER": ("+KHTTPHEADER: (1-6)",),
    "+KHTTPGET": ("+KHTTPGET: (1-6),<request_uri>,(0-1)",),
    "+KHTTPHEAD": ("+KHTTPHEAD: (1-6),<request_uri>",),
    "+KHTTPPOST": ("+KHTTPPOST: (1-6),<local_uri>,<request_uri>,(0-1)",),
    "+KHTTPCLOSE": ("+KHTTPCLOSE: (1-6),(0-1)",),
    "+KHTTPDEL": ("+KHTTPDEL: (1-6)",),
    "+KTCPCNX": ("+KTCPCNX: (1-6)",),
    "+KTCPCLOSE": ("+KTCPCLOSE: (1-6),(0-1)",),
    "+KTCPDEL": ("+KTCPDEL: (1-6)",),
    "+KTCPSTAT": ("+KTCPSTAT: (1-6)",),
    "+CCID": (),
    "+CGMI": (),
    "+CGMM": (),
    "+CGMR": (),
    "+CGSN": (),
}


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
class _HttpTransfer:
    """One ``AT+KHTTPGET``/``HEAD``/``POST`` data phase, from ``CONNECT`` to ``OK`` (or ``+++``)."""

    session: _HttpSession
    boot: int  # SierraModem.boots when it began: a reboot ends it
    conn: _Link | None = None
    aborted: bool = False  # ended by the escape sequence (HL75-ATIG 16.9, S7 p.302)
    finished: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        """Close its server connection (if open) and wake the exchange waiting for its end."""
        link, self.conn = self.conn, None
        if link is not None:
            link.close()
        self.finished.set()


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
        bearer_time: seconds from ``+KCNX_IND: 1,4,1`` (connecting) to ``+KCNX_IND: 1,1,0``
            (connected) when the PDP connection comes up (L3, L2; our value, 0.5 s).
        **engine: :class:`~celltls.sim.engine.ATEngine` options (``guard_time``, ``latency``...).

    Raises:
        KeyError: unknown model.
    """

    catalog: Catalog | None = cat.CATALOG
    eps_registration = True  # an LTE module: +CEREG URCs on registration changes
    bringup_commands = True
    cops_act = 7  # 27.007 7.3 <AcT> 7: E-UTRAN (LTE-M)
    cid_range = (1, 2)  # the <cnx cnf> range (1-2) of AT+KCGPADDR=? (L3), kept for <cid>
    cgdcont_test = ('+CGDCONT: (1-2),"IP",,,(0),(0),(0),(0),(0),,(0,1)',
                    '+CGDCONT: (1-2),"IPV6",,,(0),(0),(0),(0),(0),,(0,1)',
                    '+CGDCONT: (1-2),"IPV4V6",,,(0),(0),(0),(0),(0),,(0,1)')
    imsi = "001010123456789"
    operator = "celltls"
    max_command_line = cat.MAX_COMMAND_LINE  # HL75-ATIG: a 1023-character command line

    def __init__(
        self, *, model: str | None = None, data_timeout: float = 10.0,
        connect_timeout: float = 20.0, rx_buffer: int = cat.RX_BUFFER,
        idle_time: float = cat.IDLE_TIME, bearer_time: float = 0.5, **engine: Any,
    ) -> None:
        self.profile = cat.model(model)
        self.idle_time = idle_time
        self.bearer_time = bearer_time
        self.iccid = "89001012012341234012"
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
        # AT+KSLEEP (choice: module-managed lite hibernate; drivers send =2 to turn it off,
        # S1, S2, S4, S8, S9), AT+KURCCFG / AT+KIPOPT defaults as S5b reads them
        self.ksleep = (1, 1, 5)
        self.kurccfg = {p: (1, 1) for p in ("TCPC", "TCPS", "UDPC", "UDPS", "HTTP", "HTTPS")}
        self.kipopt = {"TCPC": (1, 0, 0), "TCPS": (1, 0, 0), "UDPC": (2, 1020, 1020),
                       "UDPS": (2, 1020, 1020), "HTTP": (1, 0, 0), "HTTPS": (1, 0, 0)}
        # AT+KCNXTIMER <tim1>,<nbtrial>,<tim2>,<idle> per profile (S5: 30,2,60,30)
        self.kcnxtimer = {c: (30, 2, 60, round(idle_time)) for c in (1, 2)}
        self.boots = 0  # reboots so far: an HTTP exchange under way stops at the next one
        self._reset_sierra()
        for name, handler in {
            "I": self._ati, "+CGMR": self._cgmr, "+KSREP": self._ksrep,
            "+KPATTERN": self._kpattern, "+KCNXCFG": self._kcnxcfg, "+KCNXUP": self._kcnxup,
            "+KCNXDOWN": self._kcnxdown, "+CEREG": self._cereg,
            "+CCID": self._ccid, "+KGSN": self._kgsn, "&V": self._profile_view,
            "+KSSLCFG": self._ksslcfg, "+KCGPADDR": self._kcgpaddr, "+KSLEEP": self._ksleep,
            "+KURCCFG": self._kurccfg, "+KIPOPT": self._kipopt, "+KCNXTIMER": self._kcnxtimer,
            "+KCNXPROFILE": self._kcnxprofile,
            "+KCERTSTORE": self._kcertstore, "+KPRIVKSTORE": self._kprivkstore,
            "+KCERTDELETE": self._kcertdelete, "+KPRIVKDELETE": self._kprivkdelete,
            "+KSSLCRYPTO": self._ksslcrypto, "+KHTTPCFG": self._khttpcfg,
            "+KHTTPCNX": self._khttpcnx,
            "+KHTTPHEADER": self._khttpheader, "+KHTTPGET": self._khttpget,
            "+KHTTPHEAD": self._khttphead, "+KHTTPPOST": self._khttppost,
            "+KHTTPCLOSE": self._khttpclose, "+KHTTPDEL": self._khttpdel,
            "+KTCPCFG": self._ktcpcfg, "+KTCPCNX": self._ktcpcnx, "+KTCPSND": self._ktcpsnd,
            "+KTCPRCV": self._ktcprcv, "+KTCPCLOSE": self._ktcpclose, "+KTCPDEL": self._ktcpdel,
            "+KTCPSTAT": self._ktcpstat, "O": self._ato,
        }.items():
            self.register(name, handler)

    def _reset_sierra(self) -> None:
        self.pattern = cat.DEFAULT_PATTERN.encode()
        self.cnx: dict[int, tuple[str, str, str, str, str]] = {}
        self.cnx_up = False
        self.cnx_profile = 1  # AT+KCNXPROFILE
        self.ssl_version = 3  # AT+KSSLCFG option 0: 3 = TLS 1.2 (S5a)
        self.flow_control = 3  # AT&K3 (choice: S5 falls back to &K3 as the default)
        self.cereg_n = 0
        self._bearer_timer: threading.Timer | None = None
        self._bearer_waiters: list[Callable[[], None]] = []
        # profile 0 as firmware 04.06.01 ships it, <auth> 1 (sierra-hl78xx.md §5, S5a)
        self.crypto: dict[int, tuple[int, ...]] = {
            0: (*cat.KSSL_ECDHE_PROFILE.values(), 1)}
        self.http: dict[int, _HttpSession] = {}
        self.tcp: dict[int, _TcpSession] = {}
        self._phase_timer: threading.Timer | None = None
        self._idle_timer: threading.Timer | None = None
        self._escape_hook: Callable[[], None] | None = None
        self._http_transfer: _HttpTransfer | None = None  # the HTTP data phase under way
        self._http_escaped = False  # +++ ended an HTTP transfer: ATO answers NO CARRIER

    def _close_all_links(self) -> None:
        for session in self.tcp.values():
            link, session.conn = session.conn, None
            if link is not None:
                link.close()

    def on_reboot(self) -> None:
        """A reboot forgets the sessions, the PDP connection and the pattern; certificates,
        keys and ``AT+KSREP`` stay; ``+KSUP: 0`` when ``AT+KSREP=1`` (sierra-hl78xx.md §2)."""
        self.boots += 1
        transfer = self._http_transfer
        if transfer is not None:  # the module's HTTP client is gone with the restart
            transfer.stop()
        self._close_all_links()
        self._cancel_phase_timer()
        self._cancel_idle()
        self._cancel_bearer()
        self._reset_sierra()
        if self.ksrep:
            self.urc("+KSUP: 0")

    def on_pdp_deactivated(self) -> None:
        """The network dropped the PDP context: ``+KCNX_IND: 1,0,0`` (lost by the network,
        sierra-hl78xx.md §3, S7) and ``+KTCP_NOTIF: <id>,0`` (network error) per open session;
        what they buffered stays readable."""
        was_up, self.cnx_up = self.cnx_up, False
        was_up = self._cancel_bearer() or was_up
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
            self._cancel_bearer()
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
        """``ATI``/``ATI0`` → the model on one line (L3: ``HL7800``; S10a looks for the model
        in it); ``ATI3`` → the firmware string on one line (L1; S5 takes line 1 as the
        version); ``ATI9`` → 14 lines, line 2 the firmware (S5: lines 11-14 carry secure-boot
        flags and key CRCs, whose values are ours). Other ``ATI<n>``: ``ERROR``."""
        which = cmd.args[0] if cmd.args else "0"
        if which in ("", "0"):
            self.respond(self.model)
        elif which == "3":
            self.respond(self.revision)
        elif which == "9":
            self.respond_lines([
                self.model, self.revision, f"IMEI: {self.imei}", f"IMSI: {self.imsi}",
                f"ICCID: {self.iccid}", "RAT: CAT-M1", "BAND: 2,4,5,12,13,20",
                "BOOT: celltls", "HW: 1.0", "CFG: 0",
                "SECURE BOOT: 0", "SECURE BOOT KEY: 0", "KEY CRC 1: 0000", "KEY CRC 2: 0000",
            ])
        else:
            raise CommandError(None, f"ATI{which} is not a command of {self.model}")
        return "OK"

    def _ccid(self, cmd: ParsedCommand) -> str:
        """``AT+CCID`` and ``AT+CCID?`` → ``+CCID: <iccid>`` (both forms are sent by a Sierra
        HL78 tool found by content; HL75 S7 names the command)."""
        if cmd.kind == "test":
            return "OK"
        if cmd.kind == "write":
            raise CommandError(_UNEXPECTED, "AT+CCID takes no argument")
        self.respond(f"+CCID: {self.iccid}")
        return "OK"

    def _kgsn(self, cmd: ParsedCommand) -> str:
        """``AT+KGSN=<n>`` → ``+KGSN: <value>``: 0 IMEI, 1 IMEISV, 2 software version,
        3 serial number (S1 comments ``AT+KGSN=3``); test ``+KGSN: (0-3)``."""
        if cmd.kind == "test":
            self.respond("+KGSN: (0-3)")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(_MISSING, "AT+KGSN=<n>")
        which = self.int_arg(cmd.args[0], 0, 3, code=_RANGE)
        value = (self.imei, f"{self.imei[:14]}01", "01", "XY0000000000C1")[which]
        self.respond(f"+KGSN: {value}")
        return "OK"

    def _profile_view(self, cmd: ParsedCommand) -> str:
        """``AT&V``: ``ACTIVE PROFILE:`` then the settings on one line, blank-separated,
        echo first (S1 reads ``E0``/``E1`` there) and ``&K<n>`` tenth (S5 reads the default
        flow control as field 9); then the stored profile the same way."""
        if cmd.kind != "exec":
            raise CommandError(None, "AT&V")
        line = (f"E{int(self.echo)} Q0 V1 X4 &C{self.dcd_mode} &D{self.dtr_mode} &R1 &S0 "
                f"+IFC={self.ifc[0]},{self.ifc[1]} &K{self.flow_control} +IPR={self.baudrate} "
                "+FCLASS0 +ICF=3,4 S00:0 S03:13 S04:10 S05:8 S07:50 S08:2 S10:1")
        self.respond_lines(["ACTIVE PROFILE:", line, "", "STORED PROFILE 0:", line])
        return "OK"

    def _ksslcfg(self, cmd: ParsedCommand) -> str:
        """``AT+KSSLCFG`` (HL78xx, sierra-hl78xx.md §5 S5a): test ``+KSSLCFG: <option id>,
        <option>``; read ``+KSSLCFG: 0,<version>`` and ``+KSSLCFG: 2,<value>``; ``=0,0``
        ("highest possible") reads back 3; ``=1,"<text>"`` is taken and not shown;
        ``=2,0`` taken, ``=2,1`` → ``+CME ERROR: 918`` (feature not supported)."""
        if not self.profile.ksslcrypto:
            raise CommandError(None, "no AT+KSSLCFG on this model")
        if cmd.kind == "test":
            self.respond("+KSSLCFG: <option id>,<option>")
            return "OK"
        if cmd.kind == "read":
            self.respond_lines([f"+KSSLCFG: 0,{self.ssl_version}", "+KSSLCFG: 2,0"])
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 2:
            raise CommandError(_MISSING, "AT+KSSLCFG=<option id>,<option>")
        option = self.int_arg(cmd.args[0], 0, 2, code=_RANGE)
        if option == 1:
            if _unquoted(cmd.args[1]) is None:
                raise CommandError(_FORMAT, "option 1 takes a string")
            return "OK"
        value = self.int_arg(cmd.args[1], 0, 3, code=_RANGE)
        if option == 2:
            if value != 0:
                raise CommandError(918, "AT+KSSLCFG=2,1: feature not supported (S5a)")
            return "OK"
        self.ssl_version = value or 3  # 0: the highest version the module has, TLS 1.2
        return "OK"

    def _kcgpaddr(self, cmd: ParsedCommand) -> str:
        """``AT+KCGPADDR[=<cnx>]`` → ``+KCGPADDR: <cnx>,"<ip>"`` (S5b, S8); test
        ``+KCGPADDR: (1-2)`` (L3)."""
        if cmd.kind == "test":
            self.respond("+KCGPADDR: (1-2)")
            return "OK"
        if cmd.kind == "read":
            raise CommandError(None, "AT+KCGPADDR has no read form")
        cnx = (self.int_arg(cmd.args[0], 1, 2, code=_RANGE)
               if cmd.kind == "write" else self.cnx_profile)
        self.respond(f'+KCGPADDR: {cnx},"{self.pdp_address(cnx)}"')
        return "OK"

    def _ksleep(self, cmd: ParsedCommand) -> str:
        """``AT+KSLEEP=<mngt>[,<level>[,<delay>]]`` (sierra-hl78xx.md §2); read
        ``+KSLEEP: 2`` when sleep is off (S2 comment), else the three values; test
        ``+KSLEEP: (0-2),(0-2),(0-99)`` (S5 power test). Sleep itself is not emulated."""
        if cmd.kind == "test":
            self.respond("+KSLEEP: (0-2),(0-2),(0-99)")
            return "OK"
        if cmd.kind == "read":
            mngt, level, delay = self.ksleep
            self.respond("+KSLEEP: 2" if mngt == 2 else f"+KSLEEP: {mngt},{level},{delay}")
            return "OK"
        if cmd.kind != "write" or not 1 <= len(cmd.args) <= 3 or not cmd.args[0]:
            raise CommandError(_MISSING, "AT+KSLEEP=<mngt>...")
        rng = _RANGE
        mngt = self.int_arg(cmd.args[0], 0, 2, code=rng)
        level = self.int_arg(cmd.args[1], 0, 2, code=rng) if len(cmd.args) > 1 else self.ksleep[1]
        delay = self.int_arg(cmd.args[2], 0, 99, code=rng) if len(cmd.args) > 2 else self.ksleep[2]
        self.ksleep = (mngt, level, delay)
        return "OK"

    def _kurccfg(self, cmd: ParsedCommand) -> str:
        """``AT+KURCCFG`` (S5b, firmware before 05.00): test lists the protocols,
        ``(0-1),(0-1)``; read one ``+KURCCFG: "<proto>",<a>,<b>`` per protocol (defaults 1,1);
        ``"TCP"``/``"UDP"`` set both client and server. Stored; the URCs are not switched off
        (the meaning of ``<a>``/``<b>`` is unknown, sierra-hl78xx.md §4)."""
        if cmd.kind == "test":
            self.respond('+KURCCFG: ("TCPC","TCPS","UDPC","UDPS","HTTP","HTTPS","FTP","TCP",'
                         '"UDP"),(0-1),(0-1)')
            return "OK"
        if cmd.kind == "read":
            self.respond_lines([f'+KURCCFG: "{p}",{a},{b}' for p, (a, b) in self.kurccfg.items()])
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 3:
            raise CommandError(_MISSING, 'AT+KURCCFG="<proto>",<a>,<b>')
        proto = (_unquoted(cmd.args[0]) or "").upper()
        rng = _RANGE
        a, b = (self.int_arg(x, 0, 1, code=rng) for x in cmd.args[1:])
        names = {"TCP": ("TCPC", "TCPS"), "UDP": ("UDPC", "UDPS")}.get(proto, (proto,))
        if proto == "FTP":
            return "OK"
        if any(n not in self.kurccfg for n in names):
            raise CommandError(rng, f"unknown protocol {proto!r}")
        for n in names:
            self.kurccfg[n] = (a, b)
        return "OK"

    def _kipopt(self, cmd: ParsedCommand) -> str:
        """``AT+KIPOPT`` (S5b): test three lines; read ``+KIPOPT: 0,"<proto>",<a>,<b>,<c>``
        per protocol and ``+KIPOPT: 3,0,0``; ``=0,"<proto>",<a>,<b>`` sets ``<a>``, ``<b>``
        (``"TCP"``/``"UDP"``: client and server). Stored; no effect on the simulated sockets."""
        if cmd.kind == "test":
            self.respond_lines(["+KIPOPT: 0,<UDP>,(1-100),(8-1472),(8-1452)",
                                "+KIPOPT: 0,<TCP-based>,(0-100),(0,8-1460),(0,8-1440)",
                                "+KIPOPT: 3,(0-1),(0-1)"])
            return "OK"
        if cmd.kind == "read":
            lines = [f'+KIPOPT: 0,"{p}",{a},{b},{c}' for p, (a, b, c) in self.kipopt.items()]
            self.respond_lines([*lines, "+KIPOPT: 3,0,0"])
            return "OK"
        if cmd.kind != "write" or len(cmd.args) < 3:
            raise CommandError(_MISSING, "AT+KIPOPT=<opt>,...")
        rng = _RANGE
        option = self.int_arg(cmd.args[0], 0, 3, code=rng)
        if option == 3:
            return "OK"
        proto = (_unquoted(cmd.args[1]) or "").upper()
        names = {"TCP": ("TCPC", "TCPS"), "UDP": ("UDPC", "UDPS")}.get(proto, (proto,))
        if option != 0 or any(n not in self.kipopt for n in names):
            raise CommandError(rng, f"AT+KIPOPT={cmd.args[0]},{cmd.args[1]}")
        a = self.int_arg(cmd.args[2], 0, 100, code=rng)
        b = self.int_arg(cmd.args[3], 0, 1472, code=rng) if len(cmd.args) > 3 else 0
        for n in names:
            self.kipopt[n] = (a, b, self.kipopt[n][2])
        return "OK"

    def _kcnxtimer(self, cmd: ParsedCommand) -> str:
        """``AT+KCNXTIMER=<cnx>,<tim1>,<nbtrial>,<tim2>,<idle>`` (S5 ``1,30,2,60,30``, HL75
        S7): ``<idle>`` is the count-down of ``+KCNX_IND: <cnx>,5,<idle>``, ``<nbtrial>`` and
        ``<tim1>`` those of ``+KCNX_IND: <cnx>,2,...``; read one line per profile."""
        if cmd.kind == "test":
            self.respond("+KCNXTIMER: (1-2),(15-180),(2-4),(0-300),(0-300)")
            return "OK"
        if cmd.kind == "read":
            lines = [f"+KCNXTIMER: {c},{t1},{n},{t2},{i}"
                     for c, (t1, n, t2, i) in sorted(self.kcnxtimer.items())]
            self.respond_lines(lines)
            return "OK"
        if cmd.kind != "write" or not cmd.args or not cmd.args[0]:
            raise CommandError(_MISSING, "AT+KCNXTIMER=<cnx>,...")
        rng = _RANGE
        cnx = self.int_arg(cmd.args[0], 1, 2, code=rng)
        old = self.kcnxtimer[cnx]
        limits = ((15, 180), (2, 4), (0, 300), (0, 300))
        values = tuple(
            self.int_arg(cmd.args[i + 1], *limits[i], code=rng)
            if len(cmd.args) > i + 1 and cmd.args[i + 1] else old[i] for i in range(4))
        self.kcnxtimer[cnx] = (values[0], values[1], values[2], values[3])
        if cnx == 1:
            self.idle_time = float(values[3])
        return "OK"

    def _kcnxprofile(self, cmd: ParsedCommand) -> str:
        """``AT+KCNXPROFILE=<cnx>``: the current PDP profile (S5f, S10b); read and test."""
        if cmd.kind == "test":
            self.respond("+KCNXPROFILE: (1-2)")
        elif cmd.kind == "read":
            self.respond(f"+KCNXPROFILE: {self.cnx_profile}")
        elif cmd.kind == "write" and len(cmd.args) == 1:
            self.cnx_profile = self.int_arg(cmd.args[0], 1, 2, code=_RANGE)
        else:
            raise CommandError(_MISSING, "AT+KCNXPROFILE=<cnx>")
        return "OK"

    def context_active(self, cid: int) -> bool:
        """PDP context ``cid`` is active when ``AT+KCNXUP`` or a session brought profile 1 up
        (the profile and the context share the number, S5b) or ``AT+CGACT`` did."""
        return (cid == 1 and self.cnx_up) or super().context_active(cid)

    def pdp_address(self, cid: int) -> str:
        """The address of ``cid`` while active, else ``0.0.0.0`` (S5b checks it is not)."""
        return f"10.64.0.{16 + cid}" if self.context_active(cid) else "0.0.0.0"

    def cgdcont_line(self, cid: int, pdp_type: str, apn: str) -> str:
        """``+CGDCONT: 1,"IP","<apn>",,0,0,0,0,0,,0,,,,,`` (sierra-hl78xx.md §3, S1 comment)."""
        return f'+CGDCONT: {cid},"{pdp_type}","{apn}",,0,0,0,0,0,,0,,,,,'

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
        upper = name.upper()
        if not self.profile.certstore_size and upper in (
                "+KCERTSTORE", "+KCERTDELETE", "+KPRIVKDELETE", "+KPRIVKSTORE"):
            return None
        if not self.profile.cnxup and upper in ("+KCNXUP", "+KCNXDOWN"):
            return None  # the handler answers ERROR: the model has no such command
        if not self.profile.ksslcrypto and upper in ("+KSSLCRYPTO", "+KSSLCFG"):
            return None
        documented = super().test_answer(name)
        if documented is not None:
            return documented
        return _TEST_FORMS.get(name.upper())

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

    def _pattern_phase(self, on_done: Callable[[bytes], None], on_timeout: Callable[[], None],
                       partial: bytearray | None = None, *, answer_follows: bool = False) -> None:
        """``CONNECT``, then bytes up to the EOF pattern (HL78-ATIG data phases); ``partial``
        (if given) is the buffer, so that ``on_timeout`` can see what arrived.

        With ``answer_follows`` (``AT+KHTTPPOST``) the line stays in data mode after the
        pattern: the module's answer follows in the same data phase (:meth:`_http_request`),
        and what the host writes meanwhile is not command input."""
        buffer = partial if partial is not None else bytearray()
        pattern = self.pattern
        self._http_escaped = False
        uploaded = False

        def handler(data: bytes) -> None:
            nonlocal uploaded
            if uploaded:
                return  # the module's answer is under way: not commands (S7 p.207)
            buffer.extend(data)
            index = buffer.find(pattern)
            if index < 0:
                return
            self._cancel_phase_timer()
            payload = bytes(buffer[:index])
            rest = bytes(buffer[index + len(pattern):])
            buffer.clear()
            if answer_follows:
                uploaded = True
                on_done(payload)
                return
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

    def _ato(self, cmd: ParsedCommand) -> str | None:
        """``ATO`` after ``+++`` ended an HTTP transfer: ``NO CARRIER``, the transfer is gone
        (HL75-ATIG 16.9, S7 p.302, HTTP row: ``+++``/``ATO`` → ``OK``/``NO CARRIER
        (disconnect)``); otherwise as the engine (V.250 6.3.7)."""
        if self._http_escaped:
            self._http_escaped = False
            return "NO CARRIER"
        return self._cmd_online(cmd)

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
                state = 0
                if cnx == 1:
                    state = 2 if self.cnx_up else (1 if self._bearer_timer is not None else 0)
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

    def _bring_up(self, then: Callable[[], None] | None = None) -> bool:
        """Bring PDP profile 1 up, then call ``then`` (lock held) once it is up.

        Up already: ``then`` at once (a running idle count-down is cancelled,
        ``+KCNX_IND: 1,6``, S7). Else ``+KCNX_IND: 1,4,1`` (connecting, attempt 1: L3) now and
        ``+KCNX_IND: 1,1,0`` (connected, IPv4: L2, S5b) ``bearer_time`` seconds later, as the
        bearer comes up; a command in between sees the profile connecting (``AT+KCNXCFG?``
        state 1, ``AT+KTCPSTAT`` 2: S5b). No profile 1 or no registration:
        ``+KCNX_IND: 1,2,<attempt>,<nbtrial>,<tim1>`` (failed; values of ``AT+KCNXTIMER``,
        SEED-000/L4 shape) and ``False``.
        """
        if self.cnx_up:
            if self._idle_timer is not None:
                self._cancel_idle()
                self.urc("+KCNX_IND: 1,6")  # idle count-down cancelled (S7)
            if then is not None:
                then()
            return True
        if 1 not in self.cnx or self.registration not in (1, 5):
            tim1, nbtrial, _tim2, _idle = self.kcnxtimer[1]
            self.urc(f"+KCNX_IND: 1,2,1,{nbtrial},{tim1}")
            return False
        if then is not None:
            self._bearer_waiters.append(then)
        if self._bearer_timer is not None:
            return True  # already connecting
        self.urc("+KCNX_IND: 1,4,1")

        def bearer_up() -> None:
            with self.lock:
                if self._bearer_timer is not timer:
                    return
                self._bearer_timer = None
                waiters, self._bearer_waiters = self._bearer_waiters, []
                if self.registration not in (1, 5) or not self.attached:
                    tim1, nbtrial, _tim2, _idle = self.kcnxtimer[1]
                    self.urc(f"+KCNX_IND: 1,2,1,{nbtrial},{tim1}")
                    return
                self.cnx_up = True
                self.urc("+KCNX_IND: 1,1,0")
                for waiter in waiters:
                    waiter()

        timer = threading.Timer(self.bearer_time, bearer_up)
        timer.daemon = True
        self._bearer_timer = timer
        timer.start()
        return True

    def _cancel_bearer(self) -> bool:
        """Stop a bring-up under way; whether one was."""
        timer, self._bearer_timer = self._bearer_timer, None
        self._bearer_waiters = []
        if timer is not None:
            timer.cancel()
        return timer is not None

    def _kcnxup(self, cmd: ParsedCommand) -> str | None:
        """``AT+KCNXUP=<cnx>`` → ``OK``, then ``+KCNX_IND: 1,4,1`` and, as the bearer comes up,
        ``+KCNX_IND: 1,1,0`` (L3, L2; :meth:`_bring_up`)."""
        if not self.profile.cnxup:
            raise CommandError(None, "no AT+KCNXUP on this model")
        self.args(cmd)
        self.final("OK")
        self._bring_up()
        return None

    def _kcnxdown(self, cmd: ParsedCommand) -> str | None:
        """``AT+KCNXDOWN=<cnx>`` → ``OK``, then ``+KCNX_IND: 1,3`` (closed, S7) when the
        profile was up or coming up; nothing more when it was already down."""
        if not self.profile.cnxup:
            raise CommandError(None, "no AT+KCNXDOWN on this model")
        self.args(cmd)
        was = self.cnx_up or self._cancel_bearer()
        self.cnx_up = False
        self._cancel_idle()
        self.final("OK")
        if was:
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
        """``AT+CEREG`` (27.007 10.1.22): read ``+CEREG: <n>,<stat>`` and, with ``<n>`` 2 or
        more while registered, ``<tac>``, ``<ci>``, ``<AcT>`` 7; URCs ``+CEREG: <stat>`` with
        ``<n>`` 1 or more (SEED-000 shows ``+CEREG: 0`` and ``+CEREG: 2`` lines)."""
        if cmd.kind == "read":
            where = ""
            if self.cereg_n >= 2 and self.registration in (1, 5):
                where = ',"0001","01A2D001",7'
            self.respond(f"+CEREG: {self.cereg_n},{self.registration}{where}")
        elif cmd.kind == "write":
            self.cereg_n = _int(self.args(cmd)["n"])
        elif cmd.kind == "test":
            self.respond("+CEREG: (0-5)")
        return "OK"

    # ------------------------------------------------------------------ credentials
    def _kcertstore(self, cmd: ParsedCommand) -> str | None:
        if cmd.kind == "read":
            # S5a: CONNECT, then "root_cert,<index>,<size>" and "local_cert,<index>,<size>"
            # for every slot (size 0 = empty), then OK
            # root slot 0 always and any other root stored; local slots 0-2 (S5a's lists)
            roots = sorted({0} | {i for k, i in self.certs if k == 0})
            lines = [f"root_cert,{i},{len(self.certs.get((0, i), b''))}" for i in roots]
            lines += [f"local_cert,{i},{len(self.certs.get((1, i), b''))}" for i in range(3)]
            self.respond("CONNECT")
            self.respond_lines(lines)
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
        """``CONNECT``, the credential, the EOF pattern, ``OK`` (S2, S5a). What arrived is
        judged when the pattern comes or, without one, when ``data_timeout`` passes (S10b got
        ``OK`` without sending the pattern): another length than announced is
        ``+CME ERROR: 931`` (parameter length invalid), bytes that are not PEM
        ``+CME ERROR: 930`` (input data content invalid), as S5a's 9-byte garbage gets."""
        received = bytearray()

        def judge(data: bytes) -> None:
            if len(data) != size:
                self.error(CommandError(931, f"got {len(data)} bytes, announced {size}"))
            elif b"-----BEGIN" not in data:
                self.error(CommandError(930, "not a PEM certificate or key"))
            else:
                store(data)
                self.final("OK")

        def done(data: bytes) -> None:
            judge(data)

        def timeout() -> None:
            judge(bytes(received))

        self._pattern_phase(done, timeout, partial=received)

    def _kprivkstore(self, cmd: ParsedCommand) -> str | None:
        if cmd.kind == "read":
            # S5a: CONNECT, "private_key,<index>,<size>" for indices 0-2, OK
            self.respond("CONNECT")
            self.respond_lines([f"private_key,{i},{len(self.keys.get(i, b''))}"
                                for i in range(3)])
            return "OK"
        if not self.profile.certstore_size or cmd.kind != "write":
            raise CommandError(None, "AT+KPRIVKSTORE=<index>,<NbData> (HL78xx)")
        a = self.args(cmd)
        index, size = _int(a["index"]), _int(a["NbData"])
        self._check_model_limits(size, 0)
        self._store_phase(size, lambda data: self.keys.__setitem__(index, data))
        return None

    def _kcertdelete(self, cmd: ParsedCommand) -> str:
        """``AT+KCERTDELETE=<type>[,<index>]`` → ``OK``, stored or not (S5a clears both types
        with ``=0`` and ``=1`` and waits for ``OK``); without ``<index>`` every slot of the
        type; read ``+KCERTDELETE:`` (S5a)."""
        if cmd.kind == "read":
            self.respond("+KCERTDELETE:")
            return "OK"
        a = self.args(cmd)
        kind = _int(a["data_type"])
        if a["index"] is None:
            for key in [k for k in self.certs if k[0] == kind]:
                del self.certs[key]
        else:
            self.certs.pop((kind, _int(a["index"])), None)
        return "OK"

    def _kprivkdelete(self, cmd: ParsedCommand) -> str:
        """``AT+KPRIVKDELETE=<index>`` → ``OK``, stored or not (S5a clears 0-2 expecting OK)."""
        self.keys.pop(_int(self.args(cmd)["index"]), None)
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
        if not self._bring_up(lambda: self._spawn(lambda: self._http_connect(session))):
            self.urc(f"+KHTTP_ERROR: {session.sid},5")

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
        """``AT+KHTTPGET``/``HEAD``/``POST``: ``CONNECT``, (POST: the body up to the pattern,)
        the server's answer, the pattern, ``OK``, ``+KHTTP_IND: <id>,3,...`` (§6, S5d).

        The whole exchange is one data phase (HL75-ATIG 11.10.3, S7 p.207: the module returns
        to command state after the data): the host's bytes are not commands until ``OK``, URCs
        wait, and ``+++`` ends it (:meth:`_abort_transfer`, S7 p.302)."""
        if cmd.kind != "write":
            raise CommandError(50, f"AT+KHTTP{method}=<session_id>,...")
        session, a = self._session(cmd)
        uri = self._check_uri(_text(a["request_uri"]))
        show_resp = _int(a.get("show_resp"), 1) == 1 or method == "HEAD"
        if not session.connected:
            raise CommandError(3, "session not connected")
        transfer = _HttpTransfer(session, self.boots)
        self._http_transfer = transfer
        if method != "POST":
            self._http_escaped = False
            self.enter_data_mode(self._host_bytes_in_transfer)  # CONNECT
            self._escape_hook = lambda: self._abort_transfer(transfer)
            self._spawn(lambda: self._http_exchange(transfer, method, uri, None, show_resp))
            return None

        def body_done(body: bytes) -> None:
            self._spawn(lambda: self._http_exchange(transfer, method, uri, body, show_resp))

        def body_timeout() -> None:
            self._http_transfer = None
            self._escape_hook = None
            self.urc(f"+KHTTP_ERROR: {session.sid},6")

        self._pattern_phase(body_done, body_timeout, answer_follows=True)
        self._escape_hook = lambda: self._abort_transfer(transfer)
        return None

    def _host_bytes_in_transfer(self, data: bytes) -> None:
        """What the host writes while the module sends an HTTP answer: not commands (S7 p.207);
        what the module does with it is not documented: dropped here."""

    def _abort_transfer(self, transfer: _HttpTransfer) -> None:
        """``+++`` in an HTTP data phase (lock held; the engine then answers ``OK``): the
        transfer is dropped, "disconnect" (HL75-ATIG 16.9, S7 p.302): its connection closes,
        nothing more of it is written (no pattern, no ``OK``, no ``+KHTTP_IND``), the session
        is no longer connected and ``ATO`` answers ``NO CARRIER``."""
        transfer.aborted = True
        transfer.session.connected = False
        if self._http_transfer is transfer:
            self._http_transfer = None
        self._http_escaped = True
        transfer.stop()

    def _transfer_over(self, transfer: _HttpTransfer) -> bool:
        """Whether the transfer may write no more (lock held): aborted, or a reboot since."""
        return transfer.aborted or self.boots != transfer.boot

    def _end_transfer(self, transfer: _HttpTransfer) -> None:
        """The transfer's data phase ends (lock held), after its final result code: command
        mode again, the URCs that waited are delivered, its ``+++`` hook is gone."""
        if self._http_transfer is transfer:
            self._http_transfer = None
            self._escape_hook = None
            self.leave_data_mode(None)

    def _http_exchange(self, transfer: _HttpTransfer, method: str, uri: str,
                       body: bytes | None, show_resp: bool) -> None:
        session = transfer.session
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
                if self._transfer_over(transfer):
                    return
                self.error(CommandError(None, str(exc)))
                self.urc(f"+KHTTP_ERROR: {session.sid},5")
                self._end_transfer(transfer)
            return
        received = bytearray()
        state = {"in_body": show_resp, "sent": 0}

        def on_data(data: bytes) -> None:
            with self.lock:
                if self._transfer_over(transfer):  # +++, or the module restarted
                    transfer.finished.set()
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
                if out:
                    self.write_raw(out)

        def on_closed(_reason: str) -> None:
            transfer.finished.set()

        with self.lock:
            if self._transfer_over(transfer):
                conn.close()
                return
            transfer.conn = conn
        conn.start(on_data, on_closed)
        transfer.finished.wait(self.connect_timeout + 120)
        conn.close()
        status_line = bytes(received.split(b"\r\n", 1)[0]).decode("latin-1")
        parts = status_line.split(" ", 2)
        code = parts[1] if len(parts) > 1 else "0"
        reason = parts[2] if len(parts) > 2 else ""
        with self.lock:
            transfer.conn = None
            if self._transfer_over(transfer):
                return
            self.write_raw(self.pattern)
            self.final("OK")
            self._end_transfer(transfer)
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
        session.state = 2
        session.notif = -1
        session.rx.clear()
        session.armed = True
        if not self._bring_up(lambda: self._spawn(lambda: self._tcp_connect(session))):
            session.state = 1
            session.notif = 0
            self.urc(f"+KTCP_NOTIF: {session.sid},0")
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

