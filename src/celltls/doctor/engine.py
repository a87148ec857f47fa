"""The doctor's engine: dialect detection, the rule registry and :func:`diagnose`.

How a diagnosis runs::

    text ──read_lines──► [Line] ──detect──► dialect ──Decoder──► [Decoded] ──rules──► [Finding]

Plugging in a dialect (the rule API)
====================================

A dialect takes part in diagnosis through two modules listed in :data:`DIALECTS`:

- ``celltls.dialects.<pkg>.catalog`` with ``CATALOG`` (a :class:`celltls.dialects.spec.Catalog`)
  and, optionally, ``RESPONSES``: a mapping from an information response's prefix with its
  colon (``"+QSECREAD:"``) to the tuple of :class:`~celltls.dialects.spec.Param` naming its
  fields, for responses that are not URCs of the catalog;
- ``celltls.dialects.<pkg>.rules`` with ``RULES``: a sequence of rules, and optionally
  ``RESPONSES`` (as above) and ``score(lines: Sequence[Line]) -> int``, extra evidence for the
  dialect detector (used by dialects whose logs are mostly prose, such as XBee settings).

A **rule** is any callable ``rule(session: Session) -> Iterable[Finding]``. It reads
``session.decoded`` (one :class:`~celltls.doctor.decode.Decoded` per input line, in order;
``decoded[i].lineno == i + 1``), ``session.dialect`` and ``session.catalog``, and uses the
helpers :meth:`Session.commands`, :meth:`Session.replies` and :meth:`Session.final`. It yields
:class:`Finding` objects: ``line`` is the 1-based input line it points at, ``column`` the 1-based
column when meaningful, ``code`` a stable identifier (lower-case, dash-separated, dialect rules
prefixed with the dialect: ``sequans-certvalidlevel-invalid``; shared codes such as
``upload-mismatch`` may be reused), ``severity`` ``"error"``/``"warning"``/``"info"``,
``message`` what is wrong, ``why`` why it matters, ``fix`` what to do, ``source`` the document
and section the fact comes from. A rule must be linear in the number of lines (index what you
need in one pass; never rescan the log per line). A rule that raises does not stop the
diagnosis: the engine reports an ``internal-error`` finding naming the rule instead.

A missing module (``ImportError``) is skipped: the dialect is still detected from
:attr:`DialectEntry.hints` and diagnosed with the generic rules and the 3GPP catalog.

Sources: shared/DESIGN.md ("diagnosis rules"), shared/transcripts/FORMAT.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import ModuleType
from typing import Literal

from celltls.dialects.spec import Catalog, Param
from celltls.doctor.decode import GENERIC, Decoded, Decoder, parse_command
from celltls.doctor.reader import Line, read_lines

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found.

    Attributes:
        code: stable identifier (``"stray-quote"``); see docs/doctor.md for the list.
        severity: ``"error"`` (explains a failure), ``"warning"`` (likely to cause one),
            ``"info"`` (worth knowing).
        line: 1-based line of the input it points at.
        message: what is wrong, with the values involved.
        why: why it matters.
        fix: what to do about it.
        source: the document and section the fact comes from.
        column: 1-based column in that line, when meaningful.
        related: other 1-based lines involved (the command a response answers...).
    """

    code: str
    severity: Severity
    line: int
    message: str
    why: str
    fix: str
    source: str
    column: int | None = None
    related: tuple[int, ...] = ()


Rule = Callable[["Session"], Iterable[Finding]]


@dataclass(frozen=True)
class DialectEntry:
    """A dialect the doctor knows: where its catalog and rules live, and detection hints.

    Attributes:
        name: the dialect's name (``"nordic-slm"``), as ``--dialect`` takes it.
        package: the package under ``celltls.dialects`` (``"nordic_slm"``).
        title: the module family.
        hints: command/response prefixes that identify the dialect even without its catalog.
        two_letter: commands are XBee-style ``AT`` + two characters + value.
    """

    name: str
    package: str
    title: str
    hints: tuple[str, ...] = ()
    two_letter: bool = False


