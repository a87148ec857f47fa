"""The Quectel LTE dialect (BG95/BG96/BG77/BG600L, EC21/EC25/EG25-G/EG91) as data, for the doctor.

Commands: network (``+QICSGP``, ``+QIACT``, ``+QIDEACT``), files (``+QFUPL``, ``+QFDEL``,
``+QFLST``, ``+QFDWL``), SSL (``+QSSLCFG``, ``+QSSLOPEN``, ``+QSSLSEND``, ``+QSSLRECV``,
``+QSSLCLOSE``, ``+QSSLSTATE``), HTTP(S) (``+QHTTPCFG``, ``+QHTTPURL``, ``+QHTTPGET``,
``+QHTTPPOST``, ``+QHTTPREAD``) and MQTT (``+QMTCFG``, ``+QMTOPEN``, ``+QMTCONN``), with the 5xx
TCP/IP and 7xx HTTP error codes.

Source keys (``QLTE-REF`` = ``shared/reference/quectel-lte.md``; its S#/L# ids name the underlying
documents: S1 BG96 FILE AT Commands Manual V1.0, S4 captured BG96 test-command answers, S5 EG25-G
dumps, S10 LooUQ LTEmC, S12 a BG95 driver's error tables, S13 drivers' 5xx switches, L1-L6 real
logs). The MQTT ``+QMTOPEN`` result table beyond -1 is not in the reference: those entries are
marked ``QLTE-MQTT`` (Quectel BG96 MQTT Application Note, ``+QMTOPEN`` <result>, as quoted by the
L6 thread for -1); treat the others as lower confidence.
"""

from __future__ import annotations

from types import MappingProxyType

from celltls.dialects.spec import Catalog, Command, Form, Param, Urc
from celltls.doctor.tables import CIPHER_SUITES

DIALECT = "quectel-lte"

SOURCES = MappingProxyType({
    "QLTE-REF": "shared/reference/quectel-lte.md (Quectel LTE QSSL/QHTTP/QFILE reference, "
                "source ids S1-S15, L1-L6)",
    "QLTE-MQTT": "Quectel BG96 MQTT Application Note, AT+QMTOPEN/AT+QMTCONN result codes "
                 "(as quoted in github.com/zimbora/esp32-BG95/pull/5)",
    "27.007": "3GPP TS 27.007",
})

#: <sslversion> of +QSSLCFG (QLTE-REF §5 table: S7, S10, S12); no TLS 1.3 value (§8).
SSL_VERSIONS = MappingProxyType({0: "SSL 3.0", 1: "TLS 1.0", 2: "TLS 1.1", 3: "TLS 1.2",
                                 4: "all (SSL 3.0 - TLS 1.2)"})
#: <seclevel> (QLTE-REF §5: S7b, S10, S12); default 0.
SECLEVELS = MappingProxyType({0: "no authentication (server not verified)",
                              1: "server authentication", 2: "server and client authentication"})
#: Cipher suites BG96MAR02A07M1G accepts (QLTE-REF §8, S4): ECDHE with RSA certificates only.
BG96_SUITES = frozenset({0x0035, 0x002F, 0x0005, 0x0004, 0x000A, 0x003D, 0xC011, 0xC012, 0xC013,
                         0xC014, 0xC027, 0xC028, 0xC02F})
#: Suites EG25-G R07A08 adds (QLTE-REF §8, S5a): ECDSA suites, but no ECDSA-GCM.
EG25_EXTRA_SUITES = frozenset({0xC002, 0xC003, 0xC004, 0xC005, 0xC025, 0xC026, 0xC007, 0xC008,
                               0xC009, 0xC00A, 0xC023, 0xC024, 0xC00C, 0xC00D, 0xC00E, 0xC00F,
                               0xC029, 0xC02A, 0xC030})
#: Models whose firmware has no ECDSA suite at all (BG96 list, QLTE-REF §8).
NO_ECDSA_MODELS = ("BG96",)

