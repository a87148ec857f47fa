"""The Nordic nRF91 Serial LTE Modem (SLM) driver: ``#X`` socket and HTTP commands, ``%CMNG``.

Facts and their sources are in :mod:`celltls.dialects.nordic_slm.catalog` (``NRF-REF`` =
shared/reference/nordic-slm.md, sections and source ids). The driver speaks SLM NCS v2.6-v3.1
("G2"); :data:`~celltls.dialects.nordic_slm.catalog.VERSIONS` lists how older versions differ:
v2.0-v2.5's HTTP client is driven without ``<peer_verify>``/``<hostname_verify>`` (and a
host-name check it cannot confirm is refused), v1.x and the Serial Modem add-on (handle-based
syntax) are refused by name before anything is written. What it adds to the facts:

- **Lines.** SLM ends a command at CR LF (:mod:`celltls.dialects.nordic_slm.line`); ``%CMNG``
  writes carry the PEM with LF line ends inside the quotes, written as raw bytes before the
  closing quote (NRF-REF 3 "Quotes", 5).
- **Credentials.** ``%CMNG`` writes and deletes are refused while the modem is active
  (``+CME ERROR: 518``): the driver reads ``AT+CFUN?``, switches to ``AT+CFUN=4``, writes,
  restores the previous mode and logs both (NRF-REF 5, 14; L7). An upload is skipped when
  ``AT%CMNG=1,<tag>,<type>`` lists the SHA-256 that the same content was listed with before, or
  a SHA-256 of the content itself (PEM as written, PEM with its final LF, DER).
- **Secure sockets.** ``AT#XSSOCKET`` (sec_tag, peer verification 2 = required), the TLS host
  name set with ``AT#XSSOCKETOPT=1,2,"<host>"`` on every socket whose profile checks host names
  (G2 never sets it itself: NRF-REF 6.2, 14), ``AT#XCONNECT``; sends in data mode
  (``AT#XSEND`` then the bytes then ``+++``, ``#XDATAMODE: 0``), a ``+`` run that data mode
  cannot carry sent as ``AT#XSEND="+++"``; reads with ``AT#XRECV=<timeout>`` whose
  ``#XRECV: <size>`` length field frames exactly the bytes that follow (NRF-REF 6.2, 7).
- **Plain TCP** (TLS on the host): ``AT#XSOCKET=1,1,0`` and the same sends and reads.
- **Native HTTP.** ``AT#XHTTPCCON`` (peer and host-name verification on), ``AT#XHTTPCREQ``;
  the response parts are read raw and each is accepted only when the ``#XHTTPCRSP:<n>,<state>``
  line after it counts exactly the bytes before it (NRF-REF 8.1).
- **Errors.** SLM prints no errno on the UART for a failed connect (NRF-REF 3, 9): a failed
  ``#XCONNECT`` / ``#XHTTPCCON`` is explained from the host (:mod:`celltls.tlsprobe`, and the
  server certificate's names against the host); negative values SLM does print
  (``#XDATAMODE``, ``#XHTTPCREQ``, ``#XHTTPCRSP``) are decoded with the platform's errno table
  (:func:`errno_error`), not Linux's.
- **Recovery.** At start: a line stuck in data mode or inside an open quote is brought back
  (``"`` CR LF, ``+++``), sockets an earlier run left are listed with ``AT#XSOCKETSELECT?`` and
  closed, an HTTP connection reported by ``AT#XHTTPCCON?`` is disconnected. ``Ready`` (SLM
  started again) fails every open socket with :class:`ModuleRebootedError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import itertools
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from celltls.at import quoting
from celltls.at.channel import ATChannel
from celltls.at.protocol import DataBlock, Request, Urc
from celltls.dialects.base import (
    Capabilities,
    CredentialKind,
    Dialect,
    NetworkStatus,
    RecvClock,
    SecureSocket,
    Signal,
    StoredCredential,
)
from celltls.dialects.nordic_slm import catalog as cat
from celltls.dialects.nordic_slm.cereg import Cereg, decode_cereg, rsrp_dbm
from celltls.dialects.nordic_slm.httpc import ResponseFramer
from celltls.dialects.nordic_slm.line import SlmProtocol, install
from celltls.dialects.spec import Value
from celltls.errors import (
    ATCommandError,
    ATProtocolError,
    ATTimeoutError,
    CellTLSError,
    ConnectionRefusedByServer,
    ConnectTimeoutError,
    CredentialError,
    DNSError,
    HostnameCheckUnsupportedError,
    HostnameMismatchError,
    ModuleRebootedError,
    NetworkError,
    NetworkLostError,
    ProfileError,
    SocketError,
    TLSHandshakeError,
    UnsafeArgumentError,
)
from celltls.http import BaseResponse, Body, HTTPConnection, body_bytes
from celltls.tls import Certificate, TlsProfile, TlsVersion, Verify
from celltls.tlsprobe import explain_failure, probe

log = logging.getLogger(__name__)

CATALOG = cat.CATALOG
#: The sec_tag celltls uses when the caller names none ("CTLS" in ASCII; any value in
#: 0..2147483647 is the user's: NRF-REF 5).
DEFAULT_SEC_TAG = 0x43544C53
#: Bytes written in one data-mode send (the SLM data-mode buffer, catalog DATAMODE_BUFFER).
MAX_SEND = cat.DATAMODE_BUFFER
#: Seconds one ``AT#XRECV`` may wait in the module for data (its ``<timeout>``).
RECV_WAIT = 1
#: Seconds granted to an ``AT#XRECV`` answer beyond its own ``<timeout>``.
RECV_MARGIN = 10.0
#: Seconds to wait for ``#XDATAMODE`` after the termination pattern.
DATAMODE_EXIT_TIMEOUT = 30.0

_KIND_TYPE: dict[CredentialKind, int] = {
    "ca": cat.TYPE_ROOT_CA, "client_cert": cat.TYPE_CLIENT_CERT,
    "client_key": cat.TYPE_CLIENT_KEY}


def arguments(name: str, **values: Value) -> str:
    """The argument text of ``AT<name>=...`` from the catalog's plain form (quoting, ranges and
    lengths checked there: :meth:`celltls.dialects.spec.Command.build`).

    Raises:
        ParamError: (an :class:`~celltls.errors.UnsafeArgumentError`) a value the form does not
            accept; nothing has been written to the port.
    """
    return CATALOG.command(name).build(**values)


def errno_name(value: int) -> str:
    """``"ETIMEDOUT (connection timed out)"`` for 116 or -116, in the nRF / newlib numbering
    (catalog ERRNO, NRF-REF 9.1), ``"errno N (unknown)"`` otherwise."""
    name, meaning = cat.ERRNO.get(abs(value), (f"errno {abs(value)}", "unknown"))
    return f"{name} ({meaning})"


def errno_error(value: int, *, reported: str, host: str = "", port: int = 0,
                during: str = "use") -> CellTLSError:
    """The celltls error for an errno SLM reported (``#XDATAMODE: -104``...).

    The number is read in the nRF / newlib numbering (NRF-REF 9.1: 114 ENETUNREACH, 116
    ETIMEDOUT; Linux reads them as EALREADY / ESTALE).

    Args:
        value: the errno, negative or positive.
        reported: the line that carried it.
        host, port: the server, for the message.
        during: what was happening (``"connect"``, ``"send"``, ``"receive"``...).

    Returns:
        CellTLSError: :class:`DNSError` (EAGAIN during connect: the name did not resolve,
        NRF-REF 6.2 ``do_connect``), :class:`ConnectTimeoutError` (ETIMEDOUT during connect),
        :class:`ConnectionRefusedByServer` (ECONNREFUSED), :class:`NetworkError` (ENETUNREACH,
        ENETDOWN, EHOSTUNREACH during connect), :class:`NetworkLostError` (the same later, and
        ESHUTDOWN), else :class:`SocketError`; each names the errno and the line.
    """
    code = abs(value)
    where = f" ({host}:{port})" if host else ""
    text = f"{reported}: {errno_name(code)}{where} during {during}"
    connecting = during == "connect"
    if code == cat.EAGAIN and connecting:
        return DNSError(f"the module could not resolve {host or 'the host name'} ({text})")
    if code == cat.ETIMEDOUT and connecting:
        return ConnectTimeoutError(f"no connection in time: {text}")
    if code == cat.ECONNREFUSED:
        return ConnectionRefusedByServer(f"the server refused the connection: {text}")
    if code in (cat.ENETUNREACH, cat.ENETDOWN, cat.EHOSTUNREACH) and connecting:
        return NetworkError(f"no route to the server: {text}; is the modem registered "
                            "(AT+CEREG?) with a PDP context (AT+CGPADDR)?")
    if code in (cat.ENETUNREACH, cat.ENETDOWN, cat.ESHUTDOWN):
        return NetworkLostError(f"the network went away: {text}", urc=reported)
    return SocketError(text)


def capabilities_for(model: str | None = None) -> Capabilities:
    """The :class:`Capabilities` of an nRF91 running SLM (NRF-REF 10, 6.2, 8.1; the same for
    nRF9160, nRF9161 and nRF9151 as far as the reference tells).

    Host names are checked by the module: ``AT#XSSOCKETOPT=1,2,"<host>"`` sets the name checked
    during peer verification (``NRF_SO_SEC_HOSTNAME``, NRF-REF 10 S5) and ``AT#XHTTPCCON``'s
    ``<hostname_verify>`` (v2.6+, NRF-REF 8.1); so ``hostname_check`` is true.
    """
    del model  # no per-model difference in the reference
    return Capabilities(
        tls_versions=(TlsVersion.TLS1_2,),
        cipher_suites=cat.CIPHER_SUITES,
        cipher_selection="one-or-all",
        key_exchange="TLS 1.2 with ECDHE-ECDSA or ECDHE-RSA key exchange (AES-CBC; AES-GCM on "
        "recent modem firmware) or PSK; no static-RSA or ChaCha20 suite, and SLM has no AT "
        "option to restrict the suites",
        verify_modes=(Verify.NONE, Verify.SERVER, Verify.MUTUAL),
        secure_sockets=cat.MAX_SOCKETS,
        security_contexts=cat.MAX_SOCKETS,
        max_send=MAX_SEND,
        max_recv=cat.MAX_RECV,
        credential_limits={"%CMNG command line": cat.MAX_COMMAND_LINE},
        transparent_mode=False,
        native_http=True,
        max_hostname=cat.MAX_HOSTNAME,
        hostname_check=True,
        connect_timeout_range=None,
        sources=("shared/reference/nordic-slm.md 6.2, 8.1, 10",),
    )


def _pem_text(data: bytes, kind: CredentialKind) -> bytes:
    """The content ``%CMNG`` gets: the PEM with LF line ends and no final line end, checked to
    fit inside the quotes of one command line (NRF-REF 3, 5, 14 L3).

    Raises:
        CredentialError: not PEM text, a ``"`` or a character other than printable ASCII and LF.
    """
    text = data.replace(b"\r\n", b"\n").strip(b"\n")
    if not text.startswith(b"-----BEGIN "):
        raise CredentialError(f"a {kind} goes into %CMNG as PEM text (-----BEGIN ...)")
    bad = [c for c in text if c != 0x0A and not 0x20 <= c <= 0x7E]
    if bad or b'"' in text:
        raise CredentialError(f"the {kind} PEM holds a character that cannot be inside the "
                              "quotes of AT%CMNG (a double quote, a control character or "
                              "non-ASCII)")
    return text


def _digests(content: bytes) -> set[str]:
    """SHA-256 candidates of a credential as the modem may list it (NRF-REF 5: "SHA-256 digest
    of the entity (DER, PEM) as stored", exact input unknown), upper-case hex."""
    found = {hashlib.sha256(content).hexdigest(), hashlib.sha256(content + b"\n").hexdigest()}
    with contextlib.suppress(ValueError):
        der = x509.load_pem_x509_certificate(content + b"\n").public_bytes(Encoding.DER)
        found.add(hashlib.sha256(der).hexdigest())
    return {d.upper() for d in found}


def hostname_matches(cert: Certificate, host: str) -> list[str] | None:
    """``None`` when ``cert`` was issued for ``host`` (RFC 6125 6.4: DNS names, a leftmost
    ``*`` label; IP addresses from iPAddress entries), else the names it was issued for."""
    names: list[str] = []
    ips: list[str] = []
    try:
        san = cert.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = [cert.common_name]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return None if str(address) in ips else names + ips
    wanted = host.lower().rstrip(".")
    for name in names:
        pattern = name.lower().rstrip(".")
        if pattern == wanted:
            return None
        if pattern.startswith("*.") and "." in wanted and wanted.split(".", 1)[1] == pattern[2:]:
            return None
    return names + ips


class NordicSlm(Dialect):
    """Driver of an nRF9160 / nRF9161 / nRF9151 running Nordic's Serial LTE Modem application.

    Args:
        channel: the AT channel.
        model: the model name, when known (no per-model difference today).
        probe_failures: probe the server from the host to explain a failed handshake.
        sec_tag: the sec_tag credentials go to (0..2147483647; default
            :data:`DEFAULT_SEC_TAG`).
        cid: the PDP context (``+CGDCONT`` cid; 0 = the default PDN: NRF-REF 4).
        guard_time: silence around ``+++`` when leaving a data mode an earlier run left
            (SLM v1.5-v1.8 needed 1 s: NRF-REF 7), seconds.

    Raises:
        UnsafeArgumentError: a sec_tag or cid out of range.
    """

    name = cat.DIALECT
    registration_command = "+CEREG"
    capabilities = capabilities_for(None)
    catalog = CATALOG
    retry_safe = frozenset({"+CGMM", "+CGMR", "+CGPADDR", "+CESQ", "%XICCID", "#XSLMVER"})

    def __init__(self, channel: ATChannel, *, model: str | None = None,
                 probe_failures: bool = True, sec_tag: int = DEFAULT_SEC_TAG, cid: int = 0,
                 guard_time: float = cat.LEGACY_GUARD_TIME) -> None:
        self.protocol: SlmProtocol = install(channel)
        super().__init__(channel)
        quoting.integer(sec_tag, "sec_tag", 0, 2147483647)
        quoting.integer(cid, "cid", 0, 11)
        self.model = model
        self.probe_failures = probe_failures
        self.sec_tag = sec_tag
        self.cid = cid
        self.guard_time = guard_time
        self.version = ""
        #: the Serial Modem add-on's version (``AT#XSMVER``) when that is what answers
        self.serial_modem = ""
        self.cereg: Cereg | None = None
        #: content digest -> the SHA-256 the modem listed after this driver wrote it
        self._listed: dict[tuple[int, int, str], str] = {}
        self._sockets: dict[int, NordicSocket] = {}
        self._active: int | None = None
        self._http_connected = False
        self._lock = threading.Lock()
        self._reboot_seen = False
        self._attached: str | None = None
        channel.subscribe("+CEREG:", self._on_cereg)
        channel.subscribe("Ready", self._on_ready)

    # -- events outside commands ---------------------------------------------------------------

    def _on_cereg(self, event: Urc | DataBlock) -> None:
        text = event.text if isinstance(event, Urc) else event.header
        try:
            status = decode_cereg(text, read_form=False)
        except ValueError:
            log.warning("malformed +CEREG URC %r", text)
            return
        self.cereg = status
        log.info("+CEREG: %s", status.describe())
        with self._lock:
            sockets = list(self._sockets.values())
        if sockets and status.stat in (0, 3, 4, 90):
            error = NetworkLostError(f"the modem lost its registration ({text}: "
                                     f"{status.describe()})", urc=text)
            self._report(error)
            for sock in sockets:
                sock._fail(error)

    def _on_ready(self, event: Urc | DataBlock) -> None:
        text = event.text if isinstance(event, Urc) else event.header
        if text.strip() == "Ready":
            self._rebooted(text.strip())

    def _rebooted(self, text: str, where: str = "") -> None:
        """Record a restart (SLM printed ``Ready``, NRF-REF 3) and fail every open socket."""
        error = ModuleRebootedError(f"the module restarted{where} (SLM printed 'Ready'); its "
                                    "sockets and HTTP connection are gone", urc=text)
        log.warning("module restarted: %s", text)
        self._reboot_seen = True
        self.cereg = None
        self._report(error)
        with self._lock:
            sockets = list(self._sockets.values())
            self._sockets.clear()
            self._active = None
            self._http_connected = False
        for sock in sockets:
            sock._fail(error)

    # -- start of a session ------------------------------------------------------------------

    def initialise(self) -> dict[str, str]:
        """:meth:`sync`, ``AT+CMEE=1``, ``AT+CGMM``/``AT+CGMR``, ``AT#XSLMVER``, then
        :meth:`recover`.

        Returns:
            dict: ``model``, ``firmware`` and ``slm_version`` as reported.

        Raises:
            ATTimeoutError: the module does not answer, even after leaving a data mode.
        """
        self.sync()
        info = self.identify()
        if self.model is None and info.get("model"):
            self.model = info["model"]
        try:
            reply = self.at("#XSLMVER")
            self.version = reply.first("#XSLMVER:")
            info["slm_version"] = self.version
        except (ATCommandError, ATProtocolError) as exc:
            log.info("AT#XSLMVER not answered (%s): not SLM v1.5-v3.1?", exc)
            with contextlib.suppress(ATCommandError, ATProtocolError, ATTimeoutError):
                self.serial_modem = self.at("#XSMVER").first("#XSMVER:")
                info["serial_modem_version"] = self.serial_modem
                log.warning("this is Nordic's Serial Modem add-on (%s), not SLM: its sockets "
                            "are handle-based (NRF-REF 6.3), which this driver does not speak",
                            self.serial_modem)
        self.recover()
        return info

    @property
    def slm_version(self) -> tuple[int, int] | None:
        """``(major, minor)`` of the NCS release SLM reported (``#XSLMVER: "2.5.0",...`` or
        v1.5's ``#XSLMVER: "1.5"``: NRF-REF 2), ``None`` when unknown."""
        found = re.match(r'\s*"?(\d+)\.(\d+)', self.version)
        return (int(found.group(1)), int(found.group(2))) if found else None

    def _require_version(self, what: str, since: tuple[int, int]) -> None:
        """Refuse, before anything is written, what an older SLM speaks otherwise.

        Raises:
            ProfileError: SLM older than ``since`` (catalog VERSIONS lists the differences).
        """
        if self.serial_modem:
            raise ProfileError(
                f"{what}: this module runs Nordic's Serial Modem add-on ({self.serial_modem}), "
                "whose sockets and HTTP client take a handle first (NRF-REF 6.3, 8.2); celltls "
                "speaks the SLM of NCS v2.0-v3.1")
        version = self.slm_version
        if version is not None and version < since:
            raise ProfileError(
                f"{what} needs SLM v{since[0]}.{since[1]} or later; this module runs SLM "
                f"v{version[0]}.{version[1]} ({self.version}), whose syntax and framing differ "
                "(NRF-REF 11): update the SLM application")

    def sync(self, timeout: float = 15.0) -> None:
        """Bring the line to command mode: ``AT`` must be answered ``OK``.

        An earlier run may have left SLM in data mode (it then takes ``AT`` as payload) or
        inside an unbalanced ``"`` (it then keeps the line end as data and waits: NRF-REF 3
        "Quotes", 14). Until ``AT`` is answered, this writes ``"`` CR LF (closes an open string;
        SLM answers the broken line ``ERROR``) and ``+++`` framed by :attr:`guard_time`
        (leaves data mode; ``#XDATAMODE`` or ``OK`` answers), then asks again.

        Raises:
            ATTimeoutError: no ``OK`` within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.channel.command("AT", timeout=2)
                return
            except ATCommandError as exc:
                log.info("AT answered %s: resynchronising", exc)
            except ATTimeoutError as exc:
                if time.monotonic() > deadline:
                    raise ATTimeoutError(
                        "AT (the module does not answer in command mode: it may be in a data "
                        "mode of an earlier run, or off; power-cycle it if this persists)",
                        timeout) from exc
                log.warning("no answer to AT (%s): leaving a data mode or open quote an "
                            "earlier run may have left", exc)
                self.channel.write_raw(b'"' + cat.TERMINATOR)
                time.sleep(self.guard_time)
                self.channel.write_raw(cat.DATAMODE_TERMINATOR)
                time.sleep(self.guard_time)
                self.channel.abandon_data_phase()
            if time.monotonic() > deadline:
                raise ATTimeoutError("AT (proof of command mode)", timeout)

    def recover(self) -> dict[str, list[int]]:
        """Close what an earlier host run left open in the module, found with its own state
        queries: sockets listed by ``AT#XSOCKETSELECT?`` (``#XSOCKETSELECT: <handle>,...``
        lines, v2.0+), each selected and closed with ``AT#XSOCKET=0``; where that query is
        refused, ``AT#XSOCKET?`` and ``AT#XSOCKET=0`` while a socket is listed; and the HTTP
        client when ``AT#XHTTPCCON?`` reports state 1 (``AT#XHTTPCCON=0``). NRF-REF 6.2, 8.1.
        Sockets this driver opened are kept. Refusals are logged, never raised.

        Returns:
            dict: ``{"sockets": [...], "http": [1] or []}``.
        """
        with self._lock:
            own = set(self._sockets)
        closed: list[int] = []
        handles = self._listed_sockets()
        if handles is not None:
            for handle in handles:
                if handle in own:
                    continue
                log.warning("socket %d was left open by an earlier run: closing it", handle)
                if self._quietly("#XSOCKETSELECT", arguments("#XSOCKETSELECT", handle=handle)):
                    self._active = handle
                    self._quietly("#XSOCKET", arguments("#XSOCKET", op=0))
                    self._active = None
                    closed.append(handle)
        elif not own:
            for _ in range(cat.MAX_SOCKETS):
                try:
                    line = self.at("#XSOCKET", "?").first("#XSOCKET:")
                except (ATCommandError, ATProtocolError, ATTimeoutError):
                    break
                first = line.split(",")[0].strip()
                if not first.lstrip("-").isdigit() or int(first) < 0:
                    break
                log.warning("socket %s was left open by an earlier run: closing it", first)
                if not self._quietly("#XSOCKET", arguments("#XSOCKET", op=0)):
                    break
                closed.append(int(first))
        http: list[int] = []
        if not self._http_connected:
            try:
                line = self.at("#XHTTPCCON", "?").first("#XHTTPCCON:")
                if line.split(",")[0].strip() == "1":
                    log.warning("the HTTP client was left connected by an earlier run (%s): "
                                "disconnecting", line)
                    self._quietly("#XHTTPCCON", arguments("#XHTTPCCON", op=0))
                    http.append(1)
            except (ATCommandError, ATProtocolError, ATTimeoutError) as exc:
                log.info("AT#XHTTPCCON? not answered (%s)", exc)
        self._reboot_seen = False
        return {"sockets": closed, "http": http}

    def _listed_sockets(self) -> list[int] | None:
        """The handles ``AT#XSOCKETSELECT?`` lists, ``None`` when the query is refused."""
        try:
            reply = self.at("#XSOCKETSELECT", "?")
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("AT#XSOCKETSELECT? not answered (%s)", exc)
            return None
        lines = [ln.split(":", 1)[1] for ln in reply.lines if ln.startswith("#XSOCKETSELECT:")]
        handles: list[int] = []
        for body in lines:
            fields = [f.strip() for f in body.split(",")]
            # the last line is the active handle alone; the others describe one socket each
            if len(fields) >= 2 and fields[0].isdigit():
                handles.append(int(fields[0]))
        return handles

    def _quietly(self, name: str, args: str) -> bool:
        """Send a clean-up command; a refusal is logged. Returns whether it succeeded."""
        try:
            self.at(name, args)
            return True
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("AT%s=%s: %s", name, args, exc)
            return False

    def _before_use(self) -> None:
        """After a restart seen while idle: resynchronise and clean up again."""
        if self._reboot_seen:
            log.warning("the module restarted since the last request: initialising again")
            self.sync()
            self.at("+CMEE", arguments("+CMEE", n=1))
            self.recover()
            if self._attached is not None:
                log.warning("attaching again after the restart (APN %r)", self._attached)
                self.attach(self._attached)

    def close_all(self) -> None:
        """Close every socket and the HTTP connection this run opened; never raises for a
        module answer."""
        with self._lock:
            sockets = list(self._sockets.values())
        for sock in sockets:
            try:
                sock.close()
            except (CellTLSError, OSError) as exc:
                log.info("closing socket %d: %s", sock.handle, exc)
        if self._http_connected:
            self._http_disconnect()

    # -- network -----------------------------------------------------------------------------

    def functional_mode(self) -> int:
        """``AT+CFUN?`` -> the mode (catalog CFUN_MODES).

        Raises:
            ATProtocolError: no ``+CFUN: <n>`` line.
        """
        text = self.at("+CFUN", "?").first("+CFUN:")
        try:
            return int(text.split(",")[0])
        except ValueError:
            raise ATProtocolError(f"malformed +CFUN answer {text!r}") from None

    def set_functional_mode(self, fun: int) -> None:
        """``AT+CFUN=<fun>`` (NRF-REF 4).

        Raises:
            UnsafeArgumentError: not an nRF91 mode. ATCommandError: refused.
        """
        self.at("+CFUN", arguments("+CFUN", fun=fun))

    def registration_status(self) -> Cereg:
        """``AT+CEREG?`` decoded (every field: NRF-REF 4).

        Raises:
            ATProtocolError: no decodable ``+CEREG`` line.
        """
        reply = self.at("+CEREG", "?")
        texts = [ln.split(":", 1)[1].strip() for ln in reply.lines if ln.startswith("+CEREG:")]
        # A notification that arrives during the read has the same prefix: the read answer is
        # the line whose second field is the bare <stat> after <n> (NRF-REF 4).
        answers = [t for t in texts if re.match(r"\d+,\d+(,|$)", t)]
        if not answers:
            raise ATProtocolError(f"no +CEREG: <n>,<stat> line in {reply.lines!r}")
        try:
            status = decode_cereg(answers[-1], read_form=True)
        except ValueError as exc:
            raise ATProtocolError(f"malformed +CEREG answer {answers[-1]!r}") from exc
        self.cereg = status
        return status

    def registration(self) -> tuple[int, str]:
        """``(stat, meaning)`` from :meth:`registration_status`."""
        status = self.registration_status()
        return status.stat, status.meaning

    def attach(self, apn: str, user: str | None = None, password: str | None = None,
               timeout: float = 60.0) -> NetworkStatus:
        """``AT+CEREG=5`` (every notification field), the APN of the PDP context
        (``AT+CGDCONT=<cid>,"IP","<apn>"`` when it differs, written offline), ``AT+CFUN=1`` when
        the modem is not active, registration, ``AT+CGPADDR=<cid>``. Idempotent.

        Args:
            apn: the APN; ``""`` keeps the one configured.
            user, password: not supported (the reference documents no PDP authentication
                command for SLM).
            timeout: seconds to wait for registration.

        Raises:
            UnsafeArgumentError: the APN cannot be sent.
            ProfileError: a user or password was given.
            NetworkError: not registered in time (the last ``+CEREG`` decoded), or denied.
        """
        if user or password:
            raise ProfileError("PDP authentication (user/password) is not in the SLM "
                               "reference; configure it on the modem beforehand")
        set_apn = arguments("+CGDCONT", cid=self.cid, PDP_type="IP", APN=apn) if apn else None
        self._before_use()
        self.at("+CEREG", arguments("+CEREG", n=cat.CEREG_LEVEL))
        fun = self.functional_mode()
        if set_apn is not None and self._configured_apn() != apn:
            if fun in cat.CFUN_ACTIVE:
                log.warning("setting the APN: switching the modem offline (AT+CFUN=%d) and "
                            "back", cat.CFUN_OFFLINE)
                self.set_functional_mode(cat.CFUN_OFFLINE)
                fun = cat.CFUN_OFFLINE
            self.at("+CGDCONT", set_apn)
        if fun not in (1, 21):
            log.info("activating the modem (AT+CFUN=1; it was in mode %d: %s)", fun,
                     cat.CFUN_MODES.get(fun, "unknown"))
            self.set_functional_mode(1)
        try:
            stat, meaning = self.wait_registered(timeout, poll=0.5)
        except NetworkError as exc:
            detail = f" (last +CEREG: {self.cereg.describe()})" if self.cereg else ""
            raise NetworkError(f"{exc}{detail}") from exc
        self._attached = apn
        return NetworkStatus(True, (stat, meaning), self._pdp_address(), apn)

    def _configured_apn(self) -> str | None:
        try:
            reply = self.at("+CGDCONT", "?")
        except (ATCommandError, ATTimeoutError):
            return None
        for line in reply.lines:
            if line.startswith("+CGDCONT:"):
                fields = quoting.split_arguments(line.split(":", 1)[1])
                if fields and fields[0].strip() == str(self.cid) and len(fields) > 2:
                    return quoting.unquote(fields[2])
        return None

    def _pdp_address(self) -> str | None:
        """``AT+CGPADDR=<cid>`` -> the IPv4 (or IPv6) address, ``None`` when none."""
        try:
            reply = self.at("+CGPADDR", arguments("+CGPADDR", cid=self.cid))
            fields = quoting.split_arguments(reply.first("+CGPADDR:"))
        except (ATCommandError, ATProtocolError):
            return None
        for field in fields[1:]:
            address = quoting.unquote(field)
            if address and address not in ("0.0.0.0", "0"):
                return address
        return None

    def signal(self) -> Signal:
        """``AT+CESQ``: the RSRP index as dBm (index - 140, NRF-REF 4 S7); ``rssi`` and ``ber``
        are 99 (the nRF91 reports neither).

        Raises:
            ATProtocolError: not ``+CESQ: <rxlev>,<ber>,<rscp>,<ecno>,<rsrq>,<rsrp>``.
        """
        text = self.at("+CESQ").first("+CESQ:")
        try:
            fields = [int(f) for f in text.split(",")]
            rsrp = fields[5]
        except (ValueError, IndexError):
            raise ATProtocolError(f"malformed +CESQ answer {text!r}") from None
        return Signal(99, rsrp_dbm(rsrp), 99)

    # -- credentials -------------------------------------------------------------------------

    def _credential_target(self, kind: CredentialKind, name: str | None) -> tuple[int, int]:
        ctype = _KIND_TYPE[kind]
        if name is None:
            return self.sec_tag, ctype
        tag_text, _, type_text = name.partition(":")
        if not tag_text.isdigit() or (type_text and type_text != str(ctype)):
            raise CredentialError(f"{name!r}: a {kind} is named <sec_tag> or "
                                  f"<sec_tag>:{ctype} (sec_tag 0..2147483647)")
        tag = int(tag_text)
        if tag > 2147483647:
            raise CredentialError(f"{name!r}: sec_tag 0..2147483647 (NRF-REF 5)")
        return tag, ctype

    def listed(self, sec_tag: int | None = None, ctype: int | None = None
               ) -> list[tuple[int, int, str]]:
        """``AT%CMNG=1[,<sec_tag>[,<type>]]``: ``(sec_tag, type, SHA-256)`` of each entry
        (NRF-REF 5; forms from S9).

        Raises:
            ATCommandError: refused.
        """
        values: dict[str, Value] = {"opcode": cat.CMNG_LIST, "sec_tag": sec_tag, "type": ctype}
        args = arguments("%CMNG", **values)
        try:
            reply = self.at("%CMNG", args)
        except ATTimeoutError as exc:
            # a list only reads: safe to ask again when its final result code was lost
            log.warning("AT%%CMNG=%s: %s; asking again (a list is safe to repeat)", args, exc)
            reply = self.at("%CMNG", args)
        entries: list[tuple[int, int, str]] = []
        for line in reply.lines:
            if not line.startswith("%CMNG:"):
                continue
            fields = quoting.split_arguments(line.split(":", 1)[1])
            with contextlib.suppress(ValueError, IndexError):
                entries.append((int(fields[0]), int(fields[1]),
                                quoting.unquote(fields[2]).upper() if len(fields) > 2 else ""))
        return entries

    def store_credential(self, kind: CredentialKind, data: bytes, name: str | None = None
                         ) -> StoredCredential:
        """Store a root CA (type 0), client certificate (1) or client private key (2) under a
        sec_tag with ``AT%CMNG=0,<sec_tag>,<type>,"<PEM>"``, skipped when the modem already
        lists the same content (see the module docstring). The write happens offline
        (``AT+CFUN=4``) and the previous mode is restored (NRF-REF 5, 14; L7).

        Args:
            kind: ``"ca"``, ``"client_cert"``, ``"client_key"``.
            data: PEM bytes.
            name: ``"<sec_tag>"`` or ``"<sec_tag>:<type>"``; default the driver's sec_tag.

        Returns:
            StoredCredential: ``name`` ``"<sec_tag>:<type>"``, ``checksum`` the SHA-256 the
            modem lists.

        Raises:
            CredentialError: not PEM, a character that cannot go inside the quotes, a command
                line over 4096 bytes, a bad name, or the modem refused it (``+CME ERROR``
                515 memory full, 527 invalid content...).
        """
        tag, ctype = self._credential_target(kind, name)
        content = _pem_text(data, kind)
        prefix = f'AT%CMNG={cat.CMNG_WRITE},{tag},{ctype},"'.encode()
        if len(prefix) + len(content) + 1 > cat.MAX_COMMAND_LINE:
            raise CredentialError(f"the {kind} is {len(content)} bytes: AT%CMNG with it exceeds "
                                  f"SLM's {cat.MAX_COMMAND_LINE}-byte command line (NRF-REF 3)")
        label = f"{tag}:{ctype}"
        key = (tag, ctype, hashlib.sha256(content).hexdigest())
        self._before_use()
        known = {sha for (t, c, sha) in self._safe_list(tag, ctype) if (t, c) == (tag, ctype)}
        if known and known & (_digests(content) | {self._listed.get(key, "")}):
            sha = next(iter(known))
            log.info("%s %s: the modem already holds it (SHA-256 %s); not uploading", kind,
                     label, sha)
            return StoredCredential(label, kind, len(content), sha, uploaded=False)
        with self._offline(f"writing the {kind} to sec_tag {tag}"):
            self._write_cmng(prefix, content, tag, ctype, secret=ctype in cat.SECRET_TYPES)
        listed = [sha for (t, c, sha) in self._safe_list(tag, ctype) if (t, c) == (tag, ctype)]
        if not listed:
            raise CredentialError(f"AT%CMNG=1,{tag},{ctype} does not list the {kind} just "
                                  "written: it was not stored")
        self._listed[key] = listed[0]
        return StoredCredential(label, kind, len(content), listed[0], uploaded=True)

    def _safe_list(self, tag: int, ctype: int) -> list[tuple[int, int, str]]:
        try:
            return self.listed(tag, ctype)
        except ATCommandError as exc:
            log.info("AT%%CMNG=1,%d,%d: %s", tag, ctype, exc)
            return []

    def _write_cmng(self, prefix: bytes, content: bytes, tag: int, ctype: int, *,
                    secret: bool) -> None:
        """Write ``prefix + content`` raw, then ``"`` as the command line whose final result
        code answers the whole write (SLM keeps the LFs inside the quotes: NRF-REF 3)."""
        self.channel.command("AT", timeout=2)  # a quiet line: no resync may follow the bytes
        shown = f'AT%CMNG=0,{tag},{ctype},"<{len(content)} bytes{" secret" if secret else ""}>"'
        self.channel.write_raw(prefix + content, secret=secret)
        request = Request('"', timeout=CATALOG.command("%CMNG").timeout,
                          response_prefixes=("%CMNG:",), shown=shown)
        try:
            self.channel.execute(request)
        except ATCommandError as exc:
            meaning = cat.ERRORS.get(exc.code or -1, exc.meaning or "refused")
            last = exc.response[-1] if exc.response else str(exc)
            raise CredentialError(f"{shown} was refused: {last} ({meaning})") from exc

    @contextlib.contextmanager
    def _offline(self, why: str) -> Iterator[None]:
        """Run the body with the modem offline (``AT+CFUN=4``) when it is active, then restore
        the mode it was in, logged (NRF-REF 5: 518 while active)."""
        previous = self.functional_mode()
        if previous not in cat.CFUN_ACTIVE:
            yield
            return
        log.warning("%s: the modem accepts credential changes only offline; switching from "
                    "+CFUN=%d to +CFUN=%d and back", why, previous, cat.CFUN_OFFLINE)
        self.set_functional_mode(cat.CFUN_OFFLINE)
        try:
            yield
        finally:
            self.set_functional_mode(previous)
            log.warning("restored +CFUN=%d (%s)", previous, cat.CFUN_MODES.get(previous, "?"))
            self.cereg = None  # registration starts again
            with self._lock:
                self._http_connected = False

    def delete_credential(self, name: str) -> None:
        """``AT%CMNG=3,<sec_tag>,<type>`` offline (name ``"<sec_tag>:<type>"``); a credential
        that is not there (``+CME ERROR: 513``) is logged, not raised.

        Raises:
            CredentialError: a bad name. ATCommandError: the modem refused otherwise.
        """
        tag_text, _, type_text = name.partition(":")
        if not tag_text.isdigit() or not type_text.isdigit():
            raise CredentialError(f"{name!r}: credentials are named <sec_tag>:<type>")
        args = arguments("%CMNG", opcode=cat.CMNG_DELETE, sec_tag=int(tag_text),
                         type=int(type_text))
        with self._offline(f"deleting credential {name}"):
            try:
                self.at("%CMNG", args)
            except ATCommandError as exc:
                if exc.code != cat.CME_NOT_FOUND:
                    raise
                log.info("credential %s was not there (+CME ERROR: 513)", name)
        self._listed = {k: v for k, v in self._listed.items()
                        if f"{k[0]}:{k[1]}" != name}

    def read_credential(self, sec_tag: int, ctype: int) -> tuple[str, bytes]:
        """``AT%CMNG=2,<sec_tag>,<type>`` -> ``(SHA-256, content)`` of a certificate (types 0
        and 1; NRF-REF 5: the content comes back as written, line breaks included). Keys and
        PSKs are not read back by celltls (they would pass through the log).

        Raises:
            CredentialError: a secret type. UnsafeArgumentError: a sec_tag out of range.
            ATCommandError: refused (``+CME ERROR: 513`` not found, 514 no access).
            ATProtocolError: no ``%CMNG`` line.
        """
        if ctype not in (cat.TYPE_ROOT_CA, cat.TYPE_CLIENT_CERT):
            raise CredentialError(f"%CMNG type {ctype} ({cat.CMNG_TYPES.get(ctype, '?')}) is "
                                  "not read back: only certificates (types 0 and 1) are")
        reply = self.at("%CMNG", arguments("%CMNG", opcode=cat.CMNG_READ, sec_tag=sec_tag,
                                           type=ctype))
        text = "\n".join(reply.lines)
        found = re.search(r'%CMNG:\s*\d+,\s*\d+,\s*"([0-9A-Fa-f]*)",\s*"(.*)"', text, re.S)
        if found is None:
            raise ATProtocolError(f"AT%CMNG=2,{sec_tag},{ctype}: no %CMNG line in "
                                  f"{reply.lines!r}")
        return found.group(1).upper(), found.group(2).encode()

    def set_system_mode(self, *, lte_m: bool, nb_iot: bool, gnss: bool = False,
                        preference: int = 0) -> None:
        """``AT%XSYSTEMMODE=<LTE-M>,<NB-IoT>,<GNSS>,<preference>`` (NRF-REF 4; preference 0
        automatic, 1 LTE-M, 2 NB-IoT, 3/4 the same with PLMN priority), written with the
        modem offline when it is active (its error when active is undocumented), the previous
        mode restored.

        Raises:
            UnsafeArgumentError: a preference outside 0..4. ATCommandError: refused.
        """
        args = arguments("%XSYSTEMMODE", LTE_M=int(lte_m), NB_IoT=int(nb_iot), GNSS=int(gnss),
                         LTE_preference=preference)
        with self._offline("setting the system mode"):
            self.at("%XSYSTEMMODE", args)

    def lock_bands(self, bands: list[int] | None, *, permanent: bool = False) -> None:
        """``AT%XBANDLOCK=<2 runtime|1 permanent>,"<mask>"`` (LSB = band 1), or
        ``AT%XBANDLOCK=0`` to remove the locks (``bands`` ``None``); offline when the modem is
        active (``+CME ERROR: 518`` otherwise, NRF-REF 4 S7), the previous mode restored.

        Raises:
            UnsafeArgumentError: a band outside 1..88, or no band. ATCommandError: refused.
        """
        if bands is None:
            args = arguments("%XBANDLOCK", operation=0)
        else:
            if not bands or any(not 1 <= b <= 88 for b in bands):
                raise UnsafeArgumentError("bands", repr(bands), "give bands 1..88")
            mask = "".join("1" if b in bands else "0" for b in range(max(bands), 0, -1))
            args = arguments("%XBANDLOCK", operation=1 if permanent else 2, band_mask=mask)
        with self._offline("locking bands"):
            self.at("%XBANDLOCK", args)

    def apply_profile(self, profile: TlsProfile) -> tuple[int, int]:
        """Check the profile and store its credentials under the driver's sec_tag.

        Returns:
            tuple: ``(sec_tag, peer_verify)``.

        Raises:
            ProfileError: a version other than TLS 1.2, or a cipher-suite list (SLM has no AT
                option to restrict suites: NRF-REF 10).
            CredentialError: see :meth:`store_credential`.
        """
        if TlsVersion.TLS1_2 not in profile.versions((TlsVersion.TLS1_2,)):
            raise ProfileError("the nRF91 modem speaks TLS 1.2 only (NRF-REF 10)")
        if profile.cipher_suites is not None:
            raise ProfileError("SLM has no AT option to choose cipher suites (the modem offers "
                               f"its own: {self.capabilities.key_exchange}); leave "
                               "cipher_suites unset")
        if not profile.check_time:
            log.warning("check_time=False: SLM has no option to ignore the modem's clock; "
                        "the modem checks as it does")
        profile.warn_if_insecure("Nordic SLM TLS")
        if profile.verify is not Verify.NONE and profile.ca is not None:
            self.store_credential("ca", profile.ca.pem)
        if profile.verify is Verify.MUTUAL and profile.client_cert and profile.client_key:
            self.store_credential("client_cert", profile.client_cert.pem)
            self.store_credential("client_key", profile.client_key.pem)
        verify = cat.PEER_VERIFY_NONE if profile.verify is Verify.NONE \
            else cat.PEER_VERIFY_REQUIRED
        return self.sec_tag, verify

    def _ensure_registered(self, timeout: float) -> None:
        """Wait for registration (after a credential write restored ``+CFUN=1`` the modem
        registers again).

        Raises:
            NetworkError: the modem is not active (``+CFUN`` not 1 or 21: nothing would
                register; :meth:`attach` activates it), or not registered within ``timeout``.
        """
        if self.cereg is not None and self.cereg.registered:
            return
        fun = self.functional_mode()
        if fun not in (1, 21):
            raise NetworkError(f"the modem is not active (+CFUN: {fun}: "
                               f"{cat.CFUN_MODES.get(fun, 'unknown')}); bring the network up "
                               "first (Modem.attach, celltls --apn)")
        self.wait_registered(timeout, poll=0.5)

    # -- failures of connects ------------------------------------------------------------------

    def explain_connect_failure(self, host: str, port: int, profile: TlsProfile,
                                reported: str) -> CellTLSError:
        """The most specific error for a connect SLM answered with a bare ``ERROR`` (it prints
        no errno: NRF-REF 3, 9): registration lost, else the host's probe of the server
        (:func:`celltls.tlsprobe.explain_failure`), and when the server's certificate was not
        issued for ``host`` and the profile checks names, :class:`HostnameMismatchError`
        naming the host and the certificate's names; a restart reported meanwhile
        (``Ready``) is :class:`ModuleRebootedError`."""
        if self._reboot_seen and isinstance(self._trouble, ModuleRebootedError):
            return self._trouble
        try:
            status = self.registration_status()
            if not status.registered:
                return NetworkError(f"{reported}: the modem is not registered "
                                    f"({status.describe()})")
        except (ATCommandError, ATProtocolError, ATTimeoutError):
            pass
        error = explain_failure(host, port, self.capabilities, profile, reported=reported,
                                do_probe=self.probe_failures)
        if (
            isinstance(error, TLSHandshakeError)
            and profile.hostname_checked
            and self.probe_failures
        ):
            result = probe(host, port, self.capabilities, profile)
            if result.chain:
                names = hostname_matches(result.chain[0], host)
                if names is not None:
                    return HostnameMismatchError(
                        f"the server's certificate at {host}:{port} was not issued for {host!r} "
                        f"(it names {', '.join(names) or 'nothing'}); the module refused the "
                        "connection", names=names, host=host, port=port, detail=reported,
                        evidence=["the module checks the host name set with "
                                  "AT#XSSOCKETOPT=1,2 / AT#XHTTPCCON <hostname_verify>",
                                  "fix: connect to a name the certificate was issued for"])
        return error

    # -- sockets -----------------------------------------------------------------------------

    def select(self, handle: int) -> None:
        """Make ``handle`` the active socket (``AT#XSOCKETSELECT``, v2.0+) unless it is."""
        if self._active == handle:
            return
        self.at("#XSOCKETSELECT", arguments("#XSOCKETSELECT", handle=handle))
        self._active = handle

    def tls_connect(self, host: str, port: int, profile: TlsProfile, *, timeout: float = 90.0,
                    transparent: bool = False) -> SecureSocket:
        """``AT#XSSOCKET=1,1,0,<sec_tag>,<peer_verify>``, ``AT#XSSOCKETOPT=1,2,"<host>"``
        (when the profile checks names), ``AT#XCONNECT="<host>",<port>`` (NRF-REF 6.2, 12).

        Raises:
            ProfileError: transparent mode (SLM has none for sockets), or see
                :meth:`apply_profile`.
            UnsafeArgumentError: the host or port cannot be sent (nothing is written).
            SocketError: no free socket.
            CertificateVerifyError, HostnameMismatchError, TLSNegotiationError,
            TLSHandshakeError, DNSError, ConnectionRefusedByServer, ConnectTimeoutError,
            NetworkError: the connect failed (see :meth:`explain_connect_failure`).
            ATTimeoutError: no answer within ``timeout``.
        """
        if transparent:
            raise ProfileError("SLM sockets have no transparent mode; data mode is used for "
                               "sends only")
        # v2.0: #XRECV: <size> before the data, several sockets with #XSOCKETSELECT
        self._require_version("a secure socket (#XSSOCKET, #XRECV: <size> then data)", (2, 0))
        connect_args = arguments("#XCONNECT", url=host, port=port)
        hostname_form = CATALOG.command("#XSSOCKETOPT").form("1")
        assert hostname_form is not None
        hostname_args = hostname_form.build(op=1, name=cat.SO_TLS_HOSTNAME, hostname=host)
        with self._lock:
            if len(self._sockets) >= cat.MAX_SOCKETS:
                raise SocketError(f"all {cat.MAX_SOCKETS} SLM sockets are in use")
        self._before_use()
        tag, verify = self.apply_profile(profile)
        self._ensure_registered(timeout)
        reply = self.at("#XSSOCKET", arguments("#XSSOCKET", op=1, type=1, role=0, sec_tag=tag,
                                               peer_verify=verify))
        text = reply.first("#XSSOCKET:")
        try:
            handle = int(text.split(",")[0])
        except ValueError:
            raise ATProtocolError(f"malformed #XSSOCKET answer {text!r}") from None
        if handle < 0:
            raise errno_error(handle, reported=f"#XSSOCKET: {text}", during="socket open")
        self._adopt_new_socket(handle)
        sock = NordicSocket(self, handle, host, port)
        with self._lock:
            self._sockets[handle] = sock
        try:
            if profile.hostname_checked:
                self.at("#XSSOCKETOPT", hostname_args)
            try:
                reply = self.at("#XCONNECT", connect_args, timeout=max(timeout, 1.0))
            except ATCommandError as exc:
                raise self.explain_connect_failure(
                    host, port, profile, f"AT#XCONNECT={connect_args}: "
                    f"{exc.response[-1] if exc.response else 'ERROR'}") from exc
            state = reply.first("#XCONNECT:")
            if state.strip() != "1":
                raise self.explain_connect_failure(host, port, profile,
                                                   f"#XCONNECT: {state}")
        except BaseException:
            sock._close_once(sock._close_in_module)  # leave nothing open in the module
            raise
        return sock

    #: plain TCP sockets for TLS on the host (:meth:`tcp_connect`, ``AT#XSOCKET``)
    plain_tcp = True

    def tcp_connect(self, host: str, port: int, *, timeout: float = 90.0) -> SecureSocket:
        """A plain TCP socket for TLS on the host: ``AT#XSOCKET=1,1,0`` then
        ``AT#XCONNECT="<host>",<port>``; the same data-mode sends and ``#XRECV`` reads as a
        secure socket (NRF-REF 6.2; L2 ran its own TLS over such a socket).

        Raises:
            UnsafeArgumentError: the host or port cannot be sent (nothing is written).
            ProfileError: SLM older than v2.0 (another #XRECV framing).
            SocketError: no free socket.
            DNSError, ConnectionRefusedByServer, ConnectTimeoutError, NetworkError: the connect
                failed (explained from the host: SLM prints no errno).
        """
        self._require_version("a TCP socket (#XRECV: <size> then data)", (2, 0))
        connect_args = arguments("#XCONNECT", url=host, port=port)
        open_args = arguments("#XSOCKET", op=1, type=1, role=0)
        with self._lock:
            if len(self._sockets) >= cat.MAX_SOCKETS:
                raise SocketError(f"all {cat.MAX_SOCKETS} SLM sockets are in use")
        self._before_use()
        self._ensure_registered(timeout)
        text = self.at("#XSOCKET", open_args).first("#XSOCKET:")
        try:
            handle = int(text.split(",")[0])
        except ValueError:
            raise ATProtocolError(f"malformed #XSOCKET answer {text!r}") from None
        if handle < 0:
            raise errno_error(handle, reported=f"#XSOCKET: {text}", during="socket open")
        self._adopt_new_socket(handle)
        sock = NordicSocket(self, handle, host, port)
        with self._lock:
            self._sockets[handle] = sock
        try:
            try:
                state = self.at("#XCONNECT", connect_args,
                                timeout=max(timeout, 1.0)).first("#XCONNECT:")
            except ATCommandError as exc:
                raise self._explain_tcp_failure(host, port, f"AT#XCONNECT={connect_args}: "
                                                f"{exc.response[-1] if exc.response else 'ERROR'}"
                                                ) from exc
            if state.strip() != "1":
                raise SocketError(f"AT#XCONNECT={connect_args} answered #XCONNECT: {state}")
        except BaseException:
            sock._close_once(sock._close_in_module)
            raise
        return sock

    def _explain_tcp_failure(self, host: str, port: int, reported: str) -> CellTLSError:
        """Why a plain TCP connect failed (SLM prints no errno: NRF-REF 3, 9): a restart,
        no registration, else what the host finds when it connects itself."""
        if self._reboot_seen and isinstance(self._trouble, ModuleRebootedError):
            return self._trouble
        with contextlib.suppress(ATCommandError, ATProtocolError, ATTimeoutError):
            status = self.registration_status()
            if not status.registered:
                return NetworkError(f"{reported}: the modem is not registered "
                                    f"({status.describe()})")
        if not self.probe_failures:
            return SocketError(f"{reported}: the module could not connect to {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=5.0):
                pass
        except socket.gaierror as exc:
            return DNSError(f"{reported}: {host} does not resolve from the host either ({exc})")
        except ConnectionRefusedError as exc:
            return ConnectionRefusedByServer(f"{reported}: {host}:{port} refuses the host's "
                                             f"connection too ({exc})")
        except TimeoutError as exc:
            return ConnectTimeoutError(f"{reported}: {host}:{port} does not answer the host "
                                       f"either ({exc or 'timeout'})")
        except OSError as exc:
            return NetworkError(f"{reported}: the host cannot reach {host}:{port} either "
                                f"({exc})")
        return SocketError(f"{reported}: the module could not connect to {host}:{port}, "
                           "although the host can (a route or firewall of the cellular "
                           "network?)")

    def _adopt_new_socket(self, handle: int) -> None:
        """A socket just opened: with others open, select it explicitly (which socket a new one
        leaves active is not documented, NRF-REF 6.2); alone, it is the active one."""
        with self._lock:
            others = bool(self._sockets)
        if others:
            self._active = None
            self.select(handle)
        else:
            self._active = handle

    def _close_socket(self, handle: int) -> None:
        """Select ``handle`` and ``AT#XSOCKET=0``; failures logged (NRF-REF 6.2)."""
        with self._lock:
            self._sockets.pop(handle, None)
        try:
            self.select(handle)
            reply = self.at("#XSOCKET", arguments("#XSOCKET", op=0))
            log.debug("socket %d closed: %s", handle, reply.lines)
        except (ATCommandError, ATTimeoutError, ATProtocolError) as exc:
            log.info("closing socket %d: %s", handle, exc)
        finally:
            if self._active == handle:
                self._active = None

    def send_datamode(self, payload: bytes, *, what: str) -> None:
        """Send ``payload`` (no ``+++`` in it, not ending with ``+``) in data mode:
        ``AT#XSEND`` (``OK``: data mode, v2.1+), the bytes, ``+++``; ``#XDATAMODE: 0`` ends it
        (NRF-REF 7).

        Raises:
            SocketError: refused, or ``#XDATAMODE`` reports an errno (decoded).
            ATTimeoutError: no ``#XDATAMODE``.
        """
        # v2.1+ ends data mode with #XDATAMODE: <status>; v1.7-v2.0 with OK (NRF-REF 7)
        waiter = self.channel.expect_urc(lambda t: t.startswith("#XDATAMODE:") or t == "OK")
        try:
            try:
                self.at("#XSEND")
            except ATCommandError as exc:
                raise SocketError(f"AT#XSEND ({what}) was refused: {exc}") from exc
            except ATTimeoutError as exc:
                # the OK that enters data mode was lost: the module may be waiting for data;
                # the pattern ends that without sending anything (NRF-REF 7)
                self.channel.write_raw(cat.DATAMODE_TERMINATOR)
                self.channel.abandon_data_phase()
                raise SocketError(f"AT#XSEND ({what}) was not answered ({exc}); nothing was "
                                  "sent") from exc
            self.channel.write_raw(payload + cat.DATAMODE_TERMINATOR)
            text = self.wait_urc(waiter, DATAMODE_EXIT_TIMEOUT + len(payload) / 1000,
                                 f"#XDATAMODE after sending {len(payload)} bytes ({what})")
        finally:
            self.channel.forget(waiter)
        status = text.split(":", 1)[1].strip() if ":" in text else "0"
        if status.lstrip("-").isdigit() and int(status) < 0:
            raise errno_error(int(status), reported=text, during=f"send ({what})")

    def send_string(self, payload: bytes, *, what: str) -> None:
        """``AT#XSEND="<payload>"`` for bytes data mode cannot carry (a ``+`` run); checks the
        count ``#XSEND: <n>`` reports (NRF-REF 6.2).

        Raises:
            SocketError: refused or fewer bytes sent.
        """
        try:
            reply = self.at("#XSEND", arguments("#XSEND", data=payload.decode("ascii")))
        except ATCommandError as exc:
            raise SocketError(f"AT#XSEND ({what}) was refused: {exc}") from exc
        sent = reply.first("#XSEND:").split(",")[-1].strip()
        if sent != str(len(payload)):
            raise SocketError(f"AT#XSEND ({what}) sent {sent} of {len(payload)} bytes")

    # -- native HTTP -------------------------------------------------------------------------

    def _http_disconnect(self) -> None:
        self._quietly("#XHTTPCCON", arguments("#XHTTPCCON", op=0))
        with self._lock:
            self._http_connected = False

    def native_request(self, method: str, url: str, *, profile: TlsProfile,
                       headers: list[tuple[str, str]], body: Body, timeout: float
                       ) -> BaseResponse:
        """SLM's HTTP client: ``AT#XHTTPCCON=1,"<host>",<port>,<sec_tag>,<peer_verify>,
        <hostname_verify>`` then ``AT#XHTTPCREQ="<method>","<resource>","<headers>"
        [,"<content_type>",<length>]`` (a body goes in data mode), the response read raw and
        checked against each ``#XHTTPCRSP`` count, then ``AT#XHTTPCCON=0`` (NRF-REF 8.1).

        Raises:
            ProfileError: a method SLM does not know.
            UnsafeArgumentError: a resource, header or body that cannot be sent (nothing is
                written then: a header longer than 512 bytes in all, ``"``, ``+++``...).
            CertificateVerifyError, HostnameMismatchError, TLSError, NetworkError: the connect
                failed (see :meth:`explain_connect_failure`).
            HTTPError, PartialBodyError, SocketError: the response broke off.
        """
        method = method.upper()
        if method not in cat.HTTP_METHODS:
            raise ProfileError(f"SLM's HTTP client has no {method} here "
                               f"({', '.join(cat.HTTP_METHODS)})")
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or 443
        except ValueError as exc:
            raise UnsafeArgumentError("url", url, f"bad port: {exc}") from None
        resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        payload = body_bytes(body)
        content_type = "application/octet-stream"
        extra: list[str] = []
        for key, value in headers:
            if "\\r" in f"{key}{value}" or "\\n" in f"{key}{value}":
                raise UnsafeArgumentError(f"header {key}", value, "holds a literal \\r or "
                                          "\\n, which SLM turns into a line end (NRF-REF 8.1): "
                                          "it would inject a header")
            if key.lower() == "content-type":
                content_type = value
            elif key.lower() not in cat.HTTPC_OWN_HEADERS:
                extra.append(f"{key}: {value}\\r\\n")  # a literal \r\n: SLM turns it to CR LF
        header_text = "".join(extra)
        if payload is not None and cat.DATAMODE_TERMINATOR in payload:
            raise UnsafeArgumentError("body", f"<{len(payload)} bytes>", "contains +++, SLM's "
                                      "data-mode termination pattern (NRF-REF 7); use the "
                                      "socket path (via='socket')")
        values: dict[str, Value] = {"method": method, "resource": resource,
                                    "headers": header_text}
        if payload is not None:
            values.update(content_type=content_type, content_length=len(payload))
        request_args = arguments("#XHTTPCREQ", **values)
        verify = cat.PEER_VERIFY_NONE if profile.verify is Verify.NONE \
            else cat.PEER_VERIFY_REQUIRED
        self._require_version("the HTTP client (#XHTTPCREQ v2 syntax, #XHTTPCRSP after "
                              "each part)", (2, 0))
        connect: dict[str, Value] = {"op": 1, "host": host, "port": port,
                                     "peer_verify": verify,
                                     "hostname_verify": 1 if profile.hostname_checked else 0}
        version = self.slm_version
        if version is not None and version < (2, 6):
            # <peer_verify> and <hostname_verify> arrived in v2.6 (NRF-REF 8.1); what v2.0-2.5
            # verifies is not documented, so a check celltls cannot confirm is refused
            if profile.hostname_checked:
                raise HostnameCheckUnsupportedError(
                    f"SLM v{version[0]}.{version[1]}'s HTTP client has no <hostname_verify> "
                    f"(v2.6+): cannot confirm that {host!r} is checked; use via='socket' "
                    "(AT#XSSOCKETOPT sets the host name) or check_hostname=False")
            if profile.verify is Verify.NONE:
                raise ProfileError(f"SLM v{version[0]}.{version[1]}'s HTTP client has no "
                                   "<peer_verify> (v2.6+); use via='socket'")
            del connect["peer_verify"], connect["hostname_verify"]
        arguments("#XHTTPCCON", **connect, sec_tag=self.sec_tag)  # checked before any write
        self._before_use()
        tag, _ = self.apply_profile(profile)
        self._ensure_registered(timeout)
        if self._http_connected:
            self._http_disconnect()
        connect_args = arguments("#XHTTPCCON", **connect, sec_tag=tag)
        try:
            reply = self.at("#XHTTPCCON", connect_args, timeout=max(timeout, 1.0))
            state = reply.first("#XHTTPCCON:")
        except ATCommandError as exc:
            raise self.explain_connect_failure(
                host, port, profile, f"AT#XHTTPCCON={connect_args}: "
                f"{' '.join(exc.response) or 'ERROR'}") from exc
        with self._lock:
            self._http_connected = True
        if state.strip() != "1":
            self._http_disconnect()
            raise self.explain_connect_failure(host, port, profile, f"#XHTTPCCON: {state}")
        try:
            stream = self._request(request_args, payload, timeout)
        except BaseException:
            self._http_disconnect()
            raise
        native = _NativeStream(self, _reframed(stream, method))
        try:
            return HTTPConnection(native, host, single_response=True).receive_response(
                method, resource)
        except BaseException:
            with contextlib.suppress(Exception):
                native.close()
            raise

    def _request(self, args: str, payload: bytes | None, timeout: float) -> Iterator[bytes]:
        """Send ``AT#XHTTPCREQ`` (and the body in data mode); return the response parts."""
        line = f"AT#XHTTPCREQ={args}"
        self.channel.arm_raw_on_connect()  # resets the channel's "raw data ended" mark
        self.channel.disarm_raw_on_connect()
        if payload is None:
            self.protocol.raw_after(line)
            try:
                self.at("#XHTTPCREQ", args, timeout=timeout)
            except BaseException:
                self.protocol.raw_after(None)
                if self.channel.in_data_mode:
                    self.channel.abandon_data_phase()
                raise
        else:
            waiter = self.channel.expect_urc(lambda t: t.startswith("#XHTTPCREQ:"))
            try:
                try:
                    lines = self.at("#XHTTPCREQ", args, timeout=timeout).lines
                except ATTimeoutError as exc:
                    if not any(ln.startswith("#XHTTPCREQ: 1") for ln in exc.partial):
                        raise
                    # "#XHTTPCREQ: 1" came: SLM is in data mode waiting for the body; only the
                    # OK was lost (NRF-REF 8.1)
                    log.warning("%s: the OK was lost after #XHTTPCREQ: 1; sending the body",
                                exc.command)
                    lines = exc.partial
                states = [ln for ln in lines if ln.startswith("#XHTTPCREQ:")]
                if not states:
                    states = [self.wait_urc(waiter, timeout, "#XHTTPCREQ: 1 (payload wanted)")]
            finally:
                self.channel.forget(waiter)
            state = states[-1].split(":", 1)[1].strip()
            if state != "1":
                raise errno_error(int(state) if state.lstrip("-").isdigit() else -22,
                                  reported=states[-1], during="request")
            self.channel.arm_raw_on_connect()  # the OK marked raw data as ended: reset
            self.channel.disarm_raw_on_connect()
            # the answer follows the body: read it raw. SLM is silent while it waits for the
            # body (data mode; G2 drops URCs then: NRF-REF 3), so no line is being parsed now
            self.protocol.enter_raw_mode()
            self.channel.write_raw(payload)
        return self._response_parts(timeout)

    def _response_parts(self, timeout: float) -> Iterator[bytes]:
        """The response bytes SLM wrote, part by part (:class:`ResponseFramer`: each part
        checked against the ``#XHTTPCRSP:<n>,<state>`` line after it, NRF-REF 8.1). Ends after
        the part whose state is 1.

        Raises:
            SocketError, NetworkLostError...: a negative state or request status (its errno,
                :func:`errno_error`).
            ATTimeoutError: no byte for ``timeout`` seconds.
        """
        framer = ResponseFramer()
        deadline = time.monotonic() + timeout
        seq = self._trouble_seq
        try:
            while True:
                try:
                    data = self.channel.read_raw(65536, 0.25)
                except ATTimeoutError:
                    self._raise_trouble(seq)
                    if framer.ends_with_boot():
                        self._rebooted("Ready", " during the HTTP response")
                        self._raise_trouble(seq)
                    if time.monotonic() > deadline:
                        raise ATTimeoutError("the HTTP response (#XHTTPCRSP)", timeout) from None
                    continue
                if not data:
                    raise SocketError("the line left raw mode in the middle of the HTTP response")
                deadline = time.monotonic() + timeout
                for part in framer.feed(data):
                    if part.data:
                        yield part.data
                    if part.state < 0:
                        raise errno_error(part.state, reported=f"#XHTTPCRSP: 0,{part.state}",
                                          during="the response")
                if framer.request_error is not None:
                    value, line = framer.request_error
                    raise errno_error(value, reported=line, during="request")
                if framer.complete:
                    return
        finally:
            self.protocol.raw_after(None)
            self.channel.abandon_data_phase()  # back to lines; the next command resyncs
            if framer.ends_with_boot() and not self._reboot_seen:
                self._rebooted("Ready", " after the HTTP response")
            if not framer.complete and framer.pending:
                log.warning("HTTP response cut short: %d bytes left unframed", framer.pending)


_CHUNKED = re.compile(rb"(?im)^transfer-encoding:[^\r\n]*chunked")
_CHUNK_LINE = re.compile(rb"[0-9A-Fa-f]+[ \t]*(;[^\r\n]*)?\r\n")


def _reframed(parts: Iterator[bytes], method: str) -> Iterator[bytes]:
    """The response as the server framed it, for h11. SLM's HTTP client (Zephyr's http_client
    underneath) hands on a chunked body as its content, without the chunk lines, while the
    header part still says ``Transfer-Encoding: chunked`` (NRF-REF 8.1: the parts are counted
    by ``#XHTTPCRSP``, whose last state 1 says the body is complete). Such parts are chunked
    again here, one chunk per part, ended by the last chunk once SLM reported state 1; a body
    that already starts with a chunk-size line is passed on as it is."""
    head = next(parts, b"")
    yield head
    status = re.match(rb"HTTP/\d\.\d (\d{3})", head)
    bodiless = method == "HEAD" or (status is not None and status.group(1) in (b"204", b"304"))
    if bodiless or not _CHUNKED.search(head):
        yield from parts
        return
    first = next(parts, None)
    if first is not None and _CHUNK_LINE.match(first):
        yield first
        yield from parts
        return
    for part in parts if first is None else itertools.chain([first], parts):
        if part:
            yield b"%x\r\n" % len(part) + part + b"\r\n"
    yield b"0\r\n\r\n"


class _NativeStream:
    """The response parts of ``AT#XHTTPCREQ`` as a socket-like object for
    :meth:`celltls.http.HTTPConnection.receive_response`; ``close`` reads what is left and
    disconnects the HTTP client (``AT#XHTTPCCON=0``)."""

    def __init__(self, driver: NordicSlm, stream: Iterator[bytes]) -> None:
        self._driver = driver
        self._stream = stream
        self._pending = b""
        self._closed = False

    def sendall(self, data: bytes) -> None:
        raise SocketError("SLM's HTTP client sends the request itself")

    def recv(self, max_bytes: int) -> bytes:
        if self._closed:
            return b""
        if not self._pending:
            self._pending = next(self._stream, b"")
        chunk, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
        return chunk

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for _ in self._stream:
                pass
        except (CellTLSError, OSError) as exc:
            log.info("the rest of the HTTP response: %s", exc)
        finally:
            self._driver._http_disconnect()


class NordicSocket(SecureSocket):
    """A TLS socket of SLM: data-mode sends, ``AT#XRECV`` reads (NRF-REF 6.2, 7).

    Data accounting: every read is ``#XRECV: <size>`` followed by exactly ``size`` bytes (the
    AT protocol's length-delimited block, catalog XRECV_BLOCK), never what was asked; a bare
    ``OK`` means the server closed; ``ERROR`` means nothing came within the read's
    ``<timeout>`` (NRF-REF 6.2), after which the socket's state is checked with
    ``AT#XSOCKETSELECT?`` before waiting on.
    """

    timeout: float = 60.0
    #: seconds an ``AT#XRECV`` answer may take beyond its ``<timeout>``
    recv_margin: float = RECV_MARGIN

    def __init__(self, driver: NordicSlm, handle: int, host: str, port: int) -> None:
        super().__init__(host, port, max_send=driver.capabilities.max_send)
        self.driver = driver
        self.handle = handle
        self._peer_closed = False

    def _check_usable(self) -> None:
        with self._cond:
            if self._failure is not None:
                raise self._failure
        if self._closed:
            raise SocketError(f"TLS socket {self.handle} to {self.host} is closed")

    def _send_piece(self, piece: bytes) -> None:
        """Send one piece: data mode for runs without ``+++`` that do not end in ``+``, the
        string form for a ``+`` run (data mode would take it for its termination pattern).

        Raises:
            SocketError: closed, refused, or an errno reported.
            ModuleRebootedError, NetworkLostError: reported meanwhile.
        """
        self._check_usable()
        self.driver.select(self.handle)
        what = f"socket {self.handle} to {self.host}"
        for kind, chunk in _split_for_datamode(piece):
            try:
                if kind == "plus":
                    for start in range(0, len(chunk), cat.MAX_SEND_STRING):
                        self.driver.send_string(chunk[start:start + cat.MAX_SEND_STRING],
                                                what=what)
                else:
                    self.driver.send_datamode(chunk, what=what)
            except CellTLSError as exc:
                if not isinstance(exc, SocketError | NetworkLostError | ModuleRebootedError):
                    exc = SocketError(f"sending on {what} failed: {exc}")
                self._fail(exc)
                raise exc from None

    def _fill(self, clock: RecvClock) -> bool:
        """``AT#XRECV=<t>``: a ``#XRECV: <size>`` block goes to the buffer; a bare ``OK`` ends
        the stream; ``ERROR`` (no data within ``t`` seconds) checks that the socket still
        exists and waits on until ``clock.deadline``.

        Raises:
            ATTimeoutError: nothing within :attr:`timeout`.
            SocketError: the socket is gone or the read failed.
        """
        if self._peer_closed:
            return False
        now = time.monotonic()
        if now >= clock.deadline:
            raise ATTimeoutError(f"data on TLS socket {self.handle}", self.timeout)
        wait = max(1, min(RECV_WAIT, int(clock.deadline - now)))
        seq = self.driver._trouble_seq
        args = arguments("#XRECV", timeout=wait)
        try:
            self.driver.select(self.handle)
            reply = self.driver.at("#XRECV", args, timeout=wait + self.recv_margin)
        except ATCommandError:
            self._raise_recorded(seq)
            self._check_alive()
            return True
        except ATTimeoutError as exc:
            self._raise_recorded(seq)
            block = self.driver.protocol.take_block(f"AT#XRECV={args}")
            if block is not None:
                # the bytes came whole, framed by their own length; only the OK was lost
                log.warning("AT#XRECV=%s: the OK after #XRECV: %d was lost; the data is kept "
                            "(framed by its length field)", args, len(block.data))
                self._deliver(block.data)
                return True
            error = SocketError(f"AT#XRECV on socket {self.handle} was not answered ({exc}); "
                                "received data may be incomplete")
            self._fail(error)
            raise error from exc
        if reply.blocks:
            for block in reply.blocks:
                self._deliver(block.data)
            return True
        if any(ln.startswith("#XRECV:") for ln in reply.lines):
            error = SocketError(f"malformed AT#XRECV answer on socket {self.handle}: "
                                f"{reply.lines!r}")
            self._fail(error)
            raise error
        self._raise_recorded(seq)
        self._check_network()
        self._peer_closed = True
        return False

    def _raise_recorded(self, seq: int) -> None:
        """Raise what a URC reported meanwhile (a restart, the network lost) before any
        conclusion drawn from the answer itself."""
        self.driver._raise_trouble(seq)
        with self._cond:
            if self._failure is not None:
                raise self._failure

    def _check_network(self) -> None:
        """The server closed (``#XRECV`` answered a bare ``OK``): unless the modem is still
        registered with an address on its PDP context, the close came from the network going
        away, and the stream is not taken as ended (NRF-REF 4, 6.2).

        Raises:
            NetworkLostError: not registered, or no address any more.
        """
        try:
            status = self.driver.registration_status()
            address = self.driver._pdp_address() if status.registered else None
        except (ATCommandError, ATProtocolError, ATTimeoutError) as exc:
            log.info("network state after the server's close not read: %s", exc)
            return
        if address is None:
            error = NetworkLostError(
                f"TLS socket {self.handle} to {self.host} ended while the network went away "
                f"(+CEREG {status.describe()}; PDP context {self.driver.cid} "
                f"{'has an address' if address else 'has no address'})")
            self._fail(error)
            raise error

    def _check_alive(self) -> None:
        """After ``AT#XRECV`` answered ``ERROR``: is the socket still listed?"""
        handles = self.driver._listed_sockets()
        if handles is not None and self.handle not in handles:
            error = SocketError(f"TLS socket {self.handle} to {self.host} no longer exists in "
                                "the module (closed by an error; SLM prints no errno)")
            self._fail(error)
            raise error

    def _close_in_module(self) -> None:
        """Select the socket and ``AT#XSOCKET=0``."""
        self.driver._close_socket(self.handle)


def _split_for_datamode(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Cut ``data`` into ``("data", bytes)`` pieces data mode can carry (no ``+`` at their end,
    so neither a ``+++`` inside nor one formed with the termination pattern) and
    ``("plus", b"++...")`` runs of ``+`` that must go by the string form (NRF-REF 7: from v1.9
    the pattern ends data mode wherever it appears)."""
    start = 0
    for match in re.finditer(rb"\++", data):
        run_start, run_end = match.span()
        if run_end - run_start >= 3 or run_end == len(data):
            if run_start > start:
                yield "data", data[start:run_start]
            yield "plus", data[run_start:run_end]
            start = run_end
    if start < len(data):
        yield "data", data[start:]


