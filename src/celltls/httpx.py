"""``celltls.httpx``: the httpx transport under the name issue 21 gives it.

``httpx.Client(transport=celltls.httpx.ModemTransport(modem))``; see
:mod:`celltls.httpx_transport` (needs the ``celltls[httpx]`` extra).
"""

from __future__ import annotations

from celltls.httpx_transport import ModemTransport

__all__ = ["ModemTransport"]
