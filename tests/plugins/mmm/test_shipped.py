"""The shipped weights on material longer than the model reads at once, and the model's listing."""

from __future__ import annotations

from scorehost.core.model import LocalJob
from scorehost.core.regions import merge_result
from scorehost.core.requests import EditRequest, Region
from scorehost.core.score import Note
from scorehost.plugins.mmm.model import MMMOptions

from .conftest import corpus_score


def long_song(repeats: int):
    """BWV 10.7 (no pickup) played `repeats` times in a row: a long four-track piece."""
    score = corpus_score("bach/bwv10.7")
    length = score.bars()[-1].end
    tracks = [
        t.model_copy(
            update={
                "notes": [
                    n.model_copy(update={"start": n.start + k * length})
                    for k in range(repeats)
                    for n in t.notes
                ]
            }
        )
        for t in score.tracks
    ]
    return score.model_copy(update={"tracks": tracks, "length": repeats * length, "fermatas": []})


def test_a_64_bar_bass_is_written_in_passes(shipped):
    song = long_song(6)
    bars = song.bars()
    assert len(bars) >= 64
    region = Region(track=3, start=0, end=bars[63].end)
    emptied = song.model_copy(
        update={
            "tracks": [
                *song.tracks[:3],
                song.tracks[3].model_copy(
                    update={"notes": [n for n in song.tracks[3].notes if n.start >= region.end]}
                ),
            ]
        }
    )
    request = EditRequest(model="mmm", score=emptied, regions=[region])
    job = LocalJob()
    (variation,) = shipped.inpaint(request, MMMOptions(seed=0), job)
    merged = merge_result(emptied, variation.score, [region])
    written = [n for n in merged.tracks[3].notes if n.start < region.end]
    filled_bars = {next(b.index for b in bars if b.start <= n.start < b.end) for n in written}
    assert len(filled_bars) >= 48, "the bass plays through the song, not only its first window"
    assert job.fractions and max(job.fractions) <= 1
    for old, new in zip(emptied.tracks[:3], merged.tracks[:3], strict=True):
        assert sorted(map(Note.key, old.notes)) == sorted(map(Note.key, new.notes))


def test_models_lists_mmm_with_its_constraints(shipped):
    info = shipped.info()
    assert info["id"] == "mmm" and info["capabilities"]["new_tracks"] and info["capabilities"]["drums"]
    assert {"polyphony", "note_density", "instrument"} <= set(info["capabilities"]["constraints"])
    assert "top_p" in info["options_schema"]["properties"]
