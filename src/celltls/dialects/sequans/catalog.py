"""The Sequans Monarch / Monarch 2 dialect, decode level (no driver yet).

Sources (keys used in ``source``): ``SQN-REF``: shared/reference/sequans.md (which gathers the
Monarch AT manual excerpts, drivers and threads); ``SQN-FORUM``: the seed thread
shared/seeds/002 (Sequans support quoting the manual's ``certValidLevel`` definition);
``CURL``: curl's ``include/curl/curl.h`` CURLcode list.
"""

from __future__ import annotations

from types import MappingProxyType

from celltls.dialects.spec import Catalog, Command, Form, Param, Urc

DIALECT = "sequans"


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


#: certValidLevel bits (SQN-FORUM, quoting the AT Commands Reference Manual).
CERT_VALID_BITS = MappingProxyType({
    0: "validate against the imported trusted root certificates and the validity period",
    1: "unused",
    2: "verify the server URL against the certificate's common name (needs bit 0)",
})
#: <rc> of +SQNHTTPCONNECT / +SQNHTTPSH: libcurl CURLcode numbers (SQN-REF 8, CURL).
HTTP_RC = MappingProxyType({
    0: "OK", 1: "unsupported protocol", 3: "URL malformed", 6: "could not resolve host",
    7: "could not connect", 28: "operation timed out", 35: "SSL connect error (handshake)",
    47: "too many redirects", 52: "got nothing", 55: "send error", 56: "receive error",
    58: "problem with the local client certificate", 59: "cipher problem",
    60: "peer certificate verification failed",
    77: "SSL CA certificate problem (CA missing, bad or validation set-up wrong)",
})
ERRORS = MappingProxyType({
    528: "upgrade failed", 529: "corrupted image", 530: "invalid signature",
    531: "network error", 540: "HW config failed", 541: "invalid function",
    542: "invalid function parameter", 551: "wrong state", 589: "dual mode not configured",
    591: "device in active state"})

