"""The u-blox SARA-R4 / SARA-R5 dialect as data, for the doctor.

Commands: certificates (``+USECMNG``), security profiles (``+USECPRF``), PDP mapping
(``+UPSD``/``+UPSDA``/``+UPSND``), sockets (``+USOCR``, ``+USOSEC``, ``+USOCO``, ``+USOWR``,
``+USORD``, ``+USOCL``, ``+USOER``, ``+USOCTL``), HTTP (``+UHTTP``, ``+UHTTPC``, ``+UHTTPER``),
MQTT (``+UMQTT``, ``+UMQTTC``), files, ``+UMNOPROF``, ``+URAT``.

Source key ``UBX-REF`` = ``shared/reference/ublox-sara.md`` (its ids: S1 ubxlib, S2 TinyGSM,
S3 SparkFun SARA-R5 library, S4 SARA-R4 AT commands manual R16 p.237, S6 Zephyr PR, S7 host
code, L1-L4 real logs).
"""

from __future__ import annotations

from types import MappingProxyType

from celltls.dialects.spec import Catalog, Command, Form, Param, Urc

DIALECT = "ublox"

SOURCES = MappingProxyType({
    "UBX-REF": "shared/reference/ublox-sara.md (u-blox SARA-R4/R5 AT reference, source ids "
               "S1-S7, L1-L4)",
    "27.007": "3GPP TS 27.007",
})

#: +USECMNG <op_code> (UBX-REF §4: S1, S3).
USECMNG_OPS = MappingProxyType({0: "import from the serial line (> prompt)",
                                1: "import from a file", 2: "remove", 3: "list",
                                4: "read the MD5"})
#: +USECMNG <type> (UBX-REF §4: S1).
USECMNG_TYPES = MappingProxyType({0: "trusted root CA", 1: "client certificate",
                                  2: "client private key", 3: "server certificate",
                                  4: "signature verification certificate",
                                  5: "signature verification public key"})
#: +USECPRF <op_code> (UBX-REF §5: S1, S3, S4).
USECPRF_OPS = MappingProxyType({
    0: "certificate validation level", 1: "minimum TLS version", 2: "cipher suite",
    3: "trusted root certificate name", 4: "expected server host name",
    5: "client certificate name", 6: "client private key name",
    7: "client private key password", 8: "pre-shared key", 9: "PSK identity",
    10: "SNI (server name indication)", 11: "root-of-trust PSK generation",
    14: "sealed device certificate as client certificate",
})
#: op 0 levels (UBX-REF §5: S4 R16 p.237).
VALIDATION_LEVELS = MappingProxyType({
    0: "no validation", 1: "root CA check", 2: "root CA check and host name (op 4)",
    3: "root CA check, host name and validity dates",
})
#: op 1 minimum versions (UBX-REF §5: S1; 4 = TLS 1.3 only in S3).
TLS_VERSIONS = MappingProxyType({0: "any", 1: "TLS 1.0", 2: "TLS 1.1", 3: "TLS 1.2",
                                 4: "TLS 1.3 (SparkFun's enum only)"})
#: Legacy cipher-suite numbers of op 2 -> IANA value (UBX-REF §5: S1).
LEGACY_SUITES = MappingProxyType({
    1: 0x002F, 2: 0x003C, 3: 0x0035, 4: 0x003D, 5: 0x000A, 6: 0x008C, 7: 0x008D, 8: 0x008B,
    9: 0x0094, 10: 0x0095, 11: 0x0093, 12: 0x00AE, 13: 0x00AF, 14: 0x00B6, 15: 0x00B7,
    16: 0x00A8, 17: 0x00A9, 18: 0x00AC, 19: 0x00AD, 20: 0xC008, 21: 0xC009, 22: 0xC00A,
    23: 0xC012, 24: 0xC013, 25: 0xC014, 26: 0xC023, 27: 0xC024, 28: 0xC027, 29: 0xC028,
    30: 0xC02B, 31: 0xC02C, 32: 0xC02F, 33: 0xC030,
})
#: +CFUN levels a model rejects (UBX-REF §3.2: L4 for R4, S3 for R5).
CFUN_REJECTED = MappingProxyType({"R4": frozenset({16, 19, 127}),
                                  "R5": frozenset({15, 19, 127})})
