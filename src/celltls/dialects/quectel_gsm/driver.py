"""The Quectel GSM driver (M66, M95, MC60...): SSL sockets with +QSSL and +QSEC commands.

Everything here follows the Quectel GSM SSL Application Note V3.3 ("SSL-AN"), sections cited per
method, and the catalog (:mod:`celltls.dialects.quectel_gsm.catalog`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque

from celltls.at import quoting
from celltls.at.channel import ATChannel, Reply
from celltls.at.codes import REGISTERED, REGISTRATION_STATES
from celltls.at.protocol import DataBlock, Urc
from celltls.dialects.base import (
    Capabilities,
    CredentialKind,
    Dialect,
    NetworkStatus,
    SecureSocket,
    StoredCredential,
)
from celltls.dialects.quectel_gsm import catalog as cat
from celltls.errors import (
    ATCommandError,
    ATProtocolError,
    ATTimeoutError,
    CredentialError,
    NetworkError,
    ProfileError,
    SocketError,
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
    native_http=False,
    max_hostname=255,
    sources=("Quectel GSM SSL Application Note V3.3, 1.1 Tables 1-2, 2.2.1-2.2.7",),
)

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
#: Guard time around the +++ escape sequence, seconds (V.250 S12 default 1 s).
GUARD_TIME = 1.0


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

    def __init__(
        self, channel: ATChannel, *, ctxindex: int = 0, nvram: bool = False,
        probe_failures: bool = True, guard_time: float = GUARD_TIME,
    ) -> None:
        super().__init__(channel)
        self.guard_time = guard_time
        quoting.integer(ctxindex, "ctxindex", *cat.CTX_RANGE)
        self.ctxindex = ctxindex
        self.nvram = nvram
        self.probe_failures = probe_failures
        self.cid = 0
        # ssid -> socket; None while an AT+QSSLOPEN for that ssid is under way (reserved).
        self._sockets: dict[int, QuectelSocket | None] = {}
        self._sockets_lock = threading.Lock()
        self._stored: dict[CredentialKind, str] = {}
        # In transparent mode the module prints CLOSED when it leaves data mode by itself
        # (SSL-AN 1.2 step 6; the text is the one Quectel GSM TCP/IP drivers handle).
        channel.protocol.raw_exit_markers = (b"\r\nCLOSED\r\n",)
        channel.subscribe('+QSSLURC: "recv"', self._on_recv_urc)
        channel.subscribe('+QSSLURC: "closed"', self._on_closed_urc)

    # -- commands ----------------------------------------------------------------------------

    def at(self, name: str, args: str = "", **kw: object) -> Reply:
        """Send ``AT<name>[=<args>]`` with the catalog's timeout, prefixes and result codes.

        ``args`` must already be encoded with :mod:`celltls.at.quoting`.
        """
        command = CATALOG.command(name)
        line = f"AT{command.name}" + (f"={args}" if args else "")
        options: dict[str, object] = {
            "timeout": command.timeout,
            "response_prefixes": (command.response_prefix,) if command.response_prefix else (),
            "final_results": command.final_results,
            "failure_results": command.failure_results,
            "final_pattern": command.final_pattern,
        }
        options.update(kw)
        return self.channel.command(line, **options)  # type: ignore[arg-type]

    # -- identification ----------------------------------------------------------------------

    def initialise(self) -> dict[str, str]:
        """Turn on numeric ``+CME ERROR`` codes and read the model (27.007 9.1, 5.2).

        Returns:
            dict: ``model`` and ``firmware`` as reported.
        """
        self.channel.command("AT", timeout=2)
        self.at("+CMEE", "1")
        info: dict[str, str] = {}
        with contextlib.suppress(ATCommandError):
            model = self.at("+CGMM").lines
            info["model"] = model[0] if model else ""
        with contextlib.suppress(ATCommandError):
            firmware = self.at("+CGMR").lines
            info["firmware"] = firmware[-1] if firmware else ""
        return info

    # -- network -----------------------------------------------------------------------------

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
        """The TCP/IP stack state from ``AT+QSSLSTATE`` (SSL-AN 2.2.6), e.g. ``"IP INITIAL"``."""
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
        apn_arg = quoting.quote(apn, "apn", max_len=63)
        extra = ""
        if user is not None or password is not None:
            extra = "," + quoting.quote(user or "", "user", max_len=30)
            extra += "," + quoting.quote(password or "", "password", max_len=30, secret=True)
        try:
            stat, meaning = self.wait_registered(timeout)
        except NetworkError as exc:
            raise NetworkError(f"{exc}{self._circuit_switched_note()}") from None
        state = self.ip_state()
        if state == "PDP DEACT":
            self.at("+QIDEACT")
            state = "IP INITIAL"
        if state == "IP INITIAL":
            self.at("+QIFGCNT", "0")
            self.cid = 0
            shown = f"AT+QICSGP=1,{apn_arg}" + (
                f",{quoting.quote(user or '', 'user')},\"***\"" if extra else ""
            )
            self.at("+QICSGP", f"1,{apn_arg}{extra}", shown=shown)
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
        return NetworkStatus(True, (stat, meaning), address, apn)

    def detach(self) -> None:
        """Deactivate the PDP context (``AT+QIDEACT``, ``DEACT OK``; SSL-AN 1.2 step 8)."""
        self.at("+QIDEACT")

    # -- credentials -------------------------------------------------------------------------

    def read_checksum(self, name: str) -> tuple[bool, str] | None:
        """``AT+QSECREAD=<name>`` (SSL-AN 2.2.8): ``(good, checksum)`` or ``None`` if absent."""
        try:
            text = self.at("+QSECREAD", quoting.quote(name, "filename")).first("+QSECREAD:")
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
        expected = cat.qsec_checksum(data)
        present = self.read_checksum(target)
        if present is not None and present == (True, expected):
            self._stored[kind] = target
            return StoredCredential(target, kind, len(data), expected, uploaded=False)
        if present is not None:
            self.at("+QSECDEL", quoting.quote(target, "filename"))
        reply = self.at(
            "+QSECWRITE",
            f"{quoting.quote(target, 'filename')},{len(data)},{cat.SECWRITE_TIMEOUT_DEFAULT}",
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
        self.at("+QSECDEL", quoting.quote(name, "filename"))
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
        profile.warn_if_insecure(f"SSL context {ctx}")
        files: dict[str, str] = {}
        if profile.verify is not Verify.NONE and profile.ca is not None:
            files["cacert"] = self.store_credential("ca", profile.ca.pem).name
        if profile.client_cert is not None and profile.client_key is not None:
            files["clientcert"] = self.store_credential("client_cert", profile.client_cert.pem).name
            files["clientkey"] = self.store_credential("client_key", profile.client_key.pem).name
        self.at("+QSSLCFG", f'"sslversion",{ctx},{settings["sslversion"]}')
        self.at("+QSSLCFG", f'"ciphersuite",{ctx},"{settings["ciphersuite"]}"')
        self.at("+QSSLCFG", f'"seclevel",{ctx},{settings["seclevel"]}')
        self.at("+QSSLCFG", f'"ignorertc",{settings["ignorertc"]}')
        for selector, filename in files.items():
            self.at("+QSSLCFG", f'"{selector}",{ctx},{quoting.quote(filename, selector)}')

    # -- sockets -----------------------------------------------------------------------------

    def _reserve_ssid(self) -> int:
        """Take a free secure socket id (0-5) for an open under way."""
        with self._sockets_lock:
            for ssid in range(cat.SSID_RANGE[0], cat.SSID_RANGE[1] + 1):
                if ssid not in self._sockets:
                    self._sockets[ssid] = None
                    return ssid
        raise SocketError("all 6 secure sockets (ssid 0-5) are in use (SSL-AN 2.2.2)")

    def tls_connect(
        self, host: str, port: int, profile: TlsProfile, *, timeout: float = 90.0,
        transparent: bool = False,
    ) -> SecureSocket:
        """Apply ``profile`` and open a secure socket with ``AT+QSSLOPEN`` (SSL-AN 2.2.2).

        Args:
            host: server name or IP address (at most 255 bytes, no quotes or controls).
            port: server port.
            profile: the TLS profile.
            timeout: the module's connect timeout, seconds, 10..300.
            transparent: open in transparent mode (``CONNECT``, then raw data on the line).

        Raises:
            UnsafeArgumentError: bad host, port or timeout (nothing is sent).
            ProfileError, CredentialError: see :meth:`apply_profile`.
            CertificateVerifyError, TLSNegotiationError, TLSHandshakeError: ``connectcode -1``
                explained (see :mod:`celltls.tlsprobe`).
            SocketError: ``connectcode -2`` (socket occupied) or no free socket.
            ATTimeoutError: no result within ``timeout`` (+5 s).
        """
        host_arg = quoting.quote(host, "host", max_len=CAPABILITIES.max_hostname)
        port_arg = quoting.integer(port, "port", 1, 65535)
        seconds = quoting.integer(int(timeout), "timeout", *cat.OPEN_TIMEOUT_RANGE)
        self.apply_profile(profile)
        ssid = self._reserve_ssid()
        try:
            sock = self._open(ssid, host, port, host_arg, port_arg, seconds, profile, transparent)
        except BaseException:
            self._forget_socket(ssid)
            raise
        with self._sockets_lock:
            self._sockets[ssid] = sock
        return sock

    def _open(
        self, ssid: int, host: str, port: int, host_arg: str, port_arg: str, seconds: str,
        profile: TlsProfile, transparent: bool,
    ) -> QuectelSocket:
        ctx = self.ctxindex
        mode = 1 if transparent else 0
        args = f"{ssid},{ctx},{host_arg},{port_arg},{mode},{seconds}"
        prefix = f"+QSSLOPEN: {ssid},"
        waiter = self.channel.expect_urc(
            lambda t: t.startswith(prefix) or (transparent and t.startswith("CONNECT"))
        )
        if transparent:
            self.channel.arm_raw_on_connect()
        try:
            # The result comes after OK as +QSSLOPEN: <ssid>,<code>, a URC: no response prefix,
            # so that the result of an earlier open is never taken as this command's answer.
            try:
                self.at("+QSSLOPEN", args, response_prefixes=())
            except ATCommandError as exc:
                raise self._open_refused(exc) from exc
            try:
                event = waiter.wait(float(seconds) + 5, f"AT+QSSLOPEN={args} (result)")
            except ATTimeoutError:
                # A late success would leave the socket open in the module (and a later open
                # of this ssid answered -2): close it.
                with contextlib.suppress(ATCommandError, ATTimeoutError):
                    self.at("+QSSLCLOSE", str(ssid))
                raise
        except BaseException:
            self.channel.protocol.disarm_raw_on_connect()
            raise
        finally:
            self.channel.forget(waiter)
        text = event.text if isinstance(event, Urc) else event.header
        if text.startswith("CONNECT"):
            sock: QuectelSocket = QuectelTransparentSocket(self, ssid, host, port)
        else:
            self.channel.protocol.disarm_raw_on_connect()
            code = int(text[len(prefix) :].strip())
            if code == -2:
                raise SocketError(f"{text}: socket {ssid} is occupied (SSL-AN 2.2.2)")
            if code != 0:
                raise explain_failure(
                    host, port, CAPABILITIES, profile, reported=text,
                    do_probe=self.probe_failures,
                )
            sock = QuectelSocket(self, ssid, host, port)
        return sock

    def _open_refused(self, exc: ATCommandError) -> Exception:
        """Explain an ``AT+QSSLOPEN`` refused outright: usually no active PDP context."""
        try:
            state = self.ip_state()
        except (ATCommandError, ATTimeoutError, NetworkError):
            return exc
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
            sock._notify_data(numbers[0])

    def _on_closed_urc(self, event: Urc | DataBlock) -> None:
        sock, _ = self._urc_socket(event)
        if sock is not None:
            sock._notify_closed()


class QuectelSocket(SecureSocket):
    """A non-transparent secure socket: ``AT+QSSLSEND`` and ``AT+QSSLRECV``.

    ``recv`` waits for ``+QSSLURC: "recv"`` and then reads with ``AT+QSSLRECV`` (1500 bytes at a
    time, one read per ``recv`` call, so memory stays bounded) until a read finds the module's
    buffer empty, and only then waits for the next URC, since none comes until the buffer has
    been read empty (SSL-AN 2.2.10.1). ``sendall`` cuts data into ``AT+QSSLSEND`` payloads of
    at most 1460 bytes;
    ``SEND FAIL`` (sending blocked) is retried after a pause, ``ERROR`` means the connection is
    gone (SSL-AN 2.2.3).
    """

    #: seconds ``recv`` waits for data before raising ATTimeoutError.
    timeout: float = 60.0
    send_fail_retries = 10
    send_fail_pause = 0.5

    def __init__(self, driver: QuectelGsm, ssid: int, host: str, port: int) -> None:
        self.driver = driver
        self.ssid = ssid
        self.host = host
        self.port = port
        self._buffer: deque[bytes] = deque()
        self._cond = threading.Condition()
        self._data_pending = True  # read once at start: data may have come before the URC hook
        self._peer_closed = False
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _notify_data(self, cid: int) -> None:
        with self._cond:
            self.driver.cid = cid
            self._data_pending = True
            self._cond.notify_all()

    def _notify_closed(self) -> None:
        with self._cond:
            self._peer_closed = True
            self._data_pending = True
            self._cond.notify_all()

    def sendall(self, data: bytes) -> None:
        """Send ``data`` in ``AT+QSSLSEND=<ssid>,<length>`` pieces of at most 1460 bytes.

        Raises:
            SocketError: the socket is closed, or the module answered ERROR (connection gone)
                or kept answering SEND FAIL.
        """
        view = memoryview(data)
        while view:
            if self._closed or self._peer_closed:
                raise SocketError(f"secure socket {self.ssid} to {self.host} is closed")
            piece = bytes(view[: cat.MAX_SEND])
            for attempt in range(self.send_fail_retries + 1):
                try:
                    reply = self.driver.at(
                        "+QSSLSEND", f"{self.ssid},{len(piece)}", payload=piece,
                        data_phase="prompt", check=False,
                    )
                except ATTimeoutError as exc:
                    raise SocketError(f"AT+QSSLSEND on socket {self.ssid} timed out") from exc
                final = reply.final
                assert final is not None
                if final.ok:
                    break
                if final.text == "SEND FAIL" and attempt < self.send_fail_retries:
                    log.info("SEND FAIL on socket %d: retrying", self.ssid)
                    time.sleep(self.send_fail_pause * (attempt + 1))
                    continue
                self._peer_closed = True
                raise SocketError(
                    f"AT+QSSLSEND={self.ssid},{len(piece)} answered {final.text}: "
                    + ("sending stayed blocked" if final.text == "SEND FAIL"
                       else "the connection is gone; open it again (SSL-AN 2.2.3)")
                )
            view = view[len(piece) :]

    def _read_module(self) -> bool:
        """One ``AT+QSSLRECV`` of up to 1500 bytes (SSL-AN 2.2.4).

        Returns:
            bool: whether data came; ``False`` means the module's buffer is empty, so the next
            data will be announced by a new ``+QSSLURC: "recv"`` (SSL-AN 2.2.10.1 note 1).
        """
        try:
            reply = self.driver.at(
                "+QSSLRECV", f"{self.driver.cid},{self.ssid},{cat.MAX_RECV}",
                response_prefixes=("+QSSLRECV:",),
            )
        except ATCommandError:
            if self._peer_closed:
                return False
            raise
        if any(line.startswith("+QSSLRECV:") for line in reply.lines):
            raise ATProtocolError(
                f"malformed AT+QSSLRECV answer {reply.lines!r}: a header announcing more than "
                f"{cat.MAX_RECV} bytes or not in the form <ipaddr>:<port>,TCP,<length> (2.2.4)"
            )
        data = b"".join(block.data for block in reply.blocks)
        if data:
            with self._cond:
                self._buffer.append(data)
        return bool(data)

    def recv(self, max_bytes: int) -> bytes:
        """Receive up to ``max_bytes`` (``b""`` after the server closed and all is read).

        Raises:
            SocketError: the module failed to read.
            ATTimeoutError: no data within :attr:`timeout` seconds.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            with self._cond:
                if self._buffer:
                    chunk = self._buffer.popleft()
                    if len(chunk) > max_bytes:
                        self._buffer.appendleft(chunk[max_bytes:])
                        chunk = chunk[:max_bytes]
                    return chunk
                if self._closed:
                    return b""
                pending = self._data_pending
                self._data_pending = False
                if not pending:
                    if self._peer_closed:
                        return b""
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise ATTimeoutError(
                            f"data on secure socket {self.ssid} from {self.host}", self.timeout
                        )
                    self._cond.wait(timeout=min(remaining, 1.0))
                    continue
            try:
                more = self._read_module()
            except ATCommandError as exc:
                raise SocketError(f"reading secure socket {self.ssid} failed: {exc}") from exc
            if more:
                # The buffer may hold more: read again before waiting for a URC, which only
                # comes once the buffer has been read empty (SSL-AN 2.2.10.1).
                with self._cond:
                    self._data_pending = True

    def close(self) -> None:
        """``AT+QSSLCLOSE=<ssid>`` (``CLOSE OK``, SSL-AN 2.2.5); quiet if already closed."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self._peer_closed:
                self.driver.at("+QSSLCLOSE", str(self.ssid))
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("closing socket %d: %s", self.ssid, exc)
        finally:
            self.driver._forget_socket(self.ssid)
            with self._cond:
                self._cond.notify_all()


class QuectelTransparentSocket(QuectelSocket):
    """A secure socket in transparent mode (SSL-AN 1.2 step 6, 3.4): bytes go straight over the
    line. :meth:`pause` leaves data mode with ``+++`` (guard times around it) keeping the
    connection, so that AT commands can be sent; :meth:`resume` returns with ``ATO``
    (``CONNECT``); ``close`` leaves data mode and sends ``AT+QSSLCLOSE`` (SSL-AN 3.4.1)."""

    _paused = False

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
        """Write ``data`` to the line.

        Raises:
            SocketError: the socket is closed or paused.
        """
        self._check_online()
        self.driver.channel.write_raw(data)

    def recv(self, max_bytes: int) -> bytes:
        """Read up to ``max_bytes`` from the line (``b""`` when the connection ended).

        Raises:
            SocketError: the socket is paused.
            ATTimeoutError: nothing arrived within :attr:`timeout` seconds.
        """
        if self._closed:
            return b""
        self._check_online()
        return self.driver.channel.read_raw(max_bytes, self.timeout)

    def pause(self) -> None:
        """Leave data mode with the escape sequence (``+++`` -> ``OK``), keeping the
        connection (SSL-AN 3.4.1 step 3).

        Raises:
            SocketError: the socket is closed (or the module had already left data mode).
            ATTimeoutError: the module did not answer the escape sequence.
        """
        self._check_online()
        if not self.driver.channel.protocol.in_raw_mode:
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
            self.driver.channel.command(
                "ATO", timeout=5, connect_is_final=True, raw_after_connect=True
            )
        except ATCommandError as exc:
            raise SocketError(f"cannot resume secure socket {self.ssid}: {exc}") from exc
        self._paused = False

    def close(self) -> None:
        """``+++`` then ``AT+QSSLCLOSE``."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.driver.channel.protocol.in_raw_mode and not self._paused:
                self.driver.channel.escape(self.driver.guard_time)
            self.driver.at("+QSSLCLOSE", str(self.ssid))
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("closing transparent socket %d: %s", self.ssid, exc)
        finally:
            self.driver._forget_socket(self.ssid)
