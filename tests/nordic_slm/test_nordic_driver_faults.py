"""Faults on the line between the Nordic SLM driver and its virtual modem, through the shared
fault-injection harness (tests/faults): each run ends in exact bytes or a named error, and a new
Modem on the same module succeeds afterwards.

The harness lists this dialect's two targets (``nordic-socket``, ``nordic-native``) and its
storm URCs. A few kinds and one seed: ``benchmarks/faults.py`` runs many. (The harness counts
data bytes for Quectel and Sierra framing only, so its ``truncate`` and ``server_close`` kinds
never fire here.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import Lab

TARGETS = ("nordic-socket", "nordic-native")
KINDS = ("urc_storm", "duplicate_ok", "garble", "stall")


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab() as the_lab:
        yield the_lab


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("target", TARGETS)
def test_fault_ends_in_exact_bytes_or_a_named_error(lab: Lab, target: str, kind: str) -> None:
    outcome = lab.run(target, kind, 1)
    report = outcome.report()
    assert outcome.run.error != "SetupError", report
    assert outcome.fired, f"the fault was never injected:\n{report}"
    assert outcome.run.result in ("success", "error"), report
    assert outcome.recovery.result == "success", report


@pytest.mark.parametrize("target", TARGETS)
def test_a_reboot_is_named_or_survived(lab: Lab, target: str) -> None:
    """NRF-REF 3: SLM prints ``Ready`` when it starts; a restart during a transfer is
    ModuleRebootedError, never a timeout or wrong bytes (a restart between the two requests
    is noticed and the module initialised again)."""
    outcome = lab.run(target, "reboot", 1)
    report = outcome.report()
    assert outcome.fired, report
    # A restart between the GET and the POST may show first as its consequence: the module
    # is not registered yet when the POST connects (NetworkError, the named true state).
    assert outcome.run.result == "success" or outcome.run.error in (
        "ModuleRebootedError", "NetworkError"), report
    assert outcome.recovery.result == "success", report
