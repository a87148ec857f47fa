"""The virtual Nordic nRF91 Serial LTE Modem (``celltls sim nordic-slm``).

Written from ``shared/reference/nordic-slm.md`` (section numbers and source ids S#/L# are that
page's) and the seed thread SEED-001 (= L1), never from the driver. It answers as the
``serial_lte_modem`` application of NCS v3.1 (generation "G2") on an nRF9160 (default), nRF9161
or nRF9151, with the modem firmware's commands passed through.

Line (§3, S2): no echo; a command line ends with CR LF (a lone CR does not end it); CR and LF
inside an open ``"`` are data, so a PEM goes through ``AT%CMNG`` as it is, and an unbalanced
``"`` keeps the line open until a later quote closes it (the seed's stray trailing quote, L1,
§14): the whole run is then answered ``ERROR``; backspace/DEL edit the line; bytes before ``AT``
are ignored; a line over 4096 bytes is answered ``ERROR``. The SLM's own ``#X`` commands answer
``\\r\\n#XNAME: ...\\r\\n`` and ``\\r\\nOK\\r\\n`` or ``\\r\\nERROR\\r\\n`` and never print an
errno (§3); modem commands answer ``+CME ERROR: <n>`` after ``AT+CMEE=1`` (``AT+CMEE=2`` is
``ERROR``, L2). A command that waits (connect, receive) holds the line: bytes written meanwhile
are taken after its result. A reset (``AT#XRESET``, :meth:`reboot`) prints ``Ready`` (§3).

Modem commands (§4): ``AT+CGMI``/``+CGMM``/``+CGMR``/``+CGSN`` (``ATI`` is ``ERROR``, L2),
``AT+CFUN`` with 0, 1, 2, 4, 20/21, 30/31, 40/41, 44 (power-on state 0: the SLM does not
connect by itself, as the seed's ``CONFIG_LTE_AUTO_INIT_AND_CONNECT=n``), ``AT%XSYSTEMMODE``,
``AT%XBANDLOCK`` (``+CME ERROR: 518`` while active), ``AT%XDEEPSEARCH``, ``AT+COPS``,
``AT+CGDCONT``, ``AT+CPIN`` (an optional SIM PIN, as in L1), ``AT%XICCID`` (``ERROR`` until the
PIN is given, L1), ``AT+CEREG`` with ``n`` 0-5 and every field in the shapes of §4 and L1,
``AT+CGPADDR``, ``AT+CESQ``, ``AT%CESQ``, ``AT+CCLK``, ``AT%XTIME``.

Credentials ``AT%CMNG`` (§5): write, list (``%CMNG: <tag>,<type>,"<SHA-256>"``), read
(certificates only), delete; a store keyed by ``(sec_tag, type)`` in non-volatile memory (kept
across ``+CFUN`` changes and resets, and across processes with ``nvram_path``); write and
delete refused with ``+CME ERROR: 518`` while LTE is active (``+CFUN`` 1, 2, 21; S7, L7); a PEM
with CR LF line ends refused with 527 (L3).

Sockets (§6.2, §7): ``AT#XSOCKET``, ``AT#XSSOCKET`` (TLS 1.2 client, ``#XSSOCKET: <h>,1,258``),
``AT#XSOCKETOPT``, ``AT#XSSOCKETOPT`` (2 TLS hostname, 4 cipher suite used, 5 peer verify,
12/13 session cache), ``AT#XSOCKETSELECT``, ``AT#XCONNECT`` (``#XCONNECT: 1``; failure plain
``ERROR``), ``AT#XSEND`` with a string or data mode (``OK``, data up to ``+++`` with no guard
time, ``#XDATAMODE: 0``; URCs dropped meanwhile as G2 does), ``AT#XRECV`` (``#XRECV: <n>``, the
bytes, ``OK``; peer closed: ``OK`` alone; timeout: ``ERROR``), ``AT#XGETADDRINFO``. TLS is real
(:mod:`celltls.dialects.nordic_slm.modem_net`): CA from the ``sec_tag``, peer verification level,
host name only when the TLS hostname option is set (§10, §14: G2 never sets it by itself).

Native HTTP client (§8.1, v2.6-v3.1): ``AT#XHTTPCCON`` (with ``peer_verify`` and
``hostname_verify``), ``AT#XHTTPCREQ`` (a body through data mode, ``#XHTTPCREQ: 1`` then
``#XHTTPCREQ: 0``), the response as raw header bytes, ``\\r\\n#XHTTPCRSP:<len>,<0|1>\\r\\n``, raw
body fragments each followed by its ``#XHTTPCRSP`` line (1 = complete); a close before the end:
``#XHTTPCRSP: 0,-104``.

Choices where the reference says "unknown" (§15), each marked "choice" below: ``%CMNG`` reads of
private keys and PSKs are refused with 514, a write over an existing pair replaces it, the SHA-256
is of the content as written (what nrfcredstore, S9, expects); certificate dates are not checked;
SNI is not sent without the hostname option; the errno of a TLS failure is ECONNABORTED (113);
an HTTP body of ``<content_length>`` bytes ends data mode by itself (``#XDATAMODE: 0``), an
early ``+++`` cancels the request (``#XHTTPCREQ: -22``); ``AT#XHTTPCCON=0`` with no connection
and ``AT#XSOCKET=0`` with no socket are ``ERROR``; body fragments are at most 2048 bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11

from celltls.at.syntax import string_value
from celltls.sim.engine import ATEngine, CommandError, ParsedCommand
from celltls.sim.network import TlsConnection

from .modem_net import (
    EAGAIN,
    ECONNRESET,
    ENOTCONN,
    ETIMEDOUT,
    NRF91_SUITES,
    HttpResponseReader,
    Link,
    NetError,
    TlsSettings,
    open_tcp,
    open_tls,
)

__all__ = ["MODELS", "NordicSlmModem", "factory"]

log = logging.getLogger(__name__)

CR, LF, BS, DEL, QUOTE = 0x0D, 0x0A, 0x08, 0x7F, 0x22
MAX_LINE = 4096  # SLM_AT_MAX_CMD_LEN (§3)
MAX_SEND_STRING = 1024  # payload inside a command (§3, §6.2)
MAX_RECV = 2048  # one receive, NRF_SOCKET_TLS_MAX_MESSAGE_SIZE (§3)
MAX_URL = 128  # URL / host name (§3)
MAX_SOCKETS = 8  # v2.0-v3.1 (§6.2, §11)
TERMINATOR = b"+++"  # CONFIG_SLM_DATAMODE_TERMINATOR (§7)
PROTO_TLS12 = 258  # NRF_SPROTO_TLS1v2 (§6.2, §10)

#: model -> (AT+CGMM answer, AT+CGMR answer). Shapes of the nRF91 AT Commands Reference
#: (``nRF9160-SICA``, ``mfw_nrf9160_<version>``); the version numbers are the ones L1 and L3
#: name (mfw 1.3.0 in L1; mfw 2.0.2 in L3).
MODELS: dict[str, tuple[str, str]] = {
    "nrf9160": ("nRF9160-SICA", "mfw_nrf9160_1.3.0"),
    "nrf9161": ("nRF9161-LACA", "mfw_nrf91x1_2.0.2"),
    "nrf9151": ("nRF9151-LACA", "mfw_nrf91x1_2.0.2"),
}

# %CMNG (§5): types, which hold PEM, which may be read back (choice: keys and PSKs never leave
# the modem; S2's native-TLS emulation refused reads of 1, 2 and 3), writable types.
PEM_TYPES = (0, 1, 2, 5)
READABLE_TYPES = (0, 1, 4, 5, 6)
WRITABLE_TYPES = (0, 1, 2, 3, 4, 5)
MAX_SEC_TAG = 2147483647
MAX_LIST_TAG = 4294967295
CME_NOT_FOUND, CME_NO_ACCESS, CME_ACTIVE, CME_INVALID = 513, 514, 518, 527

#: +CFUN values the modem takes (§4).
CFUN_VALUES = (0, 1, 2, 4, 20, 21, 30, 31, 40, 41, 44)

#: HTTP methods of the SLM client (§8.1 names 33; the common ones are simulated).
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE")

# Network identity the virtual cell reports (the seed's cell, L1).
TAC, CELL_ID = "5209", "0A19790D"
ACTIVE_TIME_OFF = "11100000"  # T3324 deactivated (§4)
TAU_SEARCHING, TAU_REGISTERED = "11100000", "00000110"  # L1: off; 6 x 10 min
PDN_IPV4, PDN_IPV6 = "10.160.0.17", "2001:db8::17"
ICCID = "89330000000020549718"  # L1


@dataclass
class _Credential:
    content: str
    password: str | None

    @property
    def sha(self) -> str:
        # choice (§5 says "as stored", exact bytes unknown): SHA-256 of the content exactly
        # as written between the quotes, upper-case hex, as nrfcredstore (S9) computes it.
        return hashlib.sha256(self.content.encode("latin-1")).hexdigest().upper()


@dataclass
class _Socket:
    handle: int
    family: int  # 1 IPv4, 2 IPv6
    kind: int  # 1 TCP (2 UDP, 3 RAW not simulated)
    role: int
    cid: int
    secure: bool
    sec_tag: int = -1
    peer_verify: int = 2
    hostname: str | None = None
    session_cache: int = 1
    options: dict[int, int] = field(default_factory=dict)
    link: Link | None = None
    connecting: bool = False


@dataclass
class _Http:
    host: str
    port: int
    sec_tag: int | None
    link: Link | None = None
    busy: bool = False  # a request is under way


@dataclass
class _DataMode:
    on_data: Callable[[bytes], None]
    on_end: Callable[[int], None]
    remaining: int | None = None  # length-delimited payload (an HTTP body)
    partial: bytes = b""
    failed: int = 0  # errno of a failed send: input dropped until the terminator (§7)


def _quoted(arg: str) -> str:
    value = string_value(arg)
    if value is None:
        raise CommandError(None, f"not a string: {arg[:20]!r}")
    return value


def _int(arg: str, low: int, high: int, code: int | None = None) -> int:
    try:
        value = int(arg.strip(), 10)
    except ValueError:
        raise CommandError(code, f"not a number: {arg[:20]!r}") from None
    if not low <= value <= high:
        raise CommandError(code, f"{value} out of range {low}-{high}")
    return value


class NordicSlmModem(ATEngine):
    """A virtual nRF91 running the Serial LTE Modem application (see the module docstring).

    Args:
        model: ``"nrf9160"`` (default), ``"nrf9161"`` or ``"nrf9151"``.
        slm_version: the SLM version answered by ``AT#XSLMVER``; below 2.5, ``AT#XSLMUART?``
            answers (it was removed in v2.5.0, §2). Other version differences are not
            simulated: the shapes are v3.1's.
        sim_pin: a SIM PIN the SIM asks for (``AT+CPIN="<pin>"``, as in L1); ``None``: none.
        baudrate: what ``AT#XSLMUART?`` reports (§3 default 115200).
        connect_timeout: seconds a TCP/TLS connect may take.
        rx_buffer: bytes buffered per connection before the server is held back.
        http_timeout: seconds the HTTP client waits for the server (v2.6+: 10 s, §8.1).
        nvram_path: a JSON file that keeps the credential store across processes (read at
            start, written at every change, mode 0600); ``None``: kept in memory only.
        **engine: :class:`~celltls.sim.engine.ATEngine` options (``guard_time``, ``latency``,
            ``clock``).

    Raises:
        KeyError: unknown model.
    """

    eps_registration = True

    def __init__(
        self, *, model: str | None = None, slm_version: str = "3.1.0",
        sim_pin: str | None = None, baudrate: int | None = None,
        connect_timeout: float = 30.0, rx_buffer: int = 16384, http_timeout: float = 10.0,
        nvram_path: str | Path | None = None, **engine: Any,
    ) -> None:
        name = (model or "nrf9160").lower()
        cgmm, cgmr = MODELS[name]
        self.model_key = name
        self.slm_version = slm_version
        self.sim_pin = sim_pin
        self.baudrate = baudrate or 115200
        self.connect_timeout = connect_timeout
        self.rx_buffer = rx_buffer
        self.http_timeout = http_timeout
        self.credentials: dict[tuple[int, int], _Credential] = {}  # non-volatile (§5)
        self.errors: list[str] = []  # failure reasons with errno, for tests and the log
        self.boots = 0
        self.nvram_path = Path(nvram_path) if nvram_path is not None else None
        self._load_nvram()
        super().__init__(manufacturer="Nordic Semiconductor ASA", model=cgmm, revision=cgmr,
                         imei="352656100367872", **engine)
        for command, handler in {
            "I": self._ati, "Z": self._ok_any, "+CGMR": self._cgmr, "+CGSN": self._cgsn,
            "+CMEE": self._cmee,
            "+CFUN": self._cfun, "+CPIN": self._cpin, "%XICCID": self._xiccid,
            "%XSYSTEMMODE": self._xsystemmode, "%XBANDLOCK": self._xbandlock,
            "%XDEEPSEARCH": self._ok_any, "+COPS": self._cops, "+CGDCONT": self._cgdcont,
            "+CEREG": self._cereg, "+CGPADDR": self._cgpaddr, "+CESQ": self._cesq,
            "%CESQ": self._subscribe_cesq, "%XTIME": self._subscribe_xtime,
            "%CMNG": self._cmng, "#XSLMVER": self._xslmver, "#XSLMUART": self._xslmuart,
            "#XRESET": self._xreset, "#XSOCKET": self._xsocket, "#XSSOCKET": self._xssocket,
            "#XSOCKETOPT": self._xsocketopt, "#XSSOCKETOPT": self._xssocketopt,
            "#XSOCKETSELECT": self._xsocketselect, "#XCONNECT": self._xconnect,
            "#XSEND": self._xsend, "#XRECV": self._xrecv, "#XGETADDRINFO": self._xgetaddrinfo,
            "#XHTTPCCON": self._xhttpccon, "#XHTTPCREQ": self._xhttpcreq,
        }.items():
            self.register(command, handler)

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        if hasattr(self, "sockets"):
            self._close_all()  # a reset drops every connection
        super()._reset_state()
        self.echo = False  # no echo in the SLM (§3)
        self.cfun = 0  # the SLM does not connect by itself (L1 prj.conf)
        self.registration = 0
        self.attached = False
        self.lte_on = False
        self.uicc_on = False
        self.pin_ok = getattr(self, "sim_pin", None) is None
        self.cereg_n = 0
        self.system_mode = (1, 0, 0, 0)
        self.bands: dict[int, str] = {}
        self.pdn: dict[int, tuple[str, str]] = {0: ("IP", "")}
        self.cesq_on = False
        self.xtime_on = False
        self.sockets: dict[int, _Socket] = {}
        self.active: int | None = None
        self.http: _Http | None = None
        self._buf = bytearray()
        self._quote = False
        self._busy = False
        self._queued = bytearray()
        self._dm: _DataMode | None = None

    def _load_nvram(self) -> None:
        if self.nvram_path is None or not self.nvram_path.exists():
            return
        stored = json.loads(self.nvram_path.read_text())
        for item in stored.get("credentials", []):
            self.credentials[(int(item["sec_tag"]), int(item["type"]))] = _Credential(
                str(item["content"]), item.get("password"))

    def _save_nvram(self) -> None:
        if self.nvram_path is None:
            return
        items = [{"sec_tag": tag, "type": kind, "content": cred.content,
                  "password": cred.password}
                 for (tag, kind), cred in sorted(self.credentials.items())]
        fd = os.open(self.nvram_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"credentials": items}, handle)

    def _close_all(self) -> None:
        for sock in self.sockets.values():
            if sock.link is not None:
                sock.link.close()
                sock.link = None
        if self.http is not None and self.http.link is not None:
            self.http.link.close()
            self.http.link = None

    def on_reboot(self) -> None:
        """RAM is lost (sockets, HTTP client, settings); the credentials stay (§5: NVM);
        ``Ready`` is printed when the AT host is up again (§3)."""
        self.boots += 1
        self.write_raw(b"Ready\r\n")

    def on_registration_lost(self) -> None:
        """The network is gone: open connections fail."""
        self.on_pdp_deactivated()

    def on_pdp_deactivated(self) -> None:
        """The PDN is gone: every connection closes (its buffered data stays readable)."""
        for sock in self.sockets.values():
            if sock.link is not None:
                sock.link.conn.abort()
        if self.http is not None and self.http.link is not None:
            self.http.link.conn.abort()

    def on_server_close(self, socket_id: int) -> None:
        """Make the server close socket ``socket_id`` (fault injection).

        Raises:
            ValueError: no such connected socket.
        """
        sock = self.sockets.get(socket_id)
        if sock is None or sock.link is None:
            raise ValueError(f"no connection {socket_id}")
        sock.link.conn.abort()

    def shutdown(self) -> None:
        with self.lock:
            self._close_all()
        super().shutdown()

    def credential(self, sec_tag: int, kind: int) -> str | None:
        """The stored content of ``(sec_tag, kind)``, or ``None`` (for tests)."""
        with self.lock:
            cred = self.credentials.get((sec_tag, kind))
            return cred.content if cred is not None else None

    # ------------------------------------------------------------------ line (§3)
    def feed(self, data: bytes) -> None:
        """Process bytes written by the host (SLM line rules, §3; data mode, §7)."""
        with self.lock:
            rest = data
            while rest:
                if self._dm is not None:
                    rest = self._dm_bytes(rest)
                    continue
                if self._busy:
                    self._queued += rest
                    return
                byte, rest = rest[0], rest[1:]
                self._line_byte(byte)

    def _line_byte(self, byte: int) -> None:
        if byte in (BS, DEL) and not self._quote:
            if self._buf:
                self._buf.pop()
                self._quote = self._buf.count(QUOTE) % 2 == 1
            return
        self._buf.append(byte)
        if byte == QUOTE:
            self._quote = not self._quote
        elif byte == LF and not self._quote and len(self._buf) >= 2 and self._buf[-2] == CR:
            line = bytes(self._buf[:-2])
            self._buf.clear()
            self._run_line(line)
            return
        if len(self._buf) > MAX_LINE:
            self._buf.clear()
            self._quote = False
            self.error(CommandError(None, f"command line longer than {MAX_LINE} bytes"))

    def _run_line(self, line: bytes) -> None:
        if self.keep_transcript:
            self.transcript.append((">", _redact(line) + b"\r\n"))
        if not line.strip():
            return
        self._execute_line(line)

    def _hold(self) -> None:
        """The running command answers later: the line waits for it."""
        self._busy = True

    def _release(self) -> None:
        """The waiting command has answered: take what the host wrote meanwhile."""
        self._busy = False
        if self._queued:
            queued = bytes(self._queued)
            self._queued.clear()
            self.feed(queued)

    def _answer(self, lines: list[str], result: str) -> None:
        with self.lock:
            for text in lines:
                self.respond(text)
            self.final(result)
            self._release()

    def _fail(self, reason: str, lines: list[str] | None = None) -> None:
        with self.lock:
            self.errors.append(reason)
            for text in lines or []:
                self.respond(text)
            self.error(CommandError(None, reason))
            self._release()

    def urc(self, text: str) -> None:
        """Report a URC; in data mode it is dropped, as G2 does (§3, §7)."""
        with self.lock:
            if self._dm is not None:
                log.debug("URC dropped in data mode: %s", text)
                return
            super().urc(text)

    def _spawn(self, target: Callable[[], None]) -> None:
        threading.Thread(target=target, name="celltls-sim-nrf", daemon=True).start()

    # ------------------------------------------------------------------ data mode (§7)
    def _enter_data_mode(self, on_data: Callable[[bytes], None], on_end: Callable[[int], None],
                         remaining: int | None = None) -> None:
        self._dm = _DataMode(on_data, on_end, remaining)

    def _dm_bytes(self, data: bytes) -> bytes:
        dm = self._dm
        assert dm is not None
        buf = dm.partial + data
        dm.partial = b""
        index = buf.find(TERMINATOR)
        if dm.failed:
            if index < 0:
                dm.partial = buf[-2:]
                return b""
            self._leave_data_mode(-dm.failed)
            return buf[index + len(TERMINATOR):]
        payload = buf if index < 0 else buf[:index]
        if dm.remaining is not None and len(payload) >= dm.remaining:
            take = dm.remaining
            self._dm_deliver(dm, payload[:take])
            if not dm.failed:
                self._leave_data_mode(0)
            return buf[take:]
        if index >= 0:
            self._dm_deliver(dm, payload)
            self._leave_data_mode(-dm.failed if dm.failed else 0)
            return buf[index + len(TERMINATOR):]
        keep = 2 if buf.endswith(b"++") else 1 if buf.endswith(b"+") else 0
        self._dm_deliver(dm, buf[: len(buf) - keep])
        dm.partial = buf[len(buf) - keep:]
        return b""

    def _dm_deliver(self, dm: _DataMode, payload: bytes) -> None:
        if not payload or dm.failed:
            return
        if dm.remaining is not None:
            dm.remaining -= len(payload)
        try:
            dm.on_data(payload)
        except OSError as exc:
            # after a send failure the SLM drops input until the terminator, and from about
            # v2.7 first sends the terminator to the host itself (§7, commit 2c44b58ce1)
            self.errors.append(f"send failed in data mode: {exc}")
            dm.failed = ENOTCONN
            self.write_raw(TERMINATOR)

    def _leave_data_mode(self, status: int) -> None:
        dm, self._dm = self._dm, None
        self.respond(f"#XDATAMODE: {status}")
        if dm is not None:
            dm.on_end(status)

    # ------------------------------------------------------------------ identification
    def _ati(self, cmd: ParsedCommand) -> str:
        """``ATI`` is ``ERROR`` on the nRF91 (L2, §3)."""
        raise CommandError(None, "ATI is not supported")

    def _cgmr(self, cmd: ParsedCommand) -> str:
        """``AT+CGMR``: the modem firmware name alone on its line."""
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "bad AT+CGMR")
        self.respond(self.revision)
        return "OK"

    def _cgsn(self, cmd: ParsedCommand) -> str:
        """``AT+CGSN`` → the IMEI; ``AT+CGSN=1`` → ``+CGSN: "<imei>"`` (27.007 5.4)."""
        if cmd.kind == "exec" or (cmd.kind == "write" and cmd.args[0] in ("", "0")):
            self.respond(self.imei)
        elif cmd.kind == "write" and cmd.args[0] == "1":
            self.respond(f'+CGSN: "{self.imei}"')
        elif cmd.kind == "test":
            self.respond("+CGSN: (0-3)")
        else:
            raise CommandError(None, "bad AT+CGSN")
        return "OK"

    def _cmee(self, cmd: ParsedCommand) -> str:
        """``AT+CMEE=<0|1>``; 2 (verbose) is ``ERROR`` (L2, §3)."""
        if cmd.kind == "read":
            self.respond(f"+CMEE: {self.cmee}")
        elif cmd.kind == "test":
            self.respond("+CMEE: (0,1)")
        elif cmd.kind == "write":
            self.cmee = _int(cmd.args[0], 0, 1)
        else:
            self.cmee = 0
        return "OK"

    def _xslmver(self, cmd: ParsedCommand) -> str:
        """``#XSLMVER: "<ncs>","<libmodem>"`` (v2.5+ shape, §2); ``"<v>"`` before."""
        major_minor = tuple(int(x) for x in self.slm_version.split(".")[:2])
        if major_minor >= (2, 5):
            self.respond(f'#XSLMVER: "{self.slm_version}","{self.slm_version}-celltls-sim"')
        else:
            self.respond(f'#XSLMVER: "{".".join(self.slm_version.split(".")[:2])}"')
        return "OK"

    def _xslmuart(self, cmd: ParsedCommand) -> str:
        """``#XSLMUART: <baud>`` (v1.5-v2.4; removed in v2.5.0, §2; L1)."""
        major_minor = tuple(int(x) for x in self.slm_version.split(".")[:2])
        if major_minor >= (2, 5) or cmd.kind != "read":
            raise CommandError(None, "AT#XSLMUART is not in this SLM version")
        self.respond(f"#XSLMUART: {self.baudrate}")
        return "OK"

    def _xreset(self, cmd: ParsedCommand) -> str | None:
        """``AT#XRESET``: ``OK``, then the reset and ``Ready`` (§3)."""
        if cmd.kind != "exec":
            raise CommandError(None, "AT#XRESET takes no argument")
        self.final("OK")
        self.reboot()
        return None

    def _ok_any(self, cmd: ParsedCommand) -> str:
        return "OK"

    # ------------------------------------------------------------------ functional mode (§4)
    def _cfun(self, cmd: ParsedCommand) -> str | None:
        """``AT+CFUN=<fun>``: 0/4/44 stop LTE, 1 and 21 start it, 20 stops LTE only, 40/41
        the UICC, 30/31 GNSS (not simulated beyond its flag); read ``+CFUN: <fun>``."""
        if cmd.kind == "read":
            self.respond(f"+CFUN: {self.cfun}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+CFUN: (0,1,2,4,20,21,30,31,40,41,44)")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(50, "AT+CFUN=<fun>")
        fun = _int(cmd.args[0], 0, 99, 50)
        if fun not in CFUN_VALUES:
            raise CommandError(50, f"<fun> {fun}")
        if fun in (0, 4, 44, 20):
            self.cfun = fun if fun != 20 else 4
            self.uicc_on = fun == 44 or (fun == 20 and self.uicc_on)
            self.final("OK")
            self._lte(False)
            return None  # OK is written, +CEREG: 0 follows it
        elif fun in (1, 2, 21):
            self.cfun = 1 if fun == 21 else fun
            self.uicc_on = True
            self.final("OK")
            self._lte(True, attach=fun != 2)
            return None  # OK is written, the registration URCs follow it
        elif fun == 40:
            self.uicc_on = False
            self.final("OK")
            self._lte(False)
            return None
        elif fun == 41:
            self.uicc_on = True
        return "OK"

    def _lte(self, on: bool, attach: bool = True) -> None:
        was = self.lte_on
        self.lte_on = on
        if not on:
            if was or self.registration:
                self.registration = 0
                self.attached = False
                self._close_all()
                self._cereg_urc()
            return
        if attach:
            self._try_register()

    def _try_register(self) -> None:
        """LTE is on and the SIM is usable: searching, then registered home (L1, §12)."""
        if not (self.lte_on and self.uicc_on and self.pin_ok) or self.registration in (1, 5):
            return
        self.registration = 2
        self._cereg_urc()
        self.registration = 1
        self.attached = True
        self._cereg_urc()

    def _registration_urcs(self) -> None:
        # fault injection (lose/restore registration) reports in the +CEREG shape of §4
        self._cereg_urc()

    # ------------------------------------------------------------------ SIM (§4)
    def _cpin(self, cmd: ParsedCommand) -> str | None:
        """``AT+CPIN?`` → ``+CPIN: READY`` / ``+CPIN: SIM PIN``; ``AT+CPIN="<pin>"`` (L1)."""
        if not self.uicc_on:
            raise CommandError(10, "UICC is off")
        if cmd.kind == "read":
            self.respond("+CPIN: READY" if self.pin_ok else "+CPIN: SIM PIN")
            return "OK"
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "write" or self.pin_ok:
            raise CommandError(3, "no PIN is asked for")
        if _quoted(cmd.args[0]) != self.sim_pin:
            raise CommandError(16, "incorrect PIN")
        self.pin_ok = True
        self.final("OK")
        self._try_register()
        return None  # OK is written, the registration URCs follow it (L1)

    def _xiccid(self, cmd: ParsedCommand) -> str:
        """``%XICCID: <iccid>`` unquoted; ``ERROR`` until the PIN is given (L1)."""
        if cmd.kind != "exec" or not self.uicc_on or not self.pin_ok:
            raise CommandError(None, "SIM not ready")
        self.respond(f"%XICCID: {ICCID}")
        return "OK"

    # ------------------------------------------------------------------ radio settings (§4)
    def _xsystemmode(self, cmd: ParsedCommand) -> str:
        """``%XSYSTEMMODE=<LTE-M>,<NB-IoT>,<GNSS>,<pref>[,<NTN>]``; read 4 fields."""
        if cmd.kind == "read":
            self.respond("%XSYSTEMMODE: " + ",".join(str(v) for v in self.system_mode))
            return "OK"
        if cmd.kind != "write" or len(cmd.args) not in (4, 5):
            raise CommandError(50, "AT%XSYSTEMMODE=<m>,<nb>,<gnss>,<pref>")
        flags = [_int(a, 0, 1, 50) for a in cmd.args[:3]]
        pref = _int(cmd.args[3], 0, 4, 50)
        if len(cmd.args) == 5:
            _int(cmd.args[4], 0, 1, 50)
        if not (flags[0] or flags[1] or flags[2]):
            raise CommandError(50, "no system enabled")
        self.system_mode = (flags[0], flags[1], flags[2], pref)
        return "OK"

    def _act(self) -> int:
        """AcT of the cell: 9 NB-IoT when only NB-IoT or NB-IoT preferred, else 7 LTE-M."""
        lte_m, nb, _gnss, pref = self.system_mode
        return 9 if nb and (not lte_m or pref in (2, 4)) else 7

    def _xbandlock(self, cmd: ParsedCommand) -> str:
        """``%XBANDLOCK=<op>[,"<mask>"]`` (bit string, LSB band 1, <= 88 chars); 518 while
        LTE is active; ``ERROR`` for a mask with no band (§4, S7)."""
        if cmd.kind != "write":
            raise CommandError(50, "AT%XBANDLOCK=<op>[,<mask>]")
        op = _int(cmd.args[0], 0, 3, 50)
        if self.lte_on:
            raise CommandError(CME_ACTIVE, "band lock while active")
        if op == 0:
            self.bands.clear()
            return "OK"
        if len(cmd.args) < 2:
            raise CommandError(50, "a mask is needed")
        mask = _quoted(cmd.args[1])
        if not mask or len(mask) > 88 or set(mask) - {"0", "1"} or "1" not in mask:
            raise CommandError(None, "bad band mask")
        other = self.bands.get(2 if op == 1 else 1)
        if other is not None and not int(other, 2) & int(mask, 2):
            raise CommandError(None, "permanent and runtime masks share no band")
        self.bands[op] = mask
        return "OK"

    def _cops(self, cmd: ParsedCommand) -> str:
        """``AT+COPS=0`` (automatic selection); read ``+COPS: 0[,2,"<plmn>",<AcT>]``."""
        if cmd.kind == "read":
            if self.registration in (1, 5):
                self.respond(f'+COPS: 0,2,"65501",{self._act()}')
            else:
                self.respond("+COPS: 0")
        elif cmd.kind == "write":
            _int(cmd.args[0], 0, 4, 50)
        elif cmd.kind != "test":
            raise CommandError(50, "bad AT+COPS")
        return "OK"

    def _cgdcont(self, cmd: ParsedCommand) -> str:
        """``AT+CGDCONT=<cid>,"<type>","<apn>"`` (cid 0 = default PDN, L1, L2); read lists
        ``+CGDCONT: <cid>,"<type>","<apn>","<addr>",0,0``."""
        if cmd.kind == "read":
            for cid, (kind, apn) in sorted(self.pdn.items()):
                addr = PDN_IPV4 if cid == 0 and self.attached else ""
                self.respond(f'+CGDCONT: {cid},"{kind}","{apn}","{addr}",0,0')
            return "OK"
        if cmd.kind == "test":
            self.respond('+CGDCONT: (0-11),("IP","IPV6","IPV4V6","Non-IP")')
            return "OK"
        if cmd.kind != "write":
            raise CommandError(50, "bad AT+CGDCONT")
        cid = _int(cmd.args[0], 0, 11, 50)
        if len(cmd.args) == 1:
            if cid != 0:
                self.pdn.pop(cid, None)
            return "OK"
        kind = _quoted(cmd.args[1]).upper()
        if kind not in ("IP", "IPV6", "IPV4V6", "NON-IP"):
            raise CommandError(50, f"PDP type {kind}")
        apn = _quoted(cmd.args[2]) if len(cmd.args) > 2 and cmd.args[2] else ""
        self.pdn[cid] = (kind, apn)
        return "OK"

    # ------------------------------------------------------------------ registration (§4)
    def _cereg_fields(self, n: int) -> str:
        stat = self.registration
        if n <= 1 or stat not in (1, 2, 5):
            return str(stat)
        registered = stat in (1, 5)
        loc = f'{stat},"{TAC}","{CELL_ID}",{self._act()}'
        cause = ",," if registered else ",0,0"  # L1: searching 0,0; registered empty
        tau = TAU_REGISTERED if registered else TAU_SEARCHING
        timers = f',"{ACTIVE_TIME_OFF}","{tau}"'
        if n == 2:
            return loc
        if n == 3:
            return loc + ("" if registered else cause)
        if n == 4:
            return loc + ",," + timers
        return loc + cause + timers

    def _cereg_urc(self) -> None:
        if self.cereg_n:
            self.urc(f"+CEREG: {self._cereg_fields(self.cereg_n)}")

    def _cereg(self, cmd: ParsedCommand) -> str:
        """``AT+CEREG=<n>`` (0-5); read ``+CEREG: <n>,<stat>[,...]``; URCs ``+CEREG: <stat>...``
        with the fields of §4 (L1's two lines for n=5)."""
        if cmd.kind == "read":
            self.respond(f"+CEREG: {self.cereg_n},{self._cereg_fields(self.cereg_n)}")
        elif cmd.kind == "test":
            self.respond("+CEREG: (0-5)")
        elif cmd.kind == "write" and len(cmd.args) == 1:
            self.cereg_n = _int(cmd.args[0], 0, 5, 50)
        else:
            raise CommandError(50, "AT+CEREG=<n>")
        return "OK"

    def _cgpaddr(self, cmd: ParsedCommand) -> str:
        """``+CGPADDR: <cid>,"<IPv4>"[,"<IPv6>"]`` while attached (§4, L2)."""
        if cmd.kind == "test":
            self.respond("+CGPADDR: (0)")
            return "OK"
        cids = [_int(a, 0, 11, 50) for a in cmd.args] if cmd.kind == "write" else [0]
        for cid in cids:
            if cid not in self.pdn:
                raise CommandError(50, f"cid {cid} not defined")
            kind = self.pdn[cid][0]
            if not (self.attached and cid == 0):
                self.respond(f"+CGPADDR: {cid}")
            elif kind == "IPV4V6":
                self.respond(f'+CGPADDR: {cid},"{PDN_IPV4}","{PDN_IPV6}"')
            elif kind == "IPV6":
                self.respond(f'+CGPADDR: {cid},"{PDN_IPV6}"')
            else:
                self.respond(f'+CGPADDR: {cid},"{PDN_IPV4}"')
        return "OK"

    def _cesq(self, cmd: ParsedCommand) -> str:
        """``+CESQ: 99,99,255,255,<rsrq>,<rsrp>`` (§4: rxlev, ber, rscp, ecno never given)."""
        if cmd.kind == "test":
            self.respond("+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)")
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(50, "AT+CESQ")
        if self.registration in (1, 5):
            self.respond("+CESQ: 99,99,255,255,31,62")
        else:
            self.respond("+CESQ: 99,99,255,255,255,255")
        return "OK"

    def _subscribe_cesq(self, cmd: ParsedCommand) -> str:
        """``AT%CESQ=<0|1>``: signal notifications (§4); accepted, no level changes occur."""
        if cmd.kind != "write":
            raise CommandError(50, "AT%CESQ=<0|1>")
        self.cesq_on = bool(_int(cmd.args[0], 0, 1, 50))
        return "OK"

    def _subscribe_xtime(self, cmd: ParsedCommand) -> str:
        """``AT%XTIME=<0|1>``: network time notifications (§4); accepted."""
        if cmd.kind != "write":
            raise CommandError(50, "AT%XTIME=<0|1>")
        self.xtime_on = bool(_int(cmd.args[0], 0, 1, 50))
        return "OK"

    # ------------------------------------------------------------------ credentials (§5)
    def _cmng(self, cmd: ParsedCommand) -> str:
        """``AT%CMNG=<opcode>[,<sec_tag>[,<type>[,<content>[,<passwd>]]]]`` (§5, S7, S9)."""
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "write" or not cmd.args[0]:
            raise CommandError(50, "AT%CMNG=<opcode>,...")
        args = cmd.args
        opcode = _int(args[0], 0, 3, 50)
        if opcode == 1:
            return self._cmng_list(args)
        if len(args) < 3 or not args[1] or not args[2]:
            raise CommandError(50, "sec_tag and type are needed")
        tag = _int(args[1], 0, MAX_LIST_TAG, 50)
        kind = _int(args[2], 0, 11, 50)
        if opcode == 0:
            return self._cmng_write(tag, kind, args[3:])
        if len(args) > 3:
            raise CommandError(50, "too many parameters")
        cred = self.credentials.get((tag, kind))
        if opcode == 2:
            if kind not in READABLE_TYPES:
                raise CommandError(CME_NO_ACCESS, "this type cannot be read")
            if cred is None:
                raise CommandError(CME_NOT_FOUND, "no such credential")
            self.respond(f'%CMNG: {tag},{kind},"{cred.sha}","{cred.content}"')
            return "OK"
        if self.lte_on:
            raise CommandError(CME_ACTIVE, "delete while LTE is active")
        if cred is None:
            raise CommandError(CME_NOT_FOUND, "no such credential")
        del self.credentials[(tag, kind)]
        self._save_nvram()
        return "OK"

    def _cmng_list(self, args: tuple[str, ...]) -> str:
        tag = _int(args[1], 0, MAX_LIST_TAG, 50) if len(args) > 1 and args[1] else None
        kind = _int(args[2], 0, 11, 50) if len(args) > 2 and args[2] else None
        if len(args) > 3:
            raise CommandError(50, "too many parameters")
        lines = [f'%CMNG: {t},{k},"{c.sha}"' for (t, k), c in sorted(self.credentials.items())
                 if (tag is None or t == tag) and (kind is None or k == kind)]
        if lines:
            self.respond_lines(lines)
        return "OK"

    def _cmng_write(self, tag: int, kind: int, rest: tuple[str, ...]) -> str:
        if not rest or len(rest) > 2:
            raise CommandError(50, "AT%CMNG=0,<sec_tag>,<type>,<content>[,<passwd>]")
        if tag > MAX_SEC_TAG or kind not in WRITABLE_TYPES:
            raise CommandError(CME_NO_ACCESS, "reserved sec_tag or type")  # §5
        if self.lte_on:
            raise CommandError(CME_ACTIVE, "write while LTE is active")  # §5, S7, L7
        content = string_value(rest[0])
        if content is None:
            raise CommandError(50, "<content> must be a string")
        password = None
        if len(rest) == 2 and rest[1]:
            password = _quoted(rest[1])
            if kind != 2 or len(password) > 32:
                raise CommandError(50, "<passwd> only for a type-2 key, <= 32 characters")
        if not content or not _valid_content(kind, content):
            raise CommandError(CME_INVALID, "invalid content")  # §5, L3
        self.credentials[(tag, kind)] = _Credential(content, password)  # choice: replaces
        self._save_nvram()
        return "OK"

    # ------------------------------------------------------------------ sockets (§6.2)
    def _free_handle(self) -> int:
        for handle in range(MAX_SOCKETS):
            if handle not in self.sockets:
                return handle
        raise CommandError(None, "no free socket")

    def _active(self) -> _Socket:
        sock = self.sockets.get(self.active) if self.active is not None else None
        if sock is None:
            raise CommandError(None, "no socket open")
        return sock

    def _close_active(self) -> str:
        sock = self._active()
        if sock.link is not None:
            sock.link.close()
        del self.sockets[sock.handle]
        self.active = min(self.sockets) if self.sockets else None
        self.respond('#XSOCKET: 0,"closed"')
        return "OK"

    def _xsocket(self, cmd: ParsedCommand) -> str:
        """``AT#XSOCKET=<op>[,<type>,<role>[,<cid>]]`` → ``#XSOCKET: <h>,<type>,<proto>``;
        ``AT#XSOCKET=0`` closes the active socket: ``#XSOCKET: 0,"closed"`` (§6.2)."""
        if cmd.kind == "read":
            if self.active is not None:
                s = self._active()
                self.respond(f"#XSOCKET: {s.handle},{s.family},{s.role},{s.kind},{s.cid}")
            return "OK"
        if cmd.kind == "test":
            self.respond("#XSOCKET: (0,1,2),(1,2,3),(0,1),<cid>")
            return "OK"
        if cmd.kind != "write":
            raise CommandError(None, "AT#XSOCKET=<op>,...")
        op = _int(cmd.args[0], 0, 2)
        if op == 0:
            return self._close_active()
        if len(cmd.args) < 3 or len(cmd.args) > 4:
            raise CommandError(None, "AT#XSOCKET=<op>,<type>,<role>[,<cid>]")
        kind = _int(cmd.args[1], 1, 3)
        role = _int(cmd.args[2], 0, 1)
        cid = _int(cmd.args[3], 0, 11) if len(cmd.args) == 4 else 0
        if kind != 1 or role != 0:
            raise CommandError(None, "only TCP clients are simulated")
        sock = _Socket(self._free_handle(), op, kind, role, cid, secure=False)
        self.sockets[sock.handle] = sock
        self.active = sock.handle
        self.respond(f"#XSOCKET: {sock.handle},{kind},6")
        return "OK"

    def _xssocket(self, cmd: ParsedCommand) -> str:
        """``AT#XSSOCKET=<op>[,<type>,<role>,<sec_tag>[,<peer_verify>[,<cid>]]]`` →
        ``#XSSOCKET: <h>,1,258`` (TLS 1.2 client; peer_verify defaults to 2, §6.2)."""
        if cmd.kind == "test":
            self.respond("#XSSOCKET: (0,1,2),(1,2),(0,1),<sec_tag>,<peer_verify>,<cid>")
            return "OK"
        if cmd.kind != "write":
            raise CommandError(None, "AT#XSSOCKET=<op>,...")
        op = _int(cmd.args[0], 0, 2)
        if op == 0:
            return self._close_active()
        if not 4 <= len(cmd.args) <= 6:
            raise CommandError(None, "AT#XSSOCKET=<op>,<type>,<role>,<sec_tag>[,...]")
        kind = _int(cmd.args[1], 1, 2)
        role = _int(cmd.args[2], 0, 1)
        tag = _int(cmd.args[3], 0, MAX_SEC_TAG)
        verify = _int(cmd.args[4], 0, 2) if len(cmd.args) > 4 and cmd.args[4] else 2
        cid = _int(cmd.args[5], 0, 11) if len(cmd.args) > 5 else 0
        if kind != 1 or role != 0:
            # DTLS is not simulated; a TLS server needs the native-TLS overlay (§6.2)
            raise CommandError(None, "only TLS clients are simulated")
        sock = _Socket(self._free_handle(), op, 1, role, cid, secure=True, sec_tag=tag,
                       peer_verify=verify)
        self.sockets[sock.handle] = sock
        self.active = sock.handle
        self.respond(f"#XSSOCKET: {sock.handle},1,{PROTO_TLS12}")
        return "OK"

    def _xsocketselect(self, cmd: ParsedCommand) -> str:
        """``AT#XSOCKETSELECT=<h>`` → ``#XSOCKETSELECT: <h>``; read lists every socket then
        the active one (§6.2)."""
        if cmd.kind == "read":
            for s in sorted(self.sockets.values(), key=lambda s: s.handle):
                tag = s.sec_tag if s.secure else -1
                self.respond(f"#XSOCKETSELECT: {s.handle},{s.family},{s.role},{s.kind},{tag},"
                             f"0,{s.cid}")
            if self.active is not None:
                self.respond(f"#XSOCKETSELECT: {self.active}")
            return "OK"
        if cmd.kind != "write":
            raise CommandError(None, "AT#XSOCKETSELECT=<handle>")
        handle = _int(cmd.args[0], 0, MAX_SOCKETS - 1)
        if handle not in self.sockets:
            raise CommandError(None, f"no socket {handle}")
        self.active = handle
        self.respond(f"#XSOCKETSELECT: {handle}")
        return "OK"

    def _xsocketopt(self, cmd: ParsedCommand) -> str:
        """``AT#XSOCKETOPT=<0 get|1 set>,<name>[,<value>]`` (names of §6.2)."""
        if cmd.kind != "write" or len(cmd.args) < 2:
            raise CommandError(None, "AT#XSOCKETOPT=<op>,<name>[,<value>]")
        sock = self._active()
        op = _int(cmd.args[0], 0, 1)
        name = _int(cmd.args[1], 0, 99)
        if name not in (2, 20, 21, 30, 31, 32, 40, 55, 61, 62):
            raise CommandError(None, f"option {name}")
        if op == 0:
            if name not in (20, 21, 55):
                raise CommandError(None, f"option {name} cannot be read")
            self.respond(f"#XSOCKETOPT: {sock.options.get(name, 0)}")
            return "OK"
        if len(cmd.args) != 3:
            raise CommandError(None, "a value is needed")
        sock.options[name] = _int(cmd.args[2], 0, 2**31 - 1)
        return "OK"

    def _xssocketopt(self, cmd: ParsedCommand) -> str:
        """``AT#XSSOCKETOPT=<op>,<name>[,<value>]``: 2 TLS hostname (``"NULL"`` clears it),
        4 cipher suite used (get), 5 peer verify, 12 session cache, 13 purge (§6.2)."""
        if cmd.kind != "write" or len(cmd.args) < 2:
            raise CommandError(None, "AT#XSSOCKETOPT=<op>,<name>[,<value>]")
        sock = self._active()
        if not sock.secure:
            raise CommandError(None, "not a secure socket")
        op = _int(cmd.args[0], 0, 1)
        name = _int(cmd.args[1], 0, 99)
        if op == 0:
            if name == 2:
                self.respond(f"#XSSOCKETOPT: {sock.hostname or ''}")
            elif name == 4 and sock.link is not None and self.model_key != "nrf9160":
                conn = sock.link.conn
                cipher = conn.cipher if isinstance(conn, TlsConnection) else ""
                code = next((c for c, n in NRF91_SUITES.items() if n == cipher), 0)
                self.respond(f"#XSSOCKETOPT: 0x{code:x}")
            elif name == 5:
                self.respond(f"#XSSOCKETOPT: {sock.peer_verify}")
            elif name == 12:
                self.respond(f"#XSSOCKETOPT: {sock.session_cache}")
            else:
                raise CommandError(None, f"option {name} cannot be read")
            return "OK"
        if len(cmd.args) != 3:
            raise CommandError(None, "a value is needed")
        if name == 2:
            host = _quoted(cmd.args[2])
            if len(host) > MAX_URL:
                raise CommandError(None, "host name too long")
            sock.hostname = None if host in ("", "NULL") else host
        elif name == 5:
            sock.peer_verify = _int(cmd.args[2], 0, 2)
        elif name == 12:
            sock.session_cache = _int(cmd.args[2], 0, 1)
        elif name != 13:
            raise CommandError(None, f"option {name} (DTLS or unknown)")
        return "OK"

    def _settings(self, tag: int | None, peer_verify: int, hostname: str | None) -> TlsSettings:
        def pem(kind: int) -> bytes | None:
            cred = self.credentials.get((tag, kind)) if tag is not None else None
            return cred.content.encode("latin-1") if cred is not None else None

        key = self.credentials.get((tag, 2)) if tag is not None else None
        return TlsSettings(pem(0), pem(1), pem(2), key.password if key else None,
                           peer_verify, hostname)

    def _xconnect(self, cmd: ParsedCommand) -> str | None:
        """``AT#XCONNECT="<url>",<port>`` → ``#XCONNECT: 1`` ``OK``; failure plain ``ERROR``
        (§6.2, S2 ``do_connect``: no ``#XCONNECT: 0``)."""
        if cmd.kind != "write" or len(cmd.args) != 2:
            raise CommandError(None, 'AT#XCONNECT="<url>",<port>')
        sock = self._active()
        url = _quoted(cmd.args[0])
        port = _int(cmd.args[1], 1, 65535)
        if not url or len(url) > MAX_URL:
            raise CommandError(None, "bad url")
        if sock.link is not None or sock.connecting:
            raise CommandError(None, "already connected")
        if not self.attached:
            self.errors.append(f"connect failed: no network (errno {ENOTCONN})")
            raise CommandError(None, "no network")
        settings = self._settings(sock.sec_tag, sock.peer_verify, sock.hostname)
        boots = self.boots
        sock.connecting = True
        self._hold()

        def run() -> None:
            try:
                conn = (open_tls(url, port, settings, family=sock.family,
                                 timeout=self.connect_timeout, latency=self.latency)
                        if sock.secure else
                        open_tcp(url, port, family=sock.family, timeout=self.connect_timeout,
                                 latency=self.latency))
            except NetError as exc:
                with self.lock:
                    sock.connecting = False
                    if self.boots == boots:
                        self._fail(f"{exc.reason} (errno {exc.errno})")
                return
            with self.lock:
                sock.connecting = False
                if self.boots != boots or self.sockets.get(sock.handle) is not sock:
                    conn.close()
                    return
                sock.link = Link(conn, self.rx_buffer)
                self._answer(["#XCONNECT: 1"], "OK")

        self._spawn(run)
        return None

    def _xsend(self, cmd: ParsedCommand) -> str | None:
        """``AT#XSEND="<data>"[,<flags>]`` → ``#XSEND: <n>``; ``AT#XSEND`` → ``OK`` and data
        mode up to ``+++``, then ``#XDATAMODE: <status>`` (§6.2, §7)."""
        sock = self._active()
        link = sock.link
        if link is None:
            raise CommandError(None, "not connected")
        if cmd.kind == "exec":
            self.final("OK")

            def send(data: bytes) -> None:
                if self.take_send_fault():
                    raise OSError("send fault injected")
                link.send(data)

            self._enter_data_mode(send, lambda status: None)
            return None
        if cmd.kind != "write" or not 1 <= len(cmd.args) <= 2:
            raise CommandError(None, 'AT#XSEND="<data>"[,<flags>]')
        data = _quoted(cmd.args[0]).encode("latin-1")
        if len(data) > MAX_SEND_STRING:
            raise CommandError(None, "string over 1024 bytes")
        if len(cmd.args) == 2:
            _int(cmd.args[1], 0, 512)
        try:
            if self.take_send_fault():
                raise OSError("send fault injected")
            link.send(data)
        except OSError as exc:
            self.errors.append(f"send failed: {exc} (errno {ENOTCONN})")
            raise CommandError(None, "send failed") from None
        self.respond(f"#XSEND: {len(data)}")
        return "OK"

    def _xrecv(self, cmd: ParsedCommand) -> str | None:
        """``AT#XRECV=<timeout_s>[,<flags>]`` → ``#XRECV: <n>``, n raw bytes (n <= 2048),
        ``OK``; peer closed: ``OK`` alone; timeout or nothing with DONTWAIT (64): ``ERROR``
        (§6.2, v2.0+ order)."""
        if cmd.kind != "write" or not 1 <= len(cmd.args) <= 2:
            raise CommandError(None, "AT#XRECV=<timeout>[,<flags>]")
        sock = self._active()
        timeout = _int(cmd.args[0], 0, 2**31 - 1)
        flags = _int(cmd.args[1], 0, 2**16) if len(cmd.args) == 2 else 0
        link = sock.link
        if link is None:
            raise CommandError(None, "not connected")
        peek = bool(flags & 2)
        if link.pending() or link.closed:
            return self._recv_answer(link, peek)
        if flags & 64:
            self.errors.append(f"recv: nothing buffered (errno {EAGAIN})")
            raise CommandError(None, "EAGAIN")
        boots = self.boots
        self._hold()

        def run() -> None:
            got = link.wait(timeout if timeout else None)
            with self.lock:
                if self.boots != boots:
                    return
                if not got:
                    self._fail(f"recv timeout (errno {ETIMEDOUT})")
                    return
                result = self._recv_answer(link, peek)
                self.final(result)
                self._release()

        self._spawn(run)
        return None

    def _recv_answer(self, link: Link, peek: bool) -> str:
        data = link.take(MAX_RECV, peek=peek)
        if data:
            self.respond(f"#XRECV: {len(data)}")
            self.write_raw(data)
        return "OK"

    def _xgetaddrinfo(self, cmd: ParsedCommand) -> str | None:
        """``AT#XGETADDRINFO="<host>"[,<family>]`` → ``#XGETADDRINFO: "<ip>"`` (§6.2)."""
        if cmd.kind != "write":
            raise CommandError(None, 'AT#XGETADDRINFO="<host>"')
        host = _quoted(cmd.args[0])
        family = _int(cmd.args[1], 0, 2) if len(cmd.args) > 1 else 0
        want = {0: socket.AF_UNSPEC, 1: socket.AF_INET, 2: socket.AF_INET6}[family]
        try:
            infos = socket.getaddrinfo(host, None, want, socket.SOCK_STREAM)
        except socket.gaierror:
            self.respond('#XGETADDRINFO: "not found"')
            raise CommandError(None, "not found") from None
        addresses: list[str] = []
        for info in infos:
            address = str(info[4][0])
            if address not in addresses:
                addresses.append(address)
        self.respond(f'#XGETADDRINFO: "{" ".join(addresses)}"')
        return "OK"

    # ------------------------------------------------------------------ HTTP client (§8.1)
    def _xhttpccon(self, cmd: ParsedCommand) -> str | None:
        """``AT#XHTTPCCON=<op>[,"<host>",<port>[,<sec_tag>[,<peer_verify>[,<hostname_verify>]]]]``
        → ``#XHTTPCCON: 1`` ``OK``, failure ``#XHTTPCCON: 0`` ``ERROR``; op 0 disconnects
        (``#XHTTPCCON: 0``); read ``#XHTTPCCON: <state>,"<host>",<port>[,<sec_tag>]``."""
        if cmd.kind == "read":
            http = self.http
            if http is None:
                self.respond("#XHTTPCCON: 0")
            else:
                state = int(http.link is not None)
                tail = f",{http.sec_tag}" if http.sec_tag is not None else ""
                self.respond(f'#XHTTPCCON: {state},"{http.host}",{http.port}{tail}')
            return "OK"
        if cmd.kind != "write" or not 1 <= len(cmd.args) <= 6:
            raise CommandError(None, "AT#XHTTPCCON=<op>,...")
        args = cmd.args
        op = _int(args[0], 0, 2)
        if op == 0:
            if len(args) != 1 or self.http is None or self.http.link is None:
                raise CommandError(None, "not connected")
            self.http.link.close()
            self.http.link = None
            self.respond("#XHTTPCCON: 0")
            return "OK"
        if len(args) < 3:
            raise CommandError(None, "host and port are needed")
        if self.http is not None and self.http.link is not None:
            raise CommandError(None, "already connected")
        host = _quoted(args[1])
        port = _int(args[2], 1, 65535)
        if not host or len(host) > MAX_URL:
            raise CommandError(None, "bad host")
        tag = _int(args[3], 0, MAX_SEC_TAG) if len(args) > 3 and args[3] else None
        verify = _int(args[4], 0, 2) if len(args) > 4 and args[4] else 2
        check_name = _int(args[5], 0, 1) if len(args) > 5 and args[5] else 1
        http = _Http(host, port, tag)
        self.http = http
        if not self.attached:
            self.errors.append(f"httpc connect failed: no network (errno {ENOTCONN})")
            self.respond("#XHTTPCCON: 0")
            raise CommandError(None, "no network")
        settings = self._settings(tag, verify, host if check_name else None)
        boots = self.boots
        self._hold()

        def run() -> None:
            try:
                conn = (open_tls(host, port, settings, family=op, timeout=self.connect_timeout,
                                 latency=self.latency)
                        if tag is not None else
                        open_tcp(host, port, family=op, timeout=self.connect_timeout,
                                 latency=self.latency))
            except NetError as exc:
                with self.lock:
                    if self.boots == boots:
                        self._fail(f"{exc.reason} (errno {exc.errno})", ["#XHTTPCCON: 0"])
                return
            with self.lock:
                if self.boots != boots or self.http is not http:
                    conn.close()
                    return
                http.link = Link(conn, self.rx_buffer)
                self._answer(["#XHTTPCCON: 1"], "OK")

        self._spawn(run)
        return None

    def _xhttpcreq(self, cmd: ParsedCommand) -> str | None:
        """``AT#XHTTPCREQ="<method>","<resource>"[,"<headers>"[,"<content_type>",
        <content_length>[,<chunked>]]]`` (v2.0-v3.1, §8.1): ``OK``; with a body
        ``#XHTTPCREQ: 1`` and data mode for it; ``#XHTTPCREQ: 0`` once sent, then the response."""
        if cmd.kind != "write" or not 2 <= len(cmd.args) <= 6 or len(cmd.args) == 4:
            raise CommandError(None, "AT#XHTTPCREQ=<method>,<resource>[,...]")
        http = self.http
        if http is None or http.link is None:
            raise CommandError(None, "HTTP client not connected")
        if http.busy:
            raise CommandError(None, "a request is under way")
        args = cmd.args
        method = _quoted(args[0]).upper()
        resource = _quoted(args[1])
        if method not in HTTP_METHODS or not resource or len(resource) > 256:
            raise CommandError(None, "bad method or resource")
        raw_headers = _quoted(args[2]) if len(args) > 2 and args[2] else ""
        if len(raw_headers) > 512:
            raise CommandError(None, "headers over 512 characters")
        headers = _parse_headers(raw_headers.replace("\\r\\n", "\r\n"))
        length = 0
        chunked = 0
        if len(args) >= 5:
            ctype = _quoted(args[3])
            length = _int(args[4], 0, 2**31 - 1)
            chunked = _int(args[5], 0, 1) if len(args) == 6 else 0
            headers.append(("Content-Type", ctype))
            if chunked:
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                headers.append(("Content-Length", str(length)))
        request = [("Host", http.host), *headers]
        http.busy = True
        if not length and not chunked:
            self.final("OK")
            self._spawn(lambda: self._http_exchange(http, method, resource, request, b""))
            return None
        self.final("OK")
        self.respond("#XHTTPCREQ: 1")
        body = bytearray()

        def ended(status: int) -> None:
            if status != 0 or (not chunked and len(body) != length):
                self.errors.append(f"http body not complete ({len(body)} of {length} bytes)")
                http.busy = False
                self.urc(f"#XHTTPCREQ: {-22}")
                return
            self._spawn(lambda: self._http_exchange(http, method, resource, request,
                                                    bytes(body)))

        self._enter_data_mode(body.extend, ended, None if chunked else length)
        return None

    def _http_exchange(self, http: _Http, method: str, resource: str,
                       headers: list[tuple[str, str]], body: bytes) -> None:
        try:
            self._http_exchange_busy(http, method, resource, headers, body)
        finally:
            http.busy = False

    def _http_exchange_busy(self, http: _Http, method: str, resource: str,
                            headers: list[tuple[str, str]], body: bytes) -> None:
        link = http.link
        boots = self.boots
        reader = HttpResponseReader(method)
        try:
            request = reader.start(h11.Request(method=method, target=resource,
                                               headers=headers), body)
        except h11.LocalProtocolError as exc:
            with self.lock:
                self.errors.append(f"bad request: {exc}")
                self.urc(f"#XHTTPCREQ: {-22}")
            return
        try:
            if link is None:
                raise OSError("not connected")
            link.send(request)
        except OSError as exc:
            with self.lock:
                self.errors.append(f"http send failed: {exc} (errno {ENOTCONN})")
                self.urc(f"#XHTTPCREQ: {-ENOTCONN}")
            return
        with self.lock:
            self.urc("#XHTTPCREQ: 0")
        held: bytes | None = None  # the last body fragment: its flag depends on what follows
        head_sent = False
        eof = False

        def emit(blob: bytes, final: int) -> None:
            with self.lock:
                if self.boots == boots:
                    self.write_raw(blob + f"\r\n#XHTTPCRSP:{len(blob)},{final}\r\n".encode())

        while True:
            got = link.wait(self.http_timeout)
            data = link.take(65536)
            if not got:
                error = -ETIMEDOUT
                break
            if not data:
                if eof:
                    error = -ECONNRESET
                    break
                eof = True
            try:
                pieces = reader.feed(data if data else b"")
            except h11.RemoteProtocolError as exc:
                self.errors.append(f"bad response: {exc}")
                error = -ECONNRESET
                break
            done = False
            for index, (kind, blob) in enumerate(pieces):
                if kind == "head":
                    no_body = index + 1 < len(pieces) and pieces[index + 1][0] == "end"
                    emit(blob, 1 if no_body else 0)
                    head_sent = True
                    done = no_body
                elif kind == "body":
                    for start in range(0, len(blob), MAX_RECV):
                        if held is not None:
                            emit(held, 0)
                        held = blob[start:start + MAX_RECV]
                elif kind == "end":
                    if held is not None:
                        emit(held, 1)
                        held = None
                    elif not done:
                        emit(b"", 1)
                    done = True
            if done:
                if not reader.keep_alive:
                    # the server closes: the client still counts as connected (read state 1)
                    # and the next request reports the send error (§8.1)
                    link.close()
                return
        # the server closed or went silent before the response was complete (§8.1)
        if held is not None:
            emit(held, 0)
        with self.lock:
            if self.boots == boots:
                if not head_sent:
                    self.errors.append(f"no response (errno {-error})")
                self.write_raw(f"\r\n#XHTTPCRSP: 0,{error}\r\n".encode())


