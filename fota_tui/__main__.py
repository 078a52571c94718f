"""``python -m fota_tui``."""

import sys

from fota_tui.cli import main

if __name__ == "__main__":
    sys.exit(main())
