"""The manifest a dialect plug-in declares: one :class:`DialectInfo` in its ``__init__.py``.

A dialect is one folder, ``celltls/dialects/<name>/`` for the project's own, or any importable
package of a third party. Its ``plugin.py`` declares one :class:`DialectInfo` named ``DIALECT``,
listed in the ``celltls.dialects`` entry-point group::

    [project.entry-points."celltls.dialects"]
    acme = "acme_celltls.plugin:DIALECT"

(The manifest is a module of the folder rather than its ``__init__.py`` so that importing any
module of the dialect, its catalog for instance, does not import the manifest, and so that the
package's own ``__init__`` names nothing.)

:mod:`celltls.dialects.registry` finds it there; nothing else in celltls names a dialect. The
manifest itself imports nothing heavy: the catalog, driver, virtual modem and rules are loaded on
first use through the loader functions it holds, so that listing the dialects (``--help``,
``celltls doctor``) costs no driver import.

This module sits in the contract layer (below the frameworks and the plug-ins): it imports
nothing of celltls at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only, no run-time dependency upwards
    from celltls.dialects.base import Capabilities, Dialect
    from celltls.dialects.spec import Catalog, Param
    from celltls.doctor.model import Rule
    from celltls.doctor.reader import Line
    from celltls.sim.engine import ATEngine

__all__ = ["DialectInfo", "DoctorRules"]


@dataclass(frozen=True)
class DoctorRules:
    """What a dialect adds to ``celltls doctor``.

    Attributes:
        rules: the rule functions (``Session -> Iterator[Finding]``), run in order.
        responses: extra parameter descriptions of information responses, by prefix
            (``"+QSECREAD:"``), beyond those the catalog's commands declare.
        score: an extra detection score over the read lines (for dialects whose commands
            cannot be told apart by name, such as XBee's two-letter ``AT`` parameters).
    """

    rules: Sequence[Rule] = ()
    responses: dict[str, tuple[Param, ...]] = field(default_factory=dict)
    score: Callable[[Sequence[Line]], int] | None = None


@dataclass(frozen=True)
class DialectInfo:
    """One dialect, as its plug-in declares it.

    Attributes:
        name: the dialect's name (``"quectel-gsm"``): lower case, digits and ``-``.
        title: the module family, for people (``"Quectel GSM (M66, M95, MC60...)"``).
        aliases: other names accepted for it (``"quectel"``).
        models: model names its virtual modem and driver know (``"M66"``, ``"hl7800"``),
            the first being the virtual modem's default.
        identify: a regular expression matched (case-insensitively) against the module's
            identification (``ATI``, ``AT+CGMM``, ``AT+CGMI`` lines); a match means this dialect.
        catalog: loads the dialect's :class:`~celltls.dialects.spec.Catalog`.
        driver: loads the driver class (a :class:`~celltls.dialects.base.Dialect` subclass,
            constructed as ``driver(channel, probe_failures=..., model=..., **options)``);
            ``None`` for a dialect the doctor decodes but celltls cannot drive yet.
        virtual_modem: loads the factory of its virtual modem (keyword options ``model``,
            ``guard_time``, ``latency``...; returns an ATEngine); ``None`` when there is none.
        doctor: loads its :class:`DoctorRules`; ``None`` when it adds none.
        capabilities: loads a function ``model -> Capabilities`` (``model`` may be ``None``).
        doctor_hints: command-name prefixes that betray the dialect in a pasted log.
        default_bearer: whether its modules register on LTE (E-UTRAN), where the attach brings
            up the default EPS bearer, so registration alone means a PDP context (3GPP TS 23.401
            5.3.2); the doctor uses it.
        two_letter: whether its commands are V.250 two-letter parameters (``ATDL``), which the
            doctor scores with :attr:`DoctorRules.score` instead of by name.
        sources: the documents the plug-in is written from.
    """

    name: str
    title: str
    catalog: Callable[[], Catalog]
    driver: Callable[[], type[Dialect]] | None = None
    virtual_modem: Callable[[], Callable[..., ATEngine]] | None = None
    doctor: Callable[[], DoctorRules] | None = None
    capabilities: Callable[[], Callable[[str | None], Capabilities]] | None = None
    aliases: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    identify: str | None = None
    doctor_hints: tuple[str, ...] = ()
    default_bearer: bool = False
    two_letter: bool = False
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", self.name):
            raise ValueError(f"dialect name {self.name!r}: lower case letters, digits and '-'")
        if self.identify is not None:
            re.compile(self.identify)

    def matches(self, text: str) -> bool:
        """Whether an identification line (``ATI``, ``AT+CGMM``...) names this dialect."""
        if not self.identify:
            return False
        return re.search(self.identify, text, re.IGNORECASE) is not None