#: +UHTTPC <http_command> (UBX-REF §7: S1, S3).
UHTTPC_COMMANDS = MappingProxyType({0: "HEAD", 1: "GET", 2: "DELETE", 3: "PUT from file",
                                    4: "POST from file", 5: "POST a string",
                                    100: "GET for FOTA"})


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


_SOCKET = _p("socket", "int", "socket number", range=(0, 6))
_PROFILE = _p("profile_id", "int", "security profile", range=(0, 4))

_COMMANDS = (
    Command("+USECMNG", "certificate and key manager", "UBX-REF §4 (S1, S3)", forms=(Form((
        _p("op_code", "int", "operation", values=USECMNG_OPS, range=(0, 4)),
        _p("type", "int", "credential type", values=USECMNG_TYPES, range=(0, 5),
           optional=True),
        _p("internal_name", "str", "name in the module", max_len=32, optional=True),
        _p("data_size_or_file", "enum", "size (op 0) or file name (op 1)", optional=True),
        _p("password", "str", "key password (not on SARA-R4)", optional=True, secret=True))),),
        response_prefix="+USECMNG:", data_phase="prompt", timeout=10),
    Command("+USECPRF", "security profile", "UBX-REF §5 (S1, S3, S4)", forms=(Form((
        _PROFILE,
        _p("op_code", "int", "setting", values=USECPRF_OPS, range=(0, 14), optional=True),
        _p("param_val", "enum", "value (number or string, by op)", optional=True),
        _p("param_val2", "enum", "second value", optional=True),
        _p("param_val3", "enum", "third value", optional=True))),),
        response_prefix="+USECPRF:"),
    Command("+UPSD", "packet-switched data profile", "UBX-REF §3.1 (S1, S2)",
            response_prefix="+UPSD:"),
    Command("+UPSDA", "packet-switched data action (3 activate, 4 deactivate)",
            "UBX-REF §3.1 (S1, S2)", timeout=360),
    Command("+UPSND", "packet-switched network data (not on SARA-R4)", "UBX-REF §3.1 (L3)",
            response_prefix="+UPSND:"),
    Command("+USOCR", "create a socket", "UBX-REF §6 (S1, S2)", forms=(Form((
        _p("protocol", "int", "6 TCP, 17 UDP", values={6: "TCP", 17: "UDP"}),
        _p("local_port", "int", "local port", optional=True))),), response_prefix="+USOCR:"),
    Command("+USOSEC", "enable TLS on a socket", "UBX-REF §6 (S1, S2, S6)", forms=(Form((
        _SOCKET, _p("ssl_tls_status", "int", "0 off, 1 on", values={0: "off", 1: "on"}),
        _p("usecmng_profile_id", "int", "security profile (0 when omitted)", range=(0, 4),
           optional=True))),), response_prefix="+USOSEC:"),
    Command("+USOCO", "connect a socket (TLS handshake included)", "UBX-REF §6 (S1, S2)",
            forms=(Form((_SOCKET, _p("remote_addr", "str", "host or IP"),
                         _p("remote_port", "int", "port", range=(1, 65535)),
                         _p("async_connect", "int", "1 = answer later with +UUSOCO",
                            optional=True))),), timeout=332),
    Command("+USOWR", "write to a socket (prompt @)", "UBX-REF §6 (S1, S2)",
            response_prefix="+USOWR:", data_phase="prompt"),
    Command("+USORD", "read a socket", "UBX-REF §6", response_prefix="+USORD:"),
    Command("+USOCL", "close a socket", "UBX-REF §6", timeout=120),
    Command("+USOER", "last socket error", "UBX-REF §6 (L1)", response_prefix="+USOER:"),
    Command("+USOCTL", "socket control/state", "UBX-REF §6", response_prefix="+USOCTL:"),
    Command("+USOSO", "socket option", "UBX-REF §6"),
    Command("+UDCONF", "configuration (1 = hex mode)", "UBX-REF §2", response_prefix="+UDCONF:"),
    Command("+UHTTP", "HTTP profile", "UBX-REF §7 (S1, S3)", forms=(Form((
        _p("profile_id", "int", "HTTP profile", range=(0, 3)),
        _p("op_code", "int", "0 IP, 1 name, 2 user, 3 password, 4 auth, 5 port, 6 secure, "
           "7 timeout, 9 headers", range=(0, 9), optional=True),
        _p("param_val", "enum", "value (number or string, by op)", optional=True),
        _p("param_val2", "enum", "security profile (op 6)", optional=True))),),
        response_prefix="+UHTTP:"),
    Command("+UHTTPC", "HTTP request", "UBX-REF §7 (S1, S3)", forms=(Form((
        _p("profile_id", "int", "HTTP profile", range=(0, 3)),
        _p("http_command", "int", "request", values=UHTTPC_COMMANDS),
        _p("path", "str", "path on the server"),
        _p("filename", "str", "response file"),
        _p("data", "str", "data or file", optional=True),
        _p("content_type", "int", "content type", optional=True),
        _p("user_defined", "str", "custom content type", optional=True))),),
        response_prefix="+UHTTPC:"),
    Command("+UHTTPER", "HTTP error detail", "UBX-REF §7 (S1, S7)",
            response_prefix="+UHTTPER:"),
    Command("+UMQTT", "MQTT settings", "UBX-REF §10 (S1)", response_prefix="+UMQTT:"),
    Command("+UMQTTC", "MQTT command", "UBX-REF §10 (S1)", response_prefix="+UMQTTC:"),
    Command("+UMQTTER", "MQTT error detail", "UBX-REF §10 (S1)", response_prefix="+UMQTTER:"),
    Command("+UDWNFILE", "download a file to the module", "UBX-REF §8 (S1)",
            data_phase="prompt"),
    Command("+URDFILE", "read a file", "UBX-REF §8 (S1)", response_prefix="+URDFILE:"),
    Command("+UDELFILE", "delete a file", "UBX-REF §8 (S1)"),
    Command("+ULSTFILE", "list files", "UBX-REF §8 (S1)", response_prefix="+ULSTFILE:"),
    Command("+UMNOPROF", "mobile network operator profile", "UBX-REF §3.2 (S1, S3)",
            response_prefix="+UMNOPROF:"),
    Command("+URAT", "radio access technology", "UBX-REF §3.2 (S2)", response_prefix="+URAT:"),
    Command("+UBANDMASK", "band mask", "UBX-REF §3.2", response_prefix="+UBANDMASK:"),
    Command("+CGAUTH", "PDP authentication", "UBX-REF §3.1 (S2)"),
)

