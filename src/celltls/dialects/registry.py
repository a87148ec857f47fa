"""The one registry of dialects: plug-ins found through the ``celltls.dialects`` entry points.

Every part of celltls that needs a dialect (``Modem``, ``celltls sim``, ``celltls doctor``, the
CLI's choices) asks this module; none names a dialect. A dialect is a package whose
``plugin`` module declares a :class:`~celltls.dialects.manifest.DialectInfo` named ``DIALECT``,
listed in the ``celltls.dialects`` entry-point group of its distribution's metadata (celltls's
own in ``pyproject.toml``; a third party's in theirs, as pytest plug-ins do).

When celltls runs from a source tree that was never installed (no distribution metadata), the
sub-packages of :mod:`celltls.dialects` with a ``plugin`` module are found by walking the package
instead, so the built-in dialects are always there.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import logging
import pkgutil
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from celltls.dialects.manifest import DialectInfo, DoctorRules
from celltls.errors import ATError, ATTimeoutError, CellTLSError, PortError

if TYPE_CHECKING:  # listing the dialects (--help, --version) imports no driver layer
    from celltls.at.channel import ATChannel
    from celltls.dialects.base import Capabilities, Dialect
    from celltls.dialects.spec import Catalog

__all__ = [
    "ENTRY_POINT_GROUP",
    "UnknownDialectError",
    "all_dialects",
    "canonical",
    "detect",
    "generation",
    "get",
    "load",
    "names",
    "reload",
]

log = logging.getLogger(__name__)

#: the entry-point group dialect plug-ins are listed in.
ENTRY_POINT_GROUP = "celltls.dialects"

DriverFactory = Callable[..., "Dialect"]

_lock = threading.Lock()
_cache: dict[str, DialectInfo] | None = None
_generation = 0


class UnknownDialectError(CellTLSError, ValueError):
    """A dialect name that no installed plug-in declares (the message lists the known ones)."""

    exit_code = 2


def _from_entry_points(found: dict[str, DialectInfo]) -> None:
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            info = entry.load()
        except Exception as exc:  # a broken third-party plug-in must not break the others
            log.warning("dialect plug-in %s (%s) failed to load: %s", entry.name, entry.value, exc)
            continue
        if not isinstance(info, DialectInfo):
            log.warning("dialect plug-in %s (%s) is not a DialectInfo", entry.name, entry.value)
            continue
        found.setdefault(info.name, info)


def _from_package(found: dict[str, DialectInfo]) -> None:
    package = importlib.import_module(__package__ or "celltls.dialects")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.ispkg:
            continue
        name = f"{package.__name__}.{module.name}.plugin"
        try:
            plugin = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                log.warning("dialect package %s failed to import: %s", module.name, exc)
            continue  # a package without a manifest is not a dialect
        except ImportError as exc:
            log.warning("dialect package %s failed to import: %s", module.name, exc)
            continue
        info = getattr(plugin, "DIALECT", None)
        if isinstance(info, DialectInfo):
            found.setdefault(info.name, info)


def _dialects() -> dict[str, DialectInfo]:
    global _cache
    with _lock:
        if _cache is None:
            found: dict[str, DialectInfo] = {}
            _from_entry_points(found)
            _from_package(found)
            _cache = dict(sorted(found.items()))
        return _cache


def reload() -> None:
    """Forget the dialects found so far; the next call looks for plug-ins again.

    For a program (or test) that installs a plug-in while running. Caches built from the
    registry (the doctor's) compare :func:`generation` to notice.
    """
    global _cache, _generation
    with _lock:
        _cache = None
        _generation += 1


def generation() -> int:
    """A number that changes with every :func:`reload`."""
    return _generation


def all_dialects() -> tuple[DialectInfo, ...]:
    """Every dialect installed, sorted by name (drivable or doctor-only)."""
    return tuple(_dialects().values())


def names(*, drivable: bool = False, simulated: bool = False) -> list[str]:
    """Dialect names, sorted.

    Args:
        drivable: only those with a driver (what ``Modem`` and ``celltls get`` accept).
        simulated: only those with a virtual modem (what ``celltls sim`` accepts).
    """
    return [
        info.name for info in _dialects().values()
        if (not drivable or info.driver is not None)
        and (not simulated or info.virtual_modem is not None)
    ]


def canonical(name: str) -> str:
    """The dialect name for ``name``: case and ``_`` normalised, aliases resolved.

    Returns the normalised text unchanged when no dialect has that name or alias.
    """
    key = name.strip().lower().replace("_", "-")
    dialects = _dialects()
    if key in dialects:
        return key
    for info in dialects.values():
        if key in info.aliases:
            return info.name
    return key


def get(name: str) -> DialectInfo:
    """The manifest of dialect ``name`` (or an alias).

    Raises:
        UnknownDialectError: no installed plug-in declares it.
    """
    info = _dialects().get(canonical(name))
    if info is None:
        raise UnknownDialectError(f"unknown dialect {name!r}; known: {', '.join(names())}")
    return info


def load(name: str) -> tuple[Catalog, DriverFactory]:
    """The catalog and driver class of dialect ``name``.

    Raises:
        UnknownDialectError: unknown dialect (the message lists the known ones).
        CellTLSError: the dialect has no driver yet (the doctor can still read its logs).
    """
    info = get(name)
    if info.driver is None:
        raise CellTLSError(
            f"dialect {info.name!r} has no driver yet (celltls doctor reads its logs); "
            f"drivable: {', '.join(names(drivable=True))}")
    return info.catalog(), info.driver()


def capabilities(name: str, model: str | None = None) -> Capabilities | None:
    """What dialect ``name`` (model ``model``) can do, or ``None`` when it does not say."""
    info = get(name)
    return info.capabilities()(model) if info.capabilities is not None else None


def doctor_rules(name: str) -> DoctorRules:
    """The doctor's rules of dialect ``name`` (empty when it adds none)."""
    info = get(name)
    return info.doctor() if info.doctor is not None else DoctorRules()


def detect(channel: ATChannel) -> str:
    """Identify the module with ``ATI``, ``AT+CGMI`` and ``AT+CGMM`` and name its dialect.

    Each dialect's :attr:`~celltls.dialects.manifest.DialectInfo.identify` pattern is matched
    against every identification line (3GPP TS 27.007 5.1, 5.2; ITU-T V.250 6.1.3).

    Raises:
        CellTLSError: the identification matches no installed dialect.
        ATError: only when the port itself fails (a command the module rejects is skipped).
    """
    seen: list[str] = []
    dialects = [info for info in _dialects().values()
                if info.driver is not None and info.identify]
    terminator = channel.protocol.terminator
    answered = False
    try:
        for line in ("ATI", "AT+CGMI", "AT+CGMM"):
            try:
                reply = channel.command(line, timeout=2)
            except PortError:
                raise
            except ATTimeoutError:
                if answered or channel.protocol.terminator != b"\r":
                    continue
                # Nothing at all: a module that ends a command line at CR LF only (the nRF91
                # Serial LTE Modem, shared/reference/nordic-slm.md 3) still holds "ATI<CR>".
                # Go on with CR LF (V.250 modules take the LF as a blank), after one "AT" that
                # flushes what the module holds (its answer may be ERROR).
                channel.protocol.terminator = b"\r\n"
                with contextlib.suppress(ATError):
                    channel.command("AT", timeout=2, check=False)
                try:
                    reply = channel.command(line, timeout=2)
                except ATError:
                    continue
            except ATError:
                answered = True
                continue
            answered = True
            seen.extend(reply.lines)
            for text in reply.lines:
                for info in dialects:
                    if info.matches(text):
                        return info.name
    finally:
        channel.protocol.terminator = terminator
    raise CellTLSError(
        f"cannot tell the dialect from the module's identification {seen!r}; pass --dialect "
        f"(one of {', '.join(names(drivable=True))})"
    )
