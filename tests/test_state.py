"""celltls.state: the state file (issue 17) reads what it wrote, survives damage, stays small."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from celltls import state as state_module
from celltls.state import MAX_RECORDS, ModuleState, default_path


def test_records_are_kept_renamed_and_forgotten(tmp_path: Path) -> None:
    state = ModuleState(tmp_path / "sub" / "state.json")
    assert state.get("sierra:a") == {}
    state.update("sierra:a", **{"root:0": "1208:ab", "ksrep": "1"})
    state.update("sierra:a", ksrep=None)
    again = ModuleState(state.path)  # another run
    assert again.get("sierra:a") == {"root:0": "1208:ab"}
    again.rename("sierra:a", "sierra:b")
    assert state.get("sierra:a") == {} and state.get("sierra:b") == {"root:0": "1208:ab"}
    state.forget("sierra:b")
    assert json.loads(state.path.read_text())["modules"] == {}


@pytest.mark.parametrize("text", ["{not json", "[]", '{"format": "other"}',
                                  '{"format": "celltls-state 1", "modules": []}'])
def test_a_damaged_file_is_taken_as_empty(tmp_path: Path, text: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    state = ModuleState(path)
    with caplog.at_level(logging.WARNING, logger="celltls.state"):
        assert state.get("x") == {}
    assert "taken as empty" in caplog.text
    state.update("x", a="1")  # and it is written anew
    assert ModuleState(path).get("x") == {"a": "1"}


def test_a_file_that_cannot_be_written_is_logged_not_raised(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "blocker").write_text("a file where the folder should be")
    state = ModuleState(tmp_path / "blocker" / "state.json")
    with caplog.at_level(logging.WARNING, logger="celltls.state"):
        state.update("x", a="1")
    assert "cannot be written" in caplog.text


def test_the_least_recently_used_records_go_first(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(1000, 2000))
    monkeypatch.setattr(state_module.time, "time", lambda: float(next(clock)))
    state = ModuleState(tmp_path / "state.json")
    for i in range(MAX_RECORDS + 5):
        state.update(f"m{i}", v=str(i))
    kept = json.loads(state.path.read_text())["modules"]
    assert len(kept) == MAX_RECORDS
    assert "m0" not in kept and f"m{MAX_RECORDS + 4}" in kept


def test_the_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CELLTLS_STATE", str(tmp_path / "s.json"))
    assert default_path() == tmp_path / "s.json"
    monkeypatch.delenv("CELLTLS_STATE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "celltls" / "state.json"
