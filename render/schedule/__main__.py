"""``python -m render.schedule SPEC --frames N [--audio song.mp3] [--plot p.png]``: the schedule tool."""

import sys

from render.tools.schedule import main

sys.exit(main())
