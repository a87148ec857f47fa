"""The SIMCom dialect as data, for the doctor: three command sets.

- SIM800 family (2G): ``+SAPBR``, ``+HTTPINIT``/``+HTTPPARA``/``+HTTPACTION``, ``+HTTPSSL``,
  ``+CIPSSL``, ``+CIPSTART``, ``+SSLOPT``.
- SIM7000/SIM7070/SIM7080 "CA/SH" set: ``+CNACT``, ``+CFSINIT``/``+CFSWFILE``/``+CFSTERM``,
  ``+CSSLCFG`` (``"convert"``, ``"sslversion"``, ``"sni"``...), ``+CASSLCFG``, ``+CAOPEN``...,
  ``+SHCONF``/``+SHSSL``/``+SHCONN``/``+SHREQ``, ``+SMSSL``/``+SMCONN``.
- A76xx/SIM7600 "CCH/HTTP" set: ``+CCERTDOWN``, ``+CSSLCFG`` (``"authmode"``, ``"enableSNI"``,
  ``"cacert"``...), ``+CCHSTART``/``+CCHOPEN``/``+CCHSEND``, ``+HTTPINIT``/``+HTTPACTION``.

Source keys: ``SIM-REF`` = ``shared/reference/simcom.md`` (its S#/L# ids: S1 TinyGSM, S3
ESP32-SIM70XX, S6 SIMCom LTE SSL command pages, S7 A76XX AT Command Manual V1.12 16.3 as quoted,
L1-L12 real logs); ``SIM800-AT`` = SIM800 Series AT Command Manual V1.09, ``AT+HTTPACTION``
<StatusCode> 600-605 (SIMCom's own HTTP errors); ``SIM800-SSL`` = SIM800 Series SSL Application
Note V1.05 (``AT+HTTPSSL``, ``AT+CIPSSL``, ``AT+SSLOPT``).
"""

from __future__ import annotations

from types import MappingProxyType

from celltls.dialects.spec import Catalog, Command, Form, Param, Urc

DIALECT = "simcom"

SOURCES = MappingProxyType({
    "SIM-REF": "shared/reference/simcom.md (SIMCom SIM7000/7080 and A76xx AT reference, "
               "source ids S1-S8, L1-L12)",
    "SIM800-AT": "SIMCom SIM800 Series AT Command Manual V1.09 (AT+HTTPACTION status codes)",
    "SIM800-SSL": "SIMCom SIM800 Series SSL Application Note V1.05",
    "27.007": "3GPP TS 27.007",
})

#: +CAOPEN <result> (SIM-REF §9: S1, S3).
CAOPEN_RESULTS = MappingProxyType({
    0: "success", 1: "socket error", 2: "no memory", 3: "connection limit",
    4: "parameter invalid", 6: "invalid IP address", 7: "not supported", 12: "can't bind port",
    13: "can't listen", 20: "can't resolve host", 21: "network not active",
    23: "remote refuse", 24: "certificate time expired", 25: "certificate common name mismatch",
    26: "certificate common name mismatch and time expired", 27: "connect failed",
})
#: A76xx HTTP result codes (SIM-REF §9: S7, manual V1.12 16.3).
A76XX_HTTP_ERRORS = MappingProxyType({
    701: "alert state", 702: "unknown error", 703: "busy", 704: "connection closed",
    705: "timeout", 706: "receive/send socket data failed", 707: "file does not exist or "
    "other memory error", 708: "invalid parameter", 709: "network error",
    710: "start a new SSL session failed", 711: "wrong state", 712: "failed to create socket",
    713: "get DNS failed", 714: "connect socket failed", 715: "handshake failed",
    716: "close socket failed", 717: "no network error", 718: "send data timeout",
    719: "CA missed",
})
#: SIM800 +HTTPACTION status codes of the module itself (SIM800-AT).
SIM800_HTTP_ERRORS = MappingProxyType({
    600: "not HTTP PDU", 601: "network error", 602: "no memory", 603: "DNS error",
    604: "stack busy",
})
#: CCH <err> values seen (SIM-REF §9: S1, S6, L8).
CCH_ERRORS = MappingProxyType({0: "success", 15: "SSL handshake failed"})


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


_CTX = _p("ssl_ctx_index", "int", "SSL context", range=(0, 9))


