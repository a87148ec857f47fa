"""Digi XBee 3 Cellular dialect: catalog, API frame codec, driver, virtual modem and diagnosis
rules.

The plug-in manifest is :data:`celltls.dialects.xbee3.plugin.DIALECT`, listed in the
``celltls.dialects`` entry-point group (pyproject.toml).
"""
