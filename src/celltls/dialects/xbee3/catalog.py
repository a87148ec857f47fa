"""The Digi XBee 3 Cellular dialect, decode level: command-mode parameters (``ATDLhost``).

Source (key ``XB-REF``): shared/reference/xbee3.md, which gathers the XBee 3 Cellular user
guides (Digi 90002258, 90002253), Digi's libraries and threads; sections are that page's.
"""

from __future__ import annotations

from types import MappingProxyType

from celltls.dialects.spec import Catalog, Command, Form, Param

DIALECT = "xbee3"


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


IP_PROTOCOLS = MappingProxyType({0: "UDP", 1: "TCP", 2: "SMS", 4: "TLS over TCP (profile $0)"})
#: CI for IP = 1 or 4 (XB-REF 4).
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


def _c(name: str, title: str, param: Param | None = None) -> Command:
    forms = (Form((param,)),) if param is not None else ()
    return Command(name, title, "XB-REF 3", forms=forms)


_COMMANDS = (
    _c("IP", "socket protocol of transparent mode",
       _p("protocol", "hexint", "protocol", values=IP_PROTOCOLS, range=(0, 4))),
    _c("DL", "destination host or IPv4 address", _p("destination", "enum", "host")),
    _c("DE", "destination port (hexadecimal)",
       _p("port", "hexint", "port, in hex (443 = 1BB)", range=(0, 0xFFFF))),
    _c("TL", "TLS protocol version", _p("version", "hexint", "TLS version")),
    _c("$0", "TLS profile 0: ca;client cert;client key", _p("files", "enum", "file names")),
    _c("$1", "TLS profile 1", _p("files", "enum", "file names")),
    _c("$2", "TLS profile 2", _p("files", "enum", "file names")),
    _c("CI", "status of the last IP connection"),
    _c("AI", "association (Internet) status"),
    _c("AP", "API mode", _p("mode", "hexint", "mode", values={
        0: "transparent", 1: "API", 2: "API escaped", 4: "MicroPython REPL", 5: "bypass"},
        range=(0, 5))),
    _c("AN", "APN", _p("apn", "enum", "access point name")),
    _c("BD", "baud rate", _p("rate", "hexint", "rate code", range=(0, 0xEC400))),
    _c("TM", "client socket idle timeout", _p("timeout", "hexint", "timeout")),
    _c("CN", "leave command mode"),
    _c("AC", "apply changes"),
    _c("WR", "write to flash"),
    _c("FR", "reset"),
    _c("OD", "operating destination"),
    _c("FS", "file system command", _p("command", "enum", "file system command")),
)

CATALOG = Catalog(
    dialect=DIALECT,
    title="Digi XBee 3 Cellular (command mode parameters)",
    sources=MappingProxyType({"XB-REF": "shared/reference/xbee3.md"}),
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
)