def _cfg(selector: str, description: str, *values: Param, ctx: bool = True) -> Form:
    item = _p("item", "str", "setting", values={selector: description})
    params = (item, _CTX, *values) if ctx else (item, *values)
    return Form(params, selector=selector, description=description)


_SSLCFG_FORMS = (
    _cfg("sslversion", "TLS version", _p("sslversion", "int", "version", range=(0, 5),
                                         optional=True)),
    _cfg("authmode", "authentication mode (A76xx)",
         _p("authmode", "int", "0 none, 1 server, 2 server and client, 3 client",
            values={0: "no authentication", 1: "server authentication",
                    2: "server and client authentication", 3: "client authentication"},
            range=(0, 3), optional=True)),
    _cfg("cacert", "CA file (A76xx)", _p("ca_file", "str", "file name", optional=True)),
    _cfg("clientcert", "client certificate file", _p("file", "str", "file", optional=True)),
    _cfg("clientkey", "client key file", _p("file", "str", "file", optional=True)),
    _cfg("enableSNI", "SNI on/off (A76xx)", _p("enableSNI", "int", "0/1",
                                                values={0: "off", 1: "on"}, range=(0, 1),
                                                optional=True)),
    _cfg("sni", "SNI host (SIM7080)", _p("server_name", "str", "host", optional=True)),
    _cfg("ignorelocaltime", "ignore certificate dates (A76xx)",
         _p("ignoreltime", "int", "0/1", range=(0, 1), optional=True)),
    _cfg("ignorertctime", "ignore certificate dates (SIM7080)",
         _p("ignorertctime", "int", "0/1", range=(0, 1), optional=True)),
    _cfg("ciphersuite", "cipher suite (SIM7080)", _p("cipher", "str", "suite", optional=True)),
    _cfg("seclevel", "security level", _p("seclevel", "int", "level", optional=True)),
    _cfg("ctxindex", "read a context (SIM7080)"),
    Form((_p("item", "str", "setting", values={"convert": "convert a file for SSL use"}),
          _p("ssltype", "int", "1 certificate and key, 2 CA list, 3 PSK",
             values={1: "client certificate and key", 2: "CA list", 3: "PSK table"},
             range=(1, 3)),
          _p("cname", "str", "certificate file"),
          _p("keyname", "str", "key file", optional=True),
          _p("passkey", "str", "key password", optional=True, secret=True)),
         selector="convert", description="convert a file for SSL use (SIM7080/SIM7000)"),
)

