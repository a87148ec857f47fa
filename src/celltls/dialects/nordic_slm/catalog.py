"""The Nordic nRF91 Serial LTE Modem dialect, decode level (no driver yet).

Sources (keys used in ``source``): ``NRF-REF``: shared/reference/nordic-slm.md, which gathers
the SLM documentation (nrfconnect/sdk-nrf ``applications/serial_lte_modem/doc``), the nRF91 AT
Commands Reference and the errno headers; sections are that page's.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from celltls.dialects.spec import Catalog, Command, Form, Param, Urc

DIALECT = "nordic-slm"


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


SEC_TAG = _p("sec_tag", "int", "security tag of the stored credentials", range=(0, 2147483647))
CMNG_TYPES = MappingProxyType({
    0: "root CA certificate", 1: "client certificate", 2: "client private key", 3: "PSK",
    4: "PSK identity", 5: "public key", 6: "device identity public key"})
#: errno numbering of SLM logs (newlib / nrf_errno.h), NRF-REF 9.1.
ERRNO = MappingProxyType({
    2: ("ENOENT", "no such entry"), 11: ("EAGAIN", "try again (DNS not ready)"),
    12: ("ENOMEM", "out of memory"), 13: ("EACCES", "permission denied"),
    22: ("EINVAL", "invalid argument"), 45: ("EDEADLK", "deadlock (old libc: EOPNOTSUPP)"),
    95: ("EOPNOTSUPP", "operation not supported"), 104: ("ECONNRESET", "connection reset"),
    111: ("ECONNREFUSED", "connection refused"), 113: ("ECONNABORTED", "connection aborted"),
    114: ("ENETUNREACH", "network unreachable"), 115: ("ENETDOWN", "network down"),
    116: ("ETIMEDOUT", "connection timed out"), 118: ("EHOSTUNREACH", "host unreachable"),
    119: ("EINPROGRESS", "operation in progress"), 128: ("ENOTCONN", "not connected"),
})
ERRORS = MappingProxyType({
    513: "not found", 514: "no access / not allowed", 515: "memory full",
    518: "not allowed in the active state (set +CFUN=4 or 0 first)", 519: "already exists",
    520: "authentication failed / already exists", 527: "invalid content (e.g. CRLF in a PEM)",
    528: "not allowed while a power-off warning is active"})

_COMMANDS = (
    Command("%CMNG", "manage credentials (certificates, keys, PSK)", "NRF-REF 5",
            forms=(Form((
                _p("opcode", "int", "operation", values={0: "write", 1: "list", 2: "read",
                                                         3: "delete"}, range=(0, 3)),
                _p("sec_tag", "int", "security tag", range=(0, 2147483647), optional=True),
                _p("type", "int", "credential type", values=CMNG_TYPES, range=(0, 11),
                   optional=True),
                _p("content", "str", "PEM content", optional=True),
                _p("passwd", "str", "PKCS#8 password", optional=True, secret=True, max_len=32),
            )),), response_prefix="%CMNG:", timeout=10,
            note="write/delete only with the modem deactivated (+CFUN=4 or 0), else 518"),
    Command("#XHTTPCCON", "connect the SLM HTTP client to a server", "NRF-REF 8.1",
            forms=(Form((
                _p("op", "int", "operation", values={0: "disconnect", 1: "connect (v1.4-1.9) / "
                                                     "IPv4 (v2.0+)", 2: "IPv6 (v2.0+)"},
                   range=(0, 2)),
                _p("host", "str", "server host name", max_len=128, optional=True),
                _p("port", "int", "server port", range=(1, 65535), optional=True),
                replace(SEC_TAG, optional=True),
                _p("peer_verify", "int", "peer verification (v2.6+)",
                   values={0: "none", 1: "optional", 2: "required"}, optional=True),
                _p("hostname_verify", "int", "host name check (v2.6+)", values={0: "off", 1: "on"},
                   optional=True),
            )),), response_prefix="#XHTTPCCON:", timeout=60),
    Command("#XHTTPCREQ", "send an HTTP request", "NRF-REF 8.1", response_prefix="#XHTTPCREQ:",
            timeout=60),
    Command("#XSLMUART", "UART baud rate", "NRF-REF 2", response_prefix="#XSLMUART:"),
    Command("#XSLMVER", "SLM version", "NRF-REF 2", response_prefix="#XSLMVER:"),
    Command("%XSYSTEMMODE", "select LTE-M / NB-IoT / GNSS", "NRF-REF 4",
            forms=(Form((
                _p("LTE_M", "int", "LTE-M", values={0: "off", 1: "on"}, range=(0, 1)),
                _p("NB_IoT", "int", "NB-IoT", values={0: "off", 1: "on"}, range=(0, 1)),
                _p("GNSS", "int", "GNSS", values={0: "off", 1: "on"}, range=(0, 1)),
                _p("LTE_preference", "int", "preference", values={
                    0: "automatic", 1: "LTE-M", 2: "NB-IoT", 3: "LTE-M, PLMN priority",
                    4: "NB-IoT, PLMN priority"}, range=(0, 4)),
                _p("NTN_NB_IoT", "int", "NTN NB-IoT", optional=True),
            )),), response_prefix="%XSYSTEMMODE:"),
    Command("%XBANDLOCK", "lock LTE bands", "NRF-REF 4",
            forms=(Form((
                _p("operation", "int", "operation", values={0: "remove locks", 1: "permanent",
                                                            2: "runtime", 3: "erase-protected"},
                   range=(0, 3)),
                _p("band_mask", "str", "bit string, LSB = band 1", max_len=88, optional=True),
            )),)),
    Command("%XDEEPSEARCH", "deep search mode", "nRF91 AT Commands Reference"),
    Command("%XICCID", "read the ICCID", "NRF-REF 4", response_prefix="%XICCID:"),
    Command("#XSOCKET", "open or close a socket", "NRF-REF 6", response_prefix="#XSOCKET:"),
    Command("#XSSOCKET", "open a TLS/DTLS socket", "NRF-REF 6.2", response_prefix="#XSSOCKET:"),
    Command("#XSSOCKETOPT", "TLS socket options", "NRF-REF 6.2", response_prefix="#XSSOCKETOPT:"),
    Command("#XCONNECT", "connect the socket", "NRF-REF 6.2", response_prefix="#XCONNECT:",
            timeout=60),
    Command("#XSEND", "send on the socket", "NRF-REF 6.2", response_prefix="#XSEND:"),
    Command("#XRECV", "receive from the socket", "NRF-REF 6.2", response_prefix="#XRECV:"),
    Command("#XGETADDRINFO", "resolve a host name", "NRF-REF 6.2",
            response_prefix="#XGETADDRINFO:"),
    Command("%XTIME", "network time notifications", "NRF-REF 4", response_prefix="%XTIME:"),
    Command("%CESQ", "signal quality notifications", "NRF-REF 4", response_prefix="%CESQ:"),
)

RESPONSES = MappingProxyType({
    "%CMNG:": (SEC_TAG, _p("type", "int", "credential type", values=CMNG_TYPES),
               _p("sha", "str", "SHA-256 of the stored credential"),
               _p("content", "str", "PEM content")),
    "#XHTTPCCON:": (_p("state", "int", "HTTP client connection", values={
        0: "not connected (connect failed)", 1: "connected"}),),
    "%XICCID:": (_p("iccid", "enum", "SIM ICCID"),),
    "#XSLMUART:": (_p("baud_rate", "int", "UART baud rate", unit="baud"),),
})

CATALOG = Catalog(
    dialect=DIALECT,
    title="Nordic nRF91 Serial LTE Modem application",
    sources=MappingProxyType({"NRF-REF": "shared/reference/nordic-slm.md"}),
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
    urcs=(Urc("#XHTTPCRSP:", (_p("length", "int", "bytes"), _p("state", "int", "more/complete")),
              "HTTP response chunk header", "NRF-REF 8.1"),),
    errors=ERRORS,
)
