"""celltls: TLS connections and HTTPS requests through a cellular module's AT command port.

One API for every vendor dialect::

    from celltls import Certificate, Modem, TlsProfile

    with Modem("/dev/ttyUSB0", dialect="quectel-gsm") as modem:
        modem.attach(apn="internet")
        profile = TlsProfile(ca=Certificate.from_file("ca.pem"))
        print(modem.request("GET", "https://example.com/", profile=profile).read())
"""

from celltls.dialects.base import (
    Capabilities,
    NetworkStatus,
    SecureSocket,
    Signal,
    StoredCredential,
)
from celltls.errors import (
    ATCommandError,
    ATError,
    ATProtocolError,
    ATTimeoutError,
    CellTLSError,
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateVerifyError,
    ConnectionRefusedByServer,
    ConnectTimeoutError,
    CredentialError,
    DNSError,
    HostnameCheckUnsupportedError,
    HostnameMismatchError,
    HTTPError,
    HTTPStatusError,
    InsecureRedirectError,
    InvalidURLError,
    ModuleRebootedError,
    NetworkError,
    NetworkLostError,
    PartialBodyError,
    PortError,
    PortLostError,
    ProfileError,
    SocketError,
    TLSError,
    TLSHandshakeError,
    TLSNegotiationError,
    TooManyRedirectsError,
    TranscriptError,
    TransferTimeoutError,
    UnsafeArgumentError,
)
from celltls.http import BaseResponse, Headers, HTTPConnection, HTTPResponse
from celltls.modem import Modem
from celltls.tls import Certificate, PrivateKey, TlsProfile, TlsVersion, Verify

__version__ = "0.1.0"

__all__ = [
    "ATCommandError",
    "ATError",
    "ATProtocolError",
    "ATTimeoutError",
    "BaseResponse",
    "Capabilities",
    "CellTLSError",
    "Certificate",
    "CertificateExpiredError",
    "CertificateNotYetValidError",
    "CertificateVerifyError",
    "ConnectTimeoutError",
    "ConnectionRefusedByServer",
    "CredentialError",
    "DNSError",
    "HTTPConnection",
    "HTTPError",
    "HTTPResponse",
    "HTTPStatusError",
    "Headers",
    "HostnameCheckUnsupportedError",
    "HostnameMismatchError",
    "InsecureRedirectError",
    "InvalidURLError",
    "Modem",
    "ModuleRebootedError",
    "NetworkError",
    "NetworkLostError",
    "NetworkStatus",
    "PartialBodyError",
    "PortError",
    "PortLostError",
    "PrivateKey",
    "ProfileError",
    "SecureSocket",
    "Signal",
    "SocketError",
    "StoredCredential",
    "TLSError",
    "TLSHandshakeError",
    "TLSNegotiationError",
    "TlsProfile",
    "TlsVersion",
    "TooManyRedirectsError",
    "TranscriptError",
    "TransferTimeoutError",
    "UnsafeArgumentError",
    "Verify",
    "__version__",
]
