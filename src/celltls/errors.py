"""The celltls exception hierarchy.

Every error celltls raises derives from :class:`CellTLSError`. Each class carries the context a
user needs to act: the command that failed, the raw response, the numeric code and its meaning.

::

    CellTLSError
    ├── UnsafeArgumentError        a value that cannot be sent safely on a command line   (43)
    │   └── InvalidURLError        a URL that cannot be parsed or used                     (3)
    ├── ATError
    │   ├── ATCommandError         final result code ERROR / +CME ERROR / +CMS ERROR / other failure
    │   ├── ATTimeoutError         no final result code within the command's timeout       (28)
    │   ├── ATProtocolError        a malformed or unexpected response                      (8)
    │   ├── ModuleRebootedError    the module restarted (RDY, +KSUP, +SYSSTART...)         (56)
    │   └── PortError              the serial port (or socket://) could not be opened      (7)
    │       └── PortLostError      the serial line failed or went away while in use        (56)
    ├── NetworkError               registration, PDP context, TCP connect failures         (7)
    │   ├── DNSError               the host name could not be resolved                     (6)
    │   ├── ConnectionRefusedByServer  the server refused the TCP connection               (7)
    │   ├── ConnectTimeoutError    no TCP/TLS connection within the connect timeout        (28)
    │   └── NetworkLostError       the network or PDP context went away (with its URC)     (56)
    ├── TransferTimeoutError       the whole transfer exceeded its time (with the phase)   (28)
    ├── TLSError                                                                           (35)
    │   ├── CertificateVerifyError the server's certificate could not be verified          (60)
    │   │   ├── CertificateExpiredError      its validity period has ended                 (60)
    │   │   ├── CertificateNotYetValidError  its validity period has not begun             (60)
    │   │   └── HostnameMismatchError        issued for other host names                   (60)
    │   ├── TLSNegotiationError    no common protocol version / cipher suite with the server
    │   └── TLSHandshakeError      the handshake failed for another (or unknown) reason
    ├── CredentialError            a certificate or key cannot be used or was not stored intact (58)
    ├── ProfileError               a TlsProfile the module cannot implement                (4)
    │   └── HostnameCheckUnsupportedError  the module's TLS cannot check the host name     (4)
    ├── SocketError                a secure socket failed (closed by peer, send failure)   (56)
    ├── HTTPError                  malformed HTTP from the server                          (8)
    │   ├── EmptyReplyError        the server closed the connection without answering      (52)
    │   ├── PartialBodyError       the body ended before HTTP framing said it would        (18)
    │   ├── BodyIntegrityError     the body does not match the server's Content-Digest     (56)
    │   └── HTTPStatusError        status >= 400 with ``--fail`` / ``raise_for_status``    (22)
    └── TranscriptError            an unreadable transcript

The number after each class is its :attr:`CellTLSError.exit_code`: curl's exit code for the same
cause (curl(1), "EXIT CODES"), so scripts written for curl keep working with the ``celltls`` CLI.
A class without a number inherits its parent's; :class:`CellTLSError` itself is 1.
"""

from __future__ import annotations


class CellTLSError(Exception):
    """Base class of every error raised by celltls.

    Attributes:
        exit_code: curl's exit code for this cause (curl(1), "EXIT CODES"); the CLI exits with it.
    """

    exit_code: int = 1


class UnsafeArgumentError(CellTLSError, ValueError):
    """A value cannot be placed on an AT command line safely.

    Raised by :mod:`celltls.at.quoting` before anything is written to the port.

    Attributes:
        field: the name of the parameter (``"host"``, ``"apn"``...).
        value: the offending value, as given (never a secret: secret fields are masked).
        reason: what is wrong with it.
    """

    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field} {value!r} cannot be sent to the module: {reason}")

    exit_code = 43


class InvalidURLError(UnsafeArgumentError):
    """A URL that cannot be parsed, or that celltls cannot use (scheme, port, host)."""

    exit_code = 3


class ATError(CellTLSError):
    """An error on the AT command level."""