#: 5xx TCP/IP error codes (QLTE-REF §7: S13; S12 agrees for 550-564).
TCPIP_ERRORS = MappingProxyType({
    550: "unknown error", 551: "operation blocked", 552: "invalid parameters",
    553: "memory not enough", 554: "create socket failed", 555: "operation not supported",
    556: "socket bind failed", 557: "socket listen failed", 558: "socket write failed",
    559: "socket read failed", 560: "socket accept failed", 561: "open PDP context failed",
    562: "close PDP context failed", 563: "socket identity has been used", 564: "DNS busy",
    565: "DNS parse failed", 566: "socket connect failed", 567: "socket has been closed",
    568: "operation busy", 569: "operation timeout", 570: "PDP context broken down",
    571: "cancel send", 572: "operation not allowed", 573: "APN not configured",
    574: "port busy",
})
#: 7xx HTTP(S) error codes (QLTE-REF §7: S12).
HTTP_ERRORS = MappingProxyType({
    701: "unknown error (also how a failed TLS handshake is reported)", 702: "timeout",
    703: "busy", 704: "UART busy", 705: "no GET/POST/PUT request", 706: "network busy",
    707: "network open failed", 708: "network no configuration", 709: "network deactivated",
    710: "network error", 711: "URL error", 712: "empty URL", 713: "IP address error",
    714: "DNS error", 715: "socket create error", 716: "socket connect error",
    717: "socket read error", 718: "socket write error", 719: "socket closed",
    720: "data encode error", 721: "data decode error", 722: "read timeout",
    723: "response failed", 724: "incoming call busy", 725: "voice call busy",
    726: "input timeout", 727: "wait data timeout", 728: "wait HTTP(S) response timeout",
    729: "memory allocation failed", 730: "invalid parameter",
})
#: +QMTOPEN <result> (QLTE-MQTT; -1 quoted in QLTE-REF L6).
QMTOPEN_RESULTS = MappingProxyType({
    -1: "failed to open network", 0: "network opened successfully",
    1: "wrong parameter", 2: "MQTT identifier is occupied", 3: "failed to activate PDP",
    4: "failed to parse domain name", 5: "network disconnection error",
})
#: +QMTCONN <ret_code> (QLTE-MQTT; MQTT 3.1.1 CONNACK return codes).
QMTCONN_CODES = MappingProxyType({
    0: "connection accepted", 1: "unacceptable protocol version", 2: "identifier rejected",
    3: "server unavailable", 4: "bad user name or password", 5: "not authorized",
})


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


_CTX = _p("sslctxID", "int", "SSL context (0-5)", range=(0, 5))
_PDP = _p("contextID", "int", "PDP context (1-16)", range=(1, 16))
_CLIENT = _p("clientID", "int", "socket (0-11)", range=(0, 11))
_FILE = _p("filename", "str", "file name in UFS (\"UFS:\" prefix optional)", max_len=80)
_ONOFF = {0: "off", 1: "on"}


def _cfg(selector: str, description: str, *values: Param) -> Form:
    item = _p("item", "str", "setting name", values={selector: description})
    return Form((item, _CTX, *values), selector=selector, description=description)


