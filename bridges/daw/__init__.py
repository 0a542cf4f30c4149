"""DAW-side clients: the REAPER script (reaper/scorehost_fill.py). See README.md in this folder."""
