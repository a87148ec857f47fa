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
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from celltls.at import quoting
from celltls.at.channel import ATChannel, UrcWaiter
from celltls.at.protocol import Request, Urc
from celltls.dialects.base import (
    Capabilities,
    CredentialKind,
    Dialect,
    NetworkStatus,
    RecvClock,
    SecureSocket,
    StoredCredential,
)
from celltls.dialects.sierra import catalog as cat
from celltls.dialects.sierra.urcs import describe_kcnx_ind, describe_line
from celltls.dialects.spec import Value
from celltls.errors import (
    ATCommandError,
    ATProtocolError,
    ATTimeoutError,
    CellTLSError,
    ConnectTimeoutError,
    CredentialError,
    DNSError,
    ModuleRebootedError,
    NetworkError,
    NetworkLostError,
    PortError,
    ProfileError,
    SocketError,
    UnsafeArgumentError,
)
from celltls.http import BaseResponse, Body, HTTPConnection, body_bytes
from celltls.tls import TlsProfile, TlsVersion, Verify
from celltls.tlsprobe import explain_failure

log = logging.getLogger(__name__)

CATALOG = cat.CATALOG
#: Bytes asked of one AT+KTCPRCV, and sent by one AT+KTCPSND (catalog MAX_CHUNK).
MAX_RECV = cat.MAX_CHUNK
MAX_SEND = cat.MAX_CHUNK
#: ``+CME ERROR: 910``: bad session id, i.e. the id is free (catalog CME_BAD_SESSION).
CME_BAD_SESSION = cat.CME_BAD_SESSION

#: Names of every ``+KTCP_NOTIF`` / ``+KHTTP_ERROR`` code (catalog NOTIF: HL75-ATIG 11.10.2,
#: sierra-hl78xx.md S4).
NOTIF_NAMES: dict[int, str] = dict(cat.NOTIF)
#: Notification codes that come from the TLS layer or a failed connect that TLS may explain.
_TLS_NOTIFS = (5, 13, 14, 15)
#: +KTCPCFG <mode> of a plain TCP client (the catalog's values of <mode>; sierra-hl78xx.md S4
#: "+KTCPCFG": 0 client in every driver read, L2).
TCP_MODE_CLIENT = 0


#: The EOF patterns :meth:`Sierra.sync` sets (``--celltls-`` and 12 hex digits).
_OWN_PATTERN = re.compile(r"--celltls-[0-9a-f]{12}--")


def arguments(name: str, **values: Value) -> str:
    """The argument text of ``AT<name>=...`` built from the catalog's form (quoting, ranges,
    lengths and values checked there: :meth:`celltls.dialects.spec.Command.build`).

    Raises:
        ParamError: (an :class:`~celltls.errors.UnsafeArgumentError`) a value the form does not
            accept; nothing has been written to the port.
    """
    return CATALOG.command(name).build(**values)


def notif_name(code: int) -> str:
    """The meaning of a ``+KTCP_NOTIF``/``+KHTTP_ERROR`` ``code`` (:data:`NOTIF_NAMES`)."""
    return NOTIF_NAMES.get(code, "unknown notification code")


def parse_notif(text: str) -> tuple[int, int] | None:
    """``(session id, code)`` of a ``+KTCP_NOTIF: <sid>,<code>`` (or ``+KHTTP_ERROR``) line,
    ``None`` when malformed."""
    try:
        sid_text, code_text = text.split(":", 1)[1].split(",")[:2]
        return int(sid_text), int(code_text)
    except ValueError:
        return None


def notif_error(text: str, *, host: str = "", port: int = 0,
                during: str = "use") -> CellTLSError:
    """The celltls error for a ``+KTCP_NOTIF: <sid>,<code>`` line (sierra-hl78xx.md S4).

    Code 3 is a :class:`DNSError`, 12 a :class:`ConnectTimeoutError`, 0 a
    :class:`NetworkLostError` (carrying the URC), the rest a :class:`SocketError` naming the
    code. TLS codes (5, 13-15) are explained by the caller with :mod:`celltls.tlsprobe` where
    it can; here they become a :class:`SocketError` too.

    Args:
        text: the URC as received.
        host, port: the server, for the message.
        during: what was happening (``"connect"``, ``"receive"``...).
    """
    parsed = parse_notif(text)
    code = parsed[1] if parsed else -1
    where = f" ({host}:{port})" if host else ""
    message = f"{text}: {notif_name(code)}{where} during {during}"
    if code == 3:
        return DNSError(f"the module could not resolve {host or 'the host name'} ({text})")
    if code == 12:
        return ConnectTimeoutError(f"no connection to {host}:{port} in time: {message}")
    if code == 0 and during == "connect":
        return NetworkError(f"{message}: no packet data connection (attach first?)")
    if code == 0:
        return NetworkLostError(message, urc=text)
    return SocketError(message)


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
        secure_sockets=model.sessions if hl else 0,
        security_contexts=cat.CRYPTO_PROFILES_CURRENT if model.ksslcrypto else 1,
        max_send=MAX_SEND,
        max_recv=MAX_RECV,
        credential_limits={"root CA": model.max_cert},
        transparent_mode=False,
        native_http=True,
        max_hostname=cat.MAX_HOSTNAME,
        sources=model.sources,
    )


