"""Quectel GSM modules (M66, M95, MC60, M26...): SSL sockets through the +QSSL commands.

The plug-in manifest is :data:`celltls.dialects.quectel_gsm.plugin.DIALECT`, listed in the
``celltls.dialects`` entry-point group (pyproject.toml).
"""
