"""Sequans Monarch / Monarch 2 dialect: decode-level catalog and diagnosis rules.

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
    name="sequans",
    title="Sequans Monarch / Monarch 2",
    aliases=("monarch",),
    catalog=_catalog,
    doctor=_doctor,
    default_bearer=True,
    doctor_hints=("+SQN", "+SYSSTART"),
    sources=("shared/reference/sequans.md",),
)
