"""``python -m celltls``: the same as the ``celltls`` command (``python -m celltls --version``)."""

from celltls.cli.app import main

main()
