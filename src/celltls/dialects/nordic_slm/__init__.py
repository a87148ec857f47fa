"""Nordic nRF91 Serial LTE Modem (SLM) dialect: decode-level catalog and diagnosis rules.

The plug-in manifest is :data:`celltls.dialects.nordic_slm.plugin.DIALECT`, listed in the
``celltls.dialects`` entry-point group (pyproject.toml).
"""
