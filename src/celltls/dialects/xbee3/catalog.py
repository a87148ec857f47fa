"""The Digi XBee 3 Cellular dialect as data: command-mode parameters, status tables, API frames,
file system commands and command-mode timing.

Every entry names its source. Keys: ``XB-REF`` is shared/reference/xbee3.md (its sections are
written ``XB-REF 3``); that page's own source ids follow in parentheses where one fact rests on
one of them (``D1`` the LTE-M/NB-IoT user guide 90002258, ``D2`` the LTE Cat 1 AT&T guide
90002253, ``D3`` the older LTE-M guide, ``C1`` digi-xbee, ``C2`` xbee_ansic_library...).

XBee command mode is not V.250: a command is ``AT`` + two characters + the value glued on
(``ATDE1BB``), numbers in hexadecimal, answers end in CR alone, a read answers the bare value and
no ``OK`` (XB-REF 2). So :class:`Parameter` (not :class:`~celltls.dialects.spec.Form`) encodes
values here: :func:`command_line` for command mode, :func:`binary_value` for API frame 0x08. The
:data:`CATALOG` commands keep one :class:`~celltls.dialects.spec.Form` per parameter for the
doctor's decoder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from celltls.at.quoting import check_text
from celltls.dialects.spec import Catalog, Command, Form, Param, ParamError
from celltls.errors import UnsafeArgumentError

DIALECT = "xbee3"
SOURCES = MappingProxyType({"XB-REF": "shared/reference/xbee3.md"})

# --------------------------------------------------------------------------------------------
# Command mode timing and line format (XB-REF 2)

#: Command-mode line terminator, both directions (XB-REF 2 "Line ending: CR only", D2 p.140).
CR = b"\r"
#: Default command character ``CC`` (XB-REF 2, D1 CC page).
DEFAULT_CC = 0x2B
#: ``GT`` guard time: range 0x2-0x6D3 ms, default 0x3E8 = 1 s (XB-REF 2, D2 r_cmd_gt).
GT_RANGE_MS = (0x2, 0x6D3)
DEFAULT_GT_MS = 0x3E8
#: ``CT`` command-mode timeout: default 10 s, unit 100 ms (XB-REF 2, D1p p.123; C3 0x64).
DEFAULT_CT_S = 10.0
CT_UNIT_S = 0.1
#: Answer to entering command mode and to a set (XB-REF 2, D5).
OK = "OK"
#: Answer to a bad command or value (XB-REF 2, D2 p.140).
ERROR = "ERROR"
#: An ATFS failure line: ``E`` + upper-case letters/digits, a space, text (XB-REF 5, C1 regex).
#: Use :func:`fs_error`, not this pattern alone: an ``ATFS HASH`` answer whose digest starts
#: with ``E`` (one file in 16) matches it too.
FS_ERROR = re.compile(r"^(?:.*\s)?(E[A-Z0-9]+)(?: .*)?\s*$")
#: The ``ATFS HASH`` answer: ``sha256`` then the 64 hex digits of the file's SHA-256 (XB-REF 5;
#: C1 splits the reply on ``sha256``).
FS_HASH = re.compile(r"(?i:sha256)\s*([0-9A-Fa-f]{64})\b")


def fs_error(line: str) -> str | None:
    """The ATFS error line ``line`` is (stripped), or ``None`` when it is none: a line of the
    C1 error shape that is in fact an ``ATFS HASH`` digest (``sha256 E5EF...``, whose hex
    word starts with ``E``) is not an error (XB-REF 5)."""
    line = line.strip()
    if not line or FS_HASH.search(line) or not FS_ERROR.match(line):
        return None
    return line

# --------------------------------------------------------------------------------------------
# Value tables

#: ``IP`` protocol values (XB-REF 3: D1 CI tables, D3 p.101, C3); 3 is listed nowhere.
IP_PROTOCOLS = MappingProxyType({0: "UDP", 1: "TCP", 2: "SMS", 4: "TLS over TCP (profile $0)"})
IP_TLS = 4
#: Protocol 1 of the 0x40 socket create frame: plain TCP (xbee3.md S8).
IP_TCP = 1
#: ``AP`` API mode values (XB-REF 3, D1p p.247, C3).
AP_MODES = MappingProxyType({
    0: "Transparent", 1: "API", 2: "API with escaped characters (UART only)",
    4: "MicroPython REPL", 5: "Bypass (raw cellular chip)"})
#: ``BD`` codes -> bits per second (XB-REF 3, D1 r_cmd_bd_cellular); custom 0x4B0-0xEC400 too.
BAUD_RATES = MappingProxyType({
    0x0: 1200, 0x1: 2400, 0x2: 4800, 0x3: 9600, 0x4: 19200, 0x5: 38400, 0x6: 57600,
    0x7: 115200, 0x8: 230400, 0x9: 460800, 0xA: 921600})
BD_CUSTOM_RANGE = (0x4B0, 0xEC400)

#: ``CI`` for IP = 1 or 4 (TCP/TLS) (XB-REF 4, D1 r_cmd_ci_cellular).
CI_TCP = MappingProxyType({
    0x00: "socket open", 0x01: "tried to send but could not",
    0x02: "invalid parameters (bad IP or host)", 0x03: "TCP not supported by the component",
    0x10: "not registered to the cell network", 0x11: "cellular component not identified yet",
    0x12: "DNS lookup failure", 0x13: "socket leak", 0x20: "bad handle", 0x21: "user closed",
    0x22: "no network registration", 0x23: "no internet connection",
    0x24: "no server (timed out on connection)", 0x25: "unknown server (DNS lookup failed)",
    0x26: "connection refused", 0x27: "connection lost", 0x28: "unknown",
    0x2F: "TLS socket authentication error", 0xFF: "no known status",
})
#: ``CI`` for IP = 0 (UDP) (XB-REF 4, D1).
CI_UDP = MappingProxyType({
    0x00: "socket open", 0x01: "tried to send but could not", 0x02: "invalid parameters",
    0x10: "not registered", 0x11: "cellular component not identified yet",
    0x12: "DNS lookup failure", 0x13: "socket leak", 0x20: "bad handle", 0x21: "user closed",
    0x22: "unknown server (DNS failed)", 0x23: "connection lost", 0x24: "unknown",
    0xFF: "no known status",
})
#: ``CI`` for IP = 2 (SMS); the rest of D1's table is cut off (XB-REF 4).
CI_SMS = MappingProxyType({
    0x00: "sent", 0x01: "failed", 0x02: "bad parameters (check P#)", 0x03: "not supported",
    0x10: "not registered", 0x11: "stack error", 0x12: "modem update in progress",
})
#: ``CI`` value before any data was sent on a new socket: no status yet (XB-REF 4 notes, C3, L3).
CI_NO_STATUS = 0xFF

#: ``AI`` association / Internet status (XB-REF 4: C1, C3, D2 p.186).
AI_STATUS = MappingProxyType({
    0x00: "connected to the Internet", 0x22: "registering to the cellular network",
    0x23: "connecting to the Internet", 0x24: "cellular component missing or corrupt",
    0x25: "registration denied", 0x2A: "airplane mode", 0x2B: "USB Direct active",
    0x2C: "cellular component in PSM", 0x2D: "modem shut down", 0x2E: "low-voltage shutdown",
    0x2F: "Bypass mode active", 0x30: "upgrade in process",
    0x31: "regulatory testing enabled", 0xFF: "initializing",
})
#: AI values after which waiting longer helps (XB-REF 4).
AI_TRANSIENT = frozenset({0x22, 0x23, 0xFF, 0x30})

#: 0x8A modem status (XB-REF 4, D1 r_frame_0x8a_cell).
MODEM_STATUS = MappingProxyType({
    0x00: "hardware reset or power-up", 0x01: "watchdog reset",
    0x02: "registered with cellular network", 0x03: "unregistered with cellular network",
    0x0E: "Remote Manager connected", 0x0F: "Remote Manager disconnected",
    0x32: "BLE connect", 0x33: "BLE disconnect", 0x34: "bandmask configuration failed",
    0x35: "cellular component update started", 0x36: "cellular component update failed",
    0x37: "cellular component update completed", 0x38: "XBee firmware update started",
    0x39: "XBee firmware update failed", 0x3A: "XBee firmware update applying",
})
#: 0x8A statuses that mean the module restarted (XB-REF 4).
MODEM_RESET = frozenset({0x00, 0x01})

#: 0x88 AT command response status (XB-REF 7, D2 p.252); C2 masks it with 0x0F.
AT_STATUS = MappingProxyType({0: "OK", 1: "ERROR", 2: "invalid command", 3: "invalid parameter"})

#: 0x89 TX status (XB-REF 7, D1 r_frame_0x89_cell; 0x77, 0x89, 0x8A from C1/C2 only).
TX_STATUS = MappingProxyType({
    0x00: "success", 0x20: "connection not found", 0x21: "failure to transmit to cell network",
    0x22: "not registered to cell network", 0x2C: "invalid frame values",
    0x31: "internal error", 0x32: "resource error (socket or pending-send limit), retry later",
    0x74: "message too long", 0x76: "socket closed unexpectedly",
    0x77: "no TCP connection to that address and port", 0x78: "invalid UDP port",
    0x79: "invalid TCP port", 0x7A: "invalid host address", 0x7B: "invalid data mode",
    0x7C: "invalid interface", 0x7D: "interface not accepting frames",
    0x7E: "modem update in progress", 0x80: "connection refused",
    0x81: "socket connection lost", 0x82: "no server", 0x83: "socket closed",
    0x84: "unknown server", 0x85: "unknown error",
    0x86: "invalid TLS configuration (missing file, bad profile or certificate)",
    0x87: "socket not connected", 0x88: "socket not bound",
    0x89: "socket inactivity timeout", 0x8A: "PDP context deactivated by network",
    0x8B: "TLS socket authentication error",
})

#: 0xC0 Socket Create response status (XB-REF 8, D2 p.267).
CREATE_STATUS = MappingProxyType({
    0x00: "success", 0x22: "not registered to cell network", 0x31: "internal error",
    0x32: "resource error (socket limit)", 0x7B: "invalid protocol",
    0x7E: "modem update in progress", 0x85: "unknown error",
    0x86: "invalid TLS configuration"})
#: 0xC1 Socket Option response status (XB-REF 8, D1).
OPTION_STATUS = MappingProxyType({
    0x00: "success", 0x01: "invalid parameters", 0x02: "failed to read", 0x20: "bad socket ID",
    0x86: "invalid TLS configuration"})
#: 0xC2 Socket Connect response status: 0 means *started*; 0xCF carries the result (XB-REF 8).
CONNECT_STATUS = MappingProxyType({
    0x00: "connect started", 0x01: "invalid destination address type",
    0x02: "invalid destination address or port", 0x03: "already in progress",
    0x04: "already connected", 0x05: "unknown error", 0x20: "bad socket ID"})
#: 0xC3 Socket Close response status (XB-REF 8, D1).
CLOSE_STATUS = MappingProxyType({0x00: "success", 0x20: "bad socket ID"})
#: 0xC6 Socket Bind/Listen response status (XB-REF 8, D1).
BIND_STATUS = MappingProxyType({
    0x00: "success", 0x01: "invalid port", 0x02: "error",
    0x03: "already bound or listening", 0x20: "bad socket ID"})
#: 0xCF Socket Status: any non-zero value closes the socket and frees its ID (XB-REF 8, D2
#: p.281; 0x0B from C1/C2, 0x0C-0x0E from C1 only).
SOCKET_STATUS = MappingProxyType({
    0x00: "connected", 0x01: "DNS lookup failed", 0x02: "connection refused",
    0x03: "transport closed", 0x04: "timed out", 0x05: "internal error",
    0x06: "host unreachable", 0x07: "connection lost (peer closed)", 0x08: "unknown error",
    0x09: "unknown server", 0x0A: "resource error", 0x0B: "listener closed",
    0x0C: "connection reset by peer", 0x0D: "closed by inactivity timeout",
    0x0E: "PDP context deactivated",
})
#: 0xCF values that are an orderly end of the stream, not a failure (XB-REF 8).
SOCKET_STATUS_EOF = frozenset({0x03, 0x07})
#: Socket protocols of 0x40 (XB-REF 8).
SOCKET_PROTOCOLS = MappingProxyType({0: "UDP", 1: "TCP", 4: "TLS"})
#: Socket option ids of 0x41: 0x00 TLS profile index, 1 byte, TLS sockets only (XB-REF 8, D2 p.268).
SOCKET_OPTIONS = MappingProxyType({0x00: "TLS profile (1 byte, 0-2 = $0-$2)"})
OPTION_TLS_PROFILE = 0x00
#: 0x42 address types (XB-REF 8).
ADDRESS_IPV4 = 0
ADDRESS_NAME = 1
#: 0x43 socket id that closes every extended socket (XB-REF 8).
ALL_SOCKETS = 0xFF
#: Largest payload of one data frame (0x44, 0xCD...), bytes (XB-REF 6, 8).
MAX_PAYLOAD = 1500
#: TLS profiles ``$0``-``$2`` (XB-REF 10).
TLS_PROFILES = 3

# --------------------------------------------------------------------------------------------
# API frames (XB-REF 6, 7, 8)

FRAME_DELIMITER = 0x7E
ESCAPE = 0x7D
XON = 0x11
XOFF = 0x13
#: Bytes sent as ``0x7D, byte ^ 0x20`` in API mode 2, everywhere after the delimiter (XB-REF 6).
ESCAPED_BYTES = frozenset({FRAME_DELIMITER, ESCAPE, XON, XOFF})
ESCAPE_XOR = 0x20


@dataclass(frozen=True)
class FrameField:
    """One field of an API frame after the type byte.

    Attributes:
        name: field name (``"frame_id"``).
        size: bytes; ``None`` for the variable-length rest of the frame (payload, string).
        description: meaning, with units.
    """

    name: str
    size: int | None
    description: str


@dataclass(frozen=True)
class FrameType:
    """One API frame type.

    Attributes:
        code: the type byte.
        name: Digi's name for it.
        direction: ``"host"`` (host to module) or ``"module"``.
        fields: the fields after the type byte, in order (big-endian numbers).
        response: the type byte of the answer, when there is one.
        source: reference section and source id.
    """

    code: int
    name: str
    direction: Literal["host", "module"]
    fields: tuple[FrameField, ...]
    response: int | None
    source: str


def _f(name: str, size: int | None, description: str) -> FrameField:
    return FrameField(name, size, description)


_FID = _f("frame_id", 1, "frame ID; 0 suppresses the answer (not for 0x40)")
_SID = _f("socket_id", 1, "socket ID from 0xC0")
_ST = _f("status", 1, "status code")

FRAME_TYPES: Mapping[int, FrameType] = MappingProxyType({t.code: t for t in (
    FrameType(0x08, "AT Command", "host", (
        _FID, _f("command", 2, "two ASCII characters"),
        _f("value", None, "binary value; empty = read")), 0x88, "XB-REF 6, 7 (C2 atcmd.h)"),
    FrameType(0x09, "AT Command - Queue Parameter Value", "host", (
        _FID, _f("command", 2, "two ASCII characters"),
        _f("value", None, "binary value, applied at AC")), 0x88, "XB-REF 7 (C2)"),
    FrameType(0x20, "TX Request: IPv4", "host", (
        _FID, _f("address", 4, "destination IPv4"), _f("dest_port", 2, "destination port"),
        _f("source_port", 2, "source port (0 = any)"),
        _f("protocol", 1, "0 UDP, 1 TCP, 4 TLS ($0)"), _f("options", 1, "bit 1: close after"),
        _f("payload", None, "data, bytes")), 0x89, "XB-REF 7 (C2 ipv4.h, D1p p.256)"),
    FrameType(0x23, "TX Request with TLS Profile", "host", (
        _FID, _f("address", 4, "destination IPv4"), _f("dest_port", 2, "destination port"),
        _f("source_port", 2, "source port (0 = reuse or open)"),
        _f("profile", 1, "TLS profile 0-2 ($0-$2)"), _f("options", 1, "bit 1: close after"),
        _f("payload", None, "data, bytes")), 0x89, "XB-REF 7 (D1 r_frame_0x23, C4)"),
    FrameType(0x40, "Socket Create", "host", (
        _f("frame_id", 1, "frame ID (always answered)"),
        _f("protocol", 1, "0 UDP, 1 TCP, 4 TLS")), 0xC0, "XB-REF 8 (D2 p.267)"),
    FrameType(0x41, "Socket Option Request", "host", (
        _FID, _SID, _f("option", 1, "option ID (0x00 TLS profile)"),
        _f("value", None, "option data; empty = query")), 0xC1, "XB-REF 8 (D1)"),
    FrameType(0x42, "Socket Connect", "host", (
        _FID, _SID, _f("dest_port", 2, "destination port"),
        _f("address_type", 1, "0 IPv4 (4 bytes), 1 text (dotted quad or name)"),
        _f("address", None, "destination")), 0xC2, "XB-REF 8 (D1)"),
    FrameType(0x43, "Socket Close", "host", (
        _FID, _f("socket_id", 1, "socket ID, 0xFF = all")), 0xC3, "XB-REF 8 (D1)"),
    FrameType(0x44, "Socket Send", "host", (
        _FID, _SID, _f("options", 1, "reserved, 0"),
        _f("payload", None, "data, at most 1500 bytes")), 0x89, "XB-REF 8 (D1)"),
    FrameType(0x45, "Socket SendTo", "host", (
        _FID, _SID, _f("address", 4, "destination IPv4"), _f("dest_port", 2, "port"),
        _f("options", 1, "reserved, 0"), _f("payload", None, "data")), 0x89, "XB-REF 8 (D1)"),
    FrameType(0x46, "Socket Bind/Listen", "host", (
        _FID, _SID, _f("port", 2, "local port")), 0xC6, "XB-REF 8 (D1)"),
    FrameType(0x88, "AT Command Response", "module", (
        _FID, _f("command", 2, "two ASCII characters"),
        _f("status", 1, "0 OK, 1 ERROR, 2 invalid command, 3 invalid parameter"),
        _f("value", None, "binary value (reads only)")), None, "XB-REF 7 (D2 p.252)"),
    FrameType(0x89, "TX Status", "module", (_FID, _ST), None, "XB-REF 7 (D1 r_frame_0x89)"),
    FrameType(0x8A, "Modem Status", "module", (_ST,), None, "XB-REF 4 (D1 r_frame_0x8a)"),
    FrameType(0xB0, "RX IPv4", "module", (
        _f("address", 4, "source IPv4"), _f("dest_port", 2, "local port"),
        _f("source_port", 2, "remote port"), _f("protocol", 1, "0 UDP, 1 TCP, 4 TLS"),
        _f("status", 1, "reserved"), _f("payload", None, "data")), None,
        "XB-REF 7 (D1 r_frame_0xb0)"),
    FrameType(0xC0, "Socket Create Response", "module", (
        _FID, _f("socket_id", 1, "new socket ID, 0xFF on error"), _ST), None,
        "XB-REF 8 (D2 p.267)"),
    FrameType(0xC1, "Socket Option Response", "module", (
        _FID, _SID, _f("option", 1, "option ID"), _ST,
        _f("value", None, "option data (queries)")), None, "XB-REF 8 (D1)"),
    FrameType(0xC2, "Socket Connect Response", "module", (_FID, _SID, _ST), None,
              "XB-REF 8 (D1)"),
    FrameType(0xC3, "Socket Close Response", "module", (_FID, _SID, _ST), None,
              "XB-REF 8 (D1)"),
    FrameType(0xC6, "Socket Bind/Listen Response", "module", (_FID, _SID, _ST), None,
              "XB-REF 8 (D1)"),
    FrameType(0xCC, "Socket New IPv4 Client", "module", (
        _f("listen_id", 1, "listening socket"), _f("socket_id", 1, "new socket"),
        _f("address", 4, "remote IPv4"), _f("port", 2, "remote port")), None,
        "XB-REF 8 (D2 p.177)"),
    FrameType(0xCD, "Socket Receive", "module", (
        _f("frame_id", 1, "0"), _SID, _f("status", 1, "reserved"),
        _f("payload", None, "data, at most 1500 bytes")), None, "XB-REF 8 (D2 p.279)"),
    FrameType(0xCE, "Socket Receive From", "module", (
        _f("frame_id", 1, "0"), _SID, _f("address", 4, "source IPv4"),
        _f("port", 2, "source port"), _f("status", 1, "reserved"),
        _f("payload", None, "data")), None, "XB-REF 8 (D2 p.280)"),
    FrameType(0xCF, "Socket Status", "module", (_SID, _ST), None, "XB-REF 8 (D2 p.281)"),
)})

# --------------------------------------------------------------------------------------------
# Command-mode parameters (XB-REF 2, 3)

ValueKind = Literal["hex", "text", "profile", "exec", "fs"]


@dataclass(frozen=True)
class Parameter:
    """One XBee AT command / parameter.

    Attributes:
        name: the two characters after ``AT`` (``"DE"``, ``"$0"``).
        title: what it is.
        kind: ``"hex"`` (a number written in hexadecimal text, binary big-endian in API
            frames), ``"text"`` (ASCII glued to the name), ``"profile"`` (``ca;cert;key`` file
            names), ``"exec"`` (no value: ``AC``, ``WR``, ``CN``...), ``"fs"`` (``ATFS``).
        range: inclusive bounds of a hex value.
        values: meaning of each defined value.
        default: documented default, when known.
        max_len: longest text, bytes, when known.
        unit: ``"ms"``, ``"100 ms"``...
        writable: whether a host may set it (``AI``, ``CI``, ``OD`` are read-only).
        source: reference section and source id.
    """

    name: str
    title: str
    kind: ValueKind
    source: str
    range: tuple[int, int] | None = None
    values: Mapping[int, str] = field(default_factory=dict)
    default: int | str | None = None
    max_len: int | None = None
    unit: str | None = None
    writable: bool = True

    def encode(self, value: int | str) -> str:
        """The value as written after ``AT<name>`` in command mode.

        Args:
            value: ``int`` for ``"hex"`` parameters (written in upper-case hex, no ``0x``),
                ``str`` for text and profile parameters.

        Returns:
            str: e.g. ``"1BB"`` for ``DE`` 443, ``"ca.pem;;"`` for ``$0``.

        Raises:
            ParamError: (an :class:`~celltls.errors.UnsafeArgumentError`) wrong type, out of
                :attr:`range`, a value the parameter cannot be set to, text holding a control
                character, non-ASCII, a comma (the XBee command separator, XB-REF 2) or, for
                ``"profile"`` values, a file name that breaks the file system's rules (XB-REF 5).
        """
        if not self.writable or self.kind in ("exec", "fs"):
            raise ParamError(self.name, str(value), f"AT{self.name} takes no value",
                             problem="unexpected")
        if self.kind == "hex":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParamError(self.name, repr(value),
                                 f"AT{self.name} takes an integer (written in hex)",
                                 problem="format")
            if self.range is not None and not self.range[0] <= value <= self.range[1]:
                raise ParamError(self.name, str(value),
                                 f"AT{self.name} {value} (0x{value:X}) is out of range "
                                 f"0x{self.range[0]:X}-0x{self.range[1]:X} ({self.source})",
                                 problem="range")
            if self.values and self.range is None and value not in self.values:
                raise ParamError(self.name, str(value), f"AT{self.name} {value} is not one of "
                                 f"{sorted(self.values)}", problem="value")
            return format(value, "X")
        if not isinstance(value, str):
            raise ParamError(self.name, repr(value), f"AT{self.name} takes text",
                             problem="format")
        try:
            check_text(value, self.name, max_len=self.max_len)
        except UnsafeArgumentError as exc:
            raise ParamError(self.name, value, exc.reason, problem="unsafe") from None
        if "," in value:
            raise ParamError(self.name, value, f"AT{self.name}: a comma separates XBee commands "
                             "on one line (XB-REF 2) and cannot be part of a value",
                             problem="unsafe")
        if value != value.strip():
            raise ParamError(self.name, value, f"AT{self.name}: leading or trailing blanks",
                             problem="unsafe")
        if self.kind == "profile":
            parts = value.split(";")
            if len(parts) != 3:
                raise ParamError(self.name, value, f"AT{self.name} is 'ca;client cert;client "
                                 "key' (three fields, any empty) (XB-REF 3 $n, D3 p.100)",
                                 problem="format")
            for part in parts:
                if part:
                    check_path(part, self.name)
        return value

    def decode(self, text: str) -> int | str:
        """A command-mode answer (the bare value line) as a value: ``int`` for hex, else text.

        Raises:
            ValueError: a hex parameter answered something that is not hexadecimal.
        """
        if self.kind == "hex":
            return int(text.strip(), 16)
        return text


_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def check_path(path: str, field_name: str = "path") -> str:
    """Check a file-system path against the XBee rules: names of letters, digits, ``.``, ``-``,
    ``_`` up to 64 characters, ``/`` between them, 255 characters in all (XB-REF 5 Layout).

    Returns:
        str: ``path``.

    Raises:
        ParamError: the path breaks one of those rules.
    """
    if not path or len(path) > 255:
        raise ParamError(field_name, path, "a path is 1-255 characters (XB-REF 5)",
                         problem="length")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            continue
        if not _NAME.fullmatch(part):
            raise ParamError(field_name, path, f"file name {part!r}: letters, digits, '.', '-', "
                             "'_' only, at most 64 (XB-REF 5)", problem="unsafe")
    return path


def _hex(name: str, title: str, source: str, **kw: object) -> Parameter:
    return Parameter(name, title, "hex", source, **kw)  # type: ignore[arg-type]


def _text(name: str, title: str, source: str, **kw: object) -> Parameter:
    return Parameter(name, title, "text", source, **kw)  # type: ignore[arg-type]


def _exec(name: str, title: str, source: str) -> Parameter:
    return Parameter(name, title, "exec", source, writable=False)


PARAMETERS: Mapping[str, Parameter] = MappingProxyType({p.name: p for p in (
    _text("AN", "APN", "XB-REF 3 (C3, L1)"),
    _hex("IP", "socket protocol of Transparent mode and C0 sockets", "XB-REF 3 (D1, D3 p.101)",
         values=IP_PROTOCOLS),
    _text("DL", "Transparent-mode destination: dotted IPv4 or host name", "XB-REF 3 (D2 p.163)"),
    _hex("DE", "Transparent-mode destination port, hexadecimal (443 = 1BB)",
         "XB-REF 3 (L1, C3), 13 (pitfall 1)", range=(0, 0xFFFF)),
    _text("OD", "operating destination (0.0.0.0 when no connection)", "XB-REF 3 (D2 r_cmd_od)",
          writable=False),
    _hex("TL", "TLS protocol version (codes unknown)", "XB-REF 3 (D3 p.100), 14"),
    _hex("TM", "client socket idle timeout (units unknown)", "XB-REF 3 (D2 p.163), 14"),
    _hex("TS", "server socket idle timeout (units unknown)", "XB-REF 3 (D3 p.97), 14"),
    *(Parameter(f"${n}", f"TLS profile {n}: ca;client cert;client key (paths relative to "
                "/flash/cert)", "profile", "XB-REF 3 ($n fields, D3 p.100)", default=";;")
      for n in range(TLS_PROFILES)),
    _hex("C0", "local listening port in API mode", "XB-REF 3 (D1p p.147)", range=(0, 0xFFFF)),
    _hex("AP", "API mode", "XB-REF 3 (D1p p.247, C3)", values=AP_MODES, default=0),
    _hex("BD", "serial baud rate code", "XB-REF 3 (D1 r_cmd_bd_cellular)",
         range=(0, BD_CUSTOM_RANGE[1]), default=3),
    _hex("RO", "packetization timeout, character times", "XB-REF 3 (D2 r_cmd_ro)",
         range=(0, 0xFF), default=3),
    _hex("DO", "device options (bit 0 Remote Manager, bit 4 low-voltage shutdown)",
         "XB-REF 3 (D6, D1)"),
    _hex("MO", "Remote Manager options", "XB-REF 3 (D1 r_cmd_mo)", default=6),
    _text("$D", "Remote Manager CA file", "XB-REF 3 (D6)",
          default="/flash/cert/digi-remote-mgr.pem"),
    _hex("CI", "status of the last IP connection (read only)", "XB-REF 4 (D1)",
         values=CI_TCP, writable=False),
    _hex("AI", "association / Internet status (read only)", "XB-REF 4 (C1, C3)",
         values=AI_STATUS, writable=False),
    _hex("GT", "guard time before and after the escape sequence", "XB-REF 2 (D2 r_cmd_gt)",
         range=GT_RANGE_MS, default=DEFAULT_GT_MS, unit="ms"),
    _hex("CC", "command sequence character", "XB-REF 2 (D1 CC)", range=(0, 0xFF),
         default=DEFAULT_CC),
    _hex("CT", "command mode timeout", "XB-REF 2 (D1p p.123, C3)", unit="100 ms"),
    _text("SI", "socket information (read only)", "XB-REF 3 (D1p p.243)", writable=False),
    _text("HS", "hardware series (B06 XBee3 Cat 1 AT&T, B08 XBee3 LTE-M)", "XB-REF 2 (C3)",
          writable=False),
    _text("VR", "firmware version", "XB-REF 2 (C3)", writable=False),
    _text("HV", "hardware version", "XB-REF 2 (C3)", writable=False),
    _text("IM", "IMEI", "XB-REF 2 (C3)", writable=False),
    _text("S#", "ICCID", "XB-REF 2 (C3)", writable=False),
    _text("II", "IMSI", "XB-REF 2 (C3)", writable=False),
    _text("MN", "operator", "XB-REF 2 (C3)", writable=False),
    _text("MY", "own IP address", "XB-REF 2 (C3)", writable=False),
    _hex("DB", "signal strength, -dBm", "XB-REF 2 (C3)", writable=False, unit="-dBm"),
    _hex("AM", "airplane mode", "XB-REF 2 (C3)", values={0: "off", 1: "on"}),
    _text("LA", "DNS lookup of a host name", "XB-REF 2 (C3)"),
    _exec("AC", "apply changes", "XB-REF 2 (D2 p.140)"),
    _exec("WR", "write settings to flash (send nothing until OK)", "XB-REF 2 (D2 p.186)"),
    _exec("CN", "leave command mode", "XB-REF 2 (D1p p.123)"),
    _exec("FR", "software reset (~100 ms after OK)", "XB-REF 2 (C3)"),
    _exec("RE", "restore defaults (not written until WR)", "XB-REF 2 (C3)"),
    _hex("SD", "shut down (0) or reboot after shutdown (1)", "XB-REF 2 (D2 p.186)",
         range=(0, 1)),
    Parameter("FS", "file system command", "fs", "XB-REF 5 (D2 p.228)"),
)})


def parameter(name: str) -> Parameter:
    """The :class:`Parameter` called ``name`` (``"DE"``; case-insensitive).

    Raises:
        KeyError: no such parameter in the catalog.
    """
    key = name.upper()
    if key not in PARAMETERS:
        raise KeyError(f"xbee3 has no command AT{name}")
    return PARAMETERS[key]


def command_line(name: str, value: int | str | None = None) -> str:
    """The command-mode line (without its CR) that reads (``value`` ``None``) or sets
    ``name``: ``command_line("DE", 443) == "ATDE1BB"`` (XB-REF 2 Syntax: no ``=``, no ``?``).

    Raises:
        KeyError: unknown parameter. ParamError: see :meth:`Parameter.encode`.
    """
    param = parameter(name)
    if value is None:
        return f"AT{param.name}"
    return f"AT{param.name}{param.encode(value)}"


def binary_value(name: str, value: int | str) -> bytes:
    """The value of ``name`` as API frame 0x08 carries it: hex parameters as big-endian bytes
    (as few as hold the value, at least one), text as ASCII (XB-REF 2: "In API mode (0x08)
    parameters are binary").

    Raises:
        KeyError: unknown parameter. ParamError: see :meth:`Parameter.encode`.
    """
    param = parameter(name)
    text = param.encode(value)
    if param.kind == "hex":
        number = int(text, 16)
        return number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big")
    return text.encode("ascii")


def fs_line(subcommand: str, *args: str) -> str:
    """An ``ATFS`` line: ``fs_line("HASH", "cert/ca.pem") == "ATFS HASH cert/ca.pem"``
    (XB-REF 5: ATFS needs the space).

    Raises:
        ParamError: an unknown subcommand or a path that breaks the file-system rules.
    """
    if subcommand not in FS_COMMANDS:
        raise ParamError("FS", subcommand, f"not an ATFS command ({sorted(FS_COMMANDS)})",
                         problem="value")
    for arg in args:
        if subcommand != "FORMAT":
            check_path(arg, f"ATFS {subcommand}")
    return " ".join(("ATFS", subcommand, *args))


#: ATFS sub-commands (XB-REF 5, D2 p.228; MV and XPUT from C1).
FS_COMMANDS = MappingProxyType({
    "PWD": "print the current directory (/flash at start)",
    "CD": "change directory",
    "MD": "make a directory",
    "LS": "list a directory: '<size> name' or '<DIR> name/' lines, then a blank line",
    "PUT": "receive a file with YMODEM ('Receiving file with YMODEM...')",
    "XPUT": "receive a secure (write-only) file with YMODEM",
    "GET": "send a file with YMODEM ('Sending file with YMODEM...')",
    "RM": "remove a file or an empty directory",
    "MV": "rename",
    "HASH": "SHA-256 of a file, hex",
    "INFO": "volume information",
    "FORMAT": "format the file system (argument 'confirm')",
})
#: The TLS files' directory; ``$n`` names are relative to it (XB-REF 3, 5).
CERT_DIR = "/flash/cert"
#: YMODEM bytes (XB-REF 5, C1 util/xmodem.py).
SOH, STX, EOT, ACK, NAK, CAN, CRC_MODE = 0x01, 0x02, 0x04, 0x06, 0x15, 0x18, ord("C")
YMODEM_BLOCK = 1024
YMODEM_SHORT_BLOCK = 128
YMODEM_PAD = 0x1A

# --------------------------------------------------------------------------------------------
# The catalog (for the doctor's decoder and the virtual modem)


def _values(values: Mapping[int, str]) -> dict[int | str, str]:
    return dict(values.items())


def _form(param: Parameter) -> tuple[Form, ...]:
    if param.kind in ("exec",) or not param.writable:
        return ()
    if param.kind == "hex":
        return (Form((Param(param.name.lower(), "hexint", param.title, range=param.range,
                            values=_values(param.values), optional=True),)),)
    return (Form((Param(param.name.lower(), "enum", param.title, optional=True),)),)


CATALOG = Catalog(
    dialect=DIALECT,
    title="Digi XBee 3 Cellular (command mode parameters and API frames)",
    sources=SOURCES,
    commands=MappingProxyType({
        p.name: Command(p.name, p.title, p.source, forms=_form(p), timeout=2.0)
        for p in PARAMETERS.values()}),
)
