"""The Sequans Monarch / Monarch 2 dialect (``+SQN`` commands): the vendor's facts as data.

Sources (keys used in every entry's ``source``; the ``S#``/``L#`` ids are those of the reference
file, which names each underlying document, driver or thread):

- ``SQN-REF``: ``shared/reference/sequans.md``, sections ``§2`` (framing) to ``§13`` (unknowns).
  Its own sources: S1 the seed thread, S2 the ``sequans-rs`` ``monarch2`` crate (excerpts of the
  Monarch 2 GM02S AT manual), S3/S4/S5 the Walter GM02SP drivers and documents, S6 Microchip's
  AVR-IoT driver, S7 Azure EWF (RYZ014A), S8 Renesas r_cellular, S9 Toit, S11 Verizon SDK, S12
  NXP GM01Q port, S13 GM02SP notes and bench, S14 curl's CURLcode list, L1-L10 real logs.
- ``SQN-FORUM``: the seed thread (``shared/seeds/002_9bc2f2002015c2f2.txt``, S1): a real log, and
  Sequans support quoting the manual's ``certValidLevel`` definition.
- ``CURL``: curl's ``include/curl/curl.h`` CURLcode list (S14).
- ``27.007``: 3GPP TS 27.007 (``+CFUN``, ``+CGDCONT``, ``+CEREG``, ``+CGPADDR``, ``+CSQ``).

Where the sources disagree, the reference's choice is kept and said: the data prompt is
``CR LF > space`` (L1) although ``>>>`` is named in S13 (a driver accepts both); the
``+SQNSPCFG`` echo has 10 fields (S1) although S2 expects 12; NV indexes 0-4 and 7-10 are reserved
for Sequans (S2) although S5 recommends 10-19, so :data:`USER_NV_INDEXES` is 11-19.
"""

from __future__ import annotations

from types import MappingProxyType

from celltls.at.framing import BlockHeader
from celltls.dialects.spec import Catalog, Command, Form, Param, Problem, Urc

DIALECT = "sequans"

SOURCES = MappingProxyType({
    "SQN-REF": "shared/reference/sequans.md (Sequans Monarch / Monarch 2 AT reference for "
               "celltls, with source ids S1-S16, L1-L10)",
    "SQN-FORUM": "forum.sequans.com/t/stuck-in-loading-certificate/265 (seed 002, S1)",
    "CURL": "curl include/curl/curl.h CURLcode list (S14)",
    "27.007": "3GPP TS 27.007 AT command set for User Equipment",
})

# -- limits -------------------------------------------------------------------------------------

#: NV memory indexes of +SQNSNVW/+SQNSNVR (SQN-REF §4: S5, S8 max index 19).
NV_INDEX = (0, 19)
#: Indexes the Monarch 2 manual reserves for Sequans internal use (SQN-REF §4, S2); slots 0-3 and
#: 19 came pre-filled with roots on an AVR-IoT GM02S (L4).
RESERVED_NV_INDEXES = frozenset({0, 1, 2, 3, 4, 7, 8, 9, 10})
#: Indexes celltls writes by default: above every reserved one (SQN-REF §4, §12 pitfall 8).
USER_NV_INDEXES = tuple(range(11, 20))
#: Largest certificate (SQN-REF §4: Monarch 2 manual via S2, 8 kB).
MAX_CERTIFICATE = 8192
#: Largest private key (SQN-REF §4: Monarch 2 manual via S2, 2 kB).
MAX_PRIVATE_KEY = 2048
#: Security profiles <spId> (SQN-REF §5: S2 "up to 6", S3/S4/S8).
SP_ID = (1, 6)
#: Socket connection ids <connId> (SQN-REF §6).
CONN_ID = (1, 6)
#: HTTP client profiles <prof_id> (SQN-REF §7: S3, S5 "0, 1 or 2").
HTTP_PROFILE = (0, 2)
#: PDP context ids (SQN-REF §3: +CGDCONT cid 1..16, S2).
CID = (1, 16)
#: Largest payload of one AT+SQNSSENDEXT (SQN-REF §6: S7, S8 CELLULAR_MAX_TX_SIZE 1500).
MAX_SEND = 1500
#: Largest <maxBytes> of one AT+SQNSRECV (SQN-REF §6: S4, S8 1..1500).
MAX_RECV = 1500
#: Longest host name celltls writes in +SQNSD / +SQNHTTPCFG (no documented limit, SQN-REF §13;
#: the DNS limit of 253 characters is our bound).
MAX_HOSTNAME = 253
#: Longest <resource> / header line written (no documented limit, SQN-REF §13; our bound).
MAX_RESOURCE = 1024
#: <connTo> of +SQNSCFG, in 100 ms units (SQN-REF §6: S8, S9; 0 = no limit).
CONN_TIMEOUT_UNITS = (0, 1200)

# -- value tables -------------------------------------------------------------------------------

