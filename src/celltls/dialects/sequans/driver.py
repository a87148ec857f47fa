"""The Sequans Monarch / Monarch 2 driver (GM01Q, GM02S, GM02SP...): the ``+SQN`` command set.

Facts and their sources are in :mod:`celltls.dialects.sequans.catalog` (``SQN-REF`` =
shared/reference/sequans.md with its source ids S1-S16/L1-L10, ``SQN-FORUM`` = the seed thread).
What this driver adds to them:

- **Verification from the profile.** ``certValidLevel`` is built from the :class:`TlsProfile`
  (bit 0 chain and dates, bit 2 host name: the module checks host names, so
  ``Capabilities.hostname_check`` is true); a raw value given to
  :meth:`Sequans.configure_security_profile` is refused when it has bit 1, a reserved bit, or
  bit 2 without bit 0 (SQN-FORUM: the module takes 7 with ``OK`` and fails later with 77). The
  module's echo line is compared with what was sent.
- **Credentials** go to NV memory with ``AT+SQNSNVW`` and the ``> `` data phase, CRs removed so
  that ``<size>`` counts exactly what is sent (SQN-REF §4, §12 pitfall 7). ``AT+SQNSNVR`` gives
  metadata, not the PEM (L4), so an upload is skipped when the slot's fingerprint is the
  certificate's, and checked after the upload the same way.
- **Sockets** in command mode (``AT+SQNSD=...,1``), read with ``AT+SQNSRECV`` whose answer is
  framed by its own ``<len>`` (a data block of the AT core); ``+SQNSRING`` only says "read now",
  a count is never trusted beyond the next read's own length; ``+SQNSH`` (peer closed) still
  lets the buffered data be read (L2).
- **Native HTTP** (``AT+SQNHTTPCFG``/``CONNECT``/``QRY``/``SND``/``RCV``): the body of
  ``AT+SQNHTTPRCV`` is ``CR LF <<<``, the body, ``CR LF OK CR LF`` with no length (L1): it is read
  raw, exactly the ``<data_size>`` of ``+SQNHTTPRING``, and the trailer is checked.
- **Recovery**: at start the line is proven to be in command mode (a ``> `` data phase left by a
  killed run is fed until it ends), sockets left open are listed with ``AT+SQNSS?`` and closed,
  the HTTP profile is disconnected; ``+SYSSTART`` / ``^EXIT`` mean the module rebooted and lost
  every socket (SQN-REF §3, §12 pitfall 16).
- **The network before each request**: the module boots with its radio off (``CFUN=0``: the
  seed thread's ``+SYSSTART`` then ``AT+CFUN=1``, SQN-REF §3), so a connection or an HTTP
  request first checks ``AT+CFUN?`` and ``AT+CEREG?``. After a restart, or with the radio found
  off or the module not registered, a session that attached brings the network back up as
  :meth:`Sequans.attach` does, within its attach timeout; otherwise the error names the restart
  or the radio state, never the "could not connect" (``+SQNHTTPCONNECT: <p>,7``, ``+CME ERROR:
  30`` to ``AT+SQNSD``) such a module answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import logging
import re
import threading
import time
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from celltls.at import quoting
from celltls.at.channel import ATChannel
from celltls.at.codes import REGISTERED
from celltls.at.protocol import DataBlock, Urc
from celltls.dialects.base import (
    Capabilities,
    CredentialKind,
    Dialect,
    NetworkStatus,
    RecvClock,
    SecureSocket,
    StoredCredential,
)
from celltls.dialects.sequans import catalog as cat
from celltls.dialects.spec import Value
from celltls.errors import (
    ATCommandError,
    ATProtocolError,
    ATTimeoutError,
    CellTLSError,
    CertificateVerifyError,
    ConnectionRefusedByServer,
    ConnectTimeoutError,
    CredentialError,
    DNSError,
    HostnameMismatchError,
    HTTPError,
    ModuleRebootedError,
    NetworkError,
    PartialBodyError,
    ProfileError,
    SocketError,
    TLSError,
    TLSHandshakeError,
    TLSNegotiationError,
    TransferTimeoutError,
)
from celltls.http import BaseResponse, Body, Progress, body_bytes
from celltls.tls import TlsProfile, TlsVersion, Verify
from celltls.tlsprobe import explain_failure, probe

log = logging.getLogger(__name__)

CATALOG = cat.CATALOG

#: Monarch 1 model names (SQN-REF scope: SQN3330, GM01Q, RYZ014A, VZM20Q of L10); any other
#: name is taken as Monarch 2 (GM02S, GM02SP).
MONARCH1_MODELS = ("gm01q", "ryz014", "vzm20q", "sqn3330", "monarch1")

#: Commands safe to send again when their final result code was lost (queries, and settings
#: that leave the same state): Dialect.at.
_RETRY_SAFE = frozenset({"+CGMM", "+CGMR", "+CGMI", "+CGPADDR", "+CSQ", "+CESQ", "+SQNSS",
                         "+SQNSI", "+SQNSNVR", "+SQNSCFG", "+SQNSCFGEXT", "+SQNSSCFG",
                         "+SQNSPCFG", "+SQNHTTPCFG", "+CMEE", "+CEREG"})

#: The fingerprint fields of an ``+SQNSNVR`` line: 40 (SHA-1, L4) or 64 (SHA-256) hex digits.
_FINGERPRINT = re.compile(r'^"?([0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})"?$')
#: A failure final result code inside raw data (``AT+SQNHTTPRCV`` refused).
_RAW_ERROR = re.compile(rb"\r\n(ERROR|\+CME ERROR: *[^\r\n]*)\r\n")
#: Seconds without a byte after which the end of raw data is examined (a reboot report, an
#: answer ended early): longer than a pause of a working module between bursts.
RAW_QUIET = 1.0
#: A reboot report at the end of raw data (SQN-REF §2, §3: ``^EXIT: ...`` then ``+SYSSTART``).
_RAW_REBOOT = re.compile(rb"(\+SYSSTART|\^EXIT:[^\r\n]*)")
#: Seconds a request waits for ``+SYSSTART`` when it finds the radio off (``+CFUN: 0``, the
#: state a Sequans module boots in, SQN-FORUM via sequans.md §3) although this session switched
#: it on: the restart's report may still be on its way (the virtual GM02S answers commands
#: before it), and a report that came after the network was brought back up would fail the
#: request the restart was already handled for.
BOOT_REPORT_WAIT = 1.0


def arguments(name: str, **values: Value) -> str:
    """The argument text of ``AT<name>=...`` built from the catalog's form (quoting, ranges,
    lengths and values checked there: :meth:`celltls.dialects.spec.Command.build`).

    Raises:
        ParamError: (an :class:`~celltls.errors.UnsafeArgumentError`) a value the form does not
            accept; nothing has been written to the port.
    """
    return CATALOG.command(name).build(**values)


def is_monarch1(model: str | None) -> bool:
    """Whether ``model`` (``"GM01Q"``, ``"gm02s"``...) is a Monarch 1 module (SQN-REF scope)."""
    key = (model or "").lower()
    return any(key.startswith(name) for name in MONARCH1_MODELS)


def capabilities_for(model: str | None) -> Capabilities:
    """The :class:`Capabilities` of a Sequans model (``None``: GM02S, Monarch 2).

    Versions: TLS 1.0-1.2 (SQN-REF §5, §9), TLS 1.3 selectable on Monarch 2 only (S2, S3; no
    log shows a TLS 1.3 handshake). Suites: the manual's list (S2) and those of Microchip's
    driver (S6). Six security profiles and six sockets (S2, S3, S8), 1500-byte sends and reads
    (S7, S8), certificates ≤ 8 kB and keys ≤ 2 kB (S2), host-name check by ``certValidLevel``
    bit 2 (SQN-FORUM), ``<connTo>`` up to 120 s (S8, S9).
    """
    versions: tuple[TlsVersion, ...] = (TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2)
    if not is_monarch1(model):
        versions = (*versions, TlsVersion.TLS1_3)
    return Capabilities(
        tls_versions=versions,
        cipher_suites=cat.CIPHER_SUITES + cat.CIPHER_SUITES_S6,
        cipher_selection="list",
        key_exchange="RSA, DHE-RSA, ECDHE-RSA and ECDHE-ECDSA (AES-CBC/GCM/CCM), PSK; which "
        "suites each firmware accepts is not documented (sequans.md §9)",
        verify_modes=(Verify.NONE, Verify.SERVER, Verify.MUTUAL),
        secure_sockets=cat.CONN_ID[1],
        security_contexts=cat.SP_ID[1],
        max_send=cat.MAX_SEND,
        max_recv=cat.MAX_RECV,
        credential_limits={"certificate": cat.MAX_CERTIFICATE,
                           "privatekey": cat.MAX_PRIVATE_KEY},
        transparent_mode=False,
        native_http=True,
        max_hostname=cat.MAX_HOSTNAME,
        hostname_check=True,
        connect_timeout_range=(1.0, cat.CONN_TIMEOUT_UNITS[1] / 10),
        sources=("shared/reference/sequans.md §4-§9 (S2, S3, S6, S7, S8, S9)",
                 "forum.sequans.com/t/265 (seed 002): certValidLevel bits"),
    )


def check_cert_valid_level(level: int) -> int:
    """Refuse a raw ``certValidLevel`` the manual does not allow, saying why bit by bit
    (SQN-FORUM; sequans.md §5, §12 pitfalls 1 and 3).

    Args:
        level: the bit field, 0..255.

    Returns:
        int: ``level`` when it is 0, 1 or 5.

    Raises:
        ProfileError: bit 1 (unused), bits 3-7 (reserved), bit 2 without bit 0, or a value
            outside 0..255. The module would accept such a value with ``OK`` and fail every
            connection later (error 77 in the seed thread).
    """
    if isinstance(level, bool) or not isinstance(level, int):
        raise ProfileError(f"certValidLevel must be an integer, got {level!r}")
    problem = cat.cert_valid_level_problem(level)
    if problem is not None:
        raise ProfileError(
            f"certValidLevel {level} ({cat.describe_cert_valid_level(level & 0xFF)}) is not a "
            f"valid value: {problem}. The module accepts it with OK and then fails at connect "
            "time (+SQNHTTPCONNECT: <id>,77 in the seed thread); use 1 (chain and dates) or 5 "
            "(chain, dates and host name), or build it from a TlsProfile")
    return level


def level_for(profile: TlsProfile) -> int:
    """The ``certValidLevel`` of a profile: 0 without verification, 1 for the chain and dates,
    5 when the host name is checked too (SQN-FORUM)."""
    verify = profile.verify is not Verify.NONE
    return cat.cert_valid_level(verify=verify, check_hostname=verify and profile.check_hostname)


def http_rc_error(rc: int, text: str, *, host: str, port: int) -> CellTLSError:
    """The celltls error for an HTTP client result code ``rc`` other than 0 and a TLS one
    (libcurl numbering, sequans.md §8): 6 :class:`DNSError`, 7 :class:`ConnectionRefusedByServer`,
    28 :class:`ConnectTimeoutError`, 58 :class:`CredentialError`, 59 :class:`TLSNegotiationError`,
    35 :class:`TLSHandshakeError`, 60/77 :class:`CertificateVerifyError`, 52/55/56
    :class:`SocketError`, 1/3/47 :class:`HTTPError`, else :class:`NetworkError`.

    Args:
        rc: the code. text: the URC as received. host, port: the server, for the message.
    """
    meaning = cat.HTTP_RC.get(rc, "not in the libcurl list")
    where = f"{host}:{port}"
    said = f"{text}: {rc} = {meaning} (libcurl numbering, sequans.md §8)"
    if rc == 6:
        return DNSError(f"the module could not resolve {host!r} ({said})")
    if rc == 7:
        return ConnectionRefusedByServer(f"the module could not connect to {where} ({said})")
    if rc == 28:
        return ConnectTimeoutError(f"no answer from {where} in time ({said})")
    if rc == 58:
        return CredentialError(f"the module cannot use its client certificate or key ({said})")
    if rc == 59:
        return TLSNegotiationError(f"no common cipher suite with {where} ({said})", host=host,
                                   port=port, detail=text)
    if rc == 35:
        return TLSHandshakeError(f"the TLS handshake with {where} failed ({said})", host=host,
                                 port=port, detail=text)
    if rc in (60, 77):
        return CertificateVerifyError(
            f"the module could not verify the certificate of {where} ({said})", host=host,
            port=port, detail=text,
            evidence=["check that the CA stored at the profile's caCertificateID is the root of "
                      "the server's chain, that certValidLevel is 1 or 5, that the host name "
                      "is the one in the certificate, and the module's clock (AT+CCLK?)"])
    if rc in (52, 55, 56):
        return SocketError(f"the connection to {where} failed ({said})")
    if rc in (1, 3, 47):
        return HTTPError(f"the module's HTTP client refused the request ({said})")
    return NetworkError(f"the module's HTTP client failed ({said})")


def certificate_names(cert: x509.Certificate) -> list[str]:
    """DNS names and IP addresses of a certificate's subjectAltName, else its common names."""
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    assert isinstance(san, x509.SubjectAlternativeName)
    names: list[str] = list(san.get_values_for_type(x509.DNSName))
    names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return names


