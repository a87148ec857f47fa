"""Decoding of the nRF91 ``+CEREG`` notification and read answer, and of ``+CESQ`` signal values.

Shared by the driver (registration state, PSM timers in logs) and the doctor rules. Source:
shared/reference/nordic-slm.md (NRF-REF) 4, "+CEREG" and "+CGPADDR, +CESQ, %CESQ" (S6, S7).
"""

from __future__ import annotations

from dataclasses import dataclass

from celltls.at import quoting
from celltls.dialects.nordic_slm import catalog as cat


@dataclass(frozen=True)
class Timer:
    """A PSM timer from its 8-bit string (3GPP TS 24.008 10.5.7.3 / 10.5.7.4a).

    Attributes:
        bits: the string as reported (``"00000110"``).
        seconds: the value in seconds, ``None`` when deactivated or unknown.
        deactivated: the unit bits say "deactivated" (``111``).
    """

    bits: str
    seconds: int | None
    deactivated: bool

    def describe(self) -> str:
        """``"deactivated"``, ``"3600 s"`` or ``"unknown (<bits>)"``."""
        if self.deactivated:
            return "deactivated"
        return f"{self.seconds} s" if self.seconds is not None else f"unknown ({self.bits})"


def decode_timer(bits: str, units: dict[str, int | None]) -> Timer | None:
    """Decode a quoted 8-character bit string: bits 8-6 the unit, bits 5-1 the value.

    Args:
        bits: ``"11100000"`` (quotes optional).
        units: :data:`~celltls.dialects.nordic_slm.catalog.T3324_UNITS` or ``T3412_UNITS``
            (unit bits -> seconds per step, ``None`` = deactivated).

    Returns:
        Timer | None: ``None`` for an empty field; a timer with ``seconds`` ``None`` for
        a malformed string or an unknown unit.
    """
    text = quoting.unquote(bits)
    if not text:
        return None
    if len(text) != 8 or set(text) - {"0", "1"}:
        return Timer(text, None, False)
    unit, value = text[:3], int(text[3:], 2)
    if unit not in units:
        return Timer(text, None, False)
    step = units[unit]
    if step is None:
        return Timer(text, None, True)
    return Timer(text, step * value, False)


@dataclass(frozen=True)
class Cereg:
    """One decoded ``+CEREG`` line (URC or read answer).

    Attributes:
        n: the reporting level (read answer only, else ``None``).
        stat: the registration state, and its meaning.
        tac: tracking area code (hex text) or ``None``.
        ci: cell id (hex text) or ``None``.
        act: access technology number or ``None``; :attr:`act_name` its name.
        cause_type, reject_cause: ``None`` when empty.
        active_time: T3324; ``periodic_tau``: T3412 extended.
    """

    n: int | None
    stat: int
    tac: str | None = None
    ci: str | None = None
    act: int | None = None
    cause_type: int | None = None
    reject_cause: int | None = None
    active_time: Timer | None = None
    periodic_tau: Timer | None = None

    @property
    def meaning(self) -> str:
        """The meaning of :attr:`stat` (catalog CEREG_STAT)."""
        return cat.CEREG_STAT.get(self.stat, "unknown state")

    @property
    def registered(self) -> bool:
        """Registered, home network or roaming (stat 1 or 5)."""
        return self.stat in (1, 5)

    @property
    def act_name(self) -> str | None:
        """``"NB-IoT"``, ``"LTE-M"``... or ``None``."""
        return None if self.act is None else cat.CEREG_ACT.get(self.act, f"AcT {self.act}")

    def describe(self) -> str:
        """One line for logs and the doctor: state, cell, technology, cause and timers."""
        parts = [f"stat {self.stat}: {self.meaning}"]
        if self.tac or self.ci:
            parts.append(f"TAC {self.tac or '?'}, cell {self.ci or '?'}")
        if self.act is not None:
            parts.append(str(self.act_name))
        if self.cause_type is not None or self.reject_cause is not None:
            kind = cat.CEREG_CAUSE_TYPE.get(self.cause_type or 0, "cause")
            parts.append(f"reject cause {self.reject_cause} ({kind})")
        if self.active_time is not None:
            parts.append(f"PSM active time (T3324) {self.active_time.describe()}")
        if self.periodic_tau is not None:
            parts.append(f"periodic TAU (T3412 ext) {self.periodic_tau.describe()}")
        return "; ".join(parts)


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else None


def decode_cereg(line: str, *, read_form: bool | None = None) -> Cereg:
    """Decode a ``+CEREG`` line.

    The URC is ``+CEREG: <stat>[,<tac>,<ci>,<AcT>[,<cause_type>,<reject_cause>
    [,<Active-Time>,<Periodic-TAU-ext>]]]``; the read answer puts ``<n>`` first, so fields
    shift by one (NRF-REF 4, L2 ``+CEREG: 1,4``).

    Args:
        line: the whole line, ``"+CEREG: "`` optional.
        read_form: ``True`` for the answer to ``AT+CEREG?``, ``False`` for a URC, ``None`` to
            guess (a read answer's second field is a bare number; a URC's is a quoted TAC).

    Returns:
        Cereg: the decoded fields.

    Raises:
        ValueError: no numeric ``<stat>``.
    """
    body = line.split(":", 1)[1] if line.lstrip().startswith("+CEREG") else line
    fields = [f.strip() for f in quoting.split_arguments(body)]
    if read_form is None:
        read_form = len(fields) >= 2 and fields[1].isdigit()
    n: int | None = None
    if read_form:
        n = _int(fields[0])
        fields = fields[1:]
    stat = _int(fields[0]) if fields else None
    if stat is None:
        raise ValueError(f"no <stat> in {line!r}")

    def at(index: int) -> str | None:
        if index >= len(fields):
            return None
        value = quoting.unquote(fields[index])
        return value or None

    return Cereg(
        n=n, stat=stat, tac=at(1), ci=at(2), act=_int(at(3)), cause_type=_int(at(4)),
        reject_cause=_int(at(5)),
        active_time=decode_timer(at(6) or "", dict(cat.T3324_UNITS)),
        periodic_tau=decode_timer(at(7) or "", dict(cat.T3412_UNITS)),
    )


def rsrp_dbm(index: int) -> int | None:
    """RSRP in dBm from the ``+CESQ``/``%CESQ`` index (0..97): index - 140 (nRF91 AT Commands
    Reference, NRF-REF 4 S7); ``None`` for 255 (unknown) or out of range."""
    return index - cat.RSRP_OFFSET_DBM if 0 <= index <= 97 else None


def rsrq_db(index: int) -> float | None:
    """RSRQ in dB from the index (0..34): index * 0.5 - 19.5 (NRF-REF 4 S7); ``None`` when
    unknown (255) or out of range."""
    return index * cat.RSRQ_STEP_DB - cat.RSRQ_OFFSET_DB if 0 <= index <= 34 else None
