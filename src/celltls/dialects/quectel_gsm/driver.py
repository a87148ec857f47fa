"""The Quectel GSM driver (M66, M95, MC60...): SSL sockets with +QSSL and +QSEC commands.

Everything here follows the Quectel GSM SSL Application Note V3.3 ("SSL-AN"), sections cited per
method, and the catalog (:mod:`celltls.dialects.quectel_gsm.catalog`). Recovery and the meaning
of boot and network URCs follow ``shared/reference/quectel-gsm-tcpip.md`` ("TCPIP-REF", its
sections 2, 3, 6 and 10 and their source ids S1-S17, L1-L5).

Trust rules of the socket code:

- a session starts by finding what an earlier run left (data mode, open sockets) and closing it
  (TCPIP-REF 6, 10): :meth:`QuectelGsm.recover`;
- ``AT+QSSLRECV`` answers are taken by their own length field; anything else in an answer, or an
  answer that arrives after its command was given up, makes the socket fail loudly: bytes are
  never skipped nor counted twice (:func:`recv_payload`);
- a query whose final result code was lost is asked again; ``AT+QSSLSEND``, ``AT+QSSLRECV`` and
  ``AT+QSSLOPEN`` are never repeated silently (:data:`RETRY_SAFE`);
- ``+PDP DEACT``, ``RDY``/``Call Ready`` become :class:`~celltls.errors.NetworkLostError` and
  :class:`~celltls.errors.ModuleRebootedError` naming the URC.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time

from celltls.at import quoting
from celltls.at.channel import ATChannel, Reply, UrcWaiter
from celltls.at.codes import REGISTERED, REGISTRATION_STATES
from celltls.at.framing import BlockHeader, Framing
from celltls.at.protocol import DataBlock, Request, Urc
from celltls.dialects.base import (
    Capabilities,
    CredentialKind,
    Dialect,
    NetworkStatus,
    RecvClock,
    SecureSocket,
    StoredCredential,
)
from celltls.dialects.quectel_gsm import catalog as cat
from celltls.dialects.spec import Value
from celltls.errors import (
    ATCommandError,
    ATProtocolError,
    ATTimeoutError,
    CellTLSError,
    ConnectTimeoutError,
    CredentialError,
    ModuleRebootedError,
    NetworkError,
    NetworkLostError,
    PortError,
    ProfileError,
    SocketError,
    UnsafeArgumentError,
)
from celltls.tls import TlsProfile, TlsVersion, Verify
from celltls.tlsprobe import explain_failure

log = logging.getLogger(__name__)

CATALOG = cat.CATALOG

_VERSION_CODES = {
    TlsVersion.SSL3_0: 0,
    TlsVersion.TLS1_0: 1,
    TlsVersion.TLS1_1: 2,
    TlsVersion.TLS1_2: 3,
}

CAPABILITIES = Capabilities(
    tls_versions=(TlsVersion.SSL3_0, TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2),
    cipher_suites=tuple(cat.CIPHER_SUITES),
    cipher_selection="one-or-all",
    key_exchange="RSA key exchange only: TLS_RSA_WITH_AES_256_CBC_SHA, "
    "TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA256, "
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA/MD5",
    verify_modes=(Verify.NONE, Verify.SERVER, Verify.MUTUAL),
    secure_sockets=6,
    security_contexts=6,
    max_send=cat.MAX_SEND,
    max_recv=cat.MAX_RECV,
    credential_limits={"RAM": cat.MAX_RAM_FILE, "NVRAM": cat.MAX_NVRAM_FILE},
    transparent_mode=True,
    # Non-transparent reads are AT+QSSLRECV of at most 1500 bytes (SSL-AN 2.2.4), a command
    # round trip and ~45 bytes of framing each; in transparent mode the payload flows as it is
    # and a server's close ends data mode (1.2 step 6), so a Connection: close request needs no
    # +++ (issue 17: payload / line 0.970 -> 1.000 at 921600 bit/s).
    transparent_preferred=True,
    native_http=False,
    max_hostname=255,
    # AT+QSSLOPEN <timeout>: 10-300 s, default 90 (SSL-AN 2.2.2)
    connect_timeout_range=(float(cat.OPEN_TIMEOUT_RANGE[0]), float(cat.OPEN_TIMEOUT_RANGE[1])),
    sources=("Quectel GSM SSL Application Note V3.3, 1.1 Tables 1-2, 2.2.1-2.2.7",),
)

#: The parameter of each file setting's ``AT+QSSLCFG`` form (SSL-AN 2.2.1).
_FILE_PARAMS = {"cacert": "cacertname", "clientcert": "clientcertname",
                "clientkey": "clientkeyname"}

_DEFAULT_NAMES: dict[CredentialKind, str] = {
    "ca": "RAM:celltls_ca.pem",
    "client_cert": "RAM:celltls_cc.pem",
    "client_key": "RAM:celltls_ck.pem",
}
_NVRAM_NAMES: dict[CredentialKind, str] = {
    "ca": "NVRAM:CA0",
    "client_cert": "NVRAM:CC0",
    "client_key": "NVRAM:CK0",
}
#: Guard time around the +++ escape sequence, seconds (V.250 S12 default 1 s; drivers keep about
#: 1 s of silence on each side, TCPIP-REF 6 and 10, S7).
GUARD_TIME = 1.0

#: Commands asked again once when their final result code is lost: queries, and settings that
#: leave the module in the same state when repeated. Never ``AT+QSSLSEND`` (the data may have
#: gone out), ``AT+QSSLRECV`` (a read empties the module's buffer), ``AT+QSSLOPEN``,
#: ``AT+QSECWRITE``/``AT+QSECDEL``, ``AT+QIACT``/``AT+QIDEACT`` (state changes).
RETRY_SAFE = frozenset(
    {"+QSSLSTATE", "+QSECREAD", "+QSSLCFG", "+CMEE", "+CGMM", "+CGMR", "I", "+QIFGCNT", "+QICSGP",
     "+QSSLCLOSE"}
)
#: Lines that announce a module start (TCPIP-REF 2: drivers treat RDY and Call Ready as boot URCs,
#: S4, S6, S7, S13).
BOOT_URCS = ("RDY", "Call Ready")
#: The lines drivers see a module print as it starts (TCPIP-REF 2, "Boot": ``RDY``, ``Call
#: Ready`` S6; ``+CFUN: 1`` S12; ``SMS Ready``, ``+CPIN: READY`` S13; their order is unknown):
#: after a boot line, only these may end a transparent stream that is taken for a restart.
_STARTUP_LINE = re.compile(r"RDY|Call Ready|SMS Ready|\+CFUN: *\d|\+CPIN: *[A-Z ]+")
#: bytes of a transparent stream kept to look for start-up lines when a read times out
_BOOT_TAIL = 128
#: The line that ends transparent mode when the connection closes, as the channel reports it
#: (a URC made of the catalog's exit marker, SSL-AN 1.2 step 6).
TRANSPARENT_CLOSED = CATALOG.framing().raw_exit_markers[0].strip().decode("ascii")
#: The URC of a PDP context the network deactivated (TCPIP-REF 3, S2, S10, S14b).
PDP_DEACT_URC = "+PDP DEACT"
#: <socketstatus> words of AT+QSSLSTATE that hold an ssid (SSL-AN 2.2.6); ``INITIAL`` and
#: ``CLOSED`` do not.
_BUSY_STATES = ("CONNECTING", "CONNECTED", "REMOTE CLOSING", "CLOSING")

# -- plain TCP (the AT+QI* socket commands; quectel-gsm-tcpip.md 4-5, SSL-AN 1.3 and 3.3).
# The catalog does not describe these commands yet, so their lines are built here, every value
# checked with celltls.at.quoting before anything is written.

#: Seconds for which the ``AT+QSSLSTATE`` answer read at start stands for the stack state
#: (:meth:`QuectelGsm.ip_state`): one command less per request (issue 17).
FRESH_STATE_S = 5.0
#: The answer header of ``AT+QIRD``: ``+QIRD: <ip>:<port>,TCP,<n>`` then exactly ``<n>`` bytes
#: (quectel-gsm-tcpip.md 5 "AT+QIRD": S1 3.3, S5, S12, L2).
QIRD_BLOCK = BlockHeader(r"\+QIRD: [^,]*:\d+,(?:TCP|UDP),(?P<length>\d+)",
                         max_length=cat.MAX_RECV)
#: Bytes asked of one ``AT+QIRD`` (S14b reads 1500; the same bound as AT+QSSLRECV).
QIRD_MAX = cat.MAX_RECV
#: The data URC of buffer mode (``AT+QINDI=1``): ``+QIRDI: <id>,<sc>,<sid>`` (S1 3.3, S14e).
QIRDI_URC = "+QIRDI:"
#: Lines of a multiplexed socket (``QIMUX=1``): ``<id>, CONNECT OK``, ``<id>, CONNECT FAIL``,
#: ``<id>, CLOSED``; ``", "`` in real logs, ``","`` in the note (quectel-gsm-tcpip.md 5, 10).
_QI_WORDS = ("CONNECT OK", "CONNECT FAIL", "CLOSED")
_QI_LINE = re.compile(r"(?P<id>\d), ?(?P<word>CONNECT OK|CONNECT FAIL|CLOSED)")
#: ``AT+QIOPEN`` may take this long to report ``CONNECT OK``/``CONNECT FAIL``, seconds.
QIOPEN_TIMEOUT = float(cat.QIOPEN_TIMEOUT)


def arguments(name: str, **values: Value) -> str:
    """The argument text of ``AT<name>=...`` built from the catalog's plain form (quoting,
    ranges, lengths and values checked there: :meth:`celltls.dialects.spec.Command.build`).

    Raises:
        ParamError: (an :class:`~celltls.errors.UnsafeArgumentError`) a value the form does not
            accept; nothing has been written to the port.
    """
    return CATALOG.command(name).build(**values)


def setting(selector: str, **values: Value) -> str:
    """The argument text of ``AT+QSSLCFG="<selector>",...`` from the catalog's form of that
    setting (SSL-AN 2.2.1), e.g. ``setting("seclevel", ctxindex=0, seclevel=1)``.

    ``<ciphersuite>`` is checked as the form's hexadecimal number and written in double quotes
    (``"0xFFFF"``), as every example of the note writes it (SSL-AN 3.1-3.4).

    Raises:
        ParamError: (an :class:`~celltls.errors.UnsafeArgumentError`) a value the form does not
            accept; nothing has been written to the port.
        KeyError: the catalog has no such setting (a driver bug).
    """
    form = CATALOG.command("+QSSLCFG").form(selector)
    if form is None:
        raise KeyError(f"AT+QSSLCFG has no setting {selector!r}")
    text = form.build(**values)
    if selector == "ciphersuite" and values.get("ciphersuite") is not None:
        head, _, suite = text.rpartition(",")
        text = f'{head},"{suite}"'
    return text


def recv_payload(reply: Reply, requested: int) -> bytes:
    """The bytes of one ``AT+QSSLRECV`` answer, taken by the answer's own length field.

    The answer is ``+QSSLRECV: <ipaddr>:<port>,TCP,<actual length>`` CR LF, exactly that many
    bytes, then ``OK``; a bare ``OK`` when the buffer is empty (SSL-AN 2.2.4). The protocol layer
    cuts the block by the header's length; this checks that nothing else came with it.

    Args:
        reply: the command's reply (final result ``OK``).
        requested: the ``<length>`` asked for, bytes.

    Returns:
        bytes: the data, ``b""`` for an empty buffer.

    Raises:
        ATProtocolError: an answer that is not one block of at most ``requested`` bytes (a
            garbled header, bytes outside the block, two blocks): the stream cannot be trusted.
    """
    if reply.lines or len(reply.blocks) > 1:
        raise ATProtocolError(
            f"malformed AT+QSSLRECV answer: lines {reply.lines!r} and "
            f"{len(reply.blocks)} data blocks; expected one header "
            "'+QSSLRECV: <ipaddr>:<port>,TCP,<length>' and that many bytes (SSL-AN 2.2.4)"
        )
    if not reply.blocks:
        return b""
    data = reply.blocks[0].data
    if len(data) > requested:
        raise ATProtocolError(
            f"AT+QSSLRECV answered {len(data)} bytes ({reply.blocks[0].header!r}); at most "
            f"{requested} were asked for (SSL-AN 2.2.4)"
        )
    return data


def _whole_answer(exc: ATTimeoutError) -> bytes | None:
    """The data of an ``AT+QSSLRECV`` whose answer came whole (one block, cut by its own length
    field, and nothing else) but whose final result code was lost; ``None`` otherwise."""
    reply = exc.reply
    if not isinstance(reply, Reply) or len(reply.blocks) != 1 or reply.lines:
        return None
    try:
        return recv_payload(reply, cat.MAX_RECV)
    except ATProtocolError:
        return None


def parse_socket_line(line: str) -> tuple[int, str, str, int, str, int] | None:
    """Parse one socket line of ``AT+QSSLSTATE`` (SSL-AN 2.2.6).

    ``+QSSLSTATE: <socketindex>,<"TCP"|"UDP">,<ipaddr>,<port>,<socketstatus>,<sslflag>``, the
    words quoted or not (the quoting of real firmware is unknown, TCPIP-REF 6).

    Returns:
        tuple: ``(index, type, ipaddr, port, status, sslflag)``, or ``None`` for the stack-state
        line or anything else.
    """
    body = line.split(":", 1)[1] if line.startswith("+QSSLSTATE:") else line
    fields = [quoting.unquote(f) for f in quoting.split_arguments(body)]
    if len(fields) < 6:
        return None
    try:
        return (int(fields[0]), fields[1], fields[2], int(fields[3] or 0), fields[4].upper(),
                int(fields[5]))
    except ValueError:
        return None


def _is_ipv4(host: str) -> bool:
    """Whether ``host`` is a dotted IPv4 address (``AT+QIDNSIP=0``), not a name."""
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def qird_payload(reply: Reply, requested: int) -> bytes:
    """The bytes of one ``AT+QIRD`` answer, each block taken by its own length field.

    The answer is ``+QIRD: <ip>:<port>,TCP,<n>`` CR LF, exactly ``<n>`` bytes, ``OK``; a bare
    ``OK`` when nothing is buffered (quectel-gsm-tcpip.md 5 "AT+QIRD": S1 3.3, S4, S12). One
    answer may hold several blocks (L2, UDP; for TCP unknown): they are taken in order.

    Raises:
        ATProtocolError: lines outside the blocks, or a block over ``requested`` bytes.
    """
    if reply.lines:
        raise ATProtocolError(
            f"malformed AT+QIRD answer: lines {reply.lines!r}; expected headers "
            "'+QIRD: <ip>:<port>,TCP,<length>' each with that many bytes (quectel-gsm-tcpip.md 5)"
        )
    for block in reply.blocks:
        if len(block.data) > requested:
            raise ATProtocolError(
                f"AT+QIRD answered {len(block.data)} bytes ({block.header!r}); at most "
                f"{requested} were asked for"
            )
    return b"".join(block.data for block in reply.blocks)


def check_file_name(name: str, size: int) -> None:
    """Check a ``RAM:``/``NVRAM:`` file name and size against SSL-AN 2.2.7.

    Raises:
        CredentialError: unknown storage, an NVRAM name other than CA0/CC0/CK0, or a size
            outside 1..32768 (RAM) / 1..2017 (NVRAM).
        UnsafeArgumentError: the name cannot be sent.
    """
    quoting.check_text(name, "filename", allow_empty=False)
    storage, _, base = name.partition(":")
    if not base and name in cat.NVRAM_NAMES:
        storage, base = "NVRAM", name
    storage = storage.upper()
    if storage == "RAM":
        limit = cat.MAX_RAM_FILE
    elif storage == "NVRAM":
        limit = cat.MAX_NVRAM_FILE
        if base not in cat.NVRAM_NAMES:
            raise CredentialError(
                f"NVRAM file {name!r}: NVRAM holds only CA0 (root CA), CC0 (client certificate) "
                "and CK0 (client key) (SSL-AN 2.2.7)"
            )
    else:
        raise CredentialError(f"file {name!r} must start with RAM: or NVRAM: (SSL-AN 2.2.7)")
    if not 1 <= size <= limit:
        raise CredentialError(
            f"{name!r} is {size} bytes; {storage} files must be 1 to {limit} bytes (SSL-AN 2.2.7)"
        )


class QuectelGsm(Dialect):
    """Driver of the Quectel GSM family.

    Args:
        channel: the AT channel.
        ctxindex: the SSL context used for connections (0..5).
        nvram: store credentials in NVRAM (CA0/CC0/CK0, surviving a reset) instead of RAM.
        probe_failures: probe the server from the host to explain a failed handshake.
        guard_time: silence before and after ``+++``, seconds.
    """

    name = cat.DIALECT
    capabilities = CAPABILITIES
    catalog = CATALOG
    retry_safe = RETRY_SAFE
    plain_tcp = True

    def __init__(
        self, channel: ATChannel, *, ctxindex: int = 0, nvram: bool = False,
        probe_failures: bool = True, guard_time: float = GUARD_TIME, model: str | None = None,
        transparent: bool = False,
    ) -> None:
        super().__init__(channel)
        self.guard_time = guard_time
        #: open every secure socket in transparent mode (the CLI's ``--transparent``): the
        #: line carries the payload alone, but ending it early costs ``+++`` and two guard
        #: times (SSL-AN 1.2 step 6, 3.4)
        self.transparent = bool(transparent)
        if model is not None and not re.fullmatch(r"[A-Za-z0-9]{2,8}", model):
            raise UnsafeArgumentError("model", model, "is not a Quectel model name (M66, M95...)")
        #: the model the caller named (``--model``): identification then reads nothing
        self.model_given = None if model is None else model.upper()
        # the AT+QSSLSTATE answer read at start (close_stale_sockets), for attach() to use
        # instead of asking again when nothing came between (issue 17: fewer commands)
        self._fresh_state: tuple[float, Reply] | None = None
        self._echo_on = False  # the last probe of the line was echoed (ATE1)
        quoting.integer(ctxindex, "ctxindex", *cat.CTX_RANGE)
        self.ctxindex = ctxindex
        self.nvram = nvram
        self.probe_failures = probe_failures
        self.cid = 0
        # ssid -> socket; None while an AT+QSSLOPEN for that ssid is under way (reserved).
        self._sockets: dict[int, QuectelSocket | None] = {}
        self._sockets_lock = threading.Lock()
        self._stored: dict[CredentialKind, str] = {}
        # ssids the module holds for something else (a plain TCP socket, TCPIP-REF 6, S1 1.3).
        self._foreign: set[int] = set()
        # the socket whose AT+QSSLRECV was sent last: a late answer belongs to it.
        self._last_reader: QuectelSocket | None = None
        self._pdp_lost = ""  # the +PDP DEACT line, until attach() again
        self._reboot_urc = ""  # the boot URC seen, until the driver set the module up again
        channel.subscribe('+QSSLURC: "recv"', self._on_recv_urc)
        channel.subscribe('+QSSLURC: "closed"', self._on_closed_urc)
        channel.subscribe("+QSSLRECV:", self._on_late_read)
        channel.subscribe(PDP_DEACT_URC, self._on_pdp_deact)
        for boot in BOOT_URCS:
            channel.subscribe(boot, self._on_boot)
        # plain TCP: the +QIRD block, +QIRDI and the "<id>, CLOSED" lines (quectel-gsm-tcpip.md 5)
        framing = CATALOG.framing()
        qi_lines = tuple(f"{i}{sep}{word}" for i in range(cat.SSID_RANGE[0],
                                                           cat.SSID_RANGE[1] + 1)
                         for sep in (", ", ",") for word in _QI_WORDS)
        channel.configure(Framing((*framing.urc_prefixes, QIRDI_URC, *qi_lines),
                                  (*framing.data_blocks, QIRD_BLOCK), framing.raw_exit_markers))
        # the exit marker of transparent mode, delivered as the URC "CLOSED" (SSL-AN 1.2 step 6)
        channel.subscribe(TRANSPARENT_CLOSED, self._on_transparent_closed)
        channel.subscribe(QIRDI_URC, self._on_qirdi)
        channel.subscribe("+QIRD:", self._on_late_read)
        for line in qi_lines:
            if line.endswith("CLOSED"):
                channel.subscribe(line, self._on_qi_closed)
        #: AT+QIMUX=1 is sent by attach() (needed by plain TCP sockets, SSL-AN 1.3 step 2)
        self.multiplex = False
        self._plain_ready = False  # AT+QIMUX=1 and AT+QINDI=1 in place since the last boot
        self._attach_args: tuple[str, str | None, str | None, float] | None = None
        self._early_closed: dict[int, str] = {}  # "<id>, CLOSED" seen while opening <id>

    # -- commands ----------------------------------------------------------------------------

    # -- identification ----------------------------------------------------------------------

    def initialise(self) -> dict[str, str]:
        """Recover the line (:meth:`recover_line`), turn on numeric ``+CME ERROR`` codes and
        read the model and firmware (:meth:`~celltls.dialects.base.Dialect.identify`, 27.007
        9.1, 5.2, 5.3), then close the secure sockets an earlier run left open
        (:meth:`close_stale_sockets`).

        Returns:
            dict: ``model`` and ``firmware`` as reported.

        Raises:
            ATTimeoutError: the module does not answer ``AT``, even after the escape sequence.
            PortError: the port failed.
        """
        self.recover_line()
        self._echo_off()
        info = self.identify()
        self.close_stale_sockets()
        return info

    def _echo_off(self) -> None:
        """``ATE0`` (V.250 6.2.4) when the module echoed the last command: the echo of every
        ``AT+QIRD``/``AT+QSSLRECV`` is a third of a read's overhead on the line (issue 17). The
        module keeps it off until it restarts, so a later run sends nothing."""
        if not self._echo_on:
            return
        try:
            self.channel.command("ATE0", timeout=2)
            self._echo_on = False
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("ATE0: %s; the module keeps echoing commands", exc)

    def identify(self) -> dict[str, str]:
        """The model and firmware from ``ATI`` (V.250 6.1.3), which these modules answer with
        ``Quectel_Ltd`` / ``Quectel_<model>`` / ``Revision: <firmware>`` (quectel-gsm-tcpip.md
        2: S17, L1): one command, where 27.007's ``AT+CGMM`` and ``AT+CGMR`` take two and
        their answers on this family were never captured. Nothing is read when the model was
        given (``model=``, the CLI's ``--model``). ``AT+CMEE=1`` was already sent by
        :meth:`recover_line`.

        Returns:
            dict: ``model`` (``"Quectel_M66"``, as the module names itself) and, when read,
            ``firmware`` (``"M66FAR02A12"``); an answer of another shape leaves them out.

        Raises:
            ATTimeoutError: no final result code. PortError: the port failed.
        """
        if self.model_given is not None:
            return {"model": f"Quectel_{self.model_given}"}
        info: dict[str, str] = {}
        try:
            lines = self.at("I").lines
        except ATCommandError as exc:
            log.info("ATI refused (%s): model and firmware unknown", exc)
            return info
        for line in lines:
            text = line.strip()
            if text.startswith("Revision:"):
                info["firmware"] = text.split(":", 1)[1].strip()
            elif text.startswith("Quectel_") and text != "Quectel_Ltd":
                info["model"] = text
        return info

    # -- recovery ----------------------------------------------------------------------------

    def _answers_at(self, timeout: float = 2.0) -> bool:
        """Whether ``AT+CMEE=1`` gets a plain ``OK`` (no stray lines) within ``timeout``
        seconds: the probe of the line also turns numeric ``+CME ERROR`` codes on (27.007
        9.1), one command where ``AT`` then ``AT+CMEE=1`` took two."""
        try:
            reply = self.channel.command("AT+CMEE=1", timeout=timeout, check=False)
            self._echo_on = reply.echoed
        except ATTimeoutError:
            return False
        final = reply.final
        return final is not None and final.ok and not reply.lines and not reply.blocks

    def recover_line(self) -> None:
        """Make sure the line is in command mode, as an earlier run may have left it otherwise.

        A host restart does not reset the module: it may still be in transparent data mode (AT
        text would go to the server as data) or in the middle of a ``>`` data phase. When ``AT``
        gets no answer, the driver sends ESC (which cancels a ``AT+QSSLSEND`` prompt, SSL-AN
        2.2.3), then ``+++`` with :attr:`guard_time` seconds of silence on each side (SSL-AN
        1.2 step 6, 3.4; TCPIP-REF 6 and 10, S7), and asks again.

        Raises:
            ATTimeoutError: the module still does not answer.
            PortError: the port failed.
        """
        if self._answers_at():
            return
        log.warning("%s does not answer AT: leaving a data phase or data mode an earlier run "
                    "may have left (ESC, then +++ with guard times)", self.channel.name)
        self.channel.write_raw(b"\x1b")
        time.sleep(self.guard_time)
        self.channel.write_raw(b"+++")
        time.sleep(self.guard_time * 1.5)
        # In command mode the "+++" prefixes the next line, which then fails: ask twice.
        for _attempt in range(2):
            if self._answers_at(3.0):
                return
        raise ATTimeoutError("AT (after ESC and the escape sequence +++)", 6.0)

    def socket_states(self) -> list[tuple[int, str, str, int, str, int]]:
        """The socket lines of ``AT+QSSLSTATE`` (SSL-AN 2.2.6), plain TCP/UDP sockets included.

        Returns:
            list: ``(index, type, ipaddr, port, status, sslflag)`` per line (see
            :func:`parse_socket_line`).

        Raises:
            ATCommandError, ATTimeoutError: the query failed (asked twice on a timeout).
        """
        reply = self.at("+QSSLSTATE")
        self._fresh_state = (time.monotonic(), reply)
        return [parsed for line in reply.lines if (parsed := parse_socket_line(line))]

    def close_stale_sockets(self) -> list[int]:
        """Close the secure sockets the module holds that this run did not open.

        An earlier run killed mid-transfer leaves its socket open in the module, and every later
        ``AT+QSSLOPEN`` on that ssid answers ``+QSSLOPEN: <ssid>,-2`` (occupied, SSL-AN 2.2.2)
        until a restart. The sockets are read with ``AT+QSSLSTATE`` (SSL-AN 2.2.6; drivers
        decide from it or close before opening, TCPIP-REF 6, S9, S10) and the SSL ones closed
        with ``AT+QSSLCLOSE`` (2.2.5). Plain TCP/UDP sockets (``sslflag`` 0) share the ssid range
        (SSL-AN 1.3); they are closed with ``AT+QICLOSE=<index>`` (TCPIP-REF 5, 6: S7 closes
        at start), and one that does not close is kept out of use.

        Returns:
            list: the indices closed (secure and plain).
        """
        try:
            states = self.socket_states()
        except (ATCommandError, ATTimeoutError) as exc:
            log.warning("cannot read the socket states (%s); stale sockets stay open", exc)
            return []
        closed: list[int] = []
        fresh, self._fresh_state = self._fresh_state, None
        with self._sockets_lock:
            ours = set(self._sockets)
        for index, kind, address, port, status, ssl_flag in states:
            if index in ours or status not in _BUSY_STATES:
                continue
            if ssl_flag != 1:
                # a plain TCP socket an earlier run left (quectel-gsm-tcpip.md 6, 10: S7 closes
                # with AT+QICLOSE at start); one that does not close is kept out of use
                log.warning("closing plain %s socket %d (%s:%d, %s) left open by an earlier "
                            "run", kind, index, address, port, status)
                if self._close_qi(index):
                    closed.append(index)
                else:
                    self._foreign.add(index)
                continue
            log.warning("closing secure socket %d (%s:%d, %s) left open by an earlier run",
                        index, address, port, status)
            if self._close_ssid(index):
                closed.append(index)
        if not closed and not self._foreign:
            self._fresh_state = fresh  # the stack state it holds is still the module's
        return closed

    def _close_ssid(self, ssid: int, timeout: float | None = None) -> bool:
        """``AT+QSSLCLOSE=<ssid>``; whether the module said ``CLOSE OK``. Never raises for a
        module answer or a lost one (a socket that is not open answers ``ERROR``)."""
        try:
            args = arguments("+QSSLCLOSE", ssid=ssid)
            if timeout is None:
                self.at("+QSSLCLOSE", args)
            else:
                self.at("+QSSLCLOSE", args, timeout=timeout)
        except (ATCommandError, ATTimeoutError, PortError) as exc:
            log.info("AT+QSSLCLOSE=%d: %s", ssid, exc)
            return False
        return True

    def close_all(self) -> None:
        """Close every secure socket this run opened (on error, Ctrl-C or exit); never raises
        for a module answer."""
        with self._sockets_lock:
            socks = [s for s in self._sockets.values() if s is not None]
        for sock in socks:
            try:
                sock.close()
            except (CellTLSError, OSError) as exc:
                log.info("closing socket %d: %s", sock.ssid, exc)

    def _after_module_events(self, *, reattach: bool = True) -> None:
        """Set the module up again after a boot URC (RAM settings and files are gone), and,
        with ``reattach`` when this session attached, bring the network back up with the same
        APN, credentials and timeout (:meth:`attach`): a restart loses the PDP context
        (TCPIP-REF 2, 3), so the next request would otherwise fail for want of it.

        Raises:
            ModuleRebootedError: the network did not come back after the restart.
        """
        if not self._reboot_urc:
            return
        urc = self._reboot_urc
        log.warning("the module restarted (%s): setting it up again", urc)
        self._stored.clear()
        self._plain_ready = False
        self._echo_on = self.at("+CMEE", arguments("+CMEE", n=1)).echoed
        self._echo_off()
        self._reboot_urc = ""
        if reattach and self._attach_args is not None:
            self.attach_again(f"the module restarted ({urc!r})", *self._attach_args,
                              restart_urc=urc)

    # -- URCs of the module and the network ----------------------------------------------------

    def _each_socket(self) -> list[QuectelSocket]:
        with self._sockets_lock:
            return [s for s in self._sockets.values() if s is not None]

    def _on_boot(self, event: Urc | DataBlock) -> None:
        text = event.text if isinstance(event, Urc) else event.header
        if text.strip() not in BOOT_URCS:
            return
        self._reboot_urc = text.strip()
        self._fresh_state = None
        for sock in self._each_socket():
            sock._fail(
                ModuleRebootedError(
                    f"the module restarted ({text.strip()!r}) while secure socket {sock.ssid} "
                    f"to {sock.host}:{sock.port} was open; its connections, SSL settings and "
                    "RAM certificates are gone: bring the network up again (Modem.attach, the "
                    "CLI's --apn) and repeat the request (TCPIP-REF 2)",
                    urc=text.strip(),
                ),
                gone=True,
            )

    def _on_pdp_deact(self, event: Urc | DataBlock) -> None:
        text = (event.text if isinstance(event, Urc) else event.header).strip()
        self._pdp_lost = text
        self._fresh_state = None
        for sock in self._each_socket():
            sock._fail(self._network_lost(sock, text), gone=True)

    def _network_lost(self, sock: QuectelSocket, urc: str) -> NetworkLostError:
        return NetworkLostError(
            f"the network deactivated the PDP context ({urc!r}) while secure socket "
            f"{sock.ssid} to {sock.host}:{sock.port} was open ({sock.received} bytes received); "
            "bring the network up again (Modem.attach, the CLI's --apn) and repeat the request "
            "(SSL-AN 2.2.10.2, TCPIP-REF 3)",
            urc=urc,
        )

    def _stack_lost(self) -> str:
        """The URC (or state) saying the PDP context is gone, ``""`` while it is up."""
        if self._pdp_lost:
            return self._pdp_lost
        try:
            state = self.ip_state()
        except (ATCommandError, ATTimeoutError, ATProtocolError, NetworkError):
            return ""
        return self._pdp_lost or ("STATE: PDP DEACT" if state == "PDP DEACT" else "")

    def _on_late_read(self, event: Urc | DataBlock) -> None:
        """A ``+QSSLRECV`` answer that came after its command was given up (or shifted by a
        duplicated final result code): its bytes were not delivered in order, so the socket
        that read last fails instead of skipping them."""
        sock = self._last_reader
        size = len(event.data) if isinstance(event, DataBlock) else 0
        header = event.header if isinstance(event, DataBlock) else event.text
        log.warning("AT+QSSLRECV answer with no command pending: %r (+%d bytes)", header, size)
        if sock is not None:
            sock._fail(
                SocketError(
                    f"secure socket {sock.ssid}: an AT+QSSLRECV answer ({header!r}, {size} "
                    "bytes) arrived after its command had ended; those bytes are out of order, "
                    "so the stream is abandoned rather than delivered with a gap (SSL-AN 2.2.4)"
                ),
                gone=False,
            )


    def _circuit_switched_note(self) -> str:
        """What ``AT+CREG?`` adds when GPRS registration failed (SSL-AN 4.1 item 2)."""
        try:
            reply = self.channel.command("AT+CREG?", timeout=2, response_prefixes=("+CREG:",))
            fields = quoting.split_arguments(reply.first("+CREG:"))
            stat = int(fields[1] if len(fields) > 1 else fields[0])
        except (ATCommandError, ATTimeoutError, ATProtocolError, ValueError):
            return ""
        if stat in REGISTERED:
            return (
                f"; the module is registered for circuit-switched service (+CREG stat {stat}) "
                "but not for GPRS: the SIM's plan or the network may not offer packet data"
            )
        return f"; +CREG stat {stat}: {REGISTRATION_STATES.get(stat, 'unknown')}"

    def ip_state(self) -> str:
        """The TCP/IP stack state from ``AT+QSSLSTATE`` (SSL-AN 2.2.6), e.g. ``"IP INITIAL"``.

        The answer read at start by :meth:`close_stale_sockets` is used once instead of asking
        again, when it is under :data:`FRESH_STATE_S` old and no boot or PDP URC came since."""
        fresh, self._fresh_state = self._fresh_state, None
        if fresh is not None and time.monotonic() - fresh[0] < FRESH_STATE_S:
            reply = fresh[1]
        else:
            reply = self.at("+QSSLSTATE")
        for line in reply.lines:
            body = line.split(":", 1)[1] if line.startswith("+QSSLSTATE:") else line
            if "," in body:
                continue  # a socket line: <socketindex>,<type>,<ip>,<port>,<status>,<flag>
            state = quoting.unquote(body).removeprefix("STATE: ")
            if state in cat.IP_STATES:
                return state
        raise NetworkError(f"AT+QSSLSTATE gave no state: {reply.lines!r}")

    def attach(
        self, apn: str, user: str | None = None, password: str | None = None,
        timeout: float = 60.0,
    ) -> NetworkStatus:
        """Wait for registration, configure the APN, activate the PDP context, read the IP.

        Follows SSL-AN 1.2 steps 2-3 and 4.1: ``AT+CGREG?`` until registered, ``AT+QIFGCNT=0``,
        ``AT+QICSGP=1,<apn>,<user>,<password>``, ``AT+QIREGAPP``, ``AT+QIACT``, ``AT+QILOCIP``.
        Steps already done (the stack state says so) are skipped, so calling it twice is safe.

        Args:
            apn: the access point name ("" for the network's default).
            user, password: APN credentials, or ``None``.
            timeout: seconds to wait for registration.

        Raises:
            UnsafeArgumentError: the APN, user or password cannot be sent.
            NetworkError: not registered in time, or PDP activation failed.
        """
        values: dict[str, Value] = {"mode": 1, "apn": apn}
        if user is not None or password is not None:
            values.update({"user name": user or "", "password": password or ""})
        qicsgp = CATALOG.command("+QICSGP")
        qicsgp_args, qicsgp_shown = qicsgp.build(**values), qicsgp.shown(**values)
        qifgcnt_args = arguments("+QIFGCNT", id=0)
        self._attach_args = (apn, user, password, timeout)
        self._after_module_events(reattach=False)
        try:
            stat, meaning = self.wait_registered(timeout)
        except NetworkError as exc:
            raise NetworkError(f"{exc}{self._circuit_switched_note()}") from None
        state = self.ip_state()
        if state == "PDP DEACT":
            self.at("+QIDEACT")
            state = "IP INITIAL"
        if state == "IP INITIAL":
            self.at("+QIFGCNT", qifgcnt_args)
            self.cid = 0
            self.at("+QICSGP", qicsgp_args, shown=f"AT+QICSGP={qicsgp_shown}")
            if self.multiplex:
                # before AT+QIREGAPP: after AT+QIACT it is refused (SSL-AN 1.3 step 2;
                # quectel-gsm-tcpip.md 4, L5)
                self.at("+QIMUX", arguments("+QIMUX", mode=1))
            self.at("+QIREGAPP")
            state = "IP START"
        if state in ("IP START", "IP CONFIG", "IP IND"):
            try:
                self.at("+QIACT")
            except ATCommandError as exc:
                raise NetworkError(
                    f"PDP context activation failed ({exc}); check the APN {apn!r}, that the "
                    "module is attached (AT+CGATT?) and registered (SSL-AN 4.1)"
                ) from exc
        reply = self.at("+QILOCIP")
        assert reply.final is not None
        address = reply.final.text if reply.final.kind == "VALUE" else None
        self._pdp_lost = ""
        return NetworkStatus(True, (stat, meaning), address, apn)

    def detach(self) -> None:
        """Deactivate the PDP context (``AT+QIDEACT``, ``DEACT OK``; SSL-AN 1.2 step 8)."""
        self.at("+QIDEACT")

    # -- credentials -------------------------------------------------------------------------

    def read_checksum(self, name: str) -> tuple[bool, str] | None:
        """``AT+QSECREAD=<name>`` (SSL-AN 2.2.8): ``(good, checksum)`` or ``None`` if absent."""
        try:
            text = self.at("+QSECREAD", arguments("+QSECREAD", filename=name)).first(
                "+QSECREAD:")
        except ATCommandError:
            return None
        good, _, checksum = text.partition(",")
        return good.strip() == "1", checksum.strip().lower()

    def store_credential(
        self, kind: CredentialKind, data: bytes, name: str | None = None
    ) -> StoredCredential:
        """Store a certificate or key with ``AT+QSECWRITE`` (SSL-AN 2.2.7), idempotently.

        The file is first looked up with ``AT+QSECREAD``: when its checksum equals the one
        computed on the host, nothing is uploaded. Otherwise an existing file is deleted
        (``AT+QSECDEL``, since 2.2.7 forbids overwriting), the data uploaded after ``CONNECT``,
        and the size and checksum the module reports compared with the host's, then read back.

        Args:
            kind: ``"ca"``, ``"client_cert"`` or ``"client_key"``.
            data: the PEM bytes.
            name: ``"RAM:<name>"`` or ``"NVRAM:CA0|CC0|CK0"``; by default a RAM name, or the
                NVRAM name of the kind when the driver was made with ``nvram=True``.

        Raises:
            CredentialError: bad name or size (before anything is sent), or the module's size
                or checksum differs from the host's.
        """
        target = name or (_NVRAM_NAMES if self.nvram else _DEFAULT_NAMES)[kind]
        check_file_name(target, len(data))
        write_args = arguments("+QSECWRITE", filename=target, filesize=len(data),
                               timeout=cat.SECWRITE_TIMEOUT_DEFAULT)
        delete_args = arguments("+QSECDEL", filename=target)
        expected = cat.qsec_checksum(data)
        present = self.read_checksum(target)
        if present is not None and present == (True, expected):
            self._stored[kind] = target
            return StoredCredential(target, kind, len(data), expected, uploaded=False)
        if present is not None:
            self.at("+QSECDEL", delete_args)
        reply = self.at(
            "+QSECWRITE",
            write_args,
            payload=data,
            secret_payload=kind == "client_key",
            data_phase="connect",
        )
        size_text, _, checksum = reply.first("+QSECWRITE:").partition(",")
        checksum = checksum.strip().lower()
        if int(size_text) != len(data) or checksum != expected:
            raise CredentialError(
                f"{target}: the module stored {size_text} bytes with checksum {checksum}; the "
                f"host sent {len(data)} bytes with checksum {expected} (SSL-AN 2.2.7)"
            )
        after = self.read_checksum(target)
        if after != (True, expected):
            raise CredentialError(f"{target}: AT+QSECREAD reports {after} after the upload")
        self._stored[kind] = target
        return StoredCredential(target, kind, len(data), expected, uploaded=True)

    def delete_credential(self, name: str) -> None:
        """``AT+QSECDEL=<name>`` (SSL-AN 2.2.9).

        Raises:
            ATCommandError: the file does not exist or the module refused.
        """
        self.at("+QSECDEL", arguments("+QSECDEL", filename=name))
        for kind, stored in list(self._stored.items()):
            if stored == name:
                del self._stored[kind]

    # -- TLS profile -------------------------------------------------------------------------

    def profile_settings(self, profile: TlsProfile) -> dict[str, str]:
        """The ``AT+QSSLCFG`` values for ``profile`` (SSL-AN 2.2.1), without file names.

        Returns:
            dict: ``sslversion``, ``ciphersuite``, ``seclevel``, ``ignorertc`` as sent.

        Raises:
            ProfileError: a version range or cipher list the module cannot express.
        """
        versions = profile.versions(CAPABILITIES.tls_versions)
        if not versions:
            raise ProfileError(
                f"the module speaks SSL 3.0 to TLS 1.2 only; the profile asks for "
                f"{profile.min_version.label} or newer"
            )
        if len(versions) == 1:
            sslversion = _VERSION_CODES[versions[0]]
        elif versions[0] == TlsVersion.SSL3_0:
            sslversion = 4
        else:
            raise ProfileError(
                f"the module takes one version or all of SSL 3.0-TLS 1.2 (<sslversion> 0-4, "
                f"SSL-AN 2.2.1); the range {versions[0].label}-{versions[-1].label} cannot be "
                f"set. Use min_version=max_version, or min_version=TlsVersion.SSL3_0 for all"
            )
        if profile.cipher_suites is None or set(profile.cipher_suites) >= set(cat.CIPHER_SUITES):
            ciphersuite = "0xFFFF"
        else:
            unknown = [c for c in profile.cipher_suites if c not in cat.CIPHER_SUITES]
            if unknown:
                raise ProfileError(
                    "the module has no cipher suite "
                    + ", ".join(f"0x{c:04X}" for c in unknown)
                    + f"; it has {CAPABILITIES.key_exchange}"
                )
            if len(profile.cipher_suites) != 1:
                raise ProfileError(
                    "the module takes one cipher suite or all of them (0xFFFF, SSL-AN 2.2.1); "
                    "give one suite or none"
                )
            ciphersuite = f"0x{profile.cipher_suites[0]:04X}"
        seclevel = {Verify.NONE: 0, Verify.SERVER: 1, Verify.MUTUAL: 2}[profile.verify]
        return {
            "sslversion": str(sslversion),
            "ciphersuite": ciphersuite,
            "seclevel": str(seclevel),
            "ignorertc": "0" if profile.check_time else "1",
        }

    def apply_profile(self, profile: TlsProfile, ctxindex: int | None = None) -> None:
        """Store the profile's credentials and configure SSL context ``ctxindex``.

        Raises:
            ProfileError, CredentialError: as :meth:`profile_settings` and
                :meth:`store_credential`.
        """
        ctx = self.ctxindex if ctxindex is None else ctxindex
        settings = self.profile_settings(profile)
        lines = [
            setting("sslversion", ctxindex=ctx, sslversion=int(settings["sslversion"])),
            setting("ciphersuite", ctxindex=ctx, ciphersuite=settings["ciphersuite"]),
            setting("seclevel", ctxindex=ctx, seclevel=int(settings["seclevel"])),
            setting("ignorertc", ignorertc=int(settings["ignorertc"])),
        ]
        profile.warn_if_insecure(f"SSL context {ctx}")
        files: dict[str, str] = {}
        if profile.verify is not Verify.NONE and profile.ca is not None:
            files["cacert"] = self.store_credential("ca", profile.ca.pem).name
        if profile.client_cert is not None and profile.client_key is not None:
            files["clientcert"] = self.store_credential("client_cert", profile.client_cert.pem).name
            files["clientkey"] = self.store_credential("client_key", profile.client_key.pem).name
        lines += [setting(selector, ctxindex=ctx, **{_FILE_PARAMS[selector]: filename})
                  for selector, filename in files.items()]
        for line in lines:
            self.at("+QSSLCFG", line)

    # -- sockets -----------------------------------------------------------------------------

    def _reserve_ssid(self, prefer: int | None = None) -> int:
        """Take a free secure socket id (0-5) for an open under way: ``prefer`` when it is
        free, else the lowest one neither open here nor held by something else."""
        with self._sockets_lock:
            free = [
                ssid for ssid in range(cat.SSID_RANGE[0], cat.SSID_RANGE[1] + 1)
                if ssid not in self._sockets and ssid not in self._foreign
            ]
            if free:
                ssid = prefer if prefer in free else free[0]
                self._sockets[ssid] = None
                return ssid
        held = f" ({sorted(self._foreign)} held by other sockets)" if self._foreign else ""
        raise SocketError(f"all 6 secure sockets (ssid 0-5) are in use{held} (SSL-AN 2.2.2)")

    def tls_connect(
        self, host: str, port: int, profile: TlsProfile, *, timeout: float = 90.0,
        transparent: bool = False,
    ) -> SecureSocket:
        """Apply ``profile`` and open a secure socket with ``AT+QSSLOPEN`` (SSL-AN 2.2.2).

        ``+QSSLOPEN: <ssid>,-2`` (socket occupied) means an earlier run left that ssid open: it
        is closed (``AT+QSSLCLOSE``) and the open tried once more; if it is still occupied,
        another free ssid is used. An open that is interrupted (Ctrl-C, a lost result) is
        closed in the module so that it does not stay occupied.

        Args:
            host: server name or IP address (at most 255 bytes, no quotes or controls).
            port: server port.
            profile: the TLS profile.
            timeout: the module's connect timeout, seconds, 10..300.
            transparent: open in transparent mode (``CONNECT``, then raw data on the line);
                always when the driver was made with ``transparent=True``.

        Raises:
            UnsafeArgumentError: bad host, port or timeout (nothing is sent).
            ProfileError, CredentialError: see :meth:`apply_profile`.
            DNSError, ConnectionRefusedByServer: ``connectcode -1`` and the host's own attempt
                fails the same way (see :mod:`celltls.tlsprobe`).
            ConnectTimeoutError: ``connectcode -1`` when the module's own ``timeout`` expired.
            CertificateVerifyError (CertificateExpiredError...), TLSNegotiationError,
                TLSHandshakeError: ``connectcode -1`` explained by the host-side probe.
            NetworkLostError: the PDP context is gone (``+PDP DEACT``).
            ModuleRebootedError: the module restarted during the open.
            SocketError: every ssid is occupied.
            ATTimeoutError: no result within ``timeout`` (+5 s).
        """
        transparent = transparent or self.transparent
        quoting.quote(host, "host", max_len=CAPABILITIES.max_hostname)
        quoting.integer(port, "port", 1, 65535)
        seconds = int(quoting.integer(int(timeout), "timeout", *cat.OPEN_TIMEOUT_RANGE))
        self._open_args(cat.SSID_RANGE[0], host, port, seconds, transparent)  # the form checks
        self._after_module_events()
        self.apply_profile(profile)
        tried_close: set[int] = set()
        prefer: int | None = None
        while True:
            ssid = self._reserve_ssid(prefer)
            try:
                sock = self._open(ssid, host, port, seconds, profile, transparent)
            except _Occupied:
                self._forget_socket(ssid)
                if ssid not in tried_close:
                    # Left open by an earlier run (TCPIP-REF 6, 10): close it, try it again.
                    tried_close.add(ssid)
                    self._close_ssid(ssid)
                    prefer = ssid
                else:
                    log.warning("ssid %d stays occupied after AT+QSSLCLOSE: using another", ssid)
                    self._foreign.add(ssid)
                    prefer = None
                continue
            except BaseException:
                self._forget_socket(ssid)
                raise
            with self._sockets_lock:
                self._sockets[ssid] = sock
            return sock

    def _open_args(self, ssid: int, host: str, port: int, seconds: int,
                   transparent: bool) -> str:
        """The arguments of ``AT+QSSLOPEN`` from the catalog's form (SSL-AN 2.2.2).

        Raises:
            ParamError: a value the form does not accept (nothing is written).
        """
        return arguments("+QSSLOPEN", ssid=ssid, ctxindex=self.ctxindex,
                         **{"ipaddr/domainname": host}, port=port,
                         connectmode=1 if transparent else 0, timeout=seconds)

    def _open(
        self, ssid: int, host: str, port: int, seconds: int, profile: TlsProfile,
        transparent: bool,
    ) -> QuectelSocket:
        args = self._open_args(ssid, host, port, seconds, transparent)
        prefix = f"+QSSLOPEN: {ssid},"
        waiter = self.channel.expect_urc(
            lambda t: t.startswith(prefix)
            or (transparent and t.startswith("CONNECT"))
            or t.strip() in BOOT_URCS
            or t.startswith(PDP_DEACT_URC)
        )
        if transparent:
            self.channel.arm_raw_on_connect()
        started = time.monotonic()
        refused = False
        try:
            # The result comes after OK as +QSSLOPEN: <ssid>,<code>, a URC: no response prefix,
            # so that the result of an earlier open is never taken as this command's answer.
            try:
                self.at("+QSSLOPEN", args, response_prefixes=())
            except ATCommandError as exc:
                refused = True
                raise self._open_refused(exc) from exc
            event = self._wait_open(waiter, float(seconds) + 5, f"AT+QSSLOPEN={args} (result)")
        except BaseException as exc:
            self.channel.disarm_raw_on_connect()
            if not refused and not isinstance(
                exc, ModuleRebootedError | NetworkLostError | PortError
            ):
                # Ctrl-C, a lost OK or a result that never came: a late success would leave the
                # socket open in the module (and a later open of this ssid answered -2).
                self._close_ssid(ssid, timeout=5)
            raise
        finally:
            self.channel.forget(waiter)
        text = event.text if isinstance(event, Urc) else event.header
        if text.startswith("CONNECT"):
            # a bulk stream from here: fewer, larger reads on a slow line (ATChannel docs)
            self.channel.raw_coalescing = True
            return QuectelTransparentSocket(self, ssid, host, port)
        self.channel.disarm_raw_on_connect()
        code = int(text[len(prefix) :].strip())
        if code == -2:
            raise _Occupied(f"{text}: socket {ssid} is occupied (SSL-AN 2.2.2)")
        if code != 0:
            raise self._open_failed(host, port, profile, text, time.monotonic() - started,
                                    seconds)
        return QuectelSocket(self, ssid, host, port)

    def _wait_open(self, waiter: UrcWaiter, timeout: float, what: str) -> Urc | DataBlock:
        """The open's result, or the error a boot or PDP URC stands for."""
        event = waiter.wait(timeout, what)
        text = (event.text if isinstance(event, Urc) else event.header).strip()
        if text in BOOT_URCS:
            raise ModuleRebootedError(
                f"the module restarted ({text!r}) during {what}; bring the network up again "
                "and repeat (TCPIP-REF 2)", urc=text,
            )
        if text.startswith(PDP_DEACT_URC):
            raise NetworkLostError(
                f"the network deactivated the PDP context ({text!r}) during {what}; bring the "
                "network up again (Modem.attach, the CLI's --apn) (TCPIP-REF 3)", urc=text,
            )
        return event

    def _open_failed(
        self, host: str, port: int, profile: TlsProfile, text: str, elapsed: float,
        seconds: int,
    ) -> CellTLSError:
        """Name the cause of ``+QSSLOPEN: <ssid>,-1`` (SSL-AN 2.2.2).

        The module reports one code for every failure. What it says with its timing: a result
        that comes when its own ``<timeout>`` expires means nothing answered in time
        (:class:`ConnectTimeoutError`, not a TLS problem). Otherwise the host probes the server
        (:func:`celltls.tlsprobe.explain_failure`): a name the host cannot resolve, a port that
        refuses, an expired certificate... each gets its own class.
        """
        lost = self._stack_lost()
        if lost:
            return NetworkLostError(
                f"{text}: the PDP context is gone ({lost!r}); bring the network up again "
                "(Modem.attach, the CLI's --apn) (TCPIP-REF 3)", urc=lost,
            )
        if elapsed >= seconds * 0.9:
            return ConnectTimeoutError(
                f"no connection to {host}:{port} within {seconds} s: the module reported "
                f"{text!r} after {elapsed:.0f} s, when its own connect timeout expired "
                "(SSL-AN 2.2.2); the server does not answer (a firewall dropping packets, a "
                "wrong port, a server that accepts TCP but never speaks TLS)"
            )
        return explain_failure(
            host, port, CAPABILITIES, profile, reported=text, do_probe=self.probe_failures,
        )

    def _open_refused(self, exc: ATCommandError) -> Exception:
        """Explain an ``AT+QSSLOPEN`` refused outright: usually no active PDP context."""
        try:
            state = self.ip_state()
        except (ATCommandError, ATTimeoutError, NetworkError):
            return exc
        if state == "PDP DEACT":
            urc = self._pdp_lost or "STATE: PDP DEACT"
            return NetworkLostError(
                f"{exc}: the network deactivated the PDP context ({urc!r}); bring it up again "
                "(Modem.attach(apn=...), the CLI's --apn) (SSL-AN 2.2.6, TCPIP-REF 3)", urc=urc,
            )
        if state not in ("IP GPRSACT", "IP STATUS", "IP PROCESSING"):
            return NetworkError(
                f"{exc}: the TCP/IP stack is in state {state!r} "
                f"({cat.IP_STATES.get(state, '?')}), no PDP context is active; bring the "
                "network up first (Modem.attach(apn=...), the CLI's --apn) (SSL-AN 1.2 steps 2-3)"
            )
        return exc

    def _forget_socket(self, ssid: int) -> None:
        with self._sockets_lock:
            self._sockets.pop(ssid, None)

    def _urc_socket(self, event: Urc | DataBlock) -> tuple[QuectelSocket | None, list[int]]:
        """The socket a ``+QSSLURC`` names and its numeric fields (SSL-AN 2.2.10):
        ``"recv",<cid>,<ssid>`` or ``"closed",<ssid>``; the ssid is the last field."""
        text = event.text if isinstance(event, Urc) else event.header
        try:
            numbers = [int(f) for f in quoting.split_arguments(text.split(":", 1)[1])[1:]]
            ssid = numbers[-1]
        except (IndexError, ValueError):
            log.warning("malformed URC %r", text)
            return None, []
        with self._sockets_lock:
            return self._sockets.get(ssid), numbers

    def _on_recv_urc(self, event: Urc | DataBlock) -> None:
        sock, numbers = self._urc_socket(event)
        if sock is not None and len(numbers) == 2:
            if not cat.CID_RANGE[0] <= numbers[0] <= cat.CID_RANGE[1]:
                # AT+QSSLRECV could not name that <cid> (SSL-AN 2.2.4): keep the current one
                log.warning("URC with <cid> %d out of range %s", numbers[0], cat.CID_RANGE)
                sock._notify_data(self.cid)
                return
            sock._notify_data(numbers[0])

    def _on_closed_urc(self, event: Urc | DataBlock) -> None:
        sock, _ = self._urc_socket(event)
        if sock is not None:
            sock._notify_closed(event.text if isinstance(event, Urc) else event.header)

    # -- plain TCP sockets (AT+QIOPEN family; quectel-gsm-tcpip.md 4-5, SSL-AN 1.3, 3.3) ------

    def _plain(self, line: str, *, timeout: float = 5.0, final_pattern: str | None = None,
               failure_results: tuple[str, ...] = (), response_prefixes: tuple[str, ...] = (),
               payload: bytes | None = None, check: bool = True) -> Reply:
        """Send one ``AT+QI*`` socket command (its values already checked by the caller)."""
        return self.channel.execute(
            Request(line, response_prefixes=response_prefixes, timeout=timeout,
                    final_pattern=final_pattern, failure_results=failure_results,
                    data_phase="prompt" if payload is not None else None,
                    final_results=("SEND OK",) if payload is not None else (),
                    payload=payload),
            check=check,
        )

    def _prepare_plain(self) -> None:
        """``AT+QIMUX=1`` (indexed sockets beside the SSL ones, SSL-AN 1.3 step 2) and
        ``AT+QINDI=1`` (buffer mode: ``+QIRDI`` announces data, ``AT+QIRD`` reads it, 1.3
        step 5), once per module start.

        ``AT+QIMUX=1`` is refused once the PDP context is active (quectel-gsm-tcpip.md 4, L5):
        then, when no socket of this run is open and :meth:`attach` was called, the context is
        brought down (``AT+QIDEACT``) and up again with ``AT+QIMUX=1`` first.

        Raises:
            NetworkError: ``AT+QIMUX=1`` refused and the context cannot be brought up again
                here (a socket is open, or the network was brought up by another program).
            ATCommandError, ATTimeoutError: the module refused or did not answer.
        """
        if self._plain_ready:
            return
        self.multiplex = True
        mux = self.at("+QIMUX", "?").first("+QIMUX:")
        if mux.strip() != "1":
            try:
                self.at("+QIMUX", arguments("+QIMUX", mode=1))
            except ATCommandError as exc:
                with self._sockets_lock:
                    busy = sorted(self._sockets)
                if busy or self._attach_args is None:
                    raise NetworkError(
                        f"plain TCP sockets need AT+QIMUX=1, which the module refused ({exc}): "
                        "it is taken only before the PDP context is activated (SSL-AN 1.3 step "
                        "2; quectel-gsm-tcpip.md 4). Bring the network up with Modem.attach() "
                        "in this program (it sends AT+QIMUX=1 before AT+QIREGAPP once plain "
                        "TCP is wanted)" + (f"; sockets {busy} are open" if busy else "")
                    ) from exc
                log.warning("AT+QIMUX=1 is refused while the PDP context is active: bringing "
                            "it down (AT+QIDEACT) and up again with AT+QIMUX=1 first")
                self.at("+QIDEACT")
                self.attach(*self._attach_args)
        self._plain("AT+QINDI=1")
        self._plain_ready = True

    def tcp_connect(self, host: str, port: int, *, timeout: float = QIOPEN_TIMEOUT
                    ) -> SecureSocket:
        """Open a plain TCP socket with ``AT+QIOPEN=<index>,"TCP","<host>",<port>`` (``OK``,
        then ``<index>, CONNECT OK``; SSL-AN 1.3 and 3.3, quectel-gsm-tcpip.md 5), for TLS on
        the host (:mod:`celltls.hosttls`).

        The index comes from the range the secure sockets use (shared, SSL-AN 1.3). ``AT+QIDNSIP``
        says whether ``host`` is a dotted IP (0) or a name (1) (quectel-gsm-tcpip.md 4). An index
        answered ``ALREADY CONNECT`` is closed (``AT+QICLOSE``) and tried once more, as
        :meth:`tls_connect` does with an occupied ssid.

        Args:
            host: server name or IPv4 address (at most 255 bytes, no quotes or controls).
            port: server port, 1..65535.
            timeout: seconds to wait for ``CONNECT OK`` (the module gives up after about 75 s).

        Returns:
            SecureSocket: a :class:`QuectelTcpSocket`.

        Raises:
            UnsafeArgumentError: bad host or port (nothing is written).
            NetworkError: ``CONNECT FAIL`` (name not resolved, nothing listening, no route),
                ``AT+QIOPEN`` refused with no PDP context, or ``AT+QIMUX=1`` impossible.
            NetworkLostError, ModuleRebootedError: the PDP context or the module went away.
            SocketError: every index is in use.
            ATTimeoutError: no result within ``timeout`` (+5 s).
        """
        host_arg = quoting.quote(host, "host", max_len=CAPABILITIES.max_hostname)
        port_arg = quoting.integer(port, "port", 1, 65535)
        self._after_module_events()
        self._prepare_plain()
        self._plain(f"AT+QIDNSIP={0 if _is_ipv4(host) else 1}")
        tried_close: set[int] = set()
        prefer: int | None = None
        while True:
            index = self._reserve_ssid(prefer)
            try:
                sock = self._open_qi(index, host, host_arg, port_arg, timeout)
            except _Occupied:
                self._forget_socket(index)
                if index not in tried_close:
                    tried_close.add(index)
                    self._close_qi(index)
                    prefer = index
                else:
                    log.warning("index %d stays connected after AT+QICLOSE: using another", index)
                    self._foreign.add(index)
                    prefer = None
                continue
            except BaseException:
                self._forget_socket(index)
                raise
            with self._sockets_lock:
                self._sockets[index] = sock
                early = self._early_closed.pop(index, "")
            if early:
                sock._notify_closed(early)
            return sock

    def _open_qi(self, index: int, host: str, host_arg: str, port_arg: str,
                 timeout: float) -> QuectelTcpSocket:
        with self._sockets_lock:
            self._early_closed.pop(index, None)
        line = f'AT+QIOPEN={index},"TCP",{host_arg},{port_arg}'
        waiter = self.channel.expect_urc(
            lambda t: (bool((m := _QI_LINE.fullmatch(t.strip())) and m["id"] == str(index)
                            and m["word"] != "CLOSED"))
            or t.strip() == "ALREADY CONNECT"
            or t.strip() in BOOT_URCS
            or t.startswith(PDP_DEACT_URC)
        )
        refused = False
        try:
            try:
                reply = self._plain(line, failure_results=("ALREADY CONNECT",))
            except ATCommandError as exc:
                refused = True
                if exc.response and exc.response[-1] == "ALREADY CONNECT":
                    raise _Occupied(f"{line}: ALREADY CONNECT") from exc
                raise self._open_refused(exc) from exc
            if "ALREADY CONNECT" in reply.lines:
                refused = True
                raise _Occupied(f"{line}: ALREADY CONNECT")
            event = self._wait_open(waiter, float(timeout) + 5, f"{line} (result)")
        except BaseException as exc:
            if not refused and not isinstance(
                exc, ModuleRebootedError | NetworkLostError | PortError
            ):
                self._close_qi(index, timeout=5)  # a late CONNECT OK would hold the index
            raise
        finally:
            self.channel.forget(waiter)
        text = (event.text if isinstance(event, Urc) else event.header).strip()
        if text == "ALREADY CONNECT":
            raise _Occupied(f"{line}: ALREADY CONNECT")
        if text.endswith("CONNECT OK"):
            return QuectelTcpSocket(self, index, host, int(port_arg))
        lost = self._stack_lost()
        if lost:
            raise NetworkLostError(
                f"{line}: {text}: the PDP context is gone ({lost!r}); bring the network up "
                "again (Modem.attach, the CLI's --apn) (quectel-gsm-tcpip.md 3)", urc=lost)
        raise NetworkError(
            f"the module could not open TCP to {host}:{port_arg} ({line}: {text}); the name "
            "may not resolve, nothing may listen on the port, or the network may not route "
            "to it (quectel-gsm-tcpip.md 5)"
        )

    def _close_qi(self, index: int, timeout: float = 10.0) -> bool:
        """``AT+QICLOSE=<index>`` (``<index>, CLOSE OK``; quectel-gsm-tcpip.md 5); whether it
        closed. Never raises for a module answer or a lost one (a closed index answers
        ``ERROR``)."""
        try:
            self._plain(f"AT+QICLOSE={index}", timeout=timeout,
                        final_pattern=rf"{index}, ?CLOSE OK")
        except (ATCommandError, ATTimeoutError, PortError) as exc:
            log.info("AT+QICLOSE=%d: %s", index, exc)
            return False
        return True

    def _on_qirdi(self, event: Urc | DataBlock) -> None:
        """``+QIRDI: <id>,<sc>,<sid>[,<num>,<len>,<tlen>]``: data for socket ``<sid>``
        (quectel-gsm-tcpip.md 4 "AT+QINDI")."""
        text = event.text if isinstance(event, Urc) else event.header
        try:
            fields = [int(f) for f in quoting.split_arguments(text.split(":", 1)[1])[:3]]
            cid, sid = fields[0], fields[2]
        except (IndexError, ValueError):
            log.warning("malformed URC %r", text)
            return
        with self._sockets_lock:
            sock = self._sockets.get(sid)
        if isinstance(sock, QuectelTcpSocket):
            in_range = cat.CID_RANGE[0] <= cid <= cat.CID_RANGE[1]
            sock._notify_data(cid if in_range else self.cid)

    def _on_transparent_closed(self, event: Urc | DataBlock) -> None:
        """``CLOSED`` ended transparent mode: the module closed the connection itself (the
        peer closed it, or the PDP context was lost). SSL-AN 2.2.10.2 says of the same event in
        non-transparent mode (``+QSSLURC: "closed"``) that the module closes the SSL connection
        itself and the host need not send ``AT+QSSLCLOSE``; no source read says otherwise for
        transparent mode, and the virtual modem answers ``ERROR`` to it then."""
        if not isinstance(event, Urc) or event.text != TRANSPARENT_CLOSED:
            return
        with self._sockets_lock:
            online = [sock for sock in self._sockets.values()
                      if isinstance(sock, QuectelTransparentSocket) and not sock.paused]
        for sock in online:
            sock._notify_closed(event.text)

    def _on_qi_closed(self, event: Urc | DataBlock) -> None:
        """``<id>, CLOSED``: the peer (or the network) closed plain socket ``<id>``."""
        text = (event.text if isinstance(event, Urc) else event.header).strip()
        found = _QI_LINE.fullmatch(text)
        if found is None:
            return
        index = int(found["id"])
        with self._sockets_lock:
            sock = self._sockets.get(index)
            if sock is None and index in self._sockets:
                # the connection ended before AT+QIOPEN's caller got its socket
                self._early_closed[index] = text
        if isinstance(sock, QuectelTcpSocket):
            sock._notify_closed(text)



class _Occupied(SocketError):
    """``+QSSLOPEN: <ssid>,-2``: the ssid is held in the module (SSL-AN 2.2.2)."""


class QuectelSocket(SecureSocket):
    """A non-transparent secure socket: ``AT+QSSLSEND`` and ``AT+QSSLRECV``.

    ``recv`` waits for ``+QSSLURC: "recv"`` and then reads with ``AT+QSSLRECV`` (1500 bytes at a
    time, one read per ``recv`` call, so memory stays bounded) until a read finds the module's
    buffer empty, and only then waits for the next URC, since none comes until the buffer has
    been read empty (SSL-AN 2.2.10.1). While it waits it also reads every
    :attr:`poll_interval` seconds, so that a URC lost on the line costs a pause, not the
    transfer. Each answer is taken by its own length field (:func:`recv_payload`).

    ``sendall`` cuts data into ``AT+QSSLSEND`` payloads of at most 1460 bytes; ``SEND FAIL``
    (sending blocked) is retried after a pause, ``ERROR`` means the connection is gone (SSL-AN
    2.2.3). A send or read whose answer is lost, or that is interrupted, is never repeated: the
    socket fails (its bytes may or may not have moved) and is closed in the module.
    """

    #: seconds ``recv`` waits for data before raising ATTimeoutError.
    timeout: float = 60.0
    #: seconds between reads while no URC announces data (a lost URC), seconds.
    poll_interval: float = 2.0
    #: seconds the clean-up ``AT+QSSLCLOSE`` after an interruption may take.
    cleanup_timeout: float = 5.0
    #: seconds one ``AT+QSSLSEND`` may take to answer; ``None``: the catalog's.
    send_timeout: float | None = None
    send_fail_retries = 10
    send_fail_pause = 0.5

    def __init__(self, driver: QuectelGsm, ssid: int, host: str, port: int) -> None:
        super().__init__(host, port, max_send=driver.capabilities.max_send)
        self.driver = driver
        self._wake_reader = driver.channel.wake_reader
        self.ssid = ssid
        self._data_pending = True  # read once at start: data may have come before the URC hook
        self._peer_closed = False
        self._closed_urc = ""
        self._gone = False  # the module no longer holds the socket (reboot, PDP loss)
        self._eof_checked = False

    def _notify_data(self, cid: int) -> None:
        with self._cond:
            self.driver.cid = cid
            self._data_pending = True
            self._cond.notify_all()

    def _notify_closed(self, urc: str = "") -> None:
        with self._cond:
            self._peer_closed = True
            self._closed_urc = urc
            self._data_pending = True
            self._cond.notify_all()

    def _fail(self, error: CellTLSError, *, gone: bool = False) -> None:
        """Record the first reason the stream cannot go on (any thread); ``gone``: the module
        no longer holds the socket, so closing it sends nothing."""
        with self._cond:
            self._gone = self._gone or gone
            super()._fail(error)

    def _abandon(self, exc: CellTLSError, *, gone: bool = False) -> CellTLSError:
        """Fail the socket and close it in the module; returns the error to raise."""
        self._fail(exc, gone=gone)
        failure = self._failure
        assert failure is not None
        self._close_quietly()
        return failure

    def _close_quietly(self) -> None:
        """Close after a failure: ``AT+QSSLCLOSE`` within :attr:`cleanup_timeout`, never
        raising for a module answer."""
        self._close_once(self._close_after_failure)

    def _close_after_failure(self) -> None:
        try:
            if not (self._peer_closed or self._gone):
                self.driver._close_ssid(self.ssid, timeout=self.cleanup_timeout)
        finally:
            self.driver._forget_socket(self.ssid)

    def _timeout_cause(self, exc: ATTimeoutError, what: str) -> CellTLSError:
        """A lost answer, named after the boot or PDP URC that explains it, if one came."""
        if self.driver._reboot_urc:
            return ModuleRebootedError(
                f"the module restarted ({self.driver._reboot_urc!r}) during {what} on secure "
                f"socket {self.ssid}; bring the network up again and repeat (TCPIP-REF 2)",
                urc=self.driver._reboot_urc,
            )
        if self.driver._pdp_lost:
            return self.driver._network_lost(self, self.driver._pdp_lost)
        return SocketError(f"{what} on secure socket {self.ssid}: {exc}")

    def _check_usable(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._closed or self._peer_closed:
            lost = self.driver._pdp_lost
            if lost and not self._closed:
                raise self.driver._network_lost(self, lost)
            raise SocketError(f"secure socket {self.ssid} to {self.host} is closed")

    def _send_piece(self, piece: bytes) -> None:
        """``AT+QSSLSEND=<ssid>,<length>`` with one piece of at most 1460 bytes (SSL-AN 2.2.3).

        Raises:
            SocketError: the socket is closed, or the module answered ERROR (connection gone)
                or kept answering SEND FAIL, or a send's final result code was lost (it is not
                sent again: the data may have gone out; the socket is closed).
            NetworkLostError, ModuleRebootedError: the PDP context or the module went away.
        """
        self._check_usable()
        for attempt in range(self.send_fail_retries + 1):
            what = self._send_what(len(piece))
            try:
                reply = self._send_command(piece)
            except ATTimeoutError as exc:
                cause = self._timeout_cause(exc, what)
                if isinstance(cause, SocketError):
                    cause = SocketError(
                        f"{what}: no final result code ({exc}); whether the {len(piece)} "
                        "bytes went out is unknown, so they are not sent again and the "
                        "connection is closed (SSL-AN 2.2.3)"
                    )
                raise self._abandon(cause) from exc
            except KeyboardInterrupt:
                self._abandon(SocketError(f"{what} was interrupted"))
                raise
            final = reply.final
            assert final is not None
            if final.ok:
                break
            if final.text == "SEND FAIL" and attempt < self.send_fail_retries:
                log.info("SEND FAIL on socket %d: retrying", self.ssid)
                time.sleep(self.send_fail_pause * (attempt + 1))
                continue
            self._peer_closed = True
            if self.driver._pdp_lost:
                raise self.driver._network_lost(self, self.driver._pdp_lost)
            raise SocketError(
                f"{what} answered {final.text}: "
                + ("sending stayed blocked" if final.text == "SEND FAIL"
                   else "the connection is gone; open it again (SSL-AN 2.2.3)")
            )

    def _send_what(self, size: int) -> str:
        """The send command line for ``size`` bytes, as named in errors."""
        return f"AT+QSSLSEND={self.ssid},{size}"

    def _send_command(self, piece: bytes) -> Reply:
        """``AT+QSSLSEND=<ssid>,<length>``, ``>``, the piece; the reply, not checked."""
        return self.driver.at(
            "+QSSLSEND", arguments("+QSSLSEND", ssid=self.ssid, length=len(piece)),
            payload=piece,
            data_phase="prompt", check=False,
            **({} if self.send_timeout is None else {"timeout": self.send_timeout}),
        )

    def _read_what(self) -> str:
        """The read command line, as named in errors."""
        return "AT+QSSLRECV=" + arguments("+QSSLRECV", cid=self.driver.cid, ssid=self.ssid,
                                          length=cat.MAX_RECV)

    def _read_command(self) -> bytes:
        """One ``AT+QSSLRECV`` and its payload (:func:`recv_payload`)."""
        args = arguments("+QSSLRECV", cid=self.driver.cid, ssid=self.ssid, length=cat.MAX_RECV)
        reply = self.driver.at("+QSSLRECV", args, response_prefixes=("+QSSLRECV:",))
        return recv_payload(reply, cat.MAX_RECV)

    def _whole_answer(self, exc: ATTimeoutError) -> bytes | None:
        """The payload of a read whose final result code alone was lost, else ``None``."""
        return _whole_answer(exc)

    def _read_module(self) -> bool:
        """One ``AT+QSSLRECV`` of up to 1500 bytes (SSL-AN 2.2.4).

        Returns:
            bool: whether data came; ``False`` means the module's buffer is empty, so the next
            data will be announced by a new ``+QSSLURC: "recv"`` (SSL-AN 2.2.10.1 note 1).

        Raises:
            SocketError: the module refused the read, its answer was lost (a read empties the
                buffer, so it is not repeated) or malformed; the socket is closed.
            NetworkLostError, ModuleRebootedError: the PDP context or the module went away.
        """
        what = self._read_what()
        self.driver._last_reader = self
        try:
            data = self._read_command()
        except ATCommandError as exc:
            if self._peer_closed or self._gone:
                return False
            if self.driver._pdp_lost:
                raise self._abandon(self.driver._network_lost(self, self.driver._pdp_lost),
                                    gone=True) from exc
            raise self._abandon(SocketError(f"reading secure socket {self.ssid} failed: {exc}")
                                ) from exc
        except ATTimeoutError as exc:
            whole = self._whole_answer(exc)
            if whole is not None:
                # The block arrived whole (its length field says so): only the OK was lost.
                # The line is resynchronised before the next command.
                log.warning("%s: the data block (%d bytes) came whole but no final result "
                            "code followed; delivering it", what, len(whole))
                self._deliver(whole)
                return bool(whole)
            cause = self._timeout_cause(exc, what)
            if isinstance(cause, SocketError):
                cause = SocketError(
                    f"{what}: no final result code ({exc}); the bytes it carried may be lost "
                    "and a read is not repeated (it empties the module's buffer, SSL-AN 2.2.4)"
                )
            raise self._abandon(cause, gone=not isinstance(cause, SocketError)) from exc
        except ATProtocolError as exc:
            # The rest of the garbled answer may still be on the line: resynchronise first.
            self.driver.channel.abandon_data_phase()
            raise self._abandon(SocketError(f"secure socket {self.ssid}: {exc}")) from exc
        except KeyboardInterrupt:
            self._abandon(SocketError(f"{what} was interrupted; the bytes it carried are lost"))
            raise
        self._deliver(data)
        return bool(data)

    def _end_of_stream(self) -> None:
        """Return after a peer close, or raise the error saying the network took the
        connection."""
        if not self._eof_checked:
            self._eof_checked = True
            lost = self.driver._stack_lost()
            if lost:
                self._fail(self.driver._network_lost(self, lost), gone=True)
        if self._failure is not None:
            raise self._failure

    def _fill(self, clock: RecvClock) -> bool:
        """Wait for ``+QSSLURC: "recv"`` (or :attr:`poll_interval`), then read once with
        ``AT+QSSLRECV``; after a read that brought data the next round reads again at once and
        :attr:`timeout` starts again (SSL-AN 2.2.4, 2.2.10.1).

        Returns:
            bool: ``False`` after the server closed and all is read.

        Raises:
            SocketError: the module failed to read, a read's answer was lost or malformed (the
                socket is then closed and every later call raises it too).
            NetworkLostError: ``+PDP DEACT`` (or ``+QSSLURC: "closed"`` with the stack in
                ``PDP DEACT``) ended the connection (SSL-AN 2.2.10.2).
            ModuleRebootedError: ``RDY``/``Call Ready``: the module restarted.
            ATTimeoutError: no data within :attr:`timeout` seconds.
        """
        with self._cond:
            pending = self._data_pending
            self._data_pending = False
            if not pending and self._peer_closed:
                eof = True
            else:
                eof = False
                now = time.monotonic()
                if not pending and now < clock.next_poll:
                    remaining = clock.deadline - now
                    if remaining <= 0:
                        raise ATTimeoutError(
                            f"data on secure socket {self.ssid} from {self.host}",
                            self.timeout,
                        )
                    self._wait_for_news(min(remaining, clock.next_poll - now, 1.0))
                    return True
        if eof:
            self._end_of_stream()
            return False
        more = self._read_module()
        clock.next_poll = time.monotonic() + self.poll_interval
        if more:
            # The buffer may hold more: read again before waiting for a URC, which only
            # comes once the buffer has been read empty (SSL-AN 2.2.10.1).
            with self._cond:
                self._data_pending = True
            clock.deadline = time.monotonic() + self.timeout
        return True

    def _close_in_module(self) -> None:
        """``AT+QSSLCLOSE=<ssid>`` (``CLOSE OK``, SSL-AN 2.2.5); nothing if the module closed
        it itself (``+QSSLURC: "closed"``, a reboot, a PDP loss); a refusal is only logged."""
        try:
            if not (self._peer_closed or self._gone):
                self.driver.at("+QSSLCLOSE", arguments("+QSSLCLOSE", ssid=self.ssid))
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("closing socket %d: %s", self.ssid, exc)
        finally:
            self.driver._forget_socket(self.ssid)


class QuectelTransparentSocket(QuectelSocket):
    """A secure socket in transparent mode (SSL-AN 1.2 step 6, 3.4): bytes go straight over the
    line. :meth:`pause` leaves data mode with ``+++`` (guard times around it) keeping the
    connection, so that AT commands can be sent; :meth:`resume` returns with ``ATO``
    (``CONNECT``); ``close`` leaves data mode and sends ``AT+QSSLCLOSE`` (SSL-AN 3.4.1)."""

    _paused = False
    #: the last bytes read (:meth:`_raise_if_restarted`)
    _tail = b""
    #: host time of the last write to the line (monotonic seconds)
    _last_write = 0.0
    #: '+' bytes written since the last guard-time silence with nothing else between them
    #: (the start of what the module could take for the escape sequence); ``None`` once any
    #: other byte followed that silence
    _plus_run: int | None = 0

    @property
    def paused(self) -> bool:
        """Whether the line is in command mode with this connection kept open."""
        return self._paused

    def _check_online(self) -> None:
        if self._closed:
            raise SocketError(f"secure socket {self.ssid} to {self.host} is closed")
        if self._paused:
            raise SocketError(
                f"secure socket {self.ssid} is paused (the line is in command mode); "
                "call resume() first"
            )

    def sendall(self, data: bytes) -> None:
        """Write ``data`` to the line, never as the escape sequence.

        The module takes ``+++`` for the escape sequence when the line was silent for the guard
        time before the first ``+``, the three came within the guard time of each other, and
        silence follows (ITU-T V.250 6.3.12 and S2/S12; SSL-AN 3.4.1). Bytes of one write follow
        each other at line rate, so only ``+`` bytes written alone after such a silence can
        form it: the third of them is held back until more than the guard time has passed, so
        the module sees at most two. Payload is never lost to an escape and the connection
        stays in data mode.

        Raises:
            SocketError: the socket is closed or paused.
        """
        self._check_online()
        guard = self.driver.guard_time
        now = time.monotonic()
        if now - self._last_write >= guard:
            self._plus_run = 0  # the line has been silent: an escape could start here
        if data.strip(b"+") or self._plus_run is None:
            if data:
                self.driver.channel.write_raw(data)
                self._last_write = time.monotonic()
                self._plus_run = None if data.strip(b"+") else self._plus_run
            return
        remaining = data
        while remaining:
            take = min(len(remaining), 2 - self._plus_run)
            if take == 0:
                time.sleep(guard * 1.5)
                self._plus_run = 0
                continue
            self.driver.channel.write_raw(remaining[:take])
            self._last_write = time.monotonic()
            self._plus_run += take
            remaining = remaining[take:]

    def recv(self, max_bytes: int) -> bytes:
        """Read up to ``max_bytes`` from the line (``b""`` when the connection ended).

        Raises:
            SocketError: the socket is paused.
            ATTimeoutError: nothing arrived within :attr:`timeout` seconds.
            NetworkLostError, ModuleRebootedError: the connection ended because the PDP context
                was lost (``CLOSED`` then ``+PDP DEACT``) or the module restarted, not by the
                server's close.
        """
        if self._closed:
            return b""
        self._check_online()
        try:
            data = self.driver.channel.read_raw(max_bytes, self.timeout)
        except ATTimeoutError:
            self._raise_if_restarted()
            raise
        if not data and self._failure is not None:
            raise self._failure
        self._keep_tail(data)
        return data

    def _keep_tail(self, data: bytes) -> None:
        """Keep the last :data:`_BOOT_TAIL` bytes read (copying at most that many of ``data``:
        this runs for every read of a transfer)."""
        self._tail = (self._tail + data[-_BOOT_TAIL:])[-_BOOT_TAIL:]

    def _raise_if_restarted(self) -> None:
        """After a read timed out: a module that restarted prints its start-up lines (``RDY``
        ... ``Call Ready``, TCPIP-REF 2) in command mode, and in data mode they arrive as
        payload; when the last bytes read end with them, the line is taken back to command
        mode and the restart raised (``ModuleRebootedError``) instead of a read timeout.

        Raises:
            ModuleRebootedError: a start-up line ends what was read.
        """
        if self._restarted() and self._failure is not None:
            raise self._failure

    def _restarted(self) -> bool:
        """Whether the last bytes read are start-up lines from a boot line (``RDY``, ``Call
        Ready``) on (:data:`_STARTUP_LINE`), each ended by CR LF; if so the line is taken back
        to command mode and the restart reported as the ``RDY`` URC would be."""
        lines = [line.strip() for line in self._tail.decode("latin-1").split("\r\n")]
        boot = next((line for line in lines if line in BOOT_URCS), None)
        if boot is None or lines[-1] != "" or any(
                line and not _STARTUP_LINE.fullmatch(line) for line in lines[lines.index(boot):]):
            return False
        self.driver.channel.abandon_data_phase()
        self.driver._on_boot(Urc(boot))
        return True

    def end_cause(self, wait: float) -> CellTLSError | None:
        """As :meth:`QuectelSocket.end_cause`; in transparent mode also a restart whose
        start-up lines came as payload (the HTTP above found them malformed): what is left on
        the line is read for up to ``wait`` seconds to see whether they end it."""
        deadline = time.monotonic() + wait
        while self._failure is None and not self._closed and self.driver.channel.in_data_mode:
            remaining = deadline - time.monotonic()
            if self._restarted() or remaining <= 0:
                break
            try:
                data = self.driver.channel.read_raw(4096, remaining)
            except (ATTimeoutError, PortError):
                break
            if not data:
                break
            self._keep_tail(data)
        return super().end_cause(max(0.0, deadline - time.monotonic()))

    def pause(self) -> None:
        """Leave data mode with the escape sequence (``+++`` -> ``OK``), keeping the
        connection (SSL-AN 3.4.1 step 3).

        Raises:
            SocketError: the socket is closed (or the module had already left data mode).
            ATTimeoutError: the module did not answer the escape sequence.
        """
        self._check_online()
        if not self.driver.channel.in_data_mode:
            raise SocketError(f"secure socket {self.ssid}: the connection has ended")
        self.driver.channel.escape(self.driver.guard_time)
        self._paused = True

    def resume(self) -> None:
        """Return to data mode with ``ATO`` (``CONNECT``; V.250 6.3.7, SSL-AN 3.4.1 step 3).

        Raises:
            SocketError: the socket is closed or not paused, or the module refused (the
                connection ended meanwhile).
        """
        if self._closed or not self._paused:
            raise SocketError(f"secure socket {self.ssid} is not paused")
        try:
            self.driver.channel.execute(
                Request("ATO", timeout=5, connect_is_final=True, raw_after_connect=True)
            )
        except ATCommandError as exc:
            raise SocketError(f"cannot resume secure socket {self.ssid}: {exc}") from exc
        self._paused = False

    def _close_in_module(self) -> None:
        """``+++`` then ``AT+QSSLCLOSE``; neither when the module ended the connection itself
        (``CLOSED``)."""
        self.driver.channel.raw_coalescing = False
        try:
            if self.driver.channel.in_data_mode and not self._paused:
                self.driver.channel.escape(self.driver.guard_time)
            if not (self._peer_closed or self._gone):
                self.driver.at("+QSSLCLOSE", arguments("+QSSLCLOSE", ssid=self.ssid))
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("closing transparent socket %d: %s", self.ssid, exc)
        finally:
            self.driver._forget_socket(self.ssid)


class QuectelTcpSocket(QuectelSocket):
    """A plain TCP socket (``AT+QIOPEN`` family, ``QIMUX=1``, buffer mode ``QINDI=1``) for TLS
    on the host: ``AT+QISEND=<index>,<length>`` (at most 1460 bytes, ``SEND OK``/``SEND
    FAIL``/``ERROR``), ``+QIRDI`` then ``AT+QIRD=<cid>,1,<index>,1500`` taken by its length
    field (:func:`qird_payload`), ``<index>, CLOSED`` for a peer close, ``AT+QICLOSE=<index>``
    (quectel-gsm-tcpip.md 4-5; SSL-AN 1.3, 3.3). The waiting, polling and failure rules are
    those of :class:`QuectelSocket`.
    """

    def _send_what(self, size: int) -> str:
        return f"AT+QISEND={self.ssid},{size}"

    def _send_command(self, piece: bytes) -> Reply:
        """``AT+QISEND=<index>,<length>``, ``>``, the piece; the reply, not checked."""
        return self.driver._plain(
            self._send_what(len(piece)), payload=piece, failure_results=("SEND FAIL",),
            timeout=60.0 if self.send_timeout is None else self.send_timeout, check=False,
        )

    def _read_what(self) -> str:
        return f"AT+QIRD={self.driver.cid},1,{self.ssid},{QIRD_MAX}"

    def _read_command(self) -> bytes:
        """One ``AT+QIRD`` and its payload (:func:`qird_payload`)."""
        reply = self.driver._plain(self._read_what(), response_prefixes=("+QIRD:",))
        return qird_payload(reply, QIRD_MAX)

    def _whole_answer(self, exc: ATTimeoutError) -> bytes | None:
        reply = exc.reply
        if not isinstance(reply, Reply) or not reply.blocks or reply.lines:
            return None
        try:
            return qird_payload(reply, QIRD_MAX)
        except ATProtocolError:
            return None

    def _close_after_failure(self) -> None:
        try:
            if not (self._peer_closed or self._gone):
                self.driver._close_qi(self.ssid, timeout=self.cleanup_timeout)
        finally:
            self.driver._forget_socket(self.ssid)

    def _close_in_module(self) -> None:
        """``AT+QICLOSE=<index>``; nothing if the module closed it itself (``<index>,
        CLOSED``, a reboot, a PDP loss)."""
        try:
            if not (self._peer_closed or self._gone):
                self.driver._close_qi(self.ssid)
        finally:
            self.driver._forget_socket(self.ssid)
