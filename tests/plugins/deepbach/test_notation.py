"""What a deepbach edit looks like on the page: a clef for each voice, final barlines,
kept spellings, and refusals that name the user's own tracks."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from music21 import clef, converter, corpus, stream

from ...core.test_cli import scorehost

# The clef each voice is written in, whatever notes it happens to sing in one piece.
VOICE_CLEFS = {"Soprano": clef.TrebleClef, "Alto": clef.TrebleClef, "Tenor": clef.Treble8vbClef}
VOICE_CLEFS |= {"Bass": clef.BassClef, "Melody": clef.TrebleClef}


def _parse(path: Path) -> stream.Score:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return converter.parse(str(path))


def _essen_tune(folder: Path) -> Path:
    """'Zwei Koenigskinder' (Essen, altdeu10 no. 27): G major with B flats and E flats."""
    path = folder / "tune.musicxml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tune = corpus.parse("essenFolksong/altdeu10", number=27)
        tune.parts[0].partName = "Melody"
        tune.write("musicxml", fp=str(path))
    return path


def _chorale(name: str, folder: Path) -> Path:
    path = folder / "chorale.mxl"
    path.write_bytes(Path(corpus.getWork(name)).read_bytes())
    return path


CASES = [
    ("bach/bwv66.6", ["alto:2-3", "bass:4"]),  # F sharp minor, 4/4 with a pickup
    ("bach/bwv101.7", ["tenor:1-2", "alto:5"]),  # D minor; its alto once got a tenor clef
    ("bach/bwv157.5", ["alto:3", "tenor:3"]),  # D major with E sharps in the alto
    ("essen", ["alto,tenor,bass"]),  # a one-staff melody harmonized
]


@pytest.mark.parametrize(("source", "regions"), CASES)
def test_every_part_has_its_voices_clef_and_a_final_barline(tmp_path, source, regions):
    path = _essen_tune(tmp_path) if source == "essen" else _chorale(source, tmp_path)
    out = tmp_path / "out.musicxml"
    args = [a for spec in regions for a in ("--region", spec)]
    proc = scorehost(
        "edit", str(path), "-o", str(out), "--model", "deepbach", *args, "--option", "iterations=4"
    )
    assert proc.returncode == 0, proc.stderr
    result = _parse(out)
    assert len(result.parts) == 4
    for part in result.parts:
        measures = list(part.getElementsByClass(stream.Measure))
        clefs = list(part.recurse().getElementsByClass(clef.Clef))
        assert [type(c) for c in clefs] == [VOICE_CLEFS[part.partName]], part.partName
        assert measures[-1].rightBarline is not None and measures[-1].rightBarline.type == "final"
    if source == "essen":  # the tune keeps its flats (they came back as A sharp and D sharp)
        written = {p.name for p in result.parts[0].pitches}
        source_names = {p.name for p in _parse(path).parts[0].pitches}
        assert written == source_names and {"B-", "E-"} <= written


def test_a_quartet_refused_by_deepbach_is_told_which_of_its_tracks_is_the_trouble(tmp_path):
    quartet = tmp_path / "quartet.mxl"
    quartet.write_bytes(Path(corpus.getWork("haydn/opus74no1/movement3")).read_bytes())
    proc = scorehost(
        "edit", str(quartet), "-o", str(tmp_path / "out.mxl"), "--model", "deepbach", "--region", "viola:2-3"
    )
    assert proc.returncode != 0
    message = proc.stderr.strip()
    assert message.startswith("error: track 0 (Violin 1)") and "melody" not in message, message
    assert "Ab3 (56)..G6 (91)" in message and "soprano, alto, tenor, bass" in message


def test_a_melody_is_harmonized_over_http_by_naming_the_voices(tmp_path):
    """One staff in, as MusicXML text; the regions name alto, tenor and bass, which the score
    lacks: they are added, written, and the tune keeps its notes and its flats."""
    import httpx

    from scorehost.bridges.http.server import HttpBridge
    from scorehost.core.engine import Engine
    from scorehost.core.host import Host
    from scorehost.core.settings import Settings

    tune = _essen_tune(tmp_path)
    engine = Engine(Host(env={"SCOREHOST_PLUGINS": ""}), device="cpu", default_timeout=300)
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
    try:
        body = {
            "model": "deepbach",
            "score_musicxml": tune.read_text(),
            "regions": [{"track": "alto"}, {"track": "tenor"}, {"track": "bass"}],
            "options": {"seed": 1, "iterations": 4},
        }
        with httpx.Client(base_url=bridge.address(), timeout=300) as client:
            answer = client.post("/v1/edit", params={"format": "musicxml"}, json=body)
    finally:
        bridge.stop()
        engine.shutdown(timeout=2)
    assert answer.status_code == 200, answer.text
    out = tmp_path / "chorale.musicxml"
    out.write_text(answer.json()["variations"][0]["score_musicxml"])
    result = _parse(out)
    assert [p.partName for p in result.parts] == ["Melody", "Alto", "Tenor", "Bass"]
    assert all(part.recurse().notes for part in result.parts)
    melody = [(n.offset, n.pitch.nameWithOctave) for n in result.parts[0].flatten().notes]
    given = [(n.offset, n.pitch.nameWithOctave) for n in _parse(tune).parts[0].flatten().notes]
    assert melody == given


def test_a_melody_that_ends_before_the_score_is_harmonized_up_to_there_and_said_so(tmp_path):
    """The score runs on two bars past its melody, as a score made for a melody often does:
    the other voices rest with the silent soprano, and the warning says from where."""
    from scorehost.core.score import Note, note_tuples
    from scorehost.core.scoreio import read_score, write_score

    chorale = read_score(Path(corpus.getWork("bach/bwv10.7")))
    bars = {b.number: b for b in chorale.bars()}
    last = bars[15].start + 2 * 480
    notes = [
        n.model_copy(update={"duration": min(n.end, last) - n.start})
        for n in chorale.tracks[0].notes
        if n.start < last
    ]
    notes.append(Note(start=last, duration=480, pitch=notes[-1].pitch))
    melody = chorale.tracks[0].model_copy(update={"notes": notes, "name": "Melody", "role": None})
    score = chorale.model_copy(update={"length": bars[17].end, "tracks": [melody], "fermatas": []})
    source = write_score(score, tmp_path / "melody.musicxml")
    out = tmp_path / "out.musicxml"
    proc = scorehost(
        "edit", str(source), "-o", str(out), "-m", "deepbach", "-r", "alto,tenor,bass", "-O", "iterations=4"
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning: the melody (track 0, Melody) ends at bar 15 beat 4; deepbach harmonizes" in proc.stderr
    result = read_score(out)
    assert note_tuples(result.tracks[0]) == note_tuples(melody)
    for voice in result.tracks[1:]:
        assert voice.notes and max(n.end for n in voice.notes) <= bars[15].end