#: certValidLevel bits (SQN-FORUM, quoting the AT Commands Reference Manual; SQN-REF §5).
CERT_VALID_BITS = MappingProxyType({
    0: "validate against the imported trusted root certificates and the validity period",
    1: "unused",
    2: "verify the server URL against the certificate's common name (needs bit 0)",
    3: "reserved", 4: "reserved", 5: "reserved", 6: "reserved", 7: "reserved",
})
#: certValidLevel bit 0: chain to an imported root, and validity dates (SQN-FORUM).
CVL_VERIFY = 0x01
#: certValidLevel bit 2: server URL against the certificate's common name, only with bit 0
#: (SQN-FORUM).
CVL_HOSTNAME = 0x04
#: certValidLevel bits that must stay 0: bit 1 unused, bits 3-7 reserved (SQN-FORUM).
CVL_RESERVED = 0xFA
#: The certValidLevel values the manual allows (SQN-FORUM): off, chain and dates, and chain,
#: dates and host name.
CVL_VALID = MappingProxyType({
    0x00: "no validation (default)",
    0x01: "chain to an imported root and validity period",
    0x05: "chain to an imported root, validity period and host name",
})

#: +SQNSPCFG <version> (SQN-REF §5: S2 SslTlsVersion, S3/S4 enums).
TLS_VERSION = MappingProxyType({0: "TLS 1.0", 1: "TLS 1.1", 2: "TLS 1.2", 3: "TLS 1.3",
                                255: "reset to default"})
#: +SQNSPCFG <storageId> (SQN-REF §5, S2).
STORAGE_ID = MappingProxyType({0: "private key in NV memory", 1: "HCE: the host MCU signs",
                               2: "reserved"})

#: Cipher suites of the Monarch 2 manual (SQN-REF §9: S2 CipherSuite), IANA codes; ECDHE-GCM and
#: CHACHA20 appear only in S6's list, unverified for any firmware.
CIPHER_SUITES = (
    0x1301, 0x1302, 0x1303, 0x1304, 0x1305,
    0x002F, 0x0035, 0x003C, 0x003D, 0x009C, 0xC0A0, 0xC0A1,
    0x0033, 0x0039, 0x0067, 0x006B,
    0xC009, 0xC00A, 0xC0AC, 0xC0AE, 0xC0AF,
    0xC013, 0xC014,
    0x008C, 0x008D, 0x00A8, 0x00A9, 0x00AA, 0x00AB, 0x00AE, 0x00AF, 0x00B2, 0x00B3,
    0xC0A4, 0xC0A5, 0xC0A6, 0xC0A7, 0xC0A8, 0xC0A9,
    0x000A, 0xC008, 0xC012,
)
#: Suites only Microchip's driver offers (SQN-REF §9, S6): ECDHE-GCM, SHA-256/384 CBC, CHACHA20.
CIPHER_SUITES_S6 = (0x009D, 0x009E, 0x009F, 0xC02B, 0xC02C, 0xC02F, 0xC030, 0xC023, 0xC024,
                    0xC027, 0xC028, 0xC037, 0xCCA8, 0xCCA9, 0xCCAA, 0xCCAB, 0xCCAC, 0xCCAD)

#: <rc> of +SQNHTTPCONNECT / +SQNHTTPSH: libcurl CURLcode numbers (SQN-REF §8: S6 calls them
#: libcurl codes, S3 prints "CURL: %d"; CURL). Only 77 is seen from a real module (SQN-FORUM).
HTTP_RC = MappingProxyType({
    0: "OK", 1: "unsupported protocol", 3: "URL malformed", 6: "could not resolve host",
    7: "could not connect", 28: "operation timed out", 35: "SSL connect error (handshake)",
    47: "too many redirects", 52: "got nothing", 55: "send error", 56: "receive error",
    58: "problem with the local client certificate", 59: "cipher problem",
    60: "peer certificate verification failed",
    77: "SSL CA certificate problem (CA missing, bad or validation set-up wrong)",
})

#: Sequans-specific +CME ERROR numbers (SQN-REF §10: 528-543 S3/S4, 551 S4/S13, 589/591 S2).
ERRORS = MappingProxyType({
    528: "upgrade failed", 529: "corrupted image", 530: "invalid signature",
    531: "network error", 532: "upgrade already in progress", 533: "no upgrade to cancel",
    540: "HW config failed", 541: "invalid function",
    542: "invalid function parameter", 543: "pins already assigned", 551: "wrong state",
    589: "dual mode not configured", 591: "device in active state"})
