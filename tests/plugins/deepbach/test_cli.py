"""`scorehost edit --model deepbach` as a user runs it: a melody-only file in, a four-part chorale out."""

from __future__ import annotations

import pytest

from scorehost.core.score import note_tuples
from scorehost.core.scoreio import read_score, write_score
from scorehost.plugins.deepbach.encoding import voice_tracks
from scorehost.plugins.deepbach.faults import count_faults
from scorehost.plugins.deepbach.weights import load_config

from ...core.test_cli import scorehost


def _melody_file(chorale, name: str, path):
    """The soprano of a corpus chorale alone, on one staff, as a user's melody file."""
    score = chorale(name)
    soprano = next(t for t in score.tracks if t.role == "soprano")
    melody = score.model_copy(
        update={
            "tracks": [soprano.model_copy(update={"role": None, "name": "Melody"})],
            "fermatas": [f for f in score.fermatas if f.track is None],
        }
    )
    write_score(melody, path)
    return read_score(path)


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("bach/bwv66.6", ".musicxml"),  # 4/4 with a pickup
        ("bach/bwv269", ".musicxml"),  # 3/4 with a pickup and short bars
        ("bach/bwv269", ".mid"),
        ("bach/bwv269", ".json"),
    ],
)
def test_harmonizes_a_melody_file(chorale, tmp_path, name, suffix):
    path = tmp_path / f"melody{suffix}"
    melody = _melody_file(chorale, name, path)
    before = path.read_bytes()
    out = tmp_path / f"out{suffix}"
    proc = scorehost(
        "edit", str(path), "-o", str(out), "--model", "deepbach", "--region", "alto,tenor,bass"
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes() == before
    result = read_score(out)
    assert len(result.tracks) == 4 and result.time_signatures == melody.time_signatures
    assert note_tuples(result.tracks[0]) == note_tuples(melody.tracks[0])
    tracks = voice_tracks(result)
    assert [result.tracks[t].role for t in tracks[1:]] == ["alto", "tenor", "bass"]
    ranges = [tuple(r) for r in load_config()["vocab"]["ranges"]]
    counts = count_faults(result, tracks, ranges)
    assert counts["out_of_range"] == 0
    sung = sum(n.duration for n in melody.tracks[0].notes)
    for track in tracks[1:]:  # each voice sings along, not a few scattered notes
        notes = result.tracks[track].notes
        assert max(n.end for n in notes) <= result.length
        assert sum(n.duration for n in notes) >= 0.8 * sung
