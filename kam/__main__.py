"""``python -m kam`` runs the ``kam`` command."""

from .cli import main

main(prog_name="kam")