#: The 27.007 +CME ERROR numbers the Sequans drivers enumerate (SQN-REF §10: S3/S4
#: WalterModemCMEError), with the contexts observed on Sequans modules.
CME_27007 = MappingProxyType({
    0: "equipment failure", 1: "no connection", 2: "link reserved", 3: "operation not allowed",
    4: "operation not supported (AT+SQNHTTPRCV with a size on Walter firmware, S3)",
    10: "SIM not inserted (AT+CPIN? in CFUN=0, S13)", 11: "SIM PIN required",
    12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy", 15: "SIM wrong",
    16: "incorrect password", 20: "memory full", 21: "invalid index", 22: "not found",
    23: "memory failure", 24: "text too long", 25: "invalid characters in text",
    30: "no network service", 31: "network timeout", 32: "emergency calls only",
    50: "incorrect parameters (empty PAP AT+CGAUTH on UE8.2.1.0, S13)", 60: "system failure",
    100: "unknown",
})
#: The +CME ERROR a module gives for each kind of argument fault: not documented for Sequans
#: (SQN-REF §13 "error for out-of-range values: unknown"); 50 "incorrect parameters" is the
#: 27.007 code its drivers enumerate, our reading.
ARGUMENT_ERRORS: MappingProxyType[Problem, int | None] = MappingProxyType({
    "unexpected": 50, "range": 50, "value": 50, "missing": 50, "length": 50, "format": 50,
    "unsafe": 50})

#: +CEREG <stat> (27.007 10.1.22; 80 is Sequans-specific: SQN-REF §3, S2/S3 enum, S8, S13).
CEREG_STAT = MappingProxyType({
    0: "not registered, not searching", 1: "registered, home network",
    2: "not registered, searching", 3: "registration denied", 4: "unknown",
    5: "registered, roaming", 6: "registered for SMS only, home", 7: "registered for SMS only, "
    "roaming", 8: "attached for emergency bearer services only",
    9: "registered for CSFB not preferred, home", 10: "registered for CSFB not preferred, roaming",
    80: "registered, temporary connection loss (Sequans)",
})
#: +CFUN <fun> (SQN-REF §3: S3 enum, S9, S13).
CFUN = MappingProxyType({0: "minimum (RF off, SIM not readable)", 1: "full functionality",
                         4: "airplane (RF off, SIM readable)", 5: "manufacturing"})
#: +SQNSS <state> (SQN-REF §6, S4 enum).
SOCKET_STATE = MappingProxyType({
    0: "closed", 1: "active data transfer", 2: "suspended", 3: "suspended with pending data",
    4: "listening", 5: "incoming connection", 6: "opening"})
#: +SQNSCFGEXT <srMode>: the +SQNSRING form (SQN-REF §6: S4, S11).
SRING_MODE = MappingProxyType({0: "+SQNSRING: <connId>", 1: "+SQNSRING: <connId>,<bytes>",
                               2: "+SQNSRING: <connId>,<bytes>,<data>"})
#: +SQNSCFGEXT <recvDataMode>/<sendDataMode> (SQN-REF §6: S4, S12).
DATA_MODE = MappingProxyType({0: "raw (text)", 1: "hexadecimal"})
#: +SQNSD <txProt> (SQN-REF §6).
TX_PROT = MappingProxyType({0: "TCP", 1: "UDP"})
#: +SQNSD <closureType> (SQN-REF §6, S12).
CLOSURE_TYPE = MappingProxyType({0: "close locally as soon as the peer closes",
                                 255: "close only after +++"})
#: +SQNSD <connMode> (SQN-REF §6, S12; every driver uses 1).
CONN_MODE = MappingProxyType({0: "online (data) mode, result CONNECT",
                              1: "command mode, result OK, then SQNSSENDEXT/SQNSRECV"})
#: +SQNSSENDEXT <rai> (SQN-REF §6, S4; Monarch 2).
RAI = MappingProxyType({0: "no information", 1: "no further RX/TX expected",
                        2: "one more RX/TX expected"})
#: +SQNHTTPQRY <command> (SQN-REF §7: S3, S4, S6, S13).
HTTP_QUERY = MappingProxyType({0: "GET", 1: "HEAD", 2: "DELETE"})
#: +SQNHTTPSND <command> (SQN-REF §7: S3, S4, S6).
HTTP_SEND = MappingProxyType({0: "POST", 1: "PUT"})
#: +SQNHTTPSND <post_param>: the Content-Type the module writes (SQN-REF §7: S3, S6, S13).
POST_PARAM = MappingProxyType({0: "application/x-www-form-urlencoded", 1: "text/plain",
                               2: "application/octet-stream", 3: "multipart/form-data",
                               4: "application/json"})
#: +SQNHTTPCFG <auth_type> (SQN-REF §7, S3).
HTTP_AUTH = MappingProxyType({0: "none", 1: "HTTP basic"})
#: +SQNSNVW/+SQNSNVR <data_type> (SQN-REF §4: S2 DataType, every driver).
NV_DATA_TYPE = MappingProxyType({"certificate": "certificate (PEM; several may be "
                                 "concatenated)", "privatekey": "private key (PEM, no password)"})

# -- framing ------------------------------------------------------------------------------------

