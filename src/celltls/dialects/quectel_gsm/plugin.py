"""Quectel GSM modules (M66, M95, MC60, M26...): SSL sockets through the +QSSL commands.

The plug-in manifest of the dialect: :data:`DIALECT`, listed in the ``celltls.dialects``
entry-point group.
Source: Quectel GSM SSL Application Note V3.3 (the seed ``004``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from celltls.dialects.manifest import DialectInfo, DoctorRules

if TYPE_CHECKING:  # pragma: no cover
    from celltls.dialects.base import Capabilities, Dialect
    from celltls.dialects.spec import Catalog
    from celltls.sim.engine import ATEngine


def _catalog() -> Catalog:
    from .catalog import CATALOG

    return CATALOG


def _driver() -> type[Dialect]:
    from .driver import QuectelGsm

    return QuectelGsm


def _virtual_modem() -> Callable[..., ATEngine]:
    from .modem import QuectelGsmModem

    return QuectelGsmModem


def _doctor() -> DoctorRules:
    from . import rules

    return DoctorRules(rules.RULES, dict(rules.RESPONSES))


def _capabilities() -> Callable[[str | None], Capabilities]:
    from .driver import CAPABILITIES

    return lambda model: CAPABILITIES


DIALECT = DialectInfo(
    name="quectel-gsm",
    title="Quectel GSM (M66, M95, MC60...)",
    aliases=("quectel",),
    models=("M66", "M95", "MC60"),
    # "Quectel_M66": the underscore is a word character, so lookarounds instead of \b.
    identify=r"(?<![A-Za-z0-9])(M66|M95|MC60|M26|M35|M85|MC20|M56|M12)(?![A-Za-z0-9])",
    catalog=_catalog,
    driver=_driver,
    virtual_modem=_virtual_modem,
    doctor=_doctor,
    capabilities=_capabilities,
    doctor_hints=("+QSSL", "+QSEC", "+QIACT", "+QIREGAPP", "+QICSGP", "+QIFGCNT", "+QILOCIP"),
    sources=("Quectel GSM SSL Application Note V3.3",),
)
