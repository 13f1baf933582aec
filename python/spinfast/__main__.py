"""``python -m spinfast COMMAND ...``: the ``spinfast`` command."""

import sys

from spinfast.cli import main

sys.exit(main())