#: The data prompt: CR LF '>' space, no line end (SQN-REF §2: S7, S3, L1, L2). ``>>>`` is also
#: named (S13); the AT core takes the first '>' either way.
PROMPT = b"\r\n> "
#: What precedes the body in the answer to AT+SQNHTTPRCV: ``CR LF <<<`` then the body, no length
#: and no line end, then ``CR LF OK CR LF`` (SQN-REF §2, L1, S4).
HTTP_BODY_MARKER = b"\r\n<<<"
#: What ends the body of AT+SQNHTTPRCV (SQN-REF §2, L1).
HTTP_BODY_END = b"\r\nOK\r\n"
#: The header of AT+SQNSRECV's answer: ``+SQNSRECV: <connId>,<len>`` then exactly <len> raw bytes,
#: CR LF, then OK (SQN-REF §6: S7, S3/S9); a UDP any-remote socket adds ``,<remIP>,<remPort>``.
SQNSRECV_BLOCK = BlockHeader(r"\+SQNSRECV: ?(?P<conn>\d+),(?P<length>\d+)(,.*)?",
                             max_length=MAX_RECV)


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


_CONN = _p("connId", "int", "socket connection id", range=CONN_ID)
_PROF = _p("prof_id", "int", "HTTP client profile", range=HTTP_PROFILE)
_NV_TYPE = _p("data_type", "str", "what is stored", values=NV_DATA_TYPE)
_RC = _p("rc", "int", "result (libcurl CURLcode numbering)", values=HTTP_RC)

_SPCFG_PARAMS = (
    _p("spId", "int", "security profile", range=SP_ID),
    _p("version", "int", "TLS version", values=TLS_VERSION),
    _p("cipherSpecs", "str", "';'-separated 0x-prefixed IANA suite codes (\"\" = all "
       "supported, the default)", max_len=512),
    _p("certValidLevel", "hexint", "server certificate validation bit field (bits: "
       "CERT_VALID_BITS; valid values: CVL_VALID)", range=(0, 0xFF), default=0),
    _p("caCertificateID", "int", "NV index of the trusted CA(s); empty = none", range=NV_INDEX,
       optional=True),
    _p("clientCertificateID", "int", "NV index of the client certificate; empty = none",
       range=NV_INDEX, optional=True),
    _p("clientPrivateKeyID", "int", "NV index of the client private key; empty = none",
       range=NV_INDEX, optional=True),
    _p("psk", "str", "pre-shared key, hex digits (\"\" = none)", optional=True, secret=True,
       max_len=128),
    _p("pskIdentity", "str", "PSK identity", optional=True, max_len=128),
    _p("storageId", "int", "where the private key is", values=STORAGE_ID, optional=True,
       default=0),
    _p("resume", "int", "TLS session resumption", values={0: "off", 1: "on"}, optional=True,
       default=0),
    _p("lifetime", "int", "session lifetime cap (0 = none)", unit="s", optional=True,
       range=(0, 2**31 - 1), default=0),
)

