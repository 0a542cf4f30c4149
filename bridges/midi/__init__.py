"""The MIDI bridge plugin: live virtual ports 'scorehost in'/'scorehost out' (see server.py).

Standard MIDI files need no bridge of their own: every path that takes a score (OSC in=/out=,
HTTP score_path/score_midi_base64, scorehost edit and client) reads and writes .mid/.midi files
through scorehost.core.scoreio, with tracks, programs, tempo and meter preserved.
"""

from scorehost.core import hookimpl


@hookimpl
def register_bridges(register):
    from .server import MidiBridge

    register(MidiBridge())
