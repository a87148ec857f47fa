"""The Quectel GSM dialect (M66, M95, MC60, M26...): SSL, certificate and TCP/IP bring-up commands.

Sources (keys used in every entry's ``source``):

- ``SSL-AN``: Quectel GSM SSL Application Note V3.3 (2020-04-01), the seed document
  ``shared/seeds/004_7a6abc4dd400d979.txt``.
- ``AT-M66``: Quectel M66 AT Commands Manual (the note's reference [3],
  ``Quectel_Mxx/MCxx_AT_Commands_Manual``), for ``+QIFGCNT``, ``+QICSGP``, ``+QIREGAPP``,
  ``+QIACT``, ``+QILOCIP``, ``+QIDEACT`` and their maximum response times.
- ``27.007``: 3GPP TS 27.007 for ``+CREG``, ``+CGREG``, ``+CGATT``, ``+CSQ``, ``+CMEE``.
- ``23.003``: 3GPP TS 23.003 section 9.1 (an APN's network identifier is at most 63 octets).

The application note spells some names in more than one way; :data:`MISSPELLINGS` says which
spelling the module rejects and why we believe it, :data:`SETTING_ALIASES` which other spelling
real firmware also takes.
"""

from __future__ import annotations

from types import MappingProxyType

from celltls.dialects.spec import Catalog, Command, DataBlock, Form, Misspelling, Param, Urc

DIALECT = "quectel-gsm"

SOURCES = MappingProxyType(
    {
        "SSL-AN": "Quectel GSM SSL Application Note V3.3 (2020-04-01)",
        "AT-M66": "Quectel M66 AT Commands Manual (Quectel_Mxx/MCxx_AT_Commands_Manual)",
        "27.007": "3GPP TS 27.007 AT command set for User Equipment",
        "23.003": "3GPP TS 23.003 Numbering, addressing and identification",
        "QFORUM-23599": "Quectel forum thread '+QFUPL: How is the checksum calculated?' (2023)",
    }
)

#: SSL contexts, secure sockets and foreground contexts (SSL-AN 2.2.1, 2.2.2, 2.2.4).
CTX_RANGE = (0, 5)
SSID_RANGE = (0, 5)
CID_RANGE = (0, 1)
#: Largest payload of one AT+QSSLSEND and one AT+QSSLRECV, bytes (SSL-AN 2.2.3, 2.2.4).
MAX_SEND = 1460
MAX_RECV = 1500
#: Largest certificate/key file in RAM and in NVRAM, bytes; the smallest is 1 (SSL-AN 2.2.7).
MAX_RAM_FILE = 32768
MAX_NVRAM_FILE = 2017
#: The only file names NVRAM accepts: CA certificate, client certificate, client key (SSL-AN 2.2.7).
NVRAM_NAMES = MappingProxyType(
    {"CA0": "server root CA certificate", "CC0": "client certificate", "CK0": "client private key"}
)
#: AT+QSSLOPEN <timeout> range and default, seconds (SSL-AN 2.2.2).
OPEN_TIMEOUT_RANGE = (10, 300)
OPEN_TIMEOUT_DEFAULT = 90
#: How long AT+QIOPEN may take to report CONNECT OK/CONNECT FAIL, seconds (quectel-gsm-tcpip.md 5:
#: mbed's M26 driver and RT-Thread's M26 driver use 75 s).
QIOPEN_TIMEOUT = 75
#: AT+QSECWRITE <timeout> range and default, seconds (SSL-AN 2.2.7).
SECWRITE_TIMEOUT_RANGE = (3, 200)
SECWRITE_TIMEOUT_DEFAULT = 100

#: Names of AT+QSSLCFG settings the module accepts besides those of the 2.2.1 table: the
#: 3.1 example's "ignorertctime" is taken as "ignorertc" by real firmware (public M26/M66
#: drivers send AT+QSSLCFG="ignorertctime",1 and abort unless OK comes back).
SETTING_ALIASES = MappingProxyType({"ignorertctime": "ignorertc"})

