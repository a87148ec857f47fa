"""What ``import celltls`` and the CLI's start-up import (issue 17), checked in new processes.

The package's names are imported on first use (PEP 562), the CLI's commands import the modem,
TLS, HTTP and doctor layers when they run, and the dialect registry lists the plug-ins from
their manifests alone. These tests fail when an eager import of a heavy layer comes back; they
measure no time (benchmarks/startup.py does).
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import celltls

#: what none of the start-up paths below may import.
HEAVY = (
    "cryptography",
    "h11",
    "httpx",
    "celltls.modem",
    "celltls.doctor",
    "celltls.tls",
    "celltls.http",
    "celltls.dialects.base",
    "celltls.at.channel",
    "rich.progress",
)


def loaded_after(code: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter; which of :data:`HEAVY` (and typer, rich) it loaded,
    and what it left in ``result``."""
    probe = (
        "import json, sys\n"
        "result = None\n"
        f"{code}\n"
        f"names = {(*HEAVY, 'typer', 'rich')!r}\n"
        "loaded = sorted(n for n in names\n"
        "                if any(m == n or m.startswith(n + '.') for m in sys.modules))\n"
        "print(json.dumps({'loaded': loaded, 'result': result}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def heavy(loaded: object) -> list[str]:
    assert isinstance(loaded, list)
    return [name for name in loaded if name in HEAVY]


def test_import_celltls_imports_no_layer() -> None:
    assert heavy(loaded_after("import celltls")["loaded"]) == []


def test_import_of_cli_app_imports_no_layer() -> None:
    assert heavy(loaded_after("import celltls.cli.app")["loaded"]) == []


def help_of(args: list[str]) -> dict[str, object]:
    code = (
        "import contextlib, io\n"
        "from celltls.cli.app import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        f"    main({args!r})\n"
        "result = out.getvalue()\n"
    )
    return loaded_after(code)


def test_help_imports_no_layer() -> None:
    answer = help_of(["--help"])
    assert heavy(answer["loaded"]) == []
    assert "doctor" in str(answer["result"])


def test_command_help_reads_the_dialects_without_drivers() -> None:
    answer = help_of(["get", "--help"])
    # the group's callback installs cryptography's warning filter (cryptography.utils) before
    # any command; nothing else heavy comes in
    assert [n for n in heavy(answer["loaded"]) if n != "cryptography"] == []
    assert "quectel-gsm" in str(answer["result"])  # the --dialect choices came from the registry


def test_version_imports_no_framework() -> None:
    code = (
        "import contextlib, io\n"
        "from celltls.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['--version'])\n"
        "result = out.getvalue()\n"
    )
    answer = loaded_after(code)
    assert answer["loaded"] == []  # neither a layer nor typer or rich
    assert str(answer["result"]).startswith("celltls ")


def test_version_line_is_the_same_with_and_without_typer() -> None:
    from celltls.cli import version_line
    from celltls.cli.app import app
    from celltls.dialects import registry

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == version_line() + "\n"
    assert ", ".join(registry.names(drivable=True)) in result.stdout


@pytest.mark.parametrize("args", [["-m", "celltls", "--version"], ["-m", "celltls", "-V"],
                                  ["-m", "celltls.cli", "--version"]])
def test_python_m_version(args: list[str]) -> None:
    from celltls.cli import version_line

    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, version_line() + "\n", "")


def test_every_public_name_resolves_to_its_home_object() -> None:
    for name in celltls.__all__:
        value = getattr(celltls, name)
        if name == "__version__":
            assert isinstance(value, str)
            continue
        home = importlib.import_module(celltls._HOMES[name])
        assert value is getattr(home, name), name
    assert set(celltls.__all__) <= set(dir(celltls))


def test_typing_view_matches_the_lazy_table() -> None:
    """The ``TYPE_CHECKING`` imports (what mypy and IDEs see) name the same homes as the
    table the lazy ``__getattr__`` reads, and together they are ``__all__``."""
    tree = ast.parse(Path(celltls.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If)
                 and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
    typed = {alias.name: node.module for node in block.body
             if isinstance(node, ast.ImportFrom) and node.module != "typing"
             for alias in node.names}
    assert typed == celltls._HOMES
    assert sorted({*typed, "__version__"}) == sorted(celltls.__all__)


def test_unknown_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        celltls.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    assert celltls.errors.CellTLSError is celltls.CellTLSError  # a sub-module by attribute


def test_doctor_help_lists_what_the_engine_accepts() -> None:
    from celltls.cli.doctor import _dialect_names
    from celltls.doctor.engine import dialect_names

    assert _dialect_names() == dialect_names()
