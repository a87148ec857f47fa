"""Session-wide test settings.

- The CLI's state file (celltls.state) goes to a temporary folder, never to the user's
  ~/.cache, for this process and every CLI process a test starts.
- The root logger is put back after each test: the CLI run in-process (typer's CliRunner) sets
  it up with ``logging.basicConfig(force=True)`` on the runner's stderr, which is closed after
  the test, and threads of later tests then printed "--- Logging error ---" tracebacks.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

_STATE_DIR = tempfile.mkdtemp(prefix="celltls-test-state-")


def pytest_configure(config: pytest.Config) -> None:
    del config
    os.environ["CELLTLS_STATE"] = os.path.join(_STATE_DIR, "state.json")


def pytest_unconfigure(config: pytest.Config) -> None:
    del config
    shutil.rmtree(_STATE_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
