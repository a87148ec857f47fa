"""Sierra URCs and notification codes in words, for the driver's errors and the doctor's findings.

Facts from the catalog (:data:`~celltls.dialects.sierra.catalog.KCNX_STATUS`,
:data:`~celltls.dialects.sierra.catalog.NOTIF`); HL75-ATIG 11.7.5 and
shared/reference/sierra-hl78xx.md §3-4. Shared by the driver and the doctor rules, so that
neither imports the other.
"""

from __future__ import annotations

import contextlib

from celltls.dialects.sierra import catalog as cat

__all__ = ["describe_kcnx_ind", "describe_line"]


def describe_kcnx_ind(text: str) -> str:
    """Decode ``+KCNX_IND: <cnx>,<status>[,...]`` field by field (HL75-ATIG 11.7.5)."""
    fields = [f.strip() for f in text.split(":", 1)[1].split(",")]
    status = int(fields[1]) if len(fields) > 1 and fields[1].lstrip("-").isdigit() else -1
    out = [f"connection configuration {fields[0]}",
           f"status {status} ({cat.KCNX_STATUS.get(status, 'unknown')})"]
    if status == 2 and len(fields) >= 5:
        out.append(f"attempt {fields[2]} of {fields[3]} attempts, next in {fields[4]} s "
                   "(+KCNXTIMER)")
    elif status in (0, 1) and len(fields) > 2:
        out.append("IPv6" if fields[2] == "1" else "IPv4")
    return ", ".join(out)


def describe_line(text: str) -> str:
    """The meaning of a ``+KHTTP_ERROR``/``+KTCP_NOTIF``/``+KCNX_IND`` line, else ``text``."""
    if text.startswith("+KCNX_IND:"):
        return describe_kcnx_ind(text)
    if text.startswith(("+KHTTP_ERROR:", "+KTCP_NOTIF:")):
        with contextlib.suppress(ValueError, IndexError):
            code = int(text.split(",")[1])
            return f"session {text.split(':')[1].split(',')[0].strip()}: " \
                   f"{cat.NOTIF.get(code, 'unknown code')}"
    return text