#: The dialects, in detection tie-break order. Sierra's catalog and rules come with issue 3.
DIALECTS: tuple[DialectEntry, ...] = (
    DialectEntry("quectel-gsm", "quectel_gsm", "Quectel GSM (M66, M95, MC60...)",
                 ("+QSSL", "+QSEC", "+QIACT", "+QIREGAPP", "+QICSGP", "+QIFGCNT", "+QILOCIP")),
    DialectEntry("sierra", "sierra", "Sierra Wireless HL/RC (+K... commands)",
                 ("+KCNX", "+KHTTP", "+KCERT", "+KTCP", "+KUDP", "+KSSL", "+KIP", "+KPING")),
    DialectEntry("nordic-slm", "nordic_slm", "Nordic nRF91 Serial LTE Modem",
                 ("#XHTTPC", "#XSOCKET", "#XSSOCKET", "#XCONNECT", "%CMNG", "%XSYSTEMMODE",
                  "#XSLM", "%XICCID", "%XBANDLOCK")),
    DialectEntry("sequans", "sequans", "Sequans Monarch / Monarch 2", ("+SQN", "+SYSSTART")),
    DialectEntry("xbee3", "xbee3", "Digi XBee 3 Cellular", (), two_letter=True),
)
_ALIASES = {"quectel": "quectel-gsm", "nordic": "nordic-slm", "slm": "nordic-slm",
            "xbee": "xbee3", "digi": "xbee3", "monarch": "sequans", "generic": "generic",
            "3gpp": "generic"}


@dataclass(frozen=True)
class LoadedDialect:
    """A dialect entry with whatever of its modules could be imported."""

    entry: DialectEntry
    catalog: Catalog | None
    rules: tuple[Rule, ...]
    responses: Mapping[str, tuple[Param, ...]]
    score: Callable[[Sequence[Line]], int] | None
    missing: tuple[str, ...]


def _import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@cache
def load_dialect(name: str) -> LoadedDialect | None:
    """Load a dialect's catalog and rules modules (each may be missing).

    Args:
        name: a dialect name of :data:`DIALECTS` (or an alias).

    Returns:
        LoadedDialect | None: ``None`` for an unknown name.
    """
    key = canonical_dialect(name)
    entry = next((e for e in DIALECTS if e.name == key), None)
    if entry is None:
        return None
    missing: list[str] = []
    catalog_module = _import(f"celltls.dialects.{entry.package}.catalog")
    rules_module = _import(f"celltls.dialects.{entry.package}.rules")
    catalog = getattr(catalog_module, "CATALOG", None) if catalog_module else None
    if not isinstance(catalog, Catalog):
        catalog = None
        missing.append("catalog")
    if rules_module is None:
        missing.append("rules")
    responses: dict[str, tuple[Param, ...]] = {}
    for module in (catalog_module, rules_module):
        responses.update(getattr(module, "RESPONSES", {}) or {})
    rules = tuple(getattr(rules_module, "RULES", ()) or ()) if rules_module else ()
    score = getattr(rules_module, "score", None) if rules_module else None
    return LoadedDialect(entry, catalog, rules, responses, score, tuple(missing))


def canonical_dialect(name: str) -> str:
    """Normalise a dialect name: case, ``_`` for ``-``, and aliases (``"quectel"``)."""
    key = name.strip().lower().replace("_", "-")
    return _ALIASES.get(key, key)


def dialect_names() -> tuple[str, ...]:
    """The names ``--dialect`` accepts (``"generic"`` = 3GPP only)."""
    return (*(e.name for e in DIALECTS), "generic")