_URCS = (
    Urc("+UUSORD:", (_SOCKET, _p("length", "int", "bytes")), "data arrived on a TCP socket",
        "UBX-REF §6 (S1)"),
    Urc("+UUSOCL:", (_SOCKET,), "a socket was closed", "UBX-REF §6 (S1, S2)"),
    Urc("+UUSOCO:", (_SOCKET, _p("socket_error", "int", "0 connected, else an errno")),
        "result of an asynchronous AT+USOCO", "UBX-REF §6 (S2)"),
    Urc("+UUPSDA:", (_p("result", "int", "0 success"), _p("ip_addr", "str", "address")),
        "result of AT+UPSDA", "UBX-REF §3.1 (S1, S3)"),
    Urc("+UUPSDD:", (_p("profile_id", "int", "profile"),), "the PSD profile was deactivated",
        "UBX-REF §3.1 (S1)"),
    Urc("+UUHTTPCR:", (_p("profile_id", "int", "HTTP profile"),
                       _p("http_command", "int", "request", values=UHTTPC_COMMANDS),
                       _p("http_result", "int", "1 success (file written), 0 failure",
                          values={0: "failure", 1: "success"})),
        "result of AT+UHTTPC", "UBX-REF §7 (S1, S3, S7)"),
    Urc("+UUMQTTC:", (_p("op_code", "int", "MQTT command"), _p("result", "int", "result")),
        "result of AT+UMQTTC", "UBX-REF §10 (S1)"),
)

CATALOG = Catalog(
    dialect=DIALECT,
    title="u-blox SARA-R4 / SARA-R5 AT commands (doctor catalog)",
    sources=SOURCES,
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
    urcs=_URCS,
    errors=MappingProxyType({}),
)