def name_matches(host: str, names: list[str]) -> bool:
    """Whether ``host`` is one of ``names`` (RFC 6125 6.4: case-insensitive, a ``*`` as the
    whole left-most label of a DNS name matches one label; addresses compare as addresses)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for name in names:
        if address is not None:
            with contextlib.suppress(ValueError):
                if ipaddress.ip_address(name) == address:
                    return True
            continue
        pattern, target = name.lower().rstrip("."), host.lower().rstrip(".")
        if pattern == target:
            return True
        if pattern.startswith("*.") and "." in target \
                and target.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def _split(text: str) -> list[str]:
    """The comma-separated fields of ``text``, quotes kept."""
    return [f.strip() for f in quoting.split_arguments(text)]


def _fields(text: str) -> list[str]:
    """The comma-separated fields after the ``:`` of a response or URC line, quotes kept."""
    return _split(text.split(":", 1)[1]) if ":" in text else []


def _int(text: str) -> int | None:
    with contextlib.suppress(ValueError):
        return int(text.strip().strip('"'))
    return None


class Sequans(Dialect):
    """Driver of Sequans Monarch and Monarch 2 modules.

    Args:
        channel: the AT channel.
        model: ``"gm02s"``, ``"gm01q"``... to skip detection from ``AT+CGMM``.
        probe_failures: probe the server from the host to explain a failed handshake.
        cid: the PDP context (1-16, sequans.md §3).
        sp_id: the security profile celltls configures (1-6, §5).
        http_profile: the HTTP client profile (0-2, §7).
        ca_index, cert_index, key_index: NV slots of the CA, client certificate and client key
            (0-19; the defaults 16-18 are outside the ranges reserved for Sequans and the
            pre-filled slots seen in L4: §4, §12 pitfall 8).
        guard_time: silence around an escape sequence, seconds: accepted like every driver's
            option, unused (sockets run in command mode, no ``+++``).

    Raises:
        UnsafeArgumentError: an option out of its range.
    """

    name = cat.DIALECT
    registration_command = "+CEREG"
    capabilities = capabilities_for(None)
    catalog = CATALOG
    retry_safe = _RETRY_SAFE

    def __init__(self, channel: ATChannel, *, model: str | None = None,
                 probe_failures: bool = True, cid: int = 1, sp_id: int = 1,
                 http_profile: int = 1, ca_index: int = 16, cert_index: int = 17,
                 key_index: int = 18, guard_time: float = 1.0) -> None:
        super().__init__(channel)
        quoting.integer(cid, "cid", *cat.CID)
        quoting.integer(sp_id, "sp_id", *cat.SP_ID)
        quoting.integer(http_profile, "http_profile", *cat.HTTP_PROFILE)
        for label, index in (("ca_index", ca_index), ("cert_index", cert_index),
                             ("key_index", key_index)):
            quoting.integer(index, label, *cat.NV_INDEX)
        self.model = model
        self._model_given = model is not None
        self.capabilities = capabilities_for(model)
        self.probe_failures = probe_failures
        self.guard_time = guard_time
        self.cid = cid
        self.sp_id = sp_id
        self.http_profile = http_profile
        self.nv_index = {"ca": ca_index, "client_cert": cert_index, "client_key": key_index}
        self._stored: dict[str, str] = {}
        self._sockets: dict[int, SequansSocket] = {}
        self._http_open = False
        self._clock_checked = False
        self._attached: tuple[str, str | None, str | None] | None = None
        #: the ``timeout`` of the session's last attach: bounds bringing the network back up
        self._attach_timeout = 60.0
        self._lock = threading.Lock()
        #: failures reported outside any command (a reboot), numbered so that a wait can tell
        #: what happened since it began.
        self._reboot_seen = False
        self._reboot_text = ""  # the line that reported the last restart
        channel.subscribe("+SQNSRING:", self._on_socket_urc)
        channel.subscribe("+SQNSH:", self._on_socket_urc)
        channel.subscribe("+SYSSTART", self._on_reboot)
        channel.subscribe("^EXIT:", self._on_reboot)

    # -- events outside commands -------------------------------------------------------------

    def _on_reboot(self, event: Urc | DataBlock) -> None:
        text = event.text if isinstance(event, Urc) else event.header
        self._rebooted(text)

    def _rebooted(self, text: str, where: str = "") -> ModuleRebootedError:
        """Record a reboot (``+SYSSTART`` or ``^EXIT``, sequans.md §2-§3) and fail every open
        socket with it: the module lost all of them."""
        error = ModuleRebootedError(
            f"the module restarted{where} ({text}); its sockets and HTTP sessions are gone "
            "(sequans.md §3, §12 pitfall 16)", urc=text)
        log.warning("module restarted: %s", text)
        self._reboot_seen = True
        self._reboot_text = text
        self._clock_checked = False
        self._report(error)
        with self._lock:
            sockets = list(self._sockets.values())
            self._sockets.clear()
            self._http_open = False
        for sock in sockets:
            sock._fail(error)
            sock._closed = True
        return error

    def _on_socket_urc(self, event: Urc | DataBlock) -> None:
        text = event.text if isinstance(event, Urc) else event.header
        fields = _fields(text)
        conn = _int(fields[0]) if fields else None
        if conn is None:
            log.warning("malformed URC %r", text)
            return
        with self._lock:
            sock = self._sockets.get(conn)
        if sock is None:
            log.info("%s for a socket this run did not open (left by an earlier run?)", text)
        elif text.startswith("+SQNSRING:"):
            sock._notify_ring()
        else:
            sock._notify_peer_closed()

    def _quietly(self, name: str, args: str = "") -> bool:
        """Send a clean-up command; a refusal is only logged. Returns whether it succeeded."""
        try:
            self.at(name, args)
            return True
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("AT%s=%s: %s", name, args, exc)
            return False

    # -- start of a session ------------------------------------------------------------------

    def initialise(self) -> dict[str, str]:
        """:meth:`sync`, echo off (``ATE0``), numeric errors and identification
        (``AT+CMEE=1``, ``AT+CGMM``, ``AT+CGMR``), then :meth:`recover`.

        Returns:
            dict: ``manufacturer``, ``model``, ``firmware`` (those the module reports).

        Raises:
            ATTimeoutError: the module does not answer in command mode.
        """
        self.sync()
        with contextlib.suppress(ATCommandError, ATTimeoutError):
            self.channel.command("ATE0", timeout=2)
        info = self.identify()
        with contextlib.suppress(ATCommandError, ATTimeoutError):
            maker = self.at("+CGMI").lines
            info["manufacturer"] = maker[0] if maker else ""
        if not self._model_given and info.get("model"):
            self.model = info["model"]
            self.capabilities = capabilities_for(self.model)
        self.recover()
        return info

    def sync(self, timeout: float = 30.0) -> None:
        """Prove the line is in command mode: ``AT`` must be answered ``OK``.

        A run killed inside a ``> `` data phase (``AT+SQNSSENDEXT``, ``AT+SQNSNVW``,
        ``AT+SQNHTTPSND``) leaves the module waiting for the rest of its bytes (sequans.md §2,
        §6); every ``AT`` is then taken as payload. Filler bytes are written until the data
        phase ends (the module answers it, then ``AT``), within ``timeout`` seconds.

        Raises:
            ATTimeoutError: no ``OK`` to ``AT`` within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        filler = 0
        while True:
            try:
                reply = self.channel.command("AT", timeout=1.5, check=False)
                if reply.final is not None and reply.final.ok:
                    if filler:
                        log.warning("a data phase left open by an earlier run was ended with "
                                    "%d filler bytes", filler)
                    return
            except ATTimeoutError:
                pass
            if time.monotonic() > deadline:
                raise ATTimeoutError(
                    "AT (the module does not answer in command mode: it may be inside a data "
                    "phase of an earlier run or rebooting; power-cycle it if this persists)",
                    timeout)
            # the pending data phase may wait for up to 8 kB (a certificate, §4) or 1500 bytes
            # (a send, §6): feed it, then ask again
            self.channel.write_raw(b"\n" * 4096)
            filler += 4096
            self.channel.abandon_data_phase()

    def recover(self) -> dict[str, list[int]]:
        """Close what an earlier host run left open in the module.

        Sockets are listed with ``AT+SQNSS?`` (``+SQNSS: <connId>,<state>,...``, state 0 =
        closed, sequans.md §6 S4) and closed with ``AT+SQNSH``; when the module does not list
        them, every id 1-6 is closed quietly. The HTTP profile is disconnected
        (``AT+SQNHTTPDISCONNECT``, §7); its state cannot be read (``AT+SQNHTTPCFG?`` line shape
        unknown, §13). Sockets this driver opened are kept.

        Returns:
            dict: ``{"sockets": [...], "http": [...]}``, the ids cleaned up.
        """
        with self._lock:
            own = set(self._sockets)
        listed = self.socket_states()
        if listed is None:
            stale = [conn for conn in range(cat.CONN_ID[0], cat.CONN_ID[1] + 1)
                     if conn not in own]
            for conn in stale:
                self._quietly("+SQNSH", arguments("+SQNSH", connId=conn))
            stale = []
        else:
            stale = [conn for conn, state in listed.items() if state != 0 and conn not in own]
            for conn in stale:
                log.warning("socket %d was left open by an earlier run (+SQNSS state %d: %s): "
                            "closing it", conn, listed[conn],
                            cat.SOCKET_STATE.get(listed[conn], "unknown"))
                self._quietly("+SQNSH", arguments("+SQNSH", connId=conn))
        http = []
        if not self._http_open and self._quietly(
                "+SQNHTTPDISCONNECT", arguments("+SQNHTTPDISCONNECT",
                                                prof_id=self.http_profile)):
            http.append(self.http_profile)
        self._reboot_seen = False
        return {"sockets": stale, "http": http}

    def socket_states(self) -> dict[int, int] | None:
        """``AT+SQNSS?``: connId -> state (sequans.md §6, S4), ``None`` when not answered."""
        try:
            reply = self.at("+SQNSS", "?", timeout=5)
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("AT+SQNSS? not answered (%s)", exc)
            return None
        states: dict[int, int] = {}
        for line in reply.lines:
            if line.startswith("+SQNSS:"):
                fields = _fields(line)
                conn = _int(fields[0]) if fields else None
                state = _int(fields[1]) if len(fields) > 1 else None
                if conn is not None and state is not None:
                    states[conn] = state
        return states

    def _before_use(self, *, network: bool = False) -> None:
        """Make the module ready for the next operation.

        After a restart reported while idle (``+SYSSTART``/``^EXIT``, sequans.md §3, §12
        pitfall 16): initialise the command line again and, when this session had attached,
        bring the network back up (the module boots with its radio off, ``CFUN=0``:
        SQN-FORUM via §3; the PDP context definition survives the restart, §3). With
        ``network`` (a request is about to need it), the radio and the registration are
        checked as well (:meth:`_ensure_network`).

        Args:
            network: bool, the next operation needs the network (a connection, a request).

        Raises:
            ModuleRebootedError: the module restarted and the network did not come back within
                the session's attach timeout (seconds).
            NetworkError: the radio is off or the module is not registered, and this session
                never attached (or the network did not come back).
            ATTimeoutError: the module does not answer in command mode.
        """
        if self._reboot_seen:
            self._initialise_again()
        if network:
            self._ensure_network()

    def _initialise_again(self) -> None:
        """The line set up again after a restart (echo off, numeric errors, clean-up), then
        the network when this session had attached (:meth:`_attach_again`)."""
        log.warning("the module restarted since the last request: initialising again")
        self.sync()
        with contextlib.suppress(ATCommandError, ATTimeoutError):
            self.channel.command("ATE0", timeout=2)
        self.at("+CMEE", arguments("+CMEE", n=1))
        self.recover()
        if self._attached is not None:
            self._attach_again(f"the module restarted ({self._reboot_text}, sequans.md §3)",
                               rebooted=True)

    def _attach_again(self, why: str, *, rebooted: bool) -> None:
        """:meth:`~celltls.dialects.base.Dialect.attach_again` with the session's APN,
        credentials and timeout (``AT+CFUN=1``, registration: :meth:`attach`).

        Raises:
            ModuleRebootedError: (``rebooted``) the network did not come back.
            NetworkError: (not ``rebooted``) the network did not come back.
        """
        assert self._attached is not None
        self.attach_again(why, *self._attached, self._attach_timeout,
                          restart_urc=self._reboot_text if rebooted else None)

    def _ensure_network(self) -> None:
        """Before a request: the radio on (``AT+CFUN?`` → 1) and the module registered
        (``AT+CEREG?`` stat 1 or 5), sequans.md §3.

        A radio found off although this session switched it on is most likely a restart whose
        ``+SYSSTART`` has not come yet: it is awaited for :data:`BOOT_REPORT_WAIT` seconds and
        the module set up again; otherwise the network is brought back up as :meth:`attach`
        does. An answer that cannot be read leaves the request to find out.

        Raises:
            ModuleRebootedError, NetworkError: as :meth:`_before_use`.
        """
        fun = self._cfun()
        if fun is not None and fun != 1:
            state = f"+CFUN: {fun}, {cat.CFUN.get(fun, 'unknown level')}"
            if self._attached is None:
                raise NetworkError(
                    f"the module's radio is off ({state}); a Sequans module starts that way "
                    "after a restart (sequans.md §3, SQN-FORUM): call attach() first")
            self._await_boot_report()
            if self._reboot_seen:
                self._initialise_again()
                return
            self._clock_checked = False  # an unreported restart also loses the clock (§3)
            self._attach_again(f"the module's radio was found off ({state}: restarted, or "
                               "switched off by another program)", rebooted=False)
            return
        try:
            stat, meaning = self.registration()
        except (ATCommandError, ATTimeoutError, ATProtocolError) as exc:
            log.info("AT+CEREG? before the request: %s", exc)
            return
        if stat in REGISTERED:
            return
        why = f"the module is not registered (+CEREG stat {stat}: {meaning})"
        if self._attached is not None:
            self._attach_again(why, rebooted=False)
            return
        try:
            self.wait_registered(self._attach_timeout)
        except NetworkError as exc:
            raise NetworkError(f"{why}; call attach() first ({exc})") from exc

    def _await_boot_report(self, wait: float = BOOT_REPORT_WAIT) -> None:
        """Wait up to ``wait`` seconds for a restart report (``+SYSSTART``, §3)."""
        deadline = time.monotonic() + wait
        while not self._reboot_seen and time.monotonic() < deadline:
            time.sleep(0.02)

    def _explain_refusal(self, mark: int) -> None:
        """After the module refused something that needs the network: raise the failure a URC
        reported since ``mark`` (a ``_trouble_seq`` value: a restart); else, when the radio is
        off (``+CFUN`` ≠ 1, as after a restart whose report has not come yet, §3), wait
        :data:`BOOT_REPORT_WAIT` seconds for that report and raise it, or a
        :class:`NetworkError` naming the radio state. Returns when the radio is on.

        Raises:
            ModuleRebootedError: the module restarted.
            NetworkError: the radio is off.
        """
        self._raise_trouble(mark)
        fun = self._cfun()
        if fun is None or fun == 1:
            return
        self._await_boot_report()
        self._raise_trouble(mark)
        raise NetworkError(f"the module's radio is off (+CFUN: {fun}, "
                           f"{cat.CFUN.get(fun, 'unknown level')}): it restarted or was "
                           "switched off (sequans.md §3)")

    def close_all(self) -> None:
        """Close every socket and the HTTP session this run opened; never raises for a module
        answer (sequans.md §6, §7)."""
        with self._lock:
            sockets = list(self._sockets.values())
            http_open = self._http_open
        for sock in sockets:
            try:
                sock.close()
            except (CellTLSError, OSError) as exc:
                log.info("closing socket %d: %s", sock.conn_id, exc)
        if http_open:
            with contextlib.suppress(CellTLSError, OSError):
                self._disconnect_http()

    # -- network -----------------------------------------------------------------------------

    def attach(self, apn: str, user: str | None = None, password: str | None = None,
               timeout: float = 60.0) -> NetworkStatus:
        """Define the PDP context and wait for EPS registration (sequans.md §3).

        ``AT+CGDCONT`` is valid only while not registered (S2): when the context already holds
        ``apn`` nothing is changed; otherwise the radio goes to ``AT+CFUN=4`` for the change.
        ``AT+CGAUTH`` is sent only with a user or password (empty PAP gives CME 50, S13).
        Then ``AT+CFUN=1``, ``AT+CEREG?`` until stat 1 or 5 (80 is a temporary loss) and the
        address with ``AT+CGPADDR=<cid>``. Attaching again is a no-op.

        Raises:
            UnsafeArgumentError: the APN, user or password cannot be sent (nothing is written).
            NetworkError: registration denied or not done in ``timeout`` seconds.
        """
        cgdcont = arguments("+CGDCONT", cid=self.cid, PDP_type="IP", APN=apn)
        auth: str | None = None
        auth_shown = ""
        if user is not None or password is not None:
            values: dict[str, Value] = {"cid": self.cid, "auth_prot": 1, "userid": user or "",
                                        "password": password or ""}
            auth = arguments("+CGAUTH", **values)
            auth_shown = "AT+CGAUTH=" + CATALOG.command("+CGAUTH").shown(**values)
        self._before_use()
        with contextlib.suppress(ATCommandError, ATTimeoutError):
            self.at("+CEREG", arguments("+CEREG", n=2))
        if self._context_apn() != apn:
            fun = self._cfun()
            if fun == 1:
                self.at("+CFUN", arguments("+CFUN", fun=4))
            self.at("+CGDCONT", cgdcont)
            if auth is not None:
                self.at("+CGAUTH", auth, shown=auth_shown)
            self.at("+CFUN", arguments("+CFUN", fun=1))
        elif self._cfun() != 1:
            if auth is not None:
                self.at("+CGAUTH", auth, shown=auth_shown)
            self.at("+CFUN", arguments("+CFUN", fun=1))
        stat, meaning = self.wait_registered(timeout)
        self._attached = (apn, user, password)
        self._attach_timeout = timeout
        deadline = time.monotonic() + min(timeout, 20.0)
        address = self._pdp_address()
        while address is None and time.monotonic() < deadline:
            time.sleep(0.5)
            address = self._pdp_address()
        return NetworkStatus(True, (stat, meaning), address, apn)

    def registration(self) -> tuple[int, str]:
        """``AT+CEREG?`` → ``(stat, meaning)`` with the Sequans stat 80 named (sequans.md §3).

        Raises:
            ATProtocolError: the answer has no numeric <stat>.
        """
        stat, meaning = super().registration()
        return stat, cat.CEREG_STAT.get(stat, meaning)

    def _cfun(self) -> int | None:
        with contextlib.suppress(ATCommandError, ATTimeoutError, ATProtocolError):
            reply = self.at("+CFUN", "?")
            return _int(_split(reply.first("+CFUN:"))[0])
        return None

    def _context_apn(self) -> str | None:
        """The APN of context ``cid`` from ``AT+CGDCONT?`` (27.007 10.1.1), or ``None``."""
        try:
            reply = self.at("+CGDCONT", "?")
        except (ATCommandError, ATTimeoutError):
            return None
        for line in reply.lines:
            if line.startswith("+CGDCONT:"):
                fields = _fields(line)
                if fields and _int(fields[0]) == self.cid and len(fields) > 2:
                    return quoting.unquote(fields[2])
        return None

    def _pdp_address(self) -> str | None:
        """``AT+CGPADDR=<cid>`` → ``+CGPADDR: <cid>,"<ip>"`` (sequans.md §3, S11)."""
        try:
            reply = self.at("+CGPADDR", arguments("+CGPADDR", cid=self.cid))
            fields = _split(reply.first("+CGPADDR:"))
        except (ATCommandError, ATTimeoutError, ATProtocolError):
            return None
        address = quoting.unquote(fields[1]) if len(fields) > 1 else ""
        return address if address and address not in ("0.0.0.0", "0") else None

    # -- credentials -------------------------------------------------------------------------

    def _slot(self, kind: CredentialKind, name: str | None) -> tuple[str, int]:
        data_type = "privatekey" if kind == "client_key" else "certificate"
        if name is None:
            return data_type, self.nv_index[kind]
        base, _, index_text = name.partition(":")
        if base != data_type or not index_text.isdigit():
            raise CredentialError(f"{name!r}: a {kind} is named {data_type}:<index> (NV index "
                                  f"0-19, sequans.md §4)")
        index = int(index_text)
        if not cat.NV_INDEX[0] <= index <= cat.NV_INDEX[1]:
            raise CredentialError(f"{name!r}: NV indexes are 0-19 (sequans.md §4)")
        if index in cat.RESERVED_NV_INDEXES:
            log.warning("NV index %d is reserved for Sequans on Monarch 2 (sequans.md §4); "
                        "writing there may overwrite a pre-installed root", index)
        return data_type, index

    def store_credential(self, kind: CredentialKind, data: bytes, name: str | None = None
                         ) -> StoredCredential:
        """Store a CA, client certificate or client key in NV memory (``AT+SQNSNVW``, the
        ``> `` prompt, exactly ``<size>`` bytes; sequans.md §4), skipped when the slot already
        holds the same certificate (``AT+SQNSNVR`` fingerprint) or this session stored the
        same bytes. CRs are removed before sending, so ``<size>`` counts what is sent (§4, §12
        pitfall 7). A private key is never logged or traced (secret payload).

        Args:
            kind: ``"ca"``, ``"client_cert"`` or ``"client_key"``.
            data: PEM bytes.
            name: ``"certificate:<index>"`` or ``"privatekey:<index>"``; by default the
                driver's ``ca_index``/``cert_index``/``key_index``.

        Returns:
            StoredCredential: named ``certificate:<index>``, ``uploaded`` false when skipped.

        Raises:
            CredentialError: a bad name, not PEM, too large (8 kB certificate, 2 kB key), the
                module refused it, or the read-back fingerprint differs.
        """
        data_type, index = self._slot(kind, name)
        target = f"{data_type}:{index}"
        payload = data.replace(b"\r", b"")
        limit = cat.MAX_PRIVATE_KEY if data_type == "privatekey" else cat.MAX_CERTIFICATE
        if not payload.lstrip().startswith(b"-----BEGIN "):
            raise CredentialError(f"{target}: the module stores PEM text only (sequans.md §4)")
        if not 0 < len(payload) <= limit:
            raise CredentialError(f"{target}: {len(payload)} bytes; a {data_type} may hold "
                                  f"at most {limit} bytes (Monarch 2 manual via sequans.md §4)")
        digest = hashlib.sha256(payload).hexdigest()
        if self._stored.get(target) == digest:
            return StoredCredential(target, kind, len(payload), digest, uploaded=False)
        prints = _fingerprints(payload) if data_type == "certificate" else set()
        self._before_use()
        if prints and self._slot_fingerprints(data_type, index) & prints:
            log.info("%s already holds this certificate: upload skipped", target)
            self._stored[target] = digest
            return StoredCredential(target, kind, len(payload), digest, uploaded=False)
        args = arguments("+SQNSNVW", data_type=data_type, index=index, size=len(payload))
        try:
            self.at("+SQNSNVW", args, payload=payload,
                    secret_payload=data_type == "privatekey")
        except ATCommandError as exc:
            raise CredentialError(f"the module refused {target} ({exc}); it takes PEM text, "
                                  f"at most {limit} bytes, no password-protected key") from exc
        if prints:
            found = self._slot_fingerprints(data_type, index)
            if found and not found & prints:
                raise CredentialError(f"{target} was stored corrupted: the module reports "
                                      f"fingerprint {sorted(found)[0]}, not the certificate's")
        self._stored[target] = digest
        return StoredCredential(target, kind, len(payload), digest, uploaded=True)

    def _slot_fingerprints(self, data_type: str, index: int) -> set[str]:
        """Hex fingerprints in ``AT+SQNSNVR=<type>,<index>``'s line (L4: SHA-1); an empty slot
        answers ``ERROR`` (L5): the empty set."""
        try:
            reply = self.at("+SQNSNVR", arguments("+SQNSNVR", data_type=data_type, index=index))
        except (ATCommandError, ATTimeoutError):
            return set()
        found: set[str] = set()
        for line in reply.lines:
            if line.startswith("+SQNSNVR:"):
                for field in _fields(line):
                    match = _FINGERPRINT.match(field)
                    if match:
                        found.add(match.group(1).lower())
        return found

    def delete_credential(self, name: str) -> None:
        """``AT+SQNSNVW=<type>,<index>,0`` (size 0 deletes, no prompt; sequans.md §4, S1).

        Raises:
            CredentialError: a bad name. ATCommandError: the module refused.
        """
        base = name.partition(":")[0]
        kind: CredentialKind = "client_key" if base == "privatekey" else "ca"
        data_type, index = self._slot(kind, name)
        self.at("+SQNSNVW", arguments("+SQNSNVW", data_type=data_type, index=index, size=0),
                data_phase=None)
        self._stored.pop(f"{data_type}:{index}", None)

    # -- security profile --------------------------------------------------------------------

    def apply_profile(self, profile: TlsProfile) -> int:
        """Store the profile's credentials and configure security profile ``sp_id``
        (``AT+SQNSPCFG``, every field, sequans.md §5) with ``certValidLevel`` built from the
        profile (:func:`level_for`).

        Returns:
            int: the ``<spId>``.

        Raises:
            ProfileError: a version, suite or combination the module lacks: bit 0 checks the
                chain and the dates together, so verification without a date check cannot be
                asked.
            CredentialError: see :meth:`store_credential`.
        """
        allowed = profile.versions(self.capabilities.tls_versions)
        if not allowed:
            raise ProfileError("none of the profile's TLS versions is one the module speaks ("
                               + ", ".join(v.label for v in self.capabilities.tls_versions) + ")")
        version = TlsVersion.TLS1_2 if TlsVersion.TLS1_2 in allowed else max(allowed)
        ciphers = ""
        if profile.cipher_suites is not None:
            unknown = [c for c in profile.cipher_suites
                       if c not in self.capabilities.cipher_suites]
            if unknown:
                raise ProfileError("no cipher suite " + ", ".join(f"0x{c:04X}" for c in unknown)
                                   + " on Sequans modules (sequans.md §9)")
            ciphers = ";".join(f"0x{c:04X}" for c in profile.cipher_suites)
        if profile.verify is not Verify.NONE and not profile.check_time:
            raise ProfileError("certValidLevel bit 0 checks the chain and the validity dates "
                               "together (SQN-FORUM); the module cannot skip the date check. "
                               "Set the module's clock (AT+CCLK) instead of check_time=False")
        profile.warn_if_insecure("Sequans TLS")
        if profile.verify is not Verify.NONE and not self._clock_checked:
            self.ensure_clock()
        ca_id = cc_id = ck_id = None
        if profile.verify is not Verify.NONE and profile.ca is not None:
            ca_id = int(self.store_credential("ca", profile.ca.pem).name.split(":")[1])
        if profile.client_cert is not None and profile.client_key is not None:
            cc_id = int(self.store_credential("client_cert", profile.client_cert.pem)
                        .name.split(":")[1])
            ck_id = int(self.store_credential("client_key", profile.client_key.pem)
                        .name.split(":")[1])
        self.configure_security_profile(
            self.sp_id, version=version.value - TlsVersion.TLS1_0.value, ciphers=ciphers,
            cert_valid_level=level_for(profile), ca_index=ca_id, cert_index=cc_id,
            key_index=ck_id)
        return self.sp_id

    def ensure_clock(self, now: datetime | None = None) -> datetime | None:
        """Read the module's clock (``AT+CCLK?``, ``"yy/MM/dd,hh:mm:ss±zz"``) and set it from
        the host's UTC time when it is unset: an unset clock reads ``70/01/01`` and makes
        every certificate look not yet valid to ``certValidLevel`` bit 0 (sequans.md §3, §12
        pitfall 4). A module that does not answer is logged, not refused.

        Args:
            now: the time to set (default: the host's clock, UTC).

        Returns:
            datetime | None: the module's clock as read (UTC), or ``None`` when unreadable.
        """
        self._clock_checked = True
        try:
            text = quoting.unquote(self.at("+CCLK", "?").first("+CCLK:"))
            clock = datetime.strptime(text[:17], "%y/%m/%d,%H:%M:%S").replace(tzinfo=UTC)
            quarter = int(text[17:]) if len(text) > 17 else 0
        except (ATCommandError, ATTimeoutError, ATProtocolError, ValueError) as exc:
            log.info("the module's clock cannot be read (%s)", exc)
            return None
        clock -= timedelta(minutes=15 * quarter)
        if clock.year >= 2020 and not text.startswith("70/"):
            return clock
        when = (now or datetime.now(UTC)).astimezone(UTC)
        log.warning("the module's clock is unset (+CCLK: %s); setting it from the host "
                    "(%s UTC) so that certificate dates can be checked", text, when)
        self.at("+CCLK", arguments("+CCLK", time=when.strftime("%y/%m/%d,%H:%M:%S+00")))
        return clock

    def configure_security_profile(
        self, sp_id: int, *, version: int = 2, ciphers: str = "", cert_valid_level: int,
        ca_index: int | None = None, cert_index: int | None = None,
        key_index: int | None = None, psk: str | None = None, psk_identity: str | None = None,
    ) -> str:
        """``AT+SQNSPCFG=<spId>,<version>,"<cipherSpecs>",<certValidLevel>,<ca>,<cc>,<ck>,
        "<psk>","<pskIdentity>",0,0,0`` (sequans.md §5), then the module's echo line is
        compared with what was sent.

        Args:
            sp_id: 1-6. version: 0 TLS 1.0 … 3 TLS 1.3. ciphers: ``"0xC02F;0x009C"`` or ``""``.
            cert_valid_level: the bit field, refused unless 0, 1 or 5
                (:func:`check_cert_valid_level`).
            ca_index, cert_index, key_index: NV indexes or ``None``.
            psk, psk_identity: hex key and identity (never logged), or ``None``.

        Returns:
            str: the echo line, or ``""`` when the module printed none.

        Raises:
            ProfileError: an invalid ``certValidLevel`` (explained bit by bit), or the echo
                shows other values than those sent.
            UnsafeArgumentError: a value the command's form does not accept.
        """
        check_cert_valid_level(cert_valid_level)
        if cert_valid_level & cat.CVL_VERIFY and ca_index is None:
            raise ProfileError("certValidLevel bit 0 needs a CA (caCertificateID): store the "
                               "server's root CA first")
        values: dict[str, Value] = {
            "spId": sp_id, "version": version, "cipherSpecs": ciphers,
            "certValidLevel": str(cert_valid_level), "caCertificateID": ca_index,
            "clientCertificateID": cert_index, "clientPrivateKeyID": key_index,
            "psk": psk or "", "pskIdentity": psk_identity or "", "storageId": 0, "resume": 0,
            "lifetime": 0}
        command = CATALOG.command("+SQNSPCFG")
        args = command.build(**values)
        shown = "AT+SQNSPCFG=" + (command.shown(**values) if psk else args)
        reply = self.at("+SQNSPCFG", args, shown=shown)
        echo = next((line for line in reply.lines if line.startswith("+SQNSPCFG:")), "")
        if echo:
            fields = _fields(echo)
            sent = {1: str(version), 3: str(cert_valid_level),
                    4: "" if ca_index is None else str(ca_index)}
            for position, expected in sent.items():
                got = quoting.unquote(fields[position]) if len(fields) > position else ""
                if got != expected:
                    raise ProfileError(
                        f"security profile {sp_id}: the module echoed {echo!r}; field "
                        f"{position + 1} is {got!r}, {expected!r} was sent")
        else:
            log.info("AT+SQNSPCFG: no echo line (sequans.md §5 shows one); not checked")
        return echo

    # -- TLS failures ------------------------------------------------------------------------

    def _tls_failure(self, host: str, port: int, profile: TlsProfile, reported: str,
                     rc: int | None) -> CellTLSError:
        """The most specific error for a failed TLS connection: with probing, the host looks
        at the server (:mod:`celltls.tlsprobe`) and, when the chain is fine but the profile
        checks host names, compares the certificate's names with ``host``; without it,
        :func:`http_rc_error` for a known code."""
        if self.probe_failures:
            error = explain_failure(host, port, self.capabilities, profile, reported=reported,
                                    do_probe=True)
            if type(error) is TLSHandshakeError and profile.hostname_checked:
                result = probe(host, port, self.capabilities, profile)
                if result.chain:
                    names = certificate_names(result.chain[0].cert)
                    if not name_matches(host, names):
                        return HostnameMismatchError(
                            f"the certificate of {host}:{port} was not issued for {host!r} "
                            f"(it names {', '.join(names) or 'nothing'}); the module refused "
                            f"it (certValidLevel bit 2 checks the host name)", names=names,
                            host=host, port=port, detail=reported,
                            evidence=[f"the module reported {reported!r}"])
            if type(error) is TLSHandshakeError and rc in (60, 77):
                return http_rc_error(rc, reported, host=host, port=port)
            return error
        if rc is not None:
            return http_rc_error(rc, reported, host=host, port=port)
        return explain_failure(host, port, self.capabilities, profile, reported=reported,
                               do_probe=False)

    # -- sockets -----------------------------------------------------------------------------

    def tls_connect(self, host: str, port: int, profile: TlsProfile, *, timeout: float = 60.0,
                    transparent: bool = False) -> SecureSocket:
        """Open a TLS socket in command mode (sequans.md §6): ``AT+SQNSCFG`` (context,
        ``<connTo>`` from ``timeout``), ``AT+SQNSCFGEXT=<id>,1,0,0`` (``+SQNSRING`` with a
        count, raw data), ``AT+SQNSSCFG=<id>,1,<spId>``, ``AT+SQNSD=<id>,0,<port>,"<host>",0,0,1``
        (``OK`` once connected).

        Raises:
            ProfileError: transparent mode, or see :meth:`apply_profile`.
            SocketError: all six sockets are in use.
            CertificateVerifyError (HostnameMismatchError...), TLSNegotiationError,
            TLSHandshakeError, DNSError, ConnectionRefusedByServer, ConnectTimeoutError: the
                connection failed (explained by probing from the host when allowed).
            ModuleRebootedError: the module restarted meanwhile, or restarted before and the
                network did not come back within the attach timeout.
            NetworkError: the radio is off (``+CFUN`` ≠ 1) or the module is not registered,
                and the network could not be brought up (sequans.md §3).
        """
        if transparent:
            raise ProfileError("celltls drives Sequans sockets in command mode only")
        with self._lock:
            free = [c for c in range(cat.CONN_ID[0], cat.CONN_ID[1] + 1)
                    if c not in self._sockets]
        if not free:
            raise SocketError("all six Sequans sockets are in use (sequans.md §6)")
        conn = free[0]
        units = max(10, min(cat.CONN_TIMEOUT_UNITS[1], round(timeout * 10)))
        # every value is checked before the first byte is written
        cfg = arguments("+SQNSCFG", connId=conn, cid=self.cid, pktSz=0, maxTo=0, connTo=units,
                        txTo=50)
        ext = arguments("+SQNSCFGEXT", connId=conn, srMode=1, recvDataMode=0, keepalive=0)
        dial = arguments("+SQNSD", connId=conn, txProt=0, rPort=port, IPaddr=host,
                         closureType=0, lPort=0, connMode=1)
        self._before_use(network=True)
        sp_id = self.apply_profile(profile)
        self.at("+SQNSCFG", cfg)
        self.at("+SQNSCFGEXT", ext)
        self.at("+SQNSSCFG", arguments("+SQNSSCFG", connId=conn, enable=1, spId=sp_id))
        sock = SequansSocket(self, conn, host, port)
        with self._lock:
            self._sockets[conn] = sock
        mark = self._trouble_seq
        try:
            self.at("+SQNSD", dial, timeout=units / 10 + 10)
        except ATCommandError as exc:
            self._forget_socket(conn)
            self._quietly("+SQNSH", arguments("+SQNSH", connId=conn))
            self._explain_refusal(mark)  # a restart, the radio off: not the server's doing
            raise self._tls_failure(host, port, profile, exc.command + ": " + " ".join(
                exc.response or [str(exc)]), None) from exc
        except BaseException:
            self._forget_socket(conn)
            self._quietly("+SQNSH", arguments("+SQNSH", connId=conn))
            raise
        return sock

    def _forget_socket(self, conn: int) -> None:
        with self._lock:
            self._sockets.pop(conn, None)

    # -- native HTTP -------------------------------------------------------------------------

    def native_request(self, method: str, url: str, *, profile: TlsProfile,
                       headers: list[tuple[str, str]], body: Body, timeout: float
                       ) -> BaseResponse:
        """The module's HTTP client (sequans.md §7): ``AT+SQNHTTPCFG`` (HTTPS with security
        profile ``sp_id``), ``AT+SQNHTTPCONNECT`` and its URC, ``AT+SQNHTTPQRY`` (GET, HEAD,
        DELETE) or ``AT+SQNHTTPSND`` (POST, PUT, body after ``> ``), ``+SQNHTTPRING``, then the
        body with ``AT+SQNHTTPRCV`` as the response is read.

        The module writes Host, Content-Length and Content-Type itself (``<post_param>``: one of
        five types); it takes one extra header line. It exposes no response header but the
        Content-Type, so a body digest sent by the server cannot be checked on this path: bytes
        changed on the serial line after the module's TLS go unnoticed here, while the socket
        path (``via="socket"``, the default) checks ``Content-Digest``.

        Raises:
            ProfileError: a method, Content-Type or header set the module cannot send.
            UnsafeArgumentError: a value that cannot go on a command line (nothing written).
            CertificateVerifyError, TLSNegotiationError, TLSHandshakeError, DNSError,
            ConnectionRefusedByServer, ConnectTimeoutError, SocketError, HTTPError: the
                ``<rc>`` of ``+SQNHTTPCONNECT``/``+SQNHTTPSH`` (libcurl numbering, §8), the
                radio being on.
            ModuleRebootedError: the module restarted meanwhile, or restarted before and the
                network did not come back within the attach timeout.
            NetworkError: the radio is off (``+CFUN`` ≠ 1) or the module is not registered,
                and the network could not be brought up (sequans.md §3).
        """
        method = method.upper()
        log.warning("the module's HTTP client passes on no response header but Content-Type: "
                    "the body's integrity on the serial line cannot be checked on this path "
                    "(a changed byte would go unnoticed); via='socket' checks Content-Digest")
        if method not in ("GET", "HEAD", "DELETE", "POST", "PUT"):
            raise ProfileError(f"the module's HTTP client has no {method} (sequans.md §7: GET, "
                               "HEAD, DELETE, POST, PUT)")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or 443
        resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        content_type: str | None = None
        extra: list[str] = []
        for key, value in headers:
            low = key.lower()
            if low in ("host", "content-length", "connection"):
                continue
            if low == "content-type":
                content_type = value.split(";")[0].strip().lower()
                continue
            extra.append(f"{key}: {value}")
        if len(extra) > 1:
            raise ProfileError("the module's HTTP client takes one extra header line "
                               f"(sequans.md §7); {len(extra)} were given: "
                               + ", ".join(h.split(":")[0] for h in extra))
        header_line = extra[0] if extra else None
        payload = (body_bytes(body) or b"") if method in ("POST", "PUT") else b""
        post_param: int | None = None
        if method in ("POST", "PUT"):
            types = {v: k for k, v in cat.POST_PARAM.items()}
            if content_type is None:
                post_param = 2  # application/octet-stream
            elif content_type in types:
                post_param = types[content_type]
            else:
                raise ProfileError(f"the module's HTTP client sends one of {sorted(types)} as "
                                   f"Content-Type (<post_param>, sequans.md §7), not "
                                   f"{content_type!r}")
        max_to = max(1, min(65535, round(timeout)))
        cfg = arguments("+SQNHTTPCFG", prof_id=self.http_profile, server_address=host,
                        server_port=port, auth_type=0, username="", password="", ssl_enabled=1,
                        max_to_sec=max_to, cid=self.cid, spId=self.sp_id)
        if method in ("POST", "PUT"):
            request_args = arguments(
                "+SQNHTTPSND", prof_id=self.http_profile,
                command=0 if method == "POST" else 1, resource=resource,
                data_len=len(payload), post_param=post_param, extra_header_line=header_line)
        else:
            request_args = arguments(
                "+SQNHTTPQRY", prof_id=self.http_profile,
                command={"GET": 0, "HEAD": 1, "DELETE": 2}[method], resource=resource,
                extra_header_line=header_line)
        self._before_use(network=True)
        self.apply_profile(profile)
        prof = self.http_profile
        self.at("+SQNHTTPCFG", cfg)
        mark = self._trouble_seq
        self._connect_http(host, port, profile, timeout)
        waiter = self.channel.expect_urc(
            lambda t: t.startswith((f"+SQNHTTPRING: {prof},", f"+SQNHTTPSH: {prof},")))
        try:
            if method in ("POST", "PUT"):
                self.at("+SQNHTTPSND", request_args, payload=payload, timeout=timeout)
            else:
                self.at("+SQNHTTPQRY", request_args)
            text = self.wait_urc(waiter, timeout, f"+SQNHTTPRING: {prof} ({method} {resource})")
            if text.startswith("+SQNHTTPSH"):
                self._explain_refusal(mark)
                raise self._http_failure(text, host, port, profile)
            fields = _fields(text)
            status = _int(fields[1]) if len(fields) > 1 else None
            size = _int(fields[3]) if len(fields) > 3 else None
            if status is None or size is None or size < 0:
                raise ATProtocolError(f"malformed {text!r} (sequans.md §7: +SQNHTTPRING: "
                                      "<prof_id>,<http_status>,\"<content_type>\",<data_size>)")
            if status == 0:
                # the request failed; the reason comes in +SQNHTTPSH (sequans.md §7, S6)
                try:
                    reason = self.wait_urc(waiter, 3.0, f"+SQNHTTPSH: {prof}")
                except ATTimeoutError:
                    reason = ""
                if reason.startswith("+SQNHTTPSH"):
                    raise self._http_failure(reason, host, port, profile)
                raise HTTPError(f"{text}: the module's HTTP request failed (status 0) and "
                                "gave no reason")
        except BaseException:
            with contextlib.suppress(CellTLSError, OSError):
                self._disconnect_http()
            raise
        finally:
            self.channel.forget(waiter)
        ctype = quoting.unquote(fields[2]) if len(fields) > 2 else ""
        return SequansHTTPResponse(self, method, status, ctype, size, timeout)

    def _connect_http(self, host: str, port: int, profile: TlsProfile, timeout: float) -> None:
        """``AT+SQNHTTPCONNECT=<prof>``: ``OK`` at once, the outcome as ``+SQNHTTPCONNECT:
        <prof>,<rc>`` (then ``+SQNHTTPSH`` on failure; sequans.md §7, S1). A module that
        refuses the command is left to connect with the query itself (S4, S6)."""
        prof = self.http_profile
        mark = self._trouble_seq
        waiter = self.channel.expect_urc(
            lambda t: t.startswith((f"+SQNHTTPCONNECT: {prof},", f"+SQNHTTPSH: {prof},")))
        try:
            try:
                self.at("+SQNHTTPCONNECT", arguments("+SQNHTTPCONNECT", prof_id=prof))
            except ATCommandError as exc:
                log.info("AT+SQNHTTPCONNECT refused (%s): the query connects by itself", exc)
                return
            with self._lock:
                self._http_open = True
            try:
                text = self.wait_urc(waiter, timeout, f"+SQNHTTPCONNECT: {prof}")
            except ATTimeoutError as exc:
                raise ConnectTimeoutError(f"no HTTPS connection to {host}:{port} within "
                                          f"{timeout:g} s (no +SQNHTTPCONNECT)") from exc
            fields = _fields(text)
            rc = _int(fields[1]) if len(fields) > 1 else None
            if rc != 0:
                self._explain_refusal(mark)  # a restart, the radio off: not the server's doing
                raise self._http_failure(text, host, port, profile)
        except BaseException:
            with contextlib.suppress(CellTLSError, OSError):
                self._disconnect_http()
            raise
        finally:
            self.channel.forget(waiter)

    def _http_failure(self, text: str, host: str, port: int,
                      profile: TlsProfile) -> CellTLSError:
        """The error of a ``+SQNHTTPCONNECT``/``+SQNHTTPSH`` line with ``<rc>`` ≠ 0."""
        fields = _fields(text)
        rc = _int(fields[1]) if len(fields) > 1 else None
        if rc in (35, 59, 60, 77):
            error = self._tls_failure(host, port, profile, text, rc)
            if isinstance(error, TLSError) and rc == 77:
                error.evidence.append(
                    f"error 77 (libcurl CA certificate problem) with certValidLevel "
                    f"{level_for(profile)} ({cat.describe_cert_valid_level(level_for(profile))})")
            return error
        if rc is None:
            return ATProtocolError(f"malformed {text!r}")
        return http_rc_error(rc, text, host=host, port=port)

    def _disconnect_http(self) -> None:
        """``AT+SQNHTTPDISCONNECT=<prof>`` (sequans.md §7, S3, S4), refusals logged."""
        with self._lock:
            self._http_open = False
        self._quietly("+SQNHTTPDISCONNECT",
                      arguments("+SQNHTTPDISCONNECT", prof_id=self.http_profile))

    def read_http_body(self, size: int, timeout: float) -> Generator[bytes, None, None]:
        """``AT+SQNHTTPRCV=<prof>``: ``CR LF <<<``, exactly ``size`` body bytes (the
        ``<data_size>`` of ``+SQNHTTPRING``), ``CR LF OK CR LF`` (sequans.md §2, §7, L1).

        The answer has no length field and no line end after the marker, so it is read in raw
        mode and counted; the trailer must follow the last byte.

        Raises:
            ATCommandError: the module refused the command.
            ModuleRebootedError: ``+SYSSTART``/``^EXIT`` in the data.
            TransferTimeoutError: the body stalled for ``timeout`` seconds.
            ATProtocolError: no ``<<<`` marker, or no ``OK`` right after the body.
        """
        line = "AT+SQNHTTPRCV=" + arguments("+SQNHTTPRCV", prof_id=self.http_profile)
        channel = self.channel
        channel.command("AT", timeout=5)  # a quiet, synchronised line (resyncs if needed)
        self._drain_raw()
        channel.cancel_data_phase_end()
        # The AT core frames length-delimited blocks after a header line and data phases after
        # CONNECT; this answer is neither, so the line is switched to raw data before the
        # command is written (no command is pending: the AT above completed).
        channel.enter_data_phase()
        seq = self._trouble_seq
        finished = False
        try:
            channel.write_raw(line.encode("ascii") + b"\r")
            buf = bytearray()
            deadline = time.monotonic() + timeout
            while True:  # up to the marker (an echo may come first)
                at = buf.find(cat.HTTP_BODY_MARKER)
                if at >= 0:
                    del buf[: at + len(cat.HTTP_BODY_MARKER)]
                    break
                failed = _RAW_ERROR.search(buf)
                if failed:
                    text = failed.group(1).decode("ascii", "replace")
                    raise ATCommandError(line, [text], kind="CME" if "CME" in text else "ERROR",
                                         code=_int(text.split(":")[-1]) if "CME" in text
                                         else None)
                if len(buf) > 256:
                    raise ATProtocolError(f"{line}: {bytes(buf[:80])!r}... instead of "
                                          "CR LF <<< (sequans.md §2)")
                buf += self._raw_chunk(buf, deadline, timeout, line)
            left = size
            recent = b""  # the last body bytes, where a reboot report or an early end shows
            while True:
                if buf and left:
                    piece = bytes(buf[:left])
                    del buf[: len(piece)]
                    left -= len(piece)
                    deadline = time.monotonic() + timeout
                    recent = (recent + piece)[-64:]
                    try:
                        yield piece
                    except GeneratorExit:
                        # the reader stopped early: let the rest of the answer pass in raw
                        # mode, so that no body byte is ever parsed as a line
                        self._skip_raw(left + len(cat.HTTP_BODY_END) - len(buf), line)
                        finished = True
                        raise
                    continue
                if not left:
                    break
                buf += self._raw_chunk(recent, deadline, timeout, line, received=size - left,
                                       expected=size)
            end = cat.HTTP_BODY_END
            while len(buf) < len(end):
                buf += self._raw_chunk(buf, deadline, timeout, line)
            if bytes(buf[: len(end)]) != end:
                raise ATProtocolError(
                    f"{line}: {size} body bytes were followed by {bytes(buf[:16])!r}, not "
                    "CR LF OK CR LF: the body and +SQNHTTPRING's <data_size> disagree")
            finished = True
            rest = bytes(buf[len(end):])
        finally:
            channel.abandon_data_phase()  # back to command mode; the next command resyncs
            if not finished:
                self._raise_trouble(seq)
        rest += self._drain_raw()
        if rest.strip():
            log.info("after the body of %s: %r", line, rest[:200])
            reboot = _RAW_REBOOT.search(rest)
            if reboot:
                self._rebooted(reboot.group(1).decode("ascii", "replace"))

    def _skip_raw(self, count: int, line: str, quiet: float = 2.0) -> None:
        """Read and drop ``count`` raw bytes, giving up after ``quiet`` seconds without one."""
        while count > 0:
            try:
                data = self.channel.read_raw(min(count, 65536), quiet)
            except (ATTimeoutError, CellTLSError):
                log.warning("%s: %d bytes of the abandoned answer did not come", line, count)
                return
            if not data:
                return
            count -= len(data)

    def _raw_chunk(self, tail: bytes | bytearray, deadline: float, timeout: float, line: str,
                   *, received: int | None = None, expected: int | None = None) -> bytes:
        """The next raw bytes, waiting until ``deadline``.

        After :data:`RAW_QUIET` seconds without a byte, the last bytes seen (``tail``) are
        looked at: a reboot report (``+SYSSTART``, ``^EXIT``: printed in command mode, so it
        lands in the raw data, sequans.md §2-§3) ends the wait with
        :class:`ModuleRebootedError`; during the body (``received`` given), ``CR LF OK CR LF``
        means the module ended the answer before ``<data_size>`` bytes
        (:class:`PartialBodyError`). A reboot reported by a URC ends it too.
        """
        seq = self._trouble_seq
        since = time.monotonic()
        while True:
            try:
                data = self.channel.read_raw(65536, 0.25)
            except ATTimeoutError:
                self._raise_trouble(seq)
                quiet = time.monotonic() - since >= RAW_QUIET
                recent = bytes(tail[-64:])
                reboot = _RAW_REBOOT.search(recent) if quiet else None
                if reboot:
                    raise self._rebooted(reboot.group(1).decode("ascii", "replace"),
                                         f" during {line}") from None
                if quiet and received is not None and recent.endswith(cat.HTTP_BODY_END):
                    got = received - len(cat.HTTP_BODY_END)
                    raise PartialBodyError(
                        f"{line}: the module ended the body after {got} of the {expected} bytes "
                        "+SQNHTTPRING announced", received=got, expected=expected) from None
                if time.monotonic() > deadline:
                    if received is not None:
                        raise TransferTimeoutError(
                            f"{line}: the body stalled after {received} of {expected} bytes "
                            f"for {timeout:g} s", phase="receive", timeout=timeout) from None
                    raise ATTimeoutError(line, timeout) from None
                continue
            if not data:
                raise ATProtocolError(f"{line}: raw data ended before the answer did")
            return data

    def _drain_raw(self) -> bytes:
        """Raw bytes an earlier data phase left in the channel (never taken for new data)."""
        out = b""
        while True:
            try:
                stale = self.channel.read_raw(1 << 20, 0)
            except ATTimeoutError:
                return out
            if not stale:
                return out
            out += stale


