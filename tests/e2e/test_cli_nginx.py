"""The issue's acceptance run: ``celltls get``/``post`` against nginx through ``celltls sim``.

Both programs run as separate processes, as a user runs them. Skipped when nginx is not
installed (CI installs it, see .ci/run).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from celltls.sim.httpsd import PKI, make_pki
from tests.nginx import NginxUnavailable, running_nginx

CELLTLS = [sys.executable, "-m", "celltls.cli"]
#: the dialects whose module TLS cannot check host names (their capabilities say so)
NO_NAME_CHECK = ("quectel-gsm", "sierra", "xbee3")


@pytest.fixture
def nginx(tmp_path: Path, pki: PKI) -> Iterator[tuple[int, Path]]:
    (tmp_path / "ca.pem").write_bytes(pki.ca_pem)
    www = tmp_path / "www"
    www.mkdir()
    (www / "file").write_bytes(os.urandom(256 * 1024 + 17))
    try:
        with running_nginx(tmp_path, pki, www) as port:
            yield port, tmp_path
    except NginxUnavailable as exc:
        pytest.skip(str(exc))


def name_check_options(dialect: str) -> list[str]:
    """``--no-check-hostname`` with module TLS where the module cannot check names; nothing
    where it can (Nordic: the TLS hostname option; Sequans: certValidLevel bit 2)."""
    return ["--no-check-hostname"] if dialect in NO_NAME_CHECK else []


@pytest.fixture(params=["quectel-gsm", "sierra", "nordic-slm", "sequans", "xbee3"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sim_process(dialect: str) -> Iterator[str]:
    proc = subprocess.Popen([*CELLTLS, "sim", dialect, "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    try:
        assert address.startswith("socket://"), address
        yield address
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_get_and_post_through_celltls_sim(nginx: tuple[int, Path], sim_process: str,
                                          dialect: str) -> None:
    port, tmp = nginx
    out = tmp / "got"
    got = subprocess.run(
        [*CELLTLS, "get", f"https://127.0.0.1:{port}/file", "--port", sim_process,
         "--dialect", dialect, "--ca", str(tmp / "ca.pem"), "--tls", "module",
         *name_check_options(dialect), "-o", str(out), "--fail"],
        capture_output=True, timeout=300,
    )
    assert got.returncode == 0, got.stderr
    data, sent = out.read_bytes(), (tmp / "www" / "file").read_bytes()
    assert len(data) == len(sent), (len(data), len(sent), data[:200])
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(
        (tmp / "www" / "file").read_bytes()
    ).digest()
    posted = subprocess.run(
        [*CELLTLS, "post", f"https://127.0.0.1:{port}/upload", "--port", sim_process,
         "--dialect", dialect, "--ca", str(tmp / "ca.pem"), "--tls", "module",
         *name_check_options(dialect), "--data", "hello --EOF--Pattern-- \r\nOK\r\n"],
        capture_output=True, timeout=300,
    )
    assert posted.returncode == 0, posted.stderr
    assert posted.stdout == b"received\n"


def test_wrong_ca_is_one_clear_line_and_exit_60(nginx: tuple[int, Path], sim_process: str,
                                                 other_pki: PKI, dialect: str) -> None:
    port, tmp = nginx
    (tmp / "other.pem").write_bytes(other_pki.ca_pem)
    result = subprocess.run(
        [*CELLTLS, "get", f"https://127.0.0.1:{port}/file", "--port", sim_process,
         "--dialect", dialect, "--ca", str(tmp / "other.pem"), "--tls", "module",
         *name_check_options(dialect)],
        capture_output=True, timeout=300, text=True,
    )
    assert result.returncode == 60  # curl: peer certificate cannot be authenticated
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("celltls:")]
    assert len(errors) == 1 and errors[0].startswith("celltls: error:"), result.stderr
    assert "could not verify the certificate" in errors[0]
    assert "Traceback" not in result.stderr


def test_default_profile_is_refused_before_connecting(nginx: tuple[int, Path],
                                                      sim_process: str, dialect: str) -> None:
    """A module whose TLS cannot check host names, asked for module TLS without
    --no-check-hostname: one line that says so and offers the ways out; exit 4."""
    if dialect not in NO_NAME_CHECK:
        pytest.skip(f"{dialect}'s TLS checks host names")
    port, tmp = nginx
    result = subprocess.run(
        [*CELLTLS, "get", f"https://127.0.0.1:{port}/file", "--port", sim_process,
         "--dialect", dialect, "--ca", str(tmp / "ca.pem"), "--tls", "module"],
        capture_output=True, timeout=300, text=True,
    )
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "'127.0.0.1'" in lines[0] and "--no-check-hostname" in lines[0]
    assert "--insecure" in lines[0]


def test_by_default_the_host_name_is_checked_somewhere(nginx: tuple[int, Path],
                                                       sim_process: str, dialect: str) -> None:
    """With the defaults (``--tls auto``) the host name is checked: by the module where it can
    (Nordic, Sequans), else by TLS on the host over the module's plain TCP (Quectel, Sierra,
    XBee3 in API mode)."""
    port, tmp = nginx
    out = tmp / "got"
    result = subprocess.run(
        [*CELLTLS, "get", f"https://127.0.0.1:{port}/file", "--port", sim_process,
         "--dialect", dialect, "--ca", str(tmp / "ca.pem"), "-o", str(out)],
        capture_output=True, timeout=300, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == (tmp / "www" / "file").read_bytes()


@pytest.fixture
def nginx13(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """nginx configured for TLS 1.3 only (issue 19), its certificate for 127.0.0.1 alone (so
    that ``localhost`` is another host name)."""
    pki = make_pki(hostnames=("127.0.0.1",))
    (tmp_path / "ca.pem").write_bytes(pki.ca_pem)
    www = tmp_path / "www"
    www.mkdir()
    (www / "file").write_bytes(os.urandom(1024 * 1024))
    try:
        with running_nginx(tmp_path, pki, www, protocols="TLSv1.3") as port:
            yield port, tmp_path
    except NginxUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("module", ["quectel-gsm", "sierra"])
def test_tls13_only_nginx_through_host_tls(nginx13: tuple[int, Path], module: str,
                                           other_pki: PKI) -> None:
    """Issue 19's acceptance run, on both virtual modems: against a TLS 1.3-only nginx,
    ``celltls probe`` says the module's TLS cannot (exit 1, naming TLS 1.3); ``--tls host``
    downloads 1 MiB byte-exact; ``--tls auto`` picks the host and works; a certificate the
    CA did not issue for this name is refused in one line."""
    port, tmp = nginx13
    url = f"https://127.0.0.1:{port}/file"
    probe = subprocess.run([*CELLTLS, "probe", url, "--dialect", module, "--ca",
                            str(tmp / "ca.pem")], capture_output=True, text=True, timeout=120)
    assert probe.returncode == 1, probe.stdout + probe.stderr
    assert "TLS 1.3" in probe.stdout + probe.stderr
    proc = subprocess.Popen([*CELLTLS, "sim", module, "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    try:
        want = (tmp / "www" / "file").read_bytes()
        for tls in ("host", "auto"):
            out = tmp / f"got-{tls}"
            got = subprocess.run(
                [*CELLTLS, "get", url, "--port", address, "--dialect", module, "--ca",
                 str(tmp / "ca.pem"), "--tls", tls, "-o", str(out), "-v"],
                capture_output=True, text=True, timeout=600)
            assert got.returncode == 0, got.stderr
            assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(want).digest()
        (tmp / "other.pem").write_bytes(other_pki.ca_pem)
        wrong_ca = subprocess.run(
            [*CELLTLS, "get", url, "--port", address, "--dialect", module, "--ca",
             str(tmp / "other.pem"), "--tls", "host"],
            capture_output=True, text=True, timeout=300)
        assert wrong_ca.returncode == 60, wrong_ca.stderr
        assert len([x for x in wrong_ca.stderr.splitlines() if x.startswith("celltls:")]) == 1
        wrong_name = subprocess.run(
            [*CELLTLS, "get", url.replace("127.0.0.1", "localhost"), "--port", address,
             "--dialect", module, "--ca", str(tmp / "ca.pem"), "--tls", "host"],
            capture_output=True, text=True, timeout=300)
        assert wrong_name.returncode == 60, wrong_name.stderr
        lines = [x for x in wrong_name.stderr.splitlines() if x.startswith("celltls:")]
        assert len(lines) == 1 and "localhost" in lines[0], wrong_name.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
