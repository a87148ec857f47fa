"""Virtual modems: a modem-side AT engine, real network connections, and servers for them.

- :mod:`celltls.sim.engine`: the V.250 engine every dialect's virtual modem builds on;
- :mod:`celltls.sim.network`: real TCP/TLS connections limited to what a module supports;
- :mod:`celltls.sim.serve`: :class:`~celltls.sim.serve.VirtualModemServer` on TCP or a pty
  (above the dialect registry: import it from :mod:`celltls.sim.serve`);
- :mod:`celltls.sim.httpsd`: a local HTTPS server for tests and demos.

This package's ``__init__`` imports nothing, so that a dialect's virtual modem importing the
engine does not pull in the server and the registry above it.
"""