def _fingerprints(pem: bytes) -> set[str]:
    """SHA-1 and SHA-256 fingerprints (lower-case hex) of every certificate in ``pem``."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        return set()
    out: set[str] = set()
    for cert in certs:
        der = cert.public_bytes(encoding=Encoding.DER)
        out.add(hashlib.sha1(der).hexdigest())  # the module's fingerprint (L4)
        out.add(hashlib.sha256(der).hexdigest())
    return out


class SequansHTTPResponse(BaseResponse):
    """A response of the module's HTTP client: status and Content-Type from ``+SQNHTTPRING``
    (the module exposes no other header, sequans.md §7), the body streamed from
    ``AT+SQNHTTPRCV`` and complete only when ``<data_size>`` bytes came."""

    def __init__(self, driver: Sequans, method: str, status: int, content_type: str,
                 size: int, timeout: float) -> None:
        self._driver = driver
        self.method = method
        self.status = status
        self.reason = http.client.responses.get(status, "")
        self.http_version = "1.1"
        fields = [("content-length", str(size))]
        if content_type:
            fields.insert(0, ("content-type", content_type))
        self.headers = fields
        self._size = size
        self._timeout = timeout
        self._consumed = False
        self._closed = False

    def iter_bytes(self, progress: Progress | None = None) -> Iterator[bytes]:
        """Yield the body as the module hands it on.

        Raises:
            PartialBodyError: the transfer ended before ``<data_size>`` bytes.
            TransferTimeoutError, ModuleRebootedError, ATCommandError, ATProtocolError: the
                read failed (see :meth:`Sequans.read_http_body`).
            HTTPError: the body was already read.
        """
        if self._consumed:
            raise HTTPError("the body of this response was already read")
        self._consumed = True
        received = 0
        body = self._driver.read_http_body(self._size, self._timeout)
        try:
            if self._size and self.method != "HEAD":
                for piece in body:
                    received += len(piece)
                    if progress is not None:
                        progress(received, self._size)
                    yield piece
            if received != (0 if self.method == "HEAD" else self._size):
                raise PartialBodyError(f"the body ended after {received} of {self._size} bytes",
                                       received=received, expected=self._size)
            self._mark_finished()
        finally:
            body.close()  # an abandoned read lets the rest of the answer pass first
            self.close()

    def close(self) -> None:
        """Disconnect the HTTP profile (``AT+SQNHTTPDISCONNECT``), once."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(CellTLSError, OSError):
            self._driver._disconnect_http()