_NAMES = (
    # SIM800 family
    ("+SAPBR", "bearer settings and activation", "SIM800-AT", "+SAPBR:"),
    ("+HTTPINIT", "start the HTTP service", "SIM-REF §8; SIM800-AT", None),
    ("+HTTPTERM", "stop the HTTP service", "SIM-REF §8; SIM800-AT", None),
    ("+HTTPPARA", "HTTP parameters (URL, CID...)", "SIM-REF §8; SIM800-AT", None),
    ("+HTTPACTION", "HTTP method (0 GET, 1 POST, 2 HEAD)", "SIM-REF §8; SIM800-AT",
     "+HTTPACTION:"),
    ("+HTTPREAD", "read the HTTP response", "SIM800-AT", "+HTTPREAD:"),
    ("+HTTPDATA", "HTTP POST data", "SIM800-AT", None),
    ("+HTTPSSL", "HTTPS on/off (SIM800, SIM7000)", "SIM800-SSL 2.2; SIM-REF §8.2", None),
    ("+HTTPSTATUS", "HTTP status", "SIM800-AT", "+HTTPSTATUS:"),
    ("+CIPSSL", "TCP over SSL on/off (SIM800)", "SIM800-SSL 2.4", None),
    ("+SSLOPT", "SSL options (SIM800)", "SIM800-SSL 2.6", None),
    ("+SSLSETCERT", "import a certificate file (SIM800)", "SIM800-SSL 2.5", "+SSLSETCERT:"),
    ("+CIPSTART", "open a TCP/UDP connection (SIM800)", "SIM800-AT", None),
    ("+CIPSEND", "send data (SIM800)", "SIM800-AT", None),
    ("+CIPSHUT", "close the PDP context (SIM800)", "SIM800-AT", None),
    ("+CSTT", "set APN (SIM800)", "SIM800-AT", None),
    ("+CIICR", "bring up the wireless connection (SIM800)", "SIM800-AT", None),
    ("+CIFSR", "local IP (SIM800)", "SIM800-AT", None),
    ("+CIPSTATUS", "connection status (SIM800)", "SIM800-AT", None),
    ("+FSCREATE", "create a file (SIM800)", "SIM800-AT", None),
    ("+FSWRITE", "write a file (SIM800)", "SIM800-AT", None),
    # SIM7000 / SIM7080 CA/SH set
    ("+CNACT", "activate an application PDP context", "SIM-REF §3.1 (S1, S4)", "+CNACT:"),
    ("+CNCFG", "configure an application PDP context", "SIM-REF §3.1 (S1)", "+CNCFG:"),
    ("+CNMP", "preferred mode (2 auto, 13 GSM, 38 LTE)", "SIM-REF §3.1 (S2)", "+CNMP:"),
    ("+CMNB", "LTE-M / NB-IoT preference", "SIM-REF §3.1 (S2)", "+CMNB:"),
    ("+CBANDCFG", "bands per RAT", "SIM-REF §3.1 (S8)", "+CBANDCFG:"),
    ("+CPSI", "system information", "SIM-REF §3.1 (L8)", "+CPSI:"),
    ("+CFSINIT", "open the file system buffer", "SIM-REF §4.1 (S3)", None),
    ("+CFSWFILE", "write a file (then DOWNLOAD)", "SIM-REF §4.1 (S3, L3)", None),
    ("+CFSGFIS", "file size", "SIM-REF §4.1", "+CFSGFIS:"),
    ("+CFSRFILE", "read a file", "SIM-REF §4.1", "+CFSRFILE:"),
    ("+CFSTERM", "close the file system buffer", "SIM-REF §4.1", None),
    ("+CFSDFILE", "delete a file", "SIM-REF §4.1", None),
    ("+CASSLCFG", "SSL settings of a CA connection", "SIM-REF §5.1 (S1, S3)", None),
    ("+CACID", "select a CA connection", "SIM-REF §6", None),
    ("+CAOPEN", "open a CA connection (TCP/TLS)", "SIM-REF §6 (S1, S4)", "+CAOPEN:"),
    ("+CASEND", "send on a CA connection", "SIM-REF §6", "+CASEND:"),
    ("+CARECV", "read a CA connection", "SIM-REF §6", "+CARECV:"),
    ("+CACLOSE", "close a CA connection", "SIM-REF §6", None),
    ("+CASTATE", "CA connection states", "SIM-REF §6", "+CASTATE:"),
    ("+SHCONF", "HTTP(S) client settings (URL, BODYLEN...)", "SIM-REF §8.1", None),
    ("+SHSSL", "HTTP(S) client SSL context and CA", "SIM-REF §5.3 (S8, L3)", None),
    ("+SHCONN", "connect the HTTP(S) client", "SIM-REF §8.1 (L3, L4)", None),
    ("+SHSTATE", "HTTP(S) client state", "SIM-REF §8.1", "+SHSTATE:"),
    ("+SHREQ", "HTTP request", "SIM-REF §8.1 (S8)", "+SHREQ:"),
    ("+SHREAD", "read the HTTP response", "SIM-REF §8.1", "+SHREAD:"),
    ("+SHDISC", "disconnect the HTTP(S) client", "SIM-REF §8.1", None),
    ("+SHCHEAD", "clear headers", "SIM-REF §8.1", None),
    ("+SHAHEAD", "add a header", "SIM-REF §8.1", None),
    ("+SHBOD", "set the body", "SIM-REF §8.1", None),
    ("+SMCONF", "MQTT settings", "SIM-REF §12 (L5)", None),
    ("+SMSSL", "MQTT SSL settings", "SIM-REF §12 (L5)", "+SMSSL:"),
    ("+SMCONN", "MQTT connect", "SIM-REF §12 (L5)", None),
    ("+SMPUB", "MQTT publish", "SIM-REF §12", None),
    ("+CDNSGIP", "DNS query", "SIM-REF §3.1 (S2)", "+CDNSGIP:"),
    ("+CNTP", "network time", "SIM-REF §13", "+CNTP:"),
    ("+CLTS", "network time zone updates", "SIM-REF §2", None),
    # A76xx / SIM7600 CCH set
    ("+CCERTDOWN", "download a certificate", "SIM-REF §4.2 (S1)", None),
    ("+CCERTLIST", "list certificates", "SIM-REF §4.2 (S6)", "+CCERTLIST:"),
    ("+CCERTDELE", "delete a certificate", "SIM-REF §4.2 (S1)", None),
    ("+CCHSET", "CCH reporting and receive mode", "SIM-REF §7 (S1)", None),
    ("+CCHSTART", "start the SSL service (activates the PDP context)", "SIM-REF §7 (S6)",
     "+CCHSTART:"),
    ("+CCHSTOP", "stop the SSL service", "SIM-REF §7 (S6)", "+CCHSTOP:"),
    ("+CCHSSLCFG", "bind a CCH session to an SSL context", "SIM-REF §5.2 (S1)", None),
    ("+CCHOPEN", "open a CCH (TLS) session", "SIM-REF §7 (S1, S6)", "+CCHOPEN:"),
    ("+CCHSEND", "send on a CCH session", "SIM-REF §7", "+CCHSEND:"),
    ("+CCHRECV", "read a CCH session", "SIM-REF §7", "+CCHRECV:"),
    ("+CCHCLOSE", "close a CCH session", "SIM-REF §7", "+CCHCLOSE:"),
    ("+CCHMODE", "transparent mode", "SIM-REF §7", None),
    ("+CCHADDR", "own IP address", "SIM-REF §7", None),
    ("+NETOPEN", "open the network (A76xx sockets)", "SIM-REF §7 (S1)", "+NETOPEN:"),
    ("+CIPOPEN", "open a socket (A76xx)", "SIM-REF §7 (S1)", "+CIPOPEN:"),
    ("+SIMCOMATI", "identification", "SIM-REF §3.2 (L7)", None),
    ("+CMQTTSTART", "start MQTT (A76xx)", "SIM-REF §7", "+CMQTTSTART:"),
    ("+CMQTTCONNECT", "MQTT connect (A76xx)", "SIM-REF §7", "+CMQTTCONNECT:"),
)

