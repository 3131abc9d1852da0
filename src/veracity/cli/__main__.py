"""`python -m veracity.cli`: the `veracity` command (asv's install step runs `models build` this way)."""

import sys

from veracity.cli.main import main

sys.exit(main())
