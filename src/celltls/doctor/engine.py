"""The doctor's engine: dialect detection, the rule registry and :func:`diagnose`.

How a diagnosis runs::

    text ──read_lines──► [Line] ──detect──► dialect ──Decoder──► [Decoded] ──rules──► [Finding]

Plugging in a dialect (the rule API)
====================================

A dialect takes part in diagnosis through its plug-in manifest
(:class:`celltls.dialects.manifest.DialectInfo`, found by :mod:`celltls.dialects.registry`):
``catalog`` loads its :class:`~celltls.dialects.spec.Catalog`; ``doctor`` loads its
:class:`~celltls.dialects.manifest.DoctorRules`: the rules, ``responses`` (a mapping from an
information response's prefix with its colon, ``"+QSECREAD:"``, to the tuple of
:class:`~celltls.dialects.spec.Param` naming its fields, for responses that are not URCs of the
catalog) and an optional ``score(lines) -> int``, extra evidence for the dialect detector (used
by dialects whose logs are mostly prose, such as XBee settings); ``doctor_hints`` are name
prefixes that betray the dialect. Rules import their types from :mod:`celltls.doctor.model`.

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

A finding also says how sure it is (``confidence``: ``"high"`` when the log proves it,
``"medium"`` when it fits a documented cause, ``"low"`` for a guess) and whether it is a
``symptom`` (an error code the module reported) rather than a cause. After the rules ran, the
engine links each symptom to its cause (``caused_by``: the rule's own ``related`` line, else the
nearest earlier error-level cause, else the nearest earlier warning) and adds two findings of its
own: ``no-at-session`` (the text holds no AT session and nothing was found) and
``no-known-cause`` (failures seen, no rule explains them: the doctor says so rather than guess).
:attr:`Report.cause` is the most likely cause (:meth:`Report.causes`, best first).

A catalog or rules module that fails to import is skipped: the dialect is still detected from
its ``doctor_hints`` and diagnosed with the generic rules and the 3GPP catalog.

Sources: shared/DESIGN.md ("diagnosis rules"), shared/transcripts/FORMAT.md.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache

from celltls.dialects import registry
from celltls.dialects.manifest import DialectInfo
from celltls.dialects.spec import Catalog, Param
from celltls.doctor import rules as generic_rules
from celltls.doctor.decode import GENERIC, Decoded, Decoder, parse_command
from celltls.doctor.model import CONFIDENCES, SEVERITIES, Finding, Rule, Session, Severity
from celltls.doctor.reader import Line, read_lines

__all__ = [
    "SEVERITIES",
    "Finding",
    "LoadedDialect",
    "Report",
    "Rule",
    "Session",
    "Severity",
    "canonical_dialect",
    "detect_dialect",
    "diagnose",
    "dialect_names",
    "is_symptom",
    "load_dialect",
]

#: names ``--dialect`` accepts for "3GPP only, no vendor".
_GENERIC_ALIASES = frozenset({"generic", "3gpp"})


@dataclass(frozen=True)
class LoadedDialect:
    """A dialect's manifest with whatever of its catalog and rules could be loaded."""

    entry: DialectInfo
    catalog: Catalog | None
    rules: tuple[Rule, ...]
    responses: Mapping[str, tuple[Param, ...]]
    score: Callable[[Sequence[Line]], int] | None
    missing: tuple[str, ...]


def _dialects() -> tuple[DialectInfo, ...]:
    return registry.all_dialects()


def load_dialect(name: str) -> LoadedDialect | None:
    """Load a dialect's catalog and doctor rules through the registry (each may be missing).

    Args:
        name: a dialect name (or an alias) of an installed plug-in.

    Returns:
        LoadedDialect | None: ``None`` for an unknown name.
    """
    return _load_dialect(canonical_dialect(name), registry.generation())


