"""Quectel LTE modules (BG95/BG96/BG77/BG600L, EC21/EC25/EG25-G/EG91): doctor-only dialect.

The plug-in manifest: :data:`DIALECT` (no driver and no virtual modem yet; the doctor decodes
and diagnoses their logs). Source: ``shared/reference/quectel-lte.md``.
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
    name="quectel-lte",
    title="Quectel LTE (BG95, BG96, BG77, EC2x, EG2x)",
    aliases=("bg96", "bg95", "ec25", "eg25"),
    models=("BG96", "BG95", "BG77", "EC21", "EC25", "EG25-G", "EG91"),
    identify=r"(?<![A-Za-z0-9])(BG9[56]|BG77|BG600L|EC2[15]|EG2[15]|EG91)",
    catalog=_catalog,
    driver=None,
    virtual_modem=None,
    doctor=_doctor,
    default_bearer=True,
    doctor_hints=("+QHTTP", "+QMT", "+QFUPL", "+QFLST", "+QFDEL", "+QFDWL", "+QNWINFO", "+QCFG"),
    sources=("shared/reference/quectel-lte.md",),
)
