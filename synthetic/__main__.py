"""``python -m synthetic``: the same as ``cpwh-synthetic``."""

import sys

from synthetic.exports_cli import main

sys.exit(main())