#: <sslversion> (SSL-AN 2.2.1, Table 1).
SSL_VERSIONS = MappingProxyType(
    {0: "SSL 3.0", 1: "TLS 1.0", 2: "TLS 1.1", 3: "TLS 1.2", 4: "all of SSL 3.0 to TLS 1.2"}
)
#: <ciphersuite>: IANA code -> name (SSL-AN 2.2.1 and Table 2); 0xFFFF selects all of them.
CIPHER_SUITES = MappingProxyType(
    {
        0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0005: "TLS_RSA_WITH_RC4_128_SHA",
        0x0004: "TLS_RSA_WITH_RC4_128_MD5",
        0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    }
)
ALL_CIPHER_SUITES = 0xFFFF
#: <seclevel> (SSL-AN 2.2.1).
SECLEVELS = MappingProxyType(
    {
        0: "no authentication",
        1: "server authentication",
        2: "server and client authentication (if requested by the server)",
    }
)
#: <connectcode> of +QSSLOPEN (SSL-AN 2.2.2).
CONNECT_CODES = MappingProxyType({0: "success", -1: "error", -2: "socket is occupied"})
#: <state> of AT+QSSLSTATE (SSL-AN 2.2.6).
IP_STATES = MappingProxyType(
    {
        "IP INITIAL": "the TCP/IP stack is idle",
        "IP START": "the TCP/IP stack has been registered (AT+QIREGAPP)",
        "IP CONFIG": "activating the GPRS/CSD context has started",
        "IP IND": "the GPRS/CSD context is being activated",
        "IP GPRSACT": "the GPRS/CSD context is active",
        "IP STATUS": "the local IP address has been read with AT+QILOCIP",
        "IP PROCESSING": "a connection is being established",
        "PDP DEACT": "the GPRS/CSD context was deactivated for an unknown reason",
    }
)
SOCKET_STATES = ("INITIAL", "CONNECTING", "CONNECTED", "REMOTE CLOSING", "CLOSING", "CLOSED")


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


_CTX = _p("ctxindex", "int", "SSL context index", range=CTX_RANGE)
_SSID = _p("ssid", "int", "secure socket identifier", range=SSID_RANGE)
_CID = _p("cid", "int", "foreground context number", range=CID_RANGE)
_FILENAME = _p(
    "filename",
    "str",
    '"RAM:<name>" or "NVRAM:<CA0|CC0|CK0>" (or CA0/CC0/CK0 alone)',
)


def _cfg(selector: str, value: Param | None, description: str, ctx: bool = True) -> Form:
    params: list[Param] = [_p("type", "str", "setting name", values={selector: description})]
    if ctx:
        params.append(_CTX)
    if value is not None:
        params.append(value)
    return Form(tuple(params), selector=selector, description=description)


_SSLCFG_FORMS = (
    _cfg("ctxindex", None, "query every setting of a context"),
    _cfg(
        "sslversion",
        _p("sslversion", "int", "SSL/TLS version", values=SSL_VERSIONS, range=(0, 4),
           optional=True, default=4),
        "SSL version of the context",
    ),
    _cfg(
        "ciphersuite",
        _p("ciphersuite", "hexint", "cipher suite code, 0xFFFF for all",
           values={**CIPHER_SUITES, ALL_CIPHER_SUITES: "all"}, optional=True,
           default=ALL_CIPHER_SUITES),
        "cipher suites of the context",
    ),
    _cfg(
        "seclevel",
        _p("seclevel", "int", "authentication mode", values=SECLEVELS, range=(0, 2),
           optional=True, default=0),
        "authentication mode of the context",
    ),
    _cfg("cacert", _p("cacertname", "str", "path of the trusted server root CA certificate",
                      optional=True), "trusted CA certificate file"),
    _cfg("clientcert", _p("clientcertname", "str", "path of the client certificate",
                          optional=True), "client certificate file"),
    _cfg("clientkey", _p("clientkeyname", "str", "path of the client private key",
                         optional=True), "client private key file"),
    _cfg(
        "ignorertc",
        _p("ignorertc", "int", "ignore the RTC when checking certificate validity",
           values={0: "check validity against the RTC", 1: "ignore the RTC"}, range=(0, 1),
           optional=True, default=0),
        "whether certificate validity is checked against the module's clock",
        ctx=False,
    ),
    _cfg("https", _p("httpsenable", "int", "HTTPS of the module's HTTP client",
                     values={0: "disable HTTPS", 1: "enable HTTPS"}, range=(0, 1),
                     optional=True, default=0), "HTTPS function", ctx=False),
    _cfg("httpsctxi", _p("httpsctxindex", "int", "SSL context used for HTTPS", range=CTX_RANGE,
                         optional=True), "SSL context for HTTPS", ctx=False),
    _cfg("smtpstyle", _p("smtpstyle", "int", "SMTP security",
                         values={0: "no SSL", 1: "SSL", 2: "STARTTLS"}, range=(0, 2),
                         optional=True, default=0), "type of SMTP/SMTPS", ctx=False),
    _cfg("smtpsctxi", _p("smtpsctxindex", "int", "SSL context used for SMTPS", range=CTX_RANGE,
                         optional=True), "SSL context for SMTPS", ctx=False),
)

