"""``celltls dialects``: the dialects installed, from the one registry, and what each can do.

Also the run-time completion of ``--dialect`` values (the list is read from the registry when
asked, so a dialect installed as a plug-in appears without any change to celltls).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from celltls.dialects import registry

__all__ = ["complete_dialect", "complete_simulated", "register"]


def complete_dialect(incomplete: str) -> list[str]:
    """Shell completion of ``--dialect``: drivable dialects starting with ``incomplete``."""
    return [name for name in registry.names(drivable=True) if name.startswith(incomplete)]


def complete_simulated(incomplete: str) -> list[str]:
    """Shell completion of ``celltls sim DIALECT``: dialects with a virtual modem."""
    return [name for name in registry.names(simulated=True) if name.startswith(incomplete)]


def dialects(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """List the dialects: name, modules, and whether celltls drives, simulates and diagnoses it."""
    from rich.console import Console
    from rich.table import Table

    rows = [
        {
            "name": info.name,
            "title": info.title,
            "aliases": list(info.aliases),
            "models": list(info.models),
            "driver": info.driver is not None,
            "virtual_modem": info.virtual_modem is not None,
            "doctor": info.doctor is not None,
        }
        for info in registry.all_dialects()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("dialect", "modules", "get/post", "sim", "doctor", "aliases")
    for row in rows:
        table.add_row(
            str(row["name"]), str(row["title"]),
            *("yes" if row[key] else "-" for key in ("driver", "virtual_modem", "doctor")),
            ", ".join(row["aliases"]),  # type: ignore[arg-type]
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``celltls dialects`` to the CLI."""
    app.command(name="dialects")(dialects)
