"""Nordic nRF91 Serial LTE Modem (SLM) dialect: catalog, driver, virtual modem and diagnosis rules.

The plug-in manifest is :data:`celltls.dialects.nordic_slm.plugin.DIALECT`, listed in the
``celltls.dialects`` entry-point group (pyproject.toml).
"""