@lru_cache(maxsize=1)
def _score_table() -> tuple[dict[str, dict[str, int]], tuple[tuple[str, str], ...]]:
    generic = {name.upper() for name in GENERIC.commands}
    exact: dict[str, dict[str, int]] = {}
    hints: list[tuple[str, str]] = []
    for entry in DIALECTS:
        loaded = load_dialect(entry.name)
        for hint in entry.hints:
            hints.append((hint, entry.name))
        if loaded is None or loaded.catalog is None or entry.two_letter:
            continue
        for command in loaded.catalog.commands.values():
            if command.name.upper() in generic:
                continue
            exact.setdefault(command.name.upper(), {})[entry.name] = 3
            if command.response_prefix:
                exact.setdefault(command.response_prefix.rstrip(":").upper(), {}).setdefault(
                    entry.name, 2)
        for urc in loaded.catalog.urcs:
            key = urc.prefix.split(":", 1)[0].upper()
            if key not in {"+CREG", "+CGREG", "+CEREG"}:
                exact.setdefault(key, {}).setdefault(entry.name, 2)
    return exact, tuple(hints)


def detect_dialect(lines: Sequence[Line]) -> tuple[str, dict[str, int]]:
    """Score each dialect on the command and response names of a log.

    A command known to a dialect's catalog (and not a shared 3GPP command) scores 3, one of its
    response or URC prefixes 2, a name starting with one of the dialect's hints 1; a rules
    module's ``score(lines)`` adds its own evidence. Linear in the number of lines.

    Returns:
        tuple[str, dict[str, int]]: the best dialect (``"generic"`` when nothing scored) and
        every non-zero score.
    """
    exact, hints = _score_table()
    scores: dict[str, int] = {}
    for line in lines:
        if line.kind == "command":
            name = parse_command(line.text).name
        elif line.kind == "response" and line.text[:1] in "+#%^$" and ":" in line.text:
            name = line.text.split(":", 1)[0].strip().upper()
        else:
            continue
        for dialect, points in exact.get(name, {}).items():
            scores[dialect] = scores.get(dialect, 0) + points
        for hint, dialect in hints:
            if name.startswith(hint):
                scores[dialect] = scores.get(dialect, 0) + 1
    for entry in DIALECTS:
        loaded = load_dialect(entry.name)
        if loaded is not None and loaded.score is not None:
            extra = int(loaded.score(lines))
            if extra:
                scores[entry.name] = scores.get(entry.name, 0) + extra
    if not scores:
        return "generic", scores
    best = max(DIALECTS, key=lambda e: (scores.get(e.name, 0), -DIALECTS.index(e)))
    return (best.name if scores.get(best.name, 0) > 0 else "generic"), scores


@dataclass
class Session:
    """What a rule sees: the decoded log and the dialect.

    Attributes:
        text: the input text.
        lines: the reader's lines (``lines[i].lineno == i + 1``).
        decoded: the decoded lines, same indexing.
        dialect: the dialect's name (``"generic"`` when none was detected).
        catalog: the dialect's catalog, ``None`` when it has none (yet).
        decoder: the decoder used (gives error-code meanings).
    """

    text: str
    lines: list[Line]
    decoded: list[Decoded]
    dialect: str
    catalog: Catalog | None
    decoder: Decoder
    _replies: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for index, item in enumerate(self.decoded):
            if item.kind != "command" and item.command is not None:
                self._replies.setdefault(item.command, []).append(index)

    def commands(self, *names: str) -> Iterator[tuple[int, Decoded]]:
        """``(index, decoded)`` of every command line, or of those named (``"+QSSLOPEN"``)."""
        wanted = {n.upper() for n in names}
        for index, item in enumerate(self.decoded):
            if item.kind == "command" and (not wanted or (item.name or "") in wanted):
                yield index, item

    def replies(self, index: int) -> list[Decoded]:
        """The response lines that follow command ``index`` up to the next command."""
        return [self.decoded[i] for i in self._replies.get(index, ())]

    def final(self, index: int) -> Decoded | None:
        """The final result code that answered command ``index``, if it is in the log."""
        for reply in self.replies(index):
            if reply.kind == "final":
                return reply
        return None