_COMMANDS = (
    # -- 27.007 bring-up -----------------------------------------------------------------------
    Command("+CMEE", "report mobile termination errors (1: numeric +CME ERROR)",
            "27.007 9.1; SQN-REF §2 (S2, S4)",
            forms=(Form((_p("n", "int", "error format", range=(0, 2)),)),),
            response_prefix="+CMEE:", timeout=2),
    Command("+CGMI", "manufacturer (\"SEQUANS Communications\", L10)", "27.007 5.1; SQN-REF §3",
            timeout=2),
    Command("+CGMM", "model identification", "27.007 5.2; SQN-REF §3", timeout=2),
    Command("+CGMR", "firmware revision (UE8.2.1.0, LR5.1.1.0-32741...)",
            "27.007 5.3; SQN-REF §3 (S16, L7, S13)", timeout=2),
    Command("+CFUN", "functionality level", "27.007 8.2; SQN-REF §3 (S3, S9, S13)",
            forms=(Form((_p("fun", "int", "functionality", values=CFUN),)),),
            response_prefix="+CFUN:", timeout=30),
    Command("+CGDCONT", "define a PDP context (only while not registered)",
            "27.007 10.1.1; SQN-REF §3 (S2, S8, S13)",
            forms=(Form((_p("cid", "int", "context", range=CID),
                         _p("PDP_type", "str", "IP, IPV6 or IPV4V6",
                            values={"IP": "IPv4", "IPV6": "IPv6", "IPV4V6": "dual stack"}),
                         _p("APN", "str", "access point name", max_len=100))),),
            response_prefix="+CGDCONT:", timeout=5),
    Command("+CGAUTH", "PDP context authentication (1,0 = none; empty PAP gives CME 50)",
            "27.007 10.1.31; SQN-REF §3 (S13)",
            forms=(Form((_p("cid", "int", "context", range=CID),
                         _p("auth_prot", "int", "0 none, 1 PAP, 2 CHAP", range=(0, 2)),
                         _p("userid", "str", "user", optional=True, max_len=64),
                         _p("password", "str", "password", optional=True, max_len=64,
                            secret=True))),),
            timeout=5),
    Command("+CEREG", "EPS registration (URC mode 0-5; stat 80 = temporary loss)",
            "27.007 10.1.22; SQN-REF §3 (S1, S2, S3, L6)",
            forms=(Form((_p("n", "int", "URC mode", range=(0, 5)),)),),
            response_prefix="+CEREG:"),
    Command("+CGPADDR", "PDP address: +CGPADDR: <cid>,\"<ip>\"", "27.007 10.1.14; SQN-REF §3 "
            "(S11)", forms=(Form((_p("cid", "int", "context", range=CID, optional=True),)),),
            response_prefix="+CGPADDR:"),
    Command("+CSQ", "signal quality: dBm = -113 + 2*rssi, 99 unknown", "27.007 8.5; SQN-REF §3 "
            "(S3, L3)", response_prefix="+CSQ:", timeout=2),
    Command("+CESQ", "extended signal quality (255 = not measured)", "27.007 8.69; SQN-REF §3 "
            "(S16, S3, S13)", response_prefix="+CESQ:", timeout=2),
    Command("+CCLK", "clock \"yy/MM/dd,hh:mm:ss+zz\" (unset: 70/01/01)",
            "27.007 8.15; SQN-REF §3 (S2, S6, S8)",
            forms=(Form((_p("time", "str", "yy/MM/dd,hh:mm:ss+zz", max_len=20),)),),
            response_prefix="+CCLK:", timeout=2),
    Command("^RESET", "reboot the module (then +SYSSTART)", "SQN-REF §3 (S3, S6)", timeout=30),
    Command("+SQNCTM", "conformance test mode (operator profile); setting it reboots",
            "SQN-REF §3 (S10, S13)", response_prefix="+SQNCTM:"),
    Command("+SQNNTP", "NTP time synchronisation", "SQN-REF §3 (S6)"),
    # -- credentials ---------------------------------------------------------------------------
    Command("+SQNSNVW", "write a certificate or private key in NV memory (size 0 deletes, "
            "no prompt)", "SQN-REF §4 (S2, S3, S6, S7, S8; S1 log)",
            forms=(Form((
                _NV_TYPE,
                _p("index", "int", "NV slot (0-4 and 7-10 reserved for Sequans)",
                   range=NV_INDEX),
                _p("size", "int", "bytes that follow the > prompt, no terminator (0 deletes); "
                   "≤ 8192 for a certificate, ≤ 2048 for a key (Monarch 2)",
                   range=(0, MAX_CERTIFICATE), unit="bytes"),
            )),), data_phase="prompt", timeout=15),
    Command("+SQNSNVR", "read NV entries: certificate metadata (not the PEM); an empty slot "
            "answers ERROR", "SQN-REF §4 (L4, L5, S7)",
            forms=(Form((_NV_TYPE, _p("index", "int", "NV slot", range=NV_INDEX,
                                      optional=True))),),
            response_prefix="+SQNSNVR:", timeout=5),
    # -- security profiles ---------------------------------------------------------------------
    Command("+SQNSPCFG", "configure a TLS security profile; answered by an echo line, then OK",
            "SQN-REF §5 (S1, S2, S3, S4, S6, S7, S8); SQN-FORUM",
            forms=(Form(_SPCFG_PARAMS),), response_prefix="+SQNSPCFG:", timeout=5,
            note="certValidLevel 7 is accepted with OK and fails only at connect time "
                 "(error 77, SQN-FORUM)"),
    # -- sockets -------------------------------------------------------------------------------
    Command("+SQNSCFG", "socket configuration", "SQN-REF §6 (S7, S8, S9, S11)",
            forms=(Form((
                _CONN,
                _p("cid", "int", "PDP context", range=CID),
                _p("pktSz", "int", "packet size (0 = automatic)", range=(0, 1500),
                   unit="bytes", default=300),
                _p("maxTo", "int", "idle timeout (0 = off)", range=(0, 65535), unit="s"),
                _p("connTo", "int", "connect timeout in 100 ms units (0 = no limit)",
                   range=CONN_TIMEOUT_UNITS, default=600),
                _p("txTo", "int", "send timeout in 100 ms units (0 = no limit)",
                   range=(0, 255), default=50),
            )),), response_prefix="+SQNSCFG:"),
    Command("+SQNSCFGEXT", "extended socket configuration (+SQNSRING form, data modes)",
            "SQN-REF §6 (S4, S7, S8, S11, S12)",
            forms=(Form((
                _CONN,
                _p("srMode", "int", "+SQNSRING form", values=SRING_MODE),
                _p("recvDataMode", "int", "received data format", values=DATA_MODE),
                _p("keepalive", "int", "unused (S12)", range=(0, 240)),
                _p("listenAutoRsp", "int", "listen auto response", range=(0, 1),
                   optional=True),
                _p("sendDataMode", "int", "sent data format", values=DATA_MODE, optional=True),
            )),), response_prefix="+SQNSCFGEXT:"),
    Command("+SQNSSCFG", "bind a security profile to a socket (while not connected)",
            "SQN-REF §6 (S3, S7, S8)",
            forms=(Form((_CONN, _p("enable", "int", "TLS on the socket", range=(0, 1)),
                         _p("spId", "int", "security profile", range=SP_ID,
                            optional=True))),),
            response_prefix="+SQNSSCFG:"),
    Command("+SQNSD", "open a socket (connMode 1: OK once connected)",
            "SQN-REF §6 (S3, S8, S9, S11, S12)",
            forms=(Form((
                _CONN,
                _p("txProt", "int", "protocol", values=TX_PROT),
                _p("rPort", "int", "remote port", range=(1, 65535)),
                _p("IPaddr", "str", "remote address or host name", max_len=MAX_HOSTNAME),
                _p("closureType", "int", "closure", values=CLOSURE_TYPE, optional=True),
                _p("lPort", "int", "local UDP port (ignored for TCP)", range=(0, 65535),
                   optional=True),
                _p("connMode", "int", "online or command mode", values=CONN_MODE,
                   optional=True),
                _p("acceptAnyRemote", "int", "UDP: 0 off, 1 receive any, 2 receive and send "
                   "to any", range=(0, 2), optional=True),
            )),), timeout=125, failure_results=("NO CARRIER",)),
    Command("+SQNSSENDEXT", "send exactly <bytes> after the > prompt",
            "SQN-REF §6 (S4, S7, L1, L2)",
            forms=(Form((_CONN, _p("bytes", "int", "payload length", range=(1, MAX_SEND),
                                   unit="bytes"),
                         _p("rai", "int", "release assistance (Monarch 2)", values=RAI,
                            optional=True))),),
            data_phase="prompt", timeout=30),
    Command("+SQNSSEND", "send data ended by Ctrl-Z after the > prompt", "SQN-REF §6 (S11)",
            forms=(Form((_CONN,)),), data_phase="prompt", timeout=30),
    Command("+SQNSRECV", "read buffered bytes: +SQNSRECV: <connId>,<len>, <len> bytes, OK",
            "SQN-REF §6 (S3, S4, S7, S8, S9; L2)",
            forms=(Form((_CONN, _p("maxBytes", "int", "most bytes to read",
                                   range=(1, MAX_RECV), unit="bytes"))),),
            response_prefix="+SQNSRECV:", timeout=10),
    Command("+SQNSI", "socket counters: +SQNSI: <connId>,<sent>,<received>,<buff_in>,"
            "<ack_waiting>", "SQN-REF §6 (S4, S7, S9)",
            forms=(Form((_p("connId", "int", "socket", range=CONN_ID, optional=True),)),),
            response_prefix="+SQNSI:", timeout=5),
    Command("+SQNSS", "socket states: +SQNSS: <connId>,<state>,<locIP>,<locPort>,<remIP>,"
            "<remPort>[,<txProt>]", "SQN-REF §6 (S4)",
            forms=(Form((_p("connId", "int", "socket", range=CONN_ID, optional=True),)),),
            response_prefix="+SQNSS:", timeout=5),
    Command("+SQNSH", "close a socket", "SQN-REF §6 (S3, S7, S11)",
            forms=(Form((_CONN,)),), timeout=10),
    # -- HTTP client ---------------------------------------------------------------------------
    Command("+SQNHTTPCFG", "configure an HTTP client profile", "SQN-REF §7 (S1, S3, S4, S6)",
            forms=(Form((
                _PROF,
                _p("server_address", "str", "host name or IP address only (no path)",
                   max_len=MAX_HOSTNAME),
                _p("server_port", "int", "server port", range=(1, 65535)),
                _p("auth_type", "int", "authentication", values=HTTP_AUTH, optional=True),
                _p("username", "str", "user name", optional=True, max_len=64),
                _p("password", "str", "password", optional=True, secret=True, max_len=64),
                _p("ssl_enabled", "int", "TLS", values={0: "off", 1: "on"}, optional=True),
                _p("max_to_sec", "int", "whole transfer timeout", unit="s", optional=True,
                   range=(1, 65535), default=120),
                _p("cid", "int", "PDP context", optional=True, range=CID),
                _p("spId", "int", "security profile used with TLS", range=SP_ID,
                   optional=True),
                _p("cnx_to_sec", "int", "connection timeout (Monarch 2)", unit="s",
                   optional=True, range=(1, 65535), default=60),
                _p("inactivity_to", "int", "inactivity timeout (Monarch 2)", unit="s",
                   optional=True, range=(1, 65535), default=15),
            )),), response_prefix="+SQNHTTPCFG:", timeout=5),
    Command("+SQNHTTPCONNECT", "connect an HTTP profile: OK at once, the result as a URC",
            "SQN-REF §7 (S1, S3, S5)", forms=(Form((_PROF,)),), timeout=5),
    Command("+SQNHTTPDISCONNECT", "disconnect an HTTP profile: OK, then +SQNHTTPDISCONNECT",
            "SQN-REF §7 (S3, S4)", forms=(Form((_PROF,)),), timeout=5),
    Command("+SQNHTTPQRY", "HTTP GET/HEAD/DELETE: OK, later +SQNHTTPRING",
            "SQN-REF §7 (S3, S4, S6, S13)",
            forms=(Form((
                _PROF,
                _p("command", "int", "method", values=HTTP_QUERY),
                _p("resource", "str", "path and query", max_len=MAX_RESOURCE),
                _p("extra_header_line", "str", "one extra request header line",
                   optional=True, max_len=MAX_RESOURCE),
                _p("disconnect", "int", "Monarch 2 (S13); values unknown", optional=True),
                _p("max_to_sec", "int", "Monarch 2 (S13)", unit="s", optional=True),
            )),), timeout=10),
    Command("+SQNHTTPSND", "HTTP POST/PUT: > prompt, exactly <data_len> bytes, OK, later "
            "+SQNHTTPRING", "SQN-REF §7 (S3, S4, S6, L1, L3)",
            forms=(Form((
                _PROF,
                _p("command", "int", "method", values=HTTP_SEND),
                _p("resource", "str", "path and query", max_len=MAX_RESOURCE),
                _p("data_len", "int", "body length", range=(0, 2**31 - 1), unit="bytes"),
                _p("post_param", "int", "Content-Type", values=POST_PARAM, optional=True),
                _p("extra_header_line", "str", "one extra request header line",
                   optional=True, max_len=MAX_RESOURCE),
                _p("disconnect", "int", "Monarch 2 (S13); values unknown", optional=True),
                _p("max_to_sec", "int", "Monarch 2 (S13)", unit="s", optional=True),
            )),), data_phase="prompt", timeout=120),
    Command("+SQNHTTPRCV", "read the response body: CR LF <<<, the body, CR LF OK",
            "SQN-REF §7 (L1, S3, S4, S6)",
            forms=(Form((_PROF, _p("max_bytes", "int", "most bytes (CME 4 on Walter firmware, "
                                   "S3)", range=(1, 1500), optional=True))),),
            timeout=60),
)

