"""SIMCom modules (SIM800 family, SIM7000/SIM7070/SIM7080, A76xx/SIM7600): doctor-only dialect.

The plug-in manifest: :data:`DIALECT` (no driver and no virtual modem yet). Sources:
``shared/reference/simcom.md``, SIMCom SIM800 AT manual and SSL application note.
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
    name="simcom",
    title="SIMCom (SIM800, SIM7000, SIM7080, A76xx, SIM7600)",
    aliases=("sim800", "sim7000", "sim7080", "a7670"),
    models=("SIM800", "SIM7000", "SIM7080", "A7670", "SIM7600"),
    identify=r"(?<![A-Za-z0-9])(SIM7[0-9]{3}|SIM8[0-9]{2}|A76[0-9]{2}|SIMCOM)",
    catalog=_catalog,
    driver=None,
    virtual_modem=None,
    doctor=_doctor,
    doctor_hints=("+CSSLCFG", "+CFS", "+CCH", "+SH", "+CA", "+CNACT", "+HTTP", "+SAPBR",
                  "+CIPSSL", "+SM", "+CCERT"),
    sources=("shared/reference/simcom.md", "SIMCom SIM800 Series AT Command Manual V1.09",
             "SIMCom SIM800 Series SSL Application Note V1.05"),
)