class SequansSocket(SecureSocket):
    """A TLS socket of a Sequans module in command mode (sequans.md §6).

    Data accounting: ``AT+SQNSRECV=<id>,1500`` answers ``+SQNSRECV: <id>,<len>`` and exactly
    ``<len>`` bytes (a data block: the length is the answer's own, never the one asked);
    ``+SQNSRING`` only means "read now" (its count's meaning is not documented beyond the
    field name, so it is not trusted); a read that returned the most one read may carry is
    followed by another at once; otherwise, without news for :attr:`poll_interval` seconds the
    socket reads anyway (a URC may be lost). ``+SQNSH`` means the peer closed: what is
    buffered is still read (L2) until a read returns nothing, then ``recv`` returns ``b""``.
    """

    timeout: float = 60.0
    poll_interval: float = 2.0

    def __init__(self, driver: Sequans, conn_id: int, host: str, port: int) -> None:
        super().__init__(host, port, max_send=driver.capabilities.max_send)
        self.driver = driver
        self._wake_reader = driver.channel.wake_reader
        self.conn_id = conn_id
        self._hint = False  # +SQNSRING since the last read began, or the last read was full
        self._peer_closed = False

    # -- reader thread ----------------------------------------------------------------------

    def _notify_ring(self) -> None:
        with self._cond:
            self._hint = True
            self._cond.notify_all()

    def _notify_peer_closed(self) -> None:
        with self._cond:
            self._peer_closed = True
            self._hint = True  # read what is left
            self._cond.notify_all()

    # -- host side ----------------------------------------------------------------------------

    def _send_piece(self, piece: bytes) -> None:
        """``AT+SQNSSENDEXT=<id>,<n>``, ``> ``, exactly ``n`` bytes, ``OK`` (§6, L1).

        Raises:
            SocketError: closed, or the module refused.
            ModuleRebootedError: reported by a URC, or the refusal came with the radio off
                and ``+SYSSTART`` followed (sequans.md §3).
            NetworkError: the refusal came with the radio off and no restart was reported.
        """
        with self._cond:
            if self._failure is not None:
                raise self._failure
        if self._closed or self._peer_closed:
            raise SocketError(f"TLS socket {self.conn_id} to {self.host} is closed")
        mark = self.driver._trouble_seq
        try:
            self.driver.at("+SQNSSENDEXT", arguments("+SQNSSENDEXT", connId=self.conn_id,
                                                     bytes=len(piece)), payload=piece)
        except ATCommandError as exc:
            try:  # a restart (reported or not yet), the radio off explain it
                self.driver._explain_refusal(mark)
            except CellTLSError as cause:
                self._fail(cause)
                raise cause from exc
            raise SocketError(f"AT+SQNSSENDEXT on socket {self.conn_id} failed: {exc}") from exc
        except ATTimeoutError as exc:
            error = SocketError(f"AT+SQNSSENDEXT on socket {self.conn_id} was not answered "
                                f"({exc}); what the server got is unknown")
            self._fail(error)
            raise error from exc

    def _fill(self, clock: RecvClock) -> bool:
        """Read when told to (``+SQNSRING``, peer closed, a full last read) or when the poll
        time came; else wait for news until then.

        Returns:
            bool: ``False`` once the peer closed and nothing is left to read.

        Raises:
            ATTimeoutError: nothing within :attr:`timeout`.
            SocketError: the read failed.
            ModuleRebootedError: reported by a URC.
        """
        with self._cond:
            now = time.monotonic()
            if not self._hint and now < clock.next_poll:
                if now >= clock.deadline:
                    raise ATTimeoutError(f"data on TLS socket {self.conn_id}", self.timeout)
                self._wait_for_news(min(clock.deadline, clock.next_poll) - now)
                return True
            self._hint = False
            peer_closed = self._peer_closed
        if time.monotonic() >= clock.deadline and not peer_closed:
            raise ATTimeoutError(f"data on TLS socket {self.conn_id}", self.timeout)
        data = self._read(cat.MAX_RECV)
        if data is None or not data:
            if peer_closed or self._peer_closed:
                with self._cond:
                    if not self._hint:
                        return False
                return True
            clock.next_poll = time.monotonic() + self.poll_interval
            return True
        with self._cond:
            if len(data) >= cat.MAX_RECV:
                self._hint = True  # the module may hold more
        self._deliver(data)
        clock.deadline = time.monotonic() + self.timeout
        return True

    def _read(self, count: int) -> bytes | None:
        """``AT+SQNSRECV=<id>,<count>`` → the block's bytes; ``None`` when the module refused
        and the socket is closed in it (nothing more to read)."""
        mark = self.driver._trouble_seq
        try:
            reply = self.driver.at("+SQNSRECV", arguments("+SQNSRECV", connId=self.conn_id,
                                                          maxBytes=count))
        except ATCommandError as exc:
            self.driver._raise_trouble(mark)  # a reboot reported meanwhile explains it
            states = self.driver.socket_states()
            state = None if states is None else states.get(self.conn_id, 0)
            if state in (None, 0) or self._peer_closed:
                with self._cond:
                    self._peer_closed = True
                return None
            if state == 3:
                error = SocketError(f"AT+SQNSRECV on socket {self.conn_id} was refused ({exc}) "
                                    "although data is pending (+SQNSS state 3)")
                self._fail(error)
                raise error from exc
            return b""
        except ATTimeoutError as exc:
            # the block may have been cut: the stream cannot be trusted any more
            error = SocketError(f"AT+SQNSRECV on socket {self.conn_id} was not answered "
                                f"({exc}); received data may be incomplete")
            self._fail(error)
            raise error from exc
        mine = [b for b in reply.blocks
                if _fields(b.header) and _int(_fields(b.header)[0]) == self.conn_id]
        if not mine:
            error = SocketError(f"AT+SQNSRECV={self.conn_id},{count} answered {reply.lines!r} "
                                "without a +SQNSRECV block")
            self._fail(error)
            raise error
        data = b"".join(b.data for b in mine)
        if len(data) > count:
            error = SocketError(f"AT+SQNSRECV={self.conn_id},{count} returned {len(data)} bytes")
            self._fail(error)
            raise error
        return data

    def _close_in_module(self) -> None:
        """``AT+SQNSH=<id>`` (§6), failures logged; the id is free again."""
        try:
            if self._failure is None or not isinstance(self._failure, ModuleRebootedError):
                self.driver._quietly("+SQNSH", arguments("+SQNSH", connId=self.conn_id))
        finally:
            self.driver._forget_socket(self.conn_id)
