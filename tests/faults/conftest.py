"""Fixtures of the fault-injection suite: one :class:`~tests.faults.harness.Lab` per session
(a test PKI, an HTTPS server on 127.0.0.1 behind a relay, the calibrations)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import Lab


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with Lab() as the_lab:
        yield the_lab
