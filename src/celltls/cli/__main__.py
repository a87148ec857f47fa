"""``python -m celltls.cli``: the same as the ``celltls`` command."""

from celltls.cli import main  # answers --version before the command framework is imported

main()
