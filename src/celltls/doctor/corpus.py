"""The doctor's test corpus: real failed logs with the cause their thread agreed on.

A case file (``tests/doctor_cases/*.log``) is a header of ``# key: value`` lines, a line
``---``, and the log as it was posted::

    # source: https://github.com/johncobb/catm1_bg96/issues/9
    # module: BG96
    # dialect: quectel-lte
    # cause: quectel-lte-quoted-hex
    # agreed: sending the cipher suite unquoted fixed the ERROR (the thread shows both lines)
    # depends: sequans        (optional: the dialect whose rules name the cause)
    ---
    AT+QSSLCFG="ciphersuite",2,"0XFFFF"
    ERROR

``cause`` lists the acceptable finding codes (``|`` between alternatives; ``nordic-*`` accepts
any code of that prefix, for cases whose dialect rules others write); ``no-known-cause`` means
the thread found no cause the log shows, and the doctor must not invent one.

:func:`evaluate` runs the doctor on a case and says whether it named the cause, and whether it
named a wrong one with high confidence (the issue's two measures, issue 20).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from celltls.doctor.engine import Report, diagnose, is_symptom

__all__ = ["Case", "Outcome", "evaluate", "load_case", "load_cases"]


@dataclass(frozen=True)
class Case:
    """One corpus case.

    Attributes:
        name: the file's stem.
        source: the URL of the thread the log comes from.
        module: the module named in the thread.
        dialect: the dialect the doctor should detect.
        causes: acceptable finding codes for the cause.
        agreed: the cause in the thread's words (summarised).
        depends: the dialect whose rules name the cause, when written by others.
        log: the log text.
        meta: every header field.
    """

    name: str
    source: str
    module: str
    dialect: str
    causes: tuple[str, ...]
    agreed: str
    depends: str
    log: str
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What the doctor did on a case.

    Attributes:
        case: the case.
        report: the doctor's report.
        named: the expected cause is among the report's causes (or, for ``no-known-cause``,
            the report says so and names no cause).
        primary: the code of the report's most likely cause (``"no-known-cause"`` if none).
        wrong_high: the doctor missed the expected cause and its most likely cause is another
            one, with high confidence.
        dialect_ok: the detected dialect is the case's.
    """

    case: Case
    report: Report
    named: bool
    primary: str
    wrong_high: bool
    dialect_ok: bool


def load_case(path: Path) -> Case:
    """Read a case file.

    Raises:
        ValueError: the file has no ``---`` line, or no ``source`` or ``cause`` field.
    """
    text = path.read_text(encoding="utf-8")
    head, sep, log = text.partition("\n---\n")
    if not sep:
        raise ValueError(f"{path}: no '---' line between header and log")
    meta: dict[str, str] = {}
    for line in head.splitlines():
        if line.startswith("#") and ":" in line:
            key, _, value = line[1:].partition(":")
            meta[key.strip().lower()] = value.strip()
    for required in ("source", "cause"):
        if not meta.get(required):
            raise ValueError(f"{path}: header field {required!r} missing")
    return Case(path.stem, meta["source"], meta.get("module", ""), meta.get("dialect", ""),
                tuple(c.strip() for c in meta["cause"].split("|") if c.strip()),
                meta.get("agreed", ""), meta.get("depends", ""), log, meta)


def load_cases(folder: Path) -> list[Case]:
    """Every ``*.log`` case of a folder, sorted by name."""
    return [load_case(p) for p in sorted(folder.glob("*.log"))]


def evaluate(case: Case) -> Outcome:
    """Run the doctor on a case (dialect detected, as a user would) and judge the result."""
    report = diagnose(case.log)
    causes = report.causes()
    codes = {f.code for f in causes}
    primary = causes[0] if causes else None
    def expected(code: str) -> bool:
        return any(code == c or (c.endswith("*") and code.startswith(c[:-1]))
                   for c in case.causes)

    named = any(expected(code) for code in codes) or any(
        expected(f.code) and not is_symptom(f) for f in report.findings)
    if not named and "no-known-cause" in case.causes:
        named = primary is None or primary.confidence == "low"
    wrong_high = (primary is not None and primary.confidence == "high"
                  and not expected(primary.code) and not named)
    return Outcome(case, report, named, primary.code if primary else "no-known-cause",
                   wrong_high, not case.dialect or report.dialect == case.dialect)
