"""The Fill plugin in a real MuseScore 3, headless, against a real `scorehost serve` with mmm.

MuseScore runs scorehost_fill.qml (with the scorehost.js it imports) on a string quartet, the
plugin sends every staff as a track, writes the notes mmm puts in the region back with its
cursor and saves; music21 then reads the saved score to check what changed and what did not.
"""

import pytest

from scorehost.bridges.musescore import FILL_QML
from scorehost.core.score import Score, note_tuples
from scorehost.core.scoreio import read_score, write_score
from scorehost.plugins.mmm.weights import STEM, WEIGHTS_DIR

from ...conftest import QUARTET, corpus_path
from .conftest import MSCORE, run_plugin

HAS_WEIGHTS = all((WEIGHTS_DIR / f"{STEM}{suffix}").exists() for suffix in (".safetensors", ".json"))

pytestmark = pytest.mark.skipif(
    MSCORE is None, reason="MuseScore 3 is not installed (apt-get install musescore3)"
)


def first_bars(score: Score, count: int) -> Score:
    """The first bars of a piece, short enough that MuseScore and the model take seconds."""
    end = score.bars()[count].start
    tracks = [
        t.model_copy(
            update={
                "notes": [
                    n.model_copy(update={"duration": min(n.end, end) - n.start})
                    for n in t.notes
                    if n.start < end
                ]
            }
        )
        for t in score.tracks
    ]
    return score.model_copy(
        update={
            "tracks": tracks,
            "length": end,
            "time_signatures": [t for t in score.time_signatures if t.tick < end],
            "keys": [k for k in score.keys if k.tick < end],
            "tempos": [t for t in score.tempos if t.tick < end],
            "fermatas": [f for f in score.fermatas if f.tick < end],
        }
    )


@pytest.mark.skipif(not HAS_WEIGHTS, reason="mmm's weights are not in this checkout")
def test_fills_two_bars_of_the_viola_and_leaves_the_rest(server, tmp_path):
    quartet = first_bars(read_score(corpus_path(QUARTET)), 12)
    bars = quartet.bars()
    start, end = bars[2].start, bars[3].end  # bars 3-4
    viola = quartet.track_index("Viola")
    assert not any(n.start < start < n.end or n.start < end < n.end for n in quartet.tracks[viola].notes)
    tracks = list(quartet.tracks)
    tracks[viola] = tracks[viola].model_copy(
        update={"notes": [n for n in tracks[viola].notes if not start <= n.start < end]}
    )
    exercise = quartet.model_copy(update={"tracks": tracks})
    source = read_score(write_score(exercise, tmp_path / "quartet.musicxml"))
    saved, log = run_plugin(
        server,
        tmp_path / "quartet.musicxml",
        tmp_path,
        plugin=FILL_QML,
        # the "fill" section wins over the top-level model (deepbach, for Harmonize)
        fill={"model": "mmm", "regions": [{"track": "Viola", "start": start, "end": end}]},
    )
    assert saved.exists(), log
    assert "wrote 1 region(s) with mmm" in log, log
    result = read_score(saved)
    assert [t.name for t in result.tracks] == [t.name for t in source.tracks]
    for index, (before, after) in enumerate(zip(source.tracks, result.tracks, strict=True)):
        if index != viola:
            assert note_tuples(after) == note_tuples(before), before.name  # note for note
    before, after = source.tracks[viola], result.tracks[viola]
    assert note_tuples(after, 0, start) == note_tuples(before, 0, start)
    assert note_tuples(after, end) == note_tuples(before, end)
    written = [n for n in after.notes if start <= n.start < end]
    assert written, log  # the empty bars hold notes now
    assert all(n.end <= end for n in written)


def test_without_a_selection_nothing_happens(tmp_path):
    quartet = first_bars(read_score(corpus_path(QUARTET)), 4)
    source = write_score(quartet, tmp_path / "quartet.musicxml")
    # no server: a request would fail with "cannot reach", so the message proves none was made
    saved, log = run_plugin("http://127.0.0.1:9", source, tmp_path, plugin=FILL_QML, model="mmm")
    assert not saved.exists()
    assert "Select the bars to fill" in log and "cannot reach" not in log
