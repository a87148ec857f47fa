"""A third-party dialect installed through the ``celltls.dialects`` entry point is seen everywhere.

The test writes a tiny distribution (a package and its ``.dist-info`` with ``entry_points.txt``)
into a temporary folder on ``sys.path``, as ``pip install`` would, and checks that the registry,
``celltls dialects``, ``celltls doctor --dialect``, the virtual-modem server behind ``celltls sim``,
and ``Modem(..., dialect=...)`` (and identification with ``dialect=None``) all find it, while no
module of celltls names it.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from celltls import Modem
from celltls.cli.app import app
from celltls.dialects import registry
from celltls.doctor import diagnose
from celltls.sim.serve import VirtualModemServer

PLUGIN = '''
"""ACME-1: a dialect from outside celltls, for the plug-in test."""
from celltls.dialects.base import Capabilities, Dialect
from celltls.dialects.manifest import DialectInfo, DoctorRules
from celltls.dialects.spec import Catalog, Command
from celltls.doctor.model import Finding
from celltls.errors import ProfileError
from celltls.sim.engine import ATEngine
from celltls.tls import TlsVersion, Verify

CATALOG = Catalog(
    dialect="acme",
    title="ACME-1",
    sources={"ACME": "ACME-1 AT manual"},
    commands={"+AXPING": Command("+AXPING", "ping the ACME cloud", source="ACME 1.1")},
)
CAPS = Capabilities(
    tls_versions=(TlsVersion.TLS1_2,), cipher_suites=(0x002F,), cipher_selection="list",
    key_exchange="RSA", verify_modes=(Verify.SERVER,), secure_sockets=1, security_contexts=1,
    max_send=100, max_recv=100,
)


class AcmeModem(ATEngine):
    """Answers ATI like an ACME-1 module."""

    def __init__(self, **options):
        options.pop("model", None)
        super().__init__(manufacturer="ACME", model="ACME-1", revision="1.0", **options)


class AcmeDriver(Dialect):
    name = "acme"
    capabilities = CAPS

    def __init__(self, channel, **options):
        super().__init__(channel)

    def initialise(self):
        lines = self.channel.command("AT+CGMM", timeout=2).lines
        return {"manufacturer": "ACME", "model": lines[0] if lines else "", "firmware": ""}

    def attach(self, apn, user=None, password=None, timeout=60.0):
        raise ProfileError("not in this test")

    def store_credential(self, kind, data, name=None):
        raise ProfileError("not in this test")

    def delete_credential(self, name):
        raise ProfileError("not in this test")

    def tls_connect(self, host, port, profile, *, timeout=60.0, transparent=False):
        raise ProfileError("not in this test")

    def close_all(self):
        pass


def axping_rule(session):
    for index, item in session.commands("+AXPING"):
        yield Finding("acme-axping", "info", item.lineno, "AXPING seen", "test", "none", "ACME")


DIALECT = DialectInfo(
    name="acme",
    title="ACME-1 (a plug-in from outside celltls)",
    aliases=("acme1",),
    models=("ACME-1",),
    identify=r"ACME-1",
    catalog=lambda: CATALOG,
    driver=lambda: AcmeDriver,
    virtual_modem=lambda: AcmeModem,
    doctor=lambda: DoctorRules((axping_rule,)),
    capabilities=lambda: (lambda model: CAPS),
    doctor_hints=("+AX",),
)
'''


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    package = tmp_path / "acme_celltls"
    package.mkdir()
    (package / "__init__.py").write_text('"""ACME dialect for celltls."""\n')
    (package / "plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "acme_celltls-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-celltls\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[celltls.dialects]\nacme = acme_celltls.plugin:DIALECT\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.reload()
    yield
    monkeypatch.undo()
    for name in [m for m in sys.modules if m.startswith("acme_celltls")]:
        del sys.modules[name]
    registry.reload()


def test_builtin_dialects_come_from_entry_points() -> None:
    import importlib.metadata

    declared = {e.name for e in importlib.metadata.entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert {"quectel-gsm", "sierra", "nordic-slm", "sequans", "xbee3"} <= declared
    assert set(registry.names(drivable=True)) >= {"quectel-gsm", "sierra"}
    assert "acme" not in registry.names()


def test_unknown_dialect_lists_the_known_ones() -> None:
    with pytest.raises(registry.UnknownDialectError, match=r"known: .*quectel-gsm"):
        registry.get("no-such-dialect")
    assert registry.canonical("Quectel") == "quectel-gsm"


def test_plugin_is_in_the_registry(acme: None) -> None:
    assert "acme" in registry.names(drivable=True)
    assert "acme" in registry.names(simulated=True)
    assert registry.get("ACME1").name == "acme"
    catalog, driver = registry.load("acme")
    assert catalog.dialect == "acme" and driver.__name__ == "AcmeDriver"
    capabilities = registry.capabilities("acme", "ACME-1")
    assert capabilities is not None and capabilities.max_send == 100
    assert registry.capabilities("simcom") is None  # a doctor-only dialect declares none


def test_plugin_in_cli_dialects(acme: None) -> None:
    result = CliRunner().invoke(app, ["dialects", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["acme"]["driver"] and rows["acme"]["virtual_modem"] and rows["acme"]["doctor"]


def test_plugin_in_doctor(acme: None) -> None:
    log = "AT+AXPING\r\nOK\r\n"
    report = diagnose(log, dialect="acme")
    assert report.dialect == "acme"
    assert "acme-axping" in report.codes()
    assert diagnose(log).dialect == "acme"  # detected from its catalog
    result = CliRunner().invoke(app, ["doctor", "-", "--dialect", "acme", "--json"], input=log)
    assert json.loads(result.output)["dialect"]["name"] == "acme"


def test_plugin_in_sim_and_modem(acme: None) -> None:
    with VirtualModemServer("acme") as sim:
        with Modem(sim.url, dialect="acme") as modem:
            assert modem.dialect == "acme"
            assert modem.info["model"] == "ACME-1"
        with Modem(sim.url, dialect=None) as modem:  # identified by the manifest's pattern
            assert modem.dialect == "acme"
