"""Sequans Monarch / Monarch 2 dialect (the ``+SQN`` command set: GM01Q, GM02S, GM02SP...).

The plug-in manifest of the dialect: :data:`DIALECT`, found by the registry (the
``celltls.dialects`` entry-point group, or the source tree). Sources: see
:mod:`celltls.dialects.sequans.catalog` and shared/reference/sequans.md.
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
    from .driver import Sequans

    return Sequans


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
    name="sequans",
    title="Sequans Monarch / Monarch 2 (+SQN... commands: GM01Q, GM02S, GM02SP, RYZ014A)",
    aliases=("monarch", "sequans-monarch", "gm02s"),
    models=("gm02s", "gm02sp", "gm01q", "ryz014a"),
    # ATI answers "SEQUANS Communications" / "VZM20Q" / "UE6.0.0.0" (sequans.md §3, L10); the
    # module names of S3/S6/S7/S12; firmware families LR5/LR8/UE5-8 alone are not claimed.
    identify=r"SEQUANS|(?<![A-Za-z0-9])(GM0[12][A-Z]{0,2}|VZM20Q|RYZ01[04]A?|SQN3330|"
             r"Monarch)",
    catalog=_catalog,
    driver=_driver,
    virtual_modem=_virtual_modem,
    doctor=_doctor,
    capabilities=_capabilities,
    default_bearer=True,
    doctor_hints=("+SQN", "+SYSSTART"),
    sources=("shared/reference/sequans.md",
             "forum.sequans.com/t/stuck-in-loading-certificate/265 (seed 002)"),
)
