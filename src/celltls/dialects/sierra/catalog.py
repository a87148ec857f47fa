"""The Sierra Wireless AirPrime dialect (RC76xx, HL78xx): the ``+K`` IP, HTTP and TLS commands.

Sources (keys used in every entry's ``source``):

- ``HL75-ATIG``: AirPrime HL7518 and HL7548 AT Commands Interface Guide, 4116303 Rev 10.0
  (2017-08-10), chapter 11 "Protocol Specific Commands" (11.3 session IDs 1-32, 11.5 a command
  line holds at most 1023 characters, 11.7.5 ``+KCNX_IND``, 11.10.2 ``+KTCPCNX`` and the
  ``<tcp_notif>`` table, 11.10.3 ``+KTCPRCV``, 11.10.5 ``+KTCPCLOSE``, 11.10.6 ``+KTCPDEL``,
  11.10.10 ``+KTCPSTAT``). The HL78xx and RC76xx K commands share this family's syntax.
- ``HL78-ATIG``: AirPrime HL78xx AT Commands Interface Guide 41111821 Rev 12 (2020-08-04). Its
  text was not available to us beyond its title page; facts credited to it come from its
  public users below and are marked "(usage)".
- ``ZEPHYR-HL78``: Zephyr's HL78xx socket offload driver (``drivers/modem/hl78xx``): the
  ``AT+KCERTSTORE=<type>,<size>`` / ``AT+KPRIVKSTORE=0,<size>`` uploads ended by the EOF
  pattern, ``+KTCP_DATA``/``+KTCP_NOTIF`` URCs, ``AT+KSSLCRYPTO=0,8,1,8192,4,4,3,0``.
- ``TINYGSM-HL78``: TinyGSM's HL7800 client: ``AT+KPATTERN="--EOF--Pattern--"``,
  ``AT+KTCPCFG=1,0,"host",port`` answered ``+KTCPCFG: <session_id>``, ``AT+KTCPSND`` / ``CONNECT``
  / data / pattern / ``OK``, ``AT+KTCPRCV`` / ``CONNECT`` / data / pattern / ``OK``,
  ``+KTCPSTAT: <status>,<tcp_notif>,<rem_data>,<rcv_data>``, ``+KCNXCFG``, ``+KCNXUP``.
- ``SEED-000``: the support thread "RC7620 and HTTPS" (``shared/seeds/000_e632d0c88cd06812.txt``):
  ``+KCNX_IND: 1,2,7,2,30``; ``+KHTTP_IND: 1,1`` after ``AT+KHTTPCFG``; ``AT+KHTTPHEADER=1``
  answered ``CONNECT`` then, with no end-of-data pattern, ``+KHTTP_ERROR: 1,6``;
  ``+KHTTP_ERROR: 1,5`` for HTTPS until the server's CA is stored with ``AT+KCERTSTORE=0``
  (RC7620 form: the file, then ``+++``); ``+CME ERROR: 3`` for a 255-character
  ``AT+KHTTPGET`` URI while "about 98 characters" work; ``+KHTTPHEADER``/``+KHTTPPOST`` "not
  mentioned in the latest AirPrime RC76xx AT Command Reference Guide" (moderator).
- ``27.007``: 3GPP TS 27.007 (``+CEREG``, ``+CGREG``, ``+CGPADDR``, ``+CSQ``).

Where the sources disagree: the moderator of SEED-000 reads ``+KHTTP_ERROR: 1,6`` as "the
end-of-data pattern was missing", while the HL75-ATIG notification table names code 6 "Generic
error"; both meanings are given. RC76xx stores a certificate with ``AT+KCERTSTORE=<type>`` and
ends it with ``+++`` (SEED-000), HL78xx with ``AT+KCERTSTORE=<type>,<size>[,<index>]`` and the
EOF pattern (ZEPHYR-HL78): :data:`MODELS` names each difference with its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from celltls.dialects.spec import Answer, Catalog, Command, Form, Param, Problem, Urc

DIALECT = "sierra"

SOURCES = MappingProxyType(
    {
        "HL75-ATIG": "AirPrime HL7518 and HL7548 AT Commands Interface Guide 4116303 Rev 10.0",
        "HL78-ATIG": "AirPrime HL78xx AT Commands Interface Guide 41111821 Rev 12",
        "ZEPHYR-HL78": "Zephyr RTOS HL78xx modem driver (drivers/modem/hl78xx)",
        "TINYGSM-HL78": "TinyGSM HL7800 client (TinyGsmClientHL7800.h)",
        "SEED-000": "Sierra Wireless forum thread 'RC7620 and HTTPS' (seed 000)",
        "27.007": "3GPP TS 27.007 AT command set for User Equipment",
    }
)

#: The default end-of-data pattern (HL78-ATIG +KPATTERN (usage: TINYGSM-HL78); SEED-000).
DEFAULT_PATTERN = "--EOF--Pattern--"
#: Longest EOF pattern accepted, characters (HL78-ATIG +KPATTERN, 128; not verified).
MAX_PATTERN = 128
#: Session IDs shared by TCP, UDP, HTTP sessions (HL75-ATIG 11.3).
SESSION_RANGE = (1, 32)
#: Longest command line, characters (HL75-ATIG 11.5).
MAX_COMMAND_LINE = 1023
#: PDP context configurations (HL75-ATIG 11.7.5 <cnx cnf> 1-5; HL78xx test answers give (1-2):
#: sierra-hl78xx.md §3, L3 +KCGPADDR=?, S5d +KHTTPCFG=?).
CNX_RANGE = (1, 5)
#: +KSSLCRYPTO profiles: 0-15 before firmware 04.06, 0-7 from 04.06 (sierra-hl78xx.md §5, S5a).
CRYPTO_PROFILES = (0, 15)
#: +KSSLCRYPTO profiles of current HL78xx firmware (04.06 and later, sierra-hl78xx.md §5, S5a).
CRYPTO_PROFILES_CURRENT = 8
#: Root CA slots <index> of +KCERTSTORE (sierra-hl78xx.md §5, S5a test answer (0-3); 0-2 on
#: older firmware).
CERT_INDEX = (0, 3)
#: Private key slots of +KPRIVKSTORE/+KPRIVKDELETE (sierra-hl78xx.md §5, S5a (0-2)).
KEY_INDEX = (0, 2)
#: Largest certificate or key accepted, bytes (sierra-hl78xx.md §5, S5a (1-4096); 3000 on
#: firmware up to 04.00).
MAX_CREDENTIAL = 4096
#: Longest server name of +KTCPCFG/+KHTTPCFG, characters (not documented for HL78xx; S4
#: limits names to 127; our bound).
MAX_HOSTNAME = 255
#: Longest <login>/<password> of +KHTTPCFG (sierra-hl78xx.md §6, S5d test answer (0-64), read as
#: a length: inferred).
MAX_HTTP_CREDENTIAL = 64
#: Bytes the driver sends with one AT+KTCPSND and asks of one AT+KTCPRCV: within the HL75
#: send buffer of 17 520 bytes (sierra-hl78xx.md §4, S7 p.213); S1/S2/S4 use 1500.
MAX_CHUNK = 16384
#: Seconds the PDP connection stays up after its last session closed (+KCNX_IND: 1,5,30 in L1
#: and S5b; the <idle> of AT+KCNXTIMER, sierra-hl78xx.md §3).
IDLE_TIME = 30
#: Bytes a virtual modem's TCP session buffers before holding the server back: the HL78xx
#: receive buffer size is not documented (sierra-hl78xx.md §12); the virtual modem's choice.
RX_BUFFER = 65536
#: +CME ERROR: 910, bad session ID: the id is not a defined session, i.e. free
#: (sierra-hl78xx.md §4 +KTCPSTAT: S5b, S7; §6: S10b).
CME_BAD_SESSION = 910
#: +CME ERROR: 912, all sessions used (sierra-hl78xx.md §4, S6, S10b).
CME_ALL_SESSIONS_USED = 912
#: The +CME ERROR for each kind of argument fault (:data:`celltls.dialects.spec.Problem`),
#: by the names of the S6 table (sierra-hl78xx.md §7: 915 parameter not expected, 916 out of
#: range, 917 missing, 931 length invalid, 932 format invalid). Which number a module gives for
#: which fault is not documented beyond these names; 916 for <http_sec> 1 is our reading.
ARGUMENT_ERRORS: MappingProxyType[Problem, int | None] = MappingProxyType(
    {
        "unexpected": 915,
        "range": 916,
        "value": 916,
        "missing": 917,
        "length": 931,
        "format": 932,
        "unsafe": 932,
    }
)

#: +KCNX_IND <status> (HL75-ATIG 11.7.5).
KCNX_STATUS = MappingProxyType(
    {
        0: "disconnected due to the network",
        1: "connected",
        2: "failed to connect; the <tim1> timer is started if <attempt> is less than <nbtrial>",
        3: "closed",
        4: "connecting",
        5: "idle time down counting started for disconnection",
        6: "idle time down counting canceled",
    }
)

#: <tcp_notif> / <http_notif> values (HL75-ATIG 11.10.2; 0-3 per HL78-ATIG (usage)). The same
#: table numbers +KTCP_NOTIF, +KUDP_NOTIF and +KHTTP_ERROR.
NOTIF = MappingProxyType(
    {
        0: "network error",
        1: "no more sockets available",
        2: "memory problem",
        3: "DNS error",
        4: "TCP disconnection by the server or remote client",
        5: "TCP connection error (connect or TLS handshake failed: for HTTPS, typically no "
        "root CA stored with AT+KCERTSTORE or the wrong one)",
        6: "generic error (SEED-000: the data phase was not ended by the EOF pattern)",
        7: "fail to accept client request's",
        8: "data sending is OK but AT+KTCPSND was waiting more or less characters",
        9: "bad session ID",
        10: "session is already running",
        11: "all sessions are used",
        # 12-15: sierra-hl78xx.md S2 (Zephyr HL78xx enum) and S4 (12-14); 15 in S2 only
        12: "connection timeout",
        13: "SSL connection error",
        14: "SSL init error",
        15: "SSL certificate error",
    }
)

#: +CME ERROR numbers of the K protocol commands (sierra-hl78xx.md S6, Legato atServerUtil.h
#: "AT protocol specific error codes"; 910, 912, 918, 921, 930, 931 also observed on HL78xx).
CME_ERRORS = MappingProxyType(
    {
        902: "no socket available",
        903: "memory problem",
        904: "DNS error",
        905: "remote TCP disconnection",
        906: "UDP/TCP connection error",
        907: "generic error",
        908: "failed to accept client",
        909: "incoherent data",
        910: "bad session ID",
        911: "session already running",
        912: "all sessions used",
        913: "socket connection timeout",
        914: "control socket connection timeout",
        915: "parameter not expected",
        916: "parameter out of range",
        917: "missing parameter",
        918: "feature not supported",
        919: "feature not available",
        920: "protocol not supported",
        921: "bearer connection invalid state",
        922: "session invalid state",
        923: "terminate data mode invalid state",
        924: "session busy",
        925: "HTTP header name error",
        926: "HTTP header value error",
        927: "HTTP header name empty",
        928: "HTTP header value empty",
        929: "input data format invalid",
        930: "input data content invalid",
        931: "parameter length invalid",
        932: "parameter format invalid",
    }
)

#: +KHTTP_IND <status> (HL78-ATIG +KHTTP_IND (usage): 1 after AT+KHTTPCFG in SEED-000;
#: 3 "+KHTTP_IND: <id>,3,<data_len>,<st_code>,<st_reason>" in public HL78xx HTTP clients).
KHTTP_IND_STATUS = MappingProxyType(
    {0: "session disconnected", 1: "session connected", 3: "request answered"}
)

#: +KTCP_IND <status> (HL78-ATIG (usage): 1 = session connected).
KTCP_IND_STATUS = MappingProxyType({1: "session connected"})

#: +KTCPSTAT <status> (HL75-ATIG 11.10.10; TINYGSM-HL78).
KTCPSTAT_STATUS = MappingProxyType(
    {
        0: "socket not defined, use +KTCPCFG to create a TCP socket",
        1: "socket is only defined but not used",
        2: "socket is opening and connecting to the server, cannot be used",
        3: "connection is up, socket can be used to send/receive data",
        4: "connection is closing, it cannot be used, wait for status 5",
        5: "socket is closed",
    }
)

#: +KSUP <status>, the boot URC sent when AT+KSREP=1 (sierra-hl78xx.md §2, S1).
KSUP_STATUS = MappingProxyType(
    {
        0: "ready",
        1: "waiting for PIN/PUK",
        2: "SIM absent",
        3: "SIM locked",
        4: "unrecoverable error",
        5: "unknown state",
        6: "inactive SIM",
    }
)

#: +KCERTSTORE <data_type> (ZEPHYR-HL78: 0 root CA, 1 local (client) certificate).
CERT_TYPES = MappingProxyType({0: "root CA certificate", 1: "local (client) certificate"})

#: +KHTTPCFG <http_version> (HL78-ATIG (usage)).
#: +KHTTPCFG <http_sec> (sierra-hl78xx.md §6: S5d test answer "(0,2)", S5d/S9/S10b usage with
#: port 443). An earlier reading of this field as the HTTP version (0 HTTP/1.1, 1 HTTP/1.0) and of
#: the 8th field as a "secure" flag is not borne out by any source: Sierra's own HL78 tests send
#: ``AT+KHTTPCFG=1,"<server>",<port>,2,"","",0,0,0`` for HTTPS and ``...,0,...`` for HTTP.
HTTP_SECURITY = MappingProxyType({0: "HTTP", 2: "HTTPS"})

#: +KCERTSTORE <data_type> values (CERT_TYPES).
CERT_ROOT = 0
CERT_LOCAL = 1
#: +KHTTPCFG <http_sec> of HTTPS (HTTP_SECURITY).
HTTP_SEC_HTTPS = 2
#: +KTCPCFG <mode> of a TLS client (sierra-hl78xx.md §4: S2, S5f, S10a).
TCP_MODE_TLS_CLIENT = 3
#: +KTCPCLOSE <closing_type>: (HL75) 1 graceful, data already queued is delivered first
#: (sierra-hl78xx.md §4, S7).
CLOSE_GRACEFUL = 1

#: +KSSLCRYPTO <mkey_algo> bits (sierra-hl78xx.md §5, S5a/S5f name->value table).
KSSL_MKEY = MappingProxyType({1: "RSA", 8: "ECDHE", 9: "RSA and ECDHE"})
#: +KSSLCRYPTO <auth_algo> bits (S5a/S5f).
KSSL_AUTH_ALGO = MappingProxyType({1: "RSA", 2: "ECDSA", 3: "RSA and ECDSA"})
#: +KSSLCRYPTO <enc_algo> bits (S5a/S5f); 25456 = all seven, 25392 = all but CBC.
KSSL_ENC = MappingProxyType({16: "AES-128-CCM", 32: "AES-256-CCM", 64: "AES-128-CBC",
                             256: "AES-128-CCM-8", 512: "AES-256-CCM-8", 8192: "AES-128-GCM",
                             16384: "AES-256-GCM"})
#: +KSSLCRYPTO <mac_algo> bits (S5a/S5f).
KSSL_MAC = MappingProxyType({0: "none (CCM)", 4: "SHA256", 8: "SHA384", 12: "SHA256 and SHA384"})
#: +KSSLCRYPTO <auth> (S5f docstrings; 0 = no verification is inferred from the firmware <= 04.00
#: default, S5a).
KSSL_VERIFY = MappingProxyType({0: "none", 1: "server", 3: "server and client"})
#: The +KSSLCRYPTO profile celltls sets (<auth> aside): every ECDHE suite of firmware 04.06.01's
#: profile 0, ``8,3,25392,12,4`` (sierra-hl78xx.md §5, S5a; S10a/S10b send the same).
KSSL_ECDHE_PROFILE = MappingProxyType(
    {"mkey_algo": 8, "auth_algo": 3, "enc_algo": 25392, "mac_algo": 12, "tls_ver": 4}
)


@dataclass(frozen=True)
class ModelProfile:
    """What one model (firmware family) of the dialect does, each fact with its source.

    Attributes:
        name: ``"rc7620"`` or ``"hl7800"``.
        title: the product name.
        cnxup: whether ``AT+KCNXUP``/``AT+KCNXDOWN`` exist (else the PDP connection comes up
            with the first session).
        certstore_size: ``AT+KCERTSTORE=<type>,<size>[,<index>]`` ended by the EOF pattern
            (HL78xx) rather than ``AT+KCERTSTORE=<type>`` ended by ``+++`` (RC76xx).
        ksslcrypto: whether ``AT+KSSLCRYPTO`` exists.
        secure_sockets: whether ``AT+KTCPCFG`` has a secure (TLS) client mode.
        max_uri: longest ``<request_uri>`` the HTTP client takes, characters.
        cert_slots: root CA slots (``<index>``).
        max_cert: largest certificate or key, bytes.
        sources: where these facts come from.
        sessions: how many sessions (TCP and HTTP, ids ``1..sessions``) the module keeps;
            one more is refused with ``+CME ERROR: 912``.
    """

    name: str
    title: str
    cnxup: bool
    certstore_size: bool
    ksslcrypto: bool
    secure_sockets: bool
    max_uri: int
    cert_slots: int
    max_cert: int
    sources: tuple[str, ...]
    sessions: int = SESSION_RANGE[1]


MODELS = MappingProxyType(
    {
        "rc7620": ModelProfile(
            "rc7620", "AirPrime RC7620 (RC76xx)", cnxup=False, certstore_size=False,
            ksslcrypto=False, secure_sockets=False, max_uri=128, cert_slots=1,
            max_cert=MAX_CREDENTIAL,
            sources=(
                "SEED-000: AT+KCERTSTORE=0, the file, then +++",
                "SEED-000: URIs of about 98 characters work, 255 give +CME ERROR: 3; 128 is "
                "our bound between the two",
                "SEED-000: the connection comes up with AT+KHTTPCFG (+KCNX_IND retries)",
                "SEED-000: HTTPS is HTTP/1.1 over TLS with the stored root CA; no TLS socket "
                "mode is documented for RC76xx in our sources",
            ),
        ),
        "hl7800": ModelProfile(
            "hl7800", "AirPrime HL7800 (HL78xx)", cnxup=True, certstore_size=True,
            ksslcrypto=True, secure_sockets=True, max_uri=MAX_COMMAND_LINE - 40, cert_slots=3,
            max_cert=MAX_CREDENTIAL,
            sources=(
                "ZEPHYR-HL78: AT+KCERTSTORE=<type>,<size> ended by the EOF pattern",
                "TINYGSM-HL78: AT+KCNXUP=1",
                "ZEPHYR-HL78: AT+KSSLCRYPTO and TLS sockets",
                "HL75-ATIG 11.5: the URI is bounded by the 1023-character command line",
                "sierra-hl78xx.md S4: session ids 1-6 (MAX_TCP_SESSION_ID 6), S5d: HTTP ids "
                "(1-6); S6/S10b: +CME ERROR: 912 when all are used",
            ),
            sessions=6,
        ),
    }
)

#: IANA cipher suites we let the virtual modems offer (TLS 1.2, RSA and ECDHE key exchange).
#: The HL78xx KSSLCRYPTO bit masks are not documented in our sources; this list is the
#: suites of the ZEPHYR-HL78 profile as far as they can be told, and is marked unverified.
CIPHER_SUITES = (0xC02F, 0xC030, 0xC02B, 0xC02C, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035,
                 0x003C, 0x003D)


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


_SID = _p("session_id", "int", "session index", range=SESSION_RANGE)
_NOTIF = _p("notif", "int", "notification / error code", values=NOTIF)

_COMMANDS = (
    Command("+KPATTERN", "set or read the end-of-data (EOF) pattern of every data phase",
            "HL78-ATIG +KPATTERN (usage: TINYGSM-HL78)",
            forms=(Form((_p("EOF_pattern", "str", "the pattern", max_len=MAX_PATTERN,
                            default=DEFAULT_PATTERN),)),),
            response_prefix="+KPATTERN:"),
    Command("+KSREP", "report the module's start-up status with +KSUP (kept in non-volatile "
            "memory)", "sierra-hl78xx.md §2 (S1, S5)",
            forms=(Form((_p("act", "int", "0: no +KSUP, 1: +KSUP at start-up", range=(0, 1)),)),),
            response_prefix="+KSREP:"),
    Command("+KCNXCFG", "configure a PDP connection profile",
            "HL75-ATIG 11.7; sierra-hl78xx.md §3 (S1, S8 full form); SEED-000",
            forms=(Form((
                _p("cnx_cnf", "int", "connection configuration", range=CNX_RANGE),
                _p("ctxt_type", "str", "connection type", values={"GPRS": "GPRS/LTE"}),
                _p("apn", "str", "access point name", max_len=63),
                _p("login", "str", "user", optional=True, max_len=30),
                _p("password", "str", "password", optional=True, max_len=30, secret=True),
                _p("pdp_type", "str", "IPV4, IPV6 or IPV4V6", optional=True),
                _p("ip", "str", "static address (sierra-hl78xx.md §3, S8)", optional=True),
                _p("dns1", "str", "primary DNS", optional=True),
                _p("dns2", "str", "secondary DNS", optional=True),
            )),),
            response_prefix="+KCNXCFG:", timeout=5),
    Command("+KCNXUP", "bring the PDP connection up (HL78xx)",
            "HL75-ATIG 11.7.6; sierra-hl78xx.md §3 (S4 allows 30 s)",
            forms=(Form((_p("cnx_cnf", "int", "connection configuration", range=CNX_RANGE),)),),
            timeout=30),
    Command("+KCNXDOWN", "bring the PDP connection down (HL78xx)",
            "HL75-ATIG 11.7.7; sierra-hl78xx.md §3 (S4 allows 30 s)",
            forms=(Form((_p("cnx_cnf", "int", "connection configuration", range=CNX_RANGE),
                         _p("mode", "int", "1: force", optional=True, range=(0, 1)))),),
            timeout=30),
    Command("+CGPADDR", "PDP addresses", "27.007 10.1.14",
            forms=(Form((_p("cid", "int", "context", optional=True),)),),
            response_prefix="+CGPADDR:"),
    Command("+CMEE", "report mobile termination errors (1: numeric +CME ERROR)", "27.007 9.1",
            forms=(Form((_p("n", "int", "error format", range=(0, 2)),)),),
            response_prefix="+CMEE:", timeout=2),
    Command("+CGMM", "model identification", "27.007 5.2", timeout=2),
    Command("+CGMR", "firmware revision", "27.007 5.3", timeout=2),
    Command("+CEREG", "EPS registration", "27.007 10.1.22",
            forms=(Form((_p("n", "int", "URC mode", range=(0, 5)),)),),
            response_prefix="+CEREG:"),
    Command("+KCERTSTORE", "store a root CA or client certificate",
            "ZEPHYR-HL78 (HL78xx form); sierra-hl78xx.md §5 (S5a test answer); SEED-000 "
            "(RC76xx form, ended by +++)",
            forms=(Form((_p("data_type", "int", "certificate type", values=CERT_TYPES),
                         _p("NbData", "int", "bytes (HL78xx)", optional=True,
                            range=(1, MAX_CREDENTIAL), unit="bytes"),
                         _p("index", "int", "slot (HL78xx)", optional=True, range=CERT_INDEX))),),
            response_prefix="+KCERTSTORE:", timeout=10, data_phase="connect",
            test_answer=Answer(("+KCERTSTORE: (0-1),(1-4096),(0-3)",),
                               "sierra-hl78xx.md §5 (S5a; firmware 04.05 and later)")),
    Command("+KPRIVKSTORE", "store a client private key (HL78xx)",
            "ZEPHYR-HL78; sierra-hl78xx.md §5 (S5a: index 0-2, size 1-4096)",
            forms=(Form((_p("index", "int", "slot", range=KEY_INDEX),
                         _p("NbData", "int", "bytes", range=(1, MAX_CREDENTIAL),
                            unit="bytes"))),),
            response_prefix="+KPRIVKSTORE:", timeout=10, data_phase="connect"),
    Command("+KCERTDELETE", "delete a stored certificate", "sierra-hl78xx.md §5 (S5a, S10b)",
            forms=(Form((_p("data_type", "int", "certificate type", values=CERT_TYPES),
                         _p("index", "int", "slot", optional=True, range=CERT_INDEX))),),
            # S5a quotes the values "(0-1),(0-3)"; the prefix is that of every K test answer
            test_answer=Answer(("+KCERTDELETE: (0-1),(0-3)",), "sierra-hl78xx.md §5 (S5a)")),
    Command("+KPRIVKDELETE", "delete a stored private key", "sierra-hl78xx.md §5 (S5a)",
            forms=(Form((_p("index", "int", "slot", range=KEY_INDEX),)),),
            test_answer=Answer(("+KPRIVKDELETE: (0-2)",), "sierra-hl78xx.md §5 (S5a)")),
    Command("+KSSLCRYPTO", "TLS cipher and verification profile (HL78xx)",
            "sierra-hl78xx.md §5 (S5a names and bit values, S5f); ZEPHYR-HL78",
            forms=(Form((
                _p("cipher_index", "int", "profile (0-7 from firmware 04.06)",
                   range=CRYPTO_PROFILES),
                _p("mkey_algo", "int", "key exchange bits", values=KSSL_MKEY),
                _p("auth_algo", "int", "server key bits", values=KSSL_AUTH_ALGO),
                _p("enc_algo", "int", "bulk encryption bit mask (bits: KSSL_ENC)"),
                _p("mac_algo", "int", "MAC bits", values=KSSL_MAC),
                _p("tls_ver", "int", "TLS version (4 in every profile: TLS 1.2, inferred)"),
                _p("auth", "int", "verification", values=KSSL_VERIFY),
                _p("root_cert_idx", "int", "root CA slot (firmware 04.06 and later)",
                   optional=True, range=CERT_INDEX),
            )),),
            response_prefix="+KSSLCRYPTO:"),
    Command("+KHTTPCFG", "create an HTTP(S) session and connect it",
            "sierra-hl78xx.md §6 (S5d test answer and usage, S9, S10b); SEED-000",
            forms=(Form((
                _p("cnx_cnf", "int", "connection configuration", optional=True, range=CNX_RANGE),
                _p("server_name", "str", "server name or address", max_len=MAX_HOSTNAME),
                _p("http_port", "int", "port", optional=True, range=(1, 65535), default=80),
                _p("http_sec", "int", "0 HTTP, 2 HTTPS", optional=True, values=HTTP_SECURITY,
                   default=0),
                _p("login", "str", "user", optional=True, max_len=MAX_HTTP_CREDENTIAL),
                _p("password", "str", "password", optional=True, secret=True,
                   max_len=MAX_HTTP_CREDENTIAL),
                _p("start_http_session", "int", "1: connect now", optional=True, range=(0, 1)),
                _p("x", "int", "meaning unknown (S5d range 0-1; sent as 0)", optional=True,
                   range=(0, 1)),
                _p("cipher_index", "int", "+KSSLCRYPTO profile (S5d range 0-7; 0-15 on "
                   "firmware before 04.06)", optional=True, range=CRYPTO_PROFILES),
            )),),
            response_prefix="+KHTTPCFG:", timeout=30,
            test_answer=Answer(("+KHTTPCFG: (1-2),<server_name/ip>,(1-65535),(0,2),(0-64),"
                                "(0-64),(0-1),(0-1),(0-7)",), "sierra-hl78xx.md §6 (S5d)")),
    Command("+KHTTPCNX", "connect an HTTP session: OK, then +KHTTP_IND: <id>,1",
            "sierra-hl78xx.md §6 (S5d)", forms=(Form((_SID,)),), timeout=30),
    Command("+KHTTPHEADER", "custom request headers, sent after CONNECT and closed with the EOF "
            "pattern", "SEED-000; HL78-ATIG (usage)",
            forms=(Form((_SID, _p("local_uri", "str", "file", optional=True))),),
            timeout=30, data_phase="connect"),
    Command("+KHTTPGET", "GET: CONNECT, the response, the EOF pattern, OK",
            "HL78-ATIG +KHTTPGET (usage); SEED-000",
            forms=(Form((_SID, _p("request_uri", "str", "path and query"),
                         _p("show_resp", "int", "1: status line and headers too",
                            optional=True, range=(0, 1)))),),
            timeout=120, data_phase="connect"),
    Command("+KHTTPHEAD", "HEAD: CONNECT, the response head, the EOF pattern, OK",
            "HL78-ATIG +KHTTPHEAD (usage)",
            forms=(Form((_SID, _p("request_uri", "str", "path and query"))),),
            timeout=120, data_phase="connect"),
    Command("+KHTTPPOST", "POST: CONNECT, the body ended by the EOF pattern, then the response "
            "and the EOF pattern, OK", "HL78-ATIG +KHTTPPOST (usage); SEED-000",
            forms=(Form((_SID, _p("local_uri", "str", "file", optional=True),
                         _p("request_uri", "str", "path and query"),
                         _p("show_resp", "int", "1: status line and headers too",
                            optional=True, range=(0, 1)))),),
            timeout=120, data_phase="connect"),
    Command("+KHTTPCLOSE", "close an HTTP session (OK or NO CARRIER)",
            "HL78-ATIG (usage); sierra-hl78xx.md §6 (S5d)",
            forms=(Form((_SID, _p("x", "int", "meaning unknown (S5d: 0-1)", optional=True,
                                  range=(0, 1)))),)),
    Command("+KHTTPDEL", "delete an HTTP session", "HL78-ATIG (usage)",
            forms=(Form((_SID,)),)),
    Command("+KTCPCFG", "create a TCP (or TLS, mode 3 on HL78xx) client session",
            "HL75-ATIG 11.10.1; sierra-hl78xx.md §4 (S1, S2, S10c syntax); TINYGSM-HL78",
            forms=(Form((
                _p("cnx_cnf", "int", "connection configuration", optional=True,
                   range=CNX_RANGE),
                _p("mode", "int", "session mode",
                   values={0: "client", 1: "server", 2: "child", 3: "secure client (HL78xx)",
                           4: "secure server (HL78xx, S5f)"}),
                _p("remote_name", "str", "server (empty for a server, S5f)", optional=True,
                   max_len=MAX_HOSTNAME),
                _p("tcp_port", "int", "port", range=(1, 65535)),
                _p("source_port", "int", "local port", optional=True, range=(0, 65535)),
                _p("data_mode", "int", "(HL75) 1: +KTCP_DATA carries the data", optional=True,
                   range=(0, 1)),
                _p("urc_endtcp_enable", "int", "+KTCP_ACK", optional=True, range=(0, 1)),
                _p("af", "int", "address family", optional=True,
                   values={0: "IPv4", 1: "IPv6"}),
                _p("cipher_index", "int", "+KSSLCRYPTO profile (mode 3, inferred)",
                   optional=True, range=CRYPTO_PROFILES),
                _p("restore_on_boot", "int", "1: the session survives sleep (S1)",
                   optional=True, range=(0, 1)),
            )),),
            response_prefix="+KTCPCFG:"),
    Command("+KTCPCNX", "connect a TCP session",
            "HL75-ATIG 11.10.2; sierra-hl78xx.md §4 (S4 allows 30 s for OK)",
            forms=(Form((_SID,)),), timeout=30),
    Command("+KTCPSND", "send: CONNECT, exactly <ndata> bytes, the EOF pattern, OK",
            "HL75-ATIG 11.10.4; sierra-hl78xx.md §4 (S5b test answer; S11: OK within 60 s)",
            forms=(Form((_SID, _p("ndata", "int", "bytes", range=(1, 4294967295),
                                  unit="bytes"))),),
            timeout=60, data_phase="connect",
            test_answer=Answer(("+KTCPSND: (1-*),(1-*)",), "sierra-hl78xx.md §4 (S5b)")),
    Command("+KTCPRCV", "receive: CONNECT, up to <ndata> bytes, the EOF pattern, OK",
            "HL75-ATIG 11.10.3; sierra-hl78xx.md §4 (S5b test answer)",
            forms=(Form((_SID, _p("ndata", "int", "bytes", range=(1, 4294967295),
                                  unit="bytes"))),),
            timeout=30,
            test_answer=Answer(("+KTCPRCV: (1-*),(1-*)",), "sierra-hl78xx.md §4 (S5b)")),
    Command("+KTCPCLOSE", "close a TCP session", "HL75-ATIG 11.10.5",
            forms=(Form((_SID, _p("closing_type", "int", "(HL75) 1: graceful, 0: abort",
                                  optional=True, range=(0, 1)))),),
            timeout=10),
    Command("+KTCPDEL", "delete a closed TCP session", "HL75-ATIG 11.10.6",
            forms=(Form((_SID,)),)),
    Command("+KTCPSTAT", "TCP session state", "HL75-ATIG 11.10.10",
            forms=(Form((_SID,)),), response_prefix="+KTCPSTAT:"),
)

_URCS = (
    Urc("+KCNX_IND:", (
        _p("cnx_cnf", "int", "connection configuration", range=CNX_RANGE),
        _p("status", "int", "PDP connection status", values=KCNX_STATUS),
        _p("attempt", "int", "current attempt (status 2), or <af> (0 IPv4, 1 IPv6; status 0/1)"),
        _p("nbtrial", "int", "number of attempts, see +KCNXTIMER (status 2)"),
        _p("tim1", "int", "seconds before the next attempt, see +KCNXTIMER (status 2)",
           unit="s"),
    ), "PDP connection status", "HL75-ATIG 11.7.5"),
    Urc("+KHTTP_IND:", (_SID, _p("status", "int", "session status", values=KHTTP_IND_STATUS),
                        _p("data_len", "int", "bytes of the response", unit="bytes"),
                        _p("st_code", "int", "HTTP status code"),
                        _p("st_reason", "str", "reason phrase")),
        "HTTP session status", "HL78-ATIG +KHTTP_IND (usage); SEED-000"),
    Urc("+KHTTP_ERROR:", (_SID, _NOTIF), "HTTP session error",
        "HL75-ATIG 11.10.2 table; SEED-000"),
    Urc("+KTCP_NOTIF:", (_SID, _NOTIF), "TCP session error", "HL75-ATIG 11.10.2"),
    Urc("+KTCP_IND:", (_SID, _p("status", "int", "status", values=KTCP_IND_STATUS)),
        "TCP session connected", "HL78-ATIG (usage: TINYGSM-HL78)"),
    Urc("+KTCP_DATA:", (_SID, _p("ndata_available", "int", "bytes waiting, read them with "
                                 "+KTCPRCV", unit="bytes")),
        "data received on a TCP session", "HL75-ATIG 11.10.8; ZEPHYR-HL78"),
    Urc("+KSUP:", (_p("status", "int", "module status at start-up", values=KSUP_STATUS),),
        "the module (re)started (only after AT+KSREP=1)", "sierra-hl78xx.md §2 (S1)"),
    Urc("+CEREG:", (_p("stat", "int", "EPS registration state"),), "EPS registration",
        "27.007 10.1.22"),
    Urc("+CGREG:", (_p("stat", "int", "GPRS registration state"),), "GPRS registration",
        "27.007 10.1.20"),
)

CATALOG = Catalog(
    dialect=DIALECT,
    title="Sierra Wireless AirPrime RC76xx / HL78xx",
    sources=SOURCES,
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
    urcs=_URCS,
)

#: Information responses that are not URCs, for the doctor (engine RESPONSES).
RESPONSES = MappingProxyType(
    {
        "+KHTTPCFG:": (_SID,),
        "+KTCPCFG:": (_SID,),
        "+KPATTERN:": (_p("EOF_pattern", "str", "the pattern"),),
        "+KTCPSTAT:": (_p("status", "int", "state", values=KTCPSTAT_STATUS),
                       _p("tcp_notif", "int", "last error (-1: none)"),
                       _p("rem_data", "int", "bytes not yet sent"),
                       _p("rcv_data", "int", "bytes to read")),
    }
)


def model(name: str | None) -> ModelProfile:
    """The :class:`ModelProfile` of ``name`` (``"RC7620"``, ``"hl7800"``, ``"HL7802"``...).

    Raises:
        KeyError: no known model family matches.
    """
    key = (name or "hl7800").lower()
    if key.startswith("rc76"):
        return MODELS["rc7620"]
    if key.startswith("hl78"):
        return MODELS["hl7800"]
    raise KeyError(f"unknown Sierra model {name!r}; known: rc7620, hl7800")