def _parse_headers(text: str) -> list[tuple[str, str]]:
    """Header lines ``Name: value\\r\\n``; Host, Content-Type and Content-Length are the
    client's own (§8.1) and refused here.

    Raises:
        CommandError: a line without ``:`` or CR LF, or a header the client sets itself.
    """
    if not text:
        return []
    if not text.endswith("\r\n"):
        raise CommandError(None, "each header must end with CR LF")
    headers: list[tuple[str, str]] = []
    for line in text[:-2].split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise CommandError(None, "bad header line")
        if name.strip().lower() in ("host", "content-type", "content-length"):
            raise CommandError(None, f"{name.strip()} is set by the client")
        headers.append((name.strip(), value.strip()))
    return headers


def _valid_content(kind: int, content: str) -> bool:
    """Whether ``%CMNG`` content of ``kind`` is acceptable (§5): PEM types need a PEM block
    with LF line ends (CR LF gives 527, L3); a PSK is a hex string."""
    if kind in PEM_TYPES:
        return "\r" not in content and content.lstrip().startswith("-----BEGIN ") and (
            "-----END " in content)
    if kind == 3:
        return len(content) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in content)
    return True


def _redact(line: bytes) -> bytes:
    """A command line for the transcript: the content of a private key or PSK write removed."""
    text = line.decode("latin-1")
    head = text.upper().replace(" ", "")
    if "%CMNG=0," in head:
        parts = text.split(",", 3)
        if len(parts) == 4 and parts[2].strip() in ("2", "3"):
            return (",".join(parts[:3]) + f',<redacted {len(parts[3])} bytes>').encode()
    return line


def factory(**options: Any) -> NordicSlmModem:
    """Make a :class:`NordicSlmModem` (the plug-in's ``virtual_modem`` loader returns this).

    Args:
        **options: ``model`` (``None``: nRF9160), ``guard_time``, ``latency``, ``clock``,
            ``baudrate`` and the options of :class:`NordicSlmModem`.

    Raises:
        KeyError: unknown model.
    """
    return NordicSlmModem(**options)