_COMMANDS: tuple[Command, ...] = (
    Command(
        "+QSECWRITE",
        "add a certificate or key to RAM or NVRAM",
        "SSL-AN 2.2.7",
        forms=(
            Form((
                _FILENAME,
                _p("filesize", "int", "size of the file", range=(1, MAX_RAM_FILE), unit="bytes"),
                _p("timeout", "int", "time to wait for the data", range=SECWRITE_TIMEOUT_RANGE,
                   optional=True, default=SECWRITE_TIMEOUT_DEFAULT, unit="s"),
            )),
        ),
        response_prefix="+QSECWRITE:",
        timeout=SECWRITE_TIMEOUT_RANGE[1] + 5,
        data_phase="connect",
        note="RAM files up to 32768 bytes, NVRAM files up to 2017 bytes named CA0, CC0 or CK0. "
        "A file that already exists must be deleted first (2.2.7).",
    ),
    Command(
        "+QSECREAD",
        "query the checksum of a certificate or key",
        "SSL-AN 2.2.8",
        forms=(Form((_FILENAME,)),),
        response_prefix="+QSECREAD:",
        timeout=5,
    ),
    Command(
        "+QSECDEL",
        "delete a certificate or key",
        "SSL-AN 2.2.9",
        forms=(Form((_FILENAME,)),),
        timeout=5,
    ),
    Command(
        "+QSSLCFG",
        "configure an SSL context",
        "SSL-AN 2.2.1",
        forms=_SSLCFG_FORMS,
        response_prefix="+QSSLCFG:",
        timeout=1,
        note="Settings are not saved (2.2.1 'Characteristics'). The note's examples write "
        '"secllevel", "ignorertctime" and "ignorevertime"; the module\'s names are "seclevel" '
        'and "ignorertc" (see MISSPELLINGS).',
    ),
    Command(
        "+QSSLOPEN",
        "open an SSL socket to a server",
        "SSL-AN 2.2.2",
        forms=(
            Form((
                _SSID,
                _CTX,
                _p("ipaddr/domainname", "str", "server IP address or domain name", max_len=255),
                _p("port", "int", "server port", range=(1, 65535)),
                _p("connectmode", "int", "transfer mode",
                   values={0: "non-transparent mode", 1: "transparent mode"}, range=(0, 1)),
                _p("timeout", "int", "time allowed for the connection", range=OPEN_TIMEOUT_RANGE,
                   optional=True, default=OPEN_TIMEOUT_DEFAULT, unit="s"),
            )),
        ),
        response_prefix="+QSSLOPEN:",
        timeout=5,
        note="OK comes at once; the result comes later as +QSSLOPEN: <ssid>,<connectcode> "
        "(non-transparent) or CONNECT (transparent), within <timeout>. A transparent-mode "
        "failure is reported as +QSSLOPEN: <ssid>,<connectcode> too (2.2.2 table).",
    ),
    Command(
        "+QSSLSEND",
        "send data through an SSL connection",
        "SSL-AN 2.2.3",
        forms=(
            Form((
                _SSID,
                _p("length", "int", "length of the data", range=(1, MAX_SEND), optional=True,
                   unit="bytes"),
            )),
        ),
        response_prefix="+QSSLSEND:",
        timeout=60,
        data_phase="prompt",
        final_results=("SEND OK",),
        failure_results=("SEND FAIL",),
        note="Without <length> the data ends with Ctrl-Z (0x1A) and ESC (0x1B) cancels. SEND "
        "FAIL means the send is blocked: wait and retry; ERROR means the connection is gone: "
        "open it again (2.2.3). The note's headings write AT+QSSSEND (see MISSPELLINGS).",
    ),
    Command(
        "+QSSLRECV",
        "read received data of an SSL connection",
        "SSL-AN 2.2.4",
        forms=(
            Form((
                _CID,
                _SSID,
                _p("length", "int", "most bytes to read", range=(1, MAX_RECV), unit="bytes"),
            )),
        ),
        response_prefix="+QSSLRECV:",
        timeout=5,
        note="The answer is +QSSLRECV: <ipaddr>:<port>,TCP,<actual length> CR LF and then "
        "exactly that many raw bytes, then OK; OK alone when the buffer is empty. No new "
        "+QSSLURC: \"recv\" comes until the buffer has been read empty (2.2.10.1).",
    ),
    Command(
        "+QSSLCLOSE",
        "close an SSL connection",
        "SSL-AN 2.2.5",
        forms=(Form((_SSID,)),),
        response_prefix="+QSSLCLOSE:",
        timeout=30,
        final_results=("CLOSE OK",),
    ),
    Command(
        "+QSSLSTATE",
        "query the TCP/IP stack and socket states",
        "SSL-AN 2.2.6",
        response_prefix="+QSSLSTATE:",
        timeout=5,
    ),
    Command(
        "+QIFGCNT",
        "select the foreground context",
        "AT-M66 QIFGCNT; SSL-AN 1.2 step 2",
        forms=(Form((_p("id", "int", "context number", range=(0, 1)),)),),
        response_prefix="+QIFGCNT:",
        timeout=1,
    ),
    Command(
        "+QICSGP",
        "set the bearer, APN, user name and password of the foreground context",
        "AT-M66 QICSGP; SSL-AN 1.2 step 2",
        forms=(
            Form((
                _p("mode", "int", "bearer", values={0: "CSD", 1: "GPRS"}, range=(0, 1)),
                _p("apn", "str", "access point name", max_len=63, optional=True),
                _p("user name", "str", "user name of the APN", max_len=30, optional=True),
                _p("password", "str", "password of the APN", max_len=30, optional=True,
                   secret=True),
            )),
        ),
        response_prefix="+QICSGP:",
        timeout=1,
        note="APN at most 63 octets (23.003 9.1).",
    ),
    Command(
        "+QIREGAPP",
        "start the TCP/IP task with the foreground context's APN",
        "AT-M66 QIREGAPP; SSL-AN 1.2 step 2, 4.1",
        response_prefix="+QIREGAPP:",
        timeout=5,
    ),
    Command(
        "+QIACT",
        "activate the GPRS PDP context",
        "AT-M66 QIACT (maximum response time 150 s); SSL-AN 1.2 step 3, 4.1",
        timeout=150,
    ),
    Command(
        "+QILOCIP",
        "read the local IP address",
        "AT-M66 QILOCIP; SSL-AN 3.1 (answered by the bare address, no OK)",
        timeout=5,
        final_pattern=r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
    ),
    Command(
        "+QIDEACT",
        "deactivate the GPRS PDP context",
        "AT-M66 QIDEACT (maximum response time 40 s); SSL-AN 1.2 step 8",
        timeout=40,
        final_results=("DEACT OK",),
    ),
    Command(
        "+QIMUX",
        "enable multiple TCP/IP sessions",
        "AT-M66 QIMUX; SSL-AN 1.3 step 2",
        forms=(Form((_p("mode", "int", "sessions", values={0: "single", 1: "multiple"},
                        range=(0, 1)),)),),
        response_prefix="+QIMUX:",
        timeout=1,
    ),
    Command(
        "+CREG",
        "circuit-switched network registration status",
        "27.007 7.2",
        forms=(Form((_p("n", "int", "URC mode", range=(0, 2)),)),),
        response_prefix="+CREG:",
        timeout=1,
    ),
    Command(
        "+CGREG",
        "GPRS network registration status",
        "27.007 10.1.20",
        forms=(Form((_p("n", "int", "URC mode", range=(0, 2)),)),),
        response_prefix="+CGREG:",
        timeout=1,
    ),
    Command(
        "+CGATT",
        "attach to or detach from the packet domain",
        "27.007 10.1.9; SSL-AN 4.1",
        forms=(Form((_p("state", "int", "attach state", values={0: "detached", 1: "attached"},
                        range=(0, 1)),)),),
        response_prefix="+CGATT:",
        timeout=75,
    ),
    Command("+CSQ", "signal quality", "27.007 8.5", response_prefix="+CSQ:", timeout=1),
    Command(
        "+CMEE",
        "report mobile termination errors",
        "27.007 9.1",
        forms=(Form((_p("n", "int", "error format",
                        values={0: "plain ERROR", 1: "numeric +CME ERROR", 2: "verbose"},
                        range=(0, 2)),)),),
        response_prefix="+CMEE:",
        timeout=1,
    ),
    Command("+CGMM", "model identification", "27.007 5.2", timeout=1),
    Command("+CGMR", "firmware revision", "27.007 5.3", timeout=1),
    Command("+CCLK", "real-time clock", "27.007 8.15", response_prefix="+CCLK:", timeout=1),
    Command("I", "product identification", "V.250 6.1.3", timeout=1),
    Command("E", "command echo", "V.250 6.2.4", timeout=1),
    Command(
        "O",
        "return to data (transparent) mode",
        "V.250 6.3.7; SSL-AN 3.4.1 step 3",
        timeout=5,
        note="Answered by CONNECT; the line is then in transparent mode again.",
    ),
)

