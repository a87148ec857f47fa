"""u-blox SARA-R4 / SARA-R5 (and LARA-R6): doctor-only dialect.

The plug-in manifest: :data:`DIALECT` (no driver and no virtual modem yet). Source:
``shared/reference/ublox-sara.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from celltls.dialects.manifest import DialectInfo, DoctorRules

if TYPE_CHECKING:  # pragma: no cover
    from celltls.dialects.spec import Catalog


def _catalog() -> Catalog:
    from .catalog import CATALOG

    return CATALOG


def _doctor() -> DoctorRules:
    from . import rules

    return DoctorRules(rules.RULES, {}, rules.score)


DIALECT = DialectInfo(
    name="ublox",
    title="u-blox SARA-R4 / SARA-R5 (LARA-R6)",
    aliases=("u-blox", "sara", "sara-r4", "sara-r5"),
    models=("SARA-R410M", "SARA-R412M", "SARA-R422", "SARA-R510S", "LARA-R6"),
    identify=r"(SARA-?R[45]|LARA-?R6|u-blox)",
    catalog=_catalog,
    driver=None,
    virtual_modem=None,
    doctor=_doctor,
    default_bearer=True,
    doctor_hints=("+USO", "+USEC", "+UHTTP", "+UMQTT", "+UPSD", "+UUSO", "+UUPSD", "+UMNOPROF",
                  "+URAT"),
    sources=("shared/reference/ublox-sara.md",),
)
