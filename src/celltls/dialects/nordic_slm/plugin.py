"""Nordic nRF91 Serial LTE Modem (SLM) dialect: decode-level catalog and diagnosis rules.

The plug-in manifest of the dialect: :data:`DIALECT` (doctor only until its driver and
virtual modem land).
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
    from . import catalog, rules

    return DoctorRules(rules.RULES, dict(catalog.RESPONSES))


DIALECT = DialectInfo(
    name="nordic-slm",
    title="Nordic nRF91 Serial LTE Modem",
    aliases=("nordic", "slm"),
    catalog=_catalog,
    doctor=_doctor,
    default_bearer=True,
    doctor_hints=("#XHTTPC", "#XSOCKET", "#XSSOCKET", "#XCONNECT", "%CMNG", "%XSYSTEMMODE",
                  "#XSLM", "%XICCID", "%XBANDLOCK"),
    sources=("shared/reference/nordic-slm.md",),
)
