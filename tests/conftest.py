"""Session-wide test settings: the CLI's state file (celltls.state) goes to a temporary folder,
never to the user's ~/.cache, for this process and every CLI process a test starts."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_STATE_DIR = tempfile.mkdtemp(prefix="celltls-test-state-")


def pytest_configure(config: pytest.Config) -> None:
    del config
    os.environ["CELLTLS_STATE"] = os.path.join(_STATE_DIR, "state.json")


def pytest_unconfigure(config: pytest.Config) -> None:
    del config
    shutil.rmtree(_STATE_DIR, ignore_errors=True)
