"""The Sierra Wireless AirPrime driver (RC76xx, HL78xx): the ``+K`` command set.

Facts and their sources are in :mod:`celltls.dialects.sierra.catalog` (keys ``HL75-ATIG``,
``HL78-ATIG``, ``ZEPHYR-HL78``, ``TINYGSM-HL78``, ``SEED-000``). What this driver adds:

- **The end-of-data pattern.** Every Sierra data phase is ``CONNECT``, the payload, then the
  EOF pattern (``AT+KPATTERN``). :meth:`Sierra.initialise` sets a pattern of its own once per
  session (``--celltls-<hex>--``), and before every upload :meth:`Sierra.pattern_for` checks
  that the payload followed by the pattern holds the pattern only at its end; if not, a new
  pattern is set with ``AT+KPATTERN`` first. A payload is therefore never cut short by its own
  content (``--EOF--Pattern--`` inside a body arrives intact).
- **Downloads** (``AT+KTCPRCV``, ``AT+KHTTPGET``...) are read in raw mode after ``CONNECT``,
  the protocol ending the raw phase at the pattern (or after a known byte count then the
  pattern, :meth:`~celltls.at.protocol.ATProtocol.end_raw_at`), so the data is never parsed as
  lines and the ``OK`` and URCs that follow are.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

import h11

from celltls.at import quoting
from celltls.at.channel import ATChannel, Reply, UrcWaiter
from celltls.at.protocol import Urc
from celltls.dialects.base import (
    Capabilities,
    CredentialKind,
    Dialect,
    NetworkStatus,
    SecureSocket,
    StoredCredential,
)
from celltls.dialects.sierra import catalog as cat
from celltls.errors import (
    ATCommandError,
    ATProtocolError,
    ATTimeoutError,
    CredentialError,
    HTTPError,
    NetworkError,
    ProfileError,
    SocketError,
    UnsafeArgumentError,
)
from celltls.http import BaseResponse, Body, Progress
from celltls.tls import TlsProfile, TlsVersion, Verify
from celltls.tlsprobe import explain_failure

log = logging.getLogger(__name__)

CATALOG = cat.CATALOG
#: Bytes asked of one AT+KTCPRCV, and sent by one AT+KTCPSND.
MAX_RECV = 16384
MAX_SEND = 16384


def capabilities_for(model: cat.ModelProfile) -> Capabilities:
    """The :class:`Capabilities` of a model family (sources in ``model.sources``)."""
    hl = model.secure_sockets
    return Capabilities(
        tls_versions=(TlsVersion.TLS1_2,),
        cipher_suites=cat.CIPHER_SUITES,
        cipher_selection="one-or-all",
        key_exchange="TLS 1.2 with RSA or ECDHE key exchange (AES-CBC/GCM); the KSSLCRYPTO "
        "bit masks are not documented in our sources",
        verify_modes=(Verify.NONE, Verify.SERVER) if hl else (Verify.SERVER,),
        secure_sockets=6 if hl else 0,
        security_contexts=5 if model.ksslcrypto else 1,
        max_send=MAX_SEND,
        max_recv=MAX_RECV,
        credential_limits={"root CA": model.max_cert},
        transparent_mode=False,
        native_http=True,
        max_hostname=255,
        sources=model.sources,
    )


class Sierra(Dialect):
    """Driver of Sierra Wireless AirPrime RC76xx and HL78xx modules.

    Args:
        channel: the AT channel.
        model: ``"rc7620"``/``"hl7800"`` to skip detection from ``AT+CGMM``.
        probe_failures: probe the server from the host to explain a failed handshake.
        guard_time: silence around ``+++`` (RC76xx certificate upload), seconds.
        cnx: the PDP connection configuration used (``<cnx cnf>`` 1-5).
    """

    name = cat.DIALECT
    registration_command = "+CEREG"
    capabilities = capabilities_for(cat.MODELS["hl7800"])

    def __init__(self, channel: ATChannel, *, model: str | None = None,
                 probe_failures: bool = True, guard_time: float = 1.0, cnx: int = 1) -> None:
        super().__init__(channel)
        self.protocol = channel.protocol
        self.model = cat.model(model) if model else cat.MODELS["hl7800"]
        self._model_given = model is not None
        self.capabilities = capabilities_for(self.model)
        self.probe_failures = probe_failures
        self.guard_time = guard_time
        quoting.integer(cnx, "cnx", 1, 5)
        self.cnx = cnx
        self.pattern = cat.DEFAULT_PATTERN.encode()
        self._stored: dict[str, str] = {}
        self._sockets: dict[int, SierraSocket] = {}
        self._lock = threading.Lock()
        channel.subscribe("+KTCP_DATA:", self._on_tcp_urc)
        channel.subscribe("+KTCP_NOTIF:", self._on_tcp_urc)

    # -- commands ----------------------------------------------------------------------------

    def at(self, name: str, args: str = "", **kw: object) -> Reply:
        """Send ``AT<name>[=<args>]`` with the catalog's timeout and response prefix.

        ``args`` must already be encoded with :mod:`celltls.at.quoting`.
        """
        command = CATALOG.command(name) if name.startswith("+K") else None
        line = f"AT{name}" + (f"={args}" if args else "")
        options: dict[str, object] = {
            "timeout": command.timeout if command else 5.0,
            "response_prefixes": (command.response_prefix,)
            if command and command.response_prefix else (f"{name}:",),
        }
        options.update(kw)
        return self.channel.command(line, **options)  # type: ignore[arg-type]

    def initialise(self) -> dict[str, str]:
        """``AT+CMEE=1``, the model (``AT+CGMM``), and a session EOF pattern (``AT+KPATTERN``).

        Returns:
            dict: ``model`` and ``firmware``.
        """
        self.channel.command("AT", timeout=2)
        self.at("+CMEE", "1")
        info: dict[str, str] = {}
        with contextlib.suppress(ATCommandError):
            lines = self.at("+CGMM").lines
            info["model"] = lines[0] if lines else ""
        with contextlib.suppress(ATCommandError):
            lines = self.at("+CGMR").lines
            info["firmware"] = lines[-1] if lines else ""
        if not self._model_given:
            with contextlib.suppress(KeyError):
                self.model = cat.model(info.get("model", ""))
                self.capabilities = capabilities_for(self.model)
        self.set_pattern(f"--celltls-{secrets.token_hex(6)}--")
        return info

    def set_pattern(self, pattern: str) -> None:
        """``AT+KPATTERN=<pattern>`` (HL78-ATIG +KPATTERN).

        Raises:
            UnsafeArgumentError: the pattern cannot be sent or is longer than 128 characters.
        """
        self.at("+KPATTERN", quoting.quote(pattern, "EOF_pattern", max_len=cat.MAX_PATTERN))
        self.pattern = pattern.encode("ascii")

    def pattern_for(self, payload: bytes) -> bytes:
        """The pattern to end ``payload`` with, changing it first if ``payload`` holds it.

        The module ends the data phase at the first occurrence of the pattern in
        ``payload + pattern``; that must be at ``len(payload)``.
        """
        while (payload + self.pattern).find(self.pattern) != len(payload):
            self.set_pattern(f"--celltls-{secrets.token_hex(8)}--")
        return self.pattern

    # -- network -----------------------------------------------------------------------------

    def attach(self, apn: str, user: str | None = None, password: str | None = None,
               timeout: float = 60.0) -> NetworkStatus:
        """Registration (``AT+CEREG?``), ``AT+KCNXCFG``, ``AT+KCNXUP`` (HL78xx), ``AT+CGPADDR``.

        Raises:
            UnsafeArgumentError: the APN, user or password cannot be sent.
            NetworkError: not registered in time, or ``+KCNX_IND`` reports a failure.
        """
        args = f'{self.cnx},"GPRS",{quoting.quote(apn, "apn", max_len=63)}'
        shown = f"AT+KCNXCFG={args}"
        if user is not None or password is not None:
            args += f",{quoting.quote(user or '', 'login', max_len=30)},"
            shown += f",{quoting.quote(user or '', 'login', max_len=30)},\"***\""
            args += quoting.quote(password or "", "password", max_len=30, secret=True)
        stat, meaning = self.wait_registered(timeout)
        address = self._pdp_address()
        if address:
            # Already up (an earlier session brought it up): AT+KCNXUP would report nothing
            # new, so attaching twice is a no-op.
            return NetworkStatus(True, (stat, meaning), address, apn)
        self.at("+KCNXCFG", args, shown=shown)
        if self.model.cnxup:
            waiter = self.channel.expect_urc(lambda t: t.startswith(f"+KCNX_IND: {self.cnx},"))
            try:
                self.at("+KCNXUP", str(self.cnx))
                event = waiter.wait(timeout, "+KCNX_IND after AT+KCNXUP")
            finally:
                self.channel.forget(waiter)
            text = event.text if isinstance(event, Urc) else event.header
            fields = quoting.split_arguments(text.split(":", 1)[1])
            if fields[1].strip() != "1":
                raise NetworkError(f"{text}: {describe_kcnx_ind(text)}")
        return NetworkStatus(True, (stat, meaning), self._pdp_address(), apn)

    def _pdp_address(self) -> str | None:
        """The address of PDP context ``cnx`` from ``AT+CGPADDR`` (27.007 10.1.14), or ``None``
        when it has none (not activated)."""
        reply = self.channel.command(f"AT+CGPADDR={self.cnx}", timeout=2,
                                     response_prefixes=("+CGPADDR:",))
        try:
            fields = quoting.split_arguments(reply.first("+CGPADDR:"))
        except ATProtocolError:
            return None
        address = quoting.unquote(fields[1]) if len(fields) > 1 else ""
        return address if address and address not in ("0.0.0.0", "0") else None

    # -- credentials -------------------------------------------------------------------------

    def store_credential(self, kind: CredentialKind, data: bytes, name: str | None = None
                         ) -> StoredCredential:
        """Store a root CA (``AT+KCERTSTORE=0``), client certificate (``=1``) or client key
        (``AT+KPRIVKSTORE``, HL78xx), skipped when this session already stored the same bytes.

        RC76xx: ``AT+KCERTSTORE=<type>``, ``CONNECT``, the file, ``+++`` with guard times
        (SEED-000). HL78xx: ``AT+KCERTSTORE=<type>,<size>,<index>``, ``CONNECT``, the file,
        the EOF pattern, ``OK`` (ZEPHYR-HL78).

        Args:
            kind: ``"ca"``, ``"client_cert"``, ``"client_key"``.
            data: PEM bytes.
            name: ``"root:<index>"``, ``"local:<index>"``, ``"key:<index>"``; index 0 by default.

        Raises:
            CredentialError: too large, a client key on RC76xx, or a bad name.
        """
        prefix = {"ca": "root", "client_cert": "local", "client_key": "key"}[kind]
        target = name or f"{prefix}:0"
        base, _, index_text = target.partition(":")
        if base != prefix or not index_text.isdigit():
            raise CredentialError(f"{target!r}: a {kind} is named {prefix}:<index>")
        index = int(index_text)
        if not 0 <= index < self.model.cert_slots:
            raise CredentialError(f"{target!r}: slots 0-{self.model.cert_slots - 1} only")
        if not 0 < len(data) <= self.model.max_cert:
            raise CredentialError(f"{target}: {len(data)} bytes; 1 to {self.model.max_cert} "
                                  "bytes are accepted")
        digest = hashlib.sha256(data).hexdigest()
        if self._stored.get(target) == digest:
            return StoredCredential(target, kind, len(data), digest, uploaded=False)
        secret = kind == "client_key"
        if not self.model.certstore_size:
            if kind == "client_key":
                raise CredentialError("RC76xx has no AT+KPRIVKSTORE in our sources")
            self._store_with_escape(0 if kind == "ca" else 1, data)
        else:
            pattern = self.pattern_for(data)
            if kind == "client_key":
                command, args = "+KPRIVKSTORE", f"{index},{len(data)}"
            else:
                command, args = "+KCERTSTORE", f"{0 if kind == 'ca' else 1},{len(data)},{index}"
            self.at(command, args, data_phase="connect", payload=data + pattern,
                    secret_payload=secret)
        self._stored[target] = digest
        return StoredCredential(target, kind, len(data), digest, uploaded=True)

    def _store_with_escape(self, data_type: int, data: bytes) -> None:
        waiter = self.channel.expect_urc(lambda t: t in ("OK", "ERROR") or "ERROR" in t)
        try:
            self.at("+KCERTSTORE", str(data_type), connect_is_final=True)
            self.channel.write_raw(data)
            time.sleep(self.guard_time * 1.2)
            self.channel.write_raw(b"+++")
            event = waiter.wait(self.guard_time * 2 + 10, "OK after +++ (AT+KCERTSTORE)")
        finally:
            self.channel.forget(waiter)
        text = event.text if isinstance(event, Urc) else event.header
        if text != "OK":
            raise CredentialError(f"AT+KCERTSTORE={data_type}: the module answered {text}")

    def delete_credential(self, name: str) -> None:
        """``AT+KCERTDELETE=<type>,<index>`` or ``AT+KPRIVKDELETE=<index>``.

        Raises:
            CredentialError: a bad name. ATCommandError: the module refused.
        """
        base, _, index_text = name.partition(":")
        if base not in ("root", "local", "key") or not index_text.isdigit():
            raise CredentialError(f"{name!r}: names are root:<i>, local:<i>, key:<i>")
        if base == "key":
            self.at("+KPRIVKDELETE", index_text)
        else:
            self.at("+KCERTDELETE", f"{0 if base == 'root' else 1},{index_text}")
        self._stored.pop(name, None)

    # -- TLS profile -------------------------------------------------------------------------

    def apply_profile(self, profile: TlsProfile) -> int:
        """Store the profile's credentials and set ``AT+KSSLCRYPTO`` (HL78xx).

        Returns:
            int: the ``<cipher_index>`` to use.

        Raises:
            ProfileError: a version, suite or verification mode the model lacks.
            CredentialError: see :meth:`store_credential`.
        """
        if TlsVersion.TLS1_2 not in profile.versions((TlsVersion.TLS1_2,)):
            raise ProfileError("the module speaks TLS 1.2 only")
        if profile.cipher_suites is not None:
            unknown = [c for c in profile.cipher_suites if c not in cat.CIPHER_SUITES]
            if unknown:
                raise ProfileError("no cipher suite " + ", ".join(f"0x{c:04X}" for c in unknown)
                                   + f" on this module; it has {self.capabilities.key_exchange}")
        if profile.verify not in self.capabilities.verify_modes:
            raise ProfileError(f"{self.model.title} cannot do {profile.verify.name} "
                               "verification (catalog MODELS)")
        profile.warn_if_insecure("Sierra TLS")
        if profile.verify is not Verify.NONE and profile.ca is not None:
            self.store_credential("ca", profile.ca.pem)
        if self.model.ksslcrypto:
            auth = 0 if profile.verify is Verify.NONE else 1
            self.at("+KSSLCRYPTO", f"0,8,3,25392,12,4,{auth},0")
        return 0

    # -- sockets -----------------------------------------------------------------------------

    def tls_connect(self, host: str, port: int, profile: TlsProfile, *, timeout: float = 90.0,
                    transparent: bool = False) -> SecureSocket:
        """``AT+KTCPCFG=<cnx>,3,<host>,<port>,,,,,<cipher>`` then ``AT+KTCPCNX`` (HL78xx).

        Raises:
            ProfileError: RC76xx (no TLS socket in our sources), or transparent mode.
            CertificateVerifyError, TLSNegotiationError, TLSHandshakeError: ``+KTCP_NOTIF``
                5 explained by :mod:`celltls.tlsprobe`.
            NetworkError: ``+KTCP_NOTIF`` 0 or 3. SocketError: other notifications.
            ATTimeoutError: no answer within ``timeout``.
        """
        if not self.model.secure_sockets or transparent:
            raise ProfileError(f"{self.model.title} has no TLS socket mode here; use "
                               "Modem.request(..., via='native')")
        host_arg = quoting.quote(host, "remote_name", max_len=255)
        port_arg = quoting.integer(port, "tcp_port", 1, 65535)
        cipher = self.apply_profile(profile)
        reply = self.at("+KTCPCFG", f"{self.cnx},3,{host_arg},{port_arg},,,,,{cipher}")
        sid = int(reply.first("+KTCPCFG:"))
        waiter = self.channel.expect_urc(
            lambda t: t.startswith((f"+KTCP_IND: {sid},", f"+KTCP_NOTIF: {sid},")))
        try:
            self.at("+KTCPCNX", str(sid))
            event = waiter.wait(timeout, f"AT+KTCPCNX={sid} (result)")
        finally:
            self.channel.forget(waiter)
        text = event.text if isinstance(event, Urc) else event.header
        if text.startswith("+KTCP_NOTIF:"):
            with contextlib.suppress(ATCommandError):
                self.at("+KTCPDEL", str(sid))
            code = int(text.split(",")[1])
            if code == 5:
                raise explain_failure(host, port, self.capabilities, profile, reported=text,
                                      do_probe=self.probe_failures)
            meaning = cat.NOTIF.get(code, "unknown")
            if code in (0, 3):
                raise NetworkError(f"{text}: {meaning}")
            raise SocketError(f"{text}: {meaning}")
        sock = SierraSocket(self, sid, host, port)
        with self._lock:
            self._sockets[sid] = sock
        return sock

    def _on_tcp_urc(self, event: Urc | object) -> None:
        text = event.text if isinstance(event, Urc) else getattr(event, "header", "")
        try:
            sid_text, value = text.split(":", 1)[1].split(",")[:2]
            sid, number = int(sid_text), int(value)
        except ValueError:
            log.warning("malformed URC %r", text)
            return
        with self._lock:
            sock = self._sockets.get(sid)
        if sock is not None:
            sock._notify(text.startswith("+KTCP_DATA"), number)

    def download(self, line: str, *, length: int | None = None, timeout: float = 120.0,
                 upload: Iterable[bytes] = ()) -> tuple[UrcWaiter, Iterator[bytes]]:
        """Run a command whose answer is ``CONNECT``, data, the EOF pattern, ``OK``.

        Args:
            line: the command line (arguments already encoded).
            length: the number of bytes that precede the pattern, when known.
            timeout: seconds for each read.
            upload: bytes to write after ``CONNECT`` first (a POST body, pattern included).

        Returns:
            the waiter that gets the final ``OK`` (as a URC) and an iterator of the data.

        Raises:
            ATCommandError: the module refused the command.
        """
        self.channel.arm_raw_on_connect()
        self.protocol.disarm_raw_on_connect()
        self.protocol.end_raw_at(self.pattern, length)
        waiter = self.channel.expect_urc(
            lambda t: t in ("OK", "ERROR") or t.startswith(("+CME ERROR", "+KHTTP_ERROR")))
        try:
            self.channel.command(line, timeout=30, connect_is_final=True, raw_after_connect=True)
        except BaseException:
            self.protocol.cancel_raw_end()
            self.channel.forget(waiter)
            raise
        for chunk in upload:
            self.channel.write_raw(chunk)

        def chunks() -> Iterator[bytes]:
            ended = False
            try:
                while True:
                    data = self.channel.read_raw(65536, timeout)
                    if not data:
                        ended = True
                        return
                    yield data
            finally:
                if not ended:  # a timeout, a port failure, or the reader gave up
                    self.channel.forget(waiter)
                    self.channel.abandon_data_phase()

        return waiter, chunks()

    def finish(self, waiter: UrcWaiter, what: str) -> None:
        """Wait for the ``OK`` that follows a data phase.

        Raises:
            ATCommandError: the module ended it with an error.
        """
        try:
            event = waiter.wait(30, f"OK after {what}")
        finally:
            self.channel.forget(waiter)
        text = event.text if isinstance(event, Urc) else event.header
        if text != "OK":
            raise ATCommandError(what, [text], kind="ERROR", meaning=describe_line(text))

    # -- native HTTP -------------------------------------------------------------------------

    def native_request(self, method: str, url: str, *, profile: TlsProfile,
                       headers: list[tuple[str, str]], body: Body, timeout: float
                       ) -> BaseResponse:
        """The module's HTTP client: ``AT+KHTTPCFG`` (secure), ``AT+KHTTPHEADER``,
        ``AT+KHTTPGET``/``HEAD``/``POST``, ``AT+KHTTPCLOSE``/``AT+KHTTPDEL`` (HL78-ATIG
        (usage), SEED-000).

        Raises:
            ProfileError: a method other than GET/HEAD/POST, a URI longer than the model takes
                (SEED-000: +CME ERROR: 3), or see :meth:`apply_profile`.
            CertificateVerifyError, TLSNegotiationError, TLSHandshakeError: ``+KHTTP_ERROR``
                5 explained.
            ATCommandError, HTTPError: the module or the server failed.
        """
        method = method.upper()
        if method not in ("GET", "HEAD", "POST"):
            raise ProfileError(f"the module's HTTP client has no {method}")
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or 443
        except ValueError as exc:
            raise UnsafeArgumentError("url", url, f"bad port: {exc}") from None
        uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if len(uri) > self.model.max_uri:
            raise ProfileError(
                f"the request URI is {len(uri)} characters; {self.model.title} takes at most "
                f"{self.model.max_uri} and answers +CME ERROR: 3 (SEED-000)")
        uri_arg = quoting.quote(uri, "request_uri")
        payload = _body_bytes(body)
        cipher = self.apply_profile(profile)
        # The session's +KHTTP_IND can follow the OK at once: collect from before the command,
        # for any session, and keep the one of ours once its id is known.
        waiter = self.channel.expect_urc(lambda t: t.startswith(("+KHTTP_IND: ", "+KHTTP_ERROR: ")))
        try:
            reply = self.at("+KHTTPCFG", f'{self.cnx},{quoting.quote(host, "server_name")},'
                            f'{port},0,"","",1,1,{cipher}', response_prefixes=("+KHTTPCFG:",))
            sid = int(reply.first("+KHTTPCFG:"))
            deadline = time.monotonic() + timeout
            while True:
                event = waiter.wait(max(0.0, deadline - time.monotonic()),
                                    f"+KHTTP_IND: {sid},1 after AT+KHTTPCFG")
                text = event.text if isinstance(event, Urc) else event.header
                if text.split(":", 1)[1].strip().split(",")[0] == str(sid):
                    break
        finally:
            self.channel.forget(waiter)
        if text.startswith("+KHTTP_ERROR"):
            self._close_http(sid)
            code = int(text.split(",")[1])
            if code == 5:
                raise explain_failure(host, port, self.capabilities, profile, reported=text,
                                      do_probe=self.probe_failures)
            raise ATCommandError("AT+KHTTPCFG", [text], kind="ERROR", code=code,
                                 meaning=cat.NOTIF.get(code))
        try:
            head = [f"{k}: {v}" for k, v in headers if k.lower() not in ("host", "content-length")]
            if payload is not None:
                head.append(f"Content-Length: {len(payload)}")
            if head:
                for item in head:
                    quoting.check_text(item, "header")
                block = "".join(f"{h}\r\n" for h in head).encode("latin-1")
                self.at("+KHTTPHEADER", str(sid), data_phase="connect",
                        payload=block + self.pattern_for(block))
            upload: list[bytes] = []
            if method == "POST":
                data = payload or b""
                upload = [data, self.pattern_for(data)]
                line = f"AT+KHTTPPOST={sid},,{uri_arg},1"
            else:
                line = f"AT+KHTTP{method}={sid},{uri_arg}" + (",1" if method == "GET" else "")
            done, stream = self.download(line, upload=upload, timeout=timeout)
        except BaseException:
            self._close_http(sid)
            raise
        return NativeResponse(self, sid, method, host, uri, stream, done)

    def _close_http(self, sid: int) -> None:
        for command in ("+KHTTPCLOSE", "+KHTTPDEL"):
            try:
                self.at(command, str(sid))
            except (ATCommandError, ATTimeoutError) as exc:
                log.info("%s=%d: %s", command, sid, exc)


def _body_bytes(body: Body) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if hasattr(body, "read"):
        return bytes(body.read())
    return b"".join(body)


class NativeResponse(BaseResponse):
    """A response of the module's HTTP client, parsed by h11 as it streams from the line."""

    def __init__(self, driver: Sierra, sid: int, method: str, host: str, uri: str,
                 stream: Iterator[bytes], done: UrcWaiter) -> None:
        self._driver = driver
        self._sid = sid
        self._stream = stream
        self._done_waiter = done
        self._finished = False
        self._h11 = h11.Connection(h11.CLIENT)
        self._h11.send(h11.Request(method=method, target=uri, headers=[("Host", host)]))
        self._h11.send(h11.EndOfMessage())
        self.method = method
        self._received = 0
        while True:
            event = self._next()
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                break
            raise HTTPError(f"unexpected {event!r} before the response head")
        self.status = event.status_code
        self.reason = event.reason.decode("latin-1")
        self.headers = [(k.decode("latin-1").lower(), v.decode("latin-1"))
                        for k, v in event.headers]
        self.http_version = event.http_version.decode()

    def _next(self) -> h11.Event:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._end()
                raise HTTPError(f"malformed HTTP from the module: {exc}") from exc
            if event is h11.NEED_DATA:
                data = next(self._stream, b"")
                self._h11.receive_data(data)
                continue
            if isinstance(event, h11.ConnectionClosed):
                self._end()
                raise HTTPError("the response ended early (EOF pattern before its end)")
            return event  # type: ignore[return-value]

    def iter_bytes(self, progress: Progress | None = None) -> Iterator[bytes]:
        """Yield the body as it arrives.

        Raises:
            HTTPError: malformed or cut short. ATCommandError: the module ended with an error.
        """
        total = self.content_length
        while not self._finished:
            event = self._next()
            if isinstance(event, h11.Data):
                self._received += len(event.data)
                if progress is not None:
                    progress(self._received, total)
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._end()

    def _end(self) -> None:
        if self._finished:
            return
        self._finished = True
        for _ in self._stream:
            pass
        try:
            self._driver.finish(self._done_waiter, f"AT+KHTTP{self.method}")
        finally:
            self._driver._close_http(self._sid)


