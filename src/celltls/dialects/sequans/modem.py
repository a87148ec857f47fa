"""The virtual Sequans Monarch / Monarch 2 modem (``celltls sim sequans --model gm02s|gm01q...``).

Written from ``shared/reference/sequans.md`` (SQN-REF below; its source ids S#/L#) and the seed
thread ``shared/seeds/002`` (SQN-FORUM), not from the driver. What it answers:

- Identification (SQN-REF §3, L10): ``ATI`` three lines ``SEQUANS Communications`` / model /
  firmware; ``AT+CGMI``, ``AT+CGMM``, ``AT+CGMR``. ``AT^RESET``: ``OK``, then the reboot and the
  ``+SYSSTART`` URC (S2, S3, S8); RAM state (sockets, HTTP transfers, ``AT+CEREG`` mode, CFUN)
  is lost, the non-volatile memory (certificates, keys, security profiles, HTTP profiles, PDP
  contexts: SQN-REF §3-§5, §7) is kept, in a JSON file too when ``nvram_path`` is given.
- Bring-up (SQN-REF §3): the module boots in ``CFUN=0`` as in the seed (SQN-FORUM: ``+SYSSTART``
  then ``AT+CFUN=1``); ``AT+CFUN=1`` answers ``OK`` and registers a moment later with
  ``+CEREG: 2`` then ``+CEREG: 5,"E198","043A5E0A",7`` (the seed's lines, shape per ``AT+CEREG``
  mode 0-5); ``AT+CGDCONT`` (cid 1-16, only while not registered: S2), ``AT+CGPADDR``,
  ``AT+CSQ`` (99,99 while not registered, L3), ``AT+CESQ`` (255 = not measured), ``AT+CTZU``,
  ``AT+SQNNTP`` (``+SQNNTP: 0`` once synchronised, S6), ``AT+SQNSSHDN`` (``+SHUTDOWN``, then
  deaf until a reboot: S2, S8). With ``unset_clock`` the clock reads 1970 after a boot
  (pitfall 4) until network time (``AT+CTZU=1``), NTP or ``AT+CCLK=`` sets it.
- Faults (besides the engine's): :meth:`SequansModem.fault_crash` writes the ``^EXIT`` line and
  reboots (L3, pitfall 16).
- Credentials (SQN-REF §4): ``AT+SQNSNVW=<type>,<index>,<size>`` with the ``\\r\\n> `` prompt
  and exactly ``<size>`` bytes (S7, L1), checked as PEM; size 0 deletes (S1);
  ``AT+SQNSNVR`` answers metadata, never the PEM (L4), and a plain ``ERROR`` for an empty slot
  (L5).
- Security profiles (SQN-REF §5): ``AT+SQNSPCFG`` with its twelve fields, each checked, echoed
  as the seed's ten-field line (``+SQNSPCFG: 1,2,"",7,19,"","",0,0,0``); ``AT+SQNSPCFG`` lists.
  ``certValidLevel`` is enforced at connect time: bit 0 verifies the chain against the CA in
  ``caCertificateID`` and the validity dates against the modem's clock, bit 2 (with bit 0) the
  host name; a level with bit 1 or bits 3-7 set, or bit 2 without bit 0, is accepted with ``OK``
  (pitfall 1) and fails every connection with 77 (the seed: level 7 → 77, level 1 works).
- Sockets (SQN-REF §6, connId 1-6): ``AT+SQNSCFG``, ``AT+SQNSCFGEXT`` (``+SQNSRING`` per srMode
  0/1/2, hex or raw data), ``AT+SQNSSCFG``, ``AT+SQNSD`` (command mode: ``OK`` once connected
  and the TLS handshake done; online mode: ``CONNECT``, ``+++`` suspends, ``AT+SQNSO`` resumes),
  ``AT+SQNSSENDEXT`` (``\\r\\n> `` and exactly the count, ≤ 1500), ``AT+SQNSSEND`` (Ctrl-Z),
  ``AT+SQNSRECV`` (``+SQNSRECV: <id>,<len>``, the bytes, CR LF, ``OK``), ``AT+SQNSI``,
  ``AT+SQNSS``, ``AT+SQNSH`` and the ``+SQNSH`` URC when the peer closes (data still readable, L2).
- Native HTTP (SQN-REF §7): ``AT+SQNHTTPCFG`` (twelve fields, read form), ``AT+SQNHTTPCONNECT``
  (``OK``, then ``+SQNHTTPCONNECT: <p>,<rc>`` and on failure ``+SQNHTTPSH: <p>,<rc>``: S1),
  ``AT+SQNHTTPDISCONNECT``, ``AT+SQNHTTPQRY`` (GET/HEAD/DELETE), ``AT+SQNHTTPSND`` (POST/PUT
  with the prompt), ``+SQNHTTPRING: <p>,<status>,"<type>",<size>`` (L1, L3; status 0 and
  ``+SQNHTTPSH`` on failure: S6), ``AT+SQNHTTPRCV`` (``\\r\\n<<<``, the body,
  ``\\r\\nOK\\r\\n``: L1).

TLS is real (:mod:`celltls.sim.network`), limited to the model's cipher suites (SQN-REF §9) and
to one version per profile; TLS 1.3 and PSK suites are not simulated (the connection fails with
35). Result codes ``<rc>`` follow libcurl (SQN-REF §8).

Choices where SQN-REF says "unknown" (§13): a failed ``AT+SQNSD`` answers ``NO CARRIER``; a
parameter out of range is ``+CME ERROR: 50`` (``ERROR`` under ``AT+CMEE=0``); a bad upload
(not PEM, encrypted key, over the size limit) ``+CME ERROR: 50``; deleting an empty slot is
``OK``; ``+SQNSRING`` counts the bytes the module holds now, once per arrival after a read
(re-armed by ``AT+SQNSRECV``, and repeated after a read that leaves data); ``AT+SQNHTTPRCV=<p>,
<max>`` returns the next ``<max>`` bytes and keeps the rest for the next read; HTTP
``<rc>``: 6 name not resolved, 7 connection refused, 28 timeout, 35 handshake failure, 59 no
usable cipher suite, 60 chain/date/host-name verification failed, 77 no CA in the profile's
slot, an unreadable CA, or an invalid ``certValidLevel``; ``<server_address>`` holding a path
(SQN-FORUM) connects to the part before the first ``/``; ``+SQNSS`` prints addresses quoted;
a ``> `` data phase with no byte for ``data_timeout`` seconds ends with ``ERROR``.
"""

