"""``python -m medsec`` runs the command line."""

from medsec.cli.main import main

main()
