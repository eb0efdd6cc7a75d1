"""`python -m ha_agent.cli`: the same as the `ha-agent` command."""

import sys

from . import main

sys.exit(main())
