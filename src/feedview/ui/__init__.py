"""The Textual dashboard. Imported only by the commands that open the app."""

import os

# Textual repaints on a timer of 1/TEXTUAL_FPS, and after a repaint that timer waits one to
# two periods for the next (it rounds its missed ticks up by one). At the default 60 FPS a
# key pressed while a stream repaints 30 times a second waited up to 33 ms before its own
# repaint began (benchmarks/ui_firehose.py: p99 key-to-repaint 50-60 ms; at 120 FPS 32-36 ms).
# Repaints still happen only when something changed. Set before Textual is imported; a
# TEXTUAL_FPS of the user's own wins.
os.environ.setdefault("TEXTUAL_FPS", "120")
