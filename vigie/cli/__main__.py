"""`python -m vigie.cli`: the `vigie` command."""

import sys

from vigie.cli import main

sys.exit(main())
