"""Digi XBee 3 Cellular dialect (LTE-M/NB-IoT, LTE Cat 1): command-mode parameters, transparent
mode and API frames.

The plug-in manifest of the dialect: :data:`DIALECT`, listed in the ``celltls.dialects``
entry-point group. Sources: :mod:`celltls.dialects.xbee3.catalog` and shared/reference/xbee3.md.

``two_letter=True``: XBee commands are two-letter parameters glued to their value (``ATDL``,
``ATDE1BB``: xbee3.md S2), which the doctor scores with :func:`rules.score` instead of by name.
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
    from .driver import XBee3

    return XBee3


def _virtual_modem() -> Callable[..., ATEngine]:
    from .modem import factory

    return factory


def _doctor() -> DoctorRules:
    from . import rules

    return DoctorRules(rules.RULES, {}, rules.score)


def _capabilities() -> Callable[[str | None], Capabilities]:
    from .driver import capabilities_for

    return capabilities_for


DIALECT = DialectInfo(
    name="xbee3",
    title="Digi XBee 3 Cellular (LTE-M/NB-IoT, LTE Cat 1; command mode, transparent and API)",
    aliases=("xbee", "digi", "xbee3-cellular"),
    models=("lte-m", "cat1"),
    identify=r"XBee\s*3?\s*Cellular|Digi\s+XBee",
    catalog=_catalog,
    driver=_driver,
    virtual_modem=_virtual_modem,
    doctor=_doctor,
    capabilities=_capabilities,
    two_letter=True,
    sources=("Digi XBee 3 Cellular LTE-M/NB-IoT User Guide 90002258",
             "Digi XBee 3 Cellular LTE Cat 1 AT&T User Guide 90002253",
             "shared/reference/xbee3.md"),
)
