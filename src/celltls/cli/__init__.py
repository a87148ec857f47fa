"""The ``celltls`` command (:mod:`celltls.cli.app`), and its entry point.

:func:`main` answers ``celltls --version`` (``-V``) itself, without importing typer, rich or
the commands, so that the most common quick question starts fast (issue 17); every other
command line, ``--help`` included, goes to :func:`celltls.cli.app.main`.
"""

from __future__ import annotations

import sys

__all__ = ["main", "version_line"]

#: the command lines :func:`main` answers without the command framework.
_VERSION_ARGS = (["--version"], ["-V"])


def version_line() -> str:
    """What ``celltls --version`` prints: the package's version, Python's, and the dialects
    celltls can drive (``?`` when the registry cannot be read or names none)."""
    from importlib import metadata

    try:
        version = metadata.version("celltls")
    except metadata.PackageNotFoundError:
        from celltls import __version__ as version
    try:
        from celltls.dialects import registry

        dialects = ", ".join(registry.names(drivable=True)) or "?"
    except Exception:  # a broken plug-in must not take --version down with it
        dialects = "?"
    python = sys.version.split()[0]  # platform.python_version(), without importing platform
    return f"celltls {version} (Python {python}; dialects: {dialects})"


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m celltls`` (and of the ``celltls`` script, when installed
    as ``celltls.cli:main``): :func:`celltls.cli.app.main`, with ``--version`` answered first.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Raises:
        SystemExit: always, with the exit code (0 after ``--version``).
    """
    args = sys.argv[1:] if argv is None else argv
    if args in _VERSION_ARGS:
        sys.stdout.write(version_line() + "\n")
        sys.stdout.flush()
        raise SystemExit(0)
    from celltls.cli.app import main as app_main

    app_main(argv)
