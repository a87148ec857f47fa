"""Faults on the line and in the module for the Sequans driver, through the shared fault proxy
(tests/faults): each run ends in exact bytes or a named celltls error within the bound, and a new
Modem on the same virtual module then succeeds (issue 12 "Trustworthy transfers")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import Lab

SEED = 11
CASES = [("sequans-socket", kind) for kind in
         ("garble", "lost_ok", "duplicate_ok", "stall", "line_drop", "reboot")]
# the native client's body carries no digest the host can check (the module exposes no
# header but Content-Type, sequans.md §7), so line garbling is left out on that path
CASES += [("sequans-native", kind) for kind in ("lost_ok", "duplicate_ok", "line_drop", "reboot")]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab() as running:  # the harness lists sequans-socket and sequans-native
        yield running


@pytest.mark.parametrize(("target", "kind"), CASES)
def test_fault_ends_in_exact_bytes_or_a_named_error(lab: Lab, target: str, kind: str) -> None:
    outcome = lab.run(target, kind, SEED)
    assert outcome.fired, outcome.report()
    assert outcome.ok, outcome.report()
