"""`python -m traderadmin_orchestrator`."""

import sys

from traderadmin_orchestrator.cli import main

sys.exit(main())
