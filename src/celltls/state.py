"""What celltls wrote into modules, remembered between runs (issue 17: the minimum of commands).

Some modules cannot read back what is stored in them (a Sierra HL78xx lists a certificate's
size, not its content), so without a record every run would upload the same CA again. A
:class:`ModuleState` is a small JSON file of records, one per module, each keyed by something
that identifies the module *as celltls left it* (a driver chooses the key: the Sierra driver
uses the random end-of-data pattern it set, which a restart or another program's
``AT+KPATTERN`` changes), holding what was written: certificate digests and sizes per slot,
settings that the module keeps. Never secrets: private keys, PSKs and passwords are not
recorded, not even as digests.

A driver still checks a record cheaply where the module allows (the Sierra driver compares
the listed size) and falls back to writing; a record that is wrong fails closed (the module
keeps verifying against the certificate it holds). ``celltls get --no-cache`` (``Modem(...,
state=None)``) ignores the file; deleting it is always safe.

Location: ``$CELLTLS_STATE`` if set, else ``$XDG_CACHE_HOME/celltls/state.json`` (default
``~/.cache/celltls/state.json``). Written atomically (a temporary file, then ``os.replace``),
mode 0600; at most :data:`MAX_RECORDS` records, the least recently used dropped first.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["MAX_RECORDS", "ModuleState", "default_path"]

log = logging.getLogger(__name__)

#: Records kept in one file (one per module as celltls left it).
MAX_RECORDS = 64
_FORMAT = "celltls-state 1"


def default_path() -> Path:
    """``$CELLTLS_STATE``, else ``$XDG_CACHE_HOME/celltls/state.json`` (``~/.cache/...``)."""
    given = os.environ.get("CELLTLS_STATE")
    if given:
        return Path(given)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "celltls" / "state.json"


class ModuleState:
    """The records of one state file.

    Args:
        path: the JSON file (created on the first write, with its folder).

    A file that cannot be read or parsed is taken as empty and logged (a warning), never
    raised: the state only saves commands.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> ModuleState:
        """The state file at :func:`default_path`."""
        return cls(default_path())

    def get(self, key: str) -> dict[str, str]:
        """The record of ``key`` (an empty dict when there is none)."""
        with self._lock:
            record = self._load().get(key, {})
        return {k: v for k, v in record.items() if k != "used"}

    def update(self, key: str, **values: str | None) -> None:
        """Set (or, with ``None``, remove) values of the record of ``key``.

        Raises:
            nothing: a file that cannot be written is logged (the state only saves commands).
        """
        with self._lock:
            records = self._load()
            record = records.setdefault(key, {})
            for name, value in values.items():
                if value is None:
                    record.pop(name, None)
                else:
                    record[name] = str(value)
            record["used"] = f"{time.time():.0f}"
            self._save(records)

    def rename(self, old: str, new: str) -> None:
        """Move the record of ``old`` to ``new`` (the module's identity changed, e.g. a new
        end-of-data pattern that this run set itself)."""
        with self._lock:
            records = self._load()
            if old not in records:
                return
            records[new] = records.pop(old)
            self._save(records)

    def forget(self, key: str) -> None:
        """Drop the record of ``key``."""
        with self._lock:
            records = self._load()
            if records.pop(key, None) is not None:
                self._save(records)

    # -- file ------------------------------------------------------------------------------------

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning("state file %s cannot be read (%s): taken as empty", self.path, exc)
            return {}
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != _FORMAT:
                raise ValueError(f"not a {_FORMAT!r} file")
            records = data.get("modules", {})
            if not isinstance(records, dict):
                raise ValueError("'modules' is not an object")
            return {str(k): {str(n): str(v) for n, v in r.items()}
                    for k, r in records.items() if isinstance(r, dict)}
        except ValueError as exc:
            log.warning("state file %s is damaged (%s): taken as empty", self.path, exc)
            return {}

    def _save(self, records: dict[str, dict[str, str]]) -> None:
        if len(records) > MAX_RECORDS:
            newest = sorted(records, key=lambda k: float(records[k].get("used", "0")))
            for key in newest[: len(records) - MAX_RECORDS]:
                del records[key]
        text = json.dumps({"format": _FORMAT, "modules": records}, indent=1, sort_keys=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("state file %s cannot be written (%s): the next run may send "
                        "commands this one saved", self.path, exc)
