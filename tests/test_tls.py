"""TlsProfile: secure by default, contradictions refused, credentials checked."""

from __future__ import annotations

import logging

import pytest
import trustme

from celltls import Certificate, PrivateKey, ProfileError, TlsProfile, TlsVersion, Verify
from celltls.dialects.quectel_gsm.driver import QuectelGsm
from celltls.errors import CredentialError


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(key_type=trustme.KeyType.RSA)


def test_secure_by_default(ca: trustme.CA) -> None:
    with pytest.raises(ProfileError, match="root CA"):
        TlsProfile()
    profile = TlsProfile(ca=Certificate.from_pem(ca.cert_pem.bytes()))
    assert profile.verify is Verify.SERVER
    assert TlsProfile.insecure().verify is Verify.NONE


def test_leaf_given_as_ca_is_refused(ca: trustme.CA) -> None:
    leaf = ca.issue_cert("example.com", key_type=trustme.KeyType.RSA)
    cert = Certificate.from_pem(leaf.cert_chain_pems[0].bytes())
    assert not cert.is_ca
    with pytest.raises(ProfileError, match="not a CA certificate"):
        TlsProfile(ca=cert)


def test_mutual_needs_matching_key(ca: trustme.CA) -> None:
    root = Certificate.from_pem(ca.cert_pem.bytes())
    one = ca.issue_cert("a@client", key_type=trustme.KeyType.RSA)
    two = ca.issue_cert("b@client", key_type=trustme.KeyType.RSA)
    with pytest.raises(ProfileError, match="mutual"):
        TlsProfile(verify=Verify.MUTUAL, ca=root)
    with pytest.raises(ProfileError, match="does not belong"):
        TlsProfile(verify=Verify.MUTUAL, ca=root,
                   client_cert=Certificate.from_pem(one.cert_chain_pems[0].bytes()),
                   client_key=PrivateKey.from_pem(two.private_key_pem.bytes()))
    key = PrivateKey.from_pem(one.private_key_pem.bytes())
    assert "PRIVATE" not in repr(key)


def test_certificate_helpers(ca: trustme.CA) -> None:
    root = Certificate.from_pem(ca.cert_pem.bytes())
    leaf = Certificate.from_pem(
        ca.issue_cert("x.test", key_type=trustme.KeyType.RSA).cert_chain_pems[0].bytes()
    )
    assert root.is_ca and root.is_self_signed and root.issued(leaf) and not leaf.issued(root)
    with pytest.raises(CredentialError):
        Certificate.from_pem(b"not a certificate")


def test_quectel_profile_mapping(ca: trustme.CA) -> None:
    """SSL-AN 2.2.1: <sslversion> 0-4, <ciphersuite> one code or 0xFFFF, <seclevel> 0-2."""
    root = Certificate.from_pem(ca.cert_pem.bytes())
    driver = QuectelGsm.__new__(QuectelGsm)
    assert driver.profile_settings(TlsProfile(ca=root)) == {
        "sslversion": "3", "ciphersuite": "0xFFFF", "seclevel": "1", "ignorertc": "0"}
    every = TlsProfile(ca=root, min_version=TlsVersion.SSL3_0, cipher_suites=(0x002F,),
                       check_time=False)
    assert driver.profile_settings(every) == {
        "sslversion": "4", "ciphersuite": "0x002F", "seclevel": "1", "ignorertc": "1"}
    with pytest.raises(ProfileError, match="one version or all"):
        driver.profile_settings(TlsProfile(ca=root, min_version=TlsVersion.TLS1_1))
    with pytest.raises(ProfileError, match=r"SSL 3\.0 to TLS 1\.2 only"):
        driver.profile_settings(TlsProfile(ca=root, min_version=TlsVersion.TLS1_3))
    with pytest.raises(ProfileError, match="no cipher suite 0xC02F"):
        driver.profile_settings(TlsProfile(ca=root, cipher_suites=(0xC02F,)))
    with pytest.raises(ProfileError, match="one cipher suite or all"):
        driver.profile_settings(TlsProfile(ca=root, cipher_suites=(0x002F, 0x0035)))


def test_host_name_check_is_on_by_default_and_off_only_by_name(ca: trustme.CA) -> None:
    root = Certificate.from_pem(ca.cert_pem.bytes())
    profile = TlsProfile(ca=root)
    assert profile.check_hostname and profile.hostname_checked
    opted_out = TlsProfile(ca=root, check_hostname=False)
    assert not opted_out.hostname_checked and opted_out.verify is Verify.SERVER
    assert opted_out != profile  # pooled connections are kept apart
    nothing = TlsProfile.insecure()
    assert not nothing.check_hostname and not nothing.hostname_checked


def test_unchecked_host_name_is_logged(ca: trustme.CA, caplog: pytest.LogCaptureFixture) -> None:
    root = Certificate.from_pem(ca.cert_pem.bytes())
    with caplog.at_level(logging.WARNING):
        TlsProfile(ca=root).warn_if_hostname_unchecked("test", "example.com")
        assert not caplog.records
        TlsProfile(ca=root, check_hostname=False).warn_if_hostname_unchecked("test",
                                                                             "example.com")
    assert "'example.com' is NOT checked" in caplog.records[0].getMessage()


def test_module_without_host_name_check_refuses_before_writing(ca: trustme.CA) -> None:
    """Quectel GSM's SSL settings have no host-name check (SSL-AN 2.2.1): the default profile
    is refused by Modem before a byte of the TLS connection is written; the opt-out passes."""
    from celltls.errors import HostnameCheckUnsupportedError
    from celltls.modem import Modem
    from celltls.sim.serve import VirtualModemServer

    root = Certificate.from_pem(ca.cert_pem.bytes())
    with VirtualModemServer("quectel-gsm") as sim, Modem(sim.url, "quectel-gsm") as modem:
        assert not modem.capabilities.hostname_check
        written: list[bytes] = []
        original = modem.channel._write

        def record(data: bytes) -> None:
            written.append(data)
            original(data)

        modem.channel._write = record  # type: ignore[method-assign]
        for call in (
            lambda: modem.tls_connect("example.com", 443, TlsProfile(ca=root), tls="module"),
            lambda: modem.request("GET", "https://example.com/", profile=TlsProfile(ca=root),
                                  tls="module"),
        ):
            with pytest.raises(HostnameCheckUnsupportedError) as info:
                call()
            assert "'example.com'" in str(info.value)
            assert "--no-check-hostname" in str(info.value) and "--insecure" in str(info.value)
            assert info.value.exit_code == 4
        assert written == []
