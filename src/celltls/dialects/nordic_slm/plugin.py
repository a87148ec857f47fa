"""Nordic nRF91 Serial LTE Modem (SLM) dialect: ``#X`` socket and HTTP commands, ``%CMNG``.

The plug-in manifest of the dialect: :data:`DIALECT`, listed in the ``celltls.dialects``
entry-point group. Sources: see :mod:`celltls.dialects.nordic_slm.catalog` and
shared/reference/nordic-slm.md.
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
    from .driver import NordicSlm

    return NordicSlm


def _virtual_modem() -> Callable[..., ATEngine]:
    from .modem import factory

    return factory


def _doctor() -> DoctorRules:
    from . import catalog, rules

    return DoctorRules(rules.RULES, dict(catalog.RESPONSES))


def _capabilities() -> Callable[[str | None], Capabilities]:
    from .driver import capabilities_for

    return capabilities_for


DIALECT = DialectInfo(
    name="nordic-slm",
    title="Nordic nRF91 Serial LTE Modem (nRF9160, nRF9161, nRF9151)",
    aliases=("nordic", "nrf91", "slm", "nrf9160", "serial-lte-modem"),
    models=("nrf9160", "nrf9161", "nrf9151"),
    # AT+CGMM answers "nRF9160-SICA" (nRF9151: "nRF9151-LACA"...), AT+CGMI "Nordic Semiconductor
    # ASA" (3GPP TS 27.007 5.1, 5.2); ATI answers ERROR on SLM (NRF-REF 3 L2)
    identify=r"(?<![A-Za-z0-9])nRF91\d\d|Nordic Semiconductor",
    catalog=_catalog,
    driver=_driver,
    virtual_modem=_virtual_modem,
    doctor=_doctor,
    capabilities=_capabilities,
    default_bearer=True,
    doctor_hints=("#XHTTPC", "#XSOCKET", "#XSSOCKET", "#XCONNECT", "%CMNG", "%XSYSTEMMODE",
                  "#XSLM", "%XICCID", "%XBANDLOCK"),
    sources=("shared/reference/nordic-slm.md",),
)