_URCS = (
    Urc(
        '+QSSLURC: "recv"',
        (_CID, _SSID),
        "data arrived on an SSL socket whose receive buffer was empty; read it with AT+QSSLRECV "
        "until it is empty, no other URC comes until then",
        "SSL-AN 2.2.10.1",
    ),
    Urc(
        '+QSSLURC: "closed"',
        (_SSID,),
        "the SSL connection was closed (by the peer, or the PDP context was deactivated); the "
        "module has closed the socket itself",
        "SSL-AN 2.2.10.2",
    ),
    Urc(
        "+QSSLOPEN:",
        (_SSID, _p("connectcode", "int", "result", values=CONNECT_CODES, range=(-2, 0))),
        "the result of AT+QSSLOPEN in non-transparent mode",
        "SSL-AN 2.2.2",
    ),
    Urc(
        "+CREG:",
        (_p("stat", "int", "registration state", range=(0, 5)),),
        "circuit-switched registration changed (after AT+CREG=1)",
        "27.007 7.2",
    ),
    Urc(
        "+CGREG:",
        (_p("stat", "int", "registration state", range=(0, 5)),),
        "packet-switched registration changed (after AT+CGREG=1)",
        "27.007 10.1.20",
    ),
    Urc("+PDP DEACT", (), "the network deactivated the PDP context", "AT-M66 QIDEACT"),
    Urc("RDY", (), "the module has started", "AT-M66 chapter 1"),
    Urc("Call Ready", (), "the module is ready for calls", "AT-M66 chapter 1"),
)

