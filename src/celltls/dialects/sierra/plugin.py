"""Sierra Wireless AirPrime dialect (RC76xx and HL78xx, the "K" command set).

The plug-in manifest of the dialect: :data:`DIALECT`, listed in the ``celltls.dialects``
entry-point group.
Sources: see :mod:`celltls.dialects.sierra.catalog` and shared/reference/sierra-hl78xx.md.
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
    from .driver import Sierra

    return Sierra


def _virtual_modem() -> Callable[..., ATEngine]:
    from .modem import factory

    return factory


def _doctor() -> DoctorRules:
    from . import rules

    return DoctorRules(rules.RULES, dict(rules.RESPONSES))


def _capabilities() -> Callable[[str | None], Capabilities]:
    from . import catalog
    from .driver import capabilities_for

    return lambda model: capabilities_for(catalog.model(model))


DIALECT = DialectInfo(
    name="sierra",
    title="Sierra Wireless AirPrime HL78xx / RC76xx (+K... commands)",
    aliases=("sierra-wireless", "airprime"),
    models=("hl7800", "rc7620"),
    identify=r"(?<![A-Za-z0-9])(RC76\d\d|HL78\d\d|HL75\d\d)",
    catalog=_catalog,
    driver=_driver,
    virtual_modem=_virtual_modem,
    doctor=_doctor,
    capabilities=_capabilities,
    doctor_hints=("+KCNX", "+KHTTP", "+KCERT", "+KTCP", "+KUDP", "+KSSL", "+KIP", "+KPING"),
    sources=("AirPrime HL7518/HL7548 AT Commands Interface Guide 4116303",
             "shared/reference/sierra-hl78xx.md"),
)