URCS = (
    Urc("+SQNHTTPCONNECT:", (_PROF, _RC), "the HTTP profile's connection result (0 = "
        "connected)", "SQN-REF §7 (S1, S3)"),
    Urc("+SQNHTTPDISCONNECT:", (_PROF,), "the HTTP profile was disconnected",
        "SQN-REF §7 (S3, S4)"),
    Urc("+SQNHTTPSH:", (_PROF, _RC), "the HTTP connection was closed or failed",
        "SQN-REF §7, §8 (S1)"),
    Urc("+SQNHTTPRING:", (_PROF, _p("http_status", "int", "HTTP status (0 = failed: the "
                                    "reason is in +SQNHTTPSH)"),
                          _p("content_type", "str", "content type (\"\" if absent)"),
                          _p("data_size", "int", "body size", unit="bytes")),
        "an HTTP response arrived", "SQN-REF §7 (L1, L3, S16, S6)"),
    Urc("+SQNSRING:", (_CONN, _p("bytes", "int", "bytes waiting (srMode 1, 2)",
                                 unit="bytes"),
                       _p("data", "str", "the data (srMode 2)")),
        "socket data arrived", "SQN-REF §6 (S4, L2)"),
    Urc("+SQNSH:", (_CONN,), "the peer or the network closed the socket (the buffered data is "
        "still readable)", "SQN-REF §6 (S3, S7, S11, L2)"),
    Urc("+SYSSTART", (), "the module booted or rebooted: all state lost",
        "SQN-REF §3 (S2, S3, S6, S8, L3)"),
    Urc("+SHUTDOWN", (), "the module finished shutting down", "SQN-REF §3 (S2, S8)"),
    Urc("^EXIT:", (_p("reason", "str", "crash report"),),
        "firmware crash; the module restarts and prints +SYSSTART", "SQN-REF §2 (S8, L3, L8)"),
    Urc("+CEREG:", (_p("stat", "int", "EPS registration state", values=CEREG_STAT),
                    _p("tac", "str", "tracking area code"), _p("ci", "str", "cell id"),
                    _p("AcT", "int", "access technology (7 E-UTRAN)")),
        "EPS registration", "27.007 10.1.22; SQN-REF §3 (S1, S3)"),
    Urc("+CTZV:", (_p("tz", "str", "time zone"),), "network time zone", "SQN-REF §3 (S6, S8)"),
    Urc("+CTZE:", (_p("tz", "str", "time zone and daylight saving"),),
        "network time zone", "SQN-REF §3 (S6, S8)"),
    Urc("+SQNNTP:", (_p("status", "int", "0 = synchronised"),), "NTP result",
        "SQN-REF §3 (S6)"),
)

