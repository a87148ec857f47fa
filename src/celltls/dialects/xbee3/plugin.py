"""Digi XBee 3 Cellular dialect: decode-level catalog and diagnosis rules.

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
    from . import rules

    return DoctorRules(rules.RULES, {}, rules.score)


DIALECT = DialectInfo(
    name="xbee3",
    title="Digi XBee 3 Cellular",
    aliases=("xbee", "digi"),
    catalog=_catalog,
    doctor=_doctor,
    two_letter=True,
    sources=("shared/reference/xbee3.md",),
)