@dataclass(frozen=True)
class Report:
    """The result of :func:`diagnose`.

    Attributes:
        dialect: the dialect used.
        detected: whether it was detected (``False`` when given with ``dialect=``).
        scores: the detector's scores.
        catalog: whether the dialect's catalog was available.
        missing: the dialect modules that could not be imported (``"catalog"``, ``"rules"``).
        decoded: one decoded entry per input line.
        findings: the findings, sorted by line, then severity.
    """

    dialect: str
    detected: bool
    scores: Mapping[str, int]
    catalog: bool
    missing: tuple[str, ...]
    decoded: tuple[Decoded, ...]
    findings: tuple[Finding, ...]

    @property
    def exit_status(self) -> int:
        """0 when no finding is an error, else 1 (the CLI's exit status)."""
        return 1 if any(f.severity == "error" for f in self.findings) else 0

    def codes(self) -> set[str]:
        """The set of finding codes (handy in tests)."""
        return {f.code for f in self.findings}


def _generic_rules() -> tuple[Rule, ...]:
    from celltls.doctor import rules

    return rules.RULES


def diagnose(text: str, dialect: str | None = None) -> Report:
    """Explain a modem session from its log.

    Args:
        text: a celltls transcript or a log as people paste it (any text; never rejected).
        dialect: force a dialect by name (see :func:`dialect_names`); ``None`` detects it.

    Returns:
        Report: the decoded lines and the findings.

    Raises:
        ValueError: ``dialect`` is not a known dialect name.

    Source: issue 7; shared/transcripts/FORMAT.md.
    """
    lines = read_lines(text)
    if dialect is not None:
        name = canonical_dialect(dialect)
        if name not in dialect_names():
            raise ValueError(
                f"unknown dialect {dialect!r}; known: {', '.join(dialect_names())}")
        detected = False
        scores: dict[str, int] = {}
    else:
        name, scores = detect_dialect(lines)
        detected = True
    loaded = load_dialect(name) if name != "generic" else None
    catalog = loaded.catalog if loaded else None
    decoder = Decoder(catalog, loaded.responses if loaded else {},
                      two_letter=bool(loaded and loaded.entry.two_letter))
    decoded = decoder.decode(lines)
    session = Session(text, lines, decoded, name, catalog, decoder)
    findings: list[Finding] = []
    rules = (*_generic_rules(), *(loaded.rules if loaded else ()))
    for rule in rules:
        try:
            findings.extend(rule(session))
        except Exception as exc:  # a broken rule must not hide the others' findings
            findings.append(Finding(
                "internal-error", "info", 1,
                f"rule {getattr(rule, '__name__', rule)!r} failed: {type(exc).__name__}: {exc}",
                "the diagnosis may be incomplete", "report this log to the celltls developers",
                "celltls doctor"))
    findings = _suppress(findings, session)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (f.line, order[f.severity], f.column or 0, f.code))
    return Report(name, detected, scores, catalog is not None,
                  loaded.missing if loaded else (), tuple(decoded), tuple(findings))


def _suppress(findings: list[Finding], session: Session) -> list[Finding]:
    """Drop generic ``command-error`` findings whose failure another error already explains,
    and exact duplicates."""
    explained: set[int] = set()
    for f in findings:
        if f.code not in ("command-error", "typographic-quote", "typographic-dash"):
            explained.add(f.line)
            explained.update(f.related)
    out: list[Finding] = []
    seen: set[tuple[str, int, int | None]] = set()
    for f in findings:
        key = (f.code, f.line, f.column)
        if key in seen:
            continue
        seen.add(key)
        if f.code == "command-error" and (f.line in explained
                                          or any(r in explained for r in f.related)):
            continue
        out.append(f)
    return out
