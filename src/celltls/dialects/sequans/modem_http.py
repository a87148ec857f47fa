"""The native HTTP client of the virtual Sequans modem (SQN-REF §7, §8).

``AT+SQNHTTPCFG``, ``AT+SQNHTTPCONNECT``, ``AT+SQNHTTPDISCONNECT``, ``AT+SQNHTTPQRY``,
``AT+SQNHTTPSND``, ``AT+SQNHTTPRCV`` and the ``+SQNHTTPRING``/``+SQNHTTPSH`` URCs, libcurl
``<rc>`` numbers; see :mod:`celltls.dialects.sequans.modem`.
"""

from __future__ import annotations

import base64
import threading

from celltls.dialects.sequans.modem_base import (
    BAD,
    MAX_SEND,
    NOT_ALLOWED,
    POST_TYPES,
    QRY_METHODS,
    RC_CONNECT,
    RC_NOTHING,
    RC_OK,
    RC_RECV,
    RC_SEND,
    RC_TIMEOUT,
    SND_METHODS,
    HttpProfile,
    SequansBase,
    _Link,
    _OpenFailed,
)
from celltls.dialects.sequans.modem_support import ResponseReader
from celltls.sim.engine import CommandError, ParsedCommand

__all__ = ["HttpClient"]


class HttpClient(SequansBase):
    """The HTTP client commands (SQN-REF §7) on :class:`~celltls.dialects.sequans.modem_base.
    SequansBase`."""

    def _http_profile(self, arg: str) -> tuple[int, HttpProfile]:
        prof_id = self._num(arg, 0, 2)
        profile = self.httpcfg.get(prof_id)
        if profile is None or not profile.host:
            raise CommandError(NOT_ALLOWED, f"HTTP profile {prof_id} is not configured")
        return prof_id, profile

    def _sqnhttpcfg(self, cmd: ParsedCommand) -> str:
        """``AT+SQNHTTPCFG=<prof_id>,"<host>",<port>,<auth>,"<user>","<pwd>",<ssl>,<max_to>,
        <cid>,<spId>[,<cnx_to>[,<inactivity_to>]]`` (SQN-REF §7); the read form lists the
        profiles, password left out (our shape: SQN-REF says unknown)."""
        if cmd.kind in ("read", "exec"):
            for p in sorted(self.httpcfg.values(), key=lambda p: p.prof_id):
                self.respond(f'+SQNHTTPCFG: {p.prof_id},"{p.host}",{p.port},{p.auth},'
                             f'"{p.user}","",{p.ssl},{p.max_to},{p.cid},{p.sp_id},'
                             f"{p.cnx_to},{p.inactivity}")
            return "OK"
        if cmd.kind == "test":
            self.respond('+SQNHTTPCFG: (0-2),"",(1-65535),(0-1),"","",(0-1),(1-65535),(1-16),'
                         "(1-6),(1-65535),(1-65535)")
            return "OK"
        a = self._count(cmd, 2, 12)
        prof_id = self._num(a[0], 0, 2)
        old = self.httpcfg.get(prof_id) or HttpProfile(prof_id)
        host = self._text(a[1])
        if not host:
            raise CommandError(BAD, "no <server_address>")
        ssl_on = self._num(a[6], 0, 1, old.ssl)
        profile = HttpProfile(
            prof_id, host, self._num(a[2], 1, 65535, 443 if ssl_on else 80),
            self._num(a[3], 0, 1, 0), self._text(a[4], 64), self._text(a[5], 64), ssl_on,
            self._num(a[7], 1, 65535, old.max_to), self._num(a[8], 1, 16, old.cid),
            self._num(a[9], 1, 6, old.sp_id), self._num(a[10], 1, 65535, old.cnx_to),
            self._num(a[11], 1, 65535, old.inactivity))
        self.httpcfg[prof_id] = profile
        self._save_nv()
        return "OK"

    def _http_target(self, profile: HttpProfile) -> str:
        """The host to connect to: the address up to a ``/`` (SQN-FORUM put a path there)."""
        return profile.host.split("/", 1)[0]

    def _sqnhttpconnect(self, cmd: ParsedCommand) -> str | None:
        """``OK`` at once, then ``+SQNHTTPCONNECT: <p>,<rc>`` and, on failure,
        ``+SQNHTTPSH: <p>,<rc>`` (SQN-REF §7, SQN-FORUM, S5)."""
        prof_id, profile = self._http_profile(self._count(cmd, 1, 1)[0])
        state = self.http[prof_id]
        self.final("OK")
        boot = self.boots
        old, state.link = state.link, None
        if old is not None:
            old.close()

        def work() -> None:
            try:
                if not self.attached:
                    raise _OpenFailed(RC_CONNECT, "not attached")
                link = self._open(self._http_target(profile), profile.port, bool(profile.ssl),
                                  profile.sp_id, min(profile.cnx_to, self.connect_timeout))
            except _OpenFailed as exc:
                with self.lock:
                    self.errors.append(exc.reason)
                    if self.boots == boot:
                        self.urc(f"+SQNHTTPCONNECT: {prof_id},{exc.rc}")
                        self.urc(f"+SQNHTTPSH: {prof_id},{exc.rc}")
                return
            with self.lock:
                if self.boots != boot:
                    link.close()
                    return
                state.link = link
                self.urc(f"+SQNHTTPCONNECT: {prof_id},0")

        self._spawn(work)
        return None

    def _sqnhttpdisconnect(self, cmd: ParsedCommand) -> str | None:
        prof_id = self._num(self._count(cmd, 1, 1)[0], 0, 2)
        state = self.http[prof_id]
        link, state.link = state.link, None
        if link is not None:
            link.close()
        self.final("OK")
        self.urc(f"+SQNHTTPDISCONNECT: {prof_id}")
        return None

    def _header_line(self, arg: str) -> str:
        line = self._text(arg, 1024)
        if line and ":" not in line:
            raise CommandError(BAD, "<extra_header_line> is not 'Name: value'")
        return line

    def _sqnhttpqry(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNHTTPQRY=<p>,<command>,"<resource>"[,"<header>"[,<disconnect>[,<max_to>]]]``
        → ``OK``, later ``+SQNHTTPRING`` (SQN-REF §7)."""
        a = self._count(cmd, 3, 6)
        prof_id, profile = self._http_profile(a[0])
        method = QRY_METHODS[self._num(a[1], 0, 2)]
        resource = self._text(a[2], 1024) or "/"
        header = self._header_line(a[3])
        self._num(a[4], 0, 1, 0)
        max_to = self._num(a[5], 1, 65535, profile.max_to)
        self._start_transfer(prof_id, profile, method, resource, header, None, "", max_to)
        return "OK"

    def _sqnhttpsnd(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNHTTPSND=<p>,<command>,"<resource>",<data_len>[,<post_param>[,"<header>"
        [,<disconnect>[,<max_to>]]]]``: prompt, the body, ``OK``, later ``+SQNHTTPRING``
        (SQN-REF §7, L1, L3; ``<post_param>`` quoted or not)."""
        a = self._count(cmd, 4, 8)
        prof_id, profile = self._http_profile(a[0])
        method = SND_METHODS[self._num(a[1], 0, 1)]
        resource = self._text(a[2], 1024) or "/"
        size = self._num(a[3], 0, 16 * 1024 * 1024)
        content_type = POST_TYPES[self._num(a[4], 0, 4, 0)]
        header = self._header_line(a[5])
        self._num(a[6], 0, 1, 0)
        max_to = self._num(a[7], 1, 65535, profile.max_to)
        if self.http[prof_id].busy:
            raise CommandError(NOT_ALLOWED, "a transfer is under way")

        def done(body: bytes) -> None:
            self.final("OK")
            self._start_transfer(prof_id, profile, method, resource, header, body,
                                 content_type, max_to)

        if size == 0:
            self.final("OK")
            self._start_transfer(prof_id, profile, method, resource, header, b"",
                                 content_type, max_to)
            return None
        self._prompt(size, done)
        return None

    def _start_transfer(self, prof_id: int, profile: HttpProfile, method: str, resource: str,
                        header: str, body: bytes | None, content_type: str,
                        max_to: int) -> None:
        state = self.http[prof_id]
        if state.busy:
            raise CommandError(NOT_ALLOWED, "a transfer is under way")
        state.busy = True
        state.body.clear()
        host = self._http_target(profile)
        default_port = 443 if profile.ssl else 80
        lines = [f"{method} {resource if resource.startswith('/') else '/' + resource} "
                 "HTTP/1.1",
                 f"Host: {host}" + ("" if profile.port == default_port else f":{profile.port}"),
                 "User-Agent: Sequans-Monarch", "Accept: */*"]
        if profile.auth:
            token = base64.b64encode(f"{profile.user}:{profile.password}".encode()).decode()
            lines.append(f"Authorization: Basic {token}")
        if header:
            lines.append(header)
        if body is not None:
            lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
        lines.append("Connection: close")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        link, state.link = state.link, None
        boot = self.boots
        self._spawn(lambda: self._transfer(prof_id, profile, host, request, method == "HEAD",
                                           link, max_to, boot))

    def _transfer(self, prof_id: int, profile: HttpProfile, host: str, request: bytes,
                  head: bool, link: _Link | None, max_to: int, boot: int) -> None:
        """One request and its response, then ``+SQNHTTPRING`` (and ``+SQNHTTPSH`` on failure).

        A connection left by ``AT+SQNHTTPCONNECT`` is used first; when the server closed it
        meanwhile (SQN-REF pitfall 11: such closes go unreported) and nothing came back, the
        request is sent once more on a new connection, as libcurl does.
        """
        rc = RC_OK
        reader = ResponseReader(head_request=head)
        try:
            if not self.attached:
                raise _OpenFailed(RC_CONNECT, "not attached")
            if link is not None:
                try:
                    reader = self._exchange(link, request, head, max_to)
                    stale = bool(reader.error) and reader.status == 0
                except _OpenFailed as exc:
                    if exc.rc != RC_SEND:
                        raise
                    stale = True
                if stale:
                    link = None
            if link is None:
                link = self._open(host, profile.port, bool(profile.ssl), profile.sp_id,
                                  min(profile.cnx_to, self.connect_timeout))
                reader = self._exchange(link, request, head, max_to)
            if reader.error:
                raise _OpenFailed(RC_NOTHING if reader.status == 0 else RC_RECV, reader.error)
        except _OpenFailed as exc:
            rc = exc.rc
            self.errors.append(exc.reason)
        with self.lock:
            state = self.http[prof_id]
            if self.boots != boot:
                return
            state.busy = False
            if rc != RC_OK:
                self.urc(f"+SQNHTTPRING: {prof_id},0,\"\",0")
                self.urc(f"+SQNHTTPSH: {prof_id},{rc}")
                return
            state.body = reader.body
            self.urc(f'+SQNHTTPRING: {prof_id},{reader.status},"{reader.content_type}",'
                     f"{len(reader.body)}")

    @staticmethod
    def _exchange(link: _Link, request: bytes, head: bool, max_to: int) -> ResponseReader:
        """Send ``request`` on ``link`` and read the response; the link is closed after.

        Raises:
            _OpenFailed: 55 when the request cannot be sent, 28 when the response is not
                complete within ``max_to`` seconds.
        """
        reader = ResponseReader(head_request=head)
        finished = threading.Event()

        def on_data(data: bytes) -> None:
            if reader.feed(data):
                finished.set()

        def on_closed(_reason: str) -> None:
            reader.close()
            finished.set()

        try:
            link.start(on_data, on_closed)
            try:
                link.send(request)
            except OSError as exc:
                raise _OpenFailed(RC_SEND, f"send failed: {exc}") from None
            if not finished.wait(max_to):
                raise _OpenFailed(RC_TIMEOUT, f"no complete response within {max_to} s")
        finally:
            link.close()
        return reader

    def _sqnhttprcv(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNHTTPRCV=<p>[,<max_bytes>]`` → ``\\r\\n<<<`` + body + ``\\r\\nOK\\r\\n`` (L1);
        with ``<max_bytes>`` (1-1500, S6) the next bytes, the rest kept (our choice)."""
        a = self._count(cmd, 1, 2)
        prof_id = self._num(a[0], 0, 2)
        state = self.http[prof_id]
        most = self._num(a[1], 1, MAX_SEND, 0) or len(state.body)
        if not state.body:
            raise CommandError(NOT_ALLOWED, "no response body to read")
        chunk = bytes(state.body[:most])
        del state.body[:len(chunk)]
        self.write_raw(b"\r\n<<<" + chunk)
        return "OK"

