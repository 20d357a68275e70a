"""``python -m rackfocus_addon VERB ...`` (needs the ``bpy`` module from PyPI)."""

import sys

from .cli import main

sys.exit(main())
