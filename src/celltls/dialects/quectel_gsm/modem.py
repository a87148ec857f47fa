"""The Quectel GSM virtual modem (M66, M95, MC60): the SSL commands of the GSM SSL application note.

Written from the *Quectel GSM SSL Application Note V3.3* (2020-04-01; "the note" below), chapter 2
for commands, parameters and response shapes and chapter 3 for how the lines come out in a real
session (which lines follow ``OK`` as URCs, blank lines, bare values). It serves:

- certificates and keys: ``AT+QSECWRITE`` (2.2.7), ``AT+QSECREAD`` (2.2.8), ``AT+QSECDEL``
  (2.2.9); RAM is lost on reboot, NVRAM (names CA0, CC0, CK0 only) is kept, optionally in a JSON
  file;
- SSL contexts: every form of ``AT+QSSLCFG`` (2.2.1);
- secure sockets: ``AT+QSSLOPEN`` (2.2.2), ``AT+QSSLSEND`` (2.2.3), ``AT+QSSLRECV`` (2.2.4),
  ``AT+QSSLCLOSE`` (2.2.5), ``AT+QSSLSTATE`` (2.2.6) and the URCs ``+QSSLURC: "recv"`` /
  ``"closed"`` (2.2.10); transparent mode (1.2 step 5-6, 3.4);
- bring-up: ``AT+QIFGCNT``, ``AT+QICSGP``, ``AT+QIREGAPP``, ``AT+QIACT``, ``AT+QILOCIP``,
  ``AT+QIDEACT``, ``AT+QIMUX``, ``AT+QIMODE`` (1.2, 1.3, 3.x; details of the note's reference [3],
  the Mxx AT commands manual) and, from the engine, ``+CREG``/``+CGREG``/``+CGATT`` (chapter 4);
- plain TCP client sockets sharing the 0-5 indices with SSL sockets (1.3): ``AT+QIOPEN``,
  ``AT+QISEND``, ``AT+QIRD``, ``AT+QICLOSE``, ``AT+QISACK``, ``AT+QISTAT``, ``AT+QINDI``,
  ``AT+QIDNSIP`` and their URCs, from ``shared/reference/quectel-gsm-tcpip.md`` ("the
  reference") 3-5 and 10 (UDP, server sockets and transparent ``AT+QIOPEN`` are not emulated);
- identification as real logs show it (the reference 2, 9 L1): ``AT+IPR``, ``AT+CIMI``,
  ``AT+QCCID`` (no prefix), ``AT+CCID``, ``AT+COPS``; ``AT+QIURC``; ``AT+QIHEAD``
  (``IPD<len>:`` before pushed data, L1); ``AT+CREG=2`` (S12); boot lines after a reboot
  (:meth:`QuectelGsmModem.on_reboot`);
- from the engine (27.007 10.1): ``AT+CGDCONT``, ``AT+CGACT``, ``AT+CGPADDR`` (the context of
  ``AT+QIACT`` is context 1), ``AT+IFC``, ``AT&D``, ``AT&C``, ``AT&K`` (refused in strict
  mode: the family's flow control command is ``AT+IFC``).

The object is the powered module: it outlives host connections (the server attaches and
detaches the line), so sockets, transparent data mode and the PDP context survive a host
program that is killed and reconnects. Its ``AT+QSECWRITE`` checksum is its own code
(:func:`file_checksum`), not the driver's.

Spellings. The note misspells some names. Which spelling the module takes was decided on these
grounds (searches of public driver code and forum threads):

- ``AT+QSSLSEND`` and ``AT+QSSLRECV`` are accepted; ``AT+QSSSEND`` (2.2.3 heading, 3.1, 3.3)
  and ``AT+QSSLRCV`` (1.3, 2.2.4 note, 3.1, 3.3) are unknown commands and answer ``ERROR``.
  Evidence: the Arduino GSM3 library's SSL provider for the Quectel-based Arduino GSM shield
  (``GSMSSLProvider``) sends ``AT+QSSLSEND=<ssid>`` and ``AT+QSSLRECV=0,<ssid>,<len>``, and so
  does a GSM socket driver (``gsmSecuredSocCmdSet``); no public code anywhere uses ``QSSSEND``
  or ``QSSLRCV``; the note's own 2.2.4 table and 3.2 example use ``QSSLRECV``.
- ``"seclevel"`` is accepted, ``"secllevel"`` (every 3.x example) answers ``ERROR``: drivers of
  the family (an M26 HTTPS driver, the Arduino GSM3 SSL provider, a GSM MQTT/QIFGCNT driver)
  send ``"seclevel"``; no code uses ``"secllevel"``.
- ``"ignorertc"`` (2.2.1, 3.4.2) is accepted and so is ``"ignorertctime"`` (3.1): two GSM
  drivers send ``AT+QSSLCFG="ignorertctime",1`` and stop unless ``OK`` comes back (a GSM driver
  that also uses ``AT+QIFGCNT=0``/``AT+QICSGP``, and an OpenCPU application's ``SSL_init``), so
  the firmware takes it. ``"ignorevertime"`` (3.2) appears nowhere else: ``ERROR``.
- Selectors of ``AT+QSSLCFG`` are matched without regard to case (no evidence either way for
  this family).

Choices where the note is silent (each is marked "choice" in the code):

- ``<sslversion>`` has no underlined default; 4 (all) is used. Queries print
  ``+QSSLCFG: "<type>",<value>`` without the context index, as the 2.2.1 table shows; cipher
  suites print as ``0X0035``/``0XFFFF`` (the table's spelling), file names quoted.
- In transparent mode an open failure after ``OK`` is reported as ``+QSSLOPEN: <ssid>,-1``
  (the 2.2.2 table's last line); ``ERROR`` replaces ``OK`` for bad parameters or no PDP context.
- When the server closes a transparent connection while the line is in data mode, the module
  leaves data mode by itself (1.2 step 6) and prints ``CLOSED``: the line the Quectel GSM TCP/IP
  stack prints when a peer closes a connection (seen handled as Quectel GSM's "connection closed"
  report in public drivers alongside ``+PDP DEACT``); no document found states the exact line
  for the SSL transparent case.
- After ``+QSSLURC: "closed",<ssid>`` the socket stays in state ``CLOSED``: data received
  before the close can still be read with ``AT+QSSLRECV`` (then it answers ``OK`` alone),
  ``AT+QSSLSEND`` answers ``ERROR``, ``AT+QSSLCLOSE`` answers ``CLOSE OK`` and
  ``AT+QSSLOPEN`` may reuse the ssid.
- ESC during an ``AT+QSSLSEND`` prompt cancels and answers ``ERROR``; a Ctrl-Z terminated
  payload is sent when it reaches 1460 bytes.
- An upload interrupted by ``+++`` or by its ``<timeout>`` stores what arrived (as 2.2.7 says for
  ``+++``); nothing at all is ``+CME ERROR: 3``.
- TLS limits: Table 1 versions and Table 2 suites only, as far as the host OpenSSL allows (no
  SSL 3.0, RC4 or 3DES on OpenSSL 3: :attr:`QuectelGsmModem.dropped_suites`), never TLS 1.3;
  host names are not checked; the certificates' dates are checked against the modem's clock
  (``AT+CCLK``) unless ``ignorertc`` is 1.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import ipaddress
import json
import logging
import operator
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from celltls.dialects.quectel_gsm import catalog as cat
from celltls.sim.engine import ATEngine, CommandError, ParsedCommand, unquote
from celltls.sim.network import (
    TcpConnection,
    TlsConnection,
    TlsOpenError,
    available_suites,
    build_client_context,
)

__all__ = ["MODELS", "QuectelGsmModem", "SslContextConfig", "file_checksum"]

log = logging.getLogger(__name__)

#: Models and the revision string each reports (``ATI``: ``Quectel_Ltd``, ``Quectel_<model>``,
#: ``Revision: <model>FAR...`` as real M66 logs show it).
MODELS: dict[str, str] = {
    "M66": "M66FAR02A12",
    "M95": "M95FAR02A08",
    "MC60": "MC60CAR01A10",
}

def file_checksum(data: bytes) -> str:
    """The ``<checksum>`` of ``AT+QSECWRITE``/``AT+QSECREAD`` (the note 2.2.7, 2.2.8).

    The note names the checksum but does not define it. Quectel's file checksum, as worked out
    on Quectel's forum (catalog source ``QFORUM-23599``), is the XOR of the file read as 16-bit
    big-endian words, a last odd byte standing as the high byte of a word whose low byte is 0,
    printed in lower-case hexadecimal without leading zeros (the note prints ``4039``, ``618``,
    ``83a7``). This virtual modem computes it on its own, not with the driver's code
    (issue 13): the high byte of the result is the XOR of the bytes at even offsets, the low
    byte the XOR of the bytes at odd offsets, which is the same word XOR written another way.

    Args:
        data: the file's bytes.

    Returns:
        str: e.g. ``"4142"`` for ``b"AB"``, ``"0"`` for no bytes.
    """
    high = functools.reduce(operator.xor, data[0::2], 0)
    low = functools.reduce(operator.xor, data[1::2], 0)
    return format(high << 8 | low, "x")


# Ranges of the note (2.2.1-2.2.7), written once in the dialect's catalog.
_CTX = cat.CTX_RANGE
_SSID = cat.SSID_RANGE
_CID = cat.CID_RANGE
_MAX_SEND = cat.MAX_SEND
_MAX_RECV = cat.MAX_RECV
_MAX_RAM_FILE = cat.MAX_RAM_FILE
_MAX_NVRAM_FILE = cat.MAX_NVRAM_FILE
_NVRAM_NAMES = tuple(cat.NVRAM_NAMES)
_SUITES = tuple(cat.CIPHER_SUITES)  # Table 2 / 2.2.1
_ALL_SUITES = cat.ALL_CIPHER_SUITES
_VERSIONS = {0: ["SSLv3"], 1: ["TLSv1"], 2: ["TLSv1.1"], 3: ["TLSv1.2"],
             4: ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"]}  # Table 1 / 2.2.1

# 27.007 9.2.1 numbers for +CME ERROR.
_NOT_ALLOWED = 3
_NOT_SUPPORTED = 4
_BAD_PARAM = 50


#: Receive buffer of a secure socket, bytes. The note gives no size; a module's buffer is
#: finite and TCP flow control holds the server back when it is full, so the virtual modem
#: stops reading from the server above this much unread data instead of buffering without end.
RX_BUFFER = 64 * 1024


@dataclass
class SslContextConfig:
    """One SSL context of ``AT+QSSLCFG`` (the note 2.2.1); values as the host set them."""

    sslversion: int = 4  # choice: no default is underlined in 2.2.1
    ciphersuite: int = _ALL_SUITES
    seclevel: int = 0
    cacert: str = ""
    clientcert: str = ""
    clientkey: str = ""


@dataclass
class _File:
    data: bytes
    checksum: str


class _Connection(Protocol):
    """What a socket needs of its network connection (TLS or plain TCP)."""

    remote_ip: str
    remote_port: int

    def start(
        self,
        on_data: Callable[[bytes], None],
        on_closed: Callable[[str], None],
        can_receive: Callable[[], bool] | None = None,
    ) -> None: ...

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


@dataclass
class _Socket:
    ssid: int  # the socket index 0-5, shared by SSL and plain TCP sockets (the note 1.3)
    ctx: int
    host: str
    port: int
    transparent: bool
    ssl: bool = True  # 2.2.6 <sslconnectionflag>: 1 SSL, 0 plain TCP/UDP
    state: str = "CONNECTING"  # 2.2.6 <socketstatus>
    conn: _Connection | None = None
    buffer: bytearray = field(default_factory=bytearray)
    remote_ip: str = ""
    remote_port: int = 0
    sent: int = 0  # bytes sent, for AT+QISACK
    packets: int = 0  # packets in the buffer, for +QIRDI with AT+QINDI=2


_Handler = Callable[[ParsedCommand], "str | None"]
_TCP_SOCKET_COMMANDS = ("+QIOPEN", "+QISEND", "+QIRD", "+QICLOSE", "+QISACK", "+QISTAT")


def _plain_errors(handler: _Handler) -> _Handler:
    """Answer every failure of ``handler`` with ``ERROR``, whatever ``AT+CMEE`` says.

    The note's tables of AT+QSSLOPEN, AT+QSSLSEND, AT+QSSLRECV, AT+QSSLCLOSE and AT+QSSLSTATE
    (2.2.2-2.2.6) give ``ERROR`` for "any error", unlike AT+QSECWRITE/READ/DEL (2.2.7-2.2.9,
    ``+CME ERROR: <err>``); the ``QI*`` socket commands fail with ``ERROR`` in every driver
    read (quectel-gsm-tcpip.md 7).
    """

    @functools.wraps(handler)
    def wrapper(cmd: ParsedCommand) -> str | None:
        try:
            return handler(cmd)
        except CommandError as exc:
            raise CommandError(None, exc.reason) from None

    return wrapper


def _hex_suite(text: str) -> int | None:
    inner = unquote(text)
    value = (inner if inner is not None else text).strip()
    if value[:2].lower() != "0x":
        return None
    try:
        return int(value[2:], 16)
    except ValueError:
        return None


class QuectelGsmModem(ATEngine):
    """A virtual Quectel GSM module that serves the SSL application note's commands.

    Args:
        model: ``"M66"`` (default), ``"M95"`` or ``"MC60"``.
        guard_time: escape sequence guard time, seconds (default 1 s).
        latency: seconds added per network round trip.
        clock: the module's RTC at start (default: now); set later with ``AT+CCLK`` or
            :meth:`set_clock`.
        nvram_path: a JSON file that keeps NVRAM across processes (read at start, written on
            each change); ``None`` keeps it in memory only (it still survives :meth:`reboot`).
        local_ip: what ``AT+QILOCIP`` answers.
        imsi: what ``AT+CIMI`` answers (15 digits, reference L1 shape).
        iccid: what ``AT+QCCID`` and ``AT+CCID`` answer (20 digits, reference L1 shape).
        operator: the ``<oper>`` of ``AT+COPS?`` (long alphanumeric format).
        baudrate: what ``AT+IPR?`` answers, bits per second (reference L1: 115200).

    The modem object is the powered module: :class:`celltls.sim.serve.VirtualModemServer`
    builds it once and only attaches and detaches the host's line, so SSL sockets, transparent
    data mode and the PDP context outlive a host program that is killed and reconnects
    (quectel-gsm-tcpip.md 6, 10: host restarts do not reset the module).

    Attributes:
        last_tls_error: why the last ``AT+QSSLOPEN`` failed (``"verify failed: ..."``,
            ``"handshake failed: ..."``, ``"connect failed: ..."``...), or ``None``.
        last_close_reason: why the last connection closed on the network side.
        dropped_suites: the note's cipher suites the host OpenSSL cannot offer.
        contexts: the six SSL contexts.

    Raises:
        ValueError: unknown ``model``.
    """

    bringup_commands = True  # +CGDCONT, +CGACT, +CGPADDR, &K, &D, &C, +IFC from the engine
    cops_act = None  # a GSM module: +COPS: 0,0,"<oper>" with three fields (reference 9 L1)
    cid_range = (1, 3)  # choice: three PDP contexts
    creg_max = 2  # AT+CREG=2: "+CREG: 2,<stat>,<lac>,<ci>" (reference 2, S12)
    cgdcont_test = ('+CGDCONT: (1-3),"IP",,,(0-2),(0-4)',)

    def __init__(
        self,
        *,
        model: str | None = None,
        guard_time: float = 1.0,
        latency: float = 0.0,
        clock: _dt.datetime | None = None,
        nvram_path: str | Path | None = None,
        local_ip: str = "10.1.83.188",
        imsi: str = "460001234567890",
        iccid: str = "89860012345678901234",
        operator: str = "CHINA MOBILE",
        baudrate: int = 115200,
    ) -> None:
        model = model or "M66"
        if model not in MODELS:
            raise ValueError(f"unknown Quectel GSM model {model!r}; known: {sorted(MODELS)}")
        self.nvram_path = Path(nvram_path) if nvram_path is not None else None
        self.nvram: dict[str, _File] = {}
        self._load_nvram()
        self.local_ip = local_ip
        self.imsi = imsi
        self.iccid = iccid
        self.operator = operator
        self.baudrate = baudrate
        self.qiurc = 1  # AT+QIURC: report "Call Ready" at boot (quectel-gsm-tcpip.md 2)
        self.last_tls_error: str | None = None
        self.last_close_reason: str | None = None
        self.dropped_suites: list[int] = available_suites(_SUITES)[1]
        self._reset_ram()
        super().__init__(
            manufacturer="Quectel_Ltd",
            model=f"Quectel_{model}",
            revision=MODELS[model],
            guard_time=guard_time,
            latency=latency,
            clock=clock,
        )
        self.model_name = model
        handlers: dict[str, _Handler] = {
            "+QSECWRITE": self._qsecwrite,
            "+QSECREAD": self._qsecread,
            "+QSECDEL": self._qsecdel,
            "+QSSLCFG": self._qsslcfg,
            "+QSSLOPEN": self._qsslopen,
            "+QSSLSEND": self._qsslsend,
            "+QSSLRECV": self._qsslrecv,
            "+QSSLCLOSE": self._qsslclose,
            "+QSSLSTATE": self._qsslstate,
            "+QIFGCNT": self._qifgcnt,
            "+QICSGP": self._qicsgp,
            "+QIREGAPP": self._qiregapp,
            "+QIACT": self._qiact,
            "+QILOCIP": self._qilocip,
            "+QIDEACT": self._qideact,
            "+QIMUX": self._qimux,
            "+QIMODE": self._qimode,
            "+QIOPEN": self._qiopen,
            "+QISEND": self._qisend,
            "+QIRD": self._qird,
            "+QICLOSE": self._qiclose,
            "+QISACK": self._qisack,
            "+QISTAT": self._qistat,
            "+QINDI": self._qindi,
            "+QIDNSIP": self._qidnsip,
            "+QIHEAD": self._qihead,
            "+QIURC": self._qiurc,
            "+IPR": self._ipr,
            "+CIMI": self._cimi,
            "+QCCID": self._qccid,
            "+CCID": self._ccid,
            "+COPS": self._cops,
        }
        for name, handler in handlers.items():
            plain = name.startswith("+QSSL") or name in _TCP_SOCKET_COMMANDS
            self.register(name, _plain_errors(handler) if plain else handler)
        self.register("&K", self._flow_control)

    def _flow_control(self, cmd: ParsedCommand) -> str:
        """``AT&K<n>``: taken by default; in strict mode ``ERROR``, since the family's flow
        control command in every source read is ``AT+IFC`` (quectel-gsm-tcpip.md 2)."""
        if self.strict:
            raise CommandError(None, "AT&K: the GSM family uses AT+IFC")
        return self._cmd_flow(cmd)

    # ------------------------------------------------------------------ state
    def _reset_ram(self) -> None:
        self.ram: dict[str, _File] = {}
        self.contexts = [SslContextConfig() for _ in range(6)]
        self.ignorertc = 0
        self.https = 0
        self.httpsctxi = -1
        self.smtpstyle = 0
        self.smtpsctxi = -1
        self.fgcnt = 0
        self.csgp: tuple[int, str, str, str] = (1, "CMNET", "", "")
        self.qimux = 0
        self.qimode = 0
        self.qindi = 0  # AT+QINDI: 0 = push received TCP data to the UART (reference 4)
        self.qidnsip = 0  # AT+QIDNSIP: 0 = AT+QIOPEN takes a dotted IP (reference 4)
        self.qihead = 0  # AT+QIHEAD: 1 = pushed data is prefixed "IPD<len>:" (reference 4)
        self.ip_state = "IP INITIAL"
        self._ilocip_read = False
        self.sockets: dict[int, _Socket] = {}
        self._transparent: _Socket | None = None
        self._upload_timer: threading.Timer | None = None

    def on_reboot(self) -> None:
        """RAM (files, contexts, sockets, PDP) is lost, NVRAM is kept (the note 2.2.7); boot lines.

        After the restart the module writes ``RDY``, ``+CFUN: 1``, ``+CPIN: READY``,
        ``Call Ready`` (left out after ``AT+QIURC=0``) and ``SMS Ready``: the unsolicited boot
        lines drivers of the family wait for or skip (quectel-gsm-tcpip.md 2: S6 URC table
        ``RDY``/``Call Ready``, S12 ``+CFUN: 1``, S13 ``SMS Ready``/``Call Ready``/
        ``+CPIN: READY``, S4 waits for ``Call Ready``). Their order on a real M66 is not
        captured in any source (reference 11): this order is a choice. ``AT+QIURC`` is kept
        across the restart (reference 10: a driver that set ``AT+QIURC=0`` never sees
        ``Call Ready`` after a reset).
        """
        self._close_all(report=False)
        self._cancel_upload_timer()
        self._reset_ram()
        for line in ("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"):
            if line != "Call Ready" or self.qiurc:
                self.urc(line)

    def shutdown(self) -> None:
        """Close every connection and timer."""
        with self.lock:
            self._close_all(report=False)
            self._cancel_upload_timer()
        super().shutdown()

    def _load_nvram(self) -> None:
        if self.nvram_path is None or not self.nvram_path.exists():
            return
        stored = json.loads(self.nvram_path.read_text())
        for name, blob in stored.items():
            data = base64.b64decode(blob)
            self.nvram[name] = _File(data, file_checksum(data))

    def _save_nvram(self) -> None:
        if self.nvram_path is None:
            return
        payload = {name: base64.b64encode(f.data).decode() for name, f in self.nvram.items()}
        self.nvram_path.write_text(json.dumps(payload, indent=1))

    def corrupt_file(self, filename: str) -> None:
        """Flip a bit of a stored file so that ``AT+QSECREAD`` reports ``<good>`` 0 (a fault).

        Raises:
            KeyError: no such file.
        """
        with self.lock:
            store, name = self._store(filename)
            entry = store[name]
            data = bytearray(entry.data)
            data[0] ^= 0x01
            store[name] = _File(bytes(data), entry.checksum)

    def file_data(self, filename: str) -> bytes:
        """The bytes stored under ``filename`` (``"RAM:x"``, ``"NVRAM:CA0"``), for tests.

        Raises:
            KeyError: no such file.
        """
        with self.lock:
            store, name = self._store(filename)
            return store[name].data

    # ------------------------------------------------------------------ helpers
    def _store(self, filename: str) -> tuple[dict[str, _File], str]:
        """Parse ``RAM:<name>`` / ``NVRAM:<CA0|CC0|CK0>`` (or a bare CA0/CC0/CK0)."""
        prefix, sep, name = filename.partition(":")
        if not sep:
            if filename in _NVRAM_NAMES:
                return self.nvram, filename
            raise CommandError(_BAD_PARAM, f"bad file name {filename!r}")
        if prefix.upper() == "RAM" and name and len(name) <= 64:
            return self.ram, name
        if prefix.upper() == "NVRAM":
            if name not in _NVRAM_NAMES:
                raise CommandError(_BAD_PARAM, f"NVRAM takes only CA0, CC0, CK0, not {name!r}")
            return self.nvram, name
        raise CommandError(_BAD_PARAM, f"bad file name {filename!r}")

    def _filename_arg(self, arg: str) -> tuple[dict[str, _File], str, bool]:
        text = unquote(arg)
        if text is None:
            raise CommandError(_BAD_PARAM, "<filename> must be quoted")
        store, name = self._store(text)
        return store, name, store is self.nvram

    def _pdp_active(self) -> bool:
        return self.ip_state in ("IP GPRSACT", "IP STATUS", "IP PROCESSING")

    def _socket_ip_state(self) -> str:
        """The ``<state>`` of ``AT+QSSLSTATE`` (the note 2.2.6).

        ``IP PROCESSING`` ("establish connection") while any socket, SSL or plain, is
        connecting or connected: a driver of the family reads it as "a socket is already up"
        (quectel-gsm-tcpip.md 6, S10).
        """
        if self.ip_state in ("IP GPRSACT", "IP STATUS", "IP PROCESSING"):
            if any(s.state != "CLOSED" for s in self.sockets.values()):
                return "IP PROCESSING"
            return "IP STATUS" if self._ilocip_read else "IP GPRSACT"
        return self.ip_state

    # ------------------------------------------------------------------ QSECWRITE & co
    def _qsecwrite(self, cmd: ParsedCommand) -> str | None:
        """AT+QSECWRITE (the note 2.2.7)."""
        if cmd.kind == "test":
            self.respond('+QSECWRITE: <filename>,<filesize>,(3-200)')
            return "OK"
        if cmd.kind == "read":
            return "OK"
        if cmd.kind != "write" or not 2 <= len(cmd.args) <= 3:
            raise CommandError(_BAD_PARAM, "AT+QSECWRITE=<filename>,<filesize>[,<timeout>]")
        store, name, nv = self._filename_arg(cmd.args[0])
        size = self.int_arg(cmd.args[1], 1, _MAX_NVRAM_FILE if nv else _MAX_RAM_FILE)
        timeout = self.int_arg(cmd.args[2], 3, 200) if len(cmd.args) == 3 else 100
        if name in store:
            raise CommandError(_NOT_ALLOWED, f"{cmd.args[0]} exists; delete it first (2.2.7)")

        def finished(payload: bytes) -> None:
            self._cancel_upload_timer()
            if not payload:
                self.error(CommandError(_NOT_ALLOWED, "no data uploaded"))
                return
            entry = _File(payload, file_checksum(payload))
            store[name] = entry
            if nv:
                self._save_nvram()
            self.respond(f"+QSECWRITE: {len(payload)},{entry.checksum}")
            self.final("OK")

        self.start_connect_phase(size, finished, finished)
        timer = threading.Timer(timeout, self.abort_connect_phase)
        timer.daemon = True
        self._upload_timer = timer
        timer.start()
        return None

    def _cancel_upload_timer(self) -> None:
        if self._upload_timer is not None:
            self._upload_timer.cancel()
            self._upload_timer = None

    def _qsecread(self, cmd: ParsedCommand) -> str:
        """AT+QSECREAD (the note 2.2.8): ``+QSECREAD: <good>,<checksum>``."""
        if cmd.kind == "test":
            self.respond("+QSECREAD: <filename>")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(_BAD_PARAM, "AT+QSECREAD=<filename>")
        store, name, _ = self._filename_arg(cmd.args[0])
        entry = store.get(name)
        if entry is None:
            raise CommandError(_NOT_ALLOWED, f"no file {cmd.args[0]}")
        current = file_checksum(entry.data)
        good = 1 if current == entry.checksum else 0
        self.respond(f"+QSECREAD: {good},{current}")
        return "OK"

    def _qsecdel(self, cmd: ParsedCommand) -> str:
        """AT+QSECDEL (the note 2.2.9)."""
        if cmd.kind == "test":
            self.respond("+QSECDEL: <filename>")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(_BAD_PARAM, "AT+QSECDEL=<filename>")
        store, name, nv = self._filename_arg(cmd.args[0])
        if name not in store:
            raise CommandError(_NOT_ALLOWED, f"no file {cmd.args[0]}")
        del store[name]
        if nv:
            self._save_nvram()
        return "OK"

    # ------------------------------------------------------------------ QSSLCFG
    def _qsslcfg(self, cmd: ParsedCommand) -> str:
        """AT+QSSLCFG (the note 2.2.1), every form."""
        if cmd.kind == "test":
            self.respond('+QSSLCFG: "type",(0-5),"value"')
            return "OK"
        if cmd.kind != "write":
            raise CommandError(None, "AT+QSSLCFG needs a <type>")
        selector = unquote(cmd.args[0])
        if selector is None:
            raise CommandError(_BAD_PARAM, "<type> must be quoted")
        key = selector.lower()
        if key == "ignorertctime":
            key = "ignorertc"  # accepted by the firmware, see the module docstring
        args = cmd.args[1:]
        if key in ("ignorertc", "https", "httpsctxi", "smtpstyle", "smtpsctxi"):
            return self._qsslcfg_global(key, args)
        if key not in ("ctxindex", "sslversion", "ciphersuite", "seclevel", "cacert",
                       "clientcert", "clientkey"):
            raise CommandError(_BAD_PARAM, f"unknown <type> {selector!r}")
        if not args:
            raise CommandError(_BAD_PARAM, "missing <ctxindex>")
        ctx = self.contexts[self.int_arg(args[0], *_CTX)]
        value = args[1] if len(args) > 1 else None
        if len(args) > 2:
            raise CommandError(_BAD_PARAM, "too many parameters")
        if key == "ctxindex":
            if value is not None:
                raise CommandError(_BAD_PARAM, "too many parameters")
            index = self.contexts.index(ctx)
            self.respond(
                f'+QSSLCFG: {index},{ctx.sslversion},{ctx.seclevel},0X{ctx.ciphersuite:04X},'
                f'"{ctx.cacert}","{ctx.clientcert}","{ctx.clientkey}"'
            )
            return "OK"
        if key == "sslversion":
            if value is None:
                self.respond(f'+QSSLCFG: "sslversion",{ctx.sslversion}')
            else:
                ctx.sslversion = self.int_arg(value, 0, 4)
        elif key == "seclevel":
            if value is None:
                self.respond(f'+QSSLCFG: "seclevel",{ctx.seclevel}')
            else:
                ctx.seclevel = self.int_arg(value, 0, 2)
        elif key == "ciphersuite":
            if value is None:
                self.respond(f'+QSSLCFG: "ciphersuite",0X{ctx.ciphersuite:04X}')
            else:
                suite = _hex_suite(value)
                if suite is None or (suite not in _SUITES and suite != _ALL_SUITES):
                    raise CommandError(_BAD_PARAM, f"unknown cipher suite {value}")
                ctx.ciphersuite = suite
        else:
            if value is None:
                self.respond(f'+QSSLCFG: "{key}","{getattr(ctx, key)}"')
            else:
                name = unquote(value)
                if name is None:
                    raise CommandError(_BAD_PARAM, f"<{key}name> must be quoted")
                self._store(name)  # checks the format
                setattr(ctx, key, name)
        return "OK"

    def _qsslcfg_global(self, key: str, args: tuple[str, ...]) -> str:
        ranges = {"ignorertc": (0, 1), "https": (0, 1), "httpsctxi": _CTX,
                  "smtpstyle": (0, 2), "smtpsctxi": _CTX}
        if len(args) > 1:
            raise CommandError(_BAD_PARAM, f'"{key}" takes one value')
        if not args:
            self.respond(f'+QSSLCFG: "{key}",{getattr(self, key)}')
            return "OK"
        setattr(self, key, self.int_arg(args[0], *ranges[key]))
        return "OK"

    # ------------------------------------------------------------------ bring-up
    def _qifgcnt(self, cmd: ParsedCommand) -> str:
        """AT+QIFGCNT=<id>: the foreground context (the note 1.2 step 2)."""
        if cmd.kind == "read":
            self.respond(f"+QIFGCNT: {self.fgcnt}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+QIFGCNT: (0,1)")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(None, "AT+QIFGCNT=<id>")
        self.fgcnt = self.int_arg(cmd.args[0], *_CID)
        return "OK"

    def _qicsgp(self, cmd: ParsedCommand) -> str:
        """AT+QICSGP=<mode>,<apn>[,<user>,<pwd>] (the note 1.2 step 2, 3.x)."""
        if cmd.kind == "read":
            self.respond(f"+QICSGP: {self.csgp[0]}")
            return "OK"
        if cmd.kind == "test":
            self.respond('+QICSGP: (0,1),"APN","USER","PWD"')
            return "OK"
        if cmd.kind != "write" or len(cmd.args) not in (2, 3, 4):
            raise CommandError(None, "AT+QICSGP=<mode>,<apn>[,<user>,<pwd>]")
        mode = self.int_arg(cmd.args[0], 0, 1)
        texts = [unquote(a) for a in cmd.args[1:]]
        if any(t is None for t in texts) or len(texts[0] or "") > 63:
            raise CommandError(_BAD_PARAM, "<apn>, <user>, <pwd> are quoted strings")
        apn, user, pwd = ([*(t or "" for t in texts), "", ""])[:3]
        self.csgp = (mode, apn, user, pwd)
        return "OK"

    def _qiregapp(self, cmd: ParsedCommand) -> str:
        """AT+QIREGAPP: start the TCP/IP task (the note 1.2 step 2; chapter 4)."""
        if cmd.kind == "test":
            return "OK"
        if cmd.kind == "read":
            self.respond(f'+QIREGAPP: "{self.csgp[1]}","{self.csgp[2]}","{self.csgp[3]}"')
            return "OK"
        if cmd.kind == "write":
            texts = [unquote(a) for a in cmd.args]
            if not 1 <= len(texts) <= 3 or any(t is None for t in texts):
                raise CommandError(None, 'AT+QIREGAPP[="<apn>"[,"<user>","<pwd>"]]')
            apn, user, pwd = ([*(t or "" for t in texts), "", ""])[:3]
            self.csgp = (self.csgp[0], apn, user, pwd)
        if self.ip_state != "IP INITIAL":
            raise CommandError(_NOT_ALLOWED, f"TCP/IP task already started ({self.ip_state})")
        if self.registration not in (1, 5) or not self.attached:
            raise CommandError(_NOT_ALLOWED, "not registered / not attached")
        self.ip_state = "IP START"
        return "OK"

    def _qiact(self, cmd: ParsedCommand) -> str:
        """AT+QIACT: activate the GPRS PDP context (the note 1.2 step 3, chapter 4)."""
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "AT+QIACT")
        if self.ip_state in ("IP GPRSACT", "IP STATUS", "IP PROCESSING"):
            return "OK"
        if self.ip_state != "IP START":
            raise CommandError(_NOT_ALLOWED, f"AT+QIREGAPP first (state {self.ip_state})")
        if self.registration not in (1, 5) or not self.attached:
            raise CommandError(148, "PDP activation failed: not registered / not attached")
        self.ip_state = "IP GPRSACT"
        self._ilocip_read = False
        return "OK"

    def _qilocip(self, cmd: ParsedCommand) -> str | None:
        """AT+QILOCIP: the bare local IP address line and no ``OK`` (the note 1.2, 3.x)."""
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "AT+QILOCIP")
        if not self._pdp_active():
            raise CommandError(_NOT_ALLOWED, "no active PDP context")
        self._ilocip_read = True
        self.ip_state = "IP STATUS"
        self.final(self.local_ip)
        return None

    def _qideact(self, cmd: ParsedCommand) -> str:
        """AT+QIDEACT: deactivate the PDP context, ``DEACT OK`` (the note 1.2 step 8, 3.x)."""
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "AT+QIDEACT")
        self._close_all(report=False)
        self.ip_state = "IP INITIAL"
        self._ilocip_read = False
        return "DEACT OK"

    def _qimux(self, cmd: ParsedCommand) -> str:
        """AT+QIMUX=<mode>: multiple TCP/IP sessions (the note 1.3 step 2)."""
        if cmd.kind == "read":
            self.respond(f"+QIMUX: {self.qimux}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+QIMUX: (0,1)")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(None, "AT+QIMUX=<mode>")
        value = self.int_arg(cmd.args[0], 0, 1)
        if self._pdp_active() and value != self.qimux:
            # reference 4 and L5: sent after AT+QIACT, AT+QIMUX=1 "always returns ERROR"
            raise CommandError(None, "AT+QIMUX must be set before AT+QIREGAPP/AT+QIACT")
        self.qimux = value
        return "OK"

    def _qimode(self, cmd: ParsedCommand) -> str:
        """AT+QIMODE=<mode>: TCP/IP transparent mode of AT+QIOPEN (not used by SSL sockets)."""
        if cmd.kind == "read":
            self.respond(f"+QIMODE: {self.qimode}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+QIMODE: (0,1)")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(None, "AT+QIMODE=<mode>")
        self.qimode = self.int_arg(cmd.args[0], 0, 1)
        return "OK"

    # ------------------------------------------------------------------ SSL sockets
    def _qsslopen(self, cmd: ParsedCommand) -> str | None:
        """AT+QSSLOPEN (the note 2.2.2): ``OK``, then ``+QSSLOPEN: <ssid>,<code>``/``CONNECT``.

        An index already used by an SSL or a plain TCP socket (the note 1.3: both share the
        indices of a foreground context) answers ``OK`` and then ``+QSSLOPEN: <ssid>,-2``,
        "socket is occupied" (2.2.2 <connectcode>; quectel-gsm-tcpip.md 6 and 10).
        """
        if cmd.kind == "test":
            # 2.2.2 test form: six fields, <timeout> last
            self.respond('+QSSLOPEN: (0-5),(0-5),"ADDRESS",(1-65535),(0,1),(10-300)')
            return "OK"
        if cmd.kind == "read":
            return "OK"  # 2.2.2 read form
        if cmd.kind != "write" or len(cmd.args) not in (5, 6):
            raise CommandError(None, "AT+QSSLOPEN=<ssid>,<ctx>,<addr>,<port>,<mode>[,<t>]")
        ssid = self.int_arg(cmd.args[0], *_SSID)
        ctx_index = self.int_arg(cmd.args[1], *_CTX)
        host = unquote(cmd.args[2])
        if not host:
            raise CommandError(None, "<ipaddr/domainname> must be a quoted string")
        port = self.int_arg(cmd.args[3], 1, 65535)
        transparent = self.int_arg(cmd.args[4], 0, 1) == 1
        low, high = cat.OPEN_TIMEOUT_RANGE
        timeout = (
            self.int_arg(cmd.args[5], low, high)
            if len(cmd.args) == 6
            else cat.OPEN_TIMEOUT_DEFAULT
        )
        if not self._pdp_active():
            raise CommandError(None, "no active PDP context (AT+QIACT)")
        if transparent and self._transparent is not None:
            raise CommandError(None, "a transparent connection is already open")
        if self._occupied(ssid):
            self.final("OK")
            self.urc(f"+QSSLOPEN: {ssid},-2")
            return None
        sock = _Socket(ssid, ctx_index, host, port, transparent)
        self.sockets[ssid] = sock
        if transparent:
            self._transparent = sock
        config = self.contexts[ctx_index]
        snapshot = SslContextConfig(**vars(config))
        files = {k: self._file_for(getattr(snapshot, k)) for k in ("cacert", "clientcert",
                                                                   "clientkey")}
        clock = None if self.ignorertc else self.now()
        worker = threading.Thread(
            target=self._open_worker,
            args=(sock, snapshot, files, timeout, clock),
            name=f"celltls-sim-qsslopen-{ssid}",
            daemon=True,
        )
        self.final("OK")
        worker.start()
        return None

    def _occupied(self, index: int) -> bool:
        sock = self.sockets.get(index)
        return sock is not None and sock.state != "CLOSED"

    def _file_for(self, name: str) -> bytes | None:
        if not name:
            return None
        try:
            store, key = self._store(name)
        except CommandError:
            return None
        entry = store.get(key)
        return entry.data if entry is not None else None

    def _open_worker(
        self,
        sock: _Socket,
        config: SslContextConfig,
        files: dict[str, bytes | None],
        timeout: int,
        clock: _dt.datetime | None,
    ) -> None:
        verify = {0: "none", 1: "server", 2: "mutual"}[config.seclevel]
        suites = list(_SUITES) if config.ciphersuite == _ALL_SUITES else [config.ciphersuite]
        conn: TlsConnection | None = None
        error: str | None = None
        try:
            if verify != "none" and files["cacert"] is None:
                raise TlsOpenError(
                    f"no CA certificate: seclevel {config.seclevel} needs cacert "
                    f"{config.cacert or '(not configured)'}"
                )
            build = build_client_context(
                versions=_VERSIONS[config.sslversion],
                suites=suites,
                verify=verify,
                ca_pem=files["cacert"],
                client_cert_pem=files["clientcert"],
                client_key_pem=files["clientkey"],
            )
            conn = TlsConnection.open(
                sock.host, sock.port, build, timeout=timeout, latency=self.latency, clock=clock
            )
        except TlsOpenError as exc:
            error = exc.reason
        except Exception as exc:
            error = f"handshake failed: {exc!r}"
        with self.lock:
            current = self.sockets.get(sock.ssid) is sock
            if not current:
                if conn is not None:
                    conn.close()
                return
            if conn is None:
                self.last_tls_error = error
                log.info("AT+QSSLOPEN %s:%s failed: %s", sock.host, sock.port, error)
                del self.sockets[sock.ssid]
                if self._transparent is sock:
                    self._transparent = None
                self.urc(f"+QSSLOPEN: {sock.ssid},-1")
                return
            self.last_tls_error = None
            self._connected(sock, conn)
            if sock.transparent:
                self.enter_data_mode(functools.partial(self._transparent_send, sock))
            else:
                self.urc(f"+QSSLOPEN: {sock.ssid},0")

    def _connected(self, sock: _Socket, conn: _Connection) -> None:
        sock.conn = conn
        sock.state = "CONNECTED"
        sock.remote_ip = conn.remote_ip
        sock.remote_port = conn.remote_port
        conn.start(
            functools.partial(self._on_data, sock),
            functools.partial(self._on_closed, sock),
            functools.partial(self._can_receive, sock),
        )

    def _can_receive(self, sock: _Socket) -> bool:
        """Whether the socket's receive buffer has room (see :data:`RX_BUFFER`)."""
        if not sock.ssl and self.qindi == 0:
            return True  # pushed to the UART as it arrives
        return len(sock.buffer) < RX_BUFFER or (sock.transparent and self.in_data_mode)

    def _on_data(self, sock: _Socket, data: bytes) -> None:
        with self.lock:
            if self.sockets.get(sock.ssid) is not sock:
                return
            if not sock.ssl:
                self._tcp_data(sock, data)
                return
            if sock.transparent and self._transparent is sock and self.in_data_mode:
                self.write_raw(data)
                return
            was_empty = not sock.buffer
            sock.buffer += data
            if was_empty and not sock.transparent:
                # 2.2.10.1: reported only when data arrives into an empty buffer
                self.urc(f'+QSSLURC: "recv",{self.fgcnt},{sock.ssid}')

    def _on_closed(self, sock: _Socket, reason: str) -> None:
        with self.lock:
            if self.sockets.get(sock.ssid) is not sock:
                return
            self.last_close_reason = reason
            if not sock.ssl:
                sock.conn = None
                sock.state = "CLOSED"
                self.urc(self._tcp_closed_line(sock.ssid))
                return
            if sock.transparent:
                del self.sockets[sock.ssid]
                self._transparent = None
                if self.in_data_mode:
                    self.leave_data_mode("CLOSED")
                else:
                    self.leave_data_mode(None)
                    self.urc(f'+QSSLURC: "closed",{sock.ssid}')
                return
            sock.conn = None
            sock.state = "CLOSED"
            self.urc(f'+QSSLURC: "closed",{sock.ssid}')

    def _transparent_send(self, sock: _Socket, data: bytes) -> None:
        conn = sock.conn
        if conn is None:
            return
        try:
            conn.send(data)
        except OSError as exc:
            log.info("transparent send failed: %s", exc)

    def on_escape(self) -> None:
        """``+++`` in transparent mode: the connection stays open (the note 3.4)."""

    def after_resume(self) -> None:
        """``ATO``: data received while in command mode goes out first."""
        sock = self._transparent
        if sock is not None and sock.buffer:
            data = bytes(sock.buffer)
            sock.buffer.clear()
            self.write_raw(data)

    def on_resume(self) -> bool:
        return self._transparent is not None and super().on_resume()

    def _qsslsend(self, cmd: ParsedCommand) -> str | None:
        """AT+QSSLSEND=<ssid>[,<length>] (the note 2.2.3, spelled AT+QSSSEND there)."""
        if cmd.kind == "test":
            self.respond(f"+QSSLSEND: (0-5),(1-{_MAX_SEND})")  # 2.2.3 test form
            return "OK"
        if cmd.kind == "read":
            return "OK"  # 2.2.3 read form
        if cmd.kind != "write" or len(cmd.args) not in (1, 2):
            raise CommandError(None, "AT+QSSLSEND=<ssid>[,<length>]")
        ssid = self.int_arg(cmd.args[0], *_SSID)
        length = self.int_arg(cmd.args[1], 1, _MAX_SEND) if len(cmd.args) == 2 else None
        sock = self.sockets.get(ssid)
        if (sock is None or not sock.ssl or sock.state != "CONNECTED" or sock.transparent
                or sock.conn is None):
            # 2.2.3: "If SSL connection is not established, disconnected ...: ERROR"
            raise CommandError(None, f"secure socket {ssid} is not connected")
        self._send_prompt(sock, length)
        return None

    def _send_prompt(self, sock: _Socket, length: int | None) -> None:
        """The ``> `` data phase of AT+QSSLSEND/AT+QISEND, then SEND OK/SEND FAIL/ERROR."""

        def done(payload: bytes) -> None:
            if self.take_send_fault():
                self.final("SEND FAIL")
                return
            conn = sock.conn
            if conn is None or self.sockets.get(sock.ssid) is not sock:
                self.final("ERROR")
                return
            try:
                conn.send(payload)
            except OSError as exc:
                log.info("send on socket %d failed: %s", sock.ssid, exc)
                self.final("ERROR")
                return
            sock.sent += len(payload)
            self.final("SEND OK")

        def cancelled() -> None:
            self.final("ERROR")

        self.start_prompt(length, done, cancelled, max_length=_MAX_SEND)

    def _qsslrecv(self, cmd: ParsedCommand) -> str:
        """AT+QSSLRECV=<cid>,<ssid>,<length> (the note 2.2.4): header, raw bytes, ``OK``."""
        if cmd.kind == "test":
            self.respond(f"+QSSLRECV: (0,1),(0-5),(1-{_MAX_RECV})")  # 2.2.4 test form
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 3:
            raise CommandError(None, "AT+QSSLRECV=<cid>,<ssid>,<length>")
        self.int_arg(cmd.args[0], *_CID)
        ssid = self.int_arg(cmd.args[1], *_SSID)
        length = self.int_arg(cmd.args[2], 1, _MAX_RECV)
        sock = self.sockets.get(ssid)
        if sock is None or not sock.ssl or sock.transparent or sock.state == "CONNECTING":
            raise CommandError(None, f"secure socket {ssid} is not open")
        if not sock.buffer:
            return "OK"
        data = bytes(sock.buffer[:length])
        del sock.buffer[:length]
        self.respond(f"+QSSLRECV: {sock.remote_ip}:{sock.remote_port},TCP,{len(data)}")
        self.write_raw(data)
        return "OK"

    def _qsslclose(self, cmd: ParsedCommand) -> str:
        """AT+QSSLCLOSE=<ssid> (the note 2.2.5): ``CLOSE OK``, or ``ERROR``.

        The 2.2.5 test form lists an optional second parameter ``(0,1)`` whose meaning the
        note does not give (quectel-gsm-tcpip.md 6): it is accepted and has no effect.
        """
        if cmd.kind == "test":
            self.respond("+QSSLCLOSE: (0-5),(0,1)")  # 2.2.5 test form
            return "OK"
        if cmd.kind == "read":
            return "OK"  # 2.2.5 read form
        if cmd.kind != "write" or len(cmd.args) not in (1, 2):
            raise CommandError(None, "AT+QSSLCLOSE=<ssid>")
        ssid = self.int_arg(cmd.args[0], *_SSID)
        if len(cmd.args) == 2:
            self.int_arg(cmd.args[1], 0, 1)
        sock = self.sockets.get(ssid)
        if sock is None or not sock.ssl:
            # An ssid with no SSL socket: what the module answers is unknown
            # (quectel-gsm-tcpip.md 6 and 11: "Answer for an unused ssid: unknown"); the note's
            # 2.2.5 table gives ERROR for "any error", so ERROR it is.
            raise CommandError(None, f"no secure socket {ssid}")
        del self.sockets[ssid]
        self._drop(sock)
        return "CLOSE OK"

    def _drop(self, sock: _Socket) -> None:
        if sock.conn is not None:
            sock.conn.close()
            sock.conn = None
        sock.state = "CLOSED"
        if self._transparent is sock:
            self._transparent = None
            self.leave_data_mode(None)

    def _qsslstate(self, cmd: ParsedCommand) -> str:
        """AT+QSSLSTATE (the note 2.2.6): the stack's state, then one line per socket.

        Every socket of the foreground context is listed, SSL and plain TCP alike, as
        ``+QSSLSTATE: <socketindex>,"TCP",<ipaddr>,<port>,<socketstatus>,<sslconnectionflag>``
        (flag 1 SSL, 0 plain). The note calls ``<state>`` a string parameter and lists every
        value in quotes; whether the firmware prints the quotes is not captured
        (quectel-gsm-tcpip.md 11), so the string parameters are quoted as 27.007 strings are.
        """
        if cmd.kind in ("test", "read"):
            return "OK"  # 2.2.6 test and read forms
        if cmd.kind != "exec":
            raise CommandError(None, "AT+QSSLSTATE")
        lines = [f'+QSSLSTATE: "{self._socket_ip_state()}"']
        for ssid in sorted(self.sockets):
            sock = self.sockets[ssid]
            ip = sock.remote_ip or sock.host
            lines.append(
                f'+QSSLSTATE: {ssid},"TCP","{ip}",{sock.port},"{sock.state}",{int(sock.ssl)}'
            )
        self.respond_lines(lines)
        return "OK"

    def _close_all(self, *, report: bool) -> None:
        for ssid in sorted(self.sockets):
            sock = self.sockets.pop(ssid)
            was_open = sock.state != "CLOSED"
            was_data_mode = sock is self._transparent and self.in_data_mode
            self._drop(sock)
            if not report or not was_open:
                continue
            if was_data_mode:
                self.urc("CLOSED")
            elif sock.ssl:
                self.urc(f'+QSSLURC: "closed",{ssid}')
            else:
                self.urc(self._tcp_closed_line(ssid))

    # ------------------------------------------------------------------ plain TCP sockets
    # Written from quectel-gsm-tcpip.md 4, 5 and 10 (sources S1 3.3, S2, S4-S8, S13, L1, L2, L4);
    # only TCP client sockets in non-transparent mode are emulated.
    def _tcp_closed_line(self, index: int) -> str:
        """``CLOSED`` (QIMUX=0) or ``<id>, CLOSED`` (QIMUX=1): reference 5, S5/S6/S13."""
        return f"{index}, CLOSED" if self.qimux else "CLOSED"

    def _tcp_index(self, cmd: ParsedCommand, *, first: int = 0) -> tuple[int, tuple[str, ...]]:
        """The socket index and the remaining arguments: ``<id>`` only with QIMUX=1 (S2)."""
        if self.qimux:
            if len(cmd.args) <= first:
                raise CommandError(None, "QIMUX=1: the socket index is required")
            return self.int_arg(cmd.args[first], *_SSID), cmd.args[first + 1 :]
        return 0, cmd.args[first:]

    def _qiopen(self, cmd: ParsedCommand) -> str | None:
        """AT+QIOPEN: ``OK``, then ``CONNECT OK``/``CONNECT FAIL`` (``<id>, `` prefixed, QIMUX=1).

        Reference 5: with QIMUX=0 ``AT+QIOPEN="TCP","<host>",<port>`` and ``ALREADY CONNECT``
        when a connection exists (S4, S5, S8); with QIMUX=1 ``AT+QIOPEN=<id>,"TCP",...`` and
        ``<id>, CONNECT OK`` with comma and space (S6, S13, S1 3.3); an index already in use
        gives ``<id>, CONNECT FAIL`` (S8). The port may be quoted (L1). With ``AT+QIDNSIP=0``
        the host must be a dotted IP address (S4); otherwise the open fails (choice: as
        ``CONNECT FAIL``, the exact answer is not captured).
        """
        if cmd.kind == "test":
            self.respond('+QIOPEN: (0-5),("TCP","UDP"),("IP ADDRESS","DOMAIN NAME"),(1-65535)'
                         if self.qimux else
                         '+QIOPEN: ("TCP","UDP"),("IP ADDRESS","DOMAIN NAME"),(1-65535)')
            return "OK"
        if cmd.kind != "write":
            raise CommandError(None, "AT+QIOPEN=[<id>,]<mode>,<host>,<port>")
        index, rest = self._tcp_index(cmd)
        if len(rest) != 3:
            raise CommandError(None, "AT+QIOPEN=[<id>,]<mode>,<host>,<port>")
        mode, host = unquote(rest[0]), unquote(rest[1])
        port_text = unquote(rest[2])
        port = self.int_arg(port_text if port_text is not None else rest[2], 1, 65535)
        if mode is None or mode.upper() not in ("TCP", "UDP") or not host:
            raise CommandError(None, '<mode> is "TCP" or "UDP", <host> a quoted string')
        if mode.upper() == "UDP" or self.qimode:
            raise CommandError(None, "UDP and transparent AT+QIOPEN are not emulated")
        if not self._pdp_active():
            raise CommandError(None, "no active PDP context (AT+QIACT)")
        prefix = f"{index}, " if self.qimux else ""
        if self._occupied(index):
            if not self.qimux:
                return "ALREADY CONNECT"
            self.final("OK")
            self.urc(f"{prefix}CONNECT FAIL")
            return None
        sock = _Socket(index, self.fgcnt, host, port, transparent=False, ssl=False)
        self.sockets[index] = sock
        worker = threading.Thread(
            target=self._tcp_open_worker,
            args=(sock, prefix, self.qidnsip),
            name=f"celltls-sim-qiopen-{index}",
            daemon=True,
        )
        self.final("OK")
        worker.start()
        return None

    def _tcp_open_worker(self, sock: _Socket, prefix: str, dnsip: int) -> None:
        conn: TcpConnection | None = None
        try:
            if not dnsip:
                ipaddress.ip_address(sock.host)  # QIDNSIP=0: a dotted IP only
            conn = TcpConnection.open(
                sock.host, sock.port, timeout=cat.QIOPEN_TIMEOUT, latency=self.latency
            )
        except (TlsOpenError, OSError, ValueError) as exc:
            log.info("AT+QIOPEN %s:%s failed: %s", sock.host, sock.port, exc)
        with self.lock:
            if self.sockets.get(sock.ssid) is not sock:
                if conn is not None:
                    conn.close()
                return
            if conn is None:
                del self.sockets[sock.ssid]
                self.urc(f"{prefix}CONNECT FAIL")
                return
            self._connected(sock, conn)
            self.urc(f"{prefix}CONNECT OK")

    def _tcp_data(self, sock: _Socket, data: bytes) -> None:
        """Received TCP data per ``AT+QINDI`` (reference 4; lock held)."""
        if self.qindi == 0:
            # pushed: "+RECEIVE: <id>, <len>" then the data with QIMUX=1 (S6, S13), the bare
            # data with QIMUX=0 (L1 without AT+QIHEAD); framed as a URC line (choice)
            text = data.decode("latin-1")
            if self.qimux:
                text = f"+RECEIVE: {sock.ssid}, {len(data)}\r\n{text}"
            elif self.qihead:
                text = f"IPD{len(data)}:{text}"  # AT+QIHEAD=1 (reference 4, L1 IPD5:Hello)
            self.urc(text)
            return
        was_empty = not sock.buffer
        sock.buffer += data
        sock.packets += 1
        if self.qindi == 2:
            # <id>,<sc>,<sid>,<num>,<len>,<tlen>: packets buffered, this one, all (L4)
            self.urc(f"+QIRDI: {self.fgcnt},1,{sock.ssid},{sock.packets},{len(data)},"
                     f"{len(sock.buffer)}")
        elif was_empty:
            # <id>,<sc>,<sid> (S1 3.3); whether it repeats while the buffer is not empty is
            # unknown (reference 4): like +QSSLURC "recv", only into an empty buffer (choice)
            self.urc(f"+QIRDI: {self.fgcnt},1,{sock.ssid}")

    def _qisend(self, cmd: ParsedCommand) -> str | None:
        """AT+QISEND[=[<id>,]<len>]: ``> ``, data, ``SEND OK``/``SEND FAIL``/``ERROR`` (S2)."""
        if cmd.kind == "test":
            self.respond(f"+QISEND: (0-5),(1-{_MAX_SEND})" if self.qimux
                         else f"+QISEND: (1-{_MAX_SEND})")
            return "OK"
        rest: tuple[str, ...] = ()
        if cmd.kind == "exec" and not self.qimux:
            index = 0
        elif cmd.kind == "write":
            index, rest = self._tcp_index(cmd)
        else:
            raise CommandError(None, "AT+QISEND")
        if len(rest) > 1:
            raise CommandError(None, "AT+QISEND=[<id>,]<len>")
        length = self.int_arg(rest[0], 1, _MAX_SEND) if rest else None
        sock = self.sockets.get(index)
        if sock is None or sock.ssl or sock.state != "CONNECTED" or sock.conn is None:
            raise CommandError(None, f"TCP socket {index} is not connected")
        self._send_prompt(sock, length)
        return None

    def _qird(self, cmd: ParsedCommand) -> str:
        """AT+QIRD=<id>,<sc>,<sid>,<len>: ``+QIRD: <ip>:<port>,TCP,<n>``, n bytes, ``OK``.

        Reference 5 (S1 3.3, S4, S5, S12, L2); ``OK`` alone when nothing is buffered (S4).
        The largest ``<len>`` is not known; 1500 is accepted (S14b's cap).
        """
        if cmd.kind == "test":
            self.respond(f"+QIRD: (0,1),(1,2),(0-5),(1-{_MAX_RECV})")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 4:
            raise CommandError(None, "AT+QIRD=<id>,<sc>,<sid>,<len>")
        self.int_arg(cmd.args[0], *_CID)
        if self.int_arg(cmd.args[1], 1, 2) != 1:
            raise CommandError(None, "only client sockets (<sc> 1) are emulated")
        index = self.int_arg(cmd.args[2], *_SSID)
        length = self.int_arg(cmd.args[3], 1, _MAX_RECV)
        sock = self.sockets.get(index)
        if sock is None or sock.ssl:
            raise CommandError(None, f"no TCP socket {index}")
        if not sock.buffer:
            return "OK"
        data = bytes(sock.buffer[:length])
        del sock.buffer[:length]
        if not sock.buffer:
            sock.packets = 0
        self.respond(f"+QIRD: {sock.remote_ip}:{sock.remote_port},TCP,{len(data)}")
        self.write_raw(data)
        return "OK"

    def _qiclose(self, cmd: ParsedCommand) -> str:
        """AT+QICLOSE[=<id>]: ``CLOSE OK`` or ``<id>, CLOSE OK``; ``ERROR`` if closed (S2, S4)."""
        if cmd.kind == "test":
            return "OK"
        if cmd.kind == "exec" and not self.qimux:
            index = 0
        elif cmd.kind == "write" and self.qimux and len(cmd.args) == 1:
            index = self.int_arg(cmd.args[0], *_SSID)
        else:
            raise CommandError(None, "AT+QICLOSE with QIMUX=0, AT+QICLOSE=<id> with QIMUX=1")
        sock = self.sockets.get(index)
        if sock is None or sock.ssl or sock.state == "CLOSED":
            raise CommandError(None, f"TCP socket {index} is not open")
        del self.sockets[index]
        self._drop(sock)
        return f"{index}, CLOSE OK" if self.qimux else "CLOSE OK"

    def _qisack(self, cmd: ParsedCommand) -> str:
        """AT+QISACK[=<id>]: ``+QISACK: <sent>, <acked>, <nAcked>`` (L1, S6).

        The virtual network acknowledges what it has sent at once: ``<nAcked>`` is 0. The test
        form answers ``OK`` (its range text is not in any source read).
        """
        if cmd.kind == "test":
            return "OK"
        if cmd.kind == "exec" and not self.qimux:
            index = 0
        elif cmd.kind == "write" and self.qimux and len(cmd.args) == 1:
            index = self.int_arg(cmd.args[0], *_SSID)
        else:
            raise CommandError(None, "AT+QISACK with QIMUX=0, AT+QISACK=<id> with QIMUX=1 (S4)")
        sock = self.sockets.get(index)
        if sock is None or sock.ssl:
            raise CommandError(None, f"no TCP socket {index}")
        self.respond(f"+QISACK: {sock.sent}, {sock.sent}, 0")
        return "OK"

    def _qistat(self, cmd: ParsedCommand) -> str | None:
        """AT+QISTAT: QIMUX=0 ``OK`` first, then ``STATE: <state>``; QIMUX=1 one line per index.

        Reference 3 and 10 (S2, S11, S12, S14a). Indices used by SSL sockets show as unused.
        """
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "AT+QISTAT")
        if self.qimux:
            lines = []
            for index in range(_SSID[1] + 1):
                sock = self.sockets.get(index)
                if sock is None or sock.ssl:
                    lines.append(f'+QISTAT: {index}, "", "",')
                else:
                    ip = sock.remote_ip or sock.host
                    lines.append(f'+QISTAT: {index}, "TCP", "{ip}", {sock.port},')
            self.respond_lines(lines)
            return "OK"
        state = self.ip_state
        if self._pdp_active():
            state = "IP STATUS" if self._ilocip_read else "IP GPRSACT"
            single = self.sockets.get(0)
            if single is not None and not single.ssl:
                state = {"CONNECTING": "TCP CONNECTING", "CONNECTED": "CONNECT OK"}.get(
                    single.state, "IP CLOSE")
        self.final("OK")
        self.respond(f"STATE: {state}")
        return None

    def _setting(self, cmd: ParsedCommand, name: str, low: int, high: int) -> str:
        """A one-number setting with read, test and write forms (``+QINDI``, ``+QIDNSIP``...)."""
        attr = name.lower()[1:]
        if cmd.kind == "read":
            self.respond(f"{name}: {getattr(self, attr)}")
        elif cmd.kind == "test":
            self.respond(f"{name}: ({low}-{high})" if high - low > 1 else f"{name}: ({low},{high})")
        elif cmd.kind == "write" and len(cmd.args) == 1:
            setattr(self, attr, self.int_arg(cmd.args[0], low, high))
        else:
            raise CommandError(None, f"AT{name}=<n>")
        return "OK"

    def _qindi(self, cmd: ParsedCommand) -> str:
        """AT+QINDI=<0|1|2>: push data, ``+QIRDI`` and AT+QIRD, ``+QIRDI`` with counts (ref 4)."""
        return self._setting(cmd, "+QINDI", 0, 2)

    def _qidnsip(self, cmd: ParsedCommand) -> str:
        """AT+QIDNSIP=<0|1>: AT+QIOPEN takes a dotted IP (0) or a domain name (1) (ref 4)."""
        return self._setting(cmd, "+QIDNSIP", 0, 1)

    def _qihead(self, cmd: ParsedCommand) -> str:
        """AT+QIHEAD=<0|1>: prefix pushed data with ``IPD<len>:`` (reference 4; L1)."""
        return self._setting(cmd, "+QIHEAD", 0, 1)

    def _qiurc(self, cmd: ParsedCommand) -> str:
        """AT+QIURC=<0|1>: whether ``Call Ready`` is reported at boot (reference 2, S7, S13)."""
        return self._setting(cmd, "+QIURC", 0, 1)

    # ------------------------------------------------------------------ identification
    def _ipr(self, cmd: ParsedCommand) -> str:
        """AT+IPR: read ``+IPR: <rate>`` (reference 9 L1: ``+IPR: 115200``); 0 is auto-baud (S4).

        Setting a rate is stored and answered; the line's pacing stays what the server was
        started with (``celltls sim --baudrate``).
        """
        rates = (0, 1200, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600, 115200,
                 230400, 460800)
        if cmd.kind == "read":
            self.respond(f"+IPR: {self.baudrate}")
        elif cmd.kind == "test":
            # V.250 6.2.10: (auto-detectable rates),(fixed-only rates)
            self.respond(f"+IPR: ({','.join(str(r) for r in rates)}),()")
        elif cmd.kind == "write" and len(cmd.args) == 1:
            rate = self.int_arg(cmd.args[0], 0, max(rates))
            if rate not in rates:
                raise CommandError(None, f"unsupported rate {rate}")
            self.baudrate = rate
        else:
            raise CommandError(None, "AT+IPR=<rate>")
        return "OK"

    def _cimi(self, cmd: ParsedCommand) -> str:
        """AT+CIMI: the IMSI as a bare line of 15 digits, then ``OK`` (reference 2, 9 L1)."""
        return self._info_only(cmd, self.imsi)

    def _qccid(self, cmd: ParsedCommand) -> str:
        """AT+QCCID: the ICCID, 20 digits, with no prefix (reference 2, 9 L1; not S4's)."""
        return self._info_only(cmd, self.iccid)

    def _ccid(self, cmd: ParsedCommand) -> str:
        """AT+CCID: ``+CCID: <iccid>`` (reference 2: M26 manual via S5; M95 manual V3.2, S3)."""
        return self._info_only(cmd, f"+CCID: {self.iccid}")

    def _cops(self, cmd: ParsedCommand) -> str:
        """AT+COPS: read ``+COPS: 0,0,"<oper>"`` with three fields (reference 2, 9 L1).

        Not registered: ``+COPS: 0`` (27.007 7.3, no operator). Test form: one available
        operator in the 27.007 7.3 shape. Write: automatic selection (0) and setting the
        format (3) are taken; manual selection is not emulated.
        """
        if cmd.kind == "read":
            if self.registration in (1, 5):
                self.respond(f'+COPS: 0,0,"{self.operator}"')
            else:
                self.respond("+COPS: 0")
        elif cmd.kind == "test":
            self.respond(f'+COPS: (2,"{self.operator}","{self.operator[:8]}","46000"),,'
                         "(0-4),(0-2)")
        elif cmd.kind == "write" and cmd.args:
            mode = self.int_arg(cmd.args[0], 0, 4)
            if mode not in (0, 3):
                raise CommandError(_NOT_SUPPORTED, "manual operator selection is not emulated")
        else:
            raise CommandError(None, "AT+COPS")
        return "OK"

    def context_active(self, cid: int) -> bool:
        """The context of ``AT+QIACT`` is PDP context 1 for ``AT+CGACT?``/``AT+CGPADDR``
        (the foreground context's GPRS context; the note 1.2 step 3)."""
        return (cid == 1 and self._pdp_active()) or super().context_active(cid)

    def pdp_address(self, cid: int) -> str:
        """``AT+QILOCIP``'s address for the context of ``AT+QIACT``, else ``0.0.0.0``."""
        if cid == 1 and self._pdp_active():
            return self.local_ip
        return super().pdp_address(cid)

    # ------------------------------------------------------------------ faults
    def on_pdp_deactivated(self) -> None:
        """The network drops the PDP context: sockets close with URCs, then ``+PDP DEACT``."""
        if not self._pdp_active() and self.ip_state != "IP START":
            return
        self._close_all(report=True)
        self.ip_state = "PDP DEACT"
        self.urc("+PDP DEACT")

    def on_server_close(self, socket_id: int) -> None:
        sock = self.sockets.get(socket_id)
        if sock is None or sock.conn is None:
            raise ValueError(f"socket {socket_id} has no open connection")
        sock.conn.abort()

    @property
    def transparent_socket(self) -> int | None:
        """The ssid of the transparent connection, if one is open."""
        return self._transparent.ssid if self._transparent is not None else None

