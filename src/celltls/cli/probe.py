"""``celltls probe URL [--dialect D] [--model M] [--ca FILE] [--port PORT] [--save-ca FILE]``:
can the module talk to this server? (:mod:`celltls.probe`)

Exit status: 0 when the module's own TLS can talk to the server (without a dialect or port:
when TLS on the host can), 1 when it cannot, 2 when the probe itself fails (the name does not
resolve from the host, nothing answers, an unreadable CA file, an unknown dialect or model).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from celltls.dialects import registry
from celltls.errors import CellTLSError

if TYPE_CHECKING:  # imported when the command runs, so that the CLI starts fast
    from celltls.probe import Verdict
    from celltls.tls import Capabilities, TlsProfile


def _capabilities(dialect: str | None, model: str | None) -> Capabilities | None:
    from celltls.probe import ProbeError

    if dialect is None:
        if model is not None:
            raise ProbeError("--model needs --dialect")
        return None
    try:
        caps = registry.capabilities(dialect, model)
    except (CellTLSError, KeyError, ValueError) as exc:
        raise ProbeError(f"dialect {dialect!r}, model {model!r}: {exc}") from None
    if caps is None:
        raise ProbeError(f"dialect {dialect!r} declares no capabilities to compare with")
    return caps


def _through_module(port: str, dialect: str | None, apn: str, host: str, server_port: int,
                    profile: TlsProfile) -> tuple[Capabilities, str]:
    """Bring the network up (idempotent) and try the module's own TLS once (chain and dates
    checked, no data sent)."""
    from celltls.modem import Modem

    with Modem(port, dialect) as modem:
        modem.attach(apn)
        try:
            with modem.tls_connect(host, server_port, profile, tls="module"):
                return modem.capabilities, f"through the module ({modem.dialect}): handshake ok"
        except CellTLSError as exc:
            return modem.capabilities, (f"through the module ({modem.dialect}): "
                                        f"{type(exc).__name__}: {exc}")


def probe(
    url: Annotated[str, typer.Argument(help="https://host[:port]/...")],
    dialect: Annotated[str | None, typer.Option(
        "--dialect", help="compare with this dialect's capabilities")] = None,
    model: Annotated[str | None, typer.Option("--model", help="the dialect's model")] = None,
    ca: Annotated[Path | None, typer.Option(
        "--ca", help="root CA file (PEM) anchoring the chain; default: certifi's roots")] = None,
    port: Annotated[str | None, typer.Option(
        "--port", help="the module's port: also try the module's own TLS through it")] = None,
    save_ca: Annotated[Path | None, typer.Option(
        "--save-ca", help="write the root CA to provision (PEM) to this file")] = None,
    apn: Annotated[str, typer.Option("--apn", help="APN, with --port")] = "",
    timeout: Annotated[float, typer.Option("--timeout", help="seconds per connection")] = 5.0,
) -> None:
    """Find what the server's TLS needs and whether the module (or the host) can talk to it."""
    from rich.console import Console
    from rich.markup import escape

    from celltls.probe import ProbeError, probe_url, render
    from celltls.tls import TlsProfile

    out, err = Console(highlight=False), Console(stderr=True, highlight=False)
    try:
        caps = _capabilities(dialect, model)
        report, verdicts = probe_url(url, ca_file=ca, caps=caps, timeout=timeout)
        extra: list[str] = []
        if port is not None:
            anchor = report.anchor
            profile = (TlsProfile.insecure() if anchor is None else
                       TlsProfile(ca=anchor, check_hostname=False))
            module_caps, line = _through_module(port, dialect, apn, report.host, report.port,
                                                profile)
            extra.append(line)
            if caps is None:
                report, verdicts = probe_url(url, ca_file=ca, caps=module_caps, timeout=timeout)
        if save_ca is not None:
            if report.anchor is None:
                raise ProbeError(f"no root CA in {report.anchor_source} anchors the chain; "
                                 "nothing written to " + str(save_ca))
            save_ca.write_bytes(report.anchor.pem)
            extra.append(f"root CA written to {save_ca}")
    except CellTLSError as exc:
        err.print(f"celltls probe: error: {escape(str(exc))}")
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(f"celltls probe: error: {escape(str(exc))}")
        raise typer.Exit(2) from None
    for line in [*render(report, verdicts), *extra]:
        out.print(escape(line))
    raise typer.Exit(_status(verdicts))


def _status(verdicts: list[Verdict]) -> int:
    """0 when the first verdict (the module's when there is one) works, else 1."""
    return 0 if verdicts and verdicts[0].works else 1


def register(app: typer.Typer) -> None:
    """Add the ``probe`` command to the ``celltls`` CLI application."""
    app.command("probe")(probe)