_SSLCFG_FORMS = (
    _cfg("sslversion", "TLS version of the context",
         _p("sslversion", "int", "version", values=SSL_VERSIONS, range=(0, 4), optional=True)),
    _cfg("ciphersuite", "cipher suites of the context (bare hex, not quoted)",
         _p("ciphersuite", "hexint", "IANA suite value, 0XFFFF = all",
            values={**CIPHER_SUITES, 0xFFFF: "all"}, optional=True)),
    _cfg("seclevel", "authentication mode",
         _p("seclevel", "int", "mode", values=SECLEVELS, range=(0, 2), optional=True)),
    _cfg("cacert", "trusted CA file", _p("cacertpath", "str", "UFS file", optional=True)),
    _cfg("cacertex", "extra CA file", _p("cacertpath", "str", "UFS file", optional=True)),
    _cfg("clientcert", "client certificate file",
         _p("client_cert_path", "str", "UFS file", optional=True)),
    _cfg("clientkey", "client key file", _p("client_key_path", "str", "UFS file", optional=True),
         _p("key_pwd", "str", "key password (EG25)", optional=True, secret=True)),
    _cfg("ignorelocaltime", "ignore certificate validity dates",
         _p("ignore_ltime", "int", "1 = do not check dates (default)", values=_ONOFF,
            range=(0, 1), optional=True)),
    _cfg("negotiatetime", "handshake time limit",
         _p("negotiate_time", "int", "seconds", range=(10, 300), optional=True, unit="s")),
    _cfg("sni", "Server Name Indication", _p("sni", "int", "SNI", values=_ONOFF, range=(0, 1),
                                              optional=True)),
    _cfg("checkhost", "host name check", _p("checkhost", "int", "check", values=_ONOFF,
                                            range=(0, 1), optional=True)),
    _cfg("ignorecertchain", "ignore the certificate chain",
         _p("ignorecertchain", "int", "ignore", values=_ONOFF, range=(0, 1), optional=True)),
    _cfg("session_cache", "session resumption", _p("session_cache", "int", "on/off",
                                                   values=_ONOFF, range=(0, 1), optional=True)),
    _cfg("alpn", "ALPN protocol", _p("alpn", "str", "protocol name", optional=True)),
    _cfg("dtls", "DTLS", _p("dtls", "int", "on/off", values=_ONOFF, range=(0, 1),
                            optional=True)),
)

_HTTPCFG_FORMS = tuple(
    Form((_p("item", "str", "setting", values={sel: desc}), *rest), selector=sel,
         description=desc)
    for sel, desc, rest in (
        ("contextid", "PDP context of the HTTP client",
         (_p("contextID", "int", "PDP context", range=(1, 16), optional=True),)),
        ("requestheader", "host supplies the request head",
         (_p("request_header", "int", "0/1", values=_ONOFF, range=(0, 1), optional=True),)),
        ("responseheader", "response head in QHTTPREAD output",
         (_p("response_header", "int", "0/1", values=_ONOFF, range=(0, 1), optional=True),)),
        ("sslctxid", "SSL context used by HTTPS (default 1)",
         (_p("sslctxID", "int", "SSL context", range=(0, 5), optional=True),)),
        ("contenttype", "content type of POST",
         (_p("content_type", "int", "type", range=(0, 3), optional=True),)),
        ("custom_header", "custom header (BG95)",
         (_p("custom_value", "str", "header", optional=True),)),
        ("auth", "user:password (BG95)", (_p("auth", "str", "credentials", optional=True,
                                              secret=True),)),
    )
)

_QMTCFG_FORMS = (
    Form((_p("item", "str", "setting", values={"ssl": "use SSL for the MQTT client"}),
          _p("client_idx", "int", "MQTT client (0-5)", range=(0, 5)),
          _p("SSL_enable", "int", "0 plain TCP, 1 SSL", values=_ONOFF, range=(0, 1),
             optional=True),
          _p("sslctx_idx", "int", "SSL context", range=(0, 5), optional=True)),
         selector="ssl", description="MQTT over SSL"),
    Form((_p("item", "str", "setting", values={"version": "MQTT protocol version"}),
          _p("client_idx", "int", "MQTT client (0-5)", range=(0, 5)),
          _p("vsn", "int", "3 = MQTT 3.1, 4 = MQTT 3.1.1", values={3: "MQTT 3.1",
                                                                   4: "MQTT 3.1.1"},
             optional=True)), selector="version", description="MQTT version"),
    Form((_p("item", "str", "setting", values={"keepalive": "keep-alive time"}),
          _p("client_idx", "int", "MQTT client (0-5)", range=(0, 5)),
          _p("keep_alive_time", "int", "seconds", range=(0, 3600), optional=True)),
         selector="keepalive", description="keep-alive"),
    Form((_p("item", "str", "setting", values={"pdpcid": "PDP context of the MQTT client"}),
          _p("client_idx", "int", "MQTT client (0-5)", range=(0, 5)),
          _p("cid", "int", "PDP context", range=(1, 16), optional=True)),
         selector="pdpcid", description="PDP context"),
)

