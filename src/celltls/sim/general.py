"""The 3GPP TS 27.007 general commands every virtual modem answers the same way.

:class:`GeneralEngine` adds to the V.250 line (:class:`celltls.sim.line.LineEngine`) the
identification, error reporting, functionality, SIM, registration, attach, signal and clock
commands, in the shapes of 27.007, with the state behind them:

- ``ATI`` (V.250 6.1.3), ``AT+CGMI``/``AT+GMI``, ``AT+CGMM``/``AT+GMM``, ``AT+CGMR``/``AT+GMR``,
  ``AT+CGSN``/``AT+GSN`` (27.007 5.1-5.4; V.250 6.1.4-6.1.7);
- ``ATZ``, ``AT&F`` (V.250 6.1.1-6.1.2) and ``AT&W``;
- ``AT+CMEE`` (27.007 9.1) and the ``+CME ERROR: <n>`` / ``+CME ERROR: <text>`` result codes
  it selects (9.2.1);
- ``AT+CFUN`` (8.2), ``AT+CPIN?`` (8.3: the SIM needs no PIN);
- ``AT+CREG`` (7.2), ``AT+CGREG`` (10.1.20) and, on a modem with an LTE radio
  (:attr:`GeneralEngine.eps_registration`), ``AT+CEREG`` (10.1.22): read form, URC modes 0-1;
- ``AT+CGATT`` (10.1.9), ``AT+CSQ`` (8.5), ``AT+CCLK`` (8.15);
- the network events behind them (:meth:`GeneralEngine.lose_registration`,
  :meth:`GeneralEngine.restore_registration`) and a reboot (:meth:`GeneralEngine.reboot`).

A dialect's virtual modem registers only its own commands on top (and may replace one of these
by registering the same name).
"""

from __future__ import annotations

import datetime as _dt
import logging

from celltls.sim.commands import CME_ERRORS, CommandError, ParsedCommand, unquote
from celltls.sim.line import LineEngine

__all__ = ["GeneralEngine", "parse_cclk"]

log = logging.getLogger(__name__)

_REGISTERED = (1, 5)  # 27.007 7.2 <stat>: 1 registered, home network; 5 registered, roaming


