"""Virtual modems: a modem-side AT engine, real network connections, and servers for them.

- :mod:`celltls.sim.engine`: the V.250 engine every dialect's virtual modem builds on;
- :mod:`celltls.sim.network`: real TCP/TLS connections limited to what a module supports;
- :mod:`celltls.sim.serve`: :class:`~celltls.sim.serve.VirtualModemServer` on TCP or a pty;
- :mod:`celltls.sim.httpsd`: a local HTTPS server for tests and demos.
"""

from celltls.sim.engine import ATEngine, CommandError
from celltls.sim.serve import DIALECTS, VirtualModemServer, register_dialect, run

__all__ = ["DIALECTS", "ATEngine", "CommandError", "VirtualModemServer", "register_dialect", "run"]
