"""u-blox SARA-R4 / SARA-R5 (and LARA-R6): doctor-only dialect (catalog and rules).

The manifest is :data:`celltls.dialects.ublox.plugin.DIALECT`.
"""