#: Commands safe to send again when their answer was lost (queries): Dialect.at.
_QUERIES = frozenset({"+KTCPSTAT", "+CGMM", "+CGMR", "+CGPADDR"})


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
    plain_tcp = True
    capabilities = capabilities_for(cat.MODELS["hl7800"])
    catalog = CATALOG
    retry_safe = _QUERIES

    def __init__(self, channel: ATChannel, *, model: str | None = None,
                 probe_failures: bool = True, guard_time: float = 1.0, cnx: int = 1) -> None:
        super().__init__(channel)
        self.model = cat.model(model) if model else cat.MODELS["hl7800"]
        self._model_given = model is not None
        self.capabilities = capabilities_for(self.model)
        self.probe_failures = probe_failures
        self.guard_time = guard_time
        quoting.integer(cnx, "cnx", *cat.CNX_RANGE)
        self.cnx = cnx
        self.pattern = cat.DEFAULT_PATTERN.encode()
        self._stored: dict[str, str] = {}
        # this module's record in the state file (see _state_key), read when the pattern of an
        # earlier run is kept: slot name -> "<size>:<sha256>", "ksrep" -> "1"
        self._record: dict[str, str] = {}
        self._sockets: dict[int, SierraSocket] = {}
        self._http_sessions: set[int] = set()
        self._transfers: dict[int, _NativeStream] = {}  # native responses not closed yet
        self._lock = threading.Lock()
        #: what went wrong outside any command (a reboot, the network lost), numbered so that
        #: a wait can tell what happened since it began.
        self._reboot_seen = False
        self._reboot_text = ""  # the +KSUP line of the last restart
        #: the APN, credentials and timeout of this session's last attach(), or ``None``
        self._attach_args: tuple[str, str | None, str | None, float] | None = None
        # +KSUP is a URC even in the middle of another command's answer (sierra-hl78xx.md S2);
        # the catalog does not list it yet.
        channel.add_urc_prefixes("+KSUP:")
        channel.subscribe("+KTCP_DATA:", self._on_tcp_urc)
        channel.subscribe("+KTCP_NOTIF:", self._on_tcp_urc)
        channel.subscribe("+KSUP:", self._on_ksup)
        channel.subscribe("+KCNX_IND:", self._on_kcnx_ind)

    # -- commands ----------------------------------------------------------------------------

    def close_all(self) -> None:
        """Close every TLS socket and HTTP session this run opened; never raises for a module
        answer (sierra-hl78xx.md §4, §6). A native response still being received is ended
        first (:meth:`_NativeStream.close`: ``+++`` unless it ends within the guard time), so
        that the module is in command mode for the rest."""
        with self._lock:
            sockets = list(self._sockets.values())
            transfers = list(self._transfers.values())
        for native in transfers:
            try:
                native.close()
            except (CellTLSError, OSError) as exc:
                log.info("ending HTTP session %d: %s", native.sid, exc)
        with self._lock:
            sessions = list(self._http_sessions)
        for sock in sockets:
            try:
                sock.close()
            except (CellTLSError, OSError) as exc:
                log.info("closing session %d: %s", sock.sid, exc)
        for sid in sessions:
            try:
                self._close_http(sid)
            except (CellTLSError, OSError) as exc:
                log.info("closing HTTP session %d: %s", sid, exc)

    def query_line(self, name: str, args: str, prefix: str) -> str:
        """A query that must answer one ``prefix`` line: the text after it.

        An answer without that line (a stray final result code took the place of the real
        one) is asked again once, after resynchronising the line.

        Raises:
            ATProtocolError: still no such line. ATCommandError, ATTimeoutError: see :meth:`at`.
        """
        for attempt in range(2):
            reply = self.at(name, args, response_prefixes=(prefix,))
            try:
                return reply.first(prefix)
            except ATProtocolError:
                if attempt:
                    raise
                log.warning("%s: answer without %s; resynchronising", reply.command, prefix)
                self.channel.abandon_data_phase()  # forces an AT resync before the next one
        raise AssertionError("unreachable")  # pragma: no cover

    # -- events outside commands ---------------------------------------------------------------

    def _on_ksup(self, event: Urc | object) -> None:
        text = event.text if isinstance(event, Urc) else getattr(event, "header", "")
        self._rebooted(text)

    def _rebooted(self, text: str, where: str = "") -> ModuleRebootedError:
        """Record the restart a ``+KSUP`` line reports and fail every open socket with it."""
        status = text.split(":", 1)[1].strip()
        error = ModuleRebootedError(
            f"the module restarted{where} ({text}: {_ksup_meaning(status)}); its "
            "sessions are gone", urc=text)
        log.warning("module restarted: %s", text)
        self._reboot_seen = True
        self._reboot_text = text
        self._report(error)
        with self._lock:
            sockets = list(self._sockets.values())
        for sock in sockets:
            sock._fail(error)
        return error

    def _on_kcnx_ind(self, event: Urc | object) -> None:
        text = event.text if isinstance(event, Urc) else getattr(event, "header", "")
        fields = [f.strip() for f in text.split(":", 1)[1].split(",")]
        if len(fields) < 2 or fields[0] != str(self.cnx) or fields[1] != "0":
            return
        with self._lock:
            sockets = list(self._sockets.values())
            busy = bool(sockets or self._http_sessions)
        if not busy:
            return  # after the last session closed, 1,0,0 ends the idle count-down (S5b)
        error = NetworkLostError(f"the network dropped the PDP connection ({text}: "
                                 f"{describe_kcnx_ind(text)})", urc=text)
        self._report(error)
        for sock in sockets:
            sock._fail(error)

    # -- start of a session ------------------------------------------------------------------

    def initialise(self) -> dict[str, str]:
        """:meth:`sync`, then ``AT+CMEE=1`` and the model and firmware (``AT+CGMM``,
        ``AT+CGMR``: :meth:`~celltls.dialects.base.Dialect.identify`), boot reports
        (``AT+KSREP``), then :meth:`recover`. Only ``AT+CMEE=1`` (issue 17) when the model was
        given, or when :attr:`state` holds the model and firmware an earlier run read under
        the EOF pattern that is still set.

        Returns:
            dict: ``model`` and ``firmware`` (only ``model``, the one given, when it was).

        Raises:
            ATTimeoutError: the module does not answer (not even after leaving a data phase).
        """
        self.sync()
        cached = {name: self._record[name] for name in ("model", "firmware")
                  if self._record.get(name)}
        if self._model_given:
            self.at("+CMEE", arguments("+CMEE", n=1))
            info = {"model": self.model.name.upper()}
        else:
            if len(cached) == 2:
                # An earlier run identified this module and recorded it under the EOF pattern
                # it set, which is still set: no restart (which would reset the pattern, and
                # which a firmware update needs) and no other program's pattern since.
                self.at("+CMEE", arguments("+CMEE", n=1))
                info = cached
            else:
                info = self.identify()
                if info.get("model") and info.get("firmware"):
                    self._remember(model=info["model"], firmware=info["firmware"])
            with contextlib.suppress(KeyError):
                self.model = cat.model(info.get("model", ""))
                self.capabilities = capabilities_for(self.model)
        self._enable_boot_report()
        self.recover()
        return info

    def sync(self, timeout: float = 30.0) -> None:
        """Bring the line to command mode with a fresh EOF pattern, and prove that the answers
        read are the module's answers to these commands.

        An earlier host run may have left the module inside a data phase (an upload waiting
        for its pattern: sierra-hl78xx.md S4 +KTCPSND) or streaming the rest of a download (an
        ``AT+KHTTPGET`` cut by a lost line: the module is in data mode until the pattern and
        ``OK``, HL75-ATIG 11.10.3, S7 p.207, and answers no command before).
        ``AT+KPATTERN=<new>`` then ``AT+KPATTERN?`` must read back the new pattern; until it
        does, the line is resynchronised, and after a timeout the data-phase ends the module
        may be waiting for are written (``+++`` with guard times for RC76xx uploads and for a
        download still under way, the factory pattern ``--EOF--Pattern--``) before trying
        again (:meth:`_end_foreign_data_phase`).

        Raises:
            ATTimeoutError: no proof of command mode within ``timeout`` seconds.
        """
        if self._keep_pattern():
            return
        deadline = time.monotonic() + timeout
        while True:
            pattern = f"--celltls-{secrets.token_hex(6)}--"
            try:
                self.set_pattern(pattern)
                reply = self.channel.command("AT+KPATTERN?", timeout=3,
                                             response_prefixes=("+KPATTERN:",))
                read_back = [quoting.unquote(line.split(":", 1)[1].strip())
                             for line in reply.lines if line.startswith("+KPATTERN:")]
                if read_back == [pattern]:
                    return
                log.warning("AT+KPATTERN? answered %r, not %r: stale answers on the line; "
                            "resynchronising", reply.lines, pattern)
                self.channel.abandon_data_phase()
            except ATCommandError as exc:
                if "KPATTERN?" in exc.command:
                    log.info("AT+KPATTERN? not answered (%s); the pattern is taken as set", exc)
                    return
                log.warning("setting the EOF pattern failed (%s); resynchronising", exc)
                self.channel.abandon_data_phase()
            except ATTimeoutError as exc:
                if time.monotonic() > deadline:
                    raise ATTimeoutError(
                        "the module (no answer in command mode: it may be inside a data phase "
                        "of an earlier run, or asleep; power-cycle it if this persists)",
                        timeout) from exc
                log.warning("no answer (%s): ending a data phase the module may be in", exc)
                self._end_foreign_data_phase()
            if time.monotonic() > deadline:
                raise ATTimeoutError("AT+KPATTERN? (proof of command mode)", timeout)
            time.sleep(0.2)

    def _keep_pattern(self) -> bool:
        """One ``AT+KPATTERN?``: when it answers cleanly (one ``+KPATTERN:`` line, ``OK``)
        with a pattern an earlier celltls run set (``--celltls-<12 hex>--``), the line is in
        command mode and that pattern is kept: one command instead of a new pattern and its
        read-back (issue 17). Anything else (no answer, a stray line, another pattern) leaves
        the decision to :meth:`sync`'s loop."""
        try:
            reply = self.channel.command("AT+KPATTERN?", timeout=3,
                                         response_prefixes=("+KPATTERN:",))
        except (ATCommandError, ATTimeoutError, ATProtocolError) as exc:
            log.info("AT+KPATTERN? (%s): setting a new pattern", exc)
            return False
        if len(reply.lines) != 1 or reply.blocks or not reply.lines[0].startswith("+KPATTERN:"):
            return False
        current = quoting.unquote(reply.lines[0].split(":", 1)[1].strip())
        if not _OWN_PATTERN.fullmatch(current):
            return False
        self.pattern = current.encode("ascii")
        self._record = self.state.get(self._state_key) if self.state is not None else {}
        return True

    @property
    def _state_key(self) -> str:
        """The module's key in :attr:`state`: the random EOF pattern this driver (or an
        earlier run's) set, which another program's ``AT+KPATTERN`` changes."""
        return f"sierra:{self.pattern.decode('ascii')}"

    def _remember(self, **values: str | None) -> None:
        """Record values for this module in :attr:`state` (and in this session)."""
        for name, value in values.items():
            if value is None:
                self._record.pop(name, None)
            else:
                self._record[name] = value
        if self.state is not None and _OWN_PATTERN.fullmatch(self.pattern.decode("ascii")):
            self.state.update(self._state_key, **values)

    def _end_foreign_data_phase(self) -> None:
        """Write what ends a data phase started by someone else: the guard-time framed ``+++``
        and the factory EOF pattern (sierra-hl78xx.md S4 +KPATTERN).

        ``+++`` ends an upload waiting for it (RC76xx ``AT+KCERTSTORE``, SEED-000) and a
        download the module is still sending, such as the rest of an ``AT+KHTTPGET`` body cut
        by a lost line: ``OK`` and the transfer is dropped (HL75-ATIG 16.9 "Switch Data/Command
        Mode DTR +++ ATO Behavior Table", S7 p.302: +KHTTPGET/HEAD/POST, ``OK``/``NO CARRIER
        (disconnect)``). The silence around it is longer than the guard time, which the module
        needs in full on both sides (a byte within it makes the ``+`` data). Whatever the module
        does not need is taken as payload or as characters before ``AT`` (V.250 5.2.1)."""
        time.sleep(self.guard_time * 1.5)
        self.channel.write_raw(b"+++")
        time.sleep(self.guard_time * 1.5)
        self.channel.write_raw(cat.DEFAULT_PATTERN.encode())
        self.channel.abandon_data_phase()

    def _enable_boot_report(self) -> None:
        """Turn on the ``+KSUP`` boot URC (``AT+KSREP=1``, kept by the module; sierra-hl78xx.md
        S2), so that a restart is recognised. A module without it is logged, not refused."""
        if self._record.get("ksrep") == "1":
            return  # set by an earlier run; the module keeps it (recorded in the state file)
        try:
            line = self.query_line("+KSREP", "?", "+KSREP:")
            if line.split(",")[0].strip() != "1":
                self.at("+KSREP", arguments("+KSREP", act=1))
            self._remember(ksrep="1")
        except (ATCommandError, ATProtocolError, ATTimeoutError) as exc:
            log.info("no +KSUP boot report (%s): a restart is noticed by its effects only", exc)

    def recover(self) -> dict[str, list[int]]:
        """Close and delete what an earlier host run left open in the module.

        TCP sessions are listed with ``AT+KTCPCFG?`` (else probed with ``AT+KTCPSTAT=<id>``,
        ``+CME ERROR: 910`` meaning free), then ``AT+KTCPCLOSE=<id>,1`` and ``AT+KTCPDEL=<id>``;
        HTTP sessions are listed with ``AT+KHTTPCFG?`` (else probed with ``AT+KHTTPDEL``), then
        ``AT+KHTTPCLOSE=<id>`` and ``AT+KHTTPDEL=<id>`` (sierra-hl78xx.md S4 "Sessions left by
        an earlier host run", S6; S1, S4, S5, S10b). Sessions this driver opened are kept.
        A state query the module does not answer is logged and skipped.

        Returns:
            dict: ``{"tcp": [...], "http": [...]}``, the ids found and cleaned up.
        """
        with self._lock:
            own_tcp = set(self._sockets)
            own_http = set(self._http_sessions)
        tcp = [sid for sid in self._listed("+KTCPCFG") if sid not in own_tcp]
        for sid in tcp:
            log.warning("TCP session %d was left open by an earlier run: closing it", sid)
            self._quietly("+KTCPCLOSE", arguments("+KTCPCLOSE", session_id=sid,
                                             closing_type=cat.CLOSE_GRACEFUL))
            self._quietly("+KTCPDEL", arguments("+KTCPDEL", session_id=sid))
        http = [sid for sid in self._listed("+KHTTPCFG") if sid not in own_http]
        for sid in http:
            log.warning("HTTP session %d was left open by an earlier run: closing it", sid)
            self._close_http(sid)
        self._reboot_seen = False
        return {"tcp": tcp, "http": http}

    def _listed(self, name: str) -> list[int]:
        """The session ids ``AT<name>?`` lists, or those found by probing when it fails."""
        try:
            reply = self.at(name, "?", response_prefixes=(f"{name}:",), timeout=10)
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("AT%s? not answered (%s): probing session ids", name, exc)
            return self._probe_ids(name)
        ids: list[int] = []
        for line in reply.lines:
            if line.startswith(f"{name}:"):
                first = line.split(":", 1)[1].split(",")[0].strip()
                if first.isdigit():
                    ids.append(int(first))
        return ids

    def _probe_ids(self, name: str) -> list[int]:
        """Ids in use found one by one: ``AT+KTCPSTAT=<id>`` for TCP; for HTTP,
        ``AT+KHTTPCLOSE`` then ``AT+KHTTPDEL`` (S10b). ``910`` means free; any other refusal
        of the first id means the module lacks the command, and probing stops."""
        used: list[int] = []
        # the ids the model hands out for TCP and HTTP (catalog MODELS: sessions)
        for sid in range(1, self.model.sessions + 1):
            try:
                if name == "+KTCPCFG":
                    self.at("+KTCPSTAT", arguments("+KTCPSTAT", session_id=sid))
                else:
                    self._quietly("+KHTTPCLOSE", arguments("+KHTTPCLOSE", session_id=sid))
                    self.at("+KHTTPDEL", arguments("+KHTTPDEL", session_id=sid))
                    log.warning("HTTP session %d was left by an earlier run: deleted", sid)
                    continue  # already cleaned up
            except ATCommandError as exc:
                if exc.code == CME_BAD_SESSION:
                    continue
                log.info("%s probe of id %d: %s; not probing further", name, sid, exc)
                return used
            except ATTimeoutError as exc:
                log.info("%s probe of id %d: %s", name, sid, exc)
                return used
            used.append(sid)
        return used

    def _quietly(self, name: str, args: str) -> None:
        """Send a clean-up command; a refusal (already closed, unknown id) is only logged."""
        try:
            self.at(name, args)
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("AT%s=%s: %s", name, args, exc)

    def _before_use(self) -> None:
        """After a restart reported while idle, set the pattern again and clean up; when this
        session attached, bring the network back up with the same APN, credentials and timeout
        (the restart lost the PDP connection: ``+KCNXUP`` again, sierra-hl78xx.md S3).

        Raises:
            ModuleRebootedError: the network did not come back after the restart.
        """
        if self._reboot_seen:
            log.warning("the module restarted since the last request: initialising again")
            text = self._reboot_text
            self.sync()
            self.recover()
            if self._attach_args is not None:
                self.attach_again(f"the module restarted ({text})", *self._attach_args,
                                  restart_urc=text)

    def set_pattern(self, pattern: str) -> None:
        """``AT+KPATTERN=<pattern>`` (HL78-ATIG +KPATTERN).

        Raises:
            UnsafeArgumentError: the pattern cannot be sent or is longer than 128 characters.
        """
        self.at("+KPATTERN", arguments("+KPATTERN", EOF_pattern=pattern))
        old_key, self.pattern = self._state_key, pattern.encode("ascii")
        if self.state is not None and self._record:
            # the same module under its new pattern (what this session wrote stays true)
            self.state.rename(old_key, self._state_key)

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
        values: dict[str, Value] = {"cnx_cnf": self.cnx, "ctxt_type": "GPRS", "apn": apn}
        if user is not None or password is not None:
            values.update(login=user or "", password=password or "")
        kcnxcfg = CATALOG.command("+KCNXCFG")
        cnx_args = kcnxcfg.build(**values)
        shown = f"AT+KCNXCFG={kcnxcfg.shown(**values)}"
        self._attach_args = (apn, user, password, timeout)
        stat, meaning = self.wait_registered(timeout)
        address = self._pdp_address()
        if address:
            # Already up (an earlier session brought it up): AT+KCNXUP would report nothing
            # new, so attaching twice is a no-op.
            return NetworkStatus(True, (stat, meaning), address, apn)
        self.at("+KCNXCFG", cnx_args, shown=shown)
        if self.model.cnxup:
            waiter = self.channel.expect_urc(lambda t: t.startswith(f"+KCNX_IND: {self.cnx},"))
            deadline = time.monotonic() + timeout
            try:
                self.at("+KCNXUP", arguments("+KCNXUP", cnx_cnf=self.cnx))
                while True:
                    # 4 connecting, 5/6 idle count-down: not an outcome yet (sierra-hl78xx.md
                    # S3: OK, +KCNX_IND: 1,4,1, then +KCNX_IND: 1,1,0); 2 with attempts left
                    # is retried by the module after <tim1>.
                    text = self.wait_urc(waiter, max(0.0, deadline - time.monotonic()),
                                         "+KCNX_IND after AT+KCNXUP")
                    fields = [f.strip() for f in
                              quoting.split_arguments(text.split(":", 1)[1])]
                    status = fields[1] if len(fields) > 1 else ""
                    if status == "1":
                        break
                    if status in ("4", "5", "6"):
                        continue
                    if status == "2" and len(fields) >= 4 and fields[2].isdigit() \
                            and fields[3].isdigit() and int(fields[2]) < int(fields[3]):
                        continue
                    raise NetworkError(f"{text}: {describe_kcnx_ind(text)}")
            finally:
                self.channel.forget(waiter)
        return NetworkStatus(True, (stat, meaning), self._pdp_address(), apn)

    def _pdp_address(self) -> str | None:
        """The address of PDP context ``cnx`` from ``AT+CGPADDR`` (27.007 10.1.14), or ``None``
        when it has none (not activated)."""
        reply = self.channel.command(f"AT+CGPADDR={arguments('+CGPADDR', cid=self.cnx)}", timeout=2,
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
        recorded = f"{len(data)}:{digest}"
        if not secret and self._record.get(target) == recorded and \
                self._listed_size(prefix, index) == len(data):
            # written by an earlier run (state file) and still that size in the module's list
            self._stored[target] = digest
            return StoredCredential(target, kind, len(data), digest, uploaded=False)
        if not self.model.certstore_size:
            if kind == "client_key":
                raise CredentialError("RC76xx has no AT+KPRIVKSTORE in our sources")
            self._store_with_escape(cat.CERT_ROOT if kind == "ca" else cat.CERT_LOCAL, data)
        else:
            if kind == "client_key":
                command = "+KPRIVKSTORE"
                text = arguments(command, index=index, NbData=len(data))
            else:
                command = "+KCERTSTORE"
                data_type = cat.CERT_ROOT if kind == "ca" else cat.CERT_LOCAL
                text = arguments(command, data_type=data_type, NbData=len(data), index=index)
            pattern = self.pattern_for(data)
            self._remember(**{target: None})  # until the module confirms the new one
            self.at(command, text, data_phase="connect", payload=data + pattern,
                    secret_payload=secret)
        self._stored[target] = digest
        if not secret and self.model.certstore_size:
            self._remember(**{target: recorded})
        return StoredCredential(target, kind, len(data), digest, uploaded=True)

    def _listed_size(self, prefix: str, index: int) -> int | None:
        """The size ``AT+KCERTSTORE?`` lists for a certificate slot: ``CONNECT``, then
        ``root_cert,<index>,<size>`` and ``local_cert,<index>,<size>`` lines, ``OK``
        (sierra-hl78xx.md S5a); ``None`` when the module does not list it."""
        name = {"root": "root_cert", "local": "local_cert"}[prefix]
        try:
            reply = self.at("+KCERTSTORE", "?", timeout=10)
        except (ATCommandError, ATTimeoutError) as exc:
            log.info("AT+KCERTSTORE? (%s): the certificate is written again", exc)
            return None
        for line in reply.lines:
            fields = [f.strip() for f in line.split(",")]
            if len(fields) == 3 and fields[0] == name and fields[1] == str(index) \
                    and fields[2].isdigit():
                return int(fields[2])
        return None

    def _store_with_escape(self, data_type: int, data: bytes) -> None:
        waiter = self.channel.expect_urc(lambda t: t in ("OK", "ERROR") or "ERROR" in t)
        try:
            # CONNECT ends the command here: the data goes afterwards, ended by +++ (RC76xx)
            self.at("+KCERTSTORE", arguments("+KCERTSTORE", data_type=data_type),
                    connect_is_final=True, data_phase=None)
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
        self._remember(**{name: None})
        if base == "key":
            self.at("+KPRIVKDELETE", arguments("+KPRIVKDELETE", index=int(index_text)))
        else:
            self.at("+KCERTDELETE", arguments(
                "+KCERTDELETE", data_type=cat.CERT_ROOT if base == "root" else cat.CERT_LOCAL,
                index=int(index_text)))
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
            # profile 0 with every ECDHE suite (catalog KSSL_ECDHE_PROFILE), root CA slot 0
            self.at("+KSSLCRYPTO", arguments("+KSSLCRYPTO", cipher_index=0,
                                        **cat.KSSL_ECDHE_PROFILE, auth=auth, root_cert_idx=0))
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
        target: dict[str, Value] = {"cnx_cnf": self.cnx, "mode": cat.TCP_MODE_TLS_CLIENT,
                                    "remote_name": host, "tcp_port": port}
        arguments("+KTCPCFG", **target)  # host and port checked before any command is written
        self._before_use()
        cipher = self.apply_profile(profile)
        return self._open_session(target, cipher, host, port, timeout, profile)

    def tcp_connect(self, host: str, port: int, *, timeout: float = 90.0) -> SecureSocket:
        """A plain TCP client session, for TLS on the host (:mod:`celltls.hosttls`):
        ``AT+KTCPCFG=<cnx>,0,<host>,<port>`` (mode 0, client; sierra-hl78xx.md S4
        "+KTCPCFG", L2) then ``AT+KTCPCNX``; the same ``+KTCP_DATA``/``AT+KTCPRCV`` accounting
        and ``AT+KTCPSND`` as a TLS session (:class:`SierraSocket`). Sessions an earlier run
        left are closed by :meth:`recover` (S4 "Sessions left by an earlier host run").

        Raises:
            UnsafeArgumentError: a host or port that cannot be sent (nothing is written).
            DNSError, ConnectTimeoutError, NetworkError, SocketError: ``+KTCP_NOTIF`` on
                connect (:func:`notif_error`), or no ``+KTCP_IND`` within ``timeout``.
            ModuleRebootedError, NetworkLostError: the module or the bearer went away.
        """
        target: dict[str, Value] = {"cnx_cnf": self.cnx, "mode": TCP_MODE_CLIENT,
                                    "remote_name": host, "tcp_port": port}
        arguments("+KTCPCFG", **target)  # host and port checked before any command is written
        self._before_use()
        return self._open_session(target, None, host, port, timeout, None)

    def _open_session(self, target: dict[str, Value], cipher: int | None, host: str, port: int,
                      timeout: float, profile: TlsProfile | None) -> SierraSocket:
        """``AT+KTCPCFG`` with ``target`` (and ``cipher``), ``AT+KTCPCNX``, then the
        ``+KTCP_IND``/``+KTCP_NOTIF`` that settles it (sierra-hl78xx.md S4)."""
        what = "TLS" if profile is not None else "TCP"
        extra: dict[str, Value] = {} if cipher is None else {"cipher_index": cipher}
        reply = self.at("+KTCPCFG", arguments("+KTCPCFG", **target, **extra))
        sid = int(reply.first("+KTCPCFG:"))
        waiter = self.channel.expect_urc(
            lambda t: t.startswith((f"+KTCP_IND: {sid},", f"+KTCP_NOTIF: {sid},")))
        try:
            self.at("+KTCPCNX", arguments("+KTCPCNX", session_id=sid))
            text = self.wait_urc(waiter, timeout, f"AT+KTCPCNX={sid} (result)")
        except ATTimeoutError as exc:
            self._drop_tcp(sid)
            raise ConnectTimeoutError(
                f"no {what} connection to {host}:{port} within {timeout:g} s "
                f"(AT+KTCPCNX={sid}: no +KTCP_IND); check the host, the port and the network"
            ) from exc
        except BaseException:
            self._drop_tcp(sid)  # Ctrl-C or a failure: leave nothing open in the module
            raise
        finally:
            self.channel.forget(waiter)
        if text.startswith("+KTCP_NOTIF:"):
            self._drop_tcp(sid)
            parsed = parse_notif(text)
            if profile is not None and parsed and parsed[1] in _TLS_NOTIFS:
                raise explain_failure(host, port, self.capabilities, profile, reported=text,
                                      do_probe=self.probe_failures)
            raise notif_error(text, host=host, port=port, during="connect")
        sock = SierraSocket(self, sid, host, port)
        with self._lock:
            self._sockets[sid] = sock
        return sock

    def _drop_tcp(self, sid: int) -> None:
        """``AT+KTCPCLOSE=<id>,1`` and ``AT+KTCPDEL=<id>``, failures logged (S4 +KTCPCLOSE)."""
        self._quietly("+KTCPCLOSE", arguments("+KTCPCLOSE", session_id=sid,
                                         closing_type=cat.CLOSE_GRACEFUL))
        self._quietly("+KTCPDEL", arguments("+KTCPDEL", session_id=sid))
        with self._lock:
            self._sockets.pop(sid, None)

    def _on_tcp_urc(self, event: Urc | object) -> None:
        text = event.text if isinstance(event, Urc) else getattr(event, "header", "")
        parsed = parse_notif(text)
        if parsed is None:
            log.warning("malformed URC %r", text)
            return
        sid, number = parsed
        with self._lock:
            sock = self._sockets.get(sid)
        if sock is None:
            log.info("%s for a session this run did not open (left by an earlier run?)", text)
        elif text.startswith("+KTCP_DATA"):
            sock._notify_data(number)
        else:
            sock._notify_notif(number, text)

    def _drain_raw(self) -> None:
        """Drop raw bytes an abandoned data phase left in the channel, so that they are never
        taken for the next phase's data."""
        while True:
            try:
                stale = self.channel.read_raw(1 << 20, 0)
            except ATTimeoutError:
                return
            if not stale:
                return
            log.warning("dropping %d bytes left by an abandoned data phase", len(stale))

    def download(self, line: str, *, timeout: float = 120.0, upload: Iterable[bytes] = (),
                 on_final: Callable[[], None] | None = None, escape: bool = False,
                 expected: int = 0) -> tuple[UrcWaiter, _Download]:
        """Run a command whose answer is ``CONNECT``, data, the EOF pattern, ``OK``.

        The data is bounded by the EOF pattern only, never by a requested count: the module
        may return fewer bytes than asked (sierra-hl78xx.md S4 +KTCPRCV: k = min(ndata,
        buffered), no length field).

        Args:
            line: the command line (arguments already encoded).
            timeout: seconds for each read.
            upload: bytes to write after ``CONNECT`` first (a POST body, pattern included).
            on_final: called on the reader thread when the final result code after the data
                arrives, in order with the URCs around it.
            escape: a data phase given up before its pattern is left with ``+++``
                (:meth:`_escape_transfer`; ``AT+KHTTPGET``/``HEAD``/``POST``), not only
                abandoned on the host's side.
            expected: the bytes the data should be (``AT+KTCPRCV`` of what ``+KTCP_DATA``
                announced), 0 when unknown: lets the AT channel wait for them before it reads
                (:meth:`ATChannel.end_data_phase_at`); the pattern alone still ends the data.

        Returns:
            the waiter that gets the final ``OK`` (as a URC) and an iterator of the data
            (:class:`_Download`).

        Raises:
            ATCommandError: the module refused the command.
            ATProtocolError: something else than ``CONNECT`` answered it (the line is then
                resynchronised before the next command).
        """
        self._drain_raw()

        def is_final(text: str) -> bool:
            hit = text in ("OK", "ERROR") or text.startswith(("+CME ERROR", "+KHTTP_ERROR"))
            if hit and on_final is not None:
                on_final()
            return hit

        self.channel.arm_raw_on_connect()
        self.channel.disarm_raw_on_connect()
        self.channel.end_data_phase_at(self.pattern, expected)
        waiter = self.channel.expect_urc(is_final)
        try:
            reply = self.channel.execute(Request(line, timeout=30, connect_is_final=True,
                                                 raw_after_connect=True))
            if reply.final is None or reply.final.kind != "CONNECT":
                raise ATProtocolError(f"{line!r} was answered {reply.final and reply.final.text!r}"
                                      " instead of CONNECT (a stray final result code)")
        except BaseException:
            self.channel.cancel_data_phase_end()
            self.channel.forget(waiter)
            if not isinstance(sys.exc_info()[1], ATCommandError):
                self.channel.abandon_data_phase()
            raise
        for chunk in upload:
            self.channel.write_raw(chunk)
        return waiter, _Download(self, line, waiter, timeout, escape=escape)

    def _escape_transfer(self, what: str) -> None:
        """Leave the data phase of an HTTP transfer given up before its EOF pattern and ``OK``
        (a read timed out, the caller stopped reading): the module stays in data mode until
        they come (HL75-ATIG 11.10.3, S7 p.207), so the next commands would be lost in the
        rest of the data or wait for the end of the transfer. The escape sequence ``+++``
        framed by the guard time ends it: ``OK``, the transfer is dropped and the session is
        no longer connected (HL75-ATIG 16.9 "Switch Data/Command Mode DTR +++ ATO Behavior
        Table", S7 p.302, HTTP row: ``+++``/``ATO`` -> ``OK``/``NO CARRIER (disconnect)``);
        the caller closes and deletes it (``AT+KHTTPCLOSE``/``AT+KHTTPDEL``).

        The EOF pattern stays armed meanwhile (:meth:`ATChannel.end_data_phase_at`), so a
        transfer that ends by itself during the first guard time (pattern, ``OK``) is seen to,
        and then nothing is written (:meth:`ATChannel.escape`). A module that answers nothing
        is logged: the caller resynchronises the line (``AT``) before the next command."""
        try:
            self.channel.escape(self.guard_time, timeout=self.guard_time + 5.0)
        except (ATTimeoutError, PortError) as exc:
            log.warning("%s given up: leaving its data phase with +++ failed (%s)", what, exc)
        else:
            log.info("%s given up before its end: data phase left (+++ unless it ended by "
                     "itself within the guard time)", what)

    def finish(self, waiter: UrcWaiter, what: str, *, data_complete: bool = False,
               timeout: float = 30.0) -> None:
        """Wait for the ``OK`` that follows a data phase.

        Args:
            waiter: from :meth:`download`.
            what: the command, for messages.
            data_complete: the data phase ended with its pattern, so the data is whole even if
                the ``OK`` got lost: then a missing ``OK`` is logged, the line resynchronised
                and no error raised.
            timeout: seconds to wait for it.

        Raises:
            ATCommandError: the module ended it with an error.
            ATTimeoutError: no final result code (and ``data_complete`` is false).
        """
        try:
            text = self.wait_urc(waiter, timeout, f"OK after {what}")
        except ATTimeoutError:
            if not data_complete:
                raise
            log.warning("%s: the data ended with its pattern but no OK followed; "
                        "resynchronising the line", what)
            self.channel.abandon_data_phase()
            return
        finally:
            self.channel.forget(waiter)
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
        # the URI and the server are checked by the catalog forms before any command is written
        arguments("+KHTTPGET", session_id=cat.SESSION_RANGE[0], request_uri=uri)
        payload = body_bytes(body)
        # Every header is checked before the first command is written.
        head = [f"{k}: {v}" for k, v in headers if k.lower() not in ("host", "content-length")]
        if payload is not None:
            head.append(f"Content-Length: {len(payload)}")
        for item in head:
            quoting.check_text(item, "header")
        block = "".join(f"{h}\r\n" for h in head).encode("latin-1")
        server: dict[str, Value] = {
            "cnx_cnf": self.cnx, "server_name": host, "http_port": port,
            "http_sec": cat.HTTP_SEC_HTTPS, "login": "", "password": "",
            "start_http_session": 1, "x": 0}
        arguments("+KHTTPCFG", **server)
        self._before_use()
        cipher = self.apply_profile(profile)
        # The session's +KHTTP_IND can follow the OK at once: collect from before the command,
        # for any session, and keep the one of ours once its id is known.
        waiter = self.channel.expect_urc(lambda t: t.startswith(("+KHTTP_IND: ", "+KHTTP_ERROR: ")))
        sid: int | None = None
        try:
            # <http_sec> 2 = HTTPS, <start> 1 = connect now, <x> 0 (sierra-hl78xx.md §6, S5d)
            reply = self.at("+KHTTPCFG", arguments("+KHTTPCFG", **server, cipher_index=cipher),
                            response_prefixes=("+KHTTPCFG:",))
            sid = int(reply.first("+KHTTPCFG:"))
            with self._lock:
                self._http_sessions.add(sid)
            deadline = time.monotonic() + timeout
            while True:
                text = self.wait_urc(waiter, max(0.0, deadline - time.monotonic()),
                                     f"+KHTTP_IND: {sid},1 after AT+KHTTPCFG")
                if _is_connect_report(text, sid):
                    break
                log.info("%s: not the connection of session %d (an earlier transfer's report "
                         "on a reused id?); still waiting for +KHTTP_IND: %d,1", text, sid, sid)
        except ATTimeoutError as exc:
            if sid is not None:
                self._close_http(sid)
                raise ConnectTimeoutError(
                    f"no HTTPS connection to {host}:{port} within {timeout:g} s "
                    f"(no +KHTTP_IND: {sid},1)") from exc
            raise
        except BaseException:
            if sid is not None:
                self._close_http(sid)  # Ctrl-C or a failure: leave nothing open in the module
            raise
        finally:
            self.channel.forget(waiter)
        if text.startswith("+KHTTP_ERROR"):
            self._close_http(sid)
            parsed = parse_notif(text)
            if parsed and parsed[1] in _TLS_NOTIFS:
                raise explain_failure(host, port, self.capabilities, profile, reported=text,
                                      do_probe=self.probe_failures)
            raise notif_error(text, host=host, port=port, during="connect")
        try:
            if head:
                self.at("+KHTTPHEADER", arguments("+KHTTPHEADER", session_id=sid),
                        data_phase="connect",
                        payload=block + self.pattern_for(block))
            upload: list[bytes] = []
            if method == "POST":
                data = payload or b""
                upload = [data, self.pattern_for(data)]
                line = "AT+KHTTPPOST=" + arguments("+KHTTPPOST", session_id=sid, request_uri=uri,
                                              show_resp=1)
            elif method == "GET":
                line = "AT+KHTTPGET=" + arguments("+KHTTPGET", session_id=sid, request_uri=uri,
                                             show_resp=1)
            else:
                line = "AT+KHTTPHEAD=" + arguments("+KHTTPHEAD", session_id=sid, request_uri=uri)
            done, stream = self.download(line, upload=upload, timeout=timeout, escape=True)
        except BaseException:
            self._close_http(sid)
            raise
        native = _NativeStream(self, sid, method, stream, done)
        with self._lock:
            self._transfers[sid] = native
        try:
            return HTTPConnection(native, host, single_response=True).receive_response(method,
                                                                                        uri)
        except BaseException:
            with contextlib.suppress(Exception):
                native.close()
            raise

    def _close_http(self, sid: int) -> None:
        """``AT+KHTTPCLOSE=<id>`` (``OK`` or ``NO CARRIER``, S5d) and ``AT+KHTTPDEL=<id>``;
        refusals are logged (sierra-hl78xx.md S6)."""
        with self._lock:
            self._transfers.pop(sid, None)
        self._quietly("+KHTTPCLOSE", arguments("+KHTTPCLOSE", session_id=sid))
        self._quietly("+KHTTPDEL", arguments("+KHTTPDEL", session_id=sid))
        with self._lock:
            self._http_sessions.discard(sid)


class _Download:
    """The data of a :meth:`Sierra.download` data phase up to its EOF pattern, as an iterator
    of chunks (empty chunks are never yielded).

    Each read waits up to ``timeout`` seconds for data; a restart reported meanwhile (a
    ``+KSUP`` at the end of a quiet line) raises :class:`ModuleRebootedError`. A read that
    fails (a timeout, a lost port, a reboot, an interrupt) gives the data phase up
    (:meth:`close`) before its exception goes on.
    """

    def __init__(self, driver: Sierra, line: str, waiter: UrcWaiter, timeout: float, *,
                 escape: bool) -> None:
        self._driver = driver
        self._line = line
        self._waiter = waiter
        self._timeout = timeout
        self._escape = escape
        self._seq = driver._trouble_seq
        self._deadline = time.monotonic() + timeout
        self._tail = b""  # the last bytes of the data phase, to spot a reboot inside it
        self._over = False
        #: the EOF pattern came: the data is whole, and its final result code follows
        self.ended = False

    def __iter__(self) -> _Download:
        return self

    def __next__(self) -> bytes:
        if self._over:
            raise StopIteration
        with self._given_up_on_failure():
            data = self._read()
        if not data:
            self._over = self.ended = True
            raise StopIteration
        return data

    def _read(self) -> bytes:
        """The next chunk; ``b""`` at the EOF pattern."""
        driver = self._driver
        while True:
            try:
                data = driver.channel.read_raw(65536, 0.25)
            except ATTimeoutError:
                driver._raise_trouble(self._seq)
                quiet = time.monotonic() - (self._deadline - self._timeout)
                reboot = _REBOOT_TAIL.search(self._tail) if quiet >= REBOOT_QUIET else None
                if reboot is not None:
                    raise driver._rebooted(reboot.group(0).strip().decode(),
                                           f" during the data of {self._line}") from None
                if time.monotonic() > self._deadline:
                    raise ATTimeoutError(f"data of {self._line}", self._timeout) from None
                continue
            if data:
                self._deadline = time.monotonic() + self._timeout
                self._tail = (self._tail + data)[-64:]
            return data

    def close(self, wait: float = 0.0) -> None:
        """Stop reading. Data that arrives within ``wait`` seconds is read and dropped: when the
        EOF pattern comes meanwhile the data phase has ended by itself (:attr:`ended`; its
        final result code follows, for :meth:`Sierra.finish`). Otherwise it is given up:
        left with ``+++`` when so made (:meth:`Sierra._escape_transfer`), and the line is
        resynchronised before the next command."""
        if self._over:
            return
        deadline = time.monotonic() + wait
        with self._given_up_on_failure():
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    if not self._driver.channel.read_raw(65536, remaining):
                        self._over = self.ended = True
                        return
                except ATTimeoutError:
                    break
        self._give_up(escape=True)

    @contextlib.contextmanager
    def _given_up_on_failure(self) -> Iterator[None]:
        """A read that fails gives the data phase up before its exception goes on: with
        ``+++`` (when so made), but not after a restart or a lost port (no data mode to leave,
        or no line to leave it on)."""
        try:
            yield
        except (ModuleRebootedError, PortError):
            self._give_up(escape=False)
            raise
        except BaseException:
            self._give_up(escape=True)
            raise

    def _give_up(self, *, escape: bool) -> None:
        if self._over:
            return
        self._over = True
        channel = self._driver.channel
        try:
            if escape and self._escape and channel.in_data_mode:
                self._driver._escape_transfer(self._line)
        finally:
            channel.forget(self._waiter)
            channel.abandon_data_phase()


class _NativeStream:
    """The data phase of ``AT+KHTTPGET``/``HEAD``/``POST`` as a socket-like object for
    :meth:`celltls.http.HTTPConnection.receive_response`: ``recv`` yields what the module hands
    on of the server's answer, up to the EOF pattern; ``close`` ends the transfer, waits for
    the module's final result code when the transfer ended by itself, and closes the session
    (sierra-hl78xx.md §6).

    A transfer given up before its pattern (a read timed out, failed, or the response was
    closed before the end of the data) is left with ``+++`` (:meth:`Sierra._escape_transfer`,
    HL75-ATIG 16.9, S7 p.302), not waited for, and its session closed and deleted at once
    (the escape leaves it not connected), so that the next request does not wait for the old
    transfer's end (HL75-ATIG 11.10.3, S7 p.207)."""

    def __init__(self, driver: Sierra, sid: int, method: str, stream: _Download,
                 done: UrcWaiter) -> None:
        self._driver = driver
        self.sid = sid
        self._method = method
        self._stream = stream
        self._done = done
        self._closed = False

    def sendall(self, data: bytes) -> None:
        raise SocketError("the module's HTTP client sends the request itself")

    def recv(self, max_bytes: int) -> bytes:
        if self._closed:
            return b""
        try:
            return next(self._stream, b"")
        except BaseException:
            # the data phase is given up (left with +++): its session goes at once
            with contextlib.suppress(Exception):
                self.close()
            raise

    def close(self) -> None:
        """End the exchange. What arrives within the guard time is read (after a whole body,
        the EOF pattern is on its way, or already there); when the pattern came, the final
        result code is awaited (its errors propagate), else the transfer is given up with
        ``+++`` (:meth:`_Download.close`). The session is then closed and deleted."""
        if self._closed:
            return
        self._closed = True
        try:
            self._stream.close(wait=self._driver.guard_time)
            if self._stream.ended:
                self._driver.finish(self._done, f"AT+KHTTP{self._method}")
        finally:
            self._driver._close_http(self.sid)


class SierraSocket(SecureSocket):
    """A TLS socket of an HL78xx: ``AT+KTCPSND``, ``+KTCP_DATA``, ``AT+KTCPRCV``,
    ``AT+KTCPSTAT`` (HL75-ATIG 11.10.3-11.10.10; sierra-hl78xx.md S4).

    Data accounting (sierra-hl78xx.md S4 "+KTCP_DATA", "+KTCPRCV", "+KTCPSTAT", S11):

    - ``+KTCP_DATA: <id>,<n>``: the module holds ``n`` unread bytes *now*; the count replaces
      what the socket believed, it is never added to nor maxed with it.
    - ``AT+KTCPRCV=<id>,<ndata>`` returns ``k = min(ndata, buffered)`` bytes, bounded by the
      EOF pattern (no length field): the socket subtracts the ``k`` it actually got.
    - A count that arrives during a read (before its final ``OK``) may be from before or after
      it; a read that returns fewer bytes than the socket believed were there; a
      ``+KTCP_NOTIF: <id>,4`` (the server closed: data may still be buffered); or
      :attr:`poll_interval` seconds without news: in each case ``AT+KTCPSTAT=<id>`` and its
      ``<rcv_data>``, which is authoritative, settle the count.
    """

    #: seconds ``recv`` waits for data.
    timeout: float = 60.0
    #: seconds without a ``+KTCP_DATA`` after which ``recv`` asks ``AT+KTCPSTAT`` itself (the
    #: URC may be re-armed only after a read: sierra-hl78xx.md S11).
    poll_interval: float = 2.0

    def __init__(self, driver: Sierra, sid: int, host: str, port: int) -> None:
        super().__init__(host, port, max_send=driver.capabilities.max_send)
        self.driver = driver
        self._wake_reader = driver.channel.wake_reader
        self.sid = sid
        self._available = 0  # bytes the module holds, as far as known
        self._doubt = False  # the count must be checked with AT+KTCPSTAT before use
        self._reading = False
        self._read_final = False  # the final result code of the read in flight arrived
        self._count_in_read: int | None = None  # +KTCP_DATA before that final: ambiguous
        self._count_after_read: int | None = None  # after it: fresh
        self._count_in_stat: int | None = None
        self._peer_closed = False  # +KTCP_NOTIF 4, or KTCPSTAT status 4/5

    # -- reader thread ----------------------------------------------------------------------

    def _notify_data(self, number: int) -> None:
        """``+KTCP_DATA: <id>,<number>`` arrived (reader thread)."""
        with self._cond:
            if self._reading:
                if self._read_final:
                    self._count_after_read = number
                else:
                    self._count_in_read = number
            else:
                if number < self._available:
                    self._doubt = True  # fewer than believed with no read between: check
                self._available = number
                if self._count_in_stat is not None:  # AT+KTCPSTAT in flight
                    self._count_in_stat = max(self._count_in_stat, number)
            self._cond.notify_all()

    def _notify_notif(self, code: int, text: str) -> None:
        """``+KTCP_NOTIF: <id>,<code>`` arrived (reader thread)."""
        with self._cond:
            if code == 4:
                self._peer_closed = True
                self._doubt = True  # what is still buffered is told by AT+KTCPSTAT
            else:
                self._failure = notif_error(text, host=self.host, port=self.port,
                                            during="the session")
            self._cond.notify_all()

    def _on_read_final(self) -> None:
        with self._cond:
            self._read_final = True

    # -- host side ----------------------------------------------------------------------------

    def _send_piece(self, piece: bytes) -> None:
        """``AT+KTCPSND=<id>,<n>``, ``CONNECT``, the bytes, the EOF pattern, ``OK``.

        Raises:
            SocketError: closed, or the module refused (``+KTCP_NOTIF`` named).
            ModuleRebootedError, NetworkLostError: reported by a URC.
        """
        with self._cond:
            if self._failure is not None:
                raise self._failure
        if self._closed or self._peer_closed:
            raise SocketError(f"TLS session {self.sid} to {self.host} is closed")
        try:
            reply = self.driver.at("+KTCPSND", arguments("+KTCPSND", session_id=self.sid,
                                                         ndata=len(piece)),
                                   data_phase="connect",
                                   payload=piece + self.driver.pattern_for(piece))
        except (ATCommandError, ATTimeoutError) as exc:
            raise SocketError(f"AT+KTCPSND on session {self.sid} failed: {exc}") from exc
        if not reply.intermediate:
            # A stray OK answered before CONNECT: the piece was not written, and the
            # module may be waiting for it. End that phase with the pattern, resync.
            self.driver.channel.write_raw(self.driver.pattern)
            self.driver.channel.abandon_data_phase()
            raise SocketError(f"AT+KTCPSND on session {self.sid} was answered OK before "
                              "CONNECT (a stray result code); nothing was sent")

    def _fill(self, clock: RecvClock) -> bool:
        """Read what the count says the module holds (``AT+KTCPRCV``), or settle a doubtful
        count with ``AT+KTCPSTAT``, or wait for ``+KTCP_DATA`` at most :attr:`poll_interval`
        seconds before asking ``AT+KTCPSTAT`` itself.

        Returns:
            bool: ``False`` once the server closed and everything was read.

        Raises:
            ATTimeoutError: nothing within :attr:`timeout`.
            SocketError: the read failed, or data may have been lost (never silently).
            ModuleRebootedError, NetworkLostError, DNSError...: reported by a URC.
        """
        with self._cond:
            count, doubt = self._available, self._doubt
            if not count and not doubt:
                if self._peer_closed:
                    return False
                now = time.monotonic()
                if now >= clock.deadline:
                    raise ATTimeoutError(f"data on TLS session {self.sid}", self.timeout)
                if now < clock.next_poll:
                    self._wait_for_news(min(clock.deadline - now, clock.next_poll - now))
                    return True
                doubt = True
        if doubt:
            self._stat()
            clock.next_poll = time.monotonic() + self.poll_interval
            return True
        self._read(min(count, MAX_RECV))
        return True

    def _stat(self) -> None:
        """``AT+KTCPSTAT=<id>`` → ``<status>,<tcp_notif>,<rem_data>,<rcv_data>``: the count."""
        with self._cond:
            self._count_in_stat = 0
        try:
            text = self.driver.query_line("+KTCPSTAT", arguments("+KTCPSTAT", session_id=self.sid),
                                          "+KTCPSTAT:")
            fields = [int(f) for f in text.split(",")[:4]]
            status, notif, rcv = fields[0], fields[1], fields[3]
        except (ATCommandError, ATProtocolError, ValueError, IndexError) as exc:
            error = SocketError(f"TLS session {self.sid} to {self.host}: its state cannot be "
                                f"read ({exc})")
            self._fail(error)
            raise error from exc
        except ATTimeoutError as exc:
            raise SocketError(f"AT+KTCPSTAT={self.sid} was not answered: {exc}") from exc
        with self._cond:
            # Without a read in between the buffer only grows: the larger count is the newer.
            self._available = max(rcv, self._count_in_stat or 0)
            self._count_in_stat = None
            self._doubt = False
            if status in (4, 5) or notif == 4:
                self._peer_closed = True
            elif status in (0, 1):
                self._failure = SocketError(
                    f"TLS session {self.sid} to {self.host} no longer exists in the module "
                    f"(+KTCPSTAT: {text}: {cat.KTCPSTAT_STATUS.get(status, 'unknown')})")
            if notif not in (-1, 4) and status == 5 and not self._available:
                self._failure = notif_error(f"+KTCP_NOTIF: {self.sid},{notif}",
                                            host=self.host, port=self.port,
                                            during="the session (from +KTCPSTAT)")

    def _read(self, count: int) -> None:
        """``AT+KTCPRCV=<id>,<count>``: the bytes before the pattern go to the buffer."""
        with self._cond:
            self._reading = True
            self._read_final = False
            self._count_in_read = self._count_after_read = None
            believed = self._available
        data = b""
        try:
            waiter, stream = self.driver.download("AT+KTCPRCV=" + arguments("+KTCPRCV",
                                                  session_id=self.sid, ndata=count),
                                                  timeout=self.timeout,
                                                  on_final=self._on_read_final,
                                                  expected=count)
            data = b"".join(stream)
            self.driver.finish(waiter, "AT+KTCPRCV", data_complete=True)
        except ATCommandError as exc:
            with self._cond:
                self._reading = False
                self._doubt = True
            if data:  # the data came but the module then reported an error: not trusted
                error = SocketError(f"AT+KTCPRCV on session {self.sid} failed after "
                                    f"{len(data)} bytes: {exc}")
                self._fail(error)
                raise error from exc
            raise SocketError(f"AT+KTCPRCV on session {self.sid} failed: {exc}") from exc
        except CellTLSError as exc:
            # The module may have sent data that did not reach us whole: never go on silently.
            error = SocketError(f"AT+KTCPRCV on session {self.sid} to {self.host} broke off: "
                                f"{exc}; received data may be incomplete")
            with self._cond:
                self._reading = False
            self._fail(error)
            raise error from exc
        except BaseException:
            with self._cond:
                self._reading = False
            self._fail(SocketError(f"a read on TLS session {self.sid} was interrupted"))
            raise
        k = len(data)
        with self._cond:
            self._reading = False
            if k > count:
                error = SocketError(f"AT+KTCPRCV={self.sid},{count} returned {k} bytes")
                self._failure = error
                raise error
            if self._count_after_read is not None:
                self._available = self._count_after_read
            elif self._count_in_read is not None:
                self._available = max(0, self._count_in_read - k)
                self._doubt = True
            else:
                self._available = max(0, believed - k)
                if k < count:
                    self._doubt = True  # the module held fewer than believed
            self._deliver(data)

    def _close_in_module(self) -> None:
        """``AT+KTCPCLOSE=<id>,1`` and ``AT+KTCPDEL=<id>`` (HL75-ATIG 11.10.5-6)."""
        self.driver._drop_tcp(self.sid)


#: Commands that only read state: safe to send again when their answer was lost.



def _is_connect_report(text: str, sid: int) -> bool:
    """Whether ``text`` ends the wait after ``AT+KHTTPCFG`` (with ``<start>`` 1) for session
    ``sid``: ``+KHTTP_IND: <sid>,1`` (connected, sierra-hl78xx.md §6, S5d) or
    ``+KHTTP_ERROR: <sid>,...``. Another ``+KHTTP_IND`` of the same id, such as the
    ``<sid>,3,<n>,<code>,"<reason>"`` that ends an ``AT+KHTTPGET`` (§6), belongs to an earlier
    transfer on that id (a cut request's, reported when its data ended) and is not an answer."""
    fields = [f.strip() for f in text.split(":", 1)[1].split(",")]
    if fields[0] != str(sid):
        return False
    return text.startswith("+KHTTP_ERROR") or fields[1:2] == ["1"]


def _ksup_meaning(status: str) -> str:
    """The meaning of a ``+KSUP`` <status> (catalog KSUP_STATUS, sierra-hl78xx.md S2)."""
    table = getattr(cat, "KSUP_STATUS", {})
    return str(table.get(int(status), "unknown status")) if status.isdigit() else "unknown"


#: seconds of silence after which a data phase whose last bytes are a start-up URC is taken
#: to have been cut by a reboot (the module prints ``+KSUP`` in command mode, so it lands in
#: the host's data phase; sierra-hl78xx.md §2)
REBOOT_QUIET = 2.0
_REBOOT_TAIL = re.compile(rb"\r\n\+KSUP: *\d+\r\n$")

