"""``python -m workbench`` runs the command line (same as the ``workbench`` script)."""

import sys

from workbench.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
