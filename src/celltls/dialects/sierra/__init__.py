"""Sierra Wireless AirPrime dialect (RC76xx and HL78xx, the "K" command set).

The plug-in manifest is :data:`celltls.dialects.sierra.plugin.DIALECT`, listed in the
``celltls.dialects`` entry-point group (pyproject.toml).
"""
