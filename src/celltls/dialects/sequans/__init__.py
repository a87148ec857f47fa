"""Sequans Monarch / Monarch 2 dialect: decode-level catalog and diagnosis rules.

The plug-in manifest is :data:`celltls.dialects.sequans.plugin.DIALECT`, listed in the
``celltls.dialects`` entry-point group (pyproject.toml).
"""
