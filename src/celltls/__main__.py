"""``python -m celltls``: the same as the ``celltls`` command (``python -m celltls --version``)."""

from celltls.cli import main  # answers --version before the command framework is imported

main()