_COMMANDS = (
    Command("+QICSGP", "configure a PDP context (APN)", "QLTE-REF §3 (S4)",
            forms=(Form((_PDP, _p("context_type", "int", "1 IPv4, 2 IPv6, 3 IPv4v6",
                                   range=(1, 3), optional=True),
                         _p("APN", "str", "access point name", optional=True),
                         _p("username", "str", "user", optional=True),
                         _p("password", "str", "password", optional=True, secret=True),
                         _p("authentication", "int", "0 none, 1 PAP, 2 CHAP, 3 PAP or CHAP",
                            range=(0, 3), optional=True))),),
            response_prefix="+QICSGP:"),
    Command("+QIACT", "activate a PDP context", "QLTE-REF §3 (S4, L2)",
            forms=(Form((_PDP,)),), response_prefix="+QIACT:", timeout=150),
    Command("+QIDEACT", "deactivate a PDP context (closes its sockets)", "QLTE-REF §3 (S4)",
            forms=(Form((_PDP,)),), timeout=40),
    Command("+QIOPEN", "open a TCP/UDP socket", "QLTE-REF §3 (S4)", forms=(Form((
        _PDP, _p("connectID", "int", "socket", range=(0, 11)),
        _p("service_type", "str", "\"TCP\", \"UDP\"..."),
        _p("IP_address/domain_name", "str", "server"), _p("remote_port", "int", "port",
                                                           range=(0, 65535)),
        _p("local_port", "int", "local port", optional=True),
        _p("access_mode", "int", "0 buffer, 1 push, 2 transparent", range=(0, 2),
           optional=True))),), response_prefix="+QIOPEN:"),
    Command("+QIDNSCFG", "DNS servers", "QLTE-REF §10 (L2)", response_prefix="+QIDNSCFG:"),
    Command("+QCFG", "extended configuration (RAT, bands)", "QLTE-REF §3 (S4, S9)",
            response_prefix="+QCFG:"),
    Command("+QNWINFO", "network information", "QLTE-REF §3", response_prefix="+QNWINFO:"),
    Command("+QCSQ", "signal per RAT", "QLTE-REF §3 (S9)", response_prefix="+QCSQ:"),
    Command("+QGMR", "firmware revision", "QLTE-REF §2 (L5)"),
    Command("+QFUPL", "upload a file to UFS", "QLTE-REF §4 (S1)", forms=(Form((
        _FILE, _p("file_size", "int", "bytes to expect", optional=True, unit="bytes"),
        _p("timeout", "int", "seconds to wait for data", range=(1, 65535), optional=True,
           unit="s"),
        _p("ackmode", "int", "1 KiB acknowledgements", values=_ONOFF, range=(0, 1),
           optional=True))),), response_prefix="+QFUPL:", data_phase="connect", timeout=60),
    Command("+QFDEL", "delete a file", "QLTE-REF §4 (S1)", forms=(Form((_FILE,)),)),
    Command("+QFLST", "list files", "QLTE-REF §4 (S1)",
            forms=(Form((_p("name_pattern", "str", "pattern", optional=True),)),),
            response_prefix="+QFLST:"),
    Command("+QFDWL", "download a file", "QLTE-REF §4 (S1)", forms=(Form((_FILE,)),),
            response_prefix="+QFDWL:"),
    Command("+QFLDS", "storage information", "QLTE-REF §4 (S1)", response_prefix="+QFLDS:"),
    Command("+QSSLCFG", "configure an SSL context", "QLTE-REF §5 (S4, S5)",
            forms=_SSLCFG_FORMS, response_prefix="+QSSLCFG:",
            note="Omitting the value reads the setting (L1)."),
    Command("+QSSLOPEN", "open an SSL socket", "QLTE-REF §5 (S6, S7b)", forms=(Form((
        _PDP, _CTX, _CLIENT, _p("serveraddr", "str", "server", max_len=255),
        _p("server_port", "int", "port", range=(1, 65535)),
        _p("access_mode", "int", "0 buffer, 1 push, 2 transparent", range=(0, 2),
           optional=True))),), response_prefix="+QSSLOPEN:", timeout=150),
    Command("+QSSLSEND", "send on an SSL socket", "QLTE-REF §5",
            forms=(Form((_CLIENT, _p("send_length", "int", "bytes", range=(1, 1460),
                                     optional=True))),), data_phase="prompt"),
    Command("+QSSLRECV", "read an SSL socket", "QLTE-REF §5",
            forms=(Form((_CLIENT, _p("read_length", "int", "bytes", range=(0, 1500)))),),
            response_prefix="+QSSLRECV:"),
    Command("+QSSLCLOSE", "close an SSL socket", "QLTE-REF §5", forms=(Form((_CLIENT,)),),
            timeout=20),
    Command("+QSSLSTATE", "SSL socket state", "QLTE-REF §5 (S7b)",
            forms=(Form((_CLIENT,)),), response_prefix="+QSSLSTATE:"),
    Command("+QHTTPCFG", "configure the HTTP(S) client", "QLTE-REF §6 (S4)",
            forms=_HTTPCFG_FORMS, response_prefix="+QHTTPCFG:"),
    Command("+QHTTPURL", "set the URL", "QLTE-REF §6 (S4)", forms=(Form((
        _p("URL_length", "int", "bytes of the URL", range=(1, 700)),
        _p("timeout", "int", "seconds", range=(1, 65535), optional=True, unit="s"))),),
        data_phase="connect"),
    Command("+QHTTPGET", "HTTP GET", "QLTE-REF §6 (S4)", forms=(Form((
        _p("rsptime", "int", "seconds", range=(1, 65535), optional=True, unit="s"),
        _p("data_length", "int", "bytes of a host-built request", range=(1, 2048),
           optional=True),
        _p("input_time", "int", "seconds", range=(1, 65535), optional=True))),),
        response_prefix="+QHTTPGET:", timeout=60),
    Command("+QHTTPPOST", "HTTP POST", "QLTE-REF §6 (S10, S11)", forms=(Form((
        _p("data_length", "int", "bytes", range=(1, 1024000)),
        _p("input_time", "int", "seconds", range=(1, 65535), optional=True),
        _p("rsptime", "int", "seconds", range=(1, 65535), optional=True))),),
        response_prefix="+QHTTPPOST:", data_phase="connect", timeout=60),
    Command("+QHTTPREAD", "read the HTTP response", "QLTE-REF §6 (S4)", forms=(Form((
        _p("wait_time", "int", "seconds", range=(1, 65535), optional=True),)),),
        response_prefix="+QHTTPREAD:", data_phase="connect"),
    Command("+QMTCFG", "configure an MQTT client", "QLTE-REF §10 (L1); QLTE-MQTT",
            forms=_QMTCFG_FORMS, response_prefix="+QMTCFG:"),
    Command("+QMTOPEN", "open an MQTT network connection", "QLTE-REF §10 (L1, L6)", forms=(Form((
        _p("client_idx", "int", "MQTT client", range=(0, 5)),
        _p("host_name", "str", "broker"), _p("port", "int", "port", range=(1, 65535)))),),
        response_prefix="+QMTOPEN:", timeout=75),
    Command("+QMTCONN", "connect an MQTT client", "QLTE-MQTT", forms=(Form((
        _p("client_idx", "int", "MQTT client", range=(0, 5)),
        _p("clientID", "str", "MQTT client id"),
        _p("username", "str", "user", optional=True),
        _p("password", "str", "password", optional=True, secret=True))),),
        response_prefix="+QMTCONN:", timeout=75),
    Command("+QMTPUB", "publish", "QLTE-MQTT", response_prefix="+QMTPUB:"),
    Command("+QMTSUB", "subscribe", "QLTE-MQTT", response_prefix="+QMTSUB:"),
    Command("+QMTDISC", "disconnect", "QLTE-MQTT", response_prefix="+QMTDISC:"),
    Command("+QMTCLOSE", "close the MQTT network", "QLTE-MQTT", response_prefix="+QMTCLOSE:"),
)