_COMMANDS = (
    Command("+CSSLCFG", "SSL context settings and certificate conversion",
            "SIM-REF §4.1, §5.1, §5.2 (S1, S3, L2, L6, L7)", forms=_SSLCFG_FORMS,
            response_prefix="+CSSLCFG:"),
    *(Command(name, title, source, response_prefix=prefix)
      for name, title, source, prefix in _NAMES),
)

_URCS = (
    Urc("+APP PDP:", (_p("pdpidx", "str", "context (or ACTIVE/DEACTIVE on SIM7000)"),
                      _p("state", "str", "ACTIVE or DEACTIVE")),
        "application PDP context state", "SIM-REF §3.1 (S1, S2)"),
    Urc("+CADATAIND:", (_p("cid", "int", "connection"),), "data arrived", "SIM-REF §6"),
    Urc("+CCHEVENT:", (_p("session", "int", "session"), _p("event", "str", "event")),
        "CCH event", "SIM-REF §7"),
    Urc("+CCH_PEER_CLOSED:", (_p("session", "int", "session"),), "server closed",
        "SIM-REF §7"),
    Urc("+HTTPACTION:", (_p("method", "int", "0 GET, 1 POST, 2 HEAD"),
                         _p("status", "int", "HTTP status or the module's 6xx/7xx error"),
                         _p("datalen", "int", "bytes")),
        "result of AT+HTTPACTION", "SIM-REF §8.2 (L6); SIM800-AT"),
    Urc("+SHREQ:", (_p("method", "str", "method"), _p("status", "int", "HTTP status"),
                    _p("datalen", "int", "bytes")), "result of AT+SHREQ", "SIM-REF §8.1"),
    Urc("OVER-VOLTAGE WARNNING", (), "supply voltage too high (sic)", "SIM-REF §2 (L2)"),
    Urc("UNDER-VOLTAGE WARNNING", (), "supply voltage too low (sic)", "SIM-REF §2"),
    Urc("SMS Ready", (), "boot finished", "SIM-REF §2"),
    Urc("DOWNLOAD", (), "the module waits for the file's bytes", "SIM-REF §2 (S8, L3)"),
)

CATALOG = Catalog(
    dialect=DIALECT,
    title="SIMCom SIM800 / SIM7000 / SIM7080 / A76xx AT commands (doctor catalog)",
    sources=SOURCES,
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
    urcs=_URCS,
    errors=MappingProxyType({}),
)
