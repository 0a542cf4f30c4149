"""Standard MIDI files in and out of every path, checked by reading them back with music21."""

from __future__ import annotations

from music21 import converter, instrument, meter, tempo

from scorehost.bridges.client.osc import OscClient
from scorehost.bridges.osc.server import OscBridge
from scorehost.core.engine import Engine
from scorehost.core.score import Note, Score, Tempo, TimeSignature, Track
from scorehost.core.scoreio import read_score, write_score
from scorehost.core.settings import Settings


def _score() -> Score:
    return Score(
        title="two tracks",
        length=4 * 1440,
        time_signatures=[TimeSignature(tick=0, numerator=3, denominator=4)],
        tempos=[Tempo(tick=0, bpm=96.0)],
        tracks=[
            Track(
                name="Flute",
                program=73,
                notes=[Note(start=i * 480, duration=480, pitch=72 + i % 5) for i in range(12)],
            ),
            Track(
                name="Cello",
                program=42,
                notes=[Note(start=i * 1440, duration=1440, pitch=36 + i) for i in range(4)],
            ),
        ],
    )


def test_an_osc_edit_of_a_midi_file_keeps_tracks_programs_tempo_and_meter(octave_host, tmp_path):
    source = write_score(_score(), tmp_path / "in.mid")
    settings = Settings.with_bridges([OscBridge])(osc_port=0, allowed_dirs=[tmp_path])
    engine = Engine(octave_host, device="cpu")
    bridge = OscBridge()
    bridge.start(engine, settings)
    try:
        with OscClient("127.0.0.1", bridge.port) as client:
            client.call(
                "edit", "model=octave", f"in={source}", f"out={tmp_path / 'out.mid'}", "region=Cello:2-3"
            )
    finally:
        bridge.stop()
        engine.shutdown(timeout=2)
    ours = read_score(tmp_path / "out.mid")
    assert [(t.name, t.program) for t in ours.tracks] == [("Flute", 73), ("Cello", 42)]
    # a second library reads the same file
    parsed = converter.parse(str(tmp_path / "out.mid"))
    parts = list(parsed.parts)
    assert len(parts) == 2
    programs = [p.recurse().getElementsByClass(instrument.Instrument).first().midiProgram for p in parts]
    assert programs == [73, 42]
    signature = parsed.recurse().getElementsByClass(meter.TimeSignature).first()
    assert signature.ratioString == "3/4"
    assert round(parsed.recurse().getElementsByClass(tempo.MetronomeMark).first().number) == 96
    flute = [n.pitch.midi for n in parts[0].recurse().notes]
    assert flute == [72 + i % 5 for i in range(12)]
    cello = sorted((float(n.offset), n.pitch.midi) for n in parts[1].flatten().notes)
    # bars 2-3 (offsets 3..9 quarters) now hold the flute's notes an octave down; bars 1 and 4 are kept
    assert cello[0] == (0.0, 36) and cello[-1] == (9.0, 39)
    assert [p for o, p in cello if 3 <= o < 9] == [60 + i % 5 for i in range(3, 9)]
