"""The sockets of the virtual Sequans modem (SQN-REF §6, connId 1-6).

``AT+SQNSCFG``, ``AT+SQNSCFGEXT``, ``AT+SQNSSCFG``, ``AT+SQNSD`` (command and online mode),
``AT+SQNSO``, ``AT+SQNSSENDEXT``, ``AT+SQNSSEND``, ``AT+SQNSRECV``, ``AT+SQNSI``, ``AT+SQNSS``,
``AT+SQNSH`` and the ``+SQNSRING``/``+SQNSH`` URCs; see :mod:`celltls.dialects.sequans.modem`.
"""

from __future__ import annotations

from celltls.dialects.sequans.modem_base import (
    BAD,
    MAX_SEND,
    NO_SERVICE,
    NOT_ALLOWED,
    SequansBase,
    _Link,
    _OpenFailed,
    _Socket,
)
from celltls.sim.engine import CommandError, ParsedCommand

__all__ = ["SocketCommands"]


class SocketCommands(SequansBase):
    """The socket commands (SQN-REF §6) on :class:`~celltls.dialects.sequans.modem_base.
    SequansBase`."""

    def _sqnscfg(self, cmd: ParsedCommand) -> str:
        """``AT+SQNSCFG=<connId>,<cid>,<pktSz>,<maxTo>,<connTo>,<txTo>`` (SQN-REF §6: S8, S9)."""
        if cmd.kind in ("read", "exec"):
            for s in self.sockets.values():
                self.respond(f"+SQNSCFG: {s.conn_id},{s.cid},{s.pkt_sz},{s.max_to},"
                             f"{s.conn_to},{s.tx_to}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+SQNSCFG: (1-6),(1-16),(0-1500),(0-65535),(0,10-1200),(0-255)")
            return "OK"
        a = self._count(cmd, 1, 6)
        s = self._socket(a[0])
        conn_to = self._num(a[4], 0, 1200, s.conn_to)
        if 0 < conn_to < 10:
            raise CommandError(BAD, "<connTo> 10-1200 or 0")
        s.cid, s.pkt_sz, s.max_to, s.conn_to, s.tx_to = (
            self._num(a[1], 1, 16, s.cid), self._num(a[2], 0, MAX_SEND, s.pkt_sz),
            self._num(a[3], 0, 65535, s.max_to), conn_to, self._num(a[5], 0, 255, s.tx_to))
        return "OK"

    def _sqnscfgext(self, cmd: ParsedCommand) -> str:
        """``AT+SQNSCFGEXT=<connId>,<srMode>,<recvDataMode>,<keepalive>[,<listenAutoRsp>
        [,<sendDataMode>]]`` (SQN-REF §6: S4, S11, S12)."""
        if cmd.kind in ("read", "exec"):
            for s in self.sockets.values():
                self.respond(f"+SQNSCFGEXT: {s.conn_id},{s.sr_mode},{s.recv_hex},"
                             f"{s.keepalive},{s.listen_auto},{s.send_hex}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+SQNSCFGEXT: (1-6),(0-2),(0-1),(0),(0-1),(0-1)")
            return "OK"
        a = self._count(cmd, 2, 6)
        s = self._socket(a[0])
        s.sr_mode = self._num(a[1], 0, 2)
        s.recv_hex = self._num(a[2], 0, 1, s.recv_hex)
        s.keepalive = self._num(a[3], 0, 240, s.keepalive)
        s.listen_auto = self._num(a[4], 0, 1, s.listen_auto)
        s.send_hex = self._num(a[5], 0, 1, s.send_hex)
        return "OK"

    def _sqnsscfg(self, cmd: ParsedCommand) -> str:
        """``AT+SQNSSCFG=<connId>,<enable>,<spId>``: only while not connected (S3)."""
        if cmd.kind in ("read", "exec"):
            for s in self.sockets.values():
                self.respond(f"+SQNSSCFG: {s.conn_id},{int(s.secure)},{s.sp_id}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+SQNSSCFG: (1-6),(0-1),(1-6)")
            return "OK"
        a = self._count(cmd, 2, 3)
        s = self._socket(a[0])
        secure = bool(self._num(a[1], 0, 1))
        sp_id = self._num(a[2], 1, 6, s.sp_id)
        if s.state != 0:
            raise CommandError(NOT_ALLOWED, "socket is connected")
        s.secure, s.sp_id = secure, sp_id
        return "OK"

    def _sqnsd(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNSD=<connId>,<txProt>,<rPort>,"<host>"[,<closureType>[,<lPort>[,<connMode>
        [,<acceptAnyRemote>[,<x>]]]]]`` (SQN-REF §6: S3, S12)."""
        a = self._count(cmd, 4, 9)
        s = self._socket(a[0])
        if self._num(a[1], 0, 1) != 0:
            raise CommandError(4, "UDP sockets are not simulated")
        port = self._num(a[2], 1, 65535)
        host = self._text(a[3])
        if not host:
            raise CommandError(BAD, "no remote host")
        closure = self._num(a[4], 0, 255, 0)
        if closure not in (0, 255):
            raise CommandError(BAD, "<closureType> 0 or 255")
        local_port = self._num(a[5], 0, 65535, 0)
        mode = self._num(a[6], 0, 1, 0)
        self._num(a[7], 0, 2, 0)
        if s.state != 0 or s.link is not None:
            raise CommandError(NOT_ALLOWED, f"socket {s.conn_id} is in use")
        if not self.attached:
            raise CommandError(NO_SERVICE, "not attached")
        s.state, s.host, s.port, s.local_port, s.closure = 6, host, port, local_port, closure
        s.rx.clear()
        s.sent = s.received = 0
        s.armed = True
        timeout = s.conn_to / 10 if s.conn_to else self.connect_timeout
        boot = self.boots
        self._spawn(lambda: self._socket_connect(s, min(timeout, self.connect_timeout), mode,
                                                 boot))
        return None

    def _socket_connect(self, s: _Socket, timeout: float, mode: int, boot: int) -> None:
        try:
            link = self._open(s.host, s.port, s.secure, s.sp_id, timeout)
        except _OpenFailed as exc:
            with self.lock:
                self.errors.append(exc.reason)
                if self.boots == boot and s.state == 6:
                    s.state = 0
                    self.final("NO CARRIER")
            return
        with self.lock:
            if self.boots != boot or s.state != 6:
                link.close()
                return
            s.link = link
            s.state = 2
            link.start(lambda data: self._socket_data(s, link, data),
                       lambda reason: self._socket_remote_close(s, link),
                       lambda: len(s.rx) < self.rx_buffer)
            if mode == 0:
                self._go_online(s)
            else:
                self.final("OK")

    def _go_online(self, s: _Socket) -> None:
        """Online (data) mode: ``CONNECT``, the host's bytes go out as they come (S12)."""
        link = s.link
        assert link is not None

        def handler(data: bytes) -> None:
            try:
                link.send(data)
                s.sent += len(data)
            except OSError:
                self._socket_closed(s, report=False)
                self.leave_data_mode("NO CARRIER")

        s.online = True
        s.state = 1
        self.enter_data_mode(handler)
        if s.rx:
            pending = bytes(s.rx)
            s.rx.clear()
            self.write_raw(pending)

    def on_escape(self) -> None:
        """``+++`` suspends the online socket; ``AT+SQNSO`` resumes it (SQN-REF §6)."""
        for s in self.sockets.values():
            if s.online:
                s.online = False
                s.state = 3 if s.rx else 2
        self._resumable = False

    def _sqnso(self, cmd: ParsedCommand) -> str | None:
        s = self._socket(self._count(cmd, 1, 1)[0])
        if s.link is None:
            raise CommandError(NOT_ALLOWED, "socket is not connected")
        self._go_online(s)
        return None

    def _socket_data(self, s: _Socket, link: _Link, data: bytes) -> None:
        with self.lock:
            if s.link is not link:
                return
            s.received += len(data)
            if s.online and self.in_data_mode:
                self.write_raw(data)
                return
            s.rx += data
            s.state = 3
            if s.sr_mode == 2:
                self._ring_data(s)
            elif s.armed:
                s.armed = False
                self._ring(s)

    def _ring(self, s: _Socket) -> None:
        """``+SQNSRING: <id>`` (srMode 0) or ``+SQNSRING: <id>,<bytes held>`` (srMode 1)."""
        self.urc(f"+SQNSRING: {s.conn_id}" if s.sr_mode == 0 else
                 f"+SQNSRING: {s.conn_id},{len(s.rx)}")

    def _ring_data(self, s: _Socket) -> None:
        """srMode 2: ``+SQNSRING: <id>,<bytes>,<data>``, the data in the URC (S4, S11)."""
        while s.rx:
            chunk = bytes(s.rx[:MAX_SEND])
            del s.rx[:len(chunk)]
            text = chunk.hex().upper() if s.recv_hex else chunk.decode("latin-1")
            self.urc(f"+SQNSRING: {s.conn_id},{len(chunk)},{text}")
        s.state = 2

    def _socket_remote_close(self, s: _Socket, link: _Link) -> None:
        with self.lock:
            if s.link is not link:
                return
            if s.online and self.in_data_mode:
                self._socket_closed(s, report=False)
                self.leave_data_mode("NO CARRIER")
                return
            if s.closure == 255:
                return  # closed only by the host (S12)
            self._socket_closed(s, report=True)

    def _socket_closed(self, s: _Socket, *, report: bool) -> None:
        """The connection ended: buffered data stays readable (L2); ``+SQNSH: <id>``."""
        link, s.link = s.link, None
        if link is not None:
            link.close()
        s.online = False
        s.state = 0
        if report:
            self.urc(f"+SQNSH: {s.conn_id}")

    def _sqnssendext(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNSSENDEXT=<connId>,<bytes>[,<rai>]``: prompt, exactly ``<bytes>``, ``OK``
        (SQN-REF §6: S7, L1, L2)."""
        a = self._count(cmd, 2, 3)
        s = self._socket(a[0])
        size = self._num(a[1], 1, MAX_SEND)
        self._num(a[2], 0, 2, 0)
        if s.link is None:
            raise CommandError(NOT_ALLOWED, "socket is not connected")
        self._prompt(size * (2 if s.send_hex else 1), lambda data: self._send_done(s, data))
        return None

    def _sqnssend(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNSSEND=<connId>``: prompt, data up to Ctrl-Z, ``OK`` (S11)."""
        s = self._socket(self._count(cmd, 1, 1)[0])
        if s.link is None:
            raise CommandError(NOT_ALLOWED, "socket is not connected")
        self._prompt(None, lambda data: self._send_done(s, data))
        return None

    def _send_done(self, s: _Socket, data: bytes) -> None:
        if s.send_hex:
            try:
                data = bytes.fromhex(data.decode("latin-1"))
            except ValueError:
                self.error(CommandError(BAD, "not hexadecimal"))
                return
        link = s.link
        if link is None or self.take_send_fault():
            self.error(CommandError(NOT_ALLOWED, "send failed"))
            return
        try:
            link.send(data)
        except OSError as exc:
            self.errors.append(f"send failed: {exc}")
            self.error(CommandError(NOT_ALLOWED, "send failed"))
            return
        s.sent += len(data)
        self.final("OK")

    def _sqnsrecv(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNSRECV=<connId>,<maxBytes>`` → ``+SQNSRECV: <id>,<len>``, the bytes, CR LF,
        ``OK`` (SQN-REF §6: S7, S3, S9; len 0 possible)."""
        a = self._count(cmd, 2, 2)
        s = self._socket(a[0])
        most = self._num(a[1], 1, MAX_SEND)
        if s.link is None and not s.rx and s.received == 0:
            raise CommandError(NOT_ALLOWED, "socket was never connected")
        chunk = bytes(s.rx[:most])
        del s.rx[:len(chunk)]
        payload = chunk.hex().upper().encode() if s.recv_hex else chunk
        self.write_raw(f"\r\n+SQNSRECV: {s.conn_id},{len(chunk)}\r\n".encode() + payload
                       + b"\r\n")
        if s.link is not None:
            s.state = 3 if s.rx else 2
        self.final("OK")
        s.armed = True
        if s.rx and s.sr_mode != 2:
            s.armed = False
            self._ring(s)
        return None

    def _sqnsi(self, cmd: ParsedCommand) -> str:
        """``+SQNSI: <id>,<sent>,<received>,<buff_in>,<ack_waiting>`` (S4, S7, S9)."""
        chosen = [self._socket(self._count(cmd, 1, 1)[0])] if cmd.kind == "write" else list(
            self.sockets.values())
        for s in chosen:
            self.respond(f"+SQNSI: {s.conn_id},{s.sent},{s.received},{len(s.rx)},0")
        return "OK"

    def _sqnss(self, cmd: ParsedCommand) -> str:
        """``+SQNSS: <id>,<state>,"<locIP>",<locPort>,"<remIP>",<remPort>`` (S4 states)."""
        chosen = [self._socket(self._count(cmd, 1, 1)[0])] if cmd.kind == "write" else list(
            self.sockets.values())
        for s in chosen:
            if s.state == 0:
                self.respond(f'+SQNSS: {s.conn_id},0,"",0,"",0')
                continue
            ip = getattr(s.link, "remote_ip", s.host)
            self.respond(f'+SQNSS: {s.conn_id},{s.state},"10.64.18.101",{40000 + s.conn_id},'
                         f'"{ip}",{s.port}')
        return "OK"

    def _sqnsh(self, cmd: ParsedCommand) -> str:
        """``AT+SQNSH=<connId>`` → ``OK``; buffered data is dropped (SQN-REF §6)."""
        s = self._socket(self._count(cmd, 1, 1)[0])
        self._socket_closed(s, report=False)
        s.rx.clear()
        return "OK"