@cache
def _load_dialect(key: str, generation: int) -> LoadedDialect | None:
    entry = next((e for e in _dialects() if e.name == key), None)
    if entry is None:
        return None
    missing: list[str] = []
    catalog: Catalog | None
    try:
        catalog = entry.catalog()
    except ImportError:
        catalog = None
    if not isinstance(catalog, Catalog):
        catalog = None
        missing.append("catalog")
    try:
        extra = registry.doctor_rules(entry.name)
    except ImportError:
        extra = None
        missing.append("rules")
    if extra is None or entry.doctor is None:
        if "rules" not in missing:
            missing.append("rules")
        return LoadedDialect(entry, catalog, (), {}, None, tuple(missing))
    return LoadedDialect(entry, catalog, tuple(extra.rules), dict(extra.responses), extra.score,
                         tuple(missing))


def canonical_dialect(name: str) -> str:
    """Normalise a dialect name: case, ``_`` for ``-``, and aliases (``"quectel"``)."""
    key = name.strip().lower().replace("_", "-")
    if key in _GENERIC_ALIASES:
        return "generic"
    return registry.canonical(key)


def dialect_names() -> tuple[str, ...]:
    """The names ``--dialect`` accepts (``"generic"`` = 3GPP only)."""
    return (*(e.name for e in _dialects()), "generic")


ScoreTable = tuple[dict[str, dict[str, int]], tuple[tuple[str, str], ...]]


def _score_table() -> ScoreTable:
    return _score_table_of(registry.generation())


@lru_cache(maxsize=1)
def _score_table_of(generation: int) -> ScoreTable:
    generic = {name.upper() for name in GENERIC.commands}
    exact: dict[str, dict[str, int]] = {}
    hints: list[tuple[str, str]] = []
    for entry in _dialects():
        loaded = load_dialect(entry.name)
        for hint in entry.doctor_hints:
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
    dialects = _dialects()
    for entry in dialects:
        loaded = load_dialect(entry.name)
        if loaded is not None and loaded.score is not None:
            extra = int(loaded.score(lines))
            if extra:
                scores[entry.name] = scores.get(entry.name, 0) + extra
    if not scores:
        return "generic", scores
    best = max(dialects, key=lambda e: (scores.get(e.name, 0), -dialects.index(e)))
    return (best.name if scores.get(best.name, 0) > 0 else "generic"), scores


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

    def causes(self) -> tuple[Finding, ...]:
        """The error and warning findings that name a cause (not symptoms), best first: by
        severity, then confidence, then those the engine linked symptoms to, then line."""
        cause_lines = self._cause_lines()
        return tuple(sorted(
            (f for f in self.findings if f.severity != "info" and not is_symptom(f)),
            key=lambda f: (SEVERITIES.index(f.severity), CONFIDENCES.index(f.confidence),
                           f.line not in cause_lines, f.line)))

    def _cause_lines(self) -> set[int]:
        return {f.caused_by for f in self.findings if f.caused_by is not None}

    @property
    def cause(self) -> Finding | None:
        """The most likely cause of the failure (first of :meth:`causes`), if any."""
        causes = self.causes()
        return causes[0] if causes else None


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
    session = Session(text, lines, decoded, name, catalog, decoder,
                      default_bearer=bool(loaded and loaded.entry.default_bearer))
    findings: list[Finding] = []
    rules = (*generic_rules.RULES, *(loaded.rules if loaded else ()))
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
    findings = _link(findings)
    findings = _verification_off_after_failure(findings)
    findings.extend(_overview(findings, session))
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


#: Codes of findings that report what the module showed (an error code), not why.
SYMPTOM_CODES = frozenset({
    "cme-error", "cms-error", "command-error", "nordic-errno", "nordic-httpccon-failed",
    "quectel-sslopen-failed", "sequans-http-error", "xbee3-ci-status", "sierra-khttp-error",
    "tls-handshake-failed",
})