from __future__ import annotations

from typing import Any

from celltls.dialects.sequans.modem_base import (
    ACT,
    BAD,
    CELL,
    MODELS,
    NOT_ALLOWED,
    NV_TYPES,
    TAC,
    SecurityProfile,
)
from celltls.dialects.sequans.modem_http import HttpClient
from celltls.dialects.sequans.modem_sockets import SocketCommands
from celltls.dialects.sequans.modem_support import (
    load_certificates,
    load_private_key,
    nv_metadata,
    parse_cipher_specs,
)
from celltls.sim.engine import CommandError, ParsedCommand, unquote

__all__ = ["MODELS", "SequansModem", "factory"]


class SequansModem(SocketCommands, HttpClient):
    """A virtual Sequans Monarch or Monarch 2 (see the module docstring).

    Takes the arguments of :class:`~celltls.dialects.sequans.modem_base.SequansBase`
    (``model``, ``nvram_path``, ``registration_delay``, ``boot_time``, ``boot_cfun``,
    ``connect_timeout``, ``rx_buffer``, ``unset_clock`` and the engine's options).

    Raises:
        KeyError: unknown model.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for name, handler in {
            "I": self._ati, "+CGMR": self._cgmr, "^RESET": self._reset_cmd,
            "+CFUN": self._cfun, "+CEREG": self._cereg, "+CGDCONT": self._cgdcont,
            "+CGPADDR": self._cgpaddr, "+CESQ": self._cesq, "+CTZU": self._ctzu,
            "+SQNSFACTORYRESET": self._factory_reset, "+SQNNTP": self._sqnntp,
            "+SQNSSHDN": self._sqnsshdn,
            "+SQNSNVW": self._sqnsnvw, "+SQNSNVR": self._sqnsnvr, "+SQNSPCFG": self._sqnspcfg,
            "+SQNSCFG": self._sqnscfg, "+SQNSCFGEXT": self._sqnscfgext,
            "+SQNSSCFG": self._sqnsscfg, "+SQNSD": self._sqnsd, "+SQNSO": self._sqnso,
            "+SQNSSENDEXT": self._sqnssendext, "+SQNSSEND": self._sqnssend,
            "+SQNSRECV": self._sqnsrecv, "+SQNSI": self._sqnsi, "+SQNSS": self._sqnss,
            "+SQNSH": self._sqnsh, "+SQNHTTPCFG": self._sqnhttpcfg,
            "+SQNHTTPCONNECT": self._sqnhttpconnect,
            "+SQNHTTPDISCONNECT": self._sqnhttpdisconnect, "+SQNHTTPQRY": self._sqnhttpqry,
            "+SQNHTTPSND": self._sqnhttpsnd, "+SQNHTTPRCV": self._sqnhttprcv,
        }.items():
            self.register(name, handler)

    def on_pdp_deactivated(self) -> None:
        """The network dropped the default bearer: every open socket closes with ``+SQNSH``
        (SQN-REF §6: the URC when the peer or the network closes); HTTP connections drop."""
        for sock in self.sockets.values():
            if sock.link is not None or sock.state == 6:
                self._socket_closed(sock, report=True)
        for state in self.http.values():
            link, state.link = state.link, None
            if link is not None:
                link.close()

    def _ati(self, cmd: ParsedCommand) -> str:
        """``ATI`` → ``SEQUANS Communications`` / model / firmware (L10)."""
        if cmd.args and cmd.args[0] not in ("", "0"):
            raise CommandError(None, f"ATI{cmd.args[0]} is not simulated")
        self.respond_lines([self.manufacturer, self.model, self.revision])
        return "OK"

    def _cgmr(self, cmd: ParsedCommand) -> str:
        """``AT+CGMR`` → the firmware version alone (SQN-REF §3: ``UE8.2.1.0``)."""
        if cmd.kind == "exec":
            self.respond(self.revision)
        return "OK"

    def _reset_cmd(self, cmd: ParsedCommand) -> str | None:
        """``AT^RESET``: ``OK``, the reboot, ``+SYSSTART`` (SQN-REF §3: S2, S3)."""
        self.final("OK")
        self.reboot()
        return None

    def _factory_reset(self, cmd: ParsedCommand) -> str:
        """``AT+SQNSFACTORYRESET``: NV certificates and profiles wiped (SQN-REF §4, S2)."""
        self.nv.clear()
        self.spcfg.clear()
        self.httpcfg.clear()
        self.pdp = {1: ("IPV4V6", "")}
        self._save_nv()
        return "OK"

    def _cfun(self, cmd: ParsedCommand) -> str | None:
        """``AT+CFUN=<0|1|4>`` (SQN-REF §3; 5 manufacturing is not simulated)."""
        if cmd.kind == "read":
            self.respond(f"+CFUN: {self.cfun}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+CFUN: (0,1,4),(0-1)")
            return "OK"
        a = self._count(cmd, 1, 2)
        fun = self._num(a[0], 0, 4)
        if fun not in (0, 1, 4):
            raise CommandError(BAD, "unsupported <fun>")
        if self._num(a[1], 0, 1, 0):
            self.final("OK")
            self.reboot()
            return None
        old, self.cfun = self.cfun, fun
        self.final("OK")
        if fun != 1 and old == 1:
            self.lose_registration(0)
        elif fun == 1 and old != 1:
            self._later(self.registration_delay, self._searching)
        return None

    def _searching(self) -> None:
        if self.cfun != 1:
            return  # AT+CFUN=0/4 came first
        self.registration = 2
        self._registration_urcs()
        self._later(self.registration_delay, self._registered)

    def _registered(self) -> None:
        if self.cfun != 1:
            return
        if self.ctzu:  # network time (SQN-REF §3: AT+CTZU=1, S6)
            self._clock_offset = 0.0
        self.restore_registration(5)

    def _cereg_line(self, prefix: str) -> str:
        stat = self.registration if self.attached or self.registration == 2 else 0
        n = self.cereg_n
        if n == 1 or stat not in (1, 5) or n == 0:
            return f"{prefix}{stat}"
        line = f'{prefix}{stat},"{TAC}","{CELL}",{ACT}'
        if n >= 4:
            line += ',,,"00000000","00111000"'
        return line

    def _registration_urcs(self) -> None:
        """``+CEREG`` URCs per mode (SQN-REF §3: n=1 stat; n=2 the location as in the seed;
        n=4/5 adds the PSM timers, S3)."""
        if self.cereg_n:
            self.urc(self._cereg_line("+CEREG: "))

    def _cereg(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(self._cereg_line(f"+CEREG: {self.cereg_n},"))
        elif cmd.kind == "test":
            self.respond("+CEREG: (0-5)")
        else:
            self.cereg_n = self._num(self._count(cmd, 1, 1)[0], 0, 5)
        return "OK"

    def _cgdcont(self, cmd: ParsedCommand) -> str:
        """``AT+CGDCONT=<cid>,"<type>","<apn>"...``: cid 1-16, kept in NV, only while not
        registered (SQN-REF §3: S2; else ``+CME ERROR: 3``)."""
        if cmd.kind == "read":
            for cid, (kind, apn) in sorted(self.pdp.items()):
                self.respond(f'+CGDCONT: {cid},"{kind}","{apn}","",0,0')
            return "OK"
        if cmd.kind == "test":
            self.respond('+CGDCONT: (1-16),"IP",,,(0),(0)')
            return "OK"
        if cmd.kind != "write" or not cmd.args:
            raise CommandError(BAD, "AT+CGDCONT=<cid>,...")
        cid = self._num(cmd.args[0], 1, 16)
        if self.registration in (1, 5):
            raise CommandError(NOT_ALLOWED, "AT+CGDCONT while registered (S2)")
        if len(cmd.args) == 1:
            self.pdp.pop(cid, None)
        else:
            kind = self._text(cmd.args[1]).upper()
            if kind not in ("IP", "IPV6", "IPV4V6", "NON-IP"):
                raise CommandError(BAD, f"PDP type {kind}")
            self.pdp[cid] = (kind, self._text(cmd.args[2]) if len(cmd.args) > 2 else "")
        self._save_nv()
        return "OK"

    def _cgpaddr(self, cmd: ParsedCommand) -> str:
        """``AT+CGPADDR=<cid>`` → ``+CGPADDR: <cid>,"<ip>"`` (S11)."""
        if cmd.kind == "test":
            self.respond("+CGPADDR: (" + ",".join(map(str, sorted(self.pdp))) + ")")
            return "OK"
        cids = [self._num(a, 1, 16) for a in cmd.args] if cmd.kind == "write" else sorted(
            self.pdp)
        for cid in cids:
            up = self.attached and cid == 1 and cid in self.pdp
            self.respond(f'+CGPADDR: {cid},"10.64.18.{cid + 100}"' if up else f"+CGPADDR: {cid}")
        return "OK"

    def _cesq(self, cmd: ParsedCommand) -> str:
        """``AT+CESQ`` → six values, 255 = not measured (SQN-REF §3, S16, S13)."""
        if cmd.kind == "exec":
            quality = "20,45" if self.registration in (1, 5) else "255,255"
            self.respond(f"+CESQ: 99,99,255,255,{quality}")
        return "OK"

    def _sqnntp(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNNTP=<mode>,"<servers>",<x>`` → ``OK``, later ``+SQNNTP: 0`` once the clock
        is set (S6; ``+SQNNTP: 1`` without network: our choice, SQN-REF §3 says unknown)."""
        if cmd.kind != "write":
            return "OK"
        self._count(cmd, 1, 3)
        self.final("OK")

        def sync() -> None:
            if self.registration in (1, 5):
                self._clock_offset = 0.0
                self.urc("+SQNNTP: 0")
            else:
                self.urc("+SQNNTP: 1")

        self._later(self.registration_delay, sync)
        return None

    def _sqnsshdn(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNSSHDN``: ``OK``, detach, ``+SHUTDOWN``; then deaf until a reboot (S2, S8)."""
        self.final("OK")
        self.cfun = 0
        self.lose_registration(0)
        self._close_everything()
        self.urc("+SHUTDOWN")
        self.off = True
        return None

    def _ctzu(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(f"+CTZU: {self.ctzu}")
        elif cmd.kind == "write":
            self.ctzu = self._num(self._count(cmd, 1, 1)[0], 0, 1)
        return "OK"

    def _nv_type(self, arg: str) -> str:
        kind = self._text(arg)
        if kind not in NV_TYPES:
            raise CommandError(BAD, f"<data_type> {arg}")
        return kind

    def _sqnsnvw(self, cmd: ParsedCommand) -> str | None:
        """``AT+SQNSNVW=<type>,<index>,<size>`` (SQN-REF §4)."""
        a = self._count(cmd, 3, 3)
        kind = self._nv_type(a[0])
        index = self._num(a[1], 0, 19)
        limit = self.profile.max_cert if kind == "certificate" else self.profile.max_key
        size = self._num(a[2], 0, limit)
        if size == 0:  # S1, S2, S7: size 0 deletes, OK with no prompt
            if self.nv.pop((kind, index), None) is not None:
                self._save_nv()
            return "OK"

        def done(data: bytes) -> None:
            try:
                if kind == "certificate":
                    load_certificates(data)
                else:
                    load_private_key(data)
            except ValueError as exc:
                self.error(CommandError(BAD, f"upload rejected: {exc}"))
                return
            self.nv[(kind, index)] = data
            self._save_nv()
            self.final("OK")

        self._prompt(size, done)
        return None

    def _sqnsnvr(self, cmd: ParsedCommand) -> str:
        """``AT+SQNSNVR=<type>[,<index>]``: metadata lines (L4), an empty slot ``ERROR`` (L5)."""
        a = self._count(cmd, 1, 2)
        kind = self._nv_type(a[0])
        if a[1].strip():
            index = self._num(a[1], 0, 19)
            data = self.nv.get((kind, index))
            if data is None:
                raise CommandError(None, f"slot {index} is empty (L5: plain ERROR)")
            self.respond(nv_metadata(kind, index, data))
            return "OK"
        for (k, index), data in sorted(self.nv.items()):
            if k == kind:
                self.respond(nv_metadata(kind, index, data))
        return "OK"

    def _sqnspcfg(self, cmd: ParsedCommand) -> str:
        """``AT+SQNSPCFG``: set (echo line then ``OK``, SQN-FORUM) or list (S6)."""
        if cmd.kind in ("exec", "read"):
            for _sp, profile in sorted(self.spcfg.items()):
                self.respond(profile.line())
            return "OK"
        if cmd.kind == "test":
            self.respond('+SQNSPCFG: (1-6),(0-3,255),"",(0-FF),(0-19),(0-19),(0-19),"","",'
                         "(0-1),(0-1),(0-86400)")
            return "OK"
        a = self._count(cmd, 4, 12)
        sp_id = self._num(a[0], 1, 6)
        version = self._num(a[1], 0, 255)
        if version == 255:  # reset to default (S2)
            profile = SecurityProfile(sp_id)
            self.spcfg[sp_id] = profile
            self._save_nv()
            self.respond(profile.line())
            return "OK"
        if version > 3:
            raise CommandError(BAD, f"<version> {version}")
        ciphers = unquote(a[2]) if a[2].strip() else ""
        if ciphers is None:
            raise CommandError(BAD, "<cipherSpecs> must be quoted")
        try:
            parse_cipher_specs(ciphers)
        except ValueError as exc:
            raise CommandError(BAD, str(exc)) from None
        level_text = unquote(a[3]) or a[3].strip()
        try:
            level = int(level_text[2:] if level_text.lower().startswith("0x") else level_text, 16)
        except ValueError:
            raise CommandError(BAD, f"<certValidLevel> {a[3]}") from None
        if not 0 <= level <= 0xFF:
            raise CommandError(BAD, f"<certValidLevel> {a[3]} is not 00..FF")
        psk = self._text(a[7], 128)
        if psk and any(c not in "0123456789abcdefABCDEF" for c in psk):
            raise CommandError(BAD, "<psk> must be hexadecimal digits")
        storage = self._num(a[9], 0, 1, 0)  # 2 is reserved (S2)
        profile = SecurityProfile(
            sp_id, version, ciphers, level, self._slot(a[4]), self._slot(a[5]), self._slot(a[6]),
            psk, self._text(a[8], 128), storage, self._num(a[10], 0, 1, 0),
            self._num(a[11], 0, 86400 * 7, 0))
        self.spcfg[sp_id] = profile
        self._save_nv()
        self.respond(profile.line())
        return "OK"


def factory(**options: Any) -> SequansModem:
    """Make a :class:`SequansModem` (the dialect manifest's ``virtual_modem`` loader returns
    this; options: ``model``, ``guard_time``, ``latency``, ``clock``, ``nvram_path``...;
    ``baudrate`` is the server's pacing and is ignored here).

    Raises:
        KeyError: unknown model.
    """
    options.pop("baudrate", None)
    if options.get("model") is None:
        options.pop("model", None)
    return SequansModem(**options)