class SierraSocket(SecureSocket):
    """A TLS socket of an HL78xx: ``AT+KTCPSND``, ``+KTCP_DATA``, ``AT+KTCPRCV``
    (HL75-ATIG 11.10.3-11.10.8)."""

    #: seconds ``recv`` waits for data.
    timeout: float = 60.0

    def __init__(self, driver: Sierra, sid: int, host: str, port: int) -> None:
        self.driver = driver
        self.sid = sid
        self.host = host
        self.port = port
        self._cond = threading.Condition()
        self._available = 0
        self._buffer: deque[bytes] = deque()
        self._peer_closed = False
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _notify(self, data: bool, number: int) -> None:
        with self._cond:
            if data:
                self._available = max(self._available, number)
            elif number in (4, 0, 5, 6):
                self._peer_closed = True
            self._cond.notify_all()

    def sendall(self, data: bytes) -> None:
        """``AT+KTCPSND=<id>,<n>``, ``CONNECT``, the bytes, the EOF pattern, ``OK``.

        Raises:
            SocketError: closed, or the module refused.
        """
        view = memoryview(data)
        while view:
            if self._closed or self._peer_closed:
                raise SocketError(f"TLS session {self.sid} to {self.host} is closed")
            piece = bytes(view[:MAX_SEND])
            try:
                self.driver.at("+KTCPSND", f"{self.sid},{len(piece)}", data_phase="connect",
                               payload=piece + self.driver.pattern_for(piece))
            except (ATCommandError, ATTimeoutError) as exc:
                raise SocketError(f"AT+KTCPSND on session {self.sid} failed: {exc}") from exc
            view = view[len(piece):]

    def recv(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes``; ``b""`` once the server closed and everything was read.

        Raises:
            ATTimeoutError: nothing within :attr:`timeout`. SocketError: the read failed.
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
                count = self._available
                if not count:
                    if self._peer_closed:
                        return b""
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise ATTimeoutError(f"data on TLS session {self.sid}", self.timeout)
                    self._cond.wait(min(remaining, 0.5))
                    continue
                count = min(count, MAX_RECV)
                self._available -= count
            try:
                waiter, stream = self.driver.download(f"AT+KTCPRCV={self.sid},{count}",
                                                      length=count, timeout=self.timeout)
                data = b"".join(stream)
                self.driver.finish(waiter, "AT+KTCPRCV")
            except ATCommandError as exc:
                raise SocketError(f"AT+KTCPRCV on session {self.sid} failed: {exc}") from exc
            with self._cond:
                if data:
                    self._buffer.append(data)

    def close(self) -> None:
        """``AT+KTCPCLOSE=<id>,1`` and ``AT+KTCPDEL=<id>`` (HL75-ATIG 11.10.5-6)."""
        if self._closed:
            return
        self._closed = True
        for command, args in (("+KTCPCLOSE", f"{self.sid},1"), ("+KTCPDEL", str(self.sid))):
            try:
                self.driver.at(command, args)
            except (ATCommandError, ATTimeoutError) as exc:
                log.info("%s=%s: %s", command, args, exc)
        with self.driver._lock:
            self.driver._sockets.pop(self.sid, None)


def describe_kcnx_ind(text: str) -> str:
    """Decode ``+KCNX_IND: <cnx>,<status>[,...]`` field by field (HL75-ATIG 11.7.5)."""
    fields = [f.strip() for f in text.split(":", 1)[1].split(",")]
    status = int(fields[1]) if len(fields) > 1 and fields[1].lstrip("-").isdigit() else -1
    out = [f"connection configuration {fields[0]}",
           f"status {status} ({cat.KCNX_STATUS.get(status, 'unknown')})"]
    if status == 2 and len(fields) >= 5:
        out.append(f"attempt {fields[2]} of {fields[3]} attempts, next in {fields[4]} s "
                   "(+KCNXTIMER)")
    elif status in (0, 1) and len(fields) > 2:
        out.append("IPv6" if fields[2] == "1" else "IPv4")
    return ", ".join(out)


def describe_line(text: str) -> str:
    """The meaning of a ``+KHTTP_ERROR``/``+KTCP_NOTIF``/``+KCNX_IND`` line, else ``text``."""
    if text.startswith("+KCNX_IND:"):
        return describe_kcnx_ind(text)
    if text.startswith(("+KHTTP_ERROR:", "+KTCP_NOTIF:")):
        with contextlib.suppress(ValueError, IndexError):
            code = int(text.split(",")[1])
            return f"session {text.split(':')[1].split(',')[0].strip()}: " \
                   f"{cat.NOTIF.get(code, 'unknown code')}"
    return text
