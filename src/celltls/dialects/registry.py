"""Dialect names, their drivers, and auto-detection from the module's identification."""

from __future__ import annotations

import re
from collections.abc import Callable

from celltls.at.channel import ATChannel
from celltls.dialects.base import Dialect
from celltls.dialects.spec import Catalog
from celltls.errors import ATError, CellTLSError

DriverFactory = Callable[..., Dialect]


def _quectel_gsm() -> tuple[Catalog, DriverFactory]:
    from celltls.dialects.quectel_gsm.catalog import CATALOG
    from celltls.dialects.quectel_gsm.driver import QuectelGsm

    return CATALOG, QuectelGsm


def _sierra() -> tuple[Catalog, DriverFactory]:
    from celltls.dialects.sierra.catalog import CATALOG
    from celltls.dialects.sierra.driver import Sierra

    return CATALOG, Sierra


#: dialect name -> loader of (catalog, driver class). Later dialects add themselves here.
DRIVERS: dict[str, Callable[[], tuple[Catalog, DriverFactory]]] = {
    "quectel-gsm": _quectel_gsm,
    "sierra": _sierra,
}
#: patterns of ATI / AT+CGMM answers -> dialect name.
MODEL_PATTERNS: list[tuple[str, str]] = [
    # "Quectel_M66": the underscore is a word character, so no \b before the model.
    (r"(?<![A-Za-z0-9])(M66|M95|MC60|M26|M35|M85|MC20|M56|M12)(?![A-Za-z0-9])", "quectel-gsm"),
    (r"(?<![A-Za-z0-9])(RC76\d\d|HL78\d\d|HL75\d\d)", "sierra"),
]


def names() -> list[str]:
    """The dialect names celltls can drive."""
    return sorted(DRIVERS)


def load(name: str) -> tuple[Catalog, DriverFactory]:
    """The catalog and driver class of dialect ``name``.

    Raises:
        CellTLSError: unknown dialect (the message lists the known ones).
    """
    try:
        loader = DRIVERS[name]
    except KeyError:
        raise CellTLSError(f"unknown dialect {name!r}; known: {', '.join(names())}") from None
    return loader()


def detect(channel: ATChannel) -> str:
    """Identify the module with ``ATI`` and ``AT+CGMM`` and return its dialect's name.

    Raises:
        CellTLSError: the model matches no known dialect.
        ATError: the module does not answer.
    """
    seen: list[str] = []
    for line in ("ATI", "AT+CGMM"):
        try:
            reply = channel.command(line, timeout=2)
        except ATError:
            continue
        seen.extend(reply.lines)
        for text in reply.lines:
            for pattern, dialect in MODEL_PATTERNS:
                if re.search(pattern, text, re.IGNORECASE):
                    return dialect
    raise CellTLSError(
        f"cannot tell the dialect from the module's identification {seen!r}; pass --dialect"
    )
