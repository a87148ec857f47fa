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
  the Mxx AT commands manual) and, from the engine, ``+CREG``/``+CGREG``/``+CGATT`` (chapter 4).

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
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from celltls.dialects.quectel_gsm import catalog as cat
from celltls.dialects.quectel_gsm.catalog import qsec_checksum
from celltls.sim.engine import ATEngine, CommandError, ParsedCommand, unquote
from celltls.sim.network import (
    TlsConnection,
    TlsOpenError,
    available_suites,
    build_client_context,
)

__all__ = ["MODELS", "QuectelGsmModem", "SslContextConfig", "qsec_checksum"]

log = logging.getLogger(__name__)

#: Models and the revision string each reports (``ATI``: ``Quectel_Ltd``, ``Quectel_<model>``,
#: ``Revision: <model>FAR...`` as real M66 logs show it).
MODELS: dict[str, str] = {
    "M66": "M66FAR02A12",
    "M95": "M95FAR02A08",
    "MC60": "MC60CAR01A10",
}

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


@dataclass
class _Socket:
    ssid: int
    ctx: int
    host: str
    port: int
    transparent: bool
    state: str = "CONNECTING"  # 2.2.6 <socketstatus>
    conn: TlsConnection | None = None
    buffer: bytearray = field(default_factory=bytearray)
    remote_ip: str = ""
    remote_port: int = 0


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

    Attributes:
        last_tls_error: why the last ``AT+QSSLOPEN`` failed (``"verify failed: ..."``,
            ``"handshake failed: ..."``, ``"connect failed: ..."``...), or ``None``.
        last_close_reason: why the last connection closed on the network side.
        dropped_suites: the note's cipher suites the host OpenSSL cannot offer.
        contexts: the six SSL contexts.

    Raises:
        ValueError: unknown ``model``.
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        guard_time: float = 1.0,
        latency: float = 0.0,
        clock: _dt.datetime | None = None,
        nvram_path: str | Path | None = None,
        local_ip: str = "10.1.83.188",
    ) -> None:
        model = model or "M66"
        if model not in MODELS:
            raise ValueError(f"unknown Quectel GSM model {model!r}; known: {sorted(MODELS)}")
        self.nvram_path = Path(nvram_path) if nvram_path is not None else None
        self.nvram: dict[str, _File] = {}
        self._load_nvram()
        self.local_ip = local_ip
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
        for name, handler in {
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
        }.items():
            self.register(name, handler)

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
        self.ip_state = "IP INITIAL"
        self._ilocip_read = False
        self.sockets: dict[int, _Socket] = {}
        self._transparent: _Socket | None = None
        self._upload_timer: threading.Timer | None = None

    def on_reboot(self) -> None:
        """RAM (files, contexts, sockets, PDP) is lost; NVRAM is kept (the note 2.2.7)."""
        self._close_all(report=False)
        self._cancel_upload_timer()
        self._reset_ram()

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
            self.nvram[name] = _File(data, qsec_checksum(data))

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
        if self.ip_state in ("IP GPRSACT", "IP STATUS", "IP PROCESSING"):
            connecting = any(s.state == "CONNECTING" for s in self.sockets.values())
            if connecting:
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
            entry = _File(payload, qsec_checksum(payload))
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
        current = qsec_checksum(entry.data)
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
        self.qimux = self.int_arg(cmd.args[0], 0, 1)
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

    # ------------------------------------------------------------------ sockets
    def _qsslopen(self, cmd: ParsedCommand) -> str | None:
        """AT+QSSLOPEN (the note 2.2.2): ``OK``, then ``+QSSLOPEN: <ssid>,<code>``/``CONNECT``."""
        if cmd.kind == "test":
            self.respond(
                '+QSSLOPEN: (0-5),(0-5),"ADDRESS",(1-65535),(0,1),(10-300)'
            )
            return "OK"
        if cmd.kind == "read":
            return "OK"
        if cmd.kind != "write" or len(cmd.args) not in (5, 6):
            raise CommandError(_BAD_PARAM, "AT+QSSLOPEN=<ssid>,<ctx>,<addr>,<port>,<mode>[,<t>]")
        ssid = self.int_arg(cmd.args[0], *_SSID)
        ctx_index = self.int_arg(cmd.args[1], *_CTX)
        host = unquote(cmd.args[2])
        if not host:
            raise CommandError(_BAD_PARAM, "<ipaddr/domainname> must be a quoted string")
        port = self.int_arg(cmd.args[3], 1, 65535)
        transparent = self.int_arg(cmd.args[4], 0, 1) == 1
        timeout = self.int_arg(cmd.args[5], 10, 300) if len(cmd.args) == 6 else 90
        if not self._pdp_active():
            raise CommandError(_NOT_ALLOWED, "no active PDP context (AT+QIACT)")
        if transparent and self._transparent is not None:
            raise CommandError(_NOT_ALLOWED, "a transparent connection is already open")
        if ssid in self.sockets and self.sockets[ssid].state != "CLOSED":
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
            sock.conn = conn
            sock.state = "CONNECTED"
            sock.remote_ip = conn.remote_ip
            sock.remote_port = conn.remote_port
            conn.start(
                functools.partial(self._on_data, sock),
                functools.partial(self._on_closed, sock),
                functools.partial(self._can_receive, sock),
            )
            if sock.transparent:
                self.enter_data_mode(functools.partial(self._transparent_send, sock))
            else:
                self.urc(f"+QSSLOPEN: {sock.ssid},0")

    def _can_receive(self, sock: _Socket) -> bool:
        """Whether the socket's receive buffer has room (see :data:`RX_BUFFER`)."""
        return len(sock.buffer) < RX_BUFFER or (sock.transparent and self.in_data_mode)

    def _on_data(self, sock: _Socket, data: bytes) -> None:
        with self.lock:
            if self.sockets.get(sock.ssid) is not sock:
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
            self.respond("+QSSLSEND: (0-5),(1-1460)")
            return "OK"
        if cmd.kind == "read":
            return "OK"
        if cmd.kind != "write" or len(cmd.args) not in (1, 2):
            raise CommandError(_BAD_PARAM, "AT+QSSLSEND=<ssid>[,<length>]")
        ssid = self.int_arg(cmd.args[0], *_SSID)
        length = self.int_arg(cmd.args[1], 1, _MAX_SEND) if len(cmd.args) == 2 else None
        sock = self.sockets.get(ssid)
        if sock is None or sock.state != "CONNECTED" or sock.transparent or sock.conn is None:
            raise CommandError(_NOT_ALLOWED, f"secure socket {ssid} is not connected")

        def done(payload: bytes) -> None:
            if self.take_send_fault():
                self.final("SEND FAIL")
                return
            conn = sock.conn
            if conn is None or self.sockets.get(ssid) is not sock:
                self.final("ERROR")
                return
            try:
                conn.send(payload)
            except OSError as exc:
                log.info("AT+QSSLSEND failed: %s", exc)
                self.final("ERROR")
                return
            self.final("SEND OK")

        def cancelled() -> None:
            self.final("ERROR")

        self.start_prompt(length, done, cancelled, max_length=_MAX_SEND)
        return None

    def _qsslrecv(self, cmd: ParsedCommand) -> str:
        """AT+QSSLRECV=<cid>,<ssid>,<length> (the note 2.2.4): header, raw bytes, ``OK``."""
        if cmd.kind == "test":
            self.respond("+QSSLRECV: (0,1),(0-5),(1-1500)")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 3:
            raise CommandError(_BAD_PARAM, "AT+QSSLRECV=<cid>,<ssid>,<length>")
        self.int_arg(cmd.args[0], *_CID)
        ssid = self.int_arg(cmd.args[1], *_SSID)
        length = self.int_arg(cmd.args[2], 1, _MAX_RECV)
        sock = self.sockets.get(ssid)
        if sock is None or sock.transparent or sock.state == "CONNECTING":
            raise CommandError(_NOT_ALLOWED, f"secure socket {ssid} is not open")
        if not sock.buffer:
            return "OK"
        data = bytes(sock.buffer[:length])
        del sock.buffer[:length]
        self.respond(f"+QSSLRECV: {sock.remote_ip}:{sock.remote_port},TCP,{len(data)}")
        self.write_raw(data)
        return "OK"

    def _qsslclose(self, cmd: ParsedCommand) -> str:
        """AT+QSSLCLOSE=<ssid> (the note 2.2.5): ``CLOSE OK``."""
        if cmd.kind == "test":
            self.respond("+QSSLCLOSE: (0-5)")
            return "OK"
        if cmd.kind == "read":
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(_BAD_PARAM, "AT+QSSLCLOSE=<ssid>")
        ssid = self.int_arg(cmd.args[0], *_SSID)
        sock = self.sockets.pop(ssid, None)
        if sock is None:
            raise CommandError(_NOT_ALLOWED, f"secure socket {ssid} is not open")
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
        """AT+QSSLSTATE (the note 2.2.6): the stack's state, then one line per open socket."""
        if cmd.kind in ("test", "read"):
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "AT+QSSLSTATE")
        lines = [f'+QSSLSTATE: "{self._socket_ip_state()}"']
        for ssid in sorted(self.sockets):
            sock = self.sockets[ssid]
            ip = sock.remote_ip or sock.host
            lines.append(f'+QSSLSTATE: {ssid},"TCP","{ip}",{sock.port},"{sock.state}",1')
        self.respond_lines(lines)
        return "OK"

    def _close_all(self, *, report: bool) -> None:
        for ssid in sorted(self.sockets):
            sock = self.sockets.pop(ssid)
            was_data_mode = sock is self._transparent and self.in_data_mode
            self._drop(sock)
            if report:
                if was_data_mode:
                    self.urc("CLOSED")
                else:
                    self.urc(f'+QSSLURC: "closed",{ssid}')

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
            raise ValueError(f"secure socket {socket_id} has no open connection")
        sock.conn.abort()

    @property
    def transparent_socket(self) -> int | None:
        """The ssid of the transparent connection, if one is open."""
        return self._transparent.ssid if self._transparent is not None else None