def is_symptom(finding: Finding) -> bool:
    """Whether a finding reports a failure the module showed rather than its cause."""
    return finding.symptom or finding.code in SYMPTOM_CODES


def _link(findings: list[Finding]) -> list[Finding]:
    """Link each symptom to its cause: the cause finding the symptom's rule named in
    ``related``, else the nearest earlier (or same-line) error/warning cause finding.
    Linear after one sort."""
    causes = sorted(((f.line, i) for i, f in enumerate(findings)
                     if f.severity != "info" and not is_symptom(f)
                     and f.confidence != "low"), key=lambda t: t[0])
    cause_lines = [line for line, _ in causes]
    error_lines = [line for line, i in causes if findings[i].severity == "error"]
    by_line = {line: i for line, i in causes}
    out: list[Finding] = []
    for f in findings:
        if not is_symptom(f) or f.caused_by is not None:
            out.append(f)
            continue
        target = next((r for r in f.related if r in by_line and r != f.line), None)
        for lines in (error_lines, cause_lines):  # an earlier error first, then a warning
            if target is not None:
                break
            position = bisect.bisect_right(lines, f.line)
            target = lines[position - 1] if position else None
        out.append(replace(f, caused_by=target) if target is not None else f)
    return out


def _overview(findings: list[Finding], session: Session) -> list[Finding]:
    """``no-at-session`` (no AT command or result code in the text) and ``no-known-cause``
    (failures seen, but no rule named why): what the doctor saw, so that a reader knows."""
    commands = [d for d in session.decoded if d.kind == "command"]
    finals = [d for d in session.decoded if d.kind == "final"]
    if not commands and not finals and not findings:
        return [Finding(
            "no-at-session", "info", 1,
            "no AT command or result code found in this text"
            + (f" ({len(session.lines)} lines of prose or data)" if session.lines else ""),
            "the doctor explains AT sessions: commands the host sent and what the module "
            "answered",
            "paste the serial log itself (every AT line and every answer, with echo on or a "
            "celltls --trace transcript)", "celltls doctor")]
    if any(f.severity != "info" and not is_symptom(f) for f in findings):
        return []
    failures = [d for d in finals if d.success is False]
    failures += [d for d in session.decoded if d.kind in ("urc", "information")
                 and any(p.meaning and p.name in ("err", "result", "error", "rc")
                         and p.value not in ("0", "1") for p in d.params)]
    if not failures and not any(is_symptom(f) for f in findings):
        return []
    seen = ", ".join(sorted({f"AT{d.name}" for d in commands if d.name})[:8])
    failed = "; ".join(f"line {d.lineno}: {d.text.strip()[:60]}"
                       for d in sorted(failures, key=lambda d: d.lineno)[:4])
    return [Finding(
        "no-known-cause", "info", failures[0].lineno if failures else 1,
        f"no known cause: the log fails ({failed or 'see the error findings'}) but no rule "
        f"of the {session.dialect} dialect or the 3GPP rules explains why; seen: "
        f"{len(commands)} commands ({seen})",
        "the doctor names a cause only when the log shows it; guessing would mislead",
        "add the missing part of the session (the set-up commands, AT+CMEE=2 for verbose "
        "errors, the firmware version from ATI/AT+CGMR) and run the doctor again",
        "celltls doctor", related=tuple(d.lineno for d in failures[:4]))]


def _verification_off_after_failure(findings: list[Finding]) -> list[Finding]:
    """A ``tls-verify-off`` that follows a failure is a workaround, not a fix: say so."""
    failures = sorted(f.line for f in findings if is_symptom(f))
    if not failures:
        return findings
    out: list[Finding] = []
    for f in findings:
        if f.code == "tls-verify-off" and failures[0] < f.line:
            before = max(line for line in failures if line < f.line)
            f = replace(
                f, message=f"{f.message}; it was switched off after the failure at line "
                f"{before}, which hides that failure's cause instead of fixing it",
                related=(*f.related, before))
        out.append(f)
    return out