#: Information responses that are not command prefixes above or that have their own layout,
#: for the doctor (engine RESPONSES).
RESPONSES = MappingProxyType({
    # the echo of AT+SQNSPCFG=... (SQN-REF §5, S1): psk and pskIdentity are not printed
    "+SQNSPCFG:": (
        *_SPCFG_PARAMS[:7],
        _p("storageId", "int", "key storage"), _p("resume", "int", "session resumption"),
        _p("lifetime", "int", "session lifetime")),
    "+SQNSRECV:": (_CONN, _p("len", "int", "bytes that follow", unit="bytes")),
    "+SQNSS:": (_CONN, _p("state", "int", "socket state", values=SOCKET_STATE),
                _p("locIP", "str", "local address"), _p("locPort", "int", "local port"),
                _p("remIP", "str", "remote address"), _p("remPort", "int", "remote port")),
    "+SQNSI:": (_CONN, _p("sent", "int", "bytes sent", unit="bytes"),
                _p("received", "int", "bytes received", unit="bytes"),
                _p("buff_in", "int", "bytes buffered, not yet read", unit="bytes"),
                _p("ack_waiting", "int", "bytes sent, not yet acknowledged", unit="bytes")),
    "+SQNSNVR:": (_NV_TYPE, _p("index", "int", "NV slot"),
                  _p("issuer", "str", "issuer DN (name inferred, L4)"),
                  _p("serial", "str", "serial number (inferred)"),
                  _p("subject", "str", "subject DN (inferred)"),
                  _p("not_before", "str", "validity start (inferred)"),
                  _p("not_after", "str", "validity end (inferred)"),
                  _p("signature", "str", "signature algorithm (inferred)"),
                  _p("unknown", "str", "unknown"),
                  _p("fingerprint_algorithm", "str", "fingerprint algorithm (inferred)"),
                  _p("fingerprint", "str", "fingerprint, hex (inferred)")),
    "+CGPADDR:": (_p("cid", "int", "context"), _p("address", "str", "IP address")),
})