class GeneralEngine(LineEngine):
    """A virtual modem's V.250 line with the 27.007 general commands.

    Args:
        manufacturer: the answer to ``AT+CGMI``.
        model: the answer to ``AT+CGMM``.
        revision: the answer to ``AT+CGMR``.
        imei: the answer to ``AT+CGSN``.
        guard_time: the escape sequence's guard time, seconds (V.250 S12).
        clock: the modem's real-time clock at construction (``None``: the host's time now).

    Subclasses may override :meth:`on_reboot`, :meth:`on_registration_lost` and
    :meth:`on_pdp_deactivated`.
    """

    #: Whether the modem has an LTE radio and so answers ``AT+CEREG`` (27.007 10.1.22).
    eps_registration: bool = False
    #: Whether the modem answers the bring-up and information commands of
    #: :meth:`_register_bringup` (``+CIMI``, ``+COPS``, ``+IPR``, ``&K``, ``&D``, ``&C``,
    #: ``+IFC``, ``+CGDCONT``, ``+CGACT``, ``+CGPADDR``); a dialect turns it on and adapts
    #: the shapes with the hooks (:meth:`cgdcont_line`, :attr:`cops_act`...).
    bringup_commands: bool = False
    #: The ``<AcT>`` field of ``AT+COPS?`` (27.007 7.3: 7 E-UTRAN, 8 EC-GSM, 9 E-UTRAN NB-S1),
    #: or ``None`` for the three-field answer of a GSM module.
    cops_act: int | None = None
    #: The ``<cid>`` range of ``AT+CGDCONT`` (27.007 10.1.1).
    cid_range: tuple[int, int] = (1, 16)
    #: The answer of ``AT+CGDCONT=?`` (one line per PDP type), the model's own shape.
    cgdcont_test: tuple[str, ...] = ('+CGDCONT: (1-16),"IP",,,(0-2),(0-4)',)
    #: Highest ``<n>`` of ``AT+CREG``/``AT+CGREG`` (27.007 7.2: 2 adds ``<lac>``, ``<ci>``).
    creg_max: int = 1
    #: Baud rates ``AT+IPR`` takes (0 is auto-baud).
    ipr_rates: tuple[int, ...] = (0, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200,
                                  230400, 460800, 921600)

    def __init__(
        self,
        *,
        manufacturer: str = "celltls",
        model: str = "virtual",
        revision: str = "0.1",
        imei: str = "860000000000001",
        guard_time: float = 1.0,
        clock: _dt.datetime | None = None,
    ) -> None:
        self.manufacturer = manufacturer
        self.model = model
        self.revision = revision
        self.imei = imei
        self._clock_offset = 0.0
        if clock is not None:
            self.set_clock(clock)
        super().__init__(guard_time=guard_time)
        commands = {
            "I": self._cmd_info,
            "Z": self._cmd_reset,
            "&F": self._cmd_reset,
            "&W": self._cmd_ok,
            "+CGMI": self._cmd_cgmi,
            "+GMI": self._cmd_cgmi,
            "+CGMM": self._cmd_cgmm,
            "+GMM": self._cmd_cgmm,
            "+CGMR": self._cmd_cgmr,
            "+GMR": self._cmd_cgmr,
            "+GSN": self._cmd_gsn,
            "+CGSN": self._cmd_gsn,
            "+CMEE": self._cmd_cmee,
            "+CFUN": self._cmd_cfun,
            "+CPIN": self._cmd_cpin,
            "+CREG": self._cmd_creg,
            "+CGREG": self._cmd_cgreg,
            "+CGATT": self._cmd_cgatt,
            "+CSQ": self._cmd_csq,
            "+CCLK": self._cmd_cclk,
        }
        if self.eps_registration:
            commands["+CEREG"] = self._cmd_cereg
        if self.bringup_commands:
            commands.update({
                "+CIMI": self._cmd_cimi,
                "+COPS": self._cmd_cops,
                "+IPR": self._cmd_ipr,
                "&K": self._cmd_flow,
                "&D": self._cmd_dtr,
                "&C": self._cmd_dcd,
                "+IFC": self._cmd_ifc,
                "+CGDCONT": self._cmd_cgdcont,
                "+CGACT": self._cmd_cgact,
                "+CGPADDR": self._cmd_cgpaddr,
            })
        for name, handler in commands.items():
            self.register(name, handler)

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        super()._reset_state()
        self.cmee = 0
        self.cfun = 1
        self.creg_n = 0
        self.cgreg_n = 0
        self.cereg_n = 0
        self.registration = 1  # 27.007 7.2 <stat>: 1 registered, home network
        self.attached = True
        self.csq = (24, 0)  # 27.007 8.5: <rssi> 24 = -65 dBm, <ber> 0
        self.flow_control = 0  # AT&K<n> (0 none, 3 RTS/CTS, 4 XON/XOFF)
        self.ifc = (0, 0)  # AT+IFC=<DCE_by_DTE>,<DTE_by_DCE> (V.250 6.2.12)
        self.dtr_mode = 1  # AT&D<n> (V.250 6.2.9)
        self.dcd_mode = 1  # AT&C<n> (V.250 6.2.8)
        # PDP contexts of AT+CGDCONT (27.007 10.1.1): cid -> (PDP type, APN); cid 1 exists
        # with an empty APN, as after a factory reset; active cids of AT+CGACT (10.1.10)
        self.pdp_contexts: dict[int, tuple[str, str]] = {1: ("IP", "")}
        self.pdp_active: set[int] = set()

    def error(self, exc: CommandError) -> None:
        """Write the result of a failed command per ``AT+CMEE`` (27.007 9.1).

        ``ERROR`` when ``AT+CMEE=0`` or the error has no number, else ``+CME ERROR: <n>``
        (``AT+CMEE=1``) or ``+CME ERROR: <text>`` (``AT+CMEE=2``), 27.007 9.2.1.
        """
        with self.lock:
            if exc.code is None or self.cmee == 0:
                super().error(exc)
                return
            if exc.reason:
                log.debug("command failed: %s", exc.reason)
            if self.cmee == 1:
                self.final(f"+CME ERROR: {exc.code}")
            else:
                self.final(f"+CME ERROR: {CME_ERRORS.get(exc.code, 'unknown')}")

    # ------------------------------------------------------------------ bring-up hooks
    #: What ``AT+CIMI`` answers (15 digits), ``AT+COPS?`` names and ``AT+IPR?`` reports.
    imsi: str = "001010123456789"
    operator: str = "celltls"
    baudrate: int = 115200

    def cgdcont_line(self, cid: int, pdp_type: str, apn: str) -> str:
        """One line of ``AT+CGDCONT?`` (27.007 10.1.1: ``<cid>,<PDP_type>,<APN>,<PDP_addr>,
        <d_comp>,<h_comp>``); a dialect overrides it with its model's field count."""
        return f'+CGDCONT: {cid},"{pdp_type}","{apn}","0.0.0.0",0,0'

    def pdp_address(self, cid: int) -> str:
        """The address of PDP context ``cid`` (``AT+CGPADDR``), ``"0.0.0.0"`` while inactive."""
        return f"10.64.0.{16 + cid}" if self.context_active(cid) else "0.0.0.0"

    def context_active(self, cid: int) -> bool:
        """Whether PDP context ``cid`` is active (``AT+CGACT?``); dialects add their own
        activation (``AT+QIACT``, ``AT+KCNXUP``)."""
        return cid in self.pdp_active and self.attached

    # ------------------------------------------------------------------ clock
    def now(self) -> _dt.datetime:
        """The modem's clock (timezone-aware, UTC)."""
        return _dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=self._clock_offset)

    def set_clock(self, when: _dt.datetime) -> None:
        """Set the modem's real-time clock (naive datetimes are taken as UTC)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.UTC)
        self._clock_offset = (when - _dt.datetime.now(_dt.UTC)).total_seconds()

    # ------------------------------------------------------------------ network events
    def lose_registration(self, stat: int = 0) -> None:
        """Lose network registration (27.007 7.2 ``<stat>``, 0 = not registered, not searching).

        The PS attachment and every PDP context go with it (:meth:`on_registration_lost`);
        the registration URCs enabled with ``AT+CREG=1``/``AT+CGREG=1``/``AT+CEREG=1`` report it.
        """
        with self.lock:
            self.registration = stat
            self.attached = False
            self._registration_urcs()
            self.on_registration_lost()

    def restore_registration(self, stat: int = 1) -> None:
        """Register again (``stat`` 1 home, 5 roaming) and attach to the PS domain."""
        with self.lock:
            self.registration = stat
            self.attached = True
            self._registration_urcs()

    def reboot(self) -> None:
        """Reboot the module: RAM is lost, non-volatile memory is kept, connections drop.

        Every setting returns to its power-on value (echo on, ``AT+CMEE=0``...) and
        :meth:`on_reboot` lets the dialect forget what its RAM held.
        """
        with self.lock:
            self._cancel_escape_timer()
            self._reset_state()
            self.on_reboot()

    def _registration_urcs(self) -> None:
        if self.creg_n:
            self.urc(f"+CREG: {self.registration}")
        if self.cgreg_n:
            self.urc(f"+CGREG: {self.registration if self.attached else 0}")
        if self.eps_registration and self.cereg_n:
            self.urc(f"+CEREG: {self.registration if self.attached else 0}")

    # ------------------------------------------------------------------ hooks
    def on_reboot(self) -> None:
        """Called (lock held) by :meth:`reboot` and ``AT+CFUN=1,1``: forget what RAM held."""

    def on_registration_lost(self) -> None:
        """Called (lock held) when registration is lost: a dialect drops its PDP contexts."""
        self.on_pdp_deactivated()

    def on_pdp_deactivated(self) -> None:
        """Called (lock held) when the network deactivates the PDP context."""

    # ------------------------------------------------------------------ commands
    def _cmd_ok(self, cmd: ParsedCommand) -> str:
        return "OK"

    def _cmd_info(self, cmd: ParsedCommand) -> str:
        self.respond_lines([self.manufacturer, self.model, f"Revision: {self.revision}"])
        return "OK"

    def _cmd_reset(self, cmd: ParsedCommand) -> str:
        self.echo = True
        self.cmee = 0
        self.creg_n = 0
        self.cgreg_n = 0
        self.cereg_n = 0
        return "OK"

    def _info_only(self, cmd: ParsedCommand, text: str) -> str:
        if cmd.kind == "test":
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "unexpected form")
        self.respond(text)
        return "OK"

    def _cmd_cgmi(self, cmd: ParsedCommand) -> str:
        return self._info_only(cmd, self.manufacturer)

    def _cmd_cgmm(self, cmd: ParsedCommand) -> str:
        return self._info_only(cmd, self.model)

    def _cmd_cgmr(self, cmd: ParsedCommand) -> str:
        return self._info_only(cmd, f"Revision: {self.revision}")

    def _cmd_gsn(self, cmd: ParsedCommand) -> str:
        return self._info_only(cmd, self.imei)

    def _cmd_cmee(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(f"+CMEE: {self.cmee}")
        elif cmd.kind == "test":
            self.respond("+CMEE: (0-2)")
        elif cmd.kind == "write":
            self.cmee = self.int_arg(cmd.args[0], 0, 2) if cmd.args[0] else 0
        else:
            self.cmee = 0
        return "OK"

    def _cmd_cfun(self, cmd: ParsedCommand) -> str | None:
        if cmd.kind == "read":
            self.respond(f"+CFUN: {self.cfun}")
            return "OK"
        if cmd.kind == "test":
            self.respond("+CFUN: (0,1,4),(0-1)")
            return "OK"
        if cmd.kind != "write" or len(cmd.args) > 2:
            raise CommandError(None, "bad AT+CFUN")
        fun = self.int_arg(cmd.args[0], 0, 4)
        if fun not in (0, 1, 4):
            raise CommandError(50, "unsupported <fun>")
        reset = self.int_arg(cmd.args[1], 0, 1) if len(cmd.args) > 1 else 0
        if reset:
            self.final("OK")
            self.reboot()
            self.cfun = fun
            return None
        self.cfun = fun
        if fun != 1:
            self.lose_registration(0)
        elif self.registration not in _REGISTERED:
            self.restore_registration(1)
        return "OK"

    def _cmd_cpin(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond("+CPIN: READY")
            return "OK"
        if cmd.kind == "test":
            return "OK"
        raise CommandError(3, "no PIN is needed")

    def _registration_command(self, cmd: ParsedCommand, prefix: str, n: int, stat: int) -> int:
        """Answer ``AT+CREG``-shaped commands; return the new URC mode ``<n>``."""
        high = self.creg_max if prefix != "+CEREG" else 1
        if cmd.kind == "read":
            where = ',"1A2B","0C3D"' if n == 2 and stat in _REGISTERED else ""
            self.respond(f"{prefix}: {n},{stat}{where}")
        elif cmd.kind == "test":
            self.respond(f"{prefix}: (0-{high})")
        elif cmd.kind == "write":
            n = self.int_arg(cmd.args[0], 0, high)
        else:
            raise CommandError(None, f"bad AT{prefix}")
        return n

    def _cmd_creg(self, cmd: ParsedCommand) -> str:
        self.creg_n = self._registration_command(cmd, "+CREG", self.creg_n, self.registration)
        return "OK"

    def _cmd_cgreg(self, cmd: ParsedCommand) -> str:
        stat = self.registration if self.attached else 0
        self.cgreg_n = self._registration_command(cmd, "+CGREG", self.cgreg_n, stat)
        return "OK"

    def _cmd_cereg(self, cmd: ParsedCommand) -> str:
        stat = self.registration if self.attached else 0
        self.cereg_n = self._registration_command(cmd, "+CEREG", self.cereg_n, stat)
        return "OK"

    def _cmd_cgatt(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "read":
            self.respond(f"+CGATT: {int(self.attached)}")
        elif cmd.kind == "test":
            self.respond("+CGATT: (0,1)")
        elif cmd.kind == "write":
            state = self.int_arg(cmd.args[0], 0, 1)
            if state and self.registration not in _REGISTERED:
                raise CommandError(30, "not registered")
            if not state and self.attached:
                self.attached = False
                self.on_pdp_deactivated()
            self.attached = bool(state)
        else:
            raise CommandError(None, "bad AT+CGATT")
        return "OK"

    def _cmd_csq(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "test":
            self.respond("+CSQ: (0-31,99),(0-7,99)")
            return "OK"
        if cmd.kind != "exec":
            raise CommandError(None, "bad AT+CSQ")
        rssi, ber = self.csq if self.registration in _REGISTERED else (99, 99)
        self.respond(f"+CSQ: {rssi},{ber}")
        return "OK"

    def _cmd_cclk(self, cmd: ParsedCommand) -> str:
        if cmd.kind == "test":
            return "OK"
        if cmd.kind == "read":
            now = self.now()
            self.respond(f'+CCLK: "{now:%y/%m/%d,%H:%M:%S}+00"')
            return "OK"
        if cmd.kind != "write" or len(cmd.args) != 1:
            raise CommandError(None, "bad AT+CCLK")
        text = unquote(cmd.args[0])
        if text is None:
            raise CommandError(50, "<time> must be quoted")
        self.set_clock(parse_cclk(text))
        return "OK"


    # ------------------------------------------------------------------ bring-up commands
    def _cmd_cimi(self, cmd: ParsedCommand) -> str:
        """``AT+CIMI``: the IMSI alone on its line (27.007 5.6)."""
        return self._info_only(cmd, self.imsi)

    def _cmd_cops(self, cmd: ParsedCommand) -> str:
        """``AT+COPS`` (27.007 7.3): read ``+COPS: <mode>,<format>,"<oper>"[,<AcT>]`` while
        registered, ``+COPS: 0`` when not; automatic selection (0) and the format (3) are
        taken, manual selection is not emulated (``+CME ERROR: 4``)."""
        if cmd.kind == "read":
            if self.registration in _REGISTERED:
                act = "" if self.cops_act is None else f",{self.cops_act}"
                self.respond(f'+COPS: 0,0,"{self.operator}"{act}')
            else:
                self.respond("+COPS: 0")
        elif cmd.kind == "test":
            act = "" if self.cops_act is None else f",{self.cops_act}"
            self.respond(f'+COPS: (2,"{self.operator}","{self.operator[:8]}","00101"{act}),,'
                         "(0-4),(0-2)")
        elif cmd.kind == "write" and cmd.args:
            mode = self.int_arg(cmd.args[0], 0, 4)
            if mode not in (0, 2, 3):
                raise CommandError(4, "manual operator selection is not emulated")
            if mode == 2:
                self.lose_registration(0)
            elif mode == 0 and self.registration not in _REGISTERED and self.cfun == 1:
                self.restore_registration(1)
        else:
            raise CommandError(None, "AT+COPS")
        return "OK"

    def _cmd_ipr(self, cmd: ParsedCommand) -> str:
        """``AT+IPR`` (V.250 6.2.10): read ``+IPR: <rate>``, test ``+IPR: (<auto>),(<fixed>)``;
        a rate set is stored and answered, the line's pacing stays the server's."""
        if cmd.kind == "read":
            self.respond(f"+IPR: {self.baudrate}")
        elif cmd.kind == "test":
            self.respond(f"+IPR: ({','.join(str(r) for r in self.ipr_rates)}),()")
        elif cmd.kind == "write" and len(cmd.args) == 1:
            rate = self.int_arg(cmd.args[0], 0, max(self.ipr_rates))
            if rate not in self.ipr_rates:
                raise CommandError(None, f"unsupported rate {rate}")
            self.baudrate = rate
        else:
            raise CommandError(None, "AT+IPR=<rate>")
        return "OK"

    def _cmd_flow(self, cmd: ParsedCommand) -> str:
        """``AT&K<n>``: flow control, 0 none, 3 RTS/CTS, 4 XON/XOFF (the line is not paced
        by it in the virtual modem)."""
        value = self.int_arg(cmd.args[0], 0, 6) if cmd.args and cmd.args[0] else 0
        if value not in (0, 3, 4):
            raise CommandError(None, f"AT&K{value}")
        self.flow_control = value
        return "OK"

    def _cmd_dtr(self, cmd: ParsedCommand) -> str:
        """``AT&D<n>`` (V.250 6.2.9): DTR behaviour 0-2 (stored; DTR is not emulated)."""
        self.dtr_mode = self.int_arg(cmd.args[0], 0, 2) if cmd.args and cmd.args[0] else 0
        return "OK"

    def _cmd_dcd(self, cmd: ParsedCommand) -> str:
        """``AT&C<n>`` (V.250 6.2.8): DCD behaviour 0-1 (stored; DCD is not emulated)."""
        self.dcd_mode = self.int_arg(cmd.args[0], 0, 1) if cmd.args and cmd.args[0] else 0
        return "OK"

    def _cmd_ifc(self, cmd: ParsedCommand) -> str:
        """``AT+IFC=<by_te>,<by_ta>`` (V.250 6.2.12): 0 none, 1 XON/XOFF, 2 RTS/CTS."""
        if cmd.kind == "read":
            self.respond(f"+IFC: {self.ifc[0]},{self.ifc[1]}")
        elif cmd.kind == "test":
            self.respond("+IFC: (0-2),(0-2)")
        elif cmd.kind == "write" and 1 <= len(cmd.args) <= 2:
            by_te = self.int_arg(cmd.args[0], 0, 2)
            by_ta = self.int_arg(cmd.args[1], 0, 2) if len(cmd.args) > 1 else 2
            self.ifc = (by_te, by_ta)
        else:
            raise CommandError(None, "AT+IFC=<by_te>,<by_ta>")
        return "OK"

    def _cmd_cgdcont(self, cmd: ParsedCommand) -> str:
        """``AT+CGDCONT`` (27.007 10.1.1): define (``=<cid>,"<type>","<apn>"``), undefine
        (``=<cid>``), read (:meth:`cgdcont_line` per context), test (:attr:`cgdcont_test`)."""
        if cmd.kind == "read":
            lines = [self.cgdcont_line(cid, t, apn)
                     for cid, (t, apn) in sorted(self.pdp_contexts.items())]
            if lines:
                self.respond_lines(lines)
            return "OK"
        if cmd.kind == "test":
            self.respond_lines(list(self.cgdcont_test))
            return "OK"
        if cmd.kind != "write" or not cmd.args or not cmd.args[0]:
            raise CommandError(None, "AT+CGDCONT=<cid>[,<PDP_type>[,<APN>...]]")
        cid = self.int_arg(cmd.args[0], *self.cid_range)
        if len(cmd.args) == 1:
            self.pdp_contexts.pop(cid, None)
            self.pdp_active.discard(cid)
            return "OK"
        pdp_type = unquote(cmd.args[1])
        apn = unquote(cmd.args[2]) if len(cmd.args) > 2 and cmd.args[2] else ""
        if pdp_type is None or pdp_type.upper() not in ("IP", "IPV6", "IPV4V6", "PPP", "NON-IP"):
            raise CommandError(50, f"bad <PDP_type> {cmd.args[1]!r}")
        if apn is None or len(apn) > 100:
            raise CommandError(50, "<APN> must be a quoted string")
        self.pdp_contexts[cid] = (pdp_type.upper(), apn)
        return "OK"

    def _cmd_cgact(self, cmd: ParsedCommand) -> str:
        """``AT+CGACT`` (27.007 10.1.10): ``=<state>[,<cid>...]``; read one
        ``+CGACT: <cid>,<state>`` per defined context; test ``+CGACT: (0,1)``."""
        if cmd.kind == "read":
            lines = [f"+CGACT: {cid},{int(self.context_active(cid))}"
                     for cid in sorted(self.pdp_contexts)]
            if lines:
                self.respond_lines(lines)
            return "OK"
        if cmd.kind == "test":
            self.respond("+CGACT: (0,1)")
            return "OK"
        if cmd.kind != "write" or not cmd.args or not cmd.args[0]:
            raise CommandError(None, "AT+CGACT=<state>[,<cid>...]")
        state = self.int_arg(cmd.args[0], 0, 1)
        cids = [self.int_arg(a, *self.cid_range) for a in cmd.args[1:] if a]
        cids = cids or sorted(self.pdp_contexts)
        if any(cid not in self.pdp_contexts for cid in cids):
            raise CommandError(50, "undefined <cid>")
        if state:
            if self.registration not in _REGISTERED:
                raise CommandError(30, "not registered")
            self.attached = True
            self.pdp_active.update(cids)
        else:
            self.pdp_active.difference_update(cids)
        return "OK"

    def _cmd_cgpaddr(self, cmd: ParsedCommand) -> str:
        """``AT+CGPADDR[=<cid>...]`` (27.007 10.1.14): ``+CGPADDR: <cid>,"<addr>"`` per
        context; test ``+CGPADDR: (<cids>)``."""
        if cmd.kind == "test":
            self.respond(f"+CGPADDR: ({','.join(map(str, sorted(self.pdp_contexts)))})")
            return "OK"
        if cmd.kind == "read":
            raise CommandError(None, "AT+CGPADDR has no read form")
        cids = ([self.int_arg(a, *self.cid_range) for a in cmd.args if a]
                if cmd.kind == "write" else sorted(self.pdp_contexts))
        lines = [f'+CGPADDR: {cid},"{self.pdp_address(cid)}"' for cid in cids]
        if lines:
            self.respond_lines(lines)
        return "OK"


def parse_cclk(text: str) -> _dt.datetime:
    """Parse a 27.007 8.15 ``"yy/MM/dd,hh:mm:ss±zz"`` time (zz in quarters of an hour).

    Args:
        text: the time without its quotes.

    Returns:
        datetime: a timezone-aware time (years 2000-2099).

    Raises:
        CommandError: the text is not such a time (27.007 error 50).
    """
    try:
        date_part, time_part = text.split(",")
        zone_q = 0
        for sign in "+-":
            if sign in time_part:
                time_part, zone = time_part.split(sign)
                zone_q = int(zone) * (1 if sign == "+" else -1)
                break
        yy, mo, dd = (int(x) for x in date_part.split("/"))
        hh, mi, ss = (int(x) for x in time_part.split(":"))
        tz = _dt.timezone(_dt.timedelta(minutes=15 * zone_q))
        return _dt.datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=tz)
    except (ValueError, TypeError) as exc:
        raise CommandError(50, f"bad time {text!r}") from exc
