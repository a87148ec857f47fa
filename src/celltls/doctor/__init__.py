"""``celltls doctor``: explain a failed modem session from its log, for every dialect.

Public API::

    from celltls.doctor import diagnose
    report = diagnose(open("session.log").read())          # dialect detected
    report = diagnose(text, dialect="sequans")             # or forced
    report.findings, report.decoded, report.exit_status
    render_json(report)  # the "celltls-doctor 1" JSON document (docs/doctor.md)
    render_text(report, console, explain=True)

See :mod:`celltls.doctor.engine` for the rule API dialects plug into, and
:mod:`celltls.doctor.model` for the rule types.
"""

from __future__ import annotations

from celltls.doctor.engine import Finding, Report, Session, diagnose, dialect_names
from celltls.doctor.report import SCHEMA, SCHEMA_VERSION, render_json, render_text, to_json

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "Finding",
    "Report",
    "Session",
    "diagnose",
    "dialect_names",
    "render_json",
    "render_text",
    "to_json",
]
