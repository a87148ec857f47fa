"""What plugs celltls into other tools: CA bundles for profiles (:mod:`.cabundle`); the httpx
transport and the requests adapter live in :mod:`celltls.httpx_transport` and
:mod:`celltls.requests_adapter`."""