_COMMANDS = (
    Command("+SQNSNVW", "write (or delete with size 0) a certificate or key in NV memory",
            "SQN-REF 4", forms=(Form((
                _p("data_type", "str", "what is stored",
                   values={"certificate": "certificate", "privatekey": "private key"}),
                _p("index", "int", "NV slot", range=(0, 19)),
                _p("size", "int", "bytes that follow the > prompt (0 deletes)",
                   range=(0, 16384), unit="bytes"),
            )),), data_phase="prompt", timeout=10),
    Command("+SQNSNVR", "read NV certificate metadata", "SQN-REF 4",
            response_prefix="+SQNSNVR:"),
    Command("+SQNSPCFG", "configure a TLS security profile", "SQN-REF 5", forms=(Form((
        _p("spId", "int", "security profile", range=(1, 6)),
        _p("version", "int", "TLS version", values={0: "TLS 1.0", 1: "TLS 1.1", 2: "TLS 1.2",
                                                    3: "TLS 1.3"}, range=(0, 3)),
        _p("cipherSpecs", "str", "cipher suites (\"\" = default list)"),
        _p("certValidLevel", "hexint", "server certificate validation bit field",
           range=(0, 0xFF)),
        _p("caCertificateID", "int", "NV slot of the trusted CA", range=(0, 19), optional=True),
        _p("clientCertificateID", "int", "NV slot of the client certificate", range=(0, 19),
           optional=True),
        _p("clientPrivateKeyID", "int", "NV slot of the client key", range=(0, 19),
           optional=True),
        _p("psk", "str", "pre-shared key", optional=True, secret=True),
        _p("pskIdentity", "str", "PSK identity", optional=True),
        _p("storageId", "int", "key storage", optional=True),
        _p("resume", "int", "session resumption", optional=True),
        _p("lifetime", "int", "session lifetime", optional=True),
    )),), response_prefix="+SQNSPCFG:"),
    Command("+SQNHTTPCFG", "configure an HTTP client profile", "SQN-REF 7", forms=(Form((
        _p("prof_id", "int", "HTTP profile", range=(0, 2)),
        _p("server_address", "str", "host name or IP address only (no path)", max_len=255),
        _p("server_port", "int", "server port", range=(1, 65535)),
        _p("auth_type", "int", "authentication", values={0: "none", 1: "basic"}, range=(0, 1)),
        _p("username", "str", "user name", optional=True),
        _p("password", "str", "password", optional=True, secret=True),
        _p("ssl_enabled", "int", "TLS", values={0: "off", 1: "on"}, range=(0, 1),
           optional=True),
        _p("max_to_sec", "int", "transfer timeout", unit="s", optional=True),
        _p("cid", "int", "PDP context", optional=True),
        _p("spId", "int", "security profile used with TLS", range=(1, 6), optional=True),
        _p("cnx_to_sec", "int", "connection timeout", unit="s", optional=True),
        _p("inactivity_to", "int", "inactivity timeout", unit="s", optional=True),
    )),)),
    Command("+SQNHTTPCONNECT", "connect an HTTP profile (result as a URC)", "SQN-REF 7",
            forms=(Form((_p("prof_id", "int", "HTTP profile", range=(0, 2)),)),),
            response_prefix="+SQNHTTPCONNECT:", timeout=120),
    Command("+SQNHTTPQRY", "HTTP GET/HEAD/DELETE", "SQN-REF 7", timeout=120),
    Command("+SQNHTTPSND", "HTTP POST/PUT", "SQN-REF 7", data_phase="prompt", timeout=120),
    Command("+SQNHTTPRCV", "read the HTTP response body", "SQN-REF 7"),
    Command("+SQNSD", "open a socket", "SQN-REF 6", timeout=120),
    Command("+SQNSSCFG", "bind a security profile to a socket", "SQN-REF 6"),
    Command("+SQNSCFG", "socket configuration", "SQN-REF 6"),
    Command("+SQNCTM", "conformance test mode (operator profile)", "SQN-REF 3"),
    Command("+SQNNTP", "NTP time synchronisation", "SQN-REF 3"),
)

_RC = _p("rc", "int", "result (libcurl CURLcode numbering)", values=HTTP_RC)
_PROF = _p("prof_id", "int", "HTTP profile")
URCS = (
    Urc("+SQNHTTPCONNECT:", (_PROF, _RC), "the HTTP profile's connection result", "SQN-REF 7"),
    Urc("+SQNHTTPSH:", (_PROF, _RC), "the HTTP connection was closed or failed", "SQN-REF 7"),
    Urc("+SQNHTTPRING:", (_PROF, _p("http_status", "int", "HTTP status (0 = failed)"),
                          _p("content_type", "str", "content type"),
                          _p("data_size", "int", "body size", unit="bytes")),
        "an HTTP response arrived", "SQN-REF 7"),
    Urc("+SYSSTART", (), "the module booted (all state lost)", "SQN-REF 3"),
    Urc("+SQNSRING:", (_p("connId", "int", "socket"),), "socket data arrived", "SQN-REF 6"),
    Urc("+SQNSH:", (_p("connId", "int", "socket"),), "socket closed", "SQN-REF 6"),
)
RESPONSES = MappingProxyType({
    "+SQNSPCFG:": (
        *_COMMANDS[2].forms[0].params[:7],
        _p("storageId", "int", "key storage"), _p("resume", "int", "session resumption"),
        _p("lifetime", "int", "session lifetime")),
})

CATALOG = Catalog(
    dialect=DIALECT,
    title="Sequans Monarch / Monarch 2 (GM01Q, GM02S, RYZ014A...)",
    sources=MappingProxyType({"SQN-REF": "shared/reference/sequans.md",
                              "SQN-FORUM": "forum.sequans.com/t/265 (seed 002)",
                              "CURL": "curl include/curl/curl.h CURLcode"}),
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
    urcs=URCS,
    errors=ERRORS,
)
