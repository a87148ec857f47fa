"""The virtual Digi XBee 3 Cellular (``celltls sim xbee3 [--model lte-m|cat1]``).

Written from shared/reference/xbee3.md (section numbers §n and source ids D#/C#/L# below are
that page's), the seed thread 003 (L1) and the real logs of its §12, not from the driver.

**The line** (§2). The module is in Transparent (``AP=0``, the default), API (``AP=1``) or
escaped API (``AP=2``) mode. Command mode is entered with GT of silence, the CC character
(default ``+``) three times and GT of silence again; the module answers ``OK\\r`` (D5). Any byte
inside the trailing guard time cancels the sequence and the ``+`` are data. Every response
ends in CR only, there is no echo. A command line is ``AT`` + two characters + an optional
value + CR, several comma-separated (``ATNIMy XBee,AC``); a space after the name is accepted
too (§2: a simulator should accept both). Numbers are hexadecimal in and out (``0x`` prefix
accepted; reads without leading zeros). Reading prints the value, writing prints ``OK``, an
unknown command or bad value prints ``ERROR``. Changes take effect on ``AC``, ``CN`` or the CT
timeout (CT x 100 ms of silence, default 10 s); ``WR`` keeps them in NVM, which a reset
(``FR``, :meth:`reboot`) reloads; ``RE`` restores the defaults (not written until ``WR``).

**API mode** (§6-8): 0x08/0x09 AT commands (binary values; 0x88 responses with status 0-3),
0x8A modem status (0x00 on reset, 0x02/0x03 on registration), 0x20 and 0x23 TX requests
(implicit sockets, 0xB0 receive, 0x89 TX status), the extended sockets 0x40-0x46 with their
0xC0-0xC6 responses, 0xCD receive and 0xCF status frames; real TCP and TLS.

**Transparent mode** (§9): the first data bytes open ``IP``/``DL``/``DE`` (``IP=4``: TLS with
profile ``$0``); received bytes go to the serial line raw; ``CI`` tells what happened (0xFF
until data was sent, 0x00 open, else the failure, §4); ``OD`` the live destination. Changing
``IP``, ``DL`` or ``DE``, or writing ``TM``, closes the connection.

**TLS** (§10): versions and suites limited to RSA key exchange AES-256-CBC (L2); a client key
must be an unencrypted PKCS#1 RSA key (``BEGIN RSA PRIVATE KEY``, D3 p.101); no SNI (the
module resolves the name and connects to the address); the CA file of a profile must hold one
certificate and be the root the chain ends at (a site's own certificate fails, as in L1); an
empty CA field gives an encrypted, unauthenticated session; host names are not checked
(§14: unknown, so not claimed). Profiles ``$0``-``$2`` are ``ca;client_cert;client_key`` paths
relative to ``/flash/cert``.

**Files** (§5): ``ATFS`` (see :mod:`celltls.dialects.xbee3.modem_fs`), YMODEM upload with
``PUT``/``XPUT`` and download with ``GET`` (not of secure files), ``HASH``, ``LS``, ``RM``,
``MV``, ``MD``, ``CD``, ``PWD``, ``INFO``, ``FORMAT confirm``; the file system is flash, kept
across resets (and in ``nvram_path``).

Choices where the reference says "unknown": ``IP`` default 1 (TCP), ``TL`` codes 0 SSL 3.0,
1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2 (default 3, XCTU shows "TLSv1.2"); ``CT`` range 2-0x1770;
``AN``/``DL`` at most 100 characters; 6 sockets; ``HV`` two bytes (hardware code, revision 0);
UDP sockets are real UDP on 127.0.0.1 (0x46 binds a UDP socket there; TCP listening answers
0xC6 status 0x02, not simulated); Transparent mode with ``IP=0`` sends each chunk of serial
data as one datagram (RO packetisation is not simulated);
0x08 with ``FS`` answers status 2 (ATFS only in command mode, §5); ``TM``/``TS`` idle timeouts
are kept but not enforced (units unknown, §14).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from celltls.dialects.xbee3.modem_frames import FrameReader, encode_frame
from celltls.dialects.xbee3.modem_fs import (
    FileSystem,
    FsError,
    StoredFile,
    YModemReceiver,
    YModemSender,
)
from celltls.dialects.xbee3.modem_net import (
    Failure,
    NetSocket,
    TlsConfigError,
    UdpEndpoint,
    failure_of,
    resolve_ipv4,
)
from celltls.sim.engine import ATEngine
from celltls.sim.network import (
    Connection,
    ContextBuild,
    TcpConnection,
    TlsConnection,
    TlsOpenError,
    build_client_context,
)

__all__ = ["MODELS", "XBee3Modem", "factory"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """What differs between the simulated variants (§1 HV codes, §2 HS values, §4 CI)."""

    name: str
    hardware: int  # HV high byte
    hs: int  # HS hardware series
    firmware: int  # VR
    ci_tls_failure_cat1: bool  # Cat 1 firmware reported 0x26 for a TLS failure (L1)


#: The simulated variants: ``lte-m`` (XBee3 LTE-M AT&T, HV 0x4B, HS B08, firmware 11415) and
#: ``cat1`` (XBee3 Cat 1 AT&T, HV 0x49, HS B06, firmware 3100C).
MODELS = {
    "lte-m": ModelInfo("lte-m", 0x4B, 0xB08, 0x11415, False),
    "cat1": ModelInfo("cat1", 0x49, 0xB06, 0x3100C, True),
}

#: TL code -> TLS version (choice, see the module docstring).
TL_VERSIONS = {0: "SSLv3", 1: "TLSv1", 2: "TLSv1.1", 3: "TLSv1.2"}
#: RSA key exchange, AES-256-CBC: what L2's module offered.
CIPHER_SUITES = (0x0035, 0x003D)
MAX_SOCKETS = 6
MAX_PAYLOAD = 1500
MAX_UDP_PAYLOAD = 512
CERT_DIR = "/flash/cert"

# AT response status (D2 p.252)
AT_OK, AT_ERROR, AT_INVALID_COMMAND, AT_INVALID_PARAMETER = 0, 1, 2, 3


@dataclass(frozen=True)
class Param:
    """A settable parameter: hex number (``lo``-``hi``, ``width`` bytes in API mode) or string."""

    kind: str  # "hex" or "str"
    default: int | str
    lo: int = 0
    hi: int = 0
    width: int = 1
    max_len: int = 100


PARAMS: dict[str, Param] = {
    "AP": Param("hex", 0, 0, 5),
    "BD": Param("hex", 3, 0, 0xEC400, 4),
    "GT": Param("hex", 0x3E8, 2, 0x6D3, 2),
    "CC": Param("hex", 0x2B, 0, 0xFF),
    "CT": Param("hex", 0x64, 2, 0x1770, 2),
    "AN": Param("str", ""),
    "IP": Param("hex", 1, 0, 4),
    "DL": Param("str", "0.0.0.0"),
    "DE": Param("hex", 0, 0, 0xFFFF, 2),
    "TL": Param("hex", 3, 0, 3),
    "TM": Param("hex", 0x64, 0, 0xFFFF, 2),
    "TS": Param("hex", 0x64, 0, 0xFFFF, 2),
    "C0": Param("hex", 0, 0, 0xFFFF, 2),
    "RO": Param("hex", 3, 0, 0xFF),
    "DO": Param("hex", 0, 0, 0xFF),
    "MO": Param("hex", 6, 0, 0xFF),
    "AM": Param("hex", 0, 0, 1),
    "NI": Param("str", " ", max_len=20),
    "$0": Param("str", ";;", max_len=200),
    "$1": Param("str", ";;", max_len=200),
    "$2": Param("str", ";;", max_len=200),
    "$D": Param("str", "/flash/cert/digi-remote-mgr.pem", max_len=200),
}

#: AP values that are no mode (§3: 3 is "n/a").
_INVALID_AP = {3}


class AtFailure(Exception):
    """An AT command failed with API status ``status`` (1 ERROR, 2 invalid command, 3 bad
    parameter); command mode prints ``ERROR``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class XBee3Modem(ATEngine):
    """A virtual XBee 3 Cellular Smart Modem.

    Args:
        model: ``"lte-m"`` (default) or ``"cat1"`` (:data:`MODELS`).
        guard_time: the GT guard time at power-up, seconds (the module's default is 1 s; tests
            use less); written to ``GT`` in milliseconds (2-0x6D3, D2 ``r_cmd_gt``).
        latency: network round-trip time added to each connection, seconds.
        api_mode: the ``AP`` value in NVM at power-up (0 Transparent, 1 API, 2 escaped API).
        nvram_path: a JSON file keeping NVM (parameters after ``WR``) and the file system
            across processes.
        connect_timeout: limit of one TCP connect plus TLS handshake, seconds.
        registration_delay: seconds from power-up to ``AI`` 0x00 (``AI`` reads 0x22, then
            0x23, before; 0: connected at once).
        network_apn: when given, the APN the network accepts: with another ``AN`` the module
            stays at ``AI`` 0x23 (connecting to the Internet, §4) and opens no socket.
        **kwargs: passed to :class:`~celltls.sim.engine.ATEngine` (``imei``, ``clock``...).

    Raises:
        ValueError: unknown model.
    """

    def __init__(
        self,
        *,
        model: str = "lte-m",
        guard_time: float = 1.0,
        latency: float = 0.0,
        api_mode: int = 0,
        nvram_path: str | Path | None = None,
        connect_timeout: float = 20.0,
        registration_delay: float = 0.0,
        network_apn: str | None = None,
        **kwargs: Any,
    ) -> None:
        key = model.lower()
        if key not in MODELS:
            raise ValueError(f"unknown XBee 3 model {model!r}; known: {', '.join(MODELS)}")
        self.info = MODELS[key]
        self.nvram_path = Path(nvram_path) if nvram_path is not None else None
        self.connect_timeout = connect_timeout
        self.registration_delay = registration_delay
        self.network_apn = network_apn
        self.defaults: dict[str, int | str] = {n: p.default for n, p in PARAMS.items()}
        self.defaults["GT"] = max(2, min(0x6D3, round(guard_time * 1000)))
        self.nvm: dict[str, int | str] = dict(self.defaults)
        self.nvm["AP"] = api_mode
        self.fs = FileSystem()
        self.params: dict[str, int | str] = {}
        self.sockets: dict[int, NetSocket] = {}
        self.transparent: NetSocket | None = None
        self.last_failure: Failure | None = None
        self._timers: list[threading.Timer] = []
        self._generation = 0
        kwargs.setdefault("imei", "351234567890123")
        super().__init__(manufacturer="Digi International", model=f"XBee3 Cellular {key}",
                         revision=f"{self.info.firmware:X}", guard_time=guard_time,
                         latency=latency, **kwargs)
        self._load_nvram()
        self._power_up()

    # ------------------------------------------------------------------ state
    def _power_up(self) -> None:
        """The state after power-up or a reset (lock held or during construction)."""
        self._generation += 1
        self.params = dict(self.nvm)
        self.changed: set[str] = set()
        self.op_mode = int(self.params["AP"])
        self.command_mode = False
        self.fs.cwd = "/flash"  # ATFS starts in /flash (§5)
        self.reader = FrameReader(escaped=self.op_mode == 2)
        self.ymodem: YModemReceiver | YModemSender | None = None
        self._ymodem_secure = False
        self._line_buf = bytearray()
        self._held = bytearray()
        self._held_frames: list[bytes] = []
        self._cc_count = 0
        self._last_rx = time.monotonic()
        self._esc_gen = 0
        self._ct_gen = 0
        self._ct_pending = -1
        self._ct_deadline = 0.0
        self._ct_fire_at = 0.0
        self.ci = 0xFF
        self.shut_down = False
        self._next_port = 0xC000
        self.ai = 0x00 if self.registration_delay <= 0 else 0xFF
        self._modem_status(0x00)
        if self.registration_delay > 0:
            generation = self._generation
            self._later(self.registration_delay / 2, lambda: self._set_ai(generation, 0x23))
            self._later(self.registration_delay, lambda: self._set_ai(generation, 0x00))
        else:
            self._modem_status(0x02)

    def _apn_ok(self) -> bool:
        return self.network_apn is None or str(self.params["AN"]) == self.network_apn

    def _online(self) -> bool:
        """Whether the module has an Internet connection (``AI`` 0x00, §4)."""
        return self.ai == 0x00 and not self.shut_down and self._apn_ok()

    def _set_ai(self, generation: int, value: int) -> None:
        with self.lock:
            if generation != self._generation or self.shut_down:
                return
            self.ai = value
            if value == 0x00:
                self._modem_status(0x02)

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(delay, action)
        timer.daemon = True
        self._timers = [t for t in self._timers if t.is_alive()]
        self._timers.append(timer)
        timer.start()

    def on_reboot(self) -> None:
        """A reset (``FR``, a fault): connections drop, RAM settings return to NVM (§2)."""
        self._close_all_sockets(report=False)
        self._power_up()

    def shutdown(self) -> None:
        """Stop timers and close every connection (the server stops)."""
        with self.lock:
            self._generation += 1
            self._esc_gen += 1
            self._ct_gen += 1
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            self._close_all_sockets(report=False)
        super().shutdown()

    def _load_nvram(self) -> None:
        if self.nvram_path is None or not self.nvram_path.exists():
            return
        stored = json.loads(self.nvram_path.read_text())
        for name, value in stored.get("params", {}).items():
            if name in PARAMS:
                self.nvm[name] = value
        for path, item in stored.get("files", {}).items():
            self.fs.files[path] = StoredFile(bytes.fromhex(item["hex"]), bool(item["secure"]))
        self.fs.dirs |= set(stored.get("dirs", []))

    def _save_nvram(self) -> None:
        if self.nvram_path is None:
            return
        payload = {
            "params": self.nvm,
            "files": {p: {"hex": f.data.hex(), "secure": f.secure}
                      for p, f in self.fs.files.items()},
            "dirs": sorted(self.fs.dirs),
        }
        self.nvram_path.write_text(json.dumps(payload, indent=1))

    # ------------------------------------------------------------------ output
    def _out(self, text: str) -> None:
        """One command-mode response line: text + CR (§2)."""
        self._emit(text.encode("latin-1") + b"\r")

    def send_frame(self, data: bytes) -> None:
        """Write one API frame (escaped when ``AP=2``); nothing outside API mode.

        While the line is in command mode the frame waits (the line carries command responses)
        and goes out when command mode ends, if the module is still in API mode.
        """
        with self.lock:
            if self.op_mode not in (1, 2):
                return
            if self.command_mode:
                self._held_frames.append(data)
            else:
                self._emit(encode_frame(data, escaped=self.op_mode == 2))

    def _modem_status(self, status: int) -> None:
        if self.op_mode in (1, 2):
            self.send_frame(bytes([0x8A, status]))

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes) -> None:
        """Process bytes written by the host (any split): command mode, escape sequence,
        transparent data or API frames, YMODEM during ``ATFS PUT``."""
        with self.lock:
            if self.keep_transcript:
                if self.ymodem is not None and self._ymodem_secure:
                    # a secure upload carries a private key: never recorded (FORMAT.md)
                    self.transcript.append((">", f"<redacted {len(data)} bytes>".encode()))
                else:
                    self.transcript.append((">", data))
            now = time.monotonic()
            silence = now - self._last_rx
            self._last_rx = now
            self._esc_gen += 1  # any byte cancels a pending escape sequence
            out = bytearray()
            for index, byte in enumerate(data):
                if self.ymodem is not None:
                    self.ymodem.feed(data[index:])
                    break
                if self.command_mode:
                    self._command_byte(byte)
                    continue
                cc = int(self.params["CC"])
                guard = int(self.params["GT"]) / 1000.0
                if byte == cc and self._cc_count < 3 and (self._cc_count or silence >= guard):
                    self._cc_count += 1
                    silence = 0.0
                    continue
                if self._cc_count:
                    out += bytes([cc]) * self._cc_count
                    self._cc_count = 0
                out.append(byte)
                silence = 0.0
            if out:
                self._data(bytes(out))
            if self._cc_count == 3 and not self.command_mode:
                generation = self._esc_gen
                self._later(int(self.params["GT"]) / 1000.0,
                            lambda: self._escape_done(generation))
            elif self._cc_count and not self.command_mode:
                generation = self._esc_gen
                self._later(int(self.params["GT"]) / 1000.0,
                            lambda: self._escape_broken(generation))
            if self.command_mode and self.ymodem is None:
                self._arm_ct()

    def _escape_broken(self, generation: int) -> None:
        # fewer than three CC characters followed by silence: they were data
        with self.lock:
            if generation != self._esc_gen or not self._cc_count or self.command_mode:
                return
            cc = int(self.params["CC"])
            count, self._cc_count = self._cc_count, 0
            self._data(bytes([cc]) * count)

    def _escape_done(self, generation: int) -> None:
        with self.lock:
            if generation != self._esc_gen or self._cc_count != 3 or self.command_mode:
                return
            self._cc_count = 0
            self.command_mode = True
            self._line_buf.clear()
            self._out("OK")
            self._arm_ct()

    def _arm_ct(self) -> None:
        """(Re)start the CT count-down: one timer at a time, pushed back by new input."""
        self._ct_deadline = time.monotonic() + int(self.params["CT"]) / 10.0
        if self._ct_pending == self._ct_gen and self._ct_fire_at <= self._ct_deadline:
            return  # a timer of this command-mode session runs; it reads the new deadline
        self._ct_pending = self._ct_gen
        self._ct_fire_at = self._ct_deadline
        generation = self._ct_gen
        self._later(self._ct_deadline - time.monotonic(), lambda: self._ct_expired(generation))

    def _ct_expired(self, generation: int) -> None:
        with self.lock:
            if generation != self._ct_gen or not self.command_mode:
                return
            left = self._ct_deadline - time.monotonic()
            if left > 0 or self.ymodem is not None:
                self._ct_fire_at = time.monotonic() + max(left, 0.05)
                self._later(max(left, 0.05), lambda: self._ct_expired(generation))
                return
            self._ct_pending = -1
            self._leave_command_mode()

    def _leave_command_mode(self) -> None:
        self.command_mode = False
        self._ct_gen += 1
        self._line_buf.clear()
        self._apply()
        held, self._held = bytes(self._held), bytearray()
        if held and self.op_mode == 0:
            self._emit(held)
        frames, self._held_frames = self._held_frames, []
        for data in frames:
            self.send_frame(data)

    def _data(self, data: bytes) -> None:
        if self.op_mode in (1, 2):
            for frame in self.reader.feed(data):
                self._frame(frame)
        elif self.op_mode == 0:
            self._transparent_data(data)

    # ------------------------------------------------------------------ command mode
    def _command_byte(self, byte: int) -> None:
        if byte != 0x0D:
            if len(self._line_buf) < 1024:
                self._line_buf.append(byte)
            return
        line = bytes(self._line_buf).decode("latin-1").strip()
        self._line_buf.clear()
        if line:
            self._command_line(line)

    def _command_line(self, line: str) -> None:
        if line[:2].upper() != "AT":
            self._out("ERROR")
            return
        body = line[2:]
        if not body.strip():
            self._out("OK")
            return
        parts = [body] if body[:2].upper() == "FS" else body.split(",")
        for part in parts:
            name = part[:2].upper()
            value = part[2:]
            if value.startswith(" ") and name != "FS":
                value = value[1:]
            try:
                lines = self._command_mode_command(name, value)
            except AtFailure as exc:
                log.debug("AT%s: %s", part, exc)
                self._out("ERROR")
                return
            except FsError as exc:
                self._out(exc.line)
                return
            for text in lines:
                self._out(text)
            if not self.command_mode or self.ymodem is not None:
                return

    def _command_mode_command(self, name: str, value: str) -> list[str]:
        if name == "FS":
            return self._fs_command(value)
        if name == "CN":
            self._out("OK")
            self._leave_command_mode()
            return []
        if name in PARAMS:
            spec = PARAMS[name]
            if value == "":
                current = self.params[name]
                return [f"{current:X}" if isinstance(current, int) else str(current)]
            if spec.kind == "hex":
                text = value.strip()
                if text[:2].lower() == "0x":
                    text = text[2:]
                try:
                    number = int(text, 16)
                except ValueError as exc:
                    raise AtFailure(AT_INVALID_PARAMETER, f"not hex: {value!r}") from exc
                self._set(name, number)
            else:
                self._set(name, value)
            return ["OK"]
        result = self._action(name, value, api=False)
        if isinstance(result, list):
            return result
        if isinstance(result, int):
            return [f"{result:X}"]
        return [result]

    def _set(self, name: str, value: int | str) -> None:
        spec = PARAMS[name]
        if spec.kind == "hex":
            if not isinstance(value, int) or not spec.lo <= value <= spec.hi:
                raise AtFailure(AT_INVALID_PARAMETER, f"{name} out of range")
            if name == "AP" and value in _INVALID_AP:
                raise AtFailure(AT_INVALID_PARAMETER, "AP 3 is not a mode")
            if name == "BD" and 0xA < value < 0x4B0:
                raise AtFailure(AT_INVALID_PARAMETER, "BD out of range")
        else:
            if not isinstance(value, str) or len(value) > spec.max_len:
                raise AtFailure(AT_INVALID_PARAMETER, f"{name} too long")
            if name.startswith("$") and value.count(";") > 2:
                raise AtFailure(AT_INVALID_PARAMETER, "a profile has three fields")
        self.params[name] = value
        self.changed.add(name)
        if name == "TM":
            self.changed.add("TM!")  # writing TM closes the connection even if unchanged (C3)

    def _apply(self) -> None:
        """Apply pending changes (``AC``, ``CN``, CT timeout, §2)."""
        changed, self.changed = self.changed, set()
        if changed & {"IP", "DL", "DE", "TM!"} and self.transparent is not None:
            self._close_transparent()
        mode = int(self.params["AP"])
        if mode != self.op_mode:
            if self.op_mode == 0 and self.transparent is not None:
                self._close_transparent()
            self.op_mode = mode
            self.reader = FrameReader(escaped=mode == 2)
        elif "AP" in changed:
            self.reader.reset()

    # ------------------------------------------------------------------ actions
    def _action(self, name: str, value: str | bytes, api: bool) -> list[str] | int | str:
        """Commands that are not plain parameters; ``api`` selects binary forms."""
        if name == "AC":
            self._apply()
            return "OK"
        if name == "WR":
            self.nvm = dict(self.params)
            self._save_nvram()
            return "OK"
        if name == "RE":
            self.params = dict(self.defaults)
            self.changed |= set(PARAMS)
            return "OK"
        if name == "FR":
            generation = self._generation
            self._later(0.1, lambda: self._delayed_reboot(generation))
            return "OK"
        if name == "SD":
            self._close_all_sockets(report=True)
            self.shut_down = True
            self.ai = 0x2D
            return "OK"
        if name in ("AI", "CI", "DB", "HS", "VR", "HV", "SH", "SL"):
            return self._numeric_read(name)
        if name == "IM":
            return self.imei
        if name == "S#":
            return "89014103211118510720"
        if name == "II":
            return "310410123456789"
        if name == "MN":
            return "AT&T" if self.ai == 0x00 else ""
        if name in ("MY", "OD"):
            if name == "MY":
                address = "10.64.0.2" if self._online() else "0.0.0.0"
            else:
                live = self.transparent
                connected = live is not None and live.state == "connected"
                address = live.remote_ip if live is not None and connected else "0.0.0.0"
            return address
        if name == "LA":
            host = value.decode("latin-1") if isinstance(value, bytes) else value
            if not host or not self._online():
                raise AtFailure(AT_ERROR, "no host or not connected")
            try:
                return resolve_ipv4(host.strip())
            except TlsOpenError as exc:
                raise AtFailure(AT_ERROR, exc.reason) from exc
        if name == "SI":
            if isinstance(value, bytes):  # API: the socket ID is one binary byte (§2)
                value = f"{value[0]:X}" if value else ""
            return self._socket_info(value)
        raise AtFailure(AT_INVALID_COMMAND, f"unknown command {name}")

    def _numeric_read(self, name: str) -> int:
        if name == "AI":
            if self.shut_down:
                return 0x2D
            if int(self.params["AM"]) == 1:
                return 0x2A
            if self.op_mode == 5:
                return 0x2F
            if self.ai == 0x00 and not self._apn_ok():
                return 0x23  # registered, but no Internet connection with this APN
            return self.ai
        if name == "CI":
            return self.ci
        if name == "DB":
            return 0x41 if self.ai == 0x00 else 0
        if name == "HS":
            return self.info.hs
        if name == "VR":
            return self.info.firmware
        if name == "HV":
            return self.info.hardware << 8
        if name == "SH":
            return 0x0013A200
        return int(self.imei[-8:]) & 0xFFFFFFFF  # SL

    def _delayed_reboot(self, generation: int) -> None:
        with self.lock:
            if generation == self._generation:
                self.reboot()

    def _socket_info(self, value: str) -> list[str]:
        """``ATSI`` (D1p p.243): IDs, one per line, ``*`` after implicit ones, then a blank
        line; with an ID: ID, state, protocol, local port, remote port, remote address."""
        names = {0: "UDP", 1: "TCP", 4: "TLS"}
        states = {"allocated": "Allocated", "connecting": "Connecting",
                  "connected": "Connected", "closed": "Closing"}
        if not value.strip():
            lines = [f"{s.sid:X}" + ("*" if s.kind == "implicit" else "")
                     for s in sorted(self.sockets.values(), key=lambda s: s.sid)]
            return [*lines, ""]
        try:
            sock = self.sockets[int(value.strip(), 16)]
        except (ValueError, KeyError) as exc:
            raise AtFailure(AT_INVALID_PARAMETER, "no such socket") from exc
        state = states[sock.state]
        if sock.state == "allocated" and sock.udp is not None:
            state = "Bound"
        return [f"{sock.sid:X}", state, names.get(sock.protocol, "?"),
                f"{sock.local_port:X}", f"{sock.remote_port:X}", sock.remote_ip or "0.0.0.0",
                ""]

    # ------------------------------------------------------------------ file system
    def _fs_command(self, value: str) -> list[str]:
        words = value.split()
        verb = words[0].upper() if words else ""
        if verb in ("PUT", "XPUT"):
            if len(words) != 2:
                raise FsError("EINVAL", "one file name expected")
            target = self.fs.resolve(words[1])
            if not self.fs.parent_exists(target) or target in self.fs.dirs:
                raise FsError("ENOENT", "no such directory")
            self._out("Receiving file with YMODEM...")
            secure = verb == "XPUT"

            def done(data: bytes | None) -> None:
                self.ymodem = None
                if data is None:
                    self._out("ECANCELED transfer cancelled")
                else:
                    try:
                        self.fs.write(target, data, secure)
                        self._save_nvram()
                        self._out("OK")
                    except FsError as exc:
                        self._out(exc.line)
                self._arm_ct()

            self._ymodem_secure = secure
            self.ymodem = YModemReceiver(self._emit, done)
            self.ymodem.start()
            return []
        if verb == "GET":
            if len(words) != 2:
                raise FsError("EINVAL", "one file name expected")
            source = self.fs.resolve(words[1])
            stored = self.fs.read(source)
            if stored is None:
                raise FsError("ENOENT", "no such file")
            if stored.secure:
                raise FsError("EACCES", "secure file")  # secure files cannot be read (§5)
            self._out("Sending file with YMODEM...")

            def sent(complete: bool) -> None:
                self.ymodem = None
                self._out("OK" if complete else "ECANCELED transfer cancelled")
                self._arm_ct()

            self._ymodem_secure = False
            self.ymodem = YModemSender(source.rsplit("/", 1)[1], stored.data, self._emit, sent)
            self.ymodem.start()
            return []
        lines = self.fs.command(value)
        if verb in ("RM", "MV", "MD", "FORMAT"):
            self._save_nvram()
        return lines

    # ------------------------------------------------------------------ API frames
    def _frame(self, frame: bytes) -> None:
        kind = frame[0]
        handlers: dict[int, Callable[[bytes], None]] = {
            0x08: self._api_at,
            0x09: self._api_at,
            0x20: self._api_tx,
            0x23: self._api_tx,
            0x40: self._api_create,
            0x41: self._api_option,
            0x42: self._api_connect,
            0x43: self._api_close,
            0x44: self._api_send,
            0x45: self._api_send,
            0x46: self._api_bind,
        }
        handler = handlers.get(kind)
        if handler is None:
            log.debug("API frame type 0x%02X ignored", kind)
            return
        if len(frame) < 2:
            return
        handler(frame)

    def _api_at(self, frame: bytes) -> None:
        if len(frame) < 4:
            return
        frame_id = frame[1]
        command = frame[2:4]
        name = command.decode("latin-1").upper()
        value = frame[4:]
        status = AT_OK
        reply = b""
        try:
            if name != "AC":
                reply = self._api_command(name, value)
        except AtFailure as exc:
            status = exc.status
            log.debug("API AT%s: %s", name, exc)
        if frame_id:
            self.send_frame(bytes([0x88, frame_id]) + command + bytes([status]) + reply)
        # 0x08 applies at once, 0x09 waits for AC (§7); the response goes out in the old mode
        if status == AT_OK and (frame[0] == 0x08 or name == "AC"):
            self._apply()

    def _api_command(self, name: str, value: bytes) -> bytes:
        if name in ("FS", "CN"):
            raise AtFailure(AT_INVALID_COMMAND, f"AT{name} is not taken in API mode")
        if name in PARAMS:
            spec = PARAMS[name]
            if not value:
                current = self.params[name]
                if isinstance(current, int):
                    return current.to_bytes(max(spec.width, (current.bit_length() + 7) // 8),
                                            "big")
                return current.encode("latin-1")
            if spec.kind == "hex":
                if len(value) > 8:
                    raise AtFailure(AT_INVALID_PARAMETER, "value too long")
                self._set(name, int.from_bytes(value, "big"))
            else:
                self._set(name, value.decode("latin-1"))
            return b""
        result = self._action(name, value, api=True)
        if name in ("MY", "OD", "LA") and isinstance(result, str):
            return ipaddress.IPv4Address(result).packed
        if isinstance(result, int):
            width = {"SH": 4, "SL": 4, "VR": 4, "HV": 2, "HS": 2}.get(name, 1)
            return result.to_bytes(max(width, (result.bit_length() + 7) // 8), "big")
        if isinstance(result, list):
            return "\r".join(result).encode("latin-1")
        return b"" if result == "OK" else result.encode("latin-1")

    # implicit sockets (0x20 / 0x23) ---------------------------------------------------
    def _api_tx(self, frame: bytes) -> None:
        if len(frame) < 12:
            return
        frame_id = frame[1]
        ip = str(ipaddress.IPv4Address(frame[2:6]))
        port = int.from_bytes(frame[6:8], "big")
        source_port = int.from_bytes(frame[8:10], "big")
        selector = frame[10]
        options = frame[11]
        payload = frame[12:]
        tls = frame[0] == 0x23
        protocol, profile = (4, selector) if tls else (selector, 0)

        def status(code: int) -> None:
            if frame_id:
                self.send_frame(bytes([0x89, frame_id, code]))

        if not self._online() or self.shut_down:
            status(0x22)
            return
        if len(payload) > MAX_PAYLOAD:
            status(0x74)
            return
        if tls and profile > 2:
            status(0x86)
            return
        if protocol not in (0, 1, 4):
            status(0x7B)
            return
        if port == 0:
            status(0x78 if protocol == 0 else 0x79)
            return
        if protocol == 0 and len(payload) > MAX_UDP_PAYLOAD:
            status(0x74)  # UDP in 0x20 is at most 512 bytes on LTE-M/NB-IoT (§6, D1p p.256)
            return
        sock: NetSocket | None = None
        for candidate in self.sockets.values():
            if candidate.kind != "implicit" or candidate.state == "closed":
                continue
            if source_port and candidate.local_port == source_port:
                sock = candidate
                break
            if (not source_port and candidate.remote_ip == ip and candidate.remote_port == port
                    and candidate.protocol == protocol and candidate.profile == profile):
                sock = candidate
                break
        if sock is None and source_port:
            status(0x20)
            return
        if sock is None:
            sid = self._free_id()
            if sid is None:
                status(0x32)
                return
            sock = NetSocket(sid, protocol, "implicit", profile=profile,
                             local_port=self._take_port(), remote_ip=ip, remote_port=port)
            self.sockets[sid] = sock
            if protocol == 0:
                if self._udp_open(sock, 0) != 0x00:
                    del self.sockets[sid]
                    status(0x31)
                    return
                sock.state = "connected"
            else:
                self._start_connect(sock, ip, port)
        if protocol == 0:
            if self.take_send_fault():
                status(0x21)
                return
            assert sock.udp is not None
            try:
                sock.udp.send(payload, ip, port)
            except OSError:
                status(0x21)
                return
            status(0x00)
            if options & 0x02:
                self._free(sock)
            return
        if self.take_send_fault():
            status(0x21)
            return
        self._queue_send(sock, payload, status, close_after=bool(options & 0x02))

    def _take_port(self) -> int:
        self._next_port = 0xC000 + ((self._next_port - 0xC000 + 1) % 0x3FFF)
        return self._next_port

    def _free_id(self) -> int | None:
        for sid in range(MAX_SOCKETS):
            if sid not in self.sockets:
                return sid
        return None

    # extended sockets (0x40-0x46) -------------------------------------------------------
    def _api_create(self, frame: bytes) -> None:
        if len(frame) < 3:
            return
        frame_id, protocol = frame[1], frame[2]

        def answer(sid: int, status: int) -> None:
            self.send_frame(bytes([0xC0, frame_id, sid, status]))  # 0x40 always answers

        if not self._online() or self.shut_down:
            answer(0xFF, 0x22)
            return
        if protocol not in (0, 1, 4):
            answer(0xFF, 0x7B)
            return
        sid = self._free_id()
        if sid is None:
            answer(0xFF, 0x32)
            return
        self.sockets[sid] = NetSocket(sid, protocol, "extended", local_port=self._take_port())
        answer(sid, 0x00)

    def _api_option(self, frame: bytes) -> None:
        if len(frame) < 4:
            return
        frame_id, sid, option, data = frame[1], frame[2], frame[3], frame[4:]
        sock = self.sockets.get(sid)
        status, reply = 0x00, b""
        if sock is None or sock.kind != "extended":
            status = 0x20
        elif option != 0x00 or sock.protocol != 4:
            status = 0x01
        elif not data:
            reply = bytes([sock.profile])
        elif len(data) != 1 or data[0] > 2 or sock.state != "allocated":
            status = 0x01
        else:
            sock.profile = data[0]
        if frame_id:
            self.send_frame(bytes([0xC1, frame_id, sid, option, status]) + reply)

    def _api_connect(self, frame: bytes) -> None:
        if len(frame) < 6:
            return
        frame_id, sid = frame[1], frame[2]
        port = int.from_bytes(frame[3:5], "big")
        kind, address = frame[5], frame[6:]

        def answer(status: int) -> None:
            if frame_id:
                self.send_frame(bytes([0xC2, frame_id, sid, status]))

        sock = self.sockets.get(sid)
        if sock is None or sock.kind != "extended":
            answer(0x20)
            return
        if kind not in (0, 1):
            answer(0x01)
            return
        if sock.state == "connecting":
            answer(0x03)
            return
        if sock.state == "connected":
            answer(0x04)
            return
        if kind == 0:
            if len(address) != 4:
                answer(0x02)
                return
            host = str(ipaddress.IPv4Address(address))
        else:
            host = address.decode("latin-1")
            if not host or any(c <= " " or c > "~" for c in host):
                answer(0x02)
                return
        if port == 0:
            answer(0x02)
            return
        answer(0x00)
        if sock.protocol == 0:
            self._udp_connect(sock, host, port)
        else:
            self._start_connect(sock, host, port)

    def _api_close(self, frame: bytes) -> None:
        if len(frame) < 3:
            return
        frame_id, sid = frame[1], frame[2]
        status = 0x00
        if sid == 0xFF:
            for each in [s for s in self.sockets.values() if s.kind == "extended"]:
                self._free(each)
        else:
            sock = self.sockets.get(sid)
            if sock is None:
                status = 0x20
            else:
                self._free(sock)
        if frame_id:
            self.send_frame(bytes([0xC3, frame_id, sid, status]))

    def _api_send(self, frame: bytes) -> None:
        if len(frame) < 4:
            return
        frame_id, sid = frame[1], frame[2]
        payload = frame[4:] if frame[0] == 0x44 else frame[10:]

        def status(code: int) -> None:
            if frame_id:
                self.send_frame(bytes([0x89, frame_id, code]))

        sock = self.sockets.get(sid)
        if sock is None or sock.kind != "extended":
            status(0x20)
            return
        if len(payload) > MAX_PAYLOAD:
            status(0x74)
            return
        if sock.protocol == 0:
            self._udp_send(sock, frame, payload, status)
            return
        if sock.state != "connected":
            status(0x87)
            return
        if self.take_send_fault():
            status(0x21)
            return
        self._queue_send(sock, payload, status, close_after=False)

    def _udp_connect(self, sock: NetSocket, host: str, port: int) -> None:
        """0x42 on a UDP socket: the default destination; 0xCF 0x00, or 0x01 DNS failure."""
        sock.state = "connecting"

        def job() -> None:
            try:
                ip = resolve_ipv4(host)
            except TlsOpenError as exc:
                with self.lock:
                    self._connect_failed(sock, failure_of(exc))
                return
            with self.lock:
                if sock.state == "closed":
                    return
                if sock.udp is None and self._udp_open(sock, 0) != 0x00:
                    self._connect_failed(sock, Failure("udp bind failed", 0x05, 0x31, 0x13,
                                                       0x13))
                    return
                sock.remote_ip, sock.remote_port = ip, port
                sock.state = "connected"
                if sock.kind == "extended":
                    self.send_frame(bytes([0xCF, sock.sid, 0x00]))

        sock.run(job)

    def _udp_send(self, sock: NetSocket, frame: bytes, payload: bytes,
                  status: Callable[[int], None]) -> None:
        """0x44/0x45 on a UDP socket (§8): 0x44 needs a connected socket; 0x45 a bound or
        connected one (a connected socket ignores the frame's address)."""
        if sock.state == "connected":
            ip, port = sock.remote_ip, sock.remote_port
        elif frame[0] == 0x45 and sock.udp is not None and len(frame) >= 10:
            ip = str(ipaddress.IPv4Address(frame[3:7]))
            port = int.from_bytes(frame[7:9], "big")
        else:
            status(0x87 if frame[0] == 0x44 else 0x88)
            return
        if port == 0:
            status(0x78)
            return
        if self.take_send_fault():
            status(0x21)
            return
        assert sock.udp is not None
        try:
            sock.udp.send(payload, ip, port)
        except OSError:
            status(0x21)
            return
        status(0x00)

    def _api_bind(self, frame: bytes) -> None:
        if len(frame) < 3:
            return
        frame_id, sid = frame[1], frame[2]
        sock = self.sockets.get(sid)
        if sock is None or sock.kind != "extended" or len(frame) < 5:
            status = 0x20
        elif sock.protocol != 0:
            status = 0x02  # TCP listening is not simulated
        elif sock.udp is not None:
            status = 0x03
        else:
            port = int.from_bytes(frame[3:5], "big")
            status = self._udp_open(sock, port) if port else 0x01
        if frame_id:
            self.send_frame(bytes([0xC6, frame_id, sid, status]))

    def _udp_open(self, sock: NetSocket, port: int) -> int:
        """Give a UDP socket its endpoint on ``port`` (0: any); the 0xC6 status (§8)."""
        try:
            sock.udp = UdpEndpoint(port, lambda data, ip, src: self._datagram(sock, data, ip,
                                                                              src))
        except OSError as exc:
            log.debug("xbee3 UDP bind %s: %s", port, exc)
            return 0x02
        sock.local_port = sock.udp.local_port
        return 0x00

    def _datagram(self, sock: NetSocket, data: bytes, ip: str, port: int) -> None:
        """A datagram arrived: 0xCD on a connected UDP socket, 0xCE (source address and
        port) on a bound one, 0xB0 on an implicit one (§7, §8)."""
        with self.lock:
            if sock.state == "closed":
                return
            data = data[:MAX_PAYLOAD]
            source = ipaddress.IPv4Address(ip).packed + port.to_bytes(2, "big")
            if sock.kind == "transparent":
                if self.command_mode:
                    self._held += data
                else:
                    self._emit(data)
                return
            if sock.kind == "implicit":
                self.send_frame(bytes([0xB0]) + source[:4] + sock.local_port.to_bytes(2, "big")
                                + source[4:] + b"\x00\x00" + data)
            elif sock.state == "connected":
                self.send_frame(bytes([0xCD, 0x00, sock.sid, 0x00]) + data)
            else:
                self.send_frame(bytes([0xCE, 0x00, sock.sid]) + source + b"\x00" + data)

    # ------------------------------------------------------------------ network
    def _tls_build(self, profile: int) -> ContextBuild:
        """The client context of TLS profile ``$<profile>`` (§3 ``$n`` fields, §10).

        Raises:
            TlsConfigError: a named file is missing or unusable.
            TlsOpenError: no allowed version or suite in the host's OpenSSL.
        """
        fields = [*str(self.params[f"${profile}"]).split(";"), "", "", ""][:3]
        blobs: list[bytes | None] = []
        for name in fields:
            name = name.strip()
            if not name:
                blobs.append(None)
                continue
            try:
                path = self.fs.resolve(name, base=CERT_DIR)
            except FsError as exc:
                raise TlsConfigError(f"bad path {name!r}") from exc
            stored = self.fs.read(path)
            if stored is None:
                raise TlsConfigError(f"{path} does not exist")
            blobs.append(stored.data)
        ca, cert, key = blobs
        if ca is not None:
            try:
                certs = x509.load_pem_x509_certificates(ca)
            except ValueError as exc:
                raise TlsConfigError("the CA file is not a PEM certificate") from exc
            if len(certs) != 1:
                raise TlsConfigError("the CA file must hold exactly one certificate")
        # the client key must be an unencrypted PKCS#1 RSA key (§10, D3 p.101)
        if key is not None and (b"-----BEGIN RSA PRIVATE KEY-----" not in key
                                or b"ENCRYPTED" in key):
            raise TlsConfigError("the client key is not an unencrypted PKCS#1 RSA key")
        if (cert is None) != (key is None):
            raise TlsConfigError("a client certificate needs its key and the key its certificate")
        verify = "none" if ca is None else ("mutual" if cert and key else "server")
        version = TL_VERSIONS.get(int(self.params["TL"]), "TLSv1.2")
        return build_client_context(versions=[version], suites=CIPHER_SUITES, verify=verify,
                                    ca_pem=ca, client_cert_pem=cert, client_key_pem=key)

    def _start_connect(self, sock: NetSocket, host: str, port: int) -> None:
        """Open ``sock`` to ``host``:``port`` on its worker (lock held)."""
        sock.state = "connecting"
        sock.remote_port = port
        build: ContextBuild | None = None
        config_error: Exception | None = None
        if sock.protocol == 4:
            try:
                build = self._tls_build(sock.profile)
            except (TlsConfigError, TlsOpenError) as exc:
                config_error = exc
        clock = self.now()

        def job() -> None:
            conn: Connection | None = None
            error: Exception | None = config_error
            if error is None:
                try:
                    ip = resolve_ipv4(host)
                    with self.lock:
                        sock.remote_ip = ip
                    if build is not None:
                        conn = TlsConnection.open(ip, port, build, timeout=self.connect_timeout,
                                                  latency=self.latency, clock=clock)
                    else:
                        conn = TcpConnection.open(ip, port, timeout=self.connect_timeout,
                                                  latency=self.latency)
                except TlsOpenError as exc:
                    error = exc
            with self.lock:
                if sock.state == "closed":
                    if conn is not None:
                        conn.close()
                    return
                if error is not None or conn is None:
                    self._connect_failed(sock, failure_of(error or TlsOpenError("unknown")))
                    return
                sock.conn = conn
                sock.state = "connected"
                if sock.kind == "extended":
                    self.send_frame(bytes([0xCF, sock.sid, 0x00]))
                conn.start(lambda data: self._received(sock, data),
                           lambda reason: self._peer_closed(sock, reason))

        sock.run(job)

    def _connect_failed(self, sock: NetSocket, failure: Failure) -> None:
        log.info("xbee3 socket %s: %s", sock.sid, failure.reason)
        self.last_failure = failure
        sock.failure = failure
        if sock.kind == "extended":
            self.send_frame(bytes([0xCF, sock.sid, failure.cf]))
            self._free(sock)
        elif sock.kind == "implicit":
            self._free(sock, keep_worker=True)
        else:
            self.ci = failure.ci_cat1 if self.info.ci_tls_failure_cat1 else failure.ci_lte_m
            if sock.protocol == 0:
                self.ci = 0x22  # UDP table: unknown server (DNS failed) (§4)
            sock.close()
            if self.transparent is sock:
                self.transparent = None

    def _queue_send(self, sock: NetSocket, payload: bytes, status: Callable[[int], None],
                    *, close_after: bool) -> None:
        def job() -> None:
            with self.lock:
                conn = sock.conn
                failure = sock.failure
            if conn is None:
                with self.lock:
                    status(failure.tx if failure is not None else 0x87)
                return
            try:
                conn.send(payload)
            except OSError:
                with self.lock:
                    status(0x76)
                return
            with self.lock:
                status(0x00)
                if close_after:
                    self._free(sock)

        sock.run(job)

    def _received(self, sock: NetSocket, data: bytes) -> None:
        with self.lock:
            if sock.state != "connected":
                return
            if sock.kind == "transparent":
                if self.command_mode:
                    self._held += data  # the line carries command responses now
                else:
                    self._emit(data)
                return
            for start in range(0, len(data), MAX_PAYLOAD):
                chunk = data[start:start + MAX_PAYLOAD]
                if sock.kind == "extended":
                    self.send_frame(bytes([0xCD, 0x00, sock.sid, 0x00]) + chunk)
                else:
                    head = (ipaddress.IPv4Address(sock.remote_ip).packed
                            + sock.local_port.to_bytes(2, "big")
                            + sock.remote_port.to_bytes(2, "big")
                            + bytes([sock.protocol, 0x00]))
                    self.send_frame(bytes([0xB0]) + head + chunk)

    def _peer_closed(self, sock: NetSocket, reason: str) -> None:
        with self.lock:
            if sock.state == "closed":
                return
            log.debug("xbee3 socket %s closed: %s", sock.sid, reason)
            if sock.kind == "extended":
                self.send_frame(bytes([0xCF, sock.sid, 0x07]))
                self._free(sock)
            elif sock.kind == "implicit":
                self._free(sock)
            else:
                self.ci = 0x27  # connection lost (§4): the server closed or the link failed
                self._close_transparent()

    def _free(self, sock: NetSocket, *, keep_worker: bool = False) -> None:
        if self.sockets.get(sock.sid) is sock:
            del self.sockets[sock.sid]
        if keep_worker:
            # queued sends still report their TX status (the failure) before the worker ends
            sock.state = "closed"
            sock.run(sock.close)
        else:
            sock.close()

    def _close_all_sockets(self, *, report: bool, status: int = 0x0E) -> None:
        for sock in list(self.sockets.values()):
            if report and sock.kind == "extended" and sock.state != "closed":
                self.send_frame(bytes([0xCF, sock.sid, status]))
            self._free(sock)
        if self.transparent is not None:
            self._close_transparent()

    # transparent mode --------------------------------------------------------------
    def _transparent_data(self, data: bytes) -> None:
        sock = self.transparent
        if sock is None or sock.state == "closed":
            if not self._online() or self.shut_down:
                self.ci = 0x22
                return
            protocol = int(self.params["IP"])
            if protocol not in (0, 1, 4):
                self.ci = 0x03
                return
            host = str(self.params["DL"]).strip()
            port = int(self.params["DE"])
            if not host or host == "0.0.0.0" or port == 0:
                self.ci = 0x02
                return
            sock = NetSocket(-1, protocol, "transparent", profile=0)
            self.transparent = sock
            if protocol == 0:
                self._udp_connect(sock, host, port)
            else:
                self._start_connect(sock, host, port)
        if sock.protocol == 0:
            self._transparent_datagram(sock, data)
            return

        def job() -> None:
            with self.lock:
                conn = sock.conn
            if conn is None:
                return  # the connection failed: CI holds why; the data is lost (§9)
            try:
                conn.send(data)
            except OSError:
                with self.lock:
                    self.ci = 0x01
                return
            with self.lock:
                if self.ci == 0xFF or sock.state == "connected":
                    self.ci = 0x00

        sock.run(job)

    def _transparent_datagram(self, sock: NetSocket, data: bytes) -> None:
        """IP=0: each chunk of serial data goes out as one datagram to DL:DE (§9); CI follows
        the UDP table (§4: 0x00 sent, 0x01 could not send)."""
        def job() -> None:
            with self.lock:
                if sock.state != "connected" or sock.udp is None:
                    return  # the lookup failed: CI holds why
                try:
                    sock.udp.send(data, sock.remote_ip, sock.remote_port)
                    self.ci = 0x00
                except OSError:
                    self.ci = 0x01

        sock.run(job)

    def _close_transparent(self) -> None:
        sock, self.transparent = self.transparent, None
        if sock is not None:
            sock.close()

    # ------------------------------------------------------------------ faults
    def on_registration_lost(self) -> None:
        """Registration lost: ``AI`` 0x22, modem status 0x03, every socket closed (0xCF 0x0E,
        "PDP context deactivated", C1)."""
        self.ai = 0x22
        if self.transparent is not None:
            self.ci = 0x22  # no network registration (§4 CI table)
        self._modem_status(0x03)
        self._close_all_sockets(report=True)

    def on_pdp_deactivated(self) -> None:
        """The network deactivates the PDP context: sockets close (0xCF 0x0E, C1)."""
        self._close_all_sockets(report=True)

    def restore_registration(self, stat: int = 1) -> None:
        """Register again: ``AI`` 0x00 and modem status 0x02 (§4)."""
        super().restore_registration(stat)
        with self.lock:
            self.ai = 0x00
            self._modem_status(0x02)

    def on_server_close(self, socket_id: int) -> None:
        """Make the server side of socket ``socket_id`` (-1: the transparent connection) drop.

        Raises:
            ValueError: no such open connection.
        """
        sock = self.transparent if socket_id == -1 else self.sockets.get(socket_id)
        if sock is None or sock.conn is None:
            raise ValueError(f"no connection {socket_id}")
        sock.conn.abort()


def factory(**options: Any) -> XBee3Modem:
    """Make an :class:`XBee3Modem` (the dialect's ``virtual_modem`` loader returns this).

    Args:
        **options: :class:`XBee3Modem`'s keyword arguments; ``model=None`` means the default.

    Raises:
        ValueError: unknown model.
    """
    options = {k: v for k, v in options.items() if v is not None or k != "model"}
    return XBee3Modem(**options)
