"""The modem side of an AT command port: the engine every dialect's virtual modem builds on.

:class:`ATEngine` is assembled from three layers, one module each:

- :mod:`celltls.sim.line` (:class:`~celltls.sim.line.LineEngine`): the ITU-T V.250 line:
  command lines (parsed by :mod:`celltls.at.syntax`), echo, result code framing, ``> `` and
  ``CONNECT`` data phases, transparent data mode and the ``+++`` escape sequence with guard
  times, URCs held back while the line carries data;
- :mod:`celltls.sim.general` (:class:`~celltls.sim.general.GeneralEngine`): the 3GPP TS 27.007
  general commands (``ATI``, ``AT+CGMI``..., ``AT+CMEE``, ``AT+CFUN``, ``AT+CPIN?``,
  ``AT+CREG``/``AT+CGREG``/``AT+CEREG``, ``AT+CGATT``, ``AT+CSQ``, ``AT+CCLK``), registration
  state, the clock and reboot;
- :mod:`celltls.sim.faults` (:class:`~celltls.sim.faults.FaultEngine`): fault injection (line
  noise, lost registration, PDP deactivation, failed sends, server close).

A dialect's virtual modem subclasses :class:`ATEngine`, registers only its own commands with
:meth:`~celltls.sim.line.LineEngine.register`, and fills in the hooks it needs. The names of
:data:`__all__` are its vocabulary.

Thread safety: every entry point takes the engine's lock; network threads call
:meth:`~celltls.sim.line.LineEngine.urc` and :meth:`~celltls.sim.line.LineEngine.write_raw`.
"""

from __future__ import annotations

import datetime as _dt
import os

from celltls.sim.commands import (
    CME_ERRORS,
    CommandError,
    Handler,
    ParsedCommand,
    form_args,
    int_arg,
    split_args,
    unquote,
)
from celltls.sim.faults import FaultEngine
from celltls.sim.general import parse_cclk

__all__ = [
    "CME_ERRORS",
    "ATEngine",
    "CommandError",
    "Handler",
    "ParsedCommand",
    "env_guard_time",
    "form_args",
    "int_arg",
    "parse_cclk",
    "split_args",
    "unquote",
]


class ATEngine(FaultEngine):
    """A virtual modem engine; dialect modems subclass it and register their commands.

    Args:
        manufacturer: the answer to ``AT+CGMI``.
        model: the answer to ``AT+CGMM``.
        revision: the answer to ``AT+CGMR``.
        imei: the answer to ``AT+GSN``.
        guard_time: the escape sequence's guard time, seconds (V.250 S12; default 1 s).
        latency: network round-trip time added by the dialect's network operations, seconds.
        clock: the modem's real-time clock at construction (``None``: the host's time now).

    A subclass registers commands with :meth:`register` (handlers return the final result
    code text, ``None`` when they answer later, or raise :class:`CommandError`) and may
    override :meth:`on_reboot`, :meth:`on_registration_lost`, :meth:`on_pdp_deactivated`,
    :meth:`on_server_close`, :meth:`on_escape`, :meth:`on_resume`, :meth:`after_resume` and
    :meth:`shutdown`.
    """

    def __init__(
        self,
        *,
        manufacturer: str = "celltls",
        model: str = "virtual",
        revision: str = "0.1",
        imei: str = "860000000000001",
        guard_time: float = 1.0,
        latency: float = 0.0,
        clock: _dt.datetime | None = None,
    ) -> None:
        self.latency = latency
        super().__init__(manufacturer=manufacturer, model=model, revision=revision, imei=imei,
                         guard_time=guard_time, clock=clock)


def env_guard_time(default: float) -> float:
    """The guard time from ``CELLTLS_SIM_GUARD_TIME`` (seconds), else ``default``.

    A value that is not a number is ignored (``default`` is returned).
    """
    value = os.environ.get("CELLTLS_SIM_GUARD_TIME")
    try:
        return float(value) if value else default
    except ValueError:
        return default