MISSPELLINGS = (
    Misspelling(
        "+QSSSEND",
        "+QSSLSEND",
        "SSL-AN 2.2.3 heading and table, 3.1 and 3.3 examples",
        "The note's own table of contents (1.2 step 6, 2.2.3 entry text) and its NVRAM example "
        "3.2 use AT+QSSLSEND, which matches the family's naming (QSSLOPEN, QSSLRECV, "
        "QSSLCLOSE); an unknown command is answered ERROR.",
    ),
    Misspelling(
        "+QSSLRCV",
        "+QSSLRECV",
        "SSL-AN 1.3 step 6, 2.2.4 note, 3.1 and 3.3 examples",
        "2.2.4's heading and command table and the 3.2 example use AT+QSSLRECV.",
    ),
    Misspelling(
        '"secllevel"',
        '"seclevel"',
        "SSL-AN 3.1-3.4 examples",
        "The command table of 2.2.1 defines \"seclevel\"; an unknown <type> is answered ERROR.",
    ),
    Misspelling(
        '"ignorevertime"',
        '"ignorertc"',
        "SSL-AN 3.2 example",
        "2.2.1 defines \"ignorertc\".",
    ),
)

CATALOG = Catalog(
    dialect=DIALECT,
    title="Quectel GSM modules (M66, M95, MC60, M26) SSL and TCP/IP commands",
    sources=SOURCES,
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
    urcs=_URCS,
    errors=MappingProxyType({}),
    data_blocks=(DataBlock(r"\+QSSLRECV: [^,]*:\d+,TCP,(?P<length>\d+)", max_length=MAX_RECV),),
    misspellings=MISSPELLINGS,
    # In transparent mode the module prints CLOSED when it leaves data mode by itself (SSL-AN
    # 1.2 step 6; the text is the one Quectel GSM TCP/IP drivers handle, quectel-gsm-tcpip.md §5).
    raw_exit_markers=(b"\r\nCLOSED\r\n",),
)


def qsec_checksum(data: bytes) -> str:
    """The checksum AT+QSECWRITE and AT+QSECREAD report for a file, as the module prints it.

    The application note (2.2.7, 2.2.8) does not define the algorithm. Quectel's file checksum,
    as worked out in the Quectel forum thread "+QFUPL: How is the checksum calculated?"
    (QFORUM-23599), is the XOR of the data taken as 16-bit big-endian words, an odd last byte
    padded with 0x00, printed in lower-case hexadecimal without leading zeros (compare the
    note's ``4039``, ``618`` and ``83a7``).

    Args:
        data: the file's bytes, exactly as uploaded.

    Returns:
        str: the checksum, e.g. ``"618"``.
    """
    value = 0
    for i in range(0, len(data), 2):
        word = data[i : i + 2]
        if len(word) == 1:
            word += b"\x00"
        value ^= int.from_bytes(word, "big")
    return format(value, "x")