class ATCommandError(ATError):
    """A command ended in a failure final result code.

    Attributes:
        command: the command line sent (secrets masked).
        response: every response line received for it, the final result code last.
        code: the numeric error code (``+CME ERROR: <n>``) or ``None`` for a plain ``ERROR``.
        meaning: the meaning of the code from the catalog (3GPP TS 27.007 9.2 or the vendor's).
        kind: ``"ERROR"``, ``"CME"``, ``"CMS"`` or the vendor result (``"SEND FAIL"``...).
    """

    def __init__(
        self,
        command: str,
        response: list[str],
        *,
        kind: str = "ERROR",
        code: int | None = None,
        meaning: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.command = command
        self.response = list(response)
        self.kind = kind
        self.code = code
        self.meaning = meaning
        self.hint = hint
        last = response[-1] if response else kind
        text = f"{command!r} failed: {last}"
        if meaning:
            text += f" ({meaning})"
        if hint:
            text += f". {hint}"
        super().__init__(text)


class ATTimeoutError(ATError, TimeoutError):
    """No final result code (or awaited URC) arrived in time (curl exit code 28).

    Attributes:
        command: the command line (or the awaited event) that timed out.
        timeout: the timeout that expired, in seconds.
        partial: the response lines received before the timeout.
        reply: everything the command got before the timeout (an ``at.channel.Reply``, with
            its data blocks), or ``None``; a driver may find a whole answer there whose final
            result code alone was lost.
    """

    def __init__(self, command: str, timeout: float, partial: list[str] | None = None,
                 reply: object | None = None) -> None:
        self.command = command
        self.timeout = timeout
        self.partial = list(partial or [])
        self.reply = reply
        got = f"; received so far: {self.partial!r}" if self.partial else ""
        super().__init__(f"no answer to {command!r} within {timeout:g} s{got}")

    exit_code = 28


class ATProtocolError(ATError):
    """The module sent something the protocol does not allow here."""

    exit_code = 8


class ModuleRebootedError(ATError):
    """The module restarted while in use (a boot URC such as ``RDY`` or ``+KSUP``).

    Attributes:
        urc: the line that announced the restart.
    """

    exit_code = 56

    def __init__(self, message: str, *, urc: str = "") -> None:
        self.urc = urc
        super().__init__(message)


class PortError(ATError, OSError):
    """The serial port could not be opened (curl's 7: no connection to the module), or it was
    lost (:class:`PortLostError`)."""

    exit_code = 7


class PortLostError(PortError):
    """The serial line failed or went away while in use (curl's 56: receive failure)."""

    exit_code = 56


class NetworkError(CellTLSError):
    """Registration, PDP context activation, DNS or TCP connection failure."""

    exit_code = 7


class DNSError(NetworkError):
    """The module could not resolve the host name."""

    exit_code = 6


class ConnectionRefusedByServer(NetworkError):
    """The server refused the TCP connection (nothing listens on the port)."""


class ConnectTimeoutError(NetworkError, TimeoutError):
    """No connection (TCP and TLS handshake) within the connect timeout, seconds."""

    exit_code = 28


class NetworkLostError(NetworkError):
    """The network or the PDP context went away during use.

    Attributes:
        urc: the unsolicited result code that said so (``+PDP DEACT``, ``+KCNX_IND: 1,0,0``...).
    """

    exit_code = 56

    def __init__(self, message: str, *, urc: str = "") -> None:
        self.urc = urc
        super().__init__(message)


class TransferTimeoutError(CellTLSError, TimeoutError):
    """The whole transfer took longer than allowed (``--max-time``).

    Attributes:
        phase: what was happening (``"connect"``, ``"send"``, ``"receive"``...).
        timeout: the limit, seconds.
    """

    exit_code = 28

    def __init__(self, message: str, *, phase: str = "", timeout: float = 0.0) -> None:
        self.phase = phase
        self.timeout = timeout
        super().__init__(message)


class TLSError(CellTLSError):
    """A TLS failure reported by (or diagnosed for) the module.

    Attributes:
        host, port: the server.
        detail: what the module reported, verbatim.
        evidence: what celltls found out about the cause, one sentence an item.
    """

    def __init__(
        self, message: str, *, host: str = "", port: int = 0, detail: str = "",
        evidence: list[str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.detail = detail
        self.evidence = list(evidence or [])
        text = message
        if self.evidence:
            text += " [" + "; ".join(self.evidence) + "]"
        super().__init__(text)

    exit_code = 35


class CertificateVerifyError(TLSError):
    """The module could not verify the server's certificate with the CA it was given."""

    exit_code = 60


class CertificateExpiredError(CertificateVerifyError):
    """The server's certificate (or one in its chain) is past its notAfter date."""


class CertificateNotYetValidError(CertificateVerifyError):
    """The server's certificate (or one in its chain) is before its notBefore date."""


class HostnameMismatchError(CertificateVerifyError):
    """The server's certificate was issued for other names than the host connected to.

    Attributes (besides :class:`TLSError`'s):
        names: the DNS names and IP addresses in the certificate (subjectAltName, else CN).
    """

    def __init__(self, message: str, *, names: list[str] | None = None, host: str = "",
                 port: int = 0, detail: str = "", evidence: list[str] | None = None) -> None:
        self.names = list(names or [])
        super().__init__(message, host=host, port=port, detail=detail, evidence=evidence)


class TLSNegotiationError(TLSError):
    """The module and the server share no protocol version or cipher suite."""


class TLSHandshakeError(TLSError):
    """The TLS handshake failed and the cause could not be narrowed down."""


class CredentialError(CellTLSError):
    """A certificate or key is unusable, too large, wrongly named, or was stored corrupted."""

    exit_code = 58


class ProfileError(CellTLSError, ValueError):
    """A :class:`celltls.TlsProfile` asks for something the module cannot do."""

    exit_code = 4


class HostnameCheckUnsupportedError(ProfileError):
    """Host-name verification is asked for, and the module's own TLS cannot do it.

    celltls does not pretend: the caller turns the check off by name
    (``TlsProfile(check_hostname=False)``, ``--no-check-hostname``) or uses TLS on the host.
    """


class SocketError(CellTLSError, OSError):
    """A secure socket failed: closed by the peer, send failure, or not open."""

    exit_code = 56


class HTTPError(CellTLSError):
    """The server's HTTP response could not be parsed."""

    exit_code = 8


class EmptyReplyError(HTTPError):
    """The connection ended before any byte of the response: the server (or a proxy) closed it
    without answering, typically a kept-alive connection it had already timed out (curl's
    "Empty reply from server", exit code 52)."""

    exit_code = 52


class PartialBodyError(HTTPError):
    """The response body ended before its framing (Content-Length, chunked end) said it would.

    Attributes:
        received: body bytes received.
        expected: the Content-Length, or ``None`` for a chunked body.
    """

    exit_code = 18

    def __init__(self, message: str, *, received: int = 0, expected: int | None = None) -> None:
        self.received = received
        self.expected = expected
        super().__init__(message)


class BodyIntegrityError(HTTPError):
    """The body does not match the digest its server sent with it (``Content-Digest``,
    ``Repr-Digest``: RFC 9530; ``Content-MD5``: RFC 1864): bytes were changed on the way, most
    likely on the serial line after the module's TLS (which protects only the radio side).

    Attributes:
        header: the header whose digest did not match.
        algorithm: its algorithm (``"sha-256"``...).
    """

    exit_code = 56

    def __init__(self, message: str, *, header: str, algorithm: str) -> None:
        self.header = header
        self.algorithm = algorithm
        super().__init__(message)


class HTTPStatusError(HTTPError):
    """The server answered with a status >= 400 and the caller asked to fail on it.

    Attributes:
        status: the HTTP status code.
    """

    exit_code = 22

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)


class TranscriptError(CellTLSError, ValueError):
    """A transcript line could not be read."""


class TooManyRedirectsError(HTTPError):
    """``-L``/``follow_redirects`` met more redirects than allowed (curl ``--max-redirs``,
    exit 47, CURLE_TOO_MANY_REDIRECTS).

    Attributes:
        limit: the number of redirects allowed.
    """

    exit_code = 47

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class InsecureRedirectError(HTTPError):
    """A redirect to a URL that is not ``https://``: celltls does not leave TLS (curl refuses
    a protocol it is not allowed to follow with exit 1, CURLE_UNSUPPORTED_PROTOCOL).

    Attributes:
        location: the URL redirected to.
    """

    exit_code = 1

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(message)
        self.location = location
