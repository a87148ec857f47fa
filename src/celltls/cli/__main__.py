"""``python -m celltls.cli``: the same as the ``celltls`` command."""

from celltls.cli.app import main

main()
