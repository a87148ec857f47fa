"""The Nordic nRF91 Serial LTE Modem (SLM) dialect: its facts as data.

Target: the SLM application of nRF Connect SDK v2.6 ... v3.1 ("G2" below) on nRF9160 / nRF9161 /
nRF9151 with the modem firmware's own commands passed through. Where older SLM versions (the
seed's v1.5/v1.6, "G1") or the Serial Modem add-on ("SM") differ, :data:`VERSIONS` says how.

Sources (keys used in ``source``): ``NRF-REF``: shared/reference/nordic-slm.md, which gathers
the SLM documentation (nrfconnect/sdk-nrf ``applications/serial_lte_modem/doc``, its source
S1/S2), the Serial Modem add-on (S4), the nRF91 AT Commands Reference (S7), ``nrf_socket.h`` /
``nrf_errno.h`` (S5), NCS libraries (S6), errno headers (S8), nrfcredstore (S9) and real logs
(L1 = the seed 001, L2 ... L8). Sections (``NRF-REF 6.2``) are that page's; its own source ids
follow where one fact comes from one source (``NRF-REF 9.1 S8``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from types import MappingProxyType

from celltls.at.framing import BlockHeader
from celltls.dialects.spec import Catalog, Command, Form, Param, Urc

DIALECT = "nordic-slm"


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


# -- line framing (NRF-REF 3) -----------------------------------------------------------------

#: SLM ends a command line at CR LF only (``CONFIG_SLM_CR_LF_TERMINATION``, the default of every
#: SLM version; a lone CR does not end the line). The Serial Modem add-on >= v0.2.0 takes CR.
#: NRF-REF 3 S2, S4.
TERMINATOR = b"\r\n"
#: What SLM prints when its AT host is up (after a reset): ``Ready`` (``INIT ERROR`` when its
#: initialisation failed). NRF-REF 3 S2.
BOOT_LINES = ("Ready", "INIT ERROR")
#: Longest command line SLM takes, bytes (``SLM_AT_MAX_CMD_LEN``; longer -> ``ERROR``).
MAX_COMMAND_LINE = 4096
#: Longest payload inside an ``AT#XSEND="<data>"`` command line, bytes (NRF-REF 6.2).
MAX_SEND_STRING = 1024
#: The data-mode buffer, bytes (``CONFIG_SLM_DATAMODE_BUF_SIZE``): a flush when it is full.
DATAMODE_BUFFER = 4096
#: Largest payload one ``AT#XRECV`` hands out, bytes (``NRF_SOCKET_TLS_MAX_MESSAGE_SIZE``).
MAX_RECV = 2048
#: Longest URL / host name SLM takes in ``#XCONNECT`` / ``#XHTTPCCON``, bytes (NRF-REF 3, 6.2).
MAX_HOSTNAME = 128
#: Longest ``<resource>`` and ``<headers>`` of ``AT#XHTTPCREQ``, bytes (NRF-REF 8.1).
MAX_RESOURCE = 256
MAX_HEADERS = 512
#: The data-mode termination pattern (``CONFIG_SLM_DATAMODE_TERMINATOR``, every version, SM
#: too). From v1.9 no guard time: the pattern ends data mode wherever it appears in the data,
#: alone or appended (partial matches tracked across chunks); v1.5-v1.8 needed 1 s of silence
#: around it. NRF-REF 7.
DATAMODE_TERMINATOR = b"+++"
#: Silence around ``+++`` that SLM v1.5-v1.8 required, seconds (NRF-REF 7).
LEGACY_GUARD_TIME = 1.0
#: The ``AT#XRECV`` answer of G2 >= v2.0: ``#XRECV: <size>`` then exactly ``size`` raw bytes,
#: then ``OK``; a peer that closed gets a bare ``OK``; a timeout ``ERROR`` (NRF-REF 6.2).
XRECV_BLOCK = BlockHeader(r"#XRECV: ?(?P<length>\d+)", max_length=MAX_RECV)
#: The ``#XHTTPCRSP`` line SLM v2.0-v3.1 writes *after* each part of the response (header part,
#: body parts): ``<length>`` bytes precede it; ``<state>`` 0 = more follows, 1 = complete, a
#: negative errno = failed (``#XHTTPCRSP: 0,-104`` on a remote close). NRF-REF 8.1 S1, S2.
HTTPCRSP_LINE = re.compile(rb"\r\n#XHTTPCRSP: ?(?P<length>\d+),(?P<state>-?\d+)\r\n")


# -- modem firmware: functional modes, registration, signal (NRF-REF 4) ----------------------

#: ``+CFUN`` modes of the nRF91 (NRF-REF 4 S6 ``lte_lc.h``, S7).
CFUN_MODES = MappingProxyType({
    0: "minimum functionality (RF off; permanent settings written to NVM)",
    1: "normal (LTE and GNSS per %XSYSTEMMODE)",
    2: "receive only",
    4: "flight mode (RF off)",
    20: "LTE off, GNSS unchanged", 21: "LTE on, GNSS unchanged",
    30: "GNSS off, LTE unchanged", 31: "GNSS on, LTE unchanged",
    40: "UICC off", 41: "UICC on",
    44: "flight mode, UICC kept powered",
    45: "offline keeping registration context (nRF9151 NTN only)",
    46: "offline keeping registration context (nRF9151 NTN only)",
})
#: Modes in which the modem is "activated": ``%CMNG`` writes and deletes are refused with
#: ``+CME ERROR: 518`` (NRF-REF 5 S7, L7).
CFUN_ACTIVE = frozenset({1, 2, 21})
#: The mode the driver switches to for credential writes (Nordic: ``AT+CFUN=4``; NRF-REF 5 L7).
CFUN_OFFLINE = 4

#: ``+CEREG`` ``<stat>`` on nRF91 (NRF-REF 4 S6, S7).
CEREG_STAT = MappingProxyType({
    0: "not registered, not searching", 1: "registered, home network",
    2: "not registered, searching / attaching", 3: "registration denied",
    4: "unknown (e.g. out of coverage)", 5: "registered, roaming",
    90: "not registered, UICC failure",
    50: "receive only (NTN)", 51: "receive only, searching (NTN)",
    52: "receive only, denied (NTN)", 53: "receive only, unknown (NTN)",
    54: "receive only, roaming (NTN)", 55: "receive only (NTN)",
    91: "no suitable cell (NTN)",
})
#: ``+CEREG`` ``<AcT>`` (NRF-REF 4).
CEREG_ACT = MappingProxyType({7: "LTE-M", 9: "NB-IoT", 14: "NTN NB-IoT"})
#: ``<cause_type>``: 0 = ``<reject_cause>`` is an EMM cause (3GPP TS 24.301); other values on
#: nRF91 are not documented (NRF-REF 4, 15).
CEREG_CAUSE_TYPE = MappingProxyType({0: "EMM cause (3GPP TS 24.301 annex A)"})
#: Units of ``<Active-Time>`` (T3324), bits 8-6 of the octet as a bit string; ``None``:
#: deactivated (NRF-REF 4, 3GPP TS 24.008 10.5.7.3).
T3324_UNITS: MappingProxyType[str, int | None] = MappingProxyType({
    "000": 2, "001": 60, "010": 360, "111": None})
#: Units of ``<Periodic-TAU-ext>`` (T3412 extended), seconds; ``None``: deactivated
#: (NRF-REF 4, 3GPP TS 24.008 10.5.7.4a).
T3412_UNITS: MappingProxyType[str, int | None] = MappingProxyType({
    "000": 600, "001": 3600, "010": 36000, "011": 2, "100": 30, "101": 60, "110": 1152000,
    "111": None})
#: The fields of a ``+CEREG`` URC with ``n`` = 5, in order (the read form puts ``<n>`` first).
CEREG_FIELDS = ("stat", "tac", "ci", "act", "cause_type", "reject_cause", "active_time",
                "periodic_tau")
#: The most detailed reporting level (``AT+CEREG=5``), which the driver turns on (NRF-REF 4).
CEREG_LEVEL = 5

#: ``+CESQ`` fields the nRF91 leaves at their "unknown" values (NRF-REF 4 S7): rxlev 99, ber 99,
#: rscp 255, ecno 255. ``<rsrq>`` 0..34 and ``<rsrp>`` 0..97 carry the signal; 255 = unknown.
CESQ_UNKNOWN = 255
#: RSRP index -> dBm. The AT guide: dBm = index - 140 (S7); NCS ``RSRP_IDX_TO_DBM``:
#: index - 141 (the lower edge of the 1-dB bin, S6). celltls uses the AT guide's (NRF-REF 4).
RSRP_OFFSET_DBM = 140
#: RSRQ index -> dB: index * 0.5 - 19.5 (AT guide, S7).
RSRQ_STEP_DB, RSRQ_OFFSET_DB = 0.5, 19.5


# -- credentials (NRF-REF 5) --------------------------------------------------------------------

SEC_TAG = _p("sec_tag", "int", "security tag of the stored credentials", range=(0, 2147483647))
#: ``%CMNG`` opcodes (NRF-REF 5 S7).
CMNG_OPCODES = MappingProxyType({0: "write", 1: "list", 2: "read", 3: "delete"})
CMNG_WRITE, CMNG_LIST, CMNG_READ, CMNG_DELETE = 0, 1, 2, 3
#: ``%CMNG`` credential types (NRF-REF 5 S7; 8-11 from S9/S6 test data only).
CMNG_TYPES = MappingProxyType({
    0: "root CA certificate", 1: "client certificate", 2: "client private key", 3: "PSK",
    4: "PSK identity", 5: "public key", 6: "device identity public key", 7: "reserved",
    8: "endorsement key", 9: "ownership key", 10: "Nordic identity root CA",
    11: "Nordic public key"})
TYPE_ROOT_CA, TYPE_CLIENT_CERT, TYPE_CLIENT_KEY, TYPE_PSK, TYPE_PSK_IDENTITY = 0, 1, 2, 3, 4
#: Types whose content is a secret: never logged, never in a transcript.
SECRET_TYPES = frozenset({TYPE_CLIENT_KEY, TYPE_PSK})
#: Longest PKCS#8 password of an encrypted type-2 key, characters (NRF-REF 5 S7).
MAX_CMNG_PASSWORD = 32
#: ``%CMNG`` PEM quoting (NRF-REF 3 "Quotes", 5, 14; L3, L7): the PEM goes *inside* the double
#: quotes of the command line, lines ended by LF only (CRLF line ends -> ``+CME ERROR: 527`` on
#: mfw 2.0.2, L3); SLM's quote-aware parser keeps the LFs as data. A ``"`` inside the PEM would
#: end the string, so a PEM must hold none; the whole line must fit in
#: :data:`MAX_COMMAND_LINE` bytes.
PEM_LINE_END = b"\n"
#: The SHA-256 ``%CMNG=1`` lists: upper-case hex, 64 digits (NRF-REF 5 S6 test data); what
#: exactly is hashed ("the entity (DER, PEM) as stored", S7) is unknown, so the driver compares
#: it with what an earlier write of the same content listed, not with a digest of its own.
SHA_PATTERN = re.compile(r"[0-9A-Fa-f]{64}")
#: Modem-owned sec_tags above the user range that appear in lists (NRF-REF 5 S6).
MODEM_SEC_TAGS = range(2147483648, 4294967296)


# -- sockets (NRF-REF 6.2) -----------------------------------------------------------------------

#: ``AT#XSOCKET`` ``<op>`` (G2): 0 close the active socket, 1 open IPv4, 2 open IPv6.
SOCKET_OPS = MappingProxyType({0: "close", 1: "open IPv4", 2: "open IPv6"})
#: ``AT#XSSOCKET`` ``<type>``: 1 TLS 1.2, 2 DTLS 1.2; answered protocol 258 / 273.
SSOCKET_TYPES = MappingProxyType({1: "TLS 1.2 (stream)", 2: "DTLS 1.2 (datagram)"})
PROTO_TLS1_2, PROTO_DTLS1_2 = 258, 273
#: ``<peer_verify>`` (NRF-REF 6.2, 10): SLM clients default to 2 (required).
PEER_VERIFY = MappingProxyType({0: "none", 1: "optional", 2: "required"})
PEER_VERIFY_NONE, PEER_VERIFY_REQUIRED = 0, 2
#: ``AT#XSSOCKETOPT`` option names (NRF-REF 6.2 S2).
SSOCKETOPT_NAMES = MappingProxyType({
    2: "TLS_HOSTNAME (string; \"NULL\" disables the host-name check)",
    4: "CIPHERSUITE_USED (get, mfw >= 2.0.0)", 5: "PEER_VERIFY 0/1/2", 12: "SESSION_CACHE 0/1",
    13: "SESSION_CACHE_PURGE", 14: "DTLS_CID 0/1/2", 15: "DTLS_CID_STATUS (get)",
    18: "DTLS_HANDSHAKE_TIMEO s"})
SO_TLS_HOSTNAME, SO_PEER_VERIFY = 2, 5
#: ``AT#XSOCKETOPT`` option names (v2.6+ ``AT_SO_*``; NRF-REF 6.2).
SOCKETOPT_NAMES = MappingProxyType({
    2: "REUSEADDR", 20: "RCVTIMEO s", 21: "SNDTIMEO s", 30: "SILENCE_ALL",
    31: "IP_ECHO_REPLY", 32: "IPV6_ECHO_REPLY", 40: "BINDTOPDN", 55: "TCP_SRV_SESSTIMEO min",
    61: "RAI (1 NO_DATA, 2 LAST, 3 ONE_RESP, 4 ONGOING, 5 WAIT_MORE)",
    62: "IPV6_DELAYED_ADDR_REFRESH"})
#: Sockets SLM can hold at once (v2.0+; one in v1.4-v1.9). NRF-REF 6.2, 11.
MAX_SOCKETS = 8
#: ``AT#XRECV`` ``<flags>`` (v2.2+): 2 PEEK, 64 DONTWAIT, 256 WAITALL (NRF-REF 6.2).
RECV_FLAGS = MappingProxyType({2: "MSG_PEEK", 64: "MSG_DONTWAIT", 256: "MSG_WAITALL"})
#: ``AT#XSEND`` ``<flags>`` (v3.1): 512 = wait for the network's acknowledgement.
SEND_FLAGS = MappingProxyType({512: "wait for network acknowledgement"})
#: TLS of the nRF91 modem (NRF-REF 10 S5): TLS 1.2 clients; ECDHE-ECDSA / ECDHE-RSA AES-CBC,
#: PSK suites, AES-GCM with recent mfw. No static-RSA or ChaCha20 suite.
CIPHER_SUITES = (0xC024, 0xC00A, 0xC023, 0xC009, 0xC014, 0xC027, 0xC013,
                 0x008D, 0x00AE, 0x008C, 0xC0A8, 0xC02B, 0xC030, 0xC02F)
#: The largest server certificate chain the modem takes during a handshake, bytes (L4).
MAX_SERVER_CHAIN = 4096


# -- native HTTP client (NRF-REF 8.1) ------------------------------------------------------------

#: ``AT#XHTTPCCON`` ``<op>`` v2.0+: 0 disconnect, 1 connect over IPv4, 2 over IPv6
#: (v1.4-v1.9: 1 = connect, IPv6 tried first in v1.5).
HTTPCCON_OPS = MappingProxyType({0: "disconnect", 1: "connect (IPv4; v1.4-1.9: any)",
                                 2: "connect over IPv6 (v2.0+)"})
#: ``#XHTTPCREQ: <n>``: 1 = waiting for the payload (data mode), 0 = request sent, negative =
#: -errno (NRF-REF 8.1).
HTTPCREQ_STATES = MappingProxyType({1: "waiting for the payload (data mode)",
                                    0: "request sent"})
#: Methods SLM's HTTP client knows by name (a subset of its 33; NRF-REF 8.1).
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
#: Headers SLM's client writes itself: they must not be in ``<headers>`` (NRF-REF 8.1).
HTTPC_OWN_HEADERS = frozenset({"host", "content-type", "content-length"})


# -- errors (NRF-REF 9) ------------------------------------------------------------------------

#: errno numbering of SLM (``#XSOCKET: <-errno>``, ``#XDATAMODE:``, ``#XHTTPCREQ:``,
#: ``#XHTTPCRSP:`` and its device log): newlib / picolibc / current Zephyr minimal libc =
#: ``nrf_errno.h``, NOT Linux's. number -> (name, meaning). NRF-REF 9.1 S5, S8.
ERRNO = MappingProxyType({
    2: ("ENOENT", "no such entry"), 11: ("EAGAIN", "try again (DNS not ready)"),
    12: ("ENOMEM", "out of memory (TCP stream interrupted for lack of heap)"),
    13: ("EACCES", "permission denied"), 16: ("EBUSY", "busy (another handshake in progress)"),
    22: ("EINVAL", "invalid argument"), 45: ("EDEADLK", "deadlock (old libc: EOPNOTSUPP)"),
    61: ("ENODATA", "no data"), 71: ("EPROTO", "protocol error"),
    77: ("EBADMSG", "bad message"), 88: ("ENOSYS", "function not implemented"),
    95: ("EOPNOTSUPP", "operation not supported"), 104: ("ECONNRESET", "connection reset"),
    105: ("ENOBUFS", "no buffer space"), 106: ("EAFNOSUPPORT", "address family not supported"),
    107: ("EPROTOTYPE", "wrong protocol type"), 108: ("ENOTSOCK", "not a socket"),
    109: ("ENOPROTOOPT", "protocol option not available"),
    110: ("ESHUTDOWN", "the modem was shut down"),
    111: ("ECONNREFUSED", "connection refused"), 112: ("EADDRINUSE", "address in use"),
    113: ("ECONNABORTED", "connection aborted"), 114: ("ENETUNREACH", "network unreachable"),
    115: ("ENETDOWN", "network down"), 116: ("ETIMEDOUT", "connection timed out"),
    117: ("EHOSTDOWN", "host down"), 118: ("EHOSTUNREACH", "host unreachable"),
    119: ("EINPROGRESS", "operation in progress"), 120: ("EALREADY", "already in progress"),
    121: ("EDESTADDRREQ", "destination address required"),
    122: ("EMSGSIZE", "message too long"), 123: ("EPROTONOSUPPORT", "protocol not supported"),
    125: ("EADDRNOTAVAIL", "address not available"), 126: ("ENETRESET", "network reset"),
    127: ("EISCONN", "already connected"), 128: ("ENOTCONN", "not connected"),
    134: ("ENOTSUP", "not supported"), 138: ("EILSEQ", "illegal byte sequence"),
    139: ("EOVERFLOW", "value too large"),
    140: ("ECANCELED", "cancelled (send cancelled by APN rate control)"),
})
#: The Linux numbers of the same names, to explain a log read with a Linux table
#: (NRF-REF 9.1: Linux 114 is EALREADY, 116 ESTALE).
LINUX_ERRNO = MappingProxyType({
    "ECONNABORTED": 103, "ENETUNREACH": 101, "ENETDOWN": 100, "ETIMEDOUT": 110,
    "EHOSTDOWN": 112, "EHOSTUNREACH": 113, "EINPROGRESS": 115, "EALREADY": 114,
    "EDESTADDRREQ": 89, "EMSGSIZE": 90, "EPROTONOSUPPORT": 93, "EADDRNOTAVAIL": 99,
    "ENETRESET": 102, "EISCONN": 106, "ENOTCONN": 107, "ENOTSUP": 95, "EILSEQ": 84,
    "EOVERFLOW": 75, "ECANCELED": 125, "EADDRINUSE": 98, "EDEADLK": 35, "EBADMSG": 74,
    "ENOSYS": 38, "EAFNOSUPPORT": 97, "EPROTOTYPE": 91, "ENOTSOCK": 88, "ENOPROTOOPT": 92,
    "ESHUTDOWN": 108, "ECONNRESET": 104, "ECONNREFUSED": 111, "ENOBUFS": 105})
#: What a Linux table wrongly calls the nRF numbers seen most (NRF-REF 9.1).
LINUX_NAMES = MappingProxyType({114: "EALREADY", 116: "ESTALE", 113: "EHOSTUNREACH",
                                111: "ECONNREFUSED", 104: "ECONNRESET"})
#: Older Zephyr minimal libc used BSD numbers (NRF-REF 9.1 S8 @0183d022).
BSD_ERRNO = MappingProxyType({35: "ENOTSUP", 45: "EOPNOTSUPP", 51: "ENETUNREACH",
                              54: "ECONNRESET", 57: "ENOTCONN", 60: "ETIMEDOUT",
                              61: "ECONNREFUSED", 65: "EHOSTUNREACH", 68: "EINPROGRESS"})
#: Names of the errno values the driver maps to its own error classes (driver ``errno_error``).
EAGAIN, ECONNRESET, ECONNREFUSED, ECONNABORTED = 11, 104, 111, 113
ENETUNREACH, ENETDOWN, ETIMEDOUT, EHOSTUNREACH, ENOTCONN, ESHUTDOWN = 114, 115, 116, 118, 128, 110

#: ``+CME ERROR`` codes of the nRF91 modem beyond 27.007 (NRF-REF 9.2 S7, S6); 516, 517 and
#: 521-526 are undocumented.
ERRORS = MappingProxyType({
    513: "not found", 514: "no access / not allowed", 515: "memory full",
    518: "not allowed in the active state (set +CFUN=4 or 0 first)", 519: "already exists",
    520: "authentication failed / already exists", 527: "invalid content (e.g. CRLF in a PEM)",
    528: "not allowed while a power-off warning is active"})
CME_NOT_FOUND, CME_ACTIVE_STATE, CME_INVALID_CONTENT = 513, 518, 527


# -- versions (NRF-REF 2, 11) -----------------------------------------------------------------


@dataclass(frozen=True)
class VersionNote:
    """How one item differs between SLM generations.

    Attributes:
        item: what differs.
        old: SLM NCS v1.4-v1.6 (the seed's v1.5/v1.6) and v1.7-v1.9 where it matters.
        current: SLM NCS v2.6-v3.1 (what the driver speaks).
        serial_modem: the Serial Modem add-on (nrfconnect/ncs-serial-modem).
        source: reference section and source ids.
    """

    item: str
    old: str
    current: str
    serial_modem: str
    source: str


VERSIONS: tuple[VersionNote, ...] = (
    VersionNote("line terminator", "CR LF", "CR LF", "CR (>= v0.2.0)", "NRF-REF 3, 11 S2 S4"),
    VersionNote("TLS socket", "AT#XSOCKET=1,1,0,<sec_tag> (v1.4-1.6)",
                "AT#XSSOCKET=<op>,<type>,<role>,<sec_tag>[,<peer_verify>[,<cid>]]",
                "AT#XSSOCKET=<family>,... ; sockets by handle", "NRF-REF 6.1, 6.2, 6.3"),
    VersionNote("TLS host name", "set automatically to the #XCONNECT host (v1.4-1.6)",
                "never set: AT#XSSOCKETOPT=1,2,\"<host>\" before #XCONNECT",
                "never set", "NRF-REF 6.2 S2, 11, 14"),
    VersionNote("sockets", "1", "8 with #XSOCKETSELECT (v2.0+)", "8 handles, AT#XCLOSE",
                "NRF-REF 6.2, 11"),
    VersionNote("#XRECV answer", "data first, then #XRECV: <type>,<size> (v1.4-1.6); "
                "data then #XRECV: <size> (v1.7-1.9)", "#XRECV: <size>, data, OK (v2.0+)",
                "#XRECV: <handle>,<mode>,<size>, data", "NRF-REF 6.1, 6.2, 11"),
    VersionNote("#XCONNECT failure", "#XSOCKET: <-errno>,\"closed\" (G1)",
                "plain ERROR, no #XCONNECT: 0 line", "ERROR", "NRF-REF 6.1, 6.2 S2"),
    VersionNote("+++ guard time", "1 s of silence around it (v1.5-1.8)", "none (v1.9+)",
                "none", "NRF-REF 7 S2"),
    VersionNote("data mode entry/exit", "no OK on entry; OK on exit (v1.7-2.0)",
                "OK on entry; #XDATAMODE: <status> on exit (v2.1+)", "same",
                "NRF-REF 7 S1"),
    VersionNote("#XHTTPCCON", "<op>,<host>,<port>[,<sec_tag>]; v1.5 tries IPv6 first; "
                "host name and peer verification always on",
                "<op>,<host>,<port>[,<sec_tag>[,<peer_verify>[,<hostname_verify>]]] (v2.6+)",
                "absent (v0.2-v1.0.x); socket-based #XHTTPCREQ in v2.0", "NRF-REF 8.1, 8.2"),
    VersionNote("#XHTTPCREQ", "<method>,<resource>,<header>[,<payload_length>] (v1.4-1.9)",
                "<method>,<resource>[,<headers>[,<content_type>,<content_length>"
                "[,<chunked>]]] (v2.0+)", "on a socket handle (v2.0-preview)", "NRF-REF 8.1"),
    VersionNote("#XHTTPCRSP", "v1.5: #XHTTPCRSP: <n>,<1 more|0 done> before each chunk; "
                "v1.6-1.9: #XHTTPCRSP:<n>,<0 more|1 done> before each chunk",
                "raw part first, then #XHTTPCRSP:<n>,<0 more|1 done> (v2.0+)",
                "#XHTTPCHEAD/#XHTTPCDATA/#XHTTPCSTAT URCs", "NRF-REF 8.1 S1 S2, 14"),
    VersionNote("version query", "AT#XSLMVER -> #XSLMVER: \"1.5\"",
                "AT#XSLMVER -> #XSLMVER: \"<ncs>\",\"<libmodem>\"", "AT#XSMVER", "NRF-REF 2"),
    VersionNote("AT#XSLMUART", "yes (v1.5+)", "until v2.4; removed in v2.5", "no",
                "NRF-REF 2, 11"),
)


# -- commands -------------------------------------------------------------------------------------

_HOST = _p("url", "str", "host name or IP address", max_len=MAX_HOSTNAME)
_PORT = _p("port", "int", "server port", range=(1, 65535))
_ONOFF = MappingProxyType({0: "off", 1: "on"})

_COMMANDS = (
    # identification and control (3GPP TS 27.007, passed through by SLM: NRF-REF 3, 4)
    Command("+CMEE", "report +CME ERROR codes", "NRF-REF 3 L2; 27.007 9.1",
            forms=(Form((_p("n", "int", "reporting", values={0: "off", 1: "numeric"},
                            range=(0, 1)),)),),
            response_prefix="+CMEE:", note="AT+CMEE=2 (verbose) answers ERROR (L2)"),
    Command("+CGMI", "manufacturer", "27.007 5.1"),
    Command("+CGMM", "model (nRF9160-SICA ...)", "27.007 5.2"),
    Command("+CGMR", "modem firmware version (mfw_nrf9160_1.3.0 ...)", "27.007 5.3"),
    Command("+CGSN", "IMEI", "27.007 5.4"),
    Command("I", "identification", "NRF-REF 3 L2", note="ATI answers ERROR on SLM (L2)"),
    Command("#XSLMVER", "SLM version", "NRF-REF 2", response_prefix="#XSLMVER:"),
    Command("#XSMVER", "Serial Modem add-on version", "NRF-REF 2 S4",
            response_prefix="#XSMVER:"),
    Command("#XSLMUART", "UART baud rate (v1.5-v2.4)", "NRF-REF 2", response_prefix="#XSLMUART:"),
    Command("+CFUN", "functional mode", "NRF-REF 4 S6 S7",
            forms=(Form((_p("fun", "int", "functional mode", values=CFUN_MODES),)),),
            response_prefix="+CFUN:", timeout=30),
    Command("%XSYSTEMMODE", "select LTE-M / NB-IoT / GNSS", "NRF-REF 4 S6",
            forms=(Form((
                _p("LTE_M", "int", "LTE-M", values=_ONOFF, range=(0, 1)),
                _p("NB_IoT", "int", "NB-IoT", values=_ONOFF, range=(0, 1)),
                _p("GNSS", "int", "GNSS", values=_ONOFF, range=(0, 1)),
                _p("LTE_preference", "int", "preference", values={
                    0: "automatic", 1: "LTE-M", 2: "NB-IoT", 3: "LTE-M, PLMN priority",
                    4: "NB-IoT, PLMN priority"}, range=(0, 4)),
                _p("NTN_NB_IoT", "int", "NTN NB-IoT", values=_ONOFF, range=(0, 1),
                   optional=True),
            )),), response_prefix="%XSYSTEMMODE:"),
    Command("%XBANDLOCK", "lock LTE bands", "NRF-REF 4 S7 S6",
            forms=(Form((
                _p("operation", "int", "operation", values={0: "remove locks", 1: "permanent",
                                                            2: "runtime", 3: "erase-protected"},
                   range=(0, 3)),
                _p("band_mask", "str", "bit string, LSB = band 1", max_len=88, optional=True),
                _p("band_list", "str", "comma-separated bands (mfw_nrf91x1 >= 2.0.3)",
                   optional=True),
            )),), response_prefix="%XBANDLOCK:",
            note="+CME ERROR: 518 while the modem is active"),
    Command("%XDEEPSEARCH", "deep search mode", "nRF91 AT Commands Reference (seed L1)"),
    Command("+COPS", "operator selection", "27.007 7.3", response_prefix="+COPS:", timeout=180),
    Command("+CGDCONT", "define a PDP context (cid 0 = default PDN)", "NRF-REF 4 L1 L2",
            forms=(Form((
                _p("cid", "int", "context id (0 = default)", range=(0, 11)),
                _p("PDP_type", "str", "PDP type", values={"IP": "IPv4", "IPV6": "IPv6",
                                                          "IPV4V6": "dual stack",
                                                          "Non-IP": "non-IP"}, optional=True),
                _p("APN", "str", "access point name", max_len=100, optional=True),
            )),), response_prefix="+CGDCONT:"),
    Command("+CGACT", "PDP context state", "27.007 10.1.10", response_prefix="+CGACT:",
            timeout=30),
    Command("+CPIN", "SIM PIN", "NRF-REF 4 L1 L2",
            forms=(Form((_p("pin", "str", "SIM PIN", max_len=8, secret=True),)),),
            response_prefix="+CPIN:",
            note="answers ERROR shortly after boot until the SIM is ready (L2)"),
    Command("%XICCID", "read the ICCID", "NRF-REF 4 L1", response_prefix="%XICCID:",
            note="ERROR until the SIM PIN is entered (L1)"),
    Command("+CEREG", "EPS registration reporting", "NRF-REF 4 S7 S6",
            forms=(Form((_p("n", "int", "reporting level", values={
                0: "off", 1: "<stat>", 2: "+ <tac>,<ci>,<AcT>", 3: "+ cause",
                4: "+ PSM timers", 5: "+ cause and PSM timers"}, range=(0, 5)),)),),
            response_prefix="+CEREG:"),
    Command("+CGPADDR", "PDP context addresses", "NRF-REF 4 S6 L2",
            forms=(Form((_p("cid", "int", "context id", range=(0, 11), optional=True),)),),
            response_prefix="+CGPADDR:"),
    Command("+CESQ", "signal quality (RSRQ, RSRP indexes)", "NRF-REF 4 S7",
            response_prefix="+CESQ:"),
    Command("%CESQ", "signal quality notifications", "NRF-REF 4 S7",
            forms=(Form((_p("n", "int", "subscribe", values=_ONOFF, range=(0, 1)),)),)),
    Command("+CCLK", "clock", "NRF-REF 4 S6 L2",
            forms=(Form((_p("time", "str", "yy/MM/dd,hh:mm:ss+zz", max_len=20),)),),
            response_prefix="+CCLK:"),
    Command("%XTIME", "network time notifications", "NRF-REF 4 S6",
            forms=(Form((_p("n", "int", "subscribe", values=_ONOFF, range=(0, 1)),)),)),
    # credentials (NRF-REF 5)
    Command("%CMNG", "manage credentials (certificates, keys, PSK)", "NRF-REF 5 S7 S9",
            forms=(Form((
                _p("opcode", "int", "operation", values=CMNG_OPCODES, range=(0, 3)),
                replace(SEC_TAG, optional=True),
                _p("type", "int", "credential type", values=CMNG_TYPES, range=(0, 11),
                   optional=True),
                _p("content", "str", "PEM (LF line ends) or hex PSK", optional=True,
                   max_len=MAX_COMMAND_LINE),
                _p("passwd", "str", "PKCS#8 password", optional=True, secret=True,
                   max_len=MAX_CMNG_PASSWORD),
            )),), response_prefix="%CMNG:", timeout=10,
            note="write/delete only with the modem deactivated (+CFUN=4 or 0), else 518; "
                 "the content holds LF line ends, which SLM keeps inside the quotes"),
    # sockets (NRF-REF 6.2)
    Command("#XSOCKET", "open or close a socket", "NRF-REF 6.2 S1 S2",
            forms=(Form((
                _p("op", "int", "operation", values=SOCKET_OPS, range=(0, 2)),
                _p("type", "int", "socket type", values={1: "TCP", 2: "UDP", 3: "RAW"},
                   range=(1, 3), optional=True),
                _p("role", "int", "role", values={0: "client", 1: "server"}, range=(0, 1),
                   optional=True),
                _p("cid", "int", "PDP context (v2.2+)", range=(0, 11), optional=True),
            )),), response_prefix="#XSOCKET:", timeout=10,
            note="close (op 0) acts on the active socket: #XSOCKET: <result>,\"closed\""),
    Command("#XSSOCKET", "open a TLS/DTLS socket", "NRF-REF 6.2 S1 S2",
            forms=(Form((
                _p("op", "int", "operation", values={0: "close", 1: "open IPv4",
                                                     2: "open IPv6"}, range=(0, 2)),
                _p("type", "int", "security", values=SSOCKET_TYPES, range=(1, 2),
                   optional=True),
                _p("role", "int", "role", values={0: "client", 1: "server (native TLS only)"},
                   range=(0, 1), optional=True),
                replace(SEC_TAG, optional=True),
                _p("peer_verify", "int", "peer verification", values=PEER_VERIFY, range=(0, 2),
                   optional=True, default=2),
                _p("cid", "int", "PDP context", range=(0, 11), optional=True),
            )),), response_prefix="#XSSOCKET:", timeout=10,
            note="answers #XSSOCKET: <handle>,<type>,<protocol> (258 TLS 1.2, 273 DTLS 1.2)"),
    Command("#XSOCKETSELECT", "select the active socket (v2.0+)", "NRF-REF 6.2",
            forms=(Form((_p("handle", "int", "socket handle", range=(0, 64)),)),),
            response_prefix="#XSOCKETSELECT:"),
    Command("#XSOCKETOPT", "socket options", "NRF-REF 6.2",
            forms=(Form((
                _p("op", "int", "operation", values={0: "get", 1: "set"}, range=(0, 1)),
                _p("name", "int", "option", values=SOCKETOPT_NAMES),
                _p("value", "int", "value", optional=True),
            )),), response_prefix="#XSOCKETOPT:"),
    Command("#XSSOCKETOPT", "TLS socket options", "NRF-REF 6.2 S2",
            forms=(
                Form((
                    _p("op", "int", "operation", values={0: "get", 1: "set"}, range=(0, 1)),
                    _p("name", "int", "option", values=SSOCKETOPT_NAMES),
                    _p("value", "int", "value", optional=True),
                ), description="numeric options (PEER_VERIFY, SESSION_CACHE ...)"),
                Form((
                    _p("op", "int", "operation", values={1: "set"}, range=(1, 1)),
                    _p("name", "int", "option", values={2: "TLS_HOSTNAME"}, range=(2, 2)),
                    _p("hostname", "str", "host name to check and send as SNI",
                       max_len=MAX_HOSTNAME),
                ), selector="1", description="TLS_HOSTNAME"),
            ), response_prefix="#XSSOCKETOPT:"),
    Command("#XCONNECT", "connect the active socket (TCP, TLS handshake)", "NRF-REF 6.2 S2",
            forms=(Form((_HOST, _PORT)),), response_prefix="#XCONNECT:", timeout=60,
            note="failure (DNS, TCP, TLS) is a plain ERROR with no #XCONNECT: 0 line"),
    Command("#XSEND", "send on the active socket (no data: data mode)", "NRF-REF 6.2, 7",
            forms=(Form((
                _p("data", "str", "payload (no \" or ,; CR LF refused by celltls)",
                   max_len=MAX_SEND_STRING),
                _p("flags", "int", "flags (v3.1)", values=SEND_FLAGS, optional=True),
            )),), response_prefix="#XSEND:", timeout=30),
    Command("#XRECV", "receive from the active socket", "NRF-REF 6.2",
            forms=(Form((
                _p("timeout", "int", "seconds to wait (0 = forever)", range=(0, 3600),
                   unit="s"),
                _p("flags", "int", "flags (v2.2+)", values=RECV_FLAGS, optional=True),
            )),), response_prefix="#XRECV:", timeout=10,
            note="#XRECV: <size> + data + OK; peer closed: OK only; timeout: ERROR"),
    Command("#XGETADDRINFO", "resolve a host name", "NRF-REF 6.2",
            forms=(Form((_HOST, _p("family", "int", "family", values={
                0: "any", 1: "IPv4", 2: "IPv6"}, range=(0, 2), optional=True))),),
            response_prefix="#XGETADDRINFO:", timeout=30),
    Command("#XDATACTRL", "data-mode flush time", "NRF-REF 7",
            forms=(Form((_p("time_limit", "int", "ms", unit="ms", range=(0, 600000)),)),),
            response_prefix="#XDATACTRL:"),
    Command("#XPOLL", "poll sockets (v2.0-v3.1)", "NRF-REF 6.2", response_prefix="#XPOLL:",
            timeout=10),
    # native HTTP client (NRF-REF 8.1)
    Command("#XHTTPCCON", "connect the SLM HTTP client to a server", "NRF-REF 8.1 S1 S2",
            forms=(Form((
                _p("op", "int", "operation", values=HTTPCCON_OPS, range=(0, 2)),
                _p("host", "str", "server host name", max_len=MAX_HOSTNAME, optional=True),
                replace(_PORT, optional=True),
                replace(SEC_TAG, optional=True),
                _p("peer_verify", "int", "peer verification (v2.6+)", values=PEER_VERIFY,
                   range=(0, 2), optional=True, default=2),
                _p("hostname_verify", "int", "host name check (v2.6+)", values=_ONOFF,
                   range=(0, 1), optional=True, default=1),
            )),), response_prefix="#XHTTPCCON:", timeout=60),
    Command("#XHTTPCREQ", "send an HTTP request", "NRF-REF 8.1 S1 S2",
            forms=(Form((
                _p("method", "str", "method", values={m: m for m in HTTP_METHODS}),
                _p("resource", "str", "path and query", max_len=MAX_RESOURCE),
                _p("headers", "str", "extra headers, each ended by a literal \\r\\n",
                   max_len=MAX_HEADERS, optional=True),
                _p("content_type", "str", "body type", max_len=64, optional=True),
                _p("content_length", "int", "body bytes", range=(0, 2**31 - 1),
                   unit="bytes", optional=True),
                _p("chunked_transfer", "int", "chunked upload", values=_ONOFF, range=(0, 1),
                   optional=True),
            )),), response_prefix="#XHTTPCREQ:", timeout=60),
)

#: Information responses described for the doctor (prefix -> fields).
RESPONSES = MappingProxyType({
    "%CMNG:": (SEC_TAG, _p("type", "int", "credential type", values=CMNG_TYPES),
               _p("sha", "str", "SHA-256 of the stored credential"),
               _p("content", "str", "PEM content")),
    "#XHTTPCCON:": (_p("state", "int", "HTTP client connection", values={
        0: "not connected (connect failed)", 1: "connected"}),),
    "%XICCID:": (_p("iccid", "enum", "SIM ICCID"),),
    "#XSLMUART:": (_p("baud_rate", "int", "UART baud rate", unit="baud"),),
    "#XSSOCKET:": (_p("handle", "int", "socket handle"),
                   _p("type", "int", "security", values=SSOCKET_TYPES),
                   _p("protocol", "int", "protocol", values={258: "TLS 1.2", 273: "DTLS 1.2"})),
    "+CFUN:": (_p("fun", "int", "functional mode", values=CFUN_MODES),),
    "+CESQ:": (_p("rxlev", "int", "99 on nRF91"), _p("ber", "int", "99 on nRF91"),
               _p("rscp", "int", "255 on nRF91"), _p("ecno", "int", "255 on nRF91"),
               _p("rsrq", "int", "RSRQ index (dB = n/2 - 19.5)", range=(0, 255)),
               _p("rsrp", "int", "RSRP index (dBm = n - 140)", range=(0, 255))),
})

_CEREG_URC_PARAMS = (
    _p("stat", "int", "registration", values=CEREG_STAT),
    _p("tac", "str", "tracking area code (hex)"), _p("ci", "str", "cell id (hex)"),
    _p("AcT", "int", "access technology", values=CEREG_ACT),
    _p("cause_type", "int", "cause type", values=CEREG_CAUSE_TYPE),
    _p("reject_cause", "int", "reject cause"),
    _p("Active_Time", "str", "T3324 bit string"),
    _p("Periodic_TAU_ext", "str", "T3412 extended bit string"),
)

URCS = (
    Urc("+CEREG:", _CEREG_URC_PARAMS, "EPS registration changed (n >= 1)", "NRF-REF 4"),
    Urc("%CESQ:", (_p("rsrp", "int", "RSRP index"), _p("rsrp_threshold_index", "int", "0-4"),
                   _p("rsrq", "int", "RSRQ index"), _p("rsrq_threshold_index", "int", "0-4")),
        "signal quality crossed a threshold", "NRF-REF 4 S7"),
    Urc("%XTIME:", (_p("local_time_zone", "str", "quarter hours"),
                    _p("universal_time", "str", "7 octets nibble-swapped BCD"),
                    _p("daylight_saving_time", "str", "hours")),
        "network time", "NRF-REF 4 S6"),
    Urc("#XDATAMODE:", (_p("status", "int", "0 ok, negative errno (or flushed bytes with "
                                            "CONFIG_SLM_DATAMODE_URC)"),),
        "SLM left data mode (v2.1+)", "NRF-REF 7"),
    Urc("#XHTTPCRSP:", (_p("length", "int", "bytes of the part before this line"),
                        _p("state", "int", "0 more, 1 complete, negative errno")),
        "HTTP response part trailer (v2.0+: after the part)", "NRF-REF 8.1"),
    Urc("#XHTTPCREQ:", (_p("state", "int", "request state", values=HTTPCREQ_STATES),),
        "HTTP request progress", "NRF-REF 8.1"),
    Urc("#XAPOLL:", (_p("handle", "int", "socket"), _p("revents", "int", "poll events")),
        "socket event (v3.1)", "NRF-REF 6.2"),
    Urc("Ready", (), "SLM started (boot, reset)", "NRF-REF 3 S2"),
    Urc("INIT ERROR", (), "SLM failed to initialise", "NRF-REF 3 S2"),
)

CATALOG = Catalog(
    dialect=DIALECT,
    title="Nordic nRF91 Serial LTE Modem application",
    sources=MappingProxyType({"NRF-REF": "shared/reference/nordic-slm.md"}),
    commands=MappingProxyType({c.name: c for c in _COMMANDS}),
    urcs=URCS,
    errors=ERRORS,
    data_blocks=(XRECV_BLOCK,),
)