_URCS = (
    Urc('+QIURC: "pdpdeact"', (_PDP,), "the network deactivated the PDP context",
        "QLTE-REF §3 (S9, L3)"),
    Urc('+QIURC: "recv"', (_CLIENT,), "data arrived on a TCP socket", "QLTE-REF §3 (S3)"),
    Urc('+QIURC: "closed"', (_CLIENT,), "a TCP socket was closed", "QLTE-REF §3"),
    Urc('+QSSLURC: "recv"', (_CLIENT,), "data arrived on an SSL socket", "QLTE-REF §5 (S6)"),
    Urc('+QSSLURC: "closed"', (_CLIENT,), "the server closed the SSL socket",
        "QLTE-REF §5 (S6)"),
    Urc("+QMTSTAT:", (_p("client_idx", "int", "MQTT client"),
                      _p("err_code", "int", "reason")), "the MQTT link changed state",
        "QLTE-MQTT"),
    Urc("+QMTOPEN:", (_p("client_idx", "int", "MQTT client"),
                      _p("result", "int", "result", values=QMTOPEN_RESULTS)),
        "result of AT+QMTOPEN", "QLTE-REF §10 (L1, L6); QLTE-MQTT"),
    Urc("+QMTCONN:", (_p("client_idx", "int", "MQTT client"),
                      _p("result", "int", "0 sent, 1 retransmission, 2 failed"),
                      _p("ret_code", "int", "CONNACK code", values=QMTCONN_CODES)),
        "result of AT+QMTCONN", "QLTE-MQTT"),
    Urc("+QHTTPGET:", (_p("err", "int", "0 or a 7xx error", values={0: "success",
                                                                   **HTTP_ERRORS}),
                       _p("httprspcode", "int", "HTTP status"),
                       _p("content_length", "int", "bytes")),
        "result of AT+QHTTPGET", "QLTE-REF §6 (S10, L4, L5)"),
    Urc("+QHTTPPOST:", (_p("err", "int", "0 or a 7xx error", values={0: "success",
                                                                    **HTTP_ERRORS}),
                        _p("httprspcode", "int", "HTTP status"),
                        _p("content_length", "int", "bytes")),
        "result of AT+QHTTPPOST", "QLTE-REF §6"),
    Urc("+QHTTPREAD:", (_p("err", "int", "0 or a 7xx error", values={0: "success",
                                                                    **HTTP_ERRORS}),),
        "end of AT+QHTTPREAD", "QLTE-REF §6 (S10, S11)"),
    Urc("+QSSLOPEN:", (_CLIENT, _p("err", "int", "0 success, else an error code",
                                   values={0: "success", **TCPIP_ERRORS})),
        "result of AT+QSSLOPEN", "QLTE-REF §5, §7"),
    Urc("+QIOPEN:", (_CLIENT, _p("err", "int", "0 success, else an error code",
                                 values={0: "success", **TCPIP_ERRORS})),
        "result of AT+QIOPEN", "QLTE-REF §7"),
)

CATALOG = Catalog(
    dialect=DIALECT,
    title="Quectel LTE (BG95/BG96/BG77, EC2x/EG2x) AT commands (doctor catalog)",
    sources=SOURCES,
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
    urcs=_URCS,
    errors=MappingProxyType({**TCPIP_ERRORS, **HTTP_ERRORS}),
)