CATALOG = Catalog(
    dialect=DIALECT,
    title="Sequans Monarch / Monarch 2 (GM01Q, GM02S, GM02SP, RYZ014A...)",
    sources=SOURCES,
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
    urcs=URCS,
    errors=ERRORS,
    data_blocks=(SQNSRECV_BLOCK,),
)


def cert_valid_level(*, verify: bool, check_hostname: bool) -> int:
    """The ``certValidLevel`` bit field for a verification choice (SQN-FORUM; SQN-REF §5).

    Args:
        verify: validate the chain against the imported root(s) and the validity dates (bit 0).
        check_hostname: also compare the server name with the certificate (bit 2).

    Returns:
        int: 0, 1 or 5.

    Raises:
        ValueError: ``check_hostname`` without ``verify`` (the manual allows bit 2 only with
            bit 0).
    """
    if check_hostname and not verify:
        raise ValueError("certValidLevel bit 2 (host name) needs bit 0 (chain and dates)")
    return (CVL_VERIFY if verify else 0) | (CVL_HOSTNAME if check_hostname else 0)


def cert_valid_level_problem(level: int) -> str | None:
    """What is wrong with a ``certValidLevel`` value, bit by bit, or ``None`` when it is one of
    :data:`CVL_VALID` (SQN-FORUM, quoting the manual; SQN-REF §5, §12 pitfalls 1 and 3).

    Args:
        level: the value, 0..255.

    Returns:
        str | None: e.g. ``"bit 1 is unused"``; several faults joined by ``"; "``.
    """
    if not 0 <= level <= 0xFF:
        return f"{level} is outside the 8-bit field (0x00-0xFF)"
    faults: list[str] = []
    if level & 0x02:
        faults.append("bit 1 is unused")
    reserved = [bit for bit in range(3, 8) if level & (1 << bit)]
    if reserved:
        faults.append("bit" + ("s " if len(reserved) > 1 else " ")
                      + ", ".join(map(str, reserved)) + " reserved for future use")
    if level & CVL_HOSTNAME and not level & CVL_VERIFY:
        faults.append("bit 2 (host name check) cannot be used without bit 0 (root and "
                      "validity-date validation)")
    return "; ".join(faults) or None


def describe_cert_valid_level(level: int) -> str:
    """``certValidLevel`` decoded bit by bit, for errors and the doctor (SQN-FORUM)."""
    if level == 0:
        return "0x00: no validation"
    bits = [f"bit {bit} ({CERT_VALID_BITS[bit]})" for bit in range(8) if level & (1 << bit)]
    return f"0x{level:02X}: " + ", ".join(bits)
